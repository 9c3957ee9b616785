//! Who may call what: one rule per operation, enforced by the authorisation middleware before
//! any handler runs. A route without a rule is refused (deny by default), and a test walks the
//! OpenAPI document to make sure every operation has one.
//!
//! Object-level checks (an object of another organisation answers 404) happen in the services;
//! for routes under `/v1/organisations/{id}` the middleware already answers 404 when a member of
//! one organisation names another, before looking at the role.
use axum::http::Method;

use super::{Principal, PrincipalKind};
use crate::domain::Role;

/// A kind of caller a rule can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Admin,
    OrgAdmin,
    /// An organisation's requester signed in with a session.
    OrgRequester,
    /// An organisation's API key (acts as a requester).
    ApiKey,
    Checker,
    /// A checker with the supervisor flag (also a `Checker`).
    Supervisor,
    /// A sandbox API key (also an `ApiKey`): it also manages the sandbox's webhook endpoints.
    SandboxKey,
}

#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// No credentials needed.
    Public,
    /// Any valid session or API key.
    Authenticated,
    /// Any valid session (not an API key).
    Session,
    /// Only these callers.
    Only(&'static [Caller]),
}

/// Where a route answers, and so how its caller is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// `/v1` and the operations beside it: bearer tokens only.
    Api,
    /// A page for people: the session cookie only, CSRF on every POST.
    Page,
    /// The subject's page: the token in its path is the credential.
    SubjectPage,
    /// A page for anyone that changes nothing (`/verify`): no session, no cookie, so no CSRF
    /// token; a POST must still come from our own pages.
    OpenPage,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// The path's `{id}` is an organisation: other organisations' members get 404.
    pub organisation_scoped: bool,
    pub surface: Surface,
}

use Caller::*;

const ADMIN: &[Caller] = &[Admin];
const ORG_MANAGERS: &[Caller] = &[Admin, OrgAdmin];
const ORG_MEMBERS: &[Caller] = &[Admin, OrgAdmin, OrgRequester, ApiKey];
const ADMIN_AND_SUPERVISORS: &[Caller] = &[Admin, Supervisor];
const ORG_ADMIN: &[Caller] = &[OrgAdmin];
/// Webhook endpoints: the org_admin's are live; a sandbox key's get sandbox events.
const WEBHOOK_OWNERS: &[Caller] = &[OrgAdmin, SandboxKey];
/// An organisation's people signed in on the portal (an API key has no pages).
const ORG_PEOPLE: &[Caller] = &[OrgAdmin, OrgRequester];
const ADMIN_AND_CHECKERS: &[Caller] = &[Admin, Checker];
const CHECKERS: &[Caller] = &[Checker];
const REQUESTERS: &[Caller] = &[OrgAdmin, OrgRequester, ApiKey];
const REQUEST_READERS: &[Caller] = &[Admin, OrgAdmin, OrgRequester, ApiKey, Checker];

const fn rule(method: Method, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
        organisation_scoped: false,
        surface: Surface::Api,
    }
}

const fn org_rule(method: Method, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
        organisation_scoped: true,
        surface: Surface::Api,
    }
}

const fn page(method: Method, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
        organisation_scoped: false,
        surface: Surface::Page,
    }
}

const fn open_page(method: Method, path: &'static str) -> Rule {
    Rule {
        method,
        path,
        access: Access::Public,
        organisation_scoped: false,
        surface: Surface::OpenPage,
    }
}

const fn subject_page(method: Method, path: &'static str) -> Rule {
    Rule {
        method,
        path,
        access: Access::Public,
        organisation_scoped: false,
        surface: Surface::SubjectPage,
    }
}

/// What a session that must enrol a second factor, and has none, may still call.
pub const ENROLMENT_OPERATIONS: &[(Method, &str)] = &[
    (Method::GET, "/v1/me"),
    (Method::POST, "/v1/auth/logout"),
    (Method::POST, "/v1/me/totp"),
    (Method::POST, "/v1/me/totp/confirm"),
    (Method::GET, "/v1/me/sessions"),
    (Method::DELETE, "/v1/me/sessions/{id}"),
];

