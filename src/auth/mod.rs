//! Who is calling: tokens, passwords, principals, the access rules and login throttling.
pub mod authenticate;
pub mod cache;
pub mod passwords;
pub mod policy;
pub mod principal;
pub mod rate_limit;
pub mod throttle;
pub mod tokens;

pub use principal::{Principal, PrincipalKind};
