//! Submitting screening requests, with group commit.
//!
//! A submission writes seven kinds of row (request, timeline entry, consent-lapse and reminder
//! timers, invitation e-mail, webhook deliveries, audit event, idempotency record). Written one request per
//! transaction, the round trips and the commit dominate; so handlers hand their validated
//! submissions to a few writer tasks, and each writer commits whatever has queued up meanwhile
//! in one transaction with one multi-row INSERT per table. A handler answers only after its
//! batch has committed, so nothing acknowledged is lost. Outcomes stay per submission: an
//! unknown profile or a replayed key answers that submission alone, and if a whole batch fails
//! its submissions are retried one by one so that each gets its own answer.
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, OnceLock},
};

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryFilter, Set, Statement, TryIntoModel,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, tokens},
    db,
    domain::{CountryCode, PositionRole, RequestStatus, subject::Subject},
    engine::{commands, timers},
    error::{AppError, AppResult},
    mail::{
        self, OutgoingMail,
        subject::{Arg, SubjectMail},
    },
    outbox,
    services::AppState,
    services::{
        sandbox,
        screening::{RequestView, open},
        workflows,
    },
};
use entity::{
    idempotency_key, mail_outbox, organisation, request_event, screening_profile,
    screening_request, timer, webhook_delivery, webhook_endpoint,
};

/// The most submissions one transaction writes (well under either database's bind limit).
const MAX_BATCH: usize = 64;
/// Submissions waiting for a writer; a full queue holds handlers back.
const QUEUE_DEPTH: usize = 1024;

/// A validated request to screen someone.
#[derive(Clone)]
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

/// SHA-256 over the canonical form of a JSON body, for idempotency.
pub fn body_hash(body: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(
        audit::chain::canonical_json(body).as_bytes(),
    ))
}

/// Idempotency keys being answered by this process right now.
pub type InFlightKeys = Arc<Mutex<HashSet<(Uuid, String)>>>;

/// An in-process claim on an idempotency key, released when the submission is answered
/// (or its batch dropped), however that ends.
struct InFlight {
    keys: InFlightKeys,
    entry: (Uuid, String),
}

impl InFlight {
    /// A second request with a key this process is still answering gets 409.
    fn claim(keys: &InFlightKeys, organisation_id: Uuid, key: &str) -> AppResult<InFlight> {
        let entry = (organisation_id, key.to_owned());
        let mut set = keys
            .lock()
            .map_err(|_| anyhow::anyhow!("idempotency set poisoned"))?;
        if !set.insert(entry.clone()) {
            return Err(key_in_flight());
        }
        Ok(InFlight {
            keys: keys.clone(),
            entry,
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = self.keys.lock() {
            set.remove(&self.entry);
        }
    }
}

fn key_in_flight() -> AppError {
    AppError::Conflict("a request with this Idempotency-Key is still in flight".into())
}

/// One submission on its way to a writer.
struct Job {
    id: Uuid,
    actor: String,
    organisation_id: Uuid,
    new: NewRequest,
    /// The subject's data sealed under `id`, done by the handler to spread the work.
    subject_sealed: Vec<u8>,
    idempotency: Option<Idempotency>,
    rescreen_of: Option<Uuid>,
    /// Submitted with a sandbox key.
    sandbox: bool,
    _in_flight: Option<InFlight>,
    reply: oneshot::Sender<AppResult<Submitted>>,
}

impl Job {
    /// What an Idempotency-Key was used for: a key used in the sandbox never answers for a
    /// live request, nor the other way round.
    fn operation(&self) -> &'static str {
        match (self.rescreen_of.is_some(), self.sandbox) {
            (false, false) => "submit",
            (true, false) => "rescreen",
            (false, true) => "sandbox:submit",
            (true, true) => "sandbox:rescreen",
        }
    }
}

/// The handle handlers submit through; the writers start with the first submission.
#[derive(Clone, Default)]
pub struct SubmissionQueue {
    sender: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl SubmissionQueue {
    fn sender(&self, state: &AppState) -> &mpsc::Sender<Job> {
        self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
            let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
            // SQLite has one writer connection; PostgreSQL overlaps two batches' round trips.
            let writers = match state.db_write.get_database_backend() {
                DbBackend::Sqlite => 1,
                _ => 2,
            };
            for _ in 0..writers {
                tokio::spawn(run_writer(state.clone(), receiver.clone()));
            }
            sender
        })
    }
}

