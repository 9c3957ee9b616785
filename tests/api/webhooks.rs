//! Webhooks: registration with SSRF protection, signed delivery verified by an independent
//! Standard Webhooks implementation, retries, 410, and the delivery log.
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// A local receiver that records what it gets and answers with queued status codes (then 200).
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.received.lock().unwrap().push((headers, body));
    let code = receiver.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(code).unwrap()
}

pub(crate) async fn start_receiver(answers: &[u16]) -> (Receiver, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    (serve_receiver(listener, answers), url)
}

fn serve_receiver(listener: tokio::net::TcpListener, answers: &[u16]) -> Receiver {
    let receiver = Receiver::default();
    receiver.answers.lock().unwrap().extend(answers);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    receiver
}

/// The Standard Webhooks headers of a received delivery.
fn standard_headers(headers: &HeaderMap) -> http::HeaderMap {
    let mut standard = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        standard.insert(name, headers[name].to_str().unwrap().parse().unwrap());
    }
    standard
}

async fn wait_for(receiver: &Receiver, count: usize) -> Vec<(HeaderMap, Bytes)> {
    for _ in 0..200 {
        if receiver.received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    receiver.received.lock().unwrap().clone()
}

/// The endpoint's delivery log once its newest delivery is delivered (or after 2.5 s).
async fn delivered_log(app: &TestApp, endpoint_id: &str, org_admin: &str) -> Value {
    let path = format!("/v1/webhook-endpoints/{endpoint_id}/deliveries");
    let mut log = Value::Null;
    for _ in 0..100 {
        log = app.get(&path, org_admin).await.body;
        if log["data"][0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    log
}

#[tokio::test]
async fn strict_mode_refuses_http_private_loopback_link_local_and_metadata_targets() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    for url in [
        "http://hooks.example.org/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/x",
        "https://[::1]/x",
        "https://localhost/x",
        // A public address too: a target is named, so every delivery can check its DNS.
        "https://93.184.216.34/x",
        // What no DNS name holds, though the url crate would take it (a fuzzer's finding).
        "https://hooks.example.org*/x",
        "https://hooks_1.example.org/x",
        "https://hooks.example.org./x",
        "https://hooks.example.org:0/x",
        "https://user:pass@hooks.example.org/x",
        "not a url",
        // What RFC 3986 does not allow, though the url crate would take it.
        "https://hooks.example.org/a%zz",
        "https://hooks.example.org/a b",
    ] {
        let reply = app.create_webhook_endpoint(&org_admin, url, &["*"]).await;
        reply.assert_problem(422);
        assert_eq!(reply.problem_fields(), ["url"], "{url}: {}", reply.text);
    }
    let unknown = app
        .create_webhook_endpoint(&org_admin, "https://hooks.example.org/x", &["tea.time"])
        .await;
    unknown.assert_problem(422);
    assert_eq!(unknown.problem_fields(), ["events[0]"]);
    // A name that does not resolve (yet) is taken: every delivery resolves it again.
    let later = app
        .create_webhook_endpoint(&org_admin, "https://hooks.invalid/x", &["*"])
        .await;
    assert_eq!(later.status, 201, "{}", later.text);
    let later = later.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/v1/webhook-endpoints/{later}"), &org_admin)
            .await
            .status,
        204
    );
    // A public address is accepted; the secret is shown once.
    let created = app
        .create_webhook_endpoint(&org_admin, "https://hooks.example.org/x", &["*"])
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let list = app.get("/v1/webhook-endpoints", &org_admin).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains(secret));
    // Another organisation sees nothing of it.
    let other = app.create_organisation("Other").await;
    let (_, other_admin) = app.create_member(other, "org_admin").await;
    let id = created.body["id"].as_str().unwrap();
    app.get(
        &format!("/v1/webhook-endpoints/{id}/deliveries"),
        &other_admin,
    )
    .await
    .assert_problem(404);
    app.delete(&format!("/v1/webhook-endpoints/{id}"), &other_admin)
        .await
        .assert_problem(404);
    assert_eq!(
        app.get("/v1/webhook-endpoints", &other_admin).await.body["data"],
        json!([])
    );
    assert_eq!(
        app.delete(&format!("/v1/webhook-endpoints/{id}"), &org_admin)
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn events_are_delivered_signed_in_the_organisations_view() {
    let app = spawn_app_with(&[("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, key) = app.create_api_key(org).await;
    let (receiver, url) = start_receiver(&[]).await;
    let created = app.create_webhook_endpoint(&org_admin, &url, &["*"]).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_owned();

    let email = format!("s-{}@example.org", Uuid::new_v4().simple());
    let id = app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    app.consent(&token).await;

    let received = wait_for(&receiver, 2).await;
    assert_eq!(received.len(), 2);
    let verifier =
        standardwebhooks::Webhook::new(&secret).expect("secret in the Standard Webhooks format");
    let mut types = Vec::new();
    for (headers, body) in &received {
        verifier
            .verify(body, &standard_headers(headers))
            .expect("a valid Standard Webhooks signature");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["data"]["id"], id.to_string());
        assert!(event["timestamp"].is_string());
        let text = String::from_utf8_lossy(body);
        assert!(
            !text.contains("de Vries") && !text.contains(&email),
            "no personal data in webhooks"
        );
        types.push((
            event["type"].as_str().unwrap().to_owned(),
            event["data"]["status"].as_str().unwrap().to_owned(),
        ));
    }
    types.sort();
    assert_eq!(
        types,
        [
            (
                "screening_request.consented".to_owned(),
                "in_progress".to_owned()
            ),
            (
                "screening_request.created".to_owned(),
                "awaiting_consent".to_owned()
            )
        ]
    );
    // A tampered body does not verify.
    let (headers, body) = &received[0];
    let standard = standard_headers(headers);
    let mut forged = body.to_vec();
    forged[2] ^= 1;
    assert!(verifier.verify(&forged, &standard).is_err());
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_and_410_disables_the_endpoint() {
    let app = spawn_app_with(&[
        ("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SAFESCREEN_WEBHOOK_RETRY_SCHEDULE", "PT0.1S,PT0.1S,PT0.1S"),
    ])
    .await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, key) = app.create_api_key(org).await;
    let (receiver, url) = start_receiver(&[500, 503]).await;
    let endpoint = app
        .create_webhook_endpoint(&org_admin, &url, &["screening_request.created"])
        .await;
    let endpoint_id = endpoint.body["id"].as_str().unwrap().to_owned();
    app.submit(&key, &format!("s-{}@example.org", Uuid::new_v4().simple()))
        .await;
    let received = wait_for(&receiver, 3).await;
    assert_eq!(received.len(), 3);
    let ids: Vec<&str> = received
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the webhook-id is stable across retries"
    );
    let log = delivered_log(&app, &endpoint_id, &org_admin).await;
    let delivery = &log["data"][0];
    assert_eq!(delivery["state"], "delivered");
    assert_eq!(delivery["id"], ids[0]);
    let codes: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 503, 200]);

    // 410 Gone: given up, and the endpoint disabled.
    receiver.answers.lock().unwrap().push_back(410);
    app.submit(&key, &format!("s-{}@example.org", Uuid::new_v4().simple()))
        .await;
    wait_for(&receiver, 4).await;
    let mut active = Value::Null;
    for _ in 0..100 {
        active =
            app.get("/v1/webhook-endpoints", &org_admin).await.body["data"][0]["active"].clone();
        if active == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(active, false);
    // Nothing more is sent to a disabled endpoint.
    app.submit(&key, &format!("s-{}@example.org", Uuid::new_v4().simple()))
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = spawn_app_with(&[
        ("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SAFESCREEN_WEBHOOK_RETRY_SCHEDULE", "PT0.1S"),
    ])
    .await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, key) = app.create_api_key(org).await;
    // The receiver answers 307 (towards itself) and then 200: the 307 counts as a failure.
    let (receiver, url) = start_receiver(&[307]).await;
    let endpoint = app.create_webhook_endpoint(&org_admin, &url, &["*"]).await;
    let endpoint_id = endpoint.body["id"].as_str().unwrap().to_owned();
    app.submit(&key, &format!("s-{}@example.org", Uuid::new_v4().simple()))
        .await;
    wait_for(&receiver, 2).await;
    let log = delivered_log(&app, &endpoint_id, &org_admin).await;
    let codes: Vec<i64> = log["data"][0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [307, 200]);
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        2,
        "each attempt was one POST, no redirect followed"
    );
}

