//! `POST /api/v1/auth/login`: a dashboard user's email and password for a Bearer token.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::body::ApiJson;
use super::oauth::TokenResponse;
use crate::auth::token;
use crate::error::ApiResult;
use crate::state::AppState;
use shouzhen_app::error::AppError;
use shouzhen_app::password;
use shouzhen_domain::actor::Role;
use shouzhen_store::{self, audit};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Checks a dashboard user's credentials, recording the attempt in the audit trail. Returns the
/// user on success.
pub async fn authenticate(
    state: &AppState,
    email: String,
    password_given: String,
    ip: String,
) -> ApiResult<shouzhen_store::users::User> {
    let email = email.trim().to_lowercase();
    // Never stored, logged or shown back (the audit trail records the email as given).
    if email.chars().any(char::is_control) {
        return Err(
            AppError::fields(vec![shouzhen_domain::field::FieldError::new(
                "email",
                "must not hold control characters",
            )])
            .into(),
        );
    }
    let lookup = email.clone();
    let user = state
        .db(move |conn| Ok(shouzhen_store::users::by_email(conn, &lookup)?))
        .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = web::block(move || password::verify(&password_given, stored.as_deref())).await?;
    let user = user.filter(|u| ok && !u.disabled);
    let (actor_id, action) = match &user {
        Some(u) => (Some(u.id), "login"),
        None => (None, "login_failed"),
    };
    state
        .db(move |conn| {
            audit::record(
                conn,
                &audit::Entry {
                    actor_id,
                    actor_label: &email,
                    action,
                    target_type: "user",
                    target_id: &actor_id.map(|id| id.to_string()).unwrap_or_default(),
                    ip: &ip,
                    ..Default::default()
                },
            )?;
            Ok(())
        })
        .await?;
    Ok(user.ok_or_else(|| AppError::Unauthorized("the email or the password is wrong".into()))?)
}

/// Log in as an inspector, supervisor or admin.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A Bearer token", body = super::oauth::TokenResponse),
        (status = 400, description = "Malformed body; `errors` names the field", body = crate::error::Problem),
        (status = 401, description = "Wrong email or password", body = crate::error::Problem),
    )
)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let user = authenticate(
        &state,
        body.email,
        body.password,
        crate::auth::client_ip_text(&req),
    )
    .await?;
    let role = Role::parse_staff(&user.role)
        .ok_or_else(|| AppError::internal("user with an unknown role"))?;
    let ttl = state.settings.token_ttl;
    let access = token::issue(&state.keys.jwt, &user.id.to_string(), role, ttl)
        .map_err(AppError::internal)?;
    Ok(TokenResponse::bearer(access, ttl))
}
