//! Second factors: TOTP (RFC 6238: 30 s, 6 digits, one step of drift), ten single-use
//! recovery codes, and the rules around them: a time step is accepted once per account (the
//! last one is stored in the transaction that accepts it), wrong codes are throttled like
//! passwords, and every enrolment, removal and use of a recovery code is audited and e-mailed
//! to the user. Passkeys are in [`super::passkeys`].
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    audit,
    auth::{
        Principal,
        cache::commit_principal_change,
        throttle::{self, ThrottleKey},
    },
    db,
    error::{AppError, AppResult},
    mail::{self, OutgoingMail},
    services::AppState,
};
use entity::{passkey, recovery_code, session, totp_factor, user};

/// How long a second factor counts as fresh for step-up.
pub const STEP_UP_WINDOW: time::Duration = time::Duration::minutes(15);
const RECOVERY_CODES: usize = 10;
/// 24 characters of 32 (5 bits each): 120 bits a code. No `0`, `1`, `l` or `o` to misread.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const RECOVERY_LEN: usize = 24;
/// Second factors failed in a row after a right password before the user is told.
const FAILURES_TO_NOTIFY: i32 = 3;

/// A factor a sign-in or step-up used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Totp,
    RecoveryCode,
    Passkey,
}

impl Factor {
    /// As a session records its sign-in: `password+totp`.
    pub fn session_factors(self) -> &'static str {
        match self {
            Factor::Totp => "password+totp",
            Factor::RecoveryCode => "password+recovery_code",
            Factor::Passkey => "password+passkey",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
            Factor::Passkey => "passkey",
        }
    }
}

/// What a typed code is, by its shape alone.
#[derive(Debug, PartialEq, Eq)]
pub enum Code {
    Totp(String),
    Recovery(String),
}

/// Reads a code as typed (spaces and hyphens are ignored, case too): six digits are a TOTP
/// code, 24 letters and digits a recovery code; anything else is refused for its shape.
/// `schemas::second_factor_code` states the same rule.
pub fn parse_code(text: &str) -> Result<Code, String> {
    let compact: String = text
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Code::Totp(compact));
    }
    if compact.len() == RECOVERY_LEN && compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        return Ok(Code::Recovery(compact));
    }
    Err("must be the 6 digits from your authenticator app, or one of your recovery codes".into())
}

/// The account's second factors, as `/v1/me` shows them.
pub struct FactorStatus {
    pub totp: bool,
    pub passkeys: u64,
    pub recovery_codes_left: u64,
}

impl FactorStatus {
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// One query for the three, as `GET /v1/me` asks for them on every call.
pub async fn status(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<FactorStatus> {
    let count_of = |mut select: SelectStatement| {
        Expr::SubQuery(
            None,
            Box::new(select.expr(Expr::cust("COUNT(*)")).to_owned().into()),
        )
    };
    let query = Query::select()
        .expr_as(
            count_of(
                Query::select()
                    .from(totp_factor::Entity)
                    .and_where(Expr::col(totp_factor::Column::UserId).eq(user_id))
                    .and_where(Expr::col(totp_factor::Column::ConfirmedAt).is_not_null())
                    .to_owned(),
            ),
            "totp",
        )
        .expr_as(
            count_of(
                Query::select()
                    .from(passkey::Entity)
                    .and_where(Expr::col(passkey::Column::UserId).eq(user_id))
                    .to_owned(),
            ),
            "passkeys",
        )
        .expr_as(
            count_of(
                Query::select()
                    .from(recovery_code::Entity)
                    .and_where(Expr::col(recovery_code::Column::UserId).eq(user_id))
                    .and_where(Expr::col(recovery_code::Column::UsedAt).is_null())
                    .to_owned(),
            ),
            "recovery_codes_left",
        )
        .to_owned();
    let row = conn
        .query_one(&query)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a SELECT without FROM returned no row"))?;
    let count = |column: &str| -> AppResult<u64> {
        let n: i64 = row.try_get("", column)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(FactorStatus {
        totp: count("totp")? > 0,
        passkeys: count("passkeys")?,
        recovery_codes_left: count("recovery_codes_left")?,
    })
}

fn totp(secret: Vec<u8>, account: &str) -> AppResult<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some("safescreen"))
        .with_account_name(account.replace(':', ""))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP parameters: {e:?}").into())
}

fn unix_now() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}

