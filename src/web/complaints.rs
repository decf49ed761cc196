//! The public complaint pages: the form, its submission, the tracking page, the rating.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Value, json};

use super::{Lang, csrf, lang};
use crate::api::complaints::{PublicComplaint, file_complaint, public_view, rate};
use crate::error::ApiError;
use crate::state::AppState;
use shouzhen_app::complaints::{ComplaintInput, display_code, normalize_code};
use shouzhen_app::error::AppError;
use shouzhen_domain::complaint::CATEGORIES;
use shouzhen_domain::field::FieldError;

fn secure(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

/// The form, with the citizen's input and errors when it is shown again.
async fn form(
    req: &HttpRequest,
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    input: &ComplaintInput,
    errors: &[FieldError],
) -> HttpResponse {
    let hospitals = match state
        .db(|conn| Ok(shouzhen_store::hospitals::all(conn)?))
        .await
    {
        Ok(h) => h,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let web = &state.web;
    let chosen = input.hospital.clone().unwrap_or_default();
    let hospitals: Vec<Value> = hospitals
        .into_iter()
        .filter(|h| !h.disabled)
        .map(|h| json!({"code": h.code, "name": h.name, "district": h.district, "selected": h.code == chosen}))
        .collect();
    let strings = web.strings(lang);
    let chosen_category = input.category.clone().unwrap_or_default();
    let categories: Vec<Value> = CATEGORIES
        .iter()
        .map(|c| {
            json!({"value": c, "label": strings["categories"][c][0], "hint": strings["categories"][c][1], "selected": *c == chosen_category})
        })
        .collect();
    let translated = web.errors(lang, errors);
    let by_field: HashMap<String, Value> = translated
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_string(),
                e["message"].clone(),
            )
        })
        .collect();
    let (token, cookie) = csrf::issue(req, &state.keys.web, secure(state));
    let now_local = shouzhen_domain::time::to_china(Utc::now().naive_utc())
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let data = json!({
        "title": web.t(lang, "new_title"),
        "hospitals": hospitals,
        "categories": categories,
        "errors": translated,
        "e": by_field,
        "input": input,
        "csrf_token": token,
        "now_local": now_local,
    });
    let mut resp = web.page(req, status, "complaint_new", lang, data);
    let _ = resp.add_cookie(&cookie);
    resp
}

/// `GET /complaints/new`
pub async fn new(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let lang = lang(&req);
    form(
        &req,
        &state,
        lang,
        StatusCode::OK,
        &ComplaintInput::default(),
        &[],
    )
    .await
}

/// `POST /complaints`: 303 to the tracking page, or the form again with the errors.
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let lang = lang(&req);
    let web = &state.web;
    let fields = match super::csrf::posted_form(&req, payload, &state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    if let Err(wait) = web.limiter.check(crate::auth::client_ip(&req)) {
        let mut resp = web.message(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            "too_many_title",
            "too_many_body",
        );
        if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    // A filled honeypot is a robot: answer as if all went well, store nothing.
    if fields.get("website").is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!("complaint form honeypot filled; dropped");
        return HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/complaints/new?lang={}", lang.code()),
            ))
            .finish();
    }
    let get = |k: &str| fields.get(k).cloned();
    let input = ComplaintInput {
        hospital: get("hospital"),
        hospital_name: get("hospital_name"),
        category: get("category"),
        occurred_at: get("occurred_at"),
        description: get("description"),
        contact_name: get("contact_name"),
        contact_phone: get("contact_phone"),
        ..Default::default()
    };
    match file_complaint(&state, input.clone(), lang.code(), false).await {
        Ok((code, _)) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/complaints/{code}?lang={}", lang.code()),
            ))
            .finish(),
        Err(ApiError(AppError::BadRequest { errors, .. })) if !errors.is_empty() => {
            form(&req, &state, lang, StatusCode::BAD_REQUEST, &input, &errors).await
        }
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

fn timeline_page(web: &super::Web, lang: Lang, view: &PublicComplaint) -> Value {
    let timeline: Vec<Value> = view
        .timeline
        .iter()
        .map(|u| json!({"at": u.at_local, "label": web.t(lang, &format!("timeline.{}", u.kind)), "note": u.note}))
        .collect();
    json!({
        "title": web.t(lang, "track_title"),
        "code": display_code(&view.tracking_code),
        "status": web.t(lang, &format!("status.{}", view.status)),
        "category": web.strings(lang)["categories"][&view.category][0],
        "hospital": view.hospital,
        "filed": view.filed_local,
        "outcome": view.outcome,
        "timeline": timeline,
        "merged": view.merged,
        "rating": view.rating,
        "can_rate": view.status == "closed" && view.rating.is_none(),
        "stars": [1, 2, 3, 4, 5],
    })
}

/// `GET /complaints/{code}`: status and public timeline, nothing personal.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let lang = lang(&req);
    let web = &state.web;
    let Some(code) = normalize_code(&path) else {
        return web.message(
            &req,
            StatusCode::NOT_FOUND,
            lang,
            "not_found_title",
            "not_found_body",
        );
    };
    match state.db(move |conn| public_view(conn, &code)).await {
        Ok(Some(view)) => {
            let mut data = timeline_page(web, lang, &view);
            let (token, cookie) = csrf::issue(&req, &state.keys.web, secure(&state));
            data["csrf_token"] = json!(token);
            let mut resp = web.page(&req, StatusCode::OK, "complaint_show", lang, data);
            let _ = resp.add_cookie(&cookie);
            resp
        }
        Ok(None) => web.message(
            &req,
            StatusCode::NOT_FOUND,
            lang,
            "not_found_title",
            "not_found_body",
        ),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

/// `POST /complaints/{code}/rating`
pub async fn rating(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let lang = lang(&req);
    let web = &state.web;
    let fields = match super::csrf::posted_form(&req, payload, &state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let Some(code) = normalize_code(&path) else {
        return web.message(
            &req,
            StatusCode::NOT_FOUND,
            lang,
            "not_found_title",
            "not_found_body",
        );
    };
    let value = fields
        .get("rating")
        .and_then(|r| r.parse::<i32>().ok())
        .unwrap_or(0);
    match rate(&state, &code, value).await {
        Ok(()) | Err(ApiError(AppError::Conflict(_))) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/complaints/{code}?lang={}", lang.code()),
            ))
            .finish(),
        Err(ApiError(AppError::NotFound(_))) => web.message(
            &req,
            StatusCode::NOT_FOUND,
            lang,
            "not_found_title",
            "not_found_body",
        ),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}
