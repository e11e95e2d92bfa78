//! Cargo reports joined to declarations (issue 20, part 3): the arrival of a report's means of transport — one
//! notification for the voyage or flight — records the goods as presented and in temporary storage until the
//! administration's deadline, and notifies the arrival of every declaration still in clearance that names one of
//! its consignments (which releases those whose control and duties are done); a report's consignments with the
//! declarations discharging them; and the reconciliation of temporary storage over a period. The matching is pure
//! (`manifest::discharge`); the store keeps each declaration's cargo as lodged.

use crate::access::{audit_actor, record_export, visible_to};
use crate::cargo::own_party;
use crate::error::ApiError;
use crate::request::{Queried, json_body, limited, now, parse_instant, query_error};
use crate::{AppState, Caller};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::{Extension, http::Uri};
use error_table::ErrorCode;
use manifest::CargoReport;
use manifest::discharge::{
    Arrived, Candidate, DEFAULT_MASS_TOLERANCE_PERCENT, Discharge, Discrepancy, Index, Matched,
    MatchedBy, Standing, lookup_keys, reconcile,
};
use serde::{Deserialize, Serialize};
use storage::{CargoArrival, CargoCandidate, CargoReportRow};

/// Most reports one reconciliation reads (a large port's year of vessel and flight arrivals).
const MAX_RECONCILED_REPORTS: i64 = 10_000;
/// Most lines one reconciliation answers (the counts cover every consignment).
const MAX_RECONCILIATION_LINES: usize = 10_000;

/// Where a declaration stands for the discharge of its consignments.
pub(crate) fn standing(status: workflow::Status) -> Standing {
    use workflow::Status::*;
    match status {
        Released => Standing::Released,
        Rejected | Cancelled => Standing::Closed,
        Lodged | Accepted | UnderControl | Assessed | AwaitingPayment | Settled => {
            Standing::Pending
        }
    }
}

fn candidates(found: &[CargoCandidate]) -> Vec<Candidate<'_>> {
    found
        .iter()
        .map(|c| Candidate {
            id: &c.declaration_id,
            cargo: &c.cargo,
            standing: standing(c.status),
        })
        .collect()
}

/// The report `id` if the caller may see it (a carrier its own; officers, analysts and auditors all), with what
/// was read from it. Another carrier's is "not found".
async fn load_report(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(CargoReportRow, CargoReport), ApiError> {
    if id.len() > 64 {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let row = match state.store.cargo_report(id).await? {
        Some(row)
            if caller.role != crate::policy::Role::Trader
                || own_party(caller) == Some(row.carrier.as_str()) =>
        {
            row
        }
        _ => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    let report: CargoReport = serde_json::from_str(&row.model).map_err(ApiError::internal)?;
    Ok((row, report))
}

/// The arrival of a report's means of transport.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CargoArrivalBody)]
pub(crate) struct ArrivalBody {
    /// Where the goods were presented (a UN/LOCODE, a berth, a temporary storage facility); the report's place of
    /// arrival when absent.
    #[serde(default)]
    pub(crate) place: Option<String>,
    /// Recorded on each declaration's arrival event.
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

/// What the arrival did to one declaration naming a consignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalOutcome {
    /// Its arrival was notified now.
    Arrived,
    /// Its goods were recorded as arrived before.
    AlreadyArrived,
    /// Released before: nothing to do.
    AlreadyReleased,
    /// Rejected or cancelled: it discharges nothing.
    Closed,
    /// The lifecycle refused the arrival (`message` says why).
    Refused,
}

/// A declaration naming a consignment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DischargingDeclaration {
    pub(crate) id: String,
    pub(crate) mrn: Option<String>,
    pub(crate) lrn: String,
    pub(crate) matched_by: MatchedBy,
    /// Its status after the arrival, or now.
    #[schema(value_type = String)]
    pub(crate) status: workflow::Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) outcome: Option<ArrivalOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
}

/// One consignment of a report and the declarations discharging it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsignmentDischarge {
    /// The consignment's sequence in the report.
    pub(crate) sequence: u32,
    pub(crate) transport_document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ucr: Option<String>,
    pub(crate) discharge: Discharge,
    /// How many declarations name it.
    pub(crate) declaration_count: usize,
    /// The declarations naming it, each with what named it. A carrier sees only those it may see itself.
    pub(crate) declarations: Vec<DischargingDeclaration>,
    pub(crate) discrepancies: Vec<Discrepancy>,
}

