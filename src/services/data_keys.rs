//! Data key rotation. `keys rotate-data` makes a new data key that seals from the next write in
//! every process; a background job in `serve` then re-seals every sealed value under it, one
//! batch per transaction with its progress, each value by compare-and-set (a value someone
//! rewrote meanwhile is left to them), so a process killed anywhere resumes where the last
//! batch committed and re-sealing a value twice is harmless. Once a pass finds no value under
//! an older key, the older keys are retired: their material is deleted.
use std::{collections::BTreeMap, sync::Arc, time::Duration};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    sea_query::{Alias, Expr, ExprTrait, Order, Query},
};
use serde_json::json;
use uuid::Uuid;

use super::AppState;
use crate::{
    audit,
    cache::Invalidated,
    crypto::{DataKey, data_keys, sealing},
    db,
    error::{AppError, AppResult},
};
use entity::{data_key, data_key_rotation};

/// The channel on which a new or retired data key is announced (PostgreSQL).
pub const CHANNEL: &str = "safescreen_data_keys";

/// Values re-sealed per transaction.
pub const BATCH: u64 = 200;

/// A column of sealed values, with the primary key that is their associated data.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    pub id: &'static str,
    pub column: &'static str,
}

const fn sealed(table: &'static str, id: &'static str, column: &'static str) -> SealedColumn {
    SealedColumn { table, id, column }
}

/// Every sealed value there is (a test holds this list against the entities' `_sealed`
/// fields), in the order the job re-seals them.
pub const SEALED: &[SealedColumn] = &[
    sealed("screening_requests", "id", "subject_sealed"),
    sealed("screening_requests", "id", "invitation_token_sealed"),
    sealed("tasks", "id", "notes_sealed"),
    sealed("tasks", "id", "grounds_sealed"),
    sealed("decisions", "request_id", "grounds_sealed"),
    sealed("certificates", "id", "jws_sealed"),
    sealed("certificates", "id", "revocation_reason_sealed"),
    sealed("mail_outbox", "id", "message_sealed"),
    sealed("webhook_endpoints", "id", "secret_sealed"),
    sealed("signing_keys", "id", "secret_sealed"),
    sealed("audit_checkpoint_keys", "id", "secret_sealed"),
    sealed("totp_factors", "user_id", "secret_sealed"),
    sealed("passkeys", "id", "passkey_sealed"),
    sealed("webauthn_ceremonies", "id", "state_sealed"),
];

/// How long after a new key is made before the old ones may be retired: every process seals
/// with the new key by then (each checks at every worker round, and on PostgreSQL at once on
/// the notification), so no value under an old key can still be on its way.
pub fn retire_after(state: &AppState) -> Duration {
    let round = Ord::min(state.config.worker_interval_ms, 250);
    Duration::from_millis(Ord::max(round * 20, 2_000))
}

/// Makes a new data key current and starts re-sealing under it; refused while a rotation
/// runs. Answers the new key's id.
pub async fn rotate(state: &AppState, actor: &str) -> AppResult<u32> {
    let txn = db::begin_write(&state.db_write).await?;
    if let Some(running) = running(&txn).await? {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "a rotation to data key {} is running ({} values re-sealed so far, pass {}); \
             one rotation at a time: `safescreen keys status` shows its progress",
            running.to_key, running.resealed, running.pass
        )));
    }
    let newest = data_key::Entity::find()
        .order_by_desc(data_key::Column::Id)
        .one(&txn)
        .await?
        .map_or(0, |row| row.id);
    let id = (newest + 1) as u32;
    let key: [u8; 32] = rand::random();
    let wrapped = state
        .data_key
        .wrap(id, &key)
        .ok_or_else(|| anyhow::anyhow!("this process holds no master key to wrap with"))?;
    let now = db::now();
    data_key::ActiveModel {
        id: Set(id as i32),
        wrapped: Set(Some(wrapped)),
        created_at: Set(now),
        retired_at: Set(None),
    }
    .insert(&txn)
    .await?;
    data_key_rotation::ActiveModel {
        to_key: Set(id as i32),
        started_at: Set(now),
        finished_at: Set(None),
        pass: Set(1),
        column_index: Set(0),
        cursor: Set(None),
        resealed: Set(0),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "data_key.created",
        audit::target("data_key", id),
        json!({"key": id}),
    )
    .await?;
    notify(&txn).await?;
    txn.commit().await?;
    state.data_key.insert(id, &key);
    state.data_key.set_current(id);
    Ok(id)
}

async fn running(
    conn: &impl ConnectionTrait,
) -> Result<Option<data_key_rotation::Model>, sea_orm::DbErr> {
    data_key_rotation::Entity::find()
        .filter(data_key_rotation::Column::FinishedAt.is_null())
        .one(conn)
        .await
}

