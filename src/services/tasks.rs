//! Checkers' tasks: listing, reading with the subject data the task needs (audited),
//! completing, releasing and assigning. A completion runs the request to its next wait state
//! in the same transaction.
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, Query},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    db,
    domain::{Role, subject::Subject, text},
    engine::{
        routing,
        tasks::{self as engine_tasks, Completed, TaskKind},
    },
    error::{AppError, AppResult, retry_transient},
    pagination::PageRequest,
    services::AppState,
    validation::Fields,
};
use entity::{checker_conflict, screening_request, task};

#[derive(Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub kind: Option<TaskKind>,
    pub overdue: Option<bool>,
    pub request_id: Option<Uuid>,
}

/// A task with what its reader may see of the request.
pub struct TaskView {
    pub task: task::Model,
    /// The subject data the task needs, and earlier outcomes for assessments and reviews.
    pub context: Option<Value>,
}

fn sees_all(principal: &Principal) -> bool {
    principal.role == Role::Admin || principal.supervisor
}

/// Own tasks for checkers; every task for supervisors and admin. Newest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: TaskFilter,
    page: PageRequest,
) -> AppResult<Vec<task::Model>> {
    let own = (!sees_all(principal)).then_some(principal.id);
    Ok(list_query(own, &filter, &page).all(&state.db).await?)
}

