//! Data keys: values sealed before keys had ids still open after the upgrade, the master key is
//! checked at start and can change, and a rotation re-seals every value under load while the
//! server is killed.
use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use safescreen::{
    Config, bootstrap,
    crypto::{DataKey, sealing},
    services::data_keys::SEALED,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{
    engine_faults::{Binary, consent_many, identity_checker},
    faults::submit_until_answered,
    helpers::*,
};
use entity::{audit_event, data_key, data_key_rotation, screening_request, task};

/// Opens every sealed value in the database; answers how many each key sealed.
pub(crate) async fn open_every_sealed_value(
    db: &DatabaseConnection,
    ring: &DataKey,
) -> BTreeMap<u32, u64> {
    let mut per_key = BTreeMap::new();
    for column in SEALED {
        let sql = format!(
            "SELECT {id} AS id, {c} AS v FROM {t} WHERE {c} IS NOT NULL",
            id = column.id,
            c = column.column,
            t = column.table
        );
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
        for row in rows {
            let id: Uuid = row.try_get("", "id").unwrap();
            let sealed: Vec<u8> = row.try_get("", "v").unwrap();
            ring.open(id, &sealed).await.unwrap_or_else(|e| {
                panic!(
                    "{}.{} of {id} does not open: {e}",
                    column.table, column.column
                )
            });
            *per_key
                .entry(sealing::key_id_of(&sealed).unwrap())
                .or_default() += 1;
        }
    }
    per_key
}

fn config_for(database: &TestDatabase, settings: &[(&str, &str)]) -> Config {
    let mut vars = test_vars(database);
    for (name, value) in settings {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    Config::from_vars(vars).unwrap()
}

/// A database made by the release before data keys had ids, loaded from its dump.
async fn previous_release_database() -> TestDatabase {
    let database = TestDatabase::new().await;
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    let dump = if database.is_postgres() {
        include_str!("../fixtures/release-0.1.0.postgres.sql")
    } else {
        include_str!("../fixtures/release-0.1.0.sqlite.sql")
    };
    db.execute_unprepared(dump).await.unwrap();
    db.close().await.unwrap();
    database
}

#[tokio::test]
async fn a_database_of_the_previous_release_upgrades_and_every_value_still_opens() {
    let database = previous_release_database().await;
    // The fixture's certificates name the default address as their issuer.
    let app = spawn_app_on(
        database,
        &[("SAFESCREEN_PUBLIC_URL", "http://127.0.0.1:8080")],
    )
    .await;
    // Today's key became data key 1, wrapped under itself as the master key.
    let keys = data_key::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].id, 1);
    let before = open_every_sealed_value(&app.db, &app.data_key).await;
    assert_eq!(before.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert!(
        before[&1] > 50,
        "the fixture holds sealed values: {before:?}"
    );

    // The old values serve as before: a subject's data, a certificate that verifies.
    let cleared = screening_request::Entity::find()
        .filter(screening_request::Column::Status.eq("cleared"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the fixture has a cleared request");
    let view = app
        .get(
            &format!("/v1/screening-requests/{}", cleared.id),
            &app.admin_token,
        )
        .await;
    assert_eq!(view.status, 200, "{}", view.text);
    assert!(
        view.body["subject"]["family_name"].is_string(),
        "{}",
        view.text
    );
    let certificate = entity::certificate::Entity::find()
        .filter(entity::certificate::Column::RequestId.eq(cleared.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let jws = app
        .data_key
        .open(certificate.id, certificate.jws_sealed.as_deref().unwrap())
        .await
        .expect("the stored certificate opens");
    let verified = app
        .call(
            reqwest::Method::POST,
            "/v1/certificates/verify",
            None,
            Some(json!({"jws": String::from_utf8(jws).unwrap()})),
        )
        .await;
    assert_eq!(verified.body["valid"], true, "{}", verified.text);

    // New values name key 1, and a rotation moves old and new alike to key 2.
    let org = app.create_organisation("After the upgrade").await;
    let (_, key) = app.create_api_key(org).await;
    let id = app.submit(&key, "new@example.org").await;
    let row = screening_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.subject_sealed.unwrap();
    assert_eq!(sealed[0], 2, "the format that names its key");
    assert_eq!(sealing::key_id_of(&sealed), Some(1));
    run_safescreen(&app.database, &["keys", "rotate-data"]).await;
    wait_for_rotation(&app.db).await;
    let after = open_every_sealed_value(&app.db, &app.data_key).await;
    assert_eq!(
        after.keys().copied().collect::<Vec<_>>(),
        vec![2],
        "{after:?}"
    );
    let retired = data_key::Entity::find_by_id(1)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(retired.retired_at.is_some() && retired.wrapped.is_none());
    // /metrics says the same: every value under key 2, the rotation over.
    let metrics = app.public_text("/metrics").await;
    let line = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
            .to_owned()
    };
    assert!(
        line("safescreen_sealed_values{key=\"2\"}").ends_with(&format!(" {}", after[&2])),
        "{metrics}"
    );
    assert!(
        !metrics.contains("safescreen_sealed_values{key=\"1\"}"),
        "{metrics}"
    );
    assert_eq!(
        line("safescreen_data_key_current "),
        "safescreen_data_key_current 2"
    );
    assert_eq!(
        line("safescreen_data_key_rotation_running "),
        "safescreen_data_key_rotation_running 0"
    );
}

/// Waits until no rotation runs (the server's job re-seals and retires).
async fn wait_for_rotation(db: &DatabaseConnection) {
    for _ in 0..600 {
        let running = data_key_rotation::Entity::find()
            .filter(data_key_rotation::Column::FinishedAt.is_null())
            .count(db)
            .await
            .unwrap();
        if running == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the rotation did not finish");
}

async fn counts(db: &DatabaseConnection) -> (u64, Vec<data_key::Model>) {
    (
        audit_event::Entity::find().count(db).await.unwrap(),
        data_key::Entity::find().all(db).await.unwrap(),
    )
}

#[tokio::test]
async fn a_wrong_master_key_is_refused_and_nothing_is_written() {
    let mut app = spawn_app().await;
    app.stop().await;
    let before = counts(&app.db).await;
    let wrong = B64.encode([7u8; 32]);
    let refused = bootstrap::open(config_for(
        &app.database,
        &[("SAFESCREEN_DATA_KEY", &wrong)],
    ))
    .await
    .err()
    .expect("refused");
    let message = refused.to_string();
    assert!(
        message.contains("does not open data key 1")
            && message.contains("SAFESCREEN_DATA_KEY_PREVIOUS")
            && message.contains("nothing was changed"),
        "{message}"
    );
    assert_eq!(counts(&app.db).await, before, "nothing written");
    // The command line says the same and exits non-zero, writing nothing either.
    let output = safescreen_with(
        &app.database,
        &["keys", "status"],
        &[("SAFESCREEN_DATA_KEY", &wrong)],
    )
    .await;
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("does not open data key 1"), "{said}");
    assert_eq!(counts(&app.db).await, before, "nothing written");
}

#[tokio::test]
async fn a_master_key_change_rewraps_the_data_keys_and_nothing_else() {
    let mut app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let request = app.submit(&key, "subject@example.org").await;
    app.stop().await;
    let sealed_before = screening_request::Entity::find_by_id(request)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .subject_sealed;
    let old = B64.encode([42u8; 32]);
    let new = B64.encode([43u8; 32]);

    // The new key alone: refused, naming the missing previous key.
    let refused = bootstrap::open(config_for(&app.database, &[("SAFESCREEN_DATA_KEY", &new)]))
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        refused.contains("SAFESCREEN_DATA_KEY_PREVIOUS"),
        "{refused}"
    );
    // A wrong previous key: refused too.
    let wrong_previous = bootstrap::open(config_for(
        &app.database,
        &[
            ("SAFESCREEN_DATA_KEY", &new),
            ("SAFESCREEN_DATA_KEY_PREVIOUS", &B64.encode([9u8; 32])),
        ],
    ))
    .await
    .err()
    .expect("refused")
    .to_string();
    assert!(wrong_previous.contains("neither"), "{wrong_previous}");

    let wrapped_before = data_key::Entity::find().all(&app.db).await.unwrap();
    let state = bootstrap::open(config_for(
        &app.database,
        &[
            ("SAFESCREEN_DATA_KEY", &new),
            ("SAFESCREEN_DATA_KEY_PREVIOUS", &old),
        ],
    ))
    .await
    .expect("the change is accepted");
    let wrapped_after = data_key::Entity::find().all(&app.db).await.unwrap();
    assert_ne!(
        wrapped_before[0].wrapped, wrapped_after[0].wrapped,
        "re-wrapped"
    );
    // Nothing else re-sealed, and it all still opens.
    let sealed_after = screening_request::Entity::find_by_id(request)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .subject_sealed;
    assert_eq!(sealed_before, sealed_after);
    open_every_sealed_value(&app.db, &state.data_key).await;
    let rewrapped = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("data_keys.rewrapped"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rewrapped, 1);
    // From now on the new key alone opens it, and the old one no longer does.
    bootstrap::open(config_for(&app.database, &[("SAFESCREEN_DATA_KEY", &new)]))
        .await
        .expect("the new master key alone");
    assert!(
        bootstrap::open(config_for(&app.database, &[("SAFESCREEN_DATA_KEY", &old)]))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_second_rotation_while_one_runs_is_refused() {
    let mut app = spawn_app().await;
    app.stop().await;
    run_safescreen(&app.database, &["keys", "rotate-data"]).await;
    // No server runs, so the first rotation is still running.
    let second = safescreen_with(&app.database, &["keys", "rotate-data"], &[]).await;
    assert_eq!(second.status.code(), Some(1));
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("a rotation to data key 2 is running"),
        "{said}"
    );
    assert_eq!(
        data_key_rotation::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1,
        "one job"
    );
    assert_eq!(data_key::Entity::find().count(&app.db).await.unwrap(), 2);
    let status = run_safescreen(&app.database, &["keys", "status"]).await;
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("key 2: current"), "{status}");
    assert!(status.contains("key 1: retiring"), "{status}");
    assert!(
        status.contains("rotation to data key 2 running"),
        "{status}"
    );
}

const SUBMISSIONS: usize = 2_000;
const SCREENINGS: usize = 200;
const CLIENTS: usize = 12;

/// Completes every assigned task through the server, retrying what a kill cuts off, until
/// every screening is decided; answers the acknowledged completions.
async fn complete_all(
    base: Arc<Mutex<String>>,
    token: String,
    requests: Vec<Uuid>,
    db: DatabaseConnection,
) -> HashSet<Uuid> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut acknowledged = HashSet::new();
    loop {
        let decided = screening_request::Entity::find()
            .filter(screening_request::Column::Id.is_in(requests.clone()))
            .filter(screening_request::Column::Status.eq("cleared"))
            .count(&db)
            .await
            .unwrap();
        if decided as usize == requests.len() {
            return acknowledged;
        }
        let base = base.lock().await.clone();
        let open = client
            .get(format!("{base}/v1/tasks?status=assigned&limit=100"))
            .bearer_auth(&token)
            .send()
            .await;
        let Ok(open) = open else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(open) = open.json::<Value>().await else {
            continue;
        };
        for id in open["data"].as_array().cloned().unwrap_or_default() {
            let id = id["id"].as_str().unwrap().to_owned();
            let answer = client
                .post(format!("{base}/v1/tasks/{id}/complete"))
                .bearer_auth(&token)
                .json(&json!({"outcome": "no_concerns"}))
                .send()
                .await;
            match answer.map(|r| r.status().as_u16()) {
                Ok(200) => {
                    acknowledged.insert(id.parse().unwrap());
                }
                Ok(409) | Ok(503) | Err(_) => {} // completed already, or cut off by a kill
                Ok(other) => panic!("completing {id} answered {other}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn rotate_data(app: &TestApp) {
    run_safescreen(&app.database, &["keys", "rotate-data"]).await;
}

/// The property of a rotation: 2,000 submissions and 200 screenings completed while two
/// rotations run and the server is killed three times (twice just after a rotation began, in
/// the middle of re-sealing); afterwards every value opens, none is left under an old key, the
/// old keys are retired, nothing acknowledged is lost and the audit chain verifies.
#[tokio::test]
async fn rotation_under_load_and_kills_reseals_everything_and_loses_nothing() {
    let mut app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let (_, checker) = identity_checker(&app).await;
    // Consented four at a time: the invitation e-mail of each is waited for.
    let quarter = SCREENINGS / 4;
    let (a, b, c, d) = tokio::join!(
        consent_many(&app, &key, quarter),
        consent_many(&app, &key, quarter),
        consent_many(&app, &key, quarter),
        consent_many(&app, &key, quarter),
    );
    let screenings: Vec<Uuid> = [a, b, c, d].concat();
    eprintln!("{SCREENINGS} screenings consented");
    app.stop().await;
    let port = free_port();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let server = Binary::start(&app, port).await;
    let base = Arc::new(Mutex::new(server.base.clone()));
    let server = Arc::new(Mutex::new(server));

    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (client, base, key) = (client.clone(), base.lock().await.clone(), key.clone());
        let (next, answered) = (Arc::clone(&next), Arc::clone(&answered));
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= SUBMISSIONS {
                    return acknowledged;
                }
                let (id, _) = submit_until_answered(&client, &base, &key, i).await;
                acknowledged.push(id);
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let completer = tokio::spawn(complete_all(
        Arc::clone(&base),
        checker,
        screenings.clone(),
        app.db.clone(),
    ));
    let restart = async |server: &Arc<Mutex<Binary>>| {
        let mut server = server.lock().await;
        server.kill();
        *server = Binary::start(&app, port).await;
    };
    let reached = async |share: usize| {
        while answered.load(Ordering::Relaxed) < SUBMISSIONS * share / 8 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    // Rotate at an eighth, kill while it re-seals; kill again at half way; rotate again at
    // five eighths (once the first is done) and kill while that one re-seals.
    reached(1).await;
    eprintln!("rotating");
    rotate_data(&app).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    restart(&server).await;
    reached(4).await;
    restart(&server).await;
    reached(5).await;
    wait_for_rotation(&app.db).await;
    rotate_data(&app).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    restart(&server).await;

    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    eprintln!("{SUBMISSIONS} submissions acknowledged");
    let completions = completer.await.unwrap();
    eprintln!("{SCREENINGS} screenings decided");
    wait_for_rotation(&app.db).await;

    assert_eq!(acknowledged.len(), SUBMISSIONS);
    let stored = screening_request::Entity::find()
        .filter(screening_request::Column::Id.is_in(acknowledged.clone()))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored as usize, SUBMISSIONS,
        "every acknowledged submission is there"
    );
    for id in &completions {
        let task = task::Entity::find_by_id(*id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            task.status, "completed",
            "acknowledged completion {id} lost"
        );
    }
    let per_key = open_every_sealed_value(&app.db, &app.data_key).await;
    assert_eq!(
        per_key.keys().copied().collect::<Vec<_>>(),
        vec![3],
        "every value under the newest key: {per_key:?}"
    );
    assert!(per_key[&3] as usize > SUBMISSIONS + SCREENINGS);
    let keys = data_key::Entity::find().all(&app.db).await.unwrap();
    for key in keys.iter().filter(|k| k.id < 3) {
        assert!(
            key.retired_at.is_some() && key.wrapped.is_none(),
            "key {} retired and gone",
            key.id
        );
    }
    let rotations = data_key_rotation::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rotations.len(), 2);
    assert!(rotations.iter().all(|r| r.resealed > 0));
    // The server chains the last events, and the chain verifies.
    app.wait_for_audit_chain().await;
    server.lock().await.kill();
}
