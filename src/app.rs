//! The router with its layers, and `serve`, which takes an already-bound listener and a
//! shutdown future so tests run the real service on port 0.
use std::{net::SocketAddr, time::Instant};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderMap, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tokio::{net::TcpListener, sync::watch};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
};
use uuid::Uuid;

use crate::{
    auth::{
        authenticate::Presented,
        policy::{self, Access, Surface},
    },
    error::{AppError, MAX_BODY_BYTES},
    openapi,
    services::{AppState, sessions},
    web, workers,
};

pub fn router(state: AppState) -> Router {
    let (api, _document) = openapi::split();
    api.merge(openapi::docs_router())
        .merge(web::pages())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            web::layout::page_headers,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes in-flight requests and the background
/// workers' current step.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let workers = workers::spawn(state.clone(), stopped);
    let principal_changes = tokio::spawn(crate::cache::listen(
        state.db.clone(),
        vec![
            (crate::cache::PRINCIPALS, state.principals.clone()),
            (
                crate::cache::CERTIFICATES,
                state.certificate_statuses.clone(),
            ),
            (
                crate::services::data_keys::CHANNEL,
                crate::services::data_keys::refresh_on_notice(&state),
            ),
        ],
    ));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop.send(true);
    workers.await?;
    principal_changes.abort();
    Ok(())
}

fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = value.to_str().map_err(|_| ());
    Some(text.and_then(|t| {
        let (scheme, token) = t.split_once(' ').ok_or(())?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            Ok(token.trim())
        } else {
            Err(())
        }
    }))
}

/// Enforces the access rule of the matched route: deny by default, 401 without valid
/// credentials, 404 for another organisation's path, 403 for a role the rule does not name.
async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    // No route matched: the fallback answers 404.
    let Some(matched) = matched else {
        return next.run(request).await;
    };
    let route = matched.as_str();
    let Some(rule) = policy::find(request.method(), route) else {
        let known_path = policy::RULES.iter().any(|r| r.path == route);
        let documentation = policy::UNDOCUMENTED_PUBLIC_PREFIXES
            .iter()
            .any(|prefix| route.starts_with(prefix));
        if known_path || documentation {
            // A wrong method (axum answers 405) or the documentation UI.
            return next.run(request).await;
        }
        tracing::error!(route, "route has no access rule; refused");
        return AppError::Forbidden("this operation has no access rule".into()).into_response();
    };
    if rule.surface != Surface::Api {
        return web::session::authorize(state, rule, request, next).await;
    }
    if matches!(rule.access, Access::Public) {
        return next.run(request).await;
    }
    // Bearer tokens only: the API never reads the session cookie.
    let token = match bearer_token(request.headers()) {
        Some(Ok(token)) => token,
        _ => return AppError::Unauthenticated.into_response(),
    };
    let principal = match sessions::principal_for_token(&state, token, Presented::Bearer).await {
        Ok(Some(principal)) => principal,
        Ok(None) => return AppError::Unauthenticated.into_response(),
        Err(err) => return err.into_response(),
    };
    if rule.organisation_scoped && !principal.is_admin() {
        // /v1/organisations/{id}/…: another organisation's objects do not exist for you.
        let path_org = request
            .uri()
            .path()
            .split('/')
            .nth(3)
            .and_then(|id| Uuid::parse_str(id).ok());
        if principal.organisation_id.is_some() && path_org != principal.organisation_id {
            return AppError::NotFound.into_response();
        }
    }
    if principal.enrolment_only && !policy::open_during_enrolment(request.method(), route) {
        return AppError::MfaEnrolmentRequired.into_response();
    }
    if !policy::allows(rule.access, &principal) {
        return AppError::Forbidden("your role may not do this".into()).into_response();
    }
    let caller = principal.session_id.unwrap_or(principal.id);
    request.extensions_mut().insert(principal);
    state
        .rate_limits
        .answer(caller, next.run(request), AppError::into_response)
        .await
}

/// No route: a problem document for the API, a page for people.
async fn not_found(request: Request) -> Response {
    error_for(&request, AppError::NotFound)
}

/// A route that does not take this method (a form's address opened with GET): the same.
async fn method_not_allowed(request: Request) -> Response {
    error_for(&request, AppError::MethodNotAllowed)
}

fn error_for(request: &Request, error: AppError) -> Response {
    let wants_page = !request.uri().path().starts_with("/v1/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        web::errors::page_for(error)
    } else {
        error.into_response()
    }
}

/// Counts and logs every request by route template: never the concrete path, which can hold a
/// token, nor any header or body.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .observe_request(&method, &route, status, elapsed);
    tracing::info!(
        method,
        route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        request_id,
        "request"
    );
    response
}
