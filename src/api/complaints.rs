//! Complaints over JSON: the public twin of the form and the tracking page, and the
//! inspectors' queue, actions and the audited reveal of contact details.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::ApiJson;
use crate::auth::Desk;
use crate::auth::Inspector;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::complaints::{self, ComplaintAction, ComplaintInput, normalize_code};
use shouzhen_app::engine::Engine;
use shouzhen_app::error::{AppError, AppResult};
use shouzhen_app::mail::china;
use shouzhen_domain::time::rfc3339;
use shouzhen_store::{self, complaints as rows};

/// Validates and files a complaint (rules, links, timeline); returns its tracking code, and
/// whether it is new (a work order filed before is not filed again). `by_operator`: taken at
/// the hotline desk.
pub async fn file_complaint(
    state: &AppState,
    input: ComplaintInput,
    lang: &str,
    by_operator: bool,
) -> ApiResult<(String, bool)> {
    let (keys, policy, notifier) = (
        state.keys.clone(),
        state.policy.clone(),
        state.notifier.clone(),
    );
    let lang = lang.to_string();
    let (code, opened) = state
        .db(move |conn| {
            let now = Utc::now();
            let valid = complaints::validate(conn, &input, now, by_operator)?;
            let engine = Engine::new(
                &policy,
                &notifier,
                shouzhen_domain::time::to_micros(now.naive_utc()),
            );
            let before = complaints::filed_before(conn, &valid)?.map(|c| c.id);
            let (c, effects) = complaints::file(conn, &keys, &engine, valid, &lang)?;
            let new = before.is_none() && c.created_at == engine.now;
            Ok(((c.tracking_code, new), effects.opened.len()))
        })
        .await?;
    tracing::info!(cases_opened = opened, new = code.1, "complaint filed");
    Ok(code)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub at: String,
    /// filed, acknowledged, info_requested, closed, rated, merged
    pub kind: String,
    /// What the inspector wrote for the citizen
    pub note: String,
    #[serde(skip)]
    pub at_local: String,
}

/// What anyone with the code may see: no contact details, no description.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicComplaint {
    pub tracking_code: String,
    /// received, acknowledged, info_requested, closed, merged
    pub status: String,
    pub category: String,
    pub hospital: String,
    pub filed_at: String,
    pub outcome: Option<String>,
    pub rating: Option<i32>,
    /// Merged into another complaint: the status and timeline shown are that one's
    pub merged: bool,
    pub timeline: Vec<TimelineEntry>,
    #[serde(skip)]
    pub filed_local: String,
}

/// The public view of a complaint (of the one it was merged into, if any).
pub fn public_view(
    conn: &mut shouzhen_store::db::DbConn,
    code: &str,
) -> AppResult<Option<PublicComplaint>> {
    let Some(own) = rows::by_code(conn, code)? else {
        return Ok(None);
    };
    let merged = own.merged_into.is_some();
    let c = match own.merged_into {
        Some(id) => rows::by_id(conn, id)?.unwrap_or(own.clone()),
        None => own.clone(),
    };
    let timeline = rows::updates(conn, c.id)?
        .into_iter()
        .map(|(at, kind, note)| TimelineEntry {
            at: rfc3339(at),
            at_local: china(at),
            kind,
            note,
        })
        .collect();
    Ok(Some(PublicComplaint {
        tracking_code: own.tracking_code,
        status: c.status,
        category: own.category,
        hospital: own.hospital_name,
        filed_at: rfc3339(own.created_at),
        filed_local: china(own.created_at),
        outcome: c.outcome,
        rating: c.rating,
        merged,
        timeline,
    }))
}

