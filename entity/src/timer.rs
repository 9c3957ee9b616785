use sea_orm::entity::prelude::*;

/// A durable timer: fired once, by whichever worker claims it first.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "timers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Option<Uuid>,
    pub kind: String,
    pub due_at: TimeDateTime,
    pub fired_at: Option<TimeDateTime>,
    pub payload: Json,
    pub created_at: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
