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
    error::{AppError, AppResult},
    outbox::{ssrf, webhooks},
    pagination::PageRequest,
    state::AppState,
};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

/// Checks a target URL: https only, and no private, loopback, link-local or metadata address,
/// neither as a literal nor after resolving the name (both relaxed by
/// `SAFESCREEN_WEBHOOK_ALLOW_PRIVATE`).
pub async fn check_url(text: &str, allow_private: bool) -> Result<url::Url, String> {
    if text.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    // The url crate forgives what RFC 3986 does not (spaces, stray `%`); we do not.
    if !is_uri_text(text) {
        return Err("is not a URL (RFC 3986)".into());
    }
    let url = url::Url::parse(text).map_err(|_| "is not an absolute URL".to_owned())?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("must be an https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        None => Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) if !allow_private && ssrf::is_forbidden(ip.into()) => {
            Err("must not point at a private, loopback, link-local or metadata address".into())
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && ssrf::is_forbidden(ip.into()) => {
            Err("must not point at a private, loopback, link-local or metadata address".into())
        }
        // A name that does not resolve yet is taken (its DNS may follow the registration):
        // every delivery resolves it again and refuses forbidden addresses then.
        Some(url::Host::Domain(name)) => {
            match ssrf::resolve_allowed(name, port, allow_private).await {
                Ok(_) | Err(ssrf::Refused::Unresolved(_)) => Ok(url),
                Err(refused @ ssrf::Refused::Forbidden(_)) => Err(refused.to_string()),
            }
        }
        Some(_) => Ok(url),
    }
}

/// Only the characters RFC 3986 allows in a URI, and `%` only as a percent-encoded octet.
fn is_uri_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => true,
        _ => b"-._~:/?#[]@!$&'()*+,;=".contains(&b),
    })
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    url: url::Url,
    events: Vec<String>,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let organisation_id = principal.organisation_id.ok_or(AppError::NotFound)?;
    let id = db::new_id();
    let secret = webhooks::new_secret();
    let txn = db::begin_write(&state.db_write).await?;
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(id),
        organisation_id: Set(organisation_id),
        url: Set(url.to_string()),
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

async fn own(
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
