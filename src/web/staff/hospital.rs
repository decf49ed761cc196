//! The hospital's own pages (`/hospital`): the inbox of the cases forwarded to it, deadlines
//! first and the overdue in red, and a case with the reply and rectification forms. Only a
//! hospital's staff reach them; any case not forwarded to their hospital is 404.

use super::*;

/// The signed-in hospital staff member, or the page that refuses anyone else.
async fn hospital_staff(req: &HttpRequest, state: &AppState) -> Result<Staff, HttpResponse> {
    let staff = require(req, state, Role::HospitalStaff).await?;
    if staff.role != Role::HospitalStaff {
        return Err(error_page(
            req,
            state,
            &ApiError(AppError::Forbidden(String::new())),
        ));
    }
    Ok(staff)
}

/// The deadline the hospital must meet now (reply or rectification), if it must act.
fn pending_deadline(case: &shouzhen_store::cases::Case) -> Option<NaiveDateTime> {
    match &case.status[..] {
        "forwarded" => case.reply_due,
        "rectifying" => case.rectification_due,
        _ => None,
    }
}

pub async fn hospital_inbox(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let staff = match hospital_staff(&req, &state).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let hospital_id = staff.hospital_id.unwrap_or(-1);
    let loaded = state
        .db(move |conn| {
            let hospital = shouzhen_store::hospitals::by_id(conn, hospital_id)?;
            let cases = shouzhen_store::cases::forwarded_to(conn, hospital_id, 500)?;
            let complaints = shouzhen_store::complaints::forwarded_to(conn, hospital_id, 500)?;
            Ok((hospital, cases, complaints))
        })
        .await;
    let (hospital, mut cases, complaints) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(&req, &state, &e),
    };
    // What the hospital must do first: the earliest deadline; then the rest, newest first.
    cases.sort_by_key(|c| (pending_deadline(c).is_none(), pending_deadline(c)));
    let now = shouzhen_store::now();
    let web = &state.web;
    let rows: Vec<Value> = cases
        .iter()
        .map(|c| {
            let deadline = pending_deadline(c);
            json!({
                "id": c.id,
                "rule": c.rule,
                "rule_title": rule_title(l, &c.rule),
                "status": web.t(l, &format!("dash.statuses.{}", c.status)),
                "deadline": deadline.map(china).unwrap_or_else(|| "—".into()),
                "overdue": deadline.is_some_and(|d| d < now),
                "returns": c.returns,
                "summary": c.summary,
            })
        })
        .collect();
    let complaint_rows: Vec<Value> = complaints
        .iter()
        .map(|c| {
            let waiting =
                shouzhen_domain::complaint::AWAITING_HOSPITAL.contains(&c.status.as_str());
            json!({
                "id": c.id,
                "code": format!("#{}", c.id),
                "due": if waiting { c.answer_due.map(china) } else { None }.unwrap_or_else(|| "—".into()),
                "overdue": waiting && c.answer_due.is_some_and(|d| d < now),
                "category": web.strings(l)["categories"][&c.category][0],
                "status": web.t(l, &format!("status.{}", c.status)),
                "description": c.description,
            })
        })
        .collect();
    let data = json!({
        "title": web.t(l, "dash.inbox_title"),
        "hospital": hospital.map(|h| h.name).unwrap_or_default(),
        "rows": rows,
        "complaints": complaint_rows,
    });
    staff_page(&req, &state, &staff, "hospital", StatusCode::OK, data)
}

async fn render_hospital_case(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let l = lang(req);
    let (policy, who) = (state.policy.clone(), staff.clone());
    let loaded = state
        .db(move |conn| crate::api::cases::detail_for(conn, &who, id, &policy))
        .await;
    let detail = match loaded {
        Ok(d) => d,
        Err(e) => return error_page(req, state, &e),
    };
    let web = &state.web;
    let rule = RuleId::parse(&detail.case.rule);
    let pending = match &detail.case.status[..] {
        "forwarded" => detail.reply_due.clone(),
        "rectifying" => detail.rectification_due.clone(),
        _ => None,
    };
    let overdue = pending
        .as_deref()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .is_some_and(|d| d < chrono::Utc::now());
    let data = json!({
        "title": format!("#{}", detail.case.id),
        "case": detail.case,
        "status": web.t(l, &format!("dash.statuses.{}", detail.case.status)),
        "rule_title": rule.map(|r| if l == Lang::En { r.info().title_en } else { r.info().title_zh }),
        "rule_plain": rule.map(|r| if l == Lang::En { r.info().plain_en } else { r.info().plain_zh }),
        "occurred": china_text(&detail.case.occurred_at),
        "reply_due": detail.reply_due.as_deref().map(china_text),
        "rectification_due": detail.rectification_due.as_deref().map(china_text),
        "overdue": overdue,
        "timeline": timeline(web, l, &detail),
        "history": history(web, l, &detail),
        "clocks": super::case::clocks(web, l, &detail),
        "can_reply": detail.case.status == "forwarded",
        "can_rectify": detail.case.status == "rectifying",
        "detail": detail,
        "error": error,
    });
    staff_page(req, state, staff, "hospital_case", status, data)
}

