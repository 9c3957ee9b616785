//! Organisations (`/console/organisations`, admins): every organisation, a new one, and one
//! organisation with its users, suspended or reactivated, as `/v1/organisations` does.
use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use uuid::Uuid;

use super::{
    fold_indexed, list_href, nav, one_page, page_request, query_pairs, status_for, unknown_fields,
    value, values,
};
use crate::{
    auth::Principal,
    error::{AppError, FieldError},
    i18n::{Lang, countries_by_name, country_name},
    pagination::{PageRequest, encode_cursor},
    services::{
        AppState,
        organisations::{self, OrganisationInput, OrganisationStatus},
        users,
    },
    web::{
        components::{
            Errors, Input, banner, csrf_field, date_time, pagination, select, select_many,
            summary_list, table,
        },
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};
use entity::organisation;

/// The users shown on an organisation's page (the API pages them; organisations are small).
const USERS_SHOWN: u64 = 100;

#[derive(Default)]
struct OrganisationForm {
    name: String,
    registration_number: String,
    country: String,
    operating_countries: Vec<String>,
    contact_email: String,
}

impl OrganisationForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let text = |name| value(pairs, name).unwrap_or_default().to_owned();
        OrganisationForm {
            name: text("name"),
            registration_number: text("registration_number"),
            country: text("country"),
            operating_countries: values(pairs, "operating_countries"),
            contact_email: text("contact_email"),
        }
    }
}