async fn notify(txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// One batch of the running rotation, if any: answers how many values it looked at (a full
/// batch: call again).
pub async fn reseal_batch(state: &AppState) -> AppResult<u64> {
    // Every worker round asks; only a running rotation is worth the write lock.
    if running(&state.db).await?.is_none() {
        return Ok(0);
    }
    let txn = db::begin_write(&state.db_write).await?;
    let Some(job) = data_key_rotation::Entity::find()
        .filter(data_key_rotation::Column::FinishedAt.is_null())
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        txn.rollback().await?;
        return Ok(0);
    };
    let to_key = job.to_key as u32;
    let Some(column) = SEALED.get(job.column_index as usize) else {
        finish_pass(state, txn, job).await?;
        return Ok(0);
    };
    let rows = batch(&txn, column, job.cursor).await?;
    let mut resealed = 0;
    for (id, old) in &rows {
        if sealing::key_id_of(old) == Some(to_key) {
            continue;
        }
        let plain = match state.data_key.open(*id, old).await {
            Ok(plain) => plain,
            Err(err) => {
                // Left as it is: the old key then stays, and `keys status` counts it.
                tracing::error!(table = column.table, column = column.column, %id, error = %err,
                    "a sealed value does not open; it cannot be re-sealed");
                continue;
            }
        };
        let new = state
            .data_key
            .seal_under(to_key, *id, &plain)
            .await
            .map_err(|e| anyhow::anyhow!("sealing under data key {to_key}: {e}"))?;
        let update = Query::update()
            .table(Alias::new(column.table))
            .value(Alias::new(column.column), new)
            .and_where(Expr::col(Alias::new(column.id)).eq(*id))
            .and_where(Expr::col(Alias::new(column.column)).eq(old.clone()))
            .to_owned();
        resealed += txn.execute(&update).await?.rows_affected();
    }
    let looked_at = rows.len() as u64;
    let mut progress = job.into_active_model();
    if looked_at < BATCH {
        progress.column_index = Set(progress.column_index.take().unwrap_or_default() + 1);
        progress.cursor = Set(None);
    } else {
        progress.cursor = Set(rows.last().map(|(id, _)| *id));
    }
    progress.resealed = Set(progress.resealed.take().unwrap_or_default() + resealed as i64);
    progress.update(&txn).await?;
    txn.commit().await?;
    // More columns to go: the caller runs another batch straight away.
    Ok(BATCH)
}

async fn batch(
    txn: &DatabaseTransaction,
    column: &SealedColumn,
    cursor: Option<Uuid>,
) -> Result<Vec<(Uuid, Vec<u8>)>, sea_orm::DbErr> {
    let mut select = Query::select();
    select
        .columns([Alias::new(column.id), Alias::new(column.column)])
        .from(Alias::new(column.table))
        .and_where(Expr::col(Alias::new(column.column)).is_not_null())
        .order_by(Alias::new(column.id), Order::Asc)
        .limit(BATCH);
    if let Some(cursor) = cursor {
        select.and_where(Expr::col(Alias::new(column.id)).gt(cursor));
    }
    txn.query_all(&select)
        .await?
        .into_iter()
        .map(|row| {
            Ok((
                row.try_get::<Uuid>("", column.id)?,
                row.try_get::<Vec<u8>>("", column.column)?,
            ))
        })
        .collect()
}

/// At the end of a pass: retire the older keys when no value needs them (and every process
/// has had time to seal with the new one), else go round again for the values written
/// behind the job.
async fn finish_pass(
    state: &AppState,
    txn: DatabaseTransaction,
    job: data_key_rotation::Model,
) -> AppResult<()> {
    let to_key = job.to_key as u32;
    // The rotation starts with its key (`rotate` gives both the same time).
    let waited = (db::now() - job.started_at).unsigned_abs();
    if waited < retire_after(state) {
        txn.rollback().await?;
        return Ok(());
    }
    let left: u64 = count_by_key(&txn)
        .await?
        .iter()
        .filter(|(key, _)| **key != Some(to_key))
        .map(|(_, n)| n)
        .sum();
    let mut progress = job.clone().into_active_model();
    if left > 0 {
        // A value sealed under an old key that does not open stays so for ever: after a few
        // passes, stop and say so rather than go round for ever.
        if job.pass >= 5 {
            tracing::error!(
                values = left,
                "values under an older data key did not re-seal; the older key stays"
            );
            progress.finished_at = Set(Some(db::now()));
        } else {
            progress.pass = Set(job.pass + 1);
            progress.column_index = Set(0);
            progress.cursor = Set(None);
        }
        progress.update(&txn).await?;
        txn.commit().await?;
        return Ok(());
    }
    let retiring: Vec<i32> = data_key::Entity::find()
        .filter(data_key::Column::Id.ne(job.to_key))
        .filter(data_key::Column::RetiredAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    let now = db::now();
    data_key::Entity::update_many()
        .col_expr(data_key::Column::RetiredAt, Expr::value(now))
        .col_expr(
            data_key::Column::Wrapped,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(data_key::Column::Id.is_in(retiring.clone()))
        .exec(&txn)
        .await?;
    progress.finished_at = Set(Some(now));
    progress.update(&txn).await?;
    audit::record(
        &txn,
        audit::ACTOR_SYSTEM,
        "data_key.retired",
        audit::target("data_key", to_key),
        json!({"retired": retiring, "current": to_key, "resealed": job.resealed}),
    )
    .await?;
    notify(&txn).await?;
    txn.commit().await?;
    for id in retiring {
        state.data_key.remove(id as u32);
    }
    tracing::info!(
        current = to_key,
        resealed = job.resealed,
        "data key rotation finished; older keys retired"
    );
    Ok(())
}

/// Sealed values per data key, over every sealed column (`None`: values that name no key this
/// format knows).
pub async fn count_by_key(
    conn: &impl ConnectionTrait,
) -> Result<BTreeMap<Option<u32>, u64>, sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let (p1, p2) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let mut counts = BTreeMap::new();
    for column in SEALED {
        // The unnamed format's header is its version byte and a random nonce: count those
        // under key 1's header.
        let sql = format!(
            "SELECT CASE WHEN substr({c}, 1, 1) = {p1} THEN {p2} ELSE substr({c}, 1, 5) END \
             AS header, COUNT(*) AS n FROM {t} WHERE {c} IS NOT NULL GROUP BY 1",
            c = column.column,
            t = column.table,
        );
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    vec![1u8].into(),
                    sealing::header_of(sealing::FIRST_KEY).to_vec().into(),
                ],
            ))
            .await?;
        for row in rows {
            let header: Vec<u8> = row.try_get("", "header")?;
            let n: i64 = row.try_get("", "n")?;
            *counts.entry(sealing::key_id_of(&header)).or_default() += n as u64;
        }
    }
    Ok(counts)
}

