//! Operators' endpoints: liveness, readiness, metrics.

use actix_web::{HttpResponse, web};
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

/// Prometheus text metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool))
}
