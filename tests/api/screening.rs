//! Screening requests: submission, idempotency, the organisation's view, the subject's
//! consent, lapse timers, and privacy at rest.
use std::time::Duration;

use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use entity::screening_request;

async fn org_with_key(app: &TestApp) -> (Uuid, String) {
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    (org, key)
}

/// The `type` of each timeline entry of a request, oldest first, as `key` sees them.
async fn event_types(app: &TestApp, id: &str, key: &str) -> Vec<String> {
    let events = app
        .get(&format!("/v1/screening-requests/{id}/events"), key)
        .await;
    events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn request_count(app: &TestApp) -> u64 {
    screening_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

fn unique_email() -> String {
    format!("subject-{}@example.org", Uuid::new_v4().simple())
}

#[tokio::test]
async fn submission_answers_in_the_organisations_view_and_invites_the_subject() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    let reply = app
        .post("/v1/screening-requests", &key, submission(&email))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let body = &reply.body;
    assert_eq!(body["status"], "awaiting_consent");
    assert_eq!(body["profile"], "child-contact-abroad");
    assert_eq!(body["reference"], "HR-2026-0042");
    assert_eq!(body["position"]["role"], "volunteer");
    assert_eq!(
        body["deployment"],
        json!({"country": "UG", "start_date": "2027-02-01"})
    );
    assert_eq!(
        body["subject"],
        json!({"given_names": "Jan Pieter", "family_name": "de Vries"})
    );
    assert_eq!(body["invitation"]["sent_to"], "s***@example.org");
    // The pinned workflow's checks in its order; the misconduct check is for staff only.
    assert_eq!(
        body["checks"],
        json!([
            {"id": "identity", "state": "pending"},
            {"id": "criminal_record", "state": "pending"},
            {"id": "misconduct", "state": "skipped"},
            {"id": "reference", "state": "pending"}
        ])
    );
    assert!(body["decision"].is_null());
    assert!(body.get("full_status").is_none() && body.get("workflow").is_none());
    assert!(
        !reply.text.contains("ss_inv_"),
        "the organisation never sees the subject's token"
    );
    assert!(!reply.text.contains("123456782") && !reply.text.contains("1990-04-12"));

    // The subject gets the link by e-mail, and the page shows what is held.
    let token = app.invitation_token(&email).await;
    let page = app
        .client
        .get(app.url(&format!("/s/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("Kids Abroad") && html.contains("de Vries") && html.contains("Teacher"));
    assert!(html.contains("Ik geef toestemming") && !html.contains("<script"));
    assert!(!html.contains("123456782"), "the BSN is masked on the page");

    let invitation = app
        .call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(invitation.status, 200);
    assert_eq!(invitation.body["status"], "awaiting_consent");
    assert_eq!(invitation.body["actions"], json!(["consent", "decline"]));
    assert_eq!(
        invitation.body["subject"]["referees"][0]["name"],
        "Marieke Jansen"
    );
}

#[tokio::test]
async fn consent_moves_the_request_to_in_progress() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    let id = app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let path = format!("/v1/invitations/{token}/consent");
    app.call(Method::POST, &path, None, Some(json!({"consent": false})))
        .await
        .assert_problem(422);
    let reply = app
        .call(Method::POST, &path, None, Some(json!({"consent": true})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["status"], "in_progress");
    app.call(Method::POST, &path, None, Some(json!({"consent": true})))
        .await
        .assert_problem(409);
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "in_progress");
    let row = screening_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.version, 2);
    assert!(row.consented_at.is_some());
    let kinds = event_types(&app, &id.to_string(), &key).await;
    assert_eq!(kinds, ["created", "consented"]);
}

#[tokio::test]
async fn the_subject_declines_from_the_page_and_the_organisation_sees_only_the_reason() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    let id = app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let reply = no_redirects
        .post(app.url(&format!("/s/{token}/decline")))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("reason", "data_incorrect"),
            ("message", "My birth date is wrong: it is 1991."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "declined");
    assert_eq!(view.body["decline_reason"], "data_incorrect");
    assert!(
        !view.text.contains("1991"),
        "the message stays with safescreen"
    );
    // Consent after declining: 409.
    app.consent(&token).await.assert_problem(409);
    // The organisation can rescreen with corrected data later; a rescreen links the two.
    let again = app
        .post(
            &format!("/v1/screening-requests/{id}/rescreen"),
            &key,
            json!({"reference": "HR-2"}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["rescreen_of"], id.to_string());
    assert_eq!(again.body["status"], "awaiting_consent");
    assert_eq!(again.body["reference"], "HR-2");
    let without_body = app
        .call(
            Method::POST,
            &format!("/v1/screening-requests/{id}/rescreen"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(without_body.status, 201, "{}", without_body.text);
    assert_eq!(without_body.body["reference"], "HR-2026-0042");
    // `null`, which the document allows for the optional body, is no body.
    let null_body = app
        .post(
            &format!("/v1/screening-requests/{id}/rescreen"),
            &key,
            Value::Null,
        )
        .await;
    assert_eq!(null_body.status, 201, "{}", null_body.text);
    assert_eq!(null_body.body["reference"], "HR-2026-0042");
}

#[tokio::test]
async fn withdrawal_before_a_decision_and_consent_afterwards_is_409() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    let id = app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let reply = app
        .call(
            Method::POST,
            &format!("/v1/screening-requests/{id}/withdraw"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["status"], "withdrawn");
    app.call(
        Method::POST,
        &format!("/v1/screening-requests/{id}/withdraw"),
        Some(&key),
        None,
    )
    .await
    .assert_problem(409);
    app.consent(&token).await.assert_problem(409);
    // Withdrawn requests are not rescreened (and the body may be left out).
    app.call(
        Method::POST,
        &format!("/v1/screening-requests/{id}/rescreen"),
        Some(&key),
        None,
    )
    .await
    .assert_problem(409);
    app.post(
        &format!("/v1/screening-requests/{id}/rescreen"),
        &key,
        json!({}),
    )
    .await
    .assert_problem(409);
}

/// Publishes a workflow whose consent window is `window`, and a profile using it.
pub(crate) async fn profile_with_consent_window(app: &TestApp, window: &str) -> String {
    let identity = json!([{"id": "identity", "authorisation": "identity", "sla": "P1D"}]);
    profile_with_checks(app, window, identity).await
}

/// Publishes an auto-clearing workflow of these checks and consent window, and a profile
/// using it; returns the profile's code.
pub(crate) async fn profile_with_checks(app: &TestApp, window: &str, checks: Value) -> String {
    let key = format!("fast-{}", &Uuid::new_v4().simple().to_string()[..8]);
    let definition = json!({
        "key": key, "title": "Fast", "consent_window": window, "decision_deadline": "P1D",
        "checks": checks
    });
    let published = app
        .post("/v1/workflow-definitions", &app.admin_token, definition)
        .await;
    assert_eq!(published.status, 201, "{}", published.text);
    let profile = app
        .post(
            "/v1/screening-profiles",
            &app.admin_token,
            json!({"code": key, "title": "Fast", "description": "For tests", "workflow": {"key": key, "version": 1},
                   "validity_months": 12, "roles": ["volunteer", "staff"], "expiry_warning_days": 30}),
        )
        .await;
    assert_eq!(profile.status, 201, "{}", profile.text);
    key
}

#[tokio::test]
async fn an_unanswered_invitation_lapses_once_and_consent_then_is_409() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let profile = profile_with_consent_window(&app, "PT1S").await;
    let email = unique_email();
    let mut body = submission(&email);
    body["profile"] = json!(profile);
    let reply = app.post("/v1/screening-requests", &key, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let token = app.invitation_token(&email).await;
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app
            .get(&format!("/v1/screening-requests/{id}"), &key)
            .await
            .body["status"]
            .clone();
        if status == "lapsed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "lapsed");
    app.consent(&token).await.assert_problem(409);
    let kinds = event_types(&app, &id.to_string(), &key).await;
    assert_eq!(kinds, ["created", "lapsed"], "the timer fired once");
    let fired = entity::timer::Entity::find().all(&app.db).await.unwrap();
    assert!(fired.iter().all(|t| t.fired_at.is_some()));
}

#[tokio::test]
async fn a_lapse_timer_firing_after_consent_changes_nothing() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let profile = profile_with_consent_window(&app, "PT2S").await;
    let email = unique_email();
    let mut body = submission(&email);
    body["profile"] = json!(profile);
    let id = app.post("/v1/screening-requests", &key, body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.invitation_token(&email).await;
    let consent = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/consent"),
            None,
            Some(json!({"consent": true})),
        )
        .await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let timers = entity::timer::Entity::find().all(&app.db).await.unwrap();
    assert!(
        timers
            .iter()
            .filter(|t| t.kind == "consent_lapse")
            .all(|t| t.fired_at.is_some()),
        "the lapse timer fired"
    );
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "in_progress", "and changed nothing");
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_other_bodies_and_are_scoped_per_organisation() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    let send = |body: Value, idem: &'static str, key: String| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(app.url("/v1/screening-requests"))
                .bearer_auth(key)
                .header("idempotency-key", idem)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (first_status, first) = send(submission(&email), "key-1", key.clone()).await;
    assert_eq!(first_status, 201);
    // Same key, same body (keys in another order): the same request.
    let mut reordered = serde_json::Map::new();
    for (k, v) in submission(&email).as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    let (again_status, again) = send(Value::Object(reordered), "key-1", key.clone()).await;
    assert_eq!(again_status, 201);
    assert_eq!(again["id"], first["id"]);
    // Same key, another body: 422.
    let mut other = submission(&email);
    other["reference"] = json!("HR-OTHER");
    let (status, problem) = send(other, "key-1", key.clone()).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(request_count(&app).await, 1);
    // Another organisation's same key is its own.
    let (_, key_b) = org_with_key(&app).await;
    let (status_b, other_org) = send(submission(&email), "key-1", key_b).await;
    assert_eq!(status_b, 201);
    assert_ne!(other_org["id"], first["id"]);
    // Nothing personal is kept for a key.
    let stored = entity::idempotency_key::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|k| k.body_hash.len() == 64));
    let bad = app
        .client
        .post(app.url("/v1/screening-requests"))
        .bearer_auth(&key)
        .header("idempotency-key", "x".repeat(256))
        .json(&submission(&email))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn a_suspended_organisation_cannot_submit() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    app.patch(
        &format!("/v1/organisations/{org}"),
        &app.admin_token,
        json!({"status": "suspended"}),
    )
    .await;
    app.post("/v1/screening-requests", &key, submission(&unique_email()))
        .await
        .assert_problem(403);
    assert_eq!(request_count(&app).await, 0);
}

