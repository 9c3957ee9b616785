//! The console's queue reads tasks in due order: a checker's open tasks, every open task for a
//! supervisor, and a checker's completed tasks newest first. Each gets an index in the order
//! the queue reads it, so a page is a range scan however many tasks there are.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 3] = [
    (
        "ix_tasks_assignee_due",
        "tasks (assignee_id, status, due_at, id)",
    ),
    ("ix_tasks_status_due", "tasks (status, due_at, id)"),
    (
        "ix_tasks_completed_by",
        "tasks (completed_by, completed_at, id)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, definition) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {definition}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
