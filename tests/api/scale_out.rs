//! Scale-out: two real `serve` processes on one database, the test's client alternating
//! between them, running many whole screenings at once (submit, consent, every check
//! completed, cleared) with SLA and deadline timers coming due and a webhook receiver that
//! fails now and then. Afterwards: no check opened twice, no task held or completed by two
//! checkers, no decision recorded twice, no timer fired twice, every webhook delivered, each
//! `webhook-id` with one event.
use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    engine::{checker, profile_for},
    engine_faults::{Binary, assert_each_thing_happened_once},
    helpers::*,
    webhooks::start_receiver,
};
use entity::{
    audit_event, decision, request_event, screening_request, task, timer, webhook_delivery,
};

const SCREENINGS: usize = 100;

/// One whole screening through both servers in turn; returns the request id.
async fn screen(
    app: Arc<TestApp>,
    client: reqwest::Client,
    servers: Arc<Vec<String>>,
    key: String,
    profile: String,
    sessions: Arc<HashMap<Uuid, String>>,
    n: usize,
) -> Uuid {
    let server = |k: usize| servers[(n + k) % servers.len()].clone();
    let email = format!("scale-{n}-{}@example.org", Uuid::new_v4().simple());
    let mut body = submission(&email);
    body["profile"] = json!(profile);
    let created: Value = client
        .post(format!("{}/v1/screening-requests", server(0)))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let token = app.invitation_token(&email).await;
    let consent = client
        .post(format!("{}/v1/invitations/{token}/consent", server(1)))
        .json(&json!({"consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 200);
    if n.is_multiple_of(2) {
        // Half of them wait past their tasks' SLA and their decision deadline, so that both
        // servers' timer workers race for those timers.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
    for round in 0..200 {
        let open: Vec<task::Model> = task::Entity::find()
            .filter(task::Column::RequestId.eq(id))
            .filter(task::Column::Status.eq("assigned"))
            .all(&app.db)
            .await
            .unwrap();
        if open.is_empty() {
            let request = screening_request::Entity::find_by_id(id)
                .one(&app.db)
                .await
                .unwrap()
                .unwrap();
            if request.status == "cleared" {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        for (k, task) in open.into_iter().enumerate() {
            let assignee = task.assignee_id.unwrap();
            let done = client
                .post(format!(
                    "{}/v1/tasks/{}/complete",
                    server(round + k),
                    task.id
                ))
                .bearer_auth(&sessions[&assignee])
                .json(&json!({"outcome": "no_concerns"}))
                .send()
                .await
                .unwrap();
            // 409: the other server's worker moved it meanwhile (an overdue reassignment).
            assert!(
                matches!(done.status().as_u16(), 200 | 404 | 409),
                "completing {} answered {}",
                task.id,
                done.status()
            );
        }
    }
    panic!("request {id} was not cleared");
}

#[tokio::test]
async fn two_servers_run_many_screenings_and_each_thing_happens_once() {
    let schedule = vec!["PT0.2S"; 30].join(",");
    let settings = [
        ("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SAFESCREEN_WEBHOOK_RETRY_SCHEDULE", schedule.as_str()),
    ];
    let mut app = spawn_app_with(&settings).await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, key) = app.create_api_key(org).await;
    // Every tenth delivery attempt fails at first.
    let (receiver, url) = start_receiver(&[500, 200, 200, 200, 200, 200, 200, 200, 200, 500]).await;
    let endpoint = app.create_webhook_endpoint(&org_admin, &url, &["*"]).await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.text);
    // Two checks in parallel; SLAs and the decision deadline come due during the run.
    let profile = profile_for(
        &app,
        json!({"title": "Scale", "decision_deadline": "PT1S",
               "checks": [{"id": "identity", "authorisation": "identity", "sla": "PT1S"},
                          {"id": "criminal_record", "authorisation": "criminal_record", "sla": "PT1S"}]}),
    )
    .await;
    let mut sessions = HashMap::new();
    for _ in 0..4 {
        let (id, token) = checker(&app, &["identity", "criminal_record"], false, 1000, &[]).await;
        sessions.insert(id, token);
    }
    app.stop().await;
    let mut first = Binary::start_with(&app, free_port(), &settings).await;
    let mut second = Binary::start_with(&app, free_port(), &settings).await;
    let servers = Arc::new(vec![first.base.clone(), second.base.clone()]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let app = Arc::new(app);
    let sessions = Arc::new(sessions);
    let mut runs = Vec::new();
    for n in 0..SCREENINGS {
        runs.push(tokio::spawn(screen(
            Arc::clone(&app),
            client.clone(),
            Arc::clone(&servers),
            key.clone(),
            profile.clone(),
            Arc::clone(&sessions),
            n,
        )));
    }
    let mut requests = Vec::new();
    for run in runs {
        requests.push(run.await.unwrap());
    }
    // Every delivery delivered, and every timer due by now fired.
    let mut pending = (u64::MAX, u64::MAX);
    for _ in 0..300 {
        let undelivered = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::DeliveredAt.is_null())
            .count(&app.db)
            .await
            .unwrap();
        let unfired = timer::Entity::find()
            .filter(timer::Column::FiredAt.is_null())
            .filter(timer::Column::DueAt.lte(safescreen::db::now()))
            .count(&app.db)
            .await
            .unwrap();
        pending = (undelivered, unfired);
        if pending == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();
    second.kill();
    assert_eq!(pending, (0, 0), "(undelivered webhooks, unfired timers)");

    assert_each_thing_happened_once(&app).await;
    // No task held or completed by two checkers: the one who completed it held it.
    let tasks = task::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(tasks.len(), SCREENINGS * 2);
    assert!(
        tasks
            .iter()
            .all(|t| t.status == "completed" && t.completed_by == t.assignee_id)
    );
    // One decision per request.
    let decisions = decision::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(decisions, SCREENINGS as u64);
    // No timer fired twice: each deadline and each SLA has at most one effect.
    let missed = request_event::Entity::find()
        .filter(request_event::Column::Kind.eq("decision_deadline_missed"))
        .all(&app.db)
        .await
        .unwrap();
    let missed_once: HashSet<Uuid> = missed.iter().map(|e| e.request_id).collect();
    assert_eq!(missed_once.len(), missed.len(), "a deadline fired twice");
    let overdue = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("task.overdue"))
        .all(&app.db)
        .await
        .unwrap();
    let overdue_once: HashSet<Option<String>> = overdue.iter().map(|e| e.target.clone()).collect();
    assert_eq!(
        overdue_once.len(),
        overdue.len(),
        "an SLA timer fired twice"
    );
    // The timers the slow half raced for all fired (each once: the effects above).
    let fired = timer::Entity::find()
        .filter(timer::Column::FiredAt.is_not_null())
        .filter(timer::Column::Kind.is_in(["decision_deadline", "task_due"]))
        .count(&app.db)
        .await
        .unwrap();
    assert!(
        fired >= SCREENINGS as u64,
        "the SLAs and deadlines came due: {fired}"
    );
    // Some of them took effect before their request was decided (how many depends on the
    // machine's load: a timer fired after the decision changes nothing).
    assert!(!overdue.is_empty() || !missed.is_empty());

    // Every webhook: one event per webhook-id (retries repeat it exactly), all delivered.
    let deliveries = webhook_delivery::Entity::find().all(&app.db).await.unwrap();
    let received = receiver.received.lock().unwrap().clone();
    let mut events: HashMap<String, Value> = HashMap::new();
    for (headers, body) in &received {
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        let event: Value = serde_json::from_slice(body).unwrap();
        if let Some(first) = events.get(&id) {
            assert_eq!(*first, event, "webhook-id {id} carried two events");
        }
        events.insert(id, event);
    }
    assert_eq!(events.len(), deliveries.len(), "every delivery arrived");
    // created, consented, decided per request.
    assert_eq!(deliveries.len(), SCREENINGS * 3);
    println!(
        "scale-out test: {SCREENINGS} screenings through 2 servers, {} tasks, {} decisions, \
         {} webhook events in {} attempts, {fired} SLA and deadline timers fired ({} deadlines \
         missed, {} tasks overdue, each once)",
        tasks.len(),
        decisions,
        events.len(),
        received.len(),
        missed.len(),
        overdue.len()
    );
    assert_eq!(requests.len(), SCREENINGS);
}
