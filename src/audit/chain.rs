//! The hash chain over `audit_events`: `hash = SHA-256(prev_hash ‖ canonical JSON of the event)`.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db;
use entity::{audit_chain, audit_event};

/// `prev_hash` of the first event (the migration seeds the chain head with it).
pub use migration::GENESIS_HASH;

pub const BATCH: u64 = 500;
/// Rows linked per UPDATE statement (4 parameters each, well under both databases' limits).
const UPDATE_CHUNK: usize = 100;

/// Writes `seq`, `prev_hash` and `hash` of many events in one statement: one round trip
/// instead of one per event.
async fn link_rows(
    txn: &DatabaseTransaction,
    links: &[(uuid::Uuid, i64, String, String)],
) -> Result<(), sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let mut values = Vec::with_capacity(links.len() * 4);
    let mut rows = Vec::with_capacity(links.len());
    for (i, (id, seq, prev, hash)) in links.iter().enumerate() {
        let n = i * 4;
        rows.push(match backend {
            DbBackend::Postgres => format!(
                "(${}::uuid, ${}::bigint, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4
            ),
            _ => "(?, ?, ?, ?)".to_owned(),
        });
        values.extend([
            (*id).into(),
            (*seq).into(),
            prev.clone().into(),
            hash.clone().into(),
        ]);
    }
    // VALUES columns are named column1… on both databases.
    let sql = format!(
        "UPDATE audit_events SET seq = v.column2, prev_hash = v.column3, hash = v.column4 \
         FROM (VALUES {}) AS v WHERE audit_events.id = v.column1",
        rows.join(", ")
    );
    let result = txn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    if result.rows_affected() != links.len() as u64 {
        return Err(sea_orm::DbErr::Custom(format!(
            "linked {} audit events, expected {}",
            result.rows_affected(),
            links.len()
        )));
    }
    Ok(())
}

/// The canonical JSON of an event: object keys sorted at every level, no white space.
pub fn canonical_event(event: &audit_event::Model, seq: i64) -> String {
    let at = db::rfc3339(event.at);
    let value = json!({
        "seq": seq,
        "id": event.id.to_string(),
        "at": at,
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "details": event.details,
    });
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

/// JSON with object keys sorted at every level and no white space.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub fn link_hash(prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

/// How many committed events wait to be linked.
pub async fn unchained(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Seq.is_null())
        .count(db)
        .await
}

/// Links every committed, unchained event into the chain; returns how many it linked.
pub async fn chain_pending(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    let mut linked = 0;
    loop {
        let count = chain_batch(db).await?;
        linked += count;
        if count < BATCH {
            return Ok(linked);
        }
    }
}

/// Links the oldest unchained events, up to a batch; returns how many it linked (a full
/// batch: more may be waiting). One writer at a time: SQLite's `BEGIN IMMEDIATE`,
/// PostgreSQL's row lock on the chain head.
pub async fn chain_batch(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    let txn = db::begin_write(db).await?;
    let Some(head) = audit_chain::Entity::find_by_id(1)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        return Err(sea_orm::DbErr::RecordNotFound("audit chain head".into()));
    };
    let pending = audit_event::Entity::find()
        .filter(audit_event::Column::Seq.is_null())
        .order_by_asc(audit_event::Column::At)
        .order_by_asc(audit_event::Column::Id)
        .limit(BATCH)
        .all(&txn)
        .await?;
    if pending.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let count = pending.len() as u64;
    let mut seq = head.last_seq;
    let mut prev = head.last_hash.clone();
    let mut links = Vec::with_capacity(pending.len());
    for event in pending {
        seq += 1;
        let hash = link_hash(&prev, &canonical_event(&event, seq));
        links.push((event.id, seq, prev.clone(), hash.clone()));
        prev = hash;
    }
    for chunk in links.chunks(UPDATE_CHUNK) {
        link_rows(&txn, chunk).await?;
    }
    let mut head = head.into_active_model();
    head.last_seq = Set(seq);
    head.last_hash = Set(prev);
    head.update(&txn).await?;
    txn.commit().await?;
    Ok(count)
}

/// What a verification found when the chain is whole.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// Events checked.
    pub chained: u64,
    /// Events committed but not linked yet (the chain writer links them within a second).
    pub pending: u64,
}

/// The first broken link.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Broken(#[from] BrokenLink),
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Walks the whole chain and names the first link that does not hold: a changed row (its hash
/// no longer matches), a deleted or inserted row (a gap or a foreign link), rows reordered,
/// or a truncated tail (the head no longer matches the last row).
pub async fn verify(db: &DatabaseConnection) -> Result<Verified, VerifyError> {
    // One snapshot: the chain writer may link more events while we read.
    let snapshot = db::begin_snapshot(db).await?;
    let result = verify_in(&snapshot).await;
    snapshot.rollback().await?;
    result
}

async fn verify_in(db: &DatabaseTransaction) -> Result<Verified, VerifyError> {
    let head = audit_chain::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| BrokenLink {
            seq: 0,
            reason: "the chain head row is missing".into(),
        })?;
    let mut expected_seq = 0i64;
    let mut prev = GENESIS_HASH.to_owned();
    loop {
        let page = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gt(expected_seq))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if page.is_empty() {
            break;
        }
        for event in page {
            let seq = event.seq.unwrap_or_default();
            expected_seq += 1;
            if seq != expected_seq {
                return Err(BrokenLink {
                    seq: expected_seq,
                    reason: format!("event missing (next event has seq {seq})"),
                }
                .into());
            }
            if event.prev_hash.as_deref() != Some(prev.as_str()) {
                return Err(BrokenLink {
                    seq,
                    reason: "prev_hash does not match the previous event (removed, inserted or reordered)".into(),
                }
                .into());
            }
            let hash = link_hash(&prev, &canonical_event(&event, seq));
            if event.hash.as_deref() != Some(hash.as_str()) {
                return Err(BrokenLink {
                    seq,
                    reason: "hash does not match the event's content (changed)".into(),
                }
                .into());
            }
            prev = hash;
        }
    }
    if head.last_seq != expected_seq || head.last_hash != prev {
        return Err(BrokenLink {
            seq: expected_seq.max(head.last_seq),
            reason: format!(
                "the chain head names seq {} but the log ends at seq {expected_seq} (events removed or added at the end)",
                head.last_seq
            ),
        }
        .into());
    }
    let pending = audit_event::Entity::find()
        .filter(audit_event::Column::Seq.is_null())
        .count(db)
        .await?;
    Ok(Verified {
        chained: expected_seq as u64,
        pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let mut out = String::new();
        write_canonical(
            &json!({"b": 1, "a": {"z": [true, null], "c": "x"}}),
            &mut out,
        );
        assert_eq!(out, r#"{"a":{"c":"x","z":[true,null]},"b":1}"#);
    }
}
