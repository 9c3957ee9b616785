//! Signing in, out, and back in: `/login` (e-mail and password), `/login/verify` (the second
//! factor), `/logout`, `/password-reset`, and `/activate/{token}` for a new account. The
//! state machine is the service's (`services::accounts`); each view renders one step as a
//! plain form posting to its own URL, with `autocomplete` set so password managers and phones
//! just work.
use std::net::SocketAddr;

use axum::{
    Form,
    extract::{ConnectInfo, Path, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    components::{Errors, Input, banner, csrf_field},
    errors,
    i18n::{t, t_with},
    layout::{Shell, page},
    session::{
        LOGIN_COOKIE, SESSION_COOKIE, anonymous_csrf, clear_cookie, cookie, set_cookie, with_cookie,
    },
};
use crate::{
    auth::Principal,
    domain::Role,
    error::{AppError, FieldError},
    extract::user_agent,
    services::{
        AppState,
        accounts::{self, BrowserSignIn},
        factors, sessions,
    },
};

/// Where a user lands after signing in: staff at their work queue, the organisation's
/// members at its requests.
pub fn landing_for(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Checker | Role::Admin) => "/console/tasks",
        Some(Role::OrgAdmin | Role::OrgRequester) => "/org/requests",
        None => "/account",
    }
}

/// Signs the browser in: the session cookie, then on to where the user works.
pub(super) fn signed_in(new: sessions::NewSession) -> Response {
    let mut response = Redirect::to(landing_for(new.role)).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &new.token, None),
    );
    headers.append(header::SET_COOKIE, clear_cookie(LOGIN_COOKIE));
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
}

fn login_page(
    status: StatusCode,
    csrf: &str,
    email: &str,
    errors: &Errors,
    notice: Option<Markup>,
) -> Response {
    let title = t("login-title");
    page(
        status,
        Shell::new(&title).narrow(),
        html! {
            (errors.summary())
            @if let Some(notice) = notice { (notice) }
            h1 { (title) }
            form method="post" action="/login" novalidate {
                (csrf_field(csrf))
                (Input::text("email", t("field-email")).kind("email").value(email).autocomplete("username").render(errors))
                (Input::text("password", t("field-password")).kind("password").autocomplete("current-password").render(errors))
                div.actions {
                    button type="submit" { (t("login-submit")) }
                    a href="/password-reset" { (t("login-forgot")) }
                }
            }
        },
    )
}

