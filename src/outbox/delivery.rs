//! The webhook delivery worker: leases due deliveries, signs and POSTs them, records each
//! attempt and schedules the next; a crashed worker's rows are taken over when their lease
//! runs out, and the `webhook-id` never changes.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::webhooks::sign;
use crate::{db, services::AppState};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

const LEASE: time::Duration = time::Duration::seconds(60);

/// Delivers due events; returns how many were attempted. Rows are leased, so another worker
/// takes over a crashed one's rows when the lease runs out; the `webhook-id` never changes.
pub async fn deliver_due(state: &AppState) -> anyhow::Result<usize> {
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
async fn attempt(state: &AppState, delivery: webhook_delivery::Model) -> anyhow::Result<()> {
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
        .open_json(endpoint.id, &endpoint.secret_sealed)
        .await?;
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
