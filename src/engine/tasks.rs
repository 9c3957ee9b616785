//! Tasks on the command path: the checks started at consent, a completed check moving the
//! request on (the next checks, auto-clear or assessment), and opening, routing and
//! cancelling tasks. Every function runs inside the caller's transaction.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use serde_json::json;
use uuid::Uuid;

pub use super::transition::TaskKind;
use super::{
    Engine,
    checks::{self, AfterChecks, CheckOutcome, CheckState, CheckStates, Facts, Progress},
    clearance, commands,
    definition::{Definition, RoutingStrategy},
    routing,
    transition::{self, Step},
};
use crate::{
    audit, db,
    domain::{Authorisation, CountryCode, IsoDuration, PositionRole, RequestStatus},
    error::{AppError, AppResult},
    mail::{
        self,
        subject::{Arg, SubjectMail},
    },
    outbox,
};
use entity::{decision, screening_request, task, timer};

pub const TIMER_TASK_DUE: &str = "task_due";
pub const TIMER_DECISION_DEADLINE: &str = "decision_deadline";

fn check_outcome(text: &str) -> Option<CheckOutcome> {
    match text {
        "no_concerns" => Some(CheckOutcome::NoConcerns),
        "concerns" => Some(CheckOutcome::Concerns),
        "unable_to_verify" => Some(CheckOutcome::UnableToVerify),
        _ => None,
    }
}

/// What the definition's `when` conditions see of a request.
pub fn facts(request: &screening_request::Model) -> AppResult<Facts<'_>> {
    Ok(Facts {
        role: PositionRole::parse(&request.role)
            .ok_or_else(|| anyhow::anyhow!("request {} has an unknown role", request.id))?,
        deployment_country: CountryCode::parse(&request.deployment_country)
            .map_err(|e| anyhow::anyhow!("request {}: {e}", request.id))?,
        profile: &request.profile_code,
    })
}

/// Where each check stands, from the request's check tasks.
pub async fn check_states(
    conn: &impl ConnectionTrait,
    request: &screening_request::Model,
    definition: &Definition,
) -> AppResult<CheckStates> {
    if request.consented_at.is_none() {
        // No task exists before the subject consents.
        return check_states_of(request, definition, &[]);
    }
    let tasks = task::Entity::find()
        .filter(task::Column::RequestId.eq(request.id))
        .filter(task::Column::Kind.eq(TaskKind::Check.as_str()))
        .filter(task::Column::Status.ne(routing::CANCELLED))
        .all(conn)
        .await?;
    check_states_of(request, definition, &tasks)
}

/// Where each check stands, from the request's tasks (any kinds; cancelled ones are ignored).
pub fn check_states_of(
    request: &screening_request::Model,
    definition: &Definition,
    tasks: &[task::Model],
) -> AppResult<CheckStates> {
    let mut states = checks::initial_states(definition, &facts(request)?);
    let check_tasks = tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Check.as_str() && t.status != routing::CANCELLED);
    for task in check_tasks {
        let Some(check_id) = task.check_id.clone() else {
            continue;
        };
        let state = match task.outcome.as_deref().and_then(check_outcome) {
            Some(outcome) => CheckState::Done(outcome),
            None => CheckState::Running,
        };
        states.insert(check_id, state);
    }
    Ok(states)
}

/// A new task to open.
pub struct NewTask<'a> {
    pub kind: TaskKind,
    pub check_id: Option<&'a str>,
    pub authorisation: Authorisation,
    pub sla: &'a IsoDuration,
    /// Checkers who may never do it (separation of duties).
    pub excluded: Vec<Uuid>,
    /// Who should get it if eligible (a final review goes back to the assessor).
    pub prefer: Option<Uuid>,
}

