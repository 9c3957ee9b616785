//! `AppError`: every failure the service reports, rendered as RFC 9457 problem+json.
//! This is the only place that knows HTTP status codes.
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field errors, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// The field in JSON-pointer-like dotted form, e.g. `operating_countries[1]`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthenticated,
    /// The password was right; the account signs in with a second factor too (`code`).
    #[error("a second factor is required")]
    MfaRequired,
    /// The account must have a second factor and has none: it may only enrol one.
    #[error("a second factor must be enrolled first")]
    MfaEnrolmentRequired,
    /// The action needs a second factor entered in the last 15 minutes.
    #[error("a recent second factor is required")]
    StepUpRequired,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The `Accept` header rules out the media type the operation answers in (named here).
    #[error("not acceptable")]
    NotAcceptable(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("rate limited for {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated | AppError::MfaRequired => StatusCode::UNAUTHORIZED,
            AppError::MfaEnrolmentRequired | AppError::StepUpRequired => StatusCode::FORBIDDEN,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            AppError::BadRequest(_) => ("malformed-request", "Malformed request"),
            AppError::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            AppError::Validation(_) => ("validation", "Invalid request"),
            AppError::Unauthenticated => ("unauthenticated", "Authentication required"),
            AppError::MfaRequired => ("mfa-required", "A second factor is required"),
            AppError::MfaEnrolmentRequired => {
                ("mfa-enrolment-required", "Enrol a second factor first")
            }
            AppError::StepUpRequired => ("step-up-required", "Confirm it is you"),
            AppError::Forbidden(_) => ("forbidden", "Forbidden"),
            AppError::NotFound => ("not-found", "Not found"),
            AppError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            AppError::NotAcceptable(_) => ("not-acceptable", "Not acceptable"),
            AppError::Conflict(_) => ("conflict", "Conflict"),
            AppError::PayloadTooLarge => ("payload-too-large", "Request body too large"),
            AppError::RateLimited { .. } => ("rate-limited", "Too many requests"),
            AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
            AppError::Internal(_) => ("internal", "Internal error"),
        }
    }

    /// Logs the cause of a server-side failure (it is never shown to the client).
    pub fn log_cause(&self) {
        match self {
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
            }
            AppError::Unavailable(cause) => tracing::warn!(error = %cause, "unavailable"),
            _ => {}
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let detail = match self {
            AppError::BadRequest(d) | AppError::Forbidden(d) | AppError::Conflict(d) => d.clone(),
            AppError::UnsupportedMediaType => "send the body as application/json".to_owned(),
            AppError::Validation(_) => "one or more fields are invalid".to_owned(),
            AppError::Unauthenticated => {
                "a valid bearer token is required for this operation".to_owned()
            }
            AppError::MfaRequired => {
                "this account signs in with a second factor: send its `code` (a TOTP or recovery code)"
                    .to_owned()
            }
            AppError::MfaEnrolmentRequired => {
                "this account must have a second factor; only enrolment (POST /v1/me/totp) is open until it has one"
                    .to_owned()
            }
            AppError::StepUpRequired => {
                "this action needs a second factor entered in the last 15 minutes (POST /v1/auth/step-up)"
                    .to_owned()
            }
            AppError::NotFound => "no such resource".to_owned(),
            AppError::MethodNotAllowed => "this method is not allowed on this resource".to_owned(),
            AppError::NotAcceptable(offered) => {
                format!("this resource is only available as {offered}; accept it or */*")
            }
            AppError::PayloadTooLarge => format!("the body exceeds {MAX_BODY_BYTES} bytes"),
            AppError::RateLimited { retry_after_secs } => {
                format!("too many attempts; retry after {retry_after_secs} seconds")
            }
            // Never echo internal causes to clients: they are logged instead.
            AppError::Unavailable(_) => "the service cannot answer right now".to_owned(),
            AppError::Internal(_) => "an internal error occurred; it has been logged".to_owned(),
        };
        Problem {
            kind: format!("urn:safescreen:problem:{slug}"),
            title: title.to_owned(),
            status: self.status().as_u16(),
            detail,
            errors: match self {
                AppError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

/// A unique-constraint violation becomes 409 with `message`; any other database error stays
/// internal. For `.map_err(conflict_on_unique("…"))` after an insert.
pub fn conflict_on_unique(message: &'static str) -> impl FnOnce(sea_orm::DbErr) -> AppError {
    move |err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(message.into()),
        _ => err.into(),
    }
}

impl AppError {
    /// A PostgreSQL deadlock or serialization failure: the database rolled the transaction
    /// back, and running it again is the documented remedy.
    pub fn is_transient(&self) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let AppError::Internal(err) = self else {
            return false;
        };
        let Some(
            DbErr::Query(RuntimeErr::SqlxError(sqlx))
            | DbErr::Exec(RuntimeErr::SqlxError(sqlx))
            | DbErr::Conn(RuntimeErr::SqlxError(sqlx)),
        ) = err.downcast_ref::<DbErr>()
        else {
            return false;
        };
        matches!(
            sqlx.as_database_error().and_then(|d| d.code()).as_deref(),
            Some("40P01" | "40001")
        )
    }
}

/// Runs `attempt` (one whole transaction) again when the database aborted it as a deadlock
/// victim or for serialization, a few times with a short growing pause.
pub async fn retry_transient<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let mut pause = std::time::Duration::from_millis(2);
    for _ in 0..5 {
        match attempt().await {
            Err(err) if err.is_transient() => {
                tracing::debug!(error = %err, "transaction aborted by the database; running it again");
                tokio::time::sleep(pause).await;
                pause *= 3;
            }
            other => return other,
        }
    }
    attempt().await
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        match err {
            // Every pooled connection stayed busy for the acquire timeout: an overload, and
            // a retry may well succeed, so 503 rather than 500.
            sea_orm::DbErr::ConnectionAcquire(cause) => {
                AppError::Unavailable(format!("no database connection free: {cause}"))
            }
            err => AppError::Internal(err.into()),
        }
    }
}

impl<E: Into<AppError> + std::fmt::Display + std::fmt::Debug> From<sea_orm::TransactionError<E>>
    for AppError
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        self.log_cause();
        let mut response = (status, problem_json(&self.to_problem())).into_response();
        let headers = response.headers_mut();
        match self {
            AppError::Unauthenticated | AppError::MfaRequired => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            AppError::RateLimited { retry_after_secs } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs.max(1)),
                );
            }
            AppError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1u64));
            }
            _ => {}
        }
        response
    }
}

/// A body with the `application/problem+json` content type.
fn problem_json(problem: &Problem) -> impl IntoResponse + use<> {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body,
    )
}

pub type AppResult<T> = Result<T, AppError>;
