//! Signed checkpoints of the audit chain, kept where the database's writers cannot reach.
//!
//! The hash chain alone proves nothing to someone who can write the database: they can change
//! an event and re-hash every link after it. So every `SAFESCREEN_AUDIT_CHECKPOINT_INTERVAL`
//! (and at shutdown) the service signs the chain's head (the last sequence number, its hash,
//! the time) as a C2SP signed note, appends it to `audit-checkpoints.log` and writes it to the
//! log, from where it leaves the machine. `audit verify --checkpoints` then checks the chain
//! against every checkpoint: a re-hashed chain no longer matches one signed before.
//!
//! ```text
//! safescreen.example.org/audit
//! 4711
//! 3q2+7w…base64 of the event's SHA-256…=
//! 2026-12-03T14:05:00Z
//!
//! — safescreen.example.org/audit Ab12Cd…signature…
//! ```
use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use ed25519_dalek::SigningKey;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Set, Statement,
};
use signed_note::{Note, NoteError, StandardSigner, StandardVerifier, VerifierList};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    crypto::{DataKey, keyring::open_signing_key},
    db,
};
use entity::{audit_chain, audit_checkpoint, audit_checkpoint_key, audit_event};

pub const FILE_NAME: &str = "audit-checkpoints.log";

/// The key that signs checkpoints, opened.
pub struct CheckpointKey {
    pub name: String,
    signing: SigningKey,
}

impl CheckpointKey {
    /// The verifier key in the signed-note encoding (`name+id+key`): what a verifier keeps.
    pub fn verifier_key(&self) -> String {
        signed_note::new_ed25519_verifier_key(&self.name, &self.signing.verifying_key())
    }

    fn signer(&self) -> StandardSigner {
        let public = [&[1u8][..], self.signing.verifying_key().as_bytes()].concat();
        let private = [&[1u8][..], self.signing.as_bytes()].concat();
        let encoded = format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            signed_note::key_id(&self.name, &public),
            B64.encode(private)
        );
        StandardSigner::new(&encoded).expect("a key this module encoded parses")
    }
}

/// The key name from the public URL's host: `host[:port]/audit`.
fn key_name(public_url: &str) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let host: String = host
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '+')
        .collect();
    format!(
        "{}/audit",
        if host.is_empty() { "safescreen" } else { &host }
    )
}

