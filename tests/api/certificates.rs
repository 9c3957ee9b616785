//! Certificates, checked the way a third party would: with an independent JOSE library
//! (jsonwebtoken) against the published JWKS, and through the public verify endpoint.
use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64URL};
use ed25519_dalek::{Signer, SigningKey};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    engine::{
        checker, complete, consented, open_task, org_with_key, org_with_webhook, profile_with,
    },
    helpers::*,
};
use entity::{certificate, webhook_delivery};

/// A profile with only an identity check, and a checker for it: each request clears after
/// one task.
pub(crate) struct Quick {
    pub profile: String,
    pub checker: String,
}

pub(crate) async fn quick(app: &TestApp, validity_months: u32, warning_days: u32) -> Quick {
    let profile = profile_with(
        app,
        json!({"title": "Quick", "checks": [{"id": "identity", "authorisation": "identity", "sla": "P2D"}]}),
        validity_months,
        warning_days,
    )
    .await;
    let (_, checker) = checker(app, &["identity"], false, 100, &[]).await;
    Quick { profile, checker }
}

/// A request of `key`'s organisation, cleared; returns its id.
pub(crate) async fn cleared(app: &TestApp, key: &str, quick: &Quick) -> Uuid {
    let (id, _) = consented(app, key, |b| b["profile"] = json!(quick.profile)).await;
    let task = open_task(app, id, "check", Some("identity")).await;
    let done = complete(
        app,
        &quick.checker,
        task.id,
        json!({"outcome": "no_concerns"}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    id
}

/// Clears a new request and returns its certificate's JWS.
async fn new_certificate(app: &TestApp, key: &str, quick: &Quick) -> String {
    let request = cleared(app, key, quick).await;
    certificate_of(app, key, request).await.body["jws"]
        .as_str()
        .expect("a certificate")
        .to_owned()
}

async fn certificate_of(app: &TestApp, key: &str, request: Uuid) -> Reply {
    app.get(
        &format!("/v1/screening-requests/{request}/certificate"),
        key,
    )
    .await
}

pub(crate) async fn verify(app: &TestApp, jws: &str) -> Reply {
    let reply = app
        .call(
            reqwest::Method::POST,
            "/v1/certificates/verify",
            None,
            Some(json!({"jws": jws})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply
}

async fn jwks(app: &TestApp) -> JwkSet {
    let reply = app
        .call(reqwest::Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    serde_json::from_value(reply.body).expect("a JWK set")
}

/// Verifies with jsonwebtoken against the JWKS, as a third party would offline.
fn verify_independently(jws: &str, keys: &JwkSet, issuer: &str) -> Result<Value, String> {
    let header = decode_header(jws).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = keys.find(&kid).ok_or("kid not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    decode::<Value>(jws, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

pub(crate) fn parts(jws: &str) -> (Value, Value, String) {
    let mut split = jws.split('.');
    let mut json_part =
        || serde_json::from_slice(&B64URL.decode(split.next().unwrap()).unwrap()).unwrap();
    let header = json_part();
    let claims = json_part();
    (header, claims, split.next().unwrap().to_owned())
}

pub(crate) fn encode(part: &Value) -> String {
    B64URL.encode(part.to_string())
}

pub(crate) fn sign_with(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", encode(header), encode(claims));
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64URL.encode(signature.to_bytes()))
}

/// The certificates' `iss`: the public URL, which in tests is derived from the configured
/// listen address.
fn issuer(_app: &TestApp) -> String {
    "http://127.0.0.1:0".to_owned()
}

#[tokio::test]
async fn a_clearance_has_a_certificate_an_independent_jose_library_verifies() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let quick = quick(&app, 12, 30).await;
    let id = cleared(&app, &key, &quick).await;

    let reply = certificate_of(&app, &key, id).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["status"], "active");
    let jws = reply.body["jws"].as_str().unwrap().to_owned();
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(
        view.body["decision"]["certificate_id"],
        reply.body["certificate_id"]
    );

    // The header and exactly the claims api.md lists; no BSN, no findings.
    let header = decode_header(&jws).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let (raw_header, claims, _) = parts(&jws);
    assert_eq!(
        raw_header.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["alg", "kid", "typ"]
    );
    let mut names: Vec<&String> = claims.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["clearance", "exp", "iat", "iss", "jti"]);
    assert_eq!(claims["jti"], reply.body["certificate_id"]);
    assert_eq!(claims["iss"], issuer(&app));
    let clearance = &claims["clearance"];
    let mut names: Vec<&String> = clearance.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "deployment_country",
            "organisation",
            "outcome",
            "position_title",
            "profile",
            "request_id",
            "role",
            "subject"
        ]
    );
    assert_eq!(
        clearance["subject"],
        json!({"given_names": "Jan Pieter", "family_name": "de Vries", "date_of_birth": "1990-04-12"})
    );
    assert_eq!(clearance["outcome"], "cleared");
    assert_eq!(clearance["request_id"], json!(id));
    assert!(
        !jws.contains("123456782")
            && !B64URL
                .decode(jws.split('.').nth(1).unwrap())
                .map(|p| String::from_utf8_lossy(&p).contains("123456782"))
                .unwrap()
    );
    // exp is the decision's valid_until, a year on (the profile's 12 months).
    let valid_until = view.body["decision"]["valid_until"].as_str().unwrap();
    let exp = time::OffsetDateTime::from_unix_timestamp(claims["exp"].as_i64().unwrap()).unwrap();
    assert_eq!(exp.date().to_string(), valid_until);
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() > 360 * 86_400);

    // jsonwebtoken verifies it against the JWKS; the service's verify agrees.
    let keys = jwks(&app).await;
    assert!(
        keys.keys
            .iter()
            .all(|k| serde_json::to_value(k).unwrap()["kty"] == "OKP")
    );
    let independent = verify_independently(&jws, &keys, &issuer(&app)).expect("verifies");
    assert_eq!(independent, claims);
    let verdict = verify(&app, &jws).await;
    assert_eq!(verdict.body["valid"], true);
    assert_eq!(verdict.body["status"], "active");
    assert_eq!(verdict.body["claims"], claims);

    // Stored sealed: the row shows neither the JWS nor the name.
    let row =
        certificate::Entity::find_by_id(claims["jti"].as_str().unwrap().parse::<Uuid>().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
    let sealed = row.jws_sealed.unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("eyJ"));
    assert!(!sealed.windows(7).any(|w| w == b"de Vrie"));
}

