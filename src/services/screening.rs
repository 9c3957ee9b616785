//! Screening requests on the organisation's side: read, list, withdraw, the timeline, and
//! rescreening (submitting is in [`super::submissions`]).
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::{Principal, tokens},
    db,
    domain::{
        CountryCode, OrgStatus, PositionRole, RequestStatus, Role,
        subject::{Subject, mask_email},
    },
    engine::{checks, commands, tasks as engine_tasks, transition::Event},
    error::{AppError, AppResult},
    mail,
    pagination::PageRequest,
    services::AppState,
    services::submissions::{self, Idempotency, NewRequest, Submitted},
};
use entity::{certificate, decision, organisation, request_event, screening_request, task};

/// A request and its opened subject data (`None` once retention erased it).
pub struct RequestView {
    pub request: screening_request::Model,
    pub subject: Option<Subject>,
}

/// Opens the request's sealed subject data.
pub async fn open(state: &AppState, request: screening_request::Model) -> AppResult<RequestView> {
    let subject = match &request.subject_sealed {
        Some(sealed) => Some(
            state
                .data_key
                .open_json::<Subject>(request.id, sealed)
                .await
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

/// What showing requests needs beyond their rows, fetched once for a whole page (three
/// queries, whatever the page's size): their tasks, decisions and certificates.
#[derive(Default)]
pub struct Related {
    tasks: HashMap<Uuid, Vec<task::Model>>,
    decisions: HashMap<Uuid, decision::Model>,
    certificates: HashMap<Uuid, certificate::Model>,
}

impl Related {
    pub async fn load(state: &AppState, requests: &[&screening_request::Model]) -> AppResult<Self> {
        // Tasks exist only after consent, decisions and certificates only once decided.
        let consented: Vec<Uuid> = requests
            .iter()
            .filter(|r| r.consented_at.is_some())
            .map(|r| r.id)
            .collect();
        let decided: Vec<Uuid> = requests
            .iter()
            .filter(|r| RequestStatus::parse(&r.status).is_some_and(RequestStatus::is_decided))
            .map(|r| r.id)
            .collect();
        let mut related = Related::default();
        if !consented.is_empty() {
            for task in task::Entity::find()
                .filter(task::Column::RequestId.is_in(consented))
                .order_by_asc(task::Column::Id)
                .all(&state.db)
                .await?
            {
                related.tasks.entry(task.request_id).or_default().push(task);
            }
        }
        if !decided.is_empty() {
            related.decisions = decision::Entity::find()
                .filter(decision::Column::RequestId.is_in(decided.clone()))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|d| (d.request_id, d))
                .collect();
            related.certificates = certificate::Entity::find()
                .filter(certificate::Column::RequestId.is_in(decided))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|c| (c.request_id, c))
                .collect();
        }
        Ok(related)
    }

    /// The request's tasks, oldest first.
    pub fn tasks(&self, request_id: Uuid) -> &[task::Model] {
        self.tasks.get(&request_id).map_or(&[], Vec::as_slice)
    }

    /// The decision as the organisation sees it: the outcome, never the grounds.
    pub fn decision(&self, request_id: Uuid) -> Option<DecisionSummary> {
        let row = self.decisions.get(&request_id)?;
        let certificate = self
            .certificates
            .get(&request_id)
            .filter(|_| row.outcome == "cleared");
        Some(DecisionSummary {
            outcome: row.outcome.clone(),
            decided_at: row.decided_at,
            valid_until: certificate.map(|c| c.expires_at.date()),
            certificate_id: certificate.map(|c| c.id),
            certificate_revoked_at: certificate.and_then(|c| c.revoked_at),
            revised: row.revised,
        })
    }

    /// Each check of the request's pinned workflow, in the definition's order, and where it
    /// stands: pending, running (a task is open), done, or skipped where its `when` does not
    /// hold.
    pub async fn check_states(
        &self,
        state: &AppState,
        request: &screening_request::Model,
    ) -> AppResult<Vec<(String, checks::CheckState)>> {
        let definition = state
            .engine
            .definitions
            .get(&state.db, &request.workflow_key, request.workflow_version)
            .await?;
        let states = engine_tasks::check_states_of(request, &definition, self.tasks(request.id))?;
        Ok(definition
            .checks
            .iter()
            .map(|c| {
                let state = states
                    .get(&c.id)
                    .copied()
                    .unwrap_or(checks::CheckState::Pending);
                (c.id.clone(), state)
            })
            .collect())
    }
}

/// A decision as the organisation sees it: the outcome, never the grounds.
pub struct DecisionSummary {
    pub outcome: String,
    pub decided_at: time::PrimitiveDateTime,
    /// For a clearance: decided plus the profile's validity (the certificate's `exp`).
    pub valid_until: Option<time::Date>,
    pub certificate_id: Option<Uuid>,
    pub certificate_revoked_at: Option<time::PrimitiveDateTime>,
    pub revised: bool,
}

/// Where a check stands as the caller is shown it: never what it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShownCheck {
    Pending,
    Running,
    Done,
    Skipped,
}

