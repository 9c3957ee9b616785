//! Passkeys (WebAuthn, by webauthn-rs): registered from `/account`, accepted as the second
//! factor of a browser sign-in. Each ceremony's state lives in the database between its two
//! halves, sealed, tied to the session or pending sign-in that began it, and used once, so any
//! process can finish it and no one else can.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};

use crate::{
    audit,
    auth::{Principal, cache::commit_principal_change},
    db,
    error::{AppError, AppResult},
    services::{AppState, accounts, factors, factors::Factor, sessions::NewSession},
};
use entity::{passkey, pending_login, user, webauthn_ceremony};

const CEREMONY_TTL: time::Duration = time::Duration::minutes(5);
const REGISTER: &str = "register";
const AUTHENTICATE: &str = "authenticate";

/// The relying party: the public URL's host and origin. `None` when the host cannot be one (an
/// IP address: browsers refuse those as WebAuthn relying parties).
pub fn relying_party(public_url: &str) -> Option<Webauthn> {
    let origin = Url::parse(public_url).ok()?;
    let host = origin.domain()?.to_owned();
    WebauthnBuilder::new(&host, &origin)
        .ok()?
        .rp_name("safescreen")
        .build()
        .ok()
}

fn webauthn(state: &AppState) -> AppResult<&Webauthn> {
    state.webauthn.as_deref().ok_or_else(|| {
        AppError::Conflict(
            "passkeys need the service on a host name (SAFESCREEN_PUBLIC_URL), not an IP address"
                .into(),
        )
    })
}

/// A registered passkey, as `/account` lists it.
pub struct PasskeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: time::PrimitiveDateTime,
    pub last_used_at: Option<time::PrimitiveDateTime>,
}

pub async fn list(state: &AppState, principal: &Principal) -> AppResult<Vec<PasskeyInfo>> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(principal.id))
        .order_by_asc(passkey::Column::CreatedAt)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

async fn stored_passkeys(
    state: &AppState,
    user_id: Uuid,
) -> AppResult<Vec<(passkey::Model, Passkey)>> {
    let rows = passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .all(&state.db)
        .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let key: Passkey = state
            .data_key
            .open_json(row.id, &row.passkey_sealed)
            .await
            .map_err(|e| anyhow::anyhow!("passkey {}: {e}", row.id))?;
        keys.push((row, key));
    }
    Ok(keys)
}

/// Stores a ceremony's state; answers its id.
async fn keep_ceremony(
    state: &AppState,
    kind: &str,
    user_id: Uuid,
    owner_id: Uuid,
    ceremony_state: &impl serde::Serialize,
) -> AppResult<Uuid> {
    let id = db::new_id();
    webauthn_ceremony::ActiveModel {
        id: Set(id),
        kind: Set(kind.to_owned()),
        user_id: Set(user_id),
        owner_id: Set(owner_id),
        state_sealed: Set(state.data_key.seal_json(id, ceremony_state)),
        expires_at: Set(db::now() + CEREMONY_TTL),
    }
    .insert(&state.db_write)
    .await?;
    Ok(id)
}

/// Takes a ceremony's state, once: only its owner, only before it expires.
async fn take_ceremony<T: serde::de::DeserializeOwned>(
    state: &AppState,
    id: Uuid,
    kind: &str,
    owner_id: Uuid,
) -> AppResult<(Uuid, T)> {
    let found = webauthn_ceremony::Entity::find_by_id(id)
        .filter(webauthn_ceremony::Column::Kind.eq(kind))
        .filter(webauthn_ceremony::Column::OwnerId.eq(owner_id))
        .filter(webauthn_ceremony::Column::ExpiresAt.gt(db::now()))
        .one(&state.db)
        .await?;
    let refused = || {
        AppError::validation(
            "credential",
            "this passkey answer does not belong to a ceremony under way; start again",
        )
    };
    let Some(row) = found else {
        return Err(refused());
    };
    // Used once: of two finishes of one ceremony, one gets its state.
    let taken = webauthn_ceremony::Entity::delete_many()
        .filter(webauthn_ceremony::Column::Id.eq(id))
        .exec(&state.db_write)
        .await?;
    if taken.rows_affected != 1 {
        return Err(refused());
    }
    let ceremony_state = state
        .data_key
        .open_json(row.id, &row.state_sealed)
        .await
        .map_err(|e| anyhow::anyhow!("ceremony {id}: {e}"))?;
    Ok((row.user_id, ceremony_state))
}

