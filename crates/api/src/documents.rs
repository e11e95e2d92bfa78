//! Dematerialised documents (`POST /api/v1/documents`, `GET /api/v1/documents/{sha256}`): a certificate, invoice,
//! photo or message a trader attaches to an application (and, later, a declaration or a decision). Accepted by what
//! the bytes are — PDF, PNG, JPEG or XML — never by a name or a Content-Type alone; stored once by SHA-256 and
//! checked against it on every read. A party reads what it uploaded; an agency what an application to it cites;
//! officers and auditors all.

use crate::error::ApiError;
use crate::policy::Role;
use crate::request::{media_type, now, read_body};
use crate::{AppState, Caller};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use error_table::ErrorCode;
use serde::Serialize;

/// The owner of the documents officers upload (no party's: the administration's).
pub const CUSTOMS_OWNER: &str = "customs";

/// What the bytes are, by their first bytes: `application/pdf`, `image/png`, `image/jpeg` or `application/xml`.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    (text.starts_with("<?xml") || text.starts_with('<')).then_some("application/xml")
}

/// Whether a declared Content-Type agrees with what the bytes are (none declared, or a generic one, agrees).
fn agrees(declared: &str, sniffed: &str) -> bool {
    match declared {
        "" | "application/octet-stream" => true,
        "text/xml" => sniffed == "application/xml",
        other => other == sniffed,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Stored {
    /// The document's SHA-256 (hex): how applications and decisions cite it.
    sha256: String,
    media_type: String,
    size: usize,
}

/// `POST /api/v1/documents`: upload a document (the raw body).
#[utoipa::path(
    post,
    path = "/api/v1/documents",
    tag = "single-window",
    summary = "Upload a document",
    description = "The file as the request body (PDF, PNG, JPEG or XML, told apart by its content; a Content-Type that says otherwise is refused), at most the service's body limit. Stored once by SHA-256: the same bytes again answer the same hash. Traders and agency officers for their party; customs officers for customs (an examination's photos and scanner images, cited by an inspection act). Scope `lpco`. Audited.",
    request_body(content((String = "application/pdf"), (String = "image/png"), (String = "image/jpeg"), (String = "application/xml"))),
    responses((status = 201, description = "Stored", body = crate::documents::Stored), (status = 200, description = "Stored already", body = crate::documents::Stored), (status = 413, description = "Too large (request.too_large)", body = crate::error::ErrorBody), (status = 415, description = "Not an accepted type (document.type_not_accepted)", body = crate::error::ErrorBody))
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<Stored>), ApiError> {
    let bytes = read_body(&state, body).await?;
    let Some(sniffed) = sniff(&bytes) else {
        return Err(ApiError::with_message(
            ErrorCode::DocumentTypeNotAccepted,
            "The file is not a PDF, PNG, JPEG or XML document (judged by its content).",
        ));
    };
    let declared = media_type(&headers);
    if !agrees(&declared, sniffed) {
        return Err(ApiError::with_message(
            ErrorCode::DocumentTypeNotAccepted,
            format!("The Content-Type says {declared}, but the file is {sniffed}."),
        ));
    }
    // Officers upload for customs (photos and scanner images of an examination); others for their party.
    let party = if caller.role == Role::Officer {
        CUSTOMS_OWNER.to_owned()
    } else {
        caller.user.party.clone().ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::Forbidden,
                "Your user names no party to upload for.",
            )
        })?
    };
    let (sha256, new) = state
        .store
        .save_document(
            &crate::access::audit_actor(&caller),
            &party,
            sniffed,
            &bytes,
            now(),
        )
        .await?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(Stored {
            sha256,
            media_type: sniffed.to_owned(),
            size: bytes.len(),
        }),
    ))
}

/// Whether `caller` may read document `sha256`.
pub(crate) async fn may_read(
    state: &AppState,
    caller: &Caller,
    sha256: &str,
) -> Result<bool, ApiError> {
    Ok(match caller.role {
        Role::Officer | Role::Auditor => true,
        Role::Trader => match caller.user.party.as_deref() {
            Some(party) => state.store.document_owned_by(sha256, party).await?,
            None => false,
        },
        Role::Agency => match caller.user.party.as_deref() {
            Some(agency) => {
                state.store.document_owned_by(sha256, agency).await?
                    || state.store.document_cited_to(sha256, agency).await?
            }
            None => false,
        },
        _ => false,
    })
}

/// `GET /api/v1/documents/{sha256}`: a document's bytes.
#[utoipa::path(
    get,
    path = "/api/v1/documents/{sha256}",
    tag = "single-window",
    summary = "A document",
    description = "Its bytes with their media type, checked against the SHA-256 before they are sent. Its uploader, an agency an application cites it to, officers and auditors; scope `lpco`.",
    params(("sha256" = String, Path)),
    responses((status = 200, description = "The document"), (status = 404, description = "None visible to you", body = crate::error::ErrorBody))
)]
pub async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let well_formed = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if !well_formed || !may_read(&state, &caller, &sha256).await? {
        return Err(ApiError::with_message(
            ErrorCode::NotFound,
            "No document visible to you has this SHA-256.",
        ));
    }
    let Some((media_type, content)) = state.store.document(&sha256).await? else {
        return Err(ApiError::with_message(
            ErrorCode::NotFound,
            "No document visible to you has this SHA-256.",
        ));
    };
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{sha256}\""),
            ),
        ],
        content,
    )
        .into_response())
}