/// Opens a task with its SLA timer and routes it; it stays unassigned while nobody is
/// eligible.
pub async fn open(
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    routing_strategy: RoutingStrategy,
    new: NewTask<'_>,
) -> AppResult<task::Model> {
    let now = db::now();
    let id = db::new_id();
    let due_at = now + new.sla.as_time();
    let row = task::ActiveModel {
        id: Set(id),
        request_id: Set(request.id),
        kind: Set(new.kind.as_str().to_owned()),
        check_id: Set(new.check_id.map(str::to_owned)),
        authorisation: Set(new.authorisation.as_str().to_owned()),
        status: Set(routing::UNASSIGNED.to_owned()),
        assignee_id: Set(None),
        excluded: Set(json!(new.excluded)),
        due_at: Set(due_at),
        overdue: Set(false),
        outcome: Set(None),
        notes_sealed: Set(None),
        grounds_sealed: Set(None),
        version: Set(1),
        created_at: Set(now),
        assigned_at: Set(None),
        completed_at: Set(None),
        completed_by: Set(None),
        sandbox: Set(request.sandbox),
    };
    let task = row.insert(txn).await?;
    add_timer(txn, request, TIMER_TASK_DUE, due_at, json!({"task_id": id})).await?;
    audit::record(
        txn,
        audit::ACTOR_SYSTEM,
        "task.opened",
        audit::target("task", id),
        json!({"request_id": request.id, "kind": new.kind.as_str(), "check": new.check_id}),
    )
    .await?;
    routing::route(
        txn,
        &task,
        request.organisation_id,
        routing_strategy,
        new.prefer,
    )
    .await?;
    Ok(task)
}

/// At consent: the request's decision deadline and its timer, and the first checks.
pub async fn start(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: screening_request::Model,
    definition: &Definition,
) -> AppResult<screening_request::Model> {
    let deadline = db::now() + definition.decision_deadline.as_time();
    let mut row: screening_request::ActiveModel = request.into();
    row.decision_deadline_at = Set(Some(deadline));
    let request = row.update(txn).await?;
    add_timer(txn, &request, TIMER_DECISION_DEADLINE, deadline, json!({})).await?;
    advance_checks(engine, txn, request, definition).await
}

/// Starts every check that can start now; once all are finished, auto-clears the request or
/// opens its assessment.
pub async fn advance_checks(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: screening_request::Model,
    definition: &Definition,
) -> AppResult<screening_request::Model> {
    let states = check_states(txn, &request, definition).await?;
    match checks::progress(definition, &states) {
        Progress::Start(ids) => {
            for id in ids {
                let check = definition
                    .checks
                    .iter()
                    .find(|c| c.id == id)
                    .ok_or_else(|| anyhow::anyhow!("check {id} is not in the definition"))?;
                open(
                    txn,
                    &request,
                    definition.routing,
                    NewTask {
                        kind: TaskKind::Check,
                        check_id: Some(&check.id),
                        authorisation: check.authorisation,
                        sla: &check.sla,
                        excluded: Vec::new(),
                        prefer: None,
                    },
                )
                .await?;
            }
            Ok(request)
        }
        Progress::Finished => match checks::after_checks(definition, &states) {
            AfterChecks::Cleared => decide(engine, txn, &request, Decision::Cleared, None).await,
            AfterChecks::Assessment => {
                let request = commands::move_to(
                    txn,
                    &request,
                    RequestStatus::Assessment,
                    "assessment",
                    audit::ACTOR_SYSTEM,
                    None,
                )
                .await?;
                open(
                    txn,
                    &request,
                    definition.routing,
                    NewTask {
                        kind: TaskKind::Assessment,
                        check_id: None,
                        authorisation: definition.assessment.authorisation,
                        sla: &definition.assessment.sla,
                        excluded: Vec::new(),
                        prefer: None,
                    },
                )
                .await?;
                Ok(request)
            }
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Cleared,
    Refused,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Cleared => "cleared",
            Decision::Refused => "refused",
        }
    }
}

