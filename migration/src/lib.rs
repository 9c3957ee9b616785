//! Database migrations. Each migration has a working `down`; up → down → up is tested on
//! SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261129_000001_identity;
mod m20261129_000002_audit;
mod m20261129_000003_workflows;
mod m20261129_000004_seed_workflows;
mod m20261129_000005_requests;
mod m20261129_000006_pending_indexes;
mod m20261129_000007_tasks;
mod m20261129_000008_certificates;
mod m20261202_000009_sign_in;
mod m20261202_000010_console;
mod m20261203_000011_portal;
mod m20261203_000012_keys;
mod m20261204_000013_sandbox;
mod m20261204_000014_task_list;

pub use m20261129_000002_audit::GENESIS_HASH;
pub use m20261129_000004_seed_workflows::{CHILD_CONTACT, GENERAL};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_identity::Migration),
            Box::new(m20261129_000002_audit::Migration),
            Box::new(m20261129_000003_workflows::Migration),
            Box::new(m20261129_000004_seed_workflows::Migration),
            Box::new(m20261129_000005_requests::Migration),
            Box::new(m20261129_000006_pending_indexes::Migration),
            Box::new(m20261129_000007_tasks::Migration),
            Box::new(m20261129_000008_certificates::Migration),
            Box::new(m20261202_000009_sign_in::Migration),
            Box::new(m20261202_000010_console::Migration),
            Box::new(m20261203_000011_portal::Migration),
            Box::new(m20261203_000012_keys::Migration),
            Box::new(m20261204_000013_sandbox::Migration),
            Box::new(m20261204_000014_task_list::Migration),
        ]
    }
}