/// Creates a request with its invitation; answers once it has committed.
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
    let in_flight = match &idempotency {
        Some(i) => Some(InFlight::claim(
            &state.idempotency_in_flight,
            organisation_id,
            &i.key,
        )?),
        None => None,
    };
    let id = db::new_id();
    let (reply, answer) = oneshot::channel();
    let job = Job {
        id,
        actor: principal.actor(),
        organisation_id,
        subject_sealed: state.data_key.seal_json(id, &new.subject),
        new,
        idempotency,
        rescreen_of,
        sandbox: principal.sandbox,
        _in_flight: in_flight,
        reply,
    };
    state
        .submissions
        .sender(state)
        .send(job)
        .await
        .map_err(|_| anyhow::anyhow!("the submission writers have stopped"))?;
    answer
        .await
        .map_err(|_| anyhow::anyhow!("a submission writer dropped a submission"))?
}

/// Takes whatever has queued up, up to a batch, and commits it.
async fn run_writer(state: AppState, queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        {
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                return; // every sender is gone
            }
        }
        commit_jobs(&state, jobs).await;
    }
}

async fn commit_jobs(state: &AppState, jobs: Vec<Job>) {
    let started = std::time::Instant::now();
    let written = write_batch(state, &jobs).await;
    tracing::debug!(size = jobs.len(), elapsed = ?started.elapsed(), "submission batch");
    match written {
        Ok(outcomes) => answer(jobs, outcomes),
        Err(error) if jobs.len() > 1 => {
            tracing::warn!(error = %error, size = jobs.len(), "batch failed; writing its submissions one by one");
            for job in jobs {
                let outcome = write_batch(state, std::slice::from_ref(&job))
                    .await
                    .and_then(|mut one| {
                        one.pop()
                            .unwrap_or_else(|| Err(anyhow::anyhow!("no outcome").into()))
                    });
                let _ = job.reply.send(outcome);
            }
        }
        Err(error) => answer_all_with(jobs, error),
    }
}

fn answer(jobs: Vec<Job>, outcomes: Vec<AppResult<Submitted>>) {
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        // A handler whose client went away no longer listens; its request stands, and a retry
        // with the same Idempotency-Key gets it back.
        let _ = job.reply.send(outcome);
    }
}

fn answer_all_with(jobs: Vec<Job>, error: AppError) {
    for job in jobs {
        let _ = job
            .reply
            .send(Err(AppError::Internal(anyhow::anyhow!("{error}"))));
    }
}

/// What the batch's submissions refer to, read inside its transaction.
struct Context {
    organisations: HashMap<Uuid, organisation::Model>,
    profiles: HashMap<String, Option<screening_profile::Model>>,
    endpoints: Vec<webhook_endpoint::Model>,
}

/// The rows a batch inserts, one multi-row INSERT per table.
#[derive(Default)]
struct Rows {
    requests: Vec<screening_request::ActiveModel>,
    events: Vec<request_event::ActiveModel>,
    timers: Vec<timer::ActiveModel>,
    mails: Vec<mail_outbox::ActiveModel>,
    deliveries: Vec<webhook_delivery::ActiveModel>,
    audits: Vec<entity::audit_event::ActiveModel>,
    keys: Vec<idempotency_key::ActiveModel>,
}

impl Rows {
    async fn insert(self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        // Requests first: the other rows refer to them.
        insert_chunked(txn, self.requests).await?;
        insert_chunked(txn, self.events).await?;
        insert_chunked(txn, self.timers).await?;
        insert_chunked(txn, self.mails).await?;
        insert_chunked(txn, self.deliveries).await?;
        insert_chunked(txn, self.audits).await?;
        insert_chunked(txn, self.keys).await?;
        Ok(())
    }
}

