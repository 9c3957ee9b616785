use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    /// JSON array of event types, or `["*"]`.
    pub events: Json,
    /// The signing secret, sealed: it is needed to sign, so it cannot be only hashed.
    pub secret_sealed: Vec<u8>,
    pub created_at: TimeDateTime,
    /// Set when the receiver answered 410 Gone.
    pub disabled_at: Option<TimeDateTime>,
    pub deleted_at: Option<TimeDateTime>,
    /// Made with a sandbox key: gets sandbox events only (live endpoints live ones only).
    pub sandbox: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
