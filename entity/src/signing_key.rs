use sea_orm::entity::prelude::*;

/// An Ed25519 key that signs certificates. `kid` is the RFC 7638 thumbprint of its public JWK;
/// the 32-byte seed is sealed under the data key with `id` as associated data. The newest key
/// not retired signs; retired keys still verify.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub kid: String,
    pub public_key: Vec<u8>,
    pub secret_sealed: Vec<u8>,
    pub created_at: TimeDateTime,
    pub retired_at: Option<TimeDateTime>,
    /// Signs sandbox certificates only; never in the JWKS, never valid on verification.
    pub sandbox: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
