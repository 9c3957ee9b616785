//! The sandbox: API keys of `mode: sandbox` (`ss_test_…`), the requests they make, their tasks,
//! the webhook endpoints such keys make, and the key that signs sandbox certificates are
//! marked, so that nothing of them reaches live callers, checkers or metrics, and nothing
//! live reaches them. `sandbox_path` is what the sandbox subject's address asks for (`clear`,
//! `refuse`, `decline`, `lapse`, `withdraw`), read once at submission.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sandbox {
    Sandbox,
    SandboxPath,
}

const MARKED: [&str; 5] = [
    "api_keys",
    "screening_requests",
    "tasks",
    "webhook_endpoints",
    "signing_keys",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for table in MARKED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(boolean(Sandbox::Sandbox).default(false))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("screening_requests"))
                    .add_column(string_null(Sandbox::SandboxPath))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("screening_requests"))
                    .drop_column(Sandbox::SandboxPath)
                    .to_owned(),
            )
            .await?;
        for table in MARKED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Sandbox::Sandbox)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
