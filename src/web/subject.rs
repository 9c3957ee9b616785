//! The subject page: plain, accessible, server-rendered HTML that works without JavaScript, in
//! Dutch (the default) or English. The personal link's token is the only credential; the page
//! never sends a referrer (the headers of every page: `layout::page_headers`). Before consent
//! it shows the privacy notice (GDPR Art. 13); until the decision, consent can be withdrawn.
use std::net::SocketAddr;

use axum::{
    Form,
    extract::rejection::FormRejection,
    extract::{ConnectInfo, FromRequestParts, Query, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use fluent_bundle::FluentValue;
use maud::{Markup, html};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    components::{Errors, radios_in, textarea_in},
    forms::page_language,
    layout::Shell,
};
use crate::{
    config::Config,
    domain::{RequestStatus, country::CountryCode},
    error::{AppError, FieldError},
    extract::AppPath,
    i18n::{Lang, country_name, long_date, text, written_date},
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
        .routes(routes!(withdraw_consent_page, withdraw_consent_form))
}

/// What every subject page reads of its request: the link's token, the client (unknown links
/// are throttled per client) and the page's language (`?lang=nl|en`, else the browser's, else
/// Dutch; an unreadable one is Dutch, never an error).
struct Visit {
    token: String,
    client: String,
    lang: Lang,
}

impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> = Query::try_from_uri(&parts.uri)
            .map(|Query(pairs)| pairs)
            .unwrap_or_default();
        let lang = page_language(&pairs, &parts.headers, Lang::Nl);
        let ConnectInfo(client) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let AppPath(token) = AppPath::<String>::from_request_parts(parts, state)
            .await
            .map_err(|error| error_page(lang, None, error))?;
        Ok(Visit {
            token,
            client: client.ip().to_string(),
            lang,
        })
    }
}

impl Visit {
    /// The subject page again, in the visit's language.
    fn page_path(&self) -> String {
        format!("/s/{}?lang={}", self.token, self.lang.code())
    }
}

/// A message of the subject's catalogue in the page's language.
struct Words {
    lang: Lang,
}

impl Words {
    fn t(&self, id: &str) -> String {
        text(self.lang, id, &[])
    }

    fn with(&self, id: &str, args: &[(&str, FluentValue)]) -> String {
        text(self.lang, id, args)
    }

    fn date(&self, date: time::Date) -> String {
        long_date(self.lang, date)
    }

    /// A date or a month as the subject's data holds it, written out.
    fn date_text(&self, value: &str) -> String {
        written_date(self.lang, value)
    }

    fn country(&self, code: &str) -> String {
        country_name(self.lang, code)
    }
}

/// A subject page in the shell, without the staff's navigation.
fn page(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    super::layout::page(
        status,
        Shell::new(title).narrow().without_navigation().lang(lang),
        body,
    )
}

/// Errors on the subject page are pages too, with the same status codes as the API.
fn error_page(lang: Lang, token: Option<&str>, error: AppError) -> Response {
    let words = Words { lang };
    let status = error.status();
    let message = match &error {
        AppError::NotFound => words.t("subject-error-not-found"),
        AppError::RateLimited { .. } => words.t("subject-error-rate-limited"),
        AppError::Conflict(_)
        | AppError::Validation(_)
        | AppError::BadRequest(_)
        | AppError::Forbidden(_) => words.t("subject-error-conflict"),
        _ => {
            error.log_cause();
            words.t("subject-error-server")
        }
    };
    let title = words.t("subject-error-title");
    page(
        lang,
        status,
        &title,
        html! {
            h1 { (title) }
            p role="alert" { (message) }
            @if let Some(token) = token.filter(|_| status != StatusCode::NOT_FOUND) {
                p { a href={ "/s/" (token) "?lang=" (lang.code()) } { (words.t("subject-back")) } }
            }
        },
    )
}

