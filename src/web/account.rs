//! `/account`: who you are, your second factors and your sessions. Setting up an
//! authenticator app (`/account/totp`: a QR code, the secret as text, confirmed by a first
//! code; the recovery codes shown once), ending a session, and the actions that need a fresh
//! second factor, which ask for one and then carry on with the same action.
use axum::{
    Form,
    extract::{Path, Query, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    components::{Errors, Input, banner, csrf_field, date_time, qr_image, summary_list, table},
    errors,
    i18n::{t, t_with},
    layout::{Shell, page},
};
use crate::{
    auth::Principal,
    db,
    error::AppError,
    services::{AppState, accounts, factors, sessions},
};

/// What a redirect back to `/account` says happened.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: Option<String>,
}

fn done_banner(done: &Done) -> Option<Markup> {
    let title = match done.done.as_deref()? {
        "session-ended" => t("account-done-session-ended"),
        "totp-removed" => t("account-done-totp-removed"),
        "passkey-added" => t("account-done-passkey-added"),
        "passkey-removed" => t("account-done-passkey-removed"),
        _ => return None,
    };
    Some(banner(&title, None))
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Query(done): Query<Done>,
) -> Response {
    let me = match accounts::me(&state, &principal).await {
        Ok(me) => me,
        Err(error) => return errors::page_for(error),
    };
    let list = match sessions::list(&state, &principal).await {
        Ok(list) => list,
        Err(error) => return errors::page_for(error),
    };
    let passkeys = match crate::services::passkeys::list(&state, &principal).await {
        Ok(list) => list,
        Err(error) => return errors::page_for(error),
    };
    let mfa = me.mfa.unwrap_or(factors::FactorStatus {
        totp: false,
        passkeys: 0,
        recovery_codes_left: 0,
    });
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("account-title");
    let session_rows: Vec<Vec<Markup>> = list
        .iter()
        .map(|s| {
            vec![
                html! {
                    (if s.kind == "browser" { t("account-session-browser") } else { t("account-session-api") })
                    @if s.current { " " span.tag.current { (t("account-session-current")) } }
                },
                html! { (s.user_agent.as_deref().unwrap_or("—")) },
                html! { (date_time(s.created_at)) },
                html! { (date_time(s.last_seen_at)) },
                html! {
                    form.inline method="post" action={ "/account/sessions/" (s.id) "/end" } {
                        (csrf_field(&csrf))
                        button.secondary type="submit" {
                            (t("account-session-end")) span.visually-hidden { " " (date_time(s.created_at)) }
                        }
                    }
                },
            ]
        })
        .collect();
    let body = html! {
        @if let Some(banner) = done_banner(&done) { (banner) }
        @if principal.enrolment_only {
            (banner(&t("account-enrol-first-title"), Some(&t("account-enrol-first-text"))))
        }
        h1 { (title) }
        (summary_list(&[
            (t("field-name"), html! { (me.name.clone().unwrap_or_default()) }),
            (t("field-email"), html! { (me.email.clone().unwrap_or_default()) }),
            (t("account-role"), html! { (me.role.as_str()) }),
        ]))
        h2 { (t("account-factors-heading")) }
        @if state.config.mfa.requires(principal.role) {
            p { (t("account-factors-required")) }
        }
        (summary_list(&[
            (t("account-totp"), html! {
                @if mfa.totp {
                    (t("account-totp-on")) " "
                    form.inline method="post" action="/account/totp/remove" {
                        (csrf_field(&csrf))
                        button.secondary type="submit" { (t("account-totp-remove")) }
                    }
                } @else {
                    (t("account-totp-off")) " " a href="/account/totp" { (t("account-totp-set-up")) }
                }
            }),
            (t("account-recovery-codes"), html! {
                (t_with("account-recovery-left", &[("count", mfa.recovery_codes_left.into())])) " "
                @if mfa.any() {
                    form.inline method="post" action="/account/recovery-codes" {
                        (csrf_field(&csrf))
                        button.secondary type="submit" { (t("account-recovery-regenerate")) }
                    }
                }
            }),
        ]))
        h3 { (t("account-passkeys")) }
        @if passkeys.is_empty() {
            p { (t("account-passkeys-none")) }
        } @else {
            ul {
                @for passkey in &passkeys {
                    li {
                        (passkey.name) " (" (t_with("account-passkey-added", &[("date", passkey.created_at.date().to_string().into())])) ") "
                        form.inline method="post" action={ "/account/passkeys/" (passkey.id) "/remove" } {
                            (csrf_field(&csrf))
                            button.secondary type="submit" { (t("account-passkey-remove")) span.visually-hidden { " " (passkey.name) } }
                        }
                    }
                }
            }
        }
        form method="post" action="/account/passkeys/start" novalidate {
            (csrf_field(&csrf))
            (Input::text("passkey_name", t("account-passkey-name")).render(&Errors::none()))
            div.actions { button.secondary type="submit" { (t("account-passkey-add")) } }
        }
        h2 { (t("account-sessions-heading")) }
        (table(
            &t("account-sessions-caption"),
            &[t("account-session-kind"), t("account-session-browser-heading"), t("account-session-started"), t("account-session-last-seen"), t("account-session-action")],
            &session_rows,
        ))
    };
    page(
        StatusCode::OK,
        Shell::new(&title)
            .signed_in(&principal)
            .with_passkey_script(),
        body,
    )
}

