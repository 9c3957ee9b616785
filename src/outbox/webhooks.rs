//! Webhook events (Standard Webhooks 1.0): the outbox rows, written in the transaction of the
//! change that causes them, and their signature (`delivery` sends them).
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{db, domain::RequestStatus};
use entity::{screening_request, webhook_delivery, webhook_endpoint};

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

/// Queues `event_type` of the request for every live endpoint of its organisation that
/// subscribed to it (the sandbox's endpoints for a sandbox request). `status` is shown in the
/// organisation's view: nothing beyond it ever leaves.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    request: &screening_request::Model,
    event_type: &str,
    status: RequestStatus,
) -> Result<(), DbErr> {
    enqueue_data(txn, request, event_type, request_data(request.id, status)).await
}

/// Queues an event of the request with this `data` for its organisation's subscribed live
/// endpoints of the request's mode.
pub async fn enqueue_data(
    txn: &impl ConnectionTrait,
    request: &screening_request::Model,
    event_type: &str,
    data: Value,
) -> Result<(), DbErr> {
    let endpoints = live_endpoints(txn, &[request.organisation_id]).await?;
    let rows = delivery_rows(&endpoints, request.sandbox, event_type, data);
    webhook_delivery::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// `screening_request.decided`: the outcome alone (and `revised` once an objection overturned
/// a refusal, and a clearance's certificate id), never grounds or findings.
pub async fn enqueue_decided(
    txn: &impl ConnectionTrait,
    request: &screening_request::Model,
    outcome: &str,
    revised: bool,
    certificate_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::Cleared);
    let mut data = request_data(request.id, status);
    data["outcome"] = json!(outcome);
    if revised {
        data["revised"] = json!(true);
    }
    if let Some(certificate_id) = certificate_id {
        data["certificate_id"] = json!(certificate_id);
    }
    enqueue_data(txn, request, "screening_request.decided", data).await
}

/// `certificate.revoked` or `clearance.expiring`: the request's id and status, and the
/// certificate's id.
pub async fn enqueue_certificate(
    txn: &impl ConnectionTrait,
    request_id: Uuid,
    certificate_id: Uuid,
    event_type: &str,
) -> Result<(), DbErr> {
    let Some(request) = screening_request::Entity::find_by_id(request_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let mut data = request_data(request_id, RequestStatus::Cleared);
    data["certificate_id"] = json!(certificate_id);
    enqueue_data(txn, &request, event_type, data).await
}

/// What every request event carries: its id and status in the organisation's view.
pub fn request_data(request_id: Uuid, status: RequestStatus) -> Value {
    json!({"id": request_id, "status": status.org_view().as_str()})
}

/// The endpoints of these organisations that are neither deleted nor disabled, live and
/// sandbox.
pub async fn live_endpoints(
    conn: &impl ConnectionTrait,
    organisation_ids: &[Uuid],
) -> Result<Vec<webhook_endpoint::Model>, DbErr> {
    webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganisationId.is_in(organisation_ids.iter().copied()))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .filter(webhook_endpoint::Column::DisabledAt.is_null())
        .all(conn)
        .await
}

/// One outbox row per endpoint (of the request's organisation) subscribed to `event_type`
/// and of the request's mode: sandbox events go to sandbox endpoints only, live to live.
pub fn delivery_rows(
    endpoints: &[webhook_endpoint::Model],
    sandbox: bool,
    event_type: &str,
    data: Value,
) -> Vec<webhook_delivery::ActiveModel> {
    endpoints
        .iter()
        .filter(|e| e.sandbox == sandbox && subscribed(&e.events, event_type))
        .map(|endpoint| delivery_row(endpoint, event_type, data.clone()))
        .collect()
}

/// The outbox row of one event for one endpoint, due now; `livemode` says whether it is
/// about real screenings.
pub fn delivery_row(
    endpoint: &webhook_endpoint::Model,
    event_type: &str,
    data: Value,
) -> webhook_delivery::ActiveModel {
    let now = db::now();
    webhook_delivery::ActiveModel {
        id: Set(db::new_id()),
        endpoint_id: Set(endpoint.id),
        event_type: Set(event_type.to_owned()),
        payload: Set(json!({
            "type": event_type,
            "timestamp": db::rfc3339(now),
            "livemode": !endpoint.sandbox,
            "data": data,
        })),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        delivered_at: Set(None),
        failed_at: Set(None),
        created_at: Set(now),
    }
}

/// The secret shown once when an endpoint is created: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// `v1,` and base64 of HMAC-SHA256 over `id.timestamp.body`, keyed with the secret's bytes.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "the signing secret is not base64".to_owned())?;
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|_| "bad key length".to_owned())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}
