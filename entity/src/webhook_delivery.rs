use sea_orm::entity::prelude::*;

/// One event for one endpoint; its id is the `webhook-id`, the same on every retry.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_type: String,
    /// The exact body sent, in the organisation's view.
    pub payload: Json,
    pub attempts: i32,
    pub next_attempt_at: TimeDateTime,
    pub lease_until: Option<TimeDateTime>,
    pub delivered_at: Option<TimeDateTime>,
    pub failed_at: Option<TimeDateTime>,
    pub created_at: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
