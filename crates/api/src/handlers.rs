//! Route handlers. Each one: check the caller may see the data, parse, let the pure crates decide, store.

use crate::error::ApiError;
use crate::notifications;
use crate::policy::Role;
use crate::{AppState, Caller, OPENAPI};
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use axum::{Extension, Json};
use declaration::{AdditionalMessage, AdditionalMessageType, Declaration, FunctionCode};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use selectivity::Lane;
use serde::Deserialize;
use serde_json::{Value, json};
use storage::{Change, Decided, DeclarationRow, ListFilter, Lodged, NewDeclaration};
use time::OffsetDateTime;
use workflow::{Actor, Command, ControlResult, Event, EventKind, State as Lifecycle};

/// The handler of each route of the policy table. A route in the table without a handler is a programming error
/// caught by the router test.
pub fn method_router(method: &Method, path: &str) -> MethodRouter<AppState> {
    match (method.as_str(), path) {
        ("GET", "/healthz") => get(healthz),
        ("GET", "/metrics") => get(metrics),
        ("GET", "/api/v1/openapi.json") => get(openapi),
        ("GET", "/api/v1/error-codes") => get(error_codes),
        ("GET", "/api/v1/tariff") => get(crate::public::tariff_search),
        ("GET", "/api/v1/tariff/{code}") => get(crate::public::tariff_code),
        ("POST", "/api/v1/duty-calculations") => post(crate::public::duty_calculation),
        ("GET", "/duty-calculator") => get(crate::public::calculator_page),
        ("POST", "/api/v1/declarations") => post(lodge),
        ("GET", "/api/v1/declarations") => get(list),
        ("GET", "/api/v1/declarations/{id}") => get(show),
        ("GET", "/api/v1/declarations/{id}/notifications") => get(notifications_of),
        ("POST", "/api/v1/declarations/{id}/arrival") => post(arrival),
        ("POST", "/api/v1/declarations/{id}/control-results") => post(control_results),
        ("POST", "/api/v1/declarations/{id}/lane") => post(override_lane),
        ("POST", "/api/v1/declarations/{id}/payments") => post(payment),
        ("POST", "/api/v1/declarations/{id}/release") => post(release),
        ("POST", "/api/v1/declarations/{id}/cancellation") => post(cancellation),
        ("POST", "/api/v1/declarations/{id}/amendments") => post(amendment),
        ("GET", "/api/v1/reports/release-times") => get(release_times),
        ("POST", "/api/v1/declarations/{id}/payment-orders") => post(crate::payments::create_order),
        ("GET", "/api/v1/payment-orders/{reference}") => get(crate::payments::show_order),
        ("POST", "/api/v1/bank/confirmations") => post(crate::payments::confirmation),
        ("GET", "/api/v1/reports/reconciliation") => get(crate::payments::reconciliation),
        ("POST", "/api/v1/declarations/{id}/refunds") => post(crate::payments::request_refund),
        ("POST", "/api/v1/declarations/{id}/guarantee-discharge") => {
            post(crate::payments::discharge_guarantee)
        }
        ("POST", "/api/v1/declarations/{id}/guarantee-call") => {
            post(crate::payments::call_guarantee)
        }
        ("GET", "/api/v1/refunds/{refund}") => get(crate::payments::show_refund),
        ("GET", "/api/v1/receipts/{receipt}") => get(crate::payments::show_receipt),
        ("POST", "/api/v1/refunds/{refund}/approvals") => post(crate::payments::approve_refund),
        ("POST", "/api/v1/ledger/accounts") => post(crate::payments::open_account),
        ("GET", "/api/v1/ledger/accounts/{account}") => get(crate::payments::account_statement),
        ("POST", "/api/v1/ledger/accounts/{account}/settlements") => {
            post(crate::payments::settle_account)
        }
        ("GET", "/login") => get(crate::portal::show_login),
        ("POST", "/login") => post(crate::portal::login),
        ("POST", "/logout") => post(crate::portal::logout),
        ("GET", "/portal") => get(crate::portal::portal),
        ("GET", "/api/v1/audit/entries") => get(audit_entries),
        ("GET", "/api/v1/reports/rule-hits") => get(rule_hits),
        ("GET", "/api/v1/declarations/{id}/audit") => get(declaration_audit),
        ("GET", "/api/v1/risk/rules") => get(crate::risk::list_rules),
        ("POST", "/api/v1/risk/rules") => post(crate::risk::save_rules),
        ("POST", "/api/v1/risk/rules/check") => post(crate::risk::check),
        ("GET", "/api/v1/risk/rules/{version}") => get(crate::risk::show_rules),
        ("GET", "/api/v1/risk/lists") => get(crate::risk::list_lists),
        ("GET", "/api/v1/risk/lists/{name}") => get(crate::risk::show_list),
        ("PUT", "/api/v1/risk/lists/{name}") => put(crate::risk::save_list),
        ("GET", "/api/v1/risk/rates") => get(crate::risk::show_rates),
        ("POST", "/api/v1/cargo-reports") => post(crate::cargo::lodge),
        ("GET", "/api/v1/cargo-reports") => get(crate::cargo::list),
        ("GET", "/api/v1/cargo-reports/{id}") => get(crate::cargo::show),
        ("PUT", "/api/v1/risk/rates") => put(crate::risk::save_rates),
        ("GET", "/api/v1/risk/models") => get(crate::risk::list_models),
        ("POST", "/api/v1/risk/models") => post(crate::risk::save_model),
        ("PUT", "/api/v1/risk/model-choice") => put(crate::risk::choose_model),
        _ => panic!("no handler for {method} {path}"),
    }
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn actor(caller: &Caller) -> Actor {
    Actor {
        id: caller.user.id.clone(),
        role: caller.role.as_str().to_owned(),
    }
}

/// Traders see declarations where their party is declarant or representative; officers, risk analysts and
/// auditors see all; other roles none.
fn visible_to(caller: &Caller, row: &DeclarationRow) -> bool {
    match caller.role {
        role if role.sees_all_declarations() => true,
        Role::Trader => caller
            .user
            .party
            .as_deref()
            .is_some_and(|p| p == row.declarant || row.representative.as_deref() == Some(p)),
        _ => false,
    }
}

/// Records a data export (a report, a statement, a read of the audit trail) in the audit trail.
/// The caller as the audit trail names it.
pub(crate) fn audit_actor(caller: &Caller) -> storage::Actor {
    storage::Actor::new(caller.user.id.clone(), caller.role.as_str())
}

pub(crate) async fn record_export(
    state: &AppState,
    caller: &Caller,
    what: &str,
    query: &str,
) -> Result<(), ApiError> {
    let actor = audit_actor(caller);
    state
        .store
        .record(vec![storage::audit_entry(
            &actor,
            "export",
            what,
            query.as_bytes(),
            now(),
        )])
        .await?;
    Ok(())
}

/// The declaration `id` if the caller may see it; another party's declaration is "not found", so that its
/// existence does not leak.
pub(crate) async fn load_visible(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<DeclarationRow, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    match state.store.declaration(id).await? {
        Some(row) if visible_to(caller, &row) => Ok(row),
        _ => Err(ApiError::new(ErrorCode::NotFound)),
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            ApiError::new(ErrorCode::Unavailable).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut extra = String::from(
        "# HELP aduana_declarations Declarations by status.\n# TYPE aduana_declarations gauge\n",
    );
    if let Ok(counts) = state.store.count_by_status().await {
        for (status, count) in counts {
            extra.push_str(&format!(
                "aduana_declarations{{status=\"{status}\"}} {count}\n"
            ));
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&extra),
    )
        .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn error_codes() -> Json<Value> {
    let codes: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| json!({"number": c.number(), "code": c.code(), "http_status": c.http_status(), "message": c.message()}))
        .collect();
    Json(json!({ "codes": codes }))
}

// ----- reading documents ------------------------------------------------------------------------------------

/// A parsed declaration with its canonical JSON twin.
pub(crate) struct Parsed {
    declaration: Declaration,
    format: &'static str,
    document: String,
    model: String,
}

pub(crate) async fn read_body(state: &AppState, body: Body) -> Result<Vec<u8>, ApiError> {
    let limit = state.config.max_body_bytes;
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(_) => Err(ApiError::with_message(
            ErrorCode::BodyTooLarge,
            format!("The document is larger than the {limit} bytes this service accepts."),
        )),
    }
}

/// The media type of the request body (`Content-Type` without its parameters), lower case; "" when absent.
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn parse_document(state: &AppState, headers: &HeaderMap, bytes: &[u8]) -> Result<Parsed, ApiError> {
    let (declaration, format) = match media_type(headers).as_str() {
        "application/xml" | "text/xml" => (
            wco::read_declaration(bytes, &state.config.xml_limits).map_err(ApiError::problems)?,
            "xml",
        ),
        "application/json" => (
            wco::json::read_declaration(bytes).map_err(ApiError::problems)?,
            "json",
        ),
        // RFC 1767; one CUSDEC message per interchange (docs/edifact.md).
        "application/edifact" => {
            let limits = edifact::syntax::Limits {
                max_bytes: state.config.max_body_bytes,
                ..edifact::syntax::Limits::default()
            };
            (
                edifact::read_cusdec(bytes, &limits).map_err(ApiError::problems)?,
                "edifact",
            )
        }
        _ => return Err(ApiError::new(ErrorCode::UnsupportedMediaType)),
    };
    let model = serde_json::to_string(&declaration).map_err(ApiError::internal)?;
    let document = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => text,
        // An EDIFACT interchange in UNOC may be ISO 8859-1: kept as the characters it means.
        Err(e) if format == "edifact" => e.into_bytes().iter().map(|b| char::from(*b)).collect(),
        Err(_) => return Err(ApiError::new(ErrorCode::NotUtf8)),
    };
    Ok(Parsed {
        declaration,
        format,
        document,
        model,
    })
}

