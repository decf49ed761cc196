//! The inspectors' pages: sign-in, the case queue, a case, actions, charts, scorecards, the
//! public board, CSV export, and the admins' pages for users, hospitals and the audit trail.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::{self, require};
use super::{Lang, csrf, lang};
use crate::api::body::read_body;
use crate::api::cases::STATUSES;
use crate::auth::{Role, Staff};
use crate::error::{AppError, AppResult};
use crate::mail::china;
use crate::rules::{self, RuleId};
use crate::schema::{audit_log, cases, complaints, intake_events, users};
use crate::state::AppState;
use crate::store::{self, cases::QueueFilter};

const PAGE: i64 = 50;

fn secure(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

fn error_page(req: &HttpRequest, state: &AppState, e: &AppError) -> HttpResponse {
    let l = lang(req);
    let key = match e {
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
    data["staff"] = json!({"email": staff.email, "admin": staff.role == Role::Admin});
    data["csrf_token"] = json!(token);
    let mut resp = state.web.page(req, status, name, l, data);
    let _ = resp.add_cookie(&cookie);
    resp
}

async fn form_fields(req: &HttpRequest, payload: web::Payload) -> HashMap<String, String> {
    let mut payload = payload.into_inner();
    let body = read_body(req, &mut payload, 64 * 1024)
        .await
        .unwrap_or_default();
    serde_urlencoded::from_bytes(&body).unwrap_or_default()
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

// ---------- sign-in ----------

fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
) -> HttpResponse {
    let l = lang(req);
    let (token, cookie) = csrf::issue(req, &state.keys.web, secure(state));
    let next = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("next").cloned())
        .filter(|n| n.starts_with('/') && !n.starts_with("//"));
    let data = json!({
        "title": state.web.t(l, "dash.login_title"),
        "next": next,
        "csrf_token": token,
        "email": email,
        "error": error.map(|k| state.web.t(l, k)),
    });
    let mut resp = state.web.page(req, status, "login", l, data);
    let _ = resp.add_cookie(&cookie);
    resp
}

pub async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    login_form(&req, &state, StatusCode::OK, "", None)
}

/// Failed sign-ins in the last 15 minutes allowed per account and per address.
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
const MAX_FAILURES_PER_ADDRESS: i64 = 20;

pub async fn login_submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let f = form_fields(&req, payload).await;
    let l = lang(&req);
    if !csrf::verify(
        &req,
        &state.keys.web,
        f.get("csrf_token").map(String::as_str),
    ) {
        return state.web.message(
            &req,
            StatusCode::FORBIDDEN,
            l,
            "forbidden_title",
            "forbidden_body",
        );
    }
    let email = f
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let ip = crate::api::login::client_ip(&req);
    let (e, i) = (email.clone(), ip.clone());
    let failures = state
        .db(move |conn| {
            let since = store::now() - Duration::minutes(15);
            let recent = audit_log::table
                .filter(audit_log::action.eq("login_failed"))
                .filter(audit_log::at.ge(since));
            let by_account: i64 = recent
                .filter(audit_log::actor_label.eq(&e))
                .count()
                .get_result(conn)?;
            let by_address: i64 = recent
                .filter(audit_log::ip.eq(&i))
                .count()
                .get_result(conn)?;
            Ok((by_account, by_address))
        })
        .await;
    match failures {
        Ok((a, b)) if a >= MAX_FAILURES_PER_ACCOUNT || b >= MAX_FAILURES_PER_ADDRESS => {
            let mut resp = login_form(
                &req,
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some("dash.login_throttled"),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("900"));
            return resp;
        }
        Ok(_) => {}
        Err(e) => return actix_web::ResponseError::error_response(&e),
    }
    match crate::api::login::authenticate(&state, email.clone(), password, ip).await {
        Ok(user) => {
            let token = match state
                .db(move |conn| Ok(store::sessions::create(conn, user.id, store::now())?))
                .await
            {
                Ok(t) => t,
                Err(e) => return actix_web::ResponseError::error_response(&e),
            };
            let next = f
                .get("next")
                .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                .cloned()
                .or_else(|| {
                    web::Query::<HashMap<String, String>>::from_query(req.query_string())
                        .ok()
                        .and_then(|q| q.get("next").cloned())
                        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                })
                .unwrap_or_else(|| format!("/dashboard?lang={}", l.code()));
            let mut resp = see_other(&next);
            let _ = resp.add_cookie(&session::cookie(&token, secure(&state)));
            resp
        }
        Err(AppError::Unauthorized(_)) => login_form(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            &email,
            Some("dash.login_failed"),
        ),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

pub async fn logout(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let f = form_fields(&req, payload).await;
    if !csrf::verify(
        &req,
        &state.keys.web,
        f.get("csrf_token").map(String::as_str),
    ) {
        return state.web.message(
            &req,
            StatusCode::FORBIDDEN,
            lang(&req),
            "forbidden_title",
            "forbidden_body",
        );
    }
    if let Some(token) = req.cookie(session::COOKIE).map(|c| c.value().to_string()) {
        let _ = state
            .db(move |conn| Ok(store::sessions::delete(conn, &token)?))
            .await;
    }
    let mut resp = see_other("/login");
    let _ = resp.add_cookie(&session::clear(secure(&state)));
    resp
}

// ---------- the queue ----------

#[derive(Debug, Default, Deserialize, serde::Serialize, Clone)]
pub struct DashQuery {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub rule: Option<String>,
    pub hospital: Option<String>,
    pub district: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cursor: Option<String>,
    pub lang: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A China date as the UTC instant its day begins.
fn china_day(s: &str) -> Option<NaiveDateTime> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|t| t - Duration::hours(8))
}

