//! What every handler and background worker shares.
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{
    auth::{
        cache::{PrincipalCache, principal_cache},
        passwords::Passwords,
        rate_limit::RateLimits,
    },
    cache::InvalidatedCache,
    config::Config,
    crypto::DataKey,
    engine::Engine,
    mail::Mailer,
    metrics::Metrics,
    services::{
        certificates::CertificateStatus,
        submissions::{InFlightKeys, SubmissionQueue},
    },
};

/// A handle on what the process shares: one `Arc`, so the clone each request and each
/// middleware takes is one reference count, not one per field (with twenty fields, those
/// shared counts were a fifth of the server's CPU under `GET /v1/me`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    /// Reads, and PostgreSQL writes.
    pub db: DatabaseConnection,
    /// Write transactions: one connection on SQLite, the same pool on PostgreSQL.
    pub db_write: DatabaseConnection,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    /// Seals and opens personal data at rest.
    pub data_key: DataKey,
    pub metrics: Arc<Metrics>,
    pub mailer: Arc<Mailer>,
    /// For webhook deliveries: no redirects, a timeout, and the SSRF-guarded resolver.
    pub webhook_client: reqwest::Client,
    /// Idempotency keys being answered by this process right now: a second request with the
    /// same key meanwhile gets 409.
    pub idempotency_in_flight: InFlightKeys,
    /// Principals by token hash (PostgreSQL, while listening for changes).
    pub principals: Arc<PrincipalCache>,
    /// Hands submissions to the writers that commit them in batches.
    pub submissions: SubmissionQueue,
    /// What the workflow engine needs: the data key, the parsed definitions, the signing keys.
    pub engine: Engine,
    /// Wakes the background workers right after a commit that created work for them.
    pub wake_workers: Arc<Notify>,
    /// Certificates' expiry and revocation by id (PostgreSQL, while listening for revocations).
    pub certificate_statuses: Arc<InvalidatedCache<uuid::Uuid, CertificateStatus>>,
    /// The WebAuthn relying party (the public URL's host); `None` on an IP address.
    pub webauthn: Option<Arc<webauthn_rs::prelude::Webauthn>>,
    /// Held while the process runs (SQLite): `restore` refuses a database in use.
    pub in_use: Option<std::fs::File>,
    /// Each API key's and session's request rate.
    pub rate_limits: Arc<RateLimits>,
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        db_write: DatabaseConnection,
        config: Config,
        passwords: Passwords,
        data_key: DataKey,
        mailer: Mailer,
        in_use: Option<std::fs::File>,
    ) -> Self {
        let webhook_client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .https_only(!config.webhook_allow_private)
            .dns_resolver(crate::outbox::ssrf::resolver(config.webhook_allow_private))
            .user_agent("safescreen-webhooks/1")
            .build()
            .expect("the webhook HTTP client builds");
        let webauthn = super::passkeys::relying_party(&config.public_url).map(Arc::new);
        AppState(Arc::new(Shared {
            in_use,
            rate_limits: Arc::new(RateLimits::new(config.rate_limit)),
            webauthn,
            db_write,
            webhook_client,
            mailer: Arc::new(mailer),
            idempotency_in_flight: Arc::default(),
            submissions: SubmissionQueue::default(),
            principals: Arc::new(principal_cache()),
            engine: Engine::new(
                data_key.clone(),
                config.public_url.clone(),
                config.operator_name.clone(),
            ),
            db,
            config: Arc::new(config),
            passwords,
            data_key,
            metrics: Arc::new(Metrics::default()),
            wake_workers: Arc::new(Notify::new()),
            certificate_statuses: Arc::new(InvalidatedCache::new(
                std::time::Duration::from_secs(60),
                100_000,
            )),
        }))
    }
}
