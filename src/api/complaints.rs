//! Complaints over JSON: the public twin of the form and the tracking page, and the
//! inspectors' queue, actions and the audited reveal of contact details.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::ApiJson;
use crate::auth::{AnyStaff, Desk, Operator};
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
    /// filed, acknowledged, info_requested, forwarded, answered, called_back, reopened,
    /// closed, rated, merged
    pub kind: String,
    /// What the inspector wrote for the citizen, or the hospital's answer
    pub note: String,
    #[serde(skip)]
    pub at_local: String,
}

/// What anyone with the code may see: no contact details, no description.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicComplaint {
    pub tracking_code: String,
    /// received, acknowledged, info_requested, forwarded, answered, reopened, closed, merged
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

/// A complaint's timeline, as the citizen reads it.
pub fn timeline(conn: &mut shouzhen_store::db::DbConn, id: i64) -> AppResult<Vec<TimelineEntry>> {
    Ok(rows::updates(conn, id)?
        .into_iter()
        .map(|(at, kind, note)| TimelineEntry {
            at: rfc3339(at),
            at_local: china(at),
            kind,
            note,
        })
        .collect())
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
    let timeline = timeline(conn, c.id)?;
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

/// A complaint's public status and timeline (no personal data). With a staff Bearer token and
/// the complaint's numeric id instead of its code: the complaint as that user may see it, with
/// `answer_due` and `callback_due` (a hospital's staff: only complaints forwarded to it).
#[utoipa::path(
    get,
    path = "/api/v1/complaints/{tracking_code}",
    tag = "complaints",
    params(("tracking_code" = String, Path, description = "As given at filing (case and dashes do not matter); or, with a staff token, the complaint's id")),
    security((), ("inspector_bearer" = [])),
    responses(
        (status = 200, description = "Status and timeline (public), or the staff view (with a token and an id)", body = ComplaintView),
        (status = 401, description = "A token was sent and is not valid", body = crate::error::Problem),
        (status = 404, description = "No complaint with this code (or id)", body = crate::error::Problem),
    )
)]
pub async fn get_public(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    if req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
        && let Ok(id) = path.parse::<i64>()
    {
        use actix_web::FromRequest;
        let AnyStaff(staff) = AnyStaff::extract(&req).await?;
        let keys = state.keys.clone();
        let view = state
            .db(move |conn| {
                let c = complaints::readable(conn, &staff, id)?;
                let timeline = timeline(conn, c.id)?;
                Ok(StaffComplaint {
                    complaint: staff_item(conn, &keys, &staff, c)?,
                    timeline,
                })
            })
            .await?;
        return Ok(HttpResponse::Ok().json(ComplaintView::Staff(Box::new(view))));
    }
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
    /// The complainant's tracking code. Never shown to a hospital's staff (with it, anyone may
    /// rate the answer as the complainant)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    pub hospital: Option<String>,
    pub hospital_name: String,
    pub category: String,
    pub occurred_at: String,
    pub filed_at: String,
    /// received, acknowledged, info_requested, forwarded, answered, reopened, closed, merged
    pub status: String,
    /// Identity and phone numbers masked
    pub description: String,
    /// Masked (张*, 138****8000); `POST .../reveal` shows it, audited. Never shown to a
    /// hospital's staff
    pub contact: Option<String>,
    pub rating: Option<i32>,
    /// Tracking codes of complaints that look the same (same hospital, category, day; similar text)
    pub likely_duplicates: Vec<String>,
    /// web, phone, 12345, letter
    pub channel: String,
    /// The platform's work-order number
    pub external_ref: Option<String>,
    /// Whether the caller agreed to be called back
    pub callback_consent: bool,
    /// When it was last forwarded to its hospital (转办)
    pub forwarded_at: Option<String>,
    /// The hospital's answer is due by then (working days of its jurisdiction)
    pub answer_due: Option<String>,
    pub answered_at: Option<String>,
    /// The hospital's answer (shown on the public timeline)
    pub answer: Option<String>,
    /// The callback (回访) is due by then (working days after the answer)
    pub callback_due: Option<String>,
    /// What the last callback found
    pub resolved: Option<bool>,
    /// satisfied, basically_satisfied, unsatisfied
    pub satisfaction: Option<String>,
    /// How often a callback reopened it (the second elevates it: `complaint.reopened`)
    pub reopened: i32,
}

/// `GET /api/v1/complaints/{tracking_code}`: the public view, or (a staff token and an id) the
/// staff view.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ComplaintView {
    Public(PublicComplaint),
    Staff(Box<StaffComplaint>),
}

/// One complaint as a signed-in user sees it, with its timeline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffComplaint {
    #[serde(flatten)]
    pub complaint: QueueItem,
    pub timeline: Vec<TimelineEntry>,
}

