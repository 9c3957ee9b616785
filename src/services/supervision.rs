//! What a supervisor watches: each checker's open tasks against their cap and their overdue
//! tasks; the tasks no one could be given, with the engine's reasons; and the requests past
//! their decision deadline.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{
    db,
    domain::RequestStatus,
    engine::routing::{self, Verdict},
    error::AppResult,
    services::AppState,
};
use entity::{screening_request, task};

/// How many waiting tasks and missed deadlines the page lists (the oldest first).
pub const LISTED: u64 = 50;

pub struct CheckerLoad {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub supervisor: bool,
    pub open_tasks: u64,
    pub max_open_tasks: i32,
    pub overdue_tasks: u64,
}

/// An unassigned task and why each checker may not take it, counted by reason.
pub struct Waiting {
    pub task: task::Model,
    pub reference: String,
    pub organisation: String,
    pub reasons: Vec<(Verdict, u64)>,
}

pub struct Missed {
    pub request_id: Uuid,
    pub reference: String,
    pub organisation: String,
    pub status: String,
    pub deadline: time::PrimitiveDateTime,
}

pub struct Overview {
    pub checkers: Vec<CheckerLoad>,
    pub waiting: Vec<Waiting>,
    pub missed: Vec<Missed>,
}

/// Each checker's open tasks past their due date.
async fn overdue_by_assignee(state: &AppState) -> AppResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Option<Uuid>, i64)> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeId)
        .column_as(task::Column::Id.count(), "n")
        .filter(task::Column::Status.eq(routing::ASSIGNED))
        .filter(task::Column::DueAt.lt(db::now()))
        .group_by(task::Column::AssigneeId)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id?, u64::try_from(n).unwrap_or(0))))
        .collect())
}

/// Undecided requests past their decision deadline.
pub fn missed_deadlines() -> sea_orm::Select<screening_request::Entity> {
    screening_request::Entity::find()
        .filter(screening_request::Column::Sandbox.eq(false))
        .filter(screening_request::Column::DecisionDeadlineAt.lt(db::now()))
        .filter(
            screening_request::Column::Status.is_in(
                [
                    RequestStatus::InProgress,
                    RequestStatus::Assessment,
                    RequestStatus::IntentToRefuse,
                    RequestStatus::FinalReview,
                ]
                .map(RequestStatus::as_str),
            ),
        )
}

pub async fn overview(state: &AppState) -> AppResult<Overview> {
    let roster = routing::Roster::load(&state.db).await?;
    let overdue = overdue_by_assignee(state).await?;
    let mut loads: Vec<CheckerLoad> = roster
        .checkers()
        .map(|(c, u, open_tasks)| CheckerLoad {
            id: c.id,
            name: u.map(|u| u.name.clone()).unwrap_or_default(),
            active: u.is_some_and(|u| u.active),
            supervisor: c.supervisor,
            open_tasks,
            max_open_tasks: c.max_open_tasks,
            overdue_tasks: overdue.get(&c.id).copied().unwrap_or(0),
        })
        .collect();
    loads.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));

    let unassigned = task::Entity::find()
        .filter(task::Column::Status.eq(routing::UNASSIGNED))
        .filter(task::Column::Sandbox.eq(false))
        .order_by_asc(task::Column::CreatedAt)
        .order_by_asc(task::Column::Id)
        .limit(LISTED)
        .all(&state.db)
        .await?;
    let missed_requests = missed_deadlines()
        .order_by_asc(screening_request::Column::DecisionDeadlineAt)
        .limit(LISTED)
        .all(&state.db)
        .await?;
    let request_ids: Vec<Uuid> = unassigned.iter().map(|t| t.request_id).collect();
    let requests: HashMap<Uuid, screening_request::Model> = screening_request::Entity::find()
        .filter(screening_request::Column::Id.is_in(request_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let organisations: HashMap<Uuid, String> = super::organisations::names(state)
        .await?
        .into_iter()
        .collect();
    let mut waiting = Vec::with_capacity(unassigned.len());
    for task in unassigned {
        let Some(request) = requests.get(&task.request_id) else {
            continue;
        };
        let mut reasons: Vec<(Verdict, u64)> = Vec::new();
        for assessed in roster
            .assess(&state.db, &task, request.organisation_id)
            .await?
        {
            match reasons.iter_mut().find(|(v, _)| *v == assessed.verdict) {
                Some((_, n)) => *n += 1,
                None => reasons.push((assessed.verdict, 1)),
            }
        }
        waiting.push(Waiting {
            reference: request.reference.clone(),
            organisation: organisations
                .get(&request.organisation_id)
                .cloned()
                .unwrap_or_default(),
            reasons,
            task,
        });
    }
    let missed = missed_requests
        .into_iter()
        .filter_map(|r| {
            Some(Missed {
                deadline: r.decision_deadline_at?,
                request_id: r.id,
                organisation: organisations
                    .get(&r.organisation_id)
                    .cloned()
                    .unwrap_or_default(),
                reference: r.reference,
                status: r.status,
            })
        })
        .collect();
    Ok(Overview {
        checkers: loads,
        waiting,
        missed,
    })
}