/// Records the citizen's rating of a closed complaint (once).
pub async fn rate(state: &AppState, code: &str, rating: i32) -> ApiResult<()> {
    if !(1..=5).contains(&rating) {
        return Err(AppError::field("rating", "must be a whole number from 1 to 5").into());
    }
    let code = code.to_string();
    state
        .db(move |conn| {
            shouzhen_store::db::write_tx(conn, |conn| {
                let c = rows::by_code(conn, &code)?
                    .ok_or_else(|| AppError::NotFound("no such complaint".into()))?;
                if !rows::set_rating(conn, c.id, rating)? {
                    return Err(AppError::Conflict(
                        "only a closed complaint can be rated, once".into(),
                    ));
                }
                rows::add_update(conn, c.id, "rated", "", shouzhen_store::now())?;
                Ok(())
            })
        })
        .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Filed {
    pub tracking_code: String,
    /// True when this work order (`external_ref`) had been filed before: nothing new was filed,
    /// and this is the complaint it was filed as (status 200 rather than 201)
    pub duplicate: bool,
}

/// File a complaint (the JSON twin of the web form).
#[utoipa::path(
    post,
    path = "/api/v1/complaints",
    tag = "complaints",
    request_body = ComplaintInput,
    security((), ("inspector_bearer" = [])),
    responses(
        (status = 200, description = "This work order was filed before: its tracking code, nothing new filed", body = Filed),
        (status = 201, description = "Filed; keep the tracking code", body = Filed),
        (status = 400, description = "A field is invalid; `errors` names it", body = crate::error::Problem),
        (status = 401, description = "A token was sent and is not valid", body = crate::error::Problem),
        (status = 403, description = "A token was sent and is not a hotline operator's", body = crate::error::Problem),
        (status = 429, description = "Too many complaints from this client; see Retry-After", body = crate::error::Problem),
    )
)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Desk(operator): Desk,
    ApiJson(input): ApiJson<ComplaintInput>,
) -> ApiResult<HttpResponse> {
    // Citizens are rate-limited per address; an operator at the desk files call after call.
    if operator.is_none() {
        state
            .web
            .limiter
            .check(crate::auth::client_ip(&req))
            .map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
    }
    let lang = super::super::web::lang(&req);
    let (tracking_code, new) =
        file_complaint(&state, input, lang.code(), operator.is_some()).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(Filed {
        tracking_code,
        duplicate: !new,
    }))
}

/// A complaint's public status and timeline (no personal data).
#[utoipa::path(
    get,
    path = "/api/v1/complaints/{tracking_code}",
    tag = "complaints",
    params(("tracking_code" = String, Path, description = "As given at filing; case and dashes do not matter")),
    responses(
        (status = 200, description = "Status and timeline", body = PublicComplaint),
        (status = 404, description = "No complaint with this code", body = crate::error::Problem),
    )
)]
pub async fn get_public(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = normalize_code(&path)
        .ok_or_else(|| AppError::NotFound("no complaint with this code".into()))?;
    let view = state
        .db(move |conn| public_view(conn, &code))
        .await?
        .ok_or_else(|| AppError::NotFound("no complaint with this code".into()))?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 1 (very dissatisfied) to 5 (very satisfied)
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i32,
}

