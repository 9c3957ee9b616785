//! Webhook events (Standard Webhooks 1.0): the outbox rows, and their delivery.
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::{db, domain::RequestStatus};
use entity::{screening_request, webhook_attempt, webhook_delivery, webhook_endpoint};

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
    enqueue_data(
        txn,
        organisation_id,
        event_type,
        request_data(request_id, status),
    )
    .await
}

/// Queues an event with this `data` for the organisation's subscribed live endpoints.
async fn enqueue_data(
    txn: &impl ConnectionTrait,
    organisation_id: Uuid,
    event_type: &str,
    data: Value,
) -> Result<(), DbErr> {
    let endpoints = live_endpoints(txn, &[organisation_id]).await?;
    webhook_delivery::Entity::insert_many(delivery_rows(&endpoints, event_type, data))
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
    enqueue_data(
        txn,
        request.organisation_id,
        "screening_request.decided",
        data,
    )
    .await
}

/// `certificate.revoked` or `clearance.expiring`: the request's id and status, and the
/// certificate's id.
pub async fn enqueue_certificate(
    txn: &impl ConnectionTrait,
    organisation_id: Uuid,
    request_id: Uuid,
    certificate_id: Uuid,
    event_type: &str,
) -> Result<(), DbErr> {
    let mut data = request_data(request_id, RequestStatus::Cleared);
    data["certificate_id"] = json!(certificate_id);
    enqueue_data(txn, organisation_id, event_type, data).await
}

/// What every request event carries: its id and status in the organisation's view.
pub fn request_data(request_id: Uuid, status: RequestStatus) -> Value {
    json!({"id": request_id, "status": status.org_view().as_str()})
}

/// The endpoints of these organisations that are neither deleted nor disabled.
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

/// One outbox row per endpoint (of the request's organisation) subscribed to `event_type`.
pub fn delivery_rows(
    endpoints: &[webhook_endpoint::Model],
    event_type: &str,
    data: Value,
) -> Vec<webhook_delivery::ActiveModel> {
    let now = db::now();
    let timestamp = now.assume_utc().format(&Rfc3339).unwrap_or_default();
    endpoints
        .iter()
        .filter(|e| subscribed(&e.events, event_type))
        .map(|endpoint| webhook_delivery::ActiveModel {
            id: Set(db::new_id()),
            endpoint_id: Set(endpoint.id),
            event_type: Set(event_type.to_owned()),
            payload: Set(json!({
                "type": event_type,
                "timestamp": timestamp,
                "data": data,
            })),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_until: Set(None),
            delivered_at: Set(None),
            failed_at: Set(None),
            created_at: Set(now),
        })
        .collect()
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

const LEASE: time::Duration = time::Duration::seconds(60);

/// Delivers due events; returns how many were attempted. Rows are leased, so another worker
/// takes over a crashed one's rows when the lease runs out; the `webhook-id` never changes.
pub async fn deliver_due(state: &crate::state::AppState) -> anyhow::Result<usize> {
    use sea_orm::{
        Condition, QueryOrder, QuerySelect,
        sea_query::{Expr, LockBehavior, LockType},
    };
    let now = db::now();
    let txn = db::begin_write(&state.db_write).await?;
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .filter(webhook_delivery::Column::FailedAt.is_null())
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(webhook_delivery::Column::LeaseUntil.is_null())
                .add(webhook_delivery::Column::LeaseUntil.lt(now)),
        )
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(20)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    if due.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::LeaseUntil,
            Expr::value(now + LEASE),
        )
        .filter(webhook_delivery::Column::Id.is_in(due.iter().map(|d| d.id)))
        .exec(&txn)
        .await?;
    txn.commit().await?;

    let attempts = due.len();
    let mut tasks = tokio::task::JoinSet::new();
    for delivery in due {
        let state = state.clone();
        tasks.spawn(async move {
            if let Err(err) = attempt(&state, delivery).await {
                tracing::warn!(error = %err, "recording a webhook attempt failed; the lease will expire and it is retried");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(attempts)
}

/// One try: sign, POST, record the attempt, and schedule the next or finish.
async fn attempt(
    state: &crate::state::AppState,
    delivery: webhook_delivery::Model,
) -> anyhow::Result<()> {
    use sea_orm::{ActiveModelTrait, IntoActiveModel};
    let endpoint = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id)
        .one(&state.db)
        .await?;
    let Some(endpoint) = endpoint.filter(|e| e.deleted_at.is_none() && e.disabled_at.is_none())
    else {
        let mut row = delivery.into_active_model();
        row.failed_at = Set(Some(db::now()));
        row.lease_until = Set(None);
        row.update(&state.db_write).await?;
        return Ok(());
    };
    let secret: String = state
        .data_key
        .open_json(endpoint.id, &endpoint.secret_sealed)?;
    let body = serde_json::to_vec(&delivery.payload)?;
    let id = delivery.id.to_string();
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(&secret, &id, timestamp, &body).map_err(anyhow::Error::msg)?;

    // IP literals never reach the resolver: check them here.
    let literal_forbidden = !state.config.webhook_allow_private
        && reqwest::Url::parse(&endpoint.url)
            .ok()
            .and_then(|u| match u.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            })
            .is_some_and(super::ssrf::is_forbidden);
    let started = std::time::Instant::now();
    let outcome = if literal_forbidden {
        Err(None)
    } else {
        state
            .webhook_client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(Some)
    };
    let elapsed = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let (status_code, error) = match &outcome {
        Ok(response) => (Some(i32::from(response.status().as_u16())), None),
        Err(Some(err)) => (None, Some(describe(err))),
        Err(None) => (None, Some("the address is not allowed".to_owned())),
    };
    let now = db::now();
    let txn = db::begin_write(&state.db_write).await?;
    webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
        id: Set(db::new_id()),
        delivery_id: Set(delivery.id),
        at: Set(now),
        status_code: Set(status_code),
        error: Set(error),
        duration_ms: Set(elapsed),
    })
    .exec(&txn)
    .await?;
    let attempts = delivery.attempts + 1;
    let mut row = delivery.into_active_model();
    row.attempts = Set(attempts);
    row.lease_until = Set(None);
    match status_code {
        Some(code) if (200..300).contains(&code) => row.delivered_at = Set(Some(now)),
        Some(410) => {
            // Gone: the receiver asks us to stop; the endpoint is disabled.
            row.failed_at = Set(Some(now));
            let mut endpoint = endpoint.into_active_model();
            endpoint.disabled_at = Set(Some(now));
            endpoint.update(&txn).await?;
        }
        _ => match state
            .config
            .webhook_retry_schedule
            .get(attempts as usize - 1)
        {
            Some(wait) => {
                row.next_attempt_at =
                    Set(now + time::Duration::try_from(*wait).unwrap_or(time::Duration::HOUR))
            }
            None => row.failed_at = Set(Some(now)),
        },
    }
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A short cause for the delivery log, without internals.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect (or the address is not allowed)".to_owned()
    } else if err.is_redirect() {
        "redirects are not followed".to_owned()
    } else {
        "request failed".to_owned()
    }
}
