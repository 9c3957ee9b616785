//! Prometheus metrics: request counts and latencies by route template and status.
use std::time::Duration;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/v1/organisations/{id}`), never the concrete path: paths can hold
    /// tokens.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboxLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KeyLabels {
    /// The data key's id, or `unknown` for values in no format this release knows.
    pub key: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Work waiting to leave the service, by kind (`webhook`, `mail`).
    pub outbox_backlog: Family<OutboxLabels, Gauge>,
    /// Open tasks by kind (`check`, `assessment`, …).
    open_tasks: Family<OutboxLabels, Gauge>,
    overdue_tasks: Gauge,
    /// Requests past their decision deadline without a decision.
    deadlines_missed: Gauge,
    /// Audit events committed but not yet linked into the hash chain.
    audit_unchained: Gauge,
    /// Sealed values by the data key that sealed them.
    sealed_values: Family<KeyLabels, Gauge>,
    /// The data key that seals now.
    data_key_current: Gauge,
    /// The running (or last) rotation: values re-sealed, and 1 while it runs.
    rotation_resealed: Gauge,
    rotation_running: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        let outbox_backlog = Family::<OutboxLabels, Gauge>::default();
        let open_tasks = Family::<OutboxLabels, Gauge>::default();
        let overdue_tasks = Gauge::default();
        let deadlines_missed = Gauge::default();
        let audit_unchained = Gauge::default();
        let sealed_values = Family::<KeyLabels, Gauge>::default();
        let data_key_current = Gauge::default();
        let rotation_resealed = Gauge::default();
        let rotation_running = Gauge::default();
        registry.register(
            "safescreen_sealed_values",
            "Sealed values (personal data, secrets) by the data key that sealed them",
            sealed_values.clone(),
        );
        registry.register(
            "safescreen_data_key_current",
            "The id of the data key that seals new values",
            data_key_current.clone(),
        );
        registry.register(
            "safescreen_data_key_rotation_resealed",
            "Values the running (or last) data key rotation has re-sealed",
            rotation_resealed.clone(),
        );
        registry.register(
            "safescreen_data_key_rotation_running",
            "1 while a data key rotation re-seals values",
            rotation_running.clone(),
        );
        registry.register(
            "safescreen_open_tasks",
            "Tasks not yet completed or cancelled, by kind",
            open_tasks.clone(),
        );
        registry.register(
            "safescreen_overdue_tasks",
            "Open tasks past their due time",
            overdue_tasks.clone(),
        );
        registry.register(
            "safescreen_decision_deadlines_missed",
            "Requests past their decision deadline and not yet decided",
            deadlines_missed.clone(),
        );
        registry.register(
            "safescreen_http_requests",
            "HTTP requests answered, by route template and status",
            requests.clone(),
        );
        registry.register(
            "safescreen_http_request_duration_seconds",
            "HTTP request latency by route template",
            latency.clone(),
        );
        registry.register(
            "safescreen_audit_unchained",
            "Audit events not yet linked into the hash chain (it follows within a second)",
            audit_unchained.clone(),
        );
        registry.register(
            "safescreen_outbox_backlog",
            "Live webhook deliveries and e-mails not yet delivered or given up (not the sandbox's)",
            outbox_backlog.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            outbox_backlog,
            open_tasks,
            overdue_tasks,
            deadlines_missed,
            audit_unchained,
            sealed_values,
            data_key_current,
            rotation_resealed,
            rotation_running,
        }
    }
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn set_outbox_backlog(&self, kind: &str, count: u64) {
        self.outbox_backlog
            .get_or_create(&OutboxLabels {
                kind: kind.to_owned(),
            })
            .set(count.min(i64::MAX as u64) as i64);
    }

    pub fn set_audit_unchained(&self, count: u64) {
        self.audit_unchained
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The engine's gauges, counted in the database at scrape time (so every process of a
    /// deployment reports the same).
    pub fn set_engine(&self, open_by_kind: &[(String, u64)], overdue: u64, missed: u64) {
        for (kind, count) in open_by_kind {
            self.open_tasks
                .get_or_create(&OutboxLabels { kind: kind.clone() })
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        self.overdue_tasks
            .set(i64::try_from(overdue).unwrap_or(i64::MAX));
        self.deadlines_missed
            .set(i64::try_from(missed).unwrap_or(i64::MAX));
    }

    /// The data keys' gauges, counted in the database at scrape time.
    pub fn set_data_keys(&self, status: &crate::services::data_keys::Status) {
        self.sealed_values.clear();
        for (key, count) in &status.values {
            let key = key.map_or_else(|| "unknown".to_owned(), |k| k.to_string());
            self.sealed_values
                .get_or_create(&KeyLabels { key })
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        self.data_key_current
            .set(status.current.map_or(0, i64::from));
        let job = status.rotation.as_ref();
        self.rotation_resealed
            .set(job.map_or(0, |job| job.resealed));
        self.rotation_running
            .set(i64::from(job.is_some_and(|job| job.finished_at.is_none())));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