fn status_label(status: &str) -> String {
    match OrganisationStatus::parse(status) {
        Some(OrganisationStatus::Active) => t("organisation-status-active"),
        Some(OrganisationStatus::Suspended) => t("organisation-status-suspended"),
        None => status.to_owned(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = match query_pairs(query) {
        Ok(pairs) => pairs,
        Err(error) => return errors::page_for(error),
    };
    let done = value(&pairs, "done").map(str::to_owned);
    list_page(
        &state,
        &principal,
        &pairs,
        &OrganisationForm::default(),
        Vec::new(),
        done.as_deref(),
    )
    .await
    .unwrap_or_else(errors::page_for)
}

async fn list_page(
    state: &AppState,
    principal: &Principal,
    pairs: &[(String, String)],
    form: &OrganisationForm,
    form_errors: Vec<FieldError>,
    done: Option<&str>,
) -> Result<Response, AppError> {
    let mut problems = unknown_fields(pairs, &["cursor", "done"]);
    let request = page_request(pairs, &mut problems);
    let rows = if problems.is_empty() {
        organisations::list(state, principal, request).await?
    } else {
        Vec::new()
    };
    let (rows, next) = one_page(rows, request, |o: &organisation::Model| {
        list_href(
            "/console/organisations",
            &[("cursor", Some(encode_cursor(o.id)))],
        )
    });
    // A GET has no form errors and a POST no query: one summary says what is wrong.
    problems.extend(form_errors);
    let form_errors = Errors::new(problems);
    let status = status_for(&form_errors);
    let countries = countries_by_name(Lang::En);
    let country_options: Vec<(String, String)> = std::iter::once((String::new(), t("choose-one")))
        .chain(countries.iter().cloned())
        .collect();
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("organisations-title");
    let body = html! {
        (nav(principal, "/console/organisations"))
        @if done == Some("created") { (banner(&t("organisation-done-created"), None)) }
        (form_errors.summary())
        h1 { (title) }
        @if rows.is_empty() {
            p { (t("organisations-empty")) }
        } @else {
            (table(
                &t("organisations-caption"),
                &[t("field-name"), t("field-registration-number"), t("field-country"), t("field-status"), t("field-created-at")],
                &rows.iter().map(|o| vec![
                    html! { a href={ "/console/organisations/" (o.id) } { (o.name) } },
                    html! { (o.registration_number) },
                    html! { (country_name(Lang::En, &o.country)) },
                    html! { (status_label(&o.status)) },
                    html! { (date_time(o.created_at)) },
                ]).collect::<Vec<_>>(),
            ))
            (pagination(next.as_deref()))
        }
        h2 id="new" { (t("organisation-new-heading")) }
        form method="post" action="/console/organisations" novalidate {
            (csrf_field(&csrf))
            (Input::text("name", t("field-name")).value(&form.name).render(&form_errors))
            (Input::text("registration_number", t("field-registration-number")).value(&form.registration_number).render(&form_errors))
            (select("country", &t("organisation-field-country"), &country_options, &form.country, &form_errors))
            (select_many("operating_countries", &t("field-operating-countries"), &t("organisation-operating-hint"), countries, &form.operating_countries, &form_errors))
            (Input::text("contact_email", t("field-contact-email")).kind("email").autocomplete("off").value(&form.contact_email).render(&form_errors))
            div.actions { button type="submit" { (t("organisation-create-submit")) } }
        }
    };
    Ok(page(status, Shell::new(&title).signed_in(principal), body))
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = OrganisationForm::from_pairs(&pairs);
    let input = OrganisationInput {
        name: &form.name,
        registration_number: &form.registration_number,
        country: &form.country,
        operating_countries: &form.operating_countries,
        contact_email: &form.contact_email,
    };
    let outcome = match input.validate() {
        Ok(new) => organisations::create(&state, &principal, new).await,
        Err(error) => Err(error),
    };
    let form_errors = match outcome {
        Ok(created) => {
            return Redirect::to(&format!(
                "/console/organisations/{}?done=created",
                created.id
            ))
            .into_response();
        }
        Err(AppError::Validation(list)) => fold_indexed(list),
        Err(AppError::Conflict(detail)) => vec![FieldError::new("registration_number", detail)],
        Err(error) => return errors::page_for(error),
    };
    list_page(&state, &principal, &[], &form, form_errors, None)
        .await
        .unwrap_or_else(errors::page_for)
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    show_page(&state, &principal, id, value(&pairs, "done"))
        .await
        .unwrap_or_else(errors::page_for)
}

async fn show_page(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    done: Option<&str>,
) -> Result<Response, AppError> {
    let organisation = organisations::get(state, principal, id).await?;
    let mut members = users::list(
        state,
        principal,
        id,
        PageRequest {
            limit: USERS_SHOWN,
            after: None,
        },
    )
    .await?;
    let more_members = members.len() as u64 > USERS_SHOWN;
    members.truncate(USERS_SHOWN as usize);
    let operating: Vec<String> =
        serde_json::from_value(organisation.operating_countries.clone()).unwrap_or_default();
    let suspended = organisation.status == OrganisationStatus::Suspended.as_str();
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let banner_text = match done {
        Some("created") => Some(t("organisation-done-created")),
        Some("suspended") => Some(t("organisation-done-suspended")),
        Some("active") => Some(t("organisation-done-reactivated")),
        _ => None,
    };
    let title = organisation.name.clone();
    let body = html! {
        (nav(principal, "/console/organisations"))
        @if let Some(text) = banner_text { (banner(&text, None)) }
        p { a href="/console/organisations" { (t("organisations-back")) } }
        h1 { (title) }
        (summary_list(&[
            (t("field-registration-number"), html! { (organisation.registration_number) }),
            (t("organisation-field-country"), html! { (country_name(Lang::En, &organisation.country)) }),
            (t("field-operating-countries"), html! {
                (operating.iter().map(|c| country_name(Lang::En, c)).collect::<Vec<_>>().join(", "))
            }),
            (t("field-contact-email"), html! { (organisation.contact_email) }),
            (t("field-status"), html! { (status_label(&organisation.status)) }),
            (t("field-created-at"), html! { (date_time(organisation.created_at)) }),
        ]))
        h2 { (if suspended { t("organisation-reactivate-heading") } else { t("organisation-suspend-heading") }) }
        form method="post" action={ "/console/organisations/" (id) "/status" } {
            (csrf_field(&csrf))
            @if suspended {
                input type="hidden" name="status" value="active";
                p.hint { (t("organisation-reactivate-hint")) }
                div.actions { button type="submit" { (t("organisation-reactivate-submit")) } }
            } @else {
                input type="hidden" name="status" value="suspended";
                p.hint { (t("organisation-suspend-hint")) }
                div.actions { button.warning type="submit" { (t("organisation-suspend-submit")) } }
            }
        }
        h2 { (t("organisation-users-heading")) }
        @if members.is_empty() {
            p { (t("organisation-users-none")) }
        } @else {
            (table(
                &t("organisation-users-caption"),
                &[t("field-name"), t("field-email"), t("field-role"), t("field-status")],
                &members.iter().map(|u| vec![
                    html! { (u.name) },
                    html! { (u.email) },
                    html! { (u.role.replace('_', " ")) },
                    html! {
                        @if !u.active { (t("user-deactivated")) }
                        @else if u.activated_at.is_none() { (t("user-not-activated")) }
                        @else { (t("user-active")) }
                    },
                ]).collect::<Vec<_>>(),
            ))
            @if more_members { p.hint { (t_with("organisation-users-more", &[("shown", USERS_SHOWN.into())])) } }
        }
    };
    Ok(page(
        StatusCode::OK,
        Shell::new(&title).signed_in(principal),
        body,
    ))
}

pub async fn set_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(status) = value(&pairs, "status").and_then(OrganisationStatus::parse) else {
        return errors::page_for(AppError::BadRequest(
            "the form names no status an organisation can have".into(),
        ));
    };
    match organisations::set_status(&state, &principal, id, status).await {
        Ok(_) => Redirect::to(&format!(
            "/console/organisations/{id}?done={}",
            status.as_str()
        ))
        .into_response(),
        Err(error) => errors::page_for(error),
    }
}
