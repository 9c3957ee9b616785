//! The passkey ceremonies' JSON endpoints, which the one script on our pages calls
//! (`assets/passkeys.js`, progressive enhancement: without it, the TOTP form does the same
//! job). They sit behind the page checks: same origin, and the CSRF token in a header.
use axum::{
    Form, Json,
    extract::{Path, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::{
    account::{StepUpForm, with_step_up},
    errors,
    i18n::t,
    session::{LOGIN_COOKIE, SESSION_COOKIE, clear_cookie, cookie, set_cookie},
};
use crate::{
    auth::Principal,
    error::AppError,
    extract::AppJson,
    services::{AppState, passkeys},
};

/// A ceremony's failure, for the script to show.
fn failed(error: AppError) -> Response {
    error.into_response()
}

pub async fn start_registration(State(state): State<AppState>, principal: Principal) -> Response {
    match passkeys::start_registration(&state, &principal).await {
        Ok(options) => Json(options).into_response(),
        Err(error) => failed(error),
    }
}

#[derive(Deserialize)]
pub struct FinishRegistration {
    ceremony: Uuid,
    name: String,
    credential: RegisterPublicKeyCredential,
}

pub async fn finish_registration(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<FinishRegistration>,
) -> Response {
    match passkeys::finish_registration(
        &state,
        &principal,
        body.ceremony,
        &body.name,
        &body.credential,
    )
    .await
    {
        // The first factor's recovery codes are shown on the page the script goes to next.
        Ok(Some(codes)) => {
            Json(json!({"next": "/account?done=passkey-added", "recovery_codes": codes}))
                .into_response()
        }
        Ok(None) => Json(json!({"next": "/account?done=passkey-added"})).into_response(),
        Err(error) => failed(error),
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
                match passkeys::remove(&state, &principal, id).await {
                    Ok(()) => Redirect::to("/account?done=passkey-removed").into_response(),
                    Err(error) => errors::page_for(error),
                }
            }
        },
    )
    .await
}

fn pending_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, LOGIN_COOKIE).map(str::to_owned)
}

pub async fn start_sign_in(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = pending_token(&headers) else {
        return failed(AppError::Unauthenticated);
    };
    match passkeys::start_sign_in(&state, &token).await {
        Ok(options) => Json(options).into_response(),
        Err(error) => failed(error),
    }
}

#[derive(Deserialize)]
pub struct FinishSignIn {
    ceremony: Uuid,
    credential: PublicKeyCredential,
}

pub async fn finish_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppJson(body): AppJson<FinishSignIn>,
) -> Response {
    let Some(token) = pending_token(&headers) else {
        return failed(AppError::Unauthenticated);
    };
    match passkeys::finish_sign_in(&state, &token, body.ceremony, &body.credential).await {
        Ok(new) => {
            let mut response =
                (StatusCode::OK, Json::<Value>(json!({"next": "/account"}))).into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &new.token, None),
            );
            headers.append(header::SET_COOKIE, clear_cookie(LOGIN_COOKIE));
            response
        }
        Err(error) => failed(error),
    }
}
