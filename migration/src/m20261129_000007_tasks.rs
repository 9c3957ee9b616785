//! The workflow engine's state: tasks (one unit of human work each), decisions, round-robin
//! positions, and each request's decision deadline.
use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20261129_000001_identity::Users, m20261129_000005_requests::ScreeningRequests};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(pk_uuid(Tasks::Id))
                    .col(uuid(Tasks::RequestId))
                    .col(string_len(Tasks::Kind, 24))
                    .col(string_len_null(Tasks::CheckId, 64))
                    .col(string_len(Tasks::Authorisation, 32))
                    .col(string_len(Tasks::Status, 16))
                    .col(uuid_null(Tasks::AssigneeId))
                    .col(json(Tasks::Excluded))
                    .col(timestamp(Tasks::DueAt))
                    .col(boolean(Tasks::Overdue))
                    .col(string_len_null(Tasks::Outcome, 24))
                    .col(blob_null(Tasks::NotesSealed))
                    .col(blob_null(Tasks::GroundsSealed))
                    .col(integer(Tasks::Version))
                    .col(timestamp(Tasks::CreatedAt))
                    .col(timestamp_null(Tasks::AssignedAt))
                    .col(timestamp_null(Tasks::CompletedAt))
                    .col(uuid_null(Tasks::CompletedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tasks_request")
                            .from(Tasks::Table, Tasks::RequestId)
                            .to(ScreeningRequests::Table, ScreeningRequests::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tasks_assignee")
                            .from(Tasks::Table, Tasks::AssigneeId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_tasks_request", vec![Tasks::RequestId, Tasks::Kind]),
            ("ix_tasks_assignee", vec![Tasks::AssigneeId, Tasks::Status]),
            ("ix_tasks_status", vec![Tasks::Status, Tasks::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Tasks::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Decisions::Table)
                    .col(pk_uuid(Decisions::RequestId))
                    .col(string_len(Decisions::Outcome, 16))
                    .col(timestamp(Decisions::DecidedAt))
                    .col(blob_null(Decisions::GroundsSealed))
                    .col(boolean(Decisions::Revised))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_decisions_request")
                            .from(Decisions::Table, Decisions::RequestId)
                            .to(ScreeningRequests::Table, ScreeningRequests::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RoutingCursors::Table)
                    .col(string_len(RoutingCursors::Key, 64).primary_key())
                    .col(uuid(RoutingCursors::LastCheckerId))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ScreeningRequests::Table)
                    .add_column(timestamp_null(Alias::new("decision_deadline_at")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ScreeningRequests::Table)
                    .drop_column(Alias::new("decision_deadline_at"))
                    .to_owned(),
            )
            .await?;
        for table in [
            RoutingCursors::Table.into_iden(),
            Decisions::Table.into_iden(),
            Tasks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Tasks {
    Table,
    Id,
    RequestId,
    Kind,
    CheckId,
    Authorisation,
    Status,
    AssigneeId,
    Excluded,
    DueAt,
    Overdue,
    Outcome,
    NotesSealed,
    GroundsSealed,
    Version,
    CreatedAt,
    AssignedAt,
    CompletedAt,
    CompletedBy,
}

#[derive(DeriveIden)]
enum Decisions {
    Table,
    RequestId,
    Outcome,
    DecidedAt,
    GroundsSealed,
    Revised,
}

#[derive(DeriveIden)]
enum RoutingCursors {
    Table,
    Key,
    LastCheckerId,
}
