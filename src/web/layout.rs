//! The page shell every page is rendered in (landmarks, a skip link, the one stylesheet), the
//! headers every page carries, and the stylesheet itself, served from the binary under a
//! content-hashed name so it can be cached for a year.
use std::sync::LazyLock;

use axum::{
    extract::{Path, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};

use super::i18n::{Lang, text};
use crate::{auth::Principal, error::AppError, services::AppState};

const STYLESHEET: &str = include_str!("assets/style.css");
pub const PASSKEY_SCRIPT: &str = include_str!("assets/passkeys.js");

/// `style.<first 16 hex of its SHA-256>.css`: a new name whenever the file changes.
pub static STYLESHEET_NAME: LazyLock<String> =
    LazyLock::new(|| hashed_name("style", "css", STYLESHEET));
pub static PASSKEY_SCRIPT_NAME: LazyLock<String> =
    LazyLock::new(|| hashed_name("passkeys", "js", PASSKEY_SCRIPT));

fn hashed_name(stem: &str, extension: &str, content: &str) -> String {
    let digest = hex::encode(Sha256::digest(content.as_bytes()));
    format!("{stem}.{}.{extension}", &digest[..16])
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /assets/{file}`: the stylesheet and the passkey script, by their hashed names only.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (content, content_type) = if file == *STYLESHEET_NAME {
        (STYLESHEET, "text/css; charset=utf-8")
    } else if file == *PASSKEY_SCRIPT_NAME {
        (PASSKEY_SCRIPT, "text/javascript; charset=utf-8")
    } else {
        return super::errors::page_for(AppError::NotFound);
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        content,
    )
        .into_response()
}

/// The headers of every page: a strict CSP (no inline script or style anywhere), no sniffing,
/// no referrer, no caching of anything personal, HSTS behind https.
pub async fn page_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Swagger UI (`/docs`) brings its own inline script; the API answers JSON.
    let documentation = request.uri().path().starts_with("/docs");
    let mut response = next.run(request).await;
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("text/html")
                || t.starts_with("text/css")
                || t.starts_with("text/javascript")
        });
    if documentation || !page {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.public_url.starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// What the shell needs besides the page's own content.
pub struct Shell<'a> {
    /// The page's title: the `<title>`, before the service's name.
    pub title: &'a str,
    /// The signed-in user, for the header's account link and sign-out button.
    pub signed_in: Option<&'a Principal>,
    /// A form page: a narrower column.
    pub narrow: bool,
    /// Pages that need the passkey script (progressive enhancement only).
    pub passkey_script: bool,
    /// The subject's page has no account to sign in to: no navigation.
    pub navigation: bool,
    /// The page's language (the staff pages: English).
    pub lang: Lang,
}

impl<'a> Shell<'a> {
    pub fn new(title: &'a str) -> Self {
        Shell {
            title,
            signed_in: None,
            narrow: false,
            passkey_script: false,
            navigation: true,
            lang: Lang::En,
        }
    }

    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    pub fn without_navigation(mut self) -> Self {
        self.navigation = false;
        self
    }

    pub fn signed_in(mut self, principal: &'a Principal) -> Self {
        self.signed_in = Some(principal);
        self
    }

    pub fn narrow(mut self) -> Self {
        self.narrow = true;
        self
    }

    pub fn with_passkey_script(mut self) -> Self {
        self.passkey_script = true;
        self
    }
}

/// A whole page: header, the page's content as `main`, footer.
pub fn page(status: StatusCode, shell: Shell<'_>, content: Markup) -> Response {
    let t = |id: &str| text(shell.lang, id, &[]);
    let markup = html! {
        (DOCTYPE)
        html lang=(shell.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (shell.title) " — safescreen" }
                link rel="stylesheet" href={ "/assets/" (*STYLESHEET_NAME) };
                @if shell.passkey_script {
                    script src={ "/assets/" (*PASSKEY_SCRIPT_NAME) } defer {}
                }
            }
            body {
                a.skip-link href="#content" { (t("skip-to-content")) }
                header.site {
                    div.bar {
                        a.name href="/" { "safescreen" }
                        @if shell.navigation {
                        nav aria-label=(t("nav-label")) {
                            ul {
                                @if let Some(principal) = shell.signed_in {
                                    @if principal.is_staff() {
                                        li { a href="/console/tasks" { (t("nav-console")) } }
                                    } @else if principal.organisation_id.is_some() {
                                        li { a href="/org/requests" { (t("nav-portal")) } }
                                    }
                                    li { a href="/account" { (t("nav-account")) } }
                                    li {
                                        form.inline method="post" action="/logout" {
                                            input type="hidden" name="csrf" value=(principal.csrf_token.as_deref().unwrap_or_default());
                                            button.link type="submit" { (t("nav-sign-out")) }
                                        }
                                    }
                                } @else {
                                    li { a href="/login" { (t("nav-sign-in")) } }
                                }
                            }
                        }
                        }
                    }
                }
                main id="content" class=[shell.narrow.then_some("narrow")] tabindex="-1" {
                    (content)
                }
                footer.site {
                    div.bar {
                        p { (t("footer-about")) " "
                            a href="/docs" { (t("footer-api")) } " · "
                            a href="/.well-known/jwks.json" { (t("footer-keys")) } }
                    }
                }
            }
        }
    };
    (status, Html(markup.into_string())).into_response()
}
