//! Workflows and profiles (`/console/workflows`, `/console/profiles`): every published version,
//! a definition's checks drawn as the order they run in (what runs together, what waits for
//! what, under which conditions, in what time), and publishing a new version as
//! `/v1/workflow-definitions` and `/v1/screening-profiles` do, every error listed.
use std::collections::HashMap;

use axum::{
    Form,
    extract::{Path, Query, State, rejection::QueryRejection},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};

use super::{nav, status_for, value, values, whole_number};
use crate::{
    auth::Principal,
    domain::{IsoDuration, PositionRole, Role},
    engine::definition::{self, Check, Definition, OnOverdue, RoutingStrategy, Stage},
    error::{AppError, FieldError},
    i18n::{Lang, country_name},
    services::{
        AppState,
        workflows::{self, ProfileInput},
    },
    web::{
        components::{
            Errors, Input, banner, checkboxes, csrf_field, date_time, select, summary_list, table,
            textarea,
        },
        errors,
        i18n::{t, t_with},
        layout::{Shell, page},
    },
};
use entity::{screening_profile, workflow_definition};

/// A duration as people say it: "5 days", "36 hours", "90 seconds".
pub fn duration_words(duration: &IsoDuration) -> String {
    let span = duration.as_time();
    let (id, n) = if span.whole_days() >= 1 && span.whole_hours() % 24 == 0 {
        ("duration-days", span.whole_days())
    } else if span.whole_hours() >= 1 && span.whole_minutes() % 60 == 0 {
        ("duration-hours", span.whole_hours())
    } else if span.whole_minutes() >= 1 && span.whole_seconds() % 60 == 0 {
        ("duration-minutes", span.whole_minutes())
    } else {
        ("duration-seconds", span.whole_seconds().max(1))
    };
    t_with(id, &[("n", n.into())])
}

fn authorisation_words(authorisation: crate::domain::Authorisation) -> String {
    t(&format!(
        "authorisation-{}",
        authorisation.as_str().replace('_', "-")
    ))
}

/// The checks in the order they can run: each step holds the checks whose predecessors are
/// all in earlier steps (a valid definition has no cycle, so every check gets a step).
fn steps(checks: &[Check]) -> Vec<Vec<&Check>> {
    let mut step_of: HashMap<&str, usize> = HashMap::new();
    let mut remaining: Vec<&Check> = checks.iter().collect();
    while !remaining.is_empty() {
        let before = remaining.len();
        remaining.retain(|check| {
            let after: Option<Vec<usize>> = check
                .after
                .iter()
                .map(|a| step_of.get(a.as_str()).copied())
                .collect();
            match after {
                Some(after) => {
                    let step = after.iter().max().map_or(0, |m| m + 1);
                    step_of.insert(check.id.as_str(), step);
                    false
                }
                None => true,
            }
        });
        if remaining.len() == before {
            break;
        }
    }
    let mut steps: Vec<Vec<&Check>> = Vec::new();
    for check in checks {
        let step = step_of.get(check.id.as_str()).copied().unwrap_or(0);
        if steps.len() <= step {
            steps.resize_with(step + 1, Vec::new);
        }
        steps[step].push(check);
    }
    steps
}

