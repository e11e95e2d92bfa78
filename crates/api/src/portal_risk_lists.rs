//! The risk analyst's named lists (watch lists, the AEO register) in the portal: every list with its version and
//! size, and a list's entries edited one per line — saved as `PUT /api/v1/risk/lists/{name}` saves it (a new
//! version, audited, the pipeline reloaded), so the checks are the API's. Auditors and administrators read.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame, refusal_fields};
use crate::policy::Role;
use crate::portal::{field, local_time, posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use wording::Language;

/// The form at most: a list of the most entries allowed, about 64 characters each.
const MAX_FORM: usize = 8 * 1024 * 1024;

struct ListRow {
    name: String,
    version: i64,
    entries: usize,
    author: String,
    saved: String,
    comment: String,
}

#[derive(Template)]
#[template(path = "risk_lists.html")]
struct ListsPage {
    t: Language,
    frame: Frame,
    rows: Vec<ListRow>,
    writes: bool,
    name: String,
    entries: String,
}

#[derive(serde::Deserialize)]
pub struct ListsQuery {
    /// The list to edit.
    name: Option<String>,
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
    (name, entries): (String, Option<String>),
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, _) = crate::portal::zone_of(&pipeline.administration);
    let lists = state.store.latest_risk_documents(crate::risk::LIST).await?;
    let entries = match entries {
        Some(typed) => typed,
        None => lists
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.body.clone())
            .unwrap_or_default(),
    };
    let rows = lists
        .iter()
        .map(|d| ListRow {
            name: d.name.clone(),
            version: d.version,
            entries: d.body.lines().count(),
            author: d.author.clone(),
            saved: local_time(&d.created_at, office),
            comment: d.comment.clone(),
        })
        .collect();
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-risk-lists"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&ListsPage {
        t,
        frame,
        rows,
        writes: caller.role == Role::RiskAnalyst,
        name,
        entries,
    })?;
    Ok((code, Html(html)).into_response())
}

/// `GET /portal/risk/lists`.
#[utoipa::path(
    get,
    path = "/portal/risk/lists",
    tag = "portal",
    summary = "Named risk lists (page)",
    description = "Every list (watch lists, the AEO register `aeo`) with its version, size and author; with `name`, that list's entries in the form (risk analysts save; auditors and administrators read).",
    params(("name" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ListsQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let name: String = query.name.unwrap_or_default().chars().take(64).collect();
    let done = query
        .done
        .filter(|d| d.len() <= 64)
        .map(|d| t.with("page-risk-list-saved", "name", &d));
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        (name, None),
        done,
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/risk/lists`.
#[utoipa::path(
    post,
    path = "/portal/risk/lists",
    tag = "portal",
    summary = "Save a named risk list",
    description = "Form fields `csrf`, `name`, `entries` (one per line), `comment`. Saved as `PUT /api/v1/risk/lists/{name}` saves it (the next version, audited): 303 to the page; refused: 422 with the error at its field (an entry's error names its line).",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Saved"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, MAX_FORM)?;
    let t = state.wording(&headers).language;
    let name = field(&fields, "name").trim().to_owned();
    let text = field(&fields, "entries").replace("\r\n", "\n");
    // Blank lines separate nothing: they are not entries.
    let entries: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let request =
        serde_json::json!({"entries": entries, "comment": field(&fields, "comment").trim()});
    let outcome = crate::risk::save_list(
        State(state.clone()),
        Extension(caller.clone()),
        Path(name.clone()),
        Body::from(serde_json::to_vec(&request).map_err(ApiError::internal)?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!(
            "/portal/risk/lists?name={}&done={}",
            crate::frame::url_encode(&name),
            crate::frame::url_encode(&name)
        ))
        .into_response()),
        Err(error) if error.status().is_client_error() => {
            let errors = refusal_fields(t, error, "name", |pointer| {
                if pointer.starts_with("/entries") {
                    "entries".to_owned()
                } else {
                    "name".to_owned()
                }
            });
            page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                errors,
                (name, Some(text)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}
