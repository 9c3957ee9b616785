use sea_orm::entity::prelude::*;

/// A screening request. The subject's personal data is sealed (encrypted) in `subject_sealed`;
/// after retention erases it the row stays, anonymous.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "screening_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub profile_code: String,
    pub profile_version: i32,
    pub workflow_key: String,
    pub workflow_version: i32,
    pub reference: String,
    pub position_title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub position_description: Option<String>,
    pub role: String,
    pub deployment_country: String,
    pub deployment_start_date: TimeDate,
    /// The full status; the organisation sees a mapped view of it.
    pub status: String,
    /// Bumped on every change; writes are guarded by it.
    pub version: i32,
    pub subject_sealed: Option<Vec<u8>>,
    #[sea_orm(unique)]
    pub invitation_token_hash: Option<String>,
    /// When an unanswered invitation lapses.
    pub invitation_expires_at: TimeDateTime,
    pub decline_reason: Option<String>,
    pub rescreen_of: Option<Uuid>,
    pub created_at: TimeDateTime,
    pub updated_at: TimeDateTime,
    pub consented_at: Option<TimeDateTime>,
    pub ended_at: Option<TimeDateTime>,
    pub erased_at: Option<TimeDateTime>,
    /// When the decision is due (set at consent, from the definition's `decision_deadline`).
    pub decision_deadline_at: Option<TimeDateTime>,
    /// The invitation link's token, sealed, so a resent invitation carries the same link.
    pub invitation_token_sealed: Option<Vec<u8>>,
    /// When the organisation last had the invitation resent (at most once an hour).
    pub invitation_resent_at: Option<TimeDateTime>,
    /// Made with a sandbox key: seen only by sandbox keys, moved on by the sandbox.
    pub sandbox: bool,
    /// The path the sandbox subject's address asks for (`clear`, `refuse`, …); else it waits.
    pub sandbox_path: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
