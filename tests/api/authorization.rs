//! Deny by default: every documented operation has an access rule, and every operation answers
//! each kind of caller as expected, with another organisation's objects answering 404; every
//! refusal changes nothing, and no organisation caller is shown what only staff see
//! (`org_view.rs` checks the organisation's view field by field).
use std::collections::BTreeSet;

use reqwest::Method;
use safescreen::auth::policy;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// The kinds of caller, in the order of the expectation arrays below.
const CALLERS: [&str; 10] = [
    "admin",
    "org_admin",
    "org_requester",
    "api_key",
    "checker",
    "supervisor",
    "anonymous",
    "other_org_admin",
    "other_org_key",
    "sandbox_key",
];

/// The callers who see the organisation's view.
const ORG_CALLERS: [&str; 6] = [
    "org_admin",
    "org_requester",
    "api_key",
    "other_org_admin",
    "other_org_key",
    "sandbox_key",
];

fn documented_operations() -> BTreeSet<(String, String)> {
    let document = safescreen::openapi::document();
    let value = serde_json::to_value(&document).unwrap();
    let mut operations = BTreeSet::new();
    for (path, item) in value["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn every_documented_operation_has_an_access_rule_and_every_rule_is_documented() {
    let documented = documented_operations();
    for (method, path) in &documented {
        let method: Method = method.parse().unwrap();
        assert!(
            policy::find(&method, path).is_some(),
            "no access rule for {method} {path}"
        );
    }
    // The pages for people are not in the document; the router lists them.
    let pages: BTreeSet<(String, String)> = safescreen::web::page_routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_owned()))
        .collect();
    let served: BTreeSet<(String, String)> = documented.union(&pages).cloned().collect();
    let ruled: BTreeSet<(String, String)> = policy::RULES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(
        ruled, served,
        "access rules differ from the OpenAPI document and the pages"
    );
}

#[test]
fn secured_operations_declare_bearer_security_in_the_document() {
    let value = serde_json::to_value(safescreen::openapi::document()).unwrap();
    for (path, item) in value["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let rule = policy::find(&method.to_uppercase().parse().unwrap(), path).unwrap();
            let public = matches!(rule.access, policy::Access::Public);
            // `[]` for a public operation, the bearer scheme for the others.
            let security = operation["security"].as_array().expect("security stated");
            assert_eq!(security.is_empty(), public, "{method} {path}");
        }
    }
}

struct Row {
    method: Method,
    /// The path template, as documented.
    template: &'static str,
    /// The concrete path.
    path: String,
    body: Option<Value>,
    expect: [u16; 10],
}

/// Every row of `E`'s table, in a stable order.
async fn rows_of<E: EntityTrait + Default>(db: &DatabaseConnection) -> String {
    let mut rows: Vec<String> = E::find()
        .into_json()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|mut row| {
            // Using a session is not changing it: any call, refused or not, may note when it
            // was last seen (at most once a minute), which a slow run can cross.
            if let Some(seen) = row.get_mut("last_seen_at") {
                *seen = Value::Null;
            }
            row.to_string()
        })
        .collect();
    rows.sort();
    format!("{}: {}", E::default().table_name(), rows.join("\n"))
}