fn status_text(words: &Words, invitation: &Invitation) -> String {
    let status = invitation.status();
    let withdrawn_consent =
        invitation.request.decline_reason.as_deref() == Some("consent_withdrawn");
    if status == RequestStatus::Declined && withdrawn_consent {
        return words.t("subject-status-consent_withdrawn");
    }
    words.t(&format!("subject-status-{}", status.as_str()))
}

/// What the subject typed into a form that is shown again with its errors.
#[derive(Default)]
struct Typed {
    reason: Option<String>,
    message: String,
    statement: String,
    grounds: String,
}

/// The subject's page: who asks and for what, what is held, the privacy notice, the decision,
/// and the forms of what the subject can do now.
fn render(
    config: &Config,
    visit: &Visit,
    invitation: &Invitation,
    errors: &Errors,
    typed: &Typed,
) -> Response {
    let (lang, token) = (visit.lang, visit.token.as_str());
    let words = Words { lang };
    let r = &invitation.request;
    let organisation = invitation.organisation_name.as_str();
    let org_arg = || ("organisation", FluentValue::from(organisation));
    let other = match lang {
        Lang::Nl => Lang::En,
        Lang::En => Lang::Nl,
    };
    let action = |path: &str| format!("/s/{token}/{path}?lang={}", lang.code());
    let actions = invitation.actions();
    let role = words.t(&format!("subject-role-{}", r.role));
    let body = html! {
        p.language {
            a href={ "/s/" (token) "?lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                (words.t("subject-other-language"))
            }
        }
        (errors.summary_in(lang))
        h1 { (words.with("subject-heading", &[org_arg()])) }
        p.status role="status" { strong { (words.t("subject-status-label")) } " " (status_text(&words, invitation)) }
        h2 { (words.t("subject-who-asks")) }
        dl.summary {
            dt { (words.t("subject-field-organisation")) } dd { (organisation) }
            dt { (words.t("subject-field-position")) } dd { (r.position_title) " (" (role) ")" }
            @if let Some(description) = &r.position_description {
                dt { (words.t("subject-field-about-position")) } dd { (description) }
            }
            dt { (words.t("subject-field-deployment")) }
            dd { (words.with("subject-deployment", &[
                ("country", words.country(&r.deployment_country).into()),
                ("date", words.date(r.deployment_start_date).into()),
            ])) }
            @if let Some(profile) = &invitation.profile {
                dt { (words.t("subject-field-screening")) } dd { (profile.title) ": " (profile.description) }
            }
        }
        @if let Some(subject) = &invitation.subject {
            h2 { (words.t("subject-held")) }
            dl.summary {
                dt { (words.t("subject-field-name")) } dd { (subject.given_names) " " (subject.family_name) }
                dt { (words.t("subject-field-date-of-birth")) } dd { (words.date_text(&subject.date_of_birth)) }
                dt { (words.t("subject-field-place-of-birth")) } dd { (subject.place_of_birth) ", " (words.country(&subject.country_of_birth)) }
                dt { (words.t("subject-field-nationalities")) }
                dd { (subject.nationalities.iter().map(|c| words.country(c)).collect::<Vec<_>>().join(", ")) }
                dt { (words.t("subject-field-email")) } dd { (subject.email) }
                @if let Some(bsn) = &subject.bsn { dt { (words.t("subject-field-bsn")) } dd { (bsn) } }
                @for employer in &subject.previous_employers {
                    dt { (words.t("subject-field-previous-employer")) }
                    dd { (employer.organisation) " (" (words.country(&employer.country)) "), "
                         (words.date_text(&employer.from)) " – "
                         (employer.to.as_deref().map_or_else(|| words.t("subject-until-now"), |to| words.date_text(to))) }
                }
                @for referee in &subject.referees {
                    dt { (words.t("subject-field-referee")) } dd { (referee.name) " (" (referee.relationship) ")" }
                }
            }
        }
        @if let Some(decision) = &invitation.decision {
            h2 { (words.t("subject-decision")) }
            dl.summary {
                dt { (words.t("subject-field-outcome")) }
                dd { @if decision.outcome == "cleared" { (words.t("subject-outcome-cleared")) } @else { (words.t("subject-outcome-refused")) }
                     @if decision.revised { " " (words.t("subject-outcome-revised")) } }
                dt { (words.t("subject-field-decided-on")) } dd { (words.date(decision.decided_at.date())) }
                @if let Some(grounds) = &decision.grounds { dt { (words.t("subject-field-grounds")) } dd.grounds { (grounds) } }
            }
        }
        @if actions.contains(&"respond") {
            h2 { (words.t("subject-respond-title")) }
            p { (words.t("subject-respond-text")) }
            form method="post" action=(action("response")) novalidate {
                fieldset {
                    legend { (words.t("subject-respond-legend")) }
                    (textarea_in(lang, "statement", &words.t("subject-field-statement"), None, &typed.statement, errors))
                    button type="submit" { (words.t("subject-respond-submit")) }
                }
            }
        }
        @if actions.contains(&"object") {
            h2 { (words.t("subject-object-title")) }
            @if let Some(until) = invitation.decision.as_ref().and_then(|d| d.objection_until) {
                p { (words.with("subject-object-until", &[("date", words.date(until.date()).into())])) }
            }
            form method="post" action=(action("objection")) novalidate {
                fieldset {
                    legend { (words.t("subject-object-legend")) }
                    (textarea_in(lang, "grounds", &words.t("subject-field-objection"), None, &typed.grounds, errors))
                    button type="submit" { (words.t("subject-object-submit")) }
                }
            }
        }
        @if actions.contains(&"consent") {
            (privacy_notice(config, &words, invitation, true))
            h2 { (words.t("subject-answer-title")) }
            p { (words.with("subject-answer-by", &[("date", words.date(r.invitation_expires_at.date()).into())])) }
            form method="post" action=(action("consent")) {
                fieldset {
                    legend { (words.t("subject-consent-legend")) }
                    p { (words.t("subject-consent-statement")) }
                    button type="submit" { (words.with("subject-consent-submit", &[org_arg()])) }
                }
            }
            (decline_form_markup(config, &words, invitation, &action("decline"), errors, typed))
        } @else {
            (privacy_notice(config, &words, invitation, false))
        }
        @if actions.contains(&"withdraw_consent") {
            h2 { (words.t("subject-withdraw-title")) }
            p { (words.t("subject-withdraw-text")) }
            p { a.button.secondary href=(action("withdraw-consent")) { (words.t("subject-withdraw-link")) } }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(lang, status, &words.t("subject-title"), body)
}

fn decline_form_markup(
    config: &Config,
    words: &Words,
    invitation: &Invitation,
    action: &str,
    errors: &Errors,
    typed: &Typed,
) -> Markup {
    let lang = words.lang;
    let reasons: Vec<(String, String)> = ["data_incorrect", "not_consenting", "other"]
        .into_iter()
        .map(|reason| {
            (
                reason.to_owned(),
                words.t(&format!("subject-decline-{reason}")),
            )
        })
        .collect();
    let args = [
        (
            "organisation",
            FluentValue::from(invitation.organisation_name.as_str()),
        ),
        ("operator", FluentValue::from(config.operator_name.as_str())),
    ];
    html! {
        form method="post" action=(action) novalidate {
            fieldset {
                legend { (words.t("subject-decline-legend")) }
                (radios_in(lang, "reason", &words.t("subject-decline-reason"), &reasons,
                    typed.reason.as_deref().unwrap_or_default(), errors))
                (textarea_in(lang, "message", &words.with("subject-field-message", &args), None, &typed.message, errors))
                button.secondary type="submit" { (words.t("subject-decline-submit")) }
            }
        }
    }
}

/// The privacy notice (GDPR Art. 13 and 49(1)(a)): in full before consent, folded after.
fn privacy_notice(config: &Config, words: &Words, invitation: &Invitation, open: bool) -> Markup {
    let r = &invitation.request;
    let organisation = invitation.organisation_name.as_str();
    let outside_eu =
        CountryCode::parse(&invitation.organisation_country).is_ok_and(|c| !c.is_eu_member());
    let args = [
        ("operator", FluentValue::from(config.operator_name.as_str())),
        (
            "contact",
            FluentValue::from(config.operator_contact.as_str()),
        ),
        ("organisation", FluentValue::from(organisation)),
        ("position", FluentValue::from(r.position_title.as_str())),
        (
            "country",
            FluentValue::from(words.country(&r.deployment_country)),
        ),
        (
            "org_country",
            FluentValue::from(words.country(&invitation.organisation_country)),
        ),
        ("days", FluentValue::from(config.retention_days.to_string())),
    ];
    let say = |id: &str| words.with(id, &args);
    html! {
        details.privacy open[open] {
            summary { h2 { (say("subject-privacy-title")) } }
            p { (say("subject-privacy-controller")) }
            p { (say("subject-privacy-purpose")) }
            p { (say("subject-privacy-checks")) }
            ul {
                @for check in &invitation.checks {
                    li { (say(&format!("subject-check-{}", check.as_str()))) }
                }
            }
            p { (say("subject-privacy-assessment")) }
            p { (say("subject-privacy-outcome")) }
            p { @if outside_eu { (say("subject-privacy-transfer")) } @else { (say("subject-privacy-recipient")) } }
            p { (say("subject-privacy-retention")) }
            h3 { (say("subject-privacy-rights")) }
            ul {
                li { (say("subject-right-see")) }
                li { (say("subject-right-correct")) }
                li { (say("subject-right-withdraw")) }
                li { (say("subject-right-object")) }
                li { (say("subject-right-complain")) }
            }
        }
    }
}

/// The page the subject's e-mailed link opens.
#[utoipa::path(get, path = "/s/{token}", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "`nl` or `en`; else the browser's language, else Dutch")),
    responses((status = 200, description = "The subject page", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String)))]
