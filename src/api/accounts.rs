//! Login, logout, activation and `/v1/me`.
use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{TAG_ACCOUNTS, checkers::CheckerDto};
use crate::{
    auth::{Principal, PrincipalKind},
    db,
    domain::{Authorisation, Role},
    error::AppResult,
    extract::AppJson,
    services::AppState,
    services::accounts::{self, Me},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(activate))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// A session token (`ss_sess_…`); send it as `Authorization: Bearer <token>`.
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub user: MeDto,
}

#[derive(Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKindDto {
    User,
    ApiKey,
}

/// The caller.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MeDto {
    pub kind: PrincipalKindDto,
    pub id: Uuid,
    /// An API key has the role `org_requester`.
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Checkers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorisations: Option<Vec<Authorisation>>,
    /// Checkers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<bool>,
}

impl From<Me> for MeDto {
    fn from(me: Me) -> Self {
        let checker = me.checker.map(CheckerDto::from);
        MeDto {
            kind: match me.kind {
                PrincipalKind::User => PrincipalKindDto::User,
                PrincipalKind::ApiKey => PrincipalKindDto::ApiKey,
            },
            id: me.id,
            role: me.role,
            organisation_id: me.organisation_id,
            email: me.email,
            name: me.name,
            authorisations: checker.as_ref().map(|c| c.authorisations.clone()),
            supervisor: checker.map(|c| c.supervisor),
        }
    }
}

/// Signs in with e-mail and password.
///
/// A wrong password and an unknown e-mail get the same 401 after the same work. Repeated
/// failures are slowed down with 429 and a growing `Retry-After`; the account is never locked
/// for good.
#[utoipa::path(post, path = "/v1/auth/login", tag = TAG_ACCOUNTS, request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppJson(body): AppJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let logged_in =
        accounts::login(&state, &body.email, body.password, &client.ip().to_string()).await?;
    Ok(Json(LoginResponse {
        token: logged_in.token,
        expires_at: db::utc(logged_in.expires_at),
        user: logged_in.me.into(),
    }))
}

/// Revokes the session token used for this request.
#[utoipa::path(post, path = "/v1/auth/logout", tag = TAG_ACCOUNTS,
    responses((status = 204, description = "Signed out")))]
async fn logout(State(state): State<AppState>, principal: Principal) -> AppResult<StatusCode> {
    accounts::logout(&state, &principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The activation token (`ss_act_…`) given when the account was created.
    pub token: String,
    /// 12 to 1024 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
}

/// Sets the password of a new account (or resets it) with a single-use activation token.
#[utoipa::path(post, path = "/v1/auth/activate", tag = TAG_ACCOUNTS, request_body = ActivateRequest,
    responses((status = 204, description = "Password set")))]
async fn activate(
    State(state): State<AppState>,
    AppJson(body): AppJson<ActivateRequest>,
) -> AppResult<StatusCode> {
    accounts::activate(&state, &body.token, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is.
#[utoipa::path(get, path = "/v1/me", tag = TAG_ACCOUNTS,
    responses((status = 200, description = "The caller", body = MeDto)))]
async fn me(State(state): State<AppState>, principal: Principal) -> AppResult<Json<MeDto>> {
    Ok(Json(accounts::me(&state, &principal).await?.into()))
}
