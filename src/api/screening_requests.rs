//! Screening requests, as the organisation (and staff) see them.
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, PrimitiveDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_REQUESTS;
use crate::schemas;
use crate::{
    api::tasks::{TaskDto, task_dto},
    auth::Principal,
    db,
    domain::{OrgStatus, PositionRole, RequestStatus, calendar, idempotency_key, text},
    error::{AppError, AppResult},
    extract::{AppJson, AppPath, AppQuery, OptionalJson, from_value},
    pagination::{Page, PageParams},
    services::AppState,
    services::{
        screening::{self, ListFilter, RequestView, ShownCheck, ShownRequest},
        submission_input::SubmitRequest,
        submissions::{self, Idempotency, Submitted},
    },
    validation::Fields,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_request, list_requests))
        .routes(routes!(get_request))
        .routes(routes!(withdraw_request))
        .routes(routes!(request_events))
        .routes(routes!(rescreen_request))
        .routes(routes!(resend_invitation))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PositionDto {
    pub title: String,
    pub description: Option<String>,
    pub role: PositionRole,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeploymentDto {
    pub country: String,
    /// `YYYY-MM-DD`
    pub start_date: String,
}

/// The subject as the organisation sees them: the name only.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubjectNameDto {
    /// Null once retention has erased the subject's data.
    pub given_names: Option<String>,
    pub family_name: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SentInvitationDto {
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The subject's e-mail with the local part masked: `j***@example.org`.
    pub sent_to: Option<String>,
    /// Sandbox requests only (no e-mail leaves the sandbox): the subject's personal link, for
    /// its page or the invitation operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_link: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Pending,
    Running,
    Done,
    Skipped,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CheckDto {
    pub id: String,
    pub state: CheckState,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecisionDto {
    pub outcome: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    pub valid_until: Option<String>,
    pub certificate_id: Option<Uuid>,
    pub revised: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WorkflowRefDto {
    pub key: String,
    pub version: i32,
}

/// A screening request in the caller's view. Organisations see `status` only; admins and
/// checkers also see `full_status` and `workflow`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RequestDto {
    pub id: Uuid,
    /// False for a sandbox request (made with a sandbox key).
    pub livemode: bool,
    pub status: OrgStatus,
    pub profile: String,
    pub reference: String,
    pub position: PositionDto,
    pub deployment: DeploymentDto,
    pub subject: SubjectNameDto,
    pub checks: Vec<CheckDto>,
    pub invitation: SentInvitationDto,
    pub decision: Option<DecisionDto>,
    /// The reason's category when the request was declined: `data_incorrect`,
    /// `not_consenting` or `other` (the subject's choice), or `consent_withdrawn` (the subject
    /// withdrew consent after giving it). Never the subject's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    /// The request this one rescreens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescreen_of: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_status: Option<RequestStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowRefDto>,
    /// Checkers and admins: the request's tasks, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskDto>>,
    /// Checkers and admins: when the decision is due.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub decision_deadline: Option<OffsetDateTime>,
}

/// The request in the caller's view (`screening::shown` decides what that holds).
async fn render(
    state: &AppState,
    view: RequestView,
    principal: &Principal,
) -> AppResult<RequestDto> {
    let mut page = render_page(state, vec![view], principal).await?;
    Ok(page.remove(0))
}

/// The same for a page of requests, with what they need fetched once for the page.
async fn render_page(
    state: &AppState,
    views: Vec<RequestView>,
    principal: &Principal,
) -> AppResult<Vec<RequestDto>> {
    let shown = screening::shown(state, views, principal).await?;
    Ok(shown.into_iter().map(request_dto).collect())
}

fn request_dto(r: ShownRequest) -> RequestDto {
    let (given_names, family_name) = r.subject_name.unzip();
    RequestDto {
        livemode: !r.sandbox,
        id: r.id,
        status: r.status,
        profile: r.profile,
        reference: r.reference,
        position: PositionDto {
            title: r.position_title,
            description: r.position_description,
            role: r.role,
        },
        deployment: DeploymentDto {
            country: r.deployment_country,
            start_date: r.deployment_start_date.to_string(),
        },
        subject: SubjectNameDto {
            given_names,
            family_name,
        },
        checks: r
            .checks
            .into_iter()
            .map(|(id, state)| CheckDto {
                id,
                state: match state {
                    ShownCheck::Pending => CheckState::Pending,
                    ShownCheck::Running => CheckState::Running,
                    ShownCheck::Done => CheckState::Done,
                    ShownCheck::Skipped => CheckState::Skipped,
                },
            })
            .collect(),
        invitation: SentInvitationDto {
            expires_at: db::utc(r.invitation_expires_at),
            sent_to: r.sent_to,
            sandbox_link: r.sandbox_link,
        },
        decision: r.decision.map(|d| DecisionDto {
            outcome: d.outcome,
            decided_at: db::utc(d.decided_at),
            valid_until: d.valid_until.map(|date| date.to_string()),
            certificate_id: d.certificate_id,
            revised: d.revised,
        }),
        decline_reason: r.decline_reason,
        rescreen_of: r.rescreen_of,
        created_at: db::utc(r.created_at),
        full_status: r.staff.as_ref().map(|s| s.full_status),
        workflow: r.staff.as_ref().map(|s| WorkflowRefDto {
            key: s.workflow_key.clone(),
            version: s.workflow_version,
        }),
        decision_deadline: r
            .staff
            .as_ref()
            .and_then(|s| s.decision_deadline)
            .map(db::utc),
        tasks: r
            .staff
            .map(|s| s.tasks.into_iter().map(|t| task_dto(t, None)).collect()),
    }
}

/// The `Idempotency-Key` header, as documented.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // documentation only: `idempotency_key` reads the header
struct IdempotencyHeader {
    /// 1–255 visible ASCII characters; a retry with the same key and body answers as the first
    /// time.
    #[param(rename = "Idempotency-Key", schema_with = schemas::idempotency_key)]
    key: Option<String>,
}

/// The `Idempotency-Key` header, if sent: 1–255 visible ASCII characters.
fn idempotency_key(
    headers: &HeaderMap,
    body: &serde_json::Value,
) -> AppResult<Option<Idempotency>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = idempotency_key::parse(value.to_str().unwrap_or_default())
        .map_err(|message| AppError::validation("Idempotency-Key", message))?;
    Ok(Some(Idempotency {
        key: key.to_owned(),
        body_hash: submissions::body_hash(body),
    }))
}

async fn submitted(
    state: &AppState,
    result: Submitted,
    principal: &Principal,
) -> AppResult<(StatusCode, Json<RequestDto>)> {
    let (Submitted::Created(view) | Submitted::Replayed(view)) = result;
    Ok((
        StatusCode::CREATED,
        Json(render(state, view, principal).await?),
    ))
}

/// Submits a screening request; the subject is e-mailed a personal link to consent.
///
/// With an `Idempotency-Key`, the same key and body return the same request; the same key with
/// another body is 422; while the first is in flight, 409.
#[utoipa::path(post, path = "/v1/screening-requests", tag = TAG_REQUESTS, request_body = SubmitRequest,
    params(IdempotencyHeader),
    responses((status = 201, description = "Created (or the first answer to this Idempotency-Key)", body = RequestDto)))]