pub async fn hospital_case(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match hospital_staff(&req, &state).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    };
    render_hospital_case(&req, &state, &staff, id, StatusCode::OK, None).await
}

pub async fn hospital_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match hospital_staff(&req, &state).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let f = match crate::web::csrf::posted_form(&req, payload, &state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    };
    match post_action(&req, &state, &staff, id, &f).await {
        Posted::Done => see_other(&format!("/hospital/cases/{id}?lang={}", l.code())),
        Posted::Again(status, message) => {
            render_hospital_case(&req, &state, &staff, id, status, Some(message)).await
        }
        Posted::Failed(e) => error_page(&req, &state, &e),
    }
}

async fn render_hospital_complaint(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    error: Option<String>,
) -> HttpResponse {
    let l = lang(req);
    let who = staff.clone();
    let loaded = state
        .db(move |conn| {
            let c = shouzhen_app::complaints::readable(conn, &who, id)?;
            let timeline = crate::api::complaints::timeline(conn, c.id)?;
            Ok((c, timeline))
        })
        .await;
    let (c, timeline) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(req, state, &e),
    };
    let web = &state.web;
    let waiting = shouzhen_domain::complaint::AWAITING_HOSPITAL.contains(&c.status.as_str());
    let timeline: Vec<Value> = timeline
        .iter()
        .map(|u| json!({"at": u.at_local, "label": web.t(l, &format!("timeline.{}", u.kind)), "note": u.note}))
        .collect();
    // Never the caller's contact: the hospital reads the redacted description alone.
    let data = json!({
        "title": web.t(l, "dash.complaint_title"),
        "id": c.id,
        "code": format!("#{}", c.id),
        "status": web.t(l, &format!("status.{}", c.status)),
        "category": web.strings(l)["categories"][&c.category][0],
        "occurred": china(c.occurred_at),
        "filed": china(c.created_at),
        "description": c.description,
        "answer_due": c.answer_due.map(china),
        "overdue": waiting && c.answer_due.is_some_and(|d| d < shouzhen_store::now()),
        "answer": c.answer,
        "reopened": c.reopened,
        "timeline": timeline,
        "can_answer": waiting,
        "error": error,
    });
    staff_page(req, state, staff, "hospital_complaint", status, data)
}

/// `GET /hospital/complaints/{id}`: a complaint forwarded to the hospital (any other is 404).
pub async fn hospital_complaint(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match hospital_staff(&req, &state).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    };
    render_hospital_complaint(&req, &state, &staff, id, StatusCode::OK, None).await
}

/// `POST /hospital/complaints/{id}`: the hospital's answer.
pub async fn hospital_answer(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let staff = match hospital_staff(&req, &state).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let f = match crate::web::csrf::posted_form(&req, payload, &state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let Ok(id) = path.parse::<i64>() else {
        return error_page(&req, &state, &ApiError(AppError::NotFound(String::new())));
    };
    let action = shouzhen_app::complaints::ComplaintAction {
        action: "answer".into(),
        note: get(&f, "note"),
        into: None,
        resolved: None,
        satisfaction: None,
    };
    match super::complaint::act_on(&req, &state, &staff, id, action).await {
        Ok(()) => see_other(&format!("/hospital/complaints/{id}?lang={}", l.code())),
        Err(ApiError(AppError::BadRequest { detail, .. })) => {
            let message = if l == Lang::En {
                detail
            } else {
                state.web.t(l, "desk.answer_required")
            };
            render_hospital_complaint(
                &req,
                &state,
                &staff,
                id,
                StatusCode::BAD_REQUEST,
                Some(message),
            )
            .await
        }
        Err(ApiError(AppError::Conflict(_))) => {
            let message = state.web.t(l, "dash.conflict");
            render_hospital_complaint(
                &req,
                &state,
                &staff,
                id,
                StatusCode::CONFLICT,
                Some(message),
            )
            .await
        }
        Err(e) => error_page(&req, &state, &e),
    }
}
