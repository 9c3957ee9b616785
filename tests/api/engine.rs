//! The workflow engine over HTTP: checks routed to eligible checkers, auto-clear, the
//! assessment with four eyes, the intention to refuse and the subject's answer, the decision
//! and the objection, and the properties of engine.md.
use std::time::Duration;

use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use entity::{screening_request, task};

/// A checker with these authorisations; returns (id, session token).
pub(crate) async fn checker(
    app: &TestApp,
    authorisations: &[&str],
    supervisor: bool,
    max_open_tasks: i64,
    conflicts: &[Uuid],
) -> (Uuid, String) {
    let (id, email) = app
        .checker_account(authorisations, supervisor, max_open_tasks, conflicts)
        .await;
    (id, app.login(&email, USER_PASSWORD).await)
}

pub(crate) fn unique_email() -> String {
    format!("subject-{}@example.org", Uuid::new_v4().simple())
}

/// Submits a request for a volunteer (or `body_change`d) and has the subject consent;
/// returns (request id, invitation token).
pub(crate) async fn consented(
    app: &TestApp,
    key: &str,
    change: impl FnOnce(&mut Value),
) -> (Uuid, String) {
    let email = unique_email();
    let mut body = submission(&email);
    change(&mut body);
    let reply = app.post("/v1/screening-requests", key, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    let token = app.invitation_token(&email).await;
    let consent = app.consent(&token).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    (id, token)
}

async fn tasks_of(app: &TestApp, request: Uuid) -> Vec<task::Model> {
    task::Entity::find()
        .filter(task::Column::RequestId.eq(request))
        .all(&app.db)
        .await
        .unwrap()
}

/// The one open task of `kind` (and `check`) on the request.
pub(crate) async fn open_task(
    app: &TestApp,
    request: Uuid,
    kind: &str,
    check: Option<&str>,
) -> task::Model {
    let found: Vec<task::Model> = tasks_of(app, request)
        .await
        .into_iter()
        .filter(|t| t.kind == kind && t.check_id.as_deref() == check)
        .filter(|t| t.status == "assigned" || t.status == "unassigned")
        .collect();
    assert_eq!(found.len(), 1, "one open {kind} {check:?}: {found:?}");
    found.into_iter().next().unwrap()
}

pub(crate) async fn complete(app: &TestApp, token: &str, task: Uuid, body: Value) -> Reply {
    app.post(&format!("/v1/tasks/{task}/complete"), token, body)
        .await
}

/// Completes the identity, criminal record and reference checks of a request in turn, all
/// `no_concerns` except `odd_one`, which ends with `outcome`.
async fn complete_checks(app: &TestApp, token: &str, request: Uuid, odd_one: &str, outcome: &str) {
    for check in ["identity", "criminal_record", "reference"] {
        let task = open_task(app, request, "check", Some(check)).await;
        let outcome = if check == odd_one {
            outcome
        } else {
            "no_concerns"
        };
        let done = complete(app, token, task.id, json!({"outcome": outcome})).await;
        assert_eq!(done.status, 200, "{}", done.text);
    }
}

pub(crate) async fn status_of(app: &TestApp, request: Uuid) -> String {
    screening_request::Entity::find_by_id(request)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

pub(crate) async fn org_with_key(app: &TestApp) -> (Uuid, String) {
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    (org, key)
}

/// An organisation's API key, with a webhook endpoint subscribed to `screening_request.decided`
/// (deliveries stay in the outbox for the test to read).
async fn org_with_decided_webhook(app: &TestApp) -> String {
    org_with_webhook(app, "screening_request.decided").await.1
}

/// An organisation and its API key, with a webhook endpoint subscribed to `event`.
pub(crate) async fn org_with_webhook(app: &TestApp, event: &str) -> (Uuid, String) {
    let (org, key) = org_with_key(app).await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let endpoint = app
        .create_webhook_endpoint(&org_admin, "https://hooks.example.org/hook", &[event])
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.text);
    (org, key)
}

fn checks_of(view: &Value) -> Vec<(String, String)> {
    view["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn checks_run_after_their_predecessors_and_a_clean_record_is_cleared() {
    let app = spawn_app().await;
    let key = org_with_decided_webhook(&app).await;
    let (identity_id, identity) = checker(&app, &["identity"], false, 5, &[]).await;
    let (_, records) = checker(&app, &["criminal_record"], false, 5, &[]).await;
    let (_, references) = checker(&app, &["reference"], false, 5, &[]).await;
    let (id, token) = consented(&app, &key, |_| {}).await;

    // Only the identity check runs first, with the checker who may do it.
    let first = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(first.assignee_id, Some(identity_id));
    assert_eq!(tasks_of(&app, id).await.len(), 1);
    let mine = app.get("/v1/tasks", &identity).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["data"][0]["check"], "identity");
    assert!(
        app.get("/v1/tasks", &records).await.body["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "in_progress");
    assert_eq!(
        checks_of(&view.body),
        pairs(&[
            ("identity", "running"),
            ("criminal_record", "pending"),
            ("misconduct", "skipped"),
            ("reference", "pending")
        ])
    );

    // The identity checker sees the identity, and only that.
    let shown = app.get(&format!("/v1/tasks/{}", first.id), &identity).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["context"]["subject"]["bsn"], "123456782");
    assert!(shown.body["context"].get("referees").is_none());

    let done = complete(&app, &identity, first.id, json!({"outcome": "no_concerns"})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["status"], "completed");
    // Exactly once.
    complete(&app, &identity, first.id, json!({"outcome": "no_concerns"}))
        .await
        .assert_problem(409);

    // The two checks after identity run in parallel.
    let record = open_task(&app, id, "check", Some("criminal_record")).await;
    let reference = open_task(&app, id, "check", Some("reference")).await;
    let referees = app
        .get(&format!("/v1/tasks/{}", reference.id), &references)
        .await;
    assert_eq!(
        referees.body["context"]["referees"][0]["name"],
        "Marieke Jansen"
    );
    assert!(referees.body["context"]["subject"].get("bsn").is_none());
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(
        checks_of(&view.body),
        pairs(&[
            ("identity", "done"),
            ("criminal_record", "running"),
            ("misconduct", "skipped"),
            ("reference", "running")
        ])
    );
    let done = complete(&app, &records, record.id, json!({"outcome": "no_concerns"})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(status_of(&app, id).await, "in_progress");
    let done = complete(
        &app,
        &references,
        reference.id,
        json!({"outcome": "no_concerns"}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);

    // Every check found nothing: cleared with no human decision.
    assert_eq!(status_of(&app, id).await, "cleared");
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "cleared");
    assert_eq!(view.body["decision"]["outcome"], "cleared");
    assert_eq!(view.body["decision"]["revised"], false);
    assert!(view.body["decision"]["valid_until"].is_string());
    assert!(view.body.get("tasks").is_none(), "tasks are for staff");
    let decision = app
        .call(
            Method::GET,
            &format!("/v1/invitations/{token}/decision"),
            None,
            None,
        )
        .await;
    assert_eq!(decision.status, 200, "{}", decision.text);
    assert_eq!(decision.body["outcome"], "cleared");
    let events = app
        .get(&format!("/v1/screening-requests/{id}/events"), &key)
        .await;
    let kinds: Vec<&str> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "consented", "decided"]);
    // The webhook carries the outcome alone, and the clearance's certificate id.
    let decided = entity::webhook_delivery::Entity::find()
        .filter(entity::webhook_delivery::Column::EventType.eq("screening_request.decided"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(decided.len(), 1);
    let certificate = entity::certificate::Entity::find()
        .filter(entity::certificate::Column::RequestId.eq(id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a clearance has its certificate");
    assert_eq!(
        decided[0].payload["data"],
        json!({"id": id, "status": "cleared", "outcome": "cleared", "certificate_id": certificate.id})
    );
}

#[tokio::test]
async fn staff_get_the_misconduct_check_with_their_employers() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, all) = checker(
        &app,
        &[
            "identity",
            "criminal_record",
            "misconduct_disclosure",
            "reference",
        ],
        false,
        10,
        &[],
    )
    .await;
    let (id, _) = consented(&app, &key, |b| b["position"]["role"] = json!("staff")).await;
    let first = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(
        complete(&app, &all, first.id, json!({"outcome": "no_concerns"}))
            .await
            .status,
        200
    );
    let misconduct = open_task(&app, id, "check", Some("misconduct")).await;
    let shown = app.get(&format!("/v1/tasks/{}", misconduct.id), &all).await;
    assert_eq!(
        shown.body["context"]["previous_employers"][0]["organisation"],
        "Stichting Kinderhulp"
    );
    assert!(
        shown.body["context"]["subject"]
            .get("date_of_birth")
            .is_none()
    );
}

/// Concerns go to assessment; four eyes; the intention to refuse with the subject's response;
/// the final review by the proposing assessor; the refusal; one objection, reviewed by a
/// checker with no earlier task; overturned: cleared, revised.
#[tokio::test]
async fn a_refusal_is_proposed_reviewed_answered_decided_and_overturned_on_objection() {
    let app = spawn_app().await;
    let key = org_with_decided_webhook(&app).await;
    let (_, all) = checker(
        &app,
        &["identity", "criminal_record", "reference"],
        false,
        10,
        &[],
    )
    .await;
    let (b, b_token) = checker(&app, &["assessment"], false, 10, &[]).await;
    let (c, c_token) = checker(&app, &["assessment"], false, 10, &[]).await;
    let (id, token) = consented(&app, &key, |_| {}).await;
    let identity = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(
        complete(&app, &all, identity.id, json!({"outcome": "no_concerns"}))
            .await
            .status,
        200
    );
    let record = open_task(&app, id, "check", Some("criminal_record")).await;
    let reference = open_task(&app, id, "check", Some("reference")).await;
    let done = complete(
        &app,
        &all,
        record.id,
        json!({"outcome": "concerns", "notes": "A conviction in 2015 (art. 240b Sr).\nSentence served in full."}),
    )
    .await;
    assert_eq!(done.status, 200);
    assert_eq!(
        complete(&app, &all, reference.id, json!({"outcome": "no_concerns"}))
            .await
            .status,
        200
    );

    // Assessment, by one of the two assessors, who sees the earlier outcomes and notes.
    assert_eq!(status_of(&app, id).await, "assessment");
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(
        view.body["status"], "in_progress",
        "the organisation's view"
    );
    let assessment = open_task(&app, id, "assessment", None).await;
    let (assessor, assessor_token, other, other_token) = if assessment.assignee_id == Some(b) {
        (b, &b_token, c, &c_token)
    } else {
        (c, &c_token, b, &b_token)
    };
    assert_eq!(assessment.assignee_id, Some(assessor));
    let shown = app
        .get(&format!("/v1/tasks/{}", assessment.id), assessor_token)
        .await;
    let earlier = shown.body["context"]["earlier_tasks"].as_array().unwrap();
    assert!(earlier.iter().any(|t| t["outcome"] == "concerns"
        && t["notes"] == "A conviction in 2015 (art. 240b Sr).\nSentence served in full."));

    // A refusal needs grounds; an outcome of another kind is refused.
    complete(
        &app,
        assessor_token,
        assessment.id,
        json!({"outcome": "refuse"}),
    )
    .await
    .assert_problem(422);
    complete(
        &app,
        assessor_token,
        assessment.id,
        json!({"outcome": "no_concerns"}),
    )
    .await
    .assert_problem(422);
    let done = complete(
        &app,
        assessor_token,
        assessment.id,
        json!({"outcome": "refuse", "grounds": "A recent conviction relevant to work with children."}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);

    // Four eyes: the other assessor, never the proposer.
    let review = open_task(&app, id, "four_eyes_review", None).await;
    assert_eq!(review.assignee_id, Some(other));
    let done = complete(&app, other_token, review.id, json!({"outcome": "concur"})).await;
    assert_eq!(done.status, 200, "{}", done.text);

    // The intention to refuse: the subject is told and may respond.
    assert_eq!(status_of(&app, id).await, "intent_to_refuse");
    let invitation = app
        .call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(invitation.body["status"], "intent_to_refuse");
    assert_eq!(
        invitation.body["actions"],
        json!(["respond", "withdraw_consent"])
    );
    let mails = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::RequestId.eq(id))
        .filter(entity::mail_outbox::Column::Kind.eq("intent_to_refuse"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(mails, 1);
    let responded = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/response"),
            None,
            Some(json!({"statement": "That conviction was overturned on appeal in 2016."})),
        )
        .await;
    assert_eq!(responded.status, 200, "{}", responded.text);
    assert_eq!(responded.body["status"], "final_review");

    // The final review goes back to the assessor who proposed the refusal.
    let final_review = open_task(&app, id, "final_review", None).await;
    assert_eq!(final_review.assignee_id, Some(assessor));
    let done = complete(
        &app,
        assessor_token,
        final_review.id,
        json!({"outcome": "refuse", "grounds": "The conviction stands in the records we hold."}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(status_of(&app, id).await, "refused");

    // The organisation sees the outcome only; the subject sees the grounds.
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "refused");
    assert_eq!(view.body["decision"]["outcome"], "refused");
    assert!(
        !view.text.contains("conviction"),
        "no grounds for the organisation"
    );
    assert!(view.body["decision"]["certificate_id"].is_null());
    app.get(&format!("/v1/screening-requests/{id}/certificate"), &key)
        .await
        .assert_problem(404);
    let decision = app
        .call(
            Method::GET,
            &format!("/v1/invitations/{token}/decision"),
            None,
            None,
        )
        .await;
    assert_eq!(decision.body["outcome"], "refused");
    assert_eq!(
        decision.body["grounds"],
        "The conviction stands in the records we hold."
    );
    assert!(decision.body["objection_until"].is_string());

    // The subject page shows the decision with its grounds and the objection form.
    let page = app.public_text(&format!("/s/{token}?lang=en")).await;
    assert!(page.contains("The decision") && page.contains("The conviction stands"));
    assert!(page.contains(&format!("/s/{token}/objection?lang=en")));

    // One objection (through the page's form), reviewed by a checker with no earlier task.
    let (d, d_token) = checker(&app, &["assessment"], false, 10, &[]).await;
    let form = app
        .client
        .post(app.url(&format!("/s/{token}/objection")))
        // From the page itself, as a browser says.
        .header("sec-fetch-site", "same-origin")
        // A textarea's lines arrive with CRLF line breaks.
        .form(&[(
            "grounds",
            "The appeal court's judgment is attached.\r\nIt quashed the conviction.",
        )])
        .send()
        .await
        .unwrap();
    // Redirected back to the page (reqwest follows the 303).
    assert_eq!(form.status(), 200);
    assert!(form.url().path().ends_with(&token));
    let objected = app
        .call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(objected.body["status"], "objection_review");
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(
        view.body["status"], "refused",
        "the decision stands until overturned"
    );
    app.call(
        Method::POST,
        &format!("/v1/invitations/{token}/objection"),
        None,
        Some(json!({"grounds": "Again."})),
    )
    .await
    .assert_problem(409);
    let objection = open_task(&app, id, "objection_review", None).await;
    assert_eq!(objection.assignee_id, Some(d));
    let done = complete(&app, &d_token, objection.id, json!({"outcome": "overturn"})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(status_of(&app, id).await, "cleared");
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "cleared");
    assert_eq!(view.body["decision"]["outcome"], "cleared");
    assert_eq!(view.body["decision"]["revised"], true);
    // The overturned refusal is a clearance with its certificate.
    let certificate = app
        .get(&format!("/v1/screening-requests/{id}/certificate"), &key)
        .await;
    assert_eq!(certificate.status, 200, "{}", certificate.text);
    let certificate_id = certificate.body["certificate_id"].clone();
    assert_eq!(view.body["decision"]["certificate_id"], certificate_id);
    // The webhooks: refused, then cleared with `revised`; never the grounds.
    let mut decided: Vec<Value> = entity::webhook_delivery::Entity::find()
        .filter(entity::webhook_delivery::Column::EventType.eq("screening_request.decided"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.payload["data"].clone())
        .collect();
    decided.sort_by_key(|d| d["outcome"] == "cleared");
    assert_eq!(
        decided,
        [
            json!({"id": id, "status": "refused", "outcome": "refused"}),
            json!({"id": id, "status": "cleared", "outcome": "cleared", "revised": true,
                   "certificate_id": certificate_id}),
        ]
    );
    // And the subject was told at the intention and at each decision.
    let mails = entity::mail_outbox::Entity::find()
        .filter(entity::mail_outbox::Column::RequestId.eq(id))
        .filter(entity::mail_outbox::Column::Kind.eq("decision"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(mails, 2);
}

#[tokio::test]
async fn a_dissent_goes_to_a_supervisor_who_is_neither_assessor_nor_reviewer() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, all) = checker(
        &app,
        &["identity", "criminal_record", "reference"],
        false,
        10,
        &[],
    )
    .await;
    let (b, b_token) = checker(&app, &["assessment"], false, 10, &[]).await;
    let (_, c_token) = checker(&app, &["assessment"], false, 10, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    complete_checks(&app, &all, id, "reference", "unable_to_verify").await;
    // Whoever got the assessment proposes to clear; the other dissents.
    let assessment = open_task(&app, id, "assessment", None).await;
    let (first, second) = if assessment.assignee_id == Some(b) {
        (&b_token, &c_token)
    } else {
        (&c_token, &b_token)
    };
    let done = complete(&app, first, assessment.id, json!({"outcome": "clear"})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let review = open_task(&app, id, "four_eyes_review", None).await;
    complete(&app, first, review.id, json!({"outcome": "dissent"}))
        .await
        .assert_problem(404);
    assert_eq!(
        complete(&app, second, review.id, json!({"outcome": "dissent"}))
            .await
            .status,
        200
    );

    // No supervisor with the assessment authorisation yet: the review waits.
    let supervisor_review = open_task(&app, id, "supervisor_review", None).await;
    assert_eq!(supervisor_review.status, "unassigned");
    let (s, s_token) = checker(&app, &["assessment"], true, 10, &[]).await;
    let supervisor_review = open_task(&app, id, "supervisor_review", None).await;
    assert_eq!(
        supervisor_review.assignee_id,
        Some(s),
        "picked up as soon as eligible"
    );
    let done = complete(
        &app,
        &s_token,
        supervisor_review.id,
        json!({"outcome": "clear"}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(status_of(&app, id).await, "cleared");
}

#[tokio::test]
async fn four_eyes_with_a_single_assessor_waits_rather_than_self_approving() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, all) = checker(
        &app,
        &["identity", "criminal_record", "reference"],
        false,
        10,
        &[],
    )
    .await;
    let (only, only_token) = checker(&app, &["assessment"], false, 10, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    complete_checks(&app, &all, id, "criminal_record", "concerns").await;
    let assessment = open_task(&app, id, "assessment", None).await;
    assert_eq!(assessment.assignee_id, Some(only));
    let done = complete(
        &app,
        &only_token,
        assessment.id,
        json!({"outcome": "clear"}),
    )
    .await;
    assert_eq!(done.status, 200);
    let review = open_task(&app, id, "four_eyes_review", None).await;
    assert_eq!(review.status, "unassigned");
    assert_eq!(review.assignee_id, None);
    // Not even a supervisor can hand it to the proposer.
    let (_, supervisor) = checker(&app, &[], true, 0, &[]).await;
    app.post(
        &format!("/v1/tasks/{}/assign", review.id),
        &supervisor,
        json!({"checker_id": only}),
    )
    .await
    .assert_problem(422);
    let unassigned = app.get("/v1/tasks?status=unassigned", &supervisor).await;
    assert!(
        unassigned.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == review.id.to_string())
    );
    // A second assessor arrives and gets it.
    let (second, _) = checker(&app, &["assessment"], false, 10, &[]).await;
    let review = open_task(&app, id, "four_eyes_review", None).await;
    assert_eq!(review.assignee_id, Some(second));
}

/// Only an eligible checker is ever assigned: never a conflicted, deactivated, unauthorised or
/// capped one; a change that makes the assignee ineligible reroutes the task at once.
#[tokio::test]
async fn only_eligible_checkers_are_assigned_and_ineligible_ones_lose_their_tasks() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (conflicted, _) = checker(&app, &["identity"], false, 5, &[org]).await;
    let (_, _) = checker(&app, &["criminal_record"], false, 5, &[]).await;
    let (_, _) = checker(&app, &["identity"], false, 0, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    let waiting = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(waiting.status, "unassigned", "nobody eligible: it waits");

    // A new eligible checker gets it at once.
    let (fresh, fresh_token) = checker(&app, &["identity"], false, 1, &[]).await;
    assert_eq!(
        open_task(&app, id, "check", Some("identity"))
            .await
            .assignee_id,
        Some(fresh)
    );
    // At their cap, a second request's check waits.
    let (second, _) = consented(&app, &key, |_| {}).await;
    assert_eq!(
        open_task(&app, second, "check", Some("identity"))
            .await
            .status,
        "unassigned"
    );

    // Deactivated: their task goes back to routing in the same change.
    let reply = app
        .patch(
            &format!("/v1/checkers/{fresh}"),
            &app.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        open_task(&app, id, "check", Some("identity")).await.status,
        "unassigned"
    );
    app.get("/v1/tasks", &fresh_token).await.assert_problem(401);

    // The conflict lifted: the checker takes both waiting checks.
    let reply = app
        .patch(
            &format!("/v1/checkers/{conflicted}"),
            &app.admin_token,
            json!({"conflicts": []}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    for request in [id, second] {
        assert_eq!(
            open_task(&app, request, "check", Some("identity"))
                .await
                .assignee_id,
            Some(conflicted)
        );
    }
    // A new conflict, and the authorisation removed: rerouted each time.
    let reply = app
        .patch(
            &format!("/v1/checkers/{conflicted}"),
            &app.admin_token,
            json!({"conflicts": [org]}),
        )
        .await;
    assert_eq!(reply.status, 200);
    for request in [id, second] {
        assert_eq!(
            open_task(&app, request, "check", Some("identity"))
                .await
                .status,
            "unassigned"
        );
    }
    // Audit: every rerouting is recorded.
    let rerouted = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("task.rerouted"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rerouted, 3);
}

#[tokio::test]
async fn a_released_task_never_returns_and_only_the_assignee_may_act() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (a, a_token) = checker(&app, &["identity"], false, 5, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    let task = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(task.assignee_id, Some(a));
    let (b, b_token) = checker(&app, &["identity"], false, 5, &[]).await;

    // Someone else cannot complete, release or even see it.
    complete(&app, &b_token, task.id, json!({"outcome": "no_concerns"}))
        .await
        .assert_problem(404);
    app.post(
        &format!("/v1/tasks/{}/release", task.id),
        &b_token,
        json!({}),
    )
    .await
    .assert_problem(404);
    app.get(&format!("/v1/tasks/{}", task.id), &b_token)
        .await
        .assert_problem(404);
    // Bad outcomes change nothing.
    complete(&app, &a_token, task.id, json!({"outcome": "clear"}))
        .await
        .assert_problem(422);
    complete(
        &app,
        &a_token,
        task.id,
        json!({"outcome": "no_concerns", "status": "completed"}),
    )
    .await
    .assert_problem(422);
    assert_eq!(
        open_task(&app, id, "check", Some("identity")).await.version,
        task.version
    );

    let released = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{}/release", task.id),
            Some(&a_token),
            None,
        )
        .await;
    assert_eq!(released.status, 200, "{}", released.text);
    let task = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(task.assignee_id, Some(b), "to the other checker");
    let released = app
        .call(
            Method::POST,
            &format!("/v1/tasks/{}/release", task.id),
            Some(&b_token),
            None,
        )
        .await;
    assert_eq!(released.status, 200);
    let task = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(task.status, "unassigned", "never back to either");
    // An admin cannot assign it to a checker who released it.
    app.post(
        &format!("/v1/tasks/{}/assign", task.id),
        &app.admin_token,
        json!({"checker_id": a}),
    )
    .await
    .assert_problem(422);
    let (c, _) = checker(&app, &["identity"], false, 5, &[]).await;
    assert_eq!(
        open_task(&app, id, "check", Some("identity"))
            .await
            .assignee_id,
        Some(c)
    );
}

#[tokio::test]
async fn withdrawal_cancels_open_tasks() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, a_token) = checker(&app, &["identity"], false, 5, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    let task = open_task(&app, id, "check", Some("identity")).await;
    let withdrawn = app
        .post(
            &format!("/v1/screening-requests/{id}/withdraw"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    let tasks = tasks_of(&app, id).await;
    assert!(tasks.iter().all(|t| t.status == "cancelled"), "{tasks:?}");
    complete(&app, &a_token, task.id, json!({"outcome": "no_concerns"}))
        .await
        .assert_problem(409);
}

/// Publishes `definition` (with `key` filled in) and a profile for it; returns the profile code.
pub(crate) async fn profile_for(app: &TestApp, definition: Value) -> String {
    profile_with(app, definition, 12, 30).await
}

/// The same, with the profile's validity and expiry warning.
pub(crate) async fn profile_with(
    app: &TestApp,
    mut definition: Value,
    validity_months: u32,
    expiry_warning_days: u32,
) -> String {
    let key = format!("wf-{}", &Uuid::new_v4().simple().to_string()[..8]);
    definition["key"] = json!(key);
    definition["consent_window"] = json!("P14D");
    if definition.get("decision_deadline").is_none() {
        definition["decision_deadline"] = json!("P28D");
    }
    let published = app
        .post("/v1/workflow-definitions", &app.admin_token, definition)
        .await;
    assert_eq!(published.status, 201, "{}", published.text);
    let profile = app
        .post(
            "/v1/screening-profiles",
            &app.admin_token,
            json!({"code": key, "title": "Test", "description": "For tests",
                   "workflow": {"key": key, "version": 1}, "validity_months": validity_months,
                   "roles": ["volunteer", "staff"], "expiry_warning_days": expiry_warning_days}),
        )
        .await;
    assert_eq!(profile.status, 201, "{}", profile.text);
    key
}

#[tokio::test]
async fn an_overdue_task_is_flagged_and_with_reassign_moves_to_another_checker() {
    let app = spawn_app_with(&[("SAFESCREEN_WORKER_INTERVAL_MS", "100")]).await;
    let (_, key) = org_with_key(&app).await;
    let profile = profile_for(
        &app,
        json!({"title": "Fast", "checks": [{"id": "identity", "authorisation": "identity", "sla": "PT1S"}],
               "escalation": {"on_overdue": "reassign"}, "decision_deadline": "PT1S"}),
    )
    .await;
    let (a, _) = checker(&app, &["identity"], false, 5, &[]).await;
    let (id, _) = consented(&app, &key, |b| b["profile"] = json!(profile)).await;
    assert_eq!(
        open_task(&app, id, "check", Some("identity"))
            .await
            .assignee_id,
        Some(a)
    );
    let (b, _) = checker(&app, &["identity"], false, 5, &[]).await;
    let mut task = open_task(&app, id, "check", Some("identity")).await;
    for _ in 0..100 {
        if task.overdue {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        task = open_task(&app, id, "check", Some("identity")).await;
    }
    assert!(task.overdue, "flagged once its SLA passed");
    assert_eq!(
        task.assignee_id,
        Some(b),
        "moved to another eligible checker"
    );
    let (_, supervisor) = checker(&app, &[], true, 0, &[]).await;
    let overdue = app.get("/v1/tasks?overdue=true", &supervisor).await;
    assert_eq!(overdue.body["data"][0]["id"], task.id.to_string());
    let staff_view = app
        .get(&format!("/v1/screening-requests/{id}/events"), &supervisor)
        .await;
    assert!(staff_view.text.contains("task_overdue"));
    let org_view = app
        .get(&format!("/v1/screening-requests/{id}/events"), &key)
        .await;
    assert!(
        !org_view.text.contains("task_overdue"),
        "not the organisation's business"
    );
}

/// Property 6: a request keeps the definition version it started with.
#[tokio::test]
async fn a_request_keeps_its_definition_version_when_a_new_one_is_published() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let profile = profile_for(
        &app,
        json!({"title": "Two checks", "checks": [
            {"id": "identity", "authorisation": "identity", "sla": "P1D"},
            {"id": "reference", "authorisation": "reference", "sla": "P1D", "after": ["identity"]}]}),
    )
    .await;
    let (_, all) = checker(
        &app,
        &["identity", "reference", "criminal_record"],
        false,
        10,
        &[],
    )
    .await;
    let (id, _) = consented(&app, &key, |b| b["profile"] = json!(profile)).await;
    // Version 2 of the same key asks for a criminal record check instead.
    let v2 = app
        .post(
            "/v1/workflow-definitions",
            &app.admin_token,
            json!({"key": profile, "title": "Changed", "consent_window": "P14D", "decision_deadline": "P28D", "checks": [
                {"id": "identity", "authorisation": "identity", "sla": "P1D"},
                {"id": "criminal_record", "authorisation": "criminal_record", "sla": "P1D", "after": ["identity"]}]}),
        )
        .await;
    assert_eq!(v2.status, 201, "{}", v2.text);
    assert_eq!(v2.body["version"], 2);
    let identity = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(
        complete(&app, &all, identity.id, json!({"outcome": "no_concerns"}))
            .await
            .status,
        200
    );
    open_task(&app, id, "check", Some("reference")).await;
    let staff = app
        .get(&format!("/v1/screening-requests/{id}"), &app.admin_token)
        .await;
    assert_eq!(staff.body["workflow"]["version"], 1);
    assert_eq!(staff.body["tasks"].as_array().unwrap().len(), 2);
    assert!(staff.body["decision_deadline"].is_string());
}

/// Property 3: every request not yet decided or ended is waiting on something: an open task,
/// a timer, or the subject.
pub async fn every_undecided_request_waits_on_something(app: &TestApp) {
    let requests = screening_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    for request in requests {
        let waiting_on = match request.status.as_str() {
            "cleared" | "refused" | "withdrawn" | "declined" | "lapsed" => continue,
            "awaiting_consent" | "intent_to_refuse" => "the subject and a timer",
            _ => "an open task",
        };
        let open_tasks = tasks_of(app, request.id)
            .await
            .into_iter()
            .filter(|t| t.status == "assigned" || t.status == "unassigned")
            .count();
        let timers = entity::timer::Entity::find()
            .filter(entity::timer::Column::RequestId.eq(request.id))
            .filter(entity::timer::Column::FiredAt.is_null())
            .count(&app.db)
            .await
            .unwrap();
        let ok = match waiting_on {
            "an open task" => open_tasks > 0,
            _ => timers > 0,
        };
        assert!(
            ok,
            "request {} ({}) waits on nothing",
            request.id, request.status
        );
    }
}

#[tokio::test]
async fn every_request_in_flight_waits_on_something() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, all) = checker(
        &app,
        &["identity", "criminal_record", "reference"],
        false,
        20,
        &[],
    )
    .await;
    let (_, assessor) = checker(&app, &["assessment"], false, 20, &[]).await;
    app.submit(&key, &unique_email()).await; // awaiting consent
    let (a, _) = consented(&app, &key, |_| {}).await; // a check running
    let (b, _) = consented(&app, &key, |_| {}).await; // on to assessment
    complete_checks(&app, &all, b, "reference", "concerns").await;
    let assessment = open_task(&app, b, "assessment", None).await;
    assert!(assessment.assignee_id.is_some());
    let _ = (a, assessor);
    every_undecided_request_waits_on_something(&app).await;
}

/// Assignment only to an eligible checker: a conflicted, unauthorised, capped or inactive one
/// is 422 and the task stays where it was.
#[tokio::test]
async fn assigning_to_an_ineligible_checker_is_422() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (holder, _) = checker(&app, &["identity"], false, 5, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    let task = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(task.assignee_id, Some(holder));
    let (conflicted, _) = checker(&app, &["identity"], false, 5, &[org]).await;
    let (unauthorised, _) = checker(&app, &["reference"], false, 5, &[]).await;
    let (capped, _) = checker(&app, &["identity"], false, 0, &[]).await;
    let (inactive, _) = checker(&app, &["identity"], false, 5, &[]).await;
    let reply = app
        .patch(
            &format!("/v1/checkers/{inactive}"),
            &app.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(reply.status, 200);
    for ineligible in [conflicted, unauthorised, capped, inactive, Uuid::new_v4()] {
        let reply = app
            .post(
                &format!("/v1/tasks/{}/assign", task.id),
                &app.admin_token,
                json!({"checker_id": ineligible}),
            )
            .await;
        reply.assert_problem(422);
        assert_eq!(reply.problem_fields(), ["checker_id"]);
    }
    let unchanged = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(unchanged.assignee_id, Some(holder));
    assert_eq!(unchanged.version, task.version);
}

/// A supervisor in conflict with the requesting organisation cannot read its tasks.
#[tokio::test]
async fn a_conflicted_supervisor_cannot_read_the_task() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, _) = checker(&app, &["identity"], false, 5, &[]).await;
    let (id, _) = consented(&app, &key, |_| {}).await;
    let task = open_task(&app, id, "check", Some("identity")).await;
    let (_, conflicted) = checker(&app, &[], true, 0, &[org]).await;
    let (_, impartial) = checker(&app, &[], true, 0, &[]).await;
    app.get(&format!("/v1/tasks/{}", task.id), &conflicted)
        .await
        .assert_problem(404);
    assert_eq!(
        app.get(&format!("/v1/tasks/{}", task.id), &impartial)
            .await
            .status,
        200
    );
    let reads = entity::audit_event::Entity::find()
        .filter(entity::audit_event::Column::Action.eq("task.personal_data_read"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        reads, 1,
        "the one read is audited, the refused one reads nothing"
    );
}

/// The subject can answer only what awaits an answer: a response only in intent_to_refuse,
/// an objection only inside the window.
#[tokio::test]
async fn a_response_or_objection_out_of_turn_is_409() {
    let app = spawn_app_with(&[("SAFESCREEN_WORKER_INTERVAL_MS", "100")]).await;
    let (_, key) = org_with_key(&app).await;
    let mut definition = json!({"title": "Quick refusal", "auto_clear": false,
        "checks": [{"id": "identity", "authorisation": "identity", "sla": "P1D"}],
        "assessment": {"authorisation": "assessment", "sla": "P1D", "four_eyes": false},
        "response_window": "PT1S", "objection_window": "PT1S"});
    definition["final_review"] = json!({"authorisation": "assessment", "sla": "P1D"});
    let profile = profile_for(&app, definition).await;
    let (_, all) = checker(&app, &["identity", "assessment"], false, 10, &[]).await;
    let (id, token) = consented(&app, &key, |b| b["profile"] = json!(profile)).await;
    let respond = |token: String| {
        let app = &app;
        async move {
            app.call(
                Method::POST,
                &format!("/v1/invitations/{token}/response"),
                None,
                Some(json!({"statement": "Please reconsider."})),
            )
            .await
        }
    };
    respond(token.clone()).await.assert_problem(409); // in progress
    let identity = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(
        complete(&app, &all, identity.id, json!({"outcome": "no_concerns"}))
            .await
            .status,
        200
    );
    let assessment = open_task(&app, id, "assessment", None).await;
    let done = complete(
        &app,
        &all,
        assessment.id,
        json!({"outcome": "refuse", "grounds": "Unverifiable."}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(status_of(&app, id).await, "intent_to_refuse");
    // Nobody answers: the response window closes and the final review starts by itself.
    for _ in 0..100 {
        if status_of(&app, id).await == "final_review" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&app, id).await, "final_review");
    respond(token.clone()).await.assert_problem(409);
    let review = open_task(&app, id, "final_review", None).await;
    let done = complete(
        &app,
        &all,
        review.id,
        json!({"outcome": "refuse", "grounds": "Unverifiable."}),
    )
    .await;
    assert_eq!(done.status, 200);
    // The objection window is one second: after it, an objection is 409.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let objection = app
        .call(
            Method::POST,
            &format!("/v1/invitations/{token}/objection"),
            None,
            Some(json!({"grounds": "Too late?"})),
        )
        .await;
    objection.assert_problem(409);
    assert_eq!(status_of(&app, id).await, "refused");
    let invitation = app
        .call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(invitation.body["actions"], json!([]));
}

/// `round_robin` takes the next checker in turn, whatever their load; `least_loaded` would
/// have passed over the busy one.
#[tokio::test]
async fn round_robin_routing_takes_checkers_in_turn() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (busy, _) = checker(&app, &["identity"], false, 10, &[]).await;
    // Two tasks for the first checker under the default (least loaded) routing.
    consented(&app, &key, |_| {}).await;
    consented(&app, &key, |_| {}).await;
    let (second, _) = checker(&app, &["identity"], false, 10, &[]).await;
    let (third, _) = checker(&app, &["identity"], false, 10, &[]).await;
    let profile = profile_for(
        &app,
        json!({"title": "Round robin", "checks": [{"id": "identity", "authorisation": "identity", "sla": "P1D"}],
               "routing": {"strategy": "round_robin"}}),
    )
    .await;
    let mut order = Vec::new();
    for _ in 0..4 {
        let (id, _) = consented(&app, &key, |b| b["profile"] = json!(profile)).await;
        order.push(
            open_task(&app, id, "check", Some("identity"))
                .await
                .assignee_id
                .unwrap(),
        );
    }
    let mut ids = [busy, second, third];
    ids.sort();
    assert_eq!(order, [ids[0], ids[1], ids[2], ids[0]]);
}

/// Property 5: a timer that fires after the decision changes nothing.
#[tokio::test]
async fn a_deadline_timer_after_the_decision_does_nothing() {
    let app = spawn_app_with(&[("SAFESCREEN_WORKER_INTERVAL_MS", "100")]).await;
    let (_, key) = org_with_key(&app).await;
    let profile = profile_for(
        &app,
        json!({"title": "Quick", "checks": [{"id": "identity", "authorisation": "identity", "sla": "PT1S"}],
               "decision_deadline": "PT1S"}),
    )
    .await;
    let (_, token) = checker(&app, &["identity"], false, 10, &[]).await;
    let (id, _) = consented(&app, &key, |b| b["profile"] = json!(profile)).await;
    let task = open_task(&app, id, "check", Some("identity")).await;
    assert_eq!(
        complete(&app, &token, task.id, json!({"outcome": "no_concerns"}))
            .await
            .status,
        200
    );
    assert_eq!(status_of(&app, id).await, "cleared");
    // Both the task's SLA timer and the decision deadline come due after the decision.
    for _ in 0..100 {
        let pending = entity::timer::Entity::find()
            .filter(entity::timer::Column::RequestId.eq(id))
            .filter(entity::timer::Column::FiredAt.is_null())
            .filter(entity::timer::Column::Kind.ne("consent_lapse"))
            .count(&app.db)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = entity::request_event::Entity::find()
        .filter(entity::request_event::Column::RequestId.eq(id))
        .all(&app.db)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["created", "consented", "decided"],
        "the timers changed nothing"
    );
    assert!(!open_task_exists(&app, id).await);
    assert!(
        !tasks_of(&app, id).await[0].overdue,
        "a completed task is never overdue"
    );
}

async fn open_task_exists(app: &TestApp, request: Uuid) -> bool {
    tasks_of(app, request)
        .await
        .iter()
        .any(|t| t.status == "assigned" || t.status == "unassigned")
}
