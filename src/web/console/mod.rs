//! The console (`/console`, web.md): the checkers', supervisors' and admins' pages over the same
//! services as `/v1/tasks`, `/v1/screening-requests` and the rest. What a page shows and what
//! its forms may do come from `services` and the engine; here they are only rendered.
use axum::extract::{Query, rejection::QueryRejection};
use maud::{Markup, html};

use super::i18n::{t, t_with};
use crate::{
    auth::Principal,
    domain::Role,
    engine::tasks::TaskKind,
    error::{AppError, FieldError},
    pagination::{PageParams, PageRequest},
};

pub mod audit;
pub mod cases;
pub mod checkers;
pub mod keys;
pub mod organisations;
pub mod supervision;
pub mod tasks;
pub mod workflows;

/// The console's own navigation, below the site header; `current` is marked for screen
/// readers and by its look.
pub fn nav(principal: &Principal, current: &str) -> Markup {
    let oversees = principal.role == Role::Admin || principal.supervisor;
    let mut links = vec![
        ("/console/tasks", t("console-nav-tasks")),
        ("/console/requests", t("console-nav-requests")),
    ];
    if oversees {
        links.push(("/console/supervision", t("console-nav-supervision")));
        links.push(("/console/checkers", t("console-nav-checkers")));
    }
    links.push(("/console/workflows", t("console-nav-workflows")));
    if principal.role == Role::Admin {
        links.push(("/console/organisations", t("console-nav-organisations")));
        links.push(("/console/profiles", t("console-nav-profiles")));
        links.push(("/console/audit", t("console-nav-audit")));
        links.push(("/console/keys", t("console-nav-keys")));
    }
    html! {
        nav.console aria-label=(t("console-nav-label")) {
            ul {
                @for (href, label) in &links {
                    li { a href=(href) aria-current=[(*href == current).then_some("page")] { (label) } }
                }
            }
        }
    }
}

/// A task's kind as people say it, with the check it is for.
pub fn task_label(kind: &str, check: Option<&str>) -> String {
    let kind = match TaskKind::parse(kind) {
        Some(TaskKind::Check) => t("task-kind-check"),
        Some(TaskKind::Assessment) => t("task-kind-assessment"),
        Some(TaskKind::FourEyesReview) => t("task-kind-four-eyes-review"),
        Some(TaskKind::SupervisorReview) => t("task-kind-supervisor-review"),
        Some(TaskKind::FinalReview) => t("task-kind-final-review"),
        Some(TaskKind::ObjectionReview) => t("task-kind-objection-review"),
        None => kind.to_owned(),
    };
    match check {
        Some(check) => format!("{kind}: {}", check.replace('_', " ")),
        None => kind,
    }
}

/// A task kind for a filter's options.
pub fn kind_option(kind: TaskKind) -> (String, String) {
    (kind.as_str().to_owned(), task_label(kind.as_str(), None))
}

/// An outcome as people say it.
pub fn outcome_label(outcome: &str) -> String {
    match outcome {
        "no_concerns" => t("outcome-no-concerns"),
        "concerns" => t("outcome-concerns"),
        "unable_to_verify" => t("outcome-unable-to-verify"),
        "clear" => t("outcome-clear"),
        "refuse" => t("outcome-refuse"),
        "concur" => t("outcome-concur"),
        "dissent" => t("outcome-dissent"),
        "uphold" => t("outcome-uphold"),
        "overturn" => t("outcome-overturn"),
        other => other.replace('_', " "),
    }
}

/// A task status as people say it.
pub fn status_label(status: &str) -> String {
    match status {
        "unassigned" => t("task-status-unassigned"),
        "assigned" => t("task-status-assigned"),
        "completed" => t("task-status-completed"),
        "cancelled" => t("task-status-cancelled"),
        other => other.to_owned(),
    }
}

/// When a task is due, in words: "due in 3 days", "due today", "2 days overdue".
pub fn due_in_words(due: time::PrimitiveDateTime, now: time::PrimitiveDateTime) -> String {
    let left = due - now;
    if left.is_negative() {
        let late = -left;
        if late.whole_days() >= 1 {
            t_with("due-days-overdue", &[("days", late.whole_days().into())])
        } else {
            t_with(
                "due-hours-overdue",
                &[("hours", late.whole_hours().max(1).into())],
            )
        }
    } else if left.whole_days() >= 1 {
        t_with("due-in-days", &[("days", left.whole_days().into())])
    } else {
        t_with(
            "due-in-hours",
            &[("hours", left.whole_hours().max(1).into())],
        )
    }
}

