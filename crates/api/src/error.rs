//! The one error response shape: `{"code", "message", "errors": [{"code", "pointer", "message"}]}`, with the HTTP
//! status from the error table.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use error_table::{ErrorCode, Problem};
use serde::Serialize;

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[serde(serialize_with = "code_text")]
    pub code: ErrorCode,
    /// A sentence a trader understands.
    pub message: String,
    /// Each problem of the document, with where it is; empty when the error concerns the request as a whole.
    pub errors: Vec<Problem>,
}

fn code_text<S: serde::Serializer>(code: &ErrorCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.code())
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub errors: Vec<Problem>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.message().to_owned(),
            errors: Vec::new(),
        }
    }
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }
    /// The error for a list of problems: the first problem's code decides the status.
    pub fn problems(errors: Vec<Problem>) -> Self {
        let first = errors.first().map_or(ErrorCode::InvalidRequest, |p| p.code);
        let message = match errors.len() {
            1 => errors[0].message.clone(),
            n => format!("The document has {n} problems; each is listed with where it is."),
        };
        Self {
            code: first,
            message,
            errors,
        }
    }
    pub fn internal(error: impl std::fmt::Display) -> Self {
        // The detail goes to the log, never to the client.
        tracing::error!(%error, "internal error");
        Self::new(ErrorCode::Internal)
    }
}

impl From<storage::StoreError> for ApiError {
    fn from(error: storage::StoreError) -> Self {
        use storage::StoreError;
        match &error {
            StoreError::Unavailable(_) | StoreError::Busy(_) => {
                tracing::warn!(%error, "storage unavailable");
                ApiError::new(ErrorCode::Unavailable)
            }
            // Another request changed the same thing first; nothing of this one was stored.
            StoreError::Concurrent(_) | StoreError::Duplicate(_) => {
                tracing::info!(%error, "lost a race; nothing stored");
                ApiError::new(ErrorCode::ConcurrentUpdate)
            }
            StoreError::LedgerRefused(refusal) => {
                ApiError::with_message(ErrorCode::LedgerRefused, refusal.to_string())
            }
            _ => ApiError::internal(error),
        }
    }
}

impl ApiError {
    /// The HTTP status the error table gives its code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::metrics::rejected(self.code);
        let status = self.status();
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            errors: self.errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if self.code == ErrorCode::Unauthenticated {
            response.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
