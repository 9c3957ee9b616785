//! Resolving a token to a principal: one indexed lookup by the token's hash; no Argon2. API
//! keys and API session tokens are bearer tokens; a browser session's token comes only in its
//! cookie. Each is found only where it was issued, so a copied cookie is no bearer token.
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Principal, PrincipalKind, tokens};
use crate::{config::MfaPolicy, db, domain::Role, error::AppResult};
use entity::{api_key, checker, session, user};

/// Where a token was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Bearer`: API keys and API session tokens.
    Bearer,
    /// The `__Host-safescreen_session` cookie: browser sessions.
    Cookie,
}

pub const SESSION_API: &str = "api";
pub const SESSION_BROWSER: &str = "browser";
/// The factors of a sign-in with the password alone.
pub const PASSWORD_ONLY: &str = "password";

/// A session found for a token, with what decides whether it is still alive.
pub struct Found {
    pub principal: Principal,
    /// How long the token stays valid if it is used now and nothing changes.
    pub valid_for: Duration,
    /// The session's id and when it was last seen, to touch it.
    pub session: Option<(uuid::Uuid, time::PrimitiveDateTime)>,
}

/// Whether the text could be a token for this place at all, so garbage never reaches the
/// database.
pub fn plausible(token: &str, presented: Presented) -> bool {
    match presented {
        Presented::Bearer => {
            tokens::looks_like(token, tokens::API_KEY_PREFIX)
                || tokens::looks_like(token, tokens::SANDBOX_KEY_PREFIX)
                || tokens::looks_like(token, tokens::SESSION_PREFIX)
        }
        Presented::Cookie => tokens::looks_like(token, tokens::BROWSER_PREFIX),
    }
}

/// The principal behind a token in the database, or `None` for an unknown, expired, idle,
/// revoked or misplaced token.
pub async fn look_up(
    db: &DatabaseConnection,
    token: &str,
    presented: Presented,
    mfa: MfaPolicy,
    idle: Duration,
) -> AppResult<Option<Found>> {
    let hash = tokens::hash(token);
    if tokens::looks_like(token, tokens::API_KEY_PREFIX)
        || tokens::looks_like(token, tokens::SANDBOX_KEY_PREFIX)
    {
        let key = api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(hash))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(db)
            .await?;
        return Ok(key.map(|key| Found {
            principal: Principal {
                kind: PrincipalKind::ApiKey,
                id: key.id,
                role: Role::OrgRequester,
                organisation_id: Some(key.organisation_id),
                supervisor: false,
                session_id: None,
                with_factor: false,
                factor_verified_at: None,
                enrolment_only: false,
                csrf_token: None,
                sandbox: key.sandbox,
            },
            valid_for: Duration::MAX, // until revoked
            session: None,
        }));
    }
    let kind = match presented {
        Presented::Bearer => SESSION_API,
        Presented::Cookie => SESSION_BROWSER,
    };
    let now = db::now();
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash))
        .filter(session::Column::Kind.eq(kind))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((session, Some(user))) = found else {
        return Ok(None);
    };
    let last_seen = session.last_seen_at.unwrap_or(session.created_at);
    let idle_until = last_seen + idle;
    if idle_until <= now {
        return Ok(None);
    }
    let Some(role) = Role::parse(&user.role).filter(|_| user.active) else {
        return Ok(None);
    };
    let supervisor = if role == Role::Checker {
        checker::Entity::find_by_id(user.id)
            .one(db)
            .await?
            .is_some_and(|c| c.supervisor)
    } else {
        false
    };
    let with_factor = session.factors != PASSWORD_ONLY;
    let principal = Principal {
        kind: PrincipalKind::User,
        id: user.id,
        role,
        organisation_id: user.organisation_id,
        supervisor,
        session_id: Some(session.id),
        with_factor,
        factor_verified_at: session.factor_verified_at,
        enrolment_only: mfa.requires(role) && !with_factor,
        csrf_token: session.csrf_token,
        sandbox: false,
    };
    let ends = session.expires_at.min(idle_until);
    Ok(Some(Found {
        principal,
        valid_for: (ends - now).unsigned_abs(),
        session: Some((session.id, last_seen)),
    }))
}
