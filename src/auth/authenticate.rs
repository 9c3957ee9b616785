//! Resolving a bearer token to a principal: one indexed lookup by the token's hash, no Argon2.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Principal, PrincipalKind, tokens};
use crate::{db, domain::Role, error::AppResult};
use entity::{api_key, checker, session, user};

/// The principal behind a token, or `None` for an unknown, expired, revoked or garbage token.
pub async fn principal_for_token(
    db: &DatabaseConnection,
    token: &str,
) -> AppResult<Option<Principal>> {
    if tokens::looks_like(token, tokens::API_KEY_PREFIX) {
        let key = api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(tokens::hash(token)))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(db)
            .await?;
        return Ok(key.map(|key| Principal {
            kind: PrincipalKind::ApiKey,
            id: key.id,
            role: Role::OrgRequester,
            organisation_id: Some(key.organisation_id),
            supervisor: false,
            session_id: None,
        }));
    }
    if !tokens::looks_like(token, tokens::SESSION_PREFIX) {
        return Ok(None);
    }
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(tokens::hash(token)))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(db::now()))
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
    Ok(Some(Principal {
        kind: PrincipalKind::User,
        id: user.id,
        role,
        organisation_id: user.organisation_id,
        supervisor,
        session_id: Some(session.id),
    }))
}
