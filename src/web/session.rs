//! Who is signed in to the dashboard: a server-side session behind an HttpOnly cookie.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};

use super::lang;
use crate::state::AppState;
use shouzhen_domain::actor::{Role, Staff};

pub const COOKIE: &str = "sz_session";

pub fn cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::hours(
            shouzhen_store::sessions::LIFETIME_HOURS,
        ))
        .finish()
}

pub fn clear(secure: bool) -> Cookie<'static> {
    let mut c = cookie("", secure);
    c.make_removal();
    c
}

/// The signed-in user with at least `min` role; otherwise the response to send instead (a
/// redirect to `/login`, or a 403 page).
pub async fn require(
    req: &HttpRequest,
    state: &AppState,
    min: Role,
) -> Result<Staff, HttpResponse> {
    let to_login = || {
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/dashboard");
        let next: String = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/login?{next}")))
            .finish()
    };
    let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_string()) else {
        return Err(to_login());
    };
    let user = state
        .db(move |conn| {
            let now = shouzhen_store::now();
            match shouzhen_store::sessions::user_of(conn, &token, now)? {
                Some(id) => Ok(shouzhen_store::users::by_id(conn, id)?),
                None => Ok(None),
            }
        })
        .await
        .map_err(|e| actix_web::ResponseError::error_response(&e))?;
    let Some(user) = user.filter(|u| !u.disabled) else {
        return Err(to_login());
    };
    let role = Role::parse_staff(&user.role).unwrap_or(Role::Inspector);
    if role < min {
        let l = lang(req);
        return Err(state.web.message(
            req,
            StatusCode::FORBIDDEN,
            l,
            "dash.forbidden",
            "dash.forbidden",
        ));
    }
    Ok(Staff {
        user_id: user.id,
        email: user.email,
        role,
        district: user.district,
        hospital_id: user.hospital_id,
    })
}
