//! The portal resends a subject's invitation with the same link: the link's token is kept
//! sealed beside its hash (erased with the subject's data), and when it was last resent, so a
//! resend can be held to once an hour.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScreeningRequests {
    Table,
    InvitationTokenSealed,
    InvitationResentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(ScreeningRequests::Table)
                    .add_column(blob_null(ScreeningRequests::InvitationTokenSealed))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ScreeningRequests::Table)
                    .add_column(timestamp_null(ScreeningRequests::InvitationResentAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ScreeningRequests::InvitationTokenSealed,
            ScreeningRequests::InvitationResentAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ScreeningRequests::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
