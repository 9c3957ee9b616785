//! `GET /v1/tasks` lists a checker's tasks newest first (`ORDER BY id DESC`, ids being UUIDv7):
//! with only `(assignee_id, status)` to go by, every page read and sorted all of that checker's
//! tasks. `(assignee_id, id)` makes a page a range scan. The old index goes: its columns are
//! the prefix of `ix_tasks_assignee_due`, which serves whatever it served, and while it stood
//! PostgreSQL (its statistics a table's growth behind) chose it for the console's queue too and
//! sorted every one of the checker's tasks for a page of 25.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX ix_tasks_assignee_newest ON tasks (assignee_id, id)")
            .await?;
        db.execute_unprepared("DROP INDEX ix_tasks_assignee")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX ix_tasks_assignee ON tasks (assignee_id, status)")
            .await?;
        db.execute_unprepared("DROP INDEX ix_tasks_assignee_newest")
            .await?;
        Ok(())
    }
}
