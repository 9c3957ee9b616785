//! Extractors whose rejections are problem+json like every other error.
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// A JSON body: malformed JSON → 400, a wrong type, unknown field or missing field → 422 with the
/// field named, over 1 MiB → 413, not JSON → 415.
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
                _ => AppError::BadRequest("the request body could not be read".into()),
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::BadRequest(
                "the request body is empty; send a JSON object".into(),
            ));
        }
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(AppJson)
    }
}

/// `application/json`, or any `application/…+json`, with or without parameters.
fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether `Accept` (RFC 9110 §12.5.1) allows `offered`, a `type/subtype` this operation answers
/// in; no header accepts anything. Else 406.
pub fn acceptable(headers: &HeaderMap, offered: &'static str) -> Result<(), AppError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let (kind, _) = offered.split_once('/').unwrap_or((offered, ""));
    let text = accept.to_str().unwrap_or_default();
    let allowed = text.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        let matches = essence == "*/*"
            || essence == offered
            || essence.strip_suffix("/*").is_some_and(|t| t == kind);
        matches && !refused
    });
    if allowed || text.trim().is_empty() {
        Ok(())
    } else {
        Err(AppError::NotAcceptable(offered))
    }
}

/// A JSON body that may be left out entirely, or sent as `null` (`None`); when sent, the same
/// rules as [`AppJson`].
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared_empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0");
        let no_type = req.headers().get(header::CONTENT_TYPE).is_none();
        if declared_empty || no_type {
            let bytes = Bytes::from_request(req, state)
                .await
                .map_err(|_| AppError::BadRequest("the request body could not be read".into()))?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            return Err(AppError::UnsupportedMediaType);
        }
        AppJson::<Option<T>>::from_request(req, state)
            .await
            .map(|AppJson(v)| OptionalJson(v))
    }
}

/// Deserialises JSON, naming the failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Every body we take is an object; serde would also fill a struct from an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(AppError::validation("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => {
                AppError::Validation(vec![FieldError::new(field_name(&path), message)])
            }
            _ => AppError::BadRequest(format!("malformed JSON: {message}")),
        }
    })?;
    // Anything after the value is malformed JSON too.
    deserializer.end().map_err(|e| {
        AppError::BadRequest(format!(
            "malformed JSON: {}",
            strip_position(&e.to_string())
        ))
    })?;
    Ok(value)
}

/// Deserialises an already-parsed JSON value, naming the failing field (422).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = strip_position(&err.into_inner().to_string());
        AppError::Validation(vec![FieldError::new(field_name(&path), message)])
    })
}

/// The failing field's path (`operating_countries[1]`), or `body` for the whole document.
fn field_name(path: &str) -> String {
    match path {
        "." | "" => "body".to_owned(),
        path => path.to_owned(),
    }
}

/// serde_json appends "at line 1 column 7"; that is noise in an API error.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters: unknown or invalid values → 422.
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| AppQuery(v))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let message = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                AppError::Validation(vec![FieldError::new("query", message)])
            })
    }
}

/// The `User-Agent`, kept with a session so its user can tell their sessions apart.
pub fn user_agent(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

/// Path parameters: an id that is not a UUID names nothing, so → 404.
pub struct AppPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| AppPath(v))
            .map_err(|_| AppError::NotFound)
    }
}

/// Integer fields of request bodies: JSON Schema counts a number with a zero fraction (`12.0`)
/// as an integer, so a client that writes one has sent what the document asks for; serde alone
/// would refuse it. Anything else that is not a whole number in range is a 422 as before.
pub mod whole_number {
    use serde::{Deserialize, Deserializer, de::Error};

    fn whole<T: TryFrom<i64>>(number: &serde_json::Number) -> Option<T> {
        let integer = number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 2f64.powi(53))
                .map(|f| f as i64)
        })?;
        T::try_from(integer).ok()
    }

    fn refused<E: Error>(number: &serde_json::Number) -> E {
        E::custom(format!(
            "invalid value: {number}, expected a whole number in range"
        ))
    }

    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        let number = serde_json::Number::deserialize(deserializer)?;
        whole(&number).ok_or_else(|| refused(&number))
    }

    /// The same for an optional field (with `#[serde(default)]`).
    pub mod option {
        use super::*;

        pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
        where
            D: Deserializer<'de>,
            T: TryFrom<i64>,
        {
            Option::<serde_json::Number>::deserialize(deserializer)?
                .map(|number| whole(&number).ok_or_else(|| refused(&number)))
                .transpose()
        }
    }
}
