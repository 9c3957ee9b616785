//! The data keys, kept in the database wrapped under the master key (`SAFESCREEN_DATA_KEY`):
//! opened at start-up, re-wrapped when the master key changes, and loaded on demand when a
//! value names a key this process has not opened yet (another process rotated).
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, Payload},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use serde_json::json;

use super::sealing::{self, DataKey, FIRST_KEY, SealError};
use crate::{audit, db};
use entity::{data_key, signing_key};

const NONCE_LEN: usize = 24;

/// Where a keyring loads data keys it has not opened: the database, through the master key.
pub struct Store {
    db: DatabaseConnection,
    master: XChaCha20Poly1305,
}

impl Store {
    pub fn wrap(&self, key_id: u32, key: &[u8; 32]) -> Vec<u8> {
        wrap(&self.master, key_id, key)
    }

    /// A key that is in the database and not retired, unwrapped.
    pub async fn load(&self, key_id: u32) -> Result<Option<[u8; 32]>, SealError> {
        let row = data_key::Entity::find_by_id(key_id as i32)
            .one(&self.db)
            .await
            .map_err(|e| SealError::Store(e.to_string()))?;
        let Some(wrapped) = row.and_then(|row| row.wrapped) else {
            return Ok(None);
        };
        unwrap(&self.master, key_id, &wrapped)
            .map(Some)
            .ok_or(SealError::Forged)
    }
}

/// A key that can still seal and open: not retired, its material not deleted.
fn usable(row: &data_key::Model) -> bool {
    row.retired_at.is_none() && row.wrapped.is_some()
}

/// The key that seals: the newest usable one.
pub fn current_of(rows: &[data_key::Model]) -> Option<u32> {
    rows.iter()
        .filter(|row| usable(row))
        .map(|row| row.id as u32)
        .max()
}

fn wrap_aad(key_id: u32) -> Vec<u8> {
    [b"safescreen data key ".as_slice(), &key_id.to_be_bytes()].concat()
}

/// `nonce ‖ ciphertext+tag` of a data key under the master key, its id as associated data.
pub fn wrap(master: &XChaCha20Poly1305, key_id: u32, key: &[u8; 32]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let sealed = master
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: key,
                aad: &wrap_aad(key_id),
            },
        )
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
    [nonce.as_slice(), &sealed].concat()
}

pub fn unwrap(master: &XChaCha20Poly1305, key_id: u32, wrapped: &[u8]) -> Option<[u8; 32]> {
    let nonce: [u8; NONCE_LEN] = wrapped.get(..NONCE_LEN)?.try_into().ok()?;
    let key = master
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &wrapped[NONCE_LEN..],
                aad: &wrap_aad(key_id),
            },
        )
        .ok()?;
    key.try_into().ok()
}

