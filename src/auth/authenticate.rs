//! Resolving a bearer token to a principal: from the principal cache, or one indexed lookup by
//! the token's hash; no Argon2.
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Principal, PrincipalKind, tokens};
use crate::{db, domain::Role, error::AppResult, services::AppState};
use entity::{api_key, checker, session, user};

/// The principal behind a token, or `None` for an unknown, expired, revoked or garbage token.
pub async fn principal_for_token(state: &AppState, token: &str) -> AppResult<Option<Principal>> {
    if !tokens::looks_like(token, tokens::API_KEY_PREFIX)
        && !tokens::looks_like(token, tokens::SESSION_PREFIX)
    {
        return Ok(None);
    }
    let hash = tokens::hash(token);
    if let Some(principal) = state.principals.get(&hash) {
        return Ok(Some(principal));
    }
    let generation = state.principals.generation();
    let found = look_up(&state.db, token, &hash).await?;
    if let Some((principal, valid_for)) = &found {
        state
            .principals
            .put(hash, principal.clone(), *valid_for, generation);
    }
    Ok(found.map(|(principal, _)| principal))
}

/// The principal in the database, and how long the token stays valid if nothing changes.
async fn look_up(
    db: &DatabaseConnection,
    token: &str,
    hash: &str,
) -> AppResult<Option<(Principal, Duration)>> {
    if tokens::looks_like(token, tokens::API_KEY_PREFIX) {
        let key = api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(hash))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(db)
            .await?;
        return Ok(key.map(|key| {
            let principal = Principal {
                kind: PrincipalKind::ApiKey,
                id: key.id,
                role: Role::OrgRequester,
                organisation_id: Some(key.organisation_id),
                supervisor: false,
                session_id: None,
            };
            (principal, Duration::MAX) // until revoked
        }));
    }
    let now = db::now();
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((session, Some(user))) = found else {
        return Ok(None);
    };
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
    let principal = Principal {
        kind: PrincipalKind::User,
        id: user.id,
        role,
        organisation_id: user.organisation_id,
        supervisor,
        session_id: Some(session.id),
    };
    let remaining = (session.expires_at - now).unsigned_abs();
    Ok(Some((principal, remaining)))
}
