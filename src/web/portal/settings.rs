//! The organisation's settings, for its admins: users (invited by e-mail, role changed,
//! deactivated), API keys (shown once, revoked) and webhook endpoints (the secret shown once,
//! deleted, each one's deliveries), through the same services as `/v1/organisations/{id}/…`
//! and `/v1/webhook-endpoints`.
use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use uuid::Uuid;

use super::nav;
use crate::{
    auth::Principal,
    domain::{Email, OrgRole, text},
    error::{AppError, FieldError},
    outbox::webhooks::EVENT_TYPES,
    pagination::encode_cursor,
    services::{
        AppState, api_keys,
        users::{self, NewUser, UserChange},
        webhooks,
    },
    web::{
        components::{
            Errors, Input, banner, checkboxes, csrf_field, date_time, notice, pagination, radios,
            summary_list, table,
        },
        errors,
        forms::{list_href, one_page, page_request, query_pairs, value, values},
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

fn organisation(principal: &Principal) -> Result<Uuid, AppError> {
    principal.organisation_id.ok_or(AppError::NotFound)
}

fn role_options() -> Vec<(String, String)> {
    vec![
        ("org_requester".to_owned(), t("portal-role-org-requester")),
        ("org_admin".to_owned(), t("portal-role-org-admin")),
    ]
}

fn role_label(role: &str) -> String {
    match role {
        "org_admin" => t("portal-role-org-admin"),
        _ => t("portal-role-org-requester"),
    }
}

fn done_banner(done: Option<&str>) -> Option<Markup> {
    let title = match done? {
        "invited" => t("settings-done-invited"),
        "changed" => t("settings-done-changed"),
        "revoked" => t("settings-done-revoked"),
        "deleted" => t("settings-done-deleted"),
        _ => return None,
    };
    Some(banner(&title, None))
}

struct InviteForm {
    name: String,
    email: String,
    role: String,
}

async fn users_page(
    state: &AppState,
    principal: &Principal,
    status: StatusCode,
    pairs: &[(String, String)],
    form: &InviteForm,
    errors: Errors,
    top: Option<Markup>,
) -> Response {
    let organisation_id = match organisation(principal) {
        Ok(id) => id,
        Err(error) => return errors::page_for(error),
    };
    let mut problems = Vec::new();
    let request = page_request(pairs, &mut problems);
    let rows = match users::list(state, principal, organisation_id, request).await {
        Ok(rows) => rows,
        Err(error) => return errors::page_for(error),
    };
    let (rows, next) = one_page(rows, request, |u| {
        list_href("/org/users", &[("cursor", Some(encode_cursor(u.id)))])
    });
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("settings-users-title");
    let body = html! {
        (nav(principal, "/org/users"))
        @if let Some(top) = top { (top) }
        (errors.summary())
        h1 { (title) }
        (table(
            &t("settings-users-caption"),
            &[t("field-name"), t("field-email"), t("field-role"), t("field-status"), t("settings-col-actions")],
            &rows.iter().map(|u| {
                let other_role = if u.role == "org_admin" { "org_requester" } else { "org_admin" };
                let yourself = u.id == principal.id;
                vec![
                    html! { (u.name) },
                    html! { (u.email) },
                    html! { (role_label(&u.role)) },
                    html! {
                        @if !u.active { (t("settings-user-deactivated")) }
                        @else if u.activated_at.is_none() { (t("settings-user-invited")) }
                        @else { (t("settings-user-active")) }
                    },
                    html! {
                        @if yourself { span.hint { (t("settings-user-yourself")) } }
                        @else {
                            form.inline method="post" action={ "/org/users/" (u.id) } {
                                (csrf_field(&csrf))
                                input type="hidden" name="role" value=(other_role);
                                button.secondary.small type="submit" { (t(if other_role == "org_admin" { "settings-user-make-admin" } else { "settings-user-make-requester" })) }
                            }
                            " "
                            form.inline method="post" action={ "/org/users/" (u.id) } {
                                (csrf_field(&csrf))
                                input type="hidden" name="active" value=(if u.active { "false" } else { "true" });
                                button.warning.small type="submit" { (t(if u.active { "settings-user-deactivate" } else { "settings-user-reactivate" })) }
                            }
                        }
                    },
                ]
            }).collect::<Vec<_>>(),
        ))
        (pagination(next.as_deref()))
        h2 { (t("settings-invite-heading")) }
        p { (t("settings-invite-text")) }
        form method="post" action="/org/users" novalidate {
            (csrf_field(&csrf))
            (Input::text("name", t("field-name")).value(&form.name).autocomplete("off").render(&errors))
            (Input::text("email", t("field-email")).kind("email").value(&form.email).autocomplete("off").render(&errors))
            (radios("role", &t("field-role"), &role_options(), &form.role, &errors))
            div.actions { button type="submit" { (t("settings-invite-submit")) } }
        }
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    let form = InviteForm {
        name: String::new(),
        email: String::new(),
        role: "org_requester".into(),
    };
    let top = done_banner(value(&pairs, "done"));
    users_page(
        &state,
        &principal,
        StatusCode::OK,
        &pairs,
        &form,
        Errors::none(),
        top,
    )
    .await
}

pub async fn invite_user(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let organisation_id = match organisation(&principal) {
        Ok(id) => id,
        Err(error) => return errors::page_for(error),
    };
    let form = InviteForm {
        name: value(&pairs, "name").unwrap_or_default().to_owned(),
        email: value(&pairs, "email").unwrap_or_default().to_owned(),
        role: value(&pairs, "role").unwrap_or_default().to_owned(),
    };
    let mut problems = Vec::new();
    let name = text::required(&form.name, 200)
        .map_err(|m| problems.push(FieldError::new("name", m)))
        .ok();
    let email = Email::parse(&form.email)
        .map_err(|m| problems.push(FieldError::new("email", m)))
        .ok();
    let role = OrgRole::parse(&form.role).or_else(|| {
        problems.push(FieldError::new("role", t("settings-choose-role")));
        None
    });
    let result = match (name, email, role) {
        (Some(name), Some(email), Some(role)) if problems.is_empty() => {
            let new = NewUser {
                email,
                name,
                role: role.into(),
            };
            users::create(&state, &principal, organisation_id, new)
                .await
                .map(|_| ())
        }
        _ => Err(AppError::Validation(problems)),
    };
    let errors = match result {
        Ok(()) => return Redirect::to("/org/users?done=invited").into_response(),
        Err(AppError::Validation(list)) => Errors::new(list),
        Err(AppError::Conflict(detail)) => Errors::new(vec![FieldError::new("email", detail)]),
        Err(error) => return errors::page_for(error),
    };
    users_page(
        &state,
        &principal,
        StatusCode::UNPROCESSABLE_ENTITY,
        &[],
        &form,
        errors,
        None,
    )
    .await
}

pub async fn change_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let organisation_id = match organisation(&principal) {
        Ok(id) => id,
        Err(error) => return errors::page_for(error),
    };
    let change = UserChange {
        active: value(&pairs, "active").and_then(|a| a.parse::<bool>().ok()),
        role: value(&pairs, "role").and_then(OrgRole::parse),
    };
    if change.active.is_none() && change.role.is_none() {
        return errors::page_for(AppError::BadRequest("nothing to change".into()));
    }
    match users::update(&state, &principal, organisation_id, user_id, change).await {
        Ok(_) => Redirect::to("/org/users?done=changed").into_response(),
        Err(AppError::Conflict(detail) | AppError::Forbidden(detail)) => {
            let form = InviteForm {
                name: String::new(),
                email: String::new(),
                role: "org_requester".into(),
            };
            users_page(
                &state,
                &principal,
                StatusCode::CONFLICT,
                &[],
                &form,
                Errors::none(),
                Some(notice(&t("task-conflict-title"), Some(&detail))),
            )
            .await
        }
        Err(error) => errors::page_for(error),
    }
}

async fn keys_page(
    state: &AppState,
    principal: &Principal,
    status: StatusCode,
    name: &str,
    errors: Errors,
    top: Option<Markup>,
) -> Response {
    let organisation_id = match organisation(principal) {
        Ok(id) => id,
        Err(error) => return errors::page_for(error),
    };
    // An organisation has a handful of keys: the first page of 100 is all of them.
    let request = crate::pagination::PageRequest {
        limit: 100,
        after: None,
    };
    let keys = match api_keys::list(state, principal, organisation_id, request).await {
        Ok(keys) => keys,
        Err(error) => return errors::page_for(error),
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("settings-keys-title");
    let body = html! {
        (nav(principal, "/org/api-keys"))
        @if let Some(top) = top { (top) }
        (errors.summary())
        h1 { (title) }
        p { (t("settings-keys-lead")) " " a href="/docs" { (t("footer-api")) } }
        @if keys.is_empty() {
            p { (t("settings-keys-empty")) }
        } @else {
            (table(
                &t("settings-keys-caption"),
                &[t("field-name"), t("settings-col-prefix"), t("field-created-at"), t("field-status"), t("settings-col-actions")],
                &keys.iter().map(|k| vec![
                    html! {
                        (k.name)
                        @if k.sandbox { span.hint { (t("settings-key-sandbox")) } }
                    },
                    html! { code { (k.prefix) "…" } },
                    html! { (date_time(k.created_at)) },
                    html! {
                        @match k.revoked_at {
                            Some(at) => { (t_with("settings-key-revoked-at", &[("date", date_time(at).into())])) }
                            None => { (t("settings-key-active")) }
                        }
                    },
                    html! {
                        @if k.revoked_at.is_none() {
                            form.inline method="post" action={ "/org/api-keys/" (k.id) "/revoke" } {
                                (csrf_field(&csrf))
                                button.warning.small type="submit" { (t_with("settings-key-revoke", &[("name", k.name.clone().into())])) }
                            }
                        }
                    },
                ]).collect::<Vec<_>>(),
            ))
        }
        h2 { (t("settings-key-create-heading")) }
        form method="post" action="/org/api-keys" novalidate {
            (csrf_field(&csrf))
            (Input::text("name", t("field-name")).value(name).hint(t("settings-key-name-hint")).render(&errors))
            div.actions { button type="submit" { (t("settings-key-create")) } }
        }
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let top = done_banner(value(&pairs, "done"));
    keys_page(&state, &principal, StatusCode::OK, "", Errors::none(), top).await
}

/// A secret shown once: in the page that answers the form, never in an address.
fn shown_once(title: &str, secret: &str, hint: &str) -> Markup {
    html! {
        div.banner role="status" {
            p { strong { (title) } }
            p { code.secret { (secret) } }
            p { (hint) }
        }
    }
}

pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let organisation_id = match organisation(&principal) {
        Ok(id) => id,
        Err(error) => return errors::page_for(error),
    };
    let name = value(&pairs, "name").unwrap_or_default().to_owned();
    let checked = text::required(&name, 100);
    let result = match checked {
        Ok(valid) => api_keys::create(&state, &principal, organisation_id, valid, false).await,
        Err(message) => Err(AppError::validation("name", message)),
    };
    match result {
        Ok((_, key)) => {
            let top = shown_once(&t("settings-key-created"), &key, &t("settings-key-once"));
            keys_page(
                &state,
                &principal,
                StatusCode::CREATED,
                "",
                Errors::none(),
                Some(top),
            )
            .await
        }
        Err(AppError::Validation(list)) => {
            keys_page(
                &state,
                &principal,
                StatusCode::UNPROCESSABLE_ENTITY,
                &name,
                Errors::new(list),
                None,
            )
            .await
        }
        Err(error) => errors::page_for(error),
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(key_id): Path<Uuid>,
) -> Response {
    let organisation_id = match organisation(&principal) {
        Ok(id) => id,
        Err(error) => return errors::page_for(error),
    };
    match api_keys::revoke(&state, &principal, organisation_id, key_id).await {
        Ok(()) => Redirect::to("/org/api-keys?done=revoked").into_response(),
        Err(error) => errors::page_for(error),
    }
}

fn events_of(endpoint: &entity::webhook_endpoint::Model) -> Vec<String> {
    serde_json::from_value(endpoint.events.clone()).unwrap_or_default()
}

fn event_options() -> Vec<(String, String)> {
    std::iter::once(("*".to_owned(), t("settings-webhook-all-events")))
        .chain(
            EVENT_TYPES
                .iter()
                .map(|e| ((*e).to_owned(), (*e).to_owned())),
        )
        .collect()
}

async fn webhooks_page(
    state: &AppState,
    principal: &Principal,
    status: StatusCode,
    url: &str,
    events: &[String],
    errors: Errors,
    top: Option<Markup>,
) -> Response {
    let request = crate::pagination::PageRequest {
        limit: 100,
        after: None,
    };
    let endpoints = match webhooks::list(state, principal, request).await {
        Ok(endpoints) => endpoints,
        Err(error) => return errors::page_for(error),
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("settings-webhooks-title");
    let body = html! {
        (nav(principal, "/org/webhooks"))
        @if let Some(top) = top { (top) }
        (errors.summary())
        h1 { (title) }
        p { (t("settings-webhooks-lead")) }
        @if endpoints.is_empty() {
            p { (t("settings-webhooks-empty")) }
        } @else {
            (table(
                &t("settings-webhooks-caption"),
                &[t("field-url"), t("field-events"), t("field-created-at"), t("settings-col-actions")],
                &endpoints.iter().map(|e| vec![
                    html! { a href={ "/org/webhooks/" (e.id) } { (e.url) } },
                    html! { (events_of(e).join(", ")) },
                    html! { (date_time(e.created_at)) },
                    html! {
                        form.inline method="post" action={ "/org/webhooks/" (e.id) "/delete" } {
                            (csrf_field(&csrf))
                            button.warning.small type="submit" { (t("settings-webhook-delete")) }
                        }
                    },
                ]).collect::<Vec<_>>(),
            ))
        }
        h2 { (t("settings-webhook-create-heading")) }
        form method="post" action="/org/webhooks" novalidate {
            (csrf_field(&csrf))
            (Input::text("url", t("field-url")).kind("url").value(url).hint(t("settings-webhook-url-hint")).render(&errors))
            (checkboxes("events", &t("field-events"), &event_options(), events, &errors))
            div.actions { button type="submit" { (t("settings-webhook-create")) } }
        }
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

pub async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let top = done_banner(value(&pairs, "done"));
    webhooks_page(
        &state,
        &principal,
        StatusCode::OK,
        "",
        &["*".to_owned()],
        Errors::none(),
        top,
    )
    .await
}

pub async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let url = value(&pairs, "url").unwrap_or_default().to_owned();
    let events = values(&pairs, "events");
    let checked = webhooks::check_endpoint(&url, &events, state.config.webhook_allow_private).await;
    let result = match checked {
        Ok((valid_url, valid_events)) => {
            webhooks::create(&state, &principal, valid_url, valid_events).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok((_, secret)) => {
            let top = shown_once(
                &t("settings-webhook-created"),
                &secret,
                &t("settings-webhook-once"),
            );
            webhooks_page(
                &state,
                &principal,
                StatusCode::CREATED,
                "",
                &["*".to_owned()],
                Errors::none(),
                Some(top),
            )
            .await
        }
        Err(AppError::Validation(list)) => {
            webhooks_page(
                &state,
                &principal,
                StatusCode::UNPROCESSABLE_ENTITY,
                &url,
                &events,
                Errors::new(crate::web::forms::fold_indexed(list)),
                None,
            )
            .await
        }
        Err(error) => errors::page_for(error),
    }
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match webhooks::delete(&state, &principal, id).await {
        Ok(()) => Redirect::to("/org/webhooks?done=deleted").into_response(),
        Err(error) => errors::page_for(error),
    }
}

/// `GET /org/webhooks/{id}`: the endpoint and its deliveries, newest first.
pub async fn show_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    let mut problems = Vec::new();
    let request = page_request(&pairs, &mut problems);
    let endpoint = match webhooks::own(&state, &principal, id).await {
        Ok(endpoint) => endpoint,
        Err(error) => return errors::page_for(error),
    };
    let deliveries = match webhooks::deliveries(&state, &principal, id, request).await {
        Ok(rows) => rows,
        Err(error) => return errors::page_for(error),
    };
    let (deliveries, next) = one_page(deliveries, request, |(d, _)| {
        list_href(
            &format!("/org/webhooks/{id}"),
            &[("cursor", Some(encode_cursor(d.id)))],
        )
    });
    let title = t("settings-webhook-title");
    let body = html! {
        (nav(&principal, "/org/webhooks"))
        h1 { (title) }
        (summary_list(&[
            (t("field-url"), html! { (endpoint.url) }),
            (t("field-events"), html! { (events_of(&endpoint).join(", ")) }),
            (t("field-created-at"), html! { (date_time(endpoint.created_at)) }),
        ]))
        @if deliveries.is_empty() {
            p { (t("settings-deliveries-empty")) }
        } @else {
            (table(
                &t("settings-deliveries-caption"),
                &[t("settings-col-event"), t("field-created-at"), t("settings-col-attempts"), t("settings-col-last-answer"), t("field-status")],
                &deliveries.iter().map(|(d, attempts)| vec![
                    html! { (d.event_type) },
                    html! { (date_time(d.created_at)) },
                    html! { (d.attempts) },
                    html! {
                        @match attempts.last() {
                            Some(a) => {
                                (a.status_code.map_or_else(|| a.error.clone().unwrap_or_default(), |c| format!("HTTP {c}")))
                                " (" (a.duration_ms) " ms)"
                            }
                            None => { "—" }
                        }
                    },
                    html! {
                        @if let Some(at) = d.delivered_at { (t_with("settings-delivered-at", &[("date", date_time(at).into())])) }
                        @else if let Some(at) = d.failed_at { (t_with("settings-failed-at", &[("date", date_time(at).into())])) }
                        @else { (t_with("settings-next-attempt", &[("date", date_time(d.next_attempt_at).into())])) }
                    },
                ]).collect::<Vec<_>>(),
            ))
            (pagination(next.as_deref()))
        }
        p { a href="/org/webhooks" { (t("settings-webhooks-back")) } }
    };
    page(
        if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        Shell::new(&title).signed_in(&principal),
        body,
    )
}
