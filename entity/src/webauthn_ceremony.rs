use sea_orm::entity::prelude::*;

/// A WebAuthn ceremony under way, kept in the database so any process can finish it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `register` or `authenticate`.
    pub kind: String,
    pub user_id: Uuid,
    /// The session or pending sign-in that started it; only it may finish it.
    pub owner_id: Uuid,
    /// The ceremony's state (its challenge), sealed with this row's id.
    pub state_sealed: Vec<u8>,
    pub expires_at: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
