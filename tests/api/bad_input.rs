//! Every bad input named in the foundation issue: a clear problem+json, and nothing changed.
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

async fn organisation_count(app: &TestApp) -> u64 {
    entity::organisation::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let reply = app
        .post_raw(
            "/v1/organisations",
            Some(&app.admin_token),
            "application/json",
            b"{\"name\": ".to_vec(),
        )
        .await;
    reply.assert_problem(400);
    assert!(
        !reply.text.contains("line"),
        "no parser positions: {}",
        reply.text
    );
    let trailing = app
        .post_raw(
            "/v1/auth/login",
            None,
            "application/json",
            br#"{"email":"a@b.org","password":"x"} []"#.to_vec(),
        )
        .await;
    trailing.assert_problem(400);
    assert_eq!(organisation_count(&app).await, 0);
}

/// Every body is an object: an array is refused whole, even where serde could read one, and
/// an array or a string where the body is optional too (an array answered 500 once).
#[tokio::test]
async fn an_array_for_a_body_is_422() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let reply = app
        .post(
            &format!("/v1/organisations/{org}/api-keys"),
            &app.admin_token,
            json!(["fuzz"]),
        )
        .await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["body"]);
    let id = app.submit(&key, "jan@example.org").await;
    for body in [json!([null, null]), json!(["HR-1"]), json!("HR-1")] {
        let reply = app
            .client
            .post(app.url(&format!("/v1/screening-requests/{id}/rescreen")))
            .bearer_auth(&key)
            .header("Idempotency-Key", "rescreen-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 422);
        let problem: serde_json::Value = reply.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "body", "{problem}");
    }
    assert_eq!(
        entity::screening_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

/// One-line fields take no line breaks or other control characters anywhere, not even at
/// the ends where trimming would have hidden them; blank is empty.
#[tokio::test]
async fn one_line_texts_with_control_characters_or_blank_are_422() {
    let app = spawn_app().await;
    for name in ["Kids Abroad\n", "\tKids", " \u{a0} "] {
        let mut body = organisation_body("x");
        body["name"] = json!(name);
        let reply = app.post("/v1/organisations", &app.admin_token, body).await;
        reply.assert_problem(422);
        assert_eq!(reply.problem_fields(), ["name"], "{name:?}");
    }
    assert_eq!(organisation_count(&app).await, 0);
}

#[tokio::test]
async fn unknown_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let mut body = organisation_body("Kids Abroad");
    body["status"] = json!("suspended");
    let reply = app.post("/v1/organisations", &app.admin_token, body).await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["status"]);
    assert_eq!(organisation_count(&app).await, 0);
}

#[tokio::test]
async fn a_wrong_type_is_422() {
    let app = spawn_app().await;
    let mut body = organisation_body("Kids Abroad");
    body["operating_countries"] = json!("UG");
    let reply = app.post("/v1/organisations", &app.admin_token, body).await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["operating_countries"]);
    let missing = app
        .post("/v1/organisations", &app.admin_token, json!({"name": "x"}))
        .await;
    missing.assert_problem(422);
    assert_eq!(organisation_count(&app).await, 0);
}

#[tokio::test]
async fn empty_and_oversized_bodies() {
    let app = spawn_app().await;
    app.post_raw(
        "/v1/organisations",
        Some(&app.admin_token),
        "application/json",
        Vec::new(),
    )
    .await
    .assert_problem(400);
    let mut huge = b"{\"name\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    huge.extend(b"\"}");
    app.post_raw(
        "/v1/organisations",
        Some(&app.admin_token),
        "application/json",
        huge,
    )
    .await
    .assert_problem(413);
    app.post_raw(
        "/v1/organisations",
        Some(&app.admin_token),
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415);
    assert_eq!(organisation_count(&app).await, 0);
}

#[tokio::test]
async fn an_email_without_at_is_422() {
    let app = spawn_app().await;
    let mut body = organisation_body("Kids Abroad");
    body["contact_email"] = json!("office.example.org");
    let reply = app.post("/v1/organisations", &app.admin_token, body).await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["contact_email"]);

    let org = app.create_organisation("Kids Abroad").await;
    let reply = app
        .post(
            &format!("/v1/organisations/{org}/users"),
            &app.admin_token,
            json!({"email": "no-at-sign", "name": "N", "role": "org_admin"}),
        )
        .await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["email"]);
}

