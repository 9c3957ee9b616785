//! Login (with a second factor), logout, step-up, activation, password reset, `/v1/me`, and
//! the caller's own second factors and sessions.
use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{TAG_ACCOUNTS, checkers::CheckerDto};
use crate::schemas;
use crate::{
    auth::{Principal, PrincipalKind},
    db,
    domain::{Authorisation, Role},
    error::AppResult,
    extract::{AppJson, AppPath, user_agent},
    services::AppState,
    services::{
        accounts::{self, Me},
        factors, sessions,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(activate))
        .routes(routes!(me))
        .routes(routes!(step_up))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(start_totp, remove_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"email": "anna.jansen@example.org", "password": "correct horse battery staple", "code": "123456"})))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 1024)]
    pub password: String,
    /// For an account with a second factor: the 6 digits of its authenticator app (TOTP), or
    /// one of its recovery codes. Without it such an account answers 401 `mfa-required`.
    #[schema(schema_with = schemas::second_factor_code)]
    pub code: Option<String>,
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
    /// Users only: their second factors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaDto>,
}

/// A user's second factors.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MfaDto {
    /// An authenticator app (TOTP) is set up.
    pub totp: bool,
    /// Passkeys registered.
    pub passkeys: u64,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
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
            mfa: me.mfa.map(|m| MfaDto {
                totp: m.totp,
                passkeys: m.passkeys,
                recovery_codes_left: m.recovery_codes_left,
            }),
        }
    }
}

/// Signs in with e-mail and password, and the second factor's `code` where the account has one.
///
/// A wrong password and an unknown e-mail get the same 401 after the same work; so does a
/// wrong, reused or expired code. An account with a second factor and no `code` answers 401
/// `mfa-required`. Repeated failures are slowed down with 429 and a growing `Retry-After`; the
/// account is never locked for good. An account that must have a second factor and has none
/// gets a session that can only enrol one (403 `mfa-enrolment-required` elsewhere).
#[utoipa::path(post, path = "/v1/auth/login", tag = TAG_ACCOUNTS, request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    AppJson(body): AppJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let logged_in = accounts::login(
        &state,
        &body.email,
        body.password,
        body.code.as_deref(),
        &client.ip().to_string(),
        user_agent(&headers),
    )
    .await?;
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
#[schema(examples(json!({"token": "ss_act_3q2-7wRvYk8bX0aN1cD5eF9gH4iJ6kL7mN8oP0qR2sT", "password": "a long password of my own"})))]
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

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"code": "123456"})))]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The 6 digits of the authenticator app (TOTP), or a recovery code.
    #[schema(schema_with = schemas::second_factor_code_required)]
    pub code: String,
}

/// Confirms it is you: the session counts as freshly verified for 15 minutes, which refusals,
/// revocations, changes to a checker's authorisations and removing a factor need.
#[utoipa::path(post, path = "/v1/auth/step-up", tag = TAG_ACCOUNTS, request_body = CodeRequest,
    responses((status = 204, description = "Verified")))]
async fn step_up(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<CodeRequest>,
) -> AppResult<StatusCode> {
    factors::step_up(&state, &principal, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"email": "anna.jansen@example.org"})))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(schema_with = schemas::email)]
    pub email: String,
}

/// Asks for a password reset link: it is e-mailed (valid one hour, once) if the account
/// exists; the answer is the same either way.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = TAG_ACCOUNTS,
    request_body = PasswordResetRequest,
    responses((status = 202, description = "A link is on its way if the account exists")))]
async fn request_password_reset(
    State(state): State<AppState>,
    AppJson(body): AppJson<PasswordResetRequest>,
) -> AppResult<StatusCode> {
    accounts::request_password_reset(&state, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"token": "ss_rst_3q2-7wRvYk8bX0aN1cD5eF9gH4iJ6kL7mN8oP0qR2sT", "password": "a new long password"})))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token from the e-mailed link (`ss_rst_…`).
    pub token: String,
    /// 12 to 1024 characters.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: String,
}

/// Sets a new password with the e-mailed token. Every session ends; second factors stay.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = TAG_ACCOUNTS,
    request_body = PasswordResetConfirm,
    responses((status = 204, description = "Password set")))]
