//! Reading request bodies: size limits, content types, and JSON errors that name the field.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use shouzhen_app::error::AppError;

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
) -> Result<Bytes, ApiError> {
    let too_large = || AppError::PayloadTooLarge(format!("the body is larger than {limit} bytes"));
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large().into());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::bad_request(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large().into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON into `T`; an error names the field at fault (`errors[].field`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end()
        .map_err(|e| AppError::field("body", format!("is not valid JSON: {e}")))?;
    Ok(value)
}

/// Turns a serde error into a problem naming the field.
pub fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return AppError::field("body", format!("is not valid JSON: {inner}")).into();
    }
    AppError::fields(vec![shouzhen_domain::field::from_serde(
        &path,
        &inner.to_string(),
    )])
    .into()
}

/// A JSON body of at most [`JSON_LIMIT`] bytes, parsed with field-naming errors.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            match media_type(&req) {
                Some(m) if is_json(&m) => {}
                _ => {
                    return Err(AppError::UnsupportedMediaType(
                        "send the body as application/json".into(),
                    )
                    .into());
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
            Err(ApiError(AppError::BadRequest { errors, .. })) => {
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
            Err(ApiError(AppError::BadRequest { errors, detail })) => {
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
