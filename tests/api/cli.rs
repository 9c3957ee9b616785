//! The command line: `migrate`, `create-admin`, `openapi`, and configuration errors.
use std::process::{Command, Output, Stdio};

use tokio::io::AsyncWriteExt;

use crate::helpers::*;

/// Runs the binary to its end without blocking the test's runtime: the test's own server (and
/// its workers, which hold SQLite's write lock for a moment every few milliseconds) keeps
/// running meanwhile, as a real server beside a command would.
async fn safescreen(database: &TestDatabase, args: &[&str], stdin: &str) -> Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_safescreen"))
        .args(args)
        .envs(test_vars(database))
        .env("SAFESCREEN_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run safescreen");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin() {
    let app = spawn_app().await;
    let output = safescreen(
        &app.database,
        &["create-admin", "--email", "second.admin@example.org"],
        "second admin password\n",
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = app
        .login("second.admin@example.org", "second admin password")
        .await;
    assert_eq!(app.get("/v1/me", &token).await.body["role"], "admin");

    // A short password or a taken e-mail is refused with a non-zero exit.
    let short = safescreen(
        &app.database,
        &["create-admin", "--email", "third@example.org"],
        "short\n",
    )
    .await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    let taken = safescreen(
        &app.database,
        &["create-admin", "--email", "second.admin@example.org"],
        "another long password\n",
    )
    .await;
    assert!(!taken.status.success());
}

#[tokio::test]
async fn migrate_and_openapi_commands() {
    let database = TestDatabase::new().await;
    let migrate = safescreen(&database, &["migrate"], "").await;
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let again = safescreen(&database, &["migrate"], "").await;
    assert!(again.status.success());
    let openapi = safescreen(&database, &["openapi"], "").await;
    assert!(openapi.status.success());
    // The document of the service as configured: here the tests' listen address.
    assert_eq!(
        String::from_utf8(openapi.stdout).unwrap(),
        safescreen::openapi::document_json_for("http://127.0.0.1:0")
    );
}

#[tokio::test]
async fn a_bad_configuration_names_the_variable() {
    let database = TestDatabase::new().await;
    let output = Command::new(env!("CARGO_BIN_EXE_safescreen"))
        .arg("migrate")
        .envs(test_vars(&database))
        .env("SAFESCREEN_LISTEN", "not an address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SAFESCREEN_LISTEN"));
}

/// `safescreen demo` leaves a request in every state of the life of a request.
#[tokio::test]
async fn demo_seeds_a_request_in_every_state() {
    let database = TestDatabase::new().await;
    let output = Command::new(env!("CARGO_BIN_EXE_safescreen"))
        .arg("demo")
        .envs(test_vars(&database))
        .env("SAFESCREEN_LOG", "error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("ss_key_") && printed.contains("supervisor"));
    // The portal's address and the organisation admin's sign-in.
    assert!(
        printed.contains("/org/requests") && printed.contains("/login as orgadmin-"),
        "{printed}"
    );
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    use sea_orm::EntityTrait;
    let statuses: std::collections::BTreeSet<String> = entity::screening_request::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.status)
        .collect();
    for status in [
        "awaiting_consent",
        "in_progress",
        "assessment",
        "intent_to_refuse",
        "final_review",
        "objection_review",
        "cleared",
        "refused",
        "withdrawn",
        "declined",
        "lapsed",
    ] {
        assert!(
            statuses.contains(status),
            "no demo request is {status}: {statuses:?}"
        );
    }
    // The cleared one has its certificate, and the output says how to fetch and verify it.
    let certificates = entity::certificate::Entity::find().all(&db).await.unwrap();
    assert_eq!(certificates.len(), 1);
    assert!(printed.contains(&format!(
        "/v1/screening-requests/{}/certificate",
        certificates[0].request_id
    )));
    assert!(printed.contains("/v1/certificates/verify"));
}
