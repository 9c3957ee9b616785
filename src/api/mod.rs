//! The HTTP API: one module per resource, each owning its router, handlers and DTOs.
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod certificates;
pub mod checkers;
pub mod health;
pub mod invitations;
pub mod organisations;
pub mod screening_requests;
pub mod tasks;
pub mod users;
pub mod webhooks;
pub mod workflows;

use utoipa_axum::router::OpenApiRouter;

use crate::services::AppState;

pub const TAG_ACCOUNTS: &str = "accounts";
pub const TAG_ORGANISATIONS: &str = "organisations";
pub const TAG_CHECKERS: &str = "checkers";
pub const TAG_TASKS: &str = "tasks";
pub const TAG_AUDIT: &str = "audit";
pub const TAG_REQUESTS: &str = "screening-requests";
pub use crate::schemas::TAG_SUBJECT;
pub const TAG_WORKFLOWS: &str = "workflows";
pub const TAG_CERTIFICATES: &str = "certificates";
pub const TAG_WEBHOOKS: &str = "webhooks";
pub const TAG_OPERATIONS: &str = "operations";

/// Every operation of the API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(accounts::router())
        .merge(organisations::router())
        .merge(users::router())
        .merge(api_keys::router())
        .merge(checkers::router())
        .merge(tasks::router())
        .merge(audit::router())
        .merge(screening_requests::router())
        .merge(invitations::router())
        .merge(workflows::router())
        .merge(certificates::router())
        .merge(webhooks::router())
}