async fn subject_page(State(state): State<AppState>, visit: Visit) -> Response {
    match invitations::view(&state, &visit.token, &visit.client).await {
        Ok(invitation) => render(
            &state.config,
            &visit,
            &invitation,
            &Errors::none(),
            &Typed::default(),
        ),
        Err(error) => error_page(visit.lang, None, error),
    }
}

/// Consent from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/consent", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "The page's language: `nl` or `en`")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String)))]
async fn consent_form(State(state): State<AppState>, visit: Visit) -> Response {
    let outcome = invitations::consent(&state, &visit.token, &visit.client).await;
    back_to_page(&visit, outcome)
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"reason": "data_incorrect", "message": "My date of birth is wrong."})))]
pub struct DeclineForm {
    pub reason: DeclineReasonDto,
    #[schema(schema_with = schemas::optional_text_or_blank::<2000>)]
    pub message: Option<String>,
}

type FormPairs = Result<Form<Vec<(String, String)>>, FormRejection>;

/// A form's last value of `name`, untrimmed (what was typed is shown again as typed).
fn typed_value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// The form's field errors in the page's language (the rules are the API's).
fn field_error(lang: Lang, field: &str) -> FieldError {
    let id = match field {
        "reason" => "subject-error-reason",
        "message" => "subject-error-message",
        "statement" => "subject-error-statement",
        _ => "subject-error-objection",
    };
    FieldError::new(field, text(lang, id, &[]))
}