/// A receiver that is down for a while, then answers 500 for a while: every event arrives in
/// the end, signed, each `webhook-id` once after removing retries; the delivery log shows the
/// retries; `timestamp` and `status` put each request's events in order.
#[tokio::test]
async fn a_receiver_down_then_failing_gets_every_event_in_the_end() {
    let schedule = vec!["PT0.2S"; 60].join(",");
    let app = spawn_app_with(&[
        ("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SAFESCREEN_WEBHOOK_RETRY_SCHEDULE", &schedule),
        ("SAFESCREEN_WORKER_INTERVAL_MS", "100"),
    ])
    .await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, key) = app.create_api_key(org).await;
    // Down: nothing listens on the endpoint's port yet.
    let port = free_port();
    let created = app
        .create_webhook_endpoint(&org_admin, &format!("http://127.0.0.1:{port}/hook"), &["*"])
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let endpoint_id = created.body["id"].as_str().unwrap().to_owned();

    // Events meanwhile: created, consented and withdrawn, declined, created alone.
    let mut expected_events = 0;
    let mut timelines: Vec<(Uuid, Vec<&str>)> = Vec::new();
    for n in 0..6 {
        let email = format!("s-{}@example.org", Uuid::new_v4().simple());
        let id = app.submit(&key, &email).await;
        let token = app.invitation_token(&email).await;
        let statuses = match n % 3 {
            0 => {
                assert_eq!(app.consent(&token).await.status, 200);
                let withdrawn = app
                    .post(
                        &format!("/v1/screening-requests/{id}/withdraw"),
                        &key,
                        json!({}),
                    )
                    .await;
                assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
                vec!["awaiting_consent", "in_progress", "withdrawn"]
            }
            1 => {
                let declined = app
                    .call(
                        reqwest::Method::POST,
                        &format!("/v1/invitations/{token}/decline"),
                        None,
                        Some(json!({"reason": "not_consenting"})),
                    )
                    .await;
                assert_eq!(declined.status, 200);
                vec!["awaiting_consent", "declined"]
            }
            _ => vec!["awaiting_consent"],
        };
        expected_events += statuses.len();
        timelines.push((id, statuses));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Up, but failing: the next 20 answers are 500.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let receiver = serve_receiver(listener, &[500; 20]);

    let mut delivered = 0;
    for _ in 0..300 {
        delivered = entity::webhook_delivery::Entity::find()
            .filter(entity::webhook_delivery::Column::DeliveredAt.is_not_null())
            .count(&app.db)
            .await
            .unwrap();
        if delivered == expected_events as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        delivered, expected_events as u64,
        "every event delivered in the end"
    );

    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    let received = receiver.received.lock().unwrap().clone();
    let mut unique: HashMap<String, Value> = HashMap::new();
    for (headers, body) in &received {
        verifier
            .verify(body, &standard_headers(headers))
            .expect("every attempt is signed");
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        let event: Value = serde_json::from_slice(body).unwrap();
        if let Some(first) = unique.get(&id) {
            assert_eq!(*first, event, "a retry carries the same event");
        }
        unique.insert(id, event);
    }
    assert!(received.len() > unique.len(), "retries were received");
    assert_eq!(
        unique.len(),
        expected_events,
        "each webhook-id once after deduplication"
    );

    // Each request's events, ordered by timestamp, follow its life.
    for (id, statuses) in &timelines {
        let mut events: Vec<&Value> = unique
            .values()
            .filter(|e| e["data"]["id"] == id.to_string())
            .collect();
        events.sort_by_key(|e| e["timestamp"].as_str().unwrap().to_owned());
        let in_order: Vec<&str> = events
            .iter()
            .map(|e| e["data"]["status"].as_str().unwrap())
            .collect();
        assert_eq!(in_order, *statuses, "request {id}");
    }

    // The delivery log shows the refused connections, the 500s and the final 200.
    let log = app
        .get(
            &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=100"),
            &org_admin,
        )
        .await;
    let attempts: Vec<&Value> = log.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["attempts"].as_array().unwrap())
        .collect();
    assert!(
        attempts
            .iter()
            .any(|a| a["status_code"].is_null() && a["error"].is_string())
    );
    assert!(attempts.iter().any(|a| a["status_code"] == 500));
    assert!(
        log.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered")
    );
}

