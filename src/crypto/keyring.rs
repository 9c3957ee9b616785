//! The certificate signing keys, kept in the database sealed under the data key so every
//! process signs and publishes the same keys; opened once per process.
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use ed25519_dalek::{SigningKey, VerifyingKey};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::DataKey;
use crate::error::AppResult;
use entity::signing_key;

/// An Ed25519 key whose 32-byte seed is sealed under `record_id` (a certificate signing key,
/// the audit checkpoint key); none when it does not open.
pub async fn open_signing_key(
    data_key: &DataKey,
    record_id: uuid::Uuid,
    sealed: &[u8],
) -> Option<SigningKey> {
    let seed: [u8; 32] = data_key
        .open(record_id, sealed)
        .await
        .ok()?
        .try_into()
        .ok()?;
    Some(SigningKey::from_bytes(&seed))
}

/// An opened signing key.
pub struct KeyPair {
    pub kid: String,
    pub signing: SigningKey,
    pub verifying: VerifyingKey,
    /// Signs the sandbox's certificates: never published, never valid.
    pub sandbox: bool,
}

/// Opened keys by kid. Keys never change once stored (rotation adds one and retires the
/// others), so an entry never goes stale; which key signs is read from the database.
#[derive(Default)]
pub struct Keyring {
    keys: RwLock<HashMap<String, Arc<KeyPair>>>,
}

impl Keyring {
    /// The key with this kid, if this process has opened it.
    pub fn cached(&self, kid: &str) -> Option<Arc<KeyPair>> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    fn put(&self, pair: KeyPair) -> Arc<KeyPair> {
        let pair = Arc::new(pair);
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(pair.kid.clone(), Arc::clone(&pair));
        }
        pair
    }

    /// The key with this kid, opened (from the keyring, else the database).
    pub async fn key(
        &self,
        data_key: &DataKey,
        conn: &impl ConnectionTrait,
        kid: &str,
    ) -> AppResult<Option<Arc<KeyPair>>> {
        if let Some(pair) = self.cached(kid) {
            return Ok(Some(pair));
        }
        let Some(row) = signing_key::Entity::find()
            .filter(signing_key::Column::Kid.eq(kid))
            .one(conn)
            .await?
        else {
            return Ok(None);
        };
        let signing = open_signing_key(data_key, row.id, &row.secret_sealed)
            .await
            .ok_or_else(|| anyhow::anyhow!("signing key {kid} does not open under the data key"))?;
        Ok(Some(self.put(KeyPair {
            kid: row.kid,
            verifying: signing.verifying_key(),
            signing,
            sandbox: row.sandbox,
        })))
    }

    /// The key that signs now: the newest one not retired.
    pub async fn current(
        &self,
        data_key: &DataKey,
        conn: &impl ConnectionTrait,
    ) -> AppResult<Arc<KeyPair>> {
        let kid = signing_key::Entity::find()
            .filter(signing_key::Column::Sandbox.eq(false))
            .filter(signing_key::Column::RetiredAt.is_null())
            .order_by_desc(signing_key::Column::CreatedAt)
            .order_by_desc(signing_key::Column::Kid)
            .one(conn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no signing key; the service creates one at start-up"))?
            .kid;
        self.key(data_key, conn, &kid)
            .await?
            .ok_or_else(|| anyhow::anyhow!("signing key {kid} vanished").into())
    }

    /// The key that signs the sandbox's certificates, made the first time one is needed (in
    /// the transaction that needs it). It is kept apart from the live keys: the JWKS leaves it
    /// out and verification answers `invalid` / `sandbox` for what it signed.
    pub async fn sandbox(
        &self,
        data_key: &DataKey,
        conn: &impl ConnectionTrait,
    ) -> AppResult<Arc<KeyPair>> {
        let existing = signing_key::Entity::find()
            .filter(signing_key::Column::Sandbox.eq(true))
            .order_by_desc(signing_key::Column::CreatedAt)
            .one(conn)
            .await?;
        if let Some(row) = existing {
            return self
                .key(data_key, conn, &row.kid)
                .await?
                .ok_or_else(|| anyhow::anyhow!("sandbox signing key vanished").into());
        }
        let signing = super::signing::generate();
        let kid = super::signing::kid_of(&signing.verifying_key());
        let id = crate::db::new_id();
        signing_key::Entity::insert(signing_key::ActiveModel {
            id: Set(id),
            kid: Set(kid.clone()),
            public_key: Set(signing.verifying_key().as_bytes().to_vec()),
            secret_sealed: Set(data_key.seal(id, signing.as_bytes())),
            created_at: Set(crate::db::now()),
            retired_at: Set(None),
            sandbox: Set(true),
        })
        .exec_without_returning(conn)
        .await?;
        Ok(self.put(KeyPair {
            kid,
            verifying: signing.verifying_key(),
            signing,
            sandbox: true,
        }))
    }
}