#[tokio::test]
async fn a_duplicate_email_is_409() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let path = format!("/v1/organisations/{org}/users");
    let body = json!({"email": "dup@example.org", "name": "D", "role": "org_admin"});
    assert_eq!(
        app.post(&path, &app.admin_token, body.clone()).await.status,
        201
    );
    let mut upper = body.clone();
    upper["email"] = json!("DUP@example.org");
    app.post(&path, &app.admin_token, upper)
        .await
        .assert_problem(409);
    // Also across kinds of account.
    app.post(
        "/v1/checkers",
        &app.admin_token,
        json!({"email": "dup@example.org", "name": "C", "authorisations": [], "supervisor": false, "max_open_tasks": 1}),
    )
    .await
    .assert_problem(409);
    assert_eq!(
        entity::user::Entity::find().count(&app.db).await.unwrap(),
        2
    );
}

#[tokio::test]
async fn unknown_country_codes_are_422() {
    let app = spawn_app().await;
    let mut body = organisation_body("Kids Abroad");
    body["operating_countries"] = json!(["UG", "XX"]);
    body["country"] = json!("QQ");
    let reply = app.post("/v1/organisations", &app.admin_token, body).await;
    reply.assert_problem(422);
    let mut fields = reply.problem_fields();
    fields.sort();
    assert_eq!(fields, ["country", "operating_countries[1]"]);
    assert_eq!(organisation_count(&app).await, 0);
}

#[tokio::test]
async fn only_eu_countries_of_operation_is_422() {
    let app = spawn_app().await;
    let mut body = organisation_body("Kids Abroad");
    body["operating_countries"] = json!(["DE", "NL", "FR"]);
    let reply = app
        .post("/v1/organisations", &app.admin_token, body.clone())
        .await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["operating_countries"]);
    body["operating_countries"] = json!([]);
    app.post("/v1/organisations", &app.admin_token, body)
        .await
        .assert_problem(422);
    assert_eq!(organisation_count(&app).await, 0);
}

#[tokio::test]
async fn an_unknown_authorisation_and_a_negative_cap_are_422() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/v1/checkers",
            &app.admin_token,
            json!({"email": "c@example.org", "name": "C", "authorisations": ["identity", "mind_reading"],
                   "supervisor": false, "max_open_tasks": 3}),
        )
        .await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["authorisations[1]"]);
    let reply = app
        .post(
            "/v1/checkers",
            &app.admin_token,
            json!({"email": "c@example.org", "name": "C", "authorisations": [], "supervisor": false, "max_open_tasks": -1}),
        )
        .await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["max_open_tasks"]);
    let reply = app
        .post(
            "/v1/checkers",
            &app.admin_token,
            json!({"email": "c@example.org", "name": "C", "authorisations": [], "supervisor": false,
                   "max_open_tasks": 1, "conflicts": [uuid::Uuid::now_v7()]}),
        )
        .await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["conflicts[0]"]);
    assert_eq!(
        entity::checker::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

/// JSON Schema counts `3.0` as an integer, so a client may send it; `3.5` stays a 422.
#[tokio::test]
async fn a_whole_number_with_a_zero_fraction_is_an_integer() {
    let app = spawn_app().await;
    let checker = |cap: serde_json::Value, n: u32| {
        json!({"email": format!("c{n}@example.org"), "name": "C", "authorisations": [],
               "supervisor": false, "max_open_tasks": cap})
    };
    for (n, cap) in [json!(3.5), json!(1e300), json!("3"), json!(-1.0)]
        .into_iter()
        .enumerate()
    {
        let reply = app
            .post("/v1/checkers", &app.admin_token, checker(cap, n as u32))
            .await;
        reply.assert_problem(422);
        assert_eq!(reply.problem_fields(), ["max_open_tasks"], "{}", reply.text);
    }
    assert_eq!(
        entity::checker::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    let created = app
        .post("/v1/checkers", &app.admin_token, checker(json!(3.0), 9))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["checker"]["max_open_tasks"], 3);
}

#[tokio::test]
async fn expired_revoked_garbage_and_missing_tokens_are_401() {
    let app = spawn_app().await;
    let expired = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    entity::session::Entity::update_many()
        .col_expr(
            entity::session::Column::ExpiresAt,
            Expr::value(safescreen::db::now() - time::Duration::minutes(1)),
        )
        .filter(sea_orm::ColumnTrait::eq(
            &entity::session::Column::TokenHash,
            safescreen::auth::tokens::hash(&expired),
        ))
        .exec(&app.db)
        .await
        .unwrap();
    let revoked = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        app.call(Method::POST, "/v1/auth/logout", Some(&revoked), None)
            .await
            .status,
        204
    );
    let forged = format!("ss_sess_{}", "A".repeat(43));
    for token in [
        expired.as_str(),
        revoked.as_str(),
        "garbage",
        forged.as_str(),
        "ss_key_",
        "",
    ] {
        let reply = app.get("/v1/me", token).await;
        reply.assert_problem(401);
        assert_eq!(reply.headers.get("www-authenticate").unwrap(), "Bearer");
    }
    app.call(Method::GET, "/v1/me", None, None)
        .await
        .assert_problem(401);
    let basic = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert_eq!(app.get("/v1/me", &app.admin_token).await.status, 200);
}

