//! Liveness, readiness and metrics.
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::TAG_OPERATIONS;
use crate::{
    error::{AppError, AppResult},
    extract::acceptable,
    services::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = TAG_OPERATIONS,
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
async fn healthz(headers: HeaderMap) -> AppResult<&'static str> {
    acceptable(&headers, "text/plain")?;
    Ok("ok")
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = TAG_OPERATIONS,
    responses((status = 200, description = "Ready", body = String, content_type = "text/plain")))]
async fn readyz(State(state): State<AppState>, headers: HeaderMap) -> AppResult<&'static str> {
    acceptable(&headers, "text/plain")?;
    state
        .db
        .ping()
        .await
        .map_err(|e| AppError::Unavailable(format!("database: {e}")))?;
    Ok("ready")
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = TAG_OPERATIONS,
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain")))]
async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    acceptable(&headers, "text/plain")?;
    let (webhooks, mails) = crate::outbox::backlog(&state.db).await?;
    state.metrics.set_outbox_backlog("webhook", webhooks);
    state.metrics.set_outbox_backlog("mail", mails);
    state
        .metrics
        .set_audit_unchained(crate::audit::chain::unchained(&state.db).await?);
    let (open, overdue, missed) = crate::services::tasks::gauges(&state).await?;
    state.metrics.set_engine(&open, overdue, missed);
    let data_keys = crate::services::data_keys::status(&state.db).await?;
    state.metrics.set_data_keys(&data_keys);
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    ))
}
