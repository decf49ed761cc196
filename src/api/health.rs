//! Operators' endpoints: liveness, readiness, metrics.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::error::AppError;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long a write may wait for the lock before the instance says it is not ready.
const WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Readiness: a write could begin within a second (the database answers, and its write lock,
/// or on PostgreSQL the lock an insert of events takes, is had in time). Nothing is written.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "The database is unreachable, or a write cannot get its lock within a second", body = crate::error::Problem)
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state
        .db(|conn| {
            shouzhen_store::db::write_probe(conn, WRITE_WAIT)
                .map_err(|e| AppError::Unavailable(format!("readiness: {e}")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// Prometheus text metrics: to a scraper sending `SHOUZHEN_METRICS_TOKEN` as its Bearer token;
/// without that setting, to the machine itself only (a loopback peer, and no proxy's
/// `X-Forwarded-For` or `Forwarded`: a reverse proxy on the same machine passes the public on).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "SHOUZHEN_METRICS_TOKEN is set and the request's Bearer token is not it", body = crate::error::Problem),
        (status = 403, description = "No SHOUZHEN_METRICS_TOKEN, and the request is not from this machine", body = crate::error::Problem)
    )
)]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    match &state.settings.metrics_token {
        Some(token) => {
            let given = crate::auth::bearer_token(&req)?;
            if !shouzhen_app::password::constant_time_eq(
                given.as_bytes(),
                token.expose().as_bytes(),
            ) {
                return Err(AppError::Unauthorized(
                    "the metrics need the scraper's token (SHOUZHEN_METRICS_TOKEN)".into(),
                )
                .into());
            }
        }
        None => {
            let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
            let proxied = req.headers().contains_key("x-forwarded-for")
                || req.headers().contains_key(header::FORWARDED);
            if !local || proxied {
                return Err(AppError::Forbidden(
                    "the metrics answer only to this machine unless SHOUZHEN_METRICS_TOKEN is set"
                        .into(),
                )
                .into());
            }
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool)))
}
