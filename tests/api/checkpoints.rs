//! Signed audit checkpoints: a chain rewritten and re-hashed passes the plain check and fails
//! against the checkpoints signed before; a forged, reordered, truncated or foreign checkpoint
//! file is refused; with two processes each checkpoint is written by one.
use std::{collections::HashSet, path::PathBuf, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use safescreen::audit::{
    chain::{GENESIS_HASH, canonical_event, link_hash},
    checkpoints,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use serde_json::json;

use crate::helpers::*;
use entity::{audit_chain, audit_checkpoint, audit_event};

const FAST: [(&str, &str); 1] = [("SAFESCREEN_AUDIT_CHECKPOINT_INTERVAL", "PT0.2S")];

fn checkpoint_file(app: &TestApp) -> PathBuf {
    app.database
        .dir
        .path()
        .join("checkpoints")
        .join(checkpoints::FILE_NAME)
}

async fn safescreen(app: &TestApp, args: &[&str]) -> std::process::Output {
    safescreen_with(&app.database, args, &[]).await
}

/// The verifier key `keys status` prints, as a verifier would copy it.
async fn verifier_key(app: &TestApp) -> String {
    let status = safescreen(app, &["keys", "status"]).await;
    assert!(status.status.success(), "{}", said(&status));
    let text = said(&status);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("Audit checkpoints"))
        .unwrap();
    lines[at + 1].trim().to_owned()
}

/// Some activity, and time for the checkpoint writer to sign it, twice.
async fn events_with_checkpoints(app: &TestApp) {
    for round in 0..2 {
        for i in 0..3 {
            app.create_organisation(&format!("Organisation {round}-{i}"))
                .await;
        }
        app.wait_for_audit_chain().await;
        tokio::time::sleep(Duration::from_millis(1_300)).await;
    }
}

/// Re-links the whole chain from the first event, as an insider who can write the database
/// would after changing an event.
async fn rehash_everything(app: &TestApp) {
    let events = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let mut prev = GENESIS_HASH.to_owned();
    let mut last = 0;
    for event in events.into_iter().filter(|e| e.seq.is_some()) {
        let seq = event.seq.unwrap();
        let hash = link_hash(&prev, &canonical_event(&event, seq));
        let mut row = event.into_active_model();
        row.prev_hash = Set(Some(prev.clone()));
        row.hash = Set(Some(hash.clone()));
        row.update(&app.db).await.unwrap();
        prev = hash;
        last = seq;
    }
    let mut head = audit_chain::Entity::find_by_id(1)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    head.last_seq = Set(last);
    head.last_hash = Set(prev);
    head.update(&app.db).await.unwrap();
}

#[tokio::test]
async fn a_chain_rewritten_and_rehashed_fails_only_against_the_checkpoints() {
    let mut app = spawn_app_with(&FAST).await;
    events_with_checkpoints(&app).await;
    app.stop().await;
    let file = checkpoint_file(&app).display().to_string();
    let key = verifier_key(&app).await;
    let intact = safescreen(
        &app,
        &["audit", "verify", "--checkpoints", &file, "--key", &key],
    )
    .await;
    assert!(intact.status.success(), "{}", said(&intact));
    assert!(said(&intact).contains("matches all"), "{}", said(&intact));
    let signed = audit_checkpoint::Entity::find().all(&app.db).await.unwrap();
    assert!(signed.len() >= 2, "checkpoints written: {}", signed.len());

    // An insider changes the second event and re-hashes the chain.
    audit_event::Entity::update_many()
        .col_expr(
            audit_event::Column::Details,
            Expr::value(json!({"changed": true})),
        )
        .filter(audit_event::Column::Seq.eq(2))
        .exec(&app.db)
        .await
        .unwrap();
    rehash_everything(&app).await;
    let plain = safescreen(&app, &["audit", "verify"]).await;
    assert!(
        plain.status.success(),
        "the plain check is fooled: {}",
        said(&plain)
    );
    let against = safescreen(
        &app,
        &["audit", "verify", "--checkpoints", &file, "--key", &key],
    )
    .await;
    assert_eq!(against.status.code(), Some(1), "{}", said(&against));
    assert!(
        said(&against).contains("no longer has the hash"),
        "{}",
        said(&against)
    );

    // Against the key in the database (no --key): the same verdict.
    let stored = safescreen(&app, &["audit", "verify", "--checkpoints", &file]).await;
    assert_eq!(stored.status.code(), Some(1), "{}", said(&stored));
}

#[tokio::test]
async fn a_forged_reordered_truncated_or_foreign_checkpoint_file_is_refused() {
    let mut app = spawn_app_with(&FAST).await;
    events_with_checkpoints(&app).await;
    app.stop().await;
    let key = verifier_key(&app).await;
    let text = std::fs::read_to_string(checkpoint_file(&app)).unwrap();
    let read = checkpoints::read_file(&text, &key).expect("the file as written verifies");
    assert!(read.len() >= 2);
    let notes: Vec<String> = text
        .split_inclusive('\n')
        .fold(vec![String::new()], |mut notes, line| {
            notes.last_mut().unwrap().push_str(line);
            if line.starts_with("— ") {
                notes.push(String::new());
            }
            notes
        })
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(notes.len(), read.len());

    let refused = |variant: &str, expected: &str| {
        let problem = checkpoints::read_file(variant, &key).expect_err(expected);
        assert!(
            problem.contains(expected),
            "wanted {expected:?}, got {problem}"
        );
    };
    // A signature changed: forged.
    let signature_line = notes[0].lines().last().unwrap();
    let (prefix, encoded) = signature_line.rsplit_once(' ').unwrap();
    let mut signature = B64.decode(encoded).unwrap();
    *signature.last_mut().unwrap() ^= 1;
    let forged = text.replacen(
        signature_line,
        &format!("{prefix} {}", B64.encode(signature)),
        1,
    );
    refused(&forged, "does not verify");
    // The signed text changed (a later sequence number claimed).
    let lines: Vec<&str> = notes[0].lines().collect();
    let claimed = notes[0].replacen(
        &format!("\n{}\n", lines[1]),
        &format!("\n{}\n", lines[1].parse::<i64>().unwrap() + 1),
        1,
    );
    refused(&claimed, "does not verify");
    // Two checkpoints swapped.
    let swapped: String = [notes[1].clone(), notes[0].clone()].concat();
    refused(&swapped, "out of order");
    // A line moved: a signature where a checkpoint should begin.
    let sig_first = format!("{}{}", notes[0].lines().last().unwrap(), "\n") + &notes[0];
    refused(&sig_first, "lines out of order");
    // Cut off before the last signature.
    let truncated = text.trim_end().rsplit_once('\n').unwrap().0.to_owned() + "\n";
    refused(&truncated, "truncated");
    // Signed by another key of the same name.
    let name = key.split('+').next().unwrap();
    let other = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let public = [&[1u8][..], other.verifying_key().as_bytes()].concat();
    let other_signer = format!(
        "PRIVATE+KEY+{name}+{:08x}+{}",
        signed_note::key_id(name, &public),
        B64.encode([&[1u8][..], other.as_bytes()].concat())
    );
    let other_verifier = signed_note::new_ed25519_verifier_key(name, &other.verifying_key());
    let body = format!("{}\n", notes[0].split("\n\n").next().unwrap());
    let mut note = signed_note::Note::new(body.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&signed_note::StandardSigner::new(&other_signer).unwrap()])
        .unwrap();
    let foreign = String::from_utf8(note.to_bytes()).unwrap();
    refused(&foreign, "signed by another key");
    assert!(checkpoints::read_file(&foreign, &other_verifier).is_ok());
    // The command line names the line.
    let bad = app.database.dir.path().join("bad.log");
    std::fs::write(&bad, &swapped).unwrap();
    let output = safescreen(
        &app,
        &[
            "audit",
            "verify",
            "--checkpoints",
            &bad.display().to_string(),
            "--key",
            &key,
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(said(&output).contains("line "), "{}", said(&output));
}

#[tokio::test]
async fn with_two_processes_each_checkpoint_is_written_by_one() {
    let mut first = spawn_app_with(&FAST).await;
    let other_dir = first.database.dir.path().join("second-checkpoints");
    let other = other_dir.display().to_string();
    let mut second = spawn_second_app_with(
        &first,
        &[FAST[0], ("SAFESCREEN_AUDIT_CHECKPOINT_DIR", &other)],
    )
    .await;
    for round in 0..8 {
        first.create_organisation(&format!("First {round}")).await;
        second.create_organisation(&format!("Second {round}")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    second.stop().await;
    first.stop().await;
    let key = verifier_key(&first).await;
    let seqs = |path: PathBuf| -> Vec<i64> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        checkpoints::read_file(&text, &key)
            .unwrap()
            .iter()
            .map(|c| c.seq)
            .collect()
    };
    let mine = seqs(checkpoint_file(&first));
    let theirs = seqs(other_dir.join(checkpoints::FILE_NAME));
    let all: HashSet<i64> = mine.iter().chain(&theirs).copied().collect();
    assert_eq!(
        all.len(),
        mine.len() + theirs.len(),
        "no checkpoint written twice"
    );
    let claimed = audit_checkpoint::Entity::find()
        .all(&first.db)
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        all.len(),
        "every claimed checkpoint is in a file"
    );
    assert!(all.len() >= 3, "checkpoints every 0.2 s: {}", all.len());
}
