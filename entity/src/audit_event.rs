use sea_orm::entity::prelude::*;

/// One audit event. `seq`, `prev_hash` and `hash` are set when the chain writer links it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub seq: Option<i64>,
    pub at: TimeDateTime,
    /// `user:<id>`, `api_key:<id>`, `system` or `anonymous`.
    pub actor: String,
    pub action: String,
    /// `<kind>:<id>`; ids only, never personal data.
    pub target: Option<String>,
    pub details: Json,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
