//! The command line: `serve` (default), `migrate`, `create-admin`, `openapi`, `demo`, `audit
//! verify`, `keys`, `backup` and `restore`.
use std::{io::Read, path::PathBuf};

use clap::{Parser, Subcommand};
use sea_orm::{EntityTrait, QueryOrder};

use crate::{app, audit, backup, bootstrap, config::Config, db, openapi, services};

#[derive(Parser, Debug)]
#[command(
    name = "safescreen",
    version,
    about = "Volunteer and staff screening service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate the database, then serve (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Add an admin account; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Seed a demo organisation, an API key and requests in every state; print how to use them.
    Demo,
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The data keys and the certificate signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// A consistent copy of the running SQLite database, with a manifest; or `backup verify`.
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(subcommand)]
        command: Option<BackupCommand>,
        /// Where the copy goes (a new file).
        file: Option<PathBuf>,
    },
    /// Restores a backup into the configured (empty, stopped) SQLite database, then verifies.
    Restore {
        file: PathBuf,
        /// Replace a database that is not empty (never one in use).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// A new signing key signs from now on; certificates signed with older keys still verify.
    Rotate,
    /// A new data key seals from now on; the service re-seals every value under it, then
    /// retires the older keys.
    RotateData,
    /// The data keys (with the sealed values each holds), the signing keys, and the key that
    /// signs audit checkpoints.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Checks a backup (or, given a database URL, a restored database): integrity, foreign
    /// keys, the audit chain, the manifest's counts and data keys; exits 1 naming what is wrong.
    Verify { file: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero naming the first broken link.
    Verify {
        /// Also check the chain against every signed checkpoint in this file.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The checkpoint verifier key you kept (`keys status` prints it); without it, the key
        /// in the database, which whoever can rewrite the database can replace.
        #[arg(long, requires = "checkpoints")]
        key: Option<String>,
    },
}

/// Runs a command; the exit code is the process's.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<i32> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listen = config.listen;
            let state = bootstrap::open(config).await?;
            bootstrap::ensure_admin(&state).await?;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            tracing::info!(address = %listener.local_addr()?, "serving");
            app::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(0)
        }
        Command::Migrate => {
            let connection = db::connect(&config).await?;
            bootstrap::migrate(&connection).await?;
            println!("migrations applied");
            Ok(0)
        }
        Command::CreateAdmin { email } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let state = bootstrap::open(config).await?;
            bootstrap::create_admin(&state, &email, password, false).await?;
            println!("admin created");
            Ok(0)
        }
        Command::Demo => {
            let state = bootstrap::open(config).await?;
            crate::demo::run(&state).await?;
            // Send the invitation e-mails now, so the links are in the mail drop.
            crate::mail::send_due(&state.db_write, &state.data_key, &state.mailer).await?;
            crate::audit::chain::chain_pending(&state.db_write).await?;
            Ok(0)
        }
        Command::Keys {
            command: KeysCommand::RotateData,
        } => {
            let state = bootstrap::open(config).await?;
            match services::data_keys::rotate(&state, "cli").await {
                Ok(id) => {
                    audit::chain::chain_pending(&state.db_write).await?;
                    println!(
                        "data key {id} seals from now on; the running service re-seals every \
                         sealed value under it and then retires the older keys \
                         (`safescreen keys status` shows how far it is)"
                    );
                    Ok(0)
                }
                Err(crate::error::AppError::Conflict(message)) => {
                    eprintln!("{message}");
                    Ok(1)
                }
                Err(err) => Err(anyhow::anyhow!("{err:?}")),
            }
        }
        Command::Keys {
            command: KeysCommand::Status,
        } => {
            let state = bootstrap::open(config).await?;
            print!("{}", keys_status(&state).await?);
            Ok(0)
        }
        Command::Backup {
            command: Some(BackupCommand::Verify { file }),
            ..
        } => {
            let master = bootstrap::existing_data_key(&config)?;
            match backup::verify(&file, master).await {
                Ok(verified) => {
                    match &verified.manifest {
                        Some(manifest) => println!(
                            "backup intact: {} tables, {} rows, as its manifest of {} says; \
                             audit chain of {} events verified",
                            manifest.tables.len(),
                            manifest.tables.values().sum::<u64>(),
                            manifest.created_at,
                            verified.chained
                        ),
                        None => println!(
                            "database intact: audit chain of {} events verified, every data key \
                             it needs is there",
                            verified.chained
                        ),
                    }
                    Ok(0)
                }
                Err(problems) => {
                    eprint!("{problems}");
                    Ok(1)
                }
            }
        }
        Command::Backup {
            command: None,
            file: Some(file),
        } => {
            let manifest = backup::backup(&config, &file).await?;
            println!(
                "backup written to {}: {} rows in {} tables, audit chain to seq {}; its values \
                 are sealed under data key(s) {:?}, which only the master key \
                 (SAFESCREEN_DATA_KEY) opens: keep that apart from the backup",
                file.display(),
                manifest.tables.values().sum::<u64>(),
                manifest.tables.len(),
                manifest.audit_head.seq,
                manifest.data_keys
            );
            Ok(0)
        }
        Command::Backup {
            command: None,
            file: None,
        } => {
            eprintln!("usage: safescreen backup FILE, or safescreen backup verify FILE");
            Ok(2)
        }
        Command::Restore { file, force } => {
            let master = bootstrap::existing_data_key(&config)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "restore needs the master key of the service the backup was made from: set \
                     SAFESCREEN_DATA_KEY, or put its key file at {}",
                    config.data_key_file().display()
                )
            })?;
            let verified = backup::restore(&config, &file, force, master).await?;
            println!(
                "restored {} and verified it: audit chain of {} events intact",
                file.display(),
                verified.chained
            );
            Ok(0)
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let state = bootstrap::open(config).await?;
            let kid = crate::services::certificates::rotate(&state, "cli").await?;
            crate::audit::chain::chain_pending(&state.db_write).await?;
            println!("signing key {kid} signs from now on; older keys still verify");
            Ok(0)
        }
        Command::Openapi => {
            print!("{}", openapi::document_json_for(&config.public_url));
            Ok(0)
        }
        Command::Audit {
            command: AuditCommand::Verify { checkpoints, key },
        } => {
            let connection = db::connect(&config).await?;
            let verified = match audit::chain::verify(&connection).await {
                Ok(verified) => verified,
                Err(audit::chain::VerifyError::Broken(broken)) => {
                    eprintln!("{broken}");
                    return Ok(1);
                }
                Err(err) => return Err(err.into()),
            };
            println!(
                "audit chain intact: {} events chained, {} awaiting the chain writer",
                verified.chained, verified.pending
            );
            let Some(file) = checkpoints else {
                return Ok(0);
            };
            let key = match key {
                Some(key) => key,
                None => {
                    let stored = audit::checkpoints::stored_verifier_key(&connection)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("this database has no checkpoint key"))?;
                    println!(
                        "checking against the checkpoint key in the database; pass --key with \
                         the key you kept for a check no insider can defeat"
                    );
                    stored
                }
            };
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let checked = match audit::checkpoints::read_file(&text, &key) {
                Ok(read) => audit::checkpoints::check_chain(&connection, &read)
                    .await
                    .map(|n| (n, read.last().map(|c| c.seq))),
                Err(problem) => Err(format!("{}: {problem}", file.display())),
            };
            match checked {
                Ok((n, last)) => {
                    println!(
                        "the chain matches all {n} signed checkpoints{}",
                        last.map_or(String::new(), |seq| format!(" (the last at seq {seq})"))
                    );
                    Ok(0)
                }
                Err(problem) => {
                    eprintln!("{problem}");
                    Ok(1)
                }
            }
        }
    }
}