fn credential_id(key: &Passkey) -> String {
    let bytes: &[u8] = key.cred_id().as_ref();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The first half of registering a passkey: the options for `navigator.credentials.create`,
/// and the ceremony's id.
pub async fn start_registration(state: &AppState, principal: &Principal) -> AppResult<Value> {
    let webauthn = webauthn(state)?;
    let session_id = principal.session_id.ok_or(AppError::Unauthenticated)?;
    let user = user::Entity::find_by_id(principal.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let existing: Vec<_> = stored_passkeys(state, user.id)
        .await?
        .into_iter()
        .map(|(_, key)| key.cred_id().clone())
        .collect();
    let (options, registration) = webauthn
        .start_passkey_registration(user.id, &user.email, &user.name, Some(existing))
        .map_err(|e| anyhow::anyhow!("passkey registration: {e}"))?;
    let ceremony = keep_ceremony(state, REGISTER, user.id, session_id, &registration).await?;
    Ok(json!({"ceremony": ceremony, "options": options}))
}

/// The second half: the authenticator's answer checked and the passkey stored. The first
/// factor of an account comes with its recovery codes (returned, shown once).
pub async fn finish_registration(
    state: &AppState,
    principal: &Principal,
    ceremony: Uuid,
    name: &str,
    credential: &RegisterPublicKeyCredential,
) -> AppResult<Option<Vec<String>>> {
    let webauthn = webauthn(state)?;
    let session_id = principal.session_id.ok_or(AppError::Unauthenticated)?;
    let name =
        crate::domain::text::required(name, 100).map_err(|m| AppError::validation("name", m))?;
    let (user_id, registration): (Uuid, PasskeyRegistration) =
        take_ceremony(state, ceremony, REGISTER, session_id).await?;
    if user_id != principal.id {
        return Err(AppError::validation(
            "credential",
            "this passkey answer is not yours",
        ));
    }
    let key = webauthn
        .finish_passkey_registration(credential, &registration)
        .map_err(|e| {
            AppError::validation("credential", format!("the passkey was not accepted ({e})"))
        })?;
    let user = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let first_factor = !factors::status(&state.db, user.id).await?.any();
    let txn = db::begin_write(&state.db_write).await?;
    let id = db::new_id();
    passkey::ActiveModel {
        id: Set(id),
        user_id: Set(user.id),
        name: Set(name),
        credential_id: Set(credential_id(&key)),
        passkey_sealed: Set(state.data_key.seal_json(id, &key)),
        created_at: Set(db::now()),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(crate::error::conflict_on_unique(
        "this passkey is registered already",
    ))?;
    let codes = if first_factor {
        Some(factors::replace_recovery_codes_in(&txn, user.id).await?)
    } else {
        None
    };
    factors::upgrade_session(&txn, session_id, Factor::Passkey).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "mfa.passkey_registered",
        audit::target("passkey", id),
        json!({}),
    )
    .await?;
    factors::notify(
        state,
        &txn,
        &user,
        "factor_added",
        "A passkey was added to your safescreen account",
        "A passkey was registered as a second factor for your account. If this was not you, \
         contact your safescreen administrator at once.",
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(codes)
}

/// Removes one of the user's passkeys (needs step-up).
pub async fn remove(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<()> {
    factors::require_recent_factor(state, principal)?;
    let user = user::Entity::find_by_id(principal.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let txn = db::begin_write(&state.db_write).await?;
    let removed = passkey::Entity::delete_many()
        .filter(passkey::Column::Id.eq(id))
        .filter(passkey::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &txn,
        &principal.actor(),
        "mfa.passkey_removed",
        audit::target("passkey", id),
        json!({}),
    )
    .await?;
    factors::notify(
        state,
        &txn,
        &user,
        "factor_removed",
        "A passkey was removed from your safescreen account",
        "A passkey was removed from the second factors of your account. If this was not you, \
         contact your safescreen administrator at once.",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The first half of signing in with a passkey, for a pending browser sign-in.
pub async fn start_sign_in(state: &AppState, pending_token: &str) -> AppResult<Value> {
    let webauthn = webauthn(state)?;
    let Some((pending, user)) = accounts::pending_sign_in(state, pending_token).await? else {
        return Err(AppError::Unauthenticated);
    };
    let keys: Vec<Passkey> = stored_passkeys(state, user.id)
        .await?
        .into_iter()
        .map(|(_, key)| key)
        .collect();
    if keys.is_empty() {
        return Err(AppError::Conflict("this account has no passkey".into()));
    }
    let (options, authentication) = webauthn
        .start_passkey_authentication(&keys)
        .map_err(|e| anyhow::anyhow!("passkey authentication: {e}"))?;
    let ceremony = keep_ceremony(state, AUTHENTICATE, user.id, pending.id, &authentication).await?;
    Ok(json!({"ceremony": ceremony, "options": options}))
}

/// The second half: the answer checked against the ceremony's challenge and the user's
/// passkeys (its signature counter too), and the browser signed in.
pub async fn finish_sign_in(
    state: &AppState,
    pending_token: &str,
    ceremony: Uuid,
    credential: &PublicKeyCredential,
) -> AppResult<NewSession> {
    let webauthn = webauthn(state)?;
    let Some((pending, user)) = accounts::pending_sign_in(state, pending_token).await? else {
        return Err(AppError::Unauthenticated);
    };
    factors::check_throttle(state, user.id).await?;
    let (user_id, authentication): (Uuid, PasskeyAuthentication) =
        take_ceremony(state, ceremony, AUTHENTICATE, pending.id).await?;
    if user_id != user.id {
        return Err(AppError::Unauthenticated);
    }
    let result = match webauthn.finish_passkey_authentication(credential, &authentication) {
        Ok(result) => result,
        Err(e) => {
            factors::record_failed_factor(state, &user).await?;
            return Err(AppError::validation(
                "credential",
                format!("the passkey was not accepted ({e})"),
            ));
        }
    };
    let used_bytes: &[u8] = result.cred_id().as_ref();
    let used = URL_SAFE_NO_PAD.encode(used_bytes);
    let mut keys = stored_passkeys(state, user.id).await?;
    let Some((row, key)) = keys.iter_mut().find(|(row, _)| row.credential_id == used) else {
        return Err(AppError::Unauthenticated);
    };
    let txn = db::begin_write(&state.db_write).await?;
    key.update_credential(&result);
    passkey::Entity::update_many()
        .col_expr(
            passkey::Column::PasskeySealed,
            Expr::value(state.data_key.seal_json(row.id, &*key)),
        )
        .col_expr(passkey::Column::LastUsedAt, Expr::value(db::now()))
        .filter(passkey::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let new = accounts::finish_pending(state, &txn, &pending, &user, Factor::Passkey).await?;
    txn.commit().await?;
    Ok(new)
}

/// How many passkeys a user has (for the sign-in page).
pub async fn count(state: &AppState, user_id: Uuid) -> AppResult<u64> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .count(&state.db)
        .await?)
}

/// Pending sign-ins that were never finished, and ceremonies never completed, are removed
/// once expired (by the retention worker).
pub async fn purge_expired(state: &AppState) -> AppResult<u64> {
    let now = db::now();
    let ceremonies = webauthn_ceremony::Entity::delete_many()
        .filter(webauthn_ceremony::Column::ExpiresAt.lte(now))
        .exec(&state.db_write)
        .await?;
    let pending = pending_login::Entity::delete_many()
        .filter(pending_login::Column::ExpiresAt.lte(now))
        .exec(&state.db_write)
        .await?;
    Ok(ceremonies.rows_affected + pending.rows_affected)
}