// ----- lodgement --------------------------------------------------------------------------------------------

fn lodge_response(row_id: &str, lrn: &str, state: &Lifecycle, events: &[Event]) -> Value {
    let mut body = json!({
        "id": row_id,
        "lrn": lrn,
        "status": state.status,
        "mrn": state.mrn,
        "lane": state.lane,
    });
    if let Some(EventKind::Rejected { errors }) = events
        .iter()
        .map(|e| &e.kind)
        .find(|k| matches!(k, EventKind::Rejected { .. }))
    {
        body["errors"] = json!(errors);
    }
    body
}

fn stamp(events: Vec<(EventKind, String)>, at: OffsetDateTime, first_actor: &Actor) -> Vec<Event> {
    events
        .into_iter()
        .map(|(kind, reason)| {
            // The trader's own act is the lodgement (or amendment, arrival …); what follows is the system's.
            let actor = if matches!(kind, EventKind::Lodged { .. }) {
                first_actor.clone()
            } else {
                Actor::system()
            };
            Event {
                kind,
                at,
                actor,
                reason,
            }
        })
        .collect()
}

async fn lodge(
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
    let hash = clearance::content_hash(parsed.model.as_bytes());
    let at = now();
    let lrn = declaration.lrn.to_string();
    let new = NewDeclaration {
        declarant,
        representative,
        lrn: lrn.clone(),
        content_hash: hash.clone(),
        format: parsed.format.to_owned(),
        document: parsed.document.clone(),
        model: parsed.model.clone(),
        office: declaration.office().map(str::to_owned),
        transport_mode: declaration.transport_mode().map(str::to_owned),
        declaration_type: declaration.type_code.to_string(),
    };
    // Deferred duties are taken by the deferment account before the decision, so that release never follows a
    // deferral the account's limit does not cover.
    let deferral = crate::payments::defer_at_lodgement(&state, declaration, &new, at).await?;
    let securities = clearance::Securities {
        deferment_refused: deferral.refused.clone(),
        guarantee_refused: deferral.guarantee_refused.clone(),
        cash_account_paid: deferral.cash_account_paid,
    };
    let pipeline = state.pipeline();
    let rate_book = state.rate_book.clone();
    let lodger = actor(&caller);
    let owned = parsed.declaration;
    let response_lrn = lrn.clone();
    let outcome = state
        .store
        .lodge(new, at, move |id, serial| {
            // The rate controller's counts are taken only when a rate table is in force; the lock is held for
            // the decision alone (microseconds), inside the lodgement's transaction.
            let mut book = pipeline.lane_rates.as_ref().map(|_| {
                rate_book
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            let outcome = pipeline.lodge_with(
                &owned,
                &hash,
                serial,
                at.date(),
                securities,
                book.as_deref_mut(),
            );
            drop(book);
            let events = stamp(outcome.events, at, &lodger);
            let response = lodge_response(id, &response_lrn, &outcome.state, &events).to_string();
            Decided {
                assessment: outcome
                    .assessment
                    .as_ref()
                    .and_then(|a| serde_json::to_string(a).ok()),
                events,
                state: outcome.state,
                response,
            }
        })
        .await?;
    match outcome {
        Lodged::Created { row } => {
            tracing::info!(id = %row.id, status = %row.status, "declaration lodged");
            Ok(answer(&headers, row.lodge_response, false))
        }
        Lodged::Replayed { response } => Ok(answer(&headers, response, true)),
        Lodged::Conflict { existing_id } => {
            // The deferral taken above was for content that is not stored: give it back.
            deferral.undo(&state).await?;
            Err(ApiError::with_message(
                ErrorCode::LrnReusedWithOtherContent,
                format!(
                    "The LRN {lrn} was already used by this declarant for declaration {existing_id}, with different content."
                ),
            ))
        }
    }
}

/// Whether the request's `Accept` names one of `media` (other forms than JSON are given only when asked for).
fn accepts(headers: &HeaderMap, media: &[&str]) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .is_some_and(|accept| media.iter().any(|m| accept.contains(m)))
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

// ----- reading ----------------------------------------------------------------------------------------------

fn event_json(event: &storage::EventRow) -> Value {
    let data: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
    json!({
        "type": event.event_type,
        "at": event.at,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "reason": event.reason,
        "data": data,
    })
}

pub(crate) fn summary(row: &DeclarationRow) -> Value {
    json!({
        "id": row.id,
        "lrn": row.lrn,
        "mrn": row.mrn,
        "status": row.status,
        "lane": row.lane,
        "declarant": row.declarant,
        "representative": row.representative,
        "type": row.declaration_type,
        "office": row.office,
        "version": row.version,
        "lodged_at": row.lodged_at,
        "updated_at": row.updated_at,
        "released_at": row.released_at,
    })
}

async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let events = state.store.events(&row.id).await?;
    let lifecycle = row.workflow_state()?;
    let mut body = summary(&row);
    let assessment: Value = row
        .assessment
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(Value::Null);
    body["assessment"] = assessment;
    body["arrived"] = json!(lifecycle.arrived);
    body["pre_lodged"] = json!(lifecycle.pre_lodged);
    body["control"] = json!({"kind": lifecycle.control, "passed": lifecycle.control_passed});
    body["liabilities"] = json!(lifecycle.liabilities);
    body["paid"] = json!(lifecycle.paid.to_string());
    body["outstanding"] = json!(lifecycle.outstanding().to_string());
    body["settlement"] = json!(lifecycle.settlement);
    body["selectivity"] = events
        .iter()
        .rev()
        .find(|e| e.event_type == "lane_assigned" || e.event_type == "lane_overridden")
        .map(|e| json!({"reason": e.reason, "data": serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null)}))
        .unwrap_or(Value::Null);
    body["events"] = Value::Array(events.iter().map(event_json).collect());
    body["declaration"] = serde_json::from_str(&row.model).unwrap_or(Value::Null);
    Ok(Json(body))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    lane: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn query_error(name: &str, message: &str) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidQuery,
        format!("?{name}"),
        message,
    )])
}

