//! Reading request bodies: size limits, content types, and JSON errors that name the field.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// The limit for ordinary JSON bodies (logins, actions, complaints).
pub const JSON_LIMIT: usize = 64 * 1024;

/// The media type of the request, lower-cased, without parameters.
pub fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

pub fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Reads the whole body, refusing (413) one over `limit` bytes before reading it where the
/// client declared its length.
pub async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<Bytes, AppError> {
    let too_large = || AppError::PayloadTooLarge(format!("the body is larger than {limit} bytes"));
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::bad_request(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON into `T`; an error names the field at fault (`errors[].field`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end()
        .map_err(|e| AppError::field("body", format!("is not valid JSON: {e}")))?;
    Ok(value)
}

/// Turns a serde error into a problem naming the field.
pub fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return AppError::field("body", format!("is not valid JSON: {inner}"));
    }
    AppError::fields(vec![field_error(&path, &inner.to_string())])
}

/// Finds the field a serde message speaks of (`unknown field `x``, `missing field `x``), or
/// the path where the error was found.
pub fn field_error(path: &str, message: &str) -> FieldError {
    // serde_json appends " at line L column C"; the position is noise for a field error.
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let base = if path == "." { "" } else { path };
    for prefix in ["unknown field `", "missing field `", "duplicate field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(name) = rest.split('`').next()
        {
            // serde_path_to_error's path already ends at an unknown field.
            let field = if base.is_empty() {
                name.to_string()
            } else if base == name || base.ends_with(&format!(".{name}")) {
                base.to_string()
            } else {
                format!("{base}.{name}")
            };
            let what = match prefix {
                "unknown field `" => "is not a known field".to_string(),
                "missing field `" => "is required".to_string(),
                _ => "is given twice".to_string(),
            };
            return FieldError::new(field, what);
        }
    }
    let field = if base.is_empty() { "body" } else { base };
    FieldError::new(field, without_value(message))
}

/// serde's "invalid type: string \"…\", expected …" repeats the value sent, which may be a
/// patient's identity number: errors say what was expected, never what was sent.
fn without_value(message: &str) -> String {
    for (prefix, what) in [
        ("invalid type:", "has the wrong type"),
        ("invalid value:", "is not valid"),
        ("invalid length", "has the wrong length"),
    ] {
        if message.starts_with(prefix) {
            return match message.rsplit_once(", expected ") {
                Some((_, expected)) => format!("{what}; expected {expected}"),
                None => what.to_string(),
            };
        }
    }
    message.to_string()
}

/// A JSON body of at most [`JSON_LIMIT`] bytes, parsed with field-naming errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            match media_type(&req) {
                Some(m) if is_json(&m) => {}
                _ => {
                    return Err(AppError::UnsupportedMediaType(
                        "send the body as application/json".into(),
                    ));
                }
            }
            let bytes = read_body(&req, &mut payload, JSON_LIMIT).await?;
            parse_json(&bytes).map(ApiJson)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn fields(body: &str) -> Vec<String> {
        match parse_json::<Login>(body.as_bytes()) {
            Err(AppError::BadRequest { errors, .. }) => {
                errors.into_iter().map(|e| e.field).collect()
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(fields(r#"{"email":"a"}"#), ["password"]);
        assert_eq!(
            fields(r#"{"email":"a","password":"b","pasword":1}"#),
            ["pasword"]
        );
        assert_eq!(fields(r#"{"email":1,"password":"b"}"#), ["email"]);
        assert_eq!(
            fields(r#"{"email":"a","password":"b","inner":{"n":300}}"#),
            ["inner.n"]
        );
        assert_eq!(
            fields(r#"{"email":"a","password":"b","inner":{"m":1}}"#),
            ["inner.m"]
        );
        assert_eq!(fields(r#"{"email":"#), ["body"]);
        assert_eq!(fields(r#"{"email":"a","password":"b"} trailing"#), ["body"]);
        // The value sent is not repeated in the error.
        match parse_json::<Login>(br#"{"email":"a","password":110105194912310021}"#) {
            Err(AppError::BadRequest { errors, detail }) => {
                assert_eq!(errors[0].field, "password");
                assert!(
                    !detail.contains("110105") && !errors[0].message.contains("110105"),
                    "{detail}"
                );
                assert!(
                    errors[0].message.contains("expected a string"),
                    "{}",
                    errors[0].message
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
