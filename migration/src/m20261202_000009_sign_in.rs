//! Signing in as people do: browser sessions beside API session tokens (idle timeout, CSRF
//! token, the factors used and when one was last entered), second factors (TOTP, recovery
//! codes, passkeys and their ceremonies), the pending second step of a sign-in, and password
//! resets. Existing sessions become API sessions, last seen when they were created.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_identity::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes no more.
        for column in [
            string_len(Sessions::Kind, 16).default("api").to_owned(),
            timestamp_null(Sessions::LastSeenAt).to_owned(),
            timestamp_null(Sessions::FactorVerifiedAt).to_owned(),
            string_len(Sessions::Factors, 64)
                .default("password")
                .to_owned(),
            string_len_null(Sessions::UserAgent, 200).to_owned(),
            string_len_null(Sessions::CsrfToken, 64).to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(integer(UserSecurity::SecondFactorFailures).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpFactors::Table)
                    .col(pk_uuid(TotpFactors::UserId))
                    .col(blob(TotpFactors::SecretSealed))
                    .col(timestamp(TotpFactors::CreatedAt))
                    .col(timestamp_null(TotpFactors::ConfirmedAt))
                    // The last time step accepted: a step is accepted once.
                    .col(big_integer(TotpFactors::LastStep).default(0))
                    .foreign_key(&mut user_key(
                        "fk_totp_factors_user",
                        TotpFactors::Table,
                        TotpFactors::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(pk_uuid(RecoveryCodes::Id))
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string_len_uniq(RecoveryCodes::CodeHash, 64))
                    .col(timestamp(RecoveryCodes::CreatedAt))
                    .col(timestamp_null(RecoveryCodes::UsedAt))
                    .foreign_key(&mut user_key(
                        "fk_recovery_codes_user",
                        RecoveryCodes::Table,
                        RecoveryCodes::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(pk_uuid(Passkeys::Id))
                    .col(uuid(Passkeys::UserId))
                    .col(string_len(Passkeys::Name, 100))
                    .col(string_len_uniq(Passkeys::CredentialId, 1400))
                    .col(blob(Passkeys::PasskeySealed))
                    .col(timestamp(Passkeys::CreatedAt))
                    .col(timestamp_null(Passkeys::LastUsedAt))
                    .foreign_key(&mut user_key(
                        "fk_passkeys_user",
                        Passkeys::Table,
                        Passkeys::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCeremonies::Table)
                    .col(pk_uuid(WebauthnCeremonies::Id))
                    .col(string_len(WebauthnCeremonies::Kind, 16))
                    .col(uuid(WebauthnCeremonies::UserId))
                    // The session or pending sign-in it belongs to: no one else can finish it.
                    .col(uuid(WebauthnCeremonies::OwnerId))
                    .col(blob(WebauthnCeremonies::StateSealed))
                    .col(timestamp(WebauthnCeremonies::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PendingLogins::Table)
                    .col(pk_uuid(PendingLogins::Id))
                    .col(string_len_uniq(PendingLogins::TokenHash, 64))
                    .col(uuid(PendingLogins::UserId))
                    .col(timestamp(PendingLogins::CreatedAt))
                    .col(timestamp(PendingLogins::ExpiresAt))
                    .col(timestamp_null(PendingLogins::CompletedAt))
                    .col(string_len_null(PendingLogins::UserAgent, 200))
                    .foreign_key(&mut user_key(
                        "fk_pending_logins_user",
                        PendingLogins::Table,
                        PendingLogins::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .col(pk_uuid(PasswordResets::Id))
                    .col(string_len_uniq(PasswordResets::TokenHash, 64))
                    .col(uuid(PasswordResets::UserId))
                    .col(timestamp(PasswordResets::CreatedAt))
                    .col(timestamp(PasswordResets::ExpiresAt))
                    .col(timestamp_null(PasswordResets::UsedAt))
                    .foreign_key(&mut user_key(
                        "fk_password_resets_user",
                        PasswordResets::Table,
                        PasswordResets::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_recovery_codes_user")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_passkeys_user")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PasswordResets::Table.into_iden(),
            PendingLogins::Table.into_iden(),
            WebauthnCeremonies::Table.into_iden(),
            Passkeys::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            TotpFactors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(UserSecurity::SecondFactorFailures)
                    .to_owned(),
            )
            .await?;
        for column in [
            Sessions::CsrfToken,
            Sessions::UserAgent,
            Sessions::Factors,
            Sessions::FactorVerifiedAt,
            Sessions::LastSeenAt,
            Sessions::Kind,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

fn user_key(name: &str, table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .to_owned()
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Kind,
    LastSeenAt,
    FactorVerifiedAt,
    Factors,
    UserAgent,
    CsrfToken,
}

#[derive(DeriveIden)]
enum UserSecurity {
    SecondFactorFailures,
}

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    UserId,
    SecretSealed,
    CreatedAt,
    ConfirmedAt,
    LastStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    Name,
    CredentialId,
    PasskeySealed,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebauthnCeremonies {
    Table,
    Id,
    Kind,
    UserId,
    OwnerId,
    StateSealed,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PendingLogins {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    CompletedAt,
    UserAgent,
}

#[derive(DeriveIden)]
enum PasswordResets {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
