//! The authenticated caller, as the authentication middleware leaves it for handlers.
use axum::{extract::FromRequestParts, http::request::Parts};
use uuid::Uuid;

use crate::{domain::Role, error::AppError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    ApiKey,
}

#[derive(Clone, Debug)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user's or the API key's id.
    pub id: Uuid,
    /// An API key acts as `org_requester`.
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    /// For checkers: may supervise.
    pub supervisor: bool,
    /// The session behind a user's token (for logout).
    pub session_id: Option<Uuid>,
    /// The session's sign-in proved a second factor (or one was enrolled during it).
    pub with_factor: bool,
    /// When a second factor was last entered in this session (sign-in or step-up).
    pub factor_verified_at: Option<time::PrimitiveDateTime>,
    /// The account must have a second factor and has none: only enrolment is open.
    pub enrolment_only: bool,
    /// A browser session's CSRF token, which its page forms carry.
    pub csrf_token: Option<String>,
    /// A sandbox API key: it sees and makes sandbox requests only.
    pub sandbox: bool,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Service staff: the admin and checkers, who see full statuses and whose reads of
    /// personal data are audited.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Checker)
    }

    /// Admins, and members of the given organisation, see it.
    pub fn can_see_organisation(&self, organisation_id: Uuid) -> bool {
        self.is_admin() || self.organisation_id == Some(organisation_id)
    }

    /// Whether a request is one of this caller's organisation's, on the caller's side of the
    /// sandbox (a sandbox key's requests are the sandbox's; everyone else's are live).
    pub fn owns_request(&self, request: &entity::screening_request::Model) -> bool {
        self.organisation_id == Some(request.organisation_id) && self.sandbox == request.sandbox
    }

    /// How the audit log names this caller: ids only.
    pub fn actor(&self) -> String {
        match self.kind {
            PrincipalKind::User => format!("user:{}", self.id),
            PrincipalKind::ApiKey => format!("api_key:{}", self.id),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}
