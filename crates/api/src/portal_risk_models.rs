//! The risk analyst's learned models in the portal: every stored version (trained by `aduana risk train` and
//! stored by `POST /api/v1/risk/models`), the one in use for lane decisions, and the choice of another or of
//! none — sent to `PUT /api/v1/risk/model-choice` in-process (a new version of the choice, audited, in use at
//! once), and the upload of a model trained by `aduana risk train` (a file up to 64 MiB, stored as
//! `POST /api/v1/risk/models` stores it). Auditors and administrators read.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame, refusal_fields};
use crate::policy::Role;
use crate::portal::{field, local_time, posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use wording::Language;

struct ModelRow {
    name: String,
    version: i64,
    author: String,
    comment: String,
    stored: String,
    in_use: bool,
}

#[derive(Template)]
#[template(path = "risk_models.html")]
struct ModelsPage {
    t: Language,
    frame: Frame,
    rows: Vec<ModelRow>,
    in_use: String,
    writes: bool,
}

#[derive(serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    errors: Vec<FieldError>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, _) = crate::portal::zone_of(&pipeline.administration);
    let in_use = pipeline
        .risk_model
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let rows = state
        .store
        .risk_documents(crate::risk::MODEL, None)
        .await?
        .into_iter()
        .map(|d| ModelRow {
            in_use: in_use == format!("{} v{}", d.name, d.version),
            name: d.name,
            version: d.version,
            author: d.author,
            comment: d.comment,
            stored: local_time(&d.created_at, office),
        })
        .collect();
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-risk-models"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&ModelsPage {
        t,
        frame,
        rows,
        in_use,
        writes: caller.role == Role::RiskAnalyst,
    })?;
    Ok((code, Html(html)).into_response())
}