/// A TOTP enrolment waiting for its first code.
pub struct TotpEnrolment {
    /// Base32, for typing into an app by hand.
    pub secret: String,
    /// `otpauth://totp/…`, for the QR code.
    pub otpauth_uri: String,
}

/// Starts (or restarts) TOTP enrolment: a fresh secret, stored unconfirmed. An account that
/// already has a confirmed TOTP must remove it first (409).
pub async fn start_totp(state: &AppState, principal: &Principal) -> AppResult<TotpEnrolment> {
    let user = user_of(state, principal).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let existing = totp_factor::Entity::find_by_id(user.id).one(&txn).await?;
    if existing.as_ref().is_some_and(|t| t.confirmed_at.is_some()) {
        return Err(AppError::Conflict(
            "TOTP is already set up; remove it first to set up another".into(),
        ));
    }
    let secret: [u8; 20] = rand::random();
    let enrolment = totp(secret.to_vec(), &user.email)?;
    let row = totp_factor::ActiveModel {
        user_id: Set(user.id),
        secret_sealed: Set(state.data_key.seal(user.id, &secret)),
        created_at: Set(db::now()),
        confirmed_at: Set(None),
        last_step: Set(0),
    };
    if existing.is_some() {
        row.update(&txn).await?;
    } else {
        row.insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(TotpEnrolment {
        secret: totp_rs::Secret::from(secret.to_vec()).to_base32(),
        otpauth_uri: enrolment
            .to_url()
            .map_err(|e| anyhow::anyhow!("otpauth URI: {e:?}"))?,
    })
}

/// The TOTP set-up waiting for its first code, if there is one (to show its QR code again).
pub async fn pending_totp(
    state: &AppState,
    principal: &Principal,
) -> AppResult<Option<TotpEnrolment>> {
    let user = user_of(state, principal).await?;
    let Some(pending) = totp_factor::Entity::find_by_id(user.id)
        .one(&state.db)
        .await?
        .filter(|t| t.confirmed_at.is_none())
    else {
        return Ok(None);
    };
    let secret = state
        .data_key
        .open(user.id, &pending.secret_sealed)
        .await
        .map_err(|e| anyhow::anyhow!("TOTP secret of user {}: {e}", user.id))?;
    Ok(Some(TotpEnrolment {
        secret: totp_rs::Secret::from(secret.clone()).to_base32(),
        otpauth_uri: totp(secret, &user.email)?
            .to_url()
            .map_err(|e| anyhow::anyhow!("otpauth URI: {e:?}"))?,
    }))
}

/// Confirms TOTP enrolment with a first code: the factor is stored, ten recovery codes are
/// made (returned once), and the current session counts as signed in with it.
pub async fn confirm_totp(
    state: &AppState,
    principal: &Principal,
    code: &str,
) -> AppResult<Vec<String>> {
    let user = user_of(state, principal).await?;
    let Code::Totp(code) = parse_code(code).map_err(|m| AppError::validation("code", m))? else {
        return Err(AppError::validation(
            "code",
            "must be the 6 digits your authenticator app shows now",
        ));
    };
    let keys = [ThrottleKey::second_factor(user.id)];
    throttle::check(&state.db, &keys).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let Some(pending) = totp_factor::Entity::find_by_id(user.id)
        .one(&txn)
        .await?
        .filter(|t| t.confirmed_at.is_none())
    else {
        return Err(AppError::Conflict(
            "there is no TOTP set-up to confirm; start again".into(),
        ));
    };
    let secret = state
        .data_key
        .open(user.id, &pending.secret_sealed)
        .await
        .map_err(|e| anyhow::anyhow!("TOTP secret of user {}: {e}", user.id))?;
    let Some(step) = totp(secret, &user.email)?.check(&code, unix_now()) else {
        txn.rollback().await?;
        throttle::record_failure(&state.db_write, &keys).await?;
        return Err(AppError::validation(
            "code",
            "is not the code your app shows now; check the app's clock and try the next code",
        ));
    };
    let now = db::now();
    let mut row = pending.into_active_model();
    row.confirmed_at = Set(Some(now));
    row.last_step = Set(step as i64);
    row.update(&txn).await?;
    let codes = replace_recovery_codes_in(&txn, user.id).await?;
    if let Some(session_id) = principal.session_id {
        upgrade_session(&txn, session_id, Factor::Totp).await?;
    }
    audit::record(
        &txn,
        &principal.actor(),
        "mfa.totp_enrolled",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    notify(
        state,
        &txn,
        &user,
        "factor_added",
        "A second factor was added to your safescreen account",
        "An authenticator app (TOTP) was set up as a second factor for your account. If this \
         was not you, contact your safescreen administrator at once.",
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    throttle::clear(&state.db_write, &keys).await?;
    Ok(codes)
}

/// Removes TOTP (needs step-up); its recovery codes go with it unless a passkey remains.
pub async fn remove_totp(state: &AppState, principal: &Principal) -> AppResult<()> {
    require_recent_factor(state, principal)?;
    let user = user_of(state, principal).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let removed = totp_factor::Entity::delete_by_id(user.id)
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound);
    }
    let passkeys = passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user.id))
        .count(&txn)
        .await?;
    if passkeys == 0 {
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user.id))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        &principal.actor(),
        "mfa.totp_removed",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    notify(
        state,
        &txn,
        &user,
        "factor_removed",
        "A second factor was removed from your safescreen account",
        "The authenticator app (TOTP) was removed as a second factor of your account. If this \
         was not you, contact your safescreen administrator at once.",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ten new recovery codes (needs step-up); the old ones stop working.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    principal: &Principal,
) -> AppResult<Vec<String>> {
    require_recent_factor(state, principal)?;
    let user = user_of(state, principal).await?;
    if !status(&state.db, user.id).await?.any() {
        return Err(AppError::Conflict(
            "recovery codes come with a second factor; set one up first".into(),
        ));
    }
    let txn = db::begin_write(&state.db_write).await?;
    let codes = replace_recovery_codes_in(&txn, user.id).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "mfa.recovery_codes_regenerated",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

pub(crate) async fn replace_recovery_codes_in(
    txn: &DatabaseTransaction,
    user_id: Uuid,
) -> AppResult<Vec<String>> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let now = db::now();
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code: String = (0..RECOVERY_LEN)
            .map(|_| RECOVERY_ALPHABET[rand::random_range(0..RECOVERY_ALPHABET.len())] as char)
            .collect();
        rows.push(recovery_code::ActiveModel {
            id: Set(db::new_id()),
            user_id: Set(user_id),
            code_hash: Set(code_hash(&code)),
            created_at: Set(now),
            used_at: Set(None),
        });
        shown.push(grouped(&code));
    }
    recovery_code::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(shown)
}

