//! The pages for people (web.md), an adapter over the services beside `api/`: a handler parses
//! its form, calls the same service function as the API, and renders what it returns.
//! Server-rendered HTML that works without JavaScript; the only script is the passkey
//! ceremony, served as a file.
use axum::{
    Router,
    handler::Handler,
    http::Method,
    routing::{MethodRouter, get, post},
};

use crate::{auth::policy, services::AppState};

pub mod account;
pub mod components;
pub mod console;
pub mod errors;
pub mod forms;
pub mod home;
// The catalogue sits below the pages: the e-mails the services and the engine send use it too.
pub use crate::i18n;
pub mod layout;
pub mod login;
pub mod passkeys;
pub mod portal;
pub mod session;
pub mod subject;
pub mod verify;

pub use subject::router;

/// The pages' routes, each registered with the access rule it must have: building the router
/// panics on a page without one, so no page can be served without a rule.
struct Pages {
    router: Router<AppState>,
    routes: Vec<(Method, &'static str)>,
}

impl Pages {
    fn new() -> Self {
        Pages {
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    fn route(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        assert!(
            policy::find(&method, path).is_some_and(|r| matches!(
                r.surface,
                policy::Surface::Page | policy::Surface::OpenPage
            )),
            "the page {method} {path} has no access rule"
        );
        self.routes.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }

    fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(Method::GET, path, get(handler))
    }

    fn post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(Method::POST, path, post(handler))
    }

    /// A GET and a POST on one path (a form and where it posts).
    fn form<G, TG, P, TP>(self, path: &'static str, show: G, submit: P) -> Self
    where
        G: Handler<TG, AppState>,
        TG: 'static,
        P: Handler<TP, AppState>,
        TP: 'static,
    {
        let pages = self.route(Method::GET, path, get(show));
        // Both methods on one route: axum wants them in one MethodRouter.
        let mut pages = pages;
        pages.routes.push((Method::POST, path));
        assert!(
            policy::find(&Method::POST, path).is_some(),
            "the page POST {path} has no access rule"
        );
        pages.router = pages.router.route(path, post(submit));
        pages
    }

    fn build() -> Self {
        Pages::new()
            .get("/", home::landing)
            .get("/assets/{file}", layout::asset)
            .form("/login", login::show, login::submit)
            .form("/login/verify", login::show_verify, login::submit_verify)
            .post("/login/verify/passkey/start", passkeys::start_sign_in)
            .post("/login/verify/passkey/finish", passkeys::finish_sign_in)
            .post("/logout", login::logout)
            .form("/password-reset", login::show_reset, login::submit_reset)
            .form(
                "/password-reset/{token}",
                login::show_new_password,
                login::submit_new_password,
            )
            .form(
                "/activate/{token}",
                login::show_activate,
                login::submit_activate,
            )
            .get("/account", account::show)
            .post("/account/sessions/{id}/end", account::end_session)
            .form("/account/totp", account::show_totp, account::submit_totp)
            .post("/account/totp/start", account::start_totp)
            .post("/account/totp/remove", account::remove_totp)
            .post(
                "/account/recovery-codes",
                account::regenerate_recovery_codes,
            )
            .post("/account/passkeys/start", passkeys::start_registration)
            .post("/account/passkeys/finish", passkeys::finish_registration)
            .post("/account/passkeys/{id}/remove", passkeys::remove)
            .get("/org/requests", portal::requests::list)
            .get("/org/requests.csv", portal::requests::export)
            .form(
                "/org/requests/new",
                portal::new_request::show,
                portal::new_request::submit,
            )
            .form(
                "/org/requests/upload",
                portal::upload::show,
                portal::upload::check,
            )
            .get(
                "/org/requests/upload/template.csv",
                portal::upload::template,
            )
            .post("/org/requests/upload/submit", portal::upload::submit)
            .get("/org/requests/{id}", portal::requests::show)
            .post(
                "/org/requests/{id}/resend-invitation",
                portal::requests::resend_invitation,
            )
            .form(
                "/org/requests/{id}/withdraw",
                portal::requests::confirm_withdraw,
                portal::requests::withdraw,
            )
            .post("/org/requests/{id}/rescreen", portal::requests::rescreen)
            .get(
                "/org/requests/{id}/certificate",
                portal::requests::certificate,
            )
            .get(
                "/org/requests/{id}/certificate.jws",
                portal::requests::certificate_file,
            )
            .form(
                "/org/users",
                portal::settings::list_users,
                portal::settings::invite_user,
            )
            .post("/org/users/{id}", portal::settings::change_user)
            .form(
                "/org/api-keys",
                portal::settings::list_keys,
                portal::settings::create_key,
            )
            .post("/org/api-keys/{id}/revoke", portal::settings::revoke_key)
            .form(
                "/org/webhooks",
                portal::settings::list_webhooks,
                portal::settings::create_webhook,
            )
            .get("/org/webhooks/{id}", portal::settings::show_webhook)
            .post(
                "/org/webhooks/{id}/delete",
                portal::settings::delete_webhook,
            )
            .form("/verify", verify::show, verify::submit)
            .get("/console/tasks", console::tasks::queue)
            .get("/console/tasks/{id}", console::tasks::show)
            .post("/console/tasks/{id}/complete", console::tasks::complete)
            .post("/console/tasks/{id}/release", console::tasks::release)
            .post("/console/tasks/{id}/assign", console::tasks::assign)
            .get("/console/requests", console::cases::list)
            .get("/console/requests/{id}", console::cases::show)
            .post("/console/requests/{id}/revoke", console::cases::revoke)
            .get("/console/supervision", console::supervision::show)
            .form(
                "/console/organisations",
                console::organisations::list,
                console::organisations::create,
            )
            .get("/console/organisations/{id}", console::organisations::show)
            .post(
                "/console/organisations/{id}/status",
                console::organisations::set_status,
            )
            .form(
                "/console/checkers",
                console::checkers::list,
                console::checkers::create,
            )
            .form(
                "/console/checkers/{id}",
                console::checkers::show,
                console::checkers::update,
            )
            .form(
                "/console/workflows",
                console::workflows::list,
                console::workflows::publish,
            )
            .get(
                "/console/workflows/{key}/{version}",
                console::workflows::show,
            )
            .form(
                "/console/profiles",
                console::workflows::profiles,
                console::workflows::publish_profile,
            )
            .get("/console/audit", console::audit::show)
            .get("/console/keys", console::keys::show)
            .post("/console/keys/rotate", console::keys::rotate)
    }
}

/// The pages' router (the subject page is documented and comes with the API's).
pub fn pages() -> Router<AppState> {
    Pages::build().router
}

/// Every page route with its method, for the test that holds them to the access rules.
pub fn page_routes() -> Vec<(Method, &'static str)> {
    Pages::build().routes
}
