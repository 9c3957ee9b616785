//! Backups: a copy taken while submissions stream in restores, serves and verifies; a damaged
//! copy fails `backup verify` naming what; `restore` refuses a database in use or not empty;
//! erased data is not in a later copy. On PostgreSQL the copy is pg_dump's (see
//! tools/restore-drill.sh): there `backup` says so and `backup verify` checks a database.
use std::{path::Path, sync::Arc, time::Duration};

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{engine_faults::Binary, helpers::*};
use entity::screening_request;

/// `backup verify` fails, saying `expected`.
async fn assert_verify_fails(database: &TestDatabase, file: &Path, expected: &str) {
    let output = safescreen_with(
        database,
        &["backup", "verify", &file.display().to_string()],
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", said(&output));
    assert!(
        said(&output).contains(expected),
        "wanted {expected:?} in: {}",
        said(&output)
    );
}

async fn manifest_of(file: &Path) -> Value {
    let copy = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let row = copy
        .query_one_raw(Statement::from_string(
            copy.get_database_backend(),
            "SELECT manifest FROM backup_manifest",
        ))
        .await
        .unwrap()
        .unwrap();
    let text: String = row.try_get("", "manifest").unwrap();
    copy.close().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_backup_taken_during_submissions_restores_serves_and_verifies() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    if app.database.is_postgres() {
        let refused = safescreen_with(&app.database, &["backup", "never.db"], &[]).await;
        assert!(!refused.status.success());
        assert!(said(&refused).contains("pg_dump"), "{}", said(&refused));
        let checked =
            safescreen_with(&app.database, &["backup", "verify", &app.database.url], &[]).await;
        assert!(checked.status.success(), "{}", said(&checked));
        assert!(
            said(&checked).contains("database intact"),
            "{}",
            said(&checked)
        );
        return;
    }
    let app = Arc::new(app);
    let mut submitters = Vec::new();
    for client in 0..8 {
        let (app, key) = (Arc::clone(&app), key.clone());
        submitters.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..125 {
                ids.push(
                    app.submit(&key, &format!("s{client}-{i}@example.org"))
                        .await,
                );
            }
            ids
        }));
    }
    while screening_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
        < 400
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let file = app.database.dir.path().join("backup.db");
    let taken = safescreen_with(&app.database, &["backup", &file.display().to_string()], &[]).await;
    assert!(taken.status.success(), "{}", said(&taken));
    let mut submitted = Vec::new();
    for submitter in submitters {
        submitted.extend(submitter.await.unwrap());
    }
    assert_eq!(submitted.len(), 1_000);
    let manifest = manifest_of(&file).await;
    let in_copy = manifest["tables"]["screening_requests"].as_u64().unwrap();
    assert!(
        (400..1_000).contains(&in_copy),
        "taken under load: {in_copy}"
    );
    let verified = safescreen_with(
        &app.database,
        &["backup", "verify", &file.display().to_string()],
        &[],
    )
    .await;
    assert!(verified.status.success(), "{}", said(&verified));

    // Restored into a new database: its counts are the manifest's, it serves and verifies.
    let restored = TestDatabase::new().await;
    let output = safescreen_with(&restored, &["restore", &file.display().to_string()], &[]).await;
    assert!(output.status.success(), "{}", said(&output));
    let db = Database::connect(&restored.url).await.unwrap();
    for (table, count) in manifest["tables"].as_object().unwrap() {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        assert_eq!(n as u64, count.as_u64().unwrap(), "rows of {table}");
    }
    db.close().await.unwrap();
    let served = spawn_app_on(restored, &[]).await;
    let some_request: Uuid = screening_request::Entity::find()
        .one(&served.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let view = served
        .get(&format!("/v1/screening-requests/{some_request}"), &key)
        .await;
    assert_eq!(view.status, 200, "{}", view.text);
    assert!(
        view.body["subject"]["family_name"].is_string(),
        "{}",
        view.text
    );
    safescreen::audit::chain::verify(&served.db)
        .await
        .expect("the chain verifies");
}

