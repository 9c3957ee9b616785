//! Webhook endpoints of an organisation, managed by its org_admin.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
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
        .filter(|e| e.deleted_at.is_none() && Some(e.organisation_id) == principal.organisation_id)
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
