//! A clearance's certificate, signed in the decision's transaction, and the warning before it
//! expires: what the engine does when a request is cleared.
use sea_orm::{DatabaseTransaction, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Engine, tasks};
use crate::{
    audit,
    crypto::signing,
    db,
    domain::{calendar::add_months, subject::Subject},
    error::AppResult,
    outbox,
};
use entity::{certificate, organisation, screening_profile, screening_request};

pub const TIMER_CLEARANCE_EXPIRING: &str = "clearance_expiring";

/// Issues the certificate of a request cleared at `decided_at`, in the decision's
/// transaction, with the timer that warns before it expires.
pub async fn issue(
    engine: &Engine,
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
    let subject: Subject = engine
        .data_key
        .open_json_opt(request.id, request.subject_sealed.as_deref())
        .await
        .ok_or_else(|| anyhow::anyhow!("request {}: the subject does not open", request.id))?;
    let expires_at = time::PrimitiveDateTime::new(
        add_months(decided_at.date(), profile.validity_months),
        decided_at.time(),
    );
    let id = db::new_id();
    let claims = json!({
        "iss": engine.issuer,
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
    let key = if request.sandbox {
        engine.keyring.sandbox(&engine.data_key, txn).await?
    } else {
        engine.keyring.current(&engine.data_key, txn).await?
    };
    let jws = signing::sign(&key.signing, &key.kid, &claims);
    let row = certificate::Model {
        id,
        request_id: request.id,
        organisation_id: request.organisation_id,
        kid: key.kid.clone(),
        issued_at: decided_at,
        expires_at,
        jws_sealed: Some(engine.data_key.seal(id, jws.as_bytes())),
        revoked_at: None,
        revocation_reason_sealed: None,
    };
    certificate::Entity::insert(certificate::ActiveModel::from(row.clone()))
        .exec_without_returning(txn)
        .await?;
    let warn_at = expires_at - time::Duration::days(i64::from(profile.expiry_warning_days));
    tasks::add_timer(
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
    outbox::webhooks::enqueue_certificate(txn, certificate.request_id, id, "clearance.expiring")
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
