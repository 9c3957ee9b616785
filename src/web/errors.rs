//! One HTML error type for pages: the same status codes as the API, a page that says what
//! happened in plain words, and never a cause or a detail an attacker could use.
use axum::{http::StatusCode, response::Response};
use maud::html;

use super::{
    i18n::t,
    layout::{Shell, page},
};
use crate::error::AppError;

/// The error as a page.
pub fn page_for(error: AppError) -> Response {
    let status = error.status();
    let (title, text) = match &error {
        AppError::NotFound => (t("error-404-title"), t("error-404-text")),
        AppError::Forbidden(_) => (t("error-403-title"), t("error-403-text")),
        AppError::RateLimited { .. } => (t("error-429-title"), t("error-429-text")),
        AppError::PayloadTooLarge => (t("error-413-title"), t("error-413-text")),
        AppError::BadRequest(_) | AppError::UnsupportedMediaType | AppError::Validation(_) => {
            (t("error-400-title"), t("error-400-text"))
        }
        AppError::Conflict(detail) => (t("error-409-title"), detail.clone()),
        AppError::MethodNotAllowed => (t("error-405-title"), t("error-405-text")),
        _ => {
            error.log_cause();
            (t("error-500-title"), t("error-500-text"))
        }
    };
    page(
        status,
        Shell::new(&title).narrow(),
        html! { h1 { (title) } p { (text) } p { a href="/" { (t("error-home")) } } },
    )
}

/// A cross-site or token-less form post: refused, nothing changed.
pub fn forbidden_post() -> Response {
    let title = t("error-csrf-title");
    page(
        StatusCode::FORBIDDEN,
        Shell::new(&title).narrow(),
        html! { h1 { (title) } p { (t("error-csrf-text")) } p { a href="/" { (t("error-home")) } } },
    )
}
