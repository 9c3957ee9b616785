//! The landing page: what the service is, and the ways in.
use axum::{http::StatusCode, response::Response};
use maud::html;

use super::{
    i18n::t,
    layout::{Shell, page},
};

pub async fn landing() -> Response {
    let title = t("home-title");
    page(
        StatusCode::OK,
        Shell::new(&title),
        html! {
            h1 { (title) }
            p.lede { (t("home-lede")) }
            p { (t("home-how")) }
            h2 { (t("home-staff-heading")) }
            p { (t("home-staff-text")) }
            p { a.button href="/login" { (t("home-sign-in")) } }
            h2 { (t("home-verify-heading")) }
            p { (t("home-verify-text")) " "
                a href="/docs#/certificates" { (t("home-verify-link")) } }
            h2 { (t("home-developers-heading")) }
            p { (t("home-developers-text")) " " a href="/docs" { (t("home-docs-link")) } " · "
                a href="/openapi.json" { (t("home-openapi-link")) } }
        },
    )
}