fn queue_filter(q: &DashQuery, staff: &Staff) -> AppResult<QueueFilter> {
    let status = nonempty(&q.status);
    let statuses = match status.as_deref() {
        None => vec!["open", "acknowledged", "assigned", "escalated"]
            .into_iter()
            .map(String::from)
            .collect(),
        Some("all") => Vec::new(),
        Some(s) if STATUSES.contains(&s) => vec![s.to_string()],
        Some(_) => return Err(AppError::field("status", "is not a status")),
    };
    let severity = nonempty(&q.severity);
    if severity
        .as_deref()
        .is_some_and(|s| rules::Severity::parse(s).is_none())
    {
        return Err(AppError::field("severity", "must be low, medium or high"));
    }
    let rule = nonempty(&q.rule);
    if rule.as_deref().is_some_and(|r| RuleId::parse(r).is_none()) {
        return Err(AppError::field("rule", "is not a rule id"));
    }
    let day = |v: &Option<String>, field: &str| -> AppResult<Option<NaiveDateTime>> {
        match nonempty(v) {
            None => Ok(None),
            Some(s) => china_day(&s)
                .map(Some)
                .ok_or_else(|| AppError::field(field, "must be a date, YYYY-MM-DD")),
        }
    };
    Ok(QueueFilter {
        statuses,
        rule,
        hospital: nonempty(&q.hospital),
        severity,
        district: staff.district_scope().or_else(|| nonempty(&q.district)),
        since: day(&q.since, "since")?,
        until: day(&q.until, "until")?.map(|t| t + Duration::days(1)),
    })
}

fn rank(severity: &str) -> i32 {
    rules::Severity::parse(severity)
        .map(|s| s.rank())
        .unwrap_or(1)
}

fn decode_cursor(c: &str) -> Option<(i32, NaiveDateTime, i64)> {
    let mut parts = c.splitn(3, '_');
    let r = parts.next()?.parse().ok()?;
    let t = chrono::DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?.naive_utc();
    Some((r, t, parts.next()?.parse().ok()?))
}

fn options(values: Vec<(String, String)>, chosen: &Option<String>) -> Vec<Value> {
    values
        .into_iter()
        .map(|(v, label)| json!({"selected": chosen.as_deref() == Some(v.as_str()), "value": v, "label": label}))
        .collect()
}

pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DashQuery>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let q = query.into_inner();
    let filter = match queue_filter(&q, &staff) {
        Ok(f) => f,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let after = q.cursor.as_deref().and_then(decode_cursor);
    let keys = state.keys.clone();
    let f = filter.clone();
    let loaded = state
        .db(move |conn| {
            let rows = store::cases::queue(conn, &f, after, PAGE)?;
            let counts = store::cases::status_counts(conn, &f)?;
            let hospitals = store::hospitals::all(conn)?;
            let complaints = store::complaints::queue(conn, f.district.as_deref(), None, 20)?;
            let mut complaint_rows = Vec::new();
            for c in complaints {
                let duplicates = crate::complaints::likely_duplicates(conn, &c)?.join(", ");
                complaint_rows.push((c, duplicates));
            }
            let ratings: Vec<Option<i32>> = complaints::table
                .filter(complaints::rating.is_not_null())
                .select(complaints::rating)
                .load(conn)?;
            let dead = crate::mail::outbox::counts(conn)?
                .into_iter()
                .find(|(s, _)| s == "dead")
                .map(|(_, n)| n)
                .unwrap_or(0);
            Ok((rows, counts, hospitals, complaint_rows, ratings, dead))
        })
        .await;
    let (rows, counts, hospitals, complaints, ratings, dead) = match loaded {
        Ok(v) => v,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let _ = keys;
    let web = &state.web;
    let next = (rows.len() as i64 == PAGE).then(|| {
        let last = rows
            .last()
            .map(|r| {
                format!(
                    "{}_{}_{}",
                    rank(&r.severity),
                    r.opened_at.and_utc().timestamp_micros(),
                    r.id
                )
            })
            .unwrap_or_default();
        let mut nq = q.clone();
        nq.cursor = Some(last);
        serde_urlencoded::to_string(&nq).unwrap_or_default()
    });
    let mut plain = q.clone();
    plain.cursor = None;
    let mut districts: Vec<String> = hospitals.iter().map(|h| h.district.clone()).collect();
    districts.sort();
    districts.dedup();
    let rating_count = ratings.iter().flatten().count();
    let rating_avg = if rating_count == 0 {
        "—".to_string()
    } else {
        format!(
            "{:.1}",
            ratings.iter().flatten().map(|r| f64::from(*r)).sum::<f64>() / rating_count as f64
        )
    };
    let data = json!({
        "title": web.t(l, "dash.dashboard_title"),
        "f": q,
        "query": serde_urlencoded::to_string(&plain).unwrap_or_default(),
        "statuses": options(STATUSES.iter().map(|s| (s.to_string(), web.t(l, &format!("dash.statuses.{s}")))).collect(), &q.status),
        "severities": options(["high", "medium", "low"].iter().map(|s| (s.to_string(), web.t(l, &format!("dash.severities.{s}")))).collect(), &q.severity),
        "rules": options(rules::ALL.iter().map(|r| (r.as_str().to_string(), format!("{} · {}", r.as_str(), if l == Lang::En { r.info().title_en } else { r.info().title_zh }))).collect(), &q.rule),
        "hospitals": options(hospitals.iter().map(|h| (h.code.clone(), format!("{} {}", h.code, h.name))).collect(), &q.hospital),
        "districts": options(districts.into_iter().map(|d| (d.clone(), d)).collect(), &q.district),
        "counts": counts.iter().map(|(s, n)| json!({"status": s, "label": web.t(l, &format!("dash.statuses.{s}")), "count": n})).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| json!({
            "id": r.id, "rule": r.rule, "severity": r.severity,
            "severity_label": web.t(l, &format!("dash.severities.{}", r.severity)),
            "status_label": web.t(l, &format!("dash.statuses.{}", r.status)),
            "hospital": r.hospital, "opened": china(r.opened_at), "summary": r.summary,
        })).collect::<Vec<_>>(),
        "next": next,
        "complaints": complaints.iter().map(|(c, dups)| json!({
            "id": c.id,
            "filed": china(c.created_at),
            "status": web.t(l, &format!("status.{}", c.status)),
            "category": web.strings(l)["categories"][&c.category][0],
            "hospital": c.hospital_name,
            "description": c.description.chars().take(80).collect::<String>(),
            "duplicates": dups,
        })).collect::<Vec<_>>(),
        "rating_avg": rating_avg,
        "rating_count": rating_count,
        "dead_letters": (dead > 0).then_some(dead),
    });
    staff_page(&req, &state, &staff, "dashboard", StatusCode::OK, data)
}

/// A CSV cell: quoted, and with a leading formula character defused (Excel injection).
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The filtered queue as CSV (UTF-8 with a BOM, so that Excel opens Chinese text correctly).
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<DashQuery>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let filter = match queue_filter(&query, &staff) {
        Ok(f) => f,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let rows = match state
        .db(move |conn| Ok(store::cases::queue(conn, &filter, None, 100_000)?))
        .await
    {
        Ok(r) => r,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let mut out = String::from(
        "\u{feff}id,rule,severity,status,hospital,district,occurred_at,opened_at,summary\r\n",
    );
    for r in rows {
        let line = [
            r.id.to_string(),
            r.rule,
            r.severity,
            r.status,
            r.hospital.unwrap_or_default(),
            r.district,
            crate::api::cases::rfc3339(r.occurred_at),
            crate::api::cases::rfc3339(r.opened_at),
            r.summary,
        ]
        .iter()
        .map(|c| cell(c))
        .collect::<Vec<_>>()
        .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"shouzhen-cases.csv\"",
        ))
        .body(out)
}

// ---------- a case ----------