/// What a refused call must leave as it was: every row of the tables operations write, and how
/// many e-mails, webhook events and audit events there are (the workers change those rows).
pub(crate) async fn state_of(db: &DatabaseConnection) -> Vec<String> {
    use entity::*;
    vec![
        rows_of::<organisation::Entity>(db).await,
        rows_of::<user::Entity>(db).await,
        rows_of::<activation_token::Entity>(db).await,
        rows_of::<session::Entity>(db).await,
        rows_of::<api_key::Entity>(db).await,
        rows_of::<checker::Entity>(db).await,
        rows_of::<checker_authorisation::Entity>(db).await,
        rows_of::<checker_conflict::Entity>(db).await,
        rows_of::<screening_profile::Entity>(db).await,
        rows_of::<workflow_definition::Entity>(db).await,
        rows_of::<screening_request::Entity>(db).await,
        rows_of::<request_event::Entity>(db).await,
        rows_of::<idempotency_key::Entity>(db).await,
        rows_of::<task::Entity>(db).await,
        rows_of::<decision::Entity>(db).await,
        rows_of::<certificate::Entity>(db).await,
        rows_of::<webhook_endpoint::Entity>(db).await,
        rows_of::<totp_factor::Entity>(db).await,
        rows_of::<recovery_code::Entity>(db).await,
        rows_of::<passkey::Entity>(db).await,
        rows_of::<pending_login::Entity>(db).await,
        rows_of::<password_reset::Entity>(db).await,
        format!(
            "e-mails: {}",
            mail_outbox::Entity::find().count(db).await.unwrap()
        ),
        format!(
            "webhook events: {}",
            webhook_delivery::Entity::find().count(db).await.unwrap()
        ),
        format!(
            "audit events: {}",
            audit_event::Entity::find().count(db).await.unwrap()
        ),
    ]
}

fn unique_email() -> String {
    format!("m-{}@example.org", Uuid::new_v4().simple())
}

