//! Sessions: an API session token (`POST /v1/auth/login`) or a browser's cookie, each found
//! only where it was issued. A session ends after `SAFESCREEN_SESSION_IDLE_MINUTES` unused and
//! after `SAFESCREEN_SESSION_HOURS` in any case; it is touched at most once a minute, so being
//! used costs one write a minute, not one a request.
use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::{
        Principal,
        authenticate::{self, Presented, SESSION_API, SESSION_BROWSER},
        cache::commit_principal_change,
        tokens,
    },
    db,
    error::{AppError, AppResult},
    services::AppState,
};
use entity::{session, user};

/// How stale `last_seen_at` may get before a use writes it again.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// A session just created; the token is shown once.
pub struct NewSession {
    pub id: Uuid,
    pub token: String,
    pub expires_at: time::PrimitiveDateTime,
    pub csrf_token: Option<String>,
    /// The user's role, for where a browser lands after signing in.
    pub role: Option<crate::domain::Role>,
}

/// Creates a session in `txn` for a user who signed in with `factors`.
pub async fn create(
    state: &AppState,
    txn: &impl ConnectionTrait,
    user: &user::Model,
    presented: Presented,
    factors: &str,
    with_factor_now: bool,
    user_agent: Option<&str>,
) -> AppResult<NewSession> {
    let (prefix, kind, csrf_token) = match presented {
        Presented::Bearer => (tokens::SESSION_PREFIX, SESSION_API, None),
        Presented::Cookie => (
            tokens::BROWSER_PREFIX,
            SESSION_BROWSER,
            Some(tokens::random_secret()),
        ),
    };
    let new = tokens::generate(prefix);
    let now = db::now();
    let id = db::new_id();
    let expires_at = now + time::Duration::hours(i64::from(state.config.session_hours));
    session::ActiveModel {
        id: Set(id),
        token_hash: Set(new.hash),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        kind: Set(kind.to_owned()),
        last_seen_at: Set(Some(now)),
        factor_verified_at: Set(with_factor_now.then_some(now)),
        factors: Set(factors.to_owned()),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(200).collect())),
        csrf_token: Set(csrf_token.clone()),
    }
    .insert(txn)
    .await?;
    Ok(NewSession {
        id,
        token: new.token,
        expires_at,
        csrf_token,
        role: crate::domain::Role::parse(&user.role),
    })
}

fn idle(state: &AppState) -> Duration {
    Duration::from_secs(u64::from(state.config.session_idle_minutes) * 60)
}

/// The principal behind a token presented as a bearer token or in the session cookie, or
/// `None` for one that is unknown, expired, idle, revoked or presented in the wrong place.
/// Cached per process on PostgreSQL (see `crate::cache`), never past the session's end.
pub async fn principal_for_token(
    state: &AppState,
    token: &str,
    presented: Presented,
) -> AppResult<Option<Principal>> {
    if !authenticate::plausible(token, presented) {
        return Ok(None);
    }
    let hash = tokens::hash(token);
    if let Some(principal) = state.principals.get(&hash) {
        return Ok(Some(principal));
    }
    let generation = state.principals.generation();
    let Some(found) =
        authenticate::look_up(&state.db, token, presented, state.config.mfa, idle(state)).await?
    else {
        return Ok(None);
    };
    if let Some((id, last_seen)) = found.session
        && db::now() - last_seen >= TOUCH_EVERY
    {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(db::now()))
            .filter(session::Column::Id.eq(id))
            .exec(&state.db_write)
            .await?;
    }
    // An entry lives at most a minute, so a session in use is touched every minute.
    state
        .principals
        .put(hash, found.principal.clone(), found.valid_for, generation);
    Ok(Some(found.principal))
}

/// A session as its user sees it in `/account` and `GET /v1/me/sessions`.
pub struct SessionInfo {
    pub id: Uuid,
    /// `api` or `browser`.
    pub kind: String,
    pub created_at: time::PrimitiveDateTime,
    pub last_seen_at: time::PrimitiveDateTime,
    pub expires_at: time::PrimitiveDateTime,
    pub user_agent: Option<String>,
    pub factors: String,
    /// The session this list was asked for in.
    pub current: bool,
}

/// The user's live sessions, newest first.
pub async fn list(state: &AppState, principal: &Principal) -> AppResult<Vec<SessionInfo>> {
    let now = db::now();
    let idle = time::Duration::minutes(i64::from(state.config.session_idle_minutes));
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(principal.id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .order_by_desc(session::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|s| s.last_seen_at.unwrap_or(s.created_at) + idle > now)
        .map(|s| SessionInfo {
            current: Some(s.id) == principal.session_id,
            id: s.id,
            kind: s.kind,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at.unwrap_or(s.created_at),
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            factors: s.factors,
        })
        .collect())
}

/// Ends one of the user's own sessions (404 for anyone else's).
pub async fn end(state: &AppState, principal: &Principal, session_id: Uuid) -> AppResult<()> {
    let txn = db::begin_write(&state.db_write).await?;
    let ended = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(db::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::UserId.eq(principal.id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &txn,
        &principal.actor(),
        "auth.session_ended",
        audit::target("session", session_id),
        json!({}),
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(())
}
