//! Sign-in (throttled, audited) and sign-out.

use super::*;

/// Whether a `next` after sign-in is a path of this service: it starts with one `/`, and holds
/// no backslash (browsers read `/\host` as `//host`) and no control character. Anything else
/// leads to the home page.
fn is_own_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

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
        .filter(|n| is_own_path(n));
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
    let f = match super::super::csrf::posted_form(&req, payload, &state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let l = lang(&req);
    let email = f
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    // An email with control characters is no account's: the form again, without them, before
    // the email reaches the database (PostgreSQL refuses a NUL in text).
    if email.chars().any(char::is_control) {
        let shown: String = email.chars().filter(|c| !c.is_control()).collect();
        return login_form(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            &shown,
            Some("dash.login_failed"),
        );
    }
    let ip = crate::auth::client_ip_text(&req);
    let (e, i) = (email.clone(), ip.clone());
    let failures = state
        .db(move |conn| {
            let since = shouzhen_store::now() - Duration::minutes(15);
            Ok(shouzhen_store::audit::count_since(
                conn,
                "login_failed",
                since,
                &e,
                &i,
            )?)
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
            // A hospital's staff start at their inbox, operators at the desk; everyone else at
            // the queue.
            let home = match user.role.as_str() {
                "hospital" => "/hospital",
                "operator" => "/desk",
                _ => "/dashboard",
            };
            let token = shouzhen_app::keys::random_token(32);
            let cookie_token = token.clone();
            match state
                .db(move |conn| {
                    Ok(shouzhen_store::sessions::create(
                        conn,
                        &token,
                        user.id,
                        shouzhen_store::now(),
                    )?)
                })
                .await
            {
                Ok(()) => {}
                Err(e) => return actix_web::ResponseError::error_response(&e),
            };
            let next = f
                .get("next")
                .filter(|n| is_own_path(n))
                .cloned()
                .or_else(|| {
                    web::Query::<HashMap<String, String>>::from_query(req.query_string())
                        .ok()
                        .and_then(|q| q.get("next").cloned())
                        .filter(|n| is_own_path(n))
                })
                .unwrap_or_else(|| format!("{home}?lang={}", l.code()));
            let mut resp = see_other(&next);
            let _ = resp.add_cookie(&session::cookie(&cookie_token, secure(&state)));
            resp
        }
        Err(ApiError(AppError::Unauthorized(_))) => login_form(
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
    if let Err(resp) = super::super::csrf::posted_form(&req, payload, &state).await {
        return resp;
    }
    if let Some(token) = req.cookie(session::COOKIE).map(|c| c.value().to_string()) {
        let _ = state
            .db(move |conn| Ok(shouzhen_store::sessions::delete(conn, &token)?))
            .await;
    }
    let mut resp = see_other("/login");
    let _ = resp.add_cookie(&session::clear(secure(&state)));
    resp
}
