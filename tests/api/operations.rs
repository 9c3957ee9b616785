//! Health, metrics, request ids, unknown routes and methods, logs, and a graceful stop.
use std::{
    io::Read,
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/nowhere", "/v1/me"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let id = response
            .headers()
            .get("x-request-id")
            .expect("x-request-id on every response");
        assert!(uuid::Uuid::parse_str(id.to_str().unwrap()).is_ok());
    }
    // A caller's own request id is kept.
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    app.call(Method::GET, "/v1/nothing-here", None, None)
        .await
        .assert_problem(404);
    app.call(Method::PUT, "/v1/me", Some(&app.admin_token), None)
        .await
        .assert_problem(405);
    app.call(
        Method::DELETE,
        "/v1/organisations",
        Some(&app.admin_token),
        None,
    )
    .await
    .assert_problem(405);
    // An id that is not a UUID names nothing.
    app.get("/v1/organisations/not-a-uuid", &app.admin_token)
        .await
        .assert_problem(404);
    app.get("/v1/checkers/123", &app.admin_token)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    app.get(&format!("/v1/organisations/{org}"), &app.admin_token)
        .await;
    let metrics = app.public_text("/metrics").await;
    assert!(
        metrics.contains("safescreen_http_requests_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="/v1/organisations/{id}""#),
        "{metrics}"
    );
    assert!(
        !metrics.contains(&org.to_string()),
        "no concrete ids in labels"
    );
    assert!(metrics.contains("safescreen_http_request_duration_seconds_bucket"));
    // The organisation's creation is audited, and chained within a second.
    let mut unchained = String::new();
    for _ in 0..40 {
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
        let text = metrics.text().await.unwrap();
        unchained = text
            .lines()
            .find(|l| l.starts_with("safescreen_audit_unchained "))
            .unwrap_or_default()
            .to_owned();
        if unchained == "safescreen_audit_unchained 0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(unchained, "safescreen_audit_unchained 0");
    assert!(
        metrics.contains(r#"safescreen_outbox_backlog{kind="mail"}"#),
        "{metrics}"
    );
}

/// Starts the real binary with JSON logs, exercises credentials, stops it with SIGTERM.
#[tokio::test]
async fn logs_hold_no_secrets_and_sigterm_stops_gracefully() {
    let database = TestDatabase::new().await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut vars = test_vars(&database);
    vars.insert("SAFESCREEN_LISTEN".into(), format!("127.0.0.1:{port}"));
    vars.insert("SAFESCREEN_LOG".into(), "debug".into());
    vars.insert("SAFESCREEN_LOG_FORMAT".into(), "json".into());
    let mut child = Command::new(env!("CARGO_BIN_EXE_safescreen"))
        .arg("serve")
        .envs(vars)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not start");
    let login = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let org = client
        .post(format!("{base}/v1/organisations"))
        .bearer_auth(&token)
        .json(&organisation_body("Kids Abroad"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let user = client
        .post(format!("{base}/v1/organisations/{}/users", org["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .json(&json!({"email": "secret.person@example.org", "name": "Secret Person", "role": "org_admin"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let activation = user["activation_token"].as_str().unwrap().to_owned();
    client
        .post(format!("{base}/v1/auth/activate"))
        .json(&json!({"token": activation, "password": "secret person password"}))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": "secret.person@example.org", "password": "wrong wrong wrong"}))
        .send()
        .await
        .unwrap();

    // SIGTERM: stop accepting, finish, exit 0.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut logs = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut logs)
            .unwrap();
        (status, logs)
    })
    .await
    .unwrap();
    let (status, logs) = exit;
    assert!(status.success(), "exit status {status:?}; logs:\n{logs}");
    assert!(
        logs.contains("\"route\":\"/v1/auth/login\""),
        "requests are logged: {logs}"
    );
    for line in logs.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "JSON log line: {line}"
        );
    }
    for secret in [
        token.as_str(),
        activation.as_str(),
        ADMIN_PASSWORD,
        "secret person password",
        "secret.person@example.org",
        "Secret Person",
        ADMIN_EMAIL,
        "ss_sess_",
        "ss_act_",
    ] {
        assert!(!logs.contains(secret), "logs contain {secret:?}:\n{logs}");
    }
}
