//! A new request (`/org/requests/new`): every field of `POST /v1/screening-requests`, checked
//! by the same validation and submitted by the same service. Employers and referees start with
//! three empty rows; "add another" is a submit button that shows the form again with one more,
//! so no script is needed. The form carries an idempotency key of its own: pressed twice, it
//! makes one request.
use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use uuid::Uuid;

use super::nav;
use crate::{
    auth::Principal,
    domain::subject::MAX_LIST,
    error::AppError,
    i18n::{Lang, countries_by_name},
    services::{
        AppState,
        submission_input::{
            self, EMPLOYER_FIELDS, EMPLOYERS, FlatSubmission, NATIONALITIES, REFEREE_FIELDS,
            REFEREES, row_field,
        },
        submissions::{self, Idempotency, Submitted},
        workflows,
    },
    web::{
        components::{Errors, Input, csrf_field, radios, select, select_many, textarea},
        errors,
        forms::{value, values},
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

/// Rows of employers and referees an empty form shows.
const EMPTY_ROWS: usize = 3;

/// The form as it was sent (or empty), with how many rows of each list to show.
struct NewRequestForm {
    flat: FlatSubmission,
    employer_rows: usize,
    referee_rows: usize,
    idempotency_key: String,
}

impl NewRequestForm {
    fn empty() -> Self {
        NewRequestForm {
            flat: FlatSubmission::default(),
            employer_rows: EMPTY_ROWS,
            referee_rows: EMPTY_ROWS,
            idempotency_key: format!("form-{}", Uuid::new_v4()),
        }
    }

    fn read(pairs: &[(String, String)]) -> Self {
        let mut flat = FlatSubmission::default();
        for (name, text) in pairs {
            if name != NATIONALITIES && submission_input::is_field(name) {
                flat.set(name, text);
            }
        }
        flat.nationalities = values(pairs, NATIONALITIES);
        flat.compact();
        let add = value(pairs, "add");
        // As many rows as were shown (or are filled), one more where another was asked for.
        let rows = |list: &str, shown: &str, adding: bool| {
            let shown = value(pairs, shown).and_then(|n| n.parse::<usize>().ok());
            (flat.rows(list).max(shown.unwrap_or(0)) + usize::from(adding))
                .clamp(EMPTY_ROWS, MAX_LIST)
        };
        NewRequestForm {
            employer_rows: rows(EMPLOYERS, "employer_rows", add == Some("employer")),
            referee_rows: rows(REFEREES, "referee_rows", add == Some("referee")),
            idempotency_key: value(pairs, "idempotency_key")
                .map(|k| k.chars().take(255).collect())
                .unwrap_or_else(|| format!("form-{}", Uuid::new_v4())),
            flat,
        }
    }
}

fn countries(choose: &str) -> Vec<(String, String)> {
    std::iter::once((String::new(), choose.to_owned()))
        .chain(countries_by_name(Lang::En).iter().cloned())
        .collect()
}

async fn form_page(
    state: &AppState,
    principal: &Principal,
    status: StatusCode,
    form: &NewRequestForm,
    errors: &Errors,
) -> Response {
    let profiles = match workflows::list_profiles(state, false).await {
        Ok(profiles) => profiles,
        Err(error) => return errors::page_for(error),
    };
    let profile_options: Vec<(String, String)> = profiles
        .iter()
        .map(|p| {
            let roles: Vec<&str> = workflows::profile_roles(p)
                .into_iter()
                .map(|r| r.as_str())
                .collect();
            (
                p.code.clone(),
                t_with(
                    "portal-profile-option",
                    &[
                        ("title", p.title.clone().into()),
                        ("roles", roles.join(", ").into()),
                    ],
                ),
            )
        })
        .collect();
    let role_options = vec![
        ("volunteer".to_owned(), t("portal-role-volunteer")),
        ("staff".to_owned(), t("portal-role-staff")),
    ];
    let all_countries = countries(&t("portal-choose-country"));
    let nationality_options = countries_by_name(Lang::En);
    let f = &form.flat;
    let text = |name: &'static str, label: &str| -> Markup {
        Input::text(name, label.to_owned())
            .value(f.get(name))
            .render(errors)
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("portal-new-title");
    let body = html! {
        (nav(principal, "/org/requests/new"))
        (errors.summary())
        h1 { (title) }
        p { (t("portal-new-lead")) }
        form method="post" action="/org/requests/new" novalidate {
            (csrf_field(&csrf))
            input type="hidden" name="idempotency_key" value=(form.idempotency_key);
            input type="hidden" name="employer_rows" value=(form.employer_rows);
            input type="hidden" name="referee_rows" value=(form.referee_rows);
            fieldset.group {
                legend { h2 { (t("portal-new-position")) } }
                (radios("profile", &t("field-profile"), &profile_options, f.get("profile"), errors))
                (text("reference", &t("field-reference")))
                (text("position.title", &t("field-position-title")))
                (textarea("position.description", &t("field-position-description"), Some(&t("hint-optional")), f.get("position.description"), errors))
                (radios("position.role", &t("field-position-role"), &role_options, f.get("position.role"), errors))
            }
            fieldset.group {
                legend { h2 { (t("portal-new-deployment")) } }
                (select("deployment.country", &t("field-deployment-country"), &all_countries, f.get("deployment.country"), errors))
                (Input::text("deployment.start_date", t("field-deployment-start-date")).value(f.get("deployment.start_date")).hint(t("hint-date")).render(errors))
            }
            fieldset.group {
                legend { h2 { (t("portal-new-person")) } }
                p.hint { (t("portal-new-person-hint")) }
                (Input::text("subject.given_names", t("field-given-names")).value(f.get("subject.given_names")).autocomplete("off").render(errors))
                (Input::text("subject.family_name", t("field-family-name")).value(f.get("subject.family_name")).autocomplete("off").render(errors))
                (Input::text("subject.date_of_birth", t("field-date-of-birth")).value(f.get("subject.date_of_birth")).hint(t("hint-date")).autocomplete("off").render(errors))
                (Input::text("subject.place_of_birth", t("field-place-of-birth")).value(f.get("subject.place_of_birth")).autocomplete("off").render(errors))
                (select("subject.country_of_birth", &t("field-country-of-birth"), &all_countries, f.get("subject.country_of_birth"), errors))
                (select_many(NATIONALITIES, &t("field-nationalities"), &t("hint-select-many"), nationality_options, &f.nationalities, errors))
                (Input::text("subject.email", t("field-subject-email")).kind("email").value(f.get("subject.email")).autocomplete("off").render(errors))
                (Input::text("subject.bsn", t("field-bsn")).value(f.get("subject.bsn")).hint(t("hint-bsn")).inputmode("numeric").autocomplete("off").render(errors))
            }
            fieldset.group {
                legend { h2 { (t("portal-new-employers")) } }
                p.hint { (t("portal-new-employers-hint")) }
                @for i in 0..form.employer_rows {
                    fieldset.row {
                        legend { (t_with("portal-employer-legend", &[("number", (i + 1).into())])) }
                        @for field in EMPLOYER_FIELDS {
                            @let name = row_field(EMPLOYERS, i, field);
                            @if field == "country" {
                                (select(&name, &t("field-country"), &all_countries, f.get(&name), errors))
                            } @else {
                                @let hint = matches!(field, "from" | "to").then(|| t("hint-month"));
                                @let input = Input::text(&name, t(&format!("field-{}", field.replace('_', "-")))).value(f.get(&name));
                                (match hint { Some(hint) => input.hint(hint), None => input }.render(errors))
                            }
                        }
                    }
                }
                @if form.employer_rows < MAX_LIST {
                    button.secondary type="submit" name="add" value="employer" { (t("portal-add-employer")) }
                }
            }
            fieldset.group {
                legend { h2 { (t("portal-new-referees")) } }
                p.hint { (t("portal-new-referees-hint")) }
                @for i in 0..form.referee_rows {
                    fieldset.row {
                        legend { (t_with("portal-referee-legend", &[("number", (i + 1).into())])) }
                        @for field in REFEREE_FIELDS {
                            @let name = row_field(REFEREES, i, field);
                            (Input::text(&name, t(&format!("field-referee-{field}"))).value(f.get(&name)).render(errors))
                        }
                    }
                }
                @if form.referee_rows < MAX_LIST {
                    button.secondary type="submit" name="add" value="referee" { (t("portal-add-referee")) }
                }
            }
            div.actions { button type="submit" name="submit" value="1" { (t("portal-new-submit")) } }
        }
    };
    page(status, Shell::new(&title).signed_in(principal), body)
}

pub async fn show(State(state): State<AppState>, principal: Principal) -> Response {
    form_page(
        &state,
        &principal,
        StatusCode::OK,
        &NewRequestForm::empty(),
        &Errors::none(),
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = NewRequestForm::read(&pairs);
    if value(&pairs, "add").is_some() {
        // Another row asked for: the form again, nothing checked yet.
        return form_page(&state, &principal, StatusCode::OK, &form, &Errors::none()).await;
    }
    let (request, new) = match form.flat.validate() {
        Ok(valid) => valid,
        Err(list) => {
            return form_page(
                &state,
                &principal,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &Errors::new(list),
            )
            .await;
        }
    };
    let idempotency = Idempotency {
        key: form.idempotency_key.clone(),
        body_hash: submission_input::hash_of(&request),
    };
    match submissions::submit(&state, &principal, new, Some(idempotency), None).await {
        Ok(Submitted::Created(view) | Submitted::Replayed(view)) => {
            Redirect::to(&format!("/org/requests/{}?done=submitted", view.request.id))
                .into_response()
        }
        Err(AppError::Validation(list)) => {
            form_page(
                &state,
                &principal,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &Errors::new(list),
            )
            .await
        }
        Err(error) => errors::page_for(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::submission_input::SCALAR_FIELDS;

    #[test]
    fn every_scalar_field_of_the_submission_is_a_form_field() {
        for name in SCALAR_FIELDS {
            assert!(submission_input::is_field(name), "{name}");
        }
        assert!(submission_input::is_field(
            "subject.previous_employers[9].contact_email"
        ));
        assert!(!submission_input::is_field(
            "subject.previous_employers[10].contact_email"
        ));
        assert!(!submission_input::is_field("subject.grounds"));
    }

    #[test]
    fn blank_rows_are_dropped_and_the_rest_renumbered() {
        let form = NewRequestForm::read(&[
            (
                "subject.previous_employers[0].organisation".into(),
                " ".into(),
            ),
            (
                "subject.previous_employers[2].organisation".into(),
                "Red Cross".into(),
            ),
            ("subject.referees[1].name".into(), "Piet".into()),
            ("add".into(), "referee".into()),
        ]);
        assert_eq!(
            form.flat.get("subject.previous_employers[0].organisation"),
            "Red Cross"
        );
        assert_eq!(form.flat.rows(EMPLOYERS), 1);
        assert_eq!(form.employer_rows, 3);
        assert_eq!(form.flat.get("subject.referees[0].name"), "Piet");
        assert_eq!(form.referee_rows, 3);
    }
}
