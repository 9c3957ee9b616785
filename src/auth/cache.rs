//! Principals by token hash, so that most requests authenticate without a database round
//! trip (PostgreSQL, while listening: see [`crate::cache`]). Every change that can end or
//! alter what a token stands for (a revoked key or session, a deactivated user, a new role or
//! supervisor flag) commits through [`commit_principal_change`].
use std::time::Duration;

use sea_orm::{DatabaseTransaction, DbErr};

use super::Principal;
use crate::cache::{self, InvalidatedCache};

/// A cached principal is looked up again after this long, whatever happens.
const TTL: Duration = Duration::from_secs(60);
/// Beyond this many tokens the cache starts over rather than grow without bound.
const MAX_ENTRIES: usize = 50_000;

pub type PrincipalCache = InvalidatedCache<String, Principal>;

pub fn principal_cache() -> PrincipalCache {
    InvalidatedCache::new(TTL, MAX_ENTRIES)
}

/// Commits a transaction that may end or alter what some token stands for, and makes every
/// process forget the principals it cached.
pub async fn commit_principal_change(
    principals: &PrincipalCache,
    txn: DatabaseTransaction,
) -> Result<(), DbErr> {
    cache::commit_with_notify(txn, cache::PRINCIPALS, principals).await
}
