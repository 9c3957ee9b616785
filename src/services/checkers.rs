//! Checkers: the people who perform checks. Their authorisations, supervisor flag, open-task
//! cap and conflicts of interest decide which tasks they may be given.
use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    auth::cache::commit_principal_change,
    db,
    domain::{Authorisation, Email, Role, text},
    error::{AppError, AppResult, FieldError},
    pagination::PageRequest,
    services::AppState,
    services::users::{NewUser, insert_user},
    validation::Fields,
};
use entity::{checker, checker_authorisation, checker_conflict, organisation, user};

/// A checker as the API shows it: the user and the checker-specific settings together.
#[derive(Clone, Debug)]
pub struct CheckerView {
    pub user: user::Model,
    pub supervisor: bool,
    pub max_open_tasks: i32,
    pub authorisations: BTreeSet<Authorisation>,
    pub conflicts: BTreeSet<Uuid>,
}

pub struct NewChecker {
    pub email: Email,
    pub name: String,
    pub authorisations: BTreeSet<Authorisation>,
    pub supervisor: bool,
    pub max_open_tasks: i32,
    pub conflicts: BTreeSet<Uuid>,
}

#[derive(Default)]
pub struct CheckerChange {
    pub name: Option<String>,
    pub authorisations: Option<BTreeSet<Authorisation>>,
    pub supervisor: Option<bool>,
    pub max_open_tasks: Option<i32>,
    pub conflicts: Option<BTreeSet<Uuid>>,
    pub active: Option<bool>,
}

/// The most open tasks a checker can be given at once.
pub const MAX_TASK_CAP: i64 = 10_000;
/// The most organisations one checker can be in conflict with.
const MAX_CONFLICTS: usize = 1000;

fn check_cap(cap: i64) -> Result<i32, String> {
    if (0..=MAX_TASK_CAP).contains(&cap) {
        Ok(cap as i32)
    } else {
        Err(format!("must be between 0 and {MAX_TASK_CAP}"))
    }
}

fn check_conflict_count(f: &mut Fields, conflicts: &[Uuid]) {
    if conflicts.len() > MAX_CONFLICTS {
        f.error(
            "conflicts",
            format!("must name at most {MAX_CONFLICTS} organisations"),
        );
    }
}

impl NewChecker {
    /// A new checker as submitted (the API's JSON or the console's form), every error at once.
    pub fn validate(
        email: &str,
        name: &str,
        authorisations: Vec<Authorisation>,
        supervisor: bool,
        max_open_tasks: i64,
        conflicts: Vec<Uuid>,
    ) -> AppResult<NewChecker> {
        let mut f = Fields::default();
        let email = f.check("email", Email::parse(email));
        let name = f.check("name", text::required(name, 200));
        let cap = f.check("max_open_tasks", check_cap(max_open_tasks));
        check_conflict_count(&mut f, &conflicts);
        f.finish(|| {
            Some(NewChecker {
                email: email?,
                name: name?,
                authorisations: authorisations.into_iter().collect(),
                supervisor,
                max_open_tasks: cap?,
                conflicts: conflicts.into_iter().collect(),
            })
        })
    }
}

impl CheckerChange {
    /// A change as submitted; what is `None` stays as it is.
    pub fn validate(
        name: Option<&str>,
        authorisations: Option<Vec<Authorisation>>,
        supervisor: Option<bool>,
        max_open_tasks: Option<i64>,
        conflicts: Option<Vec<Uuid>>,
        active: Option<bool>,
    ) -> AppResult<CheckerChange> {
        let mut f = Fields::default();
        let name = name.map(|n| f.check("name", text::required(n, 200)));
        let cap = max_open_tasks.map(|c| f.check("max_open_tasks", check_cap(c)));
        if let Some(conflicts) = &conflicts {
            check_conflict_count(&mut f, conflicts);
        }
        f.finish(|| {
            Some(CheckerChange {
                name: name.flatten(),
                authorisations: authorisations.map(|a| a.into_iter().collect()),
                supervisor,
                max_open_tasks: cap.flatten(),
                conflicts: conflicts.map(|c| c.into_iter().collect()),
                active,
            })
        })
    }
}