#[tokio::test]
async fn every_operation_answers_every_kind_of_caller_as_expected() {
    let app = spawn_app().await;
    let org_a = app.create_organisation("A").await;
    let org_b = app.create_organisation("B").await;
    let (user_a, org_admin) = app.create_member(org_a, "org_admin").await;
    let (_, requester) = app.create_member(org_a, "org_requester").await;
    let (key_a, api_key) = app.create_api_key(org_a).await;
    let (checker_id, checker) = app.create_checker(false).await;
    let (_, supervisor) = app.create_checker(true).await;
    let (_, other_admin) = app.create_member(org_b, "org_admin").await;
    let (_, other_key) = app.create_api_key(org_b).await;
    // A request of org A, consented by its subject; a declined one to rescreen; another to withdraw.
    let subject = format!("s-{}@example.org", Uuid::new_v4().simple());
    let request = app.submit(&api_key, &subject).await;
    let token = app.invitation_token(&subject).await;
    let declined_subject = format!("d-{}@example.org", Uuid::new_v4().simple());
    let declined = app.submit(&api_key, &declined_subject).await;
    let declined_token = app.invitation_token(&declined_subject).await;
    let reply = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{declined_token}/decline"),
            None,
            Some(json!({"reason": "other"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let to_withdraw = app
        .submit(
            &api_key,
            &format!("w-{}@example.org", Uuid::new_v4().simple()),
        )
        .await;
    let to_resend = app
        .submit(
            &api_key,
            &format!("r-{}@example.org", Uuid::new_v4().simple()),
        )
        .await;
    // Three consented requests: their identity checks go to the checker (t1, t3) and the
    // supervisor (t2), least loaded first.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let email = format!("t-{}@example.org", Uuid::new_v4().simple());
        let id = app.submit(&api_key, &email).await;
        let token = app.invitation_token(&email).await;
        assert_eq!(app.consent(&token).await.status, 200);
        let task = entity::task::Entity::find()
            .filter(entity::task::Column::RequestId.eq(id))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        tasks.push(task);
    }
    assert_eq!(tasks[0].assignee_id, Some(checker_id));
    assert_ne!(tasks[1].assignee_id, Some(checker_id));
    assert_eq!(tasks[2].assignee_id, Some(checker_id));
    let (t1, t2, t3) = (tasks[0].id, tasks[1].id, tasks[2].id);
    let endpoint = app
        .post(
            "/v1/webhook-endpoints",
            &org_admin,
            json!({"url": "https://hooks.example.org/hook", "events": ["*"]}),
        )
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.text);
    let endpoint = endpoint.body["id"].as_str().unwrap().to_owned();
    // Organisation A's sandbox key: the live requests and endpoint above are not its own.
    let sandbox_key = app
        .post(
            &format!("/v1/organisations/{org_a}/api-keys"),
            &org_admin,
            json!({"name": "sandbox", "mode": "sandbox"}),
        )
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens: [Option<String>; 10] = [
        Some(app.admin_token.clone()),
        Some(org_admin),
        Some(requester),
        Some(api_key),
        Some(checker),
        Some(supervisor),
        None,
        Some(other_admin),
        Some(other_key),
        Some(sandbox_key),
    ];

    let org = |suffix: &str| format!("/v1/organisations/{org_a}{suffix}");
    let rows = vec![
        Row {
            method: Method::GET,
            template: "/healthz",
            path: "/healthz".into(),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::GET,
            template: "/readyz",
            path: "/readyz".into(),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::GET,
            template: "/metrics",
            path: "/metrics".into(),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::GET,
            template: "/openapi.json",
            path: "/openapi.json".into(),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::GET,
            template: "/v1/me",
            path: "/v1/me".into(),
            body: None,
            expect: [200, 200, 200, 200, 200, 200, 401, 200, 200, 200],
        },
        Row {
            method: Method::POST,
            template: "/v1/auth/login",
            path: "/v1/auth/login".into(),
            body: Some(Value::Null),
            expect: [401; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/auth/activate",
            path: "/v1/auth/activate".into(),
            body: Some(json!({"token": "ss_act_unknown", "password": USER_PASSWORD})),
            expect: [401; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/organisations",
            path: "/v1/organisations".into(),
            body: Some(Value::Null),
            expect: [201, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/organisations",
            path: "/v1/organisations".into(),
            body: None,
            expect: [200, 200, 200, 200, 403, 403, 401, 200, 200, 200],
        },
        Row {
            method: Method::GET,
            template: "/v1/organisations/{id}",
            path: org(""),
            body: None,
            expect: [200, 200, 200, 200, 403, 403, 401, 404, 404, 200],
        },
        Row {
            method: Method::PATCH,
            template: "/v1/organisations/{id}",
            path: org(""),
            body: Some(json!({"status": "active"})),
            expect: [200, 403, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/organisations/{id}/users",
            path: org("/users"),
            body: Some(Value::Null),
            expect: [201, 201, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/organisations/{id}/users",
            path: org("/users"),
            body: None,
            expect: [200, 200, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::PATCH,
            template: "/v1/organisations/{id}/users/{user_id}",
            path: org(&format!("/users/{user_a}")),
            body: Some(json!({"role": "org_admin"})),
            expect: [200, 200, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/organisations/{id}/users/{user_id}/activation",
            path: org(&format!("/users/{user_a}/activation")),
            body: None,
            expect: [201, 201, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/organisations/{id}/api-keys",
            path: org("/api-keys"),
            body: Some(json!({"name": "k"})),
            expect: [201, 201, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/organisations/{id}/api-keys",
            path: org("/api-keys"),
            body: None,
            expect: [200, 200, 403, 403, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/checkers",
            path: "/v1/checkers".into(),
            body: Some(Value::Null),
            expect: [201, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/checkers",
            path: "/v1/checkers".into(),
            body: None,
            expect: [200, 403, 403, 403, 403, 200, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/checkers/{id}",
            path: format!("/v1/checkers/{checker_id}"),
            body: None,
            expect: [200, 403, 403, 403, 403, 200, 401, 403, 403, 403],
        },
        Row {
            method: Method::PATCH,
            template: "/v1/checkers/{id}",
            path: format!("/v1/checkers/{checker_id}"),
            body: Some(json!({"max_open_tasks": 3})),
            expect: [200, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/tasks",
            path: "/v1/tasks".into(),
            body: None,
            expect: [200, 403, 403, 403, 200, 200, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/tasks/{id}",
            path: format!("/v1/tasks/{t1}"),
            body: None,
            expect: [200, 403, 403, 403, 200, 200, 401, 403, 403, 403],
        },
        // The supervisor's task goes to the checker (again, for the second caller).
        Row {
            method: Method::POST,
            template: "/v1/tasks/{id}/assign",
            path: format!("/v1/tasks/{t2}/assign"),
            body: Some(json!({"checker_id": checker_id})),
            expect: [200, 403, 403, 403, 403, 200, 401, 403, 403, 403],
        },
        // Only the assignee completes, once; for anyone else the task is not there.
        Row {
            method: Method::POST,
            template: "/v1/tasks/{id}/complete",
            path: format!("/v1/tasks/{t3}/complete"),
            body: Some(json!({"outcome": "no_concerns"})),
            expect: [403, 403, 403, 403, 200, 404, 401, 403, 403, 403],
        },
        // Released by the checker, it goes to the supervisor, who releases it too.
        Row {
            method: Method::POST,
            template: "/v1/tasks/{id}/release",
            path: format!("/v1/tasks/{t1}/release"),
            body: None,
            expect: [403, 403, 403, 403, 200, 200, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/audit-events",
            path: "/v1/audit-events".into(),
            body: None,
            expect: [200, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/screening-profiles",
            path: "/v1/screening-profiles".into(),
            body: None,
            expect: [200, 200, 200, 200, 200, 200, 401, 200, 200, 200],
        },
        Row {
            method: Method::POST,
            template: "/v1/screening-profiles",
            path: "/v1/screening-profiles".into(),
            body: Some(
                json!({"code": "matrix", "title": "M", "description": "M", "workflow": {"key": "general", "version": 1},
                                "validity_months": 12, "roles": ["staff"], "expiry_warning_days": 10}),
            ),
            expect: [201, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/workflow-definitions",
            path: "/v1/workflow-definitions".into(),
            body: None,
            expect: [200, 403, 403, 403, 200, 200, 401, 403, 403, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/workflow-definitions",
            path: "/v1/workflow-definitions".into(),
            body: Some(
                json!({"key": "matrix", "title": "M", "consent_window": "P1D", "decision_deadline": "P1D",
                                "checks": [{"id": "identity", "authorisation": "identity", "sla": "P1D"}]}),
            ),
            expect: [201, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/workflow-definitions/{key}/versions/{version}",
            path: "/v1/workflow-definitions/general/versions/1".into(),
            body: None,
            expect: [200, 403, 403, 403, 200, 200, 401, 403, 403, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/screening-requests",
            path: "/v1/screening-requests".into(),
            body: Some(Value::Null),
            expect: [403, 201, 201, 201, 403, 403, 401, 201, 201, 201],
        },
        Row {
            method: Method::GET,
            template: "/v1/screening-requests",
            path: "/v1/screening-requests".into(),
            body: None,
            expect: [200, 200, 200, 200, 200, 200, 401, 200, 200, 200],
        },
        Row {
            method: Method::GET,
            template: "/v1/screening-requests/{id}",
            path: format!("/v1/screening-requests/{request}"),
            body: None,
            expect: [200, 200, 200, 200, 404, 200, 401, 404, 404, 404],
        },
        Row {
            method: Method::GET,
            template: "/v1/screening-requests/{id}/events",
            path: format!("/v1/screening-requests/{request}/events"),
            body: None,
            expect: [200, 200, 200, 200, 404, 200, 401, 404, 404, 404],
        },
        Row {
            method: Method::POST,
            template: "/v1/screening-requests/{id}/rescreen",
            path: format!("/v1/screening-requests/{declined}/rescreen"),
            body: Some(json!({})),
            expect: [403, 201, 201, 201, 403, 403, 401, 404, 404, 404],
        },
        // Resent once; again within the hour is 429.
        Row {
            method: Method::POST,
            template: "/v1/screening-requests/{id}/resend-invitation",
            path: format!("/v1/screening-requests/{to_resend}/resend-invitation"),
            body: None,
            expect: [403, 202, 429, 429, 403, 403, 401, 404, 404, 404],
        },
        Row {
            method: Method::POST,
            template: "/v1/screening-requests/{id}/withdraw",
            path: format!("/v1/screening-requests/{to_withdraw}/withdraw"),
            body: None,
            expect: [403, 200, 409, 409, 403, 403, 401, 404, 404, 404],
        },
        Row {
            method: Method::GET,
            template: "/v1/invitations/{token}",
            path: format!("/v1/invitations/{token}"),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/invitations/{token}/consent",
            path: format!("/v1/invitations/{token}/consent"),
            body: Some(json!({"consent": true})),
            expect: [200, 409, 409, 409, 409, 409, 409, 409, 409, 409],
        },
        Row {
            method: Method::POST,
            template: "/v1/invitations/{token}/decline",
            path: format!("/v1/invitations/{token}/decline"),
            body: Some(json!({"reason": "other"})),
            expect: [409; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/invitations/{token}/response",
            path: format!("/v1/invitations/{token}/response"),
            body: Some(json!({"statement": "I disagree"})),
            expect: [409; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/invitations/{token}/objection",
            path: format!("/v1/invitations/{token}/objection"),
            body: Some(json!({"grounds": "I object"})),
            expect: [409; 10],
        },
        Row {
            method: Method::GET,
            template: "/v1/invitations/{token}/decision",
            path: format!("/v1/invitations/{token}/decision"),
            body: None,
            expect: [409; 10],
        },
        Row {
            method: Method::GET,
            template: "/s/{token}",
            path: format!("/s/{token}"),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::POST,
            template: "/s/{token}/consent",
            path: format!("/s/{token}/consent"),
            body: None,
            expect: [409; 10],
        },
        // Without a form body the reason is missing: 422, before anything else is looked at.
        Row {
            method: Method::POST,
            template: "/s/{token}/decline",
            path: format!("/s/{token}/decline"),
            body: None,
            expect: [422; 10],
        },
        // The same for a statement or an objection without a form body.
        Row {
            method: Method::POST,
            template: "/s/{token}/response",
            path: format!("/s/{token}/response"),
            body: None,
            expect: [422; 10],
        },
        Row {
            method: Method::POST,
            template: "/s/{token}/objection",
            path: format!("/s/{token}/objection"),
            body: None,
            expect: [422; 10],
        },
        // Consent is withdrawn only while in progress: the declined request refuses it, to
        // everyone alike (the token is the credential).
        Row {
            method: Method::POST,
            template: "/v1/invitations/{token}/withdraw-consent",
            path: format!("/v1/invitations/{declined_token}/withdraw-consent"),
            body: None,
            expect: [409; 10],
        },
        Row {
            method: Method::GET,
            template: "/s/{token}/withdraw-consent",
            path: format!("/s/{declined_token}/withdraw-consent"),
            body: None,
            expect: [409; 10],
        },
        Row {
            method: Method::POST,
            template: "/s/{token}/withdraw-consent",
            path: format!("/s/{declined_token}/withdraw-consent"),
            body: None,
            expect: [409; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/webhook-endpoints",
            path: "/v1/webhook-endpoints".into(),
            body: Some(
                json!({"url": "https://hooks.example.org/other", "events": ["screening_request.created"]}),
            ),
            expect: [403, 201, 403, 403, 403, 403, 401, 201, 403, 201],
        },
        Row {
            method: Method::GET,
            template: "/v1/webhook-endpoints",
            path: "/v1/webhook-endpoints".into(),
            body: None,
            expect: [403, 200, 403, 403, 403, 403, 401, 200, 403, 200],
        },
        Row {
            method: Method::GET,
            template: "/v1/webhook-endpoints/{id}/deliveries",
            path: format!("/v1/webhook-endpoints/{endpoint}/deliveries"),
            body: None,
            expect: [403, 200, 403, 403, 403, 403, 401, 404, 403, 404],
        },
        Row {
            method: Method::POST,
            template: "/v1/webhook-endpoints/{id}/test",
            path: format!("/v1/webhook-endpoints/{endpoint}/test"),
            body: None,
            expect: [403, 202, 403, 403, 403, 403, 401, 404, 403, 404],
        },
        // No such delivery: the org_admin's own endpoint, someone else's nothing.
        Row {
            method: Method::POST,
            template: "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend",
            path: format!(
                "/v1/webhook-endpoints/{endpoint}/deliveries/{}/resend",
                Uuid::new_v4()
            ),
            body: None,
            expect: [403, 404, 403, 403, 403, 403, 401, 404, 403, 404],
        },
        Row {
            method: Method::DELETE,
            template: "/v1/webhook-endpoints/{id}",
            path: format!("/v1/webhook-endpoints/{endpoint}"),
            body: None,
            expect: [403, 204, 403, 403, 403, 403, 401, 404, 403, 404],
        },
        // Certificates: the request is not cleared, so there is none to show to anyone.
        Row {
            method: Method::GET,
            template: "/v1/screening-requests/{id}/certificate",
            path: format!("/v1/screening-requests/{request}/certificate"),
            body: None,
            expect: [404, 404, 404, 404, 403, 403, 401, 404, 404, 404],
        },
        Row {
            method: Method::GET,
            template: "/.well-known/jwks.json",
            path: "/.well-known/jwks.json".into(),
            body: None,
            expect: [200; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/certificates/verify",
            path: "/v1/certificates/verify".into(),
            body: Some(json!({"jws": "not.a.certificate"})),
            expect: [200; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/certificates/{id}/revoke",
            path: format!("/v1/certificates/{}/revoke", Uuid::new_v4()),
            body: Some(json!({"reason": "New information"})),
            expect: [404, 403, 403, 403, 403, 403, 401, 403, 403, 403],
        },
        // The caller's own second factors and sessions (an API key has neither).
        Row {
            method: Method::POST,
            template: "/v1/auth/step-up",
            path: "/v1/auth/step-up".into(),
            body: Some(json!({"code": "not a code"})),
            expect: [422, 422, 422, 403, 422, 422, 401, 422, 403, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/auth/password-reset",
            path: "/v1/auth/password-reset".into(),
            body: Some(Value::Null),
            expect: [202; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/auth/password-reset/confirm",
            path: "/v1/auth/password-reset/confirm".into(),
            body: Some(json!({"token": "ss_rst_unknown", "password": USER_PASSWORD})),
            expect: [401; 10],
        },
        Row {
            method: Method::POST,
            template: "/v1/me/totp",
            path: "/v1/me/totp".into(),
            body: None,
            expect: [201, 201, 201, 403, 201, 201, 401, 201, 403, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/me/totp/confirm",
            path: "/v1/me/totp/confirm".into(),
            body: Some(json!({"code": "not a code"})),
            expect: [422, 422, 422, 403, 422, 422, 401, 422, 403, 403],
        },
        Row {
            method: Method::DELETE,
            template: "/v1/me/totp",
            path: "/v1/me/totp".into(),
            body: None,
            expect: [204, 204, 204, 403, 204, 204, 401, 204, 403, 403],
        },
        // No second factor, so no recovery codes to make.
        Row {
            method: Method::POST,
            template: "/v1/me/recovery-codes",
            path: "/v1/me/recovery-codes".into(),
            body: None,
            expect: [409, 409, 409, 403, 409, 409, 401, 409, 403, 403],
        },
        Row {
            method: Method::GET,
            template: "/v1/me/sessions",
            path: "/v1/me/sessions".into(),
            body: None,
            expect: [200, 200, 200, 403, 200, 200, 401, 200, 403, 403],
        },
        Row {
            method: Method::DELETE,
            template: "/v1/me/sessions/{id}",
            path: format!("/v1/me/sessions/{}", Uuid::new_v4()),
            body: None,
            expect: [404, 404, 404, 403, 404, 404, 401, 404, 403, 403],
        },
        // Revoking and signing out end credentials: last.
        Row {
            method: Method::DELETE,
            template: "/v1/organisations/{id}/api-keys/{key_id}",
            path: org(&format!("/api-keys/{key_a}")),
            body: None,
            expect: [204, 204, 403, 401, 403, 403, 401, 404, 404, 403],
        },
        Row {
            method: Method::POST,
            template: "/v1/auth/logout",
            path: "/v1/auth/logout".into(),
            body: None,
            expect: [204, 204, 204, 401, 204, 204, 401, 204, 403, 403],
        },
    ];

    // The table covers every documented operation.
    let covered: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_owned()))
        .collect();
    assert_eq!(
        covered,
        documented_operations(),
        "the matrix must cover every operation"
    );

    let mut failures = Vec::new();
    for row in &rows {
        for (i, caller) in CALLERS.iter().enumerate() {
            // Bodies that create something must be unique per call.
            let body = match (&row.body, row.template) {
                (Some(Value::Null), "/v1/organisations") => Some(organisation_body("Matrix")),
                // A different unknown account each time, so the failed-login throttle stays out of it.
                (Some(Value::Null), "/v1/auth/login") => {
                    Some(json!({"email": unique_email(), "password": "wrong password"}))
                }
                (Some(Value::Null), "/v1/checkers") => {
                    Some(json!({"email": unique_email(), "name": "C",
                    "authorisations": [], "supervisor": false, "max_open_tasks": 1}))
                }
                (Some(Value::Null), "/v1/screening-requests") => Some(submission(&unique_email())),
                (Some(Value::Null), "/v1/auth/password-reset") => {
                    Some(json!({"email": unique_email()}))
                }
                (Some(Value::Null), _) => {
                    Some(json!({"email": unique_email(), "name": "M", "role": "org_requester"}))
                }
                (body, _) => body.clone(),
            };
            let before = state_of(&app.db).await;
            // The subject page's forms are posted from the page itself.
            let site = row.template.starts_with("/s/").then_some("same-origin");
            let reply = app
                .call_from(
                    row.method.clone(),
                    &row.path,
                    tokens[i].as_deref(),
                    body,
                    site,
                )
                .await;
            if reply.status.as_u16() != row.expect[i] {
                failures.push(format!(
                    "{} {} as {caller}: expected {}, got {} {}",
                    row.method, row.path, row.expect[i], reply.status, reply.text
                ));
            }
            if ORG_CALLERS.contains(caller) && row.template.starts_with("/v1/screening-requests") {
                for staff_only in [
                    "full_status",
                    "decision_deadline",
                    "\"tasks\"",
                    "\"workflow\"",
                ] {
                    if reply.text.contains(staff_only) {
                        failures.push(format!(
                            "{} {} as {caller} shows {staff_only}: {}",
                            row.method, row.path, reply.text
                        ));
                    }
                }
            }
            // A refusal changes nothing (a failed login is audited: that is its record).
            if reply.status.is_client_error() && row.template != "/v1/auth/login" {
                let after = state_of(&app.db).await;
                for (was, is) in before.iter().zip(&after) {
                    if was != is {
                        failures.push(format!(
                            "{} {} as {caller} ({}) changed {}",
                            row.method,
                            row.path,
                            reply.status,
                            was.split(':').next().unwrap_or_default()
                        ));
                    }
                }
            }
            // The subject page answers people with pages; everything else with problems.
            if reply.status.is_client_error() && !row.template.starts_with("/s/") {
                reply.assert_problem(reply.status.as_u16());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn another_organisations_admin_changes_nothing() {
    let app = spawn_app().await;
    let org_a = app.create_organisation("A").await;
    let org_b = app.create_organisation("B").await;
    let (user_a, token_a) = app.create_member(org_a, "org_requester").await;
    let (key_a, api_key_a) = app.create_api_key(org_a).await;
    let (_, other_admin) = app.create_member(org_b, "org_admin").await;

    let attempts = [
        app.patch(
            &format!("/v1/organisations/{org_a}/users/{user_a}"),
            &other_admin,
            json!({"active": false}),
        )
        .await,
        app.call(
            Method::POST,
            &format!("/v1/organisations/{org_a}/users/{user_a}/activation"),
            Some(&other_admin),
            None,
        )
        .await,
        app.delete(
            &format!("/v1/organisations/{org_a}/api-keys/{key_a}"),
            &other_admin,
        )
        .await,
        // Naming org A's user or key under org B's own path finds nothing either.
        app.patch(
            &format!("/v1/organisations/{org_b}/users/{user_a}"),
            &other_admin,
            json!({"active": false}),
        )
        .await,
        app.delete(
            &format!("/v1/organisations/{org_b}/api-keys/{key_a}"),
            &other_admin,
        )
        .await,
    ];
    for reply in attempts {
        reply.assert_problem(404);
    }
    assert_eq!(app.get("/v1/me", &token_a).await.status, 200);
    assert_eq!(app.get("/v1/me", &api_key_a).await.status, 200);
    let user = entity::user::Entity::find_by_id(user_a)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(user.active);
}
