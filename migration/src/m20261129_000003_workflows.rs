//! Workflow definitions and screening profiles, both versioned and immutable once published.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkflowDefinitions::Table)
                    .col(string_len(WorkflowDefinitions::Key, 64))
                    .col(integer(WorkflowDefinitions::Version))
                    .col(string(WorkflowDefinitions::Title))
                    .col(json(WorkflowDefinitions::Definition))
                    .col(timestamp(WorkflowDefinitions::PublishedAt))
                    .primary_key(
                        Index::create()
                            .col(WorkflowDefinitions::Key)
                            .col(WorkflowDefinitions::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScreeningProfiles::Table)
                    .col(string_len(ScreeningProfiles::Code, 64))
                    .col(integer(ScreeningProfiles::Version))
                    .col(string(ScreeningProfiles::Title))
                    .col(text(ScreeningProfiles::Description))
                    .col(string_len(ScreeningProfiles::WorkflowKey, 64))
                    .col(integer(ScreeningProfiles::WorkflowVersion))
                    .col(integer(ScreeningProfiles::ValidityMonths))
                    .col(json(ScreeningProfiles::Roles))
                    .col(integer(ScreeningProfiles::ExpiryWarningDays))
                    .col(timestamp(ScreeningProfiles::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ScreeningProfiles::Code)
                            .col(ScreeningProfiles::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_screening_profiles_workflow")
                            .from(
                                ScreeningProfiles::Table,
                                (
                                    ScreeningProfiles::WorkflowKey,
                                    ScreeningProfiles::WorkflowVersion,
                                ),
                            )
                            .to(
                                WorkflowDefinitions::Table,
                                (WorkflowDefinitions::Key, WorkflowDefinitions::Version),
                            ),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScreeningProfiles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WorkflowDefinitions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum WorkflowDefinitions {
    Table,
    Key,
    Version,
    Title,
    Definition,
    PublishedAt,
}

#[derive(DeriveIden)]
pub enum ScreeningProfiles {
    Table,
    Code,
    Version,
    Title,
    Description,
    WorkflowKey,
    WorkflowVersion,
    ValidityMonths,
    Roles,
    ExpiryWarningDays,
    CreatedAt,
}