/// The page again, with the form's errors and what was typed (422).
async fn page_with_errors(
    state: &AppState,
    visit: &Visit,
    fields: &[&str],
    typed: Typed,
) -> Response {
    match invitations::view(state, &visit.token, &visit.client).await {
        Ok(invitation) => {
            let errors = Errors::new(fields.iter().map(|f| field_error(visit.lang, f)).collect());
            render(&state.config, visit, &invitation, &errors, &typed)
        }
        Err(error) => error_page(visit.lang, None, error),
    }
}

/// Decline from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/decline", tag = TAG_SUBJECT,
    request_body(content = DeclineForm, content_type = "application/x-www-form-urlencoded"),
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "The page's language: `nl` or `en`")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String),
              (status = 422, description = "No or an unknown reason: the form again", content_type = "text/html", body = String)))]
async fn decline_form(State(state): State<AppState>, visit: Visit, form: FormPairs) -> Response {
    let pairs = form.map(|Form(pairs)| pairs).unwrap_or_default();
    let typed = Typed {
        reason: Some(typed_value(&pairs, "reason")).filter(|r| !r.is_empty()),
        message: typed_value(&pairs, "message"),
        ..Typed::default()
    };
    let reason = typed
        .reason
        .as_deref()
        .and_then(|r| serde_json::from_value::<DeclineReasonDto>(serde_json::Value::from(r)).ok());
    let message = decline_message(Some(&typed.message));
    let mut wrong = Vec::new();
    if reason.is_none() {
        wrong.push("reason");
    }
    if message.is_err() {
        wrong.push("message");
    }
    let (Some(reason), Ok(message)) = (reason, message) else {
        return page_with_errors(&state, &visit, &wrong, typed).await;
    };
    let outcome =
        invitations::decline(&state, &visit.token, &visit.client, reason.into(), message).await;
    back_to_page(&visit, outcome)
}

