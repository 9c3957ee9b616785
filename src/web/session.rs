//! Browser sessions on the pages: the cookies, and the checks every page request passes before
//! its handler runs.
//!
//! - A page's user comes from the `__Host-safescreen_session` cookie alone (`HttpOnly`,
//!   `Secure`, `SameSite=Strict`); a bearer token means nothing here, and the API never reads
//!   the cookie.
//! - Every POST must come from our own pages (`Sec-Fetch-Site: same-origin`, or where a browser
//!   sends no such header an `Origin` equal to the public URL's) and carry the `csrf` token: the
//!   session's for a signed-in user, else the one in the `__Host-safescreen_csrf` cookie (the
//!   sign-in and reset forms, double-submitted). Otherwise 403 and nothing changes.
//! - A user who must enrol a second factor reaches only enrolment.
use axum::{
    body::{Body, Bytes, to_bytes},
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use subtle::ConstantTimeEq;

use super::errors;
use crate::{
    auth::{
        authenticate::Presented,
        policy::{self, Access, Rule, Surface},
        tokens,
    },
    error::{AppError, MAX_BODY_BYTES},
    services::{AppState, sessions},
};

pub const SESSION_COOKIE: &str = "__Host-safescreen_session";
pub const LOGIN_COOKIE: &str = "__Host-safescreen_login";
pub const CSRF_COOKIE: &str = "__Host-safescreen_csrf";

/// Pages a user who must enrol a second factor may still open.
const ENROLMENT_PAGES: &[&str] = &[
    "/account",
    "/account/totp",
    "/account/totp/start",
    "/account/passkeys/start",
    "/account/passkeys/finish",
    "/logout",
];

/// A `Set-Cookie` for one of our cookies: only over https (browsers count loopback as such),
/// never to scripts, never on another site's request.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
    let max_age = max_age_secs.map_or(String::new(), |s| format!("; Max-Age={s}"));
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict{max_age}"
    ))
    .expect("cookie values are base64url")
}

pub fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", Some(0))
}

/// The value of a cookie of the request.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A request from one of our own pages.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin",
        None => headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|origin| origin == origin_of(public_url)),
    }
}

/// `https://host:port` of a URL (the public URL has no path but may have one).
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// The token of an anonymous form (sign-in, password reset): the one in the CSRF cookie, or a
/// new one with the cookie that sets it.
pub fn anonymous_csrf(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 43) {
        Some(token) => (token.to_owned(), None),
        None => {
            let token = tokens::random_secret();
            let cookie = set_cookie(CSRF_COOKIE, &token, None);
            (token, Some(cookie))
        }
    }
}

/// Adds a `Set-Cookie` to a response.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn equal(a: &str, b: &str) -> bool {
    !a.is_empty() && a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The `csrf` a POST's form carries, url-encoded or multipart (a file upload). The body is read
/// (up to the body limit) and put back for the handler.
async fn posted_csrf(request: Request) -> Result<(Option<String>, Request), Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let url_encoded = content_type.starts_with("application/x-www-form-urlencoded");
    let multipart = content_type.starts_with("multipart/form-data");
    if !url_encoded && !multipart {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| errors::page_for(AppError::PayloadTooLarge))?;
    let token = if url_encoded {
        url::form_urlencoded::parse(&bytes)
            .find(|(key, _)| key == "csrf")
            .map(|(_, value)| value.into_owned())
    } else {
        multipart_field(&content_type, bytes.clone(), "csrf").await
    };
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// The text of one field of a multipart body, if it has it.
async fn multipart_field(content_type: &str, bytes: Bytes, name: &str) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream =
        futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut fields = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = fields.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// The checks of a page route, before its handler: who the user is (from the cookie), that a
/// POST is ours, and that the rule lets them in.
pub async fn authorize(state: AppState, rule: &Rule, request: Request, next: Next) -> Response {
    let post = request.method() == Method::POST;
    if post && !same_origin(request.headers(), &state.config.public_url) {
        return errors::forbidden_post();
    }
    if matches!(rule.surface, Surface::SubjectPage | Surface::OpenPage) {
        // The link's token is the credential, or the page changes nothing: there is no
        // session to ride on.
        return next.run(request).await;
    }
    if matches!(rule.access, Access::Public) {
        if post {
            let expected = cookie(request.headers(), CSRF_COOKIE).map(str::to_owned);
            let (sent, request) = match posted_csrf(request).await {
                Ok(found) => found,
                Err(response) => return response,
            };
            let matches = matches!((&sent, &expected), (Some(s), Some(e)) if equal(s, e));
            if !matches {
                return errors::forbidden_post();
            }
            return next.run(request).await;
        }
        return next.run(request).await;
    }
    let token = cookie(request.headers(), SESSION_COOKIE).map(str::to_owned);
    let principal = match &token {
        Some(token) => {
            match sessions::principal_for_token(&state, token, Presented::Cookie).await {
                Ok(found) => found,
                Err(error) => return errors::page_for(error),
            }
        }
        None => None,
    };
    let Some(principal) = principal else {
        // Signed out: to the sign-in page, forgetting a cookie that no longer stands for a
        // session (forged, revoked, expired), and saying nothing about why.
        let mut response = Redirect::to("/login").into_response();
        if token.is_some() {
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
        }
        return response;
    };
    let path = rule.path;
    if principal.enrolment_only && !ENROLMENT_PAGES.contains(&path) && !path.starts_with("/assets")
    {
        return Redirect::to("/account/totp").into_response();
    }
    if !policy::allows(rule.access, &principal) {
        return errors::page_for(AppError::Forbidden("your role may not do this".into()));
    }
    let mut request = request;
    if post {
        let (sent, checked) = match posted_csrf(request).await {
            Ok(found) => found,
            Err(response) => return response,
        };
        let expected = principal.csrf_token.as_deref().unwrap_or_default();
        if !sent.as_deref().is_some_and(|s| equal(s, expected)) {
            return errors::forbidden_post();
        }
        request = checked;
    }
    let caller = principal.session_id.unwrap_or(principal.id);
    request.extensions_mut().insert(principal);
    state
        .rate_limits
        .answer(caller, next.run(request), errors::page_for)
        .await
}
