//! sea-orm entities, one file per table. No serde, utoipa or axum here: the API has its own DTOs.
pub mod activation_token;
pub mod api_key;
pub mod audit_chain;
pub mod audit_event;
pub mod checker;
pub mod checker_authorisation;
pub mod checker_conflict;
pub mod login_throttle;
pub mod organisation;
pub mod session;
pub mod user;
