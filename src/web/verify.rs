//! Verification for anyone (`/verify`, web.md): whoever is handed a certificate pastes it,
//! uploads its file or follows its QR code, and reads the answer of
//! `POST /v1/certificates/verify` in plain words, in Dutch or English. No session, no cookie,
//! nothing stored: the page changes nothing.
use axum::{
    Form,
    extract::{FromRequest, Multipart, Query, Request, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use maud::{Markup, html};
use serde_json::Value;

use super::{
    components::{Errors, field_id},
    errors,
    forms::page_language,
    i18n::{Lang, country_name, long_date, text, written_date},
    layout::{Shell, page},
};
use crate::{
    error::{AppError, FieldError},
    services::{AppState, certificates},
};

/// Far longer than any certificate we sign; longer text is refused before it is parsed.
const MAX_CERTIFICATE_CHARS: usize = 16 * 1024;

/// The page's language: `?lang=`, else the browser's, else English (those who verify are
/// mostly abroad).
fn language(pairs: &[(String, String)], headers: &HeaderMap) -> Lang {
    page_language(pairs, headers, Lang::En)
}

fn unix_date(lang: Lang, seconds: Option<i64>) -> String {
    seconds
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|at| long_date(lang, at.date()))
        .unwrap_or_default()
}

/// What the answer says, in the page's language.
fn answer(lang: Lang, verification: &certificates::Verification) -> Markup {
    let t = |id: &str| text(lang, id, &[]);
    let claims = verification.claims.as_ref().unwrap_or(&Value::Null);
    let clearance = &claims["clearance"];
    let subject = &clearance["subject"];
    let name = format!(
        "{} {}",
        subject["given_names"].as_str().unwrap_or_default(),
        subject["family_name"].as_str().unwrap_or_default()
    );
    let valid_until = unix_date(lang, claims["exp"].as_i64());
    let facts = html! {
        dl.summary {
            dt { (t("verify-field-name")) } dd { strong { (name) } }
            dt { (t("verify-field-date-of-birth")) } dd { (written_date(lang, subject["date_of_birth"].as_str().unwrap_or_default())) }
            dt { (t("verify-field-organisation")) } dd { (clearance["organisation"]["name"].as_str().unwrap_or_default()) }
            dt { (t("verify-field-position")) } dd { (clearance["position_title"].as_str().unwrap_or_default()) }
            dt { (t("verify-field-country")) } dd { (country_name(lang, clearance["deployment_country"].as_str().unwrap_or_default())) }
            dt { (t("verify-field-valid-until")) } dd { (valid_until) }
        }
    };
    match verification.status {
        "active" => html! {
            section.verdict.valid aria-labelledby="verdict" {
                h2 id="verdict" { (t("verify-valid-title")) }
                p { (t("verify-valid-text")) }
                (facts)
                p.advice { strong { (t("verify-compare-identity")) } }
            }
        },
        "revoked" => html! {
            section.verdict.invalid aria-labelledby="verdict" {
                h2 id="verdict" { (t("verify-revoked-title")) }
                p { (t("verify-revoked-text")) }
                (facts)
            }
        },
        "expired" => html! {
            section.verdict.invalid aria-labelledby="verdict" {
                h2 id="verdict" { (t("verify-expired-title")) }
                p { (text(lang, "verify-expired-text", &[("date", valid_until.clone().into())])) }
                (facts)
            }
        },
        _ => html! {
            section.verdict.invalid aria-labelledby="verdict" {
                h2 id="verdict" { (t("verify-invalid-title")) }
                p { (t("verify-invalid-text")) }
            }
        },
    }
}

fn verify_page(
    lang: Lang,
    status: StatusCode,
    jws: &str,
    errors: &Errors,
    result: Option<Markup>,
) -> Response {
    let t = |id: &str| text(lang, id, &[]);
    let title = t("verify-certificate-title");
    let other = match lang {
        Lang::Nl => (Lang::En, "English"),
        Lang::En => (Lang::Nl, "Nederlands"),
    };
    let error = errors.of("jws");
    let body = html! {
        // The same answer in the other language: the certificate goes along when one is shown.
        @let switch = if result.is_some() && !jws.is_empty() {
            let jws: String = url::form_urlencoded::byte_serialize(jws.as_bytes()).collect();
            format!("/verify?lang={}&jws={jws}", other.0.code())
        } else {
            format!("/verify?lang={}", other.0.code())
        };
        p.language { a href=(switch) lang=(other.0.code()) hreflang=(other.0.code()) { (other.1) } }
        (errors.summary_in(lang))
        h1 { (title) }
        @if let Some(result) = result { (result) }
        p { (t("verify-lead")) }
        form method="post" action="/verify" enctype="multipart/form-data" novalidate {
            input type="hidden" name="lang" value=(lang.code());
            div class=(if error.is_some() { "field has-error" } else { "field" }) {
                label for=(field_id("jws")) { (t("field-jws")) }
                span.hint id="f-jws-hint" { (t("verify-jws-hint")) }
                @if let Some(message) = error { span.error-message id="f-jws-error" { (t("error-prefix")) " " (message) } }
                textarea id=(field_id("jws")) name="jws" rows="6" spellcheck="false"
                    aria-describedby={ "f-jws-hint" @if error.is_some() { " f-jws-error" } }
                    aria-invalid=[error.map(|_| "true")] { (jws) }
            }
            div.field {
                label for="f-file" { (t("verify-field-file")) }
                input id="f-file" name="file" type="file" accept=".jws,text/plain,application/jose";
            }
            div.actions { button type="submit" { (t("verify-certificate-submit")) } }
        }
        p.hint { (t("verify-about")) }
    };
    page(status, Shell::new(&title).lang(lang).narrow(), body)
}

/// Verifies `jws` (or says what is wrong with the box) and renders the page.
async fn checked(state: &AppState, lang: Lang, jws: &str) -> Response {
    let jws = jws.trim();
    let problem = if jws.is_empty() {
        Some("verify-empty")
    } else if jws.len() > MAX_CERTIFICATE_CHARS {
        Some("verify-too-long")
    } else {
        None
    };
    if let Some(problem) = problem {
        let errors = Errors::new(vec![FieldError::new("jws", text(lang, problem, &[]))]);
        let shown = if jws.len() > MAX_CERTIFICATE_CHARS {
            ""
        } else {
            jws
        };
        return verify_page(lang, StatusCode::UNPROCESSABLE_ENTITY, shown, &errors, None);
    }
    match certificates::verify(state, jws).await {
        Ok(verification) => verify_page(
            lang,
            StatusCode::OK,
            jws,
            &Errors::none(),
            Some(answer(lang, &verification)),
        ),
        Err(error) => errors::page_for(error),
    }
}

/// `GET /verify` and `GET /verify?jws=…` (the QR code's link).
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(pairs)| pairs).unwrap_or_default();
    let lang = language(&pairs, &headers);
    match pairs.iter().find(|(k, _)| k == "jws") {
        Some((_, jws)) => checked(&state, lang, jws).await,
        None => verify_page(lang, StatusCode::OK, "", &Errors::none(), None),
    }
}

