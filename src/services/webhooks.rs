//! Webhook endpoints of an organisation, managed by its org_admin.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    db,
    domain::{WebhookUrl, webhook_url},
    error::{AppError, AppResult},
    outbox::{
        ssrf,
        webhooks::{self, EVENT_TYPES},
    },
    pagination::PageRequest,
    services::AppState,
    validation::Fields,
};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

/// Checks a target URL by the rule (`domain::webhook_url`), then asks DNS: a name that
/// resolves to a private, loopback, link-local or metadata address is refused (unless
/// `SAFESCREEN_WEBHOOK_ALLOW_PRIVATE`).
pub async fn check_url(text: &str, allow_private: bool) -> Result<WebhookUrl, String> {
    let url = webhook_url::parse(text, allow_private)?;
    let Ok(parsed) = url::Url::parse(url.as_str()) else {
        // Taken by the rule but not by the url crate (a bad punycode label): no delivery
        // could reach it, and the receiver's operator is told so by the delivery log.
        return Ok(url);
    };
    match parsed.host() {
        // A name that does not resolve yet is taken (its DNS may follow the registration):
        // every delivery resolves it again and refuses forbidden addresses then.
        Some(url::Host::Domain(name)) => {
            let port = parsed.port_or_known_default().unwrap_or(443);
            match ssrf::resolve_allowed(name, port, allow_private).await {
                Ok(_) | Err(ssrf::Refused::Unresolved(_)) => Ok(url),
                Err(refused @ ssrf::Refused::Forbidden(_)) => Err(format!(
                    "must not point at a private, loopback, link-local or metadata address ({refused})"
                )),
            }
        }
        // Addresses are refused by the rule unless private targets are allowed.
        _ => Ok(url),
    }
}

/// An endpoint's address and event types as the API and the portal take them, every error at
/// once; the event types sorted, each once.
pub async fn check_endpoint(
    url: &str,
    events: &[String],
    allow_private: bool,
) -> AppResult<(WebhookUrl, Vec<String>)> {
    let mut f = Fields::default();
    let url = f.check("url", check_url(url, allow_private).await);
    if events.is_empty() {
        f.error("events", "name at least one event type, or \"*\"");
    }
    for (i, event) in events.iter().enumerate() {
        if event != "*" && !EVENT_TYPES.contains(&event.as_str()) {
            f.error(
                format!("events[{i}]"),
                format!("unknown event type `{event}`"),
            );
        }
    }
    let mut events = events.to_vec();
    events.sort();
    events.dedup();
    let url = f.finish(|| url)?;
    Ok((url, events))
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    url: WebhookUrl,
    events: Vec<String>,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let organisation_id = principal.organisation_id.ok_or(AppError::NotFound)?;
    let id = db::new_id();
    let secret = webhooks::new_secret();
    let txn = db::begin_write(&state.db_write).await?;
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(id),
        organisation_id: Set(organisation_id),
        url: Set(url.into_string()),
        events: Set(json!(events)),
        secret_sealed: Set(state.data_key.seal_json(id, &secret)),
        created_at: Set(db::now()),
        disabled_at: Set(None),
        deleted_at: Set(None),
        // A sandbox key's endpoint gets the sandbox's events, an org_admin's live ones.
        sandbox: Set(principal.sandbox),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "webhook_endpoint.created",
        audit::target("webhook_endpoint", id),
        json!({"organisation_id": organisation_id, "events": events}),
    )
    .await?;
    txn.commit().await?;
    Ok((endpoint, secret))
}

/// One of the caller's organisation's endpoints (not deleted); 404 for any other.
pub async fn own(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|e| {
            e.deleted_at.is_none()
                && Some(e.organisation_id) == principal.organisation_id
                && e.sandbox == principal.sandbox
        })
        .ok_or(AppError::NotFound)
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    page: PageRequest,
) -> AppResult<Vec<webhook_endpoint::Model>> {
    let organisation_id = principal.organisation_id.ok_or(AppError::NotFound)?;
    let mut query = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganisationId.eq(organisation_id))
        .filter(webhook_endpoint::Column::Sandbox.eq(principal.sandbox))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .order_by_asc(webhook_endpoint::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(webhook_endpoint::Column::Id.gt(after));
    }
    Ok(query.limit(page.limit + 1).all(&state.db).await?)
}

