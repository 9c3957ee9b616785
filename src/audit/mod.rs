//! The audit log: every state change, login and read of personal data, as ids only.
//!
//! Events are inserted in the same transaction as the change they record, unchained; the chain
//! writer ([`chain::chain_pending`]) links them into the hash chain shortly after they commit.
pub mod chain;
pub mod checkpoints;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde_json::Value;

use crate::db;
use entity::audit_event;

pub const ACTOR_SYSTEM: &str = "system";
pub const ACTOR_ANONYMOUS: &str = "anonymous";

/// Records one event in the caller's transaction (or connection).
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    target: Option<String>,
    details: Value,
) -> Result<(), DbErr> {
    audit_event::Entity::insert(event_row(actor, action, target, details))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// An unchained event row, for callers that insert many at once.
pub fn event_row(
    actor: &str,
    action: &str,
    target: Option<String>,
    details: Value,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        id: Set(db::new_id()),
        seq: Set(None),
        at: Set(db::now()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        target: Set(target),
        details: Set(details),
        prev_hash: Set(None),
        hash: Set(None),
    }
}

/// `kind:id`, the way targets are named.
pub fn target(kind: &str, id: impl std::fmt::Display) -> Option<String> {
    Some(format!("{kind}:{id}"))
}