/// Opens the data keys at start-up and returns this process's keyring.
///
/// The first start of a database made before data keys had ids wraps the master key itself as
/// key 1 (every value was sealed under it), once it has checked that the key does open those
/// values; a new database gets a random key 1. When a key does not unwrap under the master
/// key but does under `previous`, it is re-wrapped under the master key (a master key change);
/// nothing else is re-sealed. A key that opens under neither refuses the start, and then
/// nothing has been written.
pub async fn open(
    write: &DatabaseConnection,
    read: &DatabaseConnection,
    master_key: [u8; 32],
    previous: Option<[u8; 32]>,
) -> anyhow::Result<DataKey> {
    let master = sealing::cipher(&master_key);
    let previous = previous.map(|key| sealing::cipher(&key));
    let txn = db::begin_write(write).await?;
    let rows = data_key::Entity::find()
        .order_by_asc(data_key::Column::Id)
        .all(&txn)
        .await?;
    let ring = DataKey::empty();
    if rows.is_empty() {
        let key = first_key(&txn, master_key).await?;
        data_key::ActiveModel {
            id: Set(FIRST_KEY as i32),
            wrapped: Set(Some(wrap(&master, FIRST_KEY, &key))),
            created_at: Set(db::now()),
            retired_at: Set(None),
        }
        .insert(&txn)
        .await?;
        ring.insert(FIRST_KEY, &key);
        ring.set_current(FIRST_KEY);
    } else {
        let mut rewrapped = Vec::new();
        let mut unopened = Vec::new();
        for row in rows.iter().filter(|row| row.retired_at.is_none()) {
            let id = row.id as u32;
            let Some(wrapped) = &row.wrapped else {
                continue;
            };
            if let Some(key) = unwrap(&master, id, wrapped) {
                ring.insert(id, &key);
            } else if let Some(key) = previous.as_ref().and_then(|p| unwrap(p, id, wrapped)) {
                data_key::Entity::update_many()
                    .col_expr(
                        data_key::Column::Wrapped,
                        Expr::value(wrap(&master, id, &key)),
                    )
                    .filter(data_key::Column::Id.eq(row.id))
                    .filter(data_key::Column::Wrapped.eq(wrapped.clone()))
                    .exec(&txn)
                    .await?;
                ring.insert(id, &key);
                rewrapped.push(id);
            } else {
                unopened.push(id);
            }
        }
        if !unopened.is_empty() {
            txn.rollback().await?;
            let keys = unopened
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            anyhow::bail!(match previous {
                None => format!(
                    "SAFESCREEN_DATA_KEY does not open data key {keys} of this database: the \
                     wrong master key, or a master key change without the old key in \
                     SAFESCREEN_DATA_KEY_PREVIOUS; nothing was changed"
                ),
                Some(_) => format!(
                    "neither SAFESCREEN_DATA_KEY nor SAFESCREEN_DATA_KEY_PREVIOUS opens data key \
                     {keys} of this database; nothing was changed"
                ),
            });
        }
        if !rewrapped.is_empty() {
            audit::record(
                &txn,
                audit::ACTOR_SYSTEM,
                "data_keys.rewrapped",
                None,
                json!({"keys": rewrapped}),
            )
            .await?;
            tracing::info!(keys = ?rewrapped, "re-wrapped the data keys under the new master key");
        }
        let current = current_of(&rows)
            .ok_or_else(|| anyhow::anyhow!("every data key of this database is retired"))?;
        ring.set_current(current);
    }
    txn.commit().await?;
    ring.set_source(std::sync::Arc::new(Store {
        db: read.clone(),
        master,
    }));
    Ok(ring)
}

/// Key 1: the master key itself for a database whose values were sealed before keys had ids
/// (checked against one of them, the signing key that every started database has), a random
/// key for a new one.
async fn first_key(
    txn: &sea_orm::DatabaseTransaction,
    master_key: [u8; 32],
) -> anyhow::Result<[u8; 32]> {
    let Some(existing) = signing_key::Entity::find().one(txn).await? else {
        return Ok(rand::random());
    };
    if DataKey::new(master_key)
        .open(existing.id, &existing.secret_sealed)
        .await
        .is_err()
    {
        anyhow::bail!(
            "SAFESCREEN_DATA_KEY does not open the data of this database (the wrong key?); \
             nothing was changed"
        );
    }
    Ok(master_key)
}

/// Brings this process up to date: the newest key seals, retired keys are forgotten. Every
/// `serve` process runs it each worker round (and at once on PostgreSQL's notification), so a
/// new key seals everywhere within a round; the rotation job waits longer than that before it
/// retires the old key.
pub async fn refresh(ring: &DataKey, db: &DatabaseConnection) -> Result<(), SealError> {
    let rows = data_key::Entity::find()
        .all(db)
        .await
        .map_err(|e| SealError::Store(e.to_string()))?;
    // The newest key first becomes current, and only then are retired ones forgotten: a seal
    // meanwhile always finds its key.
    if let Some(newest) = current_of(&rows)
        && newest != ring.current()
    {
        ring.load(newest).await?;
        ring.set_current(newest);
    }
    for row in rows.iter().filter(|row| !usable(row)) {
        ring.remove(row.id as u32);
    }
    Ok(())
}