/// Every route the service serves. Keep in step with the routers; the tests enforce it.
pub const RULES: &[Rule] = &[
    // Operations and documentation.
    rule(Method::GET, "/healthz", Access::Public),
    rule(Method::GET, "/readyz", Access::Public),
    rule(Method::GET, "/metrics", Access::Public),
    rule(Method::GET, "/openapi.json", Access::Public),
    // Identity.
    rule(Method::POST, "/v1/auth/login", Access::Public),
    rule(Method::POST, "/v1/auth/logout", Access::Session),
    rule(Method::POST, "/v1/auth/activate", Access::Public),
    rule(Method::GET, "/v1/me", Access::Authenticated),
    rule(Method::POST, "/v1/auth/step-up", Access::Session),
    rule(Method::POST, "/v1/auth/password-reset", Access::Public),
    rule(
        Method::POST,
        "/v1/auth/password-reset/confirm",
        Access::Public,
    ),
    rule(Method::POST, "/v1/me/totp", Access::Session),
    rule(Method::DELETE, "/v1/me/totp", Access::Session),
    rule(Method::POST, "/v1/me/totp/confirm", Access::Session),
    rule(Method::POST, "/v1/me/recovery-codes", Access::Session),
    rule(Method::GET, "/v1/me/sessions", Access::Session),
    rule(Method::DELETE, "/v1/me/sessions/{id}", Access::Session),
    rule(Method::POST, "/v1/organisations", Access::Only(ADMIN)),
    rule(Method::GET, "/v1/organisations", Access::Only(ORG_MEMBERS)),
    org_rule(
        Method::GET,
        "/v1/organisations/{id}",
        Access::Only(ORG_MEMBERS),
    ),
    org_rule(Method::PATCH, "/v1/organisations/{id}", Access::Only(ADMIN)),
    org_rule(
        Method::POST,
        "/v1/organisations/{id}/users",
        Access::Only(ORG_MANAGERS),
    ),
    org_rule(
        Method::GET,
        "/v1/organisations/{id}/users",
        Access::Only(ORG_MANAGERS),
    ),
    org_rule(
        Method::PATCH,
        "/v1/organisations/{id}/users/{user_id}",
        Access::Only(ORG_MANAGERS),
    ),
    org_rule(
        Method::POST,
        "/v1/organisations/{id}/users/{user_id}/activation",
        Access::Only(ORG_MANAGERS),
    ),
    org_rule(
        Method::POST,
        "/v1/organisations/{id}/api-keys",
        Access::Only(ORG_MANAGERS),
    ),
    org_rule(
        Method::GET,
        "/v1/organisations/{id}/api-keys",
        Access::Only(ORG_MANAGERS),
    ),
    org_rule(
        Method::DELETE,
        "/v1/organisations/{id}/api-keys/{key_id}",
        Access::Only(ORG_MANAGERS),
    ),
    rule(Method::POST, "/v1/checkers", Access::Only(ADMIN)),
    rule(
        Method::GET,
        "/v1/checkers",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    rule(
        Method::GET,
        "/v1/checkers/{id}",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    rule(Method::PATCH, "/v1/checkers/{id}", Access::Only(ADMIN)),
    // Tasks: checkers see their own, supervisors and admin all (the service filters).
    rule(Method::GET, "/v1/tasks", Access::Only(ADMIN_AND_CHECKERS)),
    rule(
        Method::GET,
        "/v1/tasks/{id}",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    rule(
        Method::POST,
        "/v1/tasks/{id}/complete",
        Access::Only(CHECKERS),
    ),
    rule(
        Method::POST,
        "/v1/tasks/{id}/release",
        Access::Only(CHECKERS),
    ),
    rule(
        Method::POST,
        "/v1/tasks/{id}/assign",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    // Audit.
    rule(Method::GET, "/v1/audit-events", Access::Only(ADMIN)),
    // Profiles and workflow definitions.
    rule(Method::GET, "/v1/screening-profiles", Access::Authenticated),
    rule(Method::POST, "/v1/screening-profiles", Access::Only(ADMIN)),
    rule(
        Method::GET,
        "/v1/workflow-definitions",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    rule(
        Method::POST,
        "/v1/workflow-definitions",
        Access::Only(ADMIN),
    ),
    rule(
        Method::GET,
        "/v1/workflow-definitions/{key}/versions/{version}",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    // Screening requests: the service decides visibility per request (404 when not visible).
    rule(
        Method::POST,
        "/v1/screening-requests",
        Access::Only(REQUESTERS),
    ),
    rule(
        Method::GET,
        "/v1/screening-requests",
        Access::Only(REQUEST_READERS),
    ),
    rule(
        Method::GET,
        "/v1/screening-requests/{id}",
        Access::Only(REQUEST_READERS),
    ),
    rule(
        Method::POST,
        "/v1/screening-requests/{id}/withdraw",
        Access::Only(REQUESTERS),
    ),
    rule(
        Method::GET,
        "/v1/screening-requests/{id}/events",
        Access::Only(REQUEST_READERS),
    ),
    rule(
        Method::POST,
        "/v1/screening-requests/{id}/rescreen",
        Access::Only(REQUESTERS),
    ),
    rule(
        Method::POST,
        "/v1/screening-requests/{id}/resend-invitation",
        Access::Only(REQUESTERS),
    ),
    rule(
        Method::GET,
        "/v1/screening-requests/{id}/certificate",
        Access::Only(ORG_MEMBERS),
    ),
    // Certificates: anyone verifies; the admin revokes.
    rule(Method::GET, "/.well-known/jwks.json", Access::Public),
    rule(Method::POST, "/v1/certificates/verify", Access::Public),
    rule(
        Method::POST,
        "/v1/certificates/{id}/revoke",
        Access::Only(ADMIN),
    ),
    // Webhooks: the organisation's org_admin.
    rule(
        Method::POST,
        "/v1/webhook-endpoints",
        Access::Only(WEBHOOK_OWNERS),
    ),
    rule(
        Method::GET,
        "/v1/webhook-endpoints",
        Access::Only(WEBHOOK_OWNERS),
    ),
    rule(
        Method::DELETE,
        "/v1/webhook-endpoints/{id}",
        Access::Only(WEBHOOK_OWNERS),
    ),
    rule(
        Method::GET,
        "/v1/webhook-endpoints/{id}/deliveries",
        Access::Only(WEBHOOK_OWNERS),
    ),
    rule(
        Method::POST,
        "/v1/webhook-endpoints/{id}/test",
        Access::Only(WEBHOOK_OWNERS),
    ),
    rule(
        Method::POST,
        "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend",
        Access::Only(WEBHOOK_OWNERS),
    ),
    // The subject: the token in the path is the credential.
    rule(Method::GET, "/v1/invitations/{token}", Access::Public),
    rule(
        Method::POST,
        "/v1/invitations/{token}/consent",
        Access::Public,
    ),
    rule(
        Method::POST,
        "/v1/invitations/{token}/decline",
        Access::Public,
    ),
    rule(
        Method::POST,
        "/v1/invitations/{token}/response",
        Access::Public,
    ),
    rule(
        Method::POST,
        "/v1/invitations/{token}/objection",
        Access::Public,
    ),
    rule(
        Method::GET,
        "/v1/invitations/{token}/decision",
        Access::Public,
    ),
    rule(
        Method::POST,
        "/v1/invitations/{token}/withdraw-consent",
        Access::Public,
    ),
    subject_page(Method::GET, "/s/{token}"),
    subject_page(Method::POST, "/s/{token}/consent"),
    subject_page(Method::POST, "/s/{token}/decline"),
    subject_page(Method::POST, "/s/{token}/response"),
    subject_page(Method::POST, "/s/{token}/objection"),
    subject_page(Method::GET, "/s/{token}/withdraw-consent"),
    subject_page(Method::POST, "/s/{token}/withdraw-consent"),
    // Pages for people (not in the OpenAPI document: `web::page_routes` lists them).
    page(Method::GET, "/", Access::Public),
    page(Method::GET, "/assets/{file}", Access::Public),
    page(Method::GET, "/login", Access::Public),
    page(Method::POST, "/login", Access::Public),
    page(Method::GET, "/login/verify", Access::Public),
    page(Method::POST, "/login/verify", Access::Public),
    page(Method::POST, "/login/verify/passkey/start", Access::Public),
    page(Method::POST, "/login/verify/passkey/finish", Access::Public),
    page(Method::POST, "/logout", Access::Session),
    page(Method::GET, "/password-reset", Access::Public),
    page(Method::POST, "/password-reset", Access::Public),
    page(Method::GET, "/password-reset/{token}", Access::Public),
    page(Method::POST, "/password-reset/{token}", Access::Public),
    page(Method::GET, "/activate/{token}", Access::Public),
    page(Method::POST, "/activate/{token}", Access::Public),
    page(Method::GET, "/account", Access::Session),
    // The console: as the API's task and request operations allow (services decide which
    // tasks and requests each caller sees).
    page(
        Method::GET,
        "/console/tasks",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    page(
        Method::GET,
        "/console/tasks/{id}",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    page(
        Method::POST,
        "/console/tasks/{id}/complete",
        Access::Only(CHECKERS),
    ),
    page(
        Method::POST,
        "/console/tasks/{id}/release",
        Access::Only(CHECKERS),
    ),
    page(
        Method::POST,
        "/console/tasks/{id}/assign",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    page(
        Method::GET,
        "/console/requests",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    page(
        Method::GET,
        "/console/requests/{id}",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    page(
        Method::POST,
        "/console/requests/{id}/revoke",
        Access::Only(ADMIN),
    ),
    page(
        Method::GET,
        "/console/supervision",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    // Administration: as the API's organisation, checker, workflow, audit and key operations.
    page(Method::GET, "/console/organisations", Access::Only(ADMIN)),
    page(Method::POST, "/console/organisations", Access::Only(ADMIN)),
    page(
        Method::GET,
        "/console/organisations/{id}",
        Access::Only(ADMIN),
    ),
    page(
        Method::POST,
        "/console/organisations/{id}/status",
        Access::Only(ADMIN),
    ),
    page(
        Method::GET,
        "/console/checkers",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    page(Method::POST, "/console/checkers", Access::Only(ADMIN)),
    page(
        Method::GET,
        "/console/checkers/{id}",
        Access::Only(ADMIN_AND_SUPERVISORS),
    ),
    page(Method::POST, "/console/checkers/{id}", Access::Only(ADMIN)),
    page(
        Method::GET,
        "/console/workflows",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    page(Method::POST, "/console/workflows", Access::Only(ADMIN)),
    page(
        Method::GET,
        "/console/workflows/{key}/{version}",
        Access::Only(ADMIN_AND_CHECKERS),
    ),
    page(Method::GET, "/console/profiles", Access::Only(ADMIN)),
    page(Method::POST, "/console/profiles", Access::Only(ADMIN)),
    page(Method::GET, "/console/audit", Access::Only(ADMIN)),
    page(Method::GET, "/console/keys", Access::Only(ADMIN)),
    page(Method::POST, "/console/keys/rotate", Access::Only(ADMIN)),
    // The organisation portal: the organisation's requests for its people, its settings for
    // its admins (services keep each to its own organisation).
    page(Method::GET, "/org/requests", Access::Only(ORG_PEOPLE)),
    page(Method::GET, "/org/requests.csv", Access::Only(ORG_PEOPLE)),
    page(Method::GET, "/org/requests/new", Access::Only(ORG_PEOPLE)),
    page(Method::POST, "/org/requests/new", Access::Only(ORG_PEOPLE)),
    page(
        Method::GET,
        "/org/requests/upload",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::POST,
        "/org/requests/upload",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::GET,
        "/org/requests/upload/template.csv",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::POST,
        "/org/requests/upload/submit",
        Access::Only(ORG_PEOPLE),
    ),
    page(Method::GET, "/org/requests/{id}", Access::Only(ORG_PEOPLE)),
    page(
        Method::POST,
        "/org/requests/{id}/resend-invitation",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::GET,
        "/org/requests/{id}/withdraw",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::POST,
        "/org/requests/{id}/withdraw",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::POST,
        "/org/requests/{id}/rescreen",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::GET,
        "/org/requests/{id}/certificate",
        Access::Only(ORG_PEOPLE),
    ),
    page(
        Method::GET,
        "/org/requests/{id}/certificate.jws",
        Access::Only(ORG_PEOPLE),
    ),
    page(Method::GET, "/org/users", Access::Only(ORG_ADMIN)),
    page(Method::POST, "/org/users", Access::Only(ORG_ADMIN)),
    page(Method::POST, "/org/users/{id}", Access::Only(ORG_ADMIN)),
    page(Method::GET, "/org/api-keys", Access::Only(ORG_ADMIN)),
    page(Method::POST, "/org/api-keys", Access::Only(ORG_ADMIN)),
    page(
        Method::POST,
        "/org/api-keys/{id}/revoke",
        Access::Only(ORG_ADMIN),
    ),
    page(Method::GET, "/org/webhooks", Access::Only(ORG_ADMIN)),
    page(Method::POST, "/org/webhooks", Access::Only(ORG_ADMIN)),
    page(Method::GET, "/org/webhooks/{id}", Access::Only(ORG_ADMIN)),
    page(
        Method::POST,
        "/org/webhooks/{id}/delete",
        Access::Only(ORG_ADMIN),
    ),
    // Verification for anyone holding a certificate.
    open_page(Method::GET, "/verify"),
    open_page(Method::POST, "/verify"),
    page(Method::POST, "/account/sessions/{id}/end", Access::Session),
    page(Method::GET, "/account/totp", Access::Session),
    page(Method::POST, "/account/totp", Access::Session),
    page(Method::POST, "/account/totp/start", Access::Session),
    page(Method::POST, "/account/totp/remove", Access::Session),
    page(Method::POST, "/account/recovery-codes", Access::Session),
    page(Method::POST, "/account/passkeys/start", Access::Session),
    page(Method::POST, "/account/passkeys/finish", Access::Session),
    page(
        Method::POST,
        "/account/passkeys/{id}/remove",
        Access::Session,
    ),
];

/// Routes that serve no API operation and so are not in the OpenAPI document.
pub const UNDOCUMENTED_PUBLIC_PREFIXES: &[&str] = &["/docs"];

/// Whether an enrolment-only session may call this operation.
pub fn open_during_enrolment(method: &Method, path: &str) -> bool {
    ENROLMENT_OPERATIONS
        .iter()
        .any(|(m, p)| m == method && *p == path)
}

pub fn find(method: &Method, path: &str) -> Option<&'static Rule> {
    // HEAD is answered like GET by axum.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    RULES.iter().find(|r| r.method == method && r.path == path)
}

/// The callers a principal counts as.
pub fn callers(principal: &Principal) -> Vec<Caller> {
    match (principal.kind, principal.role) {
        (PrincipalKind::ApiKey, _) if principal.sandbox => vec![ApiKey, SandboxKey],
        (PrincipalKind::ApiKey, _) => vec![ApiKey],
        (_, Role::Admin) => vec![Admin],
        (_, Role::OrgAdmin) => vec![OrgAdmin],
        (_, Role::OrgRequester) => vec![OrgRequester],
        (_, Role::Checker) if principal.supervisor => vec![Checker, Supervisor],
        (_, Role::Checker) => vec![Checker],
    }
}

/// Whether the principal's kind of caller may use this rule's operation at all.
pub fn allows(access: Access, principal: &Principal) -> bool {
    match access {
        Access::Public | Access::Authenticated => true,
        Access::Session => principal.kind == PrincipalKind::User,
        Access::Only(allowed) => callers(principal).iter().any(|c| allowed.contains(c)),
    }
}
