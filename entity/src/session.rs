use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the token, hex; the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub user_id: Uuid,
    pub created_at: TimeDateTime,
    pub expires_at: TimeDateTime,
    pub revoked_at: Option<TimeDateTime>,
    /// `api` (a bearer token from `POST /v1/auth/login`) or `browser` (the session cookie):
    /// each is accepted only where it was issued.
    pub kind: String,
    /// Touched at most once a minute; the session ends after the idle timeout without use.
    pub last_seen_at: Option<TimeDateTime>,
    /// When a second factor was last entered (sign-in or step-up).
    pub factor_verified_at: Option<TimeDateTime>,
    /// The factors the sign-in used: `password`, `password+totp`, `password+recovery_code`,
    /// `password+passkey`.
    pub factors: String,
    pub user_agent: Option<String>,
    /// Browser sessions: the token every page form carries.
    pub csrf_token: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
