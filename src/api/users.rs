//! An organisation's users.
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
    domain::{Email, OrgRole, Role, text},
    error::AppResult,
    extract::{AppJson, AppPath, AppQuery},
    pagination::{Page, PageParams},
    services::AppState,
    services::users::{self, NewUser, UserChange},
    validation::Fields,
};
use entity::user;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(update_user))
        .routes(routes!(new_activation))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"email": "sara.devries@kinderhulp.example", "name": "Sara de Vries", "role": "org_requester"})))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(schema_with = schemas::email)]
    pub email: String,
    #[schema(schema_with = schemas::line::<200>)]
    pub name: String,
    pub role: OrgRole,
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"active": false})))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// `false` deactivates the user and revokes their sessions at once.
    pub active: Option<bool>,
    pub role: Option<OrgRole>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    pub active: bool,
    /// Whether the user has set a password.
    pub activated: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<user::Model> for UserDto {
    fn from(u: user::Model) -> Self {
        UserDto {
            id: u.id,
            role: Role::parse(&u.role).unwrap_or(Role::OrgRequester),
            email: u.email,
            name: u.name,
            organisation_id: u.organisation_id,
            active: u.active,
            activated: u.activated_at.is_some(),
            created_at: db::utc(u.created_at),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserDto,
    /// Give this to the user: `POST /v1/auth/activate` sets their password. Shown only here.
    pub activation_token: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ActivationTokenDto {
    pub activation_token: String,
}

/// Adds a user to the organisation and returns their activation token.
#[utoipa::path(post, path = "/v1/organisations/{id}/users", tag = TAG_ORGANISATIONS, request_body = CreateUser,
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 201, description = "Created", body = CreatedUser)))]
async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(organisation_id): AppPath<Uuid>,
    AppJson(body): AppJson<CreateUser>,
) -> AppResult<(StatusCode, Json<CreatedUser>)> {
    let mut f = Fields::default();
    let email = f.check("email", Email::parse(&body.email));
    let name = f.check("name", text::required(&body.name, 200));
    let new = f.finish(|| {
        Some(NewUser {
            email: email?,
            name: name?,
            role: body.role.into(),
        })
    })?;
    let (user, activation_token) = users::create(&state, &principal, organisation_id, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: user.into(),
            activation_token,
        }),
    ))
}

/// Lists the organisation's users.
#[utoipa::path(get, path = "/v1/organisations/{id}/users", tag = TAG_ORGANISATIONS,
    params(("id" = Uuid, Path, description = "Organisation id"), PageParams),
    responses((status = 200, description = "A page of users", body = Page<UserDto>)))]
async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(organisation_id): AppPath<Uuid>,
    AppQuery(params): AppQuery<PageParams>,
) -> AppResult<Json<Page<UserDto>>> {
    let page = params.page_request()?;
    let rows = users::list(&state, &principal, organisation_id, page).await?;
    Ok(Json(Page::from_rows(rows, page, |u| u.id, UserDto::from)))
}

/// Deactivates or reactivates a user, or changes their role.
#[utoipa::path(patch, path = "/v1/organisations/{id}/users/{user_id}", tag = TAG_ORGANISATIONS, request_body = UpdateUser,
    params(("id" = Uuid, Path, description = "Organisation id"), ("user_id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = UserDto)))]
async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    AppPath((organisation_id, user_id)): AppPath<(Uuid, Uuid)>,
    AppJson(body): AppJson<UpdateUser>,
) -> AppResult<Json<UserDto>> {
    let change = UserChange {
        active: body.active,
        role: body.role,
    };
    Ok(Json(
        users::update(&state, &principal, organisation_id, user_id, change)
            .await?
            .into(),
    ))
}

/// Issues a new activation token for the user (also a password reset); earlier ones stop working.
#[utoipa::path(post, path = "/v1/organisations/{id}/users/{user_id}/activation", tag = TAG_ORGANISATIONS,
    params(("id" = Uuid, Path, description = "Organisation id"), ("user_id" = Uuid, Path, description = "User id")),
    responses((status = 201, description = "A new activation token", body = ActivationTokenDto)))]
async fn new_activation(
    State(state): State<AppState>,
    principal: Principal,
    AppPath((organisation_id, user_id)): AppPath<(Uuid, Uuid)>,
) -> AppResult<(StatusCode, Json<ActivationTokenDto>)> {
    let activation_token =
        users::new_activation(&state, &principal, organisation_id, user_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(ActivationTokenDto { activation_token }),
    ))
}
