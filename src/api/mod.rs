//! The HTTP API: one module per area, the routes, and the OpenAPI document.

pub mod body;
pub mod cases;
pub mod complaints;
pub mod health;
pub mod intake;
pub mod login;
pub mod oauth;
pub mod openapi;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{AppError, FieldError};

/// Registers every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::QueryConfig::default().error_handler(|err, _req| {
            AppError::fields(vec![query_error(&err.to_string())]).into()
        }),
    )
    .app_data(
        web::PathConfig::default().error_handler(|err, _req| {
            AppError::NotFound(format!("no such resource ({err})")).into()
        }),
    )
    .app_data(
        web::JsonConfig::default()
            .limit(body::JSON_LIMIT)
            .error_handler(|err, _req| AppError::field("body", err.to_string()).into()),
    )
    .app_data(
        web::FormConfig::default()
            .limit(64 * 1024)
            .error_handler(|err, _req| AppError::field("body", err.to_string()).into()),
    )
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(health::metrics))
    .route("/oauth/token", web::post().to(oauth::token))
    .route("/api/v1/auth/login", web::post().to(login::login))
    .route("/api/v1/intake-events", web::post().to(intake::post_events))
    .route("/api/v1/cases", web::get().to(cases::list))
    .route("/api/v1/cases/{id}", web::get().to(cases::get))
    .route("/api/v1/cases/{id}/actions", web::post().to(cases::act))
    .route("/api/v1/hospitals", web::get().to(complaints::hospitals))
    .route("/api/v1/complaints", web::post().to(complaints::create))
    .route("/api/v1/complaints", web::get().to(complaints::queue))
    .route(
        "/api/v1/complaints/{code}",
        web::get().to(complaints::get_public),
    )
    .route(
        "/api/v1/complaints/{code}/rating",
        web::post().to(complaints::post_rating),
    )
    .route(
        "/api/v1/complaints/{id}/actions",
        web::post().to(complaints::act),
    )
    .route(
        "/api/v1/complaints/{id}/reveal",
        web::post().to(complaints::reveal),
    )
    .route(
        "/complaints/new",
        web::get().to(crate::web::complaints::new),
    )
    .route(
        "/complaints",
        web::post().to(crate::web::complaints::submit),
    )
    .route(
        "/complaints/{code}",
        web::get().to(crate::web::complaints::show),
    )
    .route(
        "/complaints/{code}/rating",
        web::post().to(crate::web::complaints::rating),
    )
    .route("/static/app.css", web::get().to(crate::web::stylesheet))
    .route("/login", web::get().to(crate::web::staff::login_page))
    .route("/login", web::post().to(crate::web::staff::login_submit))
    .route("/logout", web::post().to(crate::web::staff::logout))
    .route("/dashboard", web::get().to(crate::web::staff::dashboard))
    .route(
        "/dashboard/export.csv",
        web::get().to(crate::web::staff::export),
    )
    .route("/cases/{id}", web::get().to(crate::web::staff::case_page))
    .route(
        "/cases/{id}/actions",
        web::post().to(crate::web::staff::case_action),
    )
    .route("/charts", web::get().to(crate::web::staff::charts))
    .route("/hospitals", web::get().to(crate::web::staff::board))
    .route(
        "/hospitals/{code}",
        web::get().to(crate::web::staff::scorecard),
    )
    .route("/admin", web::get().to(crate::web::staff::admin))
    .route(
        "/admin/users",
        web::post().to(crate::web::staff::admin_add_user),
    )
    .route(
        "/admin/users/{id}/toggle",
        web::post().to(crate::web::staff::admin_toggle_user),
    )
    .route(
        "/admin/hospitals",
        web::post().to(crate::web::staff::admin_add_hospital),
    )
    .route(
        "/admin/hospitals/{code}/toggle",
        web::post().to(crate::web::staff::admin_toggle_hospital),
    )
    .route(
        "/admin/hospitals/{code}/rotate",
        web::post().to(crate::web::staff::admin_rotate),
    )
    .route("/audit", web::get().to(crate::web::staff::audit))
    .route(
        "/inspect/complaints/{id}",
        web::get().to(crate::web::staff::complaint_page),
    )
    .route(
        "/inspect/complaints/{id}/reveal",
        web::post().to(crate::web::staff::complaint_reveal),
    )
    .route(
        "/inspect/complaints/{id}/actions",
        web::post().to(crate::web::staff::complaint_action),
    )
    .route("/api/v1/openapi.json", web::get().to(openapi::serve))
    .default_service(web::to(not_found));
}

/// A query-string error from serde_urlencoded names the field in its message.
fn query_error(message: &str) -> FieldError {
    body::field_error(".", message.trim_start_matches("Query deserialize error: "))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&AppError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| "this path".into())
    )))
}
