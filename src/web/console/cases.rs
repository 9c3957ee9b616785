//! Cases (`/console/requests`, `/console/requests/{id}`): the requests staff may see, exactly as
//! `GET /v1/screening-requests` lets them (supervisors and admins all, checkers those they
//! worked on), and the whole case: status, tasks, timeline, deadline, decision, certificate.
//! Admins revoke a certificate here.
use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use uuid::Uuid;

use super::{
    list_href, nav, outcome_label, query_pairs, status_for, status_label, task_label,
    tasks::timeline, unknown_fields, value,
};
use crate::{
    auth::Principal,
    domain::{RequestStatus, Role},
    error::{AppError, FieldError},
    i18n::{Lang, country_name},
    pagination::{PageParams, encode_cursor},
    services::{
        AppState, certificates, organisations,
        screening::{self, ListFilter, ShownRequest},
        tasks,
    },
    web::{
        account::with_step_up,
        components::{
            Errors, Input, banner, csrf_field, date_time, notice, pagination, select, summary_list,
            table, textarea,
        },
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

const CASE_FILTERS: [&str; 4] = ["reference", "organisation", "status", "cursor"];

fn request_status_label(status: RequestStatus) -> String {
    status.as_str().replace('_', " ")
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
    let mut problems = unknown_fields(&pairs, &CASE_FILTERS);
    let reference = value(&pairs, "reference").map(str::to_owned);
    let organisation = value(&pairs, "organisation").and_then(|o| {
        o.parse::<Uuid>().ok().or_else(|| {
            problems.push(FieldError::new(
                "organisation",
                t("cases-unknown-organisation"),
            ));
            None
        })
    });
    let status = value(&pairs, "status").and_then(|s| {
        RequestStatus::parse(s).or_else(|| {
            problems.push(FieldError::new("status", format!("unknown status `{s}`")));
            None
        })
    });
    let page_request = match (PageParams {
        limit: None,
        cursor: value(&pairs, "cursor").map(str::to_owned),
    })
    .validate()
    {
        Ok(page) => Some(page),
        Err(list) => {
            problems.extend(list);
            None
        }
    };
    let organisation_names = match organisations::names(&state).await {
        Ok(names) => names,
        Err(error) => return errors::page_for(error),
    };
    let mut shown: Option<(Vec<ShownRequest>, bool)> = None;
    if let (Some(page_request), true) = (page_request, problems.is_empty()) {
        let filter = ListFilter {
            statuses: status.map(|s| vec![s]),
            profile: None,
            reference: reference.clone(),
            created_after: None,
            created_before: None,
            organisation_id: organisation,
        };
        let result = match screening::list(&state, &principal, filter, page_request).await {
            Ok(mut views) => {
                let more = views.len() as u64 > page_request.limit;
                views.truncate(page_request.limit as usize);
                screening::shown(&state, views, &principal)
                    .await
                    .map(|rows| (rows, more))
            }
            Err(error) => Err(error),
        };
        match result {
            Ok(found) => shown = Some(found),
            Err(AppError::Validation(list)) => problems.extend(list),
            Err(error) => return errors::page_for(error),
        }
    }
    let errors = Errors::new(problems);
    let name_of = |id: Uuid| {
        organisation_names
            .iter()
            .find(|(o, _)| *o == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let organisation_options: Vec<(String, String)> =
        std::iter::once((String::new(), t("filter-any")))
            .chain(
                organisation_names
                    .iter()
                    .map(|(id, name)| (id.to_string(), name.clone())),
            )
            .collect();
    let status_options: Vec<(String, String)> = std::iter::once((String::new(), t("filter-any")))
        .chain(
            RequestStatus::ALL
                .into_iter()
                .map(|s| (s.as_str().to_owned(), request_status_label(s))),
        )
        .collect();
    let title = t("cases-title");
    let status_code = status_for(&errors);
    let body = html! {
        (nav(&principal, "/console/requests"))
        (errors.summary())
        h1 { (title) }
        form.filters method="get" action="/console/requests" {
            (Input::text("reference", t("field-reference")).value(reference.as_deref().unwrap_or("")).render(&errors))
            (select("organisation", &t("filter-organisation"), &organisation_options, value(&pairs, "organisation").unwrap_or(""), &errors))
            (select("status", &t("filter-status"), &status_options, value(&pairs, "status").unwrap_or(""), &errors))
            div.actions { button.secondary type="submit" { (t("filter-apply")) } }
        }
        @if let Some((rows, more)) = &shown {
            @if rows.is_empty() {
                p { (t("cases-empty")) }
            } @else {
                (table(
                    &t("cases-caption"),
                    &[t("cases-col-reference"), t("cases-col-subject"), t("cases-col-organisation"), t("cases-col-status"), t("cases-col-created")],
                    &rows.iter().map(|r| vec![
                        html! { a href={ "/console/requests/" (r.id) } { (r.reference) } },
                        html! { (subject_name(r)) },
                        html! { (name_of(r.organisation_id)) },
                        html! { (r.staff.as_ref().map_or_else(|| r.status.as_str().to_owned(), |s| request_status_label(s.full_status))) },
                        html! { (date_time(r.created_at)) },
                    ]).collect::<Vec<_>>(),
                ))
                @let next = more.then(|| rows.last().map(|r| list_href("/console/requests", &[
                    ("reference", reference.clone()),
                    ("organisation", organisation.map(|o| o.to_string())),
                    ("status", status.map(|s| s.as_str().to_owned())),
                    ("cursor", Some(encode_cursor(r.id))),
                ]))).flatten();
                (pagination(next.as_deref()))
            }
        }
    };
    page(status_code, Shell::new(&title).signed_in(&principal), body)
}

fn subject_name(request: &ShownRequest) -> String {
    request
        .full_name()
        .unwrap_or_else(|| t("case-subject-erased"))
}

fn done_banner(done: Option<&str>) -> Option<Markup> {
    match done? {
        "revoked" => Some(banner(&t("case-done-revoked"), None)),
        _ => None,
    }
}

struct CaseForm {
    reason: String,
}

async fn case_page(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    status: StatusCode,
    form: &CaseForm,
    errors: &Errors,
    top: Option<Markup>,
) -> Response {
    let request = match screening::shown_one(state, principal, id).await {
        Ok((request, _)) => request,
        Err(error) => return errors::page_for(error),
    };
    let organisation_id = request.organisation_id;
    let events = match screening::events(state, principal, id).await {
        Ok(events) => events,
        Err(error) => return errors::page_for(error),
    };
    let names = match tasks::checker_names(state).await {
        Ok(names) => names,
        Err(error) => return errors::page_for(error),
    };
    let organisation = match organisations::names_of(state, vec![organisation_id]).await {
        Ok(mut names) => names.remove(&organisation_id).unwrap_or_default(),
        Err(error) => return errors::page_for(error),
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t_with(
        "case-title",
        &[("reference", request.reference.clone().into())],
    );
    let staff = request.staff.as_ref();
    let decision = request.decision.as_ref();
    let revocable = principal.role == Role::Admin
        && decision
            .is_some_and(|d| d.certificate_id.is_some() && d.certificate_revoked_at.is_none());
    let body = html! {
        (nav(principal, "/console/requests"))
        @if let Some(top) = top { (top) }
        (errors.summary())
        h1 { (title) }
        (summary_list(&[
            (t("case-field-subject"), html! { (subject_name(&request)) }),
            (t("case-field-organisation"), html! { (organisation) }),
            (t("case-field-status"), html! {
                (staff.map_or_else(|| request.status.as_str().to_owned(), |s| request_status_label(s.full_status)))
            }),
            (t("task-field-profile"), html! { (request.profile) }),
            (t("task-field-position"), html! { (request.position_title) " (" (request.role.as_str()) ")" }),
            (t("task-field-deployment"), html! {
                (country_name(Lang::En, &request.deployment_country)) ", " (t_with("task-from-date", &[("date", request.deployment_start_date.to_string().into())]))
            }),
            (t("case-field-deadline"), html! {
                (staff.and_then(|s| s.decision_deadline).map_or_else(|| t("case-no-deadline"), date_time))
            }),
            (t("case-field-decision"), html! {
                @match decision {
                    Some(d) => {
                        (outcome_label(&d.outcome)) ", " (date_time(d.decided_at))
                        @if d.revised { " (" (t("case-revised")) ")" }
                    }
                    None => { (t("case-undecided")) }
                }
            }),
            (t("case-field-certificate"), html! {
                @match decision.and_then(|d| d.certificate_id.map(|c| (c, d))) {
                    Some((certificate, d)) => {
                        @match d.certificate_revoked_at {
                            Some(at) => { strong { (t("case-certificate-revoked")) } " " (date_time(at)) }
                            None => { (t_with("case-certificate-valid", &[("date", d.valid_until.map(|v| v.to_string()).unwrap_or_default().into())])) }
                        }
                        br; span.hint { (certificate) }
                    }
                    None => { (t("case-no-certificate")) }
                }
            }),
        ]))
        @if let Some(staff) = staff {
            (table(
                &t("case-tasks-caption"),
                &[t("queue-col-task"), t("task-field-assignee"), t("queue-col-status"), t("queue-col-due")],
                &staff.tasks.iter().map(|task| vec![
                    html! { a href={ "/console/tasks/" (task.id) } { (task_label(&task.kind, task.check_id.as_deref())) } },
                    html! { (task.assignee_id.or(task.completed_by).and_then(|c| names.get(&c).cloned()).unwrap_or_else(|| t("task-nobody"))) },
                    html! { (status_label(&task.status)) @if let Some(outcome) = &task.outcome { " — " (outcome_label(outcome)) } },
                    html! { (date_time(task.due_at)) },
                ]).collect::<Vec<_>>(),
            ))
        }
        (timeline(&events))
        @if revocable {
            h2 { (t("case-revoke-heading")) }
            form method="post" action={ "/console/requests/" (request.id) "/revoke" } novalidate {
                (csrf_field(&csrf))
                (textarea("reason", &t("field-reason"), Some(&t("case-revoke-hint")), &form.reason, errors))
                div.actions { button.warning type="submit" { (t("case-revoke-submit")) } }
            }
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
    case_page(
        &state,
        &principal,
        id,
        StatusCode::OK,
        &CaseForm {
            reason: String::new(),
        },
        &Errors::none(),
        done_banner(value(&pairs, "done")),
    )
    .await
}

pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CaseForm {
        reason: value(&pairs, "reason").unwrap_or_default().to_owned(),
    };
    let action = format!("/console/requests/{id}/revoke");
    let what = t("step-up-what-revoke");
    let hidden = [("reason", form.reason.as_str())];
    let code = value(&pairs, "code").map(str::to_owned);
    let (state, form) = (&state, &form);
    with_step_up(
        state,
        principal,
        code,
        &action,
        &what,
        &hidden,
        |principal| async move {
            let Some(certificate) = certificates::id_for_request(state, id).await? else {
                return Err(AppError::Conflict(t("case-no-certificate")));
            };
            match certificates::revoke(state, &principal, certificate, &form.reason).await {
                Ok(_) => Ok(
                    Redirect::to(&format!("/console/requests/{id}?done=revoked")).into_response(),
                ),
                Err(AppError::Validation(list)) => Ok(case_page(
                    state,
                    &principal,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    form,
                    &Errors::new(list),
                    None,
                )
                .await),
                Err(AppError::Conflict(detail)) => Ok(case_page(
                    state,
                    &principal,
                    id,
                    StatusCode::CONFLICT,
                    form,
                    &Errors::none(),
                    Some(notice(&t("task-conflict-title"), Some(&detail))),
                )
                .await),
                Err(error) => Err(error),
            }
        },
    )
    .await
}
