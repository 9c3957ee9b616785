//! Many requests from one CSV file (`/org/requests/upload`). The columns are the new-request
//! form's field names (a template is offered); a check page lists every row as ready or with
//! its errors, row and column named; one button submits the ready rows. Each row's
//! idempotency key is derived from its content, so the same file sent again — or the same file
//! with one row corrected — never makes a request twice. The file travels from the check page
//! to the submission in the form itself: nothing is kept on the server in between.
use std::collections::{BTreeMap, HashMap};

use axum::{
    Form,
    extract::{Multipart, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use maud::html;
use sha2::{Digest, Sha256};

use super::nav;
use crate::{
    auth::Principal,
    domain::{country, subject::MAX_LIST},
    error::{AppError, FieldError},
    services::{
        AppState,
        submission_input::{
            self, EMPLOYER_FIELDS, EMPLOYERS, FlatSubmission, NATIONALITIES, OPTIONAL_FIELDS,
            REFEREE_FIELDS, REFEREES, SCALAR_FIELDS, SubmitRequest, row_field,
        },
        submissions::{self, Idempotency, Submitted},
        workflows,
    },
    web::{
        components::{Errors, banner, csrf_field, notice, table},
        errors,
        forms::value,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

/// The most rows one file may hold.
pub const MAX_ROWS: usize = 500;
/// The largest file taken: 500 full rows fit well within it, and carried through the check
/// page (base64 in a form field) it stays under the body limit.
pub const MAX_FILE_BYTES: usize = 512 * 1024;
/// Rows of employers and referees the template has columns for (more may be added, up to the
/// API's maximum).
const TEMPLATE_ROWS: usize = 3;

/// The template's columns: the form's field names in the form's order.
pub fn template_columns() -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for name in SCALAR_FIELDS {
        columns.push(name.to_owned());
        if name == "subject.country_of_birth" {
            columns.push(NATIONALITIES.to_owned());
        }
    }
    for i in 0..TEMPLATE_ROWS {
        columns.extend(EMPLOYER_FIELDS.iter().map(|f| row_field(EMPLOYERS, i, f)));
    }
    for i in 0..TEMPLATE_ROWS {
        columns.extend(REFEREE_FIELDS.iter().map(|f| row_field(REFEREES, i, f)));
    }
    columns
}

/// Columns a file must have: every field the API requires.
fn required_columns() -> Vec<&'static str> {
    SCALAR_FIELDS
        .into_iter()
        .filter(|name| !OPTIONAL_FIELDS.contains(name))
        .chain(std::iter::once(NATIONALITIES))
        .collect()
}

/// `GET /org/requests/upload/template.csv`
pub async fn template() -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let body = writer
        .write_record(template_columns())
        .ok()
        .and_then(|()| writer.into_inner().ok())
        .unwrap_or_default();
    (
        [
            (
                header::CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"screening-requests-template.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// One data row of a file, checked.
pub struct CheckedRow {
    /// The row's number as a spreadsheet shows it (the header is row 1).
    pub number: usize,
    pub name: String,
    pub reference: String,
    pub outcome: RowOutcome,
}

pub enum RowOutcome {
    Ready {
        request: Box<SubmitRequest>,
        new: Box<submissions::NewRequest>,
        body_hash: String,
    },
    /// Each error names its column.
    Invalid(Vec<FieldError>),
    /// The same data as an earlier row of the file.
    Duplicate(usize),
}

/// What a file holds once read: its rows, or what makes the whole file unreadable.
pub enum CheckedFile {
    Rows(Vec<CheckedRow>),
    Unreadable(String),
}

/// Reads and checks a file the way a submission would, without submitting anything.
pub async fn check_file(state: &AppState, bytes: &[u8]) -> Result<CheckedFile, AppError> {
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(message) => return Ok(CheckedFile::Unreadable(message)),
    };
    let delimiter = delimiter_of(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers.iter().map(|h| h.trim().to_owned()).collect(),
        Err(error) => return Ok(CheckedFile::Unreadable(csv_problem(&error))),
    };
    if let Some(problem) = header_problem(&headers) {
        return Ok(CheckedFile::Unreadable(problem));
    }
    let mut records = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => records.push(record),
            Err(error) => return Ok(CheckedFile::Unreadable(csv_problem(&error))),
        }
        if records.len() > MAX_ROWS {
            return Ok(CheckedFile::Unreadable(t_with(
                "upload-too-many-rows",
                &[("max", MAX_ROWS.into())],
            )));
        }
    }
    if records.is_empty() {
        return Ok(CheckedFile::Unreadable(t("upload-no-rows")));
    }
    let profiles = workflows::list_profiles(state, false).await?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let number = index + 2;
        let cells: BTreeMap<&str, &str> = headers
            .iter()
            .map(String::as_str)
            .zip(record.iter())
            .collect();
        let (flat, mut problems) = flat_row(&cells);
        let name = format!(
            "{} {}",
            flat.get("subject.given_names"),
            flat.get("subject.family_name")
        );
        let reference = flat.get("reference").to_owned();
        let outcome = match flat.validate() {
            Err(list) => {
                problems.extend(list);
                RowOutcome::Invalid(problems)
            }
            Ok(_) if !problems.is_empty() => RowOutcome::Invalid(problems),
            Ok((request, new)) => {
                // What the submission would refuse of the profile, said now.
                let profile = profiles.iter().find(|p| p.code == new.profile);
                match profile {
                    None => RowOutcome::Invalid(vec![FieldError::new(
                        "profile",
                        format!("no screening profile `{}`", new.profile),
                    )]),
                    Some(p) if !workflows::profile_roles(p).contains(&new.role) => {
                        RowOutcome::Invalid(vec![FieldError::new(
                            "position.role",
                            format!(
                                "the profile `{}` is not for the role `{}`",
                                p.code,
                                new.role.as_str()
                            ),
                        )])
                    }
                    Some(_) => {
                        let body_hash = submission_input::hash_of(&request);
                        match seen.get(&body_hash) {
                            Some(first) => RowOutcome::Duplicate(*first),
                            None => {
                                seen.insert(body_hash.clone(), number);
                                RowOutcome::Ready {
                                    request: Box::new(request),
                                    new: Box::new(new),
                                    body_hash,
                                }
                            }
                        }
                    }
                }
            }
        };
        rows.push(CheckedRow {
            number,
            name,
            reference,
            outcome,
        });
    }
    Ok(CheckedFile::Rows(rows))
}

/// The file's text: UTF-8 (a byte-order mark allowed); anything else is said plainly.
fn decode(bytes: &[u8]) -> Result<&str, String> {
    if bytes.is_empty() {
        return Err(t("upload-empty"));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(t_with(
            "upload-too-large",
            &[("kib", (MAX_FILE_BYTES / 1024).into())],
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let binary = bytes
        .iter()
        .any(|b| *b == 0 || (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')));
    if binary {
        return Err(t("upload-binary"));
    }
    std::str::from_utf8(bytes).map_err(|_| t("upload-not-utf8"))
}

/// Spreadsheets in Dutch save CSV with semicolons: the header line says which it is.
fn delimiter_of(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    }
}

fn csv_problem(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => t_with(
            "upload-unequal-row",
            &[
                ("row", pos.as_ref().map_or(0, |p| p.line()).into()),
                ("expected", (*expected_len).into()),
                ("found", (*len).into()),
            ],
        ),
        csv::ErrorKind::Utf8 { .. } => t("upload-not-utf8"),
        _ => t("upload-unreadable"),
    }
}

/// Unknown, repeated or missing columns, all named at once.
fn header_problem(headers: &[String]) -> Option<String> {
    let mut problems = Vec::new();
    let unknown: Vec<&str> = headers
        .iter()
        .map(String::as_str)
        .filter(|h| !submission_input::is_field(h))
        .collect();
    if !unknown.is_empty() {
        problems.push(t_with(
            "upload-unknown-columns",
            &[("columns", unknown.join(", ").into())],
        ));
    }
    let mut repeated: Vec<&str> = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| headers[..*i].contains(h))
        .map(|(_, h)| h.as_str())
        .collect();
    repeated.dedup();
    if !repeated.is_empty() {
        problems.push(t_with(
            "upload-repeated-columns",
            &[("columns", repeated.join(", ").into())],
        ));
    }
    let missing: Vec<&str> = required_columns()
        .into_iter()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        problems.push(t_with(
            "upload-missing-columns",
            &[("columns", missing.join(", ").into())],
        ));
    }
    (!problems.is_empty()).then(|| problems.join(" "))
}

/// Whether a field holds a country (written as a code or a name in a file).
fn is_country_field(name: &str) -> bool {
    matches!(name, "deployment.country" | "subject.country_of_birth")
        || (name.starts_with(EMPLOYERS) && name.ends_with(".country"))
}

/// A row's cells as the form's values; a formula-looking cell is an error of its column and
/// is not used.
fn flat_row(cells: &BTreeMap<&str, &str>) -> (FlatSubmission, Vec<FieldError>) {
    let mut flat = FlatSubmission::default();
    let mut problems = Vec::new();
    for (column, cell) in cells {
        let cell = cell.trim();
        if cell.starts_with(['=', '+', '-', '@']) {
            problems.push(FieldError::new(*column, t("upload-formula-cell")));
            continue;
        }
        if *column == NATIONALITIES {
            flat.nationalities = cell
                .split([';', ','])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| country::code_for(c).unwrap_or_else(|| c.to_owned()))
                .collect();
        } else if is_country_field(column) && !cell.is_empty() {
            flat.set(
                column,
                &country::code_for(cell).unwrap_or_else(|| cell.to_owned()),
            );
        } else {
            flat.set(column, cell);
        }
    }
    // The file's rows keep their numbers: a blank employer row between two filled ones is
    // renumbered, and its errors would name the wrong column, so the file's own rows count.
    let filled = |list: &str, fields: &[&str]| {
        (0..MAX_LIST).all(|i| {
            let blank = fields
                .iter()
                .all(|f| flat.get(&row_field(list, i, f)).is_empty());
            let later = (i + 1..MAX_LIST).any(|j| {
                fields
                    .iter()
                    .any(|f| !flat.get(&row_field(list, j, f)).is_empty())
            });
            !(blank && later)
        })
    };
    if !filled(EMPLOYERS, &EMPLOYER_FIELDS) {
        problems.push(FieldError::new(EMPLOYERS, t("upload-gap-in-rows")));
    }
    if !filled(REFEREES, &REFEREE_FIELDS) {
        problems.push(FieldError::new(REFEREES, t("upload-gap-in-rows")));
    }
    (flat, problems)
}

/// The upload form, with what was wrong with the last file.
fn upload_page(principal: &Principal, status: StatusCode, problem: Option<&str>) -> Response {
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("upload-title");
    let errors = Errors::new(
        problem
            .map(|p| vec![FieldError::new("file", p)])
            .unwrap_or_default(),
    );
    let body = html! {
        (nav(principal, "/org/requests/upload"))
        (errors.summary())
        h1 { (title) }
        p { (t_with("upload-lead", &[("max", MAX_ROWS.into())])) }
        ul {
            li { (t("upload-help-columns")) " " a href="/org/requests/upload/template.csv" download { (t("upload-template")) } }
            li { (t("upload-help-countries")) }
            li { (t("upload-help-dates")) }
            li { (t("upload-help-encoding")) }
        }
        form method="post" action="/org/requests/upload" enctype="multipart/form-data" novalidate {
            (csrf_field(&csrf))
            @let error = errors.of("file");
            div class=(if error.is_some() { "field has-error" } else { "field" }) {
                label for="f-file" { (t("upload-file")) }
                @if let Some(message) = error { span.error-message id="f-file-error" { (t("error-prefix")) " " (message) } }
                input id="f-file" name="file" type="file" accept=".csv,text/csv"
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "f-file-error")];
            }
            div.actions { button type="submit" { (t("upload-check")) } }
        }
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

pub async fn show(principal: Principal) -> Response {
    upload_page(&principal, StatusCode::OK, None)
}

/// The file a multipart form carries in its `file` field.
async fn file_of(mut multipart: Multipart) -> Result<Vec<u8>, AppError> {
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("the form could not be read".into()))?
    {
        if field.name() == Some("file") {
            return field
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|_| AppError::PayloadTooLarge);
        }
    }
    Ok(Vec::new())
}

