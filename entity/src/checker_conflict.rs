use sea_orm::entity::prelude::*;

/// An organisation this checker must never work for.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checker_conflicts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub checker_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