pub async fn end_session(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match sessions::end(&state, &principal, id).await {
        Ok(()) if Some(id) == principal.session_id => Redirect::to("/login").into_response(),
        Ok(()) => Redirect::to("/account?done=session-ended").into_response(),
        Err(error) => errors::page_for(error),
    }
}

fn totp_page(
    status: StatusCode,
    principal: &Principal,
    enrolment: &factors::TotpEnrolment,
    errors: &Errors,
) -> Response {
    let title = t("totp-title");
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    page(
        status,
        Shell::new(&title).signed_in(principal).narrow(),
        html! {
            (errors.summary())
            h1 { (title) }
            ol {
                li { (t("totp-step-app")) }
                li {
                    (t("totp-step-scan"))
                    @if let Some(qr) = qr_image(&enrolment.otpauth_uri) {
                        div.qr { img src=(qr) alt=(t("totp-qr-alt")) width="224" height="224"; }
                    }
                    p { (t("totp-step-type")) }
                    p.secret { (enrolment.secret) }
                }
                li { (t("totp-step-code")) }
            }
            form method="post" action="/account/totp" novalidate {
                (csrf_field(&csrf))
                (Input::text("code", t("field-code")).hint(t("totp-code-hint"))
                    .autocomplete("one-time-code").inputmode("numeric").class("code").render(errors))
                div.actions { button type="submit" { (t("totp-submit")) } }
            }
        },
    )
}

/// Before a secret exists: what is about to happen, and a button that makes one (a GET
/// changes nothing).
fn totp_intro(principal: &Principal) -> Response {
    let title = t("totp-title");
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(principal).narrow(),
        html! {
            h1 { (title) }
            p { (t("totp-intro")) }
            form method="post" action="/account/totp/start" {
                (csrf_field(&csrf))
                div.actions { button type="submit" { (t("totp-start")) } }
            }
        },
    )
}

pub async fn show_totp(State(state): State<AppState>, principal: Principal) -> Response {
    let status = match factors::status(&state.db, principal.id).await {
        Ok(status) => status,
        Err(error) => return errors::page_for(error),
    };
    if status.totp {
        return Redirect::to("/account").into_response();
    }
    match factors::pending_totp(&state, &principal).await {
        Ok(Some(enrolment)) => totp_page(StatusCode::OK, &principal, &enrolment, &Errors::none()),
        Ok(None) => totp_intro(&principal),
        Err(error) => errors::page_for(error),
    }
}

