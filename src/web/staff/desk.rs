//! The 12320 operators' desk (`/desk`): a keyboard-first entry form for a complaint taken by
//! phone, the complaints waiting to be forwarded to their hospital, and the callbacks (回访)
//! due today or overdue, each with its callback form.

use super::*;
use shouzhen_app::complaints::{ComplaintAction, ComplaintInput, display_code};
use shouzhen_domain::field::FieldError;

/// What the entry form shows again after a failed submission.
#[derive(Default)]
struct Entry {
    input: ComplaintInput,
    errors: Vec<FieldError>,
    /// The complaint just filed: (id, tracking code, whether its work order was filed before).
    filed: Option<(i64, String, bool)>,
    error: Option<String>,
}

async fn render_desk(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    entry: Entry,
) -> HttpResponse {
    let l = lang(req);
    let keys = state.keys.clone();
    let now = shouzhen_store::now();
    // Every answered complaint waits for its callback; the overdue and those due by the end of
    // this China day come first and are marked.
    let end_of_today = shouzhen_domain::time::china_day_start(now) + Duration::days(1);
    let horizon = now + Duration::days(3650);
    let loaded = state
        .db(move |conn| {
            let hospitals = shouzhen_store::hospitals::all(conn)?;
            let mut to_forward = Vec::new();
            for status in ["received", "acknowledged", "info_requested"] {
                to_forward.extend(
                    shouzhen_store::complaints::queue(conn, None, Some(status), 50)?
                        .into_iter()
                        .filter(|c| c.hospital_id.is_some()),
                );
            }
            to_forward.sort_by_key(|c| (c.created_at, c.id));
            let callbacks = shouzhen_store::complaints::callbacks_due(conn, horizon, 200)?;
            let contacts: Vec<Option<String>> = callbacks
                .iter()
                .map(|c| shouzhen_app::complaints::masked_contact(&keys, c))
                .collect();
            Ok((hospitals, to_forward, callbacks, contacts))
        })
        .await;
    let (hospitals, to_forward, callbacks, contacts) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(req, state, &e),
    };
    let web = &state.web;
    let strings = web.strings(l);
    let name_of = |id: Option<i64>| {
        hospitals
            .iter()
            .find(|h| Some(h.id) == id)
            .map(|h| h.name.clone())
            .unwrap_or_default()
    };
    let category = |c: &str| strings["categories"][c][0].clone();
    let forward_rows: Vec<Value> = to_forward
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "code": display_code(&c.tracking_code),
                "hospital": name_of(c.hospital_id),
                "category": category(&c.category),
                "filed": china(c.created_at),
                "status": web.t(l, &format!("status.{}", c.status)),
                "channel": web.t(l, &format!("desk.channels.{}", c.channel)),
            })
        })
        .collect();
    let callback_rows: Vec<Value> = callbacks
        .iter()
        .zip(contacts)
        .map(|(c, contact)| {
            json!({
                "id": c.id,
                "code": display_code(&c.tracking_code),
                "hospital": name_of(c.hospital_id),
                "category": category(&c.category),
                "answer": c.answer,
                "due": c.callback_due.map(china),
                "overdue": c.callback_due.is_some_and(|d| d < now),
                "today": c.callback_due.is_some_and(|d| d >= now && d <= end_of_today),
                "consent": c.callback_consent,
                "contact": contact,
                "reopened": c.reopened,
            })
        })
        .collect();
    let input = &entry.input;
    let chosen_category = input.category.clone().unwrap_or_default();
    let categories: Vec<Value> = shouzhen_domain::complaint::CATEGORIES
        .iter()
        .map(|c| json!({"value": c, "label": strings["categories"][c][0], "selected": *c == chosen_category}))
        .collect();
    let chosen_channel = input.channel.clone().unwrap_or_else(|| "phone".into());
    let channels: Vec<Value> = shouzhen_domain::complaint::CHANNELS
        .iter()
        .filter(|c| **c != "web")
        .map(|c| json!({"value": c, "label": web.t(l, &format!("desk.channels.{c}")), "selected": *c == chosen_channel}))
        .collect();
    let satisfactions: Vec<Value> = shouzhen_domain::complaint::SATISFACTIONS
        .iter()
        .map(|s| json!({"value": s, "label": web.t(l, &format!("desk.satisfactions.{s}"))}))
        .collect();
    let hospital_options: Vec<Value> = hospitals
        .iter()
        .filter(|h| !h.disabled)
        .map(|h| json!({"code": h.code, "name": h.name, "district": h.district}))
        .collect();
    let errors = web.errors(l, &entry.errors);
    let by_field: serde_json::Map<String, Value> = errors
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_string(),
                e["message"].clone(),
            )
        })
        .collect();
    let now_local = shouzhen_domain::time::to_china(now)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let data = json!({
        "title": web.t(l, "desk.title"),
        "hospitals": hospital_options,
        "categories": categories,
        "channels": channels,
        "satisfactions": satisfactions,
        "input": input,
        "consent": input.callback_consent.unwrap_or(true),
        "errors": errors,
        "e": by_field,
        "now_local": input.occurred_at.clone().unwrap_or(now_local),
        "filed": entry.filed.map(|(id, code, duplicate)| json!({"id": id, "code": display_code(&code), "duplicate": duplicate})),
        "error": entry.error,
        "to_forward": forward_rows,
        "callbacks": callback_rows,
    });
    staff_page(req, state, staff, "desk", status, data)
}