/// Records the decision: the request's status, the decision row (grounds sealed), the
/// timeline, the audit event and the `screening_request.decided` webhook.
pub async fn decide(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    decision: Decision,
    grounds: Option<String>,
) -> AppResult<screening_request::Model> {
    let to = match decision {
        Decision::Cleared => RequestStatus::Cleared,
        Decision::Refused => RequestStatus::Refused,
    };
    let request = commands::move_to(txn, request, to, "decided", audit::ACTOR_SYSTEM, None).await?;
    decision::Entity::insert(decision::ActiveModel {
        request_id: Set(request.id),
        outcome: Set(decision.as_str().to_owned()),
        decided_at: Set(request.updated_at),
        grounds_sealed: Set(grounds.map(|g| engine.data_key.seal_json(request.id, &g))),
        revised: Set(false),
    })
    .exec_without_returning(txn)
    .await?;
    let certificate = match decision {
        Decision::Cleared => Some(
            clearance::issue(engine, txn, &request, request.updated_at)
                .await?
                .id,
        ),
        Decision::Refused => None,
    };
    outbox::webhooks::enqueue_decided(txn, &request, decision.as_str(), false, certificate).await?;
    notify_subject(engine, txn, &request, SubjectNotice::Decided).await?;
    Ok(request)
}

/// Cancels every open task of a request (withdrawal).
pub async fn cancel_open(txn: &impl ConnectionTrait, request_id: Uuid) -> Result<u64, AppError> {
    let cancelled = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(routing::CANCELLED))
        .col_expr(
            task::Column::Version,
            Expr::col(task::Column::Version).add(1),
        )
        .filter(task::Column::RequestId.eq(request_id))
        .filter(task::Column::Status.is_in([routing::UNASSIGNED, routing::ASSIGNED]))
        .exec(txn)
        .await?;
    Ok(cancelled.rows_affected)
}

/// Routes every unassigned task that someone can now take, oldest first (after a new
/// checker, a freed cap or a changed authorisation). Returns how many were assigned.
pub async fn assign_waiting(engine: &Engine, txn: &DatabaseTransaction) -> AppResult<u64> {
    // Tasks another transaction holds are left to it (PostgreSQL skips locked rows).
    let waiting = task::Entity::find()
        .filter(task::Column::Status.eq(routing::UNASSIGNED))
        .filter(task::Column::Sandbox.eq(false))
        .order_by_asc(task::Column::Id)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(txn)
        .await?;
    let mut assigned = 0;
    for task in waiting {
        let Some(request) = screening_request::Entity::find_by_id(task.request_id)
            .one(txn)
            .await?
        else {
            continue;
        };
        let definition = engine
            .definitions
            .get(txn, &request.workflow_key, request.workflow_version)
            .await?;
        if routing::route(
            txn,
            &task,
            request.organisation_id,
            definition.routing,
            None,
        )
        .await?
        .is_some()
        {
            assigned += 1;
        }
    }
    Ok(assigned)
}

/// A completed task, as the engine needs it to move on.
pub struct Completed<'a> {
    pub task: &'a task::Model,
    pub kind: TaskKind,
    pub outcome: &'a str,
    pub checker_id: Uuid,
}

