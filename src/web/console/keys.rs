//! Signing keys (`/console/keys`, admins): the key that signs, the retired ones and how many
//! unexpired certificates still need each to verify; rotation as `safescreen keys rotate`
//! does it, after a fresh second factor.
use axum::{
    Form,
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;

use super::{nav, value};
use crate::{
    auth::Principal,
    services::{AppState, certificates},
    web::{
        account::with_step_up,
        components::{banner, csrf_field, date_time, table},
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let keys = match certificates::signing_keys(&state).await {
        Ok(keys) => keys,
        Err(error) => return errors::page_for(error),
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("keys-title");
    let body = html! {
        (nav(&principal, "/console/keys"))
        @if value(&pairs, "done") == Some("rotated") { (banner(&t("keys-done-rotated"), None)) }
        h1 { (title) }
        (table(
            &t("keys-caption"),
            &[t("keys-col-kid"), t("keys-col-created"), t("field-status"), t("keys-col-needed")],
            &keys.iter().map(|k| vec![
                html! { code { (k.kid) } },
                html! { (date_time(k.created_at)) },
                html! {
                    @match k.retired_at {
                        None => strong { (t("keys-signs")) },
                        Some(at) => { (t_with("keys-retired", &[("date", date_time(at).into())])) },
                    }
                },
                html! {
                    @if k.retired_at.is_none() || k.unexpired_certificates > 0 {
                        (t_with("keys-needed-by", &[("count", k.unexpired_certificates.into())]))
                    } @else {
                        (t("keys-not-needed"))
                    }
                },
            ]).collect::<Vec<_>>(),
        ))
        h2 { (t("keys-rotate-heading")) }
        p.hint { (t("keys-rotate-hint")) }
        form method="post" action="/console/keys/rotate" {
            (csrf_field(&csrf))
            div.actions { button.warning type="submit" { (t("keys-rotate-submit")) } }
        }
    };
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(&principal),
        body,
    )
}

pub async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let code = value(&pairs, "code").map(str::to_owned);
    let what = t("step-up-what-rotate");
    let state = &state;
    with_step_up(
        state,
        principal,
        code,
        "/console/keys/rotate",
        &what,
        &[],
        |principal| async move {
            certificates::rotate_by(state, &principal).await?;
            Ok(Redirect::to("/console/keys?done=rotated").into_response())
        },
    )
    .await
}
