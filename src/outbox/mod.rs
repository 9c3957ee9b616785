//! Work that leaves the service: webhook deliveries, written in the same transaction as the
//! change that causes them and delivered by a background worker.
pub mod delivery;
pub mod ssrf;
pub mod webhooks;

use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, IntoColumnRef, IntoIden, Query},
};

/// Live webhook deliveries and e-mails still waiting: (webhooks, mails). The sandbox's are left
/// out: nothing of the sandbox reaches the live metrics. Each pending row looks up its one
/// endpoint or request (the pending rows are few; the requests may be millions).
pub async fn backlog(db: &DatabaseConnection) -> Result<(u64, u64), DbErr> {
    use entity::{mail_outbox, screening_request, webhook_delivery, webhook_endpoint};
    let webhooks = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .filter(webhook_delivery::Column::FailedAt.is_null())
        .filter(
            sandbox_row(
                webhook_endpoint::Entity,
                webhook_endpoint::Column::Id,
                webhook_endpoint::Column::Sandbox,
                (
                    webhook_delivery::Entity,
                    webhook_delivery::Column::EndpointId,
                ),
            )
            .not(),
        )
        .count(db)
        .await?;
    let mails = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(
            sandbox_row(
                screening_request::Entity,
                screening_request::Column::Id,
                screening_request::Column::Sandbox,
                (mail_outbox::Entity, mail_outbox::Column::RequestId),
            )
            .not(),
        )
        .count(db)
        .await?;
    Ok((webhooks, mails))
}

/// Whether the row of `table` that `reference` names is a sandbox one.
fn sandbox_row<T, C>(table: T, id: C, sandbox: C, reference: impl IntoColumnRef) -> Expr
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + 'static,
{
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(table)
            .and_where(Expr::col((table, id)).equals(reference))
            .and_where(Expr::col((table, sandbox)).eq(true))
            .to_owned(),
    )
}
