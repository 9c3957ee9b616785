//! The organisation portal and `/verify` over HTTP, as a browser drives them: the form, the
//! upload and `/v1` store the same request; bad input is the page again saying what to fix,
//! with nothing created; another organisation's request is the 404 page; a requester cannot
//! change the settings; the invitation is resent with the same link once an hour; `/verify`
//! answers in plain words and sets no cookie.
use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use reqwest::{StatusCode, header};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    certificates::{cleared, encode, parts, quick, sign_with},
    engine::{org_with_key, unique_email},
    helpers::*,
    pages::{Browser, Page},
};
use entity::{audit_event, mail_outbox, screening_request, webhook_delivery};

/// An organisation member signed in to the portal: (user id, API session, browser).
async fn portal_member<'a>(
    app: &'a TestApp,
    organisation: Uuid,
    role: &str,
) -> (Uuid, String, Browser<'a>) {
    let (id, email) = app.member_account(organisation, role).await;
    let token = app.login(&email, USER_PASSWORD).await;
    let mut browser = Browser::new(app);
    let signed_in = browser.sign_in(&email, USER_PASSWORD, None).await;
    assert_eq!(
        signed_in.location(),
        "/org/requests",
        "organisation members land at their requests"
    );
    (id, token, browser)
}

/// The API's body as the form's flat fields (the nationalities repeated).
pub fn form_fields(body: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    let name = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&name, inner, out);
                }
            }
            Value::Array(items) if prefix == "subject.nationalities" => {
                for item in items {
                    out.push((
                        prefix.to_owned(),
                        item.as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), item, out);
                }
            }
            Value::String(text) => out.push((prefix.to_owned(), text.clone())),
            Value::Null => {}
            other => out.push((prefix.to_owned(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", body, &mut out);
    out
}

/// A CSV file of these bodies, one per row, its columns the union of their fields.
fn csv_of(bodies: &[Value]) -> Vec<u8> {
    let rows: Vec<BTreeMap<String, String>> = bodies
        .iter()
        .map(|b| {
            let mut row = BTreeMap::new();
            for (name, value) in form_fields(b) {
                row.entry(name)
                    .and_modify(|v: &mut String| {
                        v.push(';');
                        v.push_str(&value)
                    })
                    .or_insert(value);
            }
            row
        })
        .collect();
    let mut columns: Vec<String> = rows.iter().flat_map(|r| r.keys().cloned()).collect();
    columns.sort();
    columns.dedup();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns).unwrap();
    for row in &rows {
        writer
            .write_record(
                columns
                    .iter()
                    .map(|c| row.get(c).map_or("", String::as_str)),
            )
            .unwrap();
    }
    writer.into_inner().unwrap()
}

async fn submit_form(browser: &mut Browser<'_>, body: &Value, key: &str) -> Page {
    let form = browser.get("/org/requests/new").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let mut pairs = form_fields(body);
    pairs.push(("csrf".into(), csrf));
    pairs.push(("idempotency_key".into(), key.into()));
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post("/org/requests/new", &borrowed).await
}

async fn upload(browser: &mut Browser<'_>, file: Vec<u8>) -> Page {
    let page = browser.get("/org/requests/upload").await;
    let csrf = page.csrf();
    browser
        .post_file("/org/requests/upload", &[("csrf", &csrf)], "file", file)
        .await
}

/// The check page's hidden file, submitted.
async fn submit_checked(browser: &mut Browser<'_>, check: &Page) -> Page {
    let at = check
        .body
        .find("name=\"file\" value=\"")
        .expect("a file field")
        + 19;
    let file = check.body[at..].split('"').next().unwrap().to_owned();
    let csrf = check.csrf();
    browser
        .post(
            "/org/requests/upload/submit",
            &[("csrf", &csrf), ("file", &file)],
        )
        .await
}

async fn request_count(app: &TestApp) -> u64 {
    screening_request::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

fn request_id_of(page: &Page) -> Uuid {
    let location = page.location();
    let id = location
        .strip_prefix("/org/requests/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("not a request page: {location} ({})", page.status));
    id.parse().unwrap()
}

/// The requests a page links to.
fn request_links(page: &Page) -> Vec<Uuid> {
    page.body
        .match_indices("href=\"/org/requests/")
        .filter_map(|(at, m)| page.body.get(at + m.len()..at + m.len() + 36))
        .filter_map(|id| id.parse().ok())
        .collect()
}

#[tokio::test]
async fn the_form_the_upload_and_the_api_store_the_same_request() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, org_admin, mut browser) = portal_member(&app, org, "org_admin").await;
    let endpoint = app
        .create_webhook_endpoint(&org_admin, "https://hooks.example.org/hook", &["*"])
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.text);
    let body = submission("same@example.org");

    let by_api = app.submit(&key, "same@example.org").await;
    let by_form = request_id_of(&submit_form(&mut browser, &body, "form-1").await);
    let check = upload(&mut browser, csv_of(std::slice::from_ref(&body))).await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert!(
        check.body.contains("1 of 1 rows are ready"),
        "{}",
        check.body
    );
    let done = submit_checked(&mut browser, &check).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let by_upload = request_links(&done)[0];
    assert_eq!(request_count(&app).await, 3);

    let data_key = &app.data_key;
    let mut shown = Vec::new();
    for id in [by_api, by_form, by_upload] {
        let row = screening_request::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let subject: Value = data_key
            .open_json(id, row.subject_sealed.as_deref().unwrap())
            .await
            .expect("sealed under the request's id");
        let mail = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::RequestId.eq(id))
            .all(&app.db)
            .await
            .unwrap();
        let audit: Vec<(String, Value)> = audit_event::Entity::find()
            .filter(audit_event::Column::Target.eq(format!("screening_request:{id}")))
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.details))
            .collect();
        let events: Vec<String> = webhook_delivery::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.payload["data"]["id"] == json!(id))
            .map(|d| d.event_type)
            .collect();
        shown.push((
            (
                row.organisation_id,
                row.profile_code,
                row.profile_version,
                row.workflow_key,
                row.reference,
                row.position_title,
                row.position_description,
                row.role,
                row.deployment_country,
                row.deployment_start_date,
                row.status,
            ),
            subject,
            mail.iter().map(|m| m.kind.clone()).collect::<Vec<_>>(),
            audit,
            events,
        ));
    }
    assert_eq!(shown[0], shown[1], "the form stores what the API stores");
    assert_eq!(shown[0], shown[2], "the upload stores what the API stores");
    assert_eq!(shown[0].2, ["invitation"]);
    assert_eq!(shown[0].4, ["screening_request.created"]);

    // The form sent twice with its key, and the file submitted again: nothing new.
    let again = submit_form(&mut browser, &body, "form-1").await;
    assert_eq!(request_id_of(&again), by_form);
    let again = upload(&mut browser, csv_of(std::slice::from_ref(&body))).await;
    let done = submit_checked(&mut browser, &again).await;
    assert!(
        done.body
            .contains("Nothing new: every row was submitted before."),
        "{}",
        done.body
    );
    assert_eq!(request_count(&app).await, 3);
}

