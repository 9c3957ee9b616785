//! Certificates: the signing keys (private halves sealed under the data key) and one
//! certificate per cleared request (the JWS sealed, since it names the subject).
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000005_requests::ScreeningRequests;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(pk_uuid(SigningKeys::Id))
                    .col(string_len_uniq(SigningKeys::Kid, 64))
                    .col(blob(SigningKeys::PublicKey))
                    .col(blob(SigningKeys::SecretSealed))
                    .col(timestamp(SigningKeys::CreatedAt))
                    .col(timestamp_null(SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .col(pk_uuid(Certificates::Id))
                    .col(uuid_uniq(Certificates::RequestId))
                    .col(uuid(Certificates::OrganisationId))
                    .col(string_len(Certificates::Kid, 64))
                    .col(timestamp(Certificates::IssuedAt))
                    .col(timestamp(Certificates::ExpiresAt))
                    .col(blob_null(Certificates::JwsSealed))
                    .col(timestamp_null(Certificates::RevokedAt))
                    .col(blob_null(Certificates::RevocationReasonSealed))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certificates_request")
                            .from(Certificates::Table, Certificates::RequestId)
                            .to(ScreeningRequests::Table, ScreeningRequests::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_certificates_kid")
                            .from(Certificates::Table, Certificates::Kid)
                            .to(SigningKeys::Table, SigningKeys::Kid),
                    )
                    .to_owned(),
            )
            .await?;
        // The JWKS lists retired keys while a certificate they signed is unexpired.
        manager
            .create_index(
                Index::create()
                    .name("ix_certificates_kid_expires")
                    .table(Certificates::Table)
                    .col(Certificates::Kid)
                    .col(Certificates::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Certificates::Table.into_iden(),
            SigningKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Kid,
    PublicKey,
    SecretSealed,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    RequestId,
    OrganisationId,
    Kid,
    IssuedAt,
    ExpiresAt,
    JwsSealed,
    RevokedAt,
    RevocationReasonSealed,
}
