//! The admins' pages: users, hospitals, and the audit trail.

use super::*;

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
            Ok((
                shouzhen_store::users::all(conn)?,
                shouzhen_store::hospitals::all(conn)?,
                shouzhen_store::hospitals::all_of(conn, shouzhen_store::hospitals::DISPATCH)?,
                shouzhen_store::hospitals::all_of(conn, shouzhen_store::hospitals::COMMUNITY)?,
            ))
        })
        .await;
    let (users, hospitals, centres, desks) = match loaded {
        Ok(v) => v,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let data = json!({
        "title": state.web.t(l, "dash.admin_title"),
        "users": users.iter().map(|u| json!({"id": u.id, "email": u.email, "role": u.role, "district": u.district, "disabled": u.disabled,
            "hospital": u.hospital_id.and_then(|h| hospitals.iter().find(|x| x.id == h)).map(|h| h.code.clone())})).collect::<Vec<_>>(),
        "hospitals": hospitals,
        "centres": centres,
        "desks": desks,
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
            &mut shouzhen_store::db::DbConn,
            &HashMap<String, String>,
        ) -> AppResult<(String, Option<Value>)>
        + Send
        + 'static,
{
    let (staff, fields) = match staff_form(&req, payload, &state, Role::Admin).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let ip = crate::auth::client_ip_text(&req);
    let who = staff.clone();
    let result = state
        .db(move |conn| {
            shouzhen_store::db::write_tx(conn, |conn| {
                let (target, shown) = f(conn, &fields)?;
                shouzhen_store::audit::record(
                    conn,
                    &shouzhen_store::audit::Entry {
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
        Err(ApiError(AppError::BadRequest { detail, .. })) => {
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
        Err(e @ ApiError(AppError::Conflict(_))) => {
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

pub async fn admin_add_user(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    admin_post(req, payload, state, "user.add", |conn, f| {
        let input = shouzhen_app::accounts::UserInput {
            email: get(f, "email"),
            role: get(f, "role"),
            district: Some(get(f, "district")),
            password: f.get("password").cloned().unwrap_or_default(),
            hospital: Some(get(f, "hospital")).filter(|h| !h.is_empty()),
        };
        let user = shouzhen_app::accounts::add_user(conn, &input)?;
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
        let user = shouzhen_store::users::by_id(conn, id)?
            .ok_or_else(|| AppError::NotFound(String::new()))?;
        shouzhen_store::users::set_disabled(conn, id, !user.disabled)?;
        if !user.disabled {
            shouzhen_store::sessions::delete_for_user(conn, id)?;
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
        let input = shouzhen_app::accounts::HospitalInput {
            code: get(f, "code"),
            name: get(f, "name"),
            district: get(f, "district"),
            jurisdiction,
            capacity,
            email: Some(get(f, "email")).filter(|e| !e.is_empty()),
            designated_for: get(f, "designated_for"),
        };
        let (h, creds) = shouzhen_app::accounts::add_hospital(conn, &input)?;
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
    let cached = state.clone();
    let response = admin_post(req, payload, state, "hospital.toggle", move |conn, _| {
        // A hospital or a dispatch centre: the register's codes are unique across both.
        let h = shouzhen_store::hospitals::any_by_code(conn, &code)?
            .ok_or_else(|| AppError::NotFound(String::new()))?;
        shouzhen_store::hospitals::set_disabled(conn, h.id, !h.disabled)?;
        Ok((h.code, None))
    })
    .await;
    // This instance stops taking the hospital's tokens at once; others within seconds.
    cached.hospitals.clear();
    response
}

pub async fn admin_hospital_email(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let code = path.into_inner();
    admin_post(req, payload, state, "hospital.email", move |conn, f| {
        let h = shouzhen_app::accounts::set_hospital_email(conn, &code, &get(f, "email"))?;
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
            let creds = shouzhen_app::accounts::rotate_secret(conn, &code)?;
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
        .db(|conn| Ok(shouzhen_store::audit::recent(conn, 500)?))
        .await;
    let entries = match loaded {
        Ok(e) => e,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let data = json!({
        "title": state.web.t(l, "dash.audit_title"),
        "entries": entries.iter().map(|e| json!({"at": china(e.at), "actor": e.actor_label, "action": e.action, "target": format!("{} {}", e.target_type, e.target_id), "detail": e.detail, "ip": e.ip})).collect::<Vec<_>>(),
    });
    staff_page(&req, &state, &staff, "audit", StatusCode::OK, data)
}