use sea_orm::QueryFilter;

#[tokio::test]
async fn a_short_password_on_activation_is_422() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let created = app
        .post(
            &format!("/v1/organisations/{org}/users"),
            &app.admin_token,
            json!({"email": "short@example.org", "name": "S", "role": "org_admin"}),
        )
        .await;
    let token = created.body["activation_token"].as_str().unwrap();
    let reply = app.activate(token, "elevenchars").await;
    reply.assert_problem(422);
    assert_eq!(reply.problem_fields(), ["password"]);
    let user = entity::user::Entity::find().all(&app.db).await.unwrap();
    assert!(
        user.iter()
            .all(|u| u.email != "short@example.org" || u.password_hash.is_none())
    );
    // Garbage activation tokens are refused as credentials.
    app.activate("ss_act_garbage", USER_PASSWORD)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn ten_wrong_passwords_in_a_row_are_429_and_the_account_recovers() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..10 {
        let reply = app.try_login(ADMIN_EMAIL, "not the admin password").await;
        if reply.status == 429 {
            reply.assert_problem(429);
            retry_after = reply
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        }
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(&statuses[..6], &[401; 6], "{statuses:?}");
    assert_eq!(statuses[9], 429, "{statuses:?}");
    let retry_after = retry_after.expect("Retry-After on 429");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Even the right password waits out the block ...
    app.try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_problem(429);
    // ... and then works: the account is never locked for good.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Failures were audited without the e-mail address.
    app.wait_for_audit_chain().await;
    let failed = app
        .get(
            "/v1/audit-events?action=auth.login_failed&limit=100",
            &app.admin_token,
        )
        .await;
    assert_eq!(failed.body["data"].as_array().unwrap().len(), 6);
    assert!(!failed.text.contains(ADMIN_EMAIL));
}

#[tokio::test]
async fn one_client_trying_many_accounts_is_slowed_down_too() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for i in 0..24 {
        let reply = app
            .try_login(&format!("guess{i}@example.org"), "a guessed password")
            .await;
        statuses.push(reply.status.as_u16());
    }
    // 20 free failures per client, then blocks, whatever the account.
    assert!(statuses[..21].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[23], 429, "{statuses:?}");
    app.try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_problem(429);
}

