//! Failed-login throttling, kept in the database so every `serve` process shares it.
//!
//! Each key (account and client together, and the client alone) may fail a number of times for
//! free; after that every failure doubles a block, capped, so an attacker is slowed down while
//! the account is never locked for good: the block always ends, and the count resets after an
//! hour without failures.
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::{db, error::AppError};
use entity::login_throttle;

/// A throttled key and how many failures it gets before blocks start.
pub struct ThrottleKey {
    key: String,
    free_failures: i32,
}

const MAX_BLOCK: Duration = Duration::minutes(15);
const FORGET_AFTER: Duration = Duration::hours(1);

impl ThrottleKey {
    /// One account from one client.
    pub fn account_and_client(email: &str, client: &str) -> Self {
        ThrottleKey {
            key: hashed(&["login-account", &email.trim().to_lowercase(), client]),
            free_failures: 5,
        }
    }

    /// One client looking up invitation tokens that do not exist, `free_failures` of them
    /// before blocks start (`SAFESCREEN_INVITATION_LOOKUP_LIMIT`).
    pub fn invitation_client(client: &str, free_failures: u32) -> Self {
        ThrottleKey {
            key: hashed(&["invitation-client", client]),
            free_failures: free_failures.min(i32::MAX as u32) as i32,
        }
    }

    /// Second factors of one account, from wherever they come (its password is known).
    pub fn second_factor(user_id: uuid::Uuid) -> Self {
        ThrottleKey {
            key: hashed(&["second-factor", &user_id.to_string()]),
            free_failures: 5,
        }
    }

    /// One client, whatever accounts it tries.
    pub fn client(client: &str) -> Self {
        ThrottleKey {
            key: hashed(&["login-client", client]),
            free_failures: 20,
        }
    }
}

/// The key is a hash: the table holds no e-mail addresses or IP addresses.
fn hashed(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Answers 429 with the seconds left when any of the keys is blocked now.
pub async fn check(db: &DatabaseConnection, keys: &[ThrottleKey]) -> Result<(), AppError> {
    let now = db::now();
    let mut wait = Duration::ZERO;
    for key in keys {
        if let Some(row) = login_throttle::Entity::find_by_id(key.key.clone())
            .one(db)
            .await?
            && let Some(until) = row.blocked_until
            && until > now
        {
            wait = wait.max(until - now);
        }
    }
    if wait > Duration::ZERO {
        return Err(AppError::RateLimited {
            retry_after_secs: wait.whole_seconds().max(0) as u64 + 1,
        });
    }
    Ok(())
}

/// Counts a failure against each key, extending its block when it is over its free failures.
pub async fn record_failure(db: &DatabaseConnection, keys: &[ThrottleKey]) -> Result<(), AppError> {
    let txn = db::begin_write(db).await?;
    let now = db::now();
    for key in keys {
        let existing = login_throttle::Entity::find_by_id(key.key.clone())
            .one(&txn)
            .await?;
        let failures = match &existing {
            Some(row) if now - row.last_failure_at < FORGET_AFTER => row.failures + 1,
            _ => 1,
        };
        let blocked_until = block_after(failures, key.free_failures).map(|d| now + d);
        let model = login_throttle::ActiveModel {
            key: Set(key.key.clone()),
            failures: Set(failures),
            last_failure_at: Set(now),
            blocked_until: Set(blocked_until),
        };
        upsert(&txn, model, existing.is_some()).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Forgets the failures of these keys (after a successful login).
pub async fn clear(db: &DatabaseConnection, keys: &[ThrottleKey]) -> Result<(), AppError> {
    for key in keys {
        login_throttle::Entity::delete_by_id(key.key.clone())
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn upsert(
    txn: &impl ConnectionTrait,
    model: login_throttle::ActiveModel,
    exists: bool,
) -> Result<(), sea_orm::DbErr> {
    if exists {
        login_throttle::Entity::update(model).exec(txn).await?;
    } else {
        // A concurrent first failure may have inserted the row: one count less is harmless.
        login_throttle::Entity::insert(model)
            .on_conflict_do_nothing()
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// 2 s after the first failure over the free ones, doubling, at most [`MAX_BLOCK`].
fn block_after(failures: i32, free_failures: i32) -> Option<Duration> {
    let over = failures - free_failures;
    if over <= 0 {
        return None;
    }
    let seconds = 2i64
        .checked_shl((over - 1).min(20) as u32)
        .unwrap_or(i64::MAX);
    Some(Duration::seconds(seconds).min(MAX_BLOCK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_grow_and_are_capped() {
        assert_eq!(block_after(5, 5), None);
        assert_eq!(block_after(6, 5), Some(Duration::seconds(2)));
        assert_eq!(block_after(7, 5), Some(Duration::seconds(4)));
        assert_eq!(block_after(10, 5), Some(Duration::seconds(32)));
        assert_eq!(block_after(60, 5), Some(MAX_BLOCK));
        assert_eq!(block_after(i32::MAX, 5), Some(MAX_BLOCK));
    }

    #[test]
    fn keys_hold_no_plain_identifiers() {
        let key = ThrottleKey::account_and_client("Jan@Example.org", "192.0.2.1");
        assert!(!key.key.contains("jan"));
        assert!(!key.key.contains("192.0.2.1"));
        assert_eq!(
            key.key,
            ThrottleKey::account_and_client("jan@example.org ", "192.0.2.1").key
        );
    }
}
