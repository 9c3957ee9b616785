//! Certificates: issued with a clearance (in the decision's transaction), fetched by the
//! organisation, verified by anyone, revoked by the admin; and the signing keys behind them,
//! kept in the database sealed under the data key so every process signs and publishes the
//! same keys.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

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
    domain::{RequestStatus, subject::Subject},
    engine::tasks as engine_tasks,
    error::{AppError, AppResult},
    outbox,
    services::screening::add_months,
    state::AppState,
};
use entity::{certificate, organisation, screening_profile, screening_request, signing_key};

pub const TIMER_CLEARANCE_EXPIRING: &str = "clearance_expiring";
pub const ACTIVE: &str = "active";
pub const REVOKED: &str = "revoked";
pub const EXPIRED: &str = "expired";
pub const INVALID: &str = "invalid";

/// An opened signing key.
pub struct KeyPair {
    pub kid: String,
    pub signing: SigningKey,
    pub verifying: VerifyingKey,
}

/// Opened keys by kid. Keys never change once stored (rotation adds one and retires the
/// others), so an entry never goes stale; which key signs is read from the database.
#[derive(Default)]
pub struct Keyring {
    keys: RwLock<HashMap<String, Arc<KeyPair>>>,
}

impl Keyring {
    fn get(&self, kid: &str) -> Option<Arc<KeyPair>> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    fn put(&self, pair: KeyPair) -> Arc<KeyPair> {
        let pair = Arc::new(pair);
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(pair.kid.clone(), Arc::clone(&pair));
        }
        pair
    }
}

/// The key with this kid, opened (from the keyring, else the database).
async fn key(
    state: &AppState,
    conn: &impl ConnectionTrait,
    kid: &str,
) -> AppResult<Option<Arc<KeyPair>>> {
    if let Some(pair) = state.keyring.get(kid) {
        return Ok(Some(pair));
    }
    let Some(row) = signing_key::Entity::find()
        .filter(signing_key::Column::Kid.eq(kid))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let seed: [u8; 32] = state
        .data_key
        .open(row.id, &row.secret_sealed)
        .ok()
        .and_then(|seed| seed.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("signing key {kid} does not open under the data key"))?;
    let signing = SigningKey::from_bytes(&seed);
    Ok(Some(state.keyring.put(KeyPair {
        kid: row.kid,
        verifying: signing.verifying_key(),
        signing,
    })))
}