/// `abcdefghijkm…` → `abcd-efgh-ijkm-…`, easier to copy by hand.
fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn code_hash(compact: &str) -> String {
    hex::encode(Sha256::digest(compact.as_bytes()))
}

/// Checks a TOTP or recovery code of the user and, if right, uses it up in `txn` (the TOTP
/// step is recorded, the recovery code marked used): of two transactions with the same code,
/// one wins. `Ok(None)` for a wrong, reused or unknown code.
pub async fn use_code(
    state: &AppState,
    txn: &DatabaseTransaction,
    user: &user::Model,
    code: &Code,
) -> AppResult<Option<Factor>> {
    match code {
        Code::Totp(code) => {
            let Some(factor) = totp_factor::Entity::find_by_id(user.id)
                .one(txn)
                .await?
                .filter(|t| t.confirmed_at.is_some())
            else {
                return Ok(None);
            };
            let secret = state
                .data_key
                .open(user.id, &factor.secret_sealed)
                .await
                .map_err(|e| anyhow::anyhow!("TOTP secret of user {}: {e}", user.id))?;
            let Some(step) = totp(secret, &user.email)?.check(code, unix_now()) else {
                return Ok(None);
            };
            // Compare-and-set: a step at or before the last accepted one is a reuse.
            let claimed = totp_factor::Entity::update_many()
                .col_expr(totp_factor::Column::LastStep, Expr::value(step as i64))
                .filter(totp_factor::Column::UserId.eq(user.id))
                .filter(totp_factor::Column::LastStep.lt(step as i64))
                .exec(txn)
                .await?;
            Ok((claimed.rows_affected == 1).then_some(Factor::Totp))
        }
        Code::Recovery(code) => {
            let claimed = recovery_code::Entity::update_many()
                .col_expr(recovery_code::Column::UsedAt, Expr::value(db::now()))
                .filter(recovery_code::Column::UserId.eq(user.id))
                .filter(recovery_code::Column::CodeHash.eq(code_hash(code)))
                .filter(recovery_code::Column::UsedAt.is_null())
                .exec(txn)
                .await?;
            if claimed.rows_affected != 1 {
                return Ok(None);
            }
            let left = recovery_code::Entity::find()
                .filter(recovery_code::Column::UserId.eq(user.id))
                .filter(recovery_code::Column::UsedAt.is_null())
                .count(txn)
                .await?;
            audit::record(
                txn,
                &format!("user:{}", user.id),
                "mfa.recovery_code_used",
                audit::target("user", user.id),
                json!({"left": left}),
            )
            .await?;
            notify(
                state,
                txn,
                user,
                "recovery_code_used",
                "A recovery code of your safescreen account was used",
                &format!(
                    "One of your recovery codes was just used to sign in or confirm an action; \
                     {left} are left. If this was not you, contact your safescreen \
                     administrator at once."
                ),
            )
            .await?;
            Ok(Some(Factor::RecoveryCode))
        }
    }
}