pub async fn show(headers: HeaderMap) -> Response {
    let (csrf, cookie) = anonymous_csrf(&headers);
    with_cookie(
        login_page(StatusCode::OK, &csrf, "", &Errors::none(), None),
        cookie,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let (csrf, _) = anonymous_csrf(&headers);
    let mut missing = Vec::new();
    if form.email.trim().is_empty() {
        missing.push(FieldError::new("email", t("login-email-missing")));
    }
    if form.password.is_empty() {
        missing.push(FieldError::new("password", t("login-password-missing")));
    }
    if !missing.is_empty() {
        return login_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &csrf,
            &form.email,
            &Errors::new(missing),
            None,
        );
    }
    let outcome = accounts::browser_sign_in(
        &state,
        &form.email,
        form.password,
        &client.ip().to_string(),
        user_agent(&headers),
    )
    .await;
    match outcome {
        Ok(BrowserSignIn::SignedIn(new)) => {
            // An account that must enrol a factor is taken there by the page checks.
            signed_in(new)
        }
        Ok(BrowserSignIn::SecondFactor { token, .. }) => {
            let mut response = Redirect::to("/login/verify").into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, &token, Some(600)),
            );
            response
        }
        Err(AppError::Unauthenticated) => {
            let errors = Errors::new(vec![FieldError::new("email", t("login-wrong"))]);
            login_page(StatusCode::UNAUTHORIZED, &csrf, &form.email, &errors, None)
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            let errors = Errors::new(vec![FieldError::new(
                "email",
                t_with("login-throttled", &[("seconds", retry_after_secs.into())]),
            )]);
            login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &csrf,
                &form.email,
                &errors,
                None,
            )
        }
        Err(error) => errors::page_for(error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

fn verify_page(status: StatusCode, csrf: &str, passkeys: bool, errors: &Errors) -> Response {
    let title = t("verify-title");
    let shell = Shell::new(&title).narrow();
    let shell = if passkeys {
        shell.with_passkey_script()
    } else {
        shell
    };
    page(
        status,
        shell,
        html! {
            (errors.summary())
            h1 { (title) }
            @if passkeys {
                form method="post" action="/login/verify/passkey/start" {
                    (csrf_field(csrf))
                    p { (t("verify-passkey-text")) }
                    div.actions { button.secondary type="submit" { (t("verify-passkey-button")) } }
                }
                p { (t("verify-or-code")) }
            }
            form method="post" action="/login/verify" novalidate {
                (csrf_field(csrf))
                (Input::text("code", t("field-code")).hint(t("verify-code-hint"))
                    .autocomplete("one-time-code").inputmode("numeric").class("code").render(errors))
                div.actions { button type="submit" { (t("verify-submit")) } }
            }
            p { a href="/login" { (t("verify-start-again")) } }
        },
    )
}

pub async fn show_verify(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = cookie(&headers, LOGIN_COOKIE).map(str::to_owned) else {
        return Redirect::to("/login").into_response();
    };
    let pending = match accounts::pending_sign_in(&state, &token).await {
        Ok(Some((_, user))) => user,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(error) => return errors::page_for(error),
    };
    let passkeys = match factors::status(&state.db, pending.id).await {
        Ok(status) => status.passkeys > 0,
        Err(error) => return errors::page_for(error),
    };
    let (csrf, cookie) = anonymous_csrf(&headers);
    with_cookie(
        verify_page(StatusCode::OK, &csrf, passkeys, &Errors::none()),
        cookie,
    )
}

pub async fn submit_verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let Some(token) = cookie(&headers, LOGIN_COOKIE).map(str::to_owned) else {
        return Redirect::to("/login").into_response();
    };
    let (csrf, _) = anonymous_csrf(&headers);
    match accounts::browser_second_factor(&state, &token, &form.code).await {
        Ok(new) => signed_in(new),
        Err(AppError::Validation(list)) => verify_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &csrf,
            false,
            &Errors::new(list),
        ),
        Err(AppError::RateLimited { retry_after_secs }) => {
            let errors = Errors::new(vec![FieldError::new(
                "code",
                t_with("verify-throttled", &[("seconds", retry_after_secs.into())]),
            )]);
            verify_page(StatusCode::TOO_MANY_REQUESTS, &csrf, false, &errors)
        }
        Err(AppError::Unauthenticated) => Redirect::to("/login").into_response(),
        Err(error) => errors::page_for(error),
    }
}

pub async fn logout(State(state): State<AppState>, principal: Principal) -> Response {
    if let Err(error) = accounts::logout(&state, &principal).await {
        return errors::page_for(error);
    }
    let mut response = Redirect::to("/login?signed_out=1").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    email: String,
}

fn reset_page(status: StatusCode, csrf: &str, email: &str, errors: &Errors) -> Response {
    let title = t("reset-title");
    page(
        status,
        Shell::new(&title).narrow(),
        html! {
            (errors.summary())
            h1 { (title) }
            p { (t("reset-text")) }
            form method="post" action="/password-reset" novalidate {
                (csrf_field(csrf))
                (Input::text("email", t("field-email")).kind("email").value(email).autocomplete("username").render(errors))
                div.actions { button type="submit" { (t("reset-submit")) } }
            }
        },
    )
}

pub async fn show_reset(headers: HeaderMap) -> Response {
    let (csrf, cookie) = anonymous_csrf(&headers);
    with_cookie(
        reset_page(StatusCode::OK, &csrf, "", &Errors::none()),
        cookie,
    )
}

