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
    let (staff, fields) = match staff_form(&req, payload, &state, Role::Admin).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let ip = crate::auth::client_ip_text(&req);
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
    let cached = state.clone();
    let response = admin_post(req, payload, state, "hospital.toggle", move |conn, _| {
        let h = store::hospitals::by_code(conn, &code)?
            .ok_or_else(|| AppError::NotFound(String::new()))?;
        diesel::update(crate::schema::hospitals::table.find(h.id))
            .set(crate::schema::hospitals::disabled.eq(!h.disabled))
            .execute(conn)?;
        Ok((h.code, None))
    })
    .await;
    // This instance stops taking the hospital's tokens at once; others within seconds.
    cached.hospitals.clear();
    response
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
