//! The console's administration pages over HTTP: organisations, checkers, workflows and
//! profiles, the audit log and the signing keys. Each form does what the API's operation does
//! (the same rows and audit events), bad input is the form again saying what to fix with
//! nothing changed, and a role the API refuses is refused here too.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    engine::{consented, open_task, org_with_key},
    helpers::*,
    pages::{Browser, Page},
    sign_in::{age_factor, enrol, spawn_staff_mfa_app},
};
use entity::{audit_event, checker_authorisation, organisation, signing_key, workflow_definition};

async fn admin_browser(app: &TestApp) -> Browser<'_> {
    let mut admin = Browser::new(app);
    let signed_in = admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(signed_in.location(), "/console/tasks", "{}", signed_in.body);
    admin
}

/// The details of the newest audit event with this action on this target.
async fn last_details(app: &TestApp, action: &str, target: &str) -> Value {
    app.wait_for_audit_chain().await;
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::Target.eq(target))
        .order_by_desc(audit_event::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {action} on {target}"))
        .details
}

fn links_to_fields(page: &Page, fields: &[&str]) {
    for field in fields {
        assert!(
            page.body.contains(&format!("href=\"#f-{field}\"")),
            "the summary links to {field}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn an_admin_adds_and_suspends_an_organisation_as_the_api_does_and_bad_forms_change_nothing() {
    let app = spawn_app().await;
    let mut admin = admin_browser(&app).await;
    let list = admin.get("/console/organisations").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let csrf = list.csrf();
    let count = || async { organisation::Entity::find().count(&app.db).await.unwrap() };
    // Every error at once: no name, only EU countries, no e-mail address, no country.
    let bad = admin
        .post(
            "/console/organisations",
            &[
                ("csrf", &csrf),
                ("name", " "),
                ("registration_number", "KVK-1"),
                ("operating_countries", "DE"),
                ("operating_countries", "FR"),
                ("contact_email", "not an address"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    links_to_fields(
        &bad,
        &["name", "country", "operating_countries", "contact_email"],
    );
    assert!(bad.body.contains("at least one country outside the EU"));
    assert!(bad.body.contains("value=\"KVK-1\""), "values kept");
    assert_eq!(count().await, 0);
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Kinderhulp Oeganda"),
        ("registration_number", "KVK-1"),
        ("country", "NL"),
        ("operating_countries", "UG"),
        ("operating_countries", "KE"),
        ("contact_email", "office@kinderhulp.example"),
    ];
    let created = admin.post("/console/organisations", &form).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let row = organisation::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        created.location(),
        format!("/console/organisations/{}?done=created", row.id)
    );
    // The API shows what the form made, and the audit names the admin.
    let api = app
        .get(&format!("/v1/organisations/{}", row.id), &app.admin_token)
        .await;
    assert_eq!(api.body["name"], "Kinderhulp Oeganda");
    assert_eq!(api.body["operating_countries"], json!(["KE", "UG"]));
    assert_eq!(api.body["status"], "active");
    assert_eq!(
        last_details(
            &app,
            "organisation.created",
            &format!("organisation:{}", row.id)
        )
        .await,
        json!({})
    );
    let page = admin.get(created.location()).await;
    assert!(page.body.contains("Organisation added"));
    assert!(page.body.contains("Kenya, Uganda"), "countries by name");
    // The same registration again: said on its field, nothing added.
    let again = admin.post("/console/organisations", &form).await;
    assert_eq!(again.status, 422);
    links_to_fields(&again, &["registration_number"]);
    assert_eq!(count().await, 1);
    // Suspended and reactivated as PATCH /v1/organisations/{id} does.
    let status = format!("/console/organisations/{}/status", row.id);
    let suspended = admin
        .post(&status, &[("csrf", &csrf), ("status", "suspended")])
        .await;
    assert_eq!(suspended.status, 303);
    let api = app
        .get(&format!("/v1/organisations/{}", row.id), &app.admin_token)
        .await;
    assert_eq!(api.body["status"], "suspended");
    assert_eq!(
        last_details(
            &app,
            "organisation.status_changed",
            &format!("organisation:{}", row.id)
        )
        .await,
        json!({"status": "suspended"})
    );
    let shown = admin.get(suspended.location()).await;
    assert!(
        shown.body.contains("Reactivate organisation"),
        "{}",
        shown.body
    );
    // A status no organisation has, posted by hand: nothing changes.
    let odd = admin
        .post(&status, &[("csrf", &csrf), ("status", "deleted")])
        .await;
    assert_eq!(odd.status, 400);
    // Without the CSRF token: refused, still suspended.
    let forged = admin.post(&status, &[("status", "active")]).await;
    assert_eq!(forged.status, 403);
    let api = app
        .get(&format!("/v1/organisations/{}", row.id), &app.admin_token)
        .await;
    assert_eq!(api.body["status"], "suspended");
    // A checker may not see the organisations, nor add one.
    let (_, email) = app.checker_account(&["identity"], true, 5, &[]).await;
    let mut checker = Browser::new(&app);
    checker.sign_in(&email, USER_PASSWORD, None).await;
    assert_eq!(checker.get("/console/organisations").await.status, 403);
    let tasks = checker.get("/console/tasks").await;
    let refused = checker
        .post(
            "/console/organisations",
            &[
                ("csrf", &tasks.csrf()),
                ("name", "Sneaky"),
                ("registration_number", "X"),
                ("country", "NL"),
                ("operating_countries", "UG"),
                ("contact_email", "x@example.org"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(count().await, 1);
    // A broken cursor is the page with an error, not a 500.
    let broken = admin.get("/console/organisations?cursor=%%%").await;
    assert_eq!(broken.status, 422, "{}", broken.body);
}

#[tokio::test]
async fn an_admin_adds_a_checker_by_email_and_a_change_of_rights_asks_for_a_factor_and_reroutes() {
    let app = spawn_staff_mfa_app().await;
    let (authenticator, recovery) = enrol(&app, &app.admin_token).await;
    let (_, key) = org_with_key(&app).await;
    let mut admin = Browser::new(&app);
    let signed_in = admin
        .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, Some(authenticator.code(1)))
        .await;
    assert_eq!(signed_in.location(), "/console/tasks", "{}", signed_in.body);
    let list = admin.get("/console/checkers").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let csrf = list.csrf();
    // Bad input by hand: an authorisation that does not exist, a cap that is no number.
    let bad = admin
        .post(
            "/console/checkers",
            &[
                ("csrf", &csrf),
                ("name", "Anna de Vries"),
                ("email", "anna@checkers.example"),
                ("authorisations", "telepathy"),
                ("max_open_tasks", "lots"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    links_to_fields(&bad, &["authorisations", "max_open_tasks"]);
    let over = admin
        .post(
            "/console/checkers",
            &[
                ("csrf", &csrf),
                ("name", "Anna de Vries"),
                ("email", "anna@checkers.example"),
                ("max_open_tasks", "10001"),
            ],
        )
        .await;
    assert_eq!(over.status, 422);
    assert!(over.body.contains("must be between 0 and 10000"));
    let checkers = || async {
        app.get("/v1/checkers", &app.admin_token).await.body["data"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(checkers().await, 0);
    // Added: the activation link is e-mailed and works; the page never shows the token.
    let created = admin
        .post(
            "/console/checkers",
            &[
                ("csrf", &csrf),
                ("name", "Anna de Vries"),
                ("email", "anna@checkers.example"),
                ("authorisations", "identity"),
                ("max_open_tasks", "5"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let anna: Uuid = created.location()["/console/checkers/".len()..][..36]
        .parse()
        .unwrap();
    let shown = admin.get(created.location()).await;
    assert!(
        shown
            .body
            .contains("The activation link went to anna@checkers.example")
    );
    assert!(!shown.body.contains("ss_act_"));
    let token = app.mailed_link("anna@checkers.example", "/activate/").await;
    assert_eq!(app.activate(&token, USER_PASSWORD).await.status, 204);
    assert_eq!(
        last_details(&app, "checker.created", &format!("checker:{anna}")).await,
        json!({"authorisations": ["identity"], "supervisor": false, "max_open_tasks": 5, "conflicts": []})
    );
    // Anna has the identity task; Bas could take it.
    let (request, _) = consented(&app, &key, |_| {}).await;
    let identity = open_task(&app, request, "check", Some("identity")).await;
    assert_eq!(identity.assignee_id, Some(anna));
    let (bas, _) = app.checker_account(&["identity"], false, 5, &[]).await;
    // Taking identity away needs a fresh factor: asked for, nothing changed yet.
    age_factor(&app, &admin.cookies["__Host-safescreen_session"]).await;
    let path = format!("/console/checkers/{anna}");
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Anna de Vries"),
        ("authorisations", "reference"),
        ("max_open_tasks", "5"),
        ("active", "on"),
    ];
    let asked = admin.post(&path, &form).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("Confirm it is you"));
    assert!(
        asked
            .body
            .contains("name=\"authorisations\" value=\"reference\"")
    );
    let held = || async {
        checker_authorisation::Entity::find()
            .filter(checker_authorisation::Column::CheckerId.eq(anna))
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.authorisation)
            .collect::<Vec<_>>()
    };
    assert_eq!(held().await, vec!["identity".to_owned()]);
    let done = admin
        .post(
            &path,
            &[form.as_slice(), &[("code", recovery[0].as_str())]].concat(),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(held().await, vec!["reference".to_owned()]);
    // Rerouted as PATCH /v1/checkers/{id} reroutes: the open task went to Bas.
    let moved = open_task(&app, request, "check", Some("identity")).await;
    assert_eq!(moved.id, identity.id);
    assert_eq!(moved.assignee_id, Some(bas));
    let page_details = last_details(&app, "checker.updated", &format!("checker:{anna}")).await;
    // The same change of another checker through the API records the same event.
    let (carla, _) = app.checker_account(&["identity"], false, 5, &[]).await;
    let api = app
        .patch(
            &format!("/v1/checkers/{carla}"),
            &app.admin_token,
            json!({"name": null, "authorisations": ["reference"], "max_open_tasks": 5, "supervisor": false, "conflicts": [], "active": true}),
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.text);
    assert_eq!(
        last_details(&app, "checker.updated", &format!("checker:{carla}")).await,
        page_details
    );
    // A cap over the limit: the form again, nothing changed.
    let too_many = admin
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Anna de Vries"),
                ("authorisations", "reference"),
                ("max_open_tasks", "-1"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(too_many.status, 422, "{}", too_many.body);
    links_to_fields(&too_many, &["max_open_tasks"]);
    let api = app
        .get(&format!("/v1/checkers/{anna}"), &app.admin_token)
        .await;
    assert_eq!(api.body["max_open_tasks"], 5);
}

#[tokio::test]
async fn supervisors_read_checkers_and_workflows_but_change_nothing() {
    let app = spawn_app().await;
    let (_, email) = app.checker_account(&["identity"], true, 5, &[]).await;
    let mut supervisor = Browser::new(&app);
    supervisor.sign_in(&email, USER_PASSWORD, None).await;
    let list = supervisor.get("/console/checkers").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        !list.body.contains("Add checker"),
        "no form they may not use"
    );
    let csrf = list.csrf();
    let refused = supervisor
        .post(
            "/console/checkers",
            &[
                ("csrf", &csrf),
                ("name", "Self-made"),
                ("email", "self@checkers.example"),
                ("max_open_tasks", "5"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    let workflows = supervisor.get("/console/workflows").await;
    assert_eq!(workflows.status, 200);
    assert!(!workflows.body.contains("Publish definition"));
    for path in ["/console/audit", "/console/keys", "/console/profiles"] {
        assert_eq!(supervisor.get(path).await.status, 403, "{path}");
    }
}

fn two_step_definition(key: &str) -> Value {
    json!({
        "key": key, "title": "Two steps", "consent_window": "P14D", "decision_deadline": "P28D",
        "checks": [
            {"id": "identity", "authorisation": "identity", "sla": "P2D"},
            {"id": "criminal_record", "authorisation": "criminal_record", "sla": "P10D", "after": ["identity"]},
            {"id": "misconduct", "authorisation": "misconduct_disclosure", "sla": "PT36H", "after": ["identity"],
             "when": {"role": ["staff"], "deployment_country_not": ["UG"]}}
        ]
    })
}

#[tokio::test]
async fn a_definition_is_published_with_every_error_listed_and_drawn_step_by_step() {
    let app = spawn_app().await;
    let mut admin = admin_browser(&app).await;
    let list = admin.get("/console/workflows").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let csrf = list.csrf();
    let published = || async {
        workflow_definition::Entity::find()
            .filter(workflow_definition::Column::Key.eq("two-steps"))
            .count(&app.db)
            .await
            .unwrap()
    };
    let not_json = admin
        .post(
            "/console/workflows",
            &[("csrf", &csrf), ("definition", "{\"key\": \"two-steps\",")],
        )
        .await;
    assert_eq!(not_json.status, 422, "{}", not_json.body);
    assert!(not_json.body.contains("is not JSON"));
    links_to_fields(&not_json, &["definition"]);
    // Two errors, both listed, the document kept.
    let mut broken = two_step_definition("two-steps");
    broken["checks"][1]["sla"] = json!("P1M");
    broken["checks"][2]["authorisation"] = json!("telepathy");
    let text = broken.to_string();
    let errors = admin
        .post(
            "/console/workflows",
            &[("csrf", &csrf), ("definition", &text)],
        )
        .await;
    assert_eq!(errors.status, 422, "{}", errors.body);
    assert!(errors.body.contains("checks[1].sla"), "{}", errors.body);
    assert!(errors.body.contains("checks[2].authorisation"));
    assert!(errors.body.contains("telepathy"), "the document is kept");
    assert_eq!(published().await, 0);
    // The API lists the same errors for the same document.
    let api = app
        .post("/v1/workflow-definitions", &app.admin_token, broken)
        .await;
    let mut api_fields = api.problem_fields();
    api_fields.sort();
    assert_eq!(api_fields, vec!["checks[1].sla", "checks[2].authorisation"]);
    let valid = two_step_definition("two-steps").to_string();
    let done = admin
        .post(
            "/console/workflows",
            &[("csrf", &csrf), ("definition", &valid)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location(),
        "/console/workflows/two-steps/1?done=published"
    );
    assert_eq!(published().await, 1);
    let shown = admin.get(done.location()).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    for said in [
        "Version 1 published",
        "Checks, step 1",
        "Checks, step 2",
        "These run at the same time.",
        "within 2 days",
        "within 36 hours",
        "after identity",
        "only for staff",
        "not when deployed to Uganda",
    ] {
        assert!(shown.body.contains(said), "{said}: {}", shown.body);
    }
    // A checker reads it; they cannot publish.
    let (_, email) = app.checker_account(&["identity"], false, 5, &[]).await;
    let mut checker = Browser::new(&app);
    checker.sign_in(&email, USER_PASSWORD, None).await;
    assert_eq!(
        checker.get("/console/workflows/two-steps/1").await.status,
        200
    );
    let csrf = checker.get("/console/workflows").await.csrf();
    let refused = checker
        .post(
            "/console/workflows",
            &[("csrf", &csrf), ("definition", &valid)],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(published().await, 1);
    assert_eq!(
        admin.get("/console/workflows/two-steps/9").await.status,
        404
    );
}

#[tokio::test]
async fn a_profile_is_published_from_the_form_as_the_api_publishes_it() {
    let app = spawn_app().await;
    let definition = two_step_definition("two-steps");
    let api = app
        .post("/v1/workflow-definitions", &app.admin_token, definition)
        .await;
    assert_eq!(api.status, 201, "{}", api.text);
    let mut admin = admin_browser(&app).await;
    let page = admin.get("/console/profiles").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    let bad = admin
        .post(
            "/console/profiles",
            &[
                ("csrf", &csrf),
                ("code", "Not A Slug"),
                ("title", "Field staff"),
                ("description", "Staff abroad"),
                ("workflow", ""),
                ("validity_months", "200"),
                ("expiry_warning_days", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    links_to_fields(
        &bad,
        &[
            "code",
            "workflow",
            "validity_months",
            "expiry_warning_days",
            "roles",
        ],
    );
    let form = [
        ("csrf", csrf.as_str()),
        ("code", "field-staff"),
        ("title", "Field staff"),
        ("description", "Staff abroad"),
        ("workflow", "two-steps:1"),
        ("validity_months", "24"),
        ("roles", "staff"),
        ("expiry_warning_days", "30"),
    ];
    let done = admin.post("/console/profiles", &form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let listed = app.get("/v1/screening-profiles", &app.admin_token).await;
    let profile = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "field-staff")
        .cloned()
        .expect("the profile is listed");
    assert_eq!(
        profile,
        json!({"code": "field-staff", "version": 1, "title": "Field staff", "description": "Staff abroad",
               "workflow": {"key": "two-steps", "version": 1}, "validity_months": 24, "roles": ["staff"],
               "expiry_warning_days": 30})
    );
    // A workflow version that does not exist: said on its field.
    let missing = admin
        .post(
            "/console/profiles",
            &[&form[..4], &[("workflow", "two-steps:7")], &form[5..]].concat(),
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    links_to_fields(&missing, &["workflow"]);
}

#[tokio::test]
async fn the_audit_page_filters_as_the_api_does_and_says_the_chain_holds() {
    let app = spawn_app().await;
    let org = app.create_organisation("Kids Abroad").await;
    app.wait_for_audit_chain().await;
    let mut admin = admin_browser(&app).await;
    let page = admin.get("/console/audit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("The chain holds"), "{}", page.body);
    let target = format!("organisation:{org}");
    let filtered = admin.get(&format!("/console/audit?target={target}")).await;
    let api = app
        .get(
            &format!("/v1/audit-events?target={target}"),
            &app.admin_token,
        )
        .await;
    let actions: Vec<&str> = api.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["organisation.created"]);
    assert_eq!(
        filtered
            .body
            .matches("<td>organisation.created</td>")
            .count(),
        1,
        "{}",
        filtered.body
    );
    assert!(!filtered.body.contains("<td>session.created</td>"));
    for bad in ["/console/audit?colour=red", "/console/audit?cursor=nope"] {
        let page = admin.get(bad).await;
        assert_eq!(page.status, 422, "{bad}: {}", page.body);
        assert!(page.body.contains("There is a problem"));
    }
}

#[tokio::test]
async fn an_admin_rotates_the_signing_key_after_a_fresh_factor() {
    let app = spawn_staff_mfa_app().await;
    let (authenticator, recovery) = enrol(&app, &app.admin_token).await;
    let mut admin = Browser::new(&app);
    admin
        .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, Some(authenticator.code(1)))
        .await;
    let page = admin.get("/console/keys").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Signs new certificates"));
    let csrf = page.csrf();
    let keys = || async { signing_key::Entity::find().count(&app.db).await.unwrap() };
    assert_eq!(keys().await, 1);
    age_factor(&app, &admin.cookies["__Host-safescreen_session"]).await;
    let asked = admin.post("/console/keys/rotate", &[("csrf", &csrf)]).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Confirm it is you"));
    assert_eq!(keys().await, 1);
    let done = admin
        .post(
            "/console/keys/rotate",
            &[("csrf", csrf.as_str()), ("code", recovery[0].as_str())],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(keys().await, 2);
    let shown = admin.get(done.location()).await;
    assert!(shown.body.contains("A new signing key signs from now on"));
    assert!(shown.body.contains("No longer needed"), "{}", shown.body);
    // The audit names the admin, not the command line.
    app.wait_for_audit_chain().await;
    let actors: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("signing_key.activated"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.actor)
        .collect();
    assert!(actors.iter().any(|a| a.starts_with("user:")), "{actors:?}");
}
