//! Screening requests on the organisation's side: submit (idempotent), read, list, withdraw,
//! the timeline, and rescreening.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, tokens},
    db,
    domain::{CountryCode, PositionRole, RequestStatus, Role, subject::Subject},
    engine::{commands, transition::Event},
    error::{AppError, AppResult},
    mail::{self, OutgoingMail},
    outbox,
    pagination::PageRequest,
    services::workflows,
    state::AppState,
};
use entity::{idempotency_key, organisation, request_event, screening_request, timer};

/// A validated request to screen someone.
pub struct NewRequest {
    pub profile: String,
    pub reference: String,
    pub position_title: String,
    pub position_description: Option<String>,
    pub role: PositionRole,
    pub deployment_country: CountryCode,
    pub deployment_start_date: Date,
    pub subject: Subject,
}

/// A request and its opened subject data (`None` once retention erased it).
pub struct RequestView {
    pub request: screening_request::Model,
    pub subject: Option<Subject>,
}

pub struct Idempotency {
    pub key: String,
    /// SHA-256 of the canonical JSON body.
    pub body_hash: String,
}

pub enum Submitted {
    Created(RequestView),
    /// The same key and body again: the first answer, rendered anew.
    Replayed(RequestView),
}

pub const TIMER_CONSENT_LAPSE: &str = "consent_lapse";

/// SHA-256 over the canonical form of a JSON body, for idempotency.
pub fn body_hash(body: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(
        audit::chain::canonical_json(body).as_bytes(),
    ))
}

/// Releases an in-process idempotency claim when the request finishes, however it ends.
struct InFlight<'a> {
    state: &'a AppState,
    entry: (Uuid, String),
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.state.idempotency_in_flight.lock() {
            set.remove(&self.entry);
        }
    }
}

fn claim<'a>(state: &'a AppState, organisation_id: Uuid, key: &str) -> AppResult<InFlight<'a>> {
    let entry = (organisation_id, key.to_owned());
    let mut set = state
        .idempotency_in_flight
        .lock()
        .map_err(|_| anyhow::anyhow!("idempotency set poisoned"))?;
    if !set.insert(entry.clone()) {
        return Err(AppError::Conflict(
            "a request with this Idempotency-Key is still in flight".into(),
        ));
    }
    Ok(InFlight { state, entry })
}

/// Across processes on PostgreSQL: a transaction-scoped advisory lock on the key; a second
/// request with the key while the first is uncommitted gets 409.
async fn lock_key_across_processes(
    txn: &DatabaseTransaction,
    organisation_id: Uuid,
    key: &str,
) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(()); // SQLite: BEGIN IMMEDIATE already serialises writers.
    }
    let digest = Sha256::digest(format!("{organisation_id}:{key}").as_bytes());
    let lock_id = i64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [lock_id.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("advisory lock answered nothing"))?;
    if !row.try_get::<bool>("", "locked")? {
        return Err(AppError::Conflict(
            "a request with this Idempotency-Key is still in flight".into(),
        ));
    }
    Ok(())
}

/// An earlier answer for this key: the same request again, or 422 for another body.
async fn replay(
    state: &AppState,
    txn: &DatabaseTransaction,
    organisation_id: Uuid,
    idempotency: &Idempotency,
    operation: &str,
) -> AppResult<Option<RequestView>> {
    let Some(row) = idempotency_key::Entity::find_by_id((organisation_id, idempotency.key.clone()))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    if row.body_hash != idempotency.body_hash || row.operation != operation {
        return Err(AppError::validation(
            "Idempotency-Key",
            "this key was used with a different request; use a new key",
        ));
    }
    let request = screening_request::Entity::find_by_id(row.request_id)
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("idempotency key names a missing request"))?;
    Ok(Some(open(state, request)?))
}

/// Opens the request's sealed subject data.
pub fn open(state: &AppState, request: screening_request::Model) -> AppResult<RequestView> {
    let subject = match &request.subject_sealed {
        Some(sealed) => Some(
            state
                .data_key
                .open_json::<Subject>(request.id, sealed)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "subject data of request {} cannot be opened: {e}",
                        request.id
                    )
                })?,
        ),
        None => None,
    };
    Ok(RequestView { request, subject })
}