fn conditions(check: &Check) -> Vec<String> {
    let when = &check.when;
    let countries = |codes: &[crate::domain::CountryCode]| {
        codes
            .iter()
            .map(|c| country_name(Lang::En, c.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut said = Vec::new();
    if let Some(roles) = &when.role {
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        said.push(t_with(
            "workflow-when-role",
            &[("roles", roles.join(", ").into())],
        ));
    }
    if let Some(codes) = &when.deployment_country {
        said.push(t_with(
            "workflow-when-country",
            &[("countries", countries(codes).into())],
        ));
    }
    if let Some(codes) = &when.deployment_country_not {
        said.push(t_with(
            "workflow-when-country-not",
            &[("countries", countries(codes).into())],
        ));
    }
    if let Some(profiles) = &when.profile {
        said.push(t_with(
            "workflow-when-profile",
            &[("profiles", profiles.join(", ").into())],
        ));
    }
    said
}

fn stage_text(stage: &Stage) -> String {
    t_with(
        "workflow-stage",
        &[
            (
                "authorisation",
                authorisation_words(stage.authorisation).into(),
            ),
            ("sla", duration_words(&stage.sla).into()),
        ],
    )
}

/// The definition as a flow: the checks step by step, then the stages every request passes.
fn flow(definition: &Definition) -> Markup {
    html! {
        ol.flow {
            li {
                h3 { (t("workflow-flow-consent")) }
                p { (t_with("workflow-flow-consent-text", &[("window", duration_words(&definition.consent_window).into())])) }
            }
            @for (index, step) in steps(&definition.checks).iter().enumerate() {
                li {
                    h3 { (t_with("workflow-flow-step", &[("n", (index + 1).into())])) }
                    @if step.len() > 1 { p.hint { (t("workflow-flow-together")) } }
                    ul {
                        @for check in step {
                            li {
                                strong { (check.id.replace('_', " ")) }
                                " — " (authorisation_words(check.authorisation))
                                ", " (t_with("workflow-within", &[("sla", duration_words(&check.sla).into())]))
                                @if !check.after.is_empty() {
                                    br; span.hint { (t_with("workflow-after", &[("checks", check.after.join(", ").replace('_', " ").into())])) }
                                }
                                @for condition in conditions(check) {
                                    br; span.hint { (condition) }
                                }
                            }
                        }
                    }
                }
            }
            li {
                h3 { (t("task-kind-assessment")) }
                p {
                    (stage_text(&definition.assessment))
                    @if definition.auto_clear { br; span.hint { (t("workflow-auto-clear")) } }
                }
            }
            @if definition.four_eyes {
                li {
                    h3 { (t("task-kind-four-eyes-review")) }
                    p { (t("workflow-four-eyes-text")) }
                }
            }
            li {
                h3 { (t("workflow-flow-response")) }
                p { (t_with("workflow-flow-response-text", &[("window", duration_words(&definition.response_window).into())])) }
            }
            li {
                h3 { (t("task-kind-final-review")) }
                p { (stage_text(&definition.final_review)) }
            }
            li {
                h3 { (t("task-kind-objection-review")) }
                p {
                    (t_with("workflow-flow-objection-text", &[("window", duration_words(&definition.objection_window).into())]))
                    br; (stage_text(&definition.objection_review))
                }
            }
        }
    }
}

/// Errors of a published document as the publish form shows them: each on the form's one
/// field, with the place in the document it is about.
fn document_errors(list: Vec<FieldError>) -> Vec<FieldError> {
    list.into_iter()
        .map(|error| FieldError::new("definition", format!("{}: {}", error.field, error.message)))
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let done = value(&pairs, "done").map(str::to_owned);
    list_page(&state, &principal, "", Errors::none(), done.as_deref())
        .await
        .unwrap_or_else(errors::page_for)
}

async fn list_page(
    state: &AppState,
    principal: &Principal,
    document: &str,
    form_errors: Errors,
    done: Option<&str>,
) -> Result<Response, AppError> {
    let definitions = workflows::list_definitions(state).await?;
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("workflows-title");
    let body = html! {
        (nav(principal, "/console/workflows"))
        @if let Some(done) = done { (banner(&t_with("workflow-done-published", &[("version", done.to_owned().into())]), None)) }
        (form_errors.summary())
        h1 { (title) }
        (table(
            &t("workflows-caption"),
            &[t("workflow-col-key"), t("workflow-col-version"), t("workflow-col-title"), t("workflow-col-published")],
            &definitions.iter().rev().map(|d: &workflow_definition::Model| vec![
                html! { a href={ "/console/workflows/" (d.key) "/" (d.version) } { (d.key) } },
                html! { (d.version) },
                html! { (d.title) },
                html! { (date_time(d.published_at)) },
            ]).collect::<Vec<_>>(),
        ))
        @if principal.role == Role::Admin {
            h2 id="publish" { (t("workflow-publish-heading")) }
            p.hint { (t("workflow-publish-hint")) }
            form method="post" action="/console/workflows" novalidate {
                (csrf_field(&csrf))
                (textarea("definition", &t("field-definition"), Some(&t("workflow-definition-hint")), document, &form_errors))
                div.actions { button type="submit" { (t("workflow-publish-submit")) } }
            }
        }
    };
    Ok(page(
        status_for(&form_errors),
        Shell::new(&title).signed_in(principal),
        body,
    ))
}

pub async fn publish(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let document = value(&pairs, "definition").unwrap_or_default().to_owned();
    let outcome = if document.is_empty() {
        Err(AppError::validation(
            "definition",
            t("workflow-definition-missing"),
        ))
    } else {
        match serde_json::from_str::<serde_json::Value>(&document) {
            Ok(parsed) => workflows::publish(&state, &principal, &parsed)
                .await
                .map_err(|error| match error {
                    AppError::Validation(list) => AppError::Validation(document_errors(list)),
                    other => other,
                }),
            Err(error) => Err(AppError::validation(
                "definition",
                t_with(
                    "workflow-definition-not-json",
                    &[("error", error.to_string().into())],
                ),
            )),
        }
    };
    let form_errors = match outcome {
        Ok(published) => {
            return Redirect::to(&format!(
                "/console/workflows/{}/{}?done=published",
                published.key, published.version
            ))
            .into_response();
        }
        Err(AppError::Validation(list)) => list,
        Err(AppError::Conflict(detail)) => vec![FieldError::new("definition", detail)],
        Err(error) => return errors::page_for(error),
    };
    list_page(
        &state,
        &principal,
        &document,
        Errors::new(form_errors),
        None,
    )
    .await
    .unwrap_or_else(errors::page_for)
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, version)): Path<(String, i32)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let stored = match workflows::get_definition(&state.db, &key, version).await {
        Ok(stored) => stored,
        Err(error) => return errors::page_for(error),
    };
    let parsed = match definition::parse(&stored.definition) {
        Ok(parsed) => parsed,
        Err(_) => {
            return errors::page_for(AppError::Internal(anyhow::anyhow!(
                "stored definition {key} v{version} does not parse"
            )));
        }
    };
    let title = t_with(
        "workflow-title",
        &[
            ("title", stored.title.clone().into()),
            ("version", version.into()),
        ],
    );
    let document = serde_json::to_string_pretty(&stored.definition).unwrap_or_default();
    let body = html! {
        (nav(&principal, "/console/workflows"))
        @if value(&pairs, "done") == Some("published") {
            (banner(&t_with("workflow-done-published", &[("version", version.into())]), None))
        }
        p { a href="/console/workflows" { (t("workflows-back")) } }
        h1 { (title) }
        (summary_list(&[
            (t("workflow-col-key"), html! { (stored.key) }),
            (t("workflow-col-published"), html! { (date_time(stored.published_at)) }),
            (t("workflow-field-deadline"), html! { (duration_words(&parsed.decision_deadline)) }),
            (t("workflow-field-routing"), html! {
                (match parsed.routing { RoutingStrategy::LeastLoaded => t("workflow-routing-least-loaded"), RoutingStrategy::RoundRobin => t("workflow-routing-round-robin") })
            }),
            (t("workflow-field-overdue"), html! {
                (match parsed.on_overdue { OnOverdue::NotifySupervisors => t("workflow-overdue-notify"), OnOverdue::Reassign => t("workflow-overdue-reassign") })
            }),
        ]))
        h2 { (t("workflow-flow-heading")) }
        (flow(&parsed))
        details {
            summary { (t("workflow-document")) }
            pre.document { code { (document) } }
        }
    };
    page(
        axum::http::StatusCode::OK,
        Shell::new(&title).signed_in(&principal),
        body,
    )
}

/// The profile form's fields as posted.
#[derive(Default)]
struct ProfileForm {
    code: String,
    title: String,
    description: String,
    workflow: String,
    validity_months: String,
    roles: Vec<String>,
    expiry_warning_days: String,
}

impl ProfileForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let text = |name| value(pairs, name).unwrap_or_default().to_owned();
        ProfileForm {
            code: text("code"),
            title: text("title"),
            description: text("description"),
            workflow: text("workflow"),
            validity_months: text("validity_months"),
            roles: values(pairs, "roles"),
            expiry_warning_days: text("expiry_warning_days"),
        }
    }

    fn blank() -> Self {
        ProfileForm {
            validity_months: "36".into(),
            expiry_warning_days: "60".into(),
            ..ProfileForm::default()
        }
    }
}