async fn submit_request(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    AppJson(body): AppJson<serde_json::Value>,
) -> AppResult<(StatusCode, Json<RequestDto>)> {
    let idempotency = idempotency_key(&headers, &body)?;
    let new = from_value::<SubmitRequest>(body)?.validate()?;
    let result = submissions::submit(&state, &principal, new, idempotency, None).await?;
    submitted(&state, result, &principal).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestFilter {
    /// A status in the organisation's view; checkers and admins may also give a full status
    /// (`assessment`, `intent_to_refuse`, `final_review`, `objection_review`).
    #[param(value_type = Option<OrgStatus>)]
    pub status: Option<String>,
    pub profile: Option<String>,
    pub reference: Option<String>,
    #[param(schema_with = schemas::timestamp)]
    pub created_after: Option<String>,
    #[param(schema_with = schemas::timestamp)]
    pub created_before: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(schema_with = schemas::cursor)]
    pub cursor: Option<String>,
}

fn parse_instant(field: &str, text: &str, f: &mut Fields) -> Option<PrimitiveDateTime> {
    f.check(field, calendar::parse_timestamp(text))
}

/// Lists requests the caller may see, newest first.
#[utoipa::path(get, path = "/v1/screening-requests", tag = TAG_REQUESTS, params(RequestFilter),
    responses((status = 200, description = "A page of requests", body = Page<RequestDto>)))]
