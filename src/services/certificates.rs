//! Certificates: issued with a clearance (in the decision's transaction), fetched by the
//! organisation, verified by anyone, revoked by the admin; and the signing keys behind them,
//! kept in the database sealed under the data key so every process signs and publishes the
//! same keys.
use ed25519_dalek::{SigningKey, VerifyingKey};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    cache,
    crypto::signing::{self, Rejection},
    db,
    domain::RequestStatus,
    error::{AppError, AppResult},
    outbox,
    services::AppState,
};
use entity::{certificate, screening_request, signing_key};

pub const ACTIVE: &str = "active";
pub const REVOKED: &str = "revoked";
pub const EXPIRED: &str = "expired";
pub const INVALID: &str = "invalid";

/// Stores `signing` as the key that signs from now on; every other key is retired (they
/// still verify). Returns its kid.
async fn make_current(
    state: &AppState,
    txn: &DatabaseTransaction,
    signing: &SigningKey,
    actor: &str,
) -> AppResult<String> {
    let now = db::now();
    let kid = signing::kid_of(&signing.verifying_key());
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .filter(signing_key::Column::Sandbox.eq(false))
        .filter(signing_key::Column::RetiredAt.is_null())
        .exec(txn)
        .await?;
    let id = db::new_id();
    signing_key::Entity::insert(signing_key::ActiveModel {
        id: Set(id),
        kid: Set(kid.clone()),
        public_key: Set(signing.verifying_key().as_bytes().to_vec()),
        secret_sealed: Set(state.data_key.seal(id, signing.as_bytes())),
        created_at: Set(now),
        retired_at: Set(None),
        sandbox: Set(false),
    })
    .exec_without_returning(txn)
    .await?;
    audit::record(
        txn,
        actor,
        "signing_key.activated",
        audit::target("signing_key", &kid),
        json!({}),
    )
    .await?;
    Ok(kid)
}

/// At start-up: imports `SAFESCREEN_SIGNING_KEY` unless it is already stored, and creates a
/// key when there is none. On PostgreSQL under an advisory lock, so processes starting
/// together create one key.
pub async fn ensure_signing_key(state: &AppState) -> AppResult<()> {
    let txn = db::begin_write(&state.db_write).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7305198422)",
        ))
        .await?;
    }
    if let Some(seed) = state.config.signing_key {
        let imported = SigningKey::from_bytes(&seed);
        let kid = signing::kid_of(&imported.verifying_key());
        let stored = signing_key::Entity::find()
            .filter(signing_key::Column::Kid.eq(&kid))
            .count(&txn)
            .await?;
        if stored == 0 {
            make_current(state, &txn, &imported, audit::ACTOR_SYSTEM).await?;
            tracing::info!(kid, "imported SAFESCREEN_SIGNING_KEY as the signing key");
        }
    }
    let usable = signing_key::Entity::find()
        .filter(signing_key::Column::Sandbox.eq(false))
        .filter(signing_key::Column::RetiredAt.is_null())
        .count(&txn)
        .await?;
    if usable == 0 {
        let kid = make_current(state, &txn, &signing::generate(), audit::ACTOR_SYSTEM).await?;
        tracing::info!(kid, "created a signing key");
    }
    txn.commit().await?;
    Ok(())
}

/// `safescreen keys rotate` (`actor` "cli") or the console's rotation: a new key signs from
/// now on; the old ones still verify.
pub async fn rotate(state: &AppState, actor: &str) -> AppResult<String> {
    let txn = db::begin_write(&state.db_write).await?;
    let kid = make_current(state, &txn, &signing::generate(), actor).await?;
    txn.commit().await?;
    Ok(kid)
}

/// The console's rotation: an admin with a fresh second factor.
pub async fn rotate_by(state: &AppState, principal: &Principal) -> AppResult<String> {
    super::factors::require_recent_factor(state, principal)?;
    rotate(state, &principal.actor()).await
}

/// A signing key as the console shows it: whether it signs, and how many unexpired
/// certificates still need it to verify.
pub struct SigningKeyView {
    pub kid: String,
    pub created_at: time::PrimitiveDateTime,
    pub retired_at: Option<time::PrimitiveDateTime>,
    pub unexpired_certificates: u64,
}

/// Every signing key but the sandbox's, newest first.
pub async fn signing_keys(state: &AppState) -> AppResult<Vec<SigningKeyView>> {
    let now = db::now();
    let keys = signing_key::Entity::find()
        .filter(signing_key::Column::Sandbox.eq(false))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let mut views = Vec::with_capacity(keys.len());
    for key in keys {
        let unexpired_certificates = certificate::Entity::find()
            .filter(certificate::Column::Kid.eq(&key.kid))
            .filter(certificate::Column::ExpiresAt.gt(now))
            .count(&state.db)
            .await?;
        views.push(SigningKeyView {
            kid: key.kid,
            created_at: key.created_at,
            retired_at: key.retired_at,
            unexpired_certificates,
        });
    }
    Ok(views)
}

