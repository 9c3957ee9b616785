//! Durable timers: a worker fires each due timer once, in its own transaction that marks it
//! fired and applies its event. A timer whose event no longer applies (the subject consented
//! first) is marked fired and changes nothing.
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType},
};

use super::{commands, transition::Event};
use crate::{
    audit, db, domain::RequestStatus, error::AppError, services::screening, state::AppState,
};
use entity::{screening_request, timer};

/// Fires every due timer; returns how many fired.
pub async fn fire_due(state: &AppState) -> Result<usize, AppError> {
    let mut fired = 0;
    loop {
        let txn = db::begin_write(&state.db_write).await?;
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
            apply(&txn, &due).await?;
            fired += 1;
        }
        txn.commit().await?;
    }
}

async fn apply(txn: &sea_orm::DatabaseTransaction, due: &timer::Model) -> Result<(), AppError> {
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
    match due.kind.as_str() {
        screening::TIMER_CONSENT_LAPSE => {
            if request.status == RequestStatus::AwaitingConsent.as_str() {
                commands::apply(txn, &request, Event::ConsentLapsed, audit::ACTOR_SYSTEM).await?;
            }
        }
        other => tracing::warn!(kind = other, timer = %due.id, "unknown timer kind; ignored"),
    }
    Ok(())
}
