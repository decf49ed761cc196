//! The services' errors ([`AppError`], documented where it is defined: which error goes
//! where), answered as RFC 9457 problem details.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use shouzhen_app::error::AppError;
use shouzhen_domain::field::FieldError;

/// The answer to a request that failed: a service's [`AppError`], as problem details.
#[derive(Debug)]
pub struct ApiError(pub AppError);

pub type ApiResult<T> = Result<T, ApiError>;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

/// Through the service's error: a missing row, an outage, a fault.
impl From<shouzhen_store::StoreError> for ApiError {
    fn from(e: shouzhen_store::StoreError) -> Self {
        Self(e.into())
    }
}

impl From<shouzhen_store::PoolError> for ApiError {
    fn from(e: shouzhen_store::PoolError) -> Self {
        Self(e.into())
    }
}

/// Every field at fault, as a 400 naming them.
impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self(AppError::fields(errors))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self(AppError::Internal(format!("blocking task: {e}")))
    }
}

impl ApiError {
    fn title(&self) -> &'static str {
        match &self.0 {
            AppError::BadRequest { .. } => "Invalid request",
            AppError::OAuth { code, .. } if *code == "invalid_client" => "Invalid client",
            AppError::OAuth { .. } => "Invalid token request",
            AppError::Unauthorized(_) => "Unauthorized",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound(_) => "Not found",
            AppError::MethodNotAllowed { .. } => "Method not allowed",
            AppError::Conflict(_) => "Conflict",
            AppError::PayloadTooLarge(_) => "Payload too large",
            AppError::UnsupportedMediaType(_) => "Unsupported media type",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::Unavailable(_) => "Service unavailable",
            AppError::Internal(_) => "Internal server error",
        }
    }

    fn slug(&self) -> &'static str {
        match &self.0 {
            AppError::BadRequest { .. } => "invalid-request",
            AppError::OAuth { .. } => "oauth",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not-found",
            AppError::MethodNotAllowed { .. } => "method-not-allowed",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge(_) => "payload-too-large",
            AppError::UnsupportedMediaType(_) => "unsupported-media-type",
            AppError::TooManyRequests { .. } => "rate-limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

/// The problem-details body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// OAuth 2.0 error code (token endpoint only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::OAuth { code, .. } if *code == "invalid_client" => StatusCode::UNAUTHORIZED,
            AppError::OAuth { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match &self.0 {
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "An unexpected error occurred; the X-Request-Id header identifies it in the logs."
                    .to_string()
            }
            AppError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                "The service cannot reach its database right now; try again shortly.".to_string()
            }
            AppError::TooManyRequests { retry_after } => {
                format!("Too many requests; try again in {retry_after} seconds.")
            }
            other => other.to_string(),
        };
        let (errors, error, error_description) = match &self.0 {
            AppError::BadRequest { errors, .. } => (errors.clone(), None, None),
            AppError::OAuth { code, description } => (
                Vec::new(),
                Some(code.to_string()),
                Some(description.clone()),
            ),
            _ => (Vec::new(), None, None),
        };
        let body = Problem {
            kind: format!("https://shouzhen.example/problems/{}", self.slug()),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail,
            errors,
            error,
            error_description,
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match &self.0 {
            AppError::Unauthorized(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"shouzhen\""),
                ));
            }
            AppError::OAuth { code, .. } if *code == "invalid_client" => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"shouzhen\""),
                ));
            }
            AppError::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            AppError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            AppError::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, v));
                }
            }
            _ => {}
        }
        if matches!(self.0, AppError::OAuth { .. }) {
            response.insert_header((header::CACHE_CONTROL, "no-store"));
        }
        response.json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn db_error(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_string()))
    }

    #[test]
    fn database_outages_are_503_and_faults_are_500() {
        for transient in [
            db_error(DatabaseErrorKind::Unknown, "database is locked"),
            db_error(DatabaseErrorKind::Unknown, "database or disk is full"),
            db_error(DatabaseErrorKind::Unknown, "disk I/O error"),
            db_error(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection unexpectedly",
            ),
            db_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            db_error(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize",
            ),
        ] {
            let e = ApiError::from(transient);
            assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE, "{e}");
            let response = e.error_response();
            assert_eq!(
                response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.as_bytes()),
                Some(&b"5"[..])
            );
        }
        let fault = ApiError::from(db_error(DatabaseErrorKind::Unknown, "no such column: x"));
        assert_eq!(fault.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let missing = ApiError::from(Error::NotFound);
        assert_eq!(missing.status_code(), StatusCode::NOT_FOUND);
    }
}
