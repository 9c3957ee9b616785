//! Passkeys on the pages, with forms rather than script-to-server calls (the pages' CSP allows
//! no `connect-src`): starting a ceremony is a form post whose answer is a page carrying the
//! WebAuthn options; the one script of the service (`assets/passkeys.js`, progressive
//! enhancement: without it, the authenticator-app code does the same job) asks the browser's
//! authenticator and posts its answer with the page's second form.
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::{
    account::{StepUpForm, recovery_codes_page, with_step_up},
    components::csrf_field,
    errors,
    i18n::t,
    layout::{Shell, page},
    session::{LOGIN_COOKIE, anonymous_csrf, cookie},
};
use crate::{
    auth::Principal,
    error::AppError,
    services::{AppState, passkeys},
};

/// A ceremony between its two halves, as its page shows it.
struct Ceremony<'a> {
    title: &'a str,
    /// `register` or `authenticate`, for the script.
    kind: &'a str,
    options: &'a Value,
    /// Where the answer is posted, with these hidden fields.
    finish: &'a str,
    csrf: &'a str,
    fields: &'a [(&'a str, &'a str)],
    back: &'a str,
    principal: Option<&'a Principal>,
}

/// The page between a ceremony's two halves: its options for the script, and the form the
/// script posts the authenticator's answer with.
fn ceremony_page(ceremony: Ceremony<'_>) -> Response {
    let Ceremony {
        title,
        kind,
        options,
        finish,
        csrf,
        fields,
        back,
        principal,
    } = ceremony;
    let shell = Shell::new(title).narrow().with_passkey_script();
    let shell = match principal {
        Some(principal) => shell.signed_in(principal),
        None => shell,
    };
    page(
        StatusCode::OK,
        shell,
        html! {
            h1 { (title) }
            div #passkey-ceremony data-kind=(kind) data-options=(options.to_string()) {
                p { (t("passkey-follow-browser")) }
                p #passkey-error .error-message role="alert" hidden {}
            }
            noscript { p { (t("account-passkeys-need-script")) } }
            form #passkey-finish method="post" action=(finish) {
                (csrf_field(csrf))
                @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
                input type="hidden" name="credential" value="";
            }
            p { a href=(back) { (t("passkey-back")) } }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartRegistration {
    passkey_name: String,
}

pub async fn start_registration(
    State(state): State<AppState>,
    principal: Principal,
    form: Result<Form<StartRegistration>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let name = match form.passkey_name.trim() {
        "" => t("passkey-default-name"),
        name => name.to_owned(),
    };
    match passkeys::start_registration(&state, &principal).await {
        Ok(started) => {
            let ceremony = started["ceremony"].as_str().unwrap_or_default().to_owned();
            ceremony_page(Ceremony {
                title: &t("passkey-register-title"),
                kind: "register",
                options: &started["options"],
                finish: "/account/passkeys/finish",
                csrf: principal.csrf_token.as_deref().unwrap_or_default(),
                fields: &[("ceremony", &ceremony), ("name", &name)],
                back: "/account",
                principal: Some(&principal),
            })
        }
        Err(error) => errors::page_for(error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FinishForm {
    ceremony: String,
    name: String,
    credential: String,
}

/// A passkey answer that did not go through: a page that says so, with the way back.
fn refused(error: AppError, back: &str) -> Response {
    let message = match &error {
        AppError::Validation(list) => list
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict(detail) => detail.clone(),
        _ => return errors::page_for(error),
    };
    let title = t("passkey-refused-title");
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        Shell::new(&title).narrow(),
        html! { h1 { (title) } p role="alert" { (message) } p { a href=(back) { (t("passkey-back")) } } },
    )
}

pub async fn finish_registration(
    State(state): State<AppState>,
    principal: Principal,
    form: Result<Form<FinishForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let Ok(ceremony) = form.ceremony.parse::<Uuid>() else {
        return refused(
            AppError::validation("ceremony", t("passkey-no-ceremony")),
            "/account",
        );
    };
    let Ok(credential) = serde_json::from_str::<RegisterPublicKeyCredential>(&form.credential)
    else {
        return refused(
            AppError::validation("credential", t("passkey-no-answer")),
            "/account",
        );
    };
    match passkeys::finish_registration(&state, &principal, ceremony, &form.name, &credential).await
    {
        Ok(Some(codes)) => recovery_codes_page(&principal, &codes, false),
        Ok(None) => Redirect::to("/account?done=passkey-added").into_response(),
        Err(error) => refused(error, "/account"),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    form: Result<Form<StepUpForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let action = format!("/account/passkeys/{id}/remove");
    let what = t("step-up-what-remove-passkey");
    with_step_up(
        &state,
        principal,
        form.code,
        &action,
        &what,
        &[],
        |principal| {
            let state = state.clone();
            async move {
                passkeys::remove(&state, &principal, id).await?;
                Ok(Redirect::to("/account?done=passkey-removed").into_response())
            }
        },
    )
    .await
}

pub async fn start_sign_in(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = cookie(&headers, LOGIN_COOKIE).map(str::to_owned) else {
        return Redirect::to("/login").into_response();
    };
    let (csrf, _) = anonymous_csrf(&headers);
    match passkeys::start_sign_in(&state, &token).await {
        Ok(started) => {
            let ceremony = started["ceremony"].as_str().unwrap_or_default().to_owned();
            ceremony_page(Ceremony {
                title: &t("passkey-sign-in-title"),
                kind: "authenticate",
                options: &started["options"],
                finish: "/login/verify/passkey/finish",
                csrf: &csrf,
                fields: &[("ceremony", &ceremony)],
                back: "/login/verify",
                principal: None,
            })
        }
        Err(AppError::Unauthenticated) => Redirect::to("/login").into_response(),
        Err(error) => refused(error, "/login/verify"),
    }
}

pub async fn finish_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<FinishForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return errors::page_for(AppError::BadRequest("the form could not be read".into()));
    };
    let Some(token) = cookie(&headers, LOGIN_COOKIE).map(str::to_owned) else {
        return Redirect::to("/login").into_response();
    };
    let Ok(ceremony) = form.ceremony.parse::<Uuid>() else {
        return refused(
            AppError::validation("ceremony", t("passkey-no-ceremony")),
            "/login/verify",
        );
    };
    let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(&form.credential) else {
        return refused(
            AppError::validation("credential", t("passkey-no-answer")),
            "/login/verify",
        );
    };
    match passkeys::finish_sign_in(&state, &token, ceremony, &credential).await {
        Ok(new) => super::login::signed_in(new),
        Err(AppError::Unauthenticated) => Redirect::to("/login").into_response(),
        Err(error) => refused(error, "/login/verify"),
    }
}
