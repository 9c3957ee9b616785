//! The published workflow definitions, parsed once per process: a published version never
//! changes, so each is read from the database and parsed the first time a request needs it.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use sea_orm::{ConnectionTrait, EntityTrait};

use super::definition::{self, Definition};
use crate::error::{AppError, AppResult};
use entity::workflow_definition;

/// Parsed definitions by (key, version).
#[derive(Default)]
pub struct Definitions {
    parsed: RwLock<HashMap<(String, i32), Arc<Definition>>>,
}

impl Definitions {
    /// The definition a request runs. On a miss it is read through `conn`: inside a
    /// transaction, pass the transaction, so that the command never waits for a second pool
    /// connection while holding its locks.
    pub async fn get(
        &self,
        conn: &impl ConnectionTrait,
        key: &str,
        version: i32,
    ) -> AppResult<Arc<Definition>> {
        let cache_key = (key.to_owned(), version);
        if let Some(found) = self
            .parsed
            .read()
            .ok()
            .and_then(|c| c.get(&cache_key).cloned())
        {
            return Ok(found);
        }
        let loaded = Arc::new(load(conn, key, version).await?);
        if let Ok(mut cache) = self.parsed.write() {
            cache.insert(cache_key, loaded.clone());
        }
        Ok(loaded)
    }
}

/// A published version as stored.
pub async fn stored(
    conn: &impl ConnectionTrait,
    key: &str,
    version: i32,
) -> AppResult<workflow_definition::Model> {
    workflow_definition::Entity::find_by_id((key.to_owned(), version))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A published version, parsed.
pub async fn load(conn: &impl ConnectionTrait, key: &str, version: i32) -> AppResult<Definition> {
    let row = stored(conn, key, version).await?;
    definition::parse(&row.definition).map_err(|errors| {
        AppError::Internal(anyhow::anyhow!(
            "stored definition {key} v{version} is invalid: {errors:?}"
        ))
    })
}
