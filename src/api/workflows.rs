//! Screening profiles and workflow definitions.
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::TAG_WORKFLOWS;
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    domain::PositionRole,
    error::AppResult,
    extract::{AppJson, AppPath, AppQuery},
    services::AppState,
    services::workflows::{self, ProfileInput},
};
use entity::{screening_profile, workflow_definition};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_profiles, create_profile))
        .routes(routes!(list_definitions, publish_definition))
        .routes(routes!(get_definition))
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkflowRef {
    pub key: String,
    #[serde(deserialize_with = "crate::extract::whole_number::deserialize")]
    pub version: i32,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProfileDto {
    pub code: String,
    pub version: i32,
    pub title: String,
    pub description: String,
    pub workflow: WorkflowRef,
    pub validity_months: i32,
    pub roles: Vec<PositionRole>,
    pub expiry_warning_days: i32,
}

impl From<screening_profile::Model> for ProfileDto {
    fn from(p: screening_profile::Model) -> Self {
        let roles = workflows::profile_roles(&p);
        ProfileDto {
            code: p.code,
            version: p.version,
            title: p.title,
            description: p.description,
            workflow: WorkflowRef {
                key: p.workflow_key,
                version: p.workflow_version,
            },
            validity_months: p.validity_months,
            roles,
            expiry_warning_days: p.expiry_warning_days,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProfileList {
    pub data: Vec<ProfileDto>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    /// Every version instead of the newest of each profile.
    pub all_versions: Option<bool>,
}

/// Screening profiles: the newest version of each.
#[utoipa::path(get, path = "/v1/screening-profiles", tag = TAG_WORKFLOWS, params(ProfileQuery),
    responses((status = 200, description = "Profiles", body = ProfileList)))]
async fn list_profiles(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ProfileQuery>,
) -> AppResult<Json<ProfileList>> {
    let rows = workflows::list_profiles(&state, q.all_versions.unwrap_or(false)).await?;
    Ok(Json(ProfileList {
        data: rows.into_iter().map(ProfileDto::from).collect(),
        next_cursor: None,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"code": "short-visit", "title": "Short visits to a project", "description": "Volunteers visiting a children's project for up to four weeks.", "workflow": {"key": "general", "version": 1}, "validity_months": 12, "roles": ["volunteer"], "expiry_warning_days": 30})))]
#[serde(deny_unknown_fields)]
pub struct CreateProfile {
    #[schema(schema_with = schemas::line::<64>)]
    pub code: String,
    #[schema(schema_with = schemas::line::<200>)]
    pub title: String,
    #[schema(schema_with = schemas::line::<2000>)]
    pub description: String,
    pub workflow: WorkflowRef,
    #[schema(minimum = 1, maximum = 120)]
    #[serde(with = "crate::extract::whole_number")]
    pub validity_months: i64,
    pub roles: Vec<PositionRole>,
    #[schema(minimum = 0, maximum = 365)]
    #[serde(with = "crate::extract::whole_number")]
    pub expiry_warning_days: i64,
}

/// Publishes a profile, or the next version of one with the same code.
#[utoipa::path(post, path = "/v1/screening-profiles", tag = TAG_WORKFLOWS, request_body = CreateProfile,
    responses((status = 201, description = "Published", body = ProfileDto)))]
async fn create_profile(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<CreateProfile>,
) -> AppResult<(StatusCode, Json<ProfileDto>)> {
    let new = ProfileInput {
        code: &body.code,
        title: &body.title,
        description: &body.description,
        workflow_key: &body.workflow.key,
        workflow_version: body.workflow.version,
        validity_months: body.validity_months,
        roles: body.roles,
        expiry_warning_days: body.expiry_warning_days,
    }
    .validate()?;
    let profile = workflows::publish_profile(&state, &principal, new).await?;
    Ok((StatusCode::CREATED, Json(profile.into())))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DefinitionDto {
    pub key: String,
    pub version: i32,
    /// The definition with every default made explicit (format in the engine documentation).
    pub definition: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
}

impl From<workflow_definition::Model> for DefinitionDto {
    fn from(d: workflow_definition::Model) -> Self {
        DefinitionDto {
            key: d.key,
            version: d.version,
            definition: d.definition,
            published_at: db::utc(d.published_at),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DefinitionList {
    pub data: Vec<DefinitionDto>,
    pub next_cursor: Option<String>,
}

/// Every published version of every workflow definition.
#[utoipa::path(get, path = "/v1/workflow-definitions", tag = TAG_WORKFLOWS,
    responses((status = 200, description = "Definitions", body = DefinitionList)))]
async fn list_definitions(State(state): State<AppState>) -> AppResult<Json<DefinitionList>> {
    let rows = workflows::list_definitions(&state).await?;
    Ok(Json(DefinitionList {
        data: rows.into_iter().map(DefinitionDto::from).collect(),
        next_cursor: None,
    }))
}

/// One version of a workflow definition.
#[utoipa::path(get, path = "/v1/workflow-definitions/{key}/versions/{version}", tag = TAG_WORKFLOWS,
    params(("key" = String, Path, description = "Definition key"), ("version" = i32, Path, description = "Version")),
    responses((status = 200, description = "The definition", body = DefinitionDto)))]
async fn get_definition(
    State(state): State<AppState>,
    AppPath((key, version)): AppPath<(String, i32)>,
) -> AppResult<Json<DefinitionDto>> {
    Ok(Json(
        workflows::get_definition(&state.db, &key, version)
            .await?
            .into(),
    ))
}

/// Publishes a definition (the next version of its key). Every validation error is listed.
#[utoipa::path(post, path = "/v1/workflow-definitions", tag = TAG_WORKFLOWS, request_body = Object,
    responses((status = 201, description = "Published", body = DefinitionDto)))]
async fn publish_definition(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<serde_json::Value>,
) -> AppResult<(StatusCode, Json<DefinitionDto>)> {
    let row = workflows::publish(&state, &principal, &body).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}