/// The file's rows, each with what the check found, or (on the page after submitting) what
/// `submitted` says became of it.
fn row_table(
    rows: &[CheckedRow],
    submitted: impl Fn(&CheckedRow) -> Option<maud::Markup>,
) -> maud::Markup {
    table(
        &t("upload-rows-caption"),
        &[
            t("upload-col-row"),
            t("portal-col-name"),
            t("portal-col-reference"),
            t("upload-col-result"),
        ],
        &rows
            .iter()
            .map(|row| {
                vec![
                    html! { (row.number) },
                    html! { (row.name) },
                    html! { (row.reference) },
                    match (submitted(row), &row.outcome) {
                        (Some(result), _) => result,
                        (None, RowOutcome::Ready { .. }) => html! { strong.ready { (t("upload-ready")) } },
                        (None, RowOutcome::Duplicate(first)) => html! { (t_with("upload-duplicate", &[("row", (*first).into())])) },
                        (None, RowOutcome::Invalid(list)) => html! {
                            ul.row-errors {
                                @for error in list {
                                    li { (t_with("upload-cell-error", &[("column", error.field.clone().into()), ("message", error.message.clone().into())])) }
                                }
                            }
                        },
                    },
                ]
            })
            .collect::<Vec<_>>(),
    )
}

/// `POST /org/requests/upload`: the check page.
pub async fn check(
    State(state): State<AppState>,
    principal: Principal,
    multipart: Multipart,
) -> Response {
    let bytes = match file_of(multipart).await {
        Ok(bytes) => bytes,
        Err(AppError::PayloadTooLarge) => {
            let message = t_with(
                "upload-too-large",
                &[("kib", (MAX_FILE_BYTES / 1024).into())],
            );
            return upload_page(&principal, StatusCode::PAYLOAD_TOO_LARGE, Some(&message));
        }
        Err(error) => return errors::page_for(error),
    };
    let rows = match check_file(&state, &bytes).await {
        Ok(CheckedFile::Rows(rows)) => rows,
        Ok(CheckedFile::Unreadable(problem)) => {
            return upload_page(&principal, StatusCode::UNPROCESSABLE_ENTITY, Some(&problem));
        }
        Err(error) => return errors::page_for(error),
    };
    let ready = rows
        .iter()
        .filter(|r| matches!(r.outcome, RowOutcome::Ready { .. }))
        .count();
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("upload-check-title");
    let body = html! {
        (nav(&principal, "/org/requests/upload"))
        h1 { (title) }
        p.lead { (t_with("upload-check-summary", &[("ready", ready.into()), ("rows", rows.len().into())])) }
        (row_table(&rows, |_| None))
        @if ready > 0 {
            form method="post" action="/org/requests/upload/submit" {
                (csrf_field(&csrf))
                input type="hidden" name="file" value=(URL_SAFE_NO_PAD.encode(&bytes));
                div.actions { button type="submit" { (t_with("upload-submit", &[("ready", ready.into())])) } }
            }
        } @else {
            p { (t("upload-nothing-ready")) }
        }
        p { a href="/org/requests/upload" { (t("upload-another")) } }
    };
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(&principal),
        body,
    )
}