/// A workflow version as the profile form names it: `key:version`.
fn workflow_ref(key: &str, version: i32) -> String {
    format!("{key}:{version}")
}

fn role_options() -> Vec<(String, String)> {
    [PositionRole::Volunteer, PositionRole::Staff]
        .into_iter()
        .map(|r| (r.as_str().to_owned(), t(&format!("role-{}", r.as_str()))))
        .collect()
}

pub async fn profiles(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let pairs = query.map(|Query(p)| p).unwrap_or_default();
    let done = value(&pairs, "done") == Some("published");
    profiles_page(
        &state,
        &principal,
        &ProfileForm::blank(),
        Errors::none(),
        done,
    )
    .await
    .unwrap_or_else(errors::page_for)
}

async fn profiles_page(
    state: &AppState,
    principal: &Principal,
    form: &ProfileForm,
    form_errors: Errors,
    done: bool,
) -> Result<Response, AppError> {
    let profiles = workflows::list_profiles(state, true).await?;
    let definitions = workflows::list_definitions(state).await?;
    let workflow_options: Vec<(String, String)> = std::iter::once((String::new(), t("choose-one")))
        .chain(definitions.iter().rev().map(|d| {
            (
                workflow_ref(&d.key, d.version),
                t_with(
                    "workflow-option",
                    &[
                        ("title", d.title.clone().into()),
                        ("version", d.version.into()),
                    ],
                ),
            )
        }))
        .collect();
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let title = t("profiles-title");
    let body = html! {
        (nav(principal, "/console/profiles"))
        @if done { (banner(&t("profile-done-published"), None)) }
        (form_errors.summary())
        h1 { (title) }
        (table(
            &t("profiles-caption"),
            &[t("field-profile-code"), t("workflow-col-version"), t("workflow-col-title"), t("profile-col-workflow"), t("field-roles"), t("field-validity-months")],
            &profiles.iter().map(|p: &screening_profile::Model| vec![
                html! { (p.code) },
                html! { (p.version) },
                html! { (p.title) },
                html! { a href={ "/console/workflows/" (p.workflow_key) "/" (p.workflow_version) } { (workflow_ref(&p.workflow_key, p.workflow_version)) } },
                html! { (workflows::profile_roles(p).iter().map(|r| t(&format!("role-{}", r.as_str()))).collect::<Vec<_>>().join(", ")) },
                html! { (p.validity_months) },
            ]).collect::<Vec<_>>(),
        ))
        h2 id="publish" { (t("profile-publish-heading")) }
        p.hint { (t("profile-publish-hint")) }
        form method="post" action="/console/profiles" novalidate {
            (csrf_field(&csrf))
            (Input::text("code", t("field-profile-code")).hint(t("profile-code-hint")).value(&form.code).render(&form_errors))
            (Input::text("title", t("workflow-col-title")).value(&form.title).render(&form_errors))
            (textarea("description", &t("field-description"), None, &form.description, &form_errors))
            (select("workflow", &t("profile-col-workflow"), &workflow_options, &form.workflow, &form_errors))
            (Input::text("validity_months", t("field-validity-months")).kind("number").inputmode("numeric").value(&form.validity_months).render(&form_errors))
            (checkboxes("roles", &t("field-roles"), &role_options(), &form.roles, &form_errors))
            (Input::text("expiry_warning_days", t("field-expiry-warning-days")).kind("number").inputmode("numeric").value(&form.expiry_warning_days).render(&form_errors))
            div.actions { button type="submit" { (t("profile-publish-submit")) } }
        }
    };
    Ok(page(
        status_for(&form_errors),
        Shell::new(&title).signed_in(principal),
        body,
    ))
}

