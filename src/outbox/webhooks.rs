//! Webhook events (Standard Webhooks 1.0): the outbox rows, and their delivery.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::{db, domain::RequestStatus};
use entity::{webhook_delivery, webhook_endpoint};

/// Every event type an endpoint can subscribe to.
pub const EVENT_TYPES: [&str; 8] = [
    "screening_request.created",
    "screening_request.consented",
    "screening_request.declined",
    "screening_request.lapsed",
    "screening_request.withdrawn",
    "screening_request.decided",
    "certificate.revoked",
    "clearance.expiring",
];

fn subscribed(events: &Value, event_type: &str) -> bool {
    events
        .as_array()
        .is_some_and(|list| list.iter().any(|e| e == "*" || e == event_type))
}

/// Queues `event_type` for every live endpoint of the organisation that subscribed to it.
/// `status` is shown in the organisation's view: nothing beyond it ever leaves.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    organisation_id: Uuid,
    request_id: Uuid,
    event_type: &str,
    status: RequestStatus,
) -> Result<(), DbErr> {
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganisationId.eq(organisation_id))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .filter(webhook_endpoint::Column::DisabledAt.is_null())
        .all(txn)
        .await?;
    let now = db::now();
    let timestamp = now.assume_utc().format(&Rfc3339).unwrap_or_default();
    let deliveries: Vec<webhook_delivery::ActiveModel> = endpoints
        .iter()
        .filter(|e| subscribed(&e.events, event_type))
        .map(|endpoint| webhook_delivery::ActiveModel {
            id: Set(db::new_id()),
            endpoint_id: Set(endpoint.id),
            event_type: Set(event_type.to_owned()),
            payload: Set(json!({
                "type": event_type,
                "timestamp": timestamp,
                "data": {"id": request_id, "status": status.org_view().as_str()},
            })),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_until: Set(None),
            delivered_at: Set(None),
            failed_at: Set(None),
            created_at: Set(now),
        })
        .collect();
    if !deliveries.is_empty() {
        webhook_delivery::Entity::insert_many(deliveries)
            .exec(txn)
            .await?;
    }
    Ok(())
}
