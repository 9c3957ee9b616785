//! The console over HTTP, as a browser drives it: each page shows what the API shows the same
//! caller, each form does what the API's operation does, and bad input is the page again
//! saying what to fix with nothing changed.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    engine::{consented, open_task, org_with_key, status_of},
    helpers::*,
    pages::{Browser, Page},
};
use entity::{audit_event, screening_request, task};

/// A checker with these authorisations, signed in to the console; returns (id, API token,
/// browser).
async fn console_checker<'a>(
    app: &'a TestApp,
    authorisations: &[&str],
    supervisor: bool,
    conflicts: &[Uuid],
) -> (Uuid, String, Browser<'a>) {
    let (id, email) = app
        .checker_account(authorisations, supervisor, 20, conflicts)
        .await;
    let token = app.login(&email, USER_PASSWORD).await;
    let mut browser = Browser::new(app);
    let signed_in = browser.sign_in(&email, USER_PASSWORD, None).await;
    assert_eq!(
        signed_in.location(),
        "/console/tasks",
        "staff land at the queue"
    );
    (id, token, browser)
}

/// The task ids a page links to, in the order it shows them.
fn task_links(page: &Page) -> Vec<Uuid> {
    page.body
        .match_indices("href=\"/console/tasks/")
        .filter_map(|(at, m)| page.body.get(at + m.len()..at + m.len() + 36))
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// The text as maud writes it into a page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn task_row(app: &TestApp, id: Uuid) -> task::Model {
    task::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn audited_reads(app: &TestApp, task: Uuid) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("task.personal_data_read"))
        .filter(audit_event::Column::Target.eq(format!("task:{task}")))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_queue_lists_own_tasks_soonest_due_first_as_the_api_does() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, token, mut browser) = console_checker(&app, &["identity"], false, &[]).await;
    let mut requests = Vec::new();
    for reference in ["REF-A", "REF-B", "REF-C"] {
        let (request, _) = consented(&app, &key, |b| b["reference"] = json!(reference)).await;
        requests.push(request);
    }
    // Due in the order C, A, B.
    let mut tasks = Vec::new();
    for (request, days) in requests.iter().zip([5, 9, 1]) {
        let task = open_task(&app, *request, "check", Some("identity")).await;
        task::Entity::update_many()
            .col_expr(
                task::Column::DueAt,
                Expr::value(safescreen::db::now() + time::Duration::days(days)),
            )
            .filter(task::Column::Id.eq(task.id))
            .exec(&app.db)
            .await
            .unwrap();
        tasks.push(task.id);
    }
    let queue = browser.get("/console/tasks").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert_eq!(task_links(&queue), vec![tasks[2], tasks[0], tasks[1]]);
    for reference in ["REF-A", "REF-B", "REF-C"] {
        assert!(queue.body.contains(reference));
    }
    assert!(queue.body.contains("Uganda"), "the country by name");
    assert!(queue.body.contains("due in 4 days") || queue.body.contains("due in 5 days"));
    // The same tasks as the API gives the same checker.
    let api = app.get("/v1/tasks?status=assigned", &token).await;
    let mut from_api: Vec<Uuid> = api.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let mut shown = task_links(&queue);
    from_api.sort();
    shown.sort();
    assert_eq!(shown, from_api);
    // Filters are query parameters: a bookmark.
    let overdue = browser.get("/console/tasks?overdue=true").await;
    assert_eq!(overdue.status, 200);
    assert!(task_links(&overdue).is_empty());
    // Bad filters: the page with what is wrong, never a 500.
    for (query, field) in [
        ("view=everything", "f-view"),
        ("colour=red", "f-colour"),
        ("cursor=not-a-cursor", "f-cursor"),
        ("kind=party", "f-kind"),
        ("overdue=maybe", "f-overdue"),
        ("view=all", "f-view"),
        ("view=unassigned", "f-view"),
    ] {
        let page = browser.get(&format!("/console/tasks?{query}")).await;
        assert_eq!(page.status, 422, "{query}");
        assert!(page.body.contains("error-summary"), "{query}");
        assert!(page.body.contains(&format!("href=\"#{field}\"")), "{query}");
    }
    // An admin sees the views across everyone's work.
    let mut admin = Browser::new(&app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let all = admin.get("/console/tasks?view=all").await;
    assert_eq!(all.status, 200);
    assert_eq!(task_links(&all).len(), 3);
}

