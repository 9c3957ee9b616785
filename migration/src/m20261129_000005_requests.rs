//! Screening requests, their timeline, idempotency keys, timers, the mail outbox, and webhook
//! endpoints with their deliveries and attempts.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000001_identity::Organisations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScreeningRequests::Table)
                    .col(pk_uuid(ScreeningRequests::Id))
                    .col(uuid(ScreeningRequests::OrganisationId))
                    .col(string_len(ScreeningRequests::ProfileCode, 64))
                    .col(integer(ScreeningRequests::ProfileVersion))
                    .col(string_len(ScreeningRequests::WorkflowKey, 64))
                    .col(integer(ScreeningRequests::WorkflowVersion))
                    .col(string(ScreeningRequests::Reference))
                    .col(string(ScreeningRequests::PositionTitle))
                    .col(text_null(ScreeningRequests::PositionDescription))
                    .col(string_len(ScreeningRequests::Role, 16))
                    .col(string_len(ScreeningRequests::DeploymentCountry, 2))
                    .col(date(ScreeningRequests::DeploymentStartDate))
                    .col(string_len(ScreeningRequests::Status, 24))
                    .col(integer(ScreeningRequests::Version))
                    .col(blob_null(ScreeningRequests::SubjectSealed))
                    .col(string_len_null(ScreeningRequests::InvitationTokenHash, 64).unique_key())
                    .col(timestamp(ScreeningRequests::InvitationExpiresAt))
                    .col(string_len_null(ScreeningRequests::DeclineReason, 24))
                    .col(uuid_null(ScreeningRequests::RescreenOf))
                    .col(timestamp(ScreeningRequests::CreatedAt))
                    .col(timestamp(ScreeningRequests::UpdatedAt))
                    .col(timestamp_null(ScreeningRequests::ConsentedAt))
                    .col(timestamp_null(ScreeningRequests::EndedAt))
                    .col(timestamp_null(ScreeningRequests::ErasedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_screening_requests_organisation")
                            .from(ScreeningRequests::Table, ScreeningRequests::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_screening_requests_organisation")
                    .table(ScreeningRequests::Table)
                    .col(ScreeningRequests::OrganisationId)
                    .col(ScreeningRequests::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RequestEvents::Table)
                    .col(pk_uuid(RequestEvents::Id))
                    .col(uuid(RequestEvents::RequestId))
                    .col(timestamp(RequestEvents::At))
                    .col(string_len(RequestEvents::Kind, 48))
                    .col(string_len(RequestEvents::Status, 24))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_request_events_request")
                            .from(RequestEvents::Table, RequestEvents::RequestId)
                            .to(ScreeningRequests::Table, ScreeningRequests::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_request_events_request")
                    .table(RequestEvents::Table)
                    .col(RequestEvents::RequestId)
                    .col(RequestEvents::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::OrganisationId))
                    .col(string(IdempotencyKeys::Key))
                    .col(string_len(IdempotencyKeys::Operation, 32))
                    .col(string_len(IdempotencyKeys::BodyHash, 64))
                    .col(uuid(IdempotencyKeys::RequestId))
                    .col(integer(IdempotencyKeys::ResponseStatus))
                    .col(timestamp(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::OrganisationId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Timers::Table)
                    .col(pk_uuid(Timers::Id))
                    .col(uuid_null(Timers::RequestId))
                    .col(string_len(Timers::Kind, 32))
                    .col(timestamp(Timers::DueAt))
                    .col(timestamp_null(Timers::FiredAt))
                    .col(json(Timers::Payload))
                    .col(timestamp(Timers::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_timers_due")
                    .table(Timers::Table)
                    .col(Timers::FiredAt)
                    .col(Timers::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_timers_request")
                    .table(Timers::Table)
                    .col(Timers::RequestId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(pk_uuid(MailOutbox::Id))
                    .col(uuid_null(MailOutbox::RequestId))
                    .col(string_len(MailOutbox::Kind, 32))
                    .col(blob_null(MailOutbox::MessageSealed))
                    .col(integer(MailOutbox::Attempts))
                    .col(timestamp(MailOutbox::NextAttemptAt))
                    .col(timestamp_null(MailOutbox::LeaseUntil))
                    .col(timestamp_null(MailOutbox::SentAt))
                    .col(string_null(MailOutbox::LastError))
                    .col(timestamp(MailOutbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::SentAt)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(pk_uuid(WebhookEndpoints::Id))
                    .col(uuid(WebhookEndpoints::OrganisationId))
                    .col(string(WebhookEndpoints::Url))
                    .col(json(WebhookEndpoints::Events))
                    .col(blob(WebhookEndpoints::SecretSealed))
                    .col(timestamp(WebhookEndpoints::CreatedAt))
                    .col(timestamp_null(WebhookEndpoints::DisabledAt))
                    .col(timestamp_null(WebhookEndpoints::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_organisation")
                            .from(WebhookEndpoints::Table, WebhookEndpoints::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_organisation")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::OrganisationId)
                    .col(WebhookEndpoints::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(pk_uuid(WebhookDeliveries::Id))
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(string_len(WebhookDeliveries::EventType, 48))
                    .col(json(WebhookDeliveries::Payload))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_null(WebhookDeliveries::LeaseUntil))
                    .col(timestamp_null(WebhookDeliveries::DeliveredAt))
                    .col(timestamp_null(WebhookDeliveries::FailedAt))
                    .col(timestamp(WebhookDeliveries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::DeliveredAt)
                    .col(WebhookDeliveries::FailedAt)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(pk_uuid(WebhookAttempts::Id))
                    .col(uuid(WebhookAttempts::DeliveryId))
                    .col(timestamp(WebhookAttempts::At))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(string_null(WebhookAttempts::Error))
                    .col(integer(WebhookAttempts::DurationMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .col(WebhookAttempts::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
            MailOutbox::Table.into_iden(),
            Timers::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            RequestEvents::Table.into_iden(),
            ScreeningRequests::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum ScreeningRequests {
    Table,
    Id,
    OrganisationId,
    ProfileCode,
    ProfileVersion,
    WorkflowKey,
    WorkflowVersion,
    Reference,
    PositionTitle,
    PositionDescription,
    Role,
    DeploymentCountry,
    DeploymentStartDate,
    Status,
    Version,
    SubjectSealed,
    InvitationTokenHash,
    InvitationExpiresAt,
    DeclineReason,
    RescreenOf,
    CreatedAt,
    UpdatedAt,
    ConsentedAt,
    EndedAt,
    ErasedAt,
}

#[derive(DeriveIden)]
enum RequestEvents {
    Table,
    Id,
    RequestId,
    At,
    Kind,
    Status,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    OrganisationId,
    Key,
    Operation,
    BodyHash,
    RequestId,
    ResponseStatus,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Timers {
    Table,
    Id,
    RequestId,
    Kind,
    DueAt,
    FiredAt,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    RequestId,
    Kind,
    MessageSealed,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    SentAt,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrganisationId,
    Url,
    Events,
    SecretSealed,
    CreatedAt,
    DisabledAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventType,
    Payload,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    DeliveredAt,
    FailedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    At,
    StatusCode,
    Error,
    DurationMs,
}