#[tokio::test]
async fn changed_claims_or_headers_foreign_signatures_and_garbage_do_not_verify() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let quick = quick(&app, 12, 30).await;
    let id = cleared(&app, &key, &quick).await;
    let jws = certificate_of(&app, &key, id).await.body["jws"]
        .as_str()
        .unwrap()
        .to_owned();
    let keys = jwks(&app).await;
    let (header, claims, signature) = parts(&jws);

    let mut changed = claims.clone();
    changed["clearance"]["subject"]["family_name"] = json!("Jansen");
    let changed_claim = format!("{}.{}.{signature}", encode(&header), encode(&changed));
    let mut extra = header.clone();
    extra["x5u"] = json!("https://attacker.example/key");
    let changed_header = format!("{}.{}.{signature}", encode(&extra), encode(&claims));
    let other_key = SigningKey::from_bytes(&[7u8; 32]);
    let foreign_signature = sign_with(&other_key, &header, &claims);
    let mut none = header.clone();
    none["alg"] = json!("none");
    let alg_none = format!("{}.{}.", encode(&none), encode(&claims));
    let truncated = &jws[..jws.len() - 8];
    for (what, forged, reason) in [
        ("changed claim", changed_claim.as_str(), "bad signature"),
        ("changed header", &changed_header, "bad signature"),
        (
            "another key's signature",
            &foreign_signature,
            "bad signature",
        ),
        ("alg none", &alg_none, "unsupported algorithm"),
        ("truncated signature", truncated, "malformed"),
    ] {
        assert!(
            verify_independently(forged, &keys, &issuer(&app)).is_err(),
            "{what}: jsonwebtoken refuses it"
        );
        let verdict = verify(&app, forged).await;
        assert_eq!(
            (
                verdict.body["valid"].clone(),
                verdict.body["status"].clone(),
                verdict.body["reason"].clone()
            ),
            (json!(false), json!("invalid"), json!(reason)),
            "{what}"
        );
        assert!(verdict.body.get("claims").is_none(), "{what}: no claims");
    }

    // A valid JWS of another issuer, with its own key.
    let other_kid = "another-issuer-key";
    let mut other_header = header.clone();
    other_header["kid"] = json!(other_kid);
    let mut other_claims = claims.clone();
    other_claims["iss"] = json!("https://screening.elsewhere.example");
    let other = sign_with(&other_key, &other_header, &other_claims);
    let verdict = verify(&app, &other).await;
    assert_eq!(verdict.body["status"], "invalid");
    assert_eq!(verdict.body["reason"], "unknown key");

    // Garbage: not three parts, not base64, a megabyte.
    let megabyte = "a".repeat(1_000_000);
    for garbage in ["", "abc", "a.b", "a.b.c.d", "%%%.%%%.%%%", &megabyte] {
        let verdict = verify(&app, garbage).await;
        assert_eq!(verdict.body["valid"], false);
        assert_eq!(verdict.body["status"], "invalid");
        assert_eq!(verdict.body["reason"], "malformed");
    }
    // Not even the request's shape: a problem, not a verdict.
    let reply = app
        .call(
            reqwest::Method::POST,
            "/v1/certificates/verify",
            None,
            Some(json!({"token": "x"})),
        )
        .await;
    reply.assert_problem(422);
}

