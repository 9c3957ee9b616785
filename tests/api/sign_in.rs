//! Signing in with a second factor over the API, in the default configuration (a second factor
//! for staff): TOTP enrolment, codes accepted once, recovery codes, throttling, step-up,
//! sessions and their timeouts, and password reset.
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// The service's default: staff sign in with a second factor.
pub async fn spawn_staff_mfa_app() -> TestApp {
    spawn_app_with(&[("SAFESCREEN_MFA", "staff")]).await
}

/// A user's authenticator app, as the test holds it: codes for any time step.
pub struct Authenticator {
    totp: totp_rs::Totp,
}

impl Authenticator {
    /// The code of the time step `offset` steps from now (0: now, 1: the next one).
    pub fn code(&self, offset: i64) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.totp
            .generate((now + offset * 30).max(0) as u64)
            .to_string()
    }
}

/// Enrols TOTP for the session's user through the API; returns the app and the recovery codes.
/// The session then counts as signed in with the factor.
pub async fn enrol(app: &TestApp, token: &str) -> (Authenticator, Vec<String>) {
    let started = app
        .call(Method::POST, "/v1/me/totp", Some(token), None)
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let secret =
        totp_rs::Secret::try_from_base32(started.body["secret"].as_str().unwrap()).unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(secret.as_ref().to_vec())
        .build()
        .unwrap();
    let authenticator = Authenticator { totp };
    let confirmed = app
        .post(
            "/v1/me/totp/confirm",
            token,
            json!({"code": authenticator.code(0)}),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let codes = confirmed.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (authenticator, codes)
}

fn login_body(email: &str, password: &str, code: Option<&str>) -> Value {
    match code {
        Some(code) => json!({"email": email, "password": password, "code": code}),
        None => json!({"email": email, "password": password}),
    }
}

async fn login_with(app: &TestApp, email: &str, password: &str, code: Option<&str>) -> Reply {
    app.call(
        Method::POST,
        "/v1/auth/login",
        None,
        Some(login_body(email, password, code)),
    )
    .await
}

/// A checker created by the (enrolled) admin and activated: (checker id, e-mail).
async fn new_checker(app: &TestApp, admin: &str) -> (Uuid, String) {
    let email = format!("checker-{}@example.org", Uuid::new_v4().simple());
    let reply = app
        .post(
            "/v1/checkers",
            admin,
            json!({"email": email, "name": "Checker", "authorisations": ["identity"],
                   "supervisor": false, "max_open_tasks": 5, "conflicts": []}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let activation = reply.body["activation_token"].as_str().unwrap();
    assert_eq!(app.activate(activation, USER_PASSWORD).await.status, 204);
    let id = reply.body["checker"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (id, email)
}

async fn totp_confirmed(app: &TestApp, user: Uuid) -> bool {
    entity::totp_factor::Entity::find_by_id(user)
        .one(&app.db)
        .await
        .unwrap()
        .is_some_and(|t| t.confirmed_at.is_some())
}

#[tokio::test]
async fn a_staff_user_without_a_factor_can_only_enrol_and_a_wrong_first_code_stores_nothing() {
    let app = spawn_staff_mfa_app().await;
    let admin = app.admin_token.clone();
    // The first admin has no factor yet: everything but enrolment is closed.
    let refused = app.get("/v1/organisations", &admin).await;
    refused.assert_problem(403);
    assert_eq!(
        refused.body["type"],
        "urn:safescreen:problem:mfa-enrolment-required"
    );
    let me = app.get("/v1/me", &admin).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["mfa"]["totp"], false);
    // A wrong first code, or one of the wrong shape: no factor is stored.
    let started = app
        .call(Method::POST, "/v1/me/totp", Some(&admin), None)
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert!(
        started.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    for code in ["000000", "12345", "abcdef"] {
        let wrong = app
            .post("/v1/me/totp/confirm", &admin, json!({"code": code}))
            .await;
        wrong.assert_problem(422);
        assert_eq!(wrong.problem_fields(), ["code"]);
    }
    let admin_id = app.get("/v1/me", &admin).await.body["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(!totp_confirmed(&app, admin_id).await);
    // The right one: ten recovery codes, and the same session now reaches everything.
    let (_, codes) = enrol(&app, &admin).await;
    assert_eq!(codes.len(), 10);
    assert!(totp_confirmed(&app, admin_id).await);
    assert_eq!(app.get("/v1/organisations", &admin).await.status, 200);
    let me = app.get("/v1/me", &admin).await;
    assert_eq!(
        me.body["mfa"],
        json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10})
    );
    // Enrolled twice: refused.
    app.call(Method::POST, "/v1/me/totp", Some(&admin), None)
        .await
        .assert_problem(409);
    // The enrolment is audited and e-mailed to the user.
    let added = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::Kind.eq("factor_added"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(added, 1);
    app.wait_for_audit_chain().await;
    let events = app
        .get("/v1/audit-events?action=mfa.totp_enrolled", &admin)
        .await;
    assert_eq!(events.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_totp_code_is_accepted_once_and_only_within_a_step_of_now() {
    let app = spawn_staff_mfa_app().await;
    let admin = app.admin_token.clone();
    let (app_of_admin, _) = enrol(&app, &admin).await;
    // Without a code: mfa-required, after the password was checked.
    let missing = login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    missing.assert_problem(401);
    assert_eq!(missing.body["type"], "urn:safescreen:problem:mfa-required");
    // A wrong password with a code: the same 401 as ever.
    login_with(
        &app,
        ADMIN_EMAIL,
        "not the password",
        Some(&app_of_admin.code(1)),
    )
    .await
    .assert_problem(401);
    // Expired (two steps ago) and future (two steps ahead): refused.
    for offset in [-2, 2] {
        let reply = login_with(
            &app,
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
            Some(&app_of_admin.code(offset)),
        )
        .await;
        reply.assert_problem(401);
        assert_eq!(
            reply.body["type"], "urn:safescreen:problem:unauthenticated",
            "{offset}"
        );
    }
    // Enrolment used the current step; the next one (within the drift allowed) signs in once.
    let next = app_of_admin.code(1);
    let signed_in = login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&next)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let token = signed_in.body["token"].as_str().unwrap();
    assert_eq!(app.get("/v1/organisations", token).await.status, 200);
    // The same code again, and the now-older current step: refused as reused.
    for code in [next.clone(), app_of_admin.code(0)] {
        login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&code))
            .await
            .assert_problem(401);
    }
    // A code of the wrong shape is refused for its shape.
    let shape = login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some("12-34")).await;
    shape.assert_problem(422);
    assert_eq!(shape.problem_fields(), ["code"]);
    // The sign-in is audited with its factors.
    app.wait_for_audit_chain().await;
    let logins = app
        .get("/v1/audit-events?action=auth.login&limit=100", token)
        .await;
    assert!(
        logins.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["details"]["factors"] == "password+totp"),
        "{}",
        logins.text
    );
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_the_user_is_told() {
    let app = spawn_staff_mfa_app().await;
    let (_, codes) = enrol(&app, &app.admin_token).await;
    let first = login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&codes[0])).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let token = first.body["token"].as_str().unwrap();
    login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&codes[0]))
        .await
        .assert_problem(401);
    // Written without its hyphens, in capitals: the same code.
    let second = codes[1].replace('-', "").to_uppercase();
    assert_eq!(
        login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&second))
            .await
            .status,
        200
    );
    let me = app.get("/v1/me", token).await;
    assert_eq!(me.body["mfa"]["recovery_codes_left"], 8);
    let told = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::Kind.eq("recovery_code_used"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(told, 2);
}

