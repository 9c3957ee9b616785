//! Organisation API keys: the key is shown once at creation; only its hash is kept.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::cache::commit_principal_change,
    auth::{Principal, PrincipalKind, tokens},
    db,
    error::{AppError, AppResult},
    pagination::PageRequest,
    services::AppState,
    services::organisations,
};
use entity::api_key;

/// Random characters of the key kept for display after its prefix.
const DISPLAY_RANDOM_LEN: usize = 8;

/// A new key of the organisation; a `sandbox` one (`ss_test_…`) makes sandbox requests.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    name: String,
    sandbox: bool,
) -> AppResult<(api_key::Model, String)> {
    organisations::visible(&state.db, principal, organisation_id).await?;
    let prefix = if sandbox {
        tokens::SANDBOX_KEY_PREFIX
    } else {
        tokens::API_KEY_PREFIX
    };
    let new = tokens::generate(prefix);
    let txn = db::begin_write(&state.db_write).await?;
    let key = api_key::ActiveModel {
        id: Set(db::new_id()),
        organisation_id: Set(organisation_id),
        name: Set(name),
        prefix: Set(new.token[..prefix.len() + DISPLAY_RANDOM_LEN].to_owned()),
        key_hash: Set(new.hash),
        created_by: Set((principal.kind == PrincipalKind::User).then_some(principal.id)),
        created_at: Set(db::now()),
        revoked_at: Set(None),
        sandbox: Set(sandbox),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &principal.actor(),
        "api_key.created",
        audit::target("api_key", key.id),
        json!({"organisation_id": organisation_id, "sandbox": sandbox}),
    )
    .await?;
    txn.commit().await?;
    Ok((key, new.token))
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    page: PageRequest,
) -> AppResult<Vec<api_key::Model>> {
    organisations::visible(&state.db, principal, organisation_id).await?;
    let mut query = api_key::Entity::find()
        .filter(api_key::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(api_key::Column::Id);
    if let Some(after) = page.after {
        query = query.filter(api_key::Column::Id.gt(after));
    }
    Ok(query.limit(page.limit + 1).all(&state.db).await?)
}

/// Revokes a key; every later request with it is rejected. Revoking again changes nothing.
pub async fn revoke(
    state: &AppState,
    principal: &Principal,
    organisation_id: Uuid,
    key_id: Uuid,
) -> AppResult<()> {
    organisations::visible(&state.db, principal, organisation_id).await?;
    let txn = db::begin_write(&state.db_write).await?;
    let key = api_key::Entity::find_by_id(key_id)
        .filter(api_key::Column::OrganisationId.eq(organisation_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if key.revoked_at.is_some() {
        return Ok(());
    }
    let mut row = key.into_active_model();
    row.revoked_at = Set(Some(db::now()));
    row.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "api_key.revoked",
        audit::target("api_key", key_id),
        json!({"organisation_id": organisation_id}),
    )
    .await?;
    commit_principal_change(&state.principals, txn).await?;
    Ok(())
}