pub async fn submit_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    if form.email.trim().is_empty() {
        let (csrf, _) = anonymous_csrf(&headers);
        let errors = Errors::new(vec![FieldError::new("email", t("login-email-missing"))]);
        return reset_page(StatusCode::UNPROCESSABLE_ENTITY, &csrf, "", &errors);
    }
    match accounts::request_password_reset(&state, &form.email).await {
        Ok(()) => {}
        Err(AppError::Validation(list)) => {
            let (csrf, _) = anonymous_csrf(&headers);
            return reset_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &csrf,
                &form.email,
                &Errors::new(list),
            );
        }
        Err(error) => return errors::page_for(error),
    }
    // The same answer whether or not there is such an account.
    let title = t("reset-sent-title");
    page(
        StatusCode::OK,
        Shell::new(&title).narrow(),
        html! { h1 { (title) } p { (t("reset-sent-text")) } p { a href="/login" { (t("reset-back")) } } },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewPasswordForm {
    password: String,
}

/// The form that sets a password with a token from an e-mail (reset or activation).
fn new_password_page(
    status: StatusCode,
    csrf: &str,
    action: &str,
    title: &str,
    errors: &Errors,
) -> Response {
    page(
        status,
        Shell::new(title).narrow(),
        html! {
            (errors.summary())
            h1 { (title) }
            form method="post" action=(action) novalidate {
                (csrf_field(csrf))
                (Input::text("password", t("field-new-password")).kind("password")
                    .hint(t("new-password-hint")).autocomplete("new-password").render(errors))
                div.actions { button type="submit" { (t("new-password-submit")) } }
            }
        },
    )
}

fn link_spent() -> Response {
    let title = t("link-spent-title");
    page(
        StatusCode::GONE,
        Shell::new(&title).narrow(),
        html! { h1 { (title) } p { (t("link-spent-text")) } p { a href="/password-reset" { (t("link-spent-again")) } } },
    )
}

fn password_set() -> Response {
    let title = t("password-set-title");
    page(
        StatusCode::OK,
        Shell::new(&title).narrow(),
        html! { (banner(&title, None)) h1 { (title) } p { a.button href="/login" { (t("password-set-sign-in")) } } },
    )
}

pub async fn show_new_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match accounts::password_reset_usable(&state, &token).await {
        Ok(true) => {}
        Ok(false) => return link_spent(),
        Err(error) => return errors::page_for(error),
    }
    fresh_password_form(
        &headers,
        &format!("/password-reset/{token}"),
        &t("reset-new-title"),
    )
}

/// The form for a password, as a link from an e-mail first opens it.
fn fresh_password_form(headers: &HeaderMap, action: &str, title: &str) -> Response {
    let (csrf, cookie) = anonymous_csrf(headers);
    with_cookie(
        new_password_page(StatusCode::OK, &csrf, action, title, &Errors::none()),
        cookie,
    )
}

pub async fn submit_new_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    form: Result<Form<NewPasswordForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let outcome = accounts::confirm_password_reset(&state, &token, form.password).await;
    password_outcome(
        &headers,
        outcome,
        &format!("/password-reset/{token}"),
        &t("reset-new-title"),
    )
}

/// What setting a password with an e-mailed link came to: saved, the form again with what is
/// wrong with the password, or the page for a spent link.
fn password_outcome(
    headers: &HeaderMap,
    outcome: Result<(), AppError>,
    action: &str,
    title: &str,
) -> Response {
    match outcome {
        Ok(()) => password_set(),
        Err(AppError::Validation(list)) => {
            let (csrf, _) = anonymous_csrf(headers);
            new_password_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &csrf,
                action,
                title,
                &Errors::new(list),
            )
        }
        Err(AppError::Unauthenticated) => link_spent(),
        Err(error) => errors::page_for(error),
    }
}

pub async fn show_activate(headers: HeaderMap, Path(token): Path<String>) -> Response {
    fresh_password_form(
        &headers,
        &format!("/activate/{token}"),
        &t("activate-title"),
    )
}

pub async fn submit_activate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    form: Result<Form<NewPasswordForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let outcome = accounts::activate(&state, &token, form.password).await;
    password_outcome(
        &headers,
        outcome,
        &format!("/activate/{token}"),
        &t("activate-title"),
    )
}
