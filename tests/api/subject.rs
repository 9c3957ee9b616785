//! The subject: their page in Dutch and English with the privacy notice before consent,
//! consent withdrawn (from the page and the API, racing a checker in another process), and
//! the reminders of an unanswered invitation, sent once each by whichever process is first.
use std::{collections::BTreeMap, time::Duration};

use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    engine::{checker, complete, consented, open_task, org_with_key, status_of, unique_email},
    helpers::*,
};
use entity::{mail_outbox, request_event, screening_request, task, timer, webhook_delivery};

/// Each message of a catalogue without placeholders, by id.
fn plain_messages(source: &str) -> BTreeMap<String, String> {
    use fluent_syntax::ast::{Entry, PatternElement};
    let resource = fluent_syntax::parser::parse(source).expect("the catalogue parses");
    resource
        .body
        .iter()
        .filter_map(|entry| match entry {
            Entry::Message(message) => {
                let elements = &message.value.as_ref()?.elements;
                let mut text = String::new();
                for element in elements {
                    match element {
                        PatternElement::TextElement { value } => text.push_str(value),
                        PatternElement::Placeable { .. } => return None,
                    }
                }
                Some((message.id.name.to_owned(), text))
            }
            _ => None,
        })
        .collect()
}

const ENGLISH: &str = include_str!("../../src/i18n/locales/en.ftl");
const DUTCH: &str = include_str!("../../src/i18n/locales/nl.ftl");

/// The page shows no message id, and none of the other language's sentences (a message the
/// two catalogues write differently, long enough not to be a name).
fn assert_only_in(lang: &str, html: &str) {
    let (own, other) = if lang == "nl" {
        (plain_messages(DUTCH), plain_messages(ENGLISH))
    } else {
        (plain_messages(ENGLISH), plain_messages(DUTCH))
    };
    let key = regex::Regex::new(r"\b(?:subject|mail|verify|field|footer)-[a-z0-9_-]+-[a-z0-9_]+")
        .unwrap();
    let text_only = regex::Regex::new(r"<[^>]*>")
        .unwrap()
        .replace_all(html, " ");
    if let Some(found) = key.find(&text_only) {
        panic!("a message id on the {lang} page: {}", found.as_str());
    }
    assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
    for (id, text) in &other {
        if own.get(id).is_some_and(|mine| mine != text) && text.chars().count() >= 12 {
            assert!(
                !html.contains(text.as_str()),
                "the {lang} page shows {id} of the other language: {text}"
            );
        }
    }
}

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Posts a subject page form as the browser does (same origin), without following the
/// redirect: (status, Location).
async fn post_page_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(app.url(path))
        .header("sec-fetch-site", "same-origin")
        .form(form)
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), location)
}

