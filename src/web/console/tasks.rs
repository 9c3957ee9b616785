//! The queue (`/console/tasks`) and the task page (`/console/tasks/{id}`) with its forms:
//! complete, release, assign. Each form calls the service the API's handler calls.
use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde_json::Value;
use uuid::Uuid;

use super::{
    due_in_words, kind_option, list_href, nav, outcome_label, query_pairs, status_for,
    status_label, task_label, unknown_fields, value,
};
use crate::{
    auth::Principal,
    db,
    engine::{routing::Verdict, tasks::TaskKind},
    error::{AppError, FieldError},
    i18n::{Lang, country_name},
    pagination::{PageParams, encode_cursor},
    services::{
        AppState,
        queue::{self, QueueFilter, QueueView},
        tasks::{self, Blocked, Completion, TaskCase},
    },
    web::{
        account::with_step_up,
        components::{
            Errors, banner, csrf_field, date_time, label_for, notice, pagination, radios, select,
            summary_list, table, textarea,
        },
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

const QUEUE_FILTERS: [&str; 5] = ["view", "kind", "status", "overdue", "cursor"];

fn view_label(view: QueueView) -> String {
    match view {
        QueueView::Mine => t("queue-view-mine"),
        QueueView::Completed => t("queue-view-completed"),
        QueueView::Unassigned => t("queue-view-unassigned"),
        QueueView::Overdue => t("queue-view-overdue"),
        QueueView::All => t("queue-view-all"),
    }
}

/// The filters as asked for, checked with the API's rules; errors name the parameter.
struct AskedQueue {
    view: QueueView,
    kind: Option<String>,
    status: Option<String>,
    overdue: Option<String>,
}

fn parse_queue(
    principal: &Principal,
    pairs: &[(String, String)],
) -> (
    AskedQueue,
    Result<(QueueFilter, crate::pagination::PageRequest), Vec<FieldError>>,
) {
    let mut errors = unknown_fields(pairs, &QUEUE_FILTERS);
    let view = match value(pairs, "view") {
        None => QueueView::default_for(principal),
        Some(v) => QueueView::parse(v).unwrap_or_else(|| {
            errors.push(FieldError::new("view", format!("unknown view `{v}`")));
            QueueView::default_for(principal)
        }),
    };
    let kind = value(pairs, "kind").and_then(|k| {
        TaskKind::parse(k).or_else(|| {
            errors.push(FieldError::new("kind", format!("unknown task kind `{k}`")));
            None
        })
    });
    let status = value(pairs, "status").and_then(|s| match queue::parse_status(s) {
        Ok(s) => Some(s),
        Err(message) => {
            errors.push(FieldError::new("status", message));
            None
        }
    });
    let overdue = match value(pairs, "overdue") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            errors.push(FieldError::new("overdue", "must be true or false"));
            None
        }
    };
    let page = PageParams {
        limit: None,
        cursor: value(pairs, "cursor").map(str::to_owned),
    }
    .validate();
    let page = match page {
        Ok(page) => Some(page),
        Err(list) => {
            errors.extend(list);
            None
        }
    };
    let asked = AskedQueue {
        view,
        kind: kind.map(|k| k.as_str().to_owned()),
        status: status.clone(),
        overdue: overdue.map(|o| o.to_string()),
    };
    let result = match page {
        Some(page) if errors.is_empty() => Ok((
            QueueFilter {
                view,
                kind,
                status,
                overdue,
            },
            page,
        )),
        _ => Err(errors),
    };
    (asked, result)
}

fn done_banner(done: Option<&str>) -> Option<Markup> {
    let title = match done? {
        "completed" => t("task-done-completed"),
        "released" => t("task-done-released"),
        "assigned" => t("task-done-assigned"),
        _ => return None,
    };
    Some(banner(&title, None))
}