/// The checkpoint key, made on first start (the name taken from the public URL then, and kept).
pub async fn ensure_key(
    write: &DatabaseConnection,
    data_key: &DataKey,
    public_url: &str,
) -> anyhow::Result<CheckpointKey> {
    if let Some(key) = key(write, data_key).await? {
        return Ok(key);
    }
    let txn = db::begin_write(write).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7305198423)",
        ))
        .await?;
    }
    if audit_checkpoint_key::Entity::find()
        .one(&txn)
        .await?
        .is_none()
    {
        let id = db::new_id();
        let signing = SigningKey::from_bytes(&rand::random());
        audit_checkpoint_key::ActiveModel {
            id: Set(id),
            name: Set(key_name(public_url)),
            public_key: Set(signing.verifying_key().as_bytes().to_vec()),
            secret_sealed: Set(data_key.seal(id, signing.as_bytes())),
            created_at: Set(db::now()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    key(write, data_key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the audit checkpoint key vanished"))
}

/// The checkpoint key, if the database has one.
pub async fn key(
    db: &DatabaseConnection,
    data_key: &DataKey,
) -> anyhow::Result<Option<CheckpointKey>> {
    let Some(row) = stored_key(db).await? else {
        return Ok(None);
    };
    let signing = open_signing_key(data_key, row.id, &row.secret_sealed)
        .await
        .ok_or_else(|| anyhow::anyhow!("the audit checkpoint key does not open"))?;
    Ok(Some(CheckpointKey {
        name: row.name,
        signing,
    }))
}

/// The first checkpoint key made (there is one; made at first start).
async fn stored_key(
    db: &DatabaseConnection,
) -> Result<Option<audit_checkpoint_key::Model>, sea_orm::DbErr> {
    audit_checkpoint_key::Entity::find()
        .order_by_asc(audit_checkpoint_key::Column::CreatedAt)
        .one(db)
        .await
}

/// The verifier key stored in the database (for `keys status`; a verifier keeps its own copy).
pub async fn stored_verifier_key(db: &DatabaseConnection) -> anyhow::Result<Option<String>> {
    let Some(row) = stored_key(db).await? else {
        return Ok(None);
    };
    let public: [u8; 32] = row
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("the audit checkpoint key's public key is malformed"))?;
    let public = ed25519_dalek::VerifyingKey::from_bytes(&public)?;
    Ok(Some(signed_note::new_ed25519_verifier_key(
        &row.name, &public,
    )))
}

/// The checkpoint's text: origin, sequence number, the event's hash (base64), the time.
fn note_text(
    origin: &str,
    seq: i64,
    hash_hex: &str,
    at: time::PrimitiveDateTime,
) -> anyhow::Result<String> {
    let hash = hex::decode(hash_hex)?;
    Ok(format!(
        "{origin}\n{seq}\n{}\n{}\n",
        B64.encode(hash),
        db::rfc3339(at)
    ))
}

/// Where checkpoints are appended.
pub fn file_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Writes a checkpoint of the chain's head when it has moved since the last one and the last
/// one is at least `interval` old (`interval` zero: whenever it has moved, as at shutdown).
/// The database decides which process writes it; that process appends it to its file and its
/// log. Answers the checkpoint written, if any. It looks through `read` (asked every second,
/// it mostly finds nothing to do) and only claims the checkpoint through `write`.
pub async fn write(
    read: &DatabaseConnection,
    write: &DatabaseConnection,
    data_key: &DataKey,
    public_url: &str,
    dir: &Path,
    interval: Duration,
) -> anyhow::Result<Option<String>> {
    let Some(head) = audit_chain::Entity::find_by_id(1).one(read).await? else {
        return Ok(None);
    };
    if head.last_seq == 0 {
        return Ok(None);
    }
    let last = audit_checkpoint::Entity::find()
        .order_by_desc(audit_checkpoint::Column::Seq)
        .one(read)
        .await?;
    let now = db::now();
    if let Some(last) = &last
        && (last.seq >= head.last_seq || (now - last.at).unsigned_abs() < interval)
    {
        return Ok(None);
    }
    let began = std::time::Instant::now();
    let key = match key(read, data_key).await? {
        Some(key) => key,
        None => ensure_key(write, data_key, public_url).await?,
    };
    let text = note_text(&key.name, head.last_seq, &head.last_hash, now)?;
    let mut note = Note::new(text.as_bytes(), &[])?;
    note.add_sigs(&[&key.signer()])?;
    let signed = String::from_utf8(note.to_bytes())?;
    let claimed = audit_checkpoint::Entity::insert(audit_checkpoint::ActiveModel {
        seq: Set(head.last_seq),
        hash: Set(head.last_hash.clone()),
        at: Set(now),
        note: Set(signed.clone()),
    })
    .exec_without_returning(write)
    .await;
    match claimed {
        Ok(_) => {}
        // Another process wrote this one.
        Err(err) if db::is_unique_violation(&err) => return Ok(None),
        Err(err) => return Err(err.into()),
    }
    std::fs::create_dir_all(dir)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file_in(dir))?;
    file.write_all(signed.as_bytes())?;
    file.sync_data()?;
    tracing::info!(
        target: "safescreen::audit_checkpoint",
        seq = head.last_seq,
        elapsed_ms = began.elapsed().as_secs_f64() * 1000.0,
        checkpoint = %signed,
        "audit checkpoint"
    );
    Ok(Some(signed))
}

/// One checkpoint read from a file.
#[derive(Debug)]
pub struct Checkpoint {
    /// The line its text starts on.
    pub line: usize,
    pub seq: i64,
    pub hash_hex: String,
    pub at: OffsetDateTime,
}

/// Reads and checks every checkpoint of a file: well-formed, signed by `verifier_key`, in
/// order. The first problem is named with its line.
pub fn read_file(text: &str, verifier_key: &str) -> Result<Vec<Checkpoint>, String> {
    let verifier = StandardVerifier::new(verifier_key)
        .map_err(|e| format!("the verifier key is not one ({e}): expected name+id+key"))?;
    let name = verifier_key
        .split('+')
        .next()
        .unwrap_or_default()
        .to_owned();
    let verifiers = VerifierList::new(vec![Box::new(verifier)]);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        // The text: lines up to the blank one; then the signature lines.
        while i < lines.len() && lines[i] != "\n" {
            if lines[i].starts_with("— ") {
                return Err(format!(
                    "line {}: a signature line where a checkpoint should begin (lines out of \
                     order or a checkpoint's text missing)",
                    i + 1
                ));
            }
            i += 1;
        }
        if i >= lines.len() {
            return Err(format!(
                "line {start}: the checkpoint is truncated (no signature follows its text)"
            ));
        }
        i += 1;
        let signatures_at = i;
        while i < lines.len() && lines[i].starts_with("— ") {
            i += 1;
        }
        if i == signatures_at {
            return Err(format!(
                "line {start}: the checkpoint is truncated (no signature follows its text)"
            ));
        }
        let message = lines[start - 1..i].concat();
        if !message.ends_with('\n') {
            return Err(format!("line {start}: the checkpoint is truncated"));
        }
        let note = Note::from_bytes(message.as_bytes())
            .map_err(|_| format!("line {start}: not a signed checkpoint"))?;
        note.verify(&verifiers).map_err(|e| match e {
            NoteError::InvalidSignature { .. } => format!(
                "line {start}: the checkpoint's signature does not verify (forged or altered)"
            ),
            NoteError::UnverifiedNote => {
                format!("line {start}: the checkpoint is signed by another key, not {name}'s")
            }
            other => format!("line {start}: the checkpoint cannot be verified ({other})"),
        })?;
        let checkpoint = parse_text(start, note.text(), &name)?;
        if let Some(previous) = checkpoints.last()
            && (checkpoint.seq <= previous.seq || checkpoint.at < previous.at)
        {
            return Err(format!(
                "line {start}: the checkpoint of seq {} at {} follows one of seq {} at {} \
                 (lines out of order)",
                checkpoint.seq,
                checkpoint.at.format(&Rfc3339).unwrap_or_default(),
                previous.seq,
                previous.at.format(&Rfc3339).unwrap_or_default()
            ));
        }
        checkpoints.push(checkpoint);
    }
    Ok(checkpoints)
}