/// A report's consignments and their discharge.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportDischarge {
    pub(crate) cargo_report: String,
    pub(crate) carrier: String,
    pub(crate) reference: String,
    /// When the means of transport arrived; absent before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) arrival: Option<ArrivalView>,
    pub(crate) consignments: Vec<ConsignmentDischarge>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ArrivalView {
    /// RFC 3339, UTC.
    pub(crate) arrived_at: String,
    /// When temporary storage ends, RFC 3339, UTC.
    pub(crate) storage_deadline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) place: Option<String>,
    pub(crate) notified_by: String,
    /// False when this request found the arrival recorded before (the first one stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) recorded_now: Option<bool>,
}

fn arrival_view(arrival: &CargoArrival, recorded_now: Option<bool>) -> ArrivalView {
    ArrivalView {
        arrived_at: arrival.arrived_at.clone(),
        storage_deadline: arrival.storage_deadline.clone(),
        place: arrival.place.clone(),
        notified_by: arrival.notified_by.clone(),
        recorded_now,
    }
}

/// Per declaration: its status and the arrival's outcome and message, when an arrival ran.
type Outcomes =
    std::collections::HashMap<String, (workflow::Status, Option<ArrivalOutcome>, Option<String>)>;

/// The report's consignments with the declarations matching them, as the caller may see them.
async fn discharge_view(
    state: &AppState,
    caller: &Caller,
    report: &CargoReport,
    found: &[CargoCandidate],
    outcomes: &Outcomes,
) -> Result<Vec<ConsignmentDischarge>, ApiError> {
    let listed = candidates(found);
    let matched: Vec<Matched> =
        Index::new(&listed).match_report(report, DEFAULT_MASS_TOLERANCE_PERCENT);
    let mut shown = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(matched.len());
    for m in matched {
        let consignment = &report.consignments[m.consignment];
        let mut declarations = Vec::new();
        for (i, by) in &m.declarations {
            let candidate = &found[*i];
            let may_see = if caller.role == crate::policy::Role::Trader {
                if let Some(seen) = shown.get(&candidate.declaration_id) {
                    *seen
                } else {
                    let seen = match state.store.declaration(&candidate.declaration_id).await? {
                        Some(row) => visible_to(state, caller, &row).await?,
                        None => false,
                    };
                    shown.insert(candidate.declaration_id.clone(), seen);
                    seen
                }
            } else {
                true
            };
            if !may_see {
                continue;
            }
            let (status, outcome, message) = outcomes
                .get(&candidate.declaration_id)
                .cloned()
                .unwrap_or((candidate.status, None, None));
            declarations.push(DischargingDeclaration {
                id: candidate.declaration_id.clone(),
                mrn: candidate.mrn.clone(),
                lrn: candidate.lrn.clone(),
                matched_by: *by,
                status,
                outcome,
                message,
            });
        }
        out.push(ConsignmentDischarge {
            sequence: consignment.sequence,
            transport_document: consignment.transport_document.clone(),
            ucr: consignment.ucr.clone(),
            discharge: m.discharge,
            declaration_count: m.declarations.len(),
            declarations,
            discrepancies: m.discrepancies,
        });
    }
    Ok(out)
}

