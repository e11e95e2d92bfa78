//! Cargo reports (manifests): a carrier lodges what it brings before arrival, as UN/EDIFACT CUSCAR
//! (`Content-Type: application/edifact`) or as the JSON form of `manifest::CargoReport`. The report is read, checked
//! (crate `manifest`), and stored as received with an audit entry; a carrier sees its own reports, officers,
//! risk analysts and auditors all of them.

use crate::access::audit_actor;
use crate::error::ApiError;
use crate::request::{media_type, now, parse_json, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, body::Body};
use error_table::ErrorCode;
use manifest::CargoReport;
use serde::Deserialize;
use serde_json::{Value, json};
use storage::{CargoReportRow, NewCargoReport};

/// The carrier's party as the caller: a trader acts for its own party only.
fn own_party(caller: &Caller) -> Option<&str> {
    match caller.role {
        crate::policy::Role::Trader => caller.user.party.as_deref(),
        _ => None,
    }
}

pub async fn lodge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&state, body).await?;
    let (report, format, document): (CargoReport, &str, String) =
        match media_type(&headers).as_str() {
            "application/edifact" => {
                let limits = edifact::syntax::Limits {
                    max_bytes: state.config.max_body_bytes,
                    ..edifact::syntax::Limits::default()
                };
                let report = edifact::read_cuscar(&bytes, &limits).map_err(ApiError::problems)?;
                // UNOC may be ISO 8859-1: kept as the characters it means.
                let document = match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => text,
                    Err(e) => e.into_bytes().iter().map(|b| char::from(*b)).collect(),
                };
                (report, "edifact", document)
            }
            "application/json" => {
                let report: CargoReport = parse_json(&bytes)?;
                let problems = manifest::check(&report);
                if !problems.is_empty() {
                    return Err(ApiError::problems(problems));
                }
                let document = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::new(ErrorCode::NotUtf8))?;
                (report, "json", document)
            }
            _ => {
                return Err(ApiError::with_message(
                    ErrorCode::UnsupportedMediaType,
                    "Send the cargo report as application/edifact (CUSCAR) or application/json.",
                ));
            }
        };
    let carrier = report
        .carrier
        .id
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default();
    if own_party(&caller) != Some(carrier.as_str()) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            format!(
                "You act for {}, not for the carrier of this report ({carrier}).",
                caller.user.party.as_deref().unwrap_or("no party")
            ),
        ));
    }
    let model = serde_json::to_string(&report).map_err(ApiError::internal)?;
    let new = NewCargoReport {
        carrier,
        reference: report.reference.clone(),
        transport_id: report.transport.id.clone(),
        arrival: report.arrival.clone(),
        place_of_arrival: report.place_of_arrival.clone(),
        consignments: report.consignments.len() as i64,
        goods_items: report.goods_item_count() as i64,
        format: format.to_owned(),
        document,
        model,
    };
    match state
        .store
        .save_cargo_report(&audit_actor(&caller), new, now())
        .await?
    {
        Some(row) => Ok((StatusCode::CREATED, Json(summary(&row))).into_response()),
        None => Err(ApiError::with_message(
            ErrorCode::ManifestDuplicate,
            format!(
                "You already lodged a cargo report with the reference {:?}; lodge a corrected one under a new \
                 reference.",
                report.reference
            ),
        )),
    }
}

fn summary(row: &CargoReportRow) -> Value {
    serde_json::to_value(row).unwrap_or_default()
}

fn visible(caller: &Caller, row: &CargoReportRow) -> bool {
    match caller.role {
        crate::policy::Role::Trader => own_party(caller) == Some(row.carrier.as_str()),
        _ => true,
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let row = match state.store.cargo_report(&id).await? {
        Some(row) if visible(&caller, &row) => row,
        // Another carrier's report is "not found", so that its existence does not leak.
        _ => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    let report: Value = serde_json::from_str(&row.model).map_err(ApiError::internal)?;
    let mut body = summary(&row);
    body["report"] = report;
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            "limit: ask for 1 to 1000 reports.",
        ));
    }
    let carrier = match caller.role {
        crate::policy::Role::Trader => Some(own_party(&caller).unwrap_or("")),
        _ => None,
    };
    let rows = state.store.cargo_reports(carrier, limit).await?;
    Ok(Json(json!({"cargo_reports": rows})))
}
