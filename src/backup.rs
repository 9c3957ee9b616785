//! Backups of an SQLite deployment: `backup FILE` (a consistent copy of the running database
//! with a manifest), `backup verify FILE`, and `restore FILE`. PostgreSQL has its own tools
//! (see the README); `backup verify` also checks a database restored with them.
//!
//! The copy is made with `VACUUM INTO`: one read transaction's snapshot, written page by page
//! from live rows only, so erased personal data is not in it. The manifest inside the copy
//! (table `backup_manifest`) says what it holds: rows per table, the audit chain's head, and
//! the data keys the sealed values need; the master key that opens those is never in a
//! backup and is kept apart from it.
use std::{
    collections::BTreeMap,
    fs::File,
    io::Read,
    path::{Path, PathBuf},
    time::Duration,
};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    Statement,
};
use serde::{Deserialize, Serialize};

use crate::{
    audit,
    config::{self, Config},
    crypto::{data_keys, sealing},
    db,
    services::data_keys as rotation,
};
use entity::{audit_chain, data_key};

const MANIFEST_TABLE: &str = "backup_manifest";
const FORMAT: &str = "safescreen-backup/1";
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    pub version: String,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    pub audit_head: AuditHead,
    /// The data keys the sealed values in the copy are sealed under (their wrapped material
    /// is in the copy; the master key that unwraps them is not).
    pub data_keys: Vec<u32>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

fn sqlite_file(config: &Config) -> anyhow::Result<PathBuf> {
    config::sqlite_path(&config.database_url).ok_or_else(|| {
        anyhow::anyhow!(
            "backup and restore work on an SQLite file; on PostgreSQL use pg_dump and pg_restore \
             (see the README), then `safescreen backup verify postgres://…`"
        )
    })
}

/// An SQLite file opened on its own, read-only or not, with no WAL (a backup is one file).
async fn open_file(path: &Path, read_only: bool) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mode = if read_only { "ro" } else { "rw" };
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode={mode}", path.display()));
    options
        .max_connections(1)
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .map_sqlx_sqlite_opts(move |opts| {
            let opts = opts.read_only(read_only).foreign_keys(false);
            // A file opened to write is a copy of ours: one file, no WAL beside it.
            if read_only {
                opts
            } else {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Delete)
            }
        });
    Database::connect(options).await
}

/// `safescreen backup FILE`.
pub async fn backup(config: &Config, target: &Path) -> anyhow::Result<Manifest> {
    sqlite_file(config)?;
    if target.exists() {
        anyhow::bail!(
            "{} exists; a backup never overwrites a file",
            target.display()
        );
    }
    let live = db::connect(config).await?;
    live.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.display().to_string().into()],
    ))
    .await?;
    live.close().await?;
    let copy = open_file(target, false).await?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at: db::rfc3339(db::now()),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        tables: table_counts(&copy).await?,
        audit_head: audit_head(&copy).await?,
        data_keys: keys_in_use(&copy).await?,
    };
    copy.execute_unprepared(&format!(
        "CREATE TABLE {MANIFEST_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), manifest TEXT NOT NULL)"
    ))
    .await?;
    copy.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("INSERT INTO {MANIFEST_TABLE} (id, manifest) VALUES (1, ?)"),
        [serde_json::to_string_pretty(&manifest)?.into()],
    ))
    .await?;
    copy.close().await?;
    Ok(manifest)
}

async fn table_names(conn: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await?
        .into_iter()
        .map(|row| row.try_get::<String>("", "name"))
        .filter(|name| !matches!(name.as_deref(), Ok(MANIFEST_TABLE)))
        .collect()
}

async fn table_counts(conn: &DatabaseConnection) -> Result<BTreeMap<String, u64>, sea_orm::DbErr> {
    let mut counts = BTreeMap::new();
    for table in table_names(conn).await? {
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await?;
        let n: i64 = row.map_or(Ok(0), |row| row.try_get("", "n"))?;
        counts.insert(table, n as u64);
    }
    Ok(counts)
}

async fn audit_head(conn: &DatabaseConnection) -> Result<AuditHead, sea_orm::DbErr> {
    let head = audit_chain::Entity::find_by_id(1)
        .one(conn)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the audit chain head".into()))?;
    Ok(AuditHead {
        seq: head.last_seq,
        hash: head.last_hash,
    })
}

async fn keys_in_use(conn: &DatabaseConnection) -> Result<Vec<u32>, sea_orm::DbErr> {
    Ok(rotation::count_by_key(conn)
        .await?
        .into_keys()
        .flatten()
        .collect())
}

