//! Background work inside `serve`: woken every `SAFESCREEN_WORKER_INTERVAL_MS` at the latest,
//! and at once when a commit in this process created work.
use std::time::Duration;

use tokio::{sync::watch, task::JoinHandle};

use crate::{audit, state::AppState};

/// Audit events are chained within this time of their commit.
const AUDIT_CHAIN_INTERVAL: Duration = Duration::from_millis(250);

pub fn spawn(state: AppState, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let interval =
            Duration::from_millis(state.config.worker_interval_ms).min(AUDIT_CHAIN_INTERVAL);
        loop {
            match audit::chain::chain_pending(&state.db).await {
                Ok(_) => {
                    state.metrics.audit_pending.set(0);
                }
                Err(err) => tracing::warn!(error = %err, "audit chaining failed; will retry"),
            }
            if *stopped.borrow() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = state.wake_workers.notified() => {}
                _ = stopped.changed() => {}
            }
        }
    })
}