#[tokio::test]
async fn a_test_event_reaches_the_endpoint_signed_and_is_in_its_log() {
    let app = spawn_app_with(&[("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (receiver, url) = start_receiver(&[410]).await;
    // Subscribed to one event type only: the test event comes anyway.
    let created = app
        .create_webhook_endpoint(&org_admin, &url, &["certificate.revoked"])
        .await;
    let endpoint_id = created.body["id"].as_str().unwrap().to_owned();
    let verifier =
        standardwebhooks::Webhook::new(created.body["secret"].as_str().unwrap()).unwrap();

    // The first answer is 410: the endpoint is disabled, and a test event to it is refused.
    let queued = app
        .post(
            &format!("/v1/webhook-endpoints/{endpoint_id}/test"),
            &org_admin,
            json!(null),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.text);
    assert_eq!(queued.body["type"], "webhook.test");
    assert_eq!(queued.body["state"], "pending");
    let received = wait_for(&receiver, 1).await;
    let (headers, body) = &received[0];
    verifier.verify(body, &standard_headers(headers)).unwrap();
    let event: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["type"], "webhook.test");
    assert_eq!(event["data"]["endpoint_id"], endpoint_id);
    assert_eq!(headers["webhook-id"], queued.body["id"].as_str().unwrap());
    let mut refused = None;
    for _ in 0..100 {
        let answer = app
            .post(
                &format!("/v1/webhook-endpoints/{endpoint_id}/test"),
                &org_admin,
                json!(null),
            )
            .await;
        if answer.status == 409 {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let refused = refused.expect("a disabled endpoint refuses a test event");
    refused.assert_problem(409);
    assert!(refused.body["detail"].as_str().unwrap().contains("410"));
    // Only the one delivery that was sent, refused ones left no row.
    let log = app
        .get(
            &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries"),
            &org_admin,
        )
        .await;
    let log = log.body["data"].as_array().unwrap().clone();
    assert!(log.iter().all(|d| d["type"] == "webhook.test"));
    let rows = entity::webhook_delivery::Entity::find()
        .filter(
            entity::webhook_delivery::Column::EndpointId.eq(Uuid::parse_str(&endpoint_id).unwrap()),
        )
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, log.len() as u64);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_resent_delivery_has_the_same_id_and_body_and_a_new_timestamp_and_signature() {
    let app = spawn_app_with(&[("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, key) = app.create_api_key(org).await;
    let (receiver, url) = start_receiver(&[]).await;
    let created = app
        .create_webhook_endpoint(&org_admin, &url, &["screening_request.created"])
        .await;
    let endpoint_id = created.body["id"].as_str().unwrap().to_owned();
    let verifier =
        standardwebhooks::Webhook::new(created.body["secret"].as_str().unwrap()).unwrap();
    app.submit(&key, &format!("s-{}@example.org", Uuid::new_v4().simple()))
        .await;
    let log = delivered_log(&app, &endpoint_id, &org_admin).await;
    let delivery_id = log["data"][0]["id"].as_str().unwrap().to_owned();
    wait_for(&receiver, 1).await;

    // Timestamps are in seconds: a new one needs the clock to move on.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resend = format!("/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/resend");
    let queued = app.post(&resend, &org_admin, json!(null)).await;
    assert_eq!(queued.status, 202, "{}", queued.text);
    assert_eq!(queued.body["id"], delivery_id);
    assert_eq!(queued.body["state"], "pending");
    let received = wait_for(&receiver, 2).await;
    assert_eq!(received.len(), 2);
    let (first, again) = (&received[0], &received[1]);
    assert_eq!(first.0["webhook-id"], again.0["webhook-id"]);
    assert_eq!(again.0["webhook-id"], delivery_id.as_str());
    assert_eq!(first.1, again.1, "the same body");
    assert_ne!(first.0["webhook-timestamp"], again.0["webhook-timestamp"]);
    assert_ne!(first.0["webhook-signature"], again.0["webhook-signature"]);
    for (headers, body) in [first, again] {
        verifier.verify(body, &standard_headers(headers)).unwrap();
    }
    let log = delivered_log(&app, &endpoint_id, &org_admin).await;
    assert_eq!(
        log["data"].as_array().unwrap().len(),
        1,
        "still one delivery"
    );
    assert_eq!(log["data"][0]["attempts"].as_array().unwrap().len(), 2);

    // Another endpoint's delivery, through this endpoint or another organisation's: 404.
    let (_, other_url) = start_receiver(&[]).await;
    let other = app
        .create_webhook_endpoint(&org_admin, &other_url, &["*"])
        .await;
    let other_id = other.body["id"].as_str().unwrap();
    app.post(
        &format!("/v1/webhook-endpoints/{other_id}/deliveries/{delivery_id}/resend"),
        &org_admin,
        json!(null),
    )
    .await
    .assert_problem(404);
    let stranger = app.create_organisation("Elsewhere").await;
    let (_, stranger_admin) = app.create_member(stranger, "org_admin").await;
    app.post(&resend, &stranger_admin, json!(null))
        .await
        .assert_problem(404);
    app.post(
        &format!(
            "/v1/webhook-endpoints/{endpoint_id}/deliveries/{}/resend",
            Uuid::now_v7()
        ),
        &org_admin,
        json!(null),
    )
    .await
    .assert_problem(404);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.received.lock().unwrap().len(),
        2,
        "nothing more was sent"
    );
}
