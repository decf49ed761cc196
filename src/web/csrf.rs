//! CSRF protection for forms without server-side sessions: a random nonce in an HttpOnly,
//! SameSite=Strict cookie, and in the form a token that is the nonce signed with the web key.
//! A post is accepted only if the token's signature holds and its nonce matches the cookie.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::auth::constant_time_eq;
use crate::keys::{hmac, random_token};

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