/// What is wrong with a backup (or restored database), each named.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<String>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for problem in &self.0 {
            writeln!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// What a verification found when all is well.
pub struct Verified {
    pub manifest: Option<Manifest>,
    pub chained: u64,
}

/// `safescreen backup verify FILE`: the file is an SQLite database whose pages are intact,
/// whose foreign keys hold, whose audit chain verifies and whose rows are those its manifest
/// lists; with `master`, the master key also opens every data key it needs. A database URL
/// instead of a file checks a restored database the same way (no manifest to compare with).
pub async fn verify(source: &str, master: Option<[u8; 32]>) -> Result<Verified, Problems> {
    check(source, master, !is_postgres_url(source)).await
}

fn is_postgres_url(source: &str) -> bool {
    source.starts_with("postgres://") || source.starts_with("postgresql://")
}

async fn check(
    source: &str,
    master: Option<[u8; 32]>,
    needs_manifest: bool,
) -> Result<Verified, Problems> {
    let mut problems = Vec::new();
    let conn = if is_postgres_url(source) {
        Database::connect(source)
            .await
            .map_err(|e| Problems(vec![format!("cannot connect to the database: {e}")]))?
    } else {
        let path = config::sqlite_path(source).unwrap_or_else(|| PathBuf::from(source));
        let path = path.as_path();
        let mut magic = [0u8; 16];
        let readable = File::open(path).and_then(|mut f| f.read_exact(&mut magic));
        match readable {
            Err(err) if err.kind() != std::io::ErrorKind::UnexpectedEof => {
                return Err(Problems(vec![format!("{}: {err}", path.display())]));
            }
            _ => {}
        }
        if &magic != SQLITE_MAGIC {
            return Err(Problems(vec![format!(
                "{} is not a safescreen backup: not an SQLite database",
                path.display()
            )]));
        }
        let conn = open_file(path, true)
            .await
            .map_err(|e| Problems(vec![format!("{} does not open: {e}", path.display())]))?;
        integrity(&conn, &mut problems).await;
        conn
    };
    let manifest = if !needs_manifest {
        None
    } else {
        match read_manifest(&conn).await {
            Ok(manifest) => Some(manifest),
            Err(problem) => {
                problems.push(problem);
                None
            }
        }
    };
    if let Some(manifest) = &manifest {
        match table_counts(&conn).await {
            Ok(counts) => compare_counts(&manifest.tables, &counts, &mut problems),
            Err(e) => problems.push(format!("rows cannot be counted: {e}")),
        }
        match audit_head(&conn).await {
            Ok(head) if head != manifest.audit_head => problems.push(format!(
                "the audit chain ends at seq {}, the manifest says seq {}",
                head.seq, manifest.audit_head.seq
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!("the audit chain head: {e}")),
        }
    }
    let chained = match audit::chain::verify(&conn).await {
        Ok(verified) => verified.chained,
        Err(e) => {
            problems.push(format!("audit chain: {e}"));
            0
        }
    };
    check_data_keys(&conn, manifest.as_ref(), master, &mut problems).await;
    conn.close().await.ok();
    if problems.is_empty() {
        Ok(Verified { manifest, chained })
    } else {
        Err(Problems(problems))
    }
}

async fn integrity(conn: &DatabaseConnection, problems: &mut Vec<String>) {
    match conn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
    {
        Ok(rows) => {
            let messages: Vec<String> = rows
                .iter()
                .filter_map(|row| row.try_get_by_index::<String>(0).ok())
                .filter(|message| message != "ok")
                .take(5)
                .collect();
            if !messages.is_empty() {
                problems.push(format!("integrity check: {}", messages.join("; ")));
            }
        }
        Err(e) => problems.push(format!("integrity check: {e}")),
    }
    match conn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA foreign_key_check",
        ))
        .await
    {
        Ok(rows) if !rows.is_empty() => {
            let mut by_table: BTreeMap<String, u64> = BTreeMap::new();
            for row in &rows {
                let table = row.try_get_by_index::<String>(0).unwrap_or_default();
                *by_table.entry(table).or_default() += 1;
            }
            for (table, n) in by_table {
                problems.push(format!(
                    "foreign keys: {n} row(s) of {table} refer to rows that are not there"
                ));
            }
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("foreign key check: {e}")),
    }
}

