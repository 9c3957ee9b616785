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
        Principal, PrincipalKind,
        authenticate::{PASSWORD_ONLY, Presented},
        passwords,
        throttle::{self, ThrottleKey},
        tokens,
    },
    db,
    domain::Email,
    error::{AppError, AppResult},
    services::AppState,
    services::{
        checkers::{self, CheckerView},
        factors, sessions,
    },
};
use entity::{activation_token, password_reset, pending_login, session, user};

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
    /// A user's second factors.
    pub mfa: Option<factors::FactorStatus>,
}

/// Checks e-mail and password; unknown e-mail and wrong password get the same answer after the
/// same work. Failures are throttled per account and client, and per client.
async fn check_password(
    state: &AppState,
    email: &str,
    password: String,
    client: &str,
) -> AppResult<user::Model> {
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
    Ok(user)
}

/// Records a sign-in, with the factors it used.
async fn audit_sign_in(
    txn: &impl sea_orm::ConnectionTrait,
    user: &user::Model,
    factors: &str,
    kind: &str,
) -> AppResult<()> {
    audit::record(
        txn,
        &format!("user:{}", user.id),
        "auth.login",
        audit::target("user", user.id),
        json!({"factors": factors, "session": kind}),
    )
    .await?;
    Ok(())
}

/// `POST /v1/auth/login`: the password, and for an account with a second factor its `code`
/// (TOTP or recovery code) in the same request.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    code: Option<&str>,
    client: &str,
    user_agent: Option<&str>,
) -> AppResult<LoggedIn> {
    // A code of the wrong shape is refused before anything is checked or counted.
    let code = code
        .map(factors::parse_code)
        .transpose()
        .map_err(|m| AppError::validation("code", m))?;
    let user = check_password(state, email, password, client).await?;
    let has_factor = factors::status(&state.db, user.id).await?.any();
    let txn = db::begin_write(&state.db_write).await?;
    let (factors_used, with_factor) = if has_factor {
        let Some(code) = &code else {
            txn.rollback().await?;
            return Err(AppError::MfaRequired);
        };
        factors::check_throttle(state, user.id).await?;
        match factors::use_code(state, &txn, &user, code).await? {
            Some(factor) => {
                factors::clear_failures(&txn, user.id).await?;
                (factor.session_factors(), true)
            }
            None => {
                txn.rollback().await?;
                factors::record_failed_factor(state, &user).await?;
                return Err(AppError::Unauthenticated);
            }
        }
    } else {
        (PASSWORD_ONLY, false)
    };
    let new = sessions::create(
        state,
        &txn,
        &user,
        Presented::Bearer,
        factors_used,
        with_factor,
        user_agent,
    )
    .await?;
    audit_sign_in(&txn, &user, factors_used, "api").await?;
    txn.commit().await?;

    let me = me_of_user(state, user).await?;
    Ok(LoggedIn {
        token: new.token,
        expires_at: new.expires_at,
        me,
    })
}

/// What a browser's password step leads to.
pub enum BrowserSignIn {
    /// Signed in (with the password alone: the account has no second factor).
    SignedIn(sessions::NewSession),
    /// The account has a second factor: `/login/verify` asks for it. The token goes in the
    /// pending sign-in's cookie.
    SecondFactor {
        token: String,
        expires_at: time::PrimitiveDateTime,
    },
}

/// How long the second step of a browser sign-in may take.
const PENDING_LOGIN_TTL: time::Duration = time::Duration::minutes(10);

