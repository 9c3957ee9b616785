//! Checkers (`/console/checkers`): admins add and change them, supervisors read, as
//! `/v1/checkers` does: the activation link is e-mailed, a change of authorisations or of the
//! supervisor flag asks for a fresh second factor, and open tasks are rerouted after a change.
use std::collections::HashMap;

use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use uuid::Uuid;

use super::{
    fold_indexed, list_href, nav, one_page, page_request, query_pairs, status_for, unknown_fields,
    value, values, whole_number,
};
use crate::{
    auth::Principal,
    domain::{Authorisation, Role},
    error::{AppError, FieldError},
    pagination::encode_cursor,
    services::{
        AppState,
        checkers::{self, CheckerChange, CheckerView, NewChecker},
        organisations,
    },
    web::{
        account::with_step_up,
        components::{
            Errors, Input, banner, checkboxes, csrf_field, date_time, pagination, select_many,
            summary_list, table,
        },
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};

/// A new open-task cap offered by the form.
const DEFAULT_CAP: &str = "10";

/// The checker form's fields as posted (or as the checker is, to change them).
struct CheckerForm {
    email: String,
    name: String,
    authorisations: Vec<String>,
    supervisor: bool,
    max_open_tasks: String,
    conflicts: Vec<String>,
    active: bool,
}

impl CheckerForm {
    fn empty() -> Self {
        CheckerForm {
            email: String::new(),
            name: String::new(),
            authorisations: Vec::new(),
            supervisor: false,
            max_open_tasks: DEFAULT_CAP.to_owned(),
            conflicts: Vec::new(),
            active: true,
        }
    }

    fn of(checker: &CheckerView) -> Self {
        CheckerForm {
            email: checker.user.email.clone(),
            name: checker.user.name.clone(),
            authorisations: checker
                .authorisations
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            supervisor: checker.supervisor,
            max_open_tasks: checker.max_open_tasks.to_string(),
            conflicts: checker.conflicts.iter().map(Uuid::to_string).collect(),
            active: checker.user.active,
        }
    }

    /// A form's checkboxes say "no" by their absence: what is not posted is off.
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let text = |name| value(pairs, name).unwrap_or_default().to_owned();
        CheckerForm {
            email: text("email"),
            name: text("name"),
            authorisations: values(pairs, "authorisations"),
            supervisor: value(pairs, "supervisor").is_some(),
            max_open_tasks: text("max_open_tasks"),
            conflicts: values(pairs, "conflicts"),
            active: value(pairs, "active").is_some(),
        }
    }

    /// The fields a step-up page carries to finish the change.
    fn hidden(&self) -> Vec<(&'static str, &str)> {
        let mut hidden = vec![
            ("name", self.name.as_str()),
            ("max_open_tasks", self.max_open_tasks.as_str()),
        ];
        hidden.extend(
            self.authorisations
                .iter()
                .map(|a| ("authorisations", a.as_str())),
        );
        hidden.extend(self.conflicts.iter().map(|c| ("conflicts", c.as_str())));
        if self.supervisor {
            hidden.push(("supervisor", "on"));
        }
        if self.active {
            hidden.push(("active", "on"));
        }
        hidden
    }

    /// The values a form can only get wrong by hand (an unknown authorisation or
    /// organisation, a cap that is not a number), checked before the service's own rules.
    fn parsed(&self) -> Result<(Vec<Authorisation>, i64, Vec<Uuid>), AppError> {
        let mut problems = Vec::new();
        let authorisations: Vec<Authorisation> = self
            .authorisations
            .iter()
            .filter_map(|a| {
                Authorisation::parse(a).or_else(|| {
                    problems.push(FieldError::new(
                        "authorisations",
                        format!("`{a}` is not an authorisation"),
                    ));
                    None
                })
            })
            .collect();
        let cap = whole_number(&self.max_open_tasks, "max_open_tasks", &mut problems);
        let conflicts: Vec<Uuid> = self
            .conflicts
            .iter()
            .filter_map(|c| {
                c.parse().ok().or_else(|| {
                    problems.push(FieldError::new(
                        "conflicts",
                        t("cases-unknown-organisation"),
                    ));
                    None
                })
            })
            .collect();
        if problems.is_empty() {
            Ok((authorisations, cap, conflicts))
        } else {
            Err(AppError::Validation(problems))
        }
    }
}

fn authorisation_label(authorisation: Authorisation) -> String {
    t(&format!(
        "authorisation-{}",
        authorisation.as_str().replace('_', "-")
    ))
}

fn authorisation_options() -> Vec<(String, String)> {
    Authorisation::ALL
        .into_iter()
        .map(|a| (a.as_str().to_owned(), authorisation_label(a)))
        .collect()
}

