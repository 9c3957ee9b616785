//! The audit log: what is recorded, and `safescreen audit verify` catching every kind of
//! tampering.
use std::process::Command;

use safescreen::audit::chain;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::helpers::*;
use entity::audit_event;

/// Runs `safescreen audit verify` against the app's database: (exit code, output).
fn verify_cli(app: &TestApp) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_safescreen"))
        .args(["audit", "verify"])
        .env("SAFESCREEN_DATABASE_URL", app.database_url())
        .env("SAFESCREEN_LOG", "error")
        .output()
        .expect("run safescreen");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// An app with a handful of chained events, stopped so nothing else writes.
async fn app_with_events() -> TestApp {
    let mut app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    app.create_member(org, "org_admin").await;
    app.create_api_key(org).await;
    app.wait_for_audit_chain().await;
    app.stop().await;
    app
}

async fn event_at(app: &TestApp, seq: i64) -> audit_event::Model {
    audit_event::Entity::find()
        .filter(audit_event::Column::Seq.eq(seq))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn changes_logins_and_failures_are_recorded_without_personal_data() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (user, _) = app.create_member(org, "org_requester").await;
    let (key, _) = app.create_api_key(org).await;
    let (checker, _) = app.create_checker(false).await;
    app.patch(
        &format!("/v1/checkers/{checker}"),
        &app.admin_token,
        json!({"max_open_tasks": 2}),
    )
    .await;
    app.delete(
        &format!("/v1/organisations/{org}/api-keys/{key}"),
        &app.admin_token,
    )
    .await;
    app.try_login("requester@example.org", "wrong password!")
        .await;
    app.wait_for_audit_chain().await;

    let page = app
        .get("/v1/audit-events?limit=100", &app.admin_token)
        .await;
    assert_eq!(page.status, 200);
    let actions: Vec<&str> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "admin.created",
        "auth.login",
        "organisation.created",
        "user.created",
        "user.activated",
        "api_key.created",
        "api_key.revoked",
        "checker.created",
        "checker.updated",
        "auth.login_failed",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        !page.text.contains("example.org"),
        "no e-mail addresses in audit events"
    );
    assert!(!page.text.contains("ss_"), "no tokens in audit events");

    let for_user = app
        .get(
            &format!("/v1/audit-events?target=user:{user}"),
            &app.admin_token,
        )
        .await;
    let actions: Vec<&str> = for_user.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.created", "user.activated", "auth.login"]);
    for event in page.body["data"].as_array().unwrap() {
        assert!(event["seq"].is_i64() && event["hash"].as_str().unwrap().len() == 64);
    }
    app.get("/v1/audit-events?limit=0", &app.admin_token)
        .await
        .assert_problem(422);
    app.get("/v1/audit-events?cursor=nonsense", &app.admin_token)
        .await
        .assert_problem(422);
    app.get("/v1/audit-events?colour=red", &app.admin_token)
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    let app = app_with_events().await;
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("intact"), "{text}");
}

#[tokio::test]
async fn a_changed_event_is_named() {
    let app = app_with_events().await;
    let mut event = event_at(&app, 3).await.into_active_model();
    event.details = Set(json!({"forged": true}));
    event.update(&app.db).await.unwrap();
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("seq 3") && text.contains("changed"), "{text}");
}

#[tokio::test]
async fn a_deleted_event_is_named() {
    let app = app_with_events().await;
    audit_event::Entity::delete_by_id(event_at(&app, 2).await.id)
        .exec(&app.db)
        .await
        .unwrap();
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("seq 2"), "{text}");
}

#[tokio::test]
async fn a_truncated_tail_is_detected() {
    let app = app_with_events().await;
    let last = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    audit_event::Entity::delete_by_id(last.id)
        .exec(&app.db)
        .await
        .unwrap();
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("chain head"), "{text}");
}

#[tokio::test]
async fn an_inserted_event_is_detected_even_with_a_correct_hash() {
    let app = app_with_events().await;
    let last = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let seq = last.seq.unwrap() + 1;
    let mut forged = audit_event::Model {
        id: uuid::Uuid::now_v7(),
        seq: Some(seq),
        at: safescreen::db::now(),
        actor: "system".into(),
        action: "user.created".into(),
        target: None,
        details: json!({}),
        prev_hash: last.hash.clone(),
        hash: None,
    };
    forged.hash = Some(chain::link_hash(
        last.hash.as_deref().unwrap(),
        &chain::canonical_event(&forged, seq),
    ));
    forged.into_active_model().insert(&app.db).await.unwrap();
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 1, "{text}");

    // And one inserted in the middle, shifting the rest.
    let app = app_with_events().await;
    let third = event_at(&app, 3).await;
    let mut row = third.clone().into_active_model();
    row.id = Set(uuid::Uuid::now_v7());
    row.seq = Set(Some(1000));
    row.insert(&app.db).await.unwrap();
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 1, "{text}");
}

#[tokio::test]
async fn reordered_events_are_named() {
    let app = app_with_events().await;
    let second = event_at(&app, 2).await;
    let third = event_at(&app, 3).await;
    let mut a = second.clone().into_active_model();
    a.seq = Set(Some(-2));
    a.update(&app.db).await.unwrap();
    let mut b = third.into_active_model();
    b.seq = Set(Some(2));
    b.update(&app.db).await.unwrap();
    let mut a = second.into_active_model();
    a.seq = Set(Some(3));
    a.update(&app.db).await.unwrap();
    let (code, text) = verify_cli(&app);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("seq 2"), "{text}");
}