async fn render_case(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let l = lang(req);
    let policy = state.policy.clone();
    let loaded = state
        .db(move |conn| {
            let detail = crate::api::cases::load_detail(conn, id, &policy)?;
            let assignees: Vec<String> = users::table
                .filter(users::disabled.eq(false))
                .order(users::email.asc())
                .select(users::email)
                .load(conn)?;
            Ok((detail, assignees))
        })
        .await;
    let (detail, assignees) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(req, state, &e),
    };
    if staff
        .district_scope()
        .is_some_and(|d| d != detail.case.district)
    {
        return error_page(req, state, &AppError::Forbidden(String::new()));
    }
    let web = &state.web;
    // Events and complaints in one timeline, in event time.
    let mut timeline: Vec<(String, Value)> = detail
        .evidence
        .events
        .iter()
        .map(|e| {
            let at = chrono::DateTime::parse_from_rfc3339(&e.occurred_at).map(|t| china(t.naive_utc())).unwrap_or_default();
            let reasons = e.details["reasons"].as_array().map(|r| r.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
            (e.occurred_at.clone(), json!({"at": at, "kind": web.t(l, &format!("dash.kinds.{}", e.kind)), "who": e.hospital, "text": format!("{} {} {}", e.event_id, e.patient.clone().unwrap_or_default(), reasons)}))
        })
        .chain(detail.evidence.complaints.iter().map(|c| {
            let at = chrono::DateTime::parse_from_rfc3339(&c.occurred_at).map(|t| china(t.naive_utc())).unwrap_or_default();
            (c.occurred_at.clone(), json!({"at": at, "kind": web.t(l, "dash.kinds.complaint"), "who": c.tracking_code, "text": c.description}))
        }))
        .collect();
    timeline.sort_by(|a, b| a.0.cmp(&b.0));
    let history: Vec<Value> = detail
        .actions
        .iter()
        .map(|a| {
            let at = chrono::DateTime::parse_from_rfc3339(&a.at).map(|t| china(t.naive_utc())).unwrap_or_default();
            json!({"at": at, "action": web.t(l, &format!("dash.actions.{}", a.action)), "actor": a.actor, "note": a.note})
        })
        .collect();
    let mut actions: Vec<&str> = crate::workflow::ACTIONS
        .iter()
        .copied()
        .filter(|a| crate::workflow::transition(a, &detail.case.status).is_some())
        .collect();
    if staff.role < Role::Supervisor {
        actions.retain(|a| *a != "assign");
    }
    let rule = RuleId::parse(&detail.case.rule);
    let occurred = chrono::DateTime::parse_from_rfc3339(&detail.case.occurred_at)
        .map(|t| china(t.naive_utc()))
        .unwrap_or_default();
    let opened = chrono::DateTime::parse_from_rfc3339(&detail.case.opened_at)
        .map(|t| china(t.naive_utc()))
        .unwrap_or_default();
    let data = json!({
        "title": format!("#{}", detail.case.id),
        "case": detail.case,
        "detail": detail,
        "severity": web.t(l, &format!("dash.severities.{}", detail.case.severity)),
        "status": web.t(l, &format!("dash.statuses.{}", detail.case.status)),
        "rule_title": rule.map(|r| if l == Lang::En { r.info().title_en } else { r.info().title_zh }),
        "rule_plain": rule.map(|r| if l == Lang::En { r.info().plain_en } else { r.info().plain_zh }),
        "occurred": occurred,
        "opened": opened,
        "timeline": timeline.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "history": history,
        "actions": actions.iter().map(|a| json!({"value": a, "label": web.t(l, &format!("dash.actions.{a}"))})).collect::<Vec<_>>(),
        "assignees": (staff.role >= Role::Supervisor).then_some(assignees),
        "error": error,
    });
    staff_page(req, state, staff, "case", status, data)
}

pub async fn case_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &AppError::NotFound(String::new()));
    };
    render_case(&req, &state, &staff, id, StatusCode::OK, None).await
}

pub async fn case_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let f = form_fields(&req, payload).await;
    let l = lang(&req);
    if !csrf::verify(
        &req,
        &state.keys.web,
        f.get("csrf_token").map(String::as_str),
    ) {
        return state.web.message(
            &req,
            StatusCode::FORBIDDEN,
            l,
            "forbidden_title",
            "forbidden_body",
        );
    }
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &AppError::NotFound(String::new()));
    };
    let request = crate::workflow::ActionRequest {
        action: f.get("action").cloned().unwrap_or_default(),
        note: f.get("note").cloned().unwrap_or_default(),
        assignee: f.get("assignee").cloned().filter(|a| !a.is_empty()),
    };
    let ip = crate::api::login::client_ip(&req);
    let notifier = state.notifier.clone();
    let who = staff.clone();
    let result = state
        .db(move |conn| {
            crate::workflow::apply(conn, &notifier, &who, id, &request, &ip, store::now())
        })
        .await;
    match result {
        Ok(()) => see_other(&format!("/cases/{id}?lang={}", l.code())),
        Err(AppError::BadRequest { detail, .. }) => {
            render_case(
                &req,
                &state,
                &staff,
                id,
                StatusCode::BAD_REQUEST,
                Some(detail),
            )
            .await
        }
        Err(AppError::Conflict(_)) => {
            let msg = state.web.t(l, "dash.conflict");
            render_case(&req, &state, &staff, id, StatusCode::CONFLICT, Some(msg)).await
        }
        Err(e) => error_page(&req, &state, &e),
    }
}

// ---------- charts, scorecard, board ----------

/// (rule, hospital name, district, occurred_at, opened_at) of a case.
type ChartRow = (String, Option<String>, String, NaiveDateTime, NaiveDateTime);

