//! The hotline's report over JSON: the three rates (三率) per hospital or district.

use actix_web::{HttpResponse, web};

use crate::auth::Operator;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::complaints::report::{self, Report, ReportQuery};

/// Loads the report a query asks for, within the staff member's district (an inspector's).
pub async fn load(
    state: &AppState,
    staff: &shouzhen_domain::actor::Staff,
    query: &ReportQuery,
) -> ApiResult<Report> {
    let now = shouzhen_store::now();
    let period = query.period(shouzhen_domain::time::china_date(now))?;
    let policy = state.policy.clone();
    let district = staff.district_scope();
    state
        .read(move |conn| {
            Ok(report::report(
                conn,
                &policy,
                period,
                district.as_deref(),
                now,
            )?)
        })
        .await
}

/// The complaints of a period (by filing day, China time) per hospital or district: filed,
/// the three rates (response: acknowledged or forwarded within the limit of
/// `complaint.unanswered`; resolution and satisfaction: of those called back), overdue answers,
/// reopenings, and the rank by the mean of the three rates. Operators, inspectors (their
/// district's hospitals) and above; a hospital's staff: 403.
#[utoipa::path(
    get,
    path = "/api/v1/reports/complaints",
    tag = "complaints",
    params(ReportQuery),
    security(("inspector_bearer" = [])),
    responses(
        (status = 200, description = "The report", body = Report),
        (status = 400, description = "A field is invalid", body = crate::error::Problem),
        (status = 401, description = "No valid token", body = crate::error::Problem),
        (status = 403, description = "Not an operator or inspector", body = crate::error::Problem),
    )
)]
pub async fn complaints(
    state: web::Data<AppState>,
    Operator(staff): Operator,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let report = load(&state, &staff, &query).await?;
    Ok(HttpResponse::Ok().json(report))
}