/// Runs the request forward after a task was completed: the next checks, or the next step of
/// the decision (four-eyes, supervisor review, intention to refuse, decision, objection).
pub async fn on_completed(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: screening_request::Model,
    definition: &Definition,
    done: Completed<'_>,
) -> AppResult<screening_request::Model> {
    if done.kind == TaskKind::Check {
        return advance_checks(engine, txn, request, definition).await;
    }
    let proposal_clears = if done.kind == TaskKind::FourEyesReview {
        latest(txn, request.id, TaskKind::Assessment)
            .await?
            .outcome
            .as_deref()
            == Some("clear")
    } else {
        false
    };
    let step = transition::after_task(
        done.kind,
        done.outcome,
        definition.four_eyes,
        proposal_clears,
    )
    .ok_or_else(|| anyhow::anyhow!("no step after {} {}", done.kind.as_str(), done.outcome))?;
    let stage = |kind, authorisation, sla, excluded| NewTask {
        kind,
        check_id: None,
        authorisation,
        sla,
        excluded,
        prefer: None,
    };
    match step {
        Step::OpenFourEyesReview => {
            let review = stage(
                TaskKind::FourEyesReview,
                definition.assessment.authorisation,
                &definition.assessment.sla,
                vec![done.checker_id],
            );
            open(txn, &request, definition.routing, review).await?;
            Ok(request)
        }
        Step::OpenSupervisorReview => {
            let assessment = latest(txn, request.id, TaskKind::Assessment).await?;
            let review = stage(
                TaskKind::SupervisorReview,
                definition.assessment.authorisation,
                &definition.assessment.sla,
                assessment
                    .completed_by
                    .into_iter()
                    .chain([done.checker_id])
                    .collect(),
            );
            open(txn, &request, definition.routing, review).await?;
            Ok(request)
        }
        Step::Clear => decide(engine, txn, &request, Decision::Cleared, None).await,
        Step::IntendToRefuse => intend_to_refuse(engine, txn, request, definition).await,
        Step::Refuse => {
            let grounds = match &done.task.grounds_sealed {
                Some(sealed) => Some(
                    engine
                        .data_key
                        .open_json::<String>(done.task.id, sealed)
                        .await
                        .map_err(|e| anyhow::anyhow!("grounds of task {}: {e}", done.task.id))?,
                ),
                None => None,
            };
            let request = decide(engine, txn, &request, Decision::Refused, grounds).await?;
            add_timer(
                txn,
                &request,
                TIMER_OBJECTION_WINDOW,
                db::now() + definition.objection_window.as_time(),
                json!({}),
            )
            .await?;
            Ok(request)
        }
        Step::Overturn => {
            let request = commands::move_to(
                txn,
                &request,
                RequestStatus::Cleared,
                "decided",
                audit::ACTOR_SYSTEM,
                None,
            )
            .await?;
            decision::Entity::update_many()
                .col_expr(
                    decision::Column::Outcome,
                    Expr::value(Decision::Cleared.as_str()),
                )
                .col_expr(decision::Column::DecidedAt, Expr::value(request.updated_at))
                .col_expr(decision::Column::Revised, Expr::value(true))
                .filter(decision::Column::RequestId.eq(request.id))
                .exec(txn)
                .await?;
            let certificate = clearance::issue(engine, txn, &request, request.updated_at).await?;
            outbox::webhooks::enqueue_decided(
                txn,
                &request,
                Decision::Cleared.as_str(),
                true,
                Some(certificate.id),
            )
            .await?;
            notify_subject(engine, txn, &request, SubjectNotice::Decided).await?;
            Ok(request)
        }
        Step::Uphold => {
            // The refusal stands.
            let request = commands::move_to(
                txn,
                &request,
                RequestStatus::Refused,
                "objection_upheld",
                audit::ACTOR_SYSTEM,
                None,
            )
            .await?;
            notify_subject(engine, txn, &request, SubjectNotice::Decided).await?;
            Ok(request)
        }
    }
}

pub const TIMER_RESPONSE_WINDOW: &str = "response_window";
pub const TIMER_OBJECTION_WINDOW: &str = "objection_window";

/// A timer for the request, in the caller's transaction.
pub async fn add_timer(
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    kind: &str,
    due_at: time::PrimitiveDateTime,
    payload: serde_json::Value,
) -> AppResult<()> {
    timer::Entity::insert(super::timers::timer_row(request.id, kind, due_at, payload))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The request's most recent completed task of a kind.
pub async fn latest(
    conn: &impl ConnectionTrait,
    request_id: Uuid,
    kind: TaskKind,
) -> AppResult<task::Model> {
    task::Entity::find()
        .filter(task::Column::RequestId.eq(request_id))
        .filter(task::Column::Kind.eq(kind.as_str()))
        .filter(task::Column::Status.eq(routing::COMPLETED))
        .order_by_desc(task::Column::CompletedAt)
        .one(conn)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("request {request_id} has no completed {}", kind.as_str()).into()
        })
}

