//! The subject's actions as JSON: the personal link's token is the credential.
use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::TAG_SUBJECT;
use crate::schemas::{self, DeclineReasonDto};
use crate::{
    db,
    domain::{PositionRole, RequestStatus, subject::Subject},
    error::{AppError, AppResult},
    extract::{AppJson, AppPath},
    services::AppState,
    services::invitations::{self, DecisionView, Invitation, decline_message, subject_text},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_invitation))
        .routes(routes!(consent))
        .routes(routes!(decline))
        .routes(routes!(respond))
        .routes(routes!(object))
        .routes(routes!(decision))
        .routes(routes!(withdraw_consent))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct NamedDto {
    pub name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct InvitationPositionDto {
    pub title: String,
    pub description: Option<String>,
    pub role: PositionRole,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProfileSummaryDto {
    pub title: String,
    pub description: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HeldEmployerDto {
    pub organisation: String,
    pub country: String,
    pub from: String,
    pub to: Option<String>,
    pub contact_email: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HeldRefereeDto {
    pub name: String,
    pub email: String,
    pub relationship: String,
}

/// What is held about the subject.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct HeldSubjectDto {
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub place_of_birth: String,
    pub country_of_birth: String,
    pub nationalities: Vec<String>,
    pub email: String,
    /// The BSN with all but its last three digits masked.
    pub bsn: Option<String>,
    pub previous_employers: Vec<HeldEmployerDto>,
    pub referees: Vec<HeldRefereeDto>,
}

impl From<&Subject> for HeldSubjectDto {
    fn from(s: &Subject) -> Self {
        HeldSubjectDto {
            given_names: s.given_names.clone(),
            family_name: s.family_name.clone(),
            date_of_birth: s.date_of_birth.clone(),
            place_of_birth: s.place_of_birth.clone(),
            country_of_birth: s.country_of_birth.clone(),
            nationalities: s.nationalities.clone(),
            email: s.email.clone(),
            bsn: s.bsn.clone(),
            previous_employers: s
                .previous_employers
                .iter()
                .map(|e| HeldEmployerDto {
                    organisation: e.organisation.clone(),
                    country: e.country.clone(),
                    from: e.from.clone(),
                    to: e.to.clone(),
                    contact_email: e.contact_email.clone(),
                })
                .collect(),
            referees: s
                .referees
                .iter()
                .map(|r| HeldRefereeDto {
                    name: r.name.clone(),
                    email: r.email.clone(),
                    relationship: r.relationship.clone(),
                })
                .collect(),
        }
    }
}

/// The subject's view of their request: the full status, and what they can do now.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct InvitationDto {
    pub status: RequestStatus,
    pub organisation: NamedDto,
    pub position: InvitationPositionDto,
    pub profile: ProfileSummaryDto,
    pub subject: Option<HeldSubjectDto>,
    pub decision: Option<SubjectDecisionDto>,
    /// `consent`, `decline`, `respond`, `object`, `withdraw_consent`: what the subject can do
    /// now.
    pub actions: Vec<String>,
    /// Until when an unanswered invitation stays open.
    #[serde(with = "time::serde::rfc3339")]
    pub consent_by: OffsetDateTime,
}

pub fn invitation_dto(invitation: Invitation) -> InvitationDto {
    let actions = invitation
        .actions()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let status = invitation.status();
    let r = &invitation.request;
    InvitationDto {
        status,
        organisation: NamedDto {
            name: invitation.organisation_name.clone(),
        },
        position: InvitationPositionDto {
            title: r.position_title.clone(),
            description: r.position_description.clone(),
            role: PositionRole::parse(&r.role).unwrap_or(PositionRole::Volunteer),
        },
        profile: ProfileSummaryDto {
            title: invitation
                .profile
                .as_ref()
                .map(|p| p.title.clone())
                .unwrap_or_default(),
            description: invitation
                .profile
                .as_ref()
                .map(|p| p.description.clone())
                .unwrap_or_default(),
        },
        subject: invitation.subject.as_ref().map(HeldSubjectDto::from),
        decision: invitation.decision.map(SubjectDecisionDto::from),
        actions,
        consent_by: db::utc(r.invitation_expires_at),
    }
}

/// What is held about the subject, who asks, and what they can do.
#[utoipa::path(get, path = "/v1/invitations/{token}", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "The invitation", body = InvitationDto)))]
async fn get_invitation(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
) -> AppResult<Json<InvitationDto>> {
    let invitation = invitations::view(&state, &token, &client.ip().to_string()).await?;
    Ok(Json(invitation_dto(invitation)))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"consent": true})))]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    #[schema(schema_with = schemas::consent)]
    pub consent: bool,
}

