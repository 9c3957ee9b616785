//! Submissions under crashes: a stream of submissions with Idempotency-Keys and client retries
//! while the real server is killed with SIGKILL three times and restarted. Afterwards every
//! key has exactly one request, every acknowledged answer is in the database, every request
//! waits on its subject, no key is left answering 409, and the audit chain verifies.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{engine_faults::Binary, helpers::*};
use entity::{idempotency_key, mail_outbox, screening_request, timer};

const SUBMISSIONS: usize = 2_000;
const CLIENTS: usize = 16;
const KILLS: usize = 3;

fn body(i: usize) -> Value {
    let mut body = submission(&format!("fault-{i}@example.org"));
    body["reference"] = format!("FAULT-{i:05}").into();
    body
}

/// Submits with key `fault-{i}` until an answer comes: a connection cut by a kill, a 503 or a
/// 409 (the first attempt still in flight) is retried, as a careful client would. Returns
/// the id of the 201 and how many attempts failed.
pub(crate) async fn submit_until_answered(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    i: usize,
) -> (Uuid, usize) {
    let mut failed = 0;
    loop {
        let sent = client
            .post(format!("{base}/v1/screening-requests"))
            .bearer_auth(key)
            .header("Idempotency-Key", format!("fault-{i}"))
            .json(&body(i))
            .send()
            .await;
        match sent {
            Ok(reply) if reply.status() == 201 => {
                let answer: Value = reply.json().await.unwrap();
                return (answer["id"].as_str().unwrap().parse().unwrap(), failed);
            }
            Ok(reply) if matches!(reply.status().as_u16(), 409 | 503) => failed += 1,
            Ok(reply) => panic!(
                "submission {i} answered {}: {}",
                reply.status(),
                reply.text().await.unwrap_or_default()
            ),
            Err(_) => failed += 1, // the server was killed under it
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn submissions_survive_three_kills_exactly_once() {
    let mut app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    app.stop().await;
    let port = free_port();
    // No pooled connections: those to a killed server would fail the next requests.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let server = Binary::start(&app, port).await;
    let base = server.base.clone();
    let server = Arc::new(Mutex::new(server));

    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        let (next, answered) = (Arc::clone(&next), Arc::clone(&answered));
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut failures = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= SUBMISSIONS {
                    return (acknowledged, failures);
                }
                let (id, failed) = submit_until_answered(&client, &base, &key, i).await;
                acknowledged.push((i, id));
                failures += failed;
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Kill the server at about a quarter, half and three quarters of the way, and restart it.
    for kill in 1..=KILLS {
        while answered.load(Ordering::Relaxed) < kill * SUBMISSIONS / (KILLS + 1) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut server = server.lock().await;
        server.kill();
        *server = Binary::start(&app, port).await;
    }
    let mut acknowledged: HashMap<usize, Uuid> = HashMap::new();
    let mut failures = 0;
    for client in clients {
        let (answers, failed) = client.await.unwrap();
        acknowledged.extend(answers);
        failures += failed;
    }
    assert_eq!(acknowledged.len(), SUBMISSIONS);
    assert!(failures > 0, "the kills cut requests off");

    // No key answers 409 now: every one replays its first answer.
    let replays = Arc::new(Mutex::new(Vec::new()));
    let mut checks = Vec::new();
    for chunk in (0..SUBMISSIONS)
        .collect::<Vec<_>>()
        .chunks(SUBMISSIONS / CLIENTS)
    {
        let (client, base, key, chunk) =
            (client.clone(), base.clone(), key.clone(), chunk.to_vec());
        let replays = Arc::clone(&replays);
        checks.push(tokio::spawn(async move {
            for i in chunk {
                let reply = client
                    .post(format!("{base}/v1/screening-requests"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", format!("fault-{i}"))
                    .json(&body(i))
                    .send()
                    .await
                    .unwrap();
                let status = reply.status().as_u16();
                let answer: Value = reply.json().await.unwrap();
                replays.lock().await.push((i, status, answer["id"].clone()));
            }
        }));
    }
    for check in checks {
        check.await.unwrap();
    }
    server.lock().await.kill();
    for (i, status, id) in replays.lock().await.iter() {
        assert_eq!(*status, 201, "key fault-{i} answered {status}");
        assert_eq!(
            *id,
            serde_json::json!(acknowledged[i]),
            "key fault-{i} replays its first answer"
        );
    }

    // Exactly one request per key, each acknowledged one present.
    let requests = screening_request::Entity::find()
        .filter(screening_request::Column::OrganisationId.eq(org))
        .all(&app.db)
        .await
        .unwrap();
    let stored: HashSet<Uuid> = requests.iter().map(|r| r.id).collect();
    let references: HashSet<&str> = requests.iter().map(|r| r.reference.as_str()).collect();
    let lost = acknowledged
        .values()
        .filter(|id| !stored.contains(id))
        .count();
    println!(
        "fault test: {} acknowledged, {} present, {} duplicated, {lost} lost, {failures} attempts cut off or retried",
        acknowledged.len(),
        requests.len(),
        requests.len() - references.len()
    );
    assert_eq!(
        requests.len(),
        SUBMISSIONS,
        "exactly one request per submission"
    );
    assert_eq!(references.len(), SUBMISSIONS, "none twice");
    assert_eq!(lost, 0, "every acknowledged request is there");
    let keys = idempotency_key::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(keys, SUBMISSIONS as u64);

    // Every one waits on its subject: awaiting consent, with its lapse timer and invitation.
    assert!(requests.iter().all(|r| r.status == "awaiting_consent"));
    let lapse_timers = timer::Entity::find()
        .filter(timer::Column::Kind.eq("consent_lapse"))
        .filter(timer::Column::FiredAt.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(lapse_timers, SUBMISSIONS as u64);
    let invitations = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Kind.eq("invitation"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(invitations, SUBMISSIONS as u64);

    // The audit chain verifies.
    run_safescreen(&app.database, &["audit", "verify"]).await;
}