/// A request as the caller may see it: the organisation's view, and for checkers and admins
/// (`staff`) the full status, the workflow, the tasks and the decision deadline. The API and
/// the pages render this; neither decides what to show.
pub struct ShownRequest {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub status: OrgStatus,
    pub profile: String,
    pub reference: String,
    pub position_title: String,
    pub position_description: Option<String>,
    pub role: PositionRole,
    pub deployment_country: String,
    pub deployment_start_date: time::Date,
    /// Given names and family name; `None` once retention has erased them.
    pub subject_name: Option<(String, String)>,
    pub checks: Vec<(String, ShownCheck)>,
    pub invitation_expires_at: time::PrimitiveDateTime,
    /// The subject's e-mail, its local part masked (`j***@example.org`).
    pub sent_to: Option<String>,
    pub decision: Option<DecisionSummary>,
    /// The reason category when the subject declined (never the message).
    pub decline_reason: Option<String>,
    pub rescreen_of: Option<Uuid>,
    pub created_at: time::PrimitiveDateTime,
    pub staff: Option<StaffDetails>,
    /// A sandbox request's.
    pub sandbox: bool,
    /// A sandbox request's subject link, while it has one: no e-mail leaves the sandbox, so
    /// the integrator opens the page (or calls the invitation operations) with it.
    pub sandbox_link: Option<String>,
}

impl ShownRequest {
    /// "Given names Family name", or `None` once retention has erased them.
    pub fn full_name(&self) -> Option<String> {
        self.subject_name
            .as_ref()
            .map(|(given, family)| format!("{given} {family}"))
    }
}

/// What checkers and admins see of a request beyond the organisation's view.
pub struct StaffDetails {
    pub full_status: RequestStatus,
    pub workflow_key: String,
    pub workflow_version: i32,
    /// Oldest first.
    pub tasks: Vec<task::Model>,
    pub decision_deadline: Option<time::PrimitiveDateTime>,
}

/// The requests of a page as `principal` may see them, with what they need fetched once.
pub async fn shown(
    state: &AppState,
    views: Vec<RequestView>,
    principal: &Principal,
) -> AppResult<Vec<ShownRequest>> {
    let requests: Vec<&screening_request::Model> = views.iter().map(|v| &v.request).collect();
    let related = Related::load(state, &requests).await?;
    let mut page = Vec::with_capacity(views.len());
    for view in views {
        let checks = related
            .check_states(state, &view.request)
            .await?
            .into_iter()
            .map(|(id, state)| {
                let shown = match state {
                    checks::CheckState::Pending => ShownCheck::Pending,
                    checks::CheckState::Running => ShownCheck::Running,
                    checks::CheckState::Done(_) => ShownCheck::Done,
                    checks::CheckState::Skipped => ShownCheck::Skipped,
                };
                (id, shown)
            })
            .collect();
        let r = view.request;
        let sandbox_link = match r.sandbox {
            true => state
                .data_key
                .open_opt(r.id, r.invitation_token_sealed.as_deref())
                .await
                .and_then(|token| String::from_utf8(token).ok())
                .map(|token| format!("{}/s/{token}", state.config.public_url)),
            false => None,
        };
        let status = RequestStatus::parse(&r.status).unwrap_or(RequestStatus::AwaitingConsent);
        let staff = principal.is_staff().then(|| StaffDetails {
            full_status: status,
            workflow_key: r.workflow_key.clone(),
            workflow_version: r.workflow_version,
            tasks: related.tasks(r.id).to_vec(),
            decision_deadline: r.decision_deadline_at,
        });
        page.push(ShownRequest {
            id: r.id,
            organisation_id: r.organisation_id,
            status: status.org_view(),
            decision: related.decision(r.id),
            checks,
            staff,
            subject_name: view
                .subject
                .as_ref()
                .map(|s| (s.given_names.clone(), s.family_name.clone())),
            sent_to: view.subject.as_ref().map(|s| mask_email(&s.email)),
            profile: r.profile_code,
            reference: r.reference,
            position_title: r.position_title,
            position_description: r.position_description,
            role: PositionRole::parse(&r.role).unwrap_or(PositionRole::Volunteer),
            deployment_country: r.deployment_country,
            deployment_start_date: r.deployment_start_date,
            invitation_expires_at: r.invitation_expires_at,
            decline_reason: r.decline_reason,
            rescreen_of: r.rescreen_of,
            created_at: r.created_at,
            sandbox: r.sandbox,
            sandbox_link,
        });
    }
    Ok(page)
}

