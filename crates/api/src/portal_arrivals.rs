//! Arrivals and temporary storage in the portal (issue 20, item 6): a carrier sees its cargo reports, notifies the
//! arrival of a vessel or flight once, and reads how each consignment stands; officers, analysts and auditors see
//! every report, the consignments of any, and the reconciliation of temporary storage over the past year
//! (consignments overdue, differences between reports and declarations). The form calls the API's own handler
//! (`discharge::arrival`) and the page reads what the API answers (`discharge::consignments`,
//! `discharge::cargo_reconciliation`).

use crate::discharge::{ConsignmentDischarge, ReconciliationLine};
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
use manifest::discharge::{Discharge, Discrepancy};
use wording::Language;

/// Reports shown at once, newest first.
const SHOWN: i64 = 50;
/// Lines of the reconciliation shown (the counts cover all).
const LINES_SHOWN: usize = 200;

struct ReportRow {
    id: String,
    reference: String,
    carrier: String,
    transport: String,
    expected: String,
    consignments: i64,
    arrived_at: String,
    deadline: String,
    /// The signed-in caller may notify its arrival (its carrier, or an officer) and it has not arrived.
    notifiable: bool,
}

struct ConsignmentRow {
    sequence: u32,
    transport_document: String,
    ucr: String,
    discharge: String,
    declarations: String,
    discrepancies: String,
}

struct StorageLine {
    reference: String,
    sequence: u32,
    transport_document: String,
    deadline: String,
    state: String,
    discrepancies: String,
}

#[derive(Template)]
#[template(path = "arrivals.html")]
struct ArrivalsPage {
    t: Language,
    frame: Frame,
    carrier: bool,
    zone: String,
    reports: Vec<ReportRow>,
    /// The report whose consignments are shown, with its heading.
    selected: Option<String>,
    consignments: Vec<ConsignmentRow>,
    /// The reconciliation's sentence, for customs.
    storage: Option<String>,
    lines: Vec<StorageLine>,
    typed: Vec<(String, String)>,
}

impl ArrivalsPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn discharge_label(t: Language, discharge: Discharge) -> String {
    t.get(match discharge {
        Discharge::Undeclared => "page-discharge-undeclared",
        Discharge::Declared => "page-discharge-declared",
        Discharge::Discharged => "page-discharge-discharged",
    })
}