pub async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    let (asked, parsed) = parse_queue(&principal, &pairs);
    let (items, errors) = match parsed {
        Ok((filter, page_request)) => {
            match queue::list(&state, &principal, filter, page_request).await {
                Ok(mut items) => {
                    let more = items.len() as u64 > page_request.limit;
                    items.truncate(page_request.limit as usize);
                    (Some((items, more)), Errors::none())
                }
                Err(AppError::Validation(list)) => (None, Errors::new(list)),
                Err(error) => return errors::page_for(error),
            }
        }
        Err(list) => (None, Errors::new(list)),
    };
    let now = db::now();
    let title = t("queue-title");
    let status = status_for(&errors);
    let href_with = |view: QueueView, cursor: Option<String>| {
        list_href(
            "/console/tasks",
            &[
                ("view", Some(view.as_str().to_owned())),
                ("kind", asked.kind.clone()),
                ("status", asked.status.clone()),
                ("overdue", asked.overdue.clone()),
                ("cursor", cursor),
            ],
        )
    };
    let kinds: Vec<(String, String)> = std::iter::once((String::new(), t("filter-any")))
        .chain(TaskKind::ALL.into_iter().map(kind_option))
        .collect();
    let statuses: Vec<(String, String)> = std::iter::once((String::new(), t("filter-any")))
        .chain(
            ["unassigned", "assigned", "completed", "cancelled"]
                .into_iter()
                .map(|s| (s.to_owned(), status_label(s))),
        )
        .collect();
    let overdue_options = vec![
        (String::new(), t("filter-any")),
        ("true".to_owned(), t("filter-overdue-yes")),
        ("false".to_owned(), t("filter-overdue-no")),
    ];
    let body = html! {
        (nav(&principal, "/console/tasks"))
        @if let Some(banner) = done_banner(value(&pairs, "done")) { (banner) }
        (errors.summary())
        h1 { (title) }
        nav.views aria-label=(t("queue-views-label")) {
            ul {
                @for view in QueueView::offered_to(&principal) {
                    li { a href=(href_with(view, None)) aria-current=[(view == asked.view).then_some("page")] { (view_label(view)) } }
                }
            }
        }
        form.filters method="get" action="/console/tasks" {
            input type="hidden" name="view" value=(asked.view.as_str());
            (select("kind", &t("filter-kind"), &kinds, asked.kind.as_deref().unwrap_or(""), &errors))
            (select("status", &t("filter-status"), &statuses, asked.status.as_deref().unwrap_or(""), &errors))
            (select("overdue", &t("filter-overdue"), &overdue_options, asked.overdue.as_deref().unwrap_or(""), &errors))
            div.actions { button.secondary type="submit" { (t("filter-apply")) } }
        }
        @if let Some((items, more)) = &items {
            @if items.is_empty() {
                p { (t("queue-empty")) }
            } @else {
                (table(
                    &t_with("queue-caption", &[("view", view_label(asked.view).into())]),
                    &[t("queue-col-due"), t("queue-col-task"), t("queue-col-reference"), t("queue-col-organisation"), t("queue-col-country"), t("queue-col-status")],
                    &items.iter().map(|item| {
                        let task = &item.task;
                        let open = matches!(task.status.as_str(), "unassigned" | "assigned");
                        vec![
                            html! {
                                (date_time(task.due_at))
                                @if open {
                                    br;
                                    @if task.due_at < now || task.overdue {
                                        strong.overdue { (due_in_words(task.due_at, now)) }
                                    } @else {
                                        span.hint { (due_in_words(task.due_at, now)) }
                                    }
                                }
                            },
                            html! { a href={ "/console/tasks/" (task.id) } { (task_label(&task.kind, task.check_id.as_deref())) } },
                            html! { (item.reference) },
                            html! { (item.organisation) },
                            html! { (country_name(Lang::En, &item.deployment_country)) },
                            html! {
                                (status_label(&task.status))
                                @if let Some(outcome) = &task.outcome { " — " (outcome_label(outcome)) }
                            },
                        ]
                    }).collect::<Vec<_>>(),
                ))
                @let next = more.then(|| items.last().map(|i| href_with(asked.view, Some(encode_cursor(i.task.id))))).flatten();
                (pagination(next.as_deref()))
            }
        }
    };
    page(status, Shell::new(&title).signed_in(&principal), body)
}

/// What the completion form had in it, to show again.
#[derive(Default)]
struct CompletionForm {
    outcome: String,
    notes: String,
    grounds: String,
}

