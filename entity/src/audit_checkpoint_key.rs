use sea_orm::entity::prelude::*;

/// The Ed25519 key that signs audit checkpoints (C2SP signed notes); the seed is sealed under
/// the data key with `id` as associated data. Its public key is what a verifier keeps.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoint_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub public_key: Vec<u8>,
    pub secret_sealed: Vec<u8>,
    pub created_at: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
