//! The subject page: plain, accessible, server-rendered HTML that works without JavaScript.
//! The personal link's token is the only credential; the page never sends a referrer (the
//! headers of every page: `layout::page_headers`).
use std::net::SocketAddr;

use axum::{
    Form,
    extract::rejection::FormRejection,
    extract::{ConnectInfo, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::layout::Shell;
use crate::{
    domain::RequestStatus,
    error::AppError,
    extract::AppPath,
    schemas::{self, DeclineReasonDto, TAG_SUBJECT},
    services::AppState,
    services::invitations::{self, Invitation, decline_message, subject_text},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(subject_page))
        .routes(routes!(consent_form))
        .routes(routes!(decline_form))
        .routes(routes!(response_form))
        .routes(routes!(objection_form))
}

/// A subject page in the shell, without the staff's navigation.
fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    super::layout::page(
        status,
        Shell::new(title).narrow().without_navigation(),
        body,
    )
}

/// Errors on the subject page are pages too, with the same status codes as the API.
fn error_page(error: AppError) -> Response {
    let status = error.status();
    let message = match &error {
        AppError::NotFound => "This link is not valid (any more). Check that you copied the whole link from the e-mail.".to_owned(),
        AppError::RateLimited { .. } => "Too many invalid links were tried from your network. Please wait a few minutes.".to_owned(),
        AppError::Conflict(detail) | AppError::Forbidden(detail) | AppError::BadRequest(detail) => detail.clone(),
        AppError::Validation(errors) => errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
        _ => {
            error.log_cause();
            "Something went wrong on our side. Please try again later.".to_owned()
        }
    };
    page(
        status,
        "Screening",
        html! { h1 { "Screening" } p role="alert" { (message) } },
    )
}

fn status_text(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::AwaitingConsent => {
            "Waiting for your consent. Nothing is checked until you agree."
        }
        RequestStatus::InProgress => "You consented. The checks are in progress.",
        RequestStatus::Assessment | RequestStatus::FinalReview => "The results are being assessed.",
        RequestStatus::IntentToRefuse => "We intend to refuse the clearance. You may respond.",
        RequestStatus::ObjectionReview => "Your objection is being reviewed.",
        RequestStatus::Cleared => "You have been cleared.",
        RequestStatus::Refused => "The clearance was refused.",
        RequestStatus::Withdrawn => "The organisation withdrew the request.",
        RequestStatus::Declined => "You declined. Nothing was checked.",
        RequestStatus::Lapsed => "The invitation lapsed without an answer. Nothing was checked.",
    }
}

fn render(invitation: &Invitation, token: &str) -> Response {
    let r = &invitation.request;
    let status = invitation.status();
    let body = html! {
        h1 { "Screening for " (invitation.organisation_name) }
        p.status role="status" { strong { "Status: " } (status_text(status)) }
        h2 { "Who asks, and for what" }
        dl.subject {
            dt { "Organisation" } dd { (invitation.organisation_name) }
            dt { "Position" } dd { (r.position_title) " (" (r.role) ")" }
            @if let Some(description) = &r.position_description { dt { "About the position" } dd { (description) } }
            dt { "Deployment" } dd { (r.deployment_country) ", from " (r.deployment_start_date.to_string()) }
            @if let Some(profile) = &invitation.profile {
                dt { "Screening" } dd { (profile.title) ": " (profile.description) }
            }
        }
        @if let Some(subject) = &invitation.subject {
            h2 { "What is held about you" }
            dl.subject {
                dt { "Name" } dd { (subject.given_names) " " (subject.family_name) }
                dt { "Date of birth" } dd { (subject.date_of_birth) }
                dt { "Place of birth" } dd { (subject.place_of_birth) ", " (subject.country_of_birth) }
                dt { "Nationalities" } dd { (subject.nationalities.join(", ")) }
                dt { "E-mail" } dd { (subject.email) }
                @if let Some(bsn) = &subject.bsn { dt { "BSN" } dd { (bsn) } }
                @for employer in &subject.previous_employers {
                    dt { "Previous employer" }
                    dd { (employer.organisation) " (" (employer.country) "), " (employer.from) " – " (employer.to.as_deref().unwrap_or("now")) }
                }
                @for referee in &subject.referees {
                    dt { "Referee" } dd { (referee.name) " (" (referee.relationship) ")" }
                }
            }
        }
        @if let Some(decision) = &invitation.decision {
            h2 { "The decision" }
            dl.subject {
                dt { "Outcome" }
                dd { @if decision.outcome == "cleared" { "Cleared" } @else { "Refused" }
                     @if decision.revised { " (revised after your objection)" } }
                dt { "Decided on" } dd { (decision.decided_at.date().to_string()) }
                @if let Some(grounds) = &decision.grounds { dt { "Grounds" } dd { (grounds) } }
            }
        }
        @if invitation.actions().contains(&"respond") {
            h2 { "Your response" }
            p { "Before we decide, you may tell us anything we should know: facts we may have wrong, \
                 or circumstances. A reviewer reads it before the final decision." }
            form method="post" action={ "/s/" (token) "/response" } {
                fieldset {
                    legend { "Respond to the intention to refuse" }
                    label for="statement" { "Your statement" }
                    textarea id="statement" name="statement" rows="8" maxlength="10000" required {}
                    button type="submit" { "Send my response" }
                }
            }
        }
        @if invitation.actions().contains(&"object") {
            h2 { "Object to the decision" }
            @if let Some(until) = invitation.decision.as_ref().and_then(|d| d.objection_until) {
                p { "You may object once, until " (until.date().to_string()) ". A reviewer who has \
                     not worked on your screening before decides." }
            }
            form method="post" action={ "/s/" (token) "/objection" } {
                fieldset {
                    legend { "Objection" }
                    label for="grounds" { "Why the decision is wrong" }
                    textarea id="grounds" name="grounds" rows="8" maxlength="10000" required {}
                    button type="submit" { "Lodge my objection" }
                }
            }
        }
        @if invitation.actions().contains(&"consent") {
            h2 { "Your answer" }
            p { "Please answer by " (r.invitation_expires_at.date().to_string()) "." }
            form method="post" action={ "/s/" (token) "/consent" } {
                fieldset {
                    legend { "Consent" }
                    p { "I have read what is held about me, it is correct, and I consent to the checks of this screening." }
                    button type="submit" { "I consent" }
                }
            }
            form method="post" action={ "/s/" (token) "/decline" } {
                fieldset {
                    legend { "Decline" }
                    label { input type="radio" name="reason" value="data_incorrect" required; " The data about me is incorrect" }
                    label { input type="radio" name="reason" value="not_consenting"; " I do not consent" }
                    label { input type="radio" name="reason" value="other"; " Another reason" }
                    label for="message" { "Message to safescreen (optional; the organisation does not see it)" }
                    textarea id="message" name="message" rows="4" maxlength="2000" {}
                    button type="submit" { "Decline" }
                }
            }
        }
    };
    page(StatusCode::OK, "Your screening", body)
}