/// After a right password and a wrong second factor: counted, throttled, audited, and at the
/// third in a row the user is told by e-mail.
pub async fn record_failed_factor(state: &AppState, user: &user::Model) -> AppResult<()> {
    throttle::record_failure(&state.db_write, &[ThrottleKey::second_factor(user.id)]).await?;
    let txn = db::begin_write(&state.db_write).await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::SecondFactorFailures,
            Expr::col(user::Column::SecondFactorFailures).add(1),
        )
        .filter(user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    let failures = user::Entity::find_by_id(user.id)
        .one(&txn)
        .await?
        .map_or(0, |u| u.second_factor_failures);
    audit::record(
        &txn,
        &format!("user:{}", user.id),
        "auth.second_factor_failed",
        audit::target("user", user.id),
        json!({"in_a_row": failures}),
    )
    .await?;
    if failures == FAILURES_TO_NOTIFY {
        notify(
            state,
            &txn,
            user,
            "second_factor_failed",
            "Someone has your safescreen password",
            "Your password was entered correctly three times in a row, but the second factor \
             was wrong each time. If this was not you, change your password now and tell your \
             safescreen administrator.",
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Checks the throttle on second factors of this account (429 while blocked).
pub async fn check_throttle(state: &AppState, user_id: Uuid) -> AppResult<()> {
    throttle::check(&state.db, &[ThrottleKey::second_factor(user_id)]).await
}

/// A right second factor: the failure count starts over.
pub async fn clear_failures(txn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::SecondFactorFailures, Expr::value(0))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::SecondFactorFailures.ne(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// The current session now counts as signed in with `factor`, entered just now.
pub async fn upgrade_session(
    txn: &impl ConnectionTrait,
    session_id: Uuid,
    factor: Factor,
) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(
            session::Column::Factors,
            Expr::value(factor.session_factors()),
        )
        .col_expr(session::Column::FactorVerifiedAt, Expr::value(db::now()))
        .filter(session::Column::Id.eq(session_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Step-up: the action needs a second factor entered in the last 15 minutes. A session that
/// signed in with the password alone, where no factor is required, has none to give and
/// passes (`SAFESCREEN_MFA=optional`, no factor enrolled).
pub fn require_recent_factor(state: &AppState, principal: &Principal) -> AppResult<()> {
    if principal.kind != crate::auth::PrincipalKind::User {
        return Ok(());
    }
    if !principal.with_factor && !state.config.mfa.requires(principal.role) {
        return Ok(());
    }
    let fresh = principal
        .factor_verified_at
        .is_some_and(|at| db::now() - at <= STEP_UP_WINDOW);
    if fresh {
        Ok(())
    } else {
        Err(AppError::StepUpRequired)
    }
}

/// `POST /v1/auth/step-up`: a code makes the session freshly verified.
pub async fn step_up(state: &AppState, principal: &Principal, code: &str) -> AppResult<()> {
    let Some(session_id) = principal.session_id else {
        return Err(AppError::Forbidden(
            "only a signed-in user can confirm it is them".into(),
        ));
    };
    let code = parse_code(code).map_err(|m| AppError::validation("code", m))?;
    let user = user_of(state, principal).await?;
    check_throttle(state, user.id).await?;
    let txn = db::begin_write(&state.db_write).await?;
    match use_code(state, &txn, &user, &code).await? {
        Some(factor) => {
            upgrade_session(&txn, session_id, factor).await?;
            clear_failures(&txn, user.id).await?;
            audit::record(
                &txn,
                &principal.actor(),
                "auth.step_up",
                audit::target("user", user.id),
                json!({"factor": factor.as_str()}),
            )
            .await?;
            commit_principal_change(&state.principals, txn).await?;
            Ok(())
        }
        None => {
            txn.rollback().await?;
            record_failed_factor(state, &user).await?;
            Err(AppError::Unauthenticated)
        }
    }
}

async fn user_of(state: &AppState, principal: &Principal) -> AppResult<user::Model> {
    if principal.kind != crate::auth::PrincipalKind::User {
        return Err(AppError::Forbidden(
            "second factors belong to users, not API keys".into(),
        ));
    }
    user::Entity::find_by_id(principal.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// E-mails the user about their account's security (queued in `txn`).
pub async fn notify(
    state: &AppState,
    txn: &impl ConnectionTrait,
    user: &user::Model,
    kind: &str,
    subject: &str,
    text: &str,
) -> AppResult<()> {
    mail::enqueue(
        txn,
        &state.data_key,
        None,
        kind,
        &OutgoingMail {
            to: user.email.clone(),
            subject: subject.to_owned(),
            body: format!("Dear {},\n\n{text}\n\n— safescreen\n", user.name),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_by_their_shape() {
        assert_eq!(parse_code(" 123 456 "), Ok(Code::Totp("123456".into())));
        let recovery = "abcd-efgh-ijkm-npqr-stuv-wxyz";
        assert_eq!(
            parse_code(&recovery.to_uppercase()),
            Ok(Code::Recovery("abcdefghijkmnpqrstuvwxyz".into()))
        );
        for wrong in [
            "",
            "12345",
            "1234567",
            "12345a",
            "abcd-efgh-ijkm-npqr-stuv-wxy0",
            "x",
        ] {
            assert!(parse_code(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn recovery_codes_carry_at_least_112_bits() {
        let bits = RECOVERY_LEN as f64 * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 112.0, "{bits}");
        let mut alphabet = RECOVERY_ALPHABET.to_vec();
        alphabet.sort();
        alphabet.dedup();
        assert_eq!(alphabet.len(), 32, "distinct characters");
        assert_eq!(grouped("abcdefghijkm"), "abcd-efgh-ijkm");
    }
}