pub async fn publish_profile(
    State(state): State<AppState>,
    principal: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = ProfileForm::from_pairs(&pairs);
    let mut problems = Vec::new();
    let validity_months = whole_number(&form.validity_months, "validity_months", &mut problems);
    let expiry_warning_days = whole_number(
        &form.expiry_warning_days,
        "expiry_warning_days",
        &mut problems,
    );
    let workflow = form
        .workflow
        .rsplit_once(':')
        .and_then(|(key, version)| Some((key, version.parse::<i32>().ok()?)));
    if workflow.is_none() {
        problems.push(FieldError::new("workflow", t("profile-workflow-missing")));
    }
    let mut roles = Vec::new();
    for role in &form.roles {
        match PositionRole::parse(role) {
            Some(role) => roles.push(role),
            None => problems.push(FieldError::new("roles", format!("`{role}` is not a role"))),
        }
    }
    let (workflow_key, workflow_version) = workflow.unwrap_or(("", 0));
    let validated = ProfileInput {
        code: &form.code,
        title: &form.title,
        description: &form.description,
        workflow_key,
        workflow_version,
        validity_months,
        roles,
        expiry_warning_days,
    }
    .validate();
    // The form's own errors first, then the service's rules on the fields the form got right.
    let new = match validated {
        Ok(new) => Some(new),
        Err(AppError::Validation(list)) => {
            let more: Vec<FieldError> = list
                .into_iter()
                .filter(|e| !problems.iter().any(|p| p.field == e.field))
                .collect();
            problems.extend(more);
            None
        }
        Err(error) => return errors::page_for(error),
    };
    let form_errors = match new.filter(|_| problems.is_empty()) {
        None => problems,
        Some(new) => match workflows::publish_profile(&state, &principal, new).await {
            Ok(_) => return Redirect::to("/console/profiles?done=published").into_response(),
            Err(AppError::Validation(list)) => list,
            Err(AppError::Conflict(detail)) => vec![FieldError::new("code", detail)],
            Err(error) => return errors::page_for(error),
        },
    };
    profiles_page(&state, &principal, &form, Errors::new(form_errors), false)
        .await
        .unwrap_or_else(errors::page_for)
}