#[tokio::test]
async fn the_admin_revokes_once_and_the_certificate_then_verifies_as_revoked() {
    let app = spawn_app().await;
    let (org, key) = org_with_webhook(&app, "certificate.revoked").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let quick = quick(&app, 12, 30).await;
    let id = cleared(&app, &key, &quick).await;
    let certificate = certificate_of(&app, &key, id).await;
    let certificate_id = certificate.body["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let jws = certificate.body["jws"].as_str().unwrap().to_owned();
    let revoke = format!("/v1/certificates/{certificate_id}/revoke");

    // Not the organisation (session or key), not without a reason, not an unknown id.
    for token in [&org_admin, &key] {
        app.post(&revoke, token, json!({"reason": "x"}))
            .await
            .assert_problem(403);
    }
    app.post(&revoke, &app.admin_token, json!({}))
        .await
        .assert_problem(422);
    app.post(&revoke, &app.admin_token, json!({"reason": "   "}))
        .await
        .assert_problem(422);
    app.post(
        &format!("/v1/certificates/{}/revoke", Uuid::new_v4()),
        &app.admin_token,
        json!({"reason": "x"}),
    )
    .await
    .assert_problem(404);
    assert_eq!(verify(&app, &jws).await.body["status"], "active");
    // A second process of the deployment has verified (and may have cached) it too.
    let second = spawn_second_app(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // its change listener is up
    for _ in 0..3 {
        assert_eq!(verify(&second, &jws).await.body["status"], "active");
    }

    let revoked = app
        .post(
            &revoke,
            &app.admin_token,
            json!({"reason": "New information from the police"}),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert_eq!(revoked.body["status"], "revoked");
    let verdict = verify(&app, &jws).await;
    assert_eq!(verdict.body["valid"], false);
    assert_eq!(verdict.body["status"], "revoked");
    assert!(verdict.body["claims"].is_object());
    assert!(
        !verdict.text.contains("police"),
        "never the revocation ground"
    );
    // The other process knows at once (its cache was emptied by the revocation's NOTIFY).
    let mut elsewhere = verify(&second, &jws).await;
    for _ in 0..20 {
        if elsewhere.body["status"] == "revoked" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        elsewhere = verify(&second, &jws).await;
    }
    assert_eq!(elsewhere.body["status"], "revoked");
    assert_eq!(
        certificate_of(&app, &key, id).await.body["status"],
        "revoked"
    );
    app.post(&revoke, &app.admin_token, json!({"reason": "again"}))
        .await
        .assert_problem(409);

    // The organisation is told, with the ids alone; the revocation is audited.
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EventType.eq("certificate.revoked"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].payload["data"],
        json!({"id": id, "status": "cleared", "certificate_id": certificate_id})
    );
    let audit = app
        .get(
            "/v1/audit-events?action=certificate.revoked",
            &app.admin_token,
        )
        .await;
    assert_eq!(audit.body["data"].as_array().unwrap().len(), 1);
    assert!(!audit.text.contains("police"));
}

#[tokio::test]
async fn only_the_organisation_and_the_admin_fetch_a_certificate_of_a_cleared_request() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, other_key) = org_with_key(&app).await;
    let quick = quick(&app, 12, 30).await;
    let id = cleared(&app, &key, &quick).await;
    assert_eq!(certificate_of(&app, &key, id).await.status, 200);
    assert_eq!(certificate_of(&app, &app.admin_token, id).await.status, 200);
    certificate_of(&app, &other_key, id)
        .await
        .assert_problem(404);
    certificate_of(&app, &quick.checker, id)
        .await
        .assert_problem(403);
    certificate_of(&app, &key, Uuid::new_v4())
        .await
        .assert_problem(404);
    // Withdrawn and still in progress: no certificate.
    let (withdrawn, _) = consented(&app, &key, |b| b["profile"] = json!(quick.profile)).await;
    assert_eq!(
        app.post(
            &format!("/v1/screening-requests/{withdrawn}/withdraw"),
            &key,
            json!({})
        )
        .await
        .status,
        200
    );
    certificate_of(&app, &key, withdrawn)
        .await
        .assert_problem(404);
    let (open, _) = consented(&app, &key, |b| b["profile"] = json!(quick.profile)).await;
    certificate_of(&app, &key, open).await.assert_problem(404);

    // A cleared request can be rescreened: a new request for the same subject, linked.
    let rescreen = app
        .post(
            &format!("/v1/screening-requests/{id}/rescreen"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(rescreen.status, 201, "{}", rescreen.text);
    assert_eq!(rescreen.body["status"], "awaiting_consent");
    assert_eq!(rescreen.body["rescreen_of"], json!(id));
    assert_eq!(rescreen.body["profile"], json!(quick.profile));
}

#[tokio::test]
async fn a_rotated_key_signs_new_certificates_and_old_ones_still_verify() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let quick = quick(&app, 12, 30).await;
    let first = new_certificate(&app, &key, &quick).await;
    // The real command, while the server keeps running.
    let rotated = run_safescreen(&app.database, &["keys", "rotate"]).await;
    let second = new_certificate(&app, &key, &quick).await;
    let (old_kid, new_kid) = (
        decode_header(&first).unwrap().kid.unwrap(),
        decode_header(&second).unwrap().kid.unwrap(),
    );
    assert_ne!(old_kid, new_kid, "the new key signs from now on");
    assert!(String::from_utf8_lossy(&rotated.stdout).contains(&new_kid));
    let keys = jwks(&app).await;
    assert!(keys.find(&old_kid).is_some() && keys.find(&new_kid).is_some());
    for jws in [&first, &second] {
        verify_independently(jws, &keys, &issuer(&app)).expect("verifies against the JWKS");
        assert_eq!(verify(&app, jws).await.body["valid"], true);
    }
}

#[tokio::test]
async fn an_imported_key_signs_and_a_certificate_past_its_expiry_verifies_as_expired() {
    let seed = [9u8; 32];
    let app = spawn_app_with(&[(
        "SAFESCREEN_SIGNING_KEY",
        &base64::engine::general_purpose::STANDARD.encode(seed),
    )])
    .await;
    let signing = SigningKey::from_bytes(&seed);
    let x = B64URL.encode(signing.verifying_key().as_bytes());
    let keys = jwks(&app).await;
    let published = serde_json::to_value(&keys).unwrap();
    assert_eq!(published["keys"].as_array().unwrap().len(), 1);
    assert_eq!(published["keys"][0]["x"], x);
    assert_eq!(published["keys"][0]["crv"], "Ed25519");

    let (_, key) = org_with_key(&app).await;
    let quick = quick(&app, 12, 30).await;
    let jws = new_certificate(&app, &key, &quick).await;
    let (header, mut claims, _) = parts(&jws);
    assert_eq!(header["kid"], published["keys"][0]["kid"]);
    // The same certificate, signed by our key, with an `exp` that has passed.
    claims["exp"] = json!(time::OffsetDateTime::now_utc().unix_timestamp() - 86_400);
    let past = sign_with(&signing, &header, &claims);
    let verdict = verify(&app, &past).await;
    assert_eq!(verdict.body["valid"], false);
    assert_eq!(verdict.body["status"], "expired");
}

#[tokio::test]
async fn the_expiry_warning_reaches_the_organisation_by_webhook() {
    let app = spawn_app_with(&[("SAFESCREEN_WORKER_INTERVAL_MS", "100")]).await;
    let (_, key) = org_with_webhook(&app, "clearance.expiring").await;
    // Valid for a month, warned 60 days before: the warning is due at once.
    let quick = quick(&app, 1, 60).await;
    let id = cleared(&app, &key, &quick).await;
    let certificate_id = certificate_of(&app, &key, id).await.body["certificate_id"].clone();
    let mut warned = Vec::new();
    for _ in 0..100 {
        warned = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EventType.eq("clearance.expiring"))
            .all(&app.db)
            .await
            .unwrap();
        if !warned.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(warned.len(), 1, "one warning");
    assert_eq!(
        warned[0].payload["data"],
        json!({"id": id, "status": "cleared", "certificate_id": certificate_id})
    );
}

async fn erased(app: &TestApp, request: Uuid) -> entity::screening_request::Model {
    for _ in 0..200 {
        let row = entity::screening_request::Entity::find_by_id(request)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if row.erased_at.is_some() {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("request {request} was not erased");
}

/// Retention: a clearance's personal data (the stored certificate too) goes once it has
/// expired, a refusal's once the objection window is over; verification keeps working.
#[tokio::test]
async fn personal_data_goes_after_the_clearance_expires_or_the_objection_window_closes() {
    let app = spawn_app_with(&[
        ("SAFESCREEN_RETENTION_DAYS", "0"),
        ("SAFESCREEN_WORKER_INTERVAL_MS", "100"),
    ])
    .await;
    let (_, key) = org_with_key(&app).await;
    let quick = quick(&app, 12, 30).await;
    let expired = cleared(&app, &key, &quick).await;
    let kept = cleared(&app, &key, &quick).await;
    let jws = certificate_of(&app, &key, expired).await.body["jws"]
        .as_str()
        .unwrap()
        .to_owned();
    // Time passes for one of them: its clearance's valid_until is behind us.
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let row = certificate::Entity::find()
        .filter(certificate::Column::RequestId.eq(expired))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row = row.into_active_model();
    row.expires_at = Set(row.expires_at.unwrap() - time::Duration::days(400));
    row.update(&app.db).await.unwrap();

    let request = erased(&app, expired).await;
    assert!(request.subject_sealed.is_none());
    let row = certificate::Entity::find()
        .filter(certificate::Column::RequestId.eq(expired))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.jws_sealed.is_none(), "the stored certificate is erased");
    certificate_of(&app, &key, expired)
        .await
        .assert_problem(404);
    let verdict = verify(&app, &jws).await;
    assert_eq!(verdict.body["status"], "expired", "{}", verdict.text);
    // The unexpired clearance keeps its data.
    let unexpired = entity::screening_request::Entity::find_by_id(kept)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(unexpired.erased_at.is_none() && unexpired.subject_sealed.is_some());
    assert_eq!(certificate_of(&app, &key, kept).await.status, 200);

    // A refusal: kept while the subject may still object, erased once the window closes.
    let mut definition = json!({"title": "Quick refusal", "auto_clear": false,
        "checks": [{"id": "identity", "authorisation": "identity", "sla": "P1D"}],
        "assessment": {"authorisation": "assessment", "sla": "P1D", "four_eyes": false},
        "response_window": "PT1S", "objection_window": "PT2S"});
    definition["final_review"] = json!({"authorisation": "assessment", "sla": "P1D"});
    let profile = crate::engine::profile_for(&app, definition).await;
    let (_, all) = checker(&app, &["identity", "assessment"], false, 10, &[]).await;
    let (refused, _) = consented(&app, &key, |b| b["profile"] = json!(profile)).await;
    let identity = open_task(&app, refused, "check", Some("identity")).await;
    let done = complete(&app, &all, identity.id, json!({"outcome": "concerns"})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let assessment = open_task(&app, refused, "assessment", None).await;
    let grounds = json!({"outcome": "refuse", "grounds": "Unverifiable."});
    assert_eq!(
        complete(&app, &all, assessment.id, grounds.clone())
            .await
            .status,
        200
    );
    // The response window closes by itself; the final review refuses.
    let mut final_review = None;
    for _ in 0..100 {
        let open: Vec<_> = entity::task::Entity::find()
            .filter(entity::task::Column::RequestId.eq(refused))
            .filter(entity::task::Column::Kind.eq("final_review"))
            .all(&app.db)
            .await
            .unwrap();
        if let Some(task) = open.into_iter().next() {
            final_review = Some(task);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let final_review = final_review.expect("the final review opens");
    assert_eq!(
        complete(&app, &all, final_review.id, grounds).await.status,
        200
    );
    let decided = entity::screening_request::Entity::find_by_id(refused)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(decided.status, "refused");
    assert!(
        decided.erased_at.is_none(),
        "kept inside the objection window"
    );
    let request = erased(&app, refused).await;
    assert!(request.subject_sealed.is_none() && request.invitation_token_hash.is_none());
    let window_closed = entity::timer::Entity::find()
        .filter(entity::timer::Column::RequestId.eq(refused))
        .filter(entity::timer::Column::Kind.eq("objection_window"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(window_closed.fired_at.is_some() && request.erased_at >= window_closed.fired_at);
}