fn parse_instant(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|v| {
            OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                .map(storage::format_time)
                .map_err(|_| {
                    query_error(
                        name,
                        "Write times in RFC 3339 with a zone, e.g. 2026-11-29T08:00:00Z.",
                    )
                })
        })
        .transpose()
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::with_message(ErrorCode::InvalidQuery, e.body_text()))?;
    if let Some(status) = &query.status {
        workflow::Status::parse(status).ok_or_else(|| {
            query_error(
                "status",
                "Unknown status; see the documented status values.",
            )
        })?;
    }
    if let Some(lane) = &query.lane {
        Lane::parse(lane)
            .ok_or_else(|| query_error("lane", "The lane is green, blue, yellow or red."))?;
    }
    let limit = query.limit.unwrap_or(50);
    if !(1..=state.config.max_page).contains(&limit) {
        return Err(query_error(
            "limit",
            &format!("The limit is from 1 to {}.", state.config.max_page),
        ));
    }
    let before_serial = query
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| query_error("cursor", "Use the next_cursor of the previous page."))
        })
        .transpose()?;
    let party = if caller.role.sees_all_declarations() {
        None
    } else {
        Some(caller.user.party.clone().unwrap_or_default())
    };
    let filter = ListFilter {
        party,
        status: query.status,
        lane: query.lane,
        from: parse_instant("from", query.from)?,
        to: parse_instant("to", query.to)?,
        before_serial,
        limit: limit + 1,
    };
    let mut rows = state.store.list(&filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.serial.to_string())
    } else {
        None
    };
    Ok(Json(json!({
        "items": rows.iter().map(summary).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

async fn notifications_of(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let events = state.store.events(&row.id).await?;
    if accepts(&headers, &["application/xml", "text/xml"]) {
        let country = state.pipeline().country.to_string();
        return Ok((
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            notifications::res_xml(&row, &events, &country),
        )
            .into_response());
    }
    Ok(Json(
        json!({ "declaration": row.id, "notifications": notifications::derive(&row, &events) }),
    )
    .into_response())
}

// ----- commands ---------------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn json_body<T: serde::de::DeserializeOwned + Default>(
    state: &AppState,
    body: Body,
    allow_empty: bool,
) -> Result<T, ApiError> {
    let bytes = read_body(state, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) && allow_empty {
        return Ok(T::default());
    }
    parse_json(&bytes)
}

/// Reads a JSON request body into `T`; a bad field is reported with its JSON pointer.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ApiError::new(ErrorCode::NotUtf8))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let pointer = wco::json::pointer(error.path());
        ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            pointer,
            error.into_inner().to_string(),
        )])
    })
}

