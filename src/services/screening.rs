//! Screening requests on the organisation's side: read, list, withdraw, the timeline, and
//! rescreening (submitting is in [`super::submissions`]).
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    db,
    domain::{CountryCode, PositionRole, RequestStatus, Role, subject::Subject},
    engine::{checks, commands, tasks as engine_tasks, transition::Event},
    error::{AppError, AppResult},
    pagination::PageRequest,
    services::{
        submissions::{self, Idempotency, NewRequest, Submitted},
        workflows,
    },
    state::AppState,
};
use entity::{certificate, decision, request_event, screening_request, task};

/// A request and its opened subject data (`None` once retention erased it).
pub struct RequestView {
    pub request: screening_request::Model,
    pub subject: Option<Subject>,
}

pub const TIMER_CONSENT_LAPSE: &str = "consent_lapse";

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
        let definition = workflows::cached_definition(
            state,
            &state.db,
            &request.workflow_key,
            request.workflow_version,
        )
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
    pub revised: bool,
}

/// `date` plus whole months, the day clamped to the target month's length (31 Jan + 1 → 28/29 Feb).
pub fn add_months(date: time::Date, months: i32) -> time::Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from(u8::try_from(month0 + 1).unwrap_or(1))
        .unwrap_or(time::Month::January);
    let day = date.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).unwrap_or(date)
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
    let mut query = screening_request::Entity::find_by_id(id);
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
    engine_tasks::cancel_open(&txn, request.id).await?;
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

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::add_months;

    #[test]
    fn months_are_added_with_the_day_clamped() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 11 - 29), 36), date!(2029 - 11 - 29));
        assert_eq!(add_months(date!(2026 - 12 - 15), 1), date!(2027 - 01 - 15));
    }
}
