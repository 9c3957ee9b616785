//! Workflow definitions and screening profiles: published as data, versioned, immutable.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{Value, json};

use crate::{
    audit,
    auth::Principal,
    db,
    domain::{PositionRole, text},
    engine::definition::{self},
    error::{AppError, AppResult, conflict_on_unique},
    services::AppState,
    validation::Fields,
};
use entity::{screening_profile, workflow_definition};

pub async fn list_definitions(state: &AppState) -> AppResult<Vec<workflow_definition::Model>> {
    Ok(workflow_definition::Entity::find()
        .order_by_asc(workflow_definition::Column::Key)
        .order_by_asc(workflow_definition::Column::Version)
        .all(&state.db)
        .await?)
}

/// A published version as stored (404 when there is none).
pub use crate::engine::definitions::stored as get_definition;

/// Publishes a definition: the next version of its key.
pub async fn publish(
    state: &AppState,
    principal: &Principal,
    document: &Value,
) -> AppResult<workflow_definition::Model> {
    let parsed = definition::parse(document).map_err(AppError::Validation)?;
    let txn = db::begin_write(&state.db_write).await?;
    let latest = workflow_definition::Entity::find()
        .filter(workflow_definition::Column::Key.eq(parsed.key.as_str()))
        .order_by_desc(workflow_definition::Column::Version)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let version = latest.map_or(1, |d| d.version + 1);
    let row = workflow_definition::ActiveModel {
        key: Set(parsed.key.clone()),
        version: Set(version),
        title: Set(parsed.title.clone()),
        definition: Set(parsed.document.clone()),
        published_at: Set(db::now()),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(
        "another version of this definition was published meanwhile; try again",
    ))?;
    audit::record(
        &txn,
        &principal.actor(),
        "workflow_definition.published",
        Some(format!("workflow_definition:{}:{version}", parsed.key)),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The newest version of each profile, or every version.
pub async fn list_profiles(
    state: &AppState,
    all_versions: bool,
) -> AppResult<Vec<screening_profile::Model>> {
    let rows = screening_profile::Entity::find()
        .order_by_asc(screening_profile::Column::Code)
        .order_by_desc(screening_profile::Column::Version)
        .all(&state.db)
        .await?;
    if all_versions {
        return Ok(rows);
    }
    let mut newest: Vec<screening_profile::Model> = Vec::new();
    for row in rows {
        if newest.last().is_none_or(|p| p.code != row.code) {
            newest.push(row);
        }
    }
    Ok(newest)
}

/// The newest version of a profile.
pub async fn current_profile(
    conn: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<screening_profile::Model>> {
    Ok(screening_profile::Entity::find()
        .filter(screening_profile::Column::Code.eq(code))
        .order_by_desc(screening_profile::Column::Version)
        .limit(1)
        .one(conn)
        .await?)
}

pub struct NewProfile {
    pub code: String,
    pub title: String,
    pub description: String,
    pub workflow_key: String,
    pub workflow_version: i32,
    pub validity_months: i32,
    pub roles: Vec<PositionRole>,
    pub expiry_warning_days: i32,
}

/// A profile as submitted (the API's JSON or the console's form).
pub struct ProfileInput<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub workflow_key: &'a str,
    pub workflow_version: i32,
    pub validity_months: i64,
    pub roles: Vec<PositionRole>,
    pub expiry_warning_days: i64,
}

impl ProfileInput<'_> {
    /// Every field's errors at once, or the profile to publish (the workflow version's
    /// existence is checked when publishing).
    pub fn validate(self) -> AppResult<NewProfile> {
        let mut f = Fields::default();
        if !definition::is_slug(self.code, 64) {
            f.error(
                "code",
                "codes are 1–64 lower-case letters, digits, `_` or `-`",
            );
        }
        let title = f.check("title", text::required(self.title, 200));
        let description = f.check("description", text::required(self.description, 2000));
        if !(1..=120).contains(&self.validity_months) {
            f.error("validity_months", "must be between 1 and 120");
        }
        if !(0..=365).contains(&self.expiry_warning_days) {
            f.error("expiry_warning_days", "must be between 0 and 365");
        }
        if self.roles.is_empty() {
            f.error("roles", "must name at least one role");
        }
        f.finish(|| {
            let mut roles = self.roles;
            roles.sort();
            roles.dedup();
            Some(NewProfile {
                code: self.code.to_owned(),
                title: title?,
                description: description?,
                workflow_key: self.workflow_key.to_owned(),
                workflow_version: self.workflow_version,
                validity_months: self.validity_months as i32,
                roles,
                expiry_warning_days: self.expiry_warning_days as i32,
            })
        })
    }
}

/// A new profile, or the next version of one with the same code.
pub async fn publish_profile(
    state: &AppState,
    principal: &Principal,
    new: NewProfile,
) -> AppResult<screening_profile::Model> {
    let txn = db::begin_write(&state.db_write).await?;
    if workflow_definition::Entity::find_by_id((new.workflow_key.clone(), new.workflow_version))
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(AppError::validation(
            "workflow",
            "no such workflow definition version",
        ));
    }
    let latest = screening_profile::Entity::find()
        .filter(screening_profile::Column::Code.eq(new.code.as_str()))
        .order_by_desc(screening_profile::Column::Version)
        .lock_exclusive()
        .one(&txn)
        .await?;
    let version = latest.map_or(1, |p| p.version + 1);
    let row = screening_profile::ActiveModel {
        code: Set(new.code.clone()),
        version: Set(version),
        title: Set(new.title),
        description: Set(new.description),
        workflow_key: Set(new.workflow_key),
        workflow_version: Set(new.workflow_version),
        validity_months: Set(new.validity_months),
        roles: Set(json!(
            new.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()
        )),
        expiry_warning_days: Set(new.expiry_warning_days),
        created_at: Set(db::now()),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(
        "another version of this profile was published meanwhile; try again",
    ))?;
    audit::record(
        &txn,
        &principal.actor(),
        "screening_profile.published",
        Some(format!("screening_profile:{}:{version}", new.code)),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

pub fn profile_roles(profile: &screening_profile::Model) -> Vec<PositionRole> {
    profile
        .roles
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .filter_map(|r| r.as_str().and_then(PositionRole::parse))
                .collect()
        })
        .unwrap_or_default()
}
