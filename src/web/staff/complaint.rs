//! A complaint, for inspectors and hotline operators: masked details, the audited reveal, the
//! hotline loop's facts (deadlines, the hospital's answer, the callback), the actions the
//! user's role may take from its status.

use super::*;

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
    let ip = crate::auth::client_ip_text(req);
    let loaded = state
        .db(move |conn| {
            let c = shouzhen_app::complaints::readable(conn, &who, id)?;
            let duplicates = shouzhen_app::complaints::likely_duplicates(conn, &c)?;
            let revealed = if reveal {
                shouzhen_store::audit::record(
                    conn,
                    &shouzhen_store::audit::Entry {
                        actor_id: Some(who.user_id),
                        actor_label: &who.email,
                        action: "complaint.reveal",
                        target_type: "complaint",
                        target_id: &c.id.to_string(),
                        detail: "revealed on the dashboard",
                        ip: &ip,
                    },
                )?;
                Some(shouzhen_app::complaints::reveal(&keys, &c))
            } else {
                None
            };
            let masked = shouzhen_app::complaints::masked_contact(&keys, &c);
            Ok((c, duplicates, revealed, masked))
        })
        .await;
    let (c, duplicates, revealed, masked) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(req, state, &e),
    };
    let web = &state.web;
    // The actions this user may take now: their role's, from the complaint's status.
    let actions: Vec<Value> = shouzhen_domain::complaint::ACTIONS
        .iter()
        .filter(|a| **a != "callback" && shouzhen_domain::complaint::allowed(a, staff.role))
        .filter(|a| shouzhen_domain::complaint::next_status(a, &c.status).is_some())
        .map(|a| json!({"value": a, "label": web.t(l, &format!("dash.complaint_actions.{a}"))}))
        .collect();
    let can_callback =
        shouzhen_domain::complaint::allowed("callback", staff.role) && c.status == "answered";
    let satisfactions: Vec<Value> = shouzhen_domain::complaint::SATISFACTIONS
        .iter()
        .map(|s| json!({"value": s, "label": web.t(l, &format!("desk.satisfactions.{s}"))}))
        .collect();
    let data = json!({
        "title": web.t(l, "dash.complaint_title"),
        "code": shouzhen_app::complaints::display_code(&c.tracking_code),
        "status": web.t(l, &format!("status.{}", c.status)),
        "category": web.strings(l)["categories"][&c.category][0],
        "occurred": china(c.occurred_at),
        "filed": china(c.created_at),
        "contact": masked,
        "revealed": revealed.map(|(name, phone, description)| json!({"name": name, "phone": phone, "description": description})),
        "duplicates": duplicates.join(", "),
        "actions": actions,
        "can_callback": can_callback,
        "satisfactions": satisfactions,
        "error": error,
        "channel": web.t(l, &format!("desk.channels.{}", c.channel)),
        "answer_due": c.answer_due.map(china),
        "answer_overdue": c.answer_due.is_some_and(|d| d < shouzhen_store::now())
            && shouzhen_domain::complaint::AWAITING_HOSPITAL.contains(&c.status.as_str()),
        "callback_due": c.callback_due.map(china),
        "satisfaction": c.satisfaction.as_ref().map(|s| web.t(l, &format!("desk.satisfactions.{s}"))),
        "c": {"id": c.id, "hospital_name": c.hospital_name, "description": c.description, "rating": c.rating,
              "external_ref": c.external_ref, "consent": c.callback_consent, "answer": c.answer,
              "resolved": c.resolved, "reopened": c.reopened},
    });
    staff_page(req, state, staff, "complaint_admin", status, data)
}

pub async fn complaint_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    match require(&req, &state, Role::Operator).await {
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
    let (staff, _) = match staff_form(&req, payload, &state, Role::Operator).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
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

/// Takes a complaint action as `staff` (the API's rules: role, status, scope).
pub(super) async fn act_on(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    action: shouzhen_app::complaints::ComplaintAction,
) -> Result<(), ApiError> {
    let ip = crate::auth::client_ip_text(req);
    let (policy, notifier, who) = (state.policy.clone(), state.notifier.clone(), staff.clone());
    state
        .db(move |conn| {
            let engine =
                shouzhen_app::engine::Engine::new(&policy, &notifier, shouzhen_store::now());
            shouzhen_app::complaints::act(conn, &engine, &who, id, &action, &ip)
        })
        .await
}

pub async fn complaint_action(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> HttpResponse {
    let (staff, f) = match staff_form(&req, payload, &state, Role::Operator).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let id = path.into_inner();
    let action = shouzhen_app::complaints::ComplaintAction {
        action: get(&f, "action"),
        note: get(&f, "note"),
        into: Some(get(&f, "into")).filter(|s| !s.is_empty()),
        resolved: match get(&f, "resolved").as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        satisfaction: Some(get(&f, "satisfaction")).filter(|s| !s.is_empty()),
    };
    let result = act_on(&req, &state, &staff, id, action).await;
    match result {
        Ok(()) => see_other(&format!("/inspect/complaints/{id}?lang={}", l.code())),
        Err(ApiError(AppError::BadRequest { detail, .. })) => {
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
        Err(ApiError(AppError::Conflict(_))) => {
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