/// After a form: back to the subject page in its language, or the error as a page.
fn back_to_page<T>(visit: &Visit, outcome: Result<T, AppError>) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&visit.page_path()).into_response(),
        Err(error) => error_page(visit.lang, Some(&visit.token), error),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"statement": "The matter was dismissed in 2019."})))]
pub struct ResponseForm {
    #[schema(schema_with = schemas::text::<10000>)]
    pub statement: String,
}

/// The subject's response to an intention to refuse, from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/response", tag = TAG_SUBJECT,
    request_body(content = ResponseForm, content_type = "application/x-www-form-urlencoded"),
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "The page's language: `nl` or `en`")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String),
              (status = 422, description = "No statement: the form again", content_type = "text/html", body = String)))]
async fn response_form(State(state): State<AppState>, visit: Visit, form: FormPairs) -> Response {
    let keep = |statement| Typed {
        statement,
        ..Typed::default()
    };
    one_text_form(&state, &visit, form, "statement", keep, async |statement| {
        invitations::respond(&state, &visit.token, &visit.client, statement).await
    })
    .await
}

/// A form of one required text of the subject's (a response, an objection): the page again
/// with what was typed (`keep`) and the error when the text breaks the API's rule, else `act`
/// on it and back to the page.
async fn one_text_form<T>(
    state: &AppState,
    visit: &Visit,
    form: FormPairs,
    field: &'static str,
    keep: impl FnOnce(String) -> Typed,
    act: impl AsyncFnOnce(String) -> Result<T, AppError>,
) -> Response {
    let pairs = form.map(|Form(pairs)| pairs).unwrap_or_default();
    let typed = typed_value(&pairs, field);
    match subject_text(field, &typed) {
        Ok(text) => back_to_page(visit, act(text).await),
        Err(_) => page_with_errors(state, visit, &[field], keep(typed)).await,
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"grounds": "The record concerns someone else with the same name."})))]
pub struct ObjectionForm {
    #[schema(schema_with = schemas::text::<10000>)]
    pub grounds: String,
}

/// The subject's objection to a refusal, from the page's form; back to the page.
#[utoipa::path(post, path = "/s/{token}/objection", tag = TAG_SUBJECT,
    request_body(content = ObjectionForm, content_type = "application/x-www-form-urlencoded"),
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "The page's language: `nl` or `en`")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String),
              (status = 409, description = "Not possible in this status", content_type = "text/html", body = String),
              (status = 422, description = "No grounds: the form again", content_type = "text/html", body = String)))]
