//! Connecting to SQLite or PostgreSQL, and starting write transactions correctly on both.
use std::time::Duration;

use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::config::Config;

pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    connect_with(config, config.database_max_connections).await
}

/// The pool for write transactions. SQLite has one writer at a time; with one connection for
/// all writes, writers queue fairly in the pool instead of sleeping in SQLite's busy handler
/// (which backs off up to 100 ms a try). PostgreSQL writes through the ordinary pool.
pub async fn connect_writer(
    config: &Config,
    pool: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    if config.is_sqlite() {
        connect_with(config, 1).await
    } else {
        Ok(pool.clone())
    }
}

async fn connect_with(config: &Config, connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // Ping only connections idle long enough to have been dropped: a ping on every checkout
        // would double the round trips of every query.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|opts| {
            // Production-grade SQLite for one machine: readers never block the writer, a busy
            // writer is waited for rather than failed, and foreign keys are enforced.
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Begins a transaction that will write (on the writer pool, `AppState::db_write`). On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so a transaction never fails half-way on a lock upgrade and
/// read-then-write logic is serialised; PostgreSQL uses row locks instead.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = TransactionOptions {
        sqlite_transaction_mode: (db.get_database_backend() == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// Begins a read-only transaction that sees one consistent snapshot (PostgreSQL's
/// `REPEATABLE READ`; an SQLite read transaction in WAL mode is one already).
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = match db.get_database_backend() {
        DbBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        },
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

/// The current time in UTC, truncated to microseconds so it survives a round trip through
/// either database unchanged (the audit chain hashes timestamps).
///
/// Timestamps are stored as UTC `timestamp` values without an offset: PostgreSQL compares them
/// natively, and SQLite's text form of them (`YYYY-MM-DD hh:mm:ss.f…`) sorts in time order,
/// which RFC 3339 text with a trailing `Z` does not.
pub fn now() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now);
    PrimitiveDateTime::new(now.date(), now.time())
}

/// A stored UTC timestamp as an offset date-time for the API.
pub fn utc(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_utc()
}

/// A stored UTC timestamp in RFC 3339 (`2026-12-03T14:05:00.123456Z`), as the API, the CSV
/// export, the audit chain and the command line write it.
pub fn rfc3339(at: PrimitiveDateTime) -> String {
    utc(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A new time-ordered id.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
