//! The subject's side: the personal link, consent and decline. Only the subject holds the token.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{
    auth::{
        throttle::{self, ThrottleKey},
        tokens,
    },
    db,
    domain::{Authorisation, DeclineReason, RequestStatus, bsn, subject::Subject, text},
    engine::{commands, definition::Definition, tasks as engine_tasks, transition::Event},
    error::{AppError, AppResult},
    mail::subject::Arg,
    services::AppState,
    services::screening,
};
use entity::{decision, organisation, screening_profile, screening_request};

/// Validates the optional free-text message of a decline.
pub fn decline_message(message: Option<&str>) -> AppResult<Option<String>> {
    match message.map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(None),
        Some(m) => text::multiline(m, 2000)
            .map(Some)
            .map_err(|e| AppError::validation("message", e)),
    }
}

/// A free text of the subject's (statement, objection): 1 to 10,000 characters, lines allowed.
pub fn subject_text(field: &str, value: &str) -> AppResult<String> {
    text::multiline(value, 10_000).map_err(|e| AppError::validation(field, e))
}

/// Everything the subject's view shows, on the page and over the API alike.
pub struct Invitation {
    pub request: screening_request::Model,
    /// What is held about the subject, the BSN masked (`******782`).
    pub subject: Option<Subject>,
    pub organisation_name: String,
    /// Where the organisation is established (ISO 3166-1): the privacy notice says whether
    /// the outcome leaves the EU.
    pub organisation_country: String,
    pub profile: Option<screening_profile::Model>,
    pub decision: Option<DecisionView>,
    /// The authorisations of the checks the request's workflow may run, in its order: what the
    /// privacy notice names as checked and by whom.
    pub checks: Vec<Authorisation>,
}

/// The decision as the subject sees it: with its grounds.
pub struct DecisionView {
    pub outcome: String,
    pub decided_at: time::PrimitiveDateTime,
    pub grounds: Option<String>,
    pub revised: bool,
    /// Until when the subject may object to a refusal (once).
    pub objection_until: Option<time::PrimitiveDateTime>,
}

impl Invitation {
    pub fn status(&self) -> RequestStatus {
        RequestStatus::parse(&self.request.status).unwrap_or(RequestStatus::AwaitingConsent)
    }

    /// What the subject can do now.
    pub fn actions(&self) -> Vec<&'static str> {
        match self.status() {
            RequestStatus::AwaitingConsent => vec!["consent", "decline"],
            RequestStatus::InProgress | RequestStatus::Assessment | RequestStatus::FinalReview => {
                vec!["withdraw_consent"]
            }
            RequestStatus::IntentToRefuse => vec!["respond", "withdraw_consent"],
            RequestStatus::Refused if self.may_object() => vec!["object"],
            _ => Vec::new(),
        }
    }

    /// A refusal, inside its objection window, not objected to yet.
    fn may_object(&self) -> bool {
        let open = self
            .decision
            .as_ref()
            .and_then(|d| d.objection_until)
            .is_some_and(|until| db::now() < until);
        let objected = self.subject.as_ref().is_some_and(|s| s.objection.is_some());
        self.status() == RequestStatus::Refused && open && !objected
    }
}

fn subject_actor(request_id: uuid::Uuid) -> String {
    format!("subject:{request_id}")
}

/// The request behind a token; unknown tokens are throttled per client and answer 404.
async fn find(state: &AppState, token: &str, client: &str) -> AppResult<screening_request::Model> {
    let keys = [ThrottleKey::invitation_client(
        client,
        state.config.invitation_lookup_limit,
    )];
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
    let (organisation_name, organisation_country) =
        organisation::Entity::find_by_id(request.organisation_id)
            .one(&state.db)
            .await?
            .map(|o| (o.name, o.country))
            .unwrap_or_default();
    let definition = state
        .engine
        .definitions
        .get(&state.db, &request.workflow_key, request.workflow_version)
        .await?;
    let mut checks: Vec<Authorisation> = Vec::new();
    for check in &definition.checks {
        if !checks.contains(&check.authorisation) {
            checks.push(check.authorisation);
        }
    }
    let profile = screening_profile::Entity::find_by_id((
        request.profile_code.clone(),
        request.profile_version,
    ))
    .one(&state.db)
    .await?;
    let decision = match decision::Entity::find_by_id(request.id)
        .one(&state.db)
        .await?
    {
        Some(row) => Some(decision_view(state, &request, &definition, row).await?),
        None => None,
    };
    let view = screening::open(state, request).await?;
    Ok(Invitation {
        request: view.request,
        subject: view.subject.map(|subject| Subject {
            bsn: subject.bsn.as_deref().map(bsn::mask),
            ..subject
        }),
        organisation_name,
        organisation_country,
        profile,
        decision,
        checks,
    })
}

