//! Durable timers: a worker fires each due timer once, in its own transaction that marks it
//! fired and applies its event. A timer whose event no longer applies (the subject consented
//! first) is marked fired and changes nothing.
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType},
};

use serde_json::json;

use super::{Engine, clearance, commands, tasks, transition::Event};
use crate::{audit, db, domain::RequestStatus, error::AppError};
use entity::{screening_request, timer};

/// An invitation unanswered in time: the request lapses.
pub const TIMER_CONSENT_LAPSE: &str = "consent_lapse";

/// A timer row for a request, due at `due_at` (the insert is the caller's, alone or batched).
pub fn timer_row(
    request_id: uuid::Uuid,
    kind: &str,
    due_at: time::PrimitiveDateTime,
    payload: serde_json::Value,
) -> timer::ActiveModel {
    timer::ActiveModel {
        id: sea_orm::Set(db::new_id()),
        request_id: sea_orm::Set(Some(request_id)),
        kind: sea_orm::Set(kind.to_owned()),
        due_at: sea_orm::Set(due_at),
        fired_at: sea_orm::Set(None),
        payload: sea_orm::Set(payload),
        created_at: sea_orm::Set(db::now()),
    }
}

/// A reminder to a subject who has not answered the invitation (`SAFESCREEN_CONSENT_REMINDERS`).
pub const TIMER_CONSENT_REMINDER: &str = "consent_reminder";

/// Ends the request's timers that have not fired (the request ended before they were due):
/// they are marked fired without applying anything.
pub async fn cancel_pending(
    txn: &impl sea_orm::ConnectionTrait,
    request_id: uuid::Uuid,
) -> Result<u64, sea_orm::DbErr> {
    let cancelled = timer::Entity::update_many()
        .col_expr(timer::Column::FiredAt, Expr::value(db::now()))
        .filter(timer::Column::RequestId.eq(request_id))
        .filter(timer::Column::FiredAt.is_null())
        .exec(txn)
        .await?;
    Ok(cancelled.rows_affected)
}

/// Fires every due timer; returns how many fired.
pub async fn fire_due(
    engine: &Engine,
    db_write: &sea_orm::DatabaseConnection,
) -> Result<usize, AppError> {
    let mut fired = 0;
    loop {
        let txn = db::begin_write(db_write).await?;
        // PostgreSQL: workers in other processes skip the rows this one holds.
        let Some(due) = timer::Entity::find()
            .filter(timer::Column::FiredAt.is_null())
            .filter(timer::Column::DueAt.lte(db::now()))
            .order_by_asc(timer::Column::DueAt)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .one(&txn)
            .await?
        else {
            txn.rollback().await?;
            return Ok(fired);
        };
        let claimed = timer::Entity::update_many()
            .col_expr(timer::Column::FiredAt, Expr::value(db::now()))
            .filter(timer::Column::Id.eq(due.id))
            .filter(timer::Column::FiredAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            apply(engine, &txn, &due).await?;
            fired += 1;
        }
        txn.commit().await?;
    }
}

async fn apply(
    engine: &Engine,
    txn: &sea_orm::DatabaseTransaction,
    due: &timer::Model,
) -> Result<(), AppError> {
    let Some(request_id) = due.request_id else {
        return Ok(());
    };
    let Some(request) = screening_request::Entity::find_by_id(request_id)
        .lock_exclusive()
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let status = commands::status_of(&request)?;
    match due.kind.as_str() {
        TIMER_CONSENT_LAPSE => {
            if status == RequestStatus::AwaitingConsent {
                commands::apply(txn, &request, Event::ConsentLapsed, audit::ACTOR_SYSTEM).await?;
            }
        }
        // Claimed once (the fired mark above), so sent once however many workers race; an
        // answer or a withdrawal before it makes it a no-op.
        TIMER_CONSENT_REMINDER => {
            if status == RequestStatus::AwaitingConsent {
                tasks::remind_subject(engine, txn, &request).await?;
            }
        }
        tasks::TIMER_RESPONSE_WINDOW => {
            if status == RequestStatus::IntentToRefuse {
                let definition = definition_of(engine, txn, &request).await?;
                tasks::start_final_review(txn, request, &definition, audit::ACTOR_SYSTEM).await?;
            }
        }
        tasks::TIMER_OBJECTION_WINDOW => {
            if status == RequestStatus::Refused {
                commands::record_event(
                    txn,
                    request.id,
                    "objection_window_closed",
                    status,
                    db::now(),
                )
                .await?;
            }
        }
        tasks::TIMER_DECISION_DEADLINE => {
            if !status.is_decided() && !status.is_ended_undecided() {
                commands::record_event(
                    txn,
                    request.id,
                    "decision_deadline_missed",
                    status,
                    db::now(),
                )
                .await?;
                audit::record(
                    txn,
                    audit::ACTOR_SYSTEM,
                    "screening_request.decision_deadline_missed",
                    audit::target("screening_request", request.id),
                    json!({"status": status.as_str()}),
                )
                .await?;
            }
        }
        tasks::TIMER_TASK_DUE => {
            let task_id = due
                .payload
                .get("task_id")
                .and_then(|id| id.as_str())
                .and_then(|id| id.parse::<uuid::Uuid>().ok());
            if let Some(task_id) = task_id {
                let definition = definition_of(engine, txn, &request).await?;
                tasks::mark_overdue(txn, &request, task_id, &definition).await?;
            }
        }
        clearance::TIMER_CLEARANCE_EXPIRING => {
            clearance::warn_expiring(txn, &due.payload).await?;
        }
        other => tracing::warn!(kind = other, timer = %due.id, "unknown timer kind; ignored"),
    }
    Ok(())
}

async fn definition_of(
    engine: &Engine,
    conn: &sea_orm::DatabaseTransaction,
    request: &screening_request::Model,
) -> Result<std::sync::Arc<super::definition::Definition>, AppError> {
    engine
        .definitions
        .get(conn, &request.workflow_key, request.workflow_version)
        .await
}
