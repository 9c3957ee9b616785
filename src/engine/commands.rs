//! The command path: one event moves one request in one transaction, guarded by the request's
//! version, together with its timeline entry, audit event and webhook outbox rows.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use super::transition::{self, Event};
use crate::{
    audit, db,
    domain::{DeclineReason, RequestStatus},
    error::AppError,
    outbox,
};
use entity::{request_event, screening_request};

/// Applies `event` to `request` (as read in this transaction); answers 409 when the event does
/// not apply to its status or another writer moved it first.
pub async fn apply(
    txn: &impl ConnectionTrait,
    request: &screening_request::Model,
    event: Event,
    actor: &str,
) -> Result<screening_request::Model, AppError> {
    let from = status_of(request)?;
    let to = transition::next(from, event).map_err(|e| AppError::Conflict(conflict_message(e)))?;
    move_to(txn, request, to, event.kind(), actor, Some(event.webhook())).await
}

/// The subject declines (`Declined`, before consenting) or withdraws consent
/// (`ConsentWithdrawn`, after): the request ends `declined`, its reason's category on the row
/// and in the organisation's webhook.
pub async fn decline(
    txn: &impl ConnectionTrait,
    request: &screening_request::Model,
    event: Event,
    reason: DeclineReason,
    actor: &str,
) -> Result<screening_request::Model, AppError> {
    let from = status_of(request)?;
    let to = transition::next(from, event).map_err(|e| AppError::Conflict(conflict_message(e)))?;
    let moved = move_to(txn, request, to, event.kind(), actor, None).await?;
    screening_request::Entity::update_many()
        .col_expr(
            screening_request::Column::DeclineReason,
            Expr::value(reason.as_str()),
        )
        .filter(screening_request::Column::Id.eq(request.id))
        .exec(txn)
        .await?;
    audit::record(
        txn,
        actor,
        "screening_request.decline_reason",
        audit::target("screening_request", request.id),
        json!({"reason": reason.as_str()}),
    )
    .await?;
    let mut data = outbox::webhooks::request_data(request.id, to);
    data["decline_reason"] = json!(reason.as_str());
    outbox::webhooks::enqueue_data(txn, request, event.webhook(), data).await?;
    Ok(screening_request::Model {
        decline_reason: Some(reason.as_str().to_owned()),
        ..moved
    })
}

pub fn status_of(request: &screening_request::Model) -> Result<RequestStatus, AppError> {
    Ok(RequestStatus::parse(&request.status)
        .ok_or_else(|| anyhow::anyhow!("request {} has an unknown status", request.id))?)
}

/// Moves `request` to `to`, guarded by its version, with a timeline entry `kind`, an audit
/// event and, when the organisation is told, the webhook `webhook` (in its view); a request
/// that ends undecided has its open tasks and pending timers cancelled with it.
pub async fn move_to(
    txn: &impl ConnectionTrait,
    request: &screening_request::Model,
    to: RequestStatus,
    kind: &str,
    actor: &str,
    webhook: Option<&str>,
) -> Result<screening_request::Model, AppError> {
    let from = status_of(request)?;
    let now = db::now();
    let consented = to == RequestStatus::InProgress && from == RequestStatus::AwaitingConsent;
    let mut update = screening_request::Entity::update_many()
        .col_expr(screening_request::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            screening_request::Column::Version,
            Expr::value(request.version + 1),
        )
        .col_expr(screening_request::Column::UpdatedAt, Expr::value(now));
    if consented {
        update = update.col_expr(screening_request::Column::ConsentedAt, Expr::value(now));
    }
    if to.is_ended_undecided() {
        update = update.col_expr(screening_request::Column::EndedAt, Expr::value(now));
    }
    let moved = update
        .filter(screening_request::Column::Id.eq(request.id))
        .filter(screening_request::Column::Version.eq(request.version))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the request changed meanwhile; try again".into(),
        ));
    }
    // A request ended without a decision (withdrawn, declined, lapsed) leaves no work behind:
    // its open tasks leave the checkers' queues and its timers will not fire.
    if to.is_ended_undecided() {
        super::tasks::cancel_open(txn, request.id).await?;
        super::timers::cancel_pending(txn, request.id).await?;
    }
    record_event(txn, request.id, kind, to, now).await?;
    audit::record(
        txn,
        actor,
        &format!("screening_request.{kind}"),
        audit::target("screening_request", request.id),
        json!({"from": from.as_str(), "to": to.as_str()}),
    )
    .await?;
    if let Some(webhook) = webhook {
        outbox::webhooks::enqueue(txn, request, webhook, to).await?;
    }
    // The version guard held, so the row is the one read plus exactly the columns set above.
    Ok(screening_request::Model {
        status: to.as_str().to_owned(),
        version: request.version + 1,
        updated_at: now,
        consented_at: if consented {
            Some(now)
        } else {
            request.consented_at
        },
        ended_at: if to.is_ended_undecided() {
            Some(now)
        } else {
            request.ended_at
        },
        ..request.clone()
    })
}

/// Adds an entry to the request's timeline.
pub async fn record_event(
    txn: &impl ConnectionTrait,
    request_id: uuid::Uuid,
    kind: &str,
    status: RequestStatus,
    at: time::PrimitiveDateTime,
) -> Result<(), sea_orm::DbErr> {
    request_event::Entity::insert(event_row(request_id, kind, status, at))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A timeline entry, for callers that insert many at once.
pub fn event_row(
    request_id: uuid::Uuid,
    kind: &str,
    status: RequestStatus,
    at: time::PrimitiveDateTime,
) -> request_event::ActiveModel {
    request_event::ActiveModel {
        id: sea_orm::Set(db::new_id()),
        request_id: sea_orm::Set(request_id),
        at: sea_orm::Set(at),
        kind: sea_orm::Set(kind.to_owned()),
        status: sea_orm::Set(status.as_str().to_owned()),
    }
}

fn conflict_message(e: transition::NotAllowed) -> String {
    let what = match e.event {
        Event::Consented => "consent",
        Event::Declined => "decline",
        Event::ConsentWithdrawn => "withdraw consent from",
        Event::ConsentLapsed => "lapse",
        Event::Withdrawn => "withdraw",
    };
    format!(
        "cannot {what} a request that is {}",
        e.from.org_view().as_str()
    )
}
