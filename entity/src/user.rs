use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased; unique across all users.
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    /// `admin`, `org_admin`, `org_requester` or `checker`.
    pub role: String,
    pub organisation_id: Option<Uuid>,
    /// Argon2id PHC string; `None` until the user activates the account.
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: TimeDateTime,
    pub activated_at: Option<TimeDateTime>,
    /// Second factors failed in a row after a right password (the user is told at three).
    pub second_factor_failures: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
    #[sea_orm(has_one = "super::checker::Entity")]
    Checker,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::checker::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Checker.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