/// The key that signs now: the newest one not retired.
async fn current_key(state: &AppState, conn: &impl ConnectionTrait) -> AppResult<Arc<KeyPair>> {
    let kid = signing_key::Entity::find()
        .filter(signing_key::Column::RetiredAt.is_null())
        .order_by_desc(signing_key::Column::CreatedAt)
        .order_by_desc(signing_key::Column::Kid)
        .one(conn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no signing key; the service creates one at start-up"))?
        .kid;
    key(state, conn, &kid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("signing key {kid} vanished").into())
}

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

/// `safescreen keys rotate`: a new key signs from now on; the old ones still verify.
pub async fn rotate(state: &AppState) -> AppResult<String> {
    let txn = db::begin_write(&state.db_write).await?;
    let kid = make_current(state, &txn, &signing::generate(), "cli").await?;
    txn.commit().await?;
    Ok(kid)
}

/// The public keys: the one that signs, and retired ones while a certificate they signed is
/// still unexpired.
pub async fn jwks(state: &AppState) -> AppResult<Value> {
    let now = db::now();
    let mut keys = Vec::new();
    for row in signing_key::Entity::find()
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

/// Issues the certificate of a request cleared at `decided_at`, in the decision's
/// transaction, with the timer that warns before it expires.
pub async fn issue(
    state: &AppState,
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    decided_at: time::PrimitiveDateTime,
) -> AppResult<certificate::Model> {
    let profile = screening_profile::Entity::find_by_id((
        request.profile_code.clone(),
        request.profile_version,
    ))
    .one(txn)
    .await?
    .ok_or_else(|| anyhow::anyhow!("request {} has no profile", request.id))?;
    let organisation = organisation::Entity::find_by_id(request.organisation_id)
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("request {} has no organisation", request.id))?;
    let subject: Subject = request
        .subject_sealed
        .as_deref()
        .and_then(|sealed| state.data_key.open_json(request.id, sealed).ok())
        .ok_or_else(|| anyhow::anyhow!("request {}: the subject does not open", request.id))?;
    let expires_at = time::PrimitiveDateTime::new(
        add_months(decided_at.date(), profile.validity_months),
        decided_at.time(),
    );
    let id = db::new_id();
    let claims = json!({
        "iss": state.config.public_url,
        "jti": id,
        "iat": db::utc(decided_at).unix_timestamp(),
        "exp": db::utc(expires_at).unix_timestamp(),
        "clearance": {
            "request_id": request.id,
            "organisation": {"id": organisation.id, "name": organisation.name},
            "subject": {
                "given_names": subject.given_names,
                "family_name": subject.family_name,
                "date_of_birth": subject.date_of_birth,
            },
            "profile": request.profile_code,
            "position_title": request.position_title,
            "role": request.role,
            "deployment_country": request.deployment_country,
            "outcome": "cleared",
        },
    });
    let key = current_key(state, txn).await?;
    let jws = signing::sign(&key.signing, &key.kid, &claims);
    let row = certificate::Model {
        id,
        request_id: request.id,
        organisation_id: request.organisation_id,
        kid: key.kid.clone(),
        issued_at: decided_at,
        expires_at,
        jws_sealed: Some(state.data_key.seal(id, jws.as_bytes())),
        revoked_at: None,
        revocation_reason_sealed: None,
    };
    certificate::Entity::insert(certificate::ActiveModel::from(row.clone()))
        .exec_without_returning(txn)
        .await?;
    let warn_at = expires_at - time::Duration::days(i64::from(profile.expiry_warning_days));
    engine_tasks::add_timer(
        txn,
        request,
        TIMER_CLEARANCE_EXPIRING,
        warn_at,
        json!({"certificate_id": id}),
    )
    .await?;
    audit::record(
        txn,
        audit::ACTOR_SYSTEM,
        "certificate.issued",
        audit::target("certificate", id),
        json!({"request_id": request.id, "kid": key.kid}),
    )
    .await?;
    Ok(row)
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
    let Some(key) = key(state, &state.db, &unverified.kid).await? else {
        return Ok(Verification::invalid(Rejection::UnknownKey));
    };
    let claims = match unverified.verify(&key.verifying) {
        Ok(claims) => claims,
        Err(rejection) => return Ok(Verification::invalid(rejection)),
    };
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
        .ok_or(AppError::NotFound)?;
    // An objection overturned into a refusal never happens, but a request that is not
    // cleared has no certificate to show.
    if request.status != RequestStatus::Cleared.as_str() {
        return Err(AppError::NotFound);
    }
    let jws = certificate
        .jws_sealed
        .as_deref()
        .and_then(|sealed| state.data_key.open(certificate.id, sealed).ok())
        .and_then(|plain| String::from_utf8(plain).ok())
        .ok_or(AppError::NotFound)?; // erased with the rest of the personal data
    let claims = signing::parse(&jws)
        .ok()
        .and_then(|unverified| state.keyring.get(&unverified.kid).zip(Some(unverified)))
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

/// The admin revokes a certificate (new information): once; audited; the organisation is
/// told by webhook. The reason is kept sealed and never shown to verifiers.
pub async fn revoke(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    reason: &str,
) -> AppResult<certificate::Model> {
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
    outbox::webhooks::enqueue_certificate(
        &txn,
        certificate.organisation_id,
        certificate.request_id,
        id,
        "certificate.revoked",
    )
    .await?;
    // Every process forgets the statuses it cached, so the revocation holds at once.
    cache::commit_with_notify(state, txn, cache::CERTIFICATES).await?;
    state.wake_workers.notify_one();
    Ok(certificate::Model {
        revoked_at: Some(now),
        revocation_reason_sealed: Some(sealed_reason),
        ..certificate
    })
}

/// The expiry warning timer fired: the organisation is told by webhook, unless the
/// certificate was revoked meanwhile.
pub async fn warn_expiring(txn: &DatabaseTransaction, payload: &Value) -> AppResult<()> {
    let Some(id) = payload["certificate_id"]
        .as_str()
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return Ok(());
    };
    let Some(certificate) = certificate::Entity::find_by_id(id).one(txn).await? else {
        return Ok(());
    };
    if certificate.revoked_at.is_some() {
        return Ok(());
    }
    outbox::webhooks::enqueue_certificate(
        txn,
        certificate.organisation_id,
        certificate.request_id,
        id,
        "clearance.expiring",
    )
    .await?;
    audit::record(
        txn,
        audit::ACTOR_SYSTEM,
        "clearance.expiring",
        audit::target("certificate", id),
        json!({"request_id": certificate.request_id}),
    )
    .await?;
    Ok(())
}
