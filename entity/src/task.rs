use sea_orm::entity::prelude::*;

/// One unit of human work on a request: a check, an assessment or a review. Notes and grounds
/// are sealed under the task's id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub request_id: Uuid,
    /// `check`, `assessment`, `four_eyes_review`, `supervisor_review`, `final_review` or
    /// `objection_review`.
    pub kind: String,
    /// For `check` tasks: the definition's check id.
    pub check_id: Option<String>,
    /// The authorisation a checker needs for it.
    pub authorisation: String,
    /// `unassigned`, `assigned`, `completed` or `cancelled`.
    pub status: String,
    pub assignee_id: Option<Uuid>,
    /// Checkers who may never get it (they released it), as a JSON array of ids.
    pub excluded: Json,
    pub due_at: TimeDateTime,
    pub overdue: bool,
    pub outcome: Option<String>,
    pub notes_sealed: Option<Vec<u8>>,
    pub grounds_sealed: Option<Vec<u8>>,
    /// Bumped on every change; writes are guarded by it.
    pub version: i32,
    pub created_at: TimeDateTime,
    pub assigned_at: Option<TimeDateTime>,
    pub completed_at: Option<TimeDateTime>,
    pub completed_by: Option<Uuid>,
    /// A sandbox request's: routed only to the sandbox's own checkers.
    pub sandbox: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