#[tokio::test]
async fn the_task_page_shows_exactly_the_api_task_view_and_audits_it_the_same_way() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, token, mut browser) =
        console_checker(&app, &["identity", "reference"], false, &[]).await;
    let (request, _) = consented(&app, &key, |_| {}).await;
    let identity = open_task(&app, request, "check", Some("identity")).await;
    let api = app.get(&format!("/v1/tasks/{}", identity.id), &token).await;
    assert_eq!(api.status, 200);
    assert_eq!(audited_reads(&app, identity.id).await, 1);
    let page = browser
        .get(&format!("/console/tasks/{}", identity.id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        audited_reads(&app, identity.id).await,
        2,
        "each view audited"
    );
    for (field, value) in api.body["context"]["subject"].as_object().unwrap() {
        let shown = match value {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(", "),
            other => other.as_str().unwrap().to_owned(),
        };
        assert!(page.body.contains(&escaped(&shown)), "{field}: {shown}");
    }
    assert!(page.body.contains("name=\"outcome\" value=\"no_concerns\""));
    assert!(
        !page.body.contains("value=\"refuse\""),
        "only this kind's outcomes"
    );
    // The reference check needs the referees, not the BSN or the date of birth.
    let done = app
        .post(
            &format!("/v1/tasks/{}/complete", identity.id),
            &token,
            json!({"outcome": "no_concerns"}),
        )
        .await;
    assert_eq!(done.status, 200);
    let reference = open_task(&app, request, "check", Some("reference")).await;
    let page = browser
        .get(&format!("/console/tasks/{}", reference.id))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Marieke Jansen"));
    assert!(
        !page.body.contains("123456782"),
        "no BSN on a reference check"
    );
    assert!(!page.body.contains("1990-04-12"), "no date of birth either");
    assert!(page.body.contains("Timeline"));
    // Another checker without a part in the request sees neither the task nor the case.
    let (_, _, mut stranger) = console_checker(&app, &["identity"], false, &[]).await;
    let reads = audited_reads(&app, reference.id).await;
    for path in [
        format!("/console/tasks/{}", reference.id),
        format!("/console/requests/{request}"),
    ] {
        let page = stranger.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("Page not found"));
    }
    assert_eq!(audited_reads(&app, reference.id).await, reads);
    // The checker with a part sees the case, with every task.
    let case = browser.get(&format!("/console/requests/{request}")).await;
    assert_eq!(case.status, 200, "{}", case.body);
    assert!(task_links(&case).contains(&identity.id));
    assert!(task_links(&case).contains(&reference.id));
}

/// The task, its request, the tasks it opened and the audit trail, as a completion leaves
/// them: what must be the same whether the completion came from a page or from `/v1`.
async fn after_completion(app: &TestApp, task: Uuid) -> Vec<String> {
    let row = task_row(app, task).await;
    let request = screening_request::Entity::find_by_id(row.request_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut opened: Vec<String> = task::Entity::find()
        .filter(task::Column::RequestId.eq(row.request_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| format!("{} {:?} {} {:?}", t.kind, t.check_id, t.status, t.outcome))
        .collect();
    opened.sort();
    let mut actions: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Target.eq(format!("task:{task}")))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a != "task.personal_data_read")
        .collect();
    actions.sort();
    let notes: Option<String> = row.notes_sealed.as_ref().map(|_| "sealed notes".to_owned());
    vec![
        format!(
            "{} {:?} {:?} {:?}",
            row.status, row.outcome, row.completed_by, notes
        ),
        format!("{} {}", request.status, request.version),
        opened.join("; "),
        actions.join(", "),
    ]
}

