//! The organisation's requests (`/org/requests`), their CSV export, one request with its
//! timeline and what the organisation may do with it (resend the invitation, withdraw,
//! rescreen), and the printable certificate of a clearance.
use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use uuid::Uuid;

use super::{inert_cell, nav, status_label};
use crate::{
    auth::Principal,
    domain::{OrgStatus, calendar, text},
    error::{AppError, FieldError},
    i18n::{Lang, country_name},
    pagination::{PageRequest, encode_cursor},
    services::{
        AppState, certificates,
        screening::{self, ListFilter, ShownCheck, ShownRequest},
        submissions::{self, Idempotency, Submitted},
    },
    web::{
        components::{
            Errors, Input, banner, csrf_field, date_time, notice, pagination, qr_png, select,
            summary_list, table,
        },
        errors,
        forms::{
            list_href, one_page, page_request, query_pairs, status_for, unknown_fields, value,
        },
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

const FILTERS: [&str; 5] = [
    "status",
    "reference",
    "created_after",
    "created_before",
    "cursor",
];

/// The most rows one export holds (the list is read a page at a time up to it).
const MAX_EXPORT_ROWS: usize = 50_000;

/// The list's filters as the query gives them; what cannot be read goes to `problems`.
struct Filters {
    status: Option<OrgStatus>,
    reference: Option<String>,
    created_after: Option<time::Date>,
    created_before: Option<time::Date>,
}

impl Filters {
    fn read(pairs: &[(String, String)], problems: &mut Vec<FieldError>) -> Self {
        let status = value(pairs, "status").and_then(|s| {
            OrgStatus::parse(s).or_else(|| {
                problems.push(FieldError::new("status", t("portal-unknown-status")));
                None
            })
        });
        let mut date = |field: &str| {
            value(pairs, field).and_then(|d| match calendar::parse_date(d) {
                Ok(date) => Some(date),
                Err(message) => {
                    problems.push(FieldError::new(field, message));
                    None
                }
            })
        };
        Filters {
            status,
            reference: value(pairs, "reference").map(str::to_owned),
            created_after: date("created_after"),
            created_before: date("created_before"),
        }
    }

    /// `created_after` from the start of its day, `created_before` up to the start of its day.
    fn list_filter(&self) -> ListFilter {
        ListFilter {
            statuses: self.status.map(OrgStatus::full_statuses),
            profile: None,
            reference: self.reference.clone(),
            created_after: self.created_after.map(|d| d.midnight()),
            created_before: self.created_before.map(|d| d.midnight()),
            organisation_id: None,
        }
    }

    fn params(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("status", self.status.map(|s| s.as_str().to_owned())),
            ("reference", self.reference.clone()),
            ("created_after", self.created_after.map(|d| d.to_string())),
            ("created_before", self.created_before.map(|d| d.to_string())),
        ]
    }
}

async fn shown_page(
    state: &AppState,
    principal: &Principal,
    filters: &Filters,
    page: PageRequest,
) -> Result<Vec<ShownRequest>, AppError> {
    let views = screening::list(state, principal, filters.list_filter(), page).await?;
    screening::shown(state, views, principal).await
}

pub fn subject_name(request: &ShownRequest) -> String {
    request
        .full_name()
        .unwrap_or_else(|| t("portal-subject-erased"))
}

fn decision_text(request: &ShownRequest) -> String {
    match &request.decision {
        Some(d) if d.outcome == "cleared" => match d.valid_until {
            Some(until) => t_with(
                "portal-decision-cleared-until",
                &[("date", until.to_string().into())],
            ),
            None => t("portal-decision-cleared"),
        },
        Some(_) => t("portal-decision-refused"),
        None => String::new(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    let mut problems = unknown_fields(&pairs, &FILTERS);
    let filters = Filters::read(&pairs, &mut problems);
    let request = page_request(&pairs, &mut problems);
    let mut found = None;
    if problems.is_empty() {
        match shown_page(&state, &principal, &filters, request).await {
            Ok(rows) => found = Some(rows),
            Err(AppError::Validation(list)) => problems.extend(list),
            Err(error) => return errors::page_for(error),
        }
    }
    let errors = Errors::new(problems);
    let status_options: Vec<(String, String)> = std::iter::once((String::new(), t("filter-any")))
        .chain(
            OrgStatus::ALL
                .into_iter()
                .map(|s| (s.as_str().to_owned(), status_label(s))),
        )
        .collect();
    let title = t("portal-requests-title");
    let export_href = list_href("/org/requests.csv", &filters.params());
    let body = html! {
        (nav(&principal, "/org/requests"))
        (errors.summary())
        h1 { (title) }
        p.actions {
            a.button href="/org/requests/new" { (t("portal-nav-new")) }
            " "
            a.button.secondary href="/org/requests/upload" { (t("portal-nav-upload")) }
        }
        form.filters method="get" action="/org/requests" {
            (select("status", &t("filter-status"), &status_options, value(&pairs, "status").unwrap_or(""), &errors))
            (Input::text("reference", t("field-reference")).value(value(&pairs, "reference").unwrap_or("")).render(&errors))
            (Input::text("created_after", t("field-created-after")).value(value(&pairs, "created_after").unwrap_or("")).hint(t("hint-date")).render(&errors))
            (Input::text("created_before", t("field-created-before")).value(value(&pairs, "created_before").unwrap_or("")).hint(t("hint-date")).render(&errors))
            div.actions { button.secondary type="submit" { (t("filter-apply")) } }
        }
        @if let Some(rows) = found {
            @let (rows, next) = one_page(rows, request, |r: &ShownRequest| {
                let mut params = filters.params();
                params.push(("cursor", Some(encode_cursor(r.id))));
                list_href("/org/requests", &params)
            });
            @if rows.is_empty() {
                p { (t("portal-requests-empty")) }
            } @else {
                (table(
                    &t("portal-requests-caption"),
                    &[t("portal-col-name"), t("portal-col-reference"), t("portal-col-profile"), t("portal-col-deployment"), t("portal-col-status"), t("portal-col-decision"), t("portal-col-created")],
                    &rows.iter().map(|r| vec![
                        html! { a href={ "/org/requests/" (r.id) } { (subject_name(r)) } },
                        html! { (r.reference) },
                        html! { (r.profile) },
                        html! { (country_name(Lang::En, &r.deployment_country)) br; span.hint { (t_with("task-from-date", &[("date", r.deployment_start_date.to_string().into())])) } },
                        html! { (status_label(r.status)) },
                        html! { (decision_text(r)) },
                        html! { (date_time(r.created_at)) },
                    ]).collect::<Vec<_>>(),
                ))
                (pagination(next.as_deref()))
            }
            p { a href=(export_href) download { (t("portal-export")) } }
        }
    };
    page(
        status_for(&errors),
        Shell::new(&title).signed_in(&principal),
        body,
    )
}

/// The CSV export's columns.
const EXPORT_COLUMNS: [&str; 13] = [
    "id",
    "reference",
    "given_names",
    "family_name",
    "profile",
    "position_title",
    "role",
    "deployment_country",
    "deployment_start_date",
    "status",
    "decision",
    "valid_until",
    "created_at",
];

/// `GET /org/requests.csv`: the filtered list, every page of it, as RFC 4180 CSV in UTF-8
/// with a header row; cells a spreadsheet would run as formulas are made inert.
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    let known = &FILTERS[..4];
    let mut problems = unknown_fields(&pairs, known);
    let filters = Filters::read(&pairs, &mut problems);
    if !problems.is_empty() {
        return errors::page_for(AppError::Validation(problems));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = |record: &[String]| writer.write_record(record);
    if write(&EXPORT_COLUMNS.map(str::to_owned)).is_err() {
        return errors::page_for(AppError::Internal(anyhow::anyhow!("csv header")));
    }
    let mut after = None;
    let mut written = 0;
    loop {
        let page = PageRequest { limit: 100, after };
        let rows = match shown_page(&state, &principal, &filters, page).await {
            Ok(rows) => rows,
            Err(error) => return errors::page_for(error),
        };
        let more = rows.len() as u64 > page.limit;
        for r in rows.iter().take(page.limit as usize) {
            let (given, family) = r.subject_name.clone().unwrap_or_default();
            let record = [
                r.id.to_string(),
                r.reference.clone(),
                given,
                family,
                r.profile.clone(),
                r.position_title.clone(),
                r.role.as_str().to_owned(),
                r.deployment_country.clone(),
                r.deployment_start_date.to_string(),
                r.status.as_str().to_owned(),
                r.decision
                    .as_ref()
                    .map(|d| d.outcome.clone())
                    .unwrap_or_default(),
                r.decision
                    .as_ref()
                    .and_then(|d| d.valid_until)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                crate::db::rfc3339(r.created_at),
            ]
            .map(|cell| inert_cell(&cell));
            if write(&record).is_err() {
                return errors::page_for(AppError::Internal(anyhow::anyhow!("csv row")));
            }
            written += 1;
        }
        after = rows.get(page.limit as usize - 1).map(|r| r.id);
        if !more || written >= MAX_EXPORT_ROWS {
            break;
        }
    }
    let Ok(body) = writer.into_inner() else {
        return errors::page_for(AppError::Internal(anyhow::anyhow!("csv flush")));
    };
    (
        [
            (
                header::CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present",
            ),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"screening-requests.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

fn check_label(state: ShownCheck) -> String {
    match state {
        ShownCheck::Pending => t("portal-check-pending"),
        ShownCheck::Running => t("portal-check-running"),
        ShownCheck::Done => t("portal-check-done"),
        ShownCheck::Skipped => t("portal-check-skipped"),
    }
}

fn done_banner(done: Option<&str>) -> Option<Markup> {
    let (title, text) = match done? {
        "submitted" => (
            t("portal-done-submitted"),
            Some(t("portal-done-submitted-text")),
        ),
        "resent" => (t("portal-done-resent"), None),
        "withdrawn" => (t("portal-done-withdrawn"), None),
        "rescreened" => (t("portal-done-rescreened"), None),
        _ => return None,
    };
    Some(banner(&title, text.as_deref()))
}

async fn request_page(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    status: StatusCode,
    top: Option<Markup>,
    errors: &Errors,
) -> Response {
    let (request, subject_held) = match screening::shown_one(state, principal, id).await {
        Ok(found) => found,
        Err(error) => return errors::page_for(error),
    };
    let events = match screening::shown_events(state, principal, id).await {
        Ok(events) => events,
        Err(error) => return errors::page_for(error),
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let name = subject_name(&request);
    let title = t_with(
        "portal-request-title",
        &[
            ("name", name.clone().into()),
            ("reference", request.reference.clone().into()),
        ],
    );
    let awaiting = request.status == OrgStatus::AwaitingConsent;
    let withdrawable = matches!(
        request.status,
        OrgStatus::AwaitingConsent | OrgStatus::InProgress
    );
    let rescreenable = subject_held
        && matches!(
            request.status,
            OrgStatus::Cleared | OrgStatus::Refused | OrgStatus::Declined | OrgStatus::Lapsed
        );
    let certificate = request
        .decision
        .as_ref()
        .filter(|d| d.certificate_id.is_some() && request.status == OrgStatus::Cleared);
    let mut rows = vec![
        (t("portal-field-name"), html! { (name) }),
        (t("field-reference"), html! { (request.reference) }),
        (
            t("portal-field-status"),
            html! { strong { (status_label(request.status)) } },
        ),
        (t("task-field-profile"), html! { (request.profile) }),
        (
            t("task-field-position"),
            html! {
                (request.position_title) " (" (request.role.as_str()) ")"
                @if let Some(description) = &request.position_description { br; span.hint { (description) } }
            },
        ),
        (
            t("task-field-deployment"),
            html! {
                (country_name(Lang::En, &request.deployment_country)) ", " (t_with("task-from-date", &[("date", request.deployment_start_date.to_string().into())]))
            },
        ),
        (
            t("portal-field-invitation"),
            html! {
                (t_with("portal-invitation-sent-to", &[("email", request.sent_to.clone().unwrap_or_default().into())]))
                @if awaiting { br; span.hint { (t_with("portal-invitation-expires", &[("date", date_time(request.invitation_expires_at).into())])) } }
            },
        ),
    ];
    if let Some(reason) = &request.decline_reason {
        rows.push((
            t("portal-field-decline-reason"),
            html! { (t(&format!("portal-decline-{reason}"))) },
        ));
    }
    rows.push((t("portal-field-decision"), html! {
        @match &request.decision {
            Some(d) => {
                (decision_text(&request)) ", " (date_time(d.decided_at))
                @if d.certificate_revoked_at.is_some() { br; strong { (t("portal-certificate-revoked")) } }
            }
            None => { (t("case-undecided")) }
        }
    }));
    if let Some(old) = request.rescreen_of {
        rows.push((
            t("portal-field-rescreen-of"),
            html! { a href={ "/org/requests/" (old) } { (t("portal-earlier-request")) } },
        ));
    }
    rows.push((
        t("portal-col-created"),
        html! { (date_time(request.created_at)) },
    ));
    let body = html! {
        (nav(principal, "/org/requests"))
        @if let Some(top) = top { (top) }
        (errors.summary())
        h1 { (title) }
        (summary_list(&rows))
        @if certificate.is_some() {
            p { a.button href={ "/org/requests/" (request.id) "/certificate" } { (t("portal-certificate-open")) } }
        }
        @if !request.checks.is_empty() {
            (table(
                &t("portal-checks-caption"),
                &[t("portal-col-check"), t("portal-col-check-state")],
                &request.checks.iter().map(|(check, state)| vec![
                    html! { (check.replace('_', " ")) },
                    html! { (check_label(*state)) },
                ]).collect::<Vec<_>>(),
            ))
        }
        (table(
            &t("timeline-caption"),
            &[t("timeline-col-at"), t("timeline-col-event"), t("timeline-col-status")],
            &events.iter().map(|e| vec![
                html! { (date_time(e.at)) },
                html! { (e.kind.replace('_', " ")) },
                html! { (OrgStatus::parse(&e.status).map_or_else(|| e.status.clone(), status_label)) },
            ]).collect::<Vec<_>>(),
        ))
        @if awaiting {
            h2 { (t("portal-resend-heading")) }
            p { (t("portal-resend-text")) }
            form method="post" action={ "/org/requests/" (request.id) "/resend-invitation" } {
                (csrf_field(&csrf))
                div.actions { button.secondary type="submit" { (t("portal-resend-submit")) } }
            }
        }
        @if rescreenable {
            h2 { (t("portal-rescreen-heading")) }
            p { (t("portal-rescreen-text")) }
            form method="post" action={ "/org/requests/" (request.id) "/rescreen" } novalidate {
                (csrf_field(&csrf))
                input type="hidden" name="idempotency_key" value={ "rescreen-" (Uuid::new_v4()) };
                (Input::text("reference", t("portal-rescreen-reference")).value(&request.reference).render(errors))
                div.actions { button.secondary type="submit" { (t("portal-rescreen-submit")) } }
            }
        }
        @if withdrawable {
            h2 { (t("portal-withdraw-heading")) }
            p { a.button.warning href={ "/org/requests/" (request.id) "/withdraw" } { (t("portal-withdraw-start")) } }
        }
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    request_page(
        &state,
        &principal,
        id,
        StatusCode::OK,
        done_banner(value(&pairs, "done")),
        &Errors::none(),
    )
    .await
}

/// A refusal the request's state explains (409) is the request page with a notice; anything
/// else is its error page.
async fn refused(state: &AppState, principal: &Principal, id: Uuid, error: AppError) -> Response {
    match error {
        AppError::Conflict(detail) => {
            request_page(
                state,
                principal,
                id,
                StatusCode::CONFLICT,
                Some(notice(&t("task-conflict-title"), Some(&detail))),
                &Errors::none(),
            )
            .await
        }
        AppError::RateLimited { retry_after_secs } => {
            let mut response = request_page(
                state,
                principal,
                id,
                StatusCode::TOO_MANY_REQUESTS,
                Some(notice(
                    &t("portal-resend-too-soon"),
                    Some(&t_with(
                        "portal-resend-wait",
                        &[("minutes", retry_after_secs.div_ceil(60).into())],
                    )),
                )),
                &Errors::none(),
            )
            .await;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.max(1).into());
            response
        }
        error => errors::page_for(error),
    }
}

pub async fn resend_invitation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match screening::resend_invitation(&state, &principal, id).await {
        Ok(()) => Redirect::to(&format!("/org/requests/{id}?done=resent")).into_response(),
        Err(error) => refused(&state, &principal, id, error).await,
    }
}

/// `GET /org/requests/{id}/withdraw`: what withdrawing does, and the button that does it.
pub async fn confirm_withdraw(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    let request = match screening::shown_one(&state, &principal, id).await {
        Ok((request, _)) => request,
        Err(error) => return errors::page_for(error),
    };
    let title = t_with(
        "portal-withdraw-title",
        &[("name", subject_name(&request).into())],
    );
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let body = html! {
        (nav(&principal, "/org/requests"))
        h1 { (title) }
        p { (t("portal-withdraw-text")) }
        form method="post" action={ "/org/requests/" (id) "/withdraw" } {
            (csrf_field(&csrf))
            div.actions {
                button.warning type="submit" { (t("portal-withdraw-submit")) }
                " "
                a href={ "/org/requests/" (id) } { (t("portal-withdraw-cancel")) }
            }
        }
    };
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(&principal).narrow(),
        body,
    )
}

pub async fn withdraw(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match screening::withdraw(&state, &principal, id).await {
        Ok(_) => Redirect::to(&format!("/org/requests/{id}?done=withdrawn")).into_response(),
        Err(error) => refused(&state, &principal, id, error).await,
    }
}

pub async fn rescreen(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let reference = match value(&pairs, "reference").map(|r| text::required(r, 100)) {
        Some(Ok(reference)) => Some(reference),
        Some(Err(message)) => {
            return request_page(
                &state,
                &principal,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &Errors::new(vec![FieldError::new("reference", message)]),
            )
            .await;
        }
        None => None,
    };
    // The same form sent twice makes one new request: the key is the form's, the body the
    // API's (the reference and the request rescreened).
    let idempotency = value(&pairs, "idempotency_key").map(|key| Idempotency {
        key: key.chars().take(255).collect(),
        body_hash: submissions::body_hash(
            &serde_json::json!({"reference": reference, "rescreen_of": id}),
        ),
    });
    match screening::rescreen(&state, &principal, id, reference, idempotency).await {
        Ok(Submitted::Created(view) | Submitted::Replayed(view)) => Redirect::to(&format!(
            "/org/requests/{}?done=rescreened",
            view.request.id
        ))
        .into_response(),
        Err(AppError::Validation(list)) => {
            request_page(
                &state,
                &principal,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &Errors::new(list),
            )
            .await
        }
        Err(error) => refused(&state, &principal, id, error).await,
    }
}

/// The verification link a certificate's QR code holds.
pub fn verify_link(state: &AppState, jws: &str) -> String {
    format!("{}/verify?jws={jws}", state.config.public_url)
}

/// `GET /org/requests/{id}/certificate`: one printable A4 page with the clearance's facts,
/// its status, and a QR code anyone can follow to `/verify`.
pub async fn certificate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    let view = match certificates::of_request(&state, &principal, id).await {
        Ok(view) => view,
        Err(error) => return errors::page_for(error),
    };
    let clearance = &view.claims["clearance"];
    let subject = &clearance["subject"];
    let name = format!(
        "{} {}",
        subject["given_names"].as_str().unwrap_or_default(),
        subject["family_name"].as_str().unwrap_or_default()
    );
    let status = certificates::status_of(&view.certificate);
    let valid_until = view.certificate.expires_at.date().to_string();
    let qr = qr_png(&verify_link(&state, &view.jws));
    let title = t_with("certificate-title", &[("name", name.clone().into())]);
    let body = html! {
        div.no-print { (nav(&principal, "/org/requests")) }
        article.certificate {
            h1 { (t("certificate-heading")) }
            p.lead { (t_with("certificate-lead", &[("name", name.clone().into())])) }
            @if status != "active" {
                (notice(&t(if status == "revoked" { "certificate-status-revoked" } else { "certificate-status-expired" }), None))
            }
            (summary_list(&[
                (t("verify-field-name"), html! { (name) }),
                (t("verify-field-date-of-birth"), html! { (subject["date_of_birth"].as_str().unwrap_or_default()) }),
                (t("verify-field-organisation"), html! { (clearance["organisation"]["name"].as_str().unwrap_or_default()) }),
                (t("verify-field-position"), html! { (clearance["position_title"].as_str().unwrap_or_default()) " (" (clearance["role"].as_str().unwrap_or_default()) ")" }),
                (t("verify-field-country"), html! { (country_name(Lang::En, clearance["deployment_country"].as_str().unwrap_or_default())) }),
                (t("certificate-field-issued"), html! { (view.certificate.issued_at.date()) }),
                (t("verify-field-valid-until"), html! { strong { (valid_until) } }),
                (t("certificate-field-status"), html! { (t(match status { "active" => "certificate-active", "revoked" => "certificate-revoked", _ => "certificate-expired" })) }),
                (t("certificate-field-id"), html! { span.hint { (view.certificate.id) } }),
            ]))
            div.qr {
                @if let Some(qr) = qr {
                    img src=(qr) alt=(t("certificate-qr-alt")) width="256" height="256";
                }
                p { (t_with("certificate-qr-text", &[("url", format!("{}/verify", state.config.public_url).into())])) }
            }
        }
        p.no-print {
            a.button href={ "/org/requests/" (id) "/certificate.jws" } download { (t("certificate-download")) }
            " "
            a href={ "/org/requests/" (id) } { (t("certificate-back")) }
        }
        p.no-print.hint { (t("certificate-print-hint")) }
    };
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(&principal),
        body,
    )
}

/// `GET /org/requests/{id}/certificate.jws`: the signed certificate as a file.
pub async fn certificate_file(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match certificates::of_request(&state, &principal, id).await {
        Ok(view) => (
            [
                (header::CONTENT_TYPE, "application/jose".to_owned()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"certificate-{}.jws\"",
                        view.certificate.id
                    ),
                ),
            ],
            view.jws,
        )
            .into_response(),
        Err(error) => errors::page_for(error),
    }
}
