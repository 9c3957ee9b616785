//! The organisation's view, wherever an organisation is shown a request: with a request in
//! each of the eleven statuses, every answer to each kind of organisation caller and every
//! webhook holds no field, status or text beyond what api.md allows it.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use safescreen::outbox::webhooks::EVENT_TYPES;

use crate::engine::{checker, complete, consented, open_task, status_of, unique_email};
use crate::helpers::*;

const ORG_STATUSES: [&str; 7] = [
    "awaiting_consent",
    "in_progress",
    "cleared",
    "refused",
    "withdrawn",
    "declined",
    "lapsed",
];

/// What checkers, the subject and safescreen hold that the organisation must never be shown.
const NOTES: &str = "Note for checkers only: a caution in 2014.";
const GROUNDS: &str = "Grounds for the subject only: a relevant conviction.";
const STATEMENT: &str = "The subject's own statement: it was quashed.";
const OBJECTION: &str = "The subject's own objection: see the judgment.";
const DECLINE_MESSAGE: &str = "A message for safescreen only: wrong date of birth.";
/// From `submission()`: the subject's personal data beyond the name.
const PERSONAL: [&str; 4] = ["1990-04-12", "123456782", "Utrecht", "Stichting Kinderhulp"];

/// The organisation's view of a request, as api.md lists it.
fn assert_org_request(view: &Value, subject_email: Option<&str>) {
    let keys: BTreeSet<&str> = view
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let required = BTreeSet::from([
        "id",
        "status",
        "profile",
        "reference",
        "position",
        "deployment",
        "subject",
        "checks",
        "invitation",
        "decision",
        "created_at",
        "livemode",
    ]);
    let optional = BTreeSet::from(["decline_reason", "rescreen_of"]);
    assert!(required.is_subset(&keys), "missing fields: {view}");
    assert!(
        keys.iter()
            .all(|k| required.contains(k) || optional.contains(k)),
        "a field beyond the organisation's view: {view}"
    );
    assert!(
        ORG_STATUSES.contains(&view["status"].as_str().unwrap()),
        "{view}"
    );
    assert_eq!(
        object_keys(&view["subject"]),
        ["family_name", "given_names"],
        "{view}"
    );
    assert_eq!(
        object_keys(&view["invitation"]),
        ["expires_at", "sent_to"],
        "{view}"
    );
    for check in view["checks"].as_array().unwrap() {
        assert_eq!(object_keys(check), ["id", "state"], "{view}");
        assert!(
            ["pending", "running", "done", "skipped"].contains(&check["state"].as_str().unwrap())
        );
    }
    if !view["decision"].is_null() {
        let allowed = [
            "certificate_id",
            "decided_at",
            "outcome",
            "revised",
            "valid_until",
        ];
        assert!(
            object_keys(&view["decision"])
                .iter()
                .all(|k| allowed.contains(&k.as_str())),
            "{view}"
        );
        assert!(["cleared", "refused"].contains(&view["decision"]["outcome"].as_str().unwrap()));
    }
    if let Some(reason) = view.get("decline_reason") {
        assert!(["data_incorrect", "not_consenting", "other"].contains(&reason.as_str().unwrap()));
    }
    assert_no_secrets(&view.to_string(), subject_email);
}

fn object_keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn assert_no_secrets(text: &str, subject_email: Option<&str>) {
    for secret in [NOTES, GROUNDS, STATEMENT, OBJECTION, DECLINE_MESSAGE]
        .into_iter()
        .chain(PERSONAL)
        .chain(subject_email)
    {
        assert!(!text.contains(secret), "`{secret}` shown: {text}");
    }
    for word in ["ss_inv_", "full_status", "intent_to_refuse", "final_review"] {
        assert!(!text.contains(word), "`{word}` shown: {text}");
    }
}

/// The checkers a request needs on its way to any status.
struct Staff {
    checks: String,
    /// Assessors by checker id: the proposer, the four-eyes reviewer, the objection reviewer.
    assessors: BTreeMap<Uuid, String>,
}

impl Staff {
    async fn new(app: &TestApp) -> Self {
        let (_, checks) = checker(
            app,
            &["identity", "criminal_record", "reference"],
            false,
            50,
            &[],
        )
        .await;
        let mut assessors = BTreeMap::new();
        for _ in 0..3 {
            let (id, token) = checker(app, &["assessment"], false, 50, &[]).await;
            assessors.insert(id, token);
        }
        Staff { checks, assessors }
    }

    /// Completes the open task of `kind` as its assignee.
    async fn complete(&self, app: &TestApp, request: Uuid, kind: &str, body: Value) {
        let task = open_task(app, request, kind, None).await;
        let token = &self.assessors[&task.assignee_id.expect("assigned")];
        let done = complete(app, token, task.id, body).await;
        assert_eq!(done.status, 200, "{kind}: {}", done.text);
    }