/// The public keys: the one that signs, and retired ones while a certificate they signed is
/// still unexpired.
pub async fn jwks(state: &AppState) -> AppResult<Value> {
    let now = db::now();
    let mut keys = Vec::new();
    for row in signing_key::Entity::find()
        .filter(signing_key::Column::Sandbox.eq(false))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(&state.db)
        .await?
    {
        let needed = row.retired_at.is_none()
            || certificate::Entity::find()
                .filter(certificate::Column::Kid.eq(&row.kid))
                .filter(certificate::Column::ExpiresAt.gt(now))
                .one(&state.db)
                .await?
                .is_some();
        let public: Option<[u8; 32]> = row.public_key.as_slice().try_into().ok();
        if let Some(public) = public.and_then(|p| VerifyingKey::from_bytes(&p).ok())
            && needed
        {
            keys.push(signing::jwk(&row.kid, &public));
        }
    }
    Ok(json!({"keys": keys}))
}

/// What verification needs of a stored certificate.
#[derive(Debug, Clone, Copy)]
pub struct CertificateStatus {
    pub expires_at: time::PrimitiveDateTime,
    pub revoked_at: Option<time::PrimitiveDateTime>,
}

impl CertificateStatus {
    /// `active`, `revoked` or `expired`, as of now.
    pub fn as_str(self) -> &'static str {
        if self.revoked_at.is_some() {
            REVOKED
        } else if self.expires_at <= db::now() {
            EXPIRED
        } else {
            ACTIVE
        }
    }
}

/// `active`, `revoked` or `expired`, as of now.
pub fn status_of(certificate: &certificate::Model) -> &'static str {
    CertificateStatus {
        expires_at: certificate.expires_at,
        revoked_at: certificate.revoked_at,
    }
    .as_str()
}

/// The expiry and revocation of a certificate: cached on PostgreSQL while revocations are
/// announced (see `crate::cache`), else one primary-key lookup of just those two columns.
async fn status_by_id(state: &AppState, id: Uuid) -> AppResult<Option<CertificateStatus>> {
    if let Some(status) = state.certificate_statuses.get(&id) {
        return Ok(Some(status));
    }
    let generation = state.certificate_statuses.generation();
    let found: Option<(time::PrimitiveDateTime, Option<time::PrimitiveDateTime>)> =
        certificate::Entity::find_by_id(id)
            .select_only()
            .column(certificate::Column::ExpiresAt)
            .column(certificate::Column::RevokedAt)
            .into_tuple()
            .one(&state.db)
            .await?;
    let status = found.map(|(expires_at, revoked_at)| CertificateStatus {
        expires_at,
        revoked_at,
    });
    if let Some(status) = status {
        state
            .certificate_statuses
            .put(id, status, std::time::Duration::from_secs(60), generation);
    }
    Ok(status)
}

/// What `POST /v1/certificates/verify` answers.
pub struct Verification {
    pub status: &'static str,
    pub claims: Option<Value>,
    pub reason: Option<&'static str>,
}

impl Verification {
    fn invalid(rejection: Rejection) -> Self {
        Verification {
            status: INVALID,
            claims: None,
            reason: Some(rejection.reason()),
        }
    }

    pub fn valid(&self) -> bool {
        self.status == ACTIVE
    }
}

/// Checks a JWS: ours (a key we hold, a good signature, our issuer), then the certificate's
/// revocation and expiry. Never an error for bad input: that is `invalid` with a reason.
pub async fn verify(state: &AppState, jws: &str) -> AppResult<Verification> {
    let unverified = match signing::parse(jws.trim()) {
        Ok(unverified) => unverified,
        Err(rejection) => return Ok(Verification::invalid(rejection)),
    };
    let Some(key) = state
        .engine
        .keyring
        .key(&state.data_key, &state.db, &unverified.kid)
        .await?
    else {
        return Ok(Verification::invalid(Rejection::UnknownKey));
    };
    let claims = match unverified.verify(&key.verifying) {
        Ok(claims) => claims,
        Err(rejection) => return Ok(Verification::invalid(rejection)),
    };
    // A good signature of the sandbox's key: a test certificate, never a clearance.
    if key.sandbox {
        return Ok(Verification::invalid(Rejection::Sandbox));
    }
    if claims["iss"].as_str() != Some(state.config.public_url.as_str()) {
        return Ok(Verification::invalid(Rejection::OtherIssuer));
    }
    let Some(id) = claims["jti"]
        .as_str()
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return Ok(Verification::invalid(Rejection::Malformed));
    };
    let Some(stored) = status_by_id(state, id).await? else {
        return Ok(Verification::invalid(Rejection::UnknownCertificate));
    };
    // The signed `exp` counts as much as the stored one (they are the same for every
    // certificate we issue).
    let signed_expiry_passed = claims["exp"]
        .as_i64()
        .is_none_or(|exp| exp <= time::OffsetDateTime::now_utc().unix_timestamp());
    let status = match stored.as_str() {
        ACTIVE if signed_expiry_passed => EXPIRED,
        status => status,
    };
    Ok(Verification {
        status,
        claims: Some(claims),
        reason: None,
    })
}

