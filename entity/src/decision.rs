use sea_orm::entity::prelude::*;

/// The decision on a request: `cleared` or `refused`; `revised` once an objection overturned
/// a refusal. The grounds are sealed under the request's id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: Uuid,
    pub outcome: String,
    pub decided_at: TimeDateTime,
    pub grounds_sealed: Option<Vec<u8>>,
    pub revised: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