/// A row's idempotency key: derived from its content alone.
fn row_key(body_hash: &str) -> String {
    let digest = hex::encode(Sha256::digest(body_hash.as_bytes()));
    format!("upload-{}", &digest[..48])
}

/// `POST /org/requests/upload/submit`: submits the ready rows, all at once so the submission
/// writer batches them, and says what became of each.
pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(bytes) = value(&pairs, "file").and_then(|f| URL_SAFE_NO_PAD.decode(f).ok()) else {
        return upload_page(
            &principal,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&t("upload-empty")),
        );
    };
    let rows = match check_file(&state, &bytes).await {
        Ok(CheckedFile::Rows(rows)) => rows,
        Ok(CheckedFile::Unreadable(problem)) => {
            return upload_page(&principal, StatusCode::UNPROCESSABLE_ENTITY, Some(&problem));
        }
        Err(error) => return errors::page_for(error),
    };
    let mut running = tokio::task::JoinSet::new();
    for row in &rows {
        if let RowOutcome::Ready { new, body_hash, .. } = &row.outcome {
            let (state, principal) = (state.clone(), principal.clone());
            let idempotency = Idempotency {
                key: row_key(body_hash),
                body_hash: body_hash.clone(),
            };
            let (number, new) = (row.number, *new.clone());
            running.spawn(async move {
                let result =
                    submissions::submit(&state, &principal, new, Some(idempotency), None).await;
                (number, result)
            });
        }
    }
    let mut results = BTreeMap::new();
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((number, result)) => {
                results.insert(number, result);
            }
            Err(error) => {
                return errors::page_for(AppError::Internal(anyhow::anyhow!(
                    "an upload row's task failed: {error}"
                )));
            }
        }
    }
    let created = results
        .values()
        .filter(|r| matches!(r, Ok(Submitted::Created(_))))
        .count();
    let earlier = results
        .values()
        .filter(|r| matches!(r, Ok(Submitted::Replayed(_))))
        .count();
    let title = t("upload-done-title");
    let body = html! {
        (nav(&principal, "/org/requests/upload"))
        @if created > 0 {
            (banner(&t_with("upload-done-created", &[("count", created.into())]), None))
        } @else {
            (notice(&t("upload-done-nothing-new"), None))
        }
        h1 { (title) }
        @if earlier > 0 { p { (t_with("upload-done-earlier", &[("count", earlier.into())])) } }
        (row_table(&rows, |row| match results.get(&row.number)? {
            Ok(Submitted::Created(view)) => Some(html! { a href={ "/org/requests/" (view.request.id) } { (t("upload-created")) } }),
            Ok(Submitted::Replayed(view)) => Some(html! { a href={ "/org/requests/" (view.request.id) } { (t("upload-submitted-earlier")) } }),
            Err(error) => Some(html! { (t_with("upload-failed", &[("reason", error.to_problem().detail.into())])) }),
        }))
        p { a href="/org/requests" { (t("upload-to-list")) } }
    };
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(&principal),
        body,
    )
}
