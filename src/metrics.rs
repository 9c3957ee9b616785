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
            "Webhook deliveries and e-mails not yet delivered or given up",
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

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