/// The subject consents: `awaiting_consent` → `in_progress`.
#[utoipa::path(post, path = "/v1/invitations/{token}/consent", tag = TAG_SUBJECT, request_body = ConsentRequest,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "Consent recorded", body = InvitationDto)))]
async fn consent(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    AppJson(body): AppJson<ConsentRequest>,
) -> AppResult<Json<InvitationDto>> {
    if !body.consent {
        return Err(AppError::validation(
            "consent",
            "must be true; to refuse, use decline",
        ));
    }
    let invitation = invitations::consent(&state, &token, &client.ip().to_string()).await?;
    Ok(Json(invitation_dto(invitation)))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"reason": "not_consenting", "message": "I am no longer going abroad."})))]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    pub reason: DeclineReasonDto,
    /// For safescreen only; the organisation sees the reason, not the message.
    #[schema(schema_with = schemas::optional_text_or_blank::<2000>)]
    pub message: Option<String>,
}

/// The subject declines.
#[utoipa::path(post, path = "/v1/invitations/{token}/decline", tag = TAG_SUBJECT, request_body = DeclineRequest,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "Declined", body = InvitationDto)))]
async fn decline(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    AppJson(body): AppJson<DeclineRequest>,
) -> AppResult<Json<InvitationDto>> {
    let message = decline_message(body.message.as_deref())?;
    let invitation = invitations::decline(
        &state,
        &token,
        &client.ip().to_string(),
        body.reason.into(),
        message,
    )
    .await?;
    Ok(Json(invitation_dto(invitation)))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"statement": "The matter was dismissed in 2019; the court's letter is attached to my e-mail."})))]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    #[schema(schema_with = schemas::text::<10000>)]
    pub statement: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"grounds": "The record concerns someone else with the same name."})))]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    #[schema(schema_with = schemas::text::<10000>)]
    pub grounds: String,
}

/// The subject's response to an intention to refuse (only in `intent_to_refuse`).
#[utoipa::path(post, path = "/v1/invitations/{token}/response", tag = TAG_SUBJECT, request_body = ResponseRequest,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "Response recorded", body = InvitationDto)))]
async fn respond(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    AppJson(body): AppJson<ResponseRequest>,
) -> AppResult<Json<InvitationDto>> {
    let statement = subject_text("statement", &body.statement)?;
    let invitation =
        invitations::respond(&state, &token, &client.ip().to_string(), statement).await?;
    Ok(Json(invitation_dto(invitation)))
}

/// The subject's one objection to a refusal, inside the objection window.
#[utoipa::path(post, path = "/v1/invitations/{token}/objection", tag = TAG_SUBJECT, request_body = ObjectionRequest,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "Objection lodged", body = InvitationDto)))]
async fn object(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
    AppJson(body): AppJson<ObjectionRequest>,
) -> AppResult<Json<InvitationDto>> {
    let grounds = subject_text("grounds", &body.grounds)?;
    let invitation = invitations::object(&state, &token, &client.ip().to_string(), grounds).await?;
    Ok(Json(invitation_dto(invitation)))
}

/// The decision with its grounds, once there is one.
#[utoipa::path(get, path = "/v1/invitations/{token}/decision", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "The decision", body = SubjectDecisionDto)))]
async fn decision(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
) -> AppResult<Json<SubjectDecisionDto>> {
    let decision = invitations::decision(&state, &token, &client.ip().to_string()).await?;
    Ok(Json(decision.into()))
}

/// The decision as the subject sees it, with its grounds.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SubjectDecisionDto {
    /// `cleared` or `refused`.
    pub outcome: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    /// Why a refusal was decided.
    pub grounds: Option<String>,
    /// `true` once an objection overturned a refusal.
    pub revised: bool,
    /// Until when the subject may object to a refusal (once).
    #[serde(with = "time::serde::rfc3339::option")]
    pub objection_until: Option<OffsetDateTime>,
}

impl From<DecisionView> for SubjectDecisionDto {
    fn from(d: DecisionView) -> Self {
        SubjectDecisionDto {
            outcome: d.outcome,
            decided_at: db::utc(d.decided_at),
            grounds: d.grounds,
            revised: d.revised,
            objection_until: d.objection_until.map(db::utc),
        }
    }
}

/// The subject withdraws their consent before the decision: the request ends `declined` with
/// the reason `consent_withdrawn`; its open tasks and timers are cancelled.
#[utoipa::path(post, path = "/v1/invitations/{token}/withdraw-consent", tag = TAG_SUBJECT,
    params(("token" = String, Path, description = "The token from the subject's personal link")),
    responses((status = 200, description = "Consent withdrawn; the screening has ended", body = InvitationDto)))]
async fn withdraw_consent(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    AppPath(token): AppPath<String>,
) -> AppResult<Json<InvitationDto>> {
    let invitation =
        invitations::withdraw_consent(&state, &token, &client.ip().to_string()).await?;
    Ok(Json(invitation_dto(invitation)))
}
