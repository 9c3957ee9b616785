//! Validated types and pure rules. Invalid data cannot be constructed, so it cannot reach a
//! service.
pub mod country;
pub mod email;
pub mod roles;
pub mod text;

pub use country::CountryCode;
pub use email::Email;
pub use roles::{Authorisation, OrgRole, Role};
