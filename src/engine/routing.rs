//! Routing (engine.md, Routing): which checkers may do a task, and which of them gets it.
//!
//! Eligible: an active checker who holds the task's authorisation, is not in conflict with the
//! requesting organisation, is not excluded from the task (separation of duties, or they
//! released it) and, for a supervisor review, has the supervisor flag; at assignment also under
//! their `max_open_tasks` (0: never assigned automatically). Everything here runs inside the
//! caller's transaction; on PostgreSQL the chosen checker's row is locked and their open tasks
//! counted again before the assignment, so two processes cannot both fill a checker's last
//! slot.
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, LockBehavior, LockType, Query},
};
use uuid::Uuid;

use super::definition::RoutingStrategy;
use crate::db;
use entity::{checker, checker_authorisation, checker_conflict, routing_cursor, task, user};

pub const UNASSIGNED: &str = "unassigned";
pub const ASSIGNED: &str = "assigned";
pub const COMPLETED: &str = "completed";
pub const CANCELLED: &str = "cancelled";
pub const SUPERVISOR_REVIEW: &str = super::transition::TaskKind::SupervisorReview.as_str();

/// A checker who may do the task, with what routing weighs.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub open_tasks: u64,
    pub max_open_tasks: i32,
    pub last_assigned_at: Option<time::PrimitiveDateTime>,
}

impl Candidate {
    pub fn has_room(&self) -> bool {
        self.max_open_tasks > 0 && self.open_tasks < u64::try_from(self.max_open_tasks).unwrap_or(0)
    }
}

/// The ids a task's `excluded` column holds.
pub fn excluded(task: &task::Model) -> Vec<Uuid> {
    task.excluded
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The checkers eligible for the task, the cap aside.
fn eligible(task: &task::Model, organisation_id: Uuid) -> sea_orm::Select<checker::Entity> {
    let authorised = Query::select()
        .column(checker_authorisation::Column::CheckerId)
        .from(checker_authorisation::Entity)
        .and_where(checker_authorisation::Column::Authorisation.eq(task.authorisation.as_str()))
        .to_owned();
    let conflicted = Query::select()
        .column(checker_conflict::Column::CheckerId)
        .from(checker_conflict::Entity)
        .and_where(checker_conflict::Column::OrganisationId.eq(organisation_id))
        .to_owned();
    let excluded = excluded(task);
    let mut query = checker::Entity::find()
        .inner_join(user::Entity)
        .filter(checker::Column::Id.in_subquery(authorised))
        .filter(checker::Column::Id.not_in_subquery(conflicted))
        .filter(user::Column::Active.eq(true));
    if !excluded.is_empty() {
        query = query.filter(checker::Column::Id.is_not_in(excluded));
    }
    if task.kind == SUPERVISOR_REVIEW {
        query = query.filter(checker::Column::Supervisor.eq(true));
    }
    query
}

/// Every checker eligible for the task, the cap aside, with their open tasks: one query for
/// the checkers and one for the count.
pub async fn candidates(
    txn: &impl ConnectionTrait,
    task: &task::Model,
    organisation_id: Uuid,
) -> Result<Vec<Candidate>, sea_orm::DbErr> {
    let checkers = eligible(task, organisation_id)
        .order_by_asc(checker::Column::Id)
        .all(txn)
        .await?;
    let open = open_task_counts(txn, checkers.iter().map(|c| c.id).collect()).await?;
    Ok(checkers
        .into_iter()
        .map(|c| Candidate {
            id: c.id,
            open_tasks: open.get(&c.id).copied().unwrap_or(0),
            max_open_tasks: c.max_open_tasks,
            last_assigned_at: c.last_assigned_at,
        })
        .collect())
}

async fn open_task_counts(
    txn: &impl ConnectionTrait,
    checkers: Vec<Uuid>,
) -> Result<HashMap<Uuid, u64>, sea_orm::DbErr> {
    let rows: Vec<(Option<Uuid>, i64)> = task::Entity::find()
        .select_only()
        .column(task::Column::AssigneeId)
        .column_as(task::Column::Id.count(), "open")
        .filter(task::Column::Status.eq(ASSIGNED))
        .filter(task::Column::AssigneeId.is_in(checkers))
        .group_by(task::Column::AssigneeId)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id?, u64::try_from(n).unwrap_or(0))))
        .collect())
}