/// A complaint as `staff` may see it: a hospital's staff never see the caller's contact, the
/// tracking code, nor the likely duplicates (other people's complaints).
pub fn staff_item(
    conn: &mut shouzhen_store::db::DbConn,
    keys: &shouzhen_app::keys::Keys,
    staff: &shouzhen_domain::actor::Staff,
    c: rows::Complaint,
) -> AppResult<QueueItem> {
    let hospital = match c.hospital_id {
        Some(h) => shouzhen_store::hospitals::by_id(conn, h)?.map(|h| h.code),
        None => None,
    };
    let hospital_staff = staff.hospital_scope().is_some()
        || staff.role == shouzhen_domain::actor::Role::HospitalStaff;
    let (contact, likely_duplicates, tracking_code) = if hospital_staff {
        (None, Vec::new(), None)
    } else {
        (
            complaints::masked_contact(keys, &c),
            complaints::likely_duplicates(conn, &c)?,
            Some(c.tracking_code),
        )
    };
    Ok(QueueItem {
        id: c.id,
        likely_duplicates,
        contact,
        tracking_code,
        hospital,
        hospital_name: c.hospital_name,
        category: c.category,
        occurred_at: rfc3339(c.occurred_at),
        filed_at: rfc3339(c.created_at),
        status: c.status,
        description: c.description,
        rating: c.rating,
        channel: c.channel,
        external_ref: c.external_ref,
        callback_consent: c.callback_consent,
        forwarded_at: c.forwarded_at.map(rfc3339),
        answer_due: c.answer_due.map(rfc3339),
        answered_at: c.answered_at.map(rfc3339),
        answer: c.answer,
        callback_due: c.callback_due.map(rfc3339),
        resolved: c.resolved,
        satisfaction: c.satisfaction,
        reopened: c.reopened,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// received, acknowledged, info_requested, forwarded, answered, reopened, closed, merged
    #[param(schema_with = complaint_status_schema)]
    pub status: Option<String>,
    /// 1-500, default 100
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

fn complaint_status_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(shouzhen_domain::complaint::STATUSES.iter().copied())
}

/// The complaint queue, newest first: inspectors (their district's) and operators see every
/// complaint, contacts masked; a hospital's staff only those forwarded to their hospital
/// (waiting ones first, the earliest due first), never a contact.
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
    AnyStaff(staff): AnyStaff,
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
    let items = state
        .db(move |conn| {
            let list = match staff.role {
                shouzhen_domain::actor::Role::HospitalStaff => {
                    let mut list = match staff.hospital_id {
                        Some(h) => rows::forwarded_to(conn, h, 500)?,
                        None => Vec::new(),
                    };
                    list.retain(|c| status.as_deref().is_none_or(|s| c.status == s));
                    list.truncate(usize::try_from(limit).unwrap_or(0));
                    list
                }
                _ => rows::queue(
                    conn,
                    staff.district_scope().as_deref(),
                    status.as_deref(),
                    limit,
                )?,
            };
            let mut items = Vec::with_capacity(list.len());
            for c in list {
                items.push(staff_item(conn, &keys, &staff, c)?);
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintActionBody {
    /// acknowledge, request_info, close, merge (inspectors); forward (operators, inspectors);
    /// answer (the hospital's staff); callback (operators)
    #[schema(schema_with = complaint_action_schema)]
    pub action: String,
    /// Shown to the citizen (required for request_info, close and answer: the hospital's
    /// answer); for a callback, what the caller said
    pub note: Option<String>,
    /// merge: the tracking code this complaint duplicates
    pub into: Option<String>,
    /// callback: whether the caller's matter was resolved
    pub resolved: Option<bool>,
    /// callback: satisfied, basically_satisfied, unsatisfied
    #[schema(schema_with = satisfaction_schema)]
    pub satisfaction: Option<String>,
}

fn satisfaction_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of_or_null(
        shouzhen_domain::complaint::SATISFACTIONS.iter().copied(),
    )
}

fn complaint_action_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(shouzhen_domain::complaint::ACTIONS.iter().copied())
}

/// Act on a complaint; the step appears on the citizen's timeline. Each action is its role's
/// (a wrong role: 403) and from its statuses (409); a hospital's staff act only on complaints
/// forwarded to their hospital (any other: 404).
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
        (status = 403, description = "Not this role's action", body = crate::error::Problem),
        (status = 404, description = "No such complaint (for a hospital: none forwarded to it)", body = crate::error::Problem),
        (status = 409, description = "Not possible from the complaint's status", body = crate::error::Problem),
    )
)]
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    AnyStaff(staff): AnyStaff,
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
        resolved: body.resolved,
        satisfaction: body.satisfaction,
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
    responses(
        (status = 200, description = "The personal data", body = Revealed),
        (status = 403, description = "Not an operator's or inspector's token", body = crate::error::Problem),
    )
)]
pub async fn reveal(
    req: HttpRequest,
    state: web::Data<AppState>,
    Operator(staff): Operator,
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

/// The 120 dispatch centres on the public board: each one's last 30 days of calls, the share
/// answered within 10 seconds and the answer rate.
#[utoipa::path(
    get,
    path = "/api/v1/centres",
    tag = "dispatch",
    responses((status = 200, description = "120 dispatch centres", body = [shouzhen_app::board::CentreRow]))
)]
pub async fn centres(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(load_centres(&state).await?))
}

/// The districts on the public board: each one's share of the last 30 days' community
/// transport requests picked up within their limit, and its hospitals' emergency and dialysis
/// closures in force.
#[utoipa::path(
    get,
    path = "/api/v1/districts",
    tag = "transport",
    responses((status = 200, description = "Districts", body = [shouzhen_app::board::DistrictRow]))
)]
pub async fn districts(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(load_districts(&state).await?))
}

/// The board's districts as of now (on the read replica, if there is one).
pub async fn load_districts(state: &AppState) -> ApiResult<Vec<shouzhen_app::board::DistrictRow>> {
    let policy = state.policy.clone();
    state
        .read(move |conn| {
            Ok(shouzhen_app::board::districts(
                conn,
                &policy,
                shouzhen_store::now(),
            )?)
        })
        .await
}

/// The board's centres as of now (on the read replica, if there is one).
pub async fn load_centres(state: &AppState) -> ApiResult<Vec<shouzhen_app::board::CentreRow>> {
    let policy = state.policy.clone();
    state
        .read(move |conn| {
            Ok(shouzhen_app::board::centres(
                conn,
                &policy,
                shouzhen_store::now(),
            )?)
        })
        .await
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
