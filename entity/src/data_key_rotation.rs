use sea_orm::entity::prelude::*;

/// The re-sealing of every sealed value under `to_key`, its progress committed with each
/// batch so that it resumes wherever a process stopped.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_key_rotations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub to_key: i32,
    pub started_at: TimeDateTime,
    pub finished_at: Option<TimeDateTime>,
    pub pass: i32,
    pub column_index: i32,
    pub cursor: Option<Uuid>,
    pub resealed: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