async fn list_requests(
    State(state): State<AppState>,
    principal: Principal,
    AppQuery(q): AppQuery<RequestFilter>,
) -> AppResult<Json<Page<RequestDto>>> {
    let mut f = Fields::default();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .check(&mut f);
    let statuses = match &q.status {
        None => Some(None),
        Some(text) if principal.is_staff() => f
            .check(
                "status",
                RequestStatus::parse(text)
                    .map(|s| vec![s])
                    .ok_or_else(|| format!("unknown status `{text}`")),
            )
            .map(Some),
        Some(text) => f
            .check(
                "status",
                OrgStatus::parse(text)
                    .map(OrgStatus::full_statuses)
                    .ok_or_else(|| format!("`{text}` is not a status of the organisation's view")),
            )
            .map(Some),
    };
    let created_after = q
        .created_after
        .as_deref()
        .map(|t| parse_instant("created_after", t, &mut f));
    let created_before = q
        .created_before
        .as_deref()
        .map(|t| parse_instant("created_before", t, &mut f));
    let (filter, page) = f.finish(|| {
        Some((
            ListFilter {
                statuses: statuses?,
                profile: q.profile,
                reference: q.reference,
                created_after: created_after.flatten(),
                created_before: created_before.flatten(),
                organisation_id: None,
            },
            page?,
        ))
    })?;
    let views = screening::list(&state, &principal, filter, page).await?;
    let rows = render_page(&state, views, &principal).await?;
    Ok(Json(Page::from_rows(rows, page, |dto| dto.id, |dto| dto)))
}

/// One request, in the caller's view.
#[utoipa::path(get, path = "/v1/screening-requests/{id}", tag = TAG_REQUESTS,
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestDto)))]
async fn get_request(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<RequestDto>> {
    let view = screening::get(&state, &principal, id).await?;
    Ok(Json(render(&state, view, &principal).await?))
}

/// Withdraws a request that has no decision yet.
#[utoipa::path(post, path = "/v1/screening-requests/{id}/withdraw", tag = TAG_REQUESTS,
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, description = "Withdrawn", body = RequestDto)))]
async fn withdraw_request(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<RequestDto>> {
    let view = screening::withdraw(&state, &principal, id).await?;
    Ok(Json(render(&state, view, &principal).await?))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RequestEventDto {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EventList {
    pub data: Vec<RequestEventDto>,
    pub next_cursor: Option<String>,
}

/// The request's timeline, filtered to the caller's view.
#[utoipa::path(get, path = "/v1/screening-requests/{id}/events", tag = TAG_REQUESTS,
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, description = "The timeline, oldest first", body = EventList)))]
async fn request_events(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<EventList>> {
    let events = screening::shown_events(&state, &principal, id).await?;
    Ok(Json(EventList {
        data: events
            .into_iter()
            .map(|e| RequestEventDto {
                at: db::utc(e.at),
                kind: e.kind,
                status: e.status,
            })
            .collect(),
        next_cursor: None,
    }))
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(examples(json!({"reference": "VOL-2027-0042"})))]
#[serde(deny_unknown_fields)]
pub struct RescreenRequest {
    /// A new reference; the old one if absent.
    #[schema(schema_with = schemas::optional_line::<100>)]
    pub reference: Option<String>,
}

/// Starts a new request for the same subject and profile, linked to this one. The body may be
/// left out.
#[utoipa::path(post, path = "/v1/screening-requests/{id}/rescreen", tag = TAG_REQUESTS, request_body = Option<RescreenRequest>,
    params(("id" = Uuid, Path, description = "Request id"), IdempotencyHeader),
    responses((status = 201, description = "The new request", body = RequestDto)))]
async fn rescreen_request(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<(StatusCode, Json<RequestDto>)> {
    let body = body.unwrap_or_default();
    let mut hashed = body.clone();
    hashed.insert("rescreen_of".into(), serde_json::json!(id));
    let idempotency = idempotency_key(&headers, &serde_json::Value::Object(hashed))?;
    let input = from_value::<RescreenRequest>(serde_json::Value::Object(body))?;
    let reference = match input.reference {
        Some(r) => Some(text::required(&r, 100).map_err(|m| AppError::validation("reference", m))?),
        None => None,
    };
    let result = screening::rescreen(&state, &principal, id, reference, idempotency).await?;
    submitted(&state, result, &principal).await
}

/// E-mails the subject's invitation again: the same address and the same link. Only while the
/// request awaits consent (409 otherwise), at most once an hour (429 with `Retry-After`).
#[utoipa::path(post, path = "/v1/screening-requests/{id}/resend-invitation", tag = TAG_REQUESTS,
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 202, description = "The invitation is queued to be sent again")))]
async fn resend_invitation(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<StatusCode> {
    screening::resend_invitation(&state, &principal, id).await?;
    Ok(StatusCode::ACCEPTED)
}