fn parse_text(line: usize, text: &[u8], origin: &str) -> Result<Checkpoint, String> {
    let text = std::str::from_utf8(text).map_err(|_| format!("line {line}: not UTF-8"))?;
    let fields: Vec<&str> = text.lines().collect();
    let malformed = || format!("line {line}: not a safescreen audit checkpoint");
    let [found_origin, seq, hash, at] = fields[..] else {
        return Err(malformed());
    };
    if found_origin != origin {
        return Err(format!(
            "line {line}: the checkpoint is of {found_origin}, not {origin}"
        ));
    }
    let seq: i64 = seq.parse().map_err(|_| malformed())?;
    let hash = B64
        .decode(hash)
        .ok()
        .filter(|h| h.len() == 32)
        .ok_or_else(malformed)?;
    let at = OffsetDateTime::parse(at, &Rfc3339).map_err(|_| malformed())?;
    Ok(Checkpoint {
        line,
        seq,
        hash_hex: hex::encode(hash),
        at,
    })
}

/// Checks the chain in the database against checkpoints: the event each one names must still
/// carry the hash it signed. Answers how many checkpoints hold.
pub async fn check_chain(
    db: &DatabaseConnection,
    checkpoints: &[Checkpoint],
) -> Result<usize, String> {
    for checkpoint in checkpoints {
        let event = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.eq(checkpoint.seq))
            .one(db)
            .await
            .map_err(|e| format!("database error: {e}"))?;
        let at = checkpoint.at.format(&Rfc3339).unwrap_or_default();
        match event.and_then(|e| e.hash) {
            None => {
                return Err(format!(
                    "the chain has no event {} though the checkpoint of {at} (line {}) signed \
                     it: events were removed",
                    checkpoint.seq, checkpoint.line
                ));
            }
            Some(hash) if hash != checkpoint.hash_hex => {
                return Err(format!(
                    "event {} no longer has the hash the checkpoint of {at} (line {}) signed: \
                     the chain was changed, or events removed or inserted, before it and \
                     re-hashed",
                    checkpoint.seq, checkpoint.line
                ));
            }
            Some(_) => {}
        }
    }
    Ok(checkpoints.len())
}
