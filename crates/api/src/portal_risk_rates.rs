//! The risk analyst's lane rates in the portal: the rate table in force (CSV, docs/risk-rules.md) edited as text
//! and saved as `PUT /api/v1/risk/rates` saves it (a new version, audited, in force at once; an error names its
//! line and column), and today's declarations per population with the shares each control lane took, read from
//! `GET /api/v1/risk/rates` in-process. Auditors and administrators read.

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
use serde_json::Value;
use wording::Language;

/// Today's counts of one population: population, seen, left green by the rules, red, yellow, blue (count and
/// share).
struct TodayRow {
    population: String,
    seen: String,
    rule_green: String,
    red: String,
    yellow: String,
    blue: String,
}

#[derive(Template)]
#[template(path = "risk_rates.html")]
struct RatesPage {
    t: Language,
    frame: Frame,
    in_force: bool,
    version: String,
    author: String,
    saved: String,
    csv: String,
    today: Vec<TodayRow>,
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
    typed: Option<String>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let axum::Json(rates) = crate::risk::show_rates(State(state.clone())).await?;
    let pipeline = state.pipeline();
    let (office, _) = crate::portal::zone_of(&pipeline.administration);
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let with_share = |row: &Value, lane: &str| {
        let share = text(&row[format!("{lane}_percent")]);
        if share.is_empty() {
            text(&row[lane])
        } else {
            format!("{} ({share} %)", text(&row[lane]))
        }
    };
    let today = rates["today"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| TodayRow {
                    population: text(&row["population"]),
                    seen: text(&row["seen"]),
                    rule_green: text(&row["left_green_by_rules"]),
                    red: with_share(row, "red"),
                    yellow: with_share(row, "yellow"),
                    blue: with_share(row, "blue"),
                })
                .collect()
        })
        .unwrap_or_default();
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        uri,
        t.get("page-risk-rates"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&RatesPage {
        t,
        frame,
        in_force: rates["in_force"].as_bool().unwrap_or(false),
        version: text(&rates["version"]),
        author: text(&rates["author"]),
        saved: rates["created_at"]
            .as_str()
            .map(|at| local_time(at, office))
            .unwrap_or_default(),
        csv: typed.unwrap_or_else(|| text(&rates["csv"])),
        today,
        writes: caller.role == Role::RiskAnalyst,
    })?;
    Ok((code, Html(html)).into_response())
}

/// `GET /portal/risk/rates`.
#[utoipa::path(
    get,
    path = "/portal/risk/rates",
    tag = "portal",
    summary = "Lane rates (page)",
    description = "The rate table in force (CSV: office,regime,red,yellow,blue,aeo_percent) with its version, and today's declarations per population with the count and share of each control lane; risk analysts save a new table (auditors and administrators read).",
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
    let done = (query.done.as_deref() == Some("saved")).then(|| t.get("page-risk-rates-saved"));
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        None,
        done,
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/risk/rates`.
#[utoipa::path(
    post,
    path = "/portal/risk/rates",
    tag = "portal",
    summary = "Save the lane rate table",
    description = "Form fields `csrf`, `csv` (empty turns controlled rates off), `comment`. Saved as `PUT /api/v1/risk/rates` saves it (the next version, audited): 303 to the page; refused: 422 with the error (its line and column) at the table.",
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
    let fields = posted_form(&headers, &session, &body, 512 * 1024)?;
    let t = state.wording(&headers).language;
    let csv = field(&fields, "csv").replace("\r\n", "\n");
    let request = serde_json::json!({"csv": csv, "comment": field(&fields, "comment").trim()});
    let outcome = crate::risk::save_rates(
        State(state.clone()),
        Extension(caller.clone()),
        Body::from(serde_json::to_vec(&request).map_err(ApiError::internal)?),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/risk/rates?done=saved").into_response()),
        Err(error) if error.status().is_client_error() => {
            let errors = refusal_fields(t, error, "csv", |_| "csv".to_owned());
            page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                errors,
                Some(csv),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error),
    }
}
