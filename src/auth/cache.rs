//! Principals by token hash, so that most requests authenticate without a database round trip.
//!
//! Only on PostgreSQL, and only while this process listens for changes: every change that can
//! end or alter what a token stands for (a revoked key or session, a deactivated user, a new
//! role or supervisor flag) commits through [`commit_principal_change`], which sends a
//! `NOTIFY` in the same transaction and empties this process's cache at once; every other
//! `serve` process empties its cache when the notification arrives. While the listening
//! connection is down nothing is cached, and after it reconnects the cache starts empty, so a
//! missed notification cannot leave a revoked token working. (SQLite reads are local and
//! cheap, and several processes on one SQLite file could not notify each other: no cache.)
use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr};

use super::Principal;
use crate::state::AppState;

/// The PostgreSQL channel that announces principal changes.
const CHANNEL: &str = "safescreen_principals";
/// A cached principal is looked up again after this long, whatever happens.
const TTL: Duration = Duration::from_secs(60);
/// Beyond this many tokens the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 50_000;

#[derive(Default)]
pub struct PrincipalCache {
    listening: AtomicBool,
    /// Bumped by every invalidation: a lookup that began before one must not store its result.
    generation: AtomicU64,
    entries: RwLock<HashMap<String, (Principal, Instant)>>,
}

impl PrincipalCache {
    pub fn get(&self, token_hash: &str) -> Option<Principal> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (principal, until) = entries.get(token_hash)?;
        (Instant::now() < *until).then(|| principal.clone())
    }

    /// Taken before the database lookup and handed to [`Self::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a principal found in the database, unless an invalidation came in meanwhile.
    /// `valid_for` bounds the entry by the token's own expiry.
    pub fn put(
        &self,
        token_hash: String,
        principal: Principal,
        valid_for: Duration,
        generation: u64,
    ) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        // Checked under the lock that invalidation also takes, so no stale entry slips in.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash, (principal, Instant::now() + valid_for.min(TTL)));
    }

    pub fn forget_all(&self) {
        let mut entries = match self.entries.write() {
            Ok(entries) => entries,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn set_listening(&self, listening: bool) {
        self.forget_all();
        self.listening.store(listening, Ordering::Release);
    }
}

/// Commits a transaction that may end or alter what some token stands for, and makes every
/// process forget the principals it cached.
pub async fn commit_principal_change(
    state: &AppState,
    txn: DatabaseTransaction,
) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        // Delivered to the listeners only when (and if) the transaction commits.
        txn.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    txn.commit().await?;
    state.principals.forget_all();
    Ok(())
}

/// Listens for principal changes for as long as the process runs (PostgreSQL only); the cache
/// is used only while this listens.
pub async fn listen(state: AppState) {
    if state.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = state.db.get_postgres_connection_pool().clone();
    loop {
        match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(err) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %err, "cannot listen for principal changes");
                } else {
                    state.principals.set_listening(true);
                    // `Ok(None)`: the connection was lost and notifications may be missed.
                    while let Ok(Some(_)) = listener.try_recv().await {
                        state.principals.forget_all();
                    }
                    state.principals.set_listening(false);
                    tracing::warn!(
                        "lost the principal-change listener; not caching until it is back"
                    );
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot connect the principal-change listener")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
