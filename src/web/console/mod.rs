//! The console (`/console`, web.md): the checkers', supervisors' and admins' pages over the same
//! services as `/v1/tasks`, `/v1/screening-requests` and the rest. What a page shows and what
//! its forms may do come from `services` and the engine; here they are only rendered.
use maud::{Markup, html};

use super::i18n::{t, t_with};
use crate::{auth::Principal, domain::Role, engine::tasks::TaskKind};

// The query and form helpers every list and form page uses, where the console's pages find them.
pub use super::forms::{
    fold_indexed, list_href, one_page, page_request, query_pairs, status_for, unknown_fields,
    value, values, whole_number,
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
}
