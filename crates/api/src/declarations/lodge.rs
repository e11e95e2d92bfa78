//! `POST /api/v1/declarations`: a trader lodges a declaration (WCO XML, the JSON twin, or CUSDEC). The decision —
//! acceptance, lane, assessment, what the deferment account, guarantee and cash account take — is made against
//! the ledger as it stands, and stored with its money in one transaction.

use super::{parse_document, stamp};
use crate::error::ApiError;
use crate::request::{accepts, now, read_body};
use crate::{AppState, Caller};
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clearance::Books;
use declaration::FunctionCode;
use error_table::{ErrorCode, Problem};
use serde::Serialize;
use serde_json::Value;
use storage::{Decided, Lodged, NewDeclaration};
use workflow::{Event, EventKind, State as Lifecycle};

/// The answer to a lodgement, stored with the declaration so that a replay gets it again word for word.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LodgementAnswer {
    id: String,
    lrn: String,
    status: workflow::Status,
    /// 18 characters: year, country, 12-character serial, procedure letter, ISO 6346 check character
    /// (docs/mrn.md); none for a rejected declaration.
    #[schema(value_type = Option<String>)]
    mrn: Option<declaration::Mrn>,
    lane: Option<selectivity::Lane>,
    /// For a rejected declaration: each error with its code, pointer and sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<workflow::RejectionError>>,
}

