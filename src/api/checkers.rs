//! Checkers.
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_CHECKERS;
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    domain::Authorisation,
    error::AppResult,
    extract::{AppJson, AppPath, AppQuery},
    pagination::{Page, PageParams},
    services::AppState,
    services::checkers::{self, CheckerChange, CheckerView, NewChecker},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_checker, list_checkers))
        .routes(routes!(get_checker, update_checker))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"email": "pieter.bakker@example.org", "name": "Pieter Bakker", "authorisations": ["identity", "criminal_record"], "supervisor": false, "max_open_tasks": 20, "conflicts": []})))]
#[serde(deny_unknown_fields)]
pub struct CreateChecker {
    #[schema(schema_with = schemas::email)]
    pub email: String,
    #[schema(schema_with = schemas::line::<200>)]
    pub name: String,
    /// What this checker may check (may be empty).
    pub authorisations: Vec<Authorisation>,
    pub supervisor: bool,
    /// 0: never assigned automatically.
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(with = "crate::extract::whole_number")]
    pub max_open_tasks: i64,
    /// Organisations this checker must never work for.
    #[serde(default)]
    pub conflicts: Vec<Uuid>,
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"max_open_tasks": 30, "authorisations": ["identity", "criminal_record", "reference"]})))]
#[serde(deny_unknown_fields)]
pub struct UpdateChecker {
    #[schema(schema_with = schemas::optional_line::<200>)]
    pub name: Option<String>,
    pub authorisations: Option<Vec<Authorisation>>,
    pub supervisor: Option<bool>,
    #[schema(minimum = 0, maximum = 10000)]
    #[serde(default, with = "crate::extract::whole_number::option")]
    pub max_open_tasks: Option<i64>,
    pub conflicts: Option<Vec<Uuid>>,
    /// `false` deactivates the checker and revokes their sessions at once.
    pub active: Option<bool>,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckerDto {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub authorisations: Vec<Authorisation>,
    pub supervisor: bool,
    pub max_open_tasks: i32,
    pub conflicts: Vec<Uuid>,
    pub active: bool,
    /// Whether the checker has set a password.
    pub activated: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<CheckerView> for CheckerDto {
    fn from(c: CheckerView) -> Self {
        CheckerDto {
            id: c.user.id,
            email: c.user.email,
            name: c.user.name,
            authorisations: c.authorisations.into_iter().collect(),
            supervisor: c.supervisor,
            max_open_tasks: c.max_open_tasks,
            conflicts: c.conflicts.into_iter().collect(),
            active: c.user.active,
            activated: c.user.activated_at.is_some(),
            created_at: db::utc(c.user.created_at),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedChecker {
    pub checker: CheckerDto,
    /// Give this to the checker: `POST /v1/auth/activate` sets their password. Shown only here.
    pub activation_token: String,
}

/// Adds a checker and returns their activation token.
#[utoipa::path(post, path = "/v1/checkers", tag = TAG_CHECKERS, request_body = CreateChecker,
    responses((status = 201, description = "Created", body = CreatedChecker)))]
async fn create_checker(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<CreateChecker>,
) -> AppResult<(StatusCode, Json<CreatedChecker>)> {
    let new = NewChecker::validate(
        &body.email,
        &body.name,
        body.authorisations,
        body.supervisor,
        body.max_open_tasks,
        body.conflicts,
    )?;
    let (checker, activation_token) = checkers::create(&state, &principal, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedChecker {
            checker: checker.into(),
            activation_token,
        }),
    ))
}

/// Lists checkers.
#[utoipa::path(get, path = "/v1/checkers", tag = TAG_CHECKERS, params(PageParams),
    responses((status = 200, description = "A page of checkers", body = Page<CheckerDto>)))]
async fn list_checkers(
    State(state): State<AppState>,
    AppQuery(params): AppQuery<PageParams>,
) -> AppResult<Json<Page<CheckerDto>>> {
    let page = params.page_request()?;
    let rows = checkers::list(&state, page).await?;
    Ok(Json(Page::from_rows(
        rows,
        page,
        |c| c.user.id,
        CheckerDto::from,
    )))
}

/// One checker.
#[utoipa::path(get, path = "/v1/checkers/{id}", tag = TAG_CHECKERS,
    params(("id" = Uuid, Path, description = "Checker id")),
    responses((status = 200, description = "The checker", body = CheckerDto)))]
async fn get_checker(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<CheckerDto>> {
    Ok(Json(checkers::get(&state.db, id).await?.into()))
}

/// Changes a checker's authorisations, cap, conflicts, supervisor flag, name or `active`.
#[utoipa::path(patch, path = "/v1/checkers/{id}", tag = TAG_CHECKERS, request_body = UpdateChecker,
    params(("id" = Uuid, Path, description = "Checker id")),
    responses((status = 200, description = "The checker", body = CheckerDto)))]
async fn update_checker(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateChecker>,
) -> AppResult<Json<CheckerDto>> {
    let change = CheckerChange::validate(
        body.name.as_deref(),
        body.authorisations,
        body.supervisor,
        body.max_open_tasks,
        body.conflicts,
        body.active,
    )?;
    Ok(Json(
        checkers::update(&state, &principal, id, change)
            .await?
            .into(),
    ))
}
