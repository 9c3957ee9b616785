//! Certificates: the organisation fetches its clearance's certificate, anyone verifies one
//! (and reads the public keys), the admin revokes one.
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{TAG_CERTIFICATES, TAG_REQUESTS};
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    error::AppResult,
    extract::{AppJson, AppPath, acceptable},
    services::AppState,
    services::certificates,
};
use entity::certificate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_certificate))
        .routes(routes!(jwks))
        .routes(routes!(verify_certificate))
        .routes(routes!(revoke_certificate))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CertificateDto {
    pub certificate_id: Uuid,
    /// The compact JWS (EdDSA / Ed25519), verifiable offline against `/.well-known/jwks.json`.
    pub jws: String,
    /// The signed claims: `iss`, `jti`, `iat`, `exp` and `clearance`.
    pub claims: serde_json::Value,
    /// `active`, `revoked` or `expired`.
    pub status: String,
}

/// The certificate of a cleared request.
#[utoipa::path(get, path = "/v1/screening-requests/{id}/certificate", tag = TAG_REQUESTS,
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The certificate", body = CertificateDto),
              (status = 404, description = "No such request of yours, or it is not cleared")))]
async fn request_certificate(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<CertificateDto>> {
    let view = certificates::of_request(&state, &principal, id).await?;
    Ok(Json(CertificateDto {
        certificate_id: view.certificate.id,
        status: certificates::status_of(&view.certificate).to_owned(),
        jws: view.jws,
        claims: view.claims,
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct JwkDto {
    /// `OKP`
    pub kty: String,
    /// `Ed25519`
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    /// `sig`
    #[serde(rename = "use")]
    pub use_: String,
    /// `EdDSA`
    pub alg: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct JwkSetDto {
    pub keys: Vec<JwkDto>,
}

/// The public keys that verify certificates (RFC 7517 JWK set of OKP / Ed25519 keys),
/// including retired keys while a certificate they signed is unexpired.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = TAG_CERTIFICATES,
    responses((status = 200, description = "The JWK set", body = JwkSetDto)))]
async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    acceptable(&headers, "application/json")?;
    let keys = certificates::jwks(&state).await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"jws": "eyJhbGciOiJFZERTQSIsImtpZCI6IjEyMyJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"})))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// A certificate as a compact JWS.
    pub jws: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VerificationDto {
    /// True only for a good signature of ours on an active certificate.
    pub valid: bool,
    /// `active`, `revoked`, `expired` or `invalid`.
    pub status: String,
    /// The signed claims, once the signature checks out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
    /// Why it is invalid, in technical terms (`malformed`, `unsupported algorithm`,
    /// `unknown key`, `bad signature`, `another issuer`, `unknown certificate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Verifies a certificate: anyone may ask, no credentials needed. Anything that is not a
/// good certificate of ours is `invalid` (200), never an error.
#[utoipa::path(post, path = "/v1/certificates/verify", tag = TAG_CERTIFICATES, request_body = VerifyRequest,
    responses((status = 200, description = "The verdict", body = VerificationDto)))]
async fn verify_certificate(
    State(state): State<AppState>,
    AppJson(body): AppJson<VerifyRequest>,
) -> AppResult<Json<VerificationDto>> {
    let verification = certificates::verify(&state, &body.jws).await?;
    Ok(Json(VerificationDto {
        valid: verification.valid(),
        status: verification.status.to_owned(),
        claims: verification.claims,
        reason: verification.reason.map(str::to_owned),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"reason": "Issued on a forged identity document."})))]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why (kept sealed; never shown to verifiers).
    #[schema(schema_with = schemas::text::<{ certificates::MAX_REVOCATION_REASON }>)]
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RevokedCertificateDto {
    pub certificate_id: Uuid,
    pub request_id: Uuid,
    /// `revoked`
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<certificate::Model> for RevokedCertificateDto {
    fn from(c: certificate::Model) -> Self {
        RevokedCertificateDto {
            certificate_id: c.id,
            request_id: c.request_id,
            status: certificates::status_of(&c).to_owned(),
            expires_at: db::utc(c.expires_at),
            revoked_at: c.revoked_at.map(db::utc),
        }
    }
}

/// Revokes a certificate (new information); from then on it verifies as `revoked`. Once only
/// (409 again); the organisation gets the `certificate.revoked` webhook.
#[utoipa::path(post, path = "/v1/certificates/{id}/revoke", tag = TAG_CERTIFICATES, request_body = RevokeRequest,
    params(("id" = Uuid, Path, description = "Certificate id")),
    responses((status = 200, description = "Revoked", body = RevokedCertificateDto),
              (status = 409, description = "Already revoked")))]
async fn revoke_certificate(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<RevokeRequest>,
) -> AppResult<Json<RevokedCertificateDto>> {
    let revoked = certificates::revoke(&state, &principal, id, &body.reason).await?;
    Ok(Json(revoked.into()))
}
