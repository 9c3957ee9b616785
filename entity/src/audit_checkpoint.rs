use sea_orm::entity::prelude::*;

/// A signed checkpoint of the audit chain: claimed here so that one process writes each, and
/// appended by that process to its checkpoint file and log.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub hash: String,
    pub at: TimeDateTime,
    pub note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