/// Rows per INSERT statement. Eight requests with their sealed data stay under one TLS record
/// (16 KiB): a statement spanning several records is written in several sends, and since
/// sqlx 0.9.0 does not set TCP_NODELAY, Nagle's algorithm then holds the last one until the
/// server's delayed ACK, some 40 ms later (measured: batches of 25 took 60–100 ms instead
/// of 3). Few distinct statement shapes also keep the prepared-statement cache warm.
const ROWS_PER_INSERT: usize = 8;

async fn insert_chunked<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Writes a batch in one transaction. `Err` means nothing was written; otherwise one outcome
/// per job, in order.
async fn write_batch(state: &AppState, jobs: &[Job]) -> AppResult<Vec<AppResult<Submitted>>> {
    let txn = db::begin_write(&state.db_write).await?;
    let mut outcomes: Vec<Option<AppResult<Submitted>>> = jobs.iter().map(|_| None).collect();
    lock_keys_across_processes(&txn, jobs, &mut outcomes).await?;
    replay_earlier_answers(state, &txn, jobs, &mut outcomes).await?;

    let fresh: Vec<usize> = (0..jobs.len()).filter(|&i| outcomes[i].is_none()).collect();
    let context = load_context(&txn, fresh.iter().map(|&i| &jobs[i])).await?;
    let mut rows = Rows::default();
    for &i in &fresh {
        outcomes[i] = Some(prepare(state, &txn, &jobs[i], &context, &mut rows).await);
    }
    rows.insert(&txn).await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(anyhow::anyhow!("a submission got no outcome").into())))
        .collect())
}

/// Across processes on PostgreSQL: a transaction-scoped advisory lock per key; a key another
/// process is still answering gets 409. (SQLite: `BEGIN IMMEDIATE` already serialises writers.)
async fn lock_keys_across_processes(
    txn: &DatabaseTransaction,
    jobs: &[Job],
    outcomes: &mut [Option<AppResult<Submitted>>],
) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let locks: Vec<(usize, i64)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| {
            let key = &job.idempotency.as_ref()?.key;
            let digest = Sha256::digest(format!("{}:{key}", job.organisation_id).as_bytes());
            Some((i, i64::from_be_bytes(digest[..8].try_into().ok()?)))
        })
        .collect();
    if locks.is_empty() {
        return Ok(());
    }
    // Integers only, so formatting them into the statement is safe.
    let values = locks
        .iter()
        .map(|(i, lock)| format!("({i}, {lock}::bigint)"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT job, pg_try_advisory_xact_lock(lock) AS locked \
                 FROM (VALUES {values}) AS keys(job, lock)"
            ),
        ))
        .await?;
    for row in rows {
        let job: i32 = row.try_get("", "job")?;
        if !row.try_get::<bool>("", "locked")? {
            let slot = usize::try_from(job).map_err(|e| anyhow::anyhow!(e))?;
            outcomes[slot] = Some(Err(key_in_flight()));
        }
    }
    Ok(())
}

