//! `SAFESCREEN_RATE_LIMIT`: each API key and each session gets so many requests, says how many
//! are left on every answer, and is answered 429 with `Retry-After` past them; others go on.
use std::collections::BTreeMap;

use futures_util::{StreamExt, stream};
use reqwest::Method;

use crate::{helpers::*, pages::Browser};

#[tokio::test]
async fn the_limit_answers_429_and_recovers_after_retry_after() {
    let app = spawn_app_with(&[("SAFESCREEN_RATE_LIMIT", "10/s")]).await;
    let organisation = app.create_organisation("Limited").await;
    let (_, key) = app.create_api_key(organisation).await;
    for left in (0..10).rev() {
        let reply = app.get("/v1/me", &key).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.headers["ratelimit-policy"], "\"default\";q=10;w=1");
        let state = reply.headers["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            state.starts_with(&format!("\"default\";r={left};t=")),
            "{state}"
        );
    }
    let limited = app.get("/v1/me", &key).await;
    limited.assert_problem(429);
    assert_eq!(limited.body["type"], "urn:safescreen:problem:rate-limited");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert!(
        limited.headers["ratelimit"]
            .to_str()
            .unwrap()
            .contains("r=0")
    );
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(app.get("/v1/me", &key).await.status, 200);
    // Public operations are not limited per caller.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().get("ratelimit").is_none());
}

#[tokio::test]
async fn a_burst_of_ten_thousand_from_one_key_is_refused_without_harm_to_others() {
    let app = spawn_app_with(&[("SAFESCREEN_RATE_LIMIT", "600/min")]).await;
    let organisation = app.create_organisation("Bursting").await;
    let (_, noisy) = app.create_api_key(organisation).await;
    let (_, neighbour) = app.create_api_key(organisation).await;
    // The same organisation's sandbox key: limited apart from its live keys.
    let (_, org_admin) = app.create_member(organisation, "org_admin").await;
    let sandbox = app
        .post(
            &format!("/v1/organisations/{organisation}/api-keys"),
            &org_admin,
            serde_json::json!({"name": "sandbox", "mode": "sandbox"}),
        )
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.create_organisation("Elsewhere").await;
    let (_, elsewhere) = app.create_api_key(other).await;

    let statuses: Vec<u16> = stream::iter(0..10_000)
        .map(|_| {
            let request = app.client.get(app.url("/v1/me")).bearer_auth(&noisy).send();
            async move { request.await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let mut counts = BTreeMap::new();
    for status in statuses {
        *counts.entry(status).or_insert(0) += 1;
    }
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        [200, 429],
        "{counts:?}"
    );
    // The quota, and what came back while the burst lasted (10 a second).
    assert!((600..=1_200).contains(&counts[&200]), "{counts:?}");
    assert!(counts[&429] >= 8_800, "{counts:?}");
    for key in [&neighbour, &sandbox, &elsewhere] {
        let reply = app.get("/v1/me", key).await;
        assert_eq!(reply.status, 200, "another key is unaffected");
        assert!(
            reply.headers["ratelimit"]
                .to_str()
                .unwrap()
                .starts_with("\"default\";r=599;")
        );
    }
    // Nothing changed for the noisy key but its count: it may go on once the quota is back.
    let reply = app.get("/v1/me", &noisy).await;
    assert!(reply.status == 429 || reply.status == 200);
}

#[tokio::test]
async fn each_session_has_its_own_limit_on_the_api_and_on_pages() {
    let app = spawn_app_with(&[("SAFESCREEN_RATE_LIMIT", "5/min")]).await;
    let second = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(app.get("/v1/me", &app.admin_token).await.status, 200);
    }
    app.get("/v1/me", &app.admin_token)
        .await
        .assert_problem(429);
    assert_eq!(
        app.get("/v1/me", &second).await.status,
        200,
        "another session"
    );

    // A page session: the error page, with the headers.
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let mut last = None;
    for _ in 0..6 {
        last = Some(browser.get("/account").await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert!(last.headers.get("retry-after").is_some());
    assert!(
        last.body.contains("<html"),
        "a page, not a problem document"
    );
    // Logging in is limited by its own rule (failures), not by this one.
    let reply = app
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn across_processes_a_key_gets_at_most_the_limit_per_process() {
    let first = spawn_app_with(&[("SAFESCREEN_RATE_LIMIT", "10/min")]).await;
    let second = spawn_second_app_with(&first, &[("SAFESCREEN_RATE_LIMIT", "10/min")]).await;
    let organisation = first.create_organisation("Two processes").await;
    let (_, key) = first.create_api_key(organisation).await;
    let mut passed = 0;
    for i in 0..60 {
        let app = if i % 2 == 0 { &first } else { &second };
        if app.get("/v1/me", &key).await.status == 200 {
            passed += 1;
        }
    }
    // Each process counts on its own: the limit at least, twice it at most.
    assert!((10..=20).contains(&passed), "{passed} of 60 passed");
}