/// A request body that is not valid for the action: the pointer names the field.
fn invalid(pointer: &str, message: &str) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidRequest,
        pointer,
        message,
    )])
}

fn limited(reason: Option<String>, default: &str) -> Result<String, ApiError> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| default.to_owned());
    if reason.chars().count() > 1000 {
        return Err(invalid("/reason", "A reason is at most 1,000 characters."));
    }
    Ok(reason)
}

/// Applies `command` for `caller` to declaration `id`, then lets the pipeline take the automatic steps.
async fn apply(
    state: &AppState,
    caller: &Caller,
    id: &str,
    command: Command,
    reason: String,
    amended: Option<Parsed>,
) -> Result<Json<Value>, ApiError> {
    let row = load_visible(state, caller, id).await?;
    apply_as(state, actor(caller), &row, command, reason, amended).await
}

/// Runs `command` on the declaration `row` as `who` (a user, or the system acting on a bank's confirmation).
pub(crate) async fn apply_as(
    state: &AppState,
    who: Actor,
    row: &DeclarationRow,
    command: Command,
    reason: String,
    amended: Option<Parsed>,
) -> Result<Json<Value>, ApiError> {
    let pipeline = state.pipeline();
    let at = now();
    let result = state
        .store
        .update(&row.id, at, |current| -> Result<Change, ApiError> {
            let mut lifecycle = current.workflow_state().map_err(ApiError::from)?;
            let events = workflow::decide(&lifecycle, &command)
                .map_err(|r| ApiError::with_message(r.code, r.message))?;
            let mut stamped = Vec::new();
            for kind in events {
                lifecycle.apply(&kind);
                stamped.push(Event {
                    kind,
                    at,
                    actor: who.clone(),
                    reason: reason.clone(),
                });
            }
            let (declaration, document) = match &amended {
                Some(parsed) => (
                    parsed.declaration.clone(),
                    Some((
                        parsed.format.to_owned(),
                        parsed.document.clone(),
                        parsed.model.clone(),
                    )),
                ),
                None => (
                    serde_json::from_str::<Declaration>(&current.model)
                        .map_err(ApiError::internal)?,
                    None,
                ),
            };
            let lodged_on = storage::parse_time(&current.lodged_at)
                .map_err(ApiError::from)?
                .date();
            let assessment = match (&amended, &current.assessment) {
                (Some(_), _) => pipeline
                    .assess(&declaration, lodged_on)
                    .map_err(ApiError::problems)?,
                (None, Some(stored)) => serde_json::from_str(stored).map_err(ApiError::internal)?,
                (None, None) => pipeline
                    .assess(&declaration, lodged_on)
                    .map_err(ApiError::problems)?,
            };
            let outcome = pipeline.advance(&declaration, lifecycle, assessment, at.date());
            stamped.extend(stamp(outcome.events, at, &who));
            Ok(Change {
                events: stamped,
                state: outcome.state,
                assessment: amended.is_some().then(|| {
                    outcome
                        .assessment
                        .as_ref()
                        .and_then(|a| serde_json::to_string(a).ok())
                }),
                document,
            })
        })
        .await??;
    Ok(Json(summary(&result)))
}