/// `GET /portal/risk/models`.
#[utoipa::path(
    get,
    path = "/portal/risk/models",
    tag = "portal",
    summary = "Learned risk models (page)",
    description = "Every stored model version with its author and comment, the one in use for lane decisions, and (risk analysts) the choice of another or of none. Auditors and administrators read.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let done = match query.done.as_deref() {
        Some("chosen") => Some(t.get("page-risk-model-chosen")),
        Some("stored") => Some(t.get("page-risk-model-stored-done")),
        _ => None,
    };
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/risk/models/choice`.
#[utoipa::path(
    post,
    path = "/portal/risk/models/choice",
    tag = "portal",
    summary = "Choose the model in use",
    description = "Form fields `csrf`, `name` and `version` (both empty: decide without a model). Chosen as `PUT /api/v1/risk/model-choice` chooses (audited, in use at once): 303 to the page; refused: 422 with the error.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Chosen"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn choose(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 4096)?;
    let t = state.wording(&headers).language;
    let name = field(&fields, "name").trim();
    let version = field(&fields, "version").trim().parse::<i64>().ok();
    let request = if name.is_empty() {
        serde_json::json!({"name": null})
    } else {
        serde_json::json!({"name": name, "version": version})
    };
    let outcome = crate::risk::choose_model(
        State(state.clone()),
        Extension(caller.clone()),
        Body::from(serde_json::to_vec(&request).map_err(ApiError::internal)?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/risk/models?done=chosen").into_response()),
        Err(error) if error.status().is_client_error() => {
            let errors = refusal_fields(t, error, "models", |_| "models".to_owned());
            page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

/// The upload form's parts: the CSRF token, the name, the comment and the file.
struct Upload {
    csrf: String,
    name: String,
    comment: String,
    model: Vec<u8>,
}

/// Reads the upload form (multipart) within a model's own limit, larger than the other forms'.
async fn upload_of(headers: &HeaderMap, body: Body) -> Result<Upload, ApiError> {
    let invalid = |message: &str| crate::request::invalid("/model", message);
    let boundary = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| invalid("Send the form as multipart/form-data with the model's file."))?;
    let limit = u64::try_from(crate::risk::MAX_MODEL_BYTES + 64 * 1024).unwrap_or(u64::MAX);
    let constraints = multer::Constraints::new()
        .allowed_fields(vec!["csrf", "name", "comment", "model"])
        .size_limit(multer::SizeLimit::new().whole_stream(limit));
    let mut multipart =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut upload = Upload {
        csrf: String::new(),
        name: String::new(),
        comment: String::new(),
        model: Vec::new(),
    };
    loop {
        let part = match multipart.next_field().await {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(multer::Error::StreamSizeExceeded { .. }) => {
                return Err(ApiError::with_message(
                    ErrorCode::BodyTooLarge,
                    format!(
                        "A risk model may be at most {} bytes.",
                        crate::risk::MAX_MODEL_BYTES
                    ),
                ));
            }
            Err(_) => {
                return Err(invalid(
                    "The upload was cut off or is not a form; send it again.",
                ));
            }
        };
        let name = part.name().unwrap_or("").to_owned();
        let bytes = match part.bytes().await {
            Ok(bytes) => bytes,
            Err(multer::Error::StreamSizeExceeded { .. }) => {
                return Err(ApiError::with_message(
                    ErrorCode::BodyTooLarge,
                    format!(
                        "A risk model may be at most {} bytes.",
                        crate::risk::MAX_MODEL_BYTES
                    ),
                ));
            }
            Err(_) => return Err(invalid("The upload was cut off; send the file again.")),
        };
        let text = || {
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(2000)
                .collect::<String>()
        };
        match name.as_str() {
            "csrf" => upload.csrf = text(),
            "name" => upload.name = text().trim().to_owned(),
            "comment" => upload.comment = text().trim().to_owned(),
            _ => upload.model = bytes.to_vec(),
        }
    }
    Ok(upload)
}

/// The form field an error of `POST /api/v1/risk/models` is at.
fn upload_field(code: ErrorCode) -> &'static str {
    if code == ErrorCode::InvalidQuery {
        "model_name"
    } else {
        "model_file"
    }
}

/// `POST /portal/risk/models`: multipart, `csrf`, `name`, `comment` and `model` (the file).
#[utoipa::path(
    post,
    path = "/portal/risk/models",
    tag = "portal",
    summary = "Store a trained model (upload)",
    description = "multipart/form-data with `csrf`, `name` (1 to 64 letters, digits, '_', '-' or '.'), `comment` and `model`: the JSON file written by `aduana risk train --out`, at most 64 MiB. Stored as `POST /api/v1/risk/models` stores it (read first, the next version of its name, audited; used once chosen): 303 to the page; refused: the page with the error at its field.",
    request_body(content((String = "multipart/form-data"))),
    responses((status = 303, description = "Stored"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 413, description = "Too large (request.too_large)", content((String = "text/html"))), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    // The sentence in the page's language: the name's rule said by the page, the rest by the error table.
    let refused = |error: ApiError| {
        let field = upload_field(error.code);
        let message = if error.code == ErrorCode::InvalidQuery {
            t.get("page-risk-model-problem-name")
        } else {
            t.error_sentence(error.code)
        };
        let errors = vec![FieldError {
            field: field.to_owned(),
            message,
        }];
        // A refused form is 422, whatever the API's reading of a bad name (400).
        let status = match error.status() {
            StatusCode::BAD_REQUEST => StatusCode::UNPROCESSABLE_ENTITY,
            other => other,
        };
        (errors, status)
    };
    let outcome = match upload_of(&headers, body).await {
        Ok(upload) => {
            if !crate::portal::same_origin(&headers)
                || !crate::security::same_secret(&upload.csrf, &session.csrf_token)
            {
                return Err(ApiError::new(ErrorCode::CsrfInvalid));
            }
            crate::risk::save_model(
                State(state.clone()),
                Extension(caller.clone()),
                Ok(Query(crate::risk::ModelQuery {
                    name: upload.name,
                    comment: upload.comment,
                })),
                Body::from(upload.model),
            )
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/risk/models?done=stored").into_response()),
        Err(error) if error.status().is_client_error() => {
            let (errors, code) = refused(error);
            page(
                &state, &caller, &session, &headers, &uri, errors, None, code,
            )
            .await
        }
        Err(error) => Err(error),
    }
}
