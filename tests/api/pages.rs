//! The pages, driven over HTTP as a browser would (cookies kept, redirects seen): the headers
//! every page carries, signing in and out, the session cookie and bearer tokens each refused
//! where they do not belong, CSRF, and what a form does with bad input. What needs a real
//! browser (axe, passkeys, JavaScript off) is in tools/browser.
use std::collections::HashMap;

use reqwest::{StatusCode, header};

use crate::{
    helpers::*,
    sign_in::{enrol, spawn_staff_mfa_app},
};

/// A browser: its cookies, no automatic redirects, and `Sec-Fetch-Site` on its form posts.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first `name="csrf"` field.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        for set in response.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            assert!(
                set.contains("HttpOnly")
                    && set.contains("Secure")
                    && set.contains("SameSite=Strict")
                    && set.contains("Path=/"),
                "{set}"
            );
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// A form post from one of our pages.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, Some("same-origin")).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        site: Option<&str>,
    ) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .form(form);
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let response = request.send().await.unwrap();
        self.keep(response).await
    }

    /// A multipart form post from one of our pages (a file upload): text fields, then one
    /// file field.
    pub async fn post_file(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_field: &str,
        file: Vec<u8>,
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        form = form.part(
            file_field.to_owned(),
            reqwest::multipart::Part::bytes(file)
                .file_name("requests.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
        let response = self
            .client
            .post(self.app.url(path))
            .header(header::COOKIE, self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// Signs in through the pages; a code for the second step if asked for one.
    pub async fn sign_in(&mut self, email: &str, password: &str, code: Option<String>) -> Page {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        let after = self
            .post(
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", password)],
            )
            .await;
        if after.location() != "/login/verify" {
            return after;
        }
        let verify = self.get("/login/verify").await;
        let csrf = verify.csrf();
        self.post(
            "/login/verify",
            &[("csrf", &csrf), ("code", &code.expect("a code"))],
        )
        .await
    }
}

/// No inline script or style anywhere: the CSP would refuse them, so none may be written.
fn assert_no_inline(page: &Page) {
    let html = page.body.to_lowercase();
    assert!(!html.contains("<style"), "inline <style>");
    assert!(!html.contains(" style="), "a style attribute");
    let mut rest = html.as_str();
    while let Some(at) = rest.find("<script") {
        let tag = &rest[at..rest[at..].find('>').map_or(rest.len(), |e| at + e)];
        assert!(tag.contains(" src="), "an inline script: {tag}");
        rest = &rest[at + 7..];
    }
    for handler in [" onclick=", " onload=", " onsubmit=", " onerror="] {
        assert!(!html.contains(handler), "an inline handler {handler}");
    }
}

fn assert_page_headers(page: &Page) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        header("content-security-policy"),
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
}

#[tokio::test]
async fn every_page_carries_the_headers_one_cached_stylesheet_and_no_inline_code() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    for path in [
        "/",
        "/login",
        "/password-reset",
        "/activate/ss_act_x",
        "/no-such-page",
    ] {
        let page = browser.get(path).await;
        assert!(
            page.status == 200 || page.status == 404,
            "{path}: {}",
            page.status
        );
        assert_page_headers(&page);
        assert_no_inline(&page);
        assert!(
            page.body.contains("<main id=\"content\""),
            "{path}: landmarks"
        );
        assert!(
            page.body.contains("href=\"#content\""),
            "{path}: a skip link"
        );
        assert_eq!(page.body.matches("<h1").count(), 1, "{path}: one h1");
        assert!(
            page.body.len() < 30_000,
            "{path}: {} bytes",
            page.body.len()
        );
    }
    // The landing page is a page, not the API's 404.
    let landing = browser.get("/").await;
    assert_eq!(landing.status, 200);
    assert!(landing.body.contains("href=\"/login\""));
    assert!(landing.body.contains("href=\"/docs\""));
    // One stylesheet, under a content-hashed name, cached for a year.
    let at = landing.body.find("/assets/style.").unwrap();
    let href: String = landing.body[at..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let css = browser.get(&href).await;
    assert_eq!(css.status, 200);
    assert_eq!(
        css.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.body.contains(":focus-visible"));
    assert_eq!(
        browser
            .get("/assets/style.0000000000000000.css")
            .await
            .status,
        404
    );
    // The API's 404 stays a problem document.
    let api = app.client.get(app.url("/v1/nothing")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn the_subject_page_keeps_to_the_csp_too() {
    let app = spawn_app().await;
    let (_, key) = crate::engine::org_with_key(&app).await;
    let email = "subject@example.org";
    app.submit(&key, email).await;
    let token = app.invitation_token(email).await;
    let mut browser = Browser::new(&app);
    let page = browser.get(&format!("/s/{token}")).await;
    assert_eq!(page.status, 200);
    assert_page_headers(&page);
    assert_no_inline(&page);
    // A form posted from another site changes nothing.
    let cross = browser
        .post_from(&format!("/s/{token}/consent"), &[], Some("cross-site"))
        .await;
    assert_eq!(cross.status, 403);
    let view = app
        .call(
            reqwest::Method::GET,
            &format!("/v1/invitations/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(view.body["status"], "awaiting_consent");
}

#[tokio::test]
async fn signing_in_on_the_pages_with_a_second_factor_and_out() {
    let app = spawn_staff_mfa_app().await;
    let (authenticator, _) = enrol(&app, &app.admin_token).await;
    let mut browser = Browser::new(&app);
    // A wrong password: the form again, saying what to fix, the address kept.
    let form = browser.get("/login").await;
    let csrf = form.csrf();
    let wrong = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", ADMIN_EMAIL),
                ("password", "wrong"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("There is a problem"));
    assert!(
        wrong
            .body
            .contains("Enter a correct e-mail address and password")
    );
    assert!(wrong.body.contains(&format!("value=\"{ADMIN_EMAIL}\"")));
    assert!(!browser.cookies.contains_key("__Host-safescreen_session"));
    // Empty fields: each named.
    let empty = browser
        .post(
            "/login",
            &[("csrf", &csrf), ("email", ""), ("password", "")],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(
        empty.body.contains("href=\"#f-email\"") && empty.body.contains("href=\"#f-password\"")
    );
    // The password, then a wrong code, then the right one.
    let step = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(step.status, 303);
    assert_eq!(step.location(), "/login/verify");
    assert!(browser.cookies.contains_key("__Host-safescreen_login"));
    let verify = browser.get("/login/verify").await;
    assert!(verify.body.contains("autocomplete=\"one-time-code\""));
    assert!(verify.body.contains("inputmode=\"numeric\""));
    let csrf = verify.csrf();
    let bad = browser
        .post("/login/verify", &[("csrf", &csrf), ("code", "000000")])
        .await;
    assert_eq!(bad.status, 422);
    let done = browser
        .post(
            "/login/verify",
            &[("csrf", &csrf), ("code", &authenticator.code(1))],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location(),
        "/console/tasks",
        "an admin lands at the console"
    );
    assert!(browser.cookies.contains_key("__Host-safescreen_session"));
    assert!(!browser.cookies.contains_key("__Host-safescreen_login"));
    let account = browser.get("/account").await;
    assert_eq!(
        account.status,
        200,
        "{} {:?}",
        account.location(),
        browser.cookies
    );
    assert!(account.body.contains(ADMIN_EMAIL));
    assert_page_headers(&account);
    assert_no_inline(&account);
    // The same code again, from a new pending sign-in: refused.
    let mut other = Browser::new(&app);
    let again = other
        .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, Some(authenticator.code(1)))
        .await;
    assert_eq!(again.status, 422);
    // Signing out ends the session: the cookie no longer opens the account.
    let csrf = account.csrf();
    let old = browser.cookies["__Host-safescreen_session"].clone();
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    // The revoked cookie, sent again, signs nobody in.
    let mut replay = Browser::new(&app);
    replay
        .cookies
        .insert("__Host-safescreen_session".into(), old);
    let page = replay.get("/account").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/login");
    assert!(!browser.cookies.contains_key("__Host-safescreen_session"));
}

#[tokio::test]
async fn the_cookie_opens_no_api_operation_and_a_bearer_token_no_page() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let signed_in = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(signed_in.status, 303);
    let cookie = browser.cookies["__Host-safescreen_session"].clone();
    assert!(cookie.starts_with("ss_web_"));
    // The cookie, as a cookie or as a bearer token, is nothing to the API.
    let with_cookie = app
        .client
        .get(app.url("/v1/me"))
        .header(
            header::COOKIE,
            format!("__Host-safescreen_session={cookie}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 401);
    app.get("/v1/me", &cookie).await.assert_problem(401);
    // An API token, as a bearer token or in the cookie, is nothing to a page.
    let bearer = app
        .client
        .get(app.url("/account"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.url().path(), "/login", "sent to sign in");
    let mut impostor = Browser::new(&app);
    impostor
        .cookies
        .insert("__Host-safescreen_session".into(), app.admin_token.clone());
    let page = impostor.get("/account").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/login");
    // A forged cookie is forgotten, with no detail.
    let mut forged = Browser::new(&app);
    forged.cookies.insert(
        "__Host-safescreen_session".into(),
        format!("ss_web_{}", "A".repeat(43)),
    );
    let page = forged.get("/account").await;
    assert_eq!(page.status, 303);
    assert!(!forged.cookies.contains_key("__Host-safescreen_session"));
}

/// Every row of every table a call could change, as the authorisation matrix compares them.
async fn sessions_and_users(app: &TestApp) -> Vec<String> {
    crate::authorization::state_of(&app.db).await
}

#[tokio::test]
async fn a_post_without_the_token_with_anothers_or_from_another_site_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let mut other = Browser::new(&app);
    other.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let account = browser.get("/account").await;
    let own_csrf = account.csrf();
    let others_csrf = other.get("/account").await.csrf();
    assert_ne!(own_csrf, others_csrf);
    let session = {
        let at = account.body.find("/account/sessions/").unwrap() + 18;
        account.body[at..at + 36].to_owned()
    };
    let target = format!("/account/sessions/{session}/end");
    let before = sessions_and_users(&app).await;
    for (form, site) in [
        (vec![], Some("same-origin")),
        (vec![("csrf", others_csrf.as_str())], Some("same-origin")),
        (vec![("csrf", "")], Some("same-origin")),
        (vec![("csrf", own_csrf.as_str())], Some("cross-site")),
        (vec![("csrf", own_csrf.as_str())], Some("same-site")),
        (vec![("csrf", own_csrf.as_str())], None),
    ] {
        let page = browser.post_from(&target, &form, site).await;
        assert_eq!(page.status, 403, "{form:?} from {site:?}");
        assert!(page.body.contains("Nothing was changed"));
        assert_eq!(
            sessions_and_users(&app).await,
            before,
            "{form:?} from {site:?}"
        );
    }
    // Without Sec-Fetch-Site, the Origin decides.
    let with_origin = |origin: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(app.url(&target))
            .header(
                header::COOKIE,
                format!(
                    "__Host-safescreen_session={}",
                    browser.cookies["__Host-safescreen_session"]
                ),
            )
            .header(header::ORIGIN, origin)
            .form(&[("csrf", own_csrf.as_str())])
    };
    let foreign = with_origin("https://evil.example").send().await.unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(sessions_and_users(&app).await, before);
    // The sign-in form needs its double-submitted token too.
    let mut fresh = Browser::new(&app);
    let no_token = fresh
        .post(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(no_token.status, 403);
    // With everything right: done.
    let ok = browser.post(&target, &[("csrf", &own_csrf)]).await;
    assert_eq!(ok.status, 303);
    assert_ne!(sessions_and_users(&app).await, before);
}

#[tokio::test]
async fn a_staff_user_without_a_factor_reaches_only_enrolment_and_enrols_on_the_page() {
    let app = spawn_staff_mfa_app().await;
    let mut browser = Browser::new(&app);
    let signed_in = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(signed_in.status, 303);
    let account = browser.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Set up a second factor to continue"));
    let intro = browser.get("/account/totp").await;
    assert_eq!(intro.status, 200);
    assert!(
        !intro.body.contains("data:image/svg+xml"),
        "a GET makes no secret"
    );
    let started = browser
        .post("/account/totp/start", &[("csrf", &intro.csrf())])
        .await;
    assert_eq!(started.status, 303);
    let totp = browser.get("/account/totp").await;
    assert_eq!(totp.status, 200);
    assert!(
        totp.body.contains("src=\"data:image/svg+xml;base64,"),
        "a QR code"
    );
    assert_no_inline(&totp);
    let secret = {
        let at = totp.body.find("<p class=\"secret\">").unwrap() + 18;
        totp.body[at..].split('<').next().unwrap().to_owned()
    };
    let authenticator = totp_rs::Builder::new()
        .with_secret(
            totp_rs::Secret::try_from_base32(&secret)
                .unwrap()
                .as_ref()
                .to_vec(),
        )
        .build()
        .unwrap();
    let csrf = totp.csrf();
    let wrong = browser
        .post("/account/totp", &[("csrf", &csrf), ("code", "123")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains(&secret), "the same secret again");
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let done = browser
        .post(
            "/account/totp",
            &[
                ("csrf", &csrf),
                ("code", &authenticator.generate(now).to_string()),
            ],
        )
        .await;
    assert_eq!(done.status, 200);
    assert!(done.body.matches("<li>").count() >= 10);
    assert!(done.body.contains("Your recovery codes"));
}

#[tokio::test]
async fn an_oversized_or_malformed_form_is_a_page_not_an_error() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let csrf = browser.get("/login").await.csrf();
    let huge = "x".repeat(2 * 1024 * 1024);
    let page = browser
        .post("/login", &[("csrf", &csrf), ("email", &huge)])
        .await;
    assert_eq!(page.status, 413);
    assert!(page.body.contains("<h1>"));
    let malformed = reqwest::Client::new()
        .post(app.url("/login"))
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, format!("__Host-safescreen_csrf={csrf}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&email=%zz&password"))
        .send()
        .await
        .unwrap();
    assert!(
        malformed.status() == 400 || malformed.status() == 401 || malformed.status() == 422,
        "{}",
        malformed.status()
    );
    assert!(malformed.text().await.unwrap().contains("<h1>"));
}
