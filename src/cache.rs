//! Caches that every `serve` process empties when the database announces a change.
//!
//! Only on PostgreSQL, and only while this process listens: a change that can make an entry
//! wrong commits with a `NOTIFY` on the cache's channel in the same transaction (see
//! [`commit_with_notify`]); the committing process empties its own cache at once and every
//! other process when the notification arrives. While the listening connection is down
//! nothing is cached, and after it reconnects the caches start empty, so a missed
//! notification can never leave a stale entry. (Several processes on one SQLite file could
//! not notify each other: no caching there.)
use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr};

/// The channel for principals (tokens: revoked keys and sessions, deactivated users, new
/// roles or supervisor flags).
pub const PRINCIPALS: &str = "safescreen_principals";
/// The channel for certificates (revocations).
pub const CERTIFICATES: &str = "safescreen_certificates";

/// Entries by key, each good for at most `ttl`, emptied by every invalidation.
pub struct InvalidatedCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    listening: AtomicBool,
    /// Bumped by every invalidation: a lookup that began before one must not store its result.
    generation: AtomicU64,
    entries: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> InvalidatedCache<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        InvalidatedCache {
            ttl,
            max_entries,
            listening: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        let (value, until) = entries.get(key)?;
        (Instant::now() < *until).then(|| value.clone())
    }

    /// Taken before the database lookup and handed to [`Self::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores what the database said, unless an invalidation came in meanwhile; the entry
    /// lives `valid_for` at most (and never beyond the cache's ttl).
    pub fn put(&self, key: K, value: V, valid_for: Duration, generation: u64) {
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
        if entries.len() >= self.max_entries {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now() + valid_for.min(self.ttl)));
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

/// What a notification does to a cache, whatever it holds.
pub trait Invalidated: Send + Sync {
    fn forget_all(&self);
    fn set_listening(&self, listening: bool);
}

impl<K: Eq + Hash + Send + Sync, V: Clone + Send + Sync> Invalidated for InvalidatedCache<K, V> {
    fn forget_all(&self) {
        InvalidatedCache::forget_all(self);
    }

    fn set_listening(&self, listening: bool) {
        InvalidatedCache::set_listening(self, listening);
    }
}

/// Commits a transaction and has every process forget what `channel`'s cache holds; this
/// process's `cache` at once.
pub async fn commit_with_notify(
    txn: DatabaseTransaction,
    channel: &str,
    cache: &dyn Invalidated,
) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        // Delivered to the listeners only when (and if) the transaction commits.
        txn.execute_unprepared(&format!("NOTIFY {channel}")).await?;
    }
    txn.commit().await?;
    cache.forget_all();
    Ok(())
}

/// Listens for changes for as long as the process runs (PostgreSQL only), emptying the cache
/// of each channel it hears; the caches are used only while this listens.
pub async fn listen(db: DatabaseConnection, caches: Vec<(&'static str, Arc<dyn Invalidated>)>) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let set_listening = |listening: bool| {
        for (_, cache) in &caches {
            cache.set_listening(listening);
        }
    };
    let pool = db.get_postgres_connection_pool().clone();
    let channels: Vec<&str> = caches.iter().map(|(channel, _)| *channel).collect();
    loop {
        match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(err) = listener.listen_all(channels.iter().copied()).await {
                    tracing::warn!(error = %err, "cannot listen for changes");
                } else {
                    set_listening(true);
                    // `Ok(None)`: the connection was lost and notifications may be missed.
                    while let Ok(Some(notification)) = listener.try_recv().await {
                        for (channel, cache) in &caches {
                            if *channel == notification.channel() {
                                cache.forget_all();
                            }
                        }
                    }
                    set_listening(false);
                    tracing::warn!("lost the change listener; not caching until it is back");
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot connect the change listener"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
