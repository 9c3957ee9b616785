//! An organisation's users: created with an activation token, listed, deactivated or given
//! another role by the admin or the organisation's org_admin.
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
    domain::{Email, OrgRole, Role},
    error::{AppError, AppResult, conflict_on_unique},
    pagination::PageRequest,
    services::AppState,
    services::organisations,
};
use entity::user;

pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
}

pub struct UserChange {
    pub active: Option<bool>,
    pub role: Option<OrgRole>,
}

pub const DUPLICATE_EMAIL: &str = "a user with this e-mail address exists";

/// Inserts a user, answering 409 when the e-mail address is taken.
pub(crate) async fn insert_user(
    conn: &impl ConnectionTrait,
    new: NewUser,
    organisation_id: Option<Uuid>,
) -> AppResult<user::Model> {
    let taken = user::Entity::find()
        .filter(user::Column::Email.eq(new.email.as_str()))
        .one(conn)
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(DUPLICATE_EMAIL.into()));
    }
    user::ActiveModel {
        id: Set(db::new_id()),
        email: Set(new.email.into_string()),
        name: Set(new.name),
        role: Set(new.role.as_str().to_owned()),
        organisation_id: Set(organisation_id),
        password_hash: Set(None),
        active: Set(true),
        created_at: Set(db::now()),
        activated_at: Set(None),
        second_factor_failures: Set(0),
    }
    .insert(conn)
    .await
    .map_err(conflict_on_unique(DUPLICATE_EMAIL))
}

async fn member(
    conn: &impl ConnectionTrait,
    organisation_id: Uuid,
    user_id: Uuid,
) -> AppResult<user::Model> {
    user::Entity::find_by_id(user_id)
        .filter(user::Column::OrganisationId.eq(organisation_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    new: NewUser,
) -> AppResult<(user::Model, String)> {
    let txn = db::begin_write(&state.db_write).await?;
    organisations::visible(&txn, principal, organisation_id).await?;
    let role = new.role;
    let user = insert_user(&txn, new, Some(organisation_id)).await?;
    let token = super::issue_activation_token(state, &txn, &user).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "user.created",
        audit::target("user", user.id),
        json!({"organisation_id": organisation_id, "role": role.as_str()}),
    )
    .await?;
    txn.commit().await?;
    Ok((user, token))
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<user::Model>> {
    organisations::visible(&state.db, principal, organisation_id).await?;
    let mut query = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(user::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(user::Column::Id.gt(after));
    }
    Ok(query.limit(page.limit + 1).all(&state.db).await?)
}

/// Deactivation revokes the user's sessions in the same transaction: they stop working at once.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    user_id: Uuid,
    change: UserChange,
) -> AppResult<user::Model> {
    let txn = db::begin_write(&state.db_write).await?;
    organisations::visible(&txn, principal, organisation_id).await?;
    let user = member(&txn, organisation_id, user_id).await?;
    let mut row = user.clone().into_active_model();
    let mut details = serde_json::Map::new();
    if let Some(active) = change.active.filter(|a| *a != user.active) {
        row.active = Set(active);
        details.insert("active".into(), json!(active));
    }
    if let Some(role) = change
        .role
        .map(Role::from)
        .filter(|r| r.as_str() != user.role)
    {
        row.role = Set(role.as_str().to_owned());
        details.insert("role".into(), json!(role.as_str()));
    }
    if details.is_empty() {
        return Ok(user);
    }
    let user = row.update(&txn).await?;
    if !user.active {
        super::revoke_sessions(&txn, user.id).await?;
    }
    audit::record(
        &txn,
        &principal.actor(),
        "user.updated",
        audit::target("user", user.id),
        details.into(),
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(user)
}

/// A new activation token (also a password reset); earlier unused tokens stop working.
pub async fn new_activation(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    user_id: Uuid,
) -> AppResult<String> {
    let txn = db::begin_write(&state.db_write).await?;
    organisations::visible(&txn, principal, organisation_id).await?;
    let user = member(&txn, organisation_id, user_id).await?;
    if !user.active {
        return Err(AppError::Conflict(
            "the user is deactivated; activate them first".into(),
        ));
    }
    let token = super::issue_activation_token(state, &txn, &user).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "user.activation_issued",
        audit::target("user", user.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(token)
}
