//! What every handler and background worker shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{auth::passwords::Passwords, config::Config, metrics::Metrics};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub metrics: Arc<Metrics>,
    /// Wakes the background workers right after a commit that created work for them.
    pub wake_workers: Arc<Notify>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config, passwords: Passwords) -> Self {
        AppState {
            db,
            config: Arc::new(config),
            passwords,
            metrics: Arc::new(Metrics::default()),
            wake_workers: Arc::new(Notify::new()),
        }
    }
}
