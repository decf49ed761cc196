//! Logs, request ids and Prometheus metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber (once; later calls, as in tests, do nothing).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("SHOUZHEN_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

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

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
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

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Gives every request an id (echoed in `X-Request-Id`), a span that carries it, a log line,
/// and its place in the metrics. Logs name the route pattern, never the path, so that
/// tracking codes and other values in paths stay out of the logs.
/// Headers every response carries. Pages set a content policy of their own (their styles and
/// forms); everything else (JSON, CSV, metrics) may load nothing and be framed by no one.
fn security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    use actix_web::http::header::{self, HeaderName};
    let defaults: [(HeaderName, &'static str); 4] = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    security_headers(res.headers_mut());
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(route = %route, status, elapsed_ms = elapsed * 1000.0, "request");
    });
    Ok(res)
}
