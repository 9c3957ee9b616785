//! The subject's side: the personal link, consent and decline. Only the subject holds the token.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde_json::json;

use crate::{
    audit,
    auth::{
        throttle::{self, ThrottleKey},
        tokens,
    },
    db,
    domain::{RequestStatus, subject::Subject},
    engine::{commands, transition::Event},
    error::{AppError, AppResult},
    services::screening,
    state::AppState,
};
use entity::{organisation, screening_profile, screening_request};

/// Why a subject declines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclineReason {
    DataIncorrect,
    NotConsenting,
    Other,
}

impl DeclineReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::DataIncorrect => "data_incorrect",
            DeclineReason::NotConsenting => "not_consenting",
            DeclineReason::Other => "other",
        }
    }
}

/// Everything the subject page shows.
pub struct Invitation {
    pub request: screening_request::Model,
    pub subject: Option<Subject>,
    pub organisation_name: String,
    pub profile: Option<screening_profile::Model>,
}

impl Invitation {
    pub fn status(&self) -> RequestStatus {
        RequestStatus::parse(&self.request.status).unwrap_or(RequestStatus::AwaitingConsent)
    }

    /// What the subject can do now.
    pub fn actions(&self) -> Vec<&'static str> {
        match self.status() {
            RequestStatus::AwaitingConsent => vec!["consent", "decline"],
            _ => Vec::new(),
        }
    }
}

fn subject_actor(request_id: uuid::Uuid) -> String {
    format!("subject:{request_id}")
}

/// The request behind a token; unknown tokens are throttled per client and answer 404.
async fn find(state: &AppState, token: &str, client: &str) -> AppResult<screening_request::Model> {
    let keys = [ThrottleKey::invitation_client(client)];
    throttle::check(&state.db, &keys).await?;
    let found = if tokens::looks_like(token, tokens::INVITATION_PREFIX) {
        screening_request::Entity::find()
            .filter(screening_request::Column::InvitationTokenHash.eq(tokens::hash(token)))
            .one(&state.db)
            .await?
    } else {
        None
    };
    match found {
        Some(request) if request.erased_at.is_none() => Ok(request),
        _ => {
            throttle::record_failure(&state.db_write, &keys).await?;
            Err(AppError::NotFound)
        }
    }
}

async fn load(state: &AppState, request: screening_request::Model) -> AppResult<Invitation> {
    let organisation_name = organisation::Entity::find_by_id(request.organisation_id)
        .one(&state.db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let profile = screening_profile::Entity::find_by_id((
        request.profile_code.clone(),
        request.profile_version,
    ))
    .one(&state.db)
    .await?;
    let view = screening::open(state, request)?;
    Ok(Invitation {
        request: view.request,
        subject: view.subject,
        organisation_name,
        profile,
    })
}

pub async fn view(state: &AppState, token: &str, client: &str) -> AppResult<Invitation> {
    let request = find(state, token, client).await?;
    load(state, request).await
}

/// The subject consents: `awaiting_consent` → `in_progress`, through the command path.
pub async fn consent(state: &AppState, token: &str, client: &str) -> AppResult<Invitation> {
    let found = find(state, token, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let request = screening_request::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let request =
        commands::apply(&txn, &request, Event::Consented, &subject_actor(request.id)).await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    load(state, request).await
}

/// The subject declines; the organisation sees the reason category, never the message.
pub async fn decline(
    state: &AppState,
    token: &str,
    client: &str,
    reason: DeclineReason,
    message: Option<String>,
) -> AppResult<Invitation> {
    let found = find(state, token, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let request = screening_request::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let request =
        commands::apply(&txn, &request, Event::Declined, &subject_actor(request.id)).await?;
    let mut view = screening::open(state, request)?;
    let mut row = view.request.clone().into_active_model();
    row.decline_reason = Set(Some(reason.as_str().to_owned()));
    if let (Some(message), Some(subject)) = (message, view.subject.as_mut()) {
        subject.decline_message = Some(message);
        row.subject_sealed = Set(Some(state.data_key.seal_json(view.request.id, subject)));
    }
    let request = row.update(&txn).await?;
    audit::record(
        &txn,
        &subject_actor(request.id),
        "screening_request.decline_reason",
        audit::target("screening_request", request.id),
        json!({"reason": reason.as_str()}),
    )
    .await?;
    txn.commit().await?;
    load(state, request).await
}