/// `POST /verify`: the pasted text, or the uploaded file when one is chosen.
pub async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let mut pairs: Vec<(String, String)> = Vec::new();
    if multipart {
        let Ok(mut form) = Multipart::from_request(request, &state).await else {
            return errors::page_for(AppError::BadRequest("the form could not be read".into()));
        };
        loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let Ok(bytes) = field.bytes().await else {
                        return errors::page_for(AppError::PayloadTooLarge);
                    };
                    // A file that is not text cannot be a certificate: it is checked as such.
                    pairs.push((name, String::from_utf8_lossy(&bytes).into_owned()));
                }
                Ok(None) => break,
                Err(_) => {
                    return errors::page_for(AppError::BadRequest(
                        "the form could not be read".into(),
                    ));
                }
            }
        }
    } else {
        match Form::<Vec<(String, String)>>::from_request(request, &state).await {
            Ok(Form(found)) => pairs = found,
            Err(_) => {
                return errors::page_for(AppError::BadRequest("the form could not be read".into()));
            }
        }
    }
    let lang = language(&pairs, &headers);
    let file = pairs
        .iter()
        .find(|(k, v)| k == "file" && !v.trim().is_empty())
        .map(|(_, v)| v.clone());
    let pasted = pairs
        .iter()
        .find(|(k, _)| k == "jws")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    checked(&state, lang, file.as_deref().unwrap_or(&pasted)).await
}
