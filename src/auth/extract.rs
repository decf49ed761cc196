//! Extractors that authenticate the caller and enforce its role. A handler that takes
//! `HospitalPrincipal` can only be reached with a hospital's token; one that takes `Staff`,
//! `Supervisor` or `Admin` only by a dashboard user of at least that role.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::principal::{CommunityPrincipal, DispatchPrincipal, HospitalPrincipal};
use super::token::{self, Claims};
use crate::error::ApiError;
use crate::state::AppState;
use shouzhen_app::error::AppError;
use shouzhen_domain::actor::Role;

use shouzhen_domain::actor::Staff;

/// A user who may read cases: an inspector or above, or a hospital's staff (who see only the
/// cases forwarded to their hospital; the handler scopes them).
#[derive(Debug, Clone)]
pub struct CaseReader(pub Staff);

/// Any dashboard user: an inspector, a supervisor or an admin.
#[derive(Debug, Clone)]
pub struct Inspector(pub Staff);

/// Any signed-in user (a hospital's staff, an operator, an inspector and above): for the
/// complaints, whose handlers scope each role and check each action's.
#[derive(Debug, Clone)]
pub struct AnyStaff(pub Staff);

/// A hotline operator or above (never a hospital's staff): who may see a caller's contact.
#[derive(Debug, Clone)]
pub struct Operator(pub Staff);

/// A supervisor or an admin.
#[derive(Debug, Clone)]
pub struct Supervisor(pub Staff);

/// An admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Staff);

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing").into())
}

/// The request's Bearer token (the scheme in either case), or 401.
pub fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthorized("an Authorization: Bearer token is required".into()))?
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not readable".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    Ok(token)
}

/// The claims of a valid Bearer token, or 401.
fn bearer_claims(req: &HttpRequest, state: &AppState) -> Result<Claims, ApiError> {
    let token = bearer_token(req)?;
    let claims = token::verify(&state.keys.jwt, token).map_err(|e| {
        tracing::debug!(error = %e, "token rejected");
        AppError::Unauthorized("the access token is invalid or expired".into())
    })?;
    Ok(claims)
}

/// The machine client of the token, if its role is `role` and its source is of that kind and
/// not disabled (read through the cache).
async fn machine(req: HttpRequest, role: Role) -> Result<HospitalPrincipal, ApiError> {
    let state = state(&req)?;
    let claims = bearer_claims(&req, &state)?;
    if claims.role != role {
        return Err(AppError::Forbidden(
            match role {
                Role::Dispatch => {
                    "this endpoint is for 120 dispatch centres' clients; other tokens cannot use it"
                }
                Role::Community => {
                    "this endpoint is for community transport desks' clients; other tokens cannot use it"
                }
                _ => "this endpoint is for hospital clients; other tokens cannot use it",
            }
            .into(),
        )
        .into());
    }
    let issued = claims.iat;
    let current = |p: HospitalPrincipal| {
        if p.tokens_from.is_some_and(|from| issued < from) {
            Err(ApiError(AppError::Unauthorized(
                "the token was issued before the client's secret was replaced; request a new one"
                    .into(),
            )))
        } else {
            Ok(p)
        }
    };
    if let Some(known) = state.hospitals.get(&claims.sub) {
        return known.ok_or_else(unknown_client).and_then(current);
    }
    let client_id = claims.sub.clone();
    let principal = state
        .db(move |conn| Ok(shouzhen_store::hospitals::by_client_id(conn, &client_id)?))
        .await?
        .filter(|h| !h.disabled && Role::of_source(&h.kind) == role)
        .map(|h| HospitalPrincipal {
            hospital_id: h.id,
            code: h.code,
            district: h.district,
            jurisdiction: h.jurisdiction,
            tokens_from: h.secret_rotated_at.map(|t| t.and_utc().timestamp()),
        });
    state.hospitals.put(claims.sub, principal.clone());
    principal.ok_or_else(unknown_client).and_then(current)
}

impl FromRequest for HospitalPrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(machine(req.clone(), Role::Hospital))
    }
}

impl FromRequest for DispatchPrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { machine(req, Role::Dispatch).await.map(DispatchPrincipal) })
    }
}

impl FromRequest for CommunityPrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { machine(req, Role::Community).await.map(CommunityPrincipal) })
    }
}

fn unknown_client() -> ApiError {
    AppError::Unauthorized("this client is unknown or disabled".into()).into()
}

/// Authenticates a user with at least `min` role (a hospital's staff are below inspectors).
async fn staff_with(req: HttpRequest, min: Role) -> Result<Staff, ApiError> {
    let state = state(&req)?;
    let claims = bearer_claims(&req, &state)?;
    if claims.role.is_machine() {
        return Err(AppError::Forbidden(
            "this endpoint is for inspectors; hospital and dispatch tokens cannot use it".into(),
        )
        .into());
    }
    let user_id: i64 = claims
        .sub
        .parse()
        .map_err(|_| AppError::Unauthorized("the access token is invalid".into()))?;
    let user = state
        .db(move |conn| Ok(shouzhen_store::users::by_id(conn, user_id)?))
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| AppError::Unauthorized("this account is unknown or disabled".into()))?;
    // The role is read from the database, so that a change takes effect at once.
    let role = Role::parse_staff(&user.role)
        .ok_or_else(|| AppError::internal(format!("user {} has an unknown role", user.id)))?;
    if role < min {
        return Err(AppError::Forbidden(format!("this needs the {} role", min.as_str())).into());
    }
    Ok(Staff {
        user_id: user.id,
        email: user.email,
        role,
        district: user.district,
        hospital_id: user.hospital_id,
    })
}

/// Who files a complaint: nobody signed in (a citizen, `None`) or, with a Bearer token, a
/// hotline operator (or any inspector taking a call); any other token is refused.
#[derive(Debug, Clone)]
pub struct Desk(pub Option<Staff>);

impl FromRequest for Desk {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if !req.headers().contains_key(header::AUTHORIZATION) {
                return Ok(Desk(None));
            }
            staff_with(req, Role::Operator).await.map(|s| Desk(Some(s)))
        })
    }
}

impl FromRequest for CaseReader {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let staff = staff_with(req, Role::HospitalStaff).await?;
            if staff.role == Role::Operator {
                return Err(AppError::Forbidden(
                    "hotline operators see complaints, not cases".into(),
                )
                .into());
            }
            Ok(CaseReader(staff))
        })
    }
}

impl FromRequest for AnyStaff {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { staff_with(req, Role::HospitalStaff).await.map(AnyStaff) })
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { staff_with(req, Role::Operator).await.map(Operator) })
    }
}

impl FromRequest for Inspector {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { staff_with(req, Role::Inspector).await.map(Inspector) })
    }
}

impl FromRequest for Supervisor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { staff_with(req, Role::Supervisor).await.map(Supervisor) })
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { staff_with(req, Role::Admin).await.map(Admin) })
    }
}
