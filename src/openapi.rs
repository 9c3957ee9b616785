//! The OpenAPI 3.1 document: generated from the routers, completed with each operation's
//! security (from the access rules) and its problem+json error responses.
use std::sync::OnceLock;

use axum::{
    Router,
    http::{HeaderValue, Method, header},
    response::IntoResponse,
};
use utoipa::{
    OpenApi,
    openapi::{
        Content, OpenApi as Document, Ref, RefOr, Response,
        path::Operation,
        security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{
    api,
    auth::policy::{self, Access},
    error::{FieldError, Problem},
    services::AppState,
};

pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "safescreen",
        description = "Screening of Dutch volunteers and staff deployed by child-aid organisations \
                       outside the EU: requests, the subject's consent, routed checks, clearance \
                       decisions and verifiable certificates.\n\nEvery error is an RFC 9457 \
                       `application/problem+json` document.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "accounts", description = "Sign in, activation and the caller"),
        (name = "organisations", description = "Organisations, their users and API keys"),
        (name = "checkers", description = "The people who perform checks"),
        (name = "tasks", description = "Checkers' tasks: checks, assessments and reviews, routed to eligible checkers"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "screening-requests", description = "Screening requests, as the organisation submits and follows them"),
        (name = "subject", description = "The screened person's personal link: consent, decline, respond, object"),
        (name = "workflows", description = "Screening profiles and workflow definitions"),
        (name = "certificates", description = "Clearance certificates: the public keys, verification by anyone, revocation"),
        (name = "webhooks", description = "Webhook endpoints (Standard Webhooks 1.0) and their delivery log"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

/// The API's router and the subject page's, and their document, built once at start-up (no
/// database needed).
pub fn split() -> (Router<AppState>, Document) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::router())
        .merge(crate::web::router())
        .routes(routes!(openapi_json))
        .split_for_parts();
    complete(&mut document);
    (router, document)
}

/// The document as the service serves it.
pub fn document() -> Document {
    split().1
}

/// The document as pretty JSON with a trailing newline, as committed in `openapi/openapi.json`.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut text = document().to_pretty_json().unwrap_or_default();
        text.push('\n');
        text
    })
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document_json(),
    )
}

/// Swagger UI at `/docs`, served from the binary.
pub fn docs_router() -> Router<AppState> {
    SwaggerUi::new("/docs")
        .config(Config::new(["/openapi.json"]))
        .into()
}

/// Adds the bearer scheme, each operation's security from its access rule, and the error
/// responses each operation can give.
fn complete(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for (path, item) in document.paths.paths.iter_mut() {
        let operations = [
            (Method::GET, item.get.as_mut()),
            (Method::POST, item.post.as_mut()),
            (Method::PUT, item.put.as_mut()),
            (Method::PATCH, item.patch.as_mut()),
            (Method::DELETE, item.delete.as_mut()),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let access = policy::find(&method, path).map(|r| r.access);
            complete_operation(&method, path, access, operation);
        }
    }
}

fn problem(description: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response.content.insert(
        "application/problem+json".into(),
        Content::new(Some(Ref::from_schema_name("Problem"))).into(),
    );
    RefOr::T(response)
}

fn complete_operation(method: &Method, path: &str, access: Option<Access>, op: &mut Operation) {
    let secured = !matches!(access, Some(Access::Public) | None);
    if secured {
        op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    }
    let has_body = op.request_body.is_some();
    let has_path_params = path.contains('{');
    let has_query = op
        .parameters
        .as_ref()
        .is_some_and(|ps| ps.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)));
    let mut add = |code: &str, description: &str| {
        op.responses
            .responses
            .entry(code.to_owned())
            .or_insert_with(|| problem(description));
    };
    if has_body {
        add("400", "Malformed JSON or an empty body");
        add("413", "The body is over 1 MiB");
        add("415", "The body is not JSON");
    }
    if has_body || has_query || path == "/v1/auth/activate" {
        add(
            "422",
            "Invalid values, unknown fields or missing fields; `errors` lists them",
        );
    }
    // The token-holding public operations answer 401 for a token that is unknown, spent or
    // expired, as a bad password does.
    let token_in_body = [
        "/v1/auth/login",
        "/v1/auth/activate",
        "/v1/auth/password-reset/confirm",
    ];
    if secured || token_in_body.contains(&path) {
        add("401", "Missing, invalid, expired or revoked credentials");
    }
    if matches!(access, Some(Access::Only(_)) | Some(Access::Session)) {
        add("403", "The caller's role may not do this");
    }
    if has_path_params {
        add("404", "No such object, or one the caller may not see");
    }
    if *method != Method::GET && (has_path_params || secured) && path != "/v1/auth/logout" {
        add("409", "The change conflicts with the object's state");
    }
    if path.contains("{token}") {
        add(
            "429",
            "Too many unknown tokens from this client; see `Retry-After`",
        );
    }
    // Wrong passwords and second factors are throttled per account and client.
    if ["/v1/auth/login", "/v1/auth/step-up", "/v1/me/totp/confirm"].contains(&path) {
        add("429", "Too many failed attempts; see `Retry-After`");
    }
    if path == "/v1/screening-requests/{id}/resend-invitation" {
        add("429", "Resent within the hour; see `Retry-After`");
    }
    if path == "/readyz" {
        add("503", "The database does not answer");
    }
    add("500", "An internal error; it has been logged");
}
