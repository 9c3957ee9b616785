use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checker_authorisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub checker_id: Uuid,
    /// One of `identity`, `criminal_record`, `misconduct_disclosure`, `reference`, `assessment`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub authorisation: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