async fn arrival(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (parts, body) = request.into_parts();
    let reason = if is_xml(&parts.headers) {
        // A WCO goods presentation (function code 13, type GPR) naming this declaration.
        let row = load_visible(&state, &caller, &id).await?;
        let bytes = read_body(&state, body).await?;
        let message = additional_message(
            &state,
            &bytes,
            AdditionalMessageType::GoodsPresentation,
            &row,
        )?;
        message_reason(&message, "Arrival of the goods notified.")?
    } else {
        let body: ReasonBody = json_body(&state, body, true).await?;
        limited(body.reason, "Arrival of the goods notified.")?
    };
    apply(&state, &caller, &id, Command::NotifyArrival, reason, None).await
}

/// Whether the request body is WCO XML (a function code 13 message) rather than the JSON `{reason}`.
fn is_xml(headers: &HeaderMap) -> bool {
    matches!(media_type(headers).as_str(), "application/xml" | "text/xml")
}

/// A function code 13 message sent about `row`: it must be of the `expected` type and name `row`'s MRN.
fn additional_message(
    state: &AppState,
    bytes: &[u8],
    expected: AdditionalMessageType,
    row: &DeclarationRow,
) -> Result<AdditionalMessage, ApiError> {
    let message =
        match wco::read_message(bytes, &state.config.xml_limits).map_err(ApiError::problems)? {
            wco::Message::Additional(message) => message,
            wco::Message::Declaration(_) => {
                return Err(ApiError::problems(vec![Problem::with_message(
                    ErrorCode::UnsupportedFunctionCode,
                    "/MetaData/Declaration/FunctionCode",
                    format!(
                        "Send a function code 13 message of type {} here, not a declaration.",
                        expected.wco_code()
                    ),
                )]));
            }
        };
    if message.type_code != expected {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::UnsupportedDeclarationType,
            "/MetaData/Declaration/TypeCode",
            format!(
                "This address takes a message of type {}, not {}.",
                expected.wco_code(),
                message.type_code.wco_code()
            ),
        )]));
    }
    if row.mrn.as_deref() != Some(message.declaration_id.as_str()) {
        return Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidRequest,
            "/MetaData/Declaration/ID",
            match &row.mrn {
                Some(mrn) => format!(
                    "The message names the declaration {} but this declaration's MRN is {mrn}.",
                    message.declaration_id
                ),
                None => {
                    "This declaration has no MRN yet, so no function code 13 message can name it."
                        .to_owned()
                }
            },
        )]));
    }
    Ok(*message)
}