/// Submits `body` and expects 422 naming `field`, with nothing stored.
async fn refused(app: &TestApp, key: &str, body: serde_json::Value, field: &str) {
    let reply = app.post("/v1/screening-requests", key, body).await;
    reply.assert_problem(422);
    assert!(
        reply.problem_fields().iter().any(|f| f == field),
        "{field} not in {:?}",
        reply.problem_fields()
    );
    assert_eq!(
        entity::screening_request::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn submissions_with_bad_values_are_422_naming_the_field() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let base = submission("jan@example.org");
    let with = |path: &[&str], value: serde_json::Value| {
        let mut body = base.clone();
        let mut target = &mut body;
        for part in &path[..path.len() - 1] {
            target = &mut target[*part];
        }
        target[path[path.len() - 1]] = value;
        body
    };
    refused(
        &app,
        &key,
        with(&["deployment", "country"], json!("DE")),
        "deployment.country",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["deployment", "country"], json!("XX")),
        "deployment.country",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["deployment", "start_date"], json!("2027-02-30")),
        "deployment.start_date",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "date_of_birth"], json!("2999-01-01")),
        "subject.date_of_birth",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "date_of_birth"], json!("1990-02-31")),
        "subject.date_of_birth",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "date_of_birth"], json!("1906-01-01")),
        "subject.date_of_birth",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "date_of_birth"], json!("2015-01-01")),
        "subject.date_of_birth",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "bsn"], json!("123456789")),
        "subject.bsn",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "bsn"], json!("12345678")),
        "subject.bsn",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "email"], json!("jan.example.org")),
        "subject.email",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "family_name"], json!("x".repeat(5000))),
        "subject.family_name",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "nationalities"], json!([])),
        "subject.nationalities",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["profile"], json!("no-such-profile")),
        "profile",
    )
    .await;
    refused(&app, &key, with(&["status"], json!("cleared")), "status").await;
    refused(
        &app,
        &key,
        with(&["organisation_id"], json!(Uuid::now_v7())),
        "organisation_id",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["position", "role"], json!("director")),
        "position.role",
    )
    .await;
    let eleven: Vec<_> = (0..11).map(|i| json!({"name": format!("R{i}"), "email": "r@example.org", "relationship": "friend"})).collect();
    refused(
        &app,
        &key,
        with(&["subject", "referees"], json!(eleven)),
        "subject.referees",
    )
    .await;
    refused(
        &app,
        &key,
        with(&["subject", "previous_employers"], json!([{"organisation": "X", "country": "KE", "from": "2022-06", "to": "2019-01", "contact_email": "hr@example.org"}])),
        "subject.previous_employers[0].to",
    )
    .await;

    // A role the profile does not allow: a staff-only profile asked for a volunteer.
    let staff_only = app
        .post(
            "/v1/screening-profiles",
            &app.admin_token,
            json!({"code": "staff-only", "title": "Staff", "description": "Staff only", "workflow": {"key": "general", "version": 1},
                   "validity_months": 36, "roles": ["staff"], "expiry_warning_days": 30}),
        )
        .await;
    assert_eq!(staff_only.status, 201, "{}", staff_only.text);
    refused(
        &app,
        &key,
        with(&["profile"], json!("staff-only")),
        "position.role",
    )
    .await;
}

#[tokio::test]
async fn workflow_definitions_with_errors_are_422_listing_every_error() {
    let app = spawn_app().await;
    let definition = json!({
        "key": "broken", "title": "Broken", "consent_window": "P-1D", "decision_deadline": "P28D", "colour": "red",
        "checks": [
            {"id": "a", "authorisation": "identity", "sla": "P1D", "after": ["b"]},
            {"id": "b", "authorisation": "identity", "sla": "P1D", "after": ["a"]},
            {"id": "b", "authorisation": "telepathy", "sla": "P1D", "after": ["nowhere"]}
        ]
    });
    let reply = app
        .post("/v1/workflow-definitions", &app.admin_token, definition)
        .await;
    reply.assert_problem(422);
    let fields = reply.problem_fields();
    for expected in [
        "colour",
        "consent_window",
        "checks[2].id",
        "checks[2].authorisation",
        "checks[2].after[0]",
        "checks",
    ] {
        assert!(
            fields.iter().any(|f| f == expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert_eq!(
        entity::workflow_definition::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        2,
        "only the seeded ones"
    );
}
