//! The audit log (`/console/audit`, admins): the events filtered as `GET /v1/audit-events`
//! filters them, and the hash chain's state, verified when the page is asked for.
use axum::{
    extract::{Query, State, rejection::QueryRejection},
    response::Response,
};
use maud::html;

use super::{
    list_href, nav, one_page, page_request, query_pairs, status_for, unknown_fields, value,
};
use crate::{
    audit::chain::BrokenLink,
    auth::Principal,
    error::AppError,
    pagination::encode_cursor,
    services::{
        AppState,
        audit::{self, ChainState},
    },
    web::{
        components::{Errors, Input, date_time, notice, pagination, table},
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};
use entity::audit_event;

const FILTERS: [&str; 4] = ["target", "actor", "action", "cursor"];

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    show_page(&state, &principal, &pairs)
        .await
        .unwrap_or_else(errors::page_for)
}

async fn show_page(
    state: &AppState,
    principal: &Principal,
    pairs: &[(String, String)],
) -> Result<Response, AppError> {
    let mut problems = unknown_fields(pairs, &FILTERS);
    let request = page_request(pairs, &mut problems);
    let filter = |name| value(pairs, name).map(str::to_owned);
    let (target, actor, action) = (filter("target"), filter("actor"), filter("action"));
    let rows = if problems.is_empty() {
        audit::list(
            state,
            audit::Query {
                target: target.clone(),
                actor: actor.clone(),
                action: action.clone(),
            },
            request,
        )
        .await?
    } else {
        Vec::new()
    };
    let (rows, next) = one_page(rows, request, |e: &audit_event::Model| {
        list_href(
            "/console/audit",
            &[
                ("target", target.clone()),
                ("actor", actor.clone()),
                ("action", action.clone()),
                ("cursor", Some(encode_cursor(e.id))),
            ],
        )
    });
    let chain = audit::chain_state(state).await?;
    let errors = Errors::new(problems);
    let status = status_for(&errors);
    let title = t("audit-title");
    let body = html! {
        (nav(principal, "/console/audit"))
        (errors.summary())
        h1 { (title) }
        @match &chain {
            ChainState::Whole(verified) => {
                p.chain-state {
                    strong { (t("audit-chain-whole")) } " "
                    (t_with("audit-chain-verified", &[("count", verified.chained.into())]))
                    @if verified.pending > 0 { " " (t_with("audit-chain-pending", &[("count", verified.pending.into())])) }
                }
            }
            ChainState::Broken(BrokenLink { seq, reason }) => {
                (notice(&t("audit-chain-broken"), Some(&t_with("audit-chain-broken-at", &[("seq", (*seq).into()), ("reason", reason.clone().into())]))))
            }
        }
        form.filters method="get" action="/console/audit" {
            (Input::text("target", t("field-target")).hint(t("audit-target-hint")).value(target.as_deref().unwrap_or("")).render(&errors))
            (Input::text("actor", t("field-actor")).hint(t("audit-actor-hint")).value(actor.as_deref().unwrap_or("")).render(&errors))
            (Input::text("action", t("field-action")).hint(t("audit-action-hint")).value(action.as_deref().unwrap_or("")).render(&errors))
            div.actions { button.secondary type="submit" { (t("filter-apply")) } }
        }
        @if rows.is_empty() {
            p { (t("audit-empty")) }
        } @else {
            (table(
                &t("audit-caption"),
                &[t("audit-col-seq"), t("audit-col-at"), t("field-actor"), t("field-action"), t("field-target"), t("audit-col-details")],
                &rows.iter().map(|e| vec![
                    html! { (e.seq.map_or_else(|| t("audit-not-linked"), |s| s.to_string())) },
                    html! { (date_time(e.at)) },
                    html! { a href=(list_href("/console/audit", &[("actor", Some(e.actor.clone()))])) { (e.actor) } },
                    html! { (e.action) },
                    html! {
                        @if let Some(target) = &e.target {
                            a href=(list_href("/console/audit", &[("target", Some(target.clone()))])) { (target) }
                        }
                    },
                    html! { code { (e.details.to_string()) } },
                ]).collect::<Vec<_>>(),
            ))
            (pagination(next.as_deref()))
        }
    };
    Ok(page(status, Shell::new(&title).signed_in(principal), body))
}
