//! The sandbox: `mode: sandbox` keys whose requests reach no person, move on by themselves by
//! the subject's address, through the same engine and timers as live ones, and never meet a
//! live caller, checker, metric or webhook endpoint (nor the other way round).
use std::time::Duration;

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::*,
    webhooks::{Receiver, start_receiver},
};

/// An organisation with its org_admin, a live key and a sandbox key.
struct Organisation {
    id: Uuid,
    admin: String,
    live: String,
    sandbox: String,
}

async fn organisation(app: &TestApp, name: &str) -> Organisation {
    let id = app.create_organisation(name).await;
    let (_, admin) = app.create_member(id, "org_admin").await;
    let (_, live) = app.create_api_key(id).await;
    let created = app
        .post(
            &format!("/v1/organisations/{id}/api-keys"),
            &admin,
            json!({"name": "sandbox", "mode": "sandbox"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let sandbox = created.body["key"].as_str().unwrap().to_owned();
    Organisation {
        id,
        admin,
        live,
        sandbox,
    }
}

fn subject(path: &str) -> String {
    format!("anna.{}+{path}@example.org", Uuid::new_v4().simple())
}

/// Waits for the request to reach `status` (in the organisation's view).
async fn wait_for_status(app: &TestApp, key: &str, id: Uuid, status: &str) -> Value {
    let mut request = Value::Null;
    for _ in 0..400 {
        request = app
            .get(&format!("/v1/screening-requests/{id}"), key)
            .await
            .body;
        if request["status"] == status {
            return request;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("request {id} never became {status}: {request}");
}

/// The event types a receiver got for a request, in order, each verified.
fn events_of(receiver: &Receiver, secret: &str, id: Uuid) -> Vec<(String, Value)> {
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    let received = receiver.received.lock().unwrap().clone();
    let mut events = Vec::new();
    for (headers, body) in received {
        let mut standard = http::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            standard.insert(name, headers[name].to_str().unwrap().parse().unwrap());
        }
        verifier
            .verify(&body, &standard)
            .expect("a signed delivery");
        let event: Value = serde_json::from_slice(&body).unwrap();
        if event["data"]["id"] == id.to_string() {
            events.push((event["type"].as_str().unwrap().to_owned(), event));
        }
    }
    events
}

#[tokio::test]
async fn sandbox_keys_are_ss_test_and_mode_test_is_refused() {
    let app = spawn_app().await;
    let org = organisation(&app, "Kids Abroad").await;
    assert!(org.sandbox.starts_with("ss_test_"), "{}", org.sandbox);
    assert!(org.live.starts_with("ss_key_"), "{}", org.live);
    let me = app.get("/v1/me", &org.sandbox).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["role"], "org_requester");
    let keys = app
        .get(
            &format!("/v1/organisations/{}/api-keys", org.id),
            &org.admin,
        )
        .await;
    let modes: Vec<&str> = keys.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["mode"].as_str().unwrap())
        .collect();
    assert!(
        modes.contains(&"live") && modes.contains(&"sandbox"),
        "{modes:?}"
    );

    let before = crate::authorization::state_of(&app.db).await;
    let refused = app
        .post(
            &format!("/v1/organisations/{}/api-keys", org.id),
            &org.admin,
            json!({"name": "test", "mode": "test"}),
        )
        .await;
    refused.assert_problem(422);
    assert_eq!(refused.problem_fields(), ["mode"]);
    assert_eq!(crate::authorization::state_of(&app.db).await, before);
}

#[tokio::test]
async fn sandbox_and_live_never_meet() {
    let app = spawn_app_with(&[
        ("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true"),
        // An SMTP server nobody answers at: a live e-mail waits for it; the sandbox's never
        // tries and lands in the mail drop.
        (
            "SAFESCREEN_SMTP_URL",
            &format!("smtp://127.0.0.1:{}", free_port()),
        ),
    ])
    .await;
    let org = organisation(&app, "Kids Abroad").await;
    let (_, checker) = app.create_checker(false).await;
    let (_, supervisor) = app.create_checker(true).await;
    let (live_receiver, live_url) = start_receiver(&[]).await;
    let (sandbox_receiver, sandbox_url) = start_receiver(&[]).await;
    let live_endpoint = app
        .create_webhook_endpoint(&org.admin, &live_url, &["*"])
        .await;
    let sandbox_endpoint = app
        .create_webhook_endpoint(&org.sandbox, &sandbox_url, &["*"])
        .await;
    assert_eq!(sandbox_endpoint.status, 201, "{}", sandbox_endpoint.text);
    // A live key may not manage webhook endpoints; each side lists its own only.
    app.create_webhook_endpoint(&org.live, &live_url, &["*"])
        .await
        .assert_problem(403);
    for (token, endpoint) in [
        (&org.admin, &live_endpoint),
        (&org.sandbox, &sandbox_endpoint),
    ] {
        let listed = app.get("/v1/webhook-endpoints", token).await;
        let ids: Vec<&Value> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["id"])
            .collect();
        assert_eq!(ids, [&endpoint.body["id"]]);
    }
    let other_side = format!(
        "/v1/webhook-endpoints/{}/deliveries",
        live_endpoint.body["id"].as_str().unwrap()
    );
    app.get(&other_side, &org.sandbox).await.assert_problem(404);
    // A sandbox receiver nobody answers at: its deliveries wait, but not in the live metrics.
    let unanswered = app
        .create_webhook_endpoint(
            &org.sandbox,
            &format!("http://127.0.0.1:{}/hook", free_port()),
            &["*"],
        )
        .await;
    assert_eq!(unanswered.status, 201, "{}", unanswered.text);

    let live_email = format!("live-{}@example.org", Uuid::new_v4().simple());
    let live = app.submit(&org.live, &live_email).await;
    let sandboxed = app.submit(&org.sandbox, &subject("clear")).await;
    let waiting_email = format!("w-{}@example.org", Uuid::new_v4().simple());
    let waiting = app.submit(&org.sandbox, &waiting_email).await;

    // Each key sees its own side only; everyone else the live side only.
    for (token, own, other) in [
        (&org.sandbox, sandboxed, live),
        (&org.live, live, sandboxed),
    ] {
        let listed = app.get("/v1/screening-requests", token).await;
        let ids: Vec<String> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            ids.contains(&own.to_string()) && !ids.contains(&other.to_string()),
            "{ids:?}"
        );
        app.get(&format!("/v1/screening-requests/{other}"), token)
            .await
            .assert_problem(404);
        app.post(
            &format!("/v1/screening-requests/{other}/withdraw"),
            token,
            json!(null),
        )
        .await
        .assert_problem(404);
    }
    for token in [&org.admin, &app.admin_token, &supervisor, &checker] {
        let reply = app
            .get(&format!("/v1/screening-requests/{sandboxed}"), token)
            .await;
        assert_eq!(reply.status, 404, "{}", reply.text);
    }
    let live_view = app
        .get(&format!("/v1/screening-requests/{live}"), &org.live)
        .await;
    assert_eq!(live_view.body["livemode"], true);
    assert!(live_view.body["invitation"].get("sandbox_link").is_none());
    let waiting_view = app
        .get(&format!("/v1/screening-requests/{waiting}"), &org.sandbox)
        .await;
    assert_eq!(waiting_view.body["livemode"], false);
    let link = waiting_view.body["invitation"]["sandbox_link"]
        .as_str()
        .unwrap();
    assert!(link.contains("/s/ss_inv_"), "{link}");

    // The sandbox request clears by itself; no person ever had its tasks.
    let cleared = wait_for_status(&app, &org.sandbox, sandboxed, "cleared").await;
    assert_eq!(cleared["decision"]["outcome"], "cleared");
    for token in [&app.admin_token, &supervisor, &checker] {
        let tasks = app
            .get(&format!("/v1/tasks?request_id={sandboxed}"), token)
            .await;
        assert_eq!(tasks.body["data"], json!([]), "{}", tasks.text);
    }
    let sandbox_tasks = entity::task::Entity::find().all(&app.db).await.unwrap();
    let sandbox_tasks: Vec<_> = sandbox_tasks
        .iter()
        .filter(|t| t.request_id == sandboxed)
        .collect();
    assert!(!sandbox_tasks.is_empty());
    for task in &sandbox_tasks {
        assert!(task.sandbox && task.assignee_id.is_none(), "{task:?}");
        app.get(&format!("/v1/tasks/{}", task.id), &app.admin_token)
            .await
            .assert_problem(404);
    }

    // Its certificate is signed, but by a key the JWKS leaves out, and it clears no one.
    let certificate = app
        .get(
            &format!("/v1/screening-requests/{sandboxed}/certificate"),
            &org.sandbox,
        )
        .await;
    assert_eq!(certificate.status, 200, "{}", certificate.text);
    let jws = certificate.body["jws"].as_str().unwrap();
    let verified = crate::certificates::verify(&app, jws).await;
    assert_eq!(verified.body["valid"], false);
    assert_eq!(verified.body["status"], "invalid");
    assert_eq!(verified.body["reason"], "sandbox");
    let header: Value = {
        use base64::Engine;
        let part = jws.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    let jwks = app.public_text("/.well-known/jwks.json").await;
    assert!(
        !jwks.contains(header["kid"].as_str().unwrap()),
        "the sandbox key is not published"
    );

    // Webhooks: each endpoint got its own side's events only, `livemode` saying which.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sandbox_secret = sandbox_endpoint.body["secret"].as_str().unwrap();
    let live_secret = live_endpoint.body["secret"].as_str().unwrap();
    assert!(events_of(&live_receiver, live_secret, sandboxed).is_empty());
    assert!(events_of(&sandbox_receiver, sandbox_secret, live).is_empty());
    let sandbox_events = events_of(&sandbox_receiver, sandbox_secret, sandboxed);
    assert!(!sandbox_events.is_empty());
    assert!(sandbox_events.iter().all(|(_, e)| e["livemode"] == false));
    let live_events = events_of(&live_receiver, live_secret, live);
    assert!(!live_events.is_empty() && live_events.iter().all(|(_, e)| e["livemode"] == true));

    // E-mail: the sandbox's went to the drop; the live one is still waiting for SMTP.
    let mailed = app.mailed_link(&waiting_email, "/s/").await;
    assert!(
        link.ends_with(&format!("/s/{mailed}")),
        "the mail drop has the sandbox's invitation"
    );
    let outbox = entity::mail_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let live_mail = outbox.iter().find(|m| m.request_id == Some(live)).unwrap();
    assert!(
        live_mail.sent_at.is_none(),
        "the live e-mail went nowhere: SMTP does not answer"
    );
    let waiting_mail = outbox
        .iter()
        .find(|m| m.request_id == Some(waiting))
        .unwrap();
    assert!(
        waiting_mail.sent_at.is_some(),
        "the sandbox e-mail went to the drop"
    );

    // /metrics counts the live side only: the unanswered sandbox endpoint's deliveries wait,
    // the live ones were delivered.
    let waiting_sandbox = entity::webhook_delivery::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.delivered_at.is_none() && d.endpoint_id.to_string() == unanswered.body["id"])
        .count();
    assert!(waiting_sandbox > 0);
    let metrics = app.public_text("/metrics").await;
    assert!(
        metrics.contains("safescreen_outbox_backlog{kind=\"webhook\"} 0\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn each_sandbox_path_ends_in_its_status_with_a_live_requests_webhooks() {
    let app = spawn_app_with(&[("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let org = organisation(&app, "Kids Abroad").await;
    let (receiver, url) = start_receiver(&[]).await;
    let endpoint = app
        .create_webhook_endpoint(&org.sandbox, &url, &["*"])
        .await;
    let secret = endpoint.body["secret"].as_str().unwrap().to_owned();
    let paths = [
        ("clear", "cleared", vec!["created", "consented", "decided"]),
        ("refuse", "refused", vec!["created", "consented", "decided"]),
        ("decline", "declined", vec!["created", "declined"]),
        ("lapse", "lapsed", vec!["created", "lapsed"]),
        (
            "withdraw",
            "declined",
            vec!["created", "consented", "declined"],
        ),
    ];
    let mut submitted = Vec::new();
    for (path, _, _) in &paths {
        submitted.push(app.submit(&org.sandbox, &subject(path)).await);
    }
    for ((path, status, events), id) in paths.iter().zip(&submitted) {
        let request = wait_for_status(&app, &org.sandbox, *id, status).await;
        match *path {
            "clear" => assert_eq!(request["decision"]["outcome"], "cleared"),
            "refuse" => assert_eq!(request["decision"]["outcome"], "refused"),
            "withdraw" => assert_eq!(request["decline_reason"], "consent_withdrawn"),
            "decline" => assert_eq!(request["decline_reason"], "not_consenting"),
            _ => {}
        }
        let mut got = Vec::new();
        for _ in 0..100 {
            got = events_of(&receiver, &secret, *id);
            if got.len() >= events.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let types: Vec<String> = got.iter().map(|(t, _)| t.clone()).collect();
        let expected: Vec<String> = events
            .iter()
            .map(|e| format!("screening_request.{e}"))
            .collect();
        assert_eq!(types, expected, "{path}");
        assert!(got.iter().all(|(_, e)| e["livemode"] == false), "{path}");
        if *path == "refuse" {
            let decided = &got.last().unwrap().1;
            assert_eq!(decided["data"]["outcome"], "refused");
            // Nothing the organisation may not see: no grounds, no intent to refuse.
            assert!(!decided.to_string().contains("concern"), "{decided}");
        }
    }
}

#[tokio::test]
async fn the_sandbox_is_erased_after_a_day() {
    let app = spawn_app().await;
    let org = organisation(&app, "Kids Abroad").await;
    let id = app
        .submit(
            &org.sandbox,
            &format!("w-{}@example.org", Uuid::new_v4().simple()),
        )
        .await;
    let live = app
        .submit(
            &org.live,
            &format!("l-{}@example.org", Uuid::new_v4().simple()),
        )
        .await;
    for request in [id, live] {
        let row = entity::screening_request::Entity::find_by_id(request)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let created_at = row.created_at - time::Duration::days(2);
        let mut row = row.into_active_model();
        row.created_at = Set(created_at);
        row.update(&app.db).await.unwrap();
    }
    let mut erased = None;
    for _ in 0..100 {
        let row = entity::screening_request::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if row.erased_at.is_some() {
            erased = Some(row);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let erased = erased.expect("the sandbox request was erased");
    assert!(erased.subject_sealed.is_none() && erased.invitation_token_hash.is_none());
    let kept = entity::screening_request::Entity::find_by_id(live)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.erased_at.is_none() && kept.subject_sealed.is_some(),
        "live requests keep their term"
    );
}

#[tokio::test]
async fn the_portal_says_which_key_is_the_sandbox_s() {
    let app = spawn_app().await;
    let org = organisation(&app, "Kids Abroad").await;
    let (_, email) = app.member_account(org.id, "org_admin").await;
    let mut browser = crate::pages::Browser::new(&app);
    browser.sign_in(&email, USER_PASSWORD, None).await;
    let page = browser.get("/org/api-keys").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body
            .matches("Sandbox key: its requests reach no one")
            .count(),
        1,
        "one of the two keys is the sandbox's: {}",
        page.body
    );
}