async fn objection_form(State(state): State<AppState>, visit: Visit, form: FormPairs) -> Response {
    let keep = |grounds| Typed {
        grounds,
        ..Typed::default()
    };
    one_text_form(&state, &visit, form, "grounds", keep, async |grounds| {
        invitations::object(&state, &visit.token, &visit.client, grounds).await
    })
    .await
}

/// The page that confirms a withdrawal of consent and says what follows from it.
#[utoipa::path(get, path = "/s/{token}/withdraw-consent", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "`nl` or `en`; else the browser's language, else Dutch")),
    responses((status = 200, description = "The confirmation page", content_type = "text/html", body = String),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 409, description = "Consent cannot be withdrawn in this status", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String)))]
async fn withdraw_consent_page(State(state): State<AppState>, visit: Visit) -> Response {
    let invitation = match invitations::view(&state, &visit.token, &visit.client).await {
        Ok(invitation) => invitation,
        Err(error) => return error_page(visit.lang, None, error),
    };
    let words = Words { lang: visit.lang };
    if !invitation.actions().contains(&"withdraw_consent") {
        return not_withdrawable(&visit);
    }
    let args = [
        (
            "organisation",
            FluentValue::from(invitation.organisation_name.as_str()),
        ),
        (
            "days",
            FluentValue::from(state.config.retention_days.to_string()),
        ),
    ];
    let title = words.t("subject-withdraw-confirm-title");
    page(
        visit.lang,
        StatusCode::OK,
        &title,
        html! {
            h1 { (title) }
            ul {
                @for id in ["subject-withdraw-what-1", "subject-withdraw-what-2", "subject-withdraw-what-3", "subject-withdraw-what-4"] {
                    li { (words.with(id, &args)) }
                }
            }
            form method="post" action={ "/s/" (visit.token) "/withdraw-consent?lang=" (visit.lang.code()) } {
                button.warning type="submit" { (words.t("subject-withdraw-submit")) }
            }
            p { a href=(visit.page_path()) { (words.t("subject-withdraw-cancel")) } }
        },
    )
}

fn not_withdrawable(visit: &Visit) -> Response {
    let words = Words { lang: visit.lang };
    let title = words.t("subject-withdraw-title");
    page(
        visit.lang,
        StatusCode::CONFLICT,
        &title,
        html! {
            h1 { (title) }
            p role="alert" { (words.t("subject-withdraw-not-possible")) }
            p { a href=(visit.page_path()) { (words.t("subject-back")) } }
        },
    )
}

/// The withdrawal itself; back to the page, which then says the screening has ended. Sent
/// twice (a double click), the second finds it done and shows the same page.
#[utoipa::path(post, path = "/s/{token}/withdraw-consent", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link"),
           ("lang" = Option<String>, Query, description = "The page's language: `nl` or `en`")),
    responses((status = 303, description = "Back to the subject page"),
              (status = 404, description = "Unknown link", content_type = "text/html", body = String),
              (status = 409, description = "Consent cannot be withdrawn in this status", content_type = "text/html", body = String),
              (status = 429, description = "Too many unknown links from this client", content_type = "text/html", body = String)))]
async fn withdraw_consent_form(State(state): State<AppState>, visit: Visit) -> Response {
    match invitations::withdraw_consent(&state, &visit.token, &visit.client).await {
        Ok(_) => Redirect::to(&visit.page_path()).into_response(),
        Err(AppError::Conflict(_)) => {
            match invitations::view(&state, &visit.token, &visit.client).await {
                Ok(invitation)
                    if invitation.request.decline_reason.as_deref()
                        == Some("consent_withdrawn") =>
                {
                    Redirect::to(&visit.page_path()).into_response()
                }
                Ok(_) => not_withdrawable(&visit),
                Err(error) => error_page(visit.lang, None, error),
            }
        }
        Err(error) => error_page(visit.lang, Some(&visit.token), error),
    }
}
