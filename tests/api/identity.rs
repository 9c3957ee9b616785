//! Sign-in, sessions, activation, organisations, users, API keys and checkers.
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_signs_in_and_sees_itself() {
    let app = spawn_app().await;
    let me = app.get("/v1/me", &app.admin_token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["kind"], "user");
    assert_eq!(me.body["role"], "admin");
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert!(me.body.get("organisation_id").is_none());
    assert!(app.admin_token.starts_with("ss_sess_"));
    // The stored hash is Argon2id with the OWASP parameters `serve` uses.
    let admin = entity::user::Entity::find().all(&app.db).await.unwrap();
    let hash = admin[0].password_hash.clone().unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let unknown = app
        .try_login("nobody@example.org", "whatever password")
        .await;
    let wrong = app.try_login(ADMIN_EMAIL, "not the password at all").await;
    unknown.assert_problem(401);
    wrong.assert_problem(401);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(wrong.headers.get("www-authenticate").unwrap(), "Bearer");
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = spawn_app().await;
    let token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(app.get("/v1/me", &token).await.status, 200);
    assert_eq!(
        app.call(Method::POST, "/v1/auth/logout", Some(&token), None)
            .await
            .status,
        204
    );
    app.get("/v1/me", &token).await.assert_problem(401);
    // Other sessions of the same user still work.
    assert_eq!(app.get("/v1/me", &app.admin_token).await.status, 200);
}

#[tokio::test]
async fn api_key_acts_as_requester_and_cannot_log_out() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (key_id, key) = app.create_api_key(org).await;
    assert!(key.starts_with("ss_key_"));
    let me = app.get("/v1/me", &key).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["kind"], "api_key");
    assert_eq!(me.body["role"], "org_requester");
    assert_eq!(me.body["id"], key_id.to_string());
    assert_eq!(me.body["organisation_id"], org.to_string());
    app.call(Method::POST, "/v1/auth/logout", Some(&key), None)
        .await
        .assert_problem(403);

    // Listed without the key; only its hash is stored.
    let list = app
        .get(
            &format!("/v1/organisations/{org}/api-keys"),
            &app.admin_token,
        )
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["data"][0]["id"], key_id.to_string());
    assert!(!list.text.contains(&key));
    assert!(key.starts_with(list.body["data"][0]["prefix"].as_str().unwrap()));
    let stored = entity::api_key::Entity::find_by_id(key_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.key_hash, key);
    assert_eq!(stored.key_hash.len(), 64);

    // Revoked: rejected at once.
    assert_eq!(
        app.delete(
            &format!("/v1/organisations/{org}/api-keys/{key_id}"),
            &app.admin_token
        )
        .await
        .status,
        204
    );
    app.get("/v1/me", &key).await.assert_problem(401);
}