#[tokio::test]
async fn lists_filter_in_the_callers_view_and_page_newest_first() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.submit(&key, &unique_email()).await.to_string());
    }
    app.call(
        Method::POST,
        &format!("/v1/screening-requests/{}/withdraw", ids[0]),
        Some(&key),
        None,
    )
    .await;
    let page = app.get("/v1/screening-requests?limit=2", &key).await;
    assert_eq!(page.status, 200);
    let first: Vec<&str> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(first, [ids[4].as_str(), ids[3].as_str()]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/v1/screening-requests?limit=2&cursor={cursor}"),
            &key,
        )
        .await;
    assert_eq!(next.body["data"][0]["id"], ids[2]);
    let withdrawn = app
        .get("/v1/screening-requests?status=withdrawn", &key)
        .await;
    assert_eq!(withdrawn.body["data"].as_array().unwrap().len(), 1);
    let waiting = app
        .get(
            "/v1/screening-requests?status=awaiting_consent&profile=child-contact-abroad",
            &key,
        )
        .await;
    assert_eq!(waiting.body["data"].as_array().unwrap().len(), 4);
    let after = app
        .get(
            "/v1/screening-requests?created_after=2000-01-01T00:00:00Z",
            &key,
        )
        .await;
    assert_eq!(after.body["data"].as_array().unwrap().len(), 5);
    // Statuses beyond the organisation's view are refused.
    for hidden in [
        "intent_to_refuse",
        "assessment",
        "objection_review",
        "final_review",
        "nonsense",
    ] {
        app.get(&format!("/v1/screening-requests?status={hidden}"), &key)
            .await
            .assert_problem(422);
    }
    app.get("/v1/screening-requests?created_after=yesterday", &key)
        .await
        .assert_problem(422);
    // The admin sees the full status and the workflow.
    let admin = app
        .get(
            &format!("/v1/screening-requests/{}", ids[1]),
            &app.admin_token,
        )
        .await;
    assert_eq!(admin.body["full_status"], "awaiting_consent");
    assert_eq!(
        admin.body["workflow"],
        json!({"key": "child-contact", "version": 1})
    );
    let admin_filter = app
        .get("/v1/screening-requests?status=assessment", &app.admin_token)
        .await;
    assert_eq!(admin_filter.status, 200);
}