async fn decision_view(
    state: &AppState,
    request: &screening_request::Model,
    definition: &Definition,
    row: decision::Model,
) -> AppResult<DecisionView> {
    let grounds = match &row.grounds_sealed {
        Some(sealed) => Some(
            state
                .data_key
                .open_json::<String>(request.id, sealed)
                .await
                .map_err(|e| anyhow::anyhow!("grounds of request {}: {e}", request.id))?,
        ),
        None => None,
    };
    let objection_until = (row.outcome == "refused" && !row.revised)
        .then(|| row.decided_at + definition.objection_window.as_time());
    Ok(DecisionView {
        outcome: row.outcome,
        decided_at: row.decided_at,
        grounds,
        revised: row.revised,
        objection_until,
    })
}

/// Locks the request found for a token inside a write transaction, with its opened subject
/// data. (The token is looked up before the transaction begins: a transaction never waits for
/// a second pool connection.)
async fn lock_for_subject(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    found: screening_request::Model,
) -> AppResult<(screening_request::Model, Subject)> {
    let request = screening_request::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let subject = screening::open(state, request.clone())
        .await?
        .subject
        .ok_or(AppError::NotFound)?;
    Ok((request, subject))
}

/// Stores the subject's changed data, sealed, on the request (as locked in `txn`).
async fn store_subject(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    request: &screening_request::Model,
    subject: &Subject,
) -> AppResult<()> {
    screening_request::Entity::update_many()
        .col_expr(
            screening_request::Column::SubjectSealed,
            sea_orm::sea_query::Expr::value(state.data_key.seal_json(request.id, subject)),
        )
        .filter(screening_request::Column::Id.eq(request.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The subject answers an intention to refuse: the statement is kept (sealed) for the final
/// review, which starts at once rather than when the response window closes.
pub async fn respond(
    state: &AppState,
    token: &str,
    client: &str,
    statement: String,
) -> AppResult<Invitation> {
    let found = find(state, token, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let (request, mut subject) = lock_for_subject(state, &txn, found).await?;
    if request.status != RequestStatus::IntentToRefuse.as_str() {
        return Err(AppError::Conflict(format!(
            "there is nothing to respond to while the request is {}",
            request.status
        )));
    }
    subject.statement = Some(statement);
    store_subject(state, &txn, &request, &subject).await?;
    let definition = state
        .engine
        .definitions
        .get(&txn, &request.workflow_key, request.workflow_version)
        .await?;
    let actor = subject_actor(request.id);
    let request = engine_tasks::start_final_review(&txn, request, &definition, &actor).await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    load(state, request).await
}

/// The subject objects to a refusal: once, inside the objection window.
pub async fn object(
    state: &AppState,
    token: &str,
    client: &str,
    grounds: String,
) -> AppResult<Invitation> {
    let found = find(state, token, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let (request, mut subject) = lock_for_subject(state, &txn, found).await?;
    if subject.objection.is_some() {
        return Err(AppError::Conflict(
            "an objection has already been lodged for this request".into(),
        ));
    }
    let definition = state
        .engine
        .definitions
        .get(&txn, &request.workflow_key, request.workflow_version)
        .await?;
    let window_open = decision::Entity::find_by_id(request.id)
        .one(&txn)
        .await?
        .filter(|d| d.outcome == "refused" && !d.revised)
        .is_some_and(|d| db::now() < d.decided_at + definition.objection_window.as_time());
    if request.status != RequestStatus::Refused.as_str() || !window_open {
        return Err(AppError::Conflict(format!(
            "there is no refusal to object to (the request is {}, or the objection window has closed)",
            request.status
        )));
    }
    subject.objection = Some(grounds);
    store_subject(state, &txn, &request, &subject).await?;
    let actor = subject_actor(request.id);
    let request = engine_tasks::start_objection_review(&txn, request, &definition, &actor).await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    load(state, request).await
}

/// The decision with its grounds; 409 while there is none.
pub async fn decision(state: &AppState, token: &str, client: &str) -> AppResult<DecisionView> {
    let invitation = view(state, token, client).await?;
    let status = invitation.status();
    invitation.decision.ok_or_else(|| {
        AppError::Conflict(format!(
            "there is no decision yet; the request is {}",
            status.as_str()
        ))
    })
}

pub async fn view(state: &AppState, token: &str, client: &str) -> AppResult<Invitation> {
    let request = find(state, token, client).await?;
    load(state, request).await
}

/// The subject consents: `awaiting_consent` → `in_progress`, through the command path.
pub async fn consent(state: &AppState, token: &str, client: &str) -> AppResult<Invitation> {
    crate::error::retry_transient(|| consent_once(state, token, client)).await
}

async fn consent_once(state: &AppState, token: &str, client: &str) -> AppResult<Invitation> {
    let found = find(state, token, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let request = screening_request::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let request =
        commands::apply(&txn, &request, Event::Consented, &subject_actor(request.id)).await?;
    // The engine starts the checks in the same transaction.
    let definition = state
        .engine
        .definitions
        .get(&txn, &request.workflow_key, request.workflow_version)
        .await?;
    let request = engine_tasks::start(&state.engine, &txn, request, &definition).await?;
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
    let (request, mut subject) = lock_for_subject(state, &txn, found).await?;
    let request = commands::decline(
        &txn,
        &request,
        Event::Declined,
        reason,
        &subject_actor(request.id),
    )
    .await?;
    if let Some(message) = message {
        subject.decline_message = Some(message);
        store_subject(state, &txn, &request, &subject).await?;
    }
    txn.commit().await?;
    load(state, request).await
}

/// The subject withdraws their consent before a decision (GDPR Art. 7(3)): the request ends
/// `declined` with the reason `consent_withdrawn`, its open tasks and timers end with it, and
/// the subject is sent a confirmation. The request's lock orders it against a checker's
/// completion: whichever commits second finds the other's work done (and a completion then
/// answers 409).
pub async fn withdraw_consent(
    state: &AppState,
    token: &str,
    client: &str,
) -> AppResult<Invitation> {
    crate::error::retry_transient(|| withdraw_consent_once(state, token, client)).await
}

async fn withdraw_consent_once(
    state: &AppState,
    token: &str,
    client: &str,
) -> AppResult<Invitation> {
    let found = find(state, token, client).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let (request, _) = lock_for_subject(state, &txn, found).await?;
    let request = commands::decline(
        &txn,
        &request,
        Event::ConsentWithdrawn,
        DeclineReason::ConsentWithdrawn,
        &subject_actor(request.id),
    )
    .await?;
    let organisation = organisation::Entity::find_by_id(request.organisation_id)
        .one(&txn)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let erased_by = db::now() + time::Duration::days(i64::from(state.config.retention_days));
    let args = vec![
        ("organisation", Arg::from(organisation)),
        ("position", Arg::from(request.position_title.as_str())),
        ("date", Arg::Date(erased_by.date())),
        ("contact", Arg::from(state.config.operator_contact.as_str())),
    ];
    engine_tasks::mail_subject(
        &state.engine,
        &txn,
        &request,
        "consent_withdrawn",
        "consent-withdrawn",
        None,
        args,
    )
    .await?;
    txn.commit().await?;
    // Checkers' freed capacity goes to waiting tasks.
    state.wake_workers.notify_one();
    load(state, request).await
}