/// The proposal to refuse stands: the subject is told the grounds and may respond within the
/// response window, after which a final review decides.
async fn intend_to_refuse(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: screening_request::Model,
    definition: &Definition,
) -> AppResult<screening_request::Model> {
    let request = commands::move_to(
        txn,
        &request,
        RequestStatus::IntentToRefuse,
        "intent_to_refuse",
        audit::ACTOR_SYSTEM,
        None,
    )
    .await?;
    add_timer(
        txn,
        &request,
        TIMER_RESPONSE_WINDOW,
        db::now() + definition.response_window.as_time(),
        json!({}),
    )
    .await?;
    notify_subject(engine, txn, &request, SubjectNotice::IntentToRefuse).await?;
    Ok(request)
}

/// The response window closed, or the subject responded: a final review decides, preferably
/// by the checker who proposed the refusal.
pub async fn start_final_review(
    txn: &DatabaseTransaction,
    request: screening_request::Model,
    definition: &Definition,
    actor: &str,
) -> AppResult<screening_request::Model> {
    let request = commands::move_to(
        txn,
        &request,
        RequestStatus::FinalReview,
        "final_review",
        actor,
        None,
    )
    .await?;
    let proposer = refusal_proposer(txn, request.id).await?;
    let review = NewTask {
        kind: TaskKind::FinalReview,
        check_id: None,
        authorisation: definition.final_review.authorisation,
        sla: &definition.final_review.sla,
        excluded: Vec::new(),
        prefer: proposer,
    };
    open(txn, &request, definition.routing, review).await?;
    Ok(request)
}

/// Who proposed the refusal: the last assessment or supervisor review that said `refuse`.
async fn refusal_proposer(txn: &DatabaseTransaction, request_id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(task::Entity::find()
        .filter(task::Column::RequestId.eq(request_id))
        .filter(task::Column::Kind.is_in([
            TaskKind::Assessment.as_str(),
            TaskKind::SupervisorReview.as_str(),
        ]))
        .filter(task::Column::Outcome.eq("refuse"))
        .order_by_desc(task::Column::CompletedAt)
        .one(txn)
        .await?
        .and_then(|t| t.completed_by))
}

/// The subject objected to a refusal: a checker with no earlier task on the request reviews.
pub async fn start_objection_review(
    txn: &DatabaseTransaction,
    request: screening_request::Model,
    definition: &Definition,
    actor: &str,
) -> AppResult<screening_request::Model> {
    let request = commands::move_to(
        txn,
        &request,
        RequestStatus::ObjectionReview,
        "objection",
        actor,
        None,
    )
    .await?;
    let earlier: Vec<Uuid> = task::Entity::find()
        .filter(task::Column::RequestId.eq(request.id))
        .all(txn)
        .await?
        .into_iter()
        .flat_map(|t| {
            t.assignee_id
                .into_iter()
                .chain(t.completed_by)
                .chain(routing::excluded(&t))
        })
        .collect();
    let review = NewTask {
        kind: TaskKind::ObjectionReview,
        check_id: None,
        authorisation: definition.objection_review.authorisation,
        sla: &definition.objection_review.sla,
        excluded: earlier,
        prefer: None,
    };
    open(txn, &request, definition.routing, review).await?;
    Ok(request)
}

enum SubjectNotice {
    IntentToRefuse,
    Decided,
}

/// E-mails the subject a link to their page, where the grounds and what they can do are shown
/// (the e-mail itself carries no grounds).
async fn notify_subject(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    notice: SubjectNotice,
) -> AppResult<()> {
    let (kind, mail_kind) = match notice {
        SubjectNotice::IntentToRefuse => ("intent_to_refuse", "intent-to-refuse"),
        SubjectNotice::Decided => ("decision", "decision"),
    };
    mail_subject(engine, txn, request, kind, mail_kind, None, Vec::new()).await
}