/// An organisation established outside the EU, and its API key.
async fn organisation_abroad(app: &TestApp) -> String {
    let mut body = organisation_body("Kinderen Eerst Uganda");
    body["country"] = json!("UG");
    let reply = app.post("/v1/organisations", &app.admin_token, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let id: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    app.create_api_key(id).await.1
}

#[tokio::test]
async fn the_page_is_dutch_unless_english_is_asked_for_and_informs_before_consent() {
    let app = spawn_app_with(&[
        ("SAFESCREEN_OPERATOR_NAME", "Stichting Veilig Uitzenden"),
        ("SAFESCREEN_OPERATOR_CONTACT", "privacy@veilig.example.nl"),
        ("SAFESCREEN_RETENTION_DAYS", "90"),
    ])
    .await;
    let key = organisation_abroad(&app).await;
    let email = unique_email();
    app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let path = format!("/s/{token}");

    // Dutch by default, and when the browser's language is unknown or unreadable.
    for accept in [None, Some("fr-FR,de;q=0.5"), Some(";;q=x,%%%"), Some("é")] {
        let (status, html) = page(&app, &path, accept).await;
        assert_eq!(status, 200, "{accept:?}");
        assert_only_in("nl", &html);
    }
    let (status, html) = page(&app, &format!("{path}?lang=fr"), None).await;
    assert_eq!(status, 200);
    assert_only_in("nl", &html);

    // The privacy notice before consent, with the configured controller and retention.
    for expected in [
        "Stichting Veilig Uitzenden is verantwoordelijk",
        "privacy@veilig.example.nl",
        "Kinderen Eerst Uganda",
        "buiten de Europese Unie (Oeganda)",
        "uitdrukkelijke toestemming (AVG artikel 49, lid 1, onder a)",
        "tot 90 dagen nadat de screening",
        "Autoriteit Persoonsgegevens",
        "Uw justitiële gegevens",
        "Navraag naar grensoverschrijdend gedrag",
        "alleen de uitkomst",
        "Uw toestemming intrekken",
        // What the button agrees to.
        "Ik geef toestemming voor deze screening en voor het sturen van de uitkomst en mijn naam naar Kinderen Eerst Uganda",
        // Countries and dates in Dutch.
        "Oeganda, vanaf 1 februari 2027",
        "12 april 1990",
        "Utrecht, Nederland",
        "Stichting Kinderhulp (Kenia), januari 2019 – juni 2022",
    ] {
        assert!(html.contains(expected), "the Dutch page lacks {expected:?}");
    }
    assert!(
        html.contains(&format!("href=\"/s/{token}?lang=en\"")),
        "a link to English"
    );
    assert!(
        html.contains(">English</a>"),
        "the link is named in English"
    );

    // English on request, by the address or by the browser.
    for (path, accept) in [
        (format!("{path}?lang=en"), None),
        (path.clone(), Some("en-GB,en;q=0.9")),
        (format!("{path}?lang=xx"), Some("en")),
    ] {
        let (status, html) = page(&app, &path, accept).await;
        assert_eq!(status, 200);
        assert_only_in("en", &html);
        for expected in [
            "Stichting Veilig Uitzenden is responsible",
            "established outside the European Union (Uganda)",
            "Uganda, from 1 February 2027",
            "I consent to this screening and to the outcome and my name being sent to Kinderen Eerst Uganda",
        ] {
            assert!(
                html.contains(expected),
                "the English page lacks {expected:?}"
            );
        }
    }

    // An organisation in the EU: no transfer outside it is claimed.
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let (_, html) = page(&app, &format!("/s/{token}"), None).await;
    assert!(html.contains("naar Kids Abroad (Nederland)"), "{html}");
    assert!(!html.contains("buiten de Europese Unie"));
}

#[tokio::test]
async fn the_subject_e_mails_are_dutch_with_the_english_below() {
    let app = spawn_app_with(&[("SAFESCREEN_OPERATOR_NAME", "Stichting Veilig Uitzenden")]).await;
    let (_, key) = org_with_key(&app).await;
    let email = unique_email();
    app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    let dir = app.database.dir.path().join("mail");
    let message = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
        .find(|text| text.contains(&format!("To: {email}")))
        .unwrap();
    let text = message.replace("=\r\n", "").replace("=\n", "");
    let dutch = text
        .find("Beste Jan Pieter de Vries")
        .expect("a Dutch greeting");
    let english = text
        .find("Dear Jan Pieter de Vries")
        .expect("an English greeting");
    assert!(dutch < english, "Dutch first");
    assert!(text.contains("Stichting Veilig Uitzenden"));
    assert!(
        text.contains(&format!("/s/{token}?lang=3Den")),
        "the English link"
    );
    assert!(text.contains("Content-Transfer-Encoding: quoted-printable"));
}

#[tokio::test]
async fn consent_withdrawn_from_the_page_ends_the_request_and_its_open_work() {
    let app = spawn_app().await;
    let (org, key) = crate::engine::org_with_webhook(&app, "*").await;
    let (_, checker_token) = checker(&app, &["identity"], false, 10, &[]).await;
    let (id, token) = consented(&app, &key, |_| {}).await;
    let assigned = open_task(&app, id, "check", Some("identity")).await;
    assert!(assigned.assignee_id.is_some());

    // While in progress the page and the API offer it.
    let view = app
        .call(Method::GET, &format!("/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(view.body["actions"], json!(["withdraw_consent"]));
    let (_, html) = page(&app, &format!("/s/{token}"), None).await;
    assert!(html.contains(&format!("/s/{token}/withdraw-consent?lang=nl")));
    let (status, html) = page(&app, &format!("/s/{token}/withdraw-consent"), None).await;
    assert_eq!(status, 200);
    assert!(html.contains("Ja, trek mijn toestemming in"));
    assert!(
        html.contains("er komt geen besluit"),
        "the form says what happens"
    );
    assert_eq!(
        status_of(&app, id).await,
        "in_progress",
        "the page alone changes nothing"
    );

    let (status, location) =
        post_page_form(&app, &format!("/s/{token}/withdraw-consent?lang=nl"), &[]).await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("/s/{token}?lang=nl"));
    // Posted twice (a double click): the same page, one effect.
    let (status, _) =
        post_page_form(&app, &format!("/s/{token}/withdraw-consent?lang=nl"), &[]).await;
    assert_eq!(status, 303);
    app.subject_posts(&token, "withdraw-consent", json!({}))
        .await
        .assert_problem(409);

    let row = screening_request::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "declined");
    assert_eq!(row.decline_reason.as_deref(), Some("consent_withdrawn"));
    assert!(row.ended_at.is_some(), "retention starts");
    let open_tasks = task::Entity::find()
        .filter(task::Column::RequestId.eq(id))
        .filter(task::Column::Status.is_in(["assigned", "unassigned"]))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(open_tasks, 0, "open tasks are cancelled");
    let queue = app.get("/v1/tasks?status=assigned", &checker_token).await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    assert!(
        !queue.text.contains(&assigned.id.to_string()),
        "the checker's queue drops it"
    );
    let pending_timers = timer::Entity::find()
        .filter(timer::Column::RequestId.eq(id))
        .filter(timer::Column::FiredAt.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(pending_timers, 0, "timers are cancelled");
    let confirmations = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::RequestId.eq(id))
        .filter(mail_outbox::Column::Kind.eq("consent_withdrawn"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(confirmations, 1, "one confirmation e-mail");
    let events: Vec<String> = request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        events.iter().filter(|k| *k == "consent_withdrawn").count(),
        1
    );

    // The organisation: declined, the reason's category and nothing else.
    let view = app.get(&format!("/v1/screening-requests/{id}"), &key).await;
    assert_eq!(view.body["status"], "declined");
    assert_eq!(view.body["decline_reason"], "consent_withdrawn");
    let declined: Vec<Value> = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EventType.eq("screening_request.declined"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.payload)
        .collect();
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert_eq!(
        declined[0]["data"],
        json!({"id": id, "status": "declined", "decline_reason": "consent_withdrawn"})
    );
    let _ = org;

    // The page says so, and offers nothing more.
    let (_, html) = page(&app, &format!("/s/{token}"), None).await;
    assert!(html.contains("U hebt uw toestemming ingetrokken"));
    assert!(!html.contains("withdraw-consent"));
    let (status, _) = page(&app, &format!("/s/{token}/withdraw-consent"), None).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn consent_is_withdrawn_only_while_in_progress_and_undecided() {
    let app = spawn_app().await;
    let (_, key) = org_with_key(&app).await;
    // Consent cannot be withdrawn; nor can the organisation have the invitation resent, which
    // only an invitation awaiting consent can be.
    let refuse = |token: String, request: Option<Uuid>| {
        let (app, key) = (&app, &key);
        async move {
            if let Some(request) = request {
                app.post(
                    &format!("/v1/screening-requests/{request}/resend-invitation"),
                    key,
                    json!({}),
                )
                .await
                .assert_problem(409);
            }
            app.subject_posts(&token, "withdraw-consent", json!({}))
                .await
                .assert_problem(409);
            let (status, _) =
                post_page_form(app, &format!("/s/{token}/withdraw-consent"), &[]).await;
            assert_eq!(status, 409);
            let (status, _) = page(app, &format!("/s/{token}/withdraw-consent"), None).await;
            assert_eq!(status, 409);
        }
    };
    // Awaiting consent: there is nothing to withdraw (decline instead).
    let email = unique_email();
    let waiting = app.submit(&key, &email).await;
    refuse(app.invitation_token(&email).await, None).await;
    assert_eq!(status_of(&app, waiting).await, "awaiting_consent");
    // Declined.
    let email = unique_email();
    let declined = app.submit(&key, &email).await;
    let token = app.invitation_token(&email).await;
    assert_eq!(
        app.subject_posts(&token, "decline", json!({"reason": "other"}))
            .await
            .status,
        200
    );
    refuse(token, Some(declined)).await;
    // Withdrawn by the organisation.
    let (id, token) = consented(&app, &key, |_| {}).await;
    let withdrawn = app
        .post(
            &format!("/v1/screening-requests/{id}/withdraw"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    refuse(token, Some(id)).await;
    // Lapsed.
    let profile = crate::screening::profile_with_consent_window(&app, "PT1S").await;
    let email = unique_email();
    let mut body = submission(&email);
    body["profile"] = json!(profile);
    let lapsing: Uuid = app.post("/v1/screening-requests", &key, body).await.body["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let token = app.invitation_token(&email).await;
    for _ in 0..100 {
        if status_of(&app, lapsing).await == "lapsed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&app, lapsing).await, "lapsed");
    refuse(token, Some(lapsing)).await;
    // Decided: cleared (the one identity check of a fast workflow, no concerns).
    let (_, checker_token) = checker(&app, &["identity"], false, 10, &[]).await;
    let fast = crate::screening::profile_with_consent_window(&app, "P1D").await;
    let (id, token) = consented(&app, &key, |body| body["profile"] = json!(fast)).await;
    let task = open_task(&app, id, "check", Some("identity")).await;
    let done = complete(
        &app,
        &checker_token,
        task.id,
        json!({"outcome": "no_concerns"}),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(status_of(&app, id).await, "cleared");
    refuse(token.clone(), Some(id)).await;
    // Refused, and under objection review: the request's row set to each, as the engine
    // would leave it (the transition table's test covers every pair).
    for status in ["refused", "objection_review"] {
        screening_request::Entity::update_many()
            .col_expr(
                screening_request::Column::Status,
                sea_orm::sea_query::Expr::value(status),
            )
            .filter(screening_request::Column::Id.eq(id))
            .exec(&app.db)
            .await
            .unwrap();
        refuse(token.clone(), Some(id)).await;
    }
}

/// A workflow of two independent checks (identity, reference), auto-clearing, and a profile.
async fn two_check_profile(app: &TestApp) -> String {
    let checks = json!([{"id": "identity", "authorisation": "identity", "sla": "P1D"},
                        {"id": "reference", "authorisation": "reference", "sla": "P1D"}]);
    crate::screening::profile_with_checks(app, "P1D", checks).await
}

#[tokio::test]
async fn a_withdrawal_racing_a_completion_in_another_process_never_leaves_a_decision_after_it() {
    let first = spawn_app().await;
    let second = spawn_second_app(&first).await;
    let (_, key) = org_with_key(&first).await;
    let profile = two_check_profile(&first).await;
    let (_, checker_token) = checker(&first, &["identity", "reference"], false, 50, &[]).await;
    let mut seen = Vec::new();
    for round in 0..6 {
        let (id, token) = consented(&first, &key, |body| body["profile"] = json!(profile)).await;
        // Even rounds race the first check (no decision follows it); odd rounds race the last
        // one, whose completion clears the request.
        if round % 2 == 1 {
            let identity = open_task(&first, id, "check", Some("identity")).await;
            let done = complete(
                &first,
                &checker_token,
                identity.id,
                json!({"outcome": "no_concerns"}),
            )
            .await;
            assert_eq!(done.status, 200, "{}", done.text);
        }
        let racing = open_task(&first, id, "check", Some("reference")).await;
        let (withdrawal, completion) = tokio::join!(
            first.subject_posts(&token, "withdraw-consent", json!({})),
            complete(
                &second,
                &checker_token,
                racing.id,
                json!({"outcome": "no_concerns"})
            ),
        );
        let (withdrawal, completion) = (withdrawal.status.as_u16(), completion.status.as_u16());
        let status = status_of(&first, id).await;
        let decision = entity::decision::Entity::find_by_id(id)
            .one(&first.db)
            .await
            .unwrap();
        match (round % 2, withdrawal, completion) {
            // The check first, then the withdrawal still ends the request; or the withdrawal
            // first, and the check finds its task cancelled.
            (0, 200, 200) | (0, 200, 409) => {
                assert_eq!(status, "declined");
                assert!(decision.is_none(), "no decision after a withdrawal");
            }
            // The last check first decides, and the withdrawal comes too late.
            (1, 409, 200) => {
                assert_eq!(status, "cleared");
                assert!(decision.is_some());
            }
            (1, 200, 409) => {
                assert_eq!(status, "declined");
                assert!(decision.is_none(), "no decision after a withdrawal");
            }
            other => panic!("round {round}: withdrawal and completion answered {other:?}"),
        }
        seen.push((withdrawal, completion));
    }
    eprintln!("withdrawal, completion: {seen:?}");
}

#[tokio::test]
async fn reminders_go_once_each_at_their_time_and_never_after_an_answer() {
    let first = spawn_app_with(&[("SAFESCREEN_CONSENT_REMINDERS", "PT2S,PT4S")]).await;
    // A second process races the first one for every timer.
    let second = spawn_second_app(&first).await;
    let (_, key) = org_with_key(&first).await;
    let profile = crate::screening::profile_with_consent_window(&first, "PT6S").await;
    let submit = |email: String| {
        let (first, key, profile) = (&first, &key, &profile);
        async move {
            let mut body = submission(&email);
            body["profile"] = json!(profile);
            let reply = first.post("/v1/screening-requests", key, body).await;
            assert_eq!(reply.status, 201, "{}", reply.text);
            let id: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
            (id, first.invitation_token(&email).await)
        }
    };
    let silent_email = unique_email();
    let (silent, silent_token) = submit(silent_email.clone()).await;
    let (answered, token) = submit(unique_email()).await;
    assert_eq!(first.consent(&token).await.status, 200);
    let (declined, token) = submit(unique_email()).await;
    let reply = first
        .subject_posts(&token, "decline", json!({"reason": "not_consenting"}))
        .await;
    assert_eq!(reply.status, 200);
    let (withdrawn, _) = submit(unique_email()).await;
    let reply = first
        .post(
            &format!("/v1/screening-requests/{withdrawn}/withdraw"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 200);

    // Past the lapse (6 s after submission) and a little more for the workers.
    for _ in 0..160 {
        if status_of(&first, silent).await == "lapsed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&first, silent).await, "lapsed");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let reminders = |request: Uuid| {
        let db = first.db.clone();
        async move {
            mail_outbox::Entity::find()
                .filter(mail_outbox::Column::RequestId.eq(request))
                .filter(mail_outbox::Column::Kind.eq("consent_reminder"))
                .all(&db)
                .await
                .unwrap()
        }
    };
    let sent = reminders(silent).await;
    assert_eq!(sent.len(), 2, "two reminders, once each");
    let created = screening_request::Entity::find_by_id(silent)
        .one(&first.db)
        .await
        .unwrap()
        .unwrap()
        .created_at;
    let mut after: Vec<f64> = sent
        .iter()
        .map(|m| (m.created_at - created).as_seconds_f64())
        .collect();
    after.sort_by(f64::total_cmp);
    // 4 s and 2 s before the 6 s window ends: 2 s and 4 s after submission.
    assert!((2.0..3.5).contains(&after[0]), "{after:?}");
    assert!((4.0..5.5).contains(&after[1]), "{after:?}");
    for request in [answered, declined, withdrawn] {
        assert!(
            reminders(request).await.is_empty(),
            "no reminder after an answer"
        );
    }
    // The reminder carries the subject's own link, in Dutch with the English below.
    let dir = first.database.dir.path().join("mail");
    let mut texts = Vec::new();
    for _ in 0..100 {
        texts = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
            .map(|text| text.replace("=\r\n", "").replace("=\n", ""))
            .filter(|text| {
                text.contains(&format!("To: {silent_email}"))
                    && text.contains("U hebt nog niet geantwoord")
            })
            .collect();
        if texts.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(texts.len(), 2);
    assert!(texts.iter().all(|t| {
        t.contains(&format!("/s/{silent_token}")) && t.contains("You have not yet answered")
    }));
    drop(second);
}

#[tokio::test]
async fn a_reminder_schedule_that_cannot_work_is_refused_at_start() {
    let database = TestDatabase::new().await;
    let mut vars = test_vars(&database);
    for (schedule, expected) in [
        ("P7X", "SAFESCREEN_CONSENT_REMINDERS"),
        ("seven days", "SAFESCREEN_CONSENT_REMINDERS"),
        ("P1M", "SAFESCREEN_CONSENT_REMINDERS"),
    ] {
        vars.insert("SAFESCREEN_CONSENT_REMINDERS".into(), schedule.into());
        let error = safescreen::config::Config::from_vars(vars.clone())
            .err()
            .unwrap_or_else(|| panic!("{schedule} accepted"));
        assert!(error.to_string().contains(expected), "{error}");
    }
    // Longer than any workflow's consent window (the seeded ones: 14 days).
    vars.insert("SAFESCREEN_CONSENT_REMINDERS".into(), "P30D,P2D".into());
    let config = safescreen::config::Config::from_vars(vars.clone()).unwrap();
    let error = safescreen::bootstrap::open(config)
        .await
        .err()
        .expect("a reminder longer than the consent window is refused");
    let message = error.to_string();
    assert!(
        message.contains("SAFESCREEN_CONSENT_REMINDERS") && message.contains("P30D"),
        "{message}"
    );
    vars.insert("SAFESCREEN_CONSENT_REMINDERS".into(), "none".into());
    let config = safescreen::config::Config::from_vars(vars).unwrap();
    assert!(config.consent_reminders.is_empty());
}
