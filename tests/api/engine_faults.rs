//! Engine properties under concurrency and crashes: two servers on one database completing the
//! same tasks at once (each task decided once, each request moved once per event), and the
//! real binary killed with SIGKILL in the middle of a stream of completions.
use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    time::Duration,
};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{engine::every_undecided_request_waits_on_something, helpers::*};
use entity::{audit_event, request_event, screening_request, task};

/// Checks the database after a storm: no check opened twice, no task completed twice, no
/// request decided twice.
pub(crate) async fn assert_each_thing_happened_once(app: &TestApp) {
    let tasks = task::Entity::find().all(&app.db).await.unwrap();
    let mut per_check: HashMap<(Uuid, String), usize> = HashMap::new();
    for t in tasks.iter().filter(|t| t.status != "cancelled") {
        if let Some(check) = &t.check_id {
            *per_check.entry((t.request_id, check.clone())).or_default() += 1;
        }
    }
    assert!(
        per_check.values().all(|n| *n == 1),
        "a check was opened twice: {per_check:?}"
    );
    let completions = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("task.completed"))
        .all(&app.db)
        .await
        .unwrap();
    let mut per_task: HashMap<String, usize> = HashMap::new();
    for event in completions {
        *per_task
            .entry(event.target.unwrap_or_default())
            .or_default() += 1;
    }
    assert!(
        per_task.values().all(|n| *n == 1),
        "a task was completed twice"
    );
    let completed = tasks.iter().filter(|t| t.status == "completed").count();
    assert_eq!(per_task.len(), completed, "one audit event per completion");
    let decided = request_event::Entity::find()
        .filter(request_event::Column::Kind.eq("decided"))
        .all(&app.db)
        .await
        .unwrap();
    let unique: HashSet<Uuid> = decided.iter().map(|e| e.request_id).collect();
    assert_eq!(unique.len(), decided.len(), "a request was decided twice");
}