fn discrepancies_text(t: Language, discrepancies: &[Discrepancy]) -> String {
    discrepancies
        .iter()
        .map(|d| match d {
            Discrepancy::Packages { reported, declared } => t.text(
                "page-discrepancy-packages",
                &[
                    ("reported", &reported.to_string()),
                    ("declared", &declared.to_string()),
                ],
            ),
            Discrepancy::GrossMass { reported, declared } => t.text(
                "page-discrepancy-mass",
                &[
                    ("reported", &reported.to_string()),
                    ("declared", &declared.to_string()),
                ],
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn consignment_row(t: Language, c: &ConsignmentDischarge) -> ConsignmentRow {
    let named: Vec<String> = c
        .declarations
        .iter()
        .map(|d| d.mrn.clone().unwrap_or_else(|| d.lrn.clone()))
        .collect();
    let declarations = if named.len() == c.declaration_count {
        named.join(", ")
    } else {
        // A carrier sees how many declarations name its consignment, not whose.
        c.declaration_count.to_string()
    };
    ConsignmentRow {
        sequence: c.sequence,
        transport_document: c.transport_document.clone(),
        ucr: c.ucr.clone().unwrap_or_default(),
        discharge: discharge_label(t, c.discharge),
        declarations,
        discrepancies: discrepancies_text(t, &c.discrepancies),
    }
}

fn storage_line(
    t: Language,
    line: &ReconciliationLine,
    office: Option<&administration::Office>,
) -> StorageLine {
    StorageLine {
        reference: line.reference.clone(),
        sequence: line.sequence,
        transport_document: line.transport_document.clone(),
        deadline: local_time(&line.storage_deadline, office),
        state: if line.overdue {
            t.get("page-storage-overdue")
        } else {
            discharge_label(t, line.discharge)
        },
        discrepancies: discrepancies_text(t, &line.discrepancies),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ArrivalsQuery {
    report: Option<String>,
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    query: ArrivalsQuery,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let carrier = caller.role == Role::Trader;
    let party = carrier.then(|| crate::cargo::own_party(caller).unwrap_or(""));
    let mut reports = Vec::new();
    for row in state.store.cargo_reports(party, SHOWN).await? {
        let arrival = state.store.cargo_arrival(&row.id).await?;
        reports.push(ReportRow {
            notifiable: arrival.is_none() && matches!(caller.role, Role::Trader | Role::Officer),
            arrived_at: arrival
                .as_ref()
                .map(|a| local_time(&a.arrived_at, office))
                .unwrap_or_default(),
            deadline: arrival
                .as_ref()
                .map(|a| local_time(&a.storage_deadline, office))
                .unwrap_or_default(),
            transport: row.transport_id.clone().unwrap_or_default(),
            expected: row.arrival.clone().unwrap_or_default(),
            consignments: row.consignments,
            carrier: row.carrier.clone(),
            reference: row.reference.clone(),
            id: row.id,
        });
    }
    let (selected, consignments) = match query.report.filter(|r| !r.is_empty()) {
        Some(id) => {
            let view = crate::discharge::consignments(
                State(state.clone()),
                Extension(caller.clone()),
                Path(id),
            )
            .await?
            .0;
            (
                Some(t.with("page-consignments-of", "reference", &view.reference)),
                view.consignments
                    .iter()
                    .map(|c| consignment_row(t, c))
                    .collect(),
            )
        }
        None => (None, Vec::new()),
    };
    let (storage, lines) = if carrier {
        (None, Vec::new())
    } else {
        let now = crate::request::now();
        let from = storage::format_time(now - time::Duration::days(365));
        let to = storage::format_time(now + time::Duration::seconds(1));
        let r = crate::discharge::cargo_reconciliation(state, &from, &to, now).await?;
        let sentence = t.text(
            "page-storage-counts",
            &[
                ("consignments", &r.consignments.to_string()),
                ("discharged", &r.discharged.to_string()),
                ("declared", &r.declared.to_string()),
                ("undeclared", &r.undeclared.to_string()),
                ("overdue", &r.overdue.to_string()),
                ("discrepancies", &r.with_discrepancies.to_string()),
            ],
        );
        (
            Some(sentence),
            r.lines
                .iter()
                .take(LINES_SHOWN)
                .map(|l| storage_line(t, l, office))
                .collect(),
        )
    };
    let done = match query.done.as_deref() {
        Some("arrived") => Some(t.get("page-arrival-done")),
        _ => None,
    };
    let uri = Uri::from_static("/portal/arrivals");
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        &uri,
        t.get("page-arrivals"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&ArrivalsPage {
        t,
        frame,
        carrier,
        zone,
        reports,
        selected,
        consignments,
        storage,
        lines,
        typed,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/arrivals`.
#[utoipa::path(
    get,
    path = "/portal/arrivals",
    tag = "portal",
    summary = "Arrivals and temporary storage (page)",
    description = "Cargo reports, newest first (a carrier its own), each with its arrival and temporary storage deadline or the form that notifies it; with `?report=ID`, that report's consignments, the declarations discharging each and the discrepancies; for officers, analysts and auditors, the reconciliation of temporary storage over the past year.",
    params(("report" = Option<String>, Query), ("done" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Query(query): Query<ArrivalsQuery>,
) -> Result<Response, ApiError> {
    page(
        &state,
        &caller,
        &session,
        &headers,
        query,
        Vec::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/arrivals/{id}/arrival`.
#[utoipa::path(
    post,
    path = "/portal/arrivals/{id}/arrival",
    tag = "portal",
    summary = "Notify the arrival of a report's means of transport (carrier's or officer's form)",
    description = "Form fields `csrf` and `place` (optional). Notified as `POST /api/v1/cargo-reports/{id}/arrival` does (once, audited; each pre-lodged declaration of its consignments arrived): 303 to the page with the report's consignments; refused: the page with the error at the field.",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Notified"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn notify(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 16 * 1024)?;
    let place = field(&fields, "place").trim().to_owned();
    let json = if place.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({"place": place})
    };
    let body = Body::from(serde_json::to_vec(&json).map_err(ApiError::internal)?);
    let outcome = crate::discharge::arrival(
        State(state.clone()),
        Extension(caller.clone()),
        Path(id.clone()),
        body,
    )
    .await;
    let name = format!("place-{id}");
    match outcome {
        Ok(_) => Ok(
            Redirect::to(&format!("/portal/arrivals?report={}&done=arrived", id)).into_response(),
        ),
        Err(error) if error.status().is_client_error() => {
            let t = state.wording(&headers).language;
            let status = error.status();
            let errors = refusal_fields(t, error, &name, |_| name.clone());
            page(
                &state,
                &caller,
                &session,
                &headers,
                ArrivalsQuery::default(),
                errors,
                vec![(name.clone(), place)],
                status,
            )
            .await
        }
        Err(error) => Err(error),
    }
}
