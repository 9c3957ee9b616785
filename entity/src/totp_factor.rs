use sea_orm::entity::prelude::*;

/// A user's TOTP secret (RFC 6238).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The shared secret, sealed under the data key with the user's id.
    pub secret_sealed: Vec<u8>,
    pub created_at: TimeDateTime,
    /// `None` until a first code confirms the enrolment.
    pub confirmed_at: Option<TimeDateTime>,
    /// The last time step accepted; a step is accepted once.
    pub last_step: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
