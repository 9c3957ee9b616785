//! Webhook endpoints (Standard Webhooks 1.0) and their delivery log.
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_WEBHOOKS;
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    error::AppResult,
    extract::{AppJson, AppPath, AppQuery},
    pagination::{Page, PageParams},
    services::AppState,
    services::webhooks,
};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(delete_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(send_test))
        .routes(routes!(resend_delivery))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"url": "https://hooks.kinderhulp.example/safescreen", "events": ["screening_request.decided", "certificate.revoked"]})))]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    #[schema(schema_with = schemas::webhook_url)]
    pub url: String,
    #[schema(schema_with = schemas::webhook_events)]
    pub events: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedEndpoint {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_…`: verify `webhook-signature` with it. Shown only here.
    pub secret: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EndpointDto {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    /// False once the receiver answered 410 Gone.
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

fn events_of(e: &webhook_endpoint::Model) -> Vec<String> {
    serde_json::from_value(e.events.clone()).unwrap_or_default()
}

impl From<webhook_endpoint::Model> for EndpointDto {
    fn from(e: webhook_endpoint::Model) -> Self {
        EndpointDto {
            events: events_of(&e),
            id: e.id,
            url: e.url,
            active: e.disabled_at.is_none(),
            created_at: db::utc(e.created_at),
        }
    }
}

/// Registers an endpoint for the caller's organisation; the secret is shown once.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = TAG_WEBHOOKS, request_body = CreateEndpoint,
    responses((status = 201, description = "Created", body = CreatedEndpoint)))]
async fn create_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<CreateEndpoint>,
) -> AppResult<(StatusCode, Json<CreatedEndpoint>)> {
    let (url, events) =
        webhooks::check_endpoint(&body.url, &body.events, state.config.webhook_allow_private)
            .await?;
    let (endpoint, secret) = webhooks::create(&state, &principal, url, events).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            events: events_of(&endpoint),
            id: endpoint.id,
            url: endpoint.url,
            secret,
            created_at: db::utc(endpoint.created_at),
        }),
    ))
}

/// The organisation's endpoints (never their secrets).
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = TAG_WEBHOOKS, params(PageParams),
    responses((status = 200, description = "Endpoints", body = Page<EndpointDto>)))]
async fn list_endpoints(
    State(state): State<AppState>,
    principal: Principal,
    AppQuery(params): AppQuery<PageParams>,
) -> AppResult<Json<Page<EndpointDto>>> {
    let page = params.page_request()?;
    let rows = webhooks::list(&state, &principal, page).await?;
    Ok(Json(Page::from_rows(
        rows,
        page,
        |e| e.id,
        EndpointDto::from,
    )))
}

/// Deletes an endpoint; nothing more is sent to it.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = TAG_WEBHOOKS,
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<StatusCode> {
    webhooks::delete(&state, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AttemptDto {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The receiver's status code; null when no answer came.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeliveryDto {
    /// The `webhook-id`, the same on every retry.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: Vec<AttemptDto>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

fn delivery_dto(
    (d, attempts): (webhook_delivery::Model, Vec<webhook_attempt::Model>),
) -> DeliveryDto {
    let state = if d.delivered_at.is_some() {
        "delivered"
    } else if d.failed_at.is_some() {
        "failed"
    } else {
        "pending"
    };
    DeliveryDto {
        id: d.id,
        event_type: d.event_type,
        state: state.to_owned(),
        next_attempt_at: (state == "pending").then(|| db::utc(d.next_attempt_at)),
        attempts: attempts
            .into_iter()
            .map(|a| AttemptDto {
                at: db::utc(a.at),
                status_code: a.status_code,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
        created_at: db::utc(d.created_at),
    }
}

/// The delivery log: attempts, status codes and the next retry, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = TAG_WEBHOOKS,
    params(("id" = Uuid, Path, description = "Endpoint id"), PageParams),
    responses((status = 200, description = "Deliveries", body = Page<DeliveryDto>)))]
async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    AppQuery(params): AppQuery<PageParams>,
) -> AppResult<Json<Page<DeliveryDto>>> {
    let page = params.page_request()?;
    let rows = webhooks::deliveries(&state, &principal, id, page).await?;
    Ok(Json(Page::from_rows(
        rows,
        page,
        |(d, _)| d.id,
        delivery_dto,
    )))
}

/// Sends a `webhook.test` event to the endpoint now, whatever it subscribed to: to see a
/// receiver verify a signature before real events come. It is in the delivery log like any
/// other.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/test", tag = TAG_WEBHOOKS,
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, description = "Queued; the delivery as it stands", body = DeliveryDto),
              (status = 409, description = "The endpoint was disabled (it answered 410 Gone)")))]
async fn send_test(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<(StatusCode, Json<DeliveryDto>)> {
    let delivery = webhooks::send_test(&state, &principal, id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_dto(delivery))))
}

/// Sends a delivery again now: the same event and body under the same `webhook-id`, with a
/// new `webhook-timestamp` and signature, and a new round of retries should it fail.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend", tag = TAG_WEBHOOKS,
    params(("id" = Uuid, Path, description = "Endpoint id"),
           ("delivery_id" = Uuid, Path, description = "Delivery id (the `webhook-id`)")),
    responses((status = 202, description = "Queued; the delivery as it stands", body = DeliveryDto),
              (status = 409, description = "The endpoint was disabled, or the delivery is being sent right now")))]
async fn resend_delivery(
    State(state): State<AppState>,
    principal: Principal,
    AppPath((id, delivery_id)): AppPath<(Uuid, Uuid)>,
) -> AppResult<(StatusCode, Json<DeliveryDto>)> {
    let delivery = webhooks::resend(&state, &principal, id, delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_dto(delivery))))
}