/// Every conflict must name an existing organisation.
async fn check_conflicts(conn: &impl ConnectionTrait, conflicts: &BTreeSet<Uuid>) -> AppResult<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let known: BTreeSet<Uuid> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(conflicts.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    if known.len() != conflicts.len() {
        let errors = conflicts
            .iter()
            .enumerate()
            .filter(|(_, id)| !known.contains(id))
            .map(|(i, id)| {
                FieldError::new(format!("conflicts[{i}]"), format!("no organisation {id}"))
            })
            .collect();
        return Err(AppError::Validation(errors));
    }
    Ok(())
}

async fn replace_authorisations(
    conn: &impl ConnectionTrait,
    checker_id: Uuid,
    authorisations: &BTreeSet<Authorisation>,
) -> Result<(), sea_orm::DbErr> {
    checker_authorisation::Entity::delete_many()
        .filter(checker_authorisation::Column::CheckerId.eq(checker_id))
        .exec(conn)
        .await?;
    if !authorisations.is_empty() {
        checker_authorisation::Entity::insert_many(authorisations.iter().map(|a| {
            checker_authorisation::ActiveModel {
                checker_id: Set(checker_id),
                authorisation: Set(a.as_str().to_owned()),
            }
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

async fn replace_conflicts(
    conn: &impl ConnectionTrait,
    checker_id: Uuid,
    conflicts: &BTreeSet<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    checker_conflict::Entity::delete_many()
        .filter(checker_conflict::Column::CheckerId.eq(checker_id))
        .exec(conn)
        .await?;
    if !conflicts.is_empty() {
        checker_conflict::Entity::insert_many(conflicts.iter().map(|id| {
            checker_conflict::ActiveModel {
                checker_id: Set(checker_id),
                organisation_id: Set(*id),
            }
        }))
        .exec(conn)
        .await?;
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    new: NewChecker,
) -> AppResult<(CheckerView, String)> {
    let txn = db::begin_write(&state.db_write).await?;
    check_conflicts(&txn, &new.conflicts).await?;
    let user = insert_user(
        &txn,
        NewUser {
            email: new.email,
            name: new.name,
            role: Role::Checker,
        },
        None,
    )
    .await?;
    checker::ActiveModel {
        id: Set(user.id),
        supervisor: Set(new.supervisor),
        max_open_tasks: Set(new.max_open_tasks),
        last_assigned_at: Set(None),
    }
    .insert(&txn)
    .await?;
    replace_authorisations(&txn, user.id, &new.authorisations).await?;
    replace_conflicts(&txn, user.id, &new.conflicts).await?;
    let token = super::issue_activation_token(state, &txn, &user).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "checker.created",
        audit::target("checker", user.id),
        json!({
            "authorisations": new.authorisations.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "supervisor": new.supervisor,
            "max_open_tasks": new.max_open_tasks,
            "conflicts": new.conflicts,
        }),
    )
    .await?;
    let view = load_views(&txn, vec![user])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    // Waiting tasks this checker can take are theirs now.
    crate::engine::tasks::assign_waiting(&state.engine, &txn).await?;
    txn.commit().await?;
    Ok((view, token))
}

/// Adds the checker settings to users whose role is `checker`.
async fn load_views(
    conn: &impl ConnectionTrait,
    users: Vec<user::Model>,
) -> AppResult<Vec<CheckerView>> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let checkers: HashMap<Uuid, checker::Model> = checker::Entity::find()
        .filter(checker::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut authorisations: HashMap<Uuid, BTreeSet<Authorisation>> = HashMap::new();
    for row in checker_authorisation::Entity::find()
        .filter(checker_authorisation::Column::CheckerId.is_in(ids.clone()))
        .all(conn)
        .await?
    {
        if let Some(a) = Authorisation::parse(&row.authorisation) {
            authorisations.entry(row.checker_id).or_default().insert(a);
        }
    }
    let mut conflicts: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for row in checker_conflict::Entity::find()
        .filter(checker_conflict::Column::CheckerId.is_in(ids))
        .all(conn)
        .await?
    {
        conflicts
            .entry(row.checker_id)
            .or_default()
            .insert(row.organisation_id);
    }
    Ok(users
        .into_iter()
        .filter_map(|user| {
            let settings = checkers.get(&user.id)?;
            Some(CheckerView {
                supervisor: settings.supervisor,
                max_open_tasks: settings.max_open_tasks,
                authorisations: authorisations.remove(&user.id).unwrap_or_default(),
                conflicts: conflicts.remove(&user.id).unwrap_or_default(),
                user,
            })
        })
        .collect())
}

/// The checker view of a user, if the user is a checker.
pub async fn view(
    conn: &impl ConnectionTrait,
    user: user::Model,
) -> AppResult<Option<CheckerView>> {
    Ok(load_views(conn, vec![user]).await?.pop())
}

pub async fn list(state: &AppState, page: PageRequest) -> AppResult<Vec<CheckerView>> {
    let mut query = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Checker.as_str()))
        .order_by_asc(user::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(user::Column::Id.gt(after));
    }
    let users = query.limit(page.limit + 1).all(&state.db).await?;
    load_views(&state.db, users).await
}

pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<CheckerView> {
    let user = user::Entity::find_by_id(id)
        .filter(user::Column::Role.eq(Role::Checker.as_str()))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    view(conn, user).await?.ok_or(AppError::NotFound)
}

/// Changes a checker. Deactivation revokes their sessions at once.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    change: CheckerChange,
) -> AppResult<CheckerView> {
    let txn = db::begin_write(&state.db_write).await?;
    let current = get(&txn, id).await?;
    // What a checker may see and decide is changed with a fresh second factor.
    let changes_rights = change
        .authorisations
        .as_ref()
        .is_some_and(|a| *a != current.authorisations)
        || change.supervisor.is_some_and(|s| s != current.supervisor);
    if changes_rights {
        super::factors::require_recent_factor(state, principal)?;
    }
    let mut details = serde_json::Map::new();

    if let Some(conflicts) = change.conflicts.filter(|c| *c != current.conflicts) {
        check_conflicts(&txn, &conflicts).await?;
        replace_conflicts(&txn, id, &conflicts).await?;
        details.insert("conflicts".into(), json!(conflicts));
    }
    if let Some(authorisations) = change
        .authorisations
        .filter(|a| *a != current.authorisations)
    {
        replace_authorisations(&txn, id, &authorisations).await?;
        details.insert(
            "authorisations".into(),
            json!(
                authorisations
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
            ),
        );
    }
    let supervisor = change.supervisor.filter(|s| *s != current.supervisor);
    let cap = change
        .max_open_tasks
        .filter(|c| *c != current.max_open_tasks);
    if supervisor.is_some() || cap.is_some() {
        let mut row = checker::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?
            .into_active_model();
        if let Some(s) = supervisor {
            row.supervisor = Set(s);
            details.insert("supervisor".into(), json!(s));
        }
        if let Some(c) = cap {
            row.max_open_tasks = Set(c);
            details.insert("max_open_tasks".into(), json!(c));
        }
        row.update(&txn).await?;
    }
    let name = change.name.filter(|n| *n != current.user.name);
    let active = change.active.filter(|a| *a != current.user.active);
    if name.is_some() || active.is_some() {
        let mut row = current.user.clone().into_active_model();
        if let Some(n) = name {
            row.name = Set(n);
            details.insert("name_changed".into(), json!(true));
        }
        if let Some(a) = active {
            row.active = Set(a);
            details.insert("active".into(), json!(a));
            if !a {
                super::revoke_sessions(&txn, id).await?;
            }
        }
        row.update(&txn).await?;
    }
    if details.is_empty() {
        return Ok(current);
    }
    audit::record(
        &txn,
        &principal.actor(),
        "checker.updated",
        audit::target("checker", id),
        details.into(),
    )
    .await?;
    let view = get(&txn, id).await?;
    // Open tasks they may no longer do go elsewhere; waiting ones they now can are theirs.
    super::tasks::reroute_after_checker_change(state, &txn, id).await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(view)
}