fn bars(title: String, items: Vec<(String, i64)>) -> Value {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1);
    let bars: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let width = (*v as f64 / max as f64 * 360.0).round() as i64;
            json!({"label": label, "value": v, "y": i * 24, "width": width, "text_x": 226 + width})
        })
        .collect();
    json!({"title": title, "bars": bars, "height": (items.len() * 24).max(24)})
}

pub async fn charts(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let scope = staff.district_scope();
    let loaded = state
        .db(move |conn| {
            let since = store::now() - Duration::days(90);
            let mut q = cases::table
                .left_join(crate::schema::hospitals::table)
                .filter(
                    cases::opened_at
                        .ge(store::now() - Duration::weeks(12))
                        .or(cases::opened_at.ge(since)),
                )
                .filter(cases::status.ne("withdrawn"))
                .select((
                    cases::rule,
                    crate::schema::hospitals::name.nullable(),
                    cases::district,
                    cases::occurred_at,
                    cases::opened_at,
                ))
                .into_boxed();
            if let Some(d) = scope {
                q = q.filter(cases::district.eq(d));
            }
            Ok(q.load::<ChartRow>(conn)?)
        })
        .await;
    let rows = match loaded {
        Ok(r) => r,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let count = |key: &dyn Fn(&ChartRow) -> String| {
        let mut m: Vec<(String, i64)> = Vec::new();
        for r in &rows {
            let k = key(r);
            match m.iter_mut().find(|(x, _)| *x == k) {
                Some((_, n)) => *n += 1,
                None => m.push((k, 1)),
            }
        }
        m
    };
    let mut weeks = count(&|r| {
        let local = r.3 + Duration::hours(8);
        let monday = local.date()
            - Duration::days(i64::from(
                chrono::Datelike::weekday(&local.date()).num_days_from_monday(),
            ));
        monday.format("%Y-%m-%d").to_string()
    });
    weeks.sort();
    let mut by_rule = count(&|r| r.0.clone());
    by_rule.sort_by_key(|x| std::cmp::Reverse(x.1));
    let mut by_hospital = count(&|r| r.1.clone().unwrap_or_default());
    by_hospital.sort_by_key(|x| std::cmp::Reverse(x.1));
    let mut by_district = count(&|r| r.2.clone());
    by_district.sort_by_key(|x| std::cmp::Reverse(x.1));
    let web = &state.web;
    let data = json!({
        "title": web.t(l, "dash.charts_title"),
        "charts": [
            bars(web.t(l, "dash.by_week"), weeks),
            bars(web.t(l, "dash.by_rule"), by_rule),
            bars(web.t(l, "dash.by_hospital"), by_hospital),
            bars(web.t(l, "dash.by_district"), by_district),
        ],
    });
    staff_page(&req, &state, &staff, "charts", StatusCode::OK, data)
}

pub async fn scorecard(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let code = path.into_inner();
    let loaded = state
        .db(move |conn| {
            let h = store::hospitals::by_code(conn, &code)?
                .ok_or_else(|| AppError::NotFound(String::new()))?;
            let now = store::now();
            let since = now - Duration::days(90);
            let events: Vec<(String, NaiveDateTime, Option<String>, String)> = intake_events::table
                .filter(intake_events::hospital_id.eq(h.id))
                .filter(intake_events::occurred_at.ge(since))
                .filter(intake_events::kind.eq_any([
                    "arrival",
                    "handover",
                    "closure_start",
                    "closure_end",
                ]))
                .order(intake_events::occurred_at.asc())
                .select((
                    intake_events::kind,
                    intake_events::occurred_at,
                    intake_events::patient_key,
                    intake_events::payload,
                ))
                .load(conn)?;
            let cases: i64 = cases::table
                .filter(cases::hospital_id.eq(h.id))
                .filter(cases::opened_at.ge(since))
                .filter(cases::status.ne_all(["withdrawn", "dismissed"]))
                .count()
                .get_result(conn)?;
            let ratings: Vec<Option<i32>> = complaints::table
                .filter(complaints::hospital_id.eq(h.id))
                .select(complaints::rating)
                .load(conn)?;
            Ok((h, events, cases, ratings, now))
        })
        .await;
    let (h, events, case_count, ratings, now) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(&req, &state, &e),
    };
    let arrivals = events.iter().filter(|e| e.0 == "arrival").count();
    // Median minutes from an ambulance arrival to its patient's first handover.
    let mut waits: Vec<i64> = Vec::new();
    for (kind, at, key, payload) in &events {
        if kind != "arrival" || !payload.contains("\"arrived_by\":\"ambulance\"") {
            continue;
        }
        if let Some(h) = events
            .iter()
            .find(|e| e.0 == "handover" && e.2 == *key && e.1 >= *at)
        {
            waits.push((h.1 - *at).num_minutes());
        }
    }
    waits.sort();
    let median = waits
        .get(waits.len() / 2)
        .map(|m| m.to_string())
        .unwrap_or_else(|| "—".into());
    let web = &state.web;
    let closures: Vec<Value> = events
        .iter()
        .filter(|e| e.0 == "closure_start")
        .map(|(_, start, _, payload)| {
            let body: Option<crate::intake::event::EventBody> = serde_json::from_str(payload).ok();
            let closure = body.and_then(|b| b.closure);
            let id = closure.as_ref().map(|c| c.id.clone()).unwrap_or_default();
            let end = events.iter().find(|e| {
                e.0 == "closure_end"
                    && e.1 >= *start
                    && serde_json::from_str::<crate::intake::event::EventBody>(&e.3)
                        .ok()
                        .and_then(|b| b.closure)
                        .is_some_and(|c| c.id == id)
            });
            let what = closure
                .map(|c| c.department.unwrap_or_else(|| web.t(l, "dash.facility")))
                .unwrap_or_default();
            let length = match end {
                Some(e) => format!("{} {}", (e.1 - *start).num_hours(), web.t(l, "dash.hours")),
                None => format!(
                    "{} {} ({})",
                    (now - *start).num_hours(),
                    web.t(l, "dash.hours"),
                    web.t(l, "dash.still_closed")
                ),
            };
            json!({"start": china(*start), "what": what, "length": length})
        })
        .collect();
    let rated: Vec<i32> = ratings.into_iter().flatten().collect();
    let data = json!({
        "title": web.t(l, "dash.scorecard_title"),
        "hospital": {"code": h.code, "name": h.name, "district": h.district, "jurisdiction": h.jurisdiction},
        "arrivals": arrivals,
        "cases": case_count,
        "per_1000": if arrivals == 0 { "—".to_string() } else { format!("{:.1}", case_count as f64 * 1000.0 / arrivals as f64) },
        "median_handover": median,
        "closures": closures,
        "rating": if rated.is_empty() { "—".to_string() } else { format!("{:.1} / 5", rated.iter().map(|r| f64::from(*r)).sum::<f64>() / rated.len() as f64) },
    });
    staff_page(&req, &state, &staff, "scorecard", StatusCode::OK, data)
}

