//! One error type for the whole service, mapped to RFC 9457 problem details.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use shouzhen_domain::field::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is malformed or invalid; `errors` names the fields.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// RFC 6749 §5.2 errors of the token endpoint (`invalid_client` is a 401, the rest 400).
    #[error("{description}")]
    OAuth {
        code: &'static str,
        description: String,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The path exists, the method does not; `allow` lists the methods it answers.
    #[error("this path answers {allow} only")]
    MethodNotAllowed { allow: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    /// The database or another dependency is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// Anything unexpected: logged, never shown.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let e = FieldError::new(field, message);
        Self::BadRequest {
            detail: format!("{}: {}", e.field, e.message),
            errors: vec![e],
        }
    }

    pub fn fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::BadRequest { detail, errors }
    }

    /// The database is unreachable, locked or full (not a deadlock or serialization failure,
    /// which trying again at once can cure).
    pub fn is_outage(&self) -> bool {
        match self {
            Self::Unavailable(cause) => {
                let c = cause.to_ascii_lowercase();
                !c.contains("deadlock") && !c.contains("serializ")
            }
            _ => false,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "Invalid request",
            Self::OAuth { code, .. } if *code == "invalid_client" => "Invalid client",
            Self::OAuth { .. } => "Invalid token request",
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::MethodNotAllowed { .. } => "Method not allowed",
            Self::Conflict(_) => "Conflict",
            Self::PayloadTooLarge(_) => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "invalid-request",
            Self::OAuth { .. } => "oauth",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::TooManyRequests { .. } => "rate-limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
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

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::OAuth { code, .. } if *code == "invalid_client" => StatusCode::UNAUTHORIZED,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "An unexpected error occurred; the X-Request-Id header identifies it in the logs."
                    .to_string()
            }
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                "The service cannot reach its database right now; try again shortly.".to_string()
            }
            Self::TooManyRequests { retry_after } => {
                format!("Too many requests; try again in {retry_after} seconds.")
            }
            other => other.to_string(),
        };
        let (errors, error, error_description) = match self {
            Self::BadRequest { errors, .. } => (errors.clone(), None, None),
            Self::OAuth { code, description } => (
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
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"shouzhen\""),
                ));
            }
            Self::OAuth { code, .. } if *code == "invalid_client" => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"shouzhen\""),
                ));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, v));
                }
            }
            _ => {}
        }
        if matches!(self, Self::OAuth { .. }) {
            response.insert_header((header::CACHE_CONTROL, "no-store"));
        }
        response.json(body)
    }
}

/// Every field at fault, as a 400 naming them.
impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::fields(errors)
    }
}

impl From<shouzhen_store::StoreError> for AppError {
    fn from(e: shouzhen_store::StoreError) -> Self {
        match e {
            shouzhen_store::StoreError::NotFound => Self::NotFound("not found".into()),
            other if shouzhen_store::db::is_transient(&other) => {
                Self::Unavailable(format!("database: {other}"))
            }
            other => Self::Internal(format!("database: {other}")),
        }
    }
}

impl From<shouzhen_store::PoolError> for AppError {
    fn from(e: shouzhen_store::PoolError) -> Self {
        Self::Unavailable(format!("database pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(format!("blocking task: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

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
            let e = AppError::from(transient);
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
        let fault = AppError::from(db_error(DatabaseErrorKind::Unknown, "no such column: x"));
        assert_eq!(fault.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