pub(crate) async fn identity_checker(app: &TestApp) -> (Uuid, String) {
    let email = format!("checker-{}@example.org", Uuid::new_v4().simple());
    let reply = app
        .post(
            "/v1/checkers",
            &app.admin_token,
            json!({"email": email, "name": "Checker",
                   "authorisations": ["identity", "criminal_record", "reference"],
                   "supervisor": false, "max_open_tasks": 1000, "conflicts": []}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id = reply.body["checker"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let activation = reply.body["activation_token"].as_str().unwrap();
    assert_eq!(app.activate(activation, USER_PASSWORD).await.status, 204);
    (id, app.login(&email, USER_PASSWORD).await)
}

pub(crate) async fn consent_many(app: &TestApp, key: &str, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let email = format!("s-{}@example.org", Uuid::new_v4().simple());
        ids.push(app.submit(key, &email).await);
        let token = app.invitation_token(&email).await;
        assert_eq!(app.consent(&token).await.status, 200);
    }
    ids
}

async fn assigned_tasks(app: &TestApp) -> Vec<task::Model> {
    task::Entity::find()
        .filter(task::Column::Status.eq("assigned"))
        .all(&app.db)
        .await
        .unwrap()
}

/// Property 1 with two servers: every open task is completed through both at once (and
/// released through one of them); exactly one completion of each wins.
#[tokio::test]
async fn two_servers_completing_the_same_tasks_decide_each_once() {
    let first = spawn_app().await;
    let second = spawn_second_app(&first).await;
    let org = first.create_organisation("Kids Abroad").await;
    let (_, key) = first.create_api_key(org).await;
    let (_, token) = identity_checker(&first).await;
    let (_, other_token) = identity_checker(&first).await;
    let requests = consent_many(&first, &key, 8).await;

    for _round in 0..6 {
        let open = assigned_tasks(&first).await;
        if open.is_empty() {
            break;
        }
        let mut racers = Vec::new();
        for t in &open {
            // Whoever holds it completes it through both servers at once, while the same
            // checker also tries to release it through the second.
            let holder = if t.assignee_id == assigned_holder(&first, &token).await {
                token.clone()
            } else {
                other_token.clone()
            };
            for (app, action) in [
                (&first, "complete"),
                (&second, "complete"),
                (&second, "release"),
            ] {
                let client = app.client.clone();
                let url = app.url(&format!("/v1/tasks/{}/{action}", t.id));
                let holder = holder.clone();
                let body = if action == "complete" {
                    json!({"outcome": "no_concerns"})
                } else {
                    json!({})
                };
                racers.push(tokio::spawn(async move {
                    let status = client
                        .post(url)
                        .bearer_auth(holder)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16();
                    (action, status)
                }));
            }
        }
        for racer in racers {
            let (action, status) = racer.await.unwrap();
            assert!(
                matches!(status, 200 | 404 | 409),
                "{action} answered {status}"
            );
        }
    }
    // Released tasks went to the other checker; finish whatever is left through either.
    for _ in 0..10 {
        let open = assigned_tasks(&first).await;
        if open.is_empty() {
            break;
        }
        for t in open {
            for holder in [&token, &other_token] {
                second
                    .post(
                        &format!("/v1/tasks/{}/complete", t.id),
                        holder,
                        json!({"outcome": "no_concerns"}),
                    )
                    .await;
            }
        }
    }
    assert_each_thing_happened_once(&first).await;
    for id in requests {
        let status = screening_request::Entity::find_by_id(id)
            .one(&first.db)
            .await
            .unwrap()
            .unwrap()
            .status;
        assert!(
            status == "cleared" || status == "in_progress",
            "request {id} is {status}"
        );
    }
    every_undecided_request_waits_on_something(&first).await;
}

/// The id of the checker behind a session token.
async fn assigned_holder(app: &TestApp, token: &str) -> Option<Uuid> {
    app.get("/v1/me", token).await.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
}

/// The real `safescreen serve`, as its own process on the test's database.
pub(crate) struct Binary {
    child: Child,
    pub(crate) base: String,
}

impl Binary {
    pub(crate) async fn start(app: &TestApp, port: u16) -> Binary {
        Binary::start_with(app, port, &[]).await
    }

    /// The same, with extra `SAFESCREEN_*` settings.
    pub(crate) async fn start_with(app: &TestApp, port: u16, settings: &[(&str, &str)]) -> Binary {
        let mut vars = test_vars(&app.database);
        for (name, value) in settings {
            vars.insert((*name).to_owned(), (*value).to_owned());
        }
        vars.insert("SAFESCREEN_LISTEN".into(), format!("127.0.0.1:{port}"));
        vars.insert("SAFESCREEN_LOG".into(), "error".into());
        let mut child = Command::new(env!("CARGO_BIN_EXE_safescreen"))
            .arg("serve")
            .envs(vars)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(app.database.dir.path().join("server.log"))
                    .unwrap(),
            ))
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Binary { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        child.kill().ok();
        child.wait().ok();
        panic!("the server did not start");
    }

    pub(crate) fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

/// Property 4: SIGKILL in the middle of a stream of completions loses nothing acknowledged and
/// duplicates nothing; after a restart every request continues to a decision.
#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_completion() {
    let mut app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let (_, token) = identity_checker(&app).await;
    let requests = consent_many(&app, &key, 30).await;
    app.stop().await;
    let port = free_port();
    // No pooled connections: those to a killed server would fail the next requests.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut acknowledged: HashSet<Uuid> = HashSet::new();
    let mut cut_off = 0;
    let mut server = Binary::start(&app, port).await;
    for round in 0..20 {
        let open: Value = client
            .get(format!(
                "{}/v1/tasks?status=assigned&limit=100",
                server.base
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> = open["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        if ids.is_empty() {
            break;
        }
        // Every open task at once; in the first three rounds the server is killed while the
        // completions are in flight.
        let mut calls = Vec::new();
        for id in ids {
            let request = client
                .post(format!("{}/v1/tasks/{id}/complete", server.base))
                .bearer_auth(&token)
                .json(&json!({"outcome": "no_concerns"}));
            calls.push(tokio::spawn(async move {
                let answer = request.send().await.map(|r| r.status().as_u16());
                (id, answer.ok())
            }));
        }
        if round < 3 {
            tokio::time::sleep(Duration::from_millis(3)).await;
            server.kill();
        }
        for call in calls {
            let (id, answer) = call.await.unwrap();
            match answer {
                Some(200) => {
                    acknowledged.insert(id.parse().unwrap());
                }
                // Cut off by the kill; a request the server could answer never fails.
                None if round < 3 => cut_off += 1,
                None => panic!("completing {id} failed with the server up"),
                Some(other) => panic!(
                    "completing {id} answered {other}; server log:\n{}",
                    std::fs::read_to_string(app.database.dir.path().join("server.log"))
                        .unwrap_or_default()
                ),
            }
        }
        if round < 3 {
            server = Binary::start(&app, port).await;
        }
    }
    server.kill();

    for id in &acknowledged {
        let stored = task::Entity::find_by_id(*id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.status, "completed",
            "acknowledged completion of {id} lost"
        );
    }
    assert!(!acknowledged.is_empty());
    assert!(cut_off > 0, "the kills hit requests in flight");
    assert_each_thing_happened_once(&app).await;
    for id in requests {
        let status = screening_request::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .status;
        assert_eq!(status, "cleared", "request {id} did not continue");
    }
}