/// Deletes an endpoint; its undelivered events are given up.
pub async fn delete(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<()> {
    let endpoint = own(state, principal, id).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let mut row = endpoint.into_active_model();
    row.deleted_at = Set(Some(db::now()));
    row.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "webhook_endpoint.deleted",
        audit::target("webhook_endpoint", id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The delivery log: newest first, each delivery with its attempts.
pub async fn deliveries(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<(webhook_delivery::Model, Vec<webhook_attempt::Model>)>> {
    own(state, principal, id).await?;
    let mut query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .order_by_desc(webhook_delivery::Column::Id);
    if let Some(before) = page.after {
        query = query.filter(webhook_delivery::Column::Id.lt(before));
    }
    let rows = query.limit(page.limit + 1).all(&state.db).await?;
    let attempts = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(rows.iter().map(|d| d.id)))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let mine = attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .cloned()
                .collect();
            (d, mine)
        })
        .collect())
}

/// The event type of a test delivery: sent to one endpoint, whatever it subscribed to.
pub const TEST_EVENT: &str = "webhook.test";

/// Refuses an endpoint that answered 410 Gone: nothing is sent to it any more.
fn enabled(endpoint: &webhook_endpoint::Model) -> AppResult<()> {
    match endpoint.disabled_at {
        Some(_) => Err(AppError::Conflict(
            "this endpoint was disabled when it answered 410 Gone; create it again to receive events"
                .into(),
        )),
        None => Ok(()),
    }
}

/// Queues a `webhook.test` event for one of the caller's endpoints, to be sent at once.
pub async fn send_test(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<(webhook_delivery::Model, Vec<webhook_attempt::Model>)> {
    let endpoint = own(state, principal, id).await?;
    enabled(&endpoint)?;
    let txn = db::begin_write(&state.db_write).await?;
    let row = webhooks::delivery_row(&endpoint, TEST_EVENT, json!({"endpoint_id": endpoint.id}));
    let delivery = row.insert(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "webhook_endpoint.tested",
        audit::target("webhook_endpoint", id),
        json!({"delivery_id": delivery.id}),
    )
    .await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    Ok((delivery, Vec::new()))
}

/// Sends one of the endpoint's deliveries again, now: the same event, body and `webhook-id`,
/// with a new timestamp and signature, and a fresh round of retries if it fails.
pub async fn resend(
    state: &AppState,
    principal: &Principal,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> AppResult<(webhook_delivery::Model, Vec<webhook_attempt::Model>)> {
    let endpoint = own(state, principal, endpoint_id).await?;
    let delivery = webhook_delivery::Entity::find_by_id(delivery_id)
        .one(&state.db)
        .await?
        .filter(|d| d.endpoint_id == endpoint.id)
        .ok_or(AppError::NotFound)?;
    enabled(&endpoint)?;
    let now = db::now();
    let txn = db::begin_write(&state.db_write).await?;
    // Not while a worker holds it: its attempt is under way and will be recorded.
    let queued = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(None::<time::PrimitiveDateTime>),
        )
        .col_expr(
            webhook_delivery::Column::FailedAt,
            Expr::value(None::<time::PrimitiveDateTime>),
        )
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(
            Condition::any()
                .add(webhook_delivery::Column::LeaseUntil.is_null())
                .add(webhook_delivery::Column::LeaseUntil.lt(now)),
        )
        .exec(&txn)
        .await?;
    if queued.rows_affected == 0 {
        return Err(AppError::Conflict(
            "this delivery is being sent right now; look at its attempts in a moment".into(),
        ));
    }
    audit::record(
        &txn,
        &principal.actor(),
        "webhook_delivery.resent",
        audit::target("webhook_delivery", delivery.id),
        json!({"endpoint_id": endpoint.id}),
    )
    .await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    let attempts = webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery.id))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(&state.db)
        .await?;
    let delivery = webhook_delivery::Entity::find_by_id(delivery.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((delivery, attempts))
}
