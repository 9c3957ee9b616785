use sea_orm::entity::prelude::*;

/// A data key: what seals personal data, itself sealed ("wrapped") under the master key with
/// its id as associated data. The newest key not retired seals; a retired key's material is
/// gone (`wrapped` is null) once no value needs it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub wrapped: Option<Vec<u8>>,
    pub created_at: TimeDateTime,
    pub retired_at: Option<TimeDateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
