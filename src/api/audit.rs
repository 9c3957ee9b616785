//! The audit log, for the admin.
use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_AUDIT;
use crate::{
    db,
    error::AppResult,
    extract::AppQuery,
    pagination::{Page, PageParams},
    services,
    services::AppState,
};
use entity::audit_event;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// e.g. `user:0193…`
    pub target: Option<String>,
    /// e.g. `user:0193…`, `api_key:…`, `system`, `anonymous`
    pub actor: Option<String>,
    /// e.g. `auth.login_failed`
    pub action: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(schema_with = crate::schemas::cursor)]
    pub cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditEventDto {
    pub id: Uuid,
    /// Position in the hash chain; null for a moment after the event is committed.
    pub seq: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: serde_json::Value,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl From<audit_event::Model> for AuditEventDto {
    fn from(e: audit_event::Model) -> Self {
        AuditEventDto {
            id: e.id,
            seq: e.seq,
            at: db::utc(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            details: e.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Lists audit events, oldest first.
#[utoipa::path(get, path = "/v1/audit-events", tag = TAG_AUDIT, params(AuditFilter),
    responses((status = 200, description = "A page of audit events", body = Page<AuditEventDto>)))]
async fn list_audit_events(
    State(state): State<AppState>,
    AppQuery(filter): AppQuery<AuditFilter>,
) -> AppResult<Json<Page<AuditEventDto>>> {
    let page = PageParams {
        limit: filter.limit,
        cursor: filter.cursor,
    }
    .page_request()?;
    let query = services::audit::Query {
        target: filter.target,
        actor: filter.actor,
        action: filter.action,
    };
    let rows = services::audit::list(&state, query, page).await?;
    Ok(Json(Page::from_rows(
        rows,
        page,
        |e| e.id,
        AuditEventDto::from,
    )))
}