/// What `keys status` and `/metrics` show.
pub struct Status {
    pub keys: Vec<data_key::Model>,
    pub current: Option<u32>,
    pub values: BTreeMap<Option<u32>, u64>,
    pub rotation: Option<data_key_rotation::Model>,
}

pub async fn status(db: &DatabaseConnection) -> Result<Status, sea_orm::DbErr> {
    let keys = data_key::Entity::find()
        .order_by_asc(data_key::Column::Id)
        .all(db)
        .await?;
    let current = data_keys::current_of(&keys);
    let rotation = data_key_rotation::Entity::find()
        .order_by_desc(data_key_rotation::Column::ToKey)
        .one(db)
        .await?;
    Ok(Status {
        keys,
        current,
        values: count_by_key(db).await?,
        rotation,
    })
}

impl Status {
    /// Where the running (or last) rotation is, in words.
    pub fn rotation_progress(&self) -> Option<String> {
        let job = self.rotation.as_ref()?;
        let at = db::rfc3339;
        let place = match SEALED.get(job.column_index as usize) {
            Some(column) => format!("at {}.{}", column.table, column.column),
            None => "checking that no value needs an older key".to_owned(),
        };
        Some(match job.finished_at {
            Some(finished) => format!(
                "rotation to data key {} finished {} after {} pass(es): {} values re-sealed",
                job.to_key,
                at(finished),
                job.pass,
                job.resealed
            ),
            None => format!(
                "rotation to data key {} running since {}: pass {}, {place}, {} values re-sealed so far",
                job.to_key,
                at(job.started_at),
                job.pass,
                job.resealed
            ),
        })
    }
}

/// Brings this process's keyring up to date when another process announces a key.
pub struct Refresh {
    pub ring: DataKey,
    pub db: DatabaseConnection,
}

impl Refresh {
    fn spawn(&self) {
        let (ring, db) = (self.ring.clone(), self.db.clone());
        tokio::spawn(async move {
            if let Err(err) = data_keys::refresh(&ring, &db).await {
                tracing::warn!(error = %err, "cannot bring the data keys up to date");
            }
        });
    }
}

impl Invalidated for Refresh {
    fn forget_all(&self) {
        self.spawn();
    }

    fn set_listening(&self, listening: bool) {
        if listening {
            self.spawn();
        }
    }
}

pub fn refresh_on_notice(state: &AppState) -> Arc<dyn Invalidated> {
    Arc::new(Refresh {
        ring: state.data_key.clone(),
        db: state.db.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::SEALED;

    /// A sealed column the list forgets would keep the old key alive (and be left unreadable
    /// once it is retired): every `…_sealed` field of every entity is in the list.
    #[test]
    fn every_sealed_column_of_every_entity_is_re_sealed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("entity/src");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let Some(table) = source
                .split("table_name = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            for line in source.lines() {
                let line = line.trim();
                if let Some(field) = line.strip_prefix("pub ").and_then(|l| l.split(':').next())
                    && field.ends_with("_sealed")
                {
                    found.push((table.to_owned(), field.to_owned()));
                }
            }
        }
        assert!(found.len() >= 14, "{found:?}");
        for (table, column) in &found {
            assert!(
                SEALED
                    .iter()
                    .any(|c| c.table == table && c.column == column),
                "{table}.{column} is sealed but not re-sealed by a rotation"
            );
        }
        assert_eq!(
            found.len(),
            SEALED.len(),
            "no column listed that is not sealed"
        );
    }
}
