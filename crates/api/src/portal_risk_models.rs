//! The risk analyst's learned models in the portal: every stored version (trained by `aduana risk train` and
//! stored by `POST /api/v1/risk/models`), the one in use for lane decisions, and the choice of another or of
//! none — sent to `PUT /api/v1/risk/model-choice` in-process (a new version of the choice, audited, in use at
//! once). Auditors and administrators read. Storing a model stays the API's and the CLI's (a file up to 64 MiB).

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
    let done = (query.done.as_deref() == Some("chosen")).then(|| t.get("page-risk-model-chosen"));
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