/// `GET /hospitals`: the public board.
pub async fn board(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let l = lang(&req);
    let rows = match state
        .db(|conn| Ok(crate::board::board(conn, store::now())?))
        .await
    {
        Ok(r) => r,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let web = &state.web;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let closures: Vec<String> = r.closures.iter().map(|c| if c == "facility" { web.t(l, "dash.facility") } else { c.clone() }).collect();
            json!({
                "name": r.name, "district": r.district, "crowding": r.crowding,
                "crowding_label": web.t(l, &format!("dash.crowd.{}", r.crowding)),
                "arrivals_recent": r.arrivals_recent, "capacity": r.capacity,
                "closures": if closures.is_empty() { web.t(l, "dash.none") } else { closures.join("、") },
                "violations_90d": r.violations_90d,
            })
        })
        .collect();
    let data = json!({"title": web.t(l, "dash.board_title"), "rows": rows});
    state.web.page(&req, StatusCode::OK, "board", l, data)
}

// ---------- admin ----------

async fn admin_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    secret: Option<Value>,
    error: Option<String>,
) -> HttpResponse {
    let l = lang(req);
    let loaded = state
        .db(|conn| {
            let users: Vec<(i64, String, String, Option<String>, bool)> = users::table
                .order(users::email.asc())
                .select((
                    users::id,
                    users::email,
                    users::role,
                    users::district,
                    users::disabled,
                ))
                .load(conn)?;
            Ok((users, store::hospitals::all(conn)?))
        })
        .await;
    let (users, hospitals) = match loaded {
        Ok(v) => v,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let data = json!({
        "title": state.web.t(l, "dash.admin_title"),
        "users": users.iter().map(|(id, email, role, district, disabled)| json!({"id": id, "email": email, "role": role, "district": district, "disabled": disabled})).collect::<Vec<_>>(),
        "hospitals": hospitals,
        "secret": secret,
        "error": error,
    });
    staff_page(req, state, staff, "admin", status, data)
}

pub async fn admin(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match require(&req, &state, Role::Admin).await {
        Ok(staff) => admin_page(&req, &state, &staff, StatusCode::OK, None, None).await,
        Err(resp) => resp,
    }
}

/// One admin post: checks role and CSRF, runs `f`, audits, and shows the admin page again.
async fn admin_post<F>(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    what: &'static str,
    f: F,
) -> HttpResponse
where
    F: FnOnce(
            &mut crate::db::DbConn,
            &HashMap<String, String>,
        ) -> AppResult<(String, Option<Value>)>
        + Send
        + 'static,
{
    let staff = match require(&req, &state, Role::Admin).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let fields = form_fields(&req, payload).await;
    if !csrf::verify(
        &req,
        &state.keys.web,
        fields.get("csrf_token").map(String::as_str),
    ) {
        return state.web.message(
            &req,
            StatusCode::FORBIDDEN,
            lang(&req),
            "forbidden_title",
            "forbidden_body",
        );
    }
    let ip = crate::api::login::client_ip(&req);
    let who = staff.clone();
    let result = state
        .db(move |conn| {
            crate::db::write_tx(conn, |conn| {
                let (target, shown) = f(conn, &fields)?;
                store::audit::record(
                    conn,
                    &store::audit::Entry {
                        actor_id: Some(who.user_id),
                        actor_label: &who.email,
                        action: what,
                        target_type: "admin",
                        target_id: &target,
                        detail: "",
                        ip: &ip,
                    },
                )?;
                Ok(shown)
            })
        })
        .await;
    match result {
        Ok(secret) => admin_page(&req, &state, &staff, StatusCode::OK, secret, None).await,
        Err(AppError::BadRequest { detail, .. }) => {
            admin_page(
                &req,
                &state,
                &staff,
                StatusCode::BAD_REQUEST,
                None,
                Some(detail),
            )
            .await
        }
        Err(e @ AppError::Conflict(_)) => {
            admin_page(
                &req,
                &state,
                &staff,
                StatusCode::CONFLICT,
                None,
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => error_page(&req, &state, &e),
    }
}

fn get(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}

pub async fn admin_add_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    admin_post(req, payload, state, "user.add", |conn, f| {
        let input = crate::accounts::UserInput {
            email: get(f, "email"),
            role: get(f, "role"),
            district: Some(get(f, "district")),
            password: f.get("password").cloned().unwrap_or_default(),
        };
        let user = crate::accounts::add_user(conn, &input)?;
        Ok((user.email, None))
    })
    .await
}

pub async fn admin_toggle_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let id = path.into_inner();
    admin_post(req, payload, state, "user.toggle", move |conn, _| {
        let user =
            store::users::by_id(conn, id)?.ok_or_else(|| AppError::NotFound(String::new()))?;
        diesel::update(users::table.find(id))
            .set(users::disabled.eq(!user.disabled))
            .execute(conn)?;
        if !user.disabled {
            store::sessions::delete_for_user(conn, id)?;
        }
        Ok((user.email, None))
    })
    .await
}

pub async fn admin_add_hospital(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    admin_post(req, payload, state, "hospital.add", |conn, f| {
        let capacity = get(f, "capacity")
            .parse::<i32>()
            .map_err(|_| AppError::field("capacity", "must be a whole number"))?;
        let jurisdiction = Some(get(f, "jurisdiction"))
            .filter(|j| !j.is_empty())
            .unwrap_or_else(|| "national".into());
        let input = crate::accounts::HospitalInput {
            code: get(f, "code"),
            name: get(f, "name"),
            district: get(f, "district"),
            jurisdiction,
            capacity,
        };
        let (h, creds) = crate::accounts::add_hospital(conn, &input)?;
        Ok((
            h.code,
            Some(json!({"client_id": creds.client_id, "client_secret": creds.client_secret})),
        ))
    })
    .await
}

pub async fn admin_toggle_hospital(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let code = path.into_inner();
    admin_post(req, payload, state, "hospital.toggle", move |conn, _| {
        let h = store::hospitals::by_code(conn, &code)?
            .ok_or_else(|| AppError::NotFound(String::new()))?;
        diesel::update(crate::schema::hospitals::table.find(h.id))
            .set(crate::schema::hospitals::disabled.eq(!h.disabled))
            .execute(conn)?;
        Ok((h.code, None))
    })
    .await
}

pub async fn admin_rotate(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let code = path.into_inner();
    admin_post(
        req,
        payload,
        state,
        "hospital.rotate_secret",
        move |conn, _| {
            let creds = crate::accounts::rotate_secret(conn, &code)?;
            Ok((
                code,
                Some(json!({"client_id": creds.client_id, "client_secret": creds.client_secret})),
            ))
        },
    )
    .await
}

pub async fn audit(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Admin).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let loaded = state
        .db(|conn| {
            Ok(audit_log::table
                .order((audit_log::at.desc(), audit_log::id.desc()))
                .limit(500)
                .select((
                    audit_log::at,
                    audit_log::actor_label,
                    audit_log::action,
                    audit_log::target_type,
                    audit_log::target_id,
                    audit_log::detail,
                    audit_log::ip,
                ))
                .load::<(
                    NaiveDateTime,
                    String,
                    String,
                    String,
                    String,
                    String,
                    String,
                )>(conn)?)
        })
        .await;
    let entries = match loaded {
        Ok(e) => e,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let data = json!({
        "title": state.web.t(l, "dash.audit_title"),
        "entries": entries.iter().map(|(at, actor, action, tt, tid, detail, ip)| json!({"at": china(*at), "actor": actor, "action": action, "target": format!("{tt} {tid}"), "detail": detail, "ip": ip})).collect::<Vec<_>>(),
    });
    staff_page(&req, &state, &staff, "audit", StatusCode::OK, data)
}

// ---------- a complaint, for inspectors ----------

async fn render_complaint(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    reveal: bool,
    error: Option<String>,
) -> HttpResponse {
    let l = lang(req);
    let keys = state.keys.clone();
    let who = staff.clone();
    let ip = crate::api::login::client_ip(req);
    let loaded = state
        .db(move |conn| {
            let c = store::complaints::by_id(conn, id)?
                .ok_or_else(|| AppError::NotFound(String::new()))?;
            crate::complaints::check_district(conn, &who, &c)?;
            let duplicates = crate::complaints::likely_duplicates(conn, &c)?;
            let revealed = if reveal {
                store::audit::record(
                    conn,
                    &store::audit::Entry {
                        actor_id: Some(who.user_id),
                        actor_label: &who.email,
                        action: "complaint.reveal",
                        target_type: "complaint",
                        target_id: &c.id.to_string(),
                        detail: "revealed on the dashboard",
                        ip: &ip,
                    },
                )?;
                Some(crate::complaints::reveal(&keys, &c))
            } else {
                None
            };
            let masked = crate::complaints::masked_contact(&keys, &c);
            Ok((c, duplicates, revealed, masked))
        })
        .await;
    let (c, duplicates, revealed, masked) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(req, state, &e),
    };
    let web = &state.web;
    let actions: Vec<Value> = crate::complaints::ACTIONS
        .iter()
        .map(|a| json!({"value": a, "label": web.t(l, &format!("dash.complaint_actions.{a}"))}))
        .collect();
    let data = json!({
        "title": web.t(l, "dash.complaint_title"),
        "code": crate::complaints::display_code(&c.tracking_code),
        "status": web.t(l, &format!("status.{}", c.status)),
        "category": web.strings(l)["categories"][&c.category][0],
        "occurred": china(c.occurred_at),
        "filed": china(c.created_at),
        "contact": masked,
        "revealed": revealed.map(|(name, phone, description)| json!({"name": name, "phone": phone, "description": description})),
        "duplicates": duplicates.join(", "),
        "actions": actions,
        "error": error,
        "c": {"id": c.id, "hospital_name": c.hospital_name, "description": c.description, "rating": c.rating},
    });
    staff_page(req, state, staff, "complaint_admin", status, data)
}

