//! The HTTP API: one module per area, the routes, and the OpenAPI document.

pub mod body;
pub mod cases;
pub mod complaints;
pub mod dispatch;
pub mod health;
pub mod intake;
pub mod login;
pub mod oauth;
pub mod openapi;
pub mod reports;
pub mod transport;

use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use shouzhen_app::error::AppError;
use shouzhen_domain::field::FieldError;

/// Registers every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|err, _req| {
        ApiError(AppError::fields(vec![query_error(&err.to_string())])).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, _req| {
        ApiError(AppError::NotFound(format!("no such resource ({err})"))).into()
    }))
    .app_data(
        web::JsonConfig::default()
            .limit(body::JSON_LIMIT)
            .error_handler(|err, _req| ApiError(AppError::field("body", err.to_string())).into()),
    )
    .app_data(
        web::FormConfig::default()
            .limit(64 * 1024)
            .error_handler(|err, _req| ApiError(AppError::field("body", err.to_string())).into()),
    )
    .service(web::resource("/healthz").get(health::healthz))
    .service(web::resource("/readyz").get(health::readyz))
    .service(web::resource("/metrics").get(health::metrics))
    .service(web::resource("/oauth/token").post(oauth::token))
    .service(web::resource("/api/v1/auth/login").post(login::login))
    .service(web::resource("/api/v1/intake-events").post(intake::post_events))
    .service(web::resource("/api/v1/dispatch-events").post(dispatch::post_events))
    .service(web::resource("/api/v1/transport-events").post(transport::post_events))
    .service(web::resource("/api/v1/cases").get(cases::list))
    .service(web::resource("/api/v1/cases/{id}").get(cases::get))
    .service(web::resource("/api/v1/cases/{id}/actions").post(cases::act))
    .service(web::resource("/api/v1/hospitals").get(complaints::hospitals))
    .service(web::resource("/api/v1/centres").get(complaints::centres))
    .service(web::resource("/api/v1/districts").get(complaints::districts))
    .service(web::resource("/api/v1/reports/complaints").get(reports::complaints))
    .service(
        web::resource("/api/v1/complaints")
            .post(complaints::create)
            .get(complaints::queue),
    )
    .service(web::resource("/api/v1/complaints/{code}").get(complaints::get_public))
    .service(web::resource("/api/v1/complaints/{code}/rating").post(complaints::post_rating))
    .service(web::resource("/api/v1/complaints/{id}/actions").post(complaints::act))
    .service(web::resource("/api/v1/complaints/{id}/reveal").post(complaints::reveal))
    .service(web::resource("/complaints/new").get(crate::web::complaints::new))
    .service(web::resource("/complaints").post(crate::web::complaints::submit))
    .service(web::resource("/complaints/{code}").get(crate::web::complaints::show))
    .service(web::resource("/complaints/{code}/rating").post(crate::web::complaints::rating))
    .service(web::resource("/static/app.css").get(crate::web::stylesheet))
    .service(
        web::resource("/login")
            .get(crate::web::staff::login_page)
            .post(crate::web::staff::login_submit),
    )
    .service(web::resource("/logout").post(crate::web::staff::logout))
    .service(web::resource("/dashboard").get(crate::web::staff::dashboard))
    .service(web::resource("/dashboard/export.csv").get(crate::web::staff::export))
    .service(web::resource("/hospital").get(crate::web::staff::hospital_inbox))
    .service(web::resource("/hospital/cases/{id}").get(crate::web::staff::hospital_case))
    .service(web::resource("/hospital/cases/{id}/actions").post(crate::web::staff::hospital_action))
    .service(
        web::resource("/hospital/complaints/{id}")
            .get(crate::web::staff::hospital_complaint)
            .post(crate::web::staff::hospital_answer),
    )
    .service(
        web::resource("/desk")
            .get(crate::web::staff::desk)
            .post(crate::web::staff::desk_file),
    )
    .service(web::resource("/desk/complaints/{id}/{action}").post(crate::web::staff::desk_action))
    .service(web::resource("/cases/{id}").get(crate::web::staff::case_page))
    .service(web::resource("/cases/{id}/actions").post(crate::web::staff::case_action))
    .service(web::resource("/charts").get(crate::web::staff::charts))
    .service(web::resource("/reports").get(crate::web::staff::reports))
    .service(web::resource("/reports/export.csv").get(crate::web::staff::reports_csv))
    .service(web::resource("/reports/bulletin").get(crate::web::staff::reports_bulletin))
    .service(web::resource("/hospitals").get(crate::web::staff::board))
    .service(web::resource("/hospitals/{code}").get(crate::web::staff::scorecard))
    .service(web::resource("/admin").get(crate::web::staff::admin))
    .service(web::resource("/admin/users").post(crate::web::staff::admin_add_user))
    .service(web::resource("/admin/users/{id}/toggle").post(crate::web::staff::admin_toggle_user))
    .service(web::resource("/admin/hospitals").post(crate::web::staff::admin_add_hospital))
    .service(
        web::resource("/admin/hospitals/{code}/toggle")
            .post(crate::web::staff::admin_toggle_hospital),
    )
    .service(web::resource("/admin/hospitals/{code}/rotate").post(crate::web::staff::admin_rotate))
    .service(
        web::resource("/admin/hospitals/{code}/email")
            .post(crate::web::staff::admin_hospital_email),
    )
    .service(web::resource("/audit").get(crate::web::staff::audit))
    .service(web::resource("/inspect/complaints/{id}").get(crate::web::staff::complaint_page))
    .service(
        web::resource("/inspect/complaints/{id}/reveal").post(crate::web::staff::complaint_reveal),
    )
    .service(
        web::resource("/inspect/complaints/{id}/actions").post(crate::web::staff::complaint_action),
    )
    .service(web::resource("/api/v1/openapi.json").get(openapi::serve))
    .default_service(web::to(not_found));
}

/// A query-string error from serde_urlencoded names the field in its message.
fn query_error(message: &str) -> FieldError {
    shouzhen_domain::field::from_serde(".", message.trim_start_matches("Query deserialize error: "))
}

/// actix answers a known path asked with another method by an empty 405 with `Allow`; this
/// turns it into a problem like every other error, keeping `Allow`.
pub fn method_not_allowed<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let allow = res
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let problem =
        actix_web::ResponseError::error_response(&ApiError(AppError::MethodNotAllowed { allow }));
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError(AppError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| "this path".into())
    ))))
}