async fn read_manifest(conn: &DatabaseConnection) -> Result<Manifest, String> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT manifest FROM {MANIFEST_TABLE} WHERE id = 1"),
        ))
        .await
        .ok()
        .flatten()
        .ok_or("not a safescreen backup: it has no manifest (made by `safescreen backup`?)")?;
    let text: String = row
        .try_get("", "manifest")
        .map_err(|e| format!("the manifest cannot be read: {e}"))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("the manifest is malformed: {e}"))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "the manifest is of format {:?}, this release reads {FORMAT:?}",
            manifest.format
        ));
    }
    Ok(manifest)
}

fn compare_counts(
    expected: &BTreeMap<String, u64>,
    found: &BTreeMap<String, u64>,
    problems: &mut Vec<String>,
) {
    for (table, want) in expected {
        match found.get(table) {
            None => problems.push(format!(
                "table {table} is missing (the manifest lists {want} rows)"
            )),
            Some(have) if have != want => problems.push(format!(
                "table {table} holds {have} rows, the manifest says {want}"
            )),
            Some(_) => {}
        }
    }
    for table in found.keys().filter(|t| !expected.contains_key(*t)) {
        problems.push(format!("table {table} is not in the manifest"));
    }
}

async fn check_data_keys(
    conn: &DatabaseConnection,
    manifest: Option<&Manifest>,
    master: Option<[u8; 32]>,
    problems: &mut Vec<String>,
) {
    let keys = match data_key::Entity::find().all(conn).await {
        Ok(keys) => keys,
        Err(e) => {
            problems.push(format!("the data keys cannot be read: {e}"));
            return;
        }
    };
    let needed = match manifest {
        Some(manifest) => manifest.data_keys.clone(),
        None => keys_in_use(conn).await.unwrap_or_default(),
    };
    let master = master.map(|key| sealing::cipher(&key));
    for id in needed {
        let wrapped = keys
            .iter()
            .find(|k| k.id as u32 == id)
            .and_then(|k| k.wrapped.as_ref());
        match (wrapped, &master) {
            (None, _) => problems.push(format!(
                "values are sealed under data key {id}, which the copy does not hold"
            )),
            (Some(wrapped), Some(master)) if data_keys::unwrap(master, id, wrapped).is_none() => {
                problems.push(format!(
                    "the master key (SAFESCREEN_DATA_KEY) does not open data key {id}: this is \
                     another service's data, or the master key has changed since"
                ))
            }
            _ => {}
        }
    }
}

/// Holds the database in use for as long as this process runs `serve` or a command: `restore`
/// refuses while any process holds it.
pub fn hold(config: &Config) -> anyhow::Result<Option<File>> {
    let Some(path) = config::sqlite_path(&config.database_url) else {
        return Ok(None);
    };
    let file = lock_file(&path)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => {
            anyhow::bail!(
                "{} is being restored; start again when that is done",
                path.display()
            )
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// `<database>.lock` beside the database, opened (made the first time) for locking.
fn lock_file(db: &Path) -> std::io::Result<File> {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(db.with_file_name(name))
}

/// `safescreen restore FILE`: into the configured SQLite database, which must not be in use and
/// must be empty unless `force`; the backup is verified first (with the master key) and the
/// result after.
pub async fn restore(
    config: &Config,
    source: &Path,
    force: bool,
    master: [u8; 32],
) -> anyhow::Result<Verified> {
    let target = sqlite_file(config)?;
    if let Err(problems) = verify(&source.display().to_string(), Some(master)).await {
        anyhow::bail!(
            "{} is not restored: it does not verify:\n{problems}",
            source.display()
        );
    }
    let lock = lock_file(&target)?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "{} is in use by a running safescreen; stop it before restoring",
            target.display()
        );
    }
    if target.exists() && std::fs::metadata(&target)?.len() > 0 {
        let existing = open_file(&target, true).await?;
        let tables = table_names(&existing).await?;
        existing.close().await.ok();
        if !tables.is_empty() && !force {
            anyhow::bail!(
                "{} is not empty ({} tables); restore replaces it only with --force",
                target.display(),
                tables.len()
            );
        }
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(source, &staging)?;
    let copy = open_file(&staging, false).await?;
    copy.execute_unprepared(&format!("DROP TABLE {MANIFEST_TABLE}"))
        .await?;
    copy.close().await?;
    File::open(&staging)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let mut name = target.as_os_str().to_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    std::fs::rename(&staging, &target)?;
    // Without its manifest the restored file is checked as a database.
    let restored = check(&target.display().to_string(), Some(master), false).await;
    drop(lock);
    restored.map_err(|problems| {
        anyhow::anyhow!("restored, but the result does not verify:\n{problems}")
    })
}
