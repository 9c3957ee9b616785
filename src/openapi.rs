//! The OpenAPI 3.1 document: generated from the routers, completed with each operation's
//! security (from the access rules) and its problem+json error responses.
use std::sync::OnceLock;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, header},
    response::IntoResponse,
};
use utoipa::{
    OpenApi,
    openapi::{
        Content, Header, ObjectBuilder, OpenApi as Document, Ref, RefOr, Response, Schema, Server,
        Type,
        link::Link,
        path::Operation,
        schema::ArrayItems,
        security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{
    api,
    auth::policy::{self, Access},
    config::DEFAULT_PUBLIC_URL,
    error::{AppResult, FieldError, Problem},
    extract::acceptable,
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

/// The document of a service at the default public URL, as committed in
/// `openapi/openapi.json`.
pub fn document() -> Document {
    with_server(split().1, DEFAULT_PUBLIC_URL)
}

/// [`document`] as pretty JSON with a trailing newline.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| pretty(&document()))
}

/// The document of the service at `public_url`, as it serves it and `safescreen openapi`
/// prints it.
pub fn document_json_for(public_url: &str) -> String {
    if public_url.trim_end_matches('/') == DEFAULT_PUBLIC_URL {
        return document_json().to_owned();
    }
    static TEMPLATE: OnceLock<Document> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| split().1);
    pretty(&with_server(template.clone(), public_url))
}

fn pretty(document: &Document) -> String {
    let mut text = document.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_json(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    acceptable(&headers, "application/json")?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document_json_for(&state.config.public_url),
    ))
}

/// Swagger UI at `/docs`, served from the binary.
pub fn docs_router() -> Router<AppState> {
    SwaggerUi::new("/docs")
        .config(Config::new(["/openapi.json"]))
        .into()
}

/// Adds the bearer scheme, each operation's security from its access rule, the error responses
/// each operation can give, the rate limit's headers, the links between operations, and list
/// pages that refer to their items' schemas.
fn complete(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for (name, header) in rate_limit_headers() {
        components.headers.insert(name.to_owned(), RefOr::T(header));
    }
    refer_to_page_items(&mut components.schemas);
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
            add_links(operation);
            if operation.operation_id.as_deref() == Some("publish_definition") {
                add_body_example(operation, crate::engine::definition::example());
            }
        }
    }
}

/// The document with `servers` naming the service at `public_url`.
fn with_server(mut document: Document, public_url: &str) -> Document {
    let mut server = Server::new(public_url.trim_end_matches('/'));
    server.description = Some("This service (`SAFESCREEN_PUBLIC_URL`)".into());
    document.servers = Some(vec![server]);
    document
}

/// utoipa writes `Page<T>`'s items out in full; a reference to `T` keeps one schema per type
/// (and no component unused).
fn refer_to_page_items(schemas: &mut std::collections::BTreeMap<String, RefOr<Schema>>) {
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !schemas.contains_key(item) {
            continue;
        }
        let item_ref = RefOr::Ref(Ref::from_schema_name(item));
        if let Some(RefOr::T(Schema::Object(page))) = schemas.get_mut(&name)
            && let Some(RefOr::T(Schema::Array(data))) = page.properties.get_mut("data")
        {
            data.items = ArrayItems::RefOrSchema(Box::new(item_ref));
        }
    }
}

/// A free-form body's example (typed bodies carry theirs on their schema).
fn add_body_example(op: &mut Operation, example: serde_json::Value) {
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    for content in body.content.values_mut() {
        if let RefOr::T(content) = content {
            content.example = Some(example.clone());
        }
    }
}

/// Operations that answer in one media type and say 406 to an `Accept` that rules it out.
const NEGOTIATED: [&str; 5] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/.well-known/jwks.json",
];