/// Creates a request with its invitation: the request, its timeline entry, the consent-lapse
/// timer, the invitation e-mail, the webhook rows, the audit event and the idempotency record
/// all commit together.
#[tracing::instrument(skip_all)]
pub async fn submit(
    state: &AppState,
    principal: &Principal,
    new: NewRequest,
    idempotency: Option<Idempotency>,
    rescreen_of: Option<Uuid>,
) -> AppResult<Submitted> {
    let organisation_id = principal.organisation_id.ok_or(AppError::Forbidden(
        "only an organisation can submit".into(),
    ))?;
    let operation = if rescreen_of.is_some() {
        "rescreen"
    } else {
        "submit"
    };
    let _in_flight = match &idempotency {
        Some(i) => Some(claim(state, organisation_id, &i.key)?),
        None => None,
    };

    let profile = workflows::current_profile(&state.db, &new.profile)
        .await?
        .ok_or_else(|| {
            AppError::validation("profile", format!("no screening profile `{}`", new.profile))
        })?;
    if !workflows::profile_roles(&profile).contains(&new.role) {
        return Err(AppError::validation(
            "position.role",
            format!(
                "the profile `{}` is not for the role `{}`",
                profile.code,
                new.role.as_str()
            ),
        ));
    }
    let definition =
        workflows::load_definition(&state.db, &profile.workflow_key, profile.workflow_version)
            .await?;
    let organisation = organisation::Entity::find_by_id(organisation_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if organisation.status != "active" {
        return Err(AppError::Forbidden(
            "the organisation is suspended and cannot submit requests".into(),
        ));
    }

    let txn = db::begin_write(&state.db_write).await?;
    if let Some(i) = &idempotency {
        lock_key_across_processes(&txn, organisation_id, &i.key).await?;
        if let Some(view) = replay(state, &txn, organisation_id, i, operation).await? {
            return Ok(Submitted::Replayed(view));
        }
    }

    let id = db::new_id();
    let now = db::now();
    let invitation = tokens::generate(tokens::INVITATION_PREFIX);
    let expires_at = now + definition.consent_window.as_time();
    let request = screening_request::ActiveModel {
        id: Set(id),
        organisation_id: Set(organisation_id),
        profile_code: Set(profile.code.clone()),
        profile_version: Set(profile.version),
        workflow_key: Set(profile.workflow_key.clone()),
        workflow_version: Set(profile.workflow_version),
        reference: Set(new.reference),
        position_title: Set(new.position_title.clone()),
        position_description: Set(new.position_description),
        role: Set(new.role.as_str().to_owned()),
        deployment_country: Set(new.deployment_country.to_string()),
        deployment_start_date: Set(new.deployment_start_date),
        status: Set(RequestStatus::AwaitingConsent.as_str().to_owned()),
        version: Set(1),
        subject_sealed: Set(Some(state.data_key.seal_json(id, &new.subject))),
        invitation_token_hash: Set(Some(invitation.hash)),
        invitation_expires_at: Set(expires_at),
        decline_reason: Set(None),
        rescreen_of: Set(rescreen_of),
        created_at: Set(now),
        updated_at: Set(now),
        consented_at: Set(None),
        ended_at: Set(None),
        erased_at: Set(None),
    }
    .insert(&txn)
    .await?;
    commands::record_event(&txn, id, "created", RequestStatus::AwaitingConsent, now).await?;
    timer::Entity::insert(timer::ActiveModel {
        id: Set(db::new_id()),
        request_id: Set(Some(id)),
        kind: Set(TIMER_CONSENT_LAPSE.to_owned()),
        due_at: Set(expires_at),
        fired_at: Set(None),
        payload: Set(json!({})),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    let link = format!("{}/s/{}", state.config.public_url, invitation.token);
    mail::enqueue(
        &txn,
        &state.data_key,
        Some(id),
        "invitation",
        &OutgoingMail {
            to: new.subject.email.clone(),
            subject: format!("{} asks you to consent to a screening", organisation.name),
            body: invitation_body(
                &new.subject,
                &organisation.name,
                &new.position_title,
                &link,
                expires_at,
            ),
        },
    )
    .await?;
    outbox::webhooks::enqueue(
        &txn,
        organisation_id,
        id,
        "screening_request.created",
        RequestStatus::AwaitingConsent,
    )
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        if rescreen_of.is_some() { "screening_request.rescreened" } else { "screening_request.created" },
        audit::target("screening_request", id),
        json!({"organisation_id": organisation_id, "profile": profile.code, "rescreen_of": rescreen_of}),
    )
    .await?;
    if let Some(i) = &idempotency {
        idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            organisation_id: Set(organisation_id),
            key: Set(i.key.clone()),
            operation: Set(operation.to_owned()),
            body_hash: Set(i.body_hash.clone()),
            request_id: Set(id),
            response_status: Set(201),
            created_at: Set(now),
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    state.wake_workers.notify_one();
    Ok(Submitted::Created(RequestView {
        request,
        subject: Some(new.subject),
    }))
}

fn invitation_body(
    subject: &Subject,
    organisation: &str,
    position: &str,
    link: &str,
    expires_at: time::PrimitiveDateTime,
) -> String {
    format!(
        "Dear {given} {family},\n\n\
         {organisation} has asked safescreen to screen you for the position \"{position}\".\n\n\
         Nothing is checked until you agree. On the page below you can see what {organisation} \
         sent us about you, and consent or decline:\n\n{link}\n\n\
         This link is personal: do not forward it. It works until you answer or until {date} (UTC), \
         when the request lapses.\n\n\
         If anything about you is wrong, decline with the reason \"data incorrect\" and ask \
         {organisation} to send a corrected request.\n",
        given = subject.given_names,
        family = subject.family_name,
        date = expires_at.date(),
    )
}

/// Whether the caller may see this request; objects it may not see are 404.
pub fn visible(principal: &Principal, request: &screening_request::Model) -> bool {
    match principal.role {
        Role::Admin => true,
        Role::Checker => principal.supervisor,
        Role::OrgAdmin | Role::OrgRequester => {
            principal.organisation_id == Some(request.organisation_id)
        }
    }
}

/// The request if the caller may see it, else 404.
async fn find_visible(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<screening_request::Model> {
    screening_request::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|r| visible(principal, r))
        .ok_or(AppError::NotFound)
}

pub async fn get(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<RequestView> {
    let request = find_visible(state, principal, id).await?;
    if principal.is_staff() {
        audit::record(
            &state.db_write,
            &principal.actor(),
            "screening_request.personal_data_read",
            audit::target("screening_request", id),
            json!({}),
        )
        .await?;
    }
    open(state, request)
}

pub struct ListFilter {
    pub statuses: Option<Vec<RequestStatus>>,
    pub profile: Option<String>,
    pub reference: Option<String>,
    pub created_after: Option<time::PrimitiveDateTime>,
    pub created_before: Option<time::PrimitiveDateTime>,
}

/// Newest first; the tenant filter is applied on every page.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: ListFilter,
    page: PageRequest,
) -> AppResult<Vec<RequestView>> {
    let mut query = screening_request::Entity::find().order_by_desc(screening_request::Column::Id);
    match principal.role {
        Role::Admin => {}
        Role::Checker if principal.supervisor => {}
        // Checkers see requests they hold a task for; there are none before the engine runs.
        Role::Checker => return Ok(Vec::new()),
        Role::OrgAdmin | Role::OrgRequester => {
            let own = principal.organisation_id.ok_or(AppError::NotFound)?;
            query = query.filter(screening_request::Column::OrganisationId.eq(own));
        }
    }
    if let Some(statuses) = filter.statuses {
        query = query
            .filter(screening_request::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(profile) = filter.profile {
        query = query.filter(screening_request::Column::ProfileCode.eq(profile));
    }
    if let Some(reference) = filter.reference {
        query = query.filter(screening_request::Column::Reference.eq(reference));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(screening_request::Column::CreatedAt.gte(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(screening_request::Column::CreatedAt.lt(before));
    }
    if let Some(after) = page.after {
        query = query.filter(screening_request::Column::Id.lt(after));
    }
    let rows = query.limit(page.limit + 1).all(&state.db).await?;
    if principal.is_staff() && !rows.is_empty() {
        // Staff reading subjects' names: every read of personal data is audited.
        let txn = db::begin_write(&state.db_write).await?;
        for row in &rows {
            audit::record(
                &txn,
                &principal.actor(),
                "screening_request.personal_data_read",
                audit::target("screening_request", row.id),
                json!({"via": "list"}),
            )
            .await?;
        }
        txn.commit().await?;
    }
    rows.into_iter().map(|r| open(state, r)).collect()
}

/// The organisation withdraws a request before a decision.
pub async fn withdraw(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<RequestView> {
    let txn = db::begin_write(&state.db_write).await?;
    let request = screening_request::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|r| principal.organisation_id == Some(r.organisation_id))
        .ok_or(AppError::NotFound)?;
    let request = commands::apply(&txn, &request, Event::Withdrawn, &principal.actor()).await?;
    txn.commit().await?;
    open(state, request)
}

pub async fn events(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Vec<request_event::Model>> {
    let request = find_visible(state, principal, id).await?;
    Ok(request_event::Entity::find()
        .filter(request_event::Column::RequestId.eq(request.id))
        .order_by_asc(request_event::Column::Id)
        .all(&state.db)
        .await?)
}

/// A new request for the same subject and profile, linked to the old one.
pub async fn rescreen(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    reference: Option<String>,
    idempotency: Option<Idempotency>,
) -> AppResult<Submitted> {
    let old = screening_request::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|r| principal.organisation_id == Some(r.organisation_id))
        .ok_or(AppError::NotFound)?;
    let status = RequestStatus::parse(&old.status).unwrap_or(RequestStatus::AwaitingConsent);
    if !matches!(
        status,
        RequestStatus::Cleared
            | RequestStatus::Refused
            | RequestStatus::Declined
            | RequestStatus::Lapsed
    ) {
        return Err(AppError::Conflict(format!(
            "a request that is {} cannot be rescreened",
            status.org_view().as_str()
        )));
    }
    let view = open(state, old)?;
    let Some(mut subject) = view.subject else {
        return Err(AppError::Conflict(
            "the subject's data has been erased; submit a new request".into(),
        ));
    };
    subject.decline_message = None;
    let old = view.request;
    let new = NewRequest {
        profile: old.profile_code.clone(),
        reference: reference.unwrap_or(old.reference.clone()),
        position_title: old.position_title.clone(),
        position_description: old.position_description.clone(),
        role: PositionRole::parse(&old.role).unwrap_or(PositionRole::Volunteer),
        deployment_country: CountryCode::parse(&old.deployment_country)
            .map_err(|e| anyhow::anyhow!(e))?,
        deployment_start_date: old.deployment_start_date,
        subject,
    };
    submit(state, principal, new, idempotency, Some(old.id)).await
}
