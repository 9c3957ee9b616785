//! The HTTP API: one module per resource, each owning its router, handlers and DTOs.
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod checkers;
pub mod health;
pub mod organisations;
pub mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub const TAG_ACCOUNTS: &str = "accounts";
pub const TAG_ORGANISATIONS: &str = "organisations";
pub const TAG_CHECKERS: &str = "checkers";
pub const TAG_AUDIT: &str = "audit";
pub const TAG_OPERATIONS: &str = "operations";

/// Every documented route of the service.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(accounts::router())
        .merge(organisations::router())
        .merge(users::router())
        .merge(api_keys::router())
        .merge(checkers::router())
        .merge(audit::router())
}