fn lodge_response(row_id: &str, lrn: &str, state: &Lifecycle, events: &[Event]) -> LodgementAnswer {
    let errors = events.iter().find_map(|e| match &e.kind {
        EventKind::Rejected { errors } => Some(errors.clone()),
        _ => None,
    });
    LodgementAnswer {
        id: row_id.to_owned(),
        lrn: lrn.to_owned(),
        status: state.status,
        mrn: state.mrn.clone(),
        lane: state.lane,
        errors,
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/declarations",
    tag = "declarations",
    summary = "Lodge a goods declaration",
    description = "Send a WCO DEC-DMS 2 declaration (`application/xml`, the MetaData envelope of the HMRC CDS samples) or its JSON twin (`application/json`, docs/json-twin.md). The caller must be a trader acting for the declarant or the representative. The declaration is checked, accepted with an MRN or rejected, laned, assessed, settled and released at once when nothing stops it.\n\nIdempotency: (declarant, LRN) is the key. The same declaration again (same meaning, whatever its format) gets the same answer with the header `Idempotent-Replayed: true`; different content under a used LRN gets 409 `lodgement.lrn_reused`.\n\nA syntax or structure error is answered 4xx and nothing is stored; a declaration that fails a business rule (for example a commodity code without measures) is stored as `rejected`, with its errors.",
    request_body(content((String = "application/xml"), (declaration::Declaration = "application/json"), (String = "application/edifact")), description = "application/xml: WCO DEC-DMS 2 XML application/edifact: A UN/EDIFACT interchange holding one CUSDEC (D96B) message, Aduana's guide in docs/edifact.md. Answered as CUSRES when the request accepts application/edifact."),
    responses((status = 201, description = "Stored (accepted, laned, … or rejected)", headers(("Idempotent-Replayed" = String, description = "Present when this is the stored answer to an earlier identical lodgement.")), content((crate::declarations::lodge::LodgementAnswer = "application/json"), (String = "application/edifact"))), (status = 400, description = "Not well-formed XML or JSON, DTD or entities, not UTF-8, wrong envelope.", body = crate::error::ErrorBody), (status = 409, description = "The LRN was used by this declarant for another declaration (lodgement.lrn_reused).", body = crate::error::ErrorBody), (status = 413, description = "The body is larger than the limit (request.too_large).", body = crate::error::ErrorBody), (status = 415, description = "Neither application/xml nor application/json (request.unsupported_media_type).", body = crate::error::ErrorBody), (status = 422, description = "Structure or context-free rules violated; each error has a code, an XPath or JSON pointer and a sentence.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn lodge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&state, body).await?;
    let parsed = parse_document(&state, &headers, &bytes)?;
    let declaration = &parsed.declaration;
    if declaration.function_code != FunctionCode::Original {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::UnsupportedFunctionCode,
            "/function_code",
            "Only original declarations (function code 9) are lodged here; amend at /api/v1/declarations/{id}/amendments.",
        )]));
    }
    let declarant = declaration
        .declarant_id()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let representative = declaration.representative_id().map(|p| p.to_string());
    let party = caller.user.party.clone().unwrap_or_default();
    if party != declarant {
        if representative.as_deref() != Some(party.as_str()) {
            return Err(ApiError::with_message(
                ErrorCode::Forbidden,
                format!(
                    "You act for {party}, which is neither the declarant ({declarant}) nor the representative of this declaration."
                ),
            ));
        }
        // A representative lodges only for the principals registered for it.
        if !state.store.represents(&party, &declarant).await? {
            return Err(ApiError::with_message(
                ErrorCode::NotRepresentative,
                format!(
                    "{party} is not registered as a representative of {declarant}; the declarant or the administration registers representations."
                ),
            ));
        }
    }
    // A do-not-load standing on the consignment the declaration names (its UCR, DE 2/4; its previous
    // documents, DE 2/1) refuses it before anything is decided or stored.
    let named: Vec<String> = declaration
        .goods_shipment
        .ucr
        .iter()
        .cloned()
        .chain(
            declaration
                .goods_shipment
                .previous_documents
                .iter()
                .map(|d| d.id.clone()),
        )
        .collect();
    crate::entry_summaries::do_not_load(&state, &named).await?;
    let hash = clearance::content_hash(parsed.model.as_bytes());
    let at = now();
    let lrn = declaration.lrn.to_string();
    let pipeline = state.pipeline();
    // The date at the office of lodgement, in its time zone: the date of the tariff, rates and rules applied.
    let date = pipeline.local_date(declaration, at);
    // Assessed here, on the handler's task; the decision that needs the ledger is made under its lock.
    // The agencies issuing the documents the Single Window's requirements ask for, to name them in a refusal.
    let required = pipeline.documents_required(declaration, date);
    let agencies = if required.is_empty() {
        Default::default()
    } else {
        state.store.agencies_issuing(&required).await?
    };
    let assessment = pipeline.assess_naming(declaration, date, &agencies);
    let holds = pipeline.agency_holds(declaration, date, &agencies);
    let new = NewDeclaration {
        declarant,
        representative,
        lrn: lrn.clone(),
        content_hash: hash.clone(),
        format: parsed.format.to_owned(),
        document: parsed.document,
        model: parsed.model,
        office: declaration.office().map(str::to_owned),
        transport_mode: declaration.transport_mode().map(str::to_owned),
        declaration_type: declaration.type_code.to_string(),
        received_by: crate::access::audit_actor(&caller),
        accounts: pipeline.accounts_for(declaration, assessment.as_ref().ok()),
        cited: declaration
            .additional_documents
            .iter()
            .chain(
                declaration
                    .goods_shipment
                    .goods_items
                    .iter()
                    .flat_map(|item| &item.additional_documents),
            )
            .map(|d| (format!("{}{}", d.category_code, d.type_code), d.id.clone()))
            .collect(),
        cargo: Some(manifest::discharge::declared_cargo(declaration)),
    };
    let rate_book = state.rate_book.clone();
    let lodger = crate::access::actor(&caller);
    let owned = parsed.declaration;
    let response_lrn = lrn.clone();
    let outcome = state
        .store
        .lodge(new, at, move |id, serial, money, licences| {
            // The rate controller's counts are taken only when a rate table is in force; the lock is held for
            // the decision alone (microseconds), inside the lodgement's transaction.
            let mut book = pipeline.lane_rates.as_ref().map(|_| {
                rate_book
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            let at_text = storage::format_time(at);
            let books = Books {
                accounts: &money.accounts,
                transfers: &money.transfers,
                pending: &money.pending,
                stamp: "r0",
                at: &at_text,
            };
            let lodged = pipeline.lodge_with(
                clearance::Lodging {
                    declaration: &owned,
                    hash: &hash,
                    serial,
                    date,
                    assessment,
                    licences,
                    holds,
                },
                &books,
                book.as_deref_mut(),
            );
            drop(book);
            let outcome = lodged.outcome;
            // The lodgement is the trader's act; what follows is the system's.
            let steps = outcome
                .events
                .into_iter()
                .map(|(event, reason)| clearance::Step {
                    automatic: !matches!(event, EventKind::Lodged { .. }),
                    event,
                    reason,
                })
                .collect();
            let events = stamp(steps, at, &lodger);
            let response =
                serde_json::to_string(&lodge_response(id, &response_lrn, &outcome.state, &events))
                    .unwrap_or_default();
            Decided {
                assessment: outcome
                    .assessment
                    .as_ref()
                    .and_then(|a| serde_json::to_string(a).ok()),
                events,
                state: outcome.state,
                response,
                opens: lodged.opens,
                transfers: lodged.transfers,
                draws: lodged.draws,
            }
        })
        .await?;
    match outcome {
        Lodged::Created { row } => {
            tracing::info!(id = %row.id, status = %row.status.as_str(), "declaration lodged");
            Ok(answer(&headers, row.lodge_response, false))
        }
        Lodged::Replayed { response } => Ok(answer(&headers, response, true)),
        // Nothing of this lodgement was stored, money included: its transaction never committed.
        Lodged::Conflict { existing_id } => Err(ApiError::with_message(
            ErrorCode::LrnReusedWithOtherContent,
            format!(
                "The LRN {lrn} was already used by this declarant for declaration {existing_id}, with different content."
            ),
        )),
    }
}

/// The lodgement's answer: JSON, or CUSRES when the caller accepts `application/edifact`.
fn answer(headers: &HeaderMap, body: String, replayed: bool) -> Response {
    if !accepts(headers, &["application/edifact"]) {
        return created(body, replayed);
    }
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let response = edifact::cusres::Response {
        lrn: text(&json["lrn"]).unwrap_or_default(),
        mrn: text(&json["mrn"]),
        status: text(&json["status"]).unwrap_or_default(),
        lane: text(&json["lane"]),
        errors: json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (
                            text(&e["code"]).unwrap_or_default(),
                            text(&e["pointer"]).unwrap_or_default(),
                            text(&e["message"]).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        at: now()
            .format(time::macros::format_description!(
                "[year][month][day][hour][minute]"
            ))
            .unwrap_or_default(),
    };
    // The interchange reference: the start of the declaration's id, unique enough per answer.
    let reference: String = text(&json["id"])
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .rev()
        .take(14)
        .collect();
    let cusres = edifact::cusres::write(&response, "ADUANA", "TRADER", &reference);
    let mut answer = (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/edifact")],
        cusres,
    )
        .into_response();
    if replayed {
        answer.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    answer
}

fn created(body: String, replayed: bool) -> Response {
    let mut response = (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}