/// What `keys status` prints.
async fn keys_status(state: &services::AppState) -> anyhow::Result<String> {
    use std::fmt::Write;
    let status = services::data_keys::status(&state.db).await?;
    let mut out = String::from("Data keys (wrapped under the master key, SAFESCREEN_DATA_KEY):\n");
    let at = crate::db::rfc3339;
    for key in status.keys.iter().rev() {
        let id = key.id as u32;
        let state_word = match (key.retired_at, Some(id) == status.current) {
            (Some(retired), _) => format!("retired {}", at(retired)),
            (None, true) => "current".to_owned(),
            (None, false) => "retiring".to_owned(),
        };
        let values = status.values.get(&Some(id)).copied().unwrap_or_default();
        writeln!(
            out,
            "  key {id}: {state_word}; created {}; {values} sealed values",
            at(key.created_at)
        )?;
    }
    if let Some(unknown) = status.values.get(&None) {
        writeln!(out, "  {unknown} sealed values name no known key format")?;
    }
    if let Some(progress) = status.rotation_progress() {
        writeln!(out, "  {progress}")?;
    }
    out.push_str("Certificate signing keys:\n");
    let signing = services::certificates::signing_keys(state).await?;
    for key in signing {
        let state_word = key
            .retired_at
            .map_or_else(|| "signing".to_owned(), |t| format!("retired {}", at(t)));
        writeln!(
            out,
            "  {}: {state_word}; created {}",
            key.kid,
            at(key.created_at)
        )?;
    }
    out.push_str("Audit checkpoints, signed by (keep this key where the database's operators cannot change it):\n");
    match audit::checkpoints::stored_verifier_key(&state.db).await? {
        Some(key) => writeln!(out, "  {key}")?,
        None => writeln!(out, "  (no key yet)")?,
    }
    let last = entity::audit_checkpoint::Entity::find()
        .order_by_desc(entity::audit_checkpoint::Column::Seq)
        .one(&state.db)
        .await?;
    match last {
        Some(last) => writeln!(
            out,
            "  last checkpoint: seq {} at {}",
            last.seq,
            at(last.at)
        )?,
        None => writeln!(out, "  no checkpoint written yet")?,
    }
    Ok(out)
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