#[tokio::test]
async fn activation_sets_a_password_once() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let created = app
        .post(
            &format!("/v1/organisations/{org}/users"),
            &app.admin_token,
            json!({"email": "Requester@Example.org", "name": "Rita", "role": "org_requester"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["user"]["email"], "requester@example.org");
    assert_eq!(created.body["user"]["activated"], false);
    let activation = created.body["activation_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(activation.starts_with("ss_act_"));

    // Not activated yet: cannot sign in.
    app.try_login("requester@example.org", USER_PASSWORD)
        .await
        .assert_problem(401);
    // Too short: refused and the token stays usable.
    let short = app.activate(&activation, "short pw").await;
    short.assert_problem(422);
    assert_eq!(short.problem_fields(), ["password"]);
    assert_eq!(app.activate(&activation, USER_PASSWORD).await.status, 204);
    // Single use.
    app.activate(&activation, "another long password")
        .await
        .assert_problem(401);
    let token = app.login("requester@example.org", USER_PASSWORD).await;
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.body["role"], "org_requester");
    assert_eq!(me.body["organisation_id"], org.to_string());

    // A new activation token resets the password, supersedes older ones and ends sessions.
    let user_id = created.body["user"]["id"].as_str().unwrap();
    let first = app
        .call(
            Method::POST,
            &format!("/v1/organisations/{org}/users/{user_id}/activation"),
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_eq!(first.status, 201);
    let second = app
        .call(
            Method::POST,
            &format!("/v1/organisations/{org}/users/{user_id}/activation"),
            Some(&app.admin_token),
            None,
        )
        .await;
    let first = first.body["activation_token"].as_str().unwrap();
    let second = second.body["activation_token"].as_str().unwrap();
    app.activate(first, "a brand new password")
        .await
        .assert_problem(401);
    assert_eq!(
        app.activate(second, "a brand new password").await.status,
        204
    );
    app.get("/v1/me", &token).await.assert_problem(401);
    app.try_login("requester@example.org", USER_PASSWORD)
        .await
        .assert_problem(401);
    app.login("requester@example.org", "a brand new password")
        .await;
}

#[tokio::test]
async fn deactivating_a_user_revokes_their_sessions_at_once() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (user_id, requester) = app.create_member(org, "org_requester").await;
    assert_eq!(app.get("/v1/me", &requester).await.status, 200);

    let path = format!("/v1/organisations/{org}/users/{user_id}");
    let reply = app.patch(&path, &org_admin, json!({"active": false})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["active"], false);
    app.get("/v1/me", &requester).await.assert_problem(401);
    let live = entity::session::Entity::find()
        .filter(entity::session::Column::UserId.eq(user_id))
        .filter(entity::session::Column::RevokedAt.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(live, 0);

    // Role change.
    let reply = app
        .patch(
            &path,
            &org_admin,
            json!({"active": true, "role": "org_admin"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["role"], "org_admin");
    assert_eq!(reply.body["active"], true);
}

#[tokio::test]
async fn organisations_are_created_listed_and_suspended() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/v1/organisations",
            &app.admin_token,
            organisation_body("Kids Abroad"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["operating_countries"], json!(["KE", "UG"]));
    let id = created.body["id"].as_str().unwrap();

    // Same registration number in the same country: 409.
    let mut again = organisation_body("Other name");
    again["registration_number"] = created.body["registration_number"].clone();
    app.post("/v1/organisations", &app.admin_token, again)
        .await
        .assert_problem(409);

    let other = app.create_organisation("Other").await;
    let (_, member) = app.create_member(other, "org_requester").await;
    let mine = app.get("/v1/organisations", &member).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["data"][0]["id"], other.to_string());
    let all = app.get("/v1/organisations", &app.admin_token).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);

    let suspended = app
        .patch(
            &format!("/v1/organisations/{id}"),
            &app.admin_token,
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(suspended.status, 200);
    assert_eq!(suspended.body["status"], "suspended");
}

#[tokio::test]
async fn checkers_are_created_listed_and_changed() {
    let app = spawn_app().await;
    let conflicted = app.create_organisation("Conflicted").await;
    let reply = app
        .post(
            "/v1/checkers",
            &app.admin_token,
            json!({"email": "checker@example.org", "name": "Chris", "authorisations": ["criminal_record", "identity"],
                   "supervisor": false, "max_open_tasks": 0, "conflicts": [conflicted]}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let checker = &reply.body["checker"];
    assert_eq!(
        checker["authorisations"],
        json!(["identity", "criminal_record"])
    );
    assert_eq!(checker["conflicts"], json!([conflicted]));
    assert_eq!(checker["max_open_tasks"], 0);
    let id = checker["id"].as_str().unwrap().to_owned();
    let activation = reply.body["activation_token"].as_str().unwrap();
    assert_eq!(app.activate(activation, USER_PASSWORD).await.status, 204);
    let token = app.login("checker@example.org", USER_PASSWORD).await;
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.body["role"], "checker");
    assert_eq!(me.body["supervisor"], false);
    assert_eq!(
        me.body["authorisations"],
        json!(["identity", "criminal_record"])
    );

    let changed = app
        .patch(
            &format!("/v1/checkers/{id}"),
            &app.admin_token,
            json!({"authorisations": ["assessment"], "supervisor": true, "max_open_tasks": 7, "conflicts": []}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["authorisations"], json!(["assessment"]));
    assert_eq!(changed.body["supervisor"], true);
    assert_eq!(changed.body["max_open_tasks"], 7);
    assert_eq!(changed.body["conflicts"], json!([]));
    // Now a supervisor: may list checkers.
    let token = app.login("checker@example.org", USER_PASSWORD).await;
    let list = app.get("/v1/checkers", &token).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["data"][0]["id"], id);

    // Deactivation ends their sessions at once.
    let off = app
        .patch(
            &format!("/v1/checkers/{id}"),
            &app.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.body["active"], false);
    app.get("/v1/me", &token).await.assert_problem(401);
    app.try_login("checker@example.org", USER_PASSWORD)
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn lists_page_with_a_stable_cursor() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    for i in 0..12 {
        let reply = app
            .post(
                &format!("/v1/organisations/{org}/users"),
                &app.admin_token,
                json!({"email": format!("user{i}@example.org"), "name": "U", "role": "org_requester"}),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/organisations/{org}/users?limit=5&cursor={c}"),
            None => format!("/v1/organisations/{org}/users?limit=5"),
        };
        let page = app.get(&path, &app.admin_token).await;
        assert_eq!(page.status, 200, "{}", page.text);
        pages += 1;
        for user in page.body["data"].as_array().unwrap() {
            seen.push(user["id"].as_str().unwrap().to_owned());
        }
        // An insert while paging does not disturb the pages already seen.
        if pages == 1 {
            app.post(
                &format!("/v1/organisations/{org}/users"),
                &app.admin_token,
                json!({"email": "late@example.org", "name": "Late", "role": "org_requester"}),
            )
            .await;
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 13);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 13);

    let default = app
        .get(&format!("/v1/organisations/{org}/users"), &app.admin_token)
        .await;
    assert_eq!(default.body["data"].as_array().unwrap().len(), 13);
    assert!(default.body["next_cursor"].is_null());
}

/// Polls `check` until it holds or two seconds have passed.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within two seconds");
}

/// A process may keep principals in memory (on PostgreSQL); a change made through another
/// process must still reach it: a new role, a revoked key, a deactivated user.
#[tokio::test]
async fn a_revocation_in_one_process_is_honoured_by_the_others() {
    let first = spawn_app().await;
    let second = spawn_second_app(&first).await;
    let org = first.create_organisation("Kids Abroad").await;
    let (key_id, key) = first.create_api_key(org).await;
    let (user_id, requester) = first.create_member(org, "org_requester").await;
    let (_, org_admin) = first.create_member(org, "org_admin").await;
    for app in [&first, &second] {
        for token in [&key, &requester] {
            assert_eq!(app.get("/v1/me", token).await.status, 200);
        }
    }

    let user_path = format!("/v1/organisations/{org}/users/{user_id}");
    let reply = first
        .patch(&user_path, &org_admin, json!({"role": "org_admin"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        first.get("/v1/me", &requester).await.body["role"],
        "org_admin"
    );
    eventually("the new role reaching the second process", || async {
        second.get("/v1/me", &requester).await.body["role"] == "org_admin"
    })
    .await;

    let revoked = first
        .delete(
            &format!("/v1/organisations/{org}/api-keys/{key_id}"),
            &org_admin,
        )
        .await;
    assert_eq!(revoked.status, 204);
    first.get("/v1/me", &key).await.assert_problem(401);
    eventually("the second process refusing the revoked key", || async {
        second.get("/v1/me", &key).await.status == 401
    })
    .await;

    let reply = first
        .patch(&user_path, &org_admin, json!({"active": false}))
        .await;
    assert_eq!(reply.status, 200);
    first.get("/v1/me", &requester).await.assert_problem(401);
    eventually(
        "the second process refusing the deactivated user",
        || async { second.get("/v1/me", &requester).await.status == 401 },
    )
    .await;
    // And it stays refused (nothing re-cached from before the change).
    second.get("/v1/me", &key).await.assert_problem(401);
    second.get("/v1/me", &requester).await.assert_problem(401);
}