/// Why a checker may or may not do a task, in the order the rules are applied: the first rule
/// a checker fails is the one that is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Eligible and under their cap: routing may give them the task.
    Eligible,
    /// Eligible, but at their cap (or with a cap of 0, never assigned automatically).
    AtCap,
    /// Their account is deactivated.
    Inactive,
    /// They do not hold the task's authorisation.
    Unauthorised,
    /// A supervisor review, and they are not a supervisor.
    NotSupervisor,
    /// They declared a conflict of interest with the requesting organisation.
    Conflict,
    /// Separation of duties: they proposed the decision under review, took part earlier, or
    /// released this task.
    Excluded,
}

/// A checker as routing sees them for one task.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub checker_id: Uuid,
    pub name: String,
    pub open_tasks: u64,
    pub max_open_tasks: i32,
    pub verdict: Verdict,
}

/// Every checker with their account and open tasks: what [`Roster::assess`] weighs, read once
/// for as many tasks as a page assesses.
pub struct Roster {
    checkers: Vec<(checker::Model, Option<user::Model>)>,
    open: HashMap<Uuid, u64>,
}

impl Roster {
    pub async fn load(conn: &impl ConnectionTrait) -> Result<Self, sea_orm::DbErr> {
        let checkers = checker::Entity::find()
            .find_also_related(user::Entity)
            .order_by_asc(checker::Column::Id)
            .all(conn)
            .await?;
        let open = open_task_counts(conn, checkers.iter().map(|(c, _)| c.id).collect()).await?;
        Ok(Roster { checkers, open })
    }

    /// Each checker, their account (if it still exists) and their open tasks.
    pub fn checkers(&self) -> impl Iterator<Item = (&checker::Model, Option<&user::Model>, u64)> {
        self.checkers
            .iter()
            .map(|(c, u)| (c, u.as_ref(), self.open.get(&c.id).copied().unwrap_or(0)))
    }

    /// Every checker with the rule that decides whether they may do `task` (what supervision
    /// shows, and what the console offers for an assignment). The same rules as
    /// [`candidates`], applied in memory; a test holds the two to the same answer.
    pub async fn assess(
        &self,
        conn: &impl ConnectionTrait,
        task: &task::Model,
        organisation_id: Uuid,
    ) -> Result<Vec<Assessment>, sea_orm::DbErr> {
        let authorised: Vec<Uuid> = checker_authorisation::Entity::find()
            .select_only()
            .column(checker_authorisation::Column::CheckerId)
            .filter(checker_authorisation::Column::Authorisation.eq(task.authorisation.as_str()))
            .into_tuple()
            .all(conn)
            .await?;
        let conflicted: Vec<Uuid> = checker_conflict::Entity::find()
            .select_only()
            .column(checker_conflict::Column::CheckerId)
            .filter(checker_conflict::Column::OrganisationId.eq(organisation_id))
            .into_tuple()
            .all(conn)
            .await?;
        let excluded = excluded(task);
        Ok(self
            .checkers()
            .map(|(c, u, open_tasks)| {
                let verdict = if !u.is_some_and(|u| u.active) {
                    Verdict::Inactive
                } else if !authorised.contains(&c.id) {
                    Verdict::Unauthorised
                } else if task.kind == SUPERVISOR_REVIEW && !c.supervisor {
                    Verdict::NotSupervisor
                } else if conflicted.contains(&c.id) {
                    Verdict::Conflict
                } else if excluded.contains(&c.id) {
                    Verdict::Excluded
                } else {
                    let candidate = Candidate {
                        id: c.id,
                        open_tasks,
                        max_open_tasks: c.max_open_tasks,
                        last_assigned_at: c.last_assigned_at,
                    };
                    if candidate.has_room() {
                        Verdict::Eligible
                    } else {
                        Verdict::AtCap
                    }
                };
                Assessment {
                    checker_id: c.id,
                    name: u.map(|u| u.name.clone()).unwrap_or_default(),
                    open_tasks,
                    max_open_tasks: c.max_open_tasks,
                    verdict,
                }
            })
            .collect())
    }
}