#[tokio::test]
async fn a_damaged_backup_or_a_file_that_is_not_one_fails_verify_naming_what() {
    let app = spawn_app().await;
    if app.database.is_postgres() {
        return; // The copy is pg_dump's there; restore-drill.sh proves it.
    }
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    for i in 0..60 {
        app.submit(&key, &format!("subject-{i}@example.org")).await;
    }
    app.wait_for_audit_chain().await;
    let dir = app.database.dir.path();
    let file = dir.join("backup.db");
    let taken = safescreen_with(&app.database, &["backup", &file.display().to_string()], &[]).await;
    assert!(taken.status.success(), "{}", said(&taken));

    // One page overwritten.
    let corrupt = dir.join("corrupt.db");
    let mut bytes = std::fs::read(&file).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    for byte in &mut bytes[page * (pages / 2)..page * (pages / 2 + 1)] {
        *byte = 0x5a;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    assert_verify_fails(&app.database, &corrupt, "integrity").await;

    // A row deleted, and the manifest edited.
    let mails = manifest_of(&file).await["tables"]["mail_outbox"]
        .as_u64()
        .unwrap();
    for (name, sql, expected) in [
        (
            "deleted.db",
            "DELETE FROM mail_outbox WHERE id = (SELECT MIN(id) FROM mail_outbox)".to_owned(),
            format!("table mail_outbox holds {} rows, the manifest says {mails}", mails - 1),
        ),
        (
            "edited.db",
            "UPDATE backup_manifest SET manifest = replace(manifest, '\"organisations\": 1', '\"organisations\": 2')".to_owned(),
            "table organisations holds 1 rows, the manifest says 2".to_owned(),
        ),
    ] {
        let copy = dir.join(name);
        std::fs::copy(&file, &copy).unwrap();
        let db = Database::connect(format!("sqlite://{}?mode=rw", copy.display()))
            .await
            .unwrap();
        db.execute_unprepared(&sql).await.unwrap();
        db.close().await.unwrap();
        assert_verify_fails(&app.database, &copy, &expected).await;
    }

    // Not a backup at all: a text file, an empty file, an SQLite database without a manifest.
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a database, just notes\n").unwrap();
    assert_verify_fails(&app.database, &text, "not an SQLite database").await;
    let empty = dir.join("empty.db");
    std::fs::write(&empty, "").unwrap();
    assert_verify_fails(&app.database, &empty, "not an SQLite database").await;
    let plain = dir.join("plain.db");
    let db = Database::connect(format!("sqlite://{}?mode=rwc", plain.display()))
        .await
        .unwrap();
    db.execute_unprepared("CREATE TABLE t (x INTEGER)")
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_verify_fails(&app.database, &plain, "has no manifest").await;
    // A restore of a bad file changes nothing.
    let target = TestDatabase::new().await;
    let refused = safescreen_with(&target, &["restore", &corrupt.display().to_string()], &[]).await;
    assert!(!refused.status.success());
    assert!(
        said(&refused).contains("does not verify"),
        "{}",
        said(&refused)
    );
    assert!(
        !target.dir.path().join("test.db").exists(),
        "nothing restored"
    );
}

#[tokio::test]
async fn restore_refuses_a_database_in_use_or_not_empty() {
    let mut app = spawn_app().await;
    if app.database.is_postgres() {
        let refused = safescreen_with(&app.database, &["restore", "any.db"], &[]).await;
        assert!(!refused.status.success());
        assert!(said(&refused).contains("pg_restore"), "{}", said(&refused));
        return;
    }
    let file = app.database.dir.path().join("backup.db");
    let taken = safescreen_with(&app.database, &["backup", &file.display().to_string()], &[]).await;
    assert!(taken.status.success(), "{}", said(&taken));
    // In use by the running service: refused even with --force.
    let file = file.display().to_string();
    let in_use = safescreen_with(&app.database, &["restore", "--force", &file], &[]).await;
    assert!(!in_use.status.success());
    assert!(
        said(&in_use).contains("in use by a running safescreen"),
        "{}",
        said(&in_use)
    );
    app.stop().await;
    let port = free_port();
    let mut server = Binary::start(&app, port).await;
    let in_use = safescreen_with(&app.database, &["restore", "--force", &file], &[]).await;
    assert!(
        said(&in_use).contains("in use by a running safescreen"),
        "{}",
        said(&in_use)
    );
    server.kill();
    // Stopped but not empty: only with --force.
    let not_empty = safescreen_with(&app.database, &["restore", &file], &[]).await;
    assert!(!not_empty.status.success());
    assert!(
        said(&not_empty).contains("not empty"),
        "{}",
        said(&not_empty)
    );
    let forced = safescreen_with(&app.database, &["restore", "--force", &file], &[]).await;
    assert!(forced.status.success(), "{}", said(&forced));
    // The wrong master key: refused before anything is replaced.
    let wrong = [(
        "SAFESCREEN_DATA_KEY",
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
    )];
    let target = TestDatabase::new().await;
    let refused = safescreen_with(&target, &["restore", &file], &wrong).await;
    assert!(
        said(&refused).contains("does not open data key"),
        "{}",
        said(&refused)
    );
    assert!(
        !target.dir.path().join("test.db").exists(),
        "nothing restored"
    );
}

/// Every form of a value the existing at-rest test searches for.
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine;
    vec![
        secret.to_vec(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(secret)
            .into_bytes(),
        hex::encode(secret).into_bytes(),
    ]
}

#[tokio::test]
async fn erased_personal_data_is_not_in_a_backup_taken_after_the_erasure() {
    let app = spawn_app_with(&[("SAFESCREEN_RETENTION_DAYS", "0")]).await;
    if app.database.is_postgres() {
        return; // The file is read byte by byte; pg_dump writes rows, and erased ones are gone.
    }
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let email = "erased.subject@example.org";
    let id = app.submit(&key, email).await;
    app.submit(&key, "kept.subject@example.org").await;
    let sealed = screening_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .subject_sealed
        .unwrap();
    let token = app.invitation_token(email).await;
    let declined = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/decline"),
            None,
            Some(json!({"reason": "other", "message": "Quixotic erased message"})),
        )
        .await;
    assert_eq!(declined.status, 200, "{}", declined.text);
    for _ in 0..200 {
        let row = screening_request::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if row.erased_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let file = app.database.dir.path().join("after-erasure.db");
    let taken = safescreen_with(&app.database, &["backup", &file.display().to_string()], &[]).await;
    assert!(taken.status.success(), "{}", said(&taken));
    let bytes = std::fs::read(&file).unwrap();
    let mut secrets: Vec<Vec<u8>> = vec![sealed[5..40].to_vec()];
    for text in [email, "Quixotic", "erased.subject", token.as_str()] {
        secrets.extend(forms(text.as_bytes()));
    }
    for secret in secrets {
        assert!(
            !bytes
                .windows(secret.len())
                .any(|w| w.eq_ignore_ascii_case(&secret)),
            "{:?} found in the backup",
            String::from_utf8_lossy(&secret)
        );
    }
}