/// A new secret, then back to the page that shows it.
pub async fn start_totp(State(state): State<AppState>, principal: Principal) -> Response {
    match factors::start_totp(&state, &principal).await {
        Ok(_) => Redirect::to("/account/totp").into_response(),
        Err(AppError::Conflict(_)) => Redirect::to("/account").into_response(),
        Err(error) => errors::page_for(error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

pub async fn submit_totp(
    State(state): State<AppState>,
    principal: Principal,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    match factors::confirm_totp(&state, &principal, &form.code).await {
        Ok(codes) => recovery_codes_page(&principal, &codes, true),
        Err(AppError::Validation(list)) => match factors::pending_totp(&state, &principal).await {
            Ok(Some(enrolment)) => totp_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &principal,
                &enrolment,
                &Errors::new(list),
            ),
            Ok(None) => Redirect::to("/account/totp").into_response(),
            Err(error) => errors::page_for(error),
        },
        Err(AppError::Conflict(_)) => Redirect::to("/account/totp").into_response(),
        Err(error) => errors::page_for(error),
    }
}

/// Recovery codes, shown this once.
pub fn recovery_codes_page(principal: &Principal, codes: &[String], enrolled: bool) -> Response {
    let title = t("recovery-title");
    page(
        StatusCode::OK,
        Shell::new(&title).signed_in(principal).narrow(),
        html! {
            @if enrolled { (banner(&t("totp-done"), None)) }
            h1 { (title) }
            p { (t("recovery-text")) }
            ol.codes { @for code in codes { li { (code) } } }
            p { a.button href="/account" { (t("recovery-continue")) } }
        },
    )
}

/// A step-up form's fields: the code, if the page asked for one.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepUpForm {
    pub code: Option<String>,
}

/// The page that asks for a second factor before an action, posting back to the action itself
/// (with the action's own fields, here none) so that it then carries on.
pub fn step_up_page(
    status: StatusCode,
    principal: &Principal,
    action: &str,
    what: &str,
    hidden: &[(&str, &str)],
    errors: &Errors,
) -> Response {
    let title = t("step-up-title");
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    page(
        status,
        Shell::new(&title).signed_in(principal).narrow(),
        html! {
            (errors.summary())
            h1 { (title) }
            p { (t_with("step-up-text", &[("action", what.into())])) }
            form method="post" action=(action) novalidate {
                (csrf_field(&csrf))
                @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
                (Input::text("code", t("field-code")).hint(t("verify-code-hint"))
                    .autocomplete("one-time-code").inputmode("numeric").class("code").render(errors))
                div.actions {
                    button type="submit" { (t("step-up-submit")) }
                    a href=(cancel_to(action)) { (t("step-up-cancel")) }
                }
            }
        },
    )
}

/// Where cancelling a step-up leads: back to the console page the action is on, else the
/// account.
fn cancel_to(action: &str) -> &str {
    match action.rsplit_once('/') {
        Some((page, _)) if action.starts_with("/console/") => page,
        _ => "/account",
    }
}

/// Steps the session up with the code a step-up page posted, if it posted one: the principal
/// with a fresh factor, or the step-up page again saying what was wrong with the code.
async fn step_up_with(
    state: &AppState,
    mut principal: Principal,
    code: Option<String>,
    action_url: &str,
    what: &str,
    hidden: &[(&str, &str)],
) -> Result<Principal, Response> {
    let Some(code) = code else {
        return Ok(principal);
    };
    let (status, message) = match factors::step_up(state, &principal, &code).await {
        Ok(()) => {
            principal.with_factor = true;
            principal.factor_verified_at = Some(db::now());
            return Ok(principal);
        }
        Err(AppError::Validation(list)) => {
            return Err(step_up_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &principal,
                action_url,
                what,
                hidden,
                &Errors::new(list),
            ));
        }
        Err(AppError::Unauthenticated) => (StatusCode::UNPROCESSABLE_ENTITY, t("step-up-wrong")),
        Err(AppError::RateLimited { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            t_with("verify-throttled", &[("seconds", retry_after_secs.into())]),
        ),
        Err(error) => return Err(errors::page_for(error)),
    };
    let errors = Errors::new(vec![crate::error::FieldError::new("code", message)]);
    Err(step_up_page(
        status, &principal, action_url, what, hidden, &errors,
    ))
}

/// Runs an action that needs a fresh second factor: first the code the step-up page posted,
/// if it posted one; then the action, whose service checks the factor after everything else
/// (so a form's own errors come first). When it says a code is needed, the step-up page asks
/// for one, posting back to the action with its fields (`hidden`) to carry on.
pub async fn with_step_up<F, Fut>(
    state: &AppState,
    principal: Principal,
    code: Option<String>,
    action_url: &str,
    what: &str,
    hidden: &[(&str, &str)],
    action: F,
) -> Response
where
    F: FnOnce(Principal) -> Fut,
    Fut: Future<Output = Result<Response, AppError>>,
{
    let principal = match step_up_with(state, principal, code, action_url, what, hidden).await {
        Ok(principal) => principal,
        Err(page) => return page,
    };
    match action(principal.clone()).await {
        Ok(page) => page,
        Err(AppError::StepUpRequired) => step_up_page(
            StatusCode::OK,
            &principal,
            action_url,
            what,
            hidden,
            &Errors::none(),
        ),
        Err(error) => errors::page_for(error),
    }
}

pub async fn remove_totp(
    State(state): State<AppState>,
    principal: Principal,
    form: Result<Form<StepUpForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let what = t("step-up-what-remove-totp");
    with_step_up(
        &state,
        principal,
        form.code,
        "/account/totp/remove",
        &what,
        &[],
        |principal| {
            let state = state.clone();
            async move {
                factors::remove_totp(&state, &principal).await?;
                Ok(Redirect::to("/account?done=totp-removed").into_response())
            }
        },
    )
    .await
}

pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    principal: Principal,
    form: Result<Form<StepUpForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let what = t("step-up-what-recovery-codes");
    with_step_up(
        &state,
        principal,
        form.code,
        "/account/recovery-codes",
        &what,
        &[],
        |principal| {
            let state = state.clone();
            async move {
                let codes = factors::regenerate_recovery_codes(&state, &principal).await?;
                Ok(recovery_codes_page(&principal, &codes, false))
            }
        },
    )
    .await
}
