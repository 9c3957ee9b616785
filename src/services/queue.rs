//! The console's work queue: tasks in the order a checker works them (due soonest first), with
//! what a row shows of the request (reference, organisation, deployment country). Visibility
//! is the API's (`GET /v1/tasks`): checkers see their own tasks, supervisors and admins every
//! task; only they get the views across everyone's work.
use std::collections::HashMap;

use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{
    auth::Principal,
    domain::Role,
    engine::{routing, tasks::TaskKind},
    error::{AppError, AppResult},
    pagination::PageRequest,
    services::AppState,
};
use entity::{screening_request, task};

/// Which tasks the queue lists: a bookmarkable `view=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueView {
    /// Assigned to me (open ones unless a status is asked for).
    Mine,
    /// Completed by me, the latest first.
    Completed,
    /// Waiting for a checker (supervisors and admins).
    Unassigned,
    /// Open and past due (supervisors and admins).
    Overdue,
    /// Every task (supervisors and admins).
    All,
}

impl QueueView {
    pub const ALL: [QueueView; 5] = [
        QueueView::Mine,
        QueueView::Completed,
        QueueView::Unassigned,
        QueueView::Overdue,
        QueueView::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueView::Mine => "mine",
            QueueView::Completed => "completed",
            QueueView::Unassigned => "unassigned",
            QueueView::Overdue => "overdue",
            QueueView::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// Whether the view spans everyone's work.
    pub fn is_oversight(self) -> bool {
        matches!(
            self,
            QueueView::Unassigned | QueueView::Overdue | QueueView::All
        )
    }

    /// What a caller sees without asking: an admin does no casework of their own.
    pub fn default_for(principal: &Principal) -> Self {
        if principal.role == Role::Admin {
            QueueView::Unassigned
        } else {
            QueueView::Mine
        }
    }

    /// The views this caller may ask for.
    pub fn offered_to(principal: &Principal) -> Vec<QueueView> {
        Self::ALL
            .into_iter()
            .filter(|v| {
                if v.is_oversight() {
                    sees_everyone(principal)
                } else {
                    principal.role == Role::Checker
                }
            })
            .collect()
    }
}

fn sees_everyone(principal: &Principal) -> bool {
    principal.role == Role::Admin || principal.supervisor
}

/// A task status a filter may name.
pub fn parse_status(text: &str) -> Result<String, String> {
    [
        routing::UNASSIGNED,
        routing::ASSIGNED,
        routing::COMPLETED,
        routing::CANCELLED,
    ]
    .contains(&text)
    .then(|| text.to_owned())
    .ok_or_else(|| format!("unknown task status `{text}`"))
}

pub struct QueueFilter {
    pub view: QueueView,
    pub kind: Option<TaskKind>,
    pub status: Option<String>,
    pub overdue: Option<bool>,
}

/// A row of the queue.
pub struct QueueItem {
    pub task: task::Model,
    pub reference: String,
    pub organisation: String,
    pub deployment_country: String,
}

/// A page of the queue: up to `page.limit + 1` rows (the extra one says there is a next page),
/// three queries whatever the page's size.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: QueueFilter,
    page: PageRequest,
) -> AppResult<Vec<QueueItem>> {
    let offered = QueueView::offered_to(principal);
    if !offered.contains(&filter.view) {
        return Err(AppError::validation(
            "view",
            format!(
                "you can see these views: {}",
                offered
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let open = [routing::UNASSIGNED, routing::ASSIGNED];
    let mut query = task::Entity::find().filter(task::Column::Sandbox.eq(false));
    // The completed view runs newest first by completion; the others soonest due first.
    let (sort, order) = match filter.view {
        QueueView::Completed => (task::Column::CompletedAt, Order::Desc),
        _ => (task::Column::DueAt, Order::Asc),
    };
    query = match filter.view {
        QueueView::Mine => {
            let query = query.filter(task::Column::AssigneeId.eq(principal.id));
            match &filter.status {
                Some(_) => query,
                None => query.filter(task::Column::Status.eq(routing::ASSIGNED)),
            }
        }
        QueueView::Completed => query
            .filter(task::Column::CompletedBy.eq(principal.id))
            .filter(task::Column::Status.eq(routing::COMPLETED)),
        QueueView::Unassigned => query.filter(task::Column::Status.eq(routing::UNASSIGNED)),
        QueueView::Overdue => query
            .filter(task::Column::Status.is_in(open))
            .filter(task::Column::Overdue.eq(true)),
        QueueView::All => query,
    };
    if let Some(status) = &filter.status {
        query = query.filter(task::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(task::Column::Kind.eq(kind.as_str()));
    }
    if let Some(overdue) = filter.overdue {
        query = query.filter(task::Column::Overdue.eq(overdue));
    }
    if let Some(after) = page.after {
        // The cursor is the last task shown: continue after its place in the order.
        let last = task::Entity::find_by_id(after)
            .one(&state.db)
            .await?
            .ok_or_else(|| AppError::validation("cursor", "is not a cursor this service issued"))?;
        let key = match filter.view {
            QueueView::Completed => last.completed_at.unwrap_or(last.due_at),
            _ => last.due_at,
        };
        let (beyond, id_beyond) = match order {
            Order::Desc => (sort.lt(key), task::Column::Id.lt(after)),
            _ => (sort.gt(key), task::Column::Id.gt(after)),
        };
        query = query.filter(
            Condition::any()
                .add(beyond)
                .add(Condition::all().add(sort.eq(key)).add(id_beyond)),
        );
    }
    let tasks = query
        .order_by(sort, order.clone())
        .order_by(task::Column::Id, order)
        .limit(page.limit + 1)
        .all(&state.db)
        .await?;
    // Only what a row shows of its request: the whole rows carry sealed personal data.
    let request_ids: Vec<Uuid> = tasks.iter().map(|t| t.request_id).collect();
    let requests: HashMap<Uuid, (String, Uuid, String)> = screening_request::Entity::find()
        .select_only()
        .column(screening_request::Column::Id)
        .column(screening_request::Column::Reference)
        .column(screening_request::Column::OrganisationId)
        .column(screening_request::Column::DeploymentCountry)
        .filter(screening_request::Column::Id.is_in(request_ids))
        .into_tuple::<(Uuid, String, Uuid, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|(id, reference, organisation, country)| (id, (reference, organisation, country)))
        .collect();
    let organisation_ids: Vec<Uuid> = requests.values().map(|r| r.1).collect();
    let organisations = super::organisations::names_of(state, organisation_ids).await?;
    Ok(tasks
        .into_iter()
        .filter_map(|task| {
            let (reference, organisation_id, country) = requests.get(&task.request_id)?;
            Some(QueueItem {
                reference: reference.clone(),
                organisation: organisations
                    .get(organisation_id)
                    .cloned()
                    .unwrap_or_default(),
                deployment_country: country.clone(),
                task,
            })
        })
        .collect())
}
