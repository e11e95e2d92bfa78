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
use serde::{Deserialize, Serialize};
use serde_json::Value;
use storage::{CargoReportRow, NewCargoReport};

/// The carrier's party as the caller: a trader acts for its own party only.
pub(crate) fn own_party(caller: &Caller) -> Option<&str> {
    match caller.role {
        crate::policy::Role::Trader => caller.user.party.as_deref(),
        _ => None,
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/cargo-reports",
    tag = "cargo",
    summary = "Lodge a cargo report (manifest) before arrival, as CUSCAR or JSON",
    request_body(content((String = "application/edifact"), (manifest::CargoReport = "application/json")), description = "application/edifact: A UN/EDIFACT interchange holding one CUSCAR message, Aduana's guide in docs/edifact.md."),
    responses((status = 201, description = "Stored as received.", body = crate::cargo::CargoReportSummary), (status = 409, description = "This carrier already lodged this reference (manifest.duplicate).", body = crate::error::ErrorBody), (status = 415, description = "Neither application/edifact nor application/json.", body = crate::error::ErrorBody), (status = 422, description = "The report is refused: each problem with its code, pointer (segment or JSON field) and sentence.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
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

/// A stored cargo report, without its content.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CargoReportSummary {
    id: String,
    /// The carrier's EORI.
    carrier: String,
    /// The carrier's reference of the report (CUSCAR BGM).
    reference: String,
    /// The means of transport: IMO number, flight, registration.
    transport_id: Option<String>,
    /// Expected arrival, as sent (CCYYMMDD or CCYYMMDDHHMM).
    arrival: Option<String>,
    place_of_arrival: Option<String>,
    consignments: i64,
    goods_items: i64,
    /// `edifact` or `json`: as received.
    format: String,
    /// SHA-256 of the report as received.
    sha256: String,
    received_by: String,
    /// RFC 3339, UTC.
    received_at: String,
}

fn summary(row: &CargoReportRow) -> CargoReportSummary {
    CargoReportSummary {
        id: row.id.clone(),
        carrier: row.carrier.clone(),
        reference: row.reference.clone(),
        transport_id: row.transport_id.clone(),
        arrival: row.arrival.clone(),
        place_of_arrival: row.place_of_arrival.clone(),
        consignments: row.consignments,
        goods_items: row.goods_items,
        format: row.format.clone(),
        sha256: row.sha256.clone(),
        received_by: row.received_by.clone(),
        received_at: row.received_at.clone(),
    }
}

/// A stored cargo report with what was read from it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CargoReportView {
    #[serde(flatten)]
    summary: CargoReportSummary,
    #[schema(value_type = manifest::CargoReport)]
    report: Value,
}

/// Cargo reports, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CargoReports {
    cargo_reports: Vec<CargoReportSummary>,
}

fn visible(caller: &Caller, row: &CargoReportRow) -> bool {
    match caller.role {
        crate::policy::Role::Trader => own_party(caller) == Some(row.carrier.as_str()),
        _ => true,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/cargo-reports/{id}",
    tag = "cargo",
    summary = "One cargo report with what was read from it",
    params(("id" = String, Path)),
    responses((status = 200, description = "The summary and the report", body = serde_json::Value), (status = 404, description = "No such report, or another carrier's.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<CargoReportView>, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let row = match state.store.cargo_report(&id).await? {
        Some(row) if visible(&caller, &row) => row,
        // Another carrier's report is "not found", so that its existence does not leak.
        _ => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    let report: Value = serde_json::from_str(&row.model).map_err(ApiError::internal)?;
    Ok(Json(CargoReportView {
        summary: summary(&row),
        report,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/cargo-reports",
    tag = "cargo",
    summary = "Cargo reports, newest first: a carrier's own, or all for officers, risk analysts and auditors",
    params(("limit" = Option<i64>, Query)),
    responses((status = 200, description = "The reports", body = crate::cargo::CargoReports), (status = 400, description = "A bad limit (request.invalid_query).", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<CargoReports>, ApiError> {
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
    Ok(Json(CargoReports {
        cargo_reports: rows.iter().map(summary).collect(),
    }))
}