#[tokio::test]
async fn wrong_codes_are_throttled_the_user_is_warned_and_the_account_recovers() {
    let app = spawn_staff_mfa_app().await;
    let (authenticator, _) = enrol(&app, &app.admin_token).await;
    let mut statuses = Vec::new();
    for _ in 0..100 {
        let reply = login_with(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some("000001")).await;
        statuses.push(reply.status.as_u16());
        if reply.status == 429 {
            assert!(reply.headers.get("retry-after").is_some());
        }
    }
    // Five free tries, then blocks that grow with every failure after one ends.
    assert!(statuses[..5].iter().all(|s| *s == 401), "{statuses:?}");
    let tried = statuses.iter().filter(|s| **s == 401).count();
    assert!(tried <= 10, "{tried} codes were checked: {statuses:?}");
    // The password was right three times with a wrong factor: the user is told, once.
    let warned = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::Kind.eq("second_factor_failed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(warned, 1);
    // Not locked for good: once the block is over, the right code works.
    entity::login_throttle::Entity::update_many()
        .col_expr(
            entity::login_throttle::Column::BlockedUntil,
            Expr::value(Option::<time::PrimitiveDateTime>::None),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let back = login_with(
        &app,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        Some(&authenticator.code(1)),
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.text);
}

/// Ages the session's last second factor past the step-up window.
pub(crate) async fn age_factor(app: &TestApp, token: &str) {
    entity::session::Entity::update_many()
        .col_expr(
            entity::session::Column::FactorVerifiedAt,
            Expr::value(Some(safescreen::db::now() - time::Duration::minutes(16))),
        )
        .filter(entity::session::Column::TokenHash.eq(safescreen::auth::tokens::hash(token)))
        .exec(&app.db)
        .await
        .unwrap();
    // On PostgreSQL the service caches principals until told of a change, as a change made
    // through the service would tell it.
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        use sea_orm::ConnectionTrait;
        app.db
            .execute_unprepared(&format!("NOTIFY {}", safescreen::cache::PRINCIPALS))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn changing_a_checkers_authorisations_and_removing_a_factor_need_a_fresh_factor() {
    let app = spawn_staff_mfa_app().await;
    let admin = app.admin_token.clone();
    let (authenticator, codes) = enrol(&app, &admin).await;
    let (checker, _) = new_checker(&app, &admin).await;
    // Fresh from enrolment: allowed.
    let changed = app
        .patch(
            &format!("/v1/checkers/{checker}"),
            &admin,
            json!({"authorisations": ["identity", "reference"]}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    // Sixteen minutes later: step-up first, and nothing changes meanwhile.
    age_factor(&app, &admin).await;
    for body in [
        json!({"authorisations": ["identity"]}),
        json!({"supervisor": true}),
    ] {
        let refused = app
            .patch(&format!("/v1/checkers/{checker}"), &admin, body)
            .await;
        refused.assert_problem(403);
        assert_eq!(
            refused.body["type"],
            "urn:safescreen:problem:step-up-required"
        );
    }
    let unchanged = app.get(&format!("/v1/checkers/{checker}"), &admin).await;
    assert_eq!(
        unchanged.body["authorisations"],
        json!(["identity", "reference"])
    );
    assert_eq!(unchanged.body["supervisor"], false);
    // A cap is not a right: no step-up needed.
    let cap = app
        .patch(
            &format!("/v1/checkers/{checker}"),
            &admin,
            json!({"max_open_tasks": 7}),
        )
        .await;
    assert_eq!(cap.status, 200, "{}", cap.text);
    app.call(Method::DELETE, "/v1/me/totp", Some(&admin), None)
        .await
        .assert_problem(403);
    // A wrong code does not step up; a right one does, for the same session.
    app.post("/v1/auth/step-up", &admin, json!({"code": "000000"}))
        .await
        .assert_problem(401);
    let stepped = app
        .post(
            "/v1/auth/step-up",
            &admin,
            json!({"code": authenticator.code(1)}),
        )
        .await;
    assert_eq!(stepped.status, 204, "{}", stepped.text);
    let changed = app
        .patch(
            &format!("/v1/checkers/{checker}"),
            &admin,
            json!({"authorisations": ["identity"], "supervisor": true}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    // A recovery code steps up too; then the factor can be removed.
    age_factor(&app, &admin).await;
    assert_eq!(
        app.post("/v1/auth/step-up", &admin, json!({"code": codes[0]}))
            .await
            .status,
        204
    );
    let removed = app
        .call(Method::DELETE, "/v1/me/totp", Some(&admin), None)
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    // Gone: removing it again finds nothing.
    app.call(Method::DELETE, "/v1/me/totp", Some(&admin), None)
        .await
        .assert_problem(404);
    let told = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::Kind.eq("factor_removed"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(told, 1);
}

#[tokio::test]
async fn a_refusal_needs_a_fresh_second_factor() {
    let app = spawn_app().await;
    let key = crate::engine::org_with_key(&app).await.1;
    let (_, all) = crate::engine::checker(
        &app,
        &["identity", "criminal_record", "reference"],
        false,
        10,
        &[],
    )
    .await;
    let (_, assessor) = crate::engine::checker(&app, &["assessment"], false, 10, &[]).await;
    // The assessor signs in with a factor (optional here, so the checkers above need none).
    let (authenticator, _) = enrol(&app, &assessor).await;
    let (id, _) = crate::engine::consented(&app, &key, |_| {}).await;
    for (check, outcome) in [
        ("identity", "no_concerns"),
        ("criminal_record", "concerns"),
        ("reference", "no_concerns"),
    ] {
        let task = crate::engine::open_task(&app, id, "check", Some(check)).await;
        let done = crate::engine::complete(&app, &all, task.id, json!({"outcome": outcome})).await;
        assert_eq!(done.status, 200, "{}", done.text);
    }
    let assessment = crate::engine::open_task(&app, id, "assessment", None).await;
    age_factor(&app, &assessor).await;
    let refuse = json!({"outcome": "refuse", "grounds": "A relevant conviction."});
    let refused = crate::engine::complete(&app, &assessor, assessment.id, refuse.clone()).await;
    refused.assert_problem(403);
    assert_eq!(
        refused.body["type"],
        "urn:safescreen:problem:step-up-required"
    );
    assert_eq!(crate::engine::status_of(&app, id).await, "assessment");
    // Clearing needs no step-up; refusing does, and then goes through.
    assert_eq!(
        app.post(
            "/v1/auth/step-up",
            &assessor,
            json!({"code": authenticator.code(1)})
        )
        .await
        .status,
        204
    );
    let done = crate::engine::complete(&app, &assessor, assessment.id, refuse).await;
    assert_eq!(done.status, 200, "{}", done.text);
}

#[tokio::test]
async fn sessions_are_listed_ended_and_end_when_idle_or_old() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let email = format!("m-{}@example.org", Uuid::new_v4().simple());
    let created = app
        .post(
            &format!("/v1/organisations/{org}/users"),
            &app.admin_token,
            json!({"email": email, "name": "Member", "role": "org_admin"}),
        )
        .await;
    assert_eq!(
        app.activate(
            created.body["activation_token"].as_str().unwrap(),
            USER_PASSWORD
        )
        .await
        .status,
        204
    );
    let first = app.login(&email, USER_PASSWORD).await;
    let second = app.login(&email, USER_PASSWORD).await;
    let third = app.login(&email, USER_PASSWORD).await;
    let list = app.get("/v1/me/sessions", &first).await;
    let sessions = list.body.as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{}", list.text);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    // Ending another session ends it at once; someone else's is not there.
    let second_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/v1/me/sessions/{second_id}"), &first)
            .await
            .status,
        204
    );
    let ended = [
        app.get("/v1/me", &second).await.status,
        app.get("/v1/me", &third).await.status,
    ];
    assert!(
        ended.contains(&reqwest::StatusCode::UNAUTHORIZED),
        "{ended:?}"
    );
    app.delete(&format!("/v1/me/sessions/{second_id}"), &app.admin_token)
        .await
        .assert_problem(404);
    // Idle for longer than the idle timeout (30 minutes): ended; within it, alive.
    let set_last_seen = |minutes: i64, token: String| {
        let db = app.db.clone();
        async move {
            entity::session::Entity::update_many()
                .col_expr(
                    entity::session::Column::LastSeenAt,
                    Expr::value(Some(
                        safescreen::db::now() - time::Duration::minutes(minutes),
                    )),
                )
                .filter(
                    entity::session::Column::TokenHash.eq(safescreen::auth::tokens::hash(&token)),
                )
                .exec(&db)
                .await
                .unwrap();
        }
    };
    // (Fresh tokens for each: a process caches a principal for up to a minute, never past
    // its session's end as it stood then.)
    set_last_seen(29, first.clone()).await;
    assert_eq!(app.get("/v1/me", &first).await.status, 200);
    let idle = app.login(&email, USER_PASSWORD).await;
    set_last_seen(31, idle.clone()).await;
    app.get("/v1/me", &idle).await.assert_problem(401);
    // And whatever the use, at the absolute lifetime.
    let fourth = app.login(&email, USER_PASSWORD).await;
    entity::session::Entity::update_many()
        .col_expr(
            entity::session::Column::ExpiresAt,
            Expr::value(safescreen::db::now() - time::Duration::seconds(1)),
        )
        .filter(entity::session::Column::TokenHash.eq(safescreen::auth::tokens::hash(&fourth)))
        .exec(&app.db)
        .await
        .unwrap();
    app.get("/v1/me", &fourth).await.assert_problem(401);
}

#[tokio::test]
async fn a_session_in_use_is_touched_at_most_once_a_minute() {
    let app = spawn_app().await;
    let token = app.admin_token.clone();
    let hash = safescreen::auth::tokens::hash(&token);
    let last_seen = || {
        let db = app.db.clone();
        let hash = hash.clone();
        async move {
            entity::session::Entity::find()
                .filter(entity::session::Column::TokenHash.eq(hash))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .last_seen_at
                .unwrap()
        }
    };
    let before = last_seen().await;
    for _ in 0..5 {
        assert_eq!(app.get("/v1/me", &token).await.status, 200);
    }
    assert_eq!(last_seen().await, before, "no write for every request");
}

#[tokio::test]
async fn a_password_reset_link_works_once_for_an_hour_and_keeps_the_second_factor() {
    let app = spawn_staff_mfa_app().await;
    let (authenticator, _) = enrol(&app, &app.admin_token).await;
    // Another account, whose password no reset link of the admin's may touch.
    let org = app.create_organisation("Kids Abroad").await;
    let other = format!("m-{}@example.org", Uuid::new_v4().simple());
    let created = app
        .post(
            &format!("/v1/organisations/{org}/users"),
            &app.admin_token,
            json!({"email": other, "name": "Member", "role": "org_admin"}),
        )
        .await;
    assert_eq!(
        app.activate(
            created.body["activation_token"].as_str().unwrap(),
            USER_PASSWORD
        )
        .await
        .status,
        204
    );
    let mails = |kind: &'static str| {
        let db = app.db.clone();
        async move {
            entity::mail_outbox::Entity::find()
                .filter(entity::mail_outbox::Column::Kind.eq(kind))
                .count(&db)
                .await
                .unwrap()
        }
    };
    // The same answer for an address that has no account; no e-mail for it.
    for email in ["nobody@example.org", ADMIN_EMAIL] {
        let reply = app
            .call(
                Method::POST,
                "/v1/auth/password-reset",
                None,
                Some(json!({"email": email})),
            )
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        assert!(reply.text.is_empty());
    }
    assert_eq!(mails("password_reset").await, 1);
    // Something that is no address at all is a bad input, not an unknown account.
    for email in [
        "not an address",
        &format!("{}@example.org", "a".repeat(250)),
    ] {
        let reply = app
            .call(
                Method::POST,
                "/v1/auth/password-reset",
                None,
                Some(json!({"email": email})),
            )
            .await;
        reply.assert_problem(422);
        assert_eq!(reply.body["errors"][0]["field"], "email");
    }
    assert_eq!(mails("password_reset").await, 1);
    let token = app.reset_token(ADMIN_EMAIL).await;
    let confirm = |token: String, password: &'static str| {
        app.call(
            Method::POST,
            "/v1/auth/password-reset/confirm",
            None,
            Some(json!({"token": token, "password": password})),
        )
    };
    confirm(token.clone(), "short").await.assert_problem(422);
    assert_eq!(
        confirm(token.clone(), "a brand new password").await.status,
        204
    );
    // Used: no second time. Every session of the account ended.
    confirm(token.clone(), "yet another password")
        .await
        .assert_problem(401);
    app.get("/v1/me", &app.admin_token)
        .await
        .assert_problem(401);
    assert_eq!(mails("password_changed").await, 1);
    // The second factor stays: the new password alone is not enough.
    let without = login_with(&app, ADMIN_EMAIL, "a brand new password", None).await;
    assert_eq!(without.body["type"], "urn:safescreen:problem:mfa-required");
    assert_eq!(
        login_with(
            &app,
            ADMIN_EMAIL,
            "a brand new password",
            Some(&authenticator.code(1))
        )
        .await
        .status,
        200
    );
    // A link older than an hour is refused.
    app.call(
        Method::POST,
        "/v1/auth/password-reset",
        None,
        Some(json!({"email": ADMIN_EMAIL})),
    )
    .await;
    let late = app.reset_token(ADMIN_EMAIL).await;
    entity::password_reset::Entity::update_many()
        .col_expr(
            entity::password_reset::Column::ExpiresAt,
            Expr::value(safescreen::db::now() - time::Duration::seconds(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    confirm(late, "a third new password")
        .await
        .assert_problem(401);
    // The other account kept its password.
    assert_eq!(app.try_login(&other, USER_PASSWORD).await.status, 200);
    // A made-up token is refused.
    confirm(format!("ss_rst_{}", "A".repeat(43)), "a third new password")
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn a_new_user_gets_the_activation_link_by_e_mail() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let email = format!("m-{}@example.org", Uuid::new_v4().simple());
    let created = app
        .post(
            &format!("/v1/organisations/{org}/users"),
            &app.admin_token,
            json!({"email": email, "name": "Member", "role": "org_requester"}),
        )
        .await;
    let token = created.body["activation_token"].as_str().unwrap();
    let mailed = app.mailed_link(&email, "/activate/").await;
    assert_eq!(mailed, token);
}

/// Two processes, one database, the same code at the same moment: one session.
#[tokio::test]
async fn a_totp_step_is_accepted_once_across_two_processes() {
    let app = spawn_staff_mfa_app().await;
    let second = spawn_second_app(&app).await;
    let (authenticator, _) = enrol(&app, &app.admin_token).await;
    let code = authenticator.code(1);
    let body = login_body(ADMIN_EMAIL, ADMIN_PASSWORD, Some(&code));
    let (a, b) = tokio::join!(
        app.call(Method::POST, "/v1/auth/login", None, Some(body.clone())),
        second.call(Method::POST, "/v1/auth/login", None, Some(body)),
    );
    let ok = [a.status, b.status]
        .iter()
        .filter(|s| s.as_u16() == 200)
        .count();
    assert_eq!(ok, 1, "{} and {}", a.status, b.status);
    let sessions = entity::session::Entity::find()
        .filter(entity::session::Column::Factors.eq("password+totp"))
        .count(&app.db)
        .await
        .unwrap();
    // The enrolment's session, and one of the two sign-ins.
    assert_eq!(sessions, 2);
}