async fn confirm_password_reset(
    State(state): State<AppState>,
    AppJson(body): AppJson<PasswordResetConfirm>,
) -> AppResult<StatusCode> {
    accounts::confirm_password_reset(&state, &body.token, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A TOTP set-up waiting for its first code.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolmentDto {
    /// The shared secret in base32, to type into an app.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_uri: String,
}

/// Starts setting up an authenticator app: a new secret, unconfirmed until a first code.
#[utoipa::path(post, path = "/v1/me/totp", tag = TAG_ACCOUNTS,
    responses((status = 201, description = "Scan or type the secret, then confirm", body = TotpEnrolmentDto)))]
async fn start_totp(
    State(state): State<AppState>,
    principal: Principal,
) -> AppResult<(StatusCode, Json<TotpEnrolmentDto>)> {
    let enrolment = factors::start_totp(&state, &principal).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolmentDto {
            secret: enrolment.secret,
            otpauth_uri: enrolment.otpauth_uri,
        }),
    ))
}

/// Recovery codes, shown once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesDto {
    /// Ten codes; each works once, in place of a TOTP code.
    pub recovery_codes: Vec<String>,
}

/// Confirms the authenticator app with its first code; answers ten recovery codes, shown only
/// here. The session counts as signed in with the new factor.
#[utoipa::path(post, path = "/v1/me/totp/confirm", tag = TAG_ACCOUNTS, request_body = CodeRequest,
    responses((status = 200, description = "Set up", body = RecoveryCodesDto)))]
async fn confirm_totp(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<CodeRequest>,
) -> AppResult<Json<RecoveryCodesDto>> {
    let recovery_codes = factors::confirm_totp(&state, &principal, &body.code).await?;
    Ok(Json(RecoveryCodesDto { recovery_codes }))
}

/// Removes the authenticator app (needs step-up).
#[utoipa::path(delete, path = "/v1/me/totp", tag = TAG_ACCOUNTS,
    responses((status = 204, description = "Removed"),
        (status = 404, description = "No authenticator app is set up", body = crate::error::Problem,
            content_type = "application/problem+json")))]
async fn remove_totp(State(state): State<AppState>, principal: Principal) -> AppResult<StatusCode> {
    factors::remove_totp(&state, &principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ten new recovery codes (needs step-up); the old ones stop working.
#[utoipa::path(post, path = "/v1/me/recovery-codes", tag = TAG_ACCOUNTS,
    responses((status = 201, description = "New codes, shown once", body = RecoveryCodesDto)))]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    principal: Principal,
) -> AppResult<(StatusCode, Json<RecoveryCodesDto>)> {
    let recovery_codes = factors::regenerate_recovery_codes(&state, &principal).await?;
    Ok((
        StatusCode::CREATED,
        Json(RecoveryCodesDto { recovery_codes }),
    ))
}

/// One of the caller's sessions.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SessionDto {
    pub id: Uuid,
    /// `api` (a token from login) or `browser` (signed in on the pages).
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// To the minute.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub user_agent: Option<String>,
    /// What the sign-in used: `password`, `password+totp`, `password+recovery_code`,
    /// `password+passkey`.
    pub factors: String,
    /// The session this request came in.
    pub current: bool,
}

/// The caller's live sessions, newest first.
#[utoipa::path(get, path = "/v1/me/sessions", tag = TAG_ACCOUNTS,
    responses((status = 200, description = "Sessions", body = Vec<SessionDto>)))]
async fn list_sessions(
    State(state): State<AppState>,
    principal: Principal,
) -> AppResult<Json<Vec<SessionDto>>> {
    let list = sessions::list(&state, &principal).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionDto {
                id: s.id,
                kind: s.kind,
                created_at: db::utc(s.created_at),
                last_seen_at: db::utc(s.last_seen_at),
                expires_at: db::utc(s.expires_at),
                user_agent: s.user_agent,
                factors: s.factors,
                current: s.current,
            })
            .collect(),
    ))
}

/// Ends one of the caller's sessions at once.
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = TAG_ACCOUNTS,
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Ended")))]
async fn end_session(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<StatusCode> {
    sessions::end(&state, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
