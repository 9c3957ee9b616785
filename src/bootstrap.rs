//! Start-up: the database, migrations, the data keys and the first admin.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use migration::MigratorTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Set, Statement, TransactionTrait,
};
use serde_json::json;

use crate::{
    audit,
    auth::passwords::{Passwords, check_new_password},
    config::{self, Config},
    crypto, db,
    domain::{Email, Role},
    mail::Mailer,
    services::AppState,
};
use entity::user;

/// Applies every pending migration. On PostgreSQL under an advisory lock in one transaction,
/// so several processes starting together migrate once.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7305198421)",
        ))
        .await?;
        migration::Migrator::up(&txn, None).await?;
        txn.commit().await?;
    } else {
        migration::Migrator::up(db, None).await?;
    }
    Ok(())
}

/// The master key, which wraps the data keys: `SAFESCREEN_DATA_KEY`, or (SQLite only) a key
/// file generated once beside the database.
pub fn data_key(config: &Config) -> anyhow::Result<[u8; 32]> {
    if let Some(key) = config.data_key {
        return Ok(key);
    }
    if !config.is_sqlite() {
        anyhow::bail!("SAFESCREEN_DATA_KEY is required with PostgreSQL (32 bytes, base64)");
    }
    let path = config.data_key_file();
    let (key, created) = config::load_or_create_key_file(&path)
        .map_err(|e| anyhow::anyhow!("data key file {}: {e}", path.display()))?;
    if created {
        tracing::warn!(
            file = %path.display(),
            "SAFESCREEN_DATA_KEY is unset: generated a data key file; back it up, without it the personal data cannot be read"
        );
    }
    Ok(key)
}

/// The master key when it is configured or its key file exists; never generates one (for the
/// commands that read a copy: a new key could open nothing).
pub fn existing_data_key(config: &Config) -> anyhow::Result<Option<[u8; 32]>> {
    if config.data_key.is_some() || (config.is_sqlite() && config.data_key_file().exists()) {
        return data_key(config).map(Some);
    }
    Ok(None)
}

/// Connects, migrates and prepares everything `serve` and the commands need.
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    let in_use = crate::backup::hold(&config)?;
    let db = db::connect(&config).await?;
    migrate(&db).await?;
    let master_key = data_key(&config)?;
    let passwords = Passwords::new()?;
    let mailer = Mailer::from_config(&config)?;
    let db_write = db::connect_writer(&config, &db).await?;
    let data_key =
        crypto::data_keys::open(&db_write, &db, master_key, config.data_key_previous).await?;
    check_consent_reminders(&db, &config).await?;
    let state = AppState::new(db, db_write, config, passwords, data_key, mailer, in_use);
    crate::services::certificates::ensure_signing_key(&state).await?;
    audit::checkpoints::ensure_key(&state.db_write, &state.data_key, &state.config.public_url)
        .await?;
    Ok(state)
}

/// Refuses a reminder schedule that could never remind anyone: a reminder is sent that long
/// before an invitation lapses, so it must be shorter than the consent window of a workflow
/// definition (the longest one published; shorter windows simply get fewer reminders).
async fn check_consent_reminders(db: &DatabaseConnection, config: &Config) -> anyhow::Result<()> {
    let Some(longest_reminder) = config.consent_reminders.first() else {
        return Ok(());
    };
    let windows = entity::workflow_definition::Entity::find().all(db).await?;
    let longest_window = windows
        .iter()
        .filter_map(|row| row.definition["consent_window"].as_str())
        .filter_map(|text| crate::domain::IsoDuration::parse(text).ok())
        .max_by_key(|window| window.as_time());
    if let Some(window) = longest_window
        && longest_reminder.as_time() >= window.as_time()
    {
        anyhow::bail!(
            "SAFESCREEN_CONSENT_REMINDERS: {} is not shorter than the longest consent window \
             of the workflow definitions ({}); a reminder is sent that long before an \
             invitation lapses, so it would never be sent",
            longest_reminder.as_str(),
            window.as_str()
        );
    }
    Ok(())
}

/// Creates the first admin when there is none: from `SAFESCREEN_ADMIN_EMAIL` and
/// `SAFESCREEN_ADMIN_PASSWORD`, else `admin@localhost` with a generated password printed once.
pub async fn ensure_admin(state: &AppState) -> anyhow::Result<()> {
    let exists = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .one(&state.db)
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    let (email, password, generated) =
        match (&state.config.admin_email, &state.config.admin_password) {
            (Some(email), Some(password)) => (email.clone(), password.clone(), false),
            _ => {
                let random: [u8; 18] = rand::random();
                (
                    "admin@localhost".to_owned(),
                    URL_SAFE_NO_PAD.encode(random),
                    true,
                )
            }
        };
    match create_admin(state, &email, password.clone(), generated).await {
        Ok(()) => {
            if generated {
                // Printed once, to the console, never to the log.
                println!("Created the first admin: {email} with password {password}");
                println!(
                    "Change it by issuing an activation token, or set SAFESCREEN_ADMIN_EMAIL and SAFESCREEN_ADMIN_PASSWORD."
                );
            } else {
                tracing::info!("created the first admin from SAFESCREEN_ADMIN_EMAIL");
            }
            Ok(())
        }
        // Another process created it at the same moment.
        Err(err)
            if err
                .downcast_ref::<sea_orm::DbErr>()
                .is_some_and(db::is_unique_violation) =>
        {
            Ok(())
        }
        Err(err) => Err(err),
    }
}

/// Adds an admin account (first start, or `safescreen create-admin`).
pub async fn create_admin(
    state: &AppState,
    email: &str,
    password: String,
    generated: bool,
) -> anyhow::Result<()> {
    // admin@localhost has no public domain, so only the generated default skips the check.
    let email = if generated {
        email.to_owned()
    } else {
        Email::parse(email)
            .map_err(|m| anyhow::anyhow!("e-mail {m}"))?
            .into_string()
    };
    check_new_password(&password).map_err(|m| anyhow::anyhow!("password {m}"))?;
    let hash = state.passwords.hash(password).await?;
    let now = db::now();
    let txn = db::begin_write(&state.db_write).await?;
    let admin = user::ActiveModel {
        id: Set(db::new_id()),
        email: Set(email),
        name: Set("Administrator".to_owned()),
        role: Set(Role::Admin.as_str().to_owned()),
        organisation_id: Set(None),
        password_hash: Set(Some(hash)),
        active: Set(true),
        created_at: Set(now),
        activated_at: Set(Some(now)),
        second_factor_failures: Set(0),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        audit::ACTOR_SYSTEM,
        "admin.created",
        audit::target("user", admin.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