pub async fn desk(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match require(&req, &state, Role::Operator).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let filed = match req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<HashMap<String, String>>(q).ok())
        .and_then(|q| q.get("filed").and_then(|v| v.parse::<i64>().ok()))
    {
        Some(id) => {
            let duplicate = req.uri().query().is_some_and(|q| q.contains("duplicate=1"));
            match state
                .db(move |conn| Ok(shouzhen_store::complaints::by_id(conn, id)?))
                .await
            {
                Ok(Some(c)) => Some((c.id, c.tracking_code, duplicate)),
                _ => None,
            }
        }
        None => None,
    };
    let entry = Entry {
        filed,
        ..Default::default()
    };
    render_desk(&req, &state, &staff, StatusCode::OK, entry).await
}

/// The hospital as typed at the desk: a code, or a part of exactly one hospital's name.
fn resolve_hospital(typed: &str, hospitals: &[shouzhen_store::hospitals::Hospital]) -> String {
    let typed = typed.trim();
    if typed.is_empty() || hospitals.iter().any(|h| h.code == typed) {
        return typed.to_string();
    }
    let matching: Vec<_> = hospitals
        .iter()
        .filter(|h| !h.disabled && h.name.contains(typed))
        .collect();
    match matching.as_slice() {
        [one] => one.code.clone(),
        _ => typed.to_string(),
    }
}

/// `POST /desk`: files the call, then back to an empty form with the tracking code shown.
pub async fn desk_file(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (staff, f) = match staff_form(&req, payload, &state, Role::Operator).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let hospitals = match state
        .db(|conn| Ok(shouzhen_store::hospitals::all(conn)?))
        .await
    {
        Ok(h) => h,
        Err(e) => return error_page(&req, &state, &e),
    };
    let opt = |k: &str| Some(get(&f, k)).filter(|v| !v.is_empty());
    let input = ComplaintInput {
        hospital: Some(resolve_hospital(&get(&f, "hospital"), &hospitals)),
        hospital_name: None,
        category: opt("category"),
        occurred_at: opt("occurred_at"),
        description: opt("description"),
        contact_name: opt("contact_name"),
        contact_phone: opt("contact_phone"),
        channel: opt("channel"),
        external_ref: opt("external_ref"),
        callback_consent: Some(f.get("callback_consent").is_some_and(|v| v == "true")),
    };
    match crate::api::complaints::file_complaint(&state, input.clone(), l.code(), true).await {
        Ok((code, new)) => {
            let found = state
                .db(move |conn| Ok(shouzhen_store::complaints::by_code(conn, &code)?))
                .await;
            match found {
                Ok(Some(c)) => see_other(&format!(
                    "/desk?lang={}&filed={}{}",
                    l.code(),
                    c.id,
                    if new { "" } else { "&duplicate=1" }
                )),
                Ok(None) => see_other(&format!("/desk?lang={}", l.code())),
                Err(e) => error_page(&req, &state, &e),
            }
        }
        Err(ApiError(AppError::BadRequest { errors, .. })) if !errors.is_empty() => {
            let entry = Entry {
                input,
                errors,
                ..Default::default()
            };
            render_desk(&req, &state, &staff, StatusCode::BAD_REQUEST, entry).await
        }
        Err(e) => error_page(&req, &state, &e),
    }
}

/// `POST /desk/complaints/{id}/{forward|callback}`: the desk's two actions, back to the desk.
pub async fn desk_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
) -> HttpResponse {
    let (staff, f) = match staff_form(&req, payload, &state, Role::Operator).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let (id, action) = path.into_inner();
    if !matches!(action.as_str(), "forward" | "callback") {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    }
    let resolved = match get(&f, "resolved").as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let a = ComplaintAction {
        action,
        note: get(&f, "note"),
        into: None,
        resolved,
        satisfaction: Some(get(&f, "satisfaction")).filter(|s| !s.is_empty()),
    };
    match super::complaint::act_on(&req, &state, &staff, id, a).await {
        Ok(()) => see_other(&format!("/desk?lang={}", l.code())),
        Err(ApiError(AppError::BadRequest { detail, errors, .. })) => {
            let message = state
                .web
                .errors(l, &errors)
                .iter()
                .map(|e| {
                    format!(
                        "{}：{}",
                        e["label"].as_str().unwrap_or(""),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("；");
            let entry = Entry {
                error: Some(if message.is_empty() { detail } else { message }),
                ..Default::default()
            };
            render_desk(&req, &state, &staff, StatusCode::BAD_REQUEST, entry).await
        }
        Err(ApiError(AppError::Conflict(_))) => {
            let entry = Entry {
                error: Some(state.web.t(l, "dash.conflict")),
                ..Default::default()
            };
            render_desk(&req, &state, &staff, StatusCode::CONFLICT, entry).await
        }
        Err(e) => error_page(&req, &state, &e),
    }
}