    /// The three checks, with a concern (and notes) in the criminal record unless `clean`.
    async fn checks(&self, app: &TestApp, request: Uuid, clean: bool) {
        for check in ["identity", "criminal_record", "reference"] {
            let outcome = if check == "criminal_record" && !clean {
                "concerns"
            } else {
                "no_concerns"
            };
            let task = open_task(app, request, "check", Some(check)).await;
            let done = complete(
                app,
                &self.checks,
                task.id,
                json!({"outcome": outcome, "notes": NOTES}),
            )
            .await;
            assert_eq!(done.status, 200, "{}", done.text);
        }
    }
}

/// A consented request taken along the refusal path until it reaches `target`.
async fn request_in(app: &TestApp, staff: &Staff, key: &str, target: &str) -> (Uuid, String) {
    let (id, token) = consented(app, key, |_| {}).await;
    if target == "in_progress" {
        return (id, token);
    }
    staff.checks(app, id, target == "cleared").await;
    if ["assessment", "cleared"].contains(&target) {
        assert_eq!(status_of(app, id).await, target);
        return (id, token);
    }
    let refuse = json!({"outcome": "refuse", "grounds": GROUNDS});
    staff.complete(app, id, "assessment", refuse.clone()).await;
    staff
        .complete(app, id, "four_eyes_review", json!({"outcome": "concur"}))
        .await;
    if target != "intent_to_refuse" {
        let answered = app
            .subject_posts(&token, "response", json!({"statement": STATEMENT}))
            .await;
        assert_eq!(answered.status, 200, "{}", answered.text);
    }
    if !["intent_to_refuse", "final_review"].contains(&target) {
        staff.complete(app, id, "final_review", refuse).await;
    }
    if target == "objection_review" {
        let objected = app
            .subject_posts(&token, "objection", json!({"grounds": OBJECTION}))
            .await;
        assert_eq!(objected.status, 200, "{}", objected.text);
    }
    assert_eq!(status_of(app, id).await, target);
    (id, token)
}

