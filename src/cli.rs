//! The command line: `serve` (default), `migrate`, `create-admin`, `openapi`, `audit verify`.
use std::io::Read;

use clap::{Parser, Subcommand};

use crate::{app, audit, bootstrap, config::Config, db, openapi};

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
    /// The certificate signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// A new signing key signs from now on; certificates signed with older keys still verify.
    Rotate,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero naming the first broken link.
    Verify,
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
            command: KeysCommand::Rotate,
        } => {
            let state = bootstrap::open(config).await?;
            let kid = crate::services::certificates::rotate(&state, "cli").await?;
            crate::audit::chain::chain_pending(&state.db_write).await?;
            println!("signing key {kid} signs from now on; older keys still verify");
            Ok(0)
        }
        Command::Openapi => {
            print!("{}", openapi::document_json());
            Ok(0)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let connection = db::connect(&config).await?;
            match audit::chain::verify(&connection).await {
                Ok(verified) => {
                    println!(
                        "audit chain intact: {} events chained, {} awaiting the chain writer",
                        verified.chained, verified.pending
                    );
                    Ok(0)
                }
                Err(audit::chain::VerifyError::Broken(broken)) => {
                    eprintln!("{broken}");
                    Ok(1)
                }
                Err(err) => Err(err.into()),
            }
        }
    }
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
