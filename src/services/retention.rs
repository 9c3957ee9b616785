//! Retention: personal data is erased a set time after a request ends without a clearance.
//! The row stays, anonymous; the invitation link stops working; the erasure is audited.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use serde_json::json;

use crate::{audit, db, domain::RequestStatus, error::AppError, state::AppState};
use entity::{idempotency_key, screening_request};

/// Idempotency keys are kept at least 24 h; older ones are removed after 48 h.
const IDEMPOTENCY_KEEP: time::Duration = time::Duration::hours(48);

/// Erases what is due; returns how many requests were erased.
pub async fn run(state: &AppState) -> Result<usize, AppError> {
    let now = db::now();
    let cutoff = now - time::Duration::days(i64::from(state.config.retention_days));
    let ended = [
        RequestStatus::Withdrawn,
        RequestStatus::Declined,
        RequestStatus::Lapsed,
    ];
    let due = screening_request::Entity::find()
        .filter(screening_request::Column::ErasedAt.is_null())
        .filter(screening_request::Column::Status.is_in(ended.iter().map(|s| s.as_str())))
        .filter(screening_request::Column::EndedAt.lte(cutoff))
        .limit(100)
        .all(&state.db)
        .await?;
    let mut erased = 0;
    for request in due {
        let txn = db::begin_write(&state.db_write).await?;
        let done = screening_request::Entity::update_many()
            .col_expr(
                screening_request::Column::SubjectSealed,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(
                screening_request::Column::InvitationTokenHash,
                Expr::value(Option::<String>::None),
            )
            .col_expr(screening_request::Column::ErasedAt, Expr::value(now))
            .col_expr(
                screening_request::Column::Version,
                Expr::value(request.version + 1),
            )
            .filter(screening_request::Column::Id.eq(request.id))
            .filter(screening_request::Column::Version.eq(request.version))
            .exec(&txn)
            .await?;
        if done.rows_affected == 1 {
            audit::record(
                &txn,
                audit::ACTOR_SYSTEM,
                "screening_request.personal_data_erased",
                audit::target("screening_request", request.id),
                json!({"status": request.status, "retention_days": state.config.retention_days}),
            )
            .await?;
            erased += 1;
        }
        txn.commit().await?;
    }
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(now - IDEMPOTENCY_KEEP))
        .exec(&state.db_write)
        .await?;
    Ok(erased)
}