/// A reminder to a subject who has not answered: their link again (the organisation never
/// held it), and the date the request lapses.
pub async fn remind_subject(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
) -> AppResult<()> {
    // Requests from before the token was kept sealed are reminded without the link.
    let token = engine
        .data_key
        .open_opt(request.id, request.invitation_token_sealed.as_deref())
        .await
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let link = token.map(|token| format!("{}/s/{token}", engine.issuer));
    let organisation = entity::organisation::Entity::find_by_id(request.organisation_id)
        .one(txn)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let args = vec![
        ("organisation", Arg::from(organisation)),
        ("position", Arg::from(request.position_title.as_str())),
        ("date", Arg::Date(request.invitation_expires_at.date())),
    ];
    mail_subject(
        engine,
        txn,
        request,
        "consent_reminder",
        "reminder",
        link.as_deref(),
        args,
    )
    .await
}

/// Queues one of the subject's e-mails ([`crate::mail::subject::KINDS`]) to the address held,
/// in the caller's transaction; `outbox_kind` names it in the outbox.
pub async fn mail_subject(
    engine: &Engine,
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    outbox_kind: &str,
    mail_kind: &'static str,
    link: Option<&str>,
    args: Vec<(&'static str, Arg)>,
) -> AppResult<()> {
    let Some(sealed) = &request.subject_sealed else {
        return Ok(());
    };
    let subject: crate::domain::subject::Subject = engine
        .data_key
        .open_json(request.id, sealed)
        .await
        .map_err(|e| anyhow::anyhow!("subject data of request {}: {e}", request.id))?;
    let mail = SubjectMail {
        kind: mail_kind,
        subject: &subject,
        operator: &engine.operator,
        link,
        args,
    };
    mail::enqueue(
        txn,
        &engine.data_key,
        Some(request.id),
        outbox_kind,
        &mail.compose(),
    )
    .await?;
    Ok(())
}

/// A task's SLA passed while it was open: it is flagged overdue (supervisors see it), the
/// timeline records it, and with `escalation.on_overdue: reassign` it moves to another
/// eligible checker.
pub async fn mark_overdue(
    txn: &DatabaseTransaction,
    request: &screening_request::Model,
    task_id: Uuid,
    definition: &Definition,
) -> AppResult<()> {
    let Some(task) = task::Entity::find_by_id(task_id)
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|t| matches!(t.status.as_str(), routing::UNASSIGNED | routing::ASSIGNED))
    else {
        return Ok(()); // done or cancelled in time
    };
    let reassign = definition.on_overdue == super::definition::OnOverdue::Reassign
        && task.status == routing::ASSIGNED;
    if reassign {
        // Away from the checker who let it run over; they do not get it back.
        routing::unassign(txn, &task, task.assignee_id, true).await?;
    } else {
        task::Entity::update_many()
            .col_expr(task::Column::Overdue, Expr::value(true))
            .col_expr(task::Column::Version, Expr::value(task.version + 1))
            .filter(task::Column::Id.eq(task.id))
            .filter(task::Column::Version.eq(task.version))
            .exec(txn)
            .await?;
    }
    let status = commands::status_of(request)?;
    commands::record_event(txn, request.id, "task_overdue", status, db::now()).await?;
    audit::record(
        txn,
        audit::ACTOR_SYSTEM,
        "task.overdue",
        audit::target("task", task.id),
        json!({"request_id": request.id, "reassigned": reassign, "from": task.assignee_id}),
    )
    .await?;
    if reassign {
        let task = task::Entity::find_by_id(task.id)
            .one(txn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("task {} vanished", task.id))?;
        routing::route(
            txn,
            &task,
            request.organisation_id,
            definition.routing,
            None,
        )
        .await?;
    }
    Ok(())
}