fn account_state(checker: &CheckerView) -> String {
    if !checker.user.active {
        t("user-deactivated")
    } else if checker.user.activated_at.is_none() {
        t("user-not-activated")
    } else {
        t("user-active")
    }
}

/// The fields a new checker and a change share: authorisations, supervisor, cap, conflicts.
fn settings_fields(
    form: &CheckerForm,
    organisations: &[(String, String)],
    errors: &Errors,
) -> Markup {
    html! {
        (checkboxes("authorisations", &t("field-authorisations"), &authorisation_options(), &form.authorisations, errors))
        div.field {
            label for="f-supervisor" {
                input type="checkbox" id="f-supervisor" name="supervisor" value="on" checked[form.supervisor];
                " " (t("checker-field-supervisor"))
            }
        }
        (Input::text("max_open_tasks", t("field-max-open-tasks")).kind("number").inputmode("numeric")
            .hint(t("checker-cap-hint")).value(&form.max_open_tasks).render(errors))
        (select_many("conflicts", &t("field-conflicts"), &t("checker-conflicts-hint"), organisations, &form.conflicts, errors))
    }
}

async fn organisation_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(organisations::names(state)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect())
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
    list_page(
        &state,
        &principal,
        &pairs,
        &CheckerForm::empty(),
        Vec::new(),
    )
    .await
    .unwrap_or_else(errors::page_for)
}