pub async fn complaint_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    match require(&req, &state, Role::Inspector).await {
        Ok(staff) => {
            render_complaint(
                &req,
                &state,
                &staff,
                path.into_inner(),
                StatusCode::OK,
                false,
                None,
            )
            .await
        }
        Err(resp) => resp,
    }
}

/// Shows the contact details and the original text; recorded in the audit trail.
pub async fn complaint_reveal(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let f = form_fields(&req, payload).await;
    if !csrf::verify(
        &req,
        &state.keys.web,
        f.get("csrf_token").map(String::as_str),
    ) {
        return state.web.message(
            &req,
            StatusCode::FORBIDDEN,
            lang(&req),
            "forbidden_title",
            "forbidden_body",
        );
    }
    render_complaint(
        &req,
        &state,
        &staff,
        path.into_inner(),
        StatusCode::OK,
        true,
        None,
    )
    .await
}

pub async fn complaint_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let staff = match require(&req, &state, Role::Inspector).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let f = form_fields(&req, payload).await;
    let l = lang(&req);
    if !csrf::verify(
        &req,
        &state.keys.web,
        f.get("csrf_token").map(String::as_str),
    ) {
        return state.web.message(
            &req,
            StatusCode::FORBIDDEN,
            l,
            "forbidden_title",
            "forbidden_body",
        );
    }
    let id = path.into_inner();
    let action = crate::complaints::ComplaintAction {
        action: get(&f, "action"),
        note: get(&f, "note"),
        into: Some(get(&f, "into")).filter(|s| !s.is_empty()),
    };
    let ip = crate::api::login::client_ip(&req);
    let (policy, notifier, who) = (state.policy.clone(), state.notifier.clone(), staff.clone());
    let result = state
        .db(move |conn| {
            let engine = crate::engine::Engine::new(&policy, &notifier, store::now());
            crate::complaints::act(conn, &engine, &who, id, &action, &ip)
        })
        .await;
    match result {
        Ok(()) => see_other(&format!("/inspect/complaints/{id}?lang={}", l.code())),
        Err(AppError::BadRequest { detail, .. }) => {
            render_complaint(
                &req,
                &state,
                &staff,
                id,
                StatusCode::BAD_REQUEST,
                false,
                Some(detail),
            )
            .await
        }
        Err(AppError::Conflict(_)) => {
            let msg = state.web.t(l, "dash.conflict");
            render_complaint(
                &req,
                &state,
                &staff,
                id,
                StatusCode::CONFLICT,
                false,
                Some(msg),
            )
            .await
        }
        Err(e) => error_page(&req, &state, &e),
    }
}