#[tokio::test]
async fn organisations_see_their_view_in_every_status_answer_and_webhook() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    let (_, key) = app.create_api_key(org).await;
    let (_, org_admin) = app.create_member(org, "org_admin").await;
    let (_, requester) = app.create_member(org, "org_requester").await;
    let endpoint = app
        .create_webhook_endpoint(&org_admin, "https://hooks.example.org/hook", &["*"])
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.text);
    let staff = Staff::new(&app).await;

    // One request in each full status, with the organisation's view expected of it.
    let mut requests: Vec<(Uuid, &str)> = Vec::new();
    let submitted_email = unique_email();
    let submitted = app
        .post("/v1/screening-requests", &key, submission(&submitted_email))
        .await;
    assert_eq!(submitted.status, 201, "{}", submitted.text);
    assert_org_request(&submitted.body, Some(&submitted_email));
    requests.push((
        submitted.body["id"].as_str().unwrap().parse().unwrap(),
        "awaiting_consent",
    ));
    for (full, org_view) in [
        ("in_progress", "in_progress"),
        ("assessment", "in_progress"),
        ("intent_to_refuse", "in_progress"),
        ("final_review", "in_progress"),
        ("refused", "refused"),
        ("objection_review", "refused"),
        ("cleared", "cleared"),
    ] {
        let (id, _) = request_in(&app, &staff, &key, full).await;
        requests.push((id, org_view));
    }
    let withdrawn = app.submit(&key, &unique_email()).await;
    let reply = app
        .call(
            Method::POST,
            &format!("/v1/screening-requests/{withdrawn}/withdraw"),
            Some(&org_admin),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_org_request(&reply.body, None);
    requests.push((withdrawn, "withdrawn"));
    let declining = unique_email();
    let declined = app.submit(&key, &declining).await;
    let token = app.invitation_token(&declining).await;
    let reply = app
        .subject_posts(
            &token,
            "decline",
            json!({"reason": "data_incorrect", "message": DECLINE_MESSAGE}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    requests.push((declined, "declined"));
    let rescreened = app
        .post(
            &format!("/v1/screening-requests/{declined}/rescreen"),
            &requester,
            json!({}),
        )
        .await;
    assert_eq!(rescreened.status, 201, "{}", rescreened.text);
    assert_org_request(&rescreened.body, None);
    requests.push((
        rescreened.body["id"].as_str().unwrap().parse().unwrap(),
        "awaiting_consent",
    ));
    let lapsed = lapsed_request(&app, &key).await;
    requests.push((lapsed, "lapsed"));

    for caller in [&key, &org_admin, &requester] {
        // Each request alone, and its timeline.
        for (id, expected) in &requests {
            let view = app
                .get(&format!("/v1/screening-requests/{id}"), caller)
                .await;
            assert_eq!(view.status, 200, "{}", view.text);
            assert_org_request(&view.body, None);
            assert_eq!(view.body["status"], *expected, "{}", view.text);
            let events = app
                .get(&format!("/v1/screening-requests/{id}/events"), caller)
                .await;
            assert_eq!(events.status, 200, "{}", events.text);
            assert_no_secrets(&events.text, None);
            for event in events.body["data"].as_array().unwrap() {
                assert_eq!(object_keys(event), ["at", "status", "type"], "{event}");
                assert!(ORG_STATUSES.contains(&event["status"].as_str().unwrap()));
                assert!(
                    [
                        "created",
                        "consented",
                        "declined",
                        "lapsed",
                        "withdrawn",
                        "decided"
                    ]
                    .contains(&event["type"].as_str().unwrap()),
                    "{event}"
                );
            }
        }
        // The list, and the list filtered by each status of the view.
        let list = app.get("/v1/screening-requests?limit=100", caller).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let listed = list.body["data"].as_array().unwrap();
        assert_eq!(listed.len(), requests.len());
        for view in listed {
            assert_org_request(view, None);
        }
        for status in ORG_STATUSES {
            let filtered = app
                .get(&format!("/v1/screening-requests?status={status}"), caller)
                .await;
            let mut ids: Vec<String> = filtered.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_owned())
                .collect();
            let mut expected: Vec<String> = requests
                .iter()
                .filter(|(_, s)| *s == status)
                .map(|(id, _)| id.to_string())
                .collect();
            ids.sort();
            expected.sort();
            assert_eq!(ids, expected, "status={status}");
        }
    }

    // The portal's pages and export show no more than the API's view: every request's page,
    // the list, the export, and the certificate (which holds what the API's certificate does).
    for role in ["org_admin", "org_requester"] {
        let (_, email) = app.member_account(org, role).await;
        let mut browser = crate::pages::Browser::new(&app);
        browser.sign_in(&email, USER_PASSWORD, None).await;
        for (id, expected) in &requests {
            let page = browser.get(&format!("/org/requests/{id}")).await;
            assert_eq!(page.status, 200, "{role} {id}");
            assert_no_secrets(&page.body, None);
            let shown = expected.replace('_', " ");
            assert!(
                page.body.to_lowercase().contains(&shown),
                "{role}: {expected} not shown"
            );
            for word in ["assessment", "objection review", "four eyes", "proposed"] {
                assert!(!page.body.to_lowercase().contains(word), "`{word}` shown");
            }
            if *expected == "cleared" {
                let certificate = browser
                    .get(&format!("/org/requests/{id}/certificate"))
                    .await;
                assert_eq!(certificate.status, 200);
                for secret in [NOTES, GROUNDS, STATEMENT, OBJECTION, DECLINE_MESSAGE] {
                    assert!(!certificate.body.contains(secret));
                }
            }
        }
        let list = browser.get("/org/requests").await;
        assert_no_secrets(&list.body, None);
        let export = browser.get("/org/requests.csv").await;
        assert_eq!(export.status, 200);
        assert_no_secrets(&export.body, None);
        assert_eq!(export.body.lines().count(), requests.len() + 1);
        for line in export.body.lines().skip(1) {
            assert!(
                ORG_STATUSES
                    .iter()
                    .any(|s| line.contains(&format!(",{s},"))),
                "{line}"
            );
        }
    }

    // Every event queued for the organisation's endpoint: the view's statuses, no more.
    let deliveries = entity::webhook_delivery::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let types: BTreeSet<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    let request_events: BTreeSet<&str> = EVENT_TYPES
        .into_iter()
        .filter(|t| t.starts_with("screening_request."))
        .collect();
    assert!(types.is_superset(&request_events), "{types:?}");
    for delivery in &deliveries {
        let payload = &delivery.payload;
        assert_eq!(payload["livemode"], true, "{payload}");
        assert_eq!(
            object_keys(payload),
            ["data", "livemode", "timestamp", "type"],
            "{payload}"
        );
        let data = &payload["data"];
        assert!(
            object_keys(data).iter().all(|k| {
                [
                    "id",
                    "status",
                    "outcome",
                    "certificate_id",
                    "revised",
                    "decline_reason",
                ]
                .contains(&k.as_str())
            }),
            "{payload}"
        );
        assert!(ORG_STATUSES.contains(&data["status"].as_str().unwrap()));
        assert_no_secrets(&payload.to_string(), None);
    }
    // The refusal under objection review was announced as refused, and nothing after it.
    let objection = json!(requests[6].0);
    let announced: BTreeSet<&str> = deliveries
        .iter()
        .filter(|d| d.payload["data"]["id"] == objection)
        .map(|d| d.payload["data"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        announced,
        BTreeSet::from(["awaiting_consent", "in_progress", "refused"])
    );
}

/// A request whose invitation lapsed (a profile with a one-second consent window).
async fn lapsed_request(app: &TestApp, key: &str) -> Uuid {
    let profile = crate::screening::profile_with_consent_window(app, "PT1S").await;
    let mut body = submission(&unique_email());
    body["profile"] = json!(profile);
    let reply = app.post("/v1/screening-requests", key, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    for _ in 0..200 {
        if status_of(app, id).await == "lapsed" {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("request {id} did not lapse");
}
