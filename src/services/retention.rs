//! Retention (api.md, Retention): a request's personal data is erased a set time after it ends
//! without a clearance (withdrawn, declined, lapsed; refused once the objection window is
//! over), and a cleared one's once the clearance's `valid_until` has passed, together with the
//! stored certificate. The rows stay, anonymous; the invitation link stops working; the
//! erasure is audited. Verification of the certificate keeps working: its key, expiry and
//! revocation stay. The sandbox's requests are erased a day after they were made.
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Query},
};
use serde_json::json;

use crate::{
    audit, db, domain::RequestStatus, engine::tasks::TIMER_OBJECTION_WINDOW, error::AppError,
    services::AppState,
};
use entity::{certificate, decision, idempotency_key, screening_request, timer};

/// Idempotency keys are kept at least 24 h; older ones are removed after 48 h.
const IDEMPOTENCY_KEEP: time::Duration = time::Duration::hours(48);

/// How long the sandbox's requests are kept.
pub const SANDBOX_KEEP: time::Duration = time::Duration::days(1);

/// How many requests one run erases at most (the worker comes back for the rest).
const BATCH: u64 = 100;

/// Erases what is due; returns how many requests were erased.
pub async fn run(state: &AppState) -> Result<usize, AppError> {
    let now = db::now();
    let cutoff = now - time::Duration::days(i64::from(state.config.retention_days));
    let mut erased = 0;
    for request in due(state, now, cutoff).await? {
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
            .col_expr(
                screening_request::Column::InvitationTokenSealed,
                Expr::value(Option::<Vec<u8>>::None),
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
            // The stored certificate names the subject; the revocation ground is free text.
            certificate::Entity::update_many()
                .col_expr(
                    certificate::Column::JwsSealed,
                    Expr::value(Option::<Vec<u8>>::None),
                )
                .col_expr(
                    certificate::Column::RevocationReasonSealed,
                    Expr::value(Option::<Vec<u8>>::None),
                )
                .filter(certificate::Column::RequestId.eq(request.id))
                .exec(&txn)
                .await?;
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

/// The requests whose personal data is due for erasure: ended undecided before `cutoff`;
/// refused before `cutoff` with no objection window still open; cleared with a clearance
/// that expired by `now`.
async fn due(
    state: &AppState,
    now: time::PrimitiveDateTime,
    cutoff: time::PrimitiveDateTime,
) -> Result<Vec<screening_request::Model>, AppError> {
    let ended = [
        RequestStatus::Withdrawn,
        RequestStatus::Declined,
        RequestStatus::Lapsed,
    ];
    let refused_before_cutoff = Query::select()
        .column(decision::Column::RequestId)
        .from(decision::Entity)
        .and_where(decision::Column::Outcome.eq("refused"))
        .and_where(decision::Column::DecidedAt.lte(cutoff))
        .to_owned();
    let objection_window_open = Query::select()
        .column(timer::Column::RequestId)
        .from(timer::Entity)
        .and_where(timer::Column::Kind.eq(TIMER_OBJECTION_WINDOW))
        .and_where(timer::Column::FiredAt.is_null())
        .to_owned();
    let expired_clearances = Query::select()
        .column(certificate::Column::RequestId)
        .from(certificate::Entity)
        .and_where(certificate::Column::ExpiresAt.lte(now))
        .to_owned();
    let due = Condition::any()
        .add(
            Condition::all()
                .add(screening_request::Column::Status.is_in(ended.iter().map(|s| s.as_str())))
                .add(screening_request::Column::EndedAt.lte(cutoff)),
        )
        .add(
            Condition::all()
                .add(screening_request::Column::Status.eq(RequestStatus::Refused.as_str()))
                .add(screening_request::Column::Id.in_subquery(refused_before_cutoff))
                .add(screening_request::Column::Id.not_in_subquery(objection_window_open)),
        )
        .add(
            Condition::all()
                .add(screening_request::Column::Status.eq(RequestStatus::Cleared.as_str()))
                .add(screening_request::Column::Id.in_subquery(expired_clearances)),
        )
        // The sandbox's requests are kept a day, whatever became of them.
        .add(
            Condition::all()
                .add(screening_request::Column::Sandbox.eq(true))
                .add(screening_request::Column::CreatedAt.lte(now - SANDBOX_KEEP)),
        );
    Ok(screening_request::Entity::find()
        .filter(screening_request::Column::ErasedAt.is_null())
        .filter(due)
        .limit(BATCH)
        .all(&state.db)
        .await?)
}
