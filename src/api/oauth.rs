//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{media_type, read_body};
use crate::auth::token;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use shouzhen_app::error::AppError;
use shouzhen_domain::actor::Role;

const FORM_LIMIT: usize = 8 * 1024;

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    #[schema(schema_with = grant_type_schema)]
    pub grant_type: Option<String>,
    /// Or send the credentials with HTTP Basic.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

fn grant_type_schema() -> utoipa::openapi::Object {
    shouzhen_domain::openapi::one_of(["client_credentials"])
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

impl TokenResponse {
    pub fn bearer(access_token: String, expires_in: i64) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(TokenResponse {
                access_token,
                token_type: "Bearer".into(),
                expires_in,
            })
    }
}

fn oauth(code: &'static str, description: impl Into<String>) -> ApiError {
    AppError::OAuth {
        code,
        description: description.into(),
    }
    .into()
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-urlencoded, then
/// base64), if the header is present.
fn basic_credentials(req: &HttpRequest) -> ApiResult<Option<(String, String)>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || oauth("invalid_client", "the Basic credentials are malformed");
    let value = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Err(oauth(
            "invalid_client",
            "use HTTP Basic or form fields for client credentials",
        ));
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let decode = |s: &str| -> ApiResult<String> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| bad())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((decode(id)?, decode(secret)?)))
}

/// Issue an access token to a hospital's client.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "A Bearer token", body = TokenResponse),
        (status = 400, description = "Malformed request or unsupported grant", body = crate::error::Problem),
        (status = 401, description = "Unknown client or wrong secret", body = crate::error::Problem),
        (status = 415, description = "Not a form body", body = crate::error::Problem),
    )
)]
pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let mut payload: Payload = payload.into_inner();
    let body = read_body(&req, &mut payload, FORM_LIMIT).await?;
    let form: TokenForm = if body.is_empty() {
        TokenForm::default()
    } else {
        match media_type(&req).as_deref() {
            Some("application/x-www-form-urlencoded") => {}
            _ => {
                return Err(AppError::UnsupportedMediaType(
                    "send the token request as application/x-www-form-urlencoded".into(),
                )
                .into());
            }
        }
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| oauth("invalid_request", format!("the form is malformed: {e}")))?
    };

    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        None | Some("") => return Err(oauth("invalid_request", "grant_type: is required")),
        Some(_) => {
            return Err(oauth(
                "unsupported_grant_type",
                "grant_type: only client_credentials is supported",
            ));
        }
    }

    let from_form = match (form.client_id, form.client_secret) {
        (Some(id), Some(secret)) => Some((id, secret)),
        (None, None) => None,
        (None, Some(_)) => return Err(oauth("invalid_request", "client_id: is required")),
        (Some(_), None) => {
            return Err(oauth("invalid_request", "client_secret: is required"));
        }
    };
    let (client_id, secret) = match (basic_credentials(&req)?, from_form) {
        (Some(_), Some(_)) => {
            return Err(oauth(
                "invalid_request",
                "send client credentials either with HTTP Basic or in the form, not both",
            ));
        }
        (Some(c), None) | (None, Some(c)) => c,
        (None, None) => {
            return Err(oauth(
                "invalid_client",
                "client credentials are required (HTTP Basic or client_id and client_secret)",
            ));
        }
    };

    // A client id with control characters is no client's (and PostgreSQL refuses a NUL in text).
    let lookup_id = client_id.clone();
    let hospital = if client_id.chars().any(char::is_control) {
        None
    } else {
        state
            .db(move |conn| Ok(shouzhen_store::hospitals::by_client_id(conn, &lookup_id)?))
            .await?
    };
    let presented = shouzhen_app::password::hash_client_secret(&secret);
    let valid = match &hospital {
        Some(h) => {
            shouzhen_app::password::constant_time_eq(presented.as_bytes(), h.secret_hash.as_bytes())
                && !h.disabled
        }
        None => false,
    };
    if !valid {
        tracing::info!("token request refused: unknown client, wrong secret or disabled");
        return Err(oauth(
            "invalid_client",
            "the client is unknown or the secret is wrong",
        ));
    }
    let ttl = state.settings.token_ttl;
    // A hospital's client gets a hospital's token, a dispatch centre's a centre's.
    let role = hospital
        .as_ref()
        .map(|h| Role::of_source(&h.kind))
        .unwrap_or(Role::Hospital);
    let access =
        token::issue(&state.keys.jwt, &client_id, role, ttl).map_err(AppError::internal)?;
    Ok(TokenResponse::bearer(access, ttl))
}