/// A list page's query string as name–value pairs; one that cannot be read is the page with
/// an error, as an unknown filter is.
pub fn query_pairs(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, AppError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|_| AppError::BadRequest("the address could not be read".into()))
}

/// The value of `name` among a form's or a query's pairs (the last one wins), `None` when
/// absent or blank.
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Field errors for the names among `pairs` that are not in `known`.
pub fn unknown_fields(pairs: &[(String, String)], known: &[&str]) -> Vec<FieldError> {
    pairs
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, _)| FieldError::new(key.clone(), t("console-unknown-filter")))
        .collect()
}

/// The page of a list a query asks for (its `cursor`); when the cursor is broken, what is
/// wrong goes to `problems` and the first page stands in (the list is not read then).
pub fn page_request(pairs: &[(String, String)], problems: &mut Vec<FieldError>) -> PageRequest {
    PageParams {
        limit: None,
        cursor: value(pairs, "cursor").map(str::to_owned),
    }
    .validate()
    .unwrap_or_else(|list| {
        problems.extend(list);
        PageRequest {
            limit: 25,
            after: None,
        }
    })
}

/// One page of rows fetched with one extra, and the link to the next page if there is one.
pub fn one_page<R>(
    mut rows: Vec<R>,
    request: PageRequest,
    next_href: impl Fn(&R) -> String,
) -> (Vec<R>, Option<String>) {
    let more = rows.len() as u64 > request.limit;
    rows.truncate(request.limit as usize);
    let next = if more {
        rows.last().map(next_href)
    } else {
        None
    };
    (rows, next)
}

/// Field errors of listed values (`conflicts[2]`) named for the form's one field
/// (`conflicts`), so the error summary links to a control that exists.
pub fn fold_indexed(list: Vec<FieldError>) -> Vec<FieldError> {
    list.into_iter()
        .map(|mut error| {
            if let Some(at) = error.field.find('[') {
                error.field.truncate(at);
            }
            error
        })
        .collect()
}

/// The status a page answers with: 422 when its form or query has errors.
pub fn status_for(errors: &crate::web::components::Errors) -> axum::http::StatusCode {
    if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// The whole number a form field holds; when it holds none, its error goes to `problems`
/// (and the -1 returned is never used).
pub fn whole_number(text: &str, field: &str, problems: &mut Vec<FieldError>) -> i64 {
    text.parse().unwrap_or_else(|_| {
        problems.push(FieldError::new(field, t("field-whole-number")));
        -1
    })
}

/// Every value of `name` among a form's pairs (checkboxes, multiple selections).
pub fn values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A link to the same list with these parameters (`None` ones left out).
pub fn list_href(path: &str, params: &[(&str, Option<String>)]) -> String {
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
        .collect();
    if pairs.is_empty() {
        return path.to_owned();
    }
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn due_dates_are_said_in_words() {
        let now = datetime!(2026-12-02 10:00);
        assert_eq!(
            due_in_words(datetime!(2026-12-05 11:00), now),
            "due in 3 days"
        );
        assert_eq!(
            due_in_words(datetime!(2026-12-03 10:30), now),
            "due in 1 day"
        );
        assert_eq!(
            due_in_words(datetime!(2026-12-02 15:00), now),
            "due in 5 hours"
        );
        assert_eq!(
            due_in_words(datetime!(2026-12-02 10:10), now),
            "due in 1 hour"
        );
        assert_eq!(
            due_in_words(datetime!(2026-12-02 08:00), now),
            "2 hours overdue"
        );
        assert_eq!(
            due_in_words(datetime!(2026-11-29 09:00), now),
            "3 days overdue"
        );
    }

    #[test]
    fn a_list_link_keeps_its_filters_and_leaves_out_the_empty_ones() {
        let href = list_href(
            "/console/tasks",
            &[
                ("view", Some("all".into())),
                ("kind", None),
                ("status", Some("a b".into())),
            ],
        );
        assert_eq!(href, "/console/tasks?view=all&status=a+b");
        assert_eq!(
            list_href("/console/tasks", &[("kind", None)]),
            "/console/tasks"
        );
    }
}