/// The ids of the requests a checker holds or held a task for.
fn held_by(checker_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(task::Column::RequestId)
        .from(task::Entity)
        .cond_where(
            sea_orm::Condition::any()
                .add(task::Column::AssigneeId.eq(checker_id))
                .add(task::Column::CompletedBy.eq(checker_id)),
        )
        .to_owned()
}

/// The request if the caller may see it, else 404: the organisation its own; supervisors and
/// admin all; other checkers those they hold or held a task for.
async fn find_visible(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<screening_request::Model> {
    // A sandbox key sees the sandbox's requests only; everyone else live ones only.
    let mut query = screening_request::Entity::find_by_id(id)
        .filter(screening_request::Column::Sandbox.eq(principal.sandbox));
    match principal.role {
        Role::Admin => {}
        Role::Checker if principal.supervisor => {}
        Role::Checker => {
            query = query.filter(screening_request::Column::Id.in_subquery(held_by(principal.id)));
        }
        Role::OrgAdmin | Role::OrgRequester => {
            let own = principal.organisation_id.ok_or(AppError::NotFound)?;
            query = query.filter(screening_request::Column::OrganisationId.eq(own));
        }
    }
    query.one(&state.db).await?.ok_or(AppError::NotFound)
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
    open(state, request).await
}

/// One request as `principal` may see it (read and audited as [`get`]), and whether the
/// subject's data is still held (a rescreen needs it).
pub async fn shown_one(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<(ShownRequest, bool)> {
    let view = get(state, principal, id).await?;
    let subject_held = view.subject.is_some();
    let request = shown(state, vec![view], principal)
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok((request, subject_held))
}

pub struct ListFilter {
    pub statuses: Option<Vec<RequestStatus>>,
    pub profile: Option<String>,
    pub reference: Option<String>,
    pub created_after: Option<time::PrimitiveDateTime>,
    pub created_before: Option<time::PrimitiveDateTime>,
    /// Staff narrowing to one organisation's requests.
    pub organisation_id: Option<Uuid>,
}

/// Newest first; the tenant filter is applied on every page.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: ListFilter,
    page: PageRequest,
) -> AppResult<Vec<RequestView>> {
    let mut query = screening_request::Entity::find()
        .filter(screening_request::Column::Sandbox.eq(principal.sandbox))
        .order_by_desc(screening_request::Column::Id);
    match principal.role {
        Role::Admin => {}
        Role::Checker if principal.supervisor => {}
        Role::Checker => {
            query = query.filter(screening_request::Column::Id.in_subquery(held_by(principal.id)));
        }
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
    if let Some(organisation) = filter.organisation_id {
        query = query.filter(screening_request::Column::OrganisationId.eq(organisation));
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
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(open(state, row).await?);
    }
    Ok(views)
}

/// The organisation withdraws a request before a decision.
pub async fn withdraw(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<RequestView> {
    let txn = db::begin_write(&state.db_write).await?;
    let request = screening_request::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|r| principal.owns_request(r))
        .ok_or(AppError::NotFound)?;
    let request = commands::apply(&txn, &request, Event::Withdrawn, &principal.actor()).await?;
    txn.commit().await?;
    open(state, request).await
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

/// Timeline entries the organisation may see.
const ORG_EVENT_KINDS: &[&str] = &[
    "created",
    "consented",
    "declined",
    "consent_withdrawn",
    "lapsed",
    "withdrawn",
    "decided",
];

/// A timeline entry in the caller's view: staff see every entry and the full status, the
/// organisation its own kinds of entry and its view of the status.
pub struct ShownEvent {
    pub at: time::PrimitiveDateTime,
    pub kind: String,
    pub status: String,
}

/// The request's timeline in the caller's view, oldest first.
pub async fn shown_events(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Vec<ShownEvent>> {
    let staff = principal.is_staff();
    Ok(events(state, principal, id)
        .await?
        .into_iter()
        .filter_map(|event| {
            let status = RequestStatus::parse(&event.status)?;
            let status = if staff {
                status.as_str()
            } else if ORG_EVENT_KINDS.contains(&event.kind.as_str()) {
                status.org_view().as_str()
            } else {
                return None;
            };
            Some(ShownEvent {
                at: event.at,
                kind: event.kind,
                status: status.to_owned(),
            })
        })
        .collect())
}

/// How often the organisation may have an invitation resent.
pub const RESEND_INTERVAL: time::Duration = time::Duration::hours(1);

/// The organisation has the subject's invitation e-mailed again: the same address and the same
/// link, only while the request waits for consent, at most once an hour.
pub async fn resend_invitation(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<()> {
    let txn = db::begin_write(&state.db_write).await?;
    let request = screening_request::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|r| principal.owns_request(r))
        .ok_or(AppError::NotFound)?;
    let status = RequestStatus::parse(&request.status).unwrap_or(RequestStatus::AwaitingConsent);
    if status != RequestStatus::AwaitingConsent {
        return Err(AppError::Conflict(format!(
            "the invitation can only be resent while the request awaits consent; it is {}",
            status.org_view().as_str()
        )));
    }
    let now = db::now();
    if let Some(last) = request.invitation_resent_at {
        let wait = last + RESEND_INTERVAL - now;
        if wait.is_positive() {
            return Err(AppError::RateLimited {
                retry_after_secs: wait.whole_seconds().max(1) as u64,
            });
        }
    }
    // The sealed token must be the one whose hash the request holds: a value moved from
    // another request is refused.
    let token = state
        .data_key
        .open_opt(request.id, request.invitation_token_sealed.as_deref())
        .await
        .and_then(|plain| String::from_utf8(plain).ok())
        .filter(|token| request.invitation_token_hash.as_deref() == Some(&tokens::hash(token)));
    let (Some(token), Some(sealed)) = (token, request.subject_sealed.as_deref()) else {
        return Err(AppError::Conflict(
            "this request's invitation cannot be resent; withdraw it and submit it again".into(),
        ));
    };
    let subject: Subject = state
        .data_key
        .open_json(request.id, sealed)
        .await
        .map_err(|e| anyhow::anyhow!("subject of {}: {e}", request.id))?;
    let organisation = organisation::Entity::find_by_id(request.organisation_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let message = submissions::invitation_mail(
        state,
        &subject,
        &organisation.name,
        &request.position_title,
        &token,
        request.invitation_expires_at,
    );
    mail::enqueue(
        &txn,
        &state.data_key,
        Some(request.id),
        "invitation",
        &message,
    )
    .await?;
    screening_request::Entity::update_many()
        .col_expr(
            screening_request::Column::InvitationResentAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(screening_request::Column::Id.eq(request.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "screening_request.invitation_resent",
        audit::target("screening_request", request.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
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
        .filter(|r| principal.owns_request(r))
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
    let view = open(state, old).await?;
    let Some(mut subject) = view.subject else {
        return Err(AppError::Conflict(
            "the subject's data has been erased; submit a new request".into(),
        ));
    };
    subject.decline_message = None;
    subject.statement = None;
    subject.objection = None;
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
    submissions::submit(state, principal, new, idempotency, Some(old.id)).await
}
