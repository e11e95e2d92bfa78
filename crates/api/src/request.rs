//! Reading requests: bodies within the limit, JSON with the pointer of the first bad field, media types, query
//! strings and times, reasons. Every handler reads its request through these, so every refusal is a coded error.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{FromRequestParts, Query};
use axum::http::{HeaderMap, header, request::Parts};
use error_table::{ErrorCode, Problem};
use time::OffsetDateTime;

/// Reads the whole body, refusing one larger than the configured limit.
/// Reads the whole body, refusing one larger than the configured limit or slower than the body timeout.
pub(crate) async fn read_body(state: &AppState, body: Body) -> Result<Vec<u8>, ApiError> {
    let limit = state.config.max_body_bytes;
    match tokio::time::timeout(state.config.body_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes.to_vec()),
        Ok(Err(_)) => Err(ApiError::with_message(
            ErrorCode::BodyTooLarge,
            format!("The document is larger than the {limit} bytes this service accepts."),
        )),
        Err(_) => Err(ApiError::with_message(
            ErrorCode::RequestTimeout,
            format!(
                "The request's body did not arrive within {} seconds; send it again.",
                state.config.body_timeout.as_secs()
            ),
        )),
    }
}

/// The media type of the request body (`Content-Type` without its parameters), lower case; "" when absent.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether the request body is XML (`application/xml` or `text/xml`).
pub(crate) fn is_xml(headers: &HeaderMap) -> bool {
    matches!(media_type(headers).as_str(), "application/xml" | "text/xml")
}

/// Whether the request's `Accept` names one of `media` (other forms than JSON are given only when asked for).
pub(crate) fn accepts(headers: &HeaderMap, media: &[&str]) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .is_some_and(|accept| media.iter().any(|m| accept.contains(m)))
}

/// Reads a JSON request body into `T`; a bad field is reported with its JSON pointer, and anything after the JSON
/// value but white space is refused.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ApiError::new(ErrorCode::NotUtf8))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let pointer = wco::json::pointer(error.path());
        ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            pointer,
            error.into_inner().to_string(),
        )])
    })?;
    deserializer.end().map_err(|error| {
        ApiError::problems(vec![Problem::with_message(
            ErrorCode::JsonInvalid,
            "",
            format!("The body continues after its JSON value: {error}."),
        )])
    })?;
    Ok(value)
}

/// A JSON body (or, when `allow_empty`, nothing at all: the default).
pub(crate) async fn json_body<T: serde::de::DeserializeOwned + Default>(
    state: &AppState,
    body: Body,
    allow_empty: bool,
) -> Result<T, ApiError> {
    let bytes = read_body(state, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) && allow_empty {
        return Ok(T::default());
    }
    parse_json(&bytes)
}

/// A request body that is not valid for the action: the pointer names the field.
pub(crate) fn invalid(pointer: &str, message: &str) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidRequest,
        pointer,
        message,
    )])
}

/// A reason given with a command: trimmed, `default` when empty, at most 1,000 characters.
pub(crate) fn limited(reason: Option<String>, default: &str) -> Result<String, ApiError> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default.to_owned());
    if reason.chars().count() > 1000 {
        return Err(invalid("/reason", "A reason is at most 1,000 characters."));
    }
    Ok(reason)
}

/// A query parameter with an invalid value.
pub(crate) fn query_error(name: &str, message: &str) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidQuery,
        format!("?{name}"),
        message,
    )])
}

/// An RFC 3339 instant with a zone, as stored (UTC, microseconds).
pub(crate) fn parse_instant(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                .ok()
                .filter(|t| (1..=9999).contains(&t.year()))
                .map(storage::format_time)
                .ok_or_else(|| {
                    query_error(
                        name,
                        "Write times in RFC 3339 with a zone, e.g. 2026-11-29T08:00:00Z.",
                    )
                })
        })
        .transpose()
}

/// A calendar date `YYYY-MM-DD` between the years 1 and 9999.
pub(crate) fn parse_date(text: &str) -> Option<time::Date> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .filter(|d| (1..=9999).contains(&d.year()))
}

/// The query string read into `T`, or `request.invalid_query` from the error table naming what is wrong (never
/// axum's plain-text rejection).
pub struct Queried<T>(pub T);

impl<T, S> FromRequestParts<S> for Queried<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Queried(value)),
            Err(rejection) => Err(ApiError::with_message(
                ErrorCode::InvalidQuery,
                rejection.body_text(),
            )),
        }
    }
}

/// The UTC time now, at the edge (the domain crates are given times, never read a clock).
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
