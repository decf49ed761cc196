//! CSRF protection for forms without server-side sessions: a random nonce in an HttpOnly,
//! SameSite=Strict cookie, and in the form a token that is the nonce signed with the web key.
//! A post is accepted only if the token's signature holds and its nonce matches the cookie.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use shouzhen_app::keys::{hmac, random_token};
use shouzhen_app::password::constant_time_eq;

pub const COOKIE: &str = "sz_csrf";

fn sign(key: &[u8], nonce: &str) -> String {
    hex::encode(hmac(key, format!("csrf:{nonce}").as_bytes()))
}

/// The token for the form, and the cookie to set (reusing the visitor's nonce if present).
pub fn issue(req: &HttpRequest, key: &[u8], secure: bool) -> (String, Cookie<'static>) {
    let nonce = req
        .cookie(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 22 && v.len() <= 64)
        .unwrap_or_else(|| random_token(24));
    let token = format!("{nonce}.{}", sign(key, &nonce));
    let cookie = Cookie::build(COOKIE, nonce)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    (token, cookie)
}

pub fn verify(req: &HttpRequest, key: &[u8], token: Option<&str>) -> bool {
    let (Some(cookie), Some(token)) = (req.cookie(COOKIE), token) else {
        return false;
    };
    let Some((nonce, signature)) = token.split_once('.') else {
        return false;
    };
    constant_time_eq(nonce.as_bytes(), cookie.value().as_bytes())
        && constant_time_eq(signature.as_bytes(), sign(key, nonce).as_bytes())
}

/// A posted form whose CSRF token holds, or the page that refuses it (403).
pub async fn posted_form(
    req: &HttpRequest,
    payload: actix_web::web::Payload,
    state: &crate::state::AppState,
) -> Result<std::collections::HashMap<String, String>, HttpResponse> {
    let mut payload = payload.into_inner();
    let body = crate::api::body::read_body(req, &mut payload, 64 * 1024)
        .await
        .map_err(|e| actix_web::ResponseError::error_response(&e))?;
    let fields: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !verify(
        req,
        &state.keys.web,
        fields.get("csrf_token").map(String::as_str),
    ) {
        return Err(state.web.message(
            req,
            StatusCode::FORBIDDEN,
            super::lang(req),
            "forbidden_title",
            "forbidden_body",
        ));
    }
    Ok(fields)
}