#[tokio::test]
async fn another_organisation_can_neither_read_nor_change_a_request() {
    let app = spawn_app().await;
    let (_, key_a) = org_with_key(&app).await;
    let (_, key_b) = org_with_key(&app).await;
    let id = app.submit(&key_a, &unique_email()).await;
    app.get(&format!("/v1/screening-requests/{id}"), &key_b)
        .await
        .assert_problem(404);
    app.get(&format!("/v1/screening-requests/{id}/events"), &key_b)
        .await
        .assert_problem(404);
    app.call(
        Method::POST,
        &format!("/v1/screening-requests/{id}/withdraw"),
        Some(&key_b),
        None,
    )
    .await
    .assert_problem(404);
    app.post(
        &format!("/v1/screening-requests/{id}/rescreen"),
        &key_b,
        json!({}),
    )
    .await
    .assert_problem(404);
    let listed = app.get("/v1/screening-requests", &key_b).await;
    assert_eq!(listed.body["data"], json!([]));
    let row = screening_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "awaiting_consent");
    assert_eq!(row.version, 1);
    assert_eq!(request_count(&app).await, 1);
}

#[tokio::test]
async fn unknown_and_garbage_invitation_tokens_are_404() {
    let app = spawn_app().await;
    let forged = format!("ss_inv_{}", "A".repeat(43));
    for token in [forged.as_str(), "garbage", "ss_inv_"] {
        app.call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
            .await
            .assert_problem(404);
        app.consent(token).await.assert_problem(404);
        let page = app
            .client
            .get(app.url(&format!("/s/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 404);
    }
}

#[tokio::test]
async fn unknown_invitation_tokens_are_slowed_down_past_the_configured_limit() {
    async fn lookups(app: &TestApp) -> Vec<u16> {
        let mut statuses = Vec::new();
        for i in 0..6 {
            let token = format!("ss_inv_{}{i}", "A".repeat(42));
            let reply = app
                .call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
                .await;
            statuses.push(reply.status.as_u16());
        }
        statuses
    }
    // Three free failures: the fourth is still answered, then the client waits.
    let app = spawn_app_with(&[("SAFESCREEN_INVITATION_LOOKUP_LIMIT", "3")]).await;
    let statuses = lookups(&app).await;
    assert_eq!(statuses[..4], [404, 404, 404, 404], "{statuses:?}");
    assert_eq!(statuses[4..], [429, 429], "{statuses:?}");
    // By default twenty.
    let app = spawn_app().await;
    assert_eq!(lookups(&app).await, [404; 6]);
}

#[tokio::test]
async fn personal_data_is_encrypted_at_rest() {
    let app = spawn_app().await;
    if app.database.is_postgres() {
        return; // The SQLite file is read byte by byte; PostgreSQL stores the same sealed values.
    }
    let (_, key) = org_with_key(&app).await;
    let email = "unmistakable.subject@example.org";
    app.submit(&key, email).await;
    // Decline with a message, so free text is stored too.
    let token = app.invitation_token(email).await;
    app.call(
        Method::POST,
        &format!("/v1/invitations/{token}/decline"),
        None,
        Some(json!({"reason": "other", "message": "Xylophonic secret message"})),
    )
    .await;
    // Checkpoint the WAL into the main file, then read every byte of both.
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, "PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    let dir = app.database.dir.path();
    let mut bytes = std::fs::read(dir.join("test.db")).unwrap();
    bytes.extend(std::fs::read(dir.join("test.db-wal")).unwrap_or_default());
    use base64::Engine;
    for secret in [
        "Jan Pieter",
        "de Vries",
        email,
        "1990-04-12",
        "123456782",
        "Xylophonic",
        "Marieke",
        "kinderhulp",
    ] {
        let forms = [
            secret.as_bytes().to_vec(),
            base64::engine::general_purpose::STANDARD
                .encode(secret)
                .into_bytes(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(secret)
                .into_bytes(),
            hex::encode(secret).into_bytes(),
        ];
        for form in forms {
            assert!(
                !bytes
                    .windows(form.len())
                    .any(|w| w.eq_ignore_ascii_case(&form)),
                "{secret:?} found in the database file"
            );
        }
    }
}

#[tokio::test]
async fn retention_erases_an_ended_requests_personal_data_and_the_link() {
    let app = spawn_app_with(&[("SAFESCREEN_RETENTION_DAYS", "0")]).await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    let id = app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let declined = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/decline"),
            None,
            Some(json!({"reason": "not_consenting"})),
        )
        .await;
    assert_eq!(declined.status, 200);
    let mut row = None;
    for _ in 0..200 {
        let found = screening_request::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if found.erased_at.is_some() {
            row = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let row = row.expect("erased");
    assert!(row.subject_sealed.is_none() && row.invitation_token_hash.is_none());
    assert_eq!(row.status, "declined", "the row stays, anonymous");
    app.call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
        .await
        .assert_problem(404);
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.status, 200);
    assert!(view.body["subject"]["given_names"].is_null());
    app.post(
        &format!("/v1/screening-requests/{id}/rescreen"),
        &key,
        json!({}),
    )
    .await
    .assert_problem(409);
    app.wait_for_audit_chain().await;
    let audit = app
        .get(
            &format!("/v1/audit-events?target=screening_request:{id}"),
            &app.admin_token,
        )
        .await;
    assert!(
        audit
            .text
            .contains("screening_request.personal_data_erased"),
        "{}",
        audit.text
    );
    // A request still awaiting consent is kept.
    let waiting = app.submit(&key, &unique_email()).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let kept = screening_request::Entity::find_by_id(waiting)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(kept.subject_sealed.is_some());
}

#[tokio::test]
async fn each_timer_fires_once_with_two_servers_on_one_database() {
    let first = spawn_app().await;
    let second = spawn_second_app(&first).await;
    let (_, key) = org_with_key(&first).await;
    let profile = profile_with_consent_window(&first, "PT1S").await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let mut body = submission(&unique_email());
        body["profile"] = json!(profile);
        let reply = first.post("/v1/screening-requests", &key, body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        ids.push(reply.body["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    }
    // Both servers' workers race for the same due timers.
    for _ in 0..200 {
        let lapsed = entity::request_event::Entity::find()
            .all(&first.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "lapsed")
            .count();
        if lapsed >= ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &ids {
        let events = entity::request_event::Entity::find()
            .all(&first.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.request_id == *id && e.kind == "lapsed")
            .count();
        assert_eq!(events, 1, "request {id} lapsed exactly once");
        let row = screening_request::Entity::find_by_id(*id)
            .one(&first.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.status.as_str(), row.version), ("lapsed", 2));
    }
    drop(second);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_request() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let body = submission(&unique_email());
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (client, url, key, body) = (
            app.client.clone(),
            app.url("/v1/screening-requests"),
            key.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(key)
                .header("idempotency-key", "same-key")
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => ids.push(body["id"].as_str().unwrap().to_owned()),
            409 => assert_eq!(body["status"], 409, "in flight: {body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every answer names the same request"
    );
    assert_eq!(request_count(&app).await, 1);
    // Once the first has finished, a retry is answered with it (nothing stays stuck at 409).
    let retry = app
        .client
        .post(app.url("/v1/screening-requests"))
        .bearer_auth(&key)
        .header("idempotency-key", "same-key")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 201);
}

/// Submissions that arrive together are committed together, yet each gets its own answer:
/// a bad one in the crowd fails alone, and every good one is written whole.
#[tokio::test]
async fn concurrent_submissions_each_get_their_own_answer() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    for n in 0..4 {
        let earlier = app
            .client
            .post(app.url("/v1/screening-requests"))
            .bearer_auth(&key)
            .header("idempotency-key", format!("earlier-{n}"))
            .json(&submission(&unique_email()))
            .send()
            .await
            .unwrap();
        assert_eq!(earlier.status(), 201);
    }

    // 24 good ones (half with their own keys), 4 for a profile that does not exist and 4
    // reusing an earlier key with another body, all at once.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let mut body = submission(&unique_email());
        let idempotency_key = match i % 8 {
            0 => {
                body["profile"] = json!("no-such-profile");
                None
            }
            1 => Some(format!("earlier-{}", i / 8)),
            n if n % 2 == 0 => Some(format!("own-{i}")),
            _ => None,
        };
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v1/screening-requests"),
            key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut request = client.post(url).bearer_auth(key).json(&body);
            if let Some(k) = idempotency_key {
                request = request.header("idempotency-key", k);
            }
            let response = request.send().await.unwrap();
            (
                i % 8,
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }));
    }
    let mut created = std::collections::HashSet::new();
    for task in tasks {
        let (kind, status, body) = task.await.unwrap();
        match kind {
            0 => {
                assert_eq!(status, 422, "{body}");
                assert_eq!(body["errors"][0]["field"], "profile", "{body}");
            }
            1 => {
                assert_eq!(status, 422, "{body}");
                assert_eq!(body["errors"][0]["field"], "Idempotency-Key", "{body}");
            }
            _ => {
                assert_eq!(status, 201, "{body}");
                assert_eq!(body["status"], "awaiting_consent");
                assert!(created.insert(body["id"].as_str().unwrap().to_owned()));
            }
        }
    }
    assert_eq!(created.len(), 24);
    assert_eq!(request_count(&app).await, 4 + 24);
    // Each new request was written whole: its timeline entry, lapse timer and invitation.
    for id in &created {
        let id: Uuid = id.parse().unwrap();
        use sea_orm::{ColumnTrait, QueryFilter};
        let events = entity::request_event::Entity::find()
            .filter(entity::request_event::Column::RequestId.eq(id))
            .count(&app.db)
            .await
            .unwrap();
        let timers = entity::timer::Entity::find()
            .filter(entity::timer::Column::RequestId.eq(id))
            .count(&app.db)
            .await
            .unwrap();
        let mails = entity::mail_outbox::Entity::find()
            .filter(entity::mail_outbox::Column::RequestId.eq(id))
            .count(&app.db)
            .await
            .unwrap();
        // The lapse and the two default reminders (P7D, P2D) of a 14-day consent window.
        assert_eq!((events, timers, mails), (1, 3, 1), "request {id}");
    }
    let keys = entity::idempotency_key::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(keys, 4 + 12, "the earlier keys and one per own key");
}