/// The password step of a browser sign-in; the pending second step is kept server-side.
#[tracing::instrument(skip_all)]
pub async fn browser_sign_in(
    state: &AppState,
    email: &str,
    password: String,
    client: &str,
    user_agent: Option<&str>,
) -> AppResult<BrowserSignIn> {
    let user = check_password(state, email, password, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    if factors::status(&txn, user.id).await?.any() {
        let new = tokens::generate(tokens::PENDING_LOGIN_PREFIX);
        let now = db::now();
        let expires_at = now + PENDING_LOGIN_TTL;
        pending_login::ActiveModel {
            id: Set(db::new_id()),
            token_hash: Set(new.hash),
            user_id: Set(user.id),
            created_at: Set(now),
            expires_at: Set(expires_at),
            completed_at: Set(None),
            user_agent: Set(user_agent.map(|ua| ua.chars().take(200).collect())),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        return Ok(BrowserSignIn::SecondFactor {
            token: new.token,
            expires_at,
        });
    }
    let new = sessions::create(
        state,
        &txn,
        &user,
        Presented::Cookie,
        PASSWORD_ONLY,
        false,
        user_agent,
    )
    .await?;
    audit_sign_in(&txn, &user, PASSWORD_ONLY, "browser").await?;
    txn.commit().await?;
    Ok(BrowserSignIn::SignedIn(new))
}

/// A browser sign-in waiting for its second factor, by the token in its cookie.
pub async fn pending_sign_in(
    state: &AppState,
    token: &str,
) -> AppResult<Option<(pending_login::Model, user::Model)>> {
    if !tokens::looks_like(token, tokens::PENDING_LOGIN_PREFIX) {
        return Ok(None);
    }
    let now = db::now();
    let found = pending_login::Entity::find()
        .filter(pending_login::Column::TokenHash.eq(tokens::hash(token)))
        .filter(pending_login::Column::CompletedAt.is_null())
        .filter(pending_login::Column::ExpiresAt.gt(now))
        .one(&state.db)
        .await?;
    let Some(pending) = found else {
        return Ok(None);
    };
    let user = user::Entity::find_by_id(pending.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.active);
    Ok(user.map(|user| (pending, user)))
}

/// The second step of a browser sign-in with a TOTP or recovery code.
#[tracing::instrument(skip_all)]
pub async fn browser_second_factor(
    state: &AppState,
    pending_token: &str,
    code: &str,
) -> AppResult<sessions::NewSession> {
    let code = factors::parse_code(code).map_err(|m| AppError::validation("code", m))?;
    let Some((pending, user)) = pending_sign_in(state, pending_token).await? else {
        return Err(AppError::Unauthenticated);
    };
    factors::check_throttle(state, user.id).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let Some(factor) = factors::use_code(state, &txn, &user, &code).await? else {
        txn.rollback().await?;
        factors::record_failed_factor(state, &user).await?;
        return Err(AppError::validation(
            "code",
            "is not right: enter the code your app shows now, or an unused recovery code",
        ));
    };
    let new = finish_pending(state, &txn, &pending, &user, factor).await?;
    txn.commit().await?;
    Ok(new)
}

/// Completes a pending sign-in with the factor just used: its session, in `txn`.
pub async fn finish_pending(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    pending: &pending_login::Model,
    user: &user::Model,
    factor: factors::Factor,
) -> AppResult<sessions::NewSession> {
    // One session per pending sign-in, whatever races.
    let claimed = pending_login::Entity::update_many()
        .col_expr(pending_login::Column::CompletedAt, Expr::value(db::now()))
        .filter(pending_login::Column::Id.eq(pending.id))
        .filter(pending_login::Column::CompletedAt.is_null())
        .exec(txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Unauthenticated);
    }
    factors::clear_failures(txn, user.id).await?;
    let new = sessions::create(
        state,
        txn,
        user,
        Presented::Cookie,
        factor.session_factors(),
        true,
        pending.user_agent.as_deref(),
    )
    .await?;
    audit_sign_in(txn, user, factor.session_factors(), "browser").await?;
    Ok(new)
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
            mfa: None,
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
    let mfa = Some(factors::status(&state.db, user.id).await?);
    Ok(Me {
        mfa,
        kind: PrincipalKind::User,
        id: user.id,
        role,
        organisation_id: user.organisation_id,
        email: Some(user.email),
        name: Some(user.name),
        checker,
    })
}

/// How long a password reset link works.
const PASSWORD_RESET_TTL: time::Duration = time::Duration::hours(1);

/// E-mails a single-use reset link if an active account has this address; says nothing about
/// whether one does (the caller answers the same either way).
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(state: &AppState, email: &str) -> AppResult<()> {
    let email = Email::parse(email.trim()).map_err(|m| AppError::validation("email", m))?;
    let Some(user) = user::Entity::find()
        .filter(user::Column::Email.eq(email.into_string()))
        .one(&state.db)
        .await?
        .filter(|u| u.active && u.password_hash.is_some())
    else {
        return Ok(());
    };
    let new = tokens::generate(tokens::PASSWORD_RESET_PREFIX);
    let now = db::now();
    let txn = db::begin_write(&state.db_write).await?;
    password_reset::ActiveModel {
        id: Set(db::new_id()),
        token_hash: Set(new.hash),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + PASSWORD_RESET_TTL),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    factors::notify(
        state,
        &txn,
        &user,
        "password_reset",
        "Reset your safescreen password",
        &format!(
            "Someone asked to reset the password of your safescreen account. To choose a new \
             one, open this link within the hour (it works once):\n\n{}/password-reset/{}\n\n\
             Your second factor stays as it is. If you did not ask, ignore this e-mail.",
            state.config.public_url, new.token
        ),
    )
    .await?;
    audit::record(
        &txn,
        audit::ACTOR_ANONYMOUS,
        "auth.password_reset_requested",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a reset token can still be used (for the page that asks for the new password).
pub async fn password_reset_usable(state: &AppState, token: &str) -> AppResult<bool> {
    Ok(usable_reset(state, token).await?.is_some())
}

async fn usable_reset(state: &AppState, token: &str) -> AppResult<Option<password_reset::Model>> {
    if !tokens::looks_like(token, tokens::PASSWORD_RESET_PREFIX) {
        return Ok(None);
    }
    Ok(password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(tokens::hash(token)))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(db::now()))
        .one(&state.db)
        .await?)
}

/// Sets the password with a reset token, once. Every session of the account ends; its second
/// factors stay, so the next sign-in still asks for one.
#[tracing::instrument(skip_all)]
pub async fn confirm_password_reset(
    state: &AppState,
    token: &str,
    password: String,
) -> AppResult<()> {
    passwords::check_new_password(&password).map_err(|m| AppError::validation("password", m))?;
    let Some(reset) = usable_reset(state, token).await? else {
        return Err(AppError::Unauthenticated);
    };
    let password_hash = state.passwords.hash(password).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let claimed = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(db::now()))
        .filter(password_reset::Column::Id.eq(reset.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let user = user::Entity::find_by_id(reset.user_id).one(&txn).await?;
    let Some(user) = user.filter(|u| u.active && claimed.rows_affected == 1) else {
        return Err(AppError::Unauthenticated);
    };
    let mut row = user.clone().into_active_model();
    row.password_hash = Set(Some(password_hash));
    row.update(&txn).await?;
    super::revoke_sessions(&txn, user.id).await?;
    audit::record(
        &txn,
        &format!("user:{}", user.id),
        "user.password_reset",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    factors::notify(
        state,
        &txn,
        &user,
        "password_changed",
        "Your safescreen password was changed",
        "The password of your safescreen account was just reset with an e-mailed link. If \
         this was not you, contact your safescreen administrator at once.",
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(())
}
