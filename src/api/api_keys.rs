//! Organisation API keys.
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_ORGANISATIONS;
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    domain::text,
    error::{AppError, AppResult},
    extract::{AppJson, AppPath, AppQuery},
    pagination::{Page, PageParams},
    services::AppState,
    services::api_keys,
};
use entity::api_key;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"name": "Volunteer planning system", "mode": "sandbox"})))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(schema_with = schemas::line::<100>)]
    pub name: String,
    /// `live` (the default) or `sandbox`: a sandbox key's requests reach no person and move
    /// on by themselves.
    #[serde(default)]
    pub mode: KeyMode,
}

/// What a key's requests are: real screenings, or the sandbox's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    #[default]
    Live,
    Sandbox,
}

impl KeyMode {
    fn of(sandbox: bool) -> Self {
        if sandbox {
            KeyMode::Sandbox
        } else {
            KeyMode::Live
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    pub id: Uuid,
    pub name: String,
    /// The key (`ss_key_…`, or `ss_test_…` in the sandbox). Shown only here: store it now.
    pub key: String,
    /// The key's first characters, to recognise it in lists.
    pub prefix: String,
    pub mode: KeyMode,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiKeyDto {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub mode: KeyMode,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<api_key::Model> for ApiKeyDto {
    fn from(k: api_key::Model) -> Self {
        ApiKeyDto {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            mode: KeyMode::of(k.sandbox),
            created_at: db::utc(k.created_at),
            revoked_at: k.revoked_at.map(db::utc),
        }
    }
}

/// Creates an API key for the organisation; it acts as an `org_requester`.
#[utoipa::path(post, path = "/v1/organisations/{id}/api-keys", tag = TAG_ORGANISATIONS, request_body = CreateApiKey,
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 201, description = "Created; the key is shown only now", body = CreatedApiKey)))]
async fn create_api_key(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(organisation_id): AppPath<Uuid>,
    AppJson(body): AppJson<CreateApiKey>,
) -> AppResult<(StatusCode, Json<CreatedApiKey>)> {
    let name = text::required(&body.name, 100).map_err(|m| AppError::validation("name", m))?;
    let sandbox = body.mode == KeyMode::Sandbox;
    let (key, secret) =
        api_keys::create(&state, &principal, organisation_id, name, sandbox).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            id: key.id,
            name: key.name,
            key: secret,
            prefix: key.prefix,
            mode: KeyMode::of(key.sandbox),
            created_at: db::utc(key.created_at),
        }),
    ))
}

/// Lists the organisation's API keys (never the keys themselves).
#[utoipa::path(get, path = "/v1/organisations/{id}/api-keys", tag = TAG_ORGANISATIONS,
    params(("id" = Uuid, Path, description = "Organisation id"), PageParams),
    responses((status = 200, description = "A page of API keys", body = Page<ApiKeyDto>)))]
async fn list_api_keys(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(organisation_id): AppPath<Uuid>,
    AppQuery(params): AppQuery<PageParams>,
) -> AppResult<Json<Page<ApiKeyDto>>> {
    let page = params.page_request()?;
    let rows = api_keys::list(&state, &principal, organisation_id, page).await?;
    Ok(Json(Page::from_rows(rows, page, |k| k.id, ApiKeyDto::from)))
}

/// Revokes an API key: every later request with it is rejected.
#[utoipa::path(delete, path = "/v1/organisations/{id}/api-keys/{key_id}", tag = TAG_ORGANISATIONS,
    params(("id" = Uuid, Path, description = "Organisation id"), ("key_id" = Uuid, Path, description = "API key id")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_api_key(
    State(state): State<AppState>,
    principal: Principal,
    AppPath((organisation_id, key_id)): AppPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    api_keys::revoke(&state, &principal, organisation_id, key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
