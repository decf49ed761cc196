//! The service's Prometheus metrics: HTTP requests (counted by the HTTP layer), the pool, cases
//! opened, intake, the outbox, the sweeper, group commits.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub struct Metrics {
    pub registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    pub cases_opened: IntCounterVec,
    pub events_ingested: IntCounterVec,
    pub outbox: IntGaugeVec,
    pub sweeps: IntGauge,
    /// Transactions of the intake writers (several requests may share one).
    pub group_commits: IntCounter,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "shouzhen_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "shouzhen_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route"],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let pool = IntGaugeVec::new(
            Opts::new(
                "shouzhen_db_pool_connections",
                "Database pool connections by state",
            ),
            &["state"],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let cases_opened = IntCounterVec::new(
            Opts::new("shouzhen_cases_opened_total", "Cases opened by rule"),
            &["rule"],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let events_ingested = IntCounterVec::new(
            Opts::new("shouzhen_intake_events_total", "Intake events by outcome"),
            &["outcome"],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let outbox = IntGaugeVec::new(
            Opts::new("shouzhen_outbox_emails", "Emails in the outbox by status"),
            &["status"],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let sweeps = IntGauge::new(
            "shouzhen_sweeper_last_run_timestamp_seconds",
            "When the rule sweeper last completed",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let group_commits = IntCounter::new(
            "shouzhen_intake_commits_total",
            "Intake transactions committed (concurrent requests share one)",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(cases_opened.clone()),
            Box::new(events_ingested.clone()),
            Box::new(outbox.clone()),
            Box::new(sweeps.clone()),
            Box::new(group_commits.clone()),
        ] {
            registry
                .register(collector)
                .unwrap_or_else(|e| unreachable!("{e}"));
        }
        Self {
            registry,
            requests,
            latency,
            pool,
            cases_opened,
            events_ingested,
            outbox,
            sweeps,
            group_commits,
        }
    }

    /// Counts one HTTP request and its latency (the HTTP layer calls it for each).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    /// The Prometheus text exposition, with the pool's gauges read now.
    pub fn render(&self, pool: &shouzhen_store::db::Pool) -> String {
        let state = pool.state();
        let max = i64::from(pool.max_size());
        self.pool
            .with_label_values(&["open"])
            .set(i64::from(state.connections));
        self.pool
            .with_label_values(&["idle"])
            .set(i64::from(state.idle_connections));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(state.connections - state.idle_connections));
        self.pool.with_label_values(&["max"]).set(max);
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