/// Chooses among candidates with room: `least_loaded` (fewest open tasks, ties to whoever
/// was assigned least recently, then by id) or `round_robin` (the next id after the last one
/// this authorisation went to, wrapping around). `prefer` wins when it has room.
pub fn choose(
    candidates: &[Candidate],
    strategy: RoutingStrategy,
    last_for_authorisation: Option<Uuid>,
    prefer: Option<Uuid>,
) -> Option<Uuid> {
    let mut with_room: Vec<&Candidate> = candidates.iter().filter(|c| c.has_room()).collect();
    if let Some(preferred) = prefer.filter(|p| with_room.iter().any(|c| c.id == *p)) {
        return Some(preferred);
    }
    match strategy {
        RoutingStrategy::LeastLoaded => {
            with_room.sort_by_key(|c| (c.open_tasks, c.last_assigned_at, c.id));
            with_room.first().map(|c| c.id)
        }
        RoutingStrategy::RoundRobin => {
            with_room.sort_by_key(|c| c.id);
            let next = last_for_authorisation
                .and_then(|last| with_room.iter().find(|c| c.id > last))
                .or(with_room.first());
            next.map(|c| c.id)
        }
    }
}

/// Tries to assign an unassigned task of a request of `organisation_id`; returns the checker
/// it went to, if any.
pub async fn route(
    txn: &DatabaseTransaction,
    task: &task::Model,
    organisation_id: Uuid,
    strategy: RoutingStrategy,
    prefer: Option<Uuid>,
) -> Result<Option<Uuid>, sea_orm::DbErr> {
    // A sandbox request's tasks go to no person: the sandbox completes them.
    if task.sandbox {
        return Ok(None);
    }
    let mut candidates = candidates(txn, task, organisation_id).await?;
    let last = match strategy {
        RoutingStrategy::RoundRobin => {
            routing_cursor::Entity::find_by_id(task.authorisation.clone())
                .one(txn)
                .await?
                .map(|c| c.last_checker_id)
        }
        RoutingStrategy::LeastLoaded => None,
    };
    // Only the chosen checker's row is locked, and their open tasks counted again under the
    // lock: two transactions cannot both fill a checker's last slot. A checker another
    // transaction is assigning to right now is passed over for the next best (no waiting,
    // so no deadlock); only when every candidate is busy does this wait for one.
    let mut busy = Vec::new();
    let chosen = loop {
        let Some(chosen) = choose(&candidates, strategy, last, prefer) else {
            break None;
        };
        candidates.retain(|c| c.id != chosen);
        match has_room_locked(txn, chosen, false).await? {
            Some(true) => break Some(chosen),
            Some(false) => {}
            None => busy.push(chosen),
        }
    };
    let chosen = match chosen {
        Some(chosen) => chosen,
        None => {
            let mut waited = None;
            for checker in busy {
                if has_room_locked(txn, checker, true).await? == Some(true) {
                    waited = Some(checker);
                    break;
                }
            }
            match waited {
                Some(checker) => checker,
                None => return Ok(None),
            }
        }
    };
    assign(txn, task, chosen).await?;
    if strategy == RoutingStrategy::RoundRobin {
        let row = routing_cursor::ActiveModel {
            key: Set(task.authorisation.clone()),
            last_checker_id: Set(chosen),
        };
        routing_cursor::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(routing_cursor::Column::Key)
                    .update_column(routing_cursor::Column::LastCheckerId)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(Some(chosen))
}

/// Whether `checker_id` may still do the task, the cap aside (checked again at completion and
/// after a change to the checker).
pub async fn is_eligible(
    txn: &impl ConnectionTrait,
    task: &task::Model,
    organisation_id: Uuid,
    checker_id: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    Ok(eligible(task, organisation_id)
        .filter(checker::Column::Id.eq(checker_id))
        .one(txn)
        .await?
        .is_some())
}

/// Takes the task from its assignee, back to routing, guarded by the task's version;
/// `exclude` never gets it again, and `overdue` flags it. `false` if it changed meanwhile.
pub async fn unassign(
    txn: &DatabaseTransaction,
    task: &task::Model,
    exclude: Option<Uuid>,
    overdue: bool,
) -> Result<bool, sea_orm::DbErr> {
    let mut update = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(UNASSIGNED))
        .col_expr(task::Column::AssigneeId, Expr::value(Option::<Uuid>::None))
        .col_expr(task::Column::Version, Expr::value(task.version + 1));
    if let Some(checker) = exclude {
        let mut excluded = excluded(task);
        excluded.push(checker);
        update = update.col_expr(
            task::Column::Excluded,
            Expr::value(serde_json::json!(excluded)),
        );
    }
    if overdue {
        update = update.col_expr(task::Column::Overdue, Expr::value(true));
    }
    let moved = update
        .filter(task::Column::Id.eq(task.id))
        .filter(task::Column::Version.eq(task.version))
        .exec(txn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Locks the checker's row (PostgreSQL; SQLite's writer is alone anyway) and tells whether
/// they are still under their cap; `None` when another transaction holds the row and `wait`
/// is false.
async fn has_room_locked(
    txn: &DatabaseTransaction,
    checker_id: Uuid,
    wait: bool,
) -> Result<Option<bool>, sea_orm::DbErr> {
    let mut query = checker::Entity::find_by_id(checker_id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        query = if wait {
            query.lock_exclusive()
        } else {
            query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        };
    }
    let Some(checker) = query.one(txn).await? else {
        return Ok(None);
    };
    let open = open_task_counts(txn, vec![checker_id]).await?;
    let candidate = Candidate {
        id: checker_id,
        open_tasks: open.get(&checker_id).copied().unwrap_or(0),
        max_open_tasks: checker.max_open_tasks,
        last_assigned_at: checker.last_assigned_at,
    };
    Ok(Some(candidate.has_room()))
}

/// Gives the task to `checker`, guarded by the task's version; `false` if it changed meanwhile.
pub async fn assign(
    txn: &DatabaseTransaction,
    task: &task::Model,
    checker_id: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    let now = db::now();
    let moved = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(ASSIGNED))
        .col_expr(task::Column::AssigneeId, Expr::value(checker_id))
        .col_expr(task::Column::AssignedAt, Expr::value(now))
        .col_expr(task::Column::Version, Expr::value(task.version + 1))
        .filter(task::Column::Id.eq(task.id))
        .filter(task::Column::Version.eq(task.version))
        .filter(task::Column::Status.eq(UNASSIGNED))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(false);
    }
    checker::Entity::update_many()
        .col_expr(checker::Column::LastAssignedAt, Expr::value(now))
        .filter(checker::Column::Id.eq(checker_id))
        .exec(txn)
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(n: u128, open: u64, cap: i32, last: Option<i64>) -> Candidate {
        Candidate {
            id: Uuid::from_u128(n),
            open_tasks: open,
            max_open_tasks: cap,
            last_assigned_at: last.map(|s| {
                time::PrimitiveDateTime::new(time::Date::MIN, time::Time::MIDNIGHT)
                    + time::Duration::seconds(s)
            }),
        }
    }

    #[test]
    fn least_loaded_takes_fewest_open_tasks_then_least_recently_assigned() {
        let all = [
            candidate(1, 2, 5, Some(10)),
            candidate(2, 1, 5, Some(30)),
            candidate(3, 1, 5, Some(20)),
        ];
        let chosen = choose(&all, RoutingStrategy::LeastLoaded, None, None);
        assert_eq!(chosen, Some(Uuid::from_u128(3)));
        // Never assigned before goes first among equals.
        let all = [candidate(1, 0, 5, Some(10)), candidate(2, 0, 5, None)];
        let chosen = choose(&all, RoutingStrategy::LeastLoaded, None, None);
        assert_eq!(chosen, Some(Uuid::from_u128(2)));
    }

    #[test]
    fn a_capped_checker_or_a_cap_of_zero_is_never_chosen() {
        let all = [candidate(1, 3, 3, None), candidate(2, 0, 0, None)];
        for strategy in [RoutingStrategy::LeastLoaded, RoutingStrategy::RoundRobin] {
            assert_eq!(choose(&all, strategy, None, None), None);
            assert_eq!(
                choose(&all, strategy, None, Some(Uuid::from_u128(1))),
                None,
                "not even when preferred"
            );
        }
    }

    #[test]
    fn round_robin_takes_the_next_after_the_last_and_wraps() {
        let all = [
            candidate(1, 4, 5, None),
            candidate(2, 0, 5, None),
            candidate(3, 0, 5, None),
        ];
        let rr = RoutingStrategy::RoundRobin;
        assert_eq!(choose(&all, rr, None, None), Some(Uuid::from_u128(1)));
        assert_eq!(
            choose(&all, rr, Some(Uuid::from_u128(1)), None),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(
            choose(&all, rr, Some(Uuid::from_u128(3)), None),
            Some(Uuid::from_u128(1))
        );
    }

    #[test]
    fn a_preferred_checker_with_room_wins() {
        let all = [candidate(1, 0, 5, None), candidate(2, 3, 5, None)];
        let chosen = choose(
            &all,
            RoutingStrategy::LeastLoaded,
            None,
            Some(Uuid::from_u128(2)),
        );
        assert_eq!(chosen, Some(Uuid::from_u128(2)));
    }
}
