//! Organisations, users, checkers, sessions, activation tokens, API keys and login throttles.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(pk_uuid(Organisations::Id))
                    .col(string(Organisations::Name))
                    .col(string(Organisations::RegistrationNumber))
                    .col(string_len(Organisations::Country, 2))
                    .col(json(Organisations::OperatingCountries))
                    .col(string(Organisations::ContactEmail))
                    .col(string_len(Organisations::Status, 16))
                    .col(timestamp(Organisations::CreatedAt))
                    .col(timestamp(Organisations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_organisations_registration")
                    .table(Organisations::Table)
                    .col(Organisations::Country)
                    .col(Organisations::RegistrationNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(string(Users::Name))
                    .col(string_len(Users::Role, 16))
                    .col(uuid_null(Users::OrganisationId))
                    .col(string_null(Users::PasswordHash))
                    .col(boolean(Users::Active))
                    .col(timestamp(Users::CreatedAt))
                    .col(timestamp_null(Users::ActivatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_organisation")
                            .from(Users::Table, Users::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_organisation")
                    .table(Users::Table)
                    .col(Users::OrganisationId)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Checkers::Table)
                    .col(pk_uuid(Checkers::Id))
                    .col(boolean(Checkers::Supervisor))
                    .col(integer(Checkers::MaxOpenTasks))
                    .col(timestamp_null(Checkers::LastAssignedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checkers_user")
                            .from(Checkers::Table, Checkers::Id)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckerAuthorisations::Table)
                    .col(uuid(CheckerAuthorisations::CheckerId))
                    .col(string_len(CheckerAuthorisations::Authorisation, 32))
                    .primary_key(
                        Index::create()
                            .col(CheckerAuthorisations::CheckerId)
                            .col(CheckerAuthorisations::Authorisation),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checker_authorisations_checker")
                            .from(
                                CheckerAuthorisations::Table,
                                CheckerAuthorisations::CheckerId,
                            )
                            .to(Checkers::Table, Checkers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckerConflicts::Table)
                    .col(uuid(CheckerConflicts::CheckerId))
                    .col(uuid(CheckerConflicts::OrganisationId))
                    .primary_key(
                        Index::create()
                            .col(CheckerConflicts::CheckerId)
                            .col(CheckerConflicts::OrganisationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checker_conflicts_checker")
                            .from(CheckerConflicts::Table, CheckerConflicts::CheckerId)
                            .to(Checkers::Table, Checkers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_checker_conflicts_organisation")
                            .from(CheckerConflicts::Table, CheckerConflicts::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(string_uniq(Sessions::TokenHash))
                    .col(uuid(Sessions::UserId))
                    .col(timestamp(Sessions::CreatedAt))
                    .col(timestamp(Sessions::ExpiresAt))
                    .col(timestamp_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivationTokens::Table)
                    .col(pk_uuid(ActivationTokens::Id))
                    .col(string_uniq(ActivationTokens::TokenHash))
                    .col(uuid(ActivationTokens::UserId))
                    .col(timestamp(ActivationTokens::CreatedAt))
                    .col(timestamp(ActivationTokens::ExpiresAt))
                    .col(timestamp_null(ActivationTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_activation_tokens_user")
                            .from(ActivationTokens::Table, ActivationTokens::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_activation_tokens_user")
                    .table(ActivationTokens::Table)
                    .col(ActivationTokens::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::OrganisationId))
                    .col(string(ApiKeys::Name))
                    .col(string(ApiKeys::Prefix))
                    .col(string_uniq(ApiKeys::KeyHash))
                    .col(uuid_null(ApiKeys::CreatedBy))
                    .col(timestamp(ApiKeys::CreatedAt))
                    .col(timestamp_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_organisation")
                            .from(ApiKeys::Table, ApiKeys::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_organisation")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::OrganisationId)
                    .col(ApiKeys::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .col(string(LoginThrottles::Key).primary_key())
                    .col(integer(LoginThrottles::Failures))
                    .col(timestamp(LoginThrottles::LastFailureAt))
                    .col(timestamp_null(LoginThrottles::BlockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LoginThrottles::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            ActivationTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            CheckerConflicts::Table.into_iden(),
            CheckerAuthorisations::Table.into_iden(),
            Checkers::Table.into_iden(),
            Users::Table.into_iden(),
            Organisations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Organisations {
    Table,
    Id,
    Name,
    RegistrationNumber,
    Country,
    OperatingCountries,
    ContactEmail,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    Name,
    Role,
    OrganisationId,
    PasswordHash,
    Active,
    CreatedAt,
    ActivatedAt,
}

#[derive(DeriveIden)]
enum Checkers {
    Table,
    Id,
    Supervisor,
    MaxOpenTasks,
    LastAssignedAt,
}

#[derive(DeriveIden)]
enum CheckerAuthorisations {
    Table,
    CheckerId,
    Authorisation,
}

#[derive(DeriveIden)]
enum CheckerConflicts {
    Table,
    CheckerId,
    OrganisationId,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ActivationTokens {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrganisationId,
    Name,
    Prefix,
    KeyHash,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Key,
    Failures,
    LastFailureAt,
    BlockedUntil,
}