/// Rate how a closed complaint was handled (once).
#[utoipa::path(
    post,
    path = "/api/v1/complaints/{tracking_code}/rating",
    tag = "complaints",
    params(("tracking_code" = String, Path)),
    request_body = RatingBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "Not 1-5", body = crate::error::Problem),
        (status = 404, description = "No complaint with this code", body = crate::error::Problem),
        (status = 409, description = "Not closed, or already rated", body = crate::error::Problem),
    )
)]
pub async fn post_rating(
    state: web::Data<AppState>,
    path: web::Path<String>,
    ApiJson(body): ApiJson<RatingBody>,
) -> ApiResult<HttpResponse> {
    let code = normalize_code(&path)
        .ok_or_else(|| AppError::NotFound("no complaint with this code".into()))?;
    rate(&state, &code, body.rating).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueItem {
    pub id: i64,
    pub tracking_code: String,
    pub hospital: Option<String>,
    pub hospital_name: String,
    pub category: String,
    pub occurred_at: String,
    pub filed_at: String,
    pub status: String,
    /// Identity and phone numbers masked
    pub description: String,
    /// Masked (张*, 138****8000); `POST .../reveal` shows it, audited
    pub contact: Option<String>,
    pub rating: Option<i32>,
    /// Tracking codes of complaints that look the same (same hospital, category, day; similar text)
    pub likely_duplicates: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// received, acknowledged, info_requested, closed, merged
    #[param(schema_with = complaint_status_schema)]
    pub status: Option<String>,
    /// 1-500, default 100
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

fn complaint_status_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(shouzhen_domain::complaint::STATUSES.iter().copied())
}

/// The inspectors' complaint queue, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/complaints",
    tag = "complaints",
    params(QueueQuery),
    security(("inspector_bearer" = [])),
    responses((status = 200, description = "Complaints", body = [QueueItem]))
)]
pub async fn queue(
    state: web::Data<AppState>,
    Inspector(staff): Inspector,
    query: web::Query<QueueQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    if let Some(s) = &query.status
        && !shouzhen_domain::complaint::STATUSES.contains(&s.as_str())
    {
        errors.push(shouzhen_domain::field::FieldError::new(
            "status",
            format!(
                "must be one of {}",
                shouzhen_domain::complaint::STATUSES.join(", ")
            ),
        ));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(shouzhen_domain::field::FieldError::new(
            "limit",
            "must be from 1 to 500",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::fields(errors).into());
    }
    let status = query.status.clone();
    let keys = state.keys.clone();
    let district = staff.district_scope();
    let items = state
        .db(move |conn| {
            let list = rows::queue(conn, district.as_deref(), status.as_deref(), limit)?;
            let mut items = Vec::with_capacity(list.len());
            for c in list {
                let hospital = match c.hospital_id {
                    Some(h) => shouzhen_store::hospitals::by_id(conn, h)?.map(|h| h.code),
                    None => None,
                };
                items.push(QueueItem {
                    id: c.id,
                    likely_duplicates: complaints::likely_duplicates(conn, &c)?,
                    contact: complaints::masked_contact(&keys, &c),
                    tracking_code: c.tracking_code,
                    hospital,
                    hospital_name: c.hospital_name,
                    category: c.category,
                    occurred_at: rfc3339(c.occurred_at),
                    filed_at: rfc3339(c.created_at),
                    status: c.status,
                    description: c.description,
                    rating: c.rating,
                });
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintActionBody {
    /// acknowledge, request_info, close, merge
    #[schema(schema_with = complaint_action_schema)]
    pub action: String,
    /// Shown to the citizen (required for request_info and close)
    pub note: Option<String>,
    /// merge: the tracking code this complaint duplicates
    pub into: Option<String>,
}

fn complaint_action_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(shouzhen_domain::complaint::ACTIONS.iter().copied())
}

/// Act on a complaint; the step appears on the citizen's timeline.
#[utoipa::path(
    post,
    operation_id = "act_on_complaint",
    path = "/api/v1/complaints/{id}/actions",
    tag = "complaints",
    params(("id" = i64, Path)),
    request_body = ComplaintActionBody,
    security(("inspector_bearer" = [])),
    responses(
        (status = 204, description = "Done"),
        (status = 400, description = "A field is invalid", body = crate::error::Problem),
        (status = 409, description = "Not possible from the complaint's status", body = crate::error::Problem),
    )
)]
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    Inspector(staff): Inspector,
    path: web::Path<i64>,
    ApiJson(body): ApiJson<ComplaintActionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let ip = crate::auth::client_ip_text(&req);
    let (policy, notifier) = (state.policy.clone(), state.notifier.clone());
    let action = ComplaintAction {
        action: body.action,
        note: body.note.unwrap_or_default(),
        into: body.into,
    };
    state
        .db(move |conn| {
            let engine = Engine::new(&policy, &notifier, shouzhen_store::now());
            complaints::act(conn, &engine, &staff, id, &action, &ip)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revealed {
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// The description as written, identifiers included
    pub description: String,
}

/// Reveal a complaint's contact details and original text (recorded in the audit trail).
#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/reveal",
    tag = "complaints",
    params(("id" = i64, Path)),
    security(("inspector_bearer" = [])),
    responses((status = 200, description = "The personal data", body = Revealed))
)]
pub async fn reveal(
    req: HttpRequest,
    state: web::Data<AppState>,
    Inspector(staff): Inspector,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let ip = crate::auth::client_ip_text(&req);
    let keys = state.keys.clone();
    let revealed = state
        .db(move |conn| {
            let c = rows::by_id(conn, id)?
                .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))?;
            complaints::check_district(conn, &staff, &c)?;
            shouzhen_store::audit::record(
                conn,
                &shouzhen_store::audit::Entry {
                    actor_id: Some(staff.user_id),
                    actor_label: &staff.email,
                    action: "complaint.reveal",
                    target_type: "complaint",
                    target_id: &c.id.to_string(),
                    detail: "contact details and original description revealed",
                    ip: &ip,
                },
            )?;
            let (contact_name, contact_phone, description) = complaints::reveal(&keys, &c);
            Ok(Revealed {
                contact_name,
                contact_phone,
                description,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(revealed))
}

/// Registered hospitals, for the complaint form and the public board: code, name, district,
/// crowding now, closures in force, substantiated violations of the last 90 days.
#[utoipa::path(
    get,
    path = "/api/v1/hospitals",
    tag = "complaints",
    responses((status = 200, description = "Hospitals", body = [shouzhen_app::board::BoardRow]))
)]
pub async fn hospitals(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(load_board(&state).await?))
}

/// The public board as of now (on the read replica, if there is one).
pub async fn load_board(state: &AppState) -> ApiResult<Vec<shouzhen_app::board::BoardRow>> {
    let reply_limit = state.notifier.reply_limit;
    state
        .read(move |conn| {
            Ok(shouzhen_app::board::board(
                conn,
                shouzhen_store::now(),
                reply_limit,
            )?)
        })
        .await
}