/// The reason an event records for a function code 13 message: its summary and its AES texts (or `default`), at most
/// 1,000 characters like any reason, refused at the message's text when longer.
fn message_reason(message: &AdditionalMessage, default: &str) -> Result<String, ApiError> {
    let text = message.reason().unwrap_or_else(|| default.to_owned());
    let reason = format!("{} {text}", message_summary(message))
        .trim()
        .to_owned();
    if reason.chars().count() > 1000 {
        return Err(invalid(
            "/MetaData/Declaration/AdditionalInformation/StatementDescription",
            "The reasons given (AES texts) are at most about 1,000 characters in all.",
        ));
    }
    Ok(reason)
}

/// How an event records the message that caused it: "Invalidation CANCEL-1 (change reason 1):".
fn message_summary(message: &AdditionalMessage) -> String {
    let kind = match message.type_code {
        AdditionalMessageType::Correction => "Correction",
        AdditionalMessageType::Invalidation => "Invalidation",
        AdditionalMessageType::GoodsPresentation => "Goods presentation",
    };
    let reasons: Vec<&str> = message
        .amendments
        .iter()
        .map(|a| a.change_reason_code.as_str())
        .collect();
    if reasons.is_empty() {
        format!("{kind} {}:", message.functional_reference_id)
    } else {
        format!(
            "{kind} {} (change reason {}):",
            message.functional_reference_id,
            reasons.join(", ")
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    result: String,
    #[serde(default)]
    irregularity_type: Option<String>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    additional_duty: Option<Decimal>,
    #[serde(default)]
    remarks: Option<String>,
}

async fn control_results(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ControlBody = json_body(&state, body, false).await?;
    let outcome = match body.result.as_str() {
        "no_irregularity" => ControlResult::NoIrregularity,
        "irregularity" => ControlResult::Irregularity {
            irregularity_type: body
                .irregularity_type
                .clone()
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| {
                    invalid(
                        "/irregularity_type",
                        "Say what kind of irregularity was found.",
                    )
                })?,
            additional_duty: body.additional_duty,
        },
        _ => {
            return Err(invalid(
                "/result",
                "The result is no_irregularity or irregularity.",
            ));
        }
    };
    let reason = limited(body.remarks, "Control result recorded.")?;
    apply(
        &state,
        &caller,
        &id,
        Command::RecordControl { outcome },
        reason,
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LaneBody {
    lane: String,
    reason: String,
}

async fn override_lane(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: LaneBody = json_body(&state, body, false).await?;
    let lane = Lane::parse(&body.lane)
        .ok_or_else(|| invalid("/lane", "The lane is green, blue, yellow or red."))?;
    if body.reason.trim().is_empty() {
        return Err(invalid("/reason", "An override needs a reason."));
    }
    let reason = limited(Some(body.reason), "")?;
    apply(
        &state,
        &caller,
        &id,
        Command::OverrideLane { lane },
        reason,
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    reference: String,
}

async fn payment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: PaymentBody = json_body(&state, body, false).await?;
    if body.reference.trim().is_empty() || body.reference.len() > 64 {
        return Err(invalid(
            "/reference",
            "Give the payment reference (1 to 64 characters).",
        ));
    }
    if body.amount <= Decimal::ZERO || body.amount.scale() > 2 {
        return Err(invalid(
            "/amount",
            "The amount is positive, with at most 2 decimals.",
        ));
    }
    let reason = format!("Payment {} received.", body.reference);
    apply(
        &state,
        &caller,
        &id,
        Command::RecordPayment {
            amount: body.amount,
            reference: body.reference,
        },
        reason,
        None,
    )
    .await
}

async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: ReasonBody = json_body(&state, body, true).await?;
    let reason = limited(body.reason, "Released by an officer.")?;
    apply(&state, &caller, &id, Command::Release, reason, None).await
}

async fn cancellation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (parts, body) = request.into_parts();
    // Whose declaration it is comes first: another party gets "not found" whatever it sends.
    let row = load_visible(&state, &caller, &id).await?;
    let reason = if is_xml(&parts.headers) {
        // A WCO invalidation (function code 13, type INV): its AES text is the reason (the reader insists on one).
        let bytes = read_body(&state, body).await?;
        let message =
            additional_message(&state, &bytes, AdditionalMessageType::Invalidation, &row)?;
        message_reason(&message, "")?
    } else {
        let body: ReasonBody = json_body(&state, body, false).await?;
        if body.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(invalid("/reason", "A cancellation needs a reason."));
        }
        limited(body.reason, "")?
    };
    apply(&state, &caller, &id, Command::Cancel, reason, None).await
}

