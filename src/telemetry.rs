//! Logs, request ids, the security headers every response carries, and each request's place
//! in the metrics (`shouzhen_app::metrics`).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::state::AppState;
use shouzhen_app::config::LogFormat;

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

/// Headers every response carries. Pages set a content policy of their own (their styles and
/// forms); everything else (JSON, CSV, metrics) may load nothing and be framed by no one.
fn security_headers(headers: &mut actix_web::http::header::HeaderMap, https: bool) {
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
    // Served over https (behind the commission's TLS terminator): browsers are told to keep to
    // it for a year.
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// Gives every request an id (echoed in `X-Request-Id`), a span that carries it, a log line,
/// and its place in the metrics. Logs name the route pattern, never the path, so that
/// tracking codes and other values in paths stay out of the logs.
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // HEAD is GET without the body (RFC 9110 §9.3.2): routed as GET; the connection sends the
    // headers only, since it knows the request was a HEAD.
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
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
    let https = state
        .as_ref()
        .is_some_and(|s| s.settings.public_url.starts_with("https://"));
    security_headers(res.headers_mut(), https);
    if let Some(state) = state {
        state
            .metrics
            .observe_request(&method, &route, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(route = %route, status, elapsed_ms = elapsed * 1000.0, "request");
    });
    Ok(res)
}
