use sea_orm::entity::prelude::*;

/// A screening profile version: which workflow a request runs and how long a clearance holds.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "screening_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub workflow_key: String,
    pub workflow_version: i32,
    pub validity_months: i32,
    /// JSON array of `volunteer` / `staff`.
    pub roles: Json,
    pub expiry_warning_days: i32,
    pub created_at: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