async fn amendment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let (parts, body) = request.into_parts();
    // Whose declaration it is comes first: another party gets "not found" whatever it sends.
    let row = load_visible(&state, &caller, &id).await?;
    let bytes = read_body(&state, body).await?;
    let parsed = parse_document(&state, &parts.headers, &bytes)?;
    let declaration = &parsed.declaration;
    if declaration.lrn.as_str() != row.lrn
        || declaration.declarant_id().map(|p| p.as_str()) != Some(row.declarant.as_str())
    {
        return Err(invalid(
            "/MetaData/Declaration/FunctionalReferenceID",
            "An amendment keeps the LRN and declarant of the declaration it amends.",
        ));
    }
    let hash = clearance::content_hash(parsed.model.as_bytes());
    let reason = "Amended by the trader.".to_owned();
    apply(
        &state,
        &caller,
        &id,
        Command::Amend { content_hash: hash },
        reason,
        Some(parsed),
    )
    .await
}

// ----- reports ----------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct ReleaseTimesQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

/// Most released declarations one report reads.
const MAX_REPORT_DECLARATIONS: i64 = 1_000_000;

async fn release_times(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
    query: Result<Query<ReleaseTimesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::with_message(ErrorCode::InvalidQuery, e.body_text()))?;
    record_export(
        &state,
        &caller,
        "report/release-times",
        uri.query().unwrap_or(""),
    )
    .await?;
    let from = parse_instant("from", query.from)?
        .unwrap_or_else(|| "0000-01-01T00:00:00.000000Z".to_owned());
    let to =
        parse_instant("to", query.to)?.unwrap_or_else(|| "9999-12-31T23:59:59.999999Z".to_owned());
    let group_by = query.group_by.unwrap_or_else(|| "lane".to_owned());
    if !matches!(group_by.as_str(), "lane" | "office" | "mode") {
        return Err(query_error("group_by", "Group by lane, office or mode."));
    }
    let released = state
        .store
        .released_timelines(&from, &to, MAX_REPORT_DECLARATIONS)
        .await?;
    let mut timelines = Vec::with_capacity(released.len());
    for declaration in released {
        let group = match group_by.as_str() {
            "lane" => declaration.lane,
            "office" => declaration.office,
            _ => declaration.transport_mode,
        }
        .unwrap_or_else(|| "unknown".to_owned());
        let mut events = Vec::with_capacity(declaration.events.len());
        for (kind, at) in declaration.events {
            events.push((kind, storage::parse_time(&at)?));
        }
        timelines.push(workflow::study::Timeline { group, events });
    }
    let report = workflow::study::release_times(&timelines);
    let groups: Vec<Value> = report
        .into_iter()
        .map(|(group, stages)| json!({"group": group, "stages": stages}))
        .collect();
    Ok(Json(
        json!({"from": from, "to": to, "group_by": group_by, "groups": groups}),
    ))
}