/// The IETF rate limit headers (draft-ietf-httpapi-ratelimit-headers) and `Retry-After`.
fn rate_limit_headers() -> [(&'static str, Header); 3] {
    let text = || Schema::Object(ObjectBuilder::new().schema_type(Type::String).build());
    let header = |description: &str, example: &str| {
        let mut header = Header::new(text());
        header.description = Some(description.into());
        header.example = Some(example.into());
        header
    };
    [
        (
            "RateLimit-Policy",
            header(
                "The caller's quota: requests (`q`) per window of `w` seconds",
                "\"default\";q=600;w=60",
            ),
        ),
        (
            "RateLimit",
            header(
                "What is left of the quota (`r`) and the seconds until it is whole again (`t`)",
                "\"default\";r=599;t=1",
            ),
        ),
        (
            "Retry-After",
            header("Seconds to wait before trying again", "30"),
        ),
    ]
}

/// Links from an operation's answer to what a client does next with it (OpenAPI 3.1 links:
/// generators and Schemathesis' stateful phase follow them).
fn add_links(op: &mut Operation) {
    // (answer, link name, target operation, the target's `id` from the answer or the request)
    const BY_NEW_ID: &str = "$response.body#/id";
    let links: &[(&str, &str, &str, &str)] = match op.operation_id.as_deref() {
        Some("submit_request" | "rescreen_request") => &[
            ("201", "GetRequest", "get_request", BY_NEW_ID),
            ("201", "GetRequestEvents", "request_events", BY_NEW_ID),
            ("201", "WithdrawRequest", "withdraw_request", BY_NEW_ID),
            ("201", "RescreenRequest", "rescreen_request", BY_NEW_ID),
        ],
        Some("get_request") => &[(
            "200",
            "GetCertificate",
            "request_certificate",
            "$request.path.id",
        )],
        Some("list_tasks") => &[("200", "GetTask", "get_task", "$response.body#/data/0/id")],
        Some("create_endpoint") => &[
            ("201", "ListDeliveries", "list_deliveries", BY_NEW_ID),
            ("201", "SendTest", "send_test", BY_NEW_ID),
            ("201", "DeleteEndpoint", "delete_endpoint", BY_NEW_ID),
        ],
        Some("list_sessions") => &[("200", "EndSession", "end_session", "$response.body#/0/id")],
        _ => &[],
    };
    for (status, name, target, id) in links {
        if let Some(RefOr::T(response)) = op.responses.responses.get_mut(*status) {
            let link = Link::builder()
                .operation_id(*target)
                .parameter("id", *id)
                .build();
            response.links.insert((*name).to_owned(), RefOr::T(link));
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
    // `[]` says in so many words that a public operation takes no credentials.
    op.security = Some(if secured {
        vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]
    } else {
        Vec::new()
    });
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
    if NEGOTIATED.contains(&path) {
        add(
            "406",
            "The `Accept` header rules out the one media type this answers in",
        );
    }
    if secured {
        add(
            "429",
            "Over the caller's rate limit (`SAFESCREEN_RATE_LIMIT`); see `Retry-After`",
        );
    }
    add("500", "An internal error; it has been logged");
    // An error an operation names without a body is a Problem like every other.
    for (code, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && (code.starts_with('4') || code.starts_with('5'))
            && response.content.is_empty()
        {
            response.content.insert(
                "application/problem+json".into(),
                Content::new(Some(Ref::from_schema_name("Problem"))).into(),
            );
        }
    }
    // The subject page's forms answer 303 to the page (post, redirect, get); what a browser
    // shows then is the page, written here as the forms' 2xx.
    let answers_2xx = op.responses.responses.keys().any(|c| c.starts_with('2'));
    if path.starts_with("/s/") && *method == Method::POST && !answers_2xx {
        let mut page = Response::new(
            "Not sent by this operation itself: the subject page, as a browser shows it after \
             following the 303",
        );
        page.content.insert(
            "text/html".into(),
            Content::new(Some(RefOr::T(Schema::Object(
                ObjectBuilder::new().schema_type(Type::String).build(),
            ))))
            .into(),
        );
        op.responses.responses.insert("200".into(), RefOr::T(page));
    }
    if secured {
        for (code, response) in op.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            let mut names = vec!["RateLimit-Policy", "RateLimit"];
            if code == "429" {
                names.push("Retry-After");
            }
            for name in names {
                response.headers.insert(
                    name.to_owned(),
                    RefOr::Ref(Ref::new(format!("#/components/headers/{name}"))),
                );
            }
        }
    }
}
