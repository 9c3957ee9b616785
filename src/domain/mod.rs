//! Validated types and pure rules. Invalid data cannot be constructed, so it cannot reach a
//! service.
pub mod bsn;
pub mod calendar;
pub mod country;
pub mod decline;
pub mod dns;
pub mod duration;
pub mod email;
pub mod idempotency_key;
pub mod position;
pub mod roles;
pub mod status;
pub mod subject;
pub mod text;
pub mod webhook_url;

pub use bsn::Bsn;
pub use country::CountryCode;
pub use decline::DeclineReason;
pub use duration::IsoDuration;
pub use email::Email;
pub use position::PositionRole;
pub use roles::{Authorisation, OrgRole, Role};
pub use status::{OrgStatus, RequestStatus};
pub use webhook_url::WebhookUrl;