fn task_page(
    status: StatusCode,
    principal: &Principal,
    case: &TaskCase,
    form: &CompletionForm,
    errors: &Errors,
    top: Option<Markup>,
) -> Response {
    let task = &case.view.task;
    let request = &case.request;
    let now = db::now();
    let title = task_label(&task.kind, task.check_id.as_deref());
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let kind = TaskKind::parse(&task.kind).unwrap_or(TaskKind::Check);
    let outcomes: Vec<(String, String)> = kind
        .outcomes()
        .iter()
        .map(|o| ((*o).to_owned(), outcome_label(o)))
        .collect();
    let open = matches!(task.status.as_str(), "unassigned" | "assigned");
    let body = html! {
        (nav(principal, "/console/tasks"))
        @if let Some(top) = top { (top) }
        (errors.summary())
        span.caption { (request.reference) }
        h1 { (title) }
        (summary_list(&[
            (t("task-field-status"), html! {
                (status_label(&task.status))
                @if let Some(outcome) = &task.outcome { " — " (outcome_label(outcome)) }
            }),
            (t("task-field-assignee"), html! { (case.assignee_name.clone().unwrap_or_else(|| t("task-nobody"))) }),
            (t("task-field-due"), html! {
                (date_time(task.due_at))
                @if open { " (" (due_in_words(task.due_at, now)) ")" }
            }),
            (t("task-field-organisation"), html! { (case.organisation) }),
            (t("task-field-profile"), html! { (request.profile_code) }),
            (t("task-field-position"), html! {
                (request.position_title) " (" (request.role) ")"
                @if let Some(description) = &request.position_description { br; (description) }
            }),
            (t("task-field-deployment"), html! {
                (country_name(Lang::En, &request.deployment_country)) ", " (t_with("task-from-date", &[("date", request.deployment_start_date.to_string().into())]))
            }),
            (t("task-field-case"), html! { a href={ "/console/requests/" (request.id) } { (t("task-open-case")) } }),
        ]))
        @match &case.view.context {
            Some(context) => { (context_section(context)) }
            None => { p { (t("task-subject-erased")) } }
        }
        @match &case.work {
            Ok(()) => {
                h2 { (t("task-complete-heading")) }
                form method="post" action={ "/console/tasks/" (task.id) "/complete" } novalidate {
                    (csrf_field(&csrf))
                    (radios("outcome", &t("field-outcome"), &outcomes, &form.outcome, errors))
                    (textarea("notes", &t("field-notes"), Some(&t("task-notes-hint")), &form.notes, errors))
                    @if outcomes.iter().any(|(o, _)| o == "refuse") {
                        (textarea("grounds", &t("field-grounds"), Some(&t("task-grounds-hint")), &form.grounds, errors))
                    }
                    div.actions { button type="submit" { (t("task-complete-submit")) } }
                }
                form method="post" action={ "/console/tasks/" (task.id) "/release" } {
                    (csrf_field(&csrf))
                    p { (t("task-release-text")) }
                    button.secondary type="submit" { (t("task-release-submit")) }
                }
            }
            Err(blocked) => {
                (notice(&blocked_title(blocked), Some(&blocked_text(blocked))))
            }
        }
        @if let Some(options) = &case.assignment {
            h2 { (t("task-assign-heading")) }
            @let assignable: Vec<(String, String)> = options.iter().filter(|o| o.assignable()).map(|o| {
                (o.id.to_string(), t_with("task-assign-option", &[("name", o.name.clone().into()), ("open", o.open_tasks.into()), ("cap", o.max_open_tasks.into())]))
            }).collect();
            @if assignable.is_empty() {
                p { (t("task-assign-nobody")) }
            } @else {
                form method="post" action={ "/console/tasks/" (task.id) "/assign" } novalidate {
                    (csrf_field(&csrf))
                    (radios("checker_id", &t("field-checker"), &assignable, "", errors))
                    div.actions { button type="submit" { (t("task-assign-submit")) } }
                }
            }
            @let others: Vec<&tasks::CheckerOption> = options.iter().filter(|o| !o.assignable()).collect();
            @if !others.is_empty() {
                (table(
                    &t("task-ineligible-caption"),
                    &[t("task-col-checker"), t("task-col-why")],
                    &others.iter().map(|o| vec![html! { (o.name) }, html! { (verdict_text(o.verdict)) }]).collect::<Vec<_>>(),
                ))
            }
        }
        (timeline(&case.events))
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

fn blocked_title(blocked: &Blocked) -> String {
    match blocked {
        Blocked::Closed => t("task-blocked-closed"),
        Blocked::ProposedDecision => t("task-blocked-proposed"),
        Blocked::Excluded => t("task-blocked-excluded"),
        Blocked::NotAssignedToYou => t("task-blocked-not-yours"),
        Blocked::NoLongerEligible => t("task-blocked-ineligible"),
    }
}

fn blocked_text(blocked: &Blocked) -> String {
    match blocked {
        Blocked::Closed => t("task-blocked-closed-text"),
        Blocked::ProposedDecision => t("task-blocked-proposed-text"),
        Blocked::Excluded => t("task-blocked-excluded-text"),
        Blocked::NotAssignedToYou => t("task-blocked-not-yours-text"),
        Blocked::NoLongerEligible => t("task-blocked-ineligible-text"),
    }
}

/// The engine's reason a checker may not take a task, in words.
pub fn verdict_text(verdict: Verdict) -> String {
    match verdict {
        Verdict::Eligible => t("verdict-eligible"),
        Verdict::AtCap => t("verdict-at-cap"),
        Verdict::Inactive => t("verdict-inactive"),
        Verdict::Unauthorised => t("verdict-unauthorised"),
        Verdict::NotSupervisor => t("verdict-not-supervisor"),
        Verdict::Conflict => t("verdict-conflict"),
        Verdict::Excluded => t("verdict-excluded"),
    }
}

/// The request's timeline: each event and the status it led to.
pub fn timeline(events: &[entity::request_event::Model]) -> Markup {
    table(
        &t("timeline-caption"),
        &[
            t("timeline-col-at"),
            t("timeline-col-event"),
            t("timeline-col-status"),
        ],
        &events
            .iter()
            .map(|e| {
                vec![
                    html! { (date_time(e.at)) },
                    html! { (e.kind.replace('_', " ")) },
                    html! { (e.status.replace('_', " ")) },
                ]
            })
            .collect::<Vec<_>>(),
    )
}

/// The subject data of the API's task view, every field it holds and nothing more: the page
/// renders the same JSON the API answers with.
/// The order a checker reads a person's details and a table's columns in; a field the view
/// holds that is not listed comes after, so nothing it gives is left out.
const FIELD_ORDER: [&str; 21] = [
    "given_names",
    "family_name",
    "date_of_birth",
    "place_of_birth",
    "country_of_birth",
    "nationalities",
    "bsn",
    "organisation",
    "name",
    "email",
    "relationship",
    "country",
    "from",
    "to",
    "contact_email",
    "kind",
    "check",
    "outcome",
    "notes",
    "grounds",
    "completed_at",
];

fn in_reading_order<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut keys: Vec<&String> = keys.collect();
    keys.sort_by_key(|k| {
        FIELD_ORDER
            .iter()
            .position(|f| f == k)
            .unwrap_or(FIELD_ORDER.len())
    });
    keys
}

/// One value of the task view as text; countries by name, with the code the documents carry.
fn shown_value(key: &str, value: &Value) -> Markup {
    let country = |code: &str| format!("{} ({code})", country_name(Lang::En, code));
    let text = match (key, value) {
        (_, Value::Null) => "—".to_owned(),
        ("country" | "country_of_birth", Value::String(code)) => country(code),
        ("nationalities", Value::Array(codes)) => codes
            .iter()
            .filter_map(Value::as_str)
            .map(country)
            .collect::<Vec<_>>()
            .join(", "),
        ("kind", Value::String(kind)) => task_label(kind, None),
        ("outcome", Value::String(outcome)) => outcome_label(outcome),
        (_, Value::String(text)) => text.clone(),
        (_, Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        (_, other) => other.to_string(),
    };
    html! { (text) }
}

/// The subject data of the API's task view, every field it holds and nothing more: the page
/// renders the same JSON the API answers with.
fn context_section(context: &Value) -> Markup {
    html! {
        @if let Some(subject) = context.get("subject").and_then(Value::as_object) {
            h2 { (t("task-subject-heading")) }
            (summary_list(&in_reading_order(subject.keys()).into_iter()
                .map(|k| (label_for(k), shown_value(k, &subject[k.as_str()]))).collect::<Vec<_>>()))
        }
        @for (key, caption) in [("previous_employers", t("task-employers-caption")), ("referees", t("task-referees-caption")), ("earlier_tasks", t("task-earlier-caption"))] {
            @if let Some(rows) = context.get(key).and_then(Value::as_array) {
                @let columns: Vec<&String> = rows.first().and_then(Value::as_object).map(|o| in_reading_order(o.keys())).unwrap_or_default();
                @if rows.is_empty() {
                    h2 { (caption) }
                    p { (t("task-none")) }
                } @else {
                    (table(
                        &caption,
                        &columns.iter().map(|c| label_for(c)).collect::<Vec<_>>(),
                        &rows.iter().map(|row| columns.iter()
                            .map(|c| shown_value(c, row.get(c.as_str()).unwrap_or(&Value::Null)))
                            .collect()).collect::<Vec<_>>(),
                    ))
                }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    match tasks::case(&state, &principal, id).await {
        Ok(case) => task_page(
            StatusCode::OK,
            &principal,
            &case,
            &CompletionForm::default(),
            &Errors::none(),
            done_banner(value(&pairs, "done")),
        ),
        Err(error) => errors::page_for(error),
    }
}

/// The page again after a refused action, with what was typed and why.
async fn again(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    status: StatusCode,
    form: &CompletionForm,
    errors: &Errors,
) -> Response {
    match tasks::case(state, principal, id).await {
        Ok(case) => task_page(status, principal, &case, form, errors, None),
        Err(error) => errors::page_for(error),
    }
}

/// A conflict the API answers with 409 (someone else got there first), explained with the
/// task as it is now.
async fn conflict(state: &AppState, principal: &Principal, id: Uuid, detail: String) -> Response {
    match tasks::case(state, principal, id).await {
        Ok(case) => task_page(
            StatusCode::CONFLICT,
            principal,
            &case,
            &CompletionForm::default(),
            &Errors::none(),
            Some(notice(&t("task-conflict-title"), Some(&detail))),
        ),
        // Gone from the caller's sight (released, reassigned): the 409 page says what.
        Err(_) => errors::page_for(AppError::Conflict(t("task-conflict-gone"))),
    }
}

/// What a form's action came to, as a page: done (`Ok`), or the task page again with the
/// form's errors (422) or with what happened meanwhile (409). Any other error is the caller's.
async fn answer(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    form: &CompletionForm,
    outcome: Result<Response, AppError>,
) -> Result<Response, AppError> {
    match outcome {
        Err(AppError::Validation(list)) => Ok(again(
            state,
            principal,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            &Errors::new(list),
        )
        .await),
        Err(AppError::Conflict(detail)) => Ok(conflict(state, principal, id, detail).await),
        other => other,
    }
}

pub async fn complete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CompletionForm {
        outcome: value(&pairs, "outcome").unwrap_or_default().to_owned(),
        notes: value(&pairs, "notes").unwrap_or_default().to_owned(),
        grounds: value(&pairs, "grounds").unwrap_or_default().to_owned(),
    };
    let action = format!("/console/tasks/{id}/complete");
    let hidden = [
        ("outcome", form.outcome.as_str()),
        ("notes", form.notes.as_str()),
        ("grounds", form.grounds.as_str()),
    ];
    let code = value(&pairs, "code").map(str::to_owned);
    let what = t("step-up-what-refuse");
    let (state, form, pairs) = (&state, &form, &pairs);
    with_step_up(
        state,
        principal,
        code,
        &action,
        &what,
        &hidden,
        |principal| async move {
            // Blank notes or grounds are none, as an absent JSON field is.
            let completed = async {
                let completion = Completion::parse(
                    &form.outcome,
                    value(pairs, "notes"),
                    value(pairs, "grounds"),
                )?;
                tasks::complete(state, &principal, id, completion).await?;
                Ok(Redirect::to(&format!("/console/tasks/{id}?done=completed")).into_response())
            }
            .await;
            answer(state, &principal, id, form, completed).await
        },
    )
    .await
}

pub async fn release(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    // Released, the task is no longer the checker's to open.
    let released = tasks::release(&state, &principal, id)
        .await
        .map(|_| Redirect::to("/console/tasks?done=released").into_response());
    answer(&state, &principal, id, &CompletionForm::default(), released)
        .await
        .unwrap_or_else(errors::page_for)
}

pub async fn assign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let assigned = match value(&pairs, "checker_id").map(str::parse::<Uuid>) {
        Some(Ok(checker)) => tasks::assign(&state, &principal, id, checker)
            .await
            .map(|_| Redirect::to(&format!("/console/tasks/{id}?done=assigned")).into_response()),
        _ => Err(AppError::validation("checker_id", t("task-assign-choose"))),
    };
    answer(&state, &principal, id, &CompletionForm::default(), assigned)
        .await
        .unwrap_or_else(errors::page_for)
}
