//! Work that leaves the service: webhook deliveries, written in the same transaction as the
//! change that causes them and delivered by a background worker.
pub mod delivery;
pub mod ssrf;
pub mod webhooks;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

/// Webhook deliveries and e-mails still waiting: (webhooks, mails).
pub async fn backlog(db: &DatabaseConnection) -> Result<(u64, u64), DbErr> {
    let webhooks = entity::webhook_delivery::Entity::find()
        .filter(entity::webhook_delivery::Column::DeliveredAt.is_null())
        .filter(entity::webhook_delivery::Column::FailedAt.is_null())
        .count(db)
        .await?;
    let mails = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::SentAt.is_null())
        .count(db)
        .await?;
    Ok((webhooks, mails))
}
