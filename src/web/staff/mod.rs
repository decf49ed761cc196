//! The inspectors' pages: sign-in, the case queue, a case, actions, charts, scorecards, the
//! public board, CSV export, and the admins' pages for users, hospitals and the audit trail.
//! Shared helpers here; one module per page group.

mod admin;
mod case;
mod complaint;
mod desk;
mod figures;
mod hospital;
mod login;
mod queue;
mod reports;

pub use admin::*;
pub use case::*;
pub use complaint::*;
pub use desk::*;
pub use figures::*;
pub use hospital::*;
pub use login::*;
pub use queue::*;
pub use reports::*;

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::{self, require};
use super::{Lang, csrf, lang, rule_title};
use crate::error::ApiError;
use crate::state::AppState;
use shouzhen_app::error::{AppError, AppResult};
use shouzhen_app::mail::china;
use shouzhen_domain::actor::{Role, Staff};
use shouzhen_domain::case::STATUSES;
use shouzhen_domain::rules::{self, RuleId};
use shouzhen_store::{self, cases::QueueFilter};

const PAGE: i64 = 50;

fn secure(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

fn error_page(req: &HttpRequest, state: &AppState, e: &ApiError) -> HttpResponse {
    let l = lang(req);
    let key = match &e.0 {
        AppError::Conflict(_) => "dash.conflict",
        AppError::Forbidden(_) => "dash.forbidden",
        AppError::NotFound(_) => "dash.not_found",
        _ => return actix_web::ResponseError::error_response(e),
    };
    let status = actix_web::ResponseError::status_code(e);
    state.web.message(req, status, l, key, key)
}

/// Renders a staff page with the navigation, the CSRF token and the CSRF cookie.
fn staff_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    name: &str,
    status: StatusCode,
    mut data: Value,
) -> HttpResponse {
    let l = lang(req);
    let (token, cookie) = csrf::issue(req, &state.keys.web, secure(state));
    data["staff"] = json!({"email": staff.email, "admin": staff.role == Role::Admin, "hospital": staff.role == Role::HospitalStaff, "operator": staff.role == Role::Operator});
    data["csrf_token"] = json!(token);
    let mut resp = state.web.page(req, status, name, l, data);
    let _ = resp.add_cookie(&cookie);
    resp
}

/// The signed-in staff member (of at least `min` role) and the form they posted, or the
/// response that refuses them (sign-in redirect, 403, or a failed CSRF check).
async fn staff_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    min: Role,
) -> Result<(Staff, HashMap<String, String>), HttpResponse> {
    let staff = require(req, state, min).await?;
    let fields = super::csrf::posted_form(req, payload, state).await?;
    Ok((staff, fields))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// A trimmed form field, empty when absent.
fn get(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}
