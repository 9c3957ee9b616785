//! Login, logout, activation, and who the caller is.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, sea_query::Expr,
};
use serde_json::json;
use time::PrimitiveDateTime;
use uuid::Uuid;

use crate::{
    audit,
    auth::cache::commit_principal_change,
    auth::{
        Principal, PrincipalKind, passwords,
        throttle::{self, ThrottleKey},
        tokens,
    },
    db,
    error::{AppError, AppResult},
    services::AppState,
    services::checkers::{self, CheckerView},
};
use entity::{activation_token, session, user};

pub struct LoggedIn {
    pub token: String,
    pub expires_at: PrimitiveDateTime,
    pub me: Me,
}

/// What `/v1/me` and a login answer about the caller.
pub struct Me {
    pub kind: PrincipalKind,
    pub id: Uuid,
    pub role: crate::domain::Role,
    pub organisation_id: Option<Uuid>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub checker: Option<CheckerView>,
}

/// Checks e-mail and password; unknown e-mail and wrong password get the same answer after the
/// same work. Failures are throttled per account and client, and per client.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    client: &str,
) -> AppResult<LoggedIn> {
    let keys = [
        ThrottleKey::account_and_client(email, client),
        ThrottleKey::client(client),
    ];
    throttle::check(&state.db, &keys).await?;

    let email = email.trim().to_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&state.db)
        .await?
        .filter(|u| u.active);
    let stored = found.as_ref().and_then(|u| u.password_hash.clone());
    let valid = state.passwords.verify(password, stored).await?;
    let Some(user) = found.filter(|_| valid) else {
        throttle::record_failure(&state.db_write, &keys).await?;
        audit::record(
            &state.db_write,
            audit::ACTOR_ANONYMOUS,
            "auth.login_failed",
            None,
            json!({"reason": "bad_credentials"}),
        )
        .await?;
        return Err(AppError::Unauthenticated);
    };
    throttle::clear(&state.db_write, &keys[..1]).await?;

    let new = tokens::generate(tokens::SESSION_PREFIX);
    let now = db::now();
    let expires_at = now + time::Duration::hours(i64::from(state.config.session_hours));
    let txn = db::begin_write(&state.db_write).await?;
    session::ActiveModel {
        id: Set(db::new_id()),
        token_hash: Set(new.hash),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &format!("user:{}", user.id),
        "auth.login",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;

    let me = me_of_user(state, user).await?;
    Ok(LoggedIn {
        token: new.token,
        expires_at,
        me,
    })
}

pub async fn logout(state: &AppState, principal: &Principal) -> AppResult<()> {
    let Some(session_id) = principal.session_id else {
        return Err(AppError::Forbidden("only a session can log out".into()));
    };
    let txn = db::begin_write(&state.db_write).await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(db::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "auth.logout",
        audit::target("user", principal.id),
        json!({}),
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(())
}

/// Sets a user's password with a single-use activation token. Existing sessions are revoked.
#[tracing::instrument(skip_all)]
pub async fn activate(state: &AppState, token: &str, password: String) -> AppResult<()> {
    passwords::check_new_password(&password).map_err(|m| AppError::validation("password", m))?;
    if !tokens::looks_like(token, tokens::ACTIVATION_PREFIX) {
        return Err(AppError::Unauthenticated);
    }
    let hash = tokens::hash(token);
    let now = db::now();
    let usable = |t: &activation_token::Model| t.used_at.is_none() && t.expires_at > now;
    let Some(found) = activation_token::Entity::find()
        .filter(activation_token::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
        .filter(usable)
    else {
        return Err(AppError::Unauthenticated);
    };
    // Hash before taking the write lock: Argon2 takes tens of milliseconds.
    let password_hash = state.passwords.hash(password).await?;

    let txn = db::begin_write(&state.db_write).await?;
    // Claim the token: exactly one of two concurrent uses wins.
    let claimed = activation_token::Entity::update_many()
        .col_expr(activation_token::Column::UsedAt, Expr::value(now))
        .filter(activation_token::Column::Id.eq(found.id))
        .filter(activation_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let user = user::Entity::find_by_id(found.user_id).one(&txn).await?;
    let Some(user) = user.filter(|u| u.active && claimed.rows_affected == 1) else {
        return Err(AppError::Unauthenticated);
    };
    let first_time = user.activated_at.is_none();
    let mut row = user.into_active_model();
    row.password_hash = Set(Some(password_hash));
    if first_time {
        row.activated_at = Set(Some(now));
    }
    let user = row.update(&txn).await?;
    super::revoke_sessions(&txn, user.id).await?;
    let action = if first_time {
        "user.activated"
    } else {
        "user.password_reset"
    };
    audit::record(
        &txn,
        &format!("user:{}", user.id),
        action,
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(())
}

/// The caller's own profile. An API key needs no database read.
pub async fn me(state: &AppState, principal: &Principal) -> AppResult<Me> {
    if principal.kind == PrincipalKind::ApiKey {
        return Ok(Me {
            kind: PrincipalKind::ApiKey,
            id: principal.id,
            role: principal.role,
            organisation_id: principal.organisation_id,
            email: None,
            name: None,
            checker: None,
        });
    }
    let user = user::Entity::find_by_id(principal.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    me_of_user(state, user).await
}

async fn me_of_user(state: &AppState, user: user::Model) -> AppResult<Me> {
    let role = crate::domain::Role::parse(&user.role)
        .ok_or_else(|| anyhow::anyhow!("user {} has an unknown role", user.id))?;
    let checker = if role == crate::domain::Role::Checker {
        checkers::view(&state.db, user.clone()).await?
    } else {
        None
    };
    Ok(Me {
        kind: PrincipalKind::User,
        id: user.id,
        role,
        organisation_id: user.organisation_id,
        email: Some(user.email),
        name: Some(user.name),
        checker,
    })
}
