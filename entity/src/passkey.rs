use sea_orm::entity::prelude::*;

/// A registered WebAuthn credential.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The credential id, base64url.
    #[sea_orm(unique)]
    pub credential_id: String,
    /// The webauthn-rs passkey (public key, counter), sealed with this row's id.
    pub passkey_sealed: Vec<u8>,
    pub created_at: TimeDateTime,
    pub last_used_at: Option<TimeDateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