/// The list's one query: `own`'s tasks (everyone's when `None`), newest first, a page and one
/// more row. Public so a test can hold it to the index it reads.
pub fn list_query(
    own: Option<Uuid>,
    filter: &TaskFilter,
    page: &PageRequest,
) -> Select<task::Entity> {
    // The sandbox's tasks are no one's work.
    let mut query = task::Entity::find()
        .filter(task::Column::Sandbox.eq(false))
        .order_by_desc(task::Column::Id);
    if let Some(assignee) = own {
        query = query.filter(task::Column::AssigneeId.eq(assignee));
    }
    if let Some(status) = &filter.status {
        query = query.filter(task::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(task::Column::Kind.eq(kind.as_str()));
    }
    if let Some(overdue) = filter.overdue {
        query = query.filter(task::Column::Overdue.eq(overdue));
    }
    if let Some(request_id) = filter.request_id {
        query = query.filter(task::Column::RequestId.eq(request_id));
    }
    if let Some(after) = page.after {
        query = query.filter(task::Column::Id.lt(after));
    }
    query.limit(page.limit + 1)
}

/// The task if the caller may read it: the assignee, a supervisor not in conflict with the
/// requesting organisation, or an admin; anyone else gets 404.
async fn find_readable(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<(task::Model, screening_request::Model)> {
    let task = task::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| !t.sandbox)
        .ok_or(AppError::NotFound)?;
    let request = screening_request::Entity::find_by_id(task.request_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let readable = if task.assignee_id == Some(principal.id) || principal.role == Role::Admin {
        true
    } else if principal.supervisor {
        checker_conflict::Entity::find_by_id((principal.id, request.organisation_id))
            .one(&state.db)
            .await?
            .is_none()
    } else {
        false
    };
    if !readable {
        return Err(AppError::NotFound);
    }
    Ok((task, request))
}

/// One task with the subject data it needs; the read of personal data is audited.
pub async fn get(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<TaskView> {
    Ok(read(state, principal, id).await?.0)
}

async fn read(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<(TaskView, screening_request::Model)> {
    let (task, request) = find_readable(state, principal, id).await?;
    let context = context_for(state, &task, &request).await?;
    if context.is_some() {
        audit::record(
            &state.db_write,
            &principal.actor(),
            "task.personal_data_read",
            audit::target("task", task.id),
            json!({"request_id": request.id}),
        )
        .await?;
    }
    Ok((TaskView { task, context }, request))
}

/// Why the caller may not complete or release a task: what the console says instead of
/// offering the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// The task is completed or cancelled.
    Closed,
    /// Four-eyes: the caller proposed the decision under review.
    ProposedDecision,
    /// Separation of duties: the caller took part earlier or released the task.
    Excluded,
    /// Someone else holds the task, or no one yet.
    NotAssignedToYou,
    /// Assigned to the caller, who has since lost the authorisation or declared a conflict.
    NoLongerEligible,
}

/// A checker as an assignment of one task sees them.
pub struct CheckerOption {
    pub id: Uuid,
    pub name: String,
    pub open_tasks: u64,
    pub max_open_tasks: i32,
    pub verdict: routing::Verdict,
    /// They hold the task now.
    pub current: bool,
}

impl CheckerOption {
    /// What [`assign`] accepts: eligible with room, or the current assignee.
    pub fn assignable(&self) -> bool {
        self.verdict == routing::Verdict::Eligible
            || (self.current && self.verdict == routing::Verdict::AtCap)
    }
}

/// A task as the console's task page shows it: the task view (audited as the API's), the
/// request it belongs to, its timeline, and what the caller may do with it.
pub struct TaskCase {
    pub view: TaskView,
    pub request: screening_request::Model,
    pub organisation: String,
    pub events: Vec<entity::request_event::Model>,
    pub assignee_name: Option<String>,
    /// `Ok` when the caller may complete and release it.
    pub work: Result<(), Blocked>,
    /// For supervisors and admins while the task is open: every checker, and whether they
    /// may take it (with the engine's reason when not).
    pub assignment: Option<Vec<CheckerOption>>,
}

pub async fn case(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<TaskCase> {
    let (view, request) = read(state, principal, id).await?;
    let task = &view.task;
    let open = matches!(
        task.status.as_str(),
        routing::UNASSIGNED | routing::ASSIGNED
    );
    let excluded = routing::excluded(task).contains(&principal.id);
    let work = if !open {
        Err(Blocked::Closed)
    } else if task.assignee_id == Some(principal.id) {
        if routing::is_eligible(&state.db, task, request.organisation_id, principal.id).await? {
            Ok(())
        } else {
            Err(Blocked::NoLongerEligible)
        }
    } else if excluded && task.kind == TaskKind::FourEyesReview.as_str() {
        Err(Blocked::ProposedDecision)
    } else if excluded {
        Err(Blocked::Excluded)
    } else {
        Err(Blocked::NotAssignedToYou)
    };
    let assignment = if open && sees_all(principal) {
        let roster = routing::Roster::load(&state.db).await?;
        let assessed = roster
            .assess(&state.db, task, request.organisation_id)
            .await?;
        Some(
            assessed
                .into_iter()
                .map(|a| CheckerOption {
                    current: task.assignee_id == Some(a.checker_id),
                    id: a.checker_id,
                    name: a.name,
                    open_tasks: a.open_tasks,
                    max_open_tasks: a.max_open_tasks,
                    verdict: a.verdict,
                })
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let organisation = entity::organisation::Entity::find_by_id(request.organisation_id)
        .one(&state.db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let events = entity::request_event::Entity::find()
        .filter(entity::request_event::Column::RequestId.eq(request.id))
        .order_by_asc(entity::request_event::Column::Id)
        .all(&state.db)
        .await?;
    let assignee_name = match (&assignment, task.assignee_id) {
        (_, None) => None,
        (Some(options), Some(id)) => options.iter().find(|o| o.id == id).map(|o| o.name.clone()),
        (None, Some(id)) => entity::user::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .map(|u| u.name),
    };
    Ok(TaskCase {
        view,
        request,
        organisation,
        events,
        assignee_name,
        work,
        assignment,
    })
}

/// Every checker's name by id (a console shows names, not ids).
pub async fn checker_names(state: &AppState) -> AppResult<std::collections::HashMap<Uuid, String>> {
    use sea_orm::QuerySelect;
    Ok(entity::user::Entity::find()
        .select_only()
        .column(entity::user::Column::Id)
        .column(entity::user::Column::Name)
        .filter(entity::user::Column::Role.eq(Role::Checker.as_str()))
        .into_tuple::<(Uuid, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect())
}

/// What a checker needs for this kind of task, and nothing more: identity for identity and
/// record checks, previous employers for misconduct disclosure, referees for references,
/// earlier outcomes and notes for assessments and reviews.
async fn context_for(
    state: &AppState,
    task: &task::Model,
    request: &screening_request::Model,
) -> AppResult<Option<Value>> {
    let Some(sealed) = &request.subject_sealed else {
        return Ok(None); // erased by retention
    };
    let subject: Subject = state
        .data_key
        .open_json(request.id, sealed)
        .await
        .map_err(|e| anyhow::anyhow!("subject data of request {}: {e}", request.id))?;
    let name = json!({"given_names": subject.given_names, "family_name": subject.family_name});
    let kind = TaskKind::parse(&task.kind).unwrap_or(TaskKind::Check);
    let context = match (kind, task.authorisation.as_str()) {
        (TaskKind::Check, "misconduct_disclosure") => json!({
            "subject": name,
            "previous_employers": subject.previous_employers.iter().map(|e| json!({
                "organisation": e.organisation, "country": e.country, "from": e.from,
                "to": e.to, "contact_email": e.contact_email,
            })).collect::<Vec<_>>(),
        }),
        (TaskKind::Check, "reference") => json!({
            "subject": name,
            "referees": subject.referees.iter().map(|r| json!({
                "name": r.name, "email": r.email, "relationship": r.relationship,
            })).collect::<Vec<_>>(),
        }),
        (TaskKind::Check, _) => json!({
            "subject": {
                "given_names": subject.given_names, "family_name": subject.family_name,
                "date_of_birth": subject.date_of_birth, "place_of_birth": subject.place_of_birth,
                "country_of_birth": subject.country_of_birth,
                "nationalities": subject.nationalities, "bsn": subject.bsn,
            },
        }),
        _ => json!({
            "subject": name,
            "earlier_tasks": earlier_tasks(state, task).await?,
        }),
    };
    Ok(Some(context))
}

/// The request's completed tasks before this one: kind, check, outcome, notes and grounds.
async fn earlier_tasks(state: &AppState, current: &task::Model) -> AppResult<Vec<Value>> {
    let tasks = task::Entity::find()
        .filter(task::Column::RequestId.eq(current.request_id))
        .filter(task::Column::Status.eq(routing::COMPLETED))
        .filter(task::Column::Id.ne(current.id))
        .order_by_asc(task::Column::CompletedAt)
        .all(&state.db)
        .await?;
    let open = async |sealed: &Option<Vec<u8>>, id: Uuid| -> AppResult<Option<String>> {
        match sealed {
            Some(bytes) => Ok(Some(
                state
                    .data_key
                    .open_json::<String>(id, bytes)
                    .await
                    .map_err(|e| anyhow::anyhow!("notes of task {id} cannot be opened: {e}"))?,
            )),
            None => Ok(None),
        }
    };
    let mut outcomes = Vec::with_capacity(tasks.len());
    for t in &tasks {
        outcomes.push(json!({
            "kind": t.kind, "check": t.check_id, "outcome": t.outcome,
            "notes": open(&t.notes_sealed, t.id).await?,
            "grounds": open(&t.grounds_sealed, t.id).await?,
            "completed_at": t.completed_at.map(db::utc),
        }));
    }
    Ok(outcomes)
}

#[derive(Clone)]
pub struct Completion {
    pub outcome: String,
    pub notes: Option<String>,
    pub grounds: Option<String>,
}

/// The longest notes or grounds a completion takes.
pub const MAX_COMPLETION_TEXT: usize = 10_000;

impl Completion {
    /// A completion as a form or a JSON body gives it: the outcome present, notes and grounds
    /// within [`MAX_COMPLETION_TEXT`] (blank means none). Whether the outcome fits the task
    /// and a refusal has grounds is checked by [`complete`], against the task.
    pub fn parse(
        outcome: &str,
        notes: Option<&str>,
        grounds: Option<&str>,
    ) -> Result<Self, AppError> {
        let mut f = Fields::default();
        let outcome = f.check("outcome", text::required(outcome, 32));
        let mut optional = |field: &str, value: Option<&str>| match value {
            None => Some(None),
            Some(v) => f
                .check(field, text::multiline(v, MAX_COMPLETION_TEXT))
                .map(Some),
        };
        let notes = optional("notes", notes);
        let grounds = optional("grounds", grounds);
        f.finish(|| {
            Some(Completion {
                outcome: outcome?,
                notes: notes?,
                grounds: grounds?,
            })
        })
    }
}

/// Locks the task; the caller must be its assignee (else 404) and it must be open (else 409).
async fn lock_own(
    txn: &DatabaseTransaction,
    completer: Completer<'_>,
    id: Uuid,
) -> AppResult<task::Model> {
    let task = task::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|t| match completer {
            Completer::Checker(principal) => t.assignee_id == Some(principal.id),
            Completer::Sandbox => t.sandbox,
        })
        .ok_or(AppError::NotFound)?;
    match task.status.as_str() {
        routing::ASSIGNED => Ok(task),
        // The sandbox's tasks are never assigned to a person.
        routing::UNASSIGNED if matches!(completer, Completer::Sandbox) => Ok(task),
        routing::COMPLETED => Err(AppError::Conflict("the task is already completed".into())),
        other => Err(AppError::Conflict(format!("the task is {other}"))),
    }
}

/// Who completes a task: its assigned checker, or the sandbox for a sandbox request's task.
#[derive(Clone, Copy)]
enum Completer<'a> {
    Checker(&'a Principal),
    Sandbox,
}

/// The checker id the sandbox completes its tasks as (no user has it).
pub const SANDBOX_CHECKER: Uuid = Uuid::nil();

/// Completes a task exactly once and runs its request forward, all in one transaction.
pub async fn complete(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    completion: Completion,
) -> AppResult<task::Model> {
    let completer = Completer::Checker(principal);
    retry_transient(|| complete_once(state, completer, id, completion.clone())).await
}

/// Completes a sandbox request's task as the sandbox, by the same rules and in the same
/// transaction as a checker's completion (no person, so no second factor or eligibility).
pub async fn complete_in_sandbox(
    state: &AppState,
    id: Uuid,
    completion: Completion,
) -> AppResult<task::Model> {
    retry_transient(|| complete_once(state, Completer::Sandbox, id, completion.clone())).await
}

async fn complete_once(
    state: &AppState,
    completer: Completer<'_>,
    id: Uuid,
    completion: Completion,
) -> AppResult<task::Model> {
    let (checker_id, actor) = match completer {
        Completer::Checker(principal) => (principal.id, principal.actor()),
        Completer::Sandbox => (SANDBOX_CHECKER, "sandbox".to_owned()),
    };
    let txn = db::begin_write(&state.db_write).await?;
    // Locks in the order every command takes them: the request (found through its task, in
    // one statement), then the task.
    let request_of_task = Query::select()
        .column(task::Column::RequestId)
        .from(task::Entity)
        .and_where(task::Column::Id.eq(id))
        .to_owned();
    let request = screening_request::Entity::find()
        .filter(screening_request::Column::Id.in_subquery(request_of_task))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let task = lock_own(&txn, completer, id).await?;
    let kind = TaskKind::parse(&task.kind)
        .ok_or_else(|| anyhow::anyhow!("task {id} has an unknown kind"))?;
    if !kind.outcomes().contains(&completion.outcome.as_str()) {
        return Err(AppError::validation(
            "outcome",
            format!(
                "a {} task ends with one of: {}",
                kind.as_str(),
                kind.outcomes().join(", ")
            ),
        ));
    }
    if completion.outcome == "refuse" && completion.grounds.is_none() {
        return Err(AppError::validation(
            "grounds",
            "a refusal needs its grounds",
        ));
    }
    if let Completer::Checker(principal) = completer {
        // A refusal (or upholding one) is confirmed with a fresh second factor.
        if matches!(completion.outcome.as_str(), "refuse" | "uphold") {
            super::factors::require_recent_factor(state, principal)?;
        }
        // Eligibility again, all but the cap: a conflict or a lost authorisation since the
        // task was assigned means this checker may not decide it.
        if !routing::is_eligible(&txn, &task, request.organisation_id, principal.id).await? {
            return Err(AppError::Conflict(
                "you are no longer eligible for this task".into(),
            ));
        }
    }
    let now = db::now();
    let seal = |text: &Option<String>| text.as_ref().map(|t| state.data_key.seal_json(id, t));
    let (notes_sealed, grounds_sealed) = (seal(&completion.notes), seal(&completion.grounds));
    let completed = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(routing::COMPLETED))
        .col_expr(
            task::Column::Outcome,
            Expr::value(completion.outcome.clone()),
        )
        .col_expr(task::Column::NotesSealed, Expr::value(notes_sealed.clone()))
        .col_expr(
            task::Column::GroundsSealed,
            Expr::value(grounds_sealed.clone()),
        )
        .col_expr(task::Column::CompletedAt, Expr::value(now))
        .col_expr(task::Column::CompletedBy, Expr::value(checker_id))
        .col_expr(task::Column::Version, Expr::value(task.version + 1))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Version.eq(task.version))
        .exec(&txn)
        .await?;
    if completed.rows_affected != 1 {
        return Err(AppError::Conflict("the task changed meanwhile".into()));
    }
    audit::record(
        &txn,
        &actor,
        "task.completed",
        audit::target("task", id),
        json!({"request_id": request.id, "kind": kind.as_str(), "outcome": completion.outcome}),
    )
    .await?;
    // The version guard held: the row is the one read plus exactly the columns set above.
    let task = task::Model {
        status: routing::COMPLETED.to_owned(),
        outcome: Some(completion.outcome.clone()),
        notes_sealed,
        grounds_sealed,
        completed_at: Some(now),
        completed_by: Some(checker_id),
        version: task.version + 1,
        ..task
    };
    let definition = state
        .engine
        .definitions
        .get(&txn, &request.workflow_key, request.workflow_version)
        .await?;
    let done = Completed {
        task: &task,
        kind,
        outcome: &completion.outcome,
        checker_id,
    };
    engine_tasks::on_completed(&state.engine, &txn, request, &definition, done).await?;
    // The freed slot may take a waiting task.
    engine_tasks::assign_waiting(&state.engine, &txn).await?;
    txn.commit().await?;
    state.wake_workers.notify_one();
    Ok(task)
}

/// Hands a task back: it goes to someone else, never to the checker who released it.
pub async fn release(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<task::Model> {
    retry_transient(|| release_once(state, principal, id)).await
}

async fn release_once(state: &AppState, principal: &Principal, id: Uuid) -> AppResult<task::Model> {
    let txn = db::begin_write(&state.db_write).await?;
    let task = lock_own(&txn, Completer::Checker(principal), id).await?;
    if !routing::unassign(&txn, &task, Some(principal.id), false).await? {
        return Err(AppError::Conflict("the task changed meanwhile".into()));
    }
    audit::record(
        &txn,
        &principal.actor(),
        "task.released",
        audit::target("task", id),
        json!({"request_id": task.request_id}),
    )
    .await?;
    engine_tasks::assign_waiting(&state.engine, &txn).await?;
    let task = reload(&txn, id).await?;
    txn.commit().await?;
    Ok(task)
}

/// A supervisor or admin gives an open task to an eligible checker (422 for anyone else).
pub async fn assign(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    checker_id: Uuid,
) -> AppResult<task::Model> {
    retry_transient(|| assign_once(state, principal, id, checker_id)).await
}

async fn assign_once(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    checker_id: Uuid,
) -> AppResult<task::Model> {
    let txn = db::begin_write(&state.db_write).await?;
    let task = task::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let request = screening_request::Entity::find_by_id(task.request_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !sees_all(principal)
        || (principal.role != Role::Admin
            && checker_conflict::Entity::find_by_id((principal.id, request.organisation_id))
                .one(&txn)
                .await?
                .is_some())
    {
        return Err(AppError::NotFound);
    }
    if !matches!(
        task.status.as_str(),
        routing::UNASSIGNED | routing::ASSIGNED
    ) {
        return Err(AppError::Conflict(format!("the task is {}", task.status)));
    }
    let candidates = routing::candidates(&txn, &task, request.organisation_id).await?;
    let eligible = candidates
        .iter()
        .find(|c| c.id == checker_id)
        .filter(|c| c.has_room() || task.assignee_id == Some(c.id));
    if eligible.is_none() {
        return Err(AppError::validation(
            "checker_id",
            "this checker is not eligible for the task (inactive, unauthorised, in conflict, \
             excluded by separation of duties, or at their cap)",
        ));
    }
    let moved = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(routing::ASSIGNED))
        .col_expr(task::Column::AssigneeId, Expr::value(checker_id))
        .col_expr(task::Column::AssignedAt, Expr::value(db::now()))
        .col_expr(task::Column::Version, Expr::value(task.version + 1))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Version.eq(task.version))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict("the task changed meanwhile".into()));
    }
    audit::record(
        &txn,
        &principal.actor(),
        "task.assigned",
        audit::target("task", id),
        json!({"request_id": request.id, "checker_id": checker_id, "from": task.assignee_id}),
    )
    .await?;
    let task = reload(&txn, id).await?;
    txn.commit().await?;
    Ok(task)
}

async fn reload(txn: &DatabaseTransaction, id: Uuid) -> AppResult<task::Model> {
    task::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound)
}

/// After a change to a checker: open tasks they are no longer eligible for go back to routing,
/// and waiting tasks they (or anyone) can now take are assigned. Runs in the change's
/// transaction, which then commits as a principal change.
pub async fn reroute_after_checker_change(
    state: &AppState,
    txn: &DatabaseTransaction,
    checker_id: Uuid,
) -> AppResult<()> {
    let open = task::Entity::find()
        .filter(task::Column::AssigneeId.eq(checker_id))
        .filter(task::Column::Status.eq(routing::ASSIGNED))
        .all(txn)
        .await?;
    for task in open {
        let request = screening_request::Entity::find_by_id(task.request_id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound)?;
        if !routing::is_eligible(txn, &task, request.organisation_id, checker_id).await? {
            routing::unassign(txn, &task, None, false).await?;
            audit::record(
                txn,
                audit::ACTOR_SYSTEM,
                "task.rerouted",
                audit::target("task", task.id),
                json!({"request_id": task.request_id, "from": checker_id}),
            )
            .await?;
        }
    }
    engine_tasks::assign_waiting(&state.engine, txn).await?;
    Ok(())
}

/// For `/metrics`: open tasks by kind, overdue open tasks, and undecided requests past their
/// decision deadline.
pub async fn gauges(state: &AppState) -> AppResult<(Vec<(String, u64)>, u64, u64)> {
    use sea_orm::PaginatorTrait;
    let open_statuses = [routing::UNASSIGNED, routing::ASSIGNED];
    let mut open = Vec::new();
    for kind in TaskKind::ALL {
        let count = task::Entity::find()
            .filter(task::Column::Sandbox.eq(false))
            .filter(task::Column::Kind.eq(kind.as_str()))
            .filter(task::Column::Status.is_in(open_statuses))
            .count(&state.db)
            .await?;
        open.push((kind.as_str().to_owned(), count));
    }
    let overdue = task::Entity::find()
        .filter(task::Column::Sandbox.eq(false))
        .filter(task::Column::Status.is_in(open_statuses))
        .filter(task::Column::DueAt.lt(db::now()))
        .count(&state.db)
        .await?;
    let missed = super::supervision::missed_deadlines()
        .count(&state.db)
        .await?;
    Ok((open, overdue, missed))
}