#[derive(Deserialize)]
struct AuditQuery {
    after: Option<u64>,
    limit: Option<i64>,
}

/// Most audit entries one page returns.
const MAX_AUDIT_PAGE: i64 = 1000;

fn entry_json(entry: &audit::Entry) -> Value {
    serde_json::to_value(entry).unwrap_or(Value::Null)
}

/// The audit trail, a page at a time, oldest first, with the current head (for auditors).
async fn audit_entries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::with_message(ErrorCode::InvalidQuery, e.body_text()))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(query_error("limit", "Ask for 1 to 1000 entries."));
    }
    record_export(&state, &caller, "audit/entries", uri.query().unwrap_or("")).await?;
    let after = query.after.unwrap_or(0);
    let entries = state.store.audit_entries(after, limit).await?;
    let head = state.store.audit_head().await?;
    let next = entries.last().map(|e| e.seq).filter(|seq| *seq < head.seq);
    Ok(Json(json!({
        "head": head,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        "next_after": next,
    })))
}

/// The audit entries of one declaration's events.
async fn declaration_audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if id.len() > 64 || state.store.declaration(&id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    record_export(&state, &caller, &format!("audit/declaration/{id}"), "").await?;
    let entries = state
        .store
        .audit_entries_for(&format!("declaration/{id}/"))
        .await?;
    Ok(Json(json!({
        "declaration": id,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
struct RuleHitsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The feedback loop: per risk rule (and the random selection), declarations selected, controlled, found
/// irregular, additional duty found — over declarations lodged in [from, to).
async fn rule_hits(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
    query: Result<Query<RuleHitsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::with_message(ErrorCode::InvalidQuery, e.body_text()))?;
    let from = parse_instant("from", query.from)?
        .unwrap_or_else(|| "0000-01-01T00:00:00.000000Z".to_owned());
    let to =
        parse_instant("to", query.to)?.unwrap_or_else(|| "9999-12-31T23:59:59.999999Z".to_owned());
    record_export(
        &state,
        &caller,
        "report/rule-hits",
        uri.query().unwrap_or(""),
    )
    .await?;
    let histories = state
        .store
        .selection_histories(&from, &to, MAX_REPORT_DECLARATIONS)
        .await?;
    let report = workflow::hit_rates::report(histories.iter().map(|h| h.as_slice()));
    Ok(Json(json!({
        "from": from,
        "to": to,
        "declarations": histories.len(),
        "truncated": histories.len() as i64 >= MAX_REPORT_DECLARATIONS,
        "selectors": report.selectors,
        "models": report.models,
    })))
}