/// The page the subject's e-mailed link opens.
#[utoipa::path(get, path = "/s/{token}", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "The subject page", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String)))]
async fn subject_page(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
) -> Response {
    match invitations::view(&state, &token, &client.ip().to_string()).await {
        Ok(invitation) => render(&invitation, &token),
        Err(error) => error_page(error),
    }
}

/// Consent from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/consent", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String)))]
async fn consent_form(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
) -> Response {
    back_to_page(
        &token,
        invitations::consent(&state, &token, &client.ip().to_string()).await,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct DeclineForm {
    pub reason: DeclineReasonDto,
    #[schema(schema_with = schemas::optional_text_or_blank::<2000>)]
    pub message: Option<String>,
}

/// Decline from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/decline", tag = TAG_SUBJECT,
    request_body(content = DeclineForm, content_type = "application/x-www-form-urlencoded"),
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String),
              (status = 422, description = "No or an unknown reason", content_type = "text/html", body = String)))]
async fn decline_form(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    form: Result<Form<DeclineForm>, FormRejection>,
) -> Response {
    // No reason or one not on the list.
    let Ok(Form(form)) = form else {
        return error_page(AppError::validation("reason", "choose one of the reasons"));
    };
    let message = match decline_message(form.message.as_deref()) {
        Ok(m) => m,
        Err(error) => return error_page(error),
    };
    back_to_page(
        &token,
        invitations::decline(
            &state,
            &token,
            &client.ip().to_string(),
            form.reason.into(),
            message,
        )
        .await,
    )
}

/// A required free text of the subject's from a form, by the API's rule.
fn form_text(text: Result<String, FormRejection>, field: &str) -> Result<String, AppError> {
    let text = text.map_err(|_| AppError::validation(field, "must not be empty"))?;
    subject_text(field, &text)
}

/// After a form: back to the subject page, or the error as a page.
fn back_to_page<T>(token: &str, outcome: Result<T, AppError>) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&format!("/s/{token}")).into_response(),
        Err(error) => error_page(error),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ResponseForm {
    #[schema(schema_with = schemas::text::<10000>)]
    pub statement: String,
}

/// The subject's response to an intention to refuse, from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/response", tag = TAG_SUBJECT,
    request_body(content = ResponseForm, content_type = "application/x-www-form-urlencoded"),
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String),
              (status = 422, description = "No statement", content_type = "text/html", body = String)))]
async fn response_form(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    form: Result<Form<ResponseForm>, FormRejection>,
) -> Response {
    let statement = match form_text(form.map(|Form(f)| f.statement), "statement") {
        Ok(text) => text,
        Err(error) => return error_page(error),
    };
    back_to_page(
        &token,
        invitations::respond(&state, &token, &client.ip().to_string(), statement).await,
    )
}

#[derive(Deserialize, ToSchema)]
pub struct ObjectionForm {
    #[schema(schema_with = schemas::text::<10000>)]
    pub grounds: String,
}

/// The subject's objection to a refusal, from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/objection", tag = TAG_SUBJECT,
    request_body(content = ObjectionForm, content_type = "application/x-www-form-urlencoded"),
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String),
              (status = 422, description = "No grounds", content_type = "text/html", body = String)))]
async fn objection_form(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    form: Result<Form<ObjectionForm>, FormRejection>,
) -> Response {
    let grounds = match form_text(form.map(|Form(f)| f.grounds), "grounds") {
        Ok(text) => text,
        Err(error) => return error_page(error),
    };
    back_to_page(
        &token,
        invitations::object(&state, &token, &client.ip().to_string(), grounds).await,
    )
}
