//! Background work inside `serve`: woken every `SAFESCREEN_WORKER_INTERVAL_MS` at the latest,
//! and at once when a commit in this process created work. Each step finishes before a
//! shutdown completes.
use std::time::{Duration, Instant};

use tokio::{sync::watch, task::JoinHandle};

use crate::{audit, engine, mail, outbox, services, services::AppState};

/// The longest a worker sleeps whatever the configuration: events are chained, and due
/// timers fire, within this time.
const LONGEST_SLEEP: Duration = Duration::from_millis(250);
/// The longest one round spends on one kind of backlog.
const SHARE_OF_A_ROUND: Duration = Duration::from_millis(150);
/// After a wake-up, how long to let more commits arrive before polling: under load a stream
/// of commits then costs one round of polls per window instead of one per commit.
const GATHER: Duration = Duration::from_millis(20);

/// The background work, and beside it the audit chain's writer; the handle ends when both
/// have finished after a shutdown.
pub fn spawn(state: AppState, stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    let chain = tokio::spawn(chain_audit_events(state.clone(), stopped.clone()));
    let checkpoints = tokio::spawn(checkpoint_audit_chain(state.clone(), stopped.clone()));
    let work = tokio::spawn(work(state.clone(), stopped));
    tokio::spawn(async move {
        for task in [work, chain, checkpoints] {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a background worker ended abnormally");
            }
        }
        // The last events are chained now: sign where the chain ends.
        if let Err(err) = checkpoint(&state, Duration::ZERO).await {
            tracing::error!(error = %err, "the shutdown's audit checkpoint failed");
        }
    })
}

async fn checkpoint(state: &AppState, interval: Duration) -> anyhow::Result<()> {
    audit::checkpoints::write(
        &state.db,
        &state.db_write,
        &state.data_key,
        &state.config.public_url,
        &state.config.audit_checkpoint_dir,
        interval,
    )
    .await
    .map(|_| ())
}

/// Signs a checkpoint of the audit chain every `SAFESCREEN_AUDIT_CHECKPOINT_INTERVAL` (one
/// process of several writes each; the database says which).
async fn checkpoint_audit_chain(state: AppState, mut stopped: watch::Receiver<bool>) {
    let interval = state.config.audit_checkpoint_interval;
    let tick = interval.min(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stopped.changed() => {}
        }
        if *stopped.borrow() {
            break;
        }
        if let Err(err) = checkpoint(&state, interval).await {
            tracing::warn!(error = %err, "writing an audit checkpoint failed; will retry");
        }
    }
}

/// The audit chain's one writer, on its own so that no other backlog delays it: every event
/// is to be chained within a second of its commit.
async fn chain_audit_events(state: AppState, mut stopped: watch::Receiver<bool>) {
    loop {
        let behind = drain("audit chaining", audit::chain::BATCH, &stopped, || {
            audit::chain::chain_batch(&state.db_write)
        })
        .await;
        if *stopped.borrow() {
            break;
        }
        if !behind {
            tokio::select! {
                _ = tokio::time::sleep(LONGEST_SLEEP) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}

/// Timers, webhooks, e-mail and retention.
async fn work(state: AppState, mut stopped: watch::Receiver<bool>) {
    let interval = Duration::from_millis(state.config.worker_interval_ms).min(LONGEST_SLEEP);
    // Retention scans ended requests: ten worker intervals apart is soon enough.
    let retention_every = Duration::from_millis(state.config.worker_interval_ms * 10);
    let mut retention_ran: Option<Instant> = None;
    loop {
        let backlog = step(&state, &stopped).await;
        if retention_ran.is_none_or(|at| at.elapsed() >= retention_every) {
            if let Err(err) = services::retention::run(&state).await {
                tracing::warn!(error = %err, "retention failed; will retry");
            }
            retention_ran = Some(Instant::now());
        }
        if *stopped.borrow() {
            break;
        }
        if backlog {
            continue; // straight into the next round
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = state.wake_workers.notified() => tokio::time::sleep(GATHER).await,
            _ = stopped.changed() => {}
        }
    }
}

/// One round of every kind of background work; a failure is logged and retried next round.
/// True when e-mail or re-sealing is still waiting at the end of it.
async fn step(state: &AppState, stopped: &watch::Receiver<bool>) -> bool {
    // A new data key seals here from this round at the latest (PostgreSQL: at once).
    if let Err(err) = crate::crypto::data_keys::refresh(&state.data_key, &state.db).await {
        tracing::warn!(error = %err, "bringing the data keys up to date failed; will retry");
    }
    if let Err(err) = engine::timers::fire_due(&state.engine, &state.db_write).await {
        tracing::warn!(error = %err, "firing timers failed; will retry");
    }
    if let Err(err) = outbox::delivery::deliver_due(state).await {
        tracing::warn!(error = %err, "delivering webhooks failed; will retry");
    }
    if let Err(err) = services::sandbox::advance(state).await {
        tracing::warn!(error = %err, "moving sandbox requests on failed; will retry");
    }
    let resealing = drain(
        "re-sealing under the new data key",
        services::data_keys::BATCH,
        stopped,
        || services::data_keys::reseal_batch(state),
    )
    .await;
    let mailing = drain("sending e-mail", mail::BATCH as u64, stopped, || async {
        mail::send_due(&state.db_write, &state.data_key, &state.mailer)
            .await
            .map(|sent| sent as u64)
    })
    .await;
    mailing || resealing
}

/// Runs `batch` while it comes back full, so a burst does not pile up, but for one share of a
/// round at most: a backlog (a million invitations in the benchmark) then neither starves the
/// other work of its turn nor holds up a shutdown. True when the last batch was full: more is
/// waiting for the next round.
async fn drain<F, Fut, E>(what: &str, full: u64, stopped: &watch::Receiver<bool>, batch: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, E>>,
    E: std::fmt::Display,
{
    let began = Instant::now();
    loop {
        match batch().await {
            Ok(done) if done < full => return false,
            Ok(_) if began.elapsed() >= SHARE_OF_A_ROUND || *stopped.borrow() => return true,
            Ok(_) => continue,
            Err(err) => {
                tracing::warn!(error = %err, "{what} failed; will retry");
                return false;
            }
        }
    }
}
