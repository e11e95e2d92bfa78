//! The administrator's partner agencies (issue 19, the administrator's item): every agency of the Single Window
//! with its document types, and the form that registers or changes one — sent to `PUT /api/v1/agencies/{code}`
//! in-process, so the checks and the audit are the API's.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame, refusal_fields};
use crate::portal::{field, posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use wording::Language;

struct AgencyRow {
    code: String,
    name: String,
    contact: String,
    delivery: String,
    documents: String,
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct AgenciesPage {
    t: Language,
    frame: Frame,
    rows: Vec<AgencyRow>,
    typed: Vec<(String, String)>,
}

impl AgenciesPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
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
    typed: Vec<(String, String)>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let types = state.store.lpco_types().await?;
    let rows = state
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|a| AgencyRow {
            documents: types
                .iter()
                .filter(|k| k.agency == a.code)
                .map(|k| k.code.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            code: a.code.to_string(),
            name: a.name,
            contact: a.contact.unwrap_or_default(),
            delivery: match a.delivery {
                lpco::Delivery::Feed => t.get("page-agency-by-feed"),
                lpco::Delivery::Webhook { url } => t.with("page-agency-by-webhook", "url", &url),
            },
        })
        .collect();
    let frame = Frame::signed_in(state, caller, session, headers, uri, t.get("page-agencies"))
        .with_errors(errors)
        .with_done(done);
    let html = render(&AgenciesPage {
        t,
        frame,
        rows,
        typed,
    })?;
    Ok((code, Html(html)).into_response())
}

/// `GET /portal/agencies`.
#[utoipa::path(
    get,
    path = "/portal/agencies",
    tag = "portal",
    summary = "Partner agencies (administrator's page)",
    description = "Every partner agency with its contact, how it receives events and its document types, and the form that registers or changes one. Administrators.",
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
    let done = query
        .done
        .as_deref()
        .filter(|code| lpco::AgencyCode::parse(code).is_ok())
        .map(|code| t.with("page-agency-saved", "code", code));
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        Vec::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// The form field an error of `PUT /api/v1/agencies/{code}` is at.
fn field_of(pointer: &str) -> &'static str {
    match pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
    {
        "name" => "name",
        "contact" => "contact",
        "delivery" => "url",
        "webhook_secret" => "webhook_secret",
        _ => "code",
    }
}

/// `POST /portal/agencies`.
#[utoipa::path(
    post,
    path = "/portal/agencies",
    tag = "portal",
    summary = "Register or change a partner agency",
    description = "Form fields `csrf`, `code`, `name`, `contact`, `delivery` (feed or webhook), `url`, `webhook_secret`. Saved as `PUT /api/v1/agencies/{code}` saves it (audited): 303 to the page; refused: 422 with the errors at their fields.",
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
    let fields = posted_form(&headers, &session, &body, 8 * 1024)?;
    let t = state.wording(&headers).language;
    let code = field(&fields, "code").trim().to_uppercase();
    let optional = |name: &str| {
        let value = field(&fields, name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    };
    let delivery = if field(&fields, "delivery") == "webhook" {
        serde_json::json!({"by": "webhook", "url": field(&fields, "url").trim()})
    } else {
        serde_json::json!({"by": "feed"})
    };
    let request = serde_json::json!({
        "name": field(&fields, "name"),
        "contact": optional("contact"),
        "delivery": delivery,
        "webhook_secret": optional("webhook_secret"),
    });
    let outcome = crate::single_window::put_agency(
        State(state.clone()),
        Extension(caller.clone()),
        Path(code.clone()),
        Body::from(serde_json::to_vec(&request).map_err(ApiError::internal)?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/portal/agencies?done={code}")).into_response()),
        Err(error) if error.status().is_client_error() => {
            let errors = refusal_fields(t, error, "code", |p| field_of(p).to_owned());
            // The webhook key is never given back.
            let typed = ["code", "name", "contact", "delivery", "url"]
                .iter()
                .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
                .collect();
            page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                errors,
                typed,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}
