//! Keys that can change and an audit trail checked from outside: the data keys (each wrapped
//! under the master key, `SAFESCREEN_DATA_KEY`), the job that re-seals every value under a new
//! one, the key that signs audit checkpoints, and the checkpoints written so far (which process
//! wrote each; the copy that counts is the one shipped off the machine).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Id,
    Wrapped,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum DataKeyRotations {
    Table,
    /// The key every value is re-sealed under.
    ToKey,
    StartedAt,
    FinishedAt,
    /// Passes over every sealed column: another one follows when a value under an old key was
    /// written behind the job by a process that had not yet heard of the new key.
    Pass,
    ColumnIndex,
    /// The last row id done in the current column.
    Cursor,
    Resealed,
}

#[derive(DeriveIden)]
enum AuditCheckpointKeys {
    Table,
    Id,
    Name,
    PublicKey,
    SecretSealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Seq,
    Hash,
    At,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataKeys::Table)
                    .col(integer(DataKeys::Id).primary_key())
                    .col(blob_null(DataKeys::Wrapped))
                    .col(timestamp(DataKeys::CreatedAt))
                    .col(timestamp_null(DataKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DataKeyRotations::Table)
                    .col(integer(DataKeyRotations::ToKey).primary_key())
                    .col(timestamp(DataKeyRotations::StartedAt))
                    .col(timestamp_null(DataKeyRotations::FinishedAt))
                    .col(integer(DataKeyRotations::Pass))
                    .col(integer(DataKeyRotations::ColumnIndex))
                    .col(uuid_null(DataKeyRotations::Cursor))
                    .col(big_integer(DataKeyRotations::Resealed))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpointKeys::Table)
                    .col(pk_uuid(AuditCheckpointKeys::Id))
                    .col(string_len(AuditCheckpointKeys::Name, 255))
                    .col(blob(AuditCheckpointKeys::PublicKey))
                    .col(blob(AuditCheckpointKeys::SecretSealed))
                    .col(timestamp(AuditCheckpointKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(big_integer(AuditCheckpoints::Seq).primary_key())
                    .col(string_len(AuditCheckpoints::Hash, 64))
                    .col(timestamp(AuditCheckpoints::At))
                    .col(text(AuditCheckpoints::Note))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditCheckpoints::Table.into_iden(),
            AuditCheckpointKeys::Table.into_iden(),
            DataKeyRotations::Table.into_iden(),
            DataKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