#[utoipa::path(
    post,
    path = "/api/v1/cargo-reports/{id}/arrival",
    tag = "cargo",
    summary = "Notify the arrival of a cargo report's means of transport: its goods presented and in temporary storage, every pre-lodged declaration of its consignments arrived",
    description = "One notification for the voyage or flight, by the carrier of the report or an officer. The goods enter temporary storage until the administration's deadline (`temporary_storage_days`). Every declaration still in clearance that names a consignment (by transport document, UCR or a container the consignment alone fills) has its arrival notified, which releases it when its control and duties are done; each declaration's outcome is answered. Repeating the notification records nothing new and notifies the declarations lodged since.",
    params(("id" = String, Path)),
    request_body(content = crate::discharge::ArrivalBody, content_type = "application/json", description = "Optional: the place of presentation and a reason."),
    responses((status = 200, description = "The arrival and each consignment's declarations with their outcome", body = crate::discharge::ReportDischarge), (status = 404, description = "No such report, or another carrier's.", body = crate::error::ErrorBody), (status = 422, description = "A field is invalid.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn arrival(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<ReportDischarge>, ApiError> {
    let (row, report) = load_report(&state, &caller, &id).await?;
    let body: ArrivalBody = json_body(&state, body, true).await?;
    let reason = limited(
        body.reason,
        &format!(
            "Arrival of the means of transport of cargo report {}.",
            row.reference
        ),
    )?;
    let place = body
        .place
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .or_else(|| row.place_of_arrival.clone());
    if place.as_ref().is_some_and(|p| p.chars().count() > 70) {
        return Err(crate::request::invalid(
            "/place",
            "A place of presentation is at most 70 characters.",
        ));
    }
    let at = now();
    let days = state
        .pipeline()
        .administration
        .deadlines
        .temporary_storage_days;
    let deadline = at
        .checked_add(time::Duration::days(i64::from(days)))
        .ok_or_else(|| ApiError::internal("the temporary storage deadline overflows"))?;
    let (recorded, created) = state
        .store
        .record_cargo_arrival(&audit_actor(&caller), &row, place, at, deadline)
        .await?;
    let found = state.store.cargo_candidates(&lookup_keys(&report)).await?;
    let listed = candidates(&found);
    let matched = Index::new(&listed).match_report(&report, DEFAULT_MASS_TOLERANCE_PERCENT);
    let mut named: Vec<usize> = matched
        .iter()
        .flat_map(|m| m.declarations.iter().map(|(i, _)| *i))
        .collect();
    named.sort_unstable();
    named.dedup();
    let who = crate::access::actor(&caller);
    let mut outcomes = Outcomes::new();
    for i in named {
        let candidate = &found[i];
        // The status as stored now: the candidate list was read before the arrivals of the ones before it.
        let Some(current) = state.store.declaration(&candidate.declaration_id).await? else {
            continue;
        };
        let lifecycle = current.workflow_state()?;
        let (status, outcome, message) = match standing(lifecycle.status) {
            Standing::Released => (current.status, ArrivalOutcome::AlreadyReleased, None),
            Standing::Closed => (current.status, ArrivalOutcome::Closed, None),
            Standing::Pending if lifecycle.arrived => {
                (current.status, ArrivalOutcome::AlreadyArrived, None)
            }
            Standing::Pending => {
                match crate::declarations::lifecycle(
                    &state,
                    &who,
                    &current,
                    workflow::Command::NotifyArrival,
                    reason.clone(),
                )
                .await
                {
                    Ok(after) => (after.status, ArrivalOutcome::Arrived, None),
                    // One declaration's refusal does not stop the others' arrival.
                    Err(e) if e.code.http_status() < 500 => {
                        (current.status, ArrivalOutcome::Refused, Some(e.message))
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        outcomes.insert(
            candidate.declaration_id.clone(),
            (status, Some(outcome), message),
        );
    }
    // Read again: released declarations discharge their consignments now.
    let found = state.store.cargo_candidates(&lookup_keys(&report)).await?;
    let consignments = discharge_view(&state, &caller, &report, &found, &outcomes).await?;
    Ok(Json(ReportDischarge {
        cargo_report: row.id.clone(),
        carrier: row.carrier.clone(),
        reference: row.reference.clone(),
        arrival: Some(arrival_view(&recorded, Some(created))),
        consignments,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/cargo-reports/{id}/consignments",
    tag = "cargo",
    summary = "A cargo report's consignments, the declarations discharging each and the discrepancies between them",
    description = "Each consignment matched to declarations by transport document, UCR or a container it alone fills: undeclared, declared or discharged (a declaration naming it is released), with differences in packages or gross mass (beyond 5 %) where its declarations cover it alone. A carrier sees its own reports and, of the declarations, only those it may see itself.",
    params(("id" = String, Path)),
    responses((status = 200, description = "The consignments", body = crate::discharge::ReportDischarge), (status = 404, description = "No such report, or another carrier's.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn consignments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<ReportDischarge>, ApiError> {
    let (row, report) = load_report(&state, &caller, &id).await?;
    let arrival = state.store.cargo_arrival(&row.id).await?;
    let found = state.store.cargo_candidates(&lookup_keys(&report)).await?;
    let consignments = discharge_view(&state, &caller, &report, &found, &Outcomes::new()).await?;
    Ok(Json(ReportDischarge {
        cargo_report: row.id.clone(),
        carrier: row.carrier.clone(),
        reference: row.reference.clone(),
        arrival: arrival.as_ref().map(|a| arrival_view(a, None)),
        consignments,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReconciliationQuery {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

/// One consignment needing an officer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReconciliationLine {
    pub(crate) cargo_report: String,
    pub(crate) carrier: String,
    pub(crate) reference: String,
    pub(crate) transport_id: Option<String>,
    /// RFC 3339, UTC.
    pub(crate) arrived_at: String,
    /// When temporary storage ends, RFC 3339, UTC.
    pub(crate) storage_deadline: String,
    pub(crate) sequence: u32,
    pub(crate) transport_document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ucr: Option<String>,
    pub(crate) discharge: Discharge,
    /// Not discharged and past its deadline.
    pub(crate) overdue: bool,
    /// The declarations naming it.
    pub(crate) declarations: Vec<String>,
    pub(crate) discrepancies: Vec<Discrepancy>,
}

/// The reconciliation of temporary storage.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CargoReconciliation {
    pub(crate) from: String,
    pub(crate) to: String,
    /// RFC 3339, UTC: when the deadlines were judged.
    pub(crate) at: String,
    pub(crate) temporary_storage_days: u32,
    pub(crate) mass_tolerance_percent: u32,
    pub(crate) reports: usize,
    pub(crate) consignments: usize,
    pub(crate) discharged: usize,
    pub(crate) declared: usize,
    pub(crate) undeclared: usize,
    pub(crate) overdue: usize,
    pub(crate) with_discrepancies: usize,
    /// Each consignment overdue or with a discrepancy; at most 10,000 (`truncated` then).
    pub(crate) lines: Vec<ReconciliationLine>,
    /// More reports arrived in the period than one reconciliation reads (10,000), or more lines than it answers.
    pub(crate) truncated: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/cargo-reconciliation",
    tag = "reports",
    summary = "Reconciliation of temporary storage: consignments not discharged in time and discrepancies between cargo reports and declarations",
    description = "Over the cargo reports whose means of transport arrived in [from, to) (RFC 3339 with a zone; default: all): how many consignments are discharged, declared but not released, or undeclared; each consignment not discharged by its temporary storage deadline (arrival plus the administration's `temporary_storage_days`), and each whose declarations differ from the report in packages or gross mass (beyond 5 %). Officers, risk analysts, auditors, administrators; scope `reports`. The read is recorded in the audit trail.",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "The reconciliation", body = crate::discharge::CargoReconciliation), (status = 400, description = "A query parameter is invalid.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn reconciliation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    Queried(query): Queried<ReconciliationQuery>,
) -> Result<Json<CargoReconciliation>, ApiError> {
    record_export(
        &state,
        &caller,
        "report/cargo-reconciliation",
        uri.query().unwrap_or(""),
    )
    .await?;
    let from = parse_instant("from", query.from)?
        .unwrap_or_else(|| "0000-01-01T00:00:00.000000Z".to_owned());
    let to =
        parse_instant("to", query.to)?.unwrap_or_else(|| "9999-12-31T23:59:59.999999Z".to_owned());
    if from >= to {
        return Err(query_error("to", "The period ends after it starts."));
    }
    Ok(Json(cargo_reconciliation(&state, &from, &to, now()).await?))
}

/// The reconciliation of the reports arrived in [from, to), judged at `at`: what the API answers and the portal
/// shows.
pub(crate) async fn cargo_reconciliation(
    state: &AppState,
    from: &str,
    to: &str,
    at: time::OffsetDateTime,
) -> Result<CargoReconciliation, ApiError> {
    let arrived = state
        .store
        .cargo_arrivals(from, to, MAX_RECONCILED_REPORTS + 1)
        .await?;
    let mut truncated = arrived.len() as i64 > MAX_RECONCILED_REPORTS;
    let arrived = &arrived[..arrived.len().min(MAX_RECONCILED_REPORTS as usize)];
    let mut reports = Vec::with_capacity(arrived.len());
    for (arrival, row) in arrived {
        let report: CargoReport = serde_json::from_str(&row.model).map_err(ApiError::internal)?;
        let arrived_at = storage::parse_time(&arrival.arrived_at)?;
        reports.push((arrival, row, report, arrived_at));
    }
    let mut keys: Vec<String> = reports
        .iter()
        .flat_map(|(_, _, r, _)| lookup_keys(r))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let found = state.store.cargo_candidates(&keys).await?;
    let listed = candidates(&found);
    let inputs: Vec<Arrived<'_>> = reports
        .iter()
        .map(|(_, row, report, arrived_at)| Arrived {
            id: &row.id,
            report,
            arrived_at: *arrived_at,
        })
        .collect();
    let days = state
        .pipeline()
        .administration
        .deadlines
        .temporary_storage_days;
    let result = reconcile(&inputs, &listed, days, at, DEFAULT_MASS_TOLERANCE_PERCENT);
    truncated |= result.lines.len() > MAX_RECONCILIATION_LINES;
    let by_id: std::collections::HashMap<&str, usize> = reports
        .iter()
        .enumerate()
        .map(|(i, (_, row, _, _))| (row.id.as_str(), i))
        .collect();
    let lines = result
        .lines
        .iter()
        .take(MAX_RECONCILIATION_LINES)
        .filter_map(|line| {
            let (arrival, row, report, _) = &reports[*by_id.get(line.report)?];
            let consignment = &report.consignments[line.matched.consignment];
            Some(ReconciliationLine {
                cargo_report: row.id.clone(),
                carrier: row.carrier.clone(),
                reference: row.reference.clone(),
                transport_id: row.transport_id.clone(),
                arrived_at: arrival.arrived_at.clone(),
                storage_deadline: storage::format_time(line.deadline),
                sequence: consignment.sequence,
                transport_document: consignment.transport_document.clone(),
                ucr: consignment.ucr.clone(),
                discharge: line.matched.discharge,
                overdue: line.overdue,
                declarations: line
                    .matched
                    .declarations
                    .iter()
                    .map(|(i, _)| found[*i].declaration_id.clone())
                    .collect(),
                discrepancies: line.matched.discrepancies.clone(),
            })
        })
        .collect();
    Ok(CargoReconciliation {
        from: from.to_owned(),
        to: to.to_owned(),
        at: storage::format_time(at),
        temporary_storage_days: days,
        mass_tolerance_percent: DEFAULT_MASS_TOLERANCE_PERCENT,
        reports: reports.len(),
        consignments: result.consignments,
        discharged: result.discharged,
        declared: result.declared,
        undeclared: result.undeclared,
        overdue: result.overdue,
        with_discrepancies: result.with_discrepancies,
        lines,
        truncated,
    })
}
