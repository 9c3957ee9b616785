//! Supervision (`/console/supervision`): the load on each checker, the tasks waiting for one
//! with the engine's reasons no one may take them, and missed decision deadlines.
use axum::{extract::State, http::StatusCode, response::Response};
use maud::html;

use super::{nav, task_label, tasks::verdict_text};
use crate::{
    auth::Principal,
    db,
    engine::routing::Verdict,
    services::{AppState, supervision},
    web::{
        components::{date_time, table},
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

pub async fn show(State(state): State<AppState>, principal: Principal) -> Response {
    let overview = match supervision::overview(&state).await {
        Ok(overview) => overview,
        Err(error) => return errors::page_for(error),
    };
    let now = db::now();
    let title = t("supervision-title");
    let body = html! {
        (nav(&principal, "/console/supervision"))
        h1 { (title) }
        (table(
            &t("supervision-checkers-caption"),
            &[t("task-col-checker"), t("supervision-col-open"), t("supervision-col-overdue"), t("supervision-col-notes")],
            &overview.checkers.iter().map(|c| vec![
                html! { (c.name) },
                html! { (t_with("supervision-open-of-cap", &[("open", c.open_tasks.into()), ("cap", c.max_open_tasks.into())])) },
                html! { @if c.overdue_tasks > 0 { strong.overdue { (c.overdue_tasks) } } @else { "0" } },
                html! {
                    @if !c.active { (t("supervision-inactive")) " " }
                    @if c.supervisor { (t("supervision-supervisor")) " " }
                    @if c.max_open_tasks > 0 && c.open_tasks >= u64::try_from(c.max_open_tasks).unwrap_or(0) { (t("supervision-at-cap")) }
                },
            ]).collect::<Vec<_>>(),
        ))
        h2 { (t("supervision-waiting-heading")) }
        @if overview.waiting.is_empty() {
            p { (t("supervision-waiting-none")) }
        } @else {
            (table(
                &t("supervision-waiting-caption"),
                &[t("queue-col-task"), t("queue-col-reference"), t("queue-col-organisation"), t("supervision-col-waiting"), t("supervision-col-why")],
                &overview.waiting.iter().map(|w| vec![
                    html! { a href={ "/console/tasks/" (w.task.id) } { (task_label(&w.task.kind, w.task.check_id.as_deref())) } },
                    html! { (w.reference) },
                    html! { (w.organisation) },
                    html! { (t_with("supervision-waiting-for", &[("hours", (now - w.task.created_at).whole_hours().into())])) },
                    html! {
                        @let eligible = w.reasons.iter().any(|(v, _)| *v == Verdict::Eligible);
                        @if eligible { (t("supervision-someone-eligible")) }
                        @else if w.reasons.is_empty() { (t("supervision-no-checkers")) }
                        @else {
                            ul.reasons {
                                @for (verdict, count) in &w.reasons {
                                    li { (count) " × " (verdict_text(*verdict)) }
                                }
                            }
                        }
                    },
                ]).collect::<Vec<_>>(),
            ))
        }
        h2 { (t("supervision-missed-heading")) }
        @if overview.missed.is_empty() {
            p { (t("supervision-missed-none")) }
        } @else {
            (table(
                &t("supervision-missed-caption"),
                &[t("queue-col-reference"), t("queue-col-organisation"), t("queue-col-status"), t("case-field-deadline")],
                &overview.missed.iter().map(|m| vec![
                    html! { a href={ "/console/requests/" (m.request_id) } { (m.reference) } },
                    html! { (m.organisation) },
                    html! { (m.status.replace('_', " ")) },
                    html! { strong.overdue { (date_time(m.deadline)) } },
                ]).collect::<Vec<_>>(),
            ))
        }
    };
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(&principal),
        body,
    )
}
