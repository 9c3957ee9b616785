use sea_orm::entity::prelude::*;

/// An e-mail waiting to be sent. The message is sealed, and wiped once sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Option<Uuid>,
    pub kind: String,
    pub message_sealed: Option<Vec<u8>>,
    pub attempts: i32,
    pub next_attempt_at: TimeDateTime,
    pub lease_until: Option<TimeDateTime>,
    pub sent_at: Option<TimeDateTime>,
    pub last_error: Option<String>,
    pub created_at: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