#[tokio::test]
async fn every_bad_value_of_the_submission_is_the_form_again_naming_the_field() {
    let app = spawn_app().await;
    let (org, _) = org_with_key(&app).await;
    let (_, _, mut browser) = portal_member(&app, org, "org_requester").await;
    let base = submission("jan@example.org");
    let with = |path: &[&str], value: Value| {
        let mut body = base.clone();
        let mut target = &mut body;
        for part in &path[..path.len() - 1] {
            target = &mut target[*part];
        }
        target[path[path.len() - 1]] = value;
        body
    };
    let employer_backwards = json!([{"organisation": "X", "country": "KE", "from": "2022-06", "to": "2019-01", "contact_email": "hr@example.org"}]);
    let cases = [
        (
            with(&["deployment", "country"], json!("DE")),
            "deployment.country",
            "is in the EU",
        ),
        (
            with(&["deployment", "country"], json!("XX")),
            "deployment.country",
            "XX",
        ),
        (
            with(&["deployment", "start_date"], json!("2027-02-30")),
            "deployment.start_date",
            "",
        ),
        (
            with(&["subject", "date_of_birth"], json!("2999-01-01")),
            "subject.date_of_birth",
            "must be in the past",
        ),
        (
            with(&["subject", "date_of_birth"], json!("1990-02-31")),
            "subject.date_of_birth",
            "",
        ),
        (
            with(&["subject", "date_of_birth"], json!("2015-01-01")),
            "subject.date_of_birth",
            "years old",
        ),
        (
            with(&["subject", "bsn"], json!("123456789")),
            "subject.bsn",
            "",
        ),
        (
            with(&["subject", "email"], json!("jan.example.org")),
            "subject.email",
            "",
        ),
        (
            with(&["subject", "family_name"], json!("x".repeat(5000))),
            "subject.family_name",
            "",
        ),
        (
            with(&["subject", "given_names"], json!("")),
            "subject.given_names",
            "",
        ),
        (
            with(&["subject", "nationalities"], json!([])),
            "subject.nationalities",
            "",
        ),
        (
            with(&["profile"], json!("no-such-profile")),
            "profile",
            "no screening profile",
        ),
        (
            with(&["position", "role"], json!("director")),
            "position.role",
            "",
        ),
        (
            with(&["subject", "previous_employers"], employer_backwards),
            "subject.previous_employers[0].to",
            "before",
        ),
    ];
    for (i, (body, field, message)) in cases.iter().enumerate() {
        let page = submit_form(&mut browser, body, &format!("bad-{i}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let id = format!("href=\"#f-{}\"", field.replace(['.', '[', ']'], "-"));
        assert!(page.body.contains("There is a problem"), "{field}");
        assert!(
            page.body.contains(&id),
            "{field}: no link {id} in the summary"
        );
        assert!(page.body.contains(message), "{field}: `{message}` not said");
        // The values are kept.
        assert!(page.body.contains("value=\"HR-2026-0042\""), "{field}");
    }
    // Both errors of the browser scenario at once.
    let both = with(&["deployment", "country"], json!("FR"));
    let mut both = both;
    both["subject"]["date_of_birth"] = json!("2999-01-01");
    let page = submit_form(&mut browser, &both, "bad-both").await;
    assert!(page.body.contains("href=\"#f-deployment-country\""));
    assert!(page.body.contains("href=\"#f-subject-date_of_birth\""));
    assert_eq!(request_count(&app).await, 0, "nothing was created");

    // "Add another" shows one more row and checks nothing.
    let form = browser.get("/org/requests/new").await;
    assert!(
        form.body
            .contains("subject.previous_employers[2].organisation")
    );
    assert!(
        !form
            .body
            .contains("subject.previous_employers[3].organisation")
    );
    let csrf = form.csrf();
    let more = browser
        .post(
            "/org/requests/new",
            &[
                ("csrf", &csrf),
                ("reference", "kept"),
                ("employer_rows", "3"),
                ("add", "employer"),
            ],
        )
        .await;
    assert_eq!(more.status, 200);
    assert!(
        more.body
            .contains("subject.previous_employers[3].organisation")
    );
    assert!(!more.body.contains("There is a problem"));
    assert!(more.body.contains("value=\"kept\""));
    assert_eq!(request_count(&app).await, 0);
}

#[tokio::test]
async fn bad_files_are_said_plainly_and_create_nothing() {
    let app = spawn_app().await;
    let (org, _) = org_with_key(&app).await;
    let (_, _, mut browser) = portal_member(&app, org, "org_requester").await;
    let good = submission(&unique_email());
    let good_file = csv_of(std::slice::from_ref(&good));
    let text = String::from_utf8(good_file.clone()).unwrap();
    let (header_line, row) = text.split_once('\n').unwrap();

    let many: Vec<Value> = (0..501)
        .map(|i| {
            let mut b = submission(&format!("s{i}@example.org"));
            b["reference"] = json!(format!("R-{i}"));
            b
        })
        .collect();
    let latin1: Vec<u8> = text
        .replace("de Vries", "Müller")
        .chars()
        .map(|c| c as u32 as u8)
        .collect();
    let missing_column = text.replacen("subject.email,", "", 1);
    let extra_column = format!("grounds,{header_line}\nx,{row}");
    let mut binary = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
    binary.extend([0u8; 64]);
    for (what, file, said) in [
        ("501 rows", csv_of(&many), "more than 500 rows"),
        ("an empty file", Vec::new(), "The file is empty"),
        ("a binary file", binary, "This is not a text file"),
        ("Latin-1 text", latin1, "not in UTF-8"),
        (
            "a missing column",
            missing_column
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        l.to_owned()
                    } else {
                        // Drop the same cell: the e-mail address.
                        l.replace(
                            &format!("{},", good["subject"]["email"].as_str().unwrap()),
                            "",
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes(),
            "Missing columns: subject.email",
        ),
        (
            "an extra column",
            extra_column.into_bytes(),
            "Unknown columns: grounds",
        ),
        (
            "a row of another length",
            format!("{header_line}\na,b\n").into_bytes(),
            "Row 2 has 2 cells",
        ),
    ] {
        let page = upload(&mut browser, file).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(
            page.body.contains(said),
            "{what}: `{said}` not said: {}",
            page.body
        );
        assert!(page.body.contains("There is a problem"), "{what}");
    }

    // Rows with errors are named by row and column; the good ones are ready.
    let mut formula = submission(&unique_email());
    formula["subject"]["family_name"] = json!("=HYPERLINK(\"https://evil.example\")");
    let mut newline = submission(&unique_email());
    newline["subject"]["given_names"] = json!("Jan\nPieter");
    let mut at = submission(&unique_email());
    at["reference"] = json!("@SUM(A1)");
    let mut named_country = submission(&unique_email());
    named_country["deployment"]["country"] = json!("Uganda");
    let file = csv_of(&[good.clone(), formula, newline, at, named_country]);
    let check = upload(&mut browser, file).await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert!(
        check.body.contains("2 of 5 rows are ready"),
        "{}",
        check.body
    );
    assert!(
        check
            .body
            .contains("subject.family_name: begins with =, +, - or @")
    );
    assert!(check.body.contains("reference: begins with =, +, - or @"));
    assert!(
        check.body.contains("subject.given_names: "),
        "the quoted newline is refused"
    );
    assert!(!check.body.contains("evil.example\"") || check.body.contains("&quot;"));
    assert_eq!(request_count(&app).await, 0, "checking submits nothing");
    let done = submit_checked(&mut browser, &check).await;
    assert!(done.body.contains("2 requests submitted."), "{}", done.body);
    assert!(
        done.body
            .contains("subject.family_name: begins with =, +, - or @"),
        "the rows not submitted say why"
    );
    assert_eq!(request_count(&app).await, 2);
    let uganda = screening_request::Entity::find()
        .filter(screening_request::Column::DeploymentCountry.eq("UG"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(uganda, 2, "a country by name is its code");

    // The template's columns are the form's fields.
    let template = browser.get("/org/requests/upload/template.csv").await;
    assert_eq!(template.status, 200);
    let columns: Vec<&str> = template.body.trim().split(',').collect();
    assert!(columns.contains(&"subject.nationalities"));
    assert!(columns.contains(&"subject.referees[2].relationship"));
    let form = browser.get("/org/requests/new").await;
    for column in columns {
        assert!(
            form.body.contains(&format!("name=\"{column}\"")),
            "{column} is not a field of the form"
        );
    }
}

#[tokio::test]
async fn the_export_is_rfc_4180_with_formula_cells_made_inert() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, _, mut browser) = portal_member(&app, org, "org_requester").await;
    let mut body = submission(&unique_email());
    body["reference"] = json!("=cmd|' /C calc'!A0");
    body["position"]["title"] = json!("Teacher, \"senior\"");
    let reply = app.post("/v1/screening-requests", &key, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    app.submit(&key, &unique_email()).await;
    let export = browser.get("/org/requests.csv").await;
    assert_eq!(export.status, 200);
    assert!(
        export.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv; charset=utf-8")
    );
    let mut reader = csv::Reader::from_reader(export.body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let reference = headers.iter().position(|h| h == "reference").unwrap();
    let title = headers.iter().position(|h| h == "position_title").unwrap();
    assert_eq!(&rows[1][reference], "'=cmd|' /C calc'!A0");
    assert_eq!(&rows[1][title], "Teacher, \"senior\"");
    // Filtered as the list is.
    let filtered = browser.get("/org/requests.csv?status=cleared").await;
    assert_eq!(filtered.body.lines().count(), 1, "the header only");
    let bad = browser.get("/org/requests.csv?status=assessment").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn another_organisations_request_is_404_and_a_requester_cannot_change_settings() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (other, _) = org_with_key(&app).await;
    let request = app.submit(&key, &unique_email()).await;
    let (_, _, mut stranger) = portal_member(&app, other, "org_admin").await;
    for path in [
        format!("/org/requests/{request}"),
        format!("/org/requests/{request}/withdraw"),
        format!("/org/requests/{request}/certificate"),
        format!("/org/requests/{request}/certificate.jws"),
    ] {
        let page = stranger.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("<h1>"), "{path}: the 404 page");
    }
    let csrf = stranger.get("/org/requests").await.csrf();
    let page = stranger
        .post(
            &format!("/org/requests/{request}/withdraw"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(
        crate::engine::status_of(&app, request).await,
        "awaiting_consent"
    );

    let (_, _, mut requester) = portal_member(&app, org, "org_requester").await;
    let list = requester.get("/org/requests").await;
    assert!(
        !list.body.contains("href=\"/org/users\""),
        "no settings in the navigation"
    );
    let csrf = list.csrf();
    let users_before = entity::user::Entity::find().count(&app.db).await.unwrap();
    let keys_before = entity::api_key::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    for (path, form) in [
        (
            "/org/users",
            vec![
                ("name", "Eve"),
                ("email", "eve@example.org"),
                ("role", "org_admin"),
            ],
        ),
        ("/org/api-keys", vec![("name", "mine")]),
        (
            "/org/webhooks",
            vec![("url", "https://hooks.example.org/x"), ("events", "*")],
        ),
    ] {
        let page = requester.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {path}");
        let mut form = form;
        form.push(("csrf", &csrf));
        let page = requester.post(path, &form).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    assert_eq!(
        entity::user::Entity::find().count(&app.db).await.unwrap(),
        users_before
    );
    assert_eq!(
        entity::api_key::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        keys_before
    );
    assert_eq!(
        entity::webhook_endpoint::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_invitation_is_resent_with_the_same_link_once_an_hour() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, org_admin, mut browser) = portal_member(&app, org, "org_admin").await;
    let subject = unique_email();
    let request = app.submit(&key, &subject).await;
    let link = app.invitation_token(&subject).await;

    let page = browser.get(&format!("/org/requests/{request}")).await;
    assert!(page.body.contains("Send the invitation again"));
    let csrf = page.csrf();
    let resent = browser
        .post(
            &format!("/org/requests/{request}/resend-invitation"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        resent.location(),
        format!("/org/requests/{request}?done=resent")
    );
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::RequestId.eq(request))
        .order_by_asc(mail_outbox::Column::CreatedAt)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(mails.len(), 2, "a second invitation e-mail");
    let data_key = &app.data_key;
    if let Some(sealed) = mails[1].message_sealed.as_deref() {
        let message: Value = data_key.open_json(mails[1].id, sealed).await.unwrap();
        assert_eq!(message["to"], json!(subject), "the same address");
        assert!(
            message["body"]
                .as_str()
                .unwrap()
                .contains(&format!("/s/{link}")),
            "the same link"
        );
    }
    // Again within the hour: the page says so, and so does the API.
    let again = browser
        .post(
            &format!("/org/requests/{request}/resend-invitation"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(again.headers.contains_key(header::RETRY_AFTER));
    assert!(again.body.contains("less than an hour ago"));
    let api = app
        .post(
            &format!("/v1/screening-requests/{request}/resend-invitation"),
            &org_admin,
            json!({}),
        )
        .await;
    api.assert_problem(429);
    assert_eq!(
        mail_outbox::Entity::find()
            .filter(mail_outbox::Column::RequestId.eq(request))
            .count(&app.db)
            .await
            .unwrap(),
        2,
        "nothing more was sent"
    );
    // An hour later it may be resent again; after consent it cannot.
    screening_request::Entity::update_many()
        .col_expr(
            screening_request::Column::InvitationResentAt,
            sea_orm::sea_query::Expr::value(safescreen::db::now() - time::Duration::minutes(61)),
        )
        .filter(screening_request::Column::Id.eq(request))
        .exec(&app.db)
        .await
        .unwrap();
    let later = app
        .post(
            &format!("/v1/screening-requests/{request}/resend-invitation"),
            &org_admin,
            json!({}),
        )
        .await;
    assert_eq!(later.status, 202, "{}", later.text);
    assert_eq!(app.consent(&link).await.status, 200);
    let consented = app
        .post(
            &format!("/v1/screening-requests/{request}/resend-invitation"),
            &org_admin,
            json!({}),
        )
        .await;
    consented.assert_problem(409);
    let page = browser.get(&format!("/org/requests/{request}")).await;
    assert!(!page.body.contains("Send the invitation again"));
}

#[tokio::test]
async fn withdrawing_asks_first_and_rescreening_makes_one_new_request() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, _, mut browser) = portal_member(&app, org, "org_requester").await;
    let request = app.submit(&key, &unique_email()).await;
    let confirm = browser
        .get(&format!("/org/requests/{request}/withdraw"))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("This cannot be undone"));
    assert_eq!(
        crate::engine::status_of(&app, request).await,
        "awaiting_consent"
    );
    let csrf = confirm.csrf();
    let done = browser
        .post(
            &format!("/org/requests/{request}/withdraw"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        done.location(),
        format!("/org/requests/{request}?done=withdrawn")
    );
    assert_eq!(crate::engine::status_of(&app, request).await, "withdrawn");
    let again = browser
        .post(
            &format!("/org/requests/{request}/withdraw"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "withdrawn already: the page explains"
    );

    // A declined request rescreened from its page, the button pressed twice.
    let subject = unique_email();
    let declined = app.submit(&key, &subject).await;
    let token = app.invitation_token(&subject).await;
    let reply = app
        .subject_posts(&token, "decline", json!({"reason": "other"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let page = browser.get(&format!("/org/requests/{declined}")).await;
    assert!(page.body.contains("Screen this person again"));
    let at = page.body.find("name=\"idempotency_key\" value=\"").unwrap() + 30;
    let form_key = page.body[at..].split('"').next().unwrap().to_owned();
    let before = request_count(&app).await;
    let first = browser
        .post(
            &format!("/org/requests/{declined}/rescreen"),
            &[
                ("csrf", &csrf),
                ("idempotency_key", &form_key),
                ("reference", "R-2"),
            ],
        )
        .await;
    let second = browser
        .post(
            &format!("/org/requests/{declined}/rescreen"),
            &[
                ("csrf", &csrf),
                ("idempotency_key", &form_key),
                ("reference", "R-2"),
            ],
        )
        .await;
    assert_eq!(request_id_of(&first), request_id_of(&second));
    assert_eq!(request_count(&app).await, before + 1);
}

#[tokio::test]
async fn the_certificate_page_links_its_qr_code_to_verify_which_answers_in_plain_words() {
    let app = spawn_app().await;
    let (org, key) = org_with_key(&app).await;
    let (_, _, mut browser) = portal_member(&app, org, "org_requester").await;
    let fast = quick(&app, 12, 30).await;
    let request = cleared(&app, &key, &fast).await;
    let page = browser.get(&format!("/org/requests/{request}")).await;
    assert!(
        page.body
            .contains(&format!("/org/requests/{request}/certificate"))
    );
    let certificate = browser
        .get(&format!("/org/requests/{request}/certificate"))
        .await;
    assert_eq!(certificate.status, 200, "{}", certificate.body);
    assert!(certificate.body.contains("src=\"data:image/png;base64,"));
    assert!(certificate.body.contains("Jan Pieter de Vries"));
    let file = browser
        .get(&format!("/org/requests/{request}/certificate.jws"))
        .await;
    assert_eq!(file.status, 200);
    assert!(
        file.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let jws = file.body.clone();
    assert_eq!(jws.split('.').count(), 3);

    // Anyone: no session, no cookie.
    let mut anyone = Browser::new(&app);
    let valid = anyone.get(&format!("/verify?jws={jws}")).await;
    assert_eq!(valid.status, 200);
    assert!(!valid.headers.contains_key(header::SET_COOKIE), "no cookie");
    assert!(
        valid.body.contains("Valid: this person has been cleared"),
        "{}",
        valid.body
    );
    assert!(valid.body.contains("12 April 1990"), "the date written out");
    assert!(valid.body.contains("passport or identity card"));
    let dutch = anyone.get(&format!("/verify?lang=nl&jws={jws}")).await;
    assert!(dutch.body.contains("Geldig: deze persoon is goedgekeurd"));
    assert!(dutch.body.contains("12 april 1990"));
    assert!(dutch.body.contains("lang=\"nl\""));

    // Pasted through the form; tampered; another issuer's; alg none; empty; a megabyte.
    let (head, claims, _) = parts(&jws);
    let mut changed = claims.clone();
    changed["clearance"]["subject"]["family_name"] = json!("Jansen");
    let tampered = format!("{}.{}.{}", encode(&head), encode(&changed), parts(&jws).2);
    let mut other_claims = claims.clone();
    other_claims["iss"] = json!("https://screening.elsewhere.example");
    let other = sign_with(&SigningKey::from_bytes(&[7u8; 32]), &head, &other_claims);
    let mut none = head.clone();
    none["alg"] = json!("none");
    let alg_none = format!("{}.{}.", encode(&none), encode(&claims));
    for (what, text) in [
        ("tampered", &tampered),
        ("another issuer", &other),
        ("alg none", &alg_none),
    ] {
        let page = anyone.post("/verify", &[("jws", text)]).await;
        assert_eq!(page.status, 200, "{what}");
        assert!(
            page.body.contains("Not a certificate of this service"),
            "{what}"
        );
        assert!(!page.body.contains("Jansen"), "{what}: no claims shown");
    }
    let empty = anyone.post("/verify", &[("jws", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Paste the certificate"));
    let leeg = anyone.post("/verify", &[("lang", "nl"), ("jws", "")]).await;
    assert_eq!(leeg.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        leeg.body.contains("Er is een probleem"),
        "the summary in Dutch"
    );
    assert!(
        leeg.body
            .contains("Plak de tekst van het certificaat of kies het bestand.")
    );
    let long = "a".repeat(1024 * 1000);
    let page = anyone.post("/verify", &[("jws", &long)]).await;
    assert!(
        [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::PAYLOAD_TOO_LARGE
        ]
        .contains(&page.status),
        "{}",
        page.status
    );
    assert!(page.body.contains("<h1>"), "a page, not a bare error");
    // Uploaded as a file.
    let page = anyone
        .post_file("/verify", &[("jws", "")], "file", jws.clone().into_bytes())
        .await;
    assert!(
        page.body.contains("Valid: this person has been cleared"),
        "{}",
        page.body
    );
    // A cross-site post is refused.
    let page = anyone
        .post_from("/verify", &[("jws", &jws)], Some("cross-site"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);

    // Revoked: the page says so.
    let certificate_id = claims["jti"].as_str().unwrap();
    let revoked = app
        .post(
            &format!("/v1/certificates/{certificate_id}/revoke"),
            &app.admin_token,
            json!({"reason": "Identity fraud established"}),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let page = anyone.get(&format!("/verify?jws={jws}")).await;
    assert!(
        page.body
            .contains("Revoked: this certificate is no longer valid"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Identity fraud"), "never the ground");
    let certificate = browser
        .get(&format!("/org/requests/{request}/certificate"))
        .await;
    assert!(certificate.body.contains("has been revoked"));
}

#[tokio::test]
async fn settings_invite_users_and_show_keys_and_secrets_once() {
    let app = spawn_app().await;
    let (org, _) = org_with_key(&app).await;
    let (_, _, mut admin) = portal_member(&app, org, "org_admin").await;
    let page = admin.get("/org/users").await;
    let csrf = page.csrf();
    let bad = admin
        .post(
            "/org/users",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("email", "nope"),
                ("role", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["f-name", "f-email", "f-role"] {
        assert!(bad.body.contains(&format!("href=\"#{field}\"")), "{field}");
    }
    let email = format!("new-{}@example.org", Uuid::new_v4().simple());
    let invited = admin
        .post(
            "/org/users",
            &[
                ("csrf", &csrf),
                ("name", "Nieuwe Collega"),
                ("email", &email),
                ("role", "org_requester"),
            ],
        )
        .await;
    assert_eq!(invited.location(), "/org/users?done=invited");
    let activation = app.mailed_link(&email, "/activate/").await;
    assert!(
        activation.starts_with("ss_act_"),
        "the activation link is e-mailed"
    );
    let user = entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email.clone()))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let changed = admin
        .post(
            &format!("/org/users/{}", user.id),
            &[("csrf", &csrf), ("role", "org_admin")],
        )
        .await;
    assert_eq!(changed.location(), "/org/users?done=changed");
    let deactivated = admin
        .post(
            &format!("/org/users/{}", user.id),
            &[("csrf", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(deactivated.location(), "/org/users?done=changed");
    let user = entity::user::Entity::find_by_id(user.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.role.as_str(), user.active), ("org_admin", false));

    let created = admin
        .post(
            "/org/api-keys",
            &[("csrf", &csrf), ("name", "Volunteer database")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let at = created.body.find("ss_key_").expect("the key, once");
    let key: String = created.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(app.get("/v1/me", &key).await.status, 200, "the key works");
    let listed = admin.get("/org/api-keys").await;
    assert!(!listed.body.contains(&key), "never shown again");
    let key_row = entity::api_key::Entity::find()
        .filter(entity::api_key::Column::Name.eq("Volunteer database"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let revoked = admin
        .post(
            &format!("/org/api-keys/{}/revoke", key_row.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.location(), "/org/api-keys?done=revoked");
    assert_eq!(app.get("/v1/me", &key).await.status, 401, "revoked at once");

    let bad = admin
        .post(
            "/org/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "http://127.0.0.1/x"),
                ("events", "no.such"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#f-url\"") && bad.body.contains("href=\"#f-events\""));
    let created = admin
        .post(
            "/org/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "https://hooks.example.org/portal"),
                ("events", "*"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(created.body.contains("whsec_"), "the secret, once");
    let listed = admin.get("/org/webhooks").await;
    assert!(!listed.body.contains("whsec_"));
    let endpoint = entity::webhook_endpoint::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let deliveries = admin.get(&format!("/org/webhooks/{}", endpoint.id)).await;
    assert_eq!(deliveries.status, 200);
    let deleted = admin
        .post(
            &format!("/org/webhooks/{}/delete", endpoint.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.location(), "/org/webhooks?done=deleted");
}