#[tokio::test]
async fn a_completion_through_the_page_is_the_api_completion_and_bad_forms_change_nothing() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    let (_, token, mut browser) = console_checker(&app, &["identity"], false, &[]).await;
    let (by_page, _) = consented(&app, &key, |_| {}).await;
    let (by_api, _) = consented(&app, &key, |_| {}).await;
    let page_task = open_task(&app, by_page, "check", Some("identity")).await;
    let api_task = open_task(&app, by_api, "check", Some("identity")).await;
    let path = format!("/console/tasks/{}", page_task.id);
    let csrf = browser.get(&path).await.csrf();
    let complete = format!("{path}/complete");
    // Bad forms first: each is the page again, saying what to fix, with what was typed.
    let untouched = task_row(&app, page_task.id).await;
    let long = "x".repeat(10_001);
    for (form, field) in [
        (vec![("outcome", "concur")], "f-outcome"),
        (vec![("outcome", "")], "f-outcome"),
        (
            vec![("outcome", "no_concerns"), ("notes", long.as_str())],
            "f-notes",
        ),
    ] {
        let mut with_csrf = form.clone();
        with_csrf.push(("csrf", &csrf));
        let page = browser.post(&complete, &with_csrf).await;
        assert_eq!(page.status, 422, "{form:?}");
        assert!(page.body.contains("error-summary"), "{form:?}");
        assert!(
            page.body.contains(&format!("href=\"#{field}\"")),
            "{form:?}"
        );
        assert_eq!(task_row(&app, page_task.id).await, untouched, "{form:?}");
    }
    // Through the page and through the API: the same result.
    let done = browser
        .post(
            &complete,
            &[
                ("csrf", &csrf),
                ("outcome", "no_concerns"),
                ("notes", "Passport seen"),
                ("grounds", ""),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=completed"));
    let confirmed = browser.get(done.location()).await;
    assert!(confirmed.body.contains("Task completed"));
    let reply = app
        .post(
            &format!("/v1/tasks/{}/complete", api_task.id),
            &token,
            json!({"outcome": "no_concerns", "notes": "Passport seen"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let page_result = after_completion(&app, page_task.id).await;
    let api_result = after_completion(&app, api_task.id).await;
    assert_eq!(page_result, api_result);
    assert_eq!(
        status_of(&app, by_page).await,
        status_of(&app, by_api).await
    );
    // A stale form (the task was completed meanwhile): explained, nothing changed.
    let before = after_completion(&app, page_task.id).await;
    let stale = browser
        .post(&complete, &[("csrf", &csrf), ("outcome", "concerns")])
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains("That did not happen"));
    assert!(stale.body.contains("already completed"));
    assert_eq!(
        task_row(&app, page_task.id).await.outcome.as_deref(),
        Some("no_concerns")
    );
    assert_eq!(after_completion(&app, page_task.id).await, before);
}

/// Completes every check of the request through the API, the criminal record with concerns
/// (so an assessor decides: a request without concerns clears by itself).
async fn checks_with_concerns(app: &TestApp, token: &str, request: Uuid) {
    for check in ["identity", "criminal_record", "reference"] {
        let task = open_task(app, request, "check", Some(check)).await;
        let outcome = if check == "criminal_record" {
            "concerns"
        } else {
            "no_concerns"
        };
        let done = app
            .post(
                &format!("/v1/tasks/{}/complete", task.id),
                token,
                json!({"outcome": outcome}),
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.text);
    }
}

#[tokio::test]
async fn a_refusal_needs_grounds_and_a_fresh_factor_and_four_eyes_is_explained() {
    let app = crate::sign_in::spawn_staff_mfa_app().await;
    crate::sign_in::enrol(&app, &app.admin_token).await;
    let (_, key) = org_with_key(&app).await;
    let all = ["identity", "criminal_record", "reference", "assessment"];
    // Two assessors with second factors; the first takes the assessment.
    let (first, first_token, mut browser, recovery) = mfa_checker(&app, &all, true).await;
    let (request, _) = consented(&app, &key, |_| {}).await;
    checks_with_concerns(&app, &first_token, request).await;
    let assessment = open_task(&app, request, "assessment", None).await;
    assert_eq!(assessment.assignee_id, Some(first));
    let path = format!("/console/tasks/{}", assessment.id);
    let csrf = browser.get(&path).await.csrf();
    let complete = format!("{path}/complete");
    // No grounds: the summary, the message at the field, the notes kept.
    let page = browser
        .post(
            &complete,
            &[
                ("csrf", &csrf),
                ("outcome", "refuse"),
                ("notes", "Record found"),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("href=\"#f-grounds\""));
    assert!(page.body.contains("a refusal needs its grounds"));
    assert!(page.body.contains("Record found"), "what was typed is kept");
    assert!(page.body.contains("value=\"refuse\" checked"));
    // With grounds but a factor older than the window: asked for a code first.
    crate::sign_in::age_factor(&app, &browser.cookies["__Host-safescreen_session"]).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("outcome", "refuse"),
        ("notes", "Record found"),
        ("grounds", "A conviction for an offence against children"),
    ];
    let asked = browser.post(&complete, &form).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("Confirm it is you"));
    assert_eq!(task_row(&app, assessment.id).await.status, "assigned");
    let wrong = browser
        .post(
            &complete,
            &[form.as_slice(), &[("code", "000000")]].concat(),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(task_row(&app, assessment.id).await.status, "assigned");
    let done = browser
        .post(
            &complete,
            &[form.as_slice(), &[("code", recovery[0].as_str())]].concat(),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        task_row(&app, assessment.id).await.outcome.as_deref(),
        Some("refuse")
    );
    // The four-eyes review: the proposer (a supervisor, so they may open it) is told why they
    // cannot concur, and the form is not offered.
    let review = open_task(&app, request, "four_eyes_review", None).await;
    assert_ne!(review.assignee_id, Some(first));
    let own = browser.get(&format!("/console/tasks/{}", review.id)).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("You proposed this decision"));
    assert!(!own.body.contains("value=\"concur\""));
    let refused = browser
        .post(
            &format!("/console/tasks/{}/complete", review.id),
            &[("csrf", &csrf), ("outcome", "concur")],
        )
        .await;
    assert_eq!(refused.status, 404, "not the assignee: as the API answers");
}

/// A checker with a confirmed authenticator, signed in to the console with it; returns their
/// id, an API token, the browser and their recovery codes.
async fn mfa_checker<'a>(
    app: &'a TestApp,
    authorisations: &[&str],
    supervisor: bool,
) -> (Uuid, String, Browser<'a>, Vec<String>) {
    let (id, email) = app
        .checker_account(authorisations, supervisor, 20, &[])
        .await;
    // Signed in to enrol (all an account without a factor may do), then with the factor.
    let enrolling = app.login(&email, USER_PASSWORD).await;
    let (authenticator, codes) = crate::sign_in::enrol(app, &enrolling).await;
    let mut browser = Browser::new(app);
    // The enrolment used this time step; the next one is accepted (one step of drift).
    let signed_in = browser
        .sign_in(&email, USER_PASSWORD, Some(authenticator.code(1)))
        .await;
    assert_eq!(signed_in.location(), "/console/tasks", "{}", signed_in.body);
    (id, enrolling, browser, codes)
}

#[tokio::test]
async fn a_supervisor_assigns_only_to_an_eligible_checker_and_sees_why_others_are_not() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, _, mut supervisor) = console_checker(&app, &["reference"], true, &[]).await;
    // No one holds `identity` yet: supervision shows the task waiting, and why.
    let (request, _) = consented(&app, &key, |_| {}).await;
    let board = supervisor.get("/console/supervision").await;
    assert_eq!(board.status, 200, "{}", board.body);
    let waiting = open_task(&app, request, "check", Some("identity")).await;
    assert_eq!(waiting.status, "unassigned");
    assert!(task_links(&board).contains(&waiting.id));
    assert!(
        board
            .body
            .contains("1 × Does not hold the authorisation this task needs")
    );
    assert!(board.body.contains("0 of 20"), "the supervisor's own load");
    let (one, _, _) = console_checker(&app, &["identity"], false, &[]).await;
    let (two, _, _) = console_checker(&app, &["identity"], false, &[]).await;
    let (conflicted, _, _) = console_checker(&app, &["identity"], false, &[org]).await;
    let waiting = open_task(&app, request, "check", Some("identity")).await;
    // Routing gave it to one of the two; the supervisor moves it to the other.
    let holder = waiting.assignee_id.expect("assigned by routing");
    assert_ne!(holder, conflicted);
    let eligible = if holder == one { two } else { one };
    let board = supervisor.get("/console/supervision").await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert!(board.body.contains("Every task has a checker."));
    assert!(board.body.contains("1 of 20"), "the holder's load");
    let path = format!("/console/tasks/{}", waiting.id);
    let page = supervisor.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Declared a conflict of interest"));
    assert!(page.body.contains(&format!("value=\"{eligible}\"")));
    assert!(!page.body.contains(&format!("value=\"{conflicted}\"")));
    let csrf = page.csrf();
    let before = task_row(&app, waiting.id).await;
    let conflicted_id = conflicted.to_string();
    let refused = supervisor
        .post(
            &format!("{path}/assign"),
            &[("csrf", &csrf), ("checker_id", &conflicted_id)],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("not eligible"));
    assert_eq!(task_row(&app, waiting.id).await, before);
    for bad in ["", "not-an-id"] {
        let page = supervisor
            .post(
                &format!("{path}/assign"),
                &[("csrf", &csrf), ("checker_id", bad)],
            )
            .await;
        assert_eq!(page.status, 422, "{bad:?}");
        assert_eq!(task_row(&app, waiting.id).await, before);
    }
    let eligible_id = eligible.to_string();
    let done = supervisor
        .post(
            &format!("{path}/assign"),
            &[("csrf", &csrf), ("checker_id", &eligible_id)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(task_row(&app, waiting.id).await.assignee_id, Some(eligible));
    // Without the token: refused, nothing changed.
    let before = crate::authorization::state_of(&app.db).await;
    let forged = supervisor
        .post(&format!("{path}/assign"), &[("checker_id", &eligible_id)])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(crate::authorization::state_of(&app.db).await, before);
}

#[tokio::test]
async fn routing_explains_exactly_the_checkers_it_would_not_choose() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (request, _) = consented(&app, &key, |_| {}).await;
    let task = open_task(&app, request, "check", Some("identity")).await;
    crate::engine::checker(&app, &["identity"], false, 5, &[]).await;
    crate::engine::checker(&app, &["identity"], false, 5, &[org]).await;
    crate::engine::checker(&app, &["reference"], false, 5, &[]).await;
    crate::engine::checker(&app, &["identity"], false, 0, &[]).await;
    let task = task_row(&app, task.id).await;
    let txn = safescreen::db::begin_write(&app.db).await.unwrap();
    let mut candidates: Vec<Uuid> = safescreen::engine::routing::candidates(&txn, &task, org)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let assessed = safescreen::engine::routing::Roster::load(&txn)
        .await
        .unwrap()
        .assess(&txn, &task, org)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    use safescreen::engine::routing::Verdict;
    let mut eligible: Vec<Uuid> = assessed
        .iter()
        .filter(|a| matches!(a.verdict, Verdict::Eligible | Verdict::AtCap))
        .map(|a| a.checker_id)
        .collect();
    candidates.sort();
    eligible.sort();
    assert_eq!(candidates, eligible);
    let verdicts: Vec<Verdict> = assessed.iter().map(|a| a.verdict).collect();
    for expected in [Verdict::Conflict, Verdict::Unauthorised, Verdict::AtCap] {
        assert!(verdicts.contains(&expected), "{expected:?} in {verdicts:?}");
    }
}