/// Keys answered before: the same request again, or 422 for another body.
async fn replay_earlier_answers(
    state: &AppState,
    txn: &DatabaseTransaction,
    jobs: &[Job],
    outcomes: &mut [Option<AppResult<Submitted>>],
) -> AppResult<()> {
    let mut wanted = Condition::any();
    let mut any = false;
    for (job, outcome) in jobs.iter().zip(outcomes.iter()) {
        if let (Some(i), None) = (&job.idempotency, outcome) {
            any = true;
            wanted = wanted.add(
                Condition::all()
                    .add(idempotency_key::Column::OrganisationId.eq(job.organisation_id))
                    .add(idempotency_key::Column::Key.eq(i.key.clone())),
            );
        }
    }
    if !any {
        return Ok(());
    }
    let earlier: HashMap<(Uuid, String), idempotency_key::Model> = idempotency_key::Entity::find()
        .filter(wanted)
        .all(txn)
        .await?
        .into_iter()
        .map(|row| ((row.organisation_id, row.key.clone()), row))
        .collect();
    if earlier.is_empty() {
        return Ok(());
    }
    let requests: HashMap<Uuid, screening_request::Model> = screening_request::Entity::find()
        .filter(screening_request::Column::Id.is_in(earlier.values().map(|row| row.request_id)))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for (job, outcome) in jobs.iter().zip(outcomes.iter_mut()) {
        let Some(i) = &job.idempotency else { continue };
        if outcome.is_some() {
            continue;
        }
        let Some(row) = earlier.get(&(job.organisation_id, i.key.clone())) else {
            continue;
        };
        *outcome = Some(
            if row.body_hash != i.body_hash || row.operation != job.operation() {
                Err(AppError::validation(
                    "Idempotency-Key",
                    "this key was used with a different request; use a new key",
                ))
            } else {
                match requests.get(&row.request_id).cloned() {
                    Some(request) => open(state, request).await.map(Submitted::Replayed),
                    None => Err(anyhow::anyhow!("idempotency key names a missing request").into()),
                }
            },
        );
    }
    Ok(())
}

