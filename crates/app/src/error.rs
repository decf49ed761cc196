//! The services' one error type, and which error goes where.
//!
//! Every service returns [`AppResult`]. What each variant means for the caller, and how the
//! HTTP layer (the root package's `error` module) answers it:
//!
//! | variant | when | HTTP |
//! | --- | --- | --- |
//! | `BadRequest` | the input is malformed or invalid; `errors` names each field at fault | 400 |
//! | `OAuth` | RFC 6749 §5.2 errors of the token endpoint | 401 (`invalid_client`) or 400 |
//! | `Unauthorized` | no valid credentials | 401 |
//! | `Forbidden` | the caller's role or district does not reach it | 403 |
//! | `NotFound` | no such thing, or not the caller's to see | 404 |
//! | `MethodNotAllowed` | the path exists, the method does not | 405 |
//! | `Conflict` | a state machine refuses the move, or a duplicate | 409 |
//! | `PayloadTooLarge`, `UnsupportedMediaType` | the body's size or type | 413, 415 |
//! | `TooManyRequests` | a rate limit | 429 |
//! | `Unavailable` | the database is unreachable, locked or full: try again | 503 |
//! | `Internal` | anything unexpected: logged, never shown | 500 |
//!
//! The store's errors become `NotFound` (a missing row), `Unavailable` (an outage, by
//! `shouzhen_store::db::is_transient`) or `Internal`.

use shouzhen_domain::field::FieldError;

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
        let detail = shouzhen_domain::field::describe(&errors);
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

pub type AppResult<T> = Result<T, AppError>;