#[tokio::test]
async fn an_admin_revokes_a_certificate_from_the_case_after_step_up_once() {
    let app = crate::sign_in::spawn_staff_mfa_app().await;
    let (authenticator, recovery) = crate::sign_in::enrol(&app, &app.admin_token).await;
    let (_, key) = org_with_key(&app).await;
    let (_, checker_token, _, _) =
        mfa_checker(&app, &["identity", "criminal_record", "reference"], false).await;
    let (request, _) = consented(&app, &key, |_| {}).await;
    for check in ["identity", "criminal_record", "reference"] {
        let task = open_task(&app, request, "check", Some(check)).await;
        let done = app
            .post(
                &format!("/v1/tasks/{}/complete", task.id),
                &checker_token,
                json!({"outcome": "no_concerns"}),
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.text);
    }
    assert_eq!(status_of(&app, request).await, "cleared");
    let revoked_at = || async {
        entity::certificate::Entity::find()
            .filter(entity::certificate::Column::RequestId.eq(request))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
    };
    let mut admin = Browser::new(&app);
    let signed_in = admin
        .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, Some(authenticator.code(1)))
        .await;
    assert_eq!(signed_in.location(), "/console/tasks", "{}", signed_in.body);
    let path = format!("/console/requests/{request}");
    let case = admin.get(&path).await;
    assert!(case.body.contains("Revoke certificate"), "{}", case.body);
    let csrf = case.csrf();
    let revoke = format!("{path}/revoke");
    // No reason: the form again, nothing revoked.
    let blank = admin
        .post(&revoke, &[("csrf", &csrf), ("reason", " ")])
        .await;
    assert_eq!(blank.status, 422, "{}", blank.body);
    assert!(blank.body.contains("href=\"#f-reason\""));
    assert_eq!(revoked_at().await, None);
    // A factor older than the window: a code first, then it carries on with the reason.
    crate::sign_in::age_factor(&app, &admin.cookies["__Host-safescreen_session"]).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("reason", "New information from the police"),
    ];
    let asked = admin.post(&revoke, &form).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Confirm it is you"));
    assert!(
        asked.body.contains("New information from the police"),
        "the reason is carried"
    );
    assert_eq!(revoked_at().await, None);
    let done = admin
        .post(
            &revoke,
            &[form.as_slice(), &[("code", recovery[0].as_str())]].concat(),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=revoked"));
    let first = revoked_at().await;
    assert!(first.is_some());
    let shown = admin.get(done.location()).await;
    assert!(shown.body.contains("Certificate revoked"));
    assert!(
        !shown.body.contains("Revoke certificate"),
        "not offered twice"
    );
    // Posted again: explained, the first revocation stands.
    let again = admin.post(&revoke, &form).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already revoked"));
    assert_eq!(revoked_at().await, first);
}