async fn load_context<'a>(
    txn: &DatabaseTransaction,
    jobs: impl Iterator<Item = &'a Job>,
) -> AppResult<Context> {
    let jobs: Vec<&Job> = jobs.collect();
    let mut context = Context {
        organisations: HashMap::new(),
        profiles: HashMap::new(),
        endpoints: Vec::new(),
    };
    if jobs.is_empty() {
        return Ok(context);
    }
    let organisation_ids: Vec<Uuid> = jobs
        .iter()
        .map(|j| j.organisation_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    context.organisations = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(organisation_ids.iter().copied()))
        .all(txn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    for job in &jobs {
        if !context.profiles.contains_key(&job.new.profile) {
            let profile = workflows::current_profile(txn, &job.new.profile).await?;
            context.profiles.insert(job.new.profile.clone(), profile);
        }
    }
    context.endpoints = outbox::webhooks::live_endpoints(txn, &organisation_ids).await?;
    Ok(context)
}

/// Checks one submission against the profile and its organisation and adds its rows.
async fn prepare(
    state: &AppState,
    txn: &DatabaseTransaction,
    job: &Job,
    context: &Context,
    rows: &mut Rows,
) -> AppResult<Submitted> {
    let new = &job.new;
    let profile = context
        .profiles
        .get(&new.profile)
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            AppError::validation("profile", format!("no screening profile `{}`", new.profile))
        })?;
    if !workflows::profile_roles(profile).contains(&new.role) {
        return Err(AppError::validation(
            "position.role",
            format!(
                "the profile `{}` is not for the role `{}`",
                profile.code,
                new.role.as_str()
            ),
        ));
    }
    let organisation = context
        .organisations
        .get(&job.organisation_id)
        .ok_or(AppError::NotFound)?;
    if organisation.status != "active" {
        return Err(AppError::Forbidden(
            "the organisation is suspended and cannot submit requests".into(),
        ));
    }
    let definition = state
        .engine
        .definitions
        .get(txn, &profile.workflow_key, profile.workflow_version)
        .await?;

    let id = job.id;
    let now = db::now();
    let invitation = tokens::generate(tokens::INVITATION_PREFIX);
    let expires_at = now + definition.consent_window.as_time();
    let request = screening_request::ActiveModel {
        id: Set(id),
        organisation_id: Set(job.organisation_id),
        profile_code: Set(profile.code.clone()),
        profile_version: Set(profile.version),
        workflow_key: Set(profile.workflow_key.clone()),
        workflow_version: Set(profile.workflow_version),
        reference: Set(new.reference.clone()),
        position_title: Set(new.position_title.clone()),
        position_description: Set(new.position_description.clone()),
        role: Set(new.role.as_str().to_owned()),
        deployment_country: Set(new.deployment_country.to_string()),
        deployment_start_date: Set(new.deployment_start_date),
        status: Set(RequestStatus::AwaitingConsent.as_str().to_owned()),
        version: Set(1),
        subject_sealed: Set(Some(job.subject_sealed.clone())),
        invitation_token_hash: Set(Some(invitation.hash)),
        invitation_token_sealed: Set(Some(state.data_key.seal(id, invitation.token.as_bytes()))),
        invitation_resent_at: Set(None),
        invitation_expires_at: Set(expires_at),
        sandbox: Set(job.sandbox),
        sandbox_path: Set(job
            .sandbox
            .then(|| sandbox::path_of(&new.subject.email))
            .flatten()
            .map(str::to_owned)),
        decline_reason: Set(None),
        rescreen_of: Set(job.rescreen_of),
        created_at: Set(now),
        updated_at: Set(now),
        consented_at: Set(None),
        ended_at: Set(None),
        erased_at: Set(None),
        decision_deadline_at: Set(None),
    };
    let model = request.clone().try_into_model()?;
    rows.requests.push(request);
    rows.events.push(commands::event_row(
        id,
        "created",
        RequestStatus::AwaitingConsent,
        now,
    ));
    rows.timers.push(timers::timer_row(
        id,
        timers::TIMER_CONSENT_LAPSE,
        expires_at,
        json!({}),
    ));
    // Reminders that fall after now: a consent window shorter than a reminder has fewer.
    for before in &state.config.consent_reminders {
        let due_at = expires_at - before.as_time();
        if due_at > now {
            rows.timers.push(timers::timer_row(
                id,
                timers::TIMER_CONSENT_REMINDER,
                due_at,
                json!({"before": before.as_str()}),
            ));
        }
    }
    rows.mails.push(mail::outbox_row(
        &state.data_key,
        Some(id),
        "invitation",
        &invitation_mail(
            state,
            &new.subject,
            &organisation.name,
            &new.position_title,
            &invitation.token,
            expires_at,
        ),
    ));
    let endpoints: Vec<webhook_endpoint::Model> = context
        .endpoints
        .iter()
        .filter(|e| e.organisation_id == job.organisation_id)
        .cloned()
        .collect();
    rows.deliveries.extend(outbox::webhooks::delivery_rows(
        &endpoints,
        job.sandbox,
        "screening_request.created",
        outbox::webhooks::request_data(id, RequestStatus::AwaitingConsent),
    ));
    rows.audits.push(audit::event_row(
        &job.actor,
        if job.rescreen_of.is_some() { "screening_request.rescreened" } else { "screening_request.created" },
        audit::target("screening_request", id),
        json!({"organisation_id": job.organisation_id, "profile": profile.code, "rescreen_of": job.rescreen_of}),
    ));
    if let Some(i) = &job.idempotency {
        rows.keys.push(idempotency_key::ActiveModel {
            organisation_id: Set(job.organisation_id),
            key: Set(i.key.clone()),
            operation: Set(job.operation().to_owned()),
            body_hash: Set(i.body_hash.clone()),
            request_id: Set(id),
            response_status: Set(201),
            created_at: Set(now),
        });
    }
    Ok(Submitted::Created(RequestView {
        request: model,
        subject: Some(new.subject.clone()),
    }))
}

/// The subject's invitation e-mail (the first one, and any the organisation has resent).
pub fn invitation_mail(
    state: &AppState,
    subject: &Subject,
    organisation: &str,
    position: &str,
    token: &str,
    expires_at: time::PrimitiveDateTime,
) -> OutgoingMail {
    let link = format!("{}/s/{token}", state.config.public_url);
    SubjectMail {
        kind: "invitation",
        subject,
        operator: &state.config.operator_name,
        link: Some(&link),
        args: vec![
            ("organisation", Arg::from(organisation)),
            ("position", Arg::from(position)),
            ("date", Arg::Date(expires_at.date())),
        ],
    }
    .compose()
}