/// A certificate as its organisation and the admin see it.
pub struct CertificateView {
    pub certificate: certificate::Model,
    pub jws: String,
    pub claims: Value,
}

/// The certificate of a cleared request the caller's organisation made (any for the admin);
/// 404 for every other request.
pub async fn of_request(
    state: &AppState,
    principal: &Principal,
    request_id: Uuid,
) -> AppResult<CertificateView> {
    let certificate = certificate::Entity::find()
        .filter(certificate::Column::RequestId.eq(request_id))
        .one(&state.db)
        .await?
        .filter(|c| principal.can_see_organisation(c.organisation_id))
        .ok_or(AppError::NotFound)?;
    let request = screening_request::Entity::find_by_id(request_id)
        .one(&state.db)
        .await?
        .filter(|r| r.sandbox == principal.sandbox)
        .ok_or(AppError::NotFound)?;
    // An objection overturned into a refusal never happens, but a request that is not
    // cleared has no certificate to show.
    if request.status != RequestStatus::Cleared.as_str() {
        return Err(AppError::NotFound);
    }
    let jws = state
        .data_key
        .open_opt(certificate.id, certificate.jws_sealed.as_deref())
        .await
        .and_then(|plain| String::from_utf8(plain).ok())
        .ok_or(AppError::NotFound)?; // erased with the rest of the personal data
    let claims = signing::parse(&jws)
        .ok()
        .and_then(|unverified| {
            state
                .engine
                .keyring
                .cached(&unverified.kid)
                .zip(Some(unverified))
        })
        .and_then(|(key, unverified)| unverified.verify(&key.verifying).ok());
    let claims = match claims {
        Some(claims) => claims,
        None => {
            // The key is not opened in this process yet.
            match verify(state, &jws).await?.claims {
                Some(claims) => claims,
                None => {
                    return Err(
                        anyhow::anyhow!("certificate {} does not verify", certificate.id).into(),
                    );
                }
            }
        }
    };
    Ok(CertificateView {
        certificate,
        jws,
        claims,
    })
}

/// The id of a request's certificate, if it has one (the console revokes from the case).
pub async fn id_for_request(state: &AppState, request_id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(certificate::Entity::find()
        .select_only()
        .column(certificate::Column::Id)
        .filter(certificate::Column::RequestId.eq(request_id))
        .into_tuple()
        .one(&state.db)
        .await?)
}

/// The longest reason a revocation takes.
pub const MAX_REVOCATION_REASON: usize = 2000;

/// The admin revokes a certificate (new information): once; audited; the organisation is
/// told by webhook. The reason is kept sealed and never shown to verifiers.
pub async fn revoke(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    reason: &str,
) -> AppResult<certificate::Model> {
    let reason = crate::domain::text::multiline(reason, MAX_REVOCATION_REASON)
        .map_err(|m| AppError::validation("reason", m))?;
    let reason = reason.as_str();
    let txn = db::begin_write(&state.db_write).await?;
    let certificate = certificate::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if certificate.revoked_at.is_some() {
        return Err(AppError::Conflict(
            "the certificate is already revoked".into(),
        ));
    }
    // A revocation is confirmed with a fresh second factor.
    super::factors::require_recent_factor(state, principal)?;
    let now = db::now();
    let sealed_reason = state.data_key.seal(id, reason.as_bytes());
    let revoked = certificate::Entity::update_many()
        .col_expr(certificate::Column::RevokedAt, Expr::value(now))
        .col_expr(
            certificate::Column::RevocationReasonSealed,
            Expr::value(sealed_reason.clone()),
        )
        .filter(certificate::Column::Id.eq(id))
        .filter(certificate::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if revoked.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the certificate is already revoked".into(),
        ));
    }
    audit::record(
        &txn,
        &principal.actor(),
        "certificate.revoked",
        audit::target("certificate", id),
        json!({"request_id": certificate.request_id}),
    )
    .await?;
    outbox::webhooks::enqueue_certificate(&txn, certificate.request_id, id, "certificate.revoked")
        .await?;
    // Every process forgets the statuses it cached, so the revocation holds at once.
    cache::commit_with_notify(txn, cache::CERTIFICATES, &*state.certificate_statuses).await?;
    state.wake_workers.notify_one();
    Ok(certificate::Model {
        revoked_at: Some(now),
        revocation_reason_sealed: Some(sealed_reason),
        ..certificate
    })
}