async fn list_page(
    state: &AppState,
    principal: &Principal,
    pairs: &[(String, String)],
    form: &CheckerForm,
    form_errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let mut problems = unknown_fields(pairs, &["cursor"]);
    let request = page_request(pairs, &mut problems);
    let rows = if problems.is_empty() {
        checkers::list(state, request).await?
    } else {
        Vec::new()
    };
    let (rows, next) = one_page(rows, request, |c: &CheckerView| {
        list_href(
            "/console/checkers",
            &[("cursor", Some(encode_cursor(c.user.id)))],
        )
    });
    // A GET has no form errors and a POST no query: one summary says what is wrong.
    problems.extend(form_errors);
    let form_errors = Errors::new(problems);
    let status = status_for(&form_errors);
    let admin = principal.role == Role::Admin;
    let organisations = if admin {
        organisation_options(state).await?
    } else {
        Vec::new()
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("checkers-title");
    let body = html! {
        (nav(principal, "/console/checkers"))
        (form_errors.summary())
        h1 { (title) }
        @if rows.is_empty() {
            p { (t("checkers-empty")) }
        } @else {
            (table(
                &t("checkers-caption"),
                &[t("field-name"), t("field-authorisations"), t("field-max-open-tasks"), t("field-status")],
                &rows.iter().map(|c| vec![
                    html! {
                        a href={ "/console/checkers/" (c.user.id) } { (c.user.name) }
                        @if c.supervisor { br; span.hint { (t("supervision-supervisor")) } }
                    },
                    html! { (c.authorisations.iter().map(|a| authorisation_label(*a)).collect::<Vec<_>>().join(", ")) },
                    html! { (c.max_open_tasks) },
                    html! { (account_state(c)) },
                ]).collect::<Vec<_>>(),
            ))
            (pagination(next.as_deref()))
        }
        @if admin {
            h2 id="new" { (t("checker-new-heading")) }
            p.hint { (t("checker-new-hint")) }
            form method="post" action="/console/checkers" novalidate {
                (csrf_field(&csrf))
                (Input::text("name", t("field-name")).autocomplete("off").value(&form.name).render(&form_errors))
                (Input::text("email", t("field-email")).kind("email").autocomplete("off").value(&form.email).render(&form_errors))
                (settings_fields(form, &organisations, &form_errors))
                div.actions { button type="submit" { (t("checker-create-submit")) } }
            }
        }
    };
    Ok(page(status, Shell::new(&title).signed_in(principal), body))
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CheckerForm::from_pairs(&pairs);
    let outcome = match form.parsed().and_then(|(authorisations, cap, conflicts)| {
        NewChecker::validate(
            &form.email,
            &form.name,
            authorisations,
            form.supervisor,
            cap,
            conflicts,
        )
    }) {
        Ok(new) => checkers::create(&state, &principal, new).await,
        Err(error) => Err(error),
    };
    let form_errors = match outcome {
        Ok((created, _activation_token)) => {
            // The token is in the activation e-mail; the page never shows it.
            return Redirect::to(&format!(
                "/console/checkers/{}?done=created",
                created.user.id
            ))
            .into_response();
        }
        Err(AppError::Validation(list)) => fold_indexed(list),
        Err(AppError::Conflict(detail)) => vec![FieldError::new("email", detail)],
        Err(error) => return errors::page_for(error),
    };
    list_page(&state, &principal, &[], &form, form_errors)
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
    let checker = match checkers::get(&state.db, id).await {
        Ok(checker) => checker,
        Err(error) => return errors::page_for(error),
    };
    let form = CheckerForm::of(&checker);
    show_page(
        &state,
        &principal,
        &checker,
        &form,
        Errors::none(),
        value(&pairs, "done"),
    )
    .await
    .unwrap_or_else(errors::page_for)
}

async fn show_page(
    state: &AppState,
    principal: &Principal,
    checker: &CheckerView,
    form: &CheckerForm,
    form_errors: Errors,
    done: Option<&str>,
) -> Result<Response, AppError> {
    let organisations = organisation_options(state).await?;
    let organisation_names: HashMap<&str, &str> = organisations
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    let admin = principal.role == Role::Admin;
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let banner_text = match done {
        Some("created") => Some((
            t("checker-done-created"),
            Some(t_with(
                "checker-done-created-text",
                &[("email", checker.user.email.clone().into())],
            )),
        )),
        Some("updated") => Some((t("checker-done-updated"), None)),
        _ => None,
    };
    let title = checker.user.name.clone();
    let id = checker.user.id;
    let body = html! {
        (nav(principal, "/console/checkers"))
        @if let Some((title, text)) = &banner_text { (banner(title, text.as_deref())) }
        (form_errors.summary())
        p { a href="/console/checkers" { (t("checkers-back")) } }
        h1 { (title) }
        (summary_list(&[
            (t("field-email"), html! { (checker.user.email) }),
            (t("field-authorisations"), html! {
                @if checker.authorisations.is_empty() { (t("checker-no-authorisations")) }
                @else { (checker.authorisations.iter().map(|a| authorisation_label(*a)).collect::<Vec<_>>().join(", ")) }
            }),
            (t("checker-supervisor"), html! { (if checker.supervisor { t("yes") } else { t("no") }) }),
            (t("field-max-open-tasks"), html! { (checker.max_open_tasks) }),
            (t("field-conflicts"), html! {
                @if checker.conflicts.is_empty() { (t("checker-no-conflicts")) }
                @else {
                    (checker.conflicts.iter().map(|c| organisation_names.get(c.to_string().as_str()).map_or_else(|| c.to_string(), |n| (*n).to_owned())).collect::<Vec<_>>().join(", "))
                }
            }),
            (t("field-status"), html! { (account_state(checker)) }),
            (t("field-created-at"), html! { (date_time(checker.user.created_at)) }),
        ]))
        @if admin {
            h2 { (t("checker-change-heading")) }
            p.hint { (t("checker-change-hint")) }
            form method="post" action={ "/console/checkers/" (id) } novalidate {
                (csrf_field(&csrf))
                (Input::text("name", t("field-name")).autocomplete("off").value(&form.name).render(&form_errors))
                (settings_fields(form, &organisations, &form_errors))
                div.field {
                    label for="f-active" {
                        input type="checkbox" id="f-active" name="active" value="on" checked[form.active];
                        " " (t("checker-field-active"))
                    }
                    span.hint { (t("checker-active-hint")) }
                }
                div.actions { button type="submit" { (t("checker-change-submit")) } }
            }
        }
    };
    Ok(page(
        status_for(&form_errors),
        Shell::new(&title).signed_in(principal),
        body,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CheckerForm::from_pairs(&pairs);
    let action = format!("/console/checkers/{id}");
    let what = t("step-up-what-checker");
    let hidden = form.hidden();
    let code = value(&pairs, "code").map(str::to_owned);
    let (state, form) = (&state, &form);
    with_step_up(
        state,
        principal,
        code,
        &action,
        &what,
        &hidden,
        |principal| async move {
            let change = form.parsed().and_then(|(authorisations, cap, conflicts)| {
                CheckerChange::validate(
                    Some(&form.name),
                    Some(authorisations),
                    Some(form.supervisor),
                    Some(cap),
                    Some(conflicts),
                    Some(form.active),
                )
            });
            let outcome = match change {
                Ok(change) => checkers::update(state, &principal, id, change).await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(_) => Ok(
                    Redirect::to(&format!("/console/checkers/{id}?done=updated")).into_response(),
                ),
                Err(AppError::Validation(list)) => {
                    let checker = checkers::get(&state.db, id).await?;
                    show_page(
                        state,
                        &principal,
                        &checker,
                        form,
                        Errors::new(fold_indexed(list)),
                        None,
                    )
                    .await
                }
                Err(error) => Err(error),
            }
        },
    )
    .await
}
