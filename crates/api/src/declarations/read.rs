//! Reading declarations: one with its history, a page of them, what the trader was told, and every version as
//! received.

use super::{DeclarationSummary, summary};
use crate::access::load_visible;
use crate::error::ApiError;
use crate::notifications;
use crate::request::{Queried, accepts, parse_instant, query_error};
use crate::{AppState, Caller};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use error_table::ErrorCode;
use selectivity::Lane;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use storage::ListFilter;

/// One event of a declaration's history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Event)]
pub(crate) struct EventView {
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::EventType)]
    event_type: String,
    /// RFC 3339, UTC.
    at: String,
    actor: String,
    actor_role: String,
    reason: String,
    /// The event as the lifecycle recorded it (its `type` and fields).
    data: Value,
}

fn event_view(event: &storage::EventRow) -> EventView {
    EventView {
        event_type: event.event_type.clone(),
        at: event.at.clone(),
        actor: event.actor.clone(),
        actor_role: event.actor_role.clone(),
        reason: event.reason.clone(),
        data: serde_json::from_str(&event.data).unwrap_or(Value::Null),
    }
}

/// The control a declaration's lane calls for, and whether it passed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ControlView {
    kind: Option<workflow::ControlKind>,
    passed: bool,
}

/// Why the declaration has its lane: the decision's reason and what it rested on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SelectivityView {
    reason: String,
    /// The lane event: rules hit, random selection, the basis (rule set version, model score, rate top-up).
    data: Value,
}

/// Everything about a declaration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeclarationView {
    #[serde(flatten)]
    summary: DeclarationSummary,
    /// The assessment of the current version, as stored.
    #[schema(value_type = Option<tariff::Assessment>)]
    assessment: Value,
    arrived: bool,
    /// The released goods left the customs area (gate-out or exit).
    exited: bool,
    pre_lodged: bool,
    control: ControlView,
    liabilities: Option<workflow::Liabilities>,
    /// A decimal string; never floating point.
    paid: String,
    /// A decimal string: liabilities not yet paid, deferred or guaranteed.
    outstanding: String,
    settlement: Option<workflow::Settlement>,
    selectivity: Option<SelectivityView>,
    events: Vec<EventView>,
    /// The current version's JSON twin.
    #[schema(value_type = declaration::Declaration)]
    declaration: Value,
}

/// `GET /api/v1/declarations/{id}`: everything about a declaration — status, lane and why, assessment, money,
/// events with their times, the current model.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}",
    tag = "declarations",
    summary = "One declaration: status, lane, assessment, events",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    responses((status = 200, description = "The declaration", body = crate::declarations::read::DeclarationView), (status = 404, description = "No such declaration, or not yours.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<DeclarationView>, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let events = state.store.events(&row.id).await?;
    let lifecycle = row.workflow_state()?;
    Ok(Json(DeclarationView {
        summary: summary(&row),
        assessment: row
            .assessment
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or(Value::Null),
        arrived: lifecycle.arrived,
        exited: lifecycle.exited,
        pre_lodged: lifecycle.pre_lodged,
        control: ControlView {
            kind: lifecycle.control,
            passed: lifecycle.control_passed,
        },
        paid: lifecycle.paid.to_string(),
        outstanding: lifecycle.outstanding().to_string(),
        liabilities: lifecycle.liabilities,
        settlement: lifecycle.settlement,
        selectivity: events
            .iter()
            .rev()
            .find(|e| e.event_type == "lane_assigned" || e.event_type == "lane_overridden")
            .map(|e| SelectivityView {
                reason: e.reason.clone(),
                data: serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
            }),
        events: events.iter().map(event_view).collect(),
        declaration: serde_json::from_str(&row.model).unwrap_or(Value::Null),
    }))
}

/// A page of declarations, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeclarationPage {
    items: Vec<DeclarationSummary>,
    /// Give it as `cursor` for the next page; none on the last.
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    lane: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/declarations`: newest first, a page at a time (a trader sees its own).
#[utoipa::path(
    get,
    path = "/api/v1/declarations",
    tag = "declarations",
    summary = "List declarations",
    description = "Newest first, cursor-paged. Traders see only declarations where their party is declarant or representative; officers see all.",
    params(("status" = Option<workflow::Status>, Query), ("lane" = Option<selectivity::Lane>, Query), ("from" = Option<String>, Query, description = "Lodged at or after (RFC 3339 with zone)."), ("to" = Option<String>, Query, description = "Lodged before (RFC 3339 with zone)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page."), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "A page", body = crate::declarations::read::DeclarationPage), (status = 400, description = "A query parameter is invalid (request.invalid_query).", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Queried(query): Queried<ListQuery>,
) -> Result<Json<DeclarationPage>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|status| {
            workflow::Status::parse(status).ok_or_else(|| {
                query_error(
                    "status",
                    "Unknown status; see the documented status values.",
                )
            })
        })
        .transpose()?;
    let lane = query
        .lane
        .as_deref()
        .map(|lane| {
            Lane::parse(lane)
                .ok_or_else(|| query_error("lane", "The lane is green, blue, yellow or red."))
        })
        .transpose()?;
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
        status,
        lane,
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
    Ok(Json(DeclarationPage {
        items: rows.iter().map(summary).collect(),
        next_cursor,
    }))
}

/// `GET /api/v1/declarations/{id}/notifications`: what the trader was told, as JSON or WCO RES XML.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/notifications",
    tag = "declarations",
    summary = "What the trader has been told, in order",
    description = "Receipt, acceptance (MRN), rejection (errors with pointers), control (documents requested or examination), control result, tax assessment, payment request, amendment, release, cancellation.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    responses((status = 200, description = "Notifications", content((crate::declarations::read::Notifications = "application/json"), (crate::declarations::read::Notifications = "application/xml"))), (status = 404, description = "No such declaration, or not yours.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn notifications_of(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let events = state.store.events(&row.id).await?;
    if accepts(&headers, &["application/xml", "text/xml"]) {
        let pipeline = state.pipeline();
        return Ok((
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            notifications::res_xml(
                &row,
                &events,
                &pipeline.country.to_string(),
                &pipeline.methods,
            ),
        )
            .into_response());
    }
    let wording = state.wording(&headers);
    Ok((
        [(header::CONTENT_LANGUAGE, wording.language.code())],
        Json(Notifications {
            notifications: notifications::derive(&row, &events, wording),
            declaration: row.id,
        }),
    )
        .into_response())
}

/// What the trader of a declaration was told.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Notifications {
    /// The declaration's id.
    declaration: String,
    notifications: Vec<notifications::Notification>,
}

/// One version of a declaration, as received.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Version)]
pub(crate) struct VersionView {
    /// 1 as lodged, one more per amendment or correction.
    version: i64,
    #[schema(value_type = crate::openapi::DocumentFormat)]
    format: String,
    /// SHA-256 of the version's model (canonical JSON), as its lodged or amended event records.
    content_hash: String,
    /// SHA-256 of the document's bytes as received.
    document_sha256: String,
    /// RFC 3339, UTC.
    received_at: String,
    received_by: String,
    received_role: String,
    /// With `?form=model`: the version's JSON twin.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<declaration::Declaration>)]
    declaration: Option<Value>,
}

fn version_view(version: &storage::DeclarationVersion) -> VersionView {
    VersionView {
        version: version.version,
        format: version.format.clone(),
        content_hash: version.content_hash.clone(),
        document_sha256: version.document_sha256.clone(),
        received_at: version.received_at.clone(),
        received_by: version.received_by.clone(),
        received_role: version.received_role.clone(),
        declaration: None,
    }
}

/// Every version of a declaration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Versions {
    /// The declaration's id.
    declaration: String,
    /// The number of the version in force.
    current: i64,
    versions: Vec<VersionView>,
}

/// `GET /api/v1/declarations/{id}/versions`: every version, oldest first (the lodgement is 1).
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/versions",
    tag = "declarations",
    summary = "Every version of a declaration, as received",
    description = "The lodgement is version 1; each amendment or correction applied adds the next. Nothing about a version is ever changed: its document as received (with its SHA-256), its model, who sent it and when.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement).")),
    responses((status = 200, description = "The versions, oldest first", body = crate::declarations::read::Versions), (status = 404, description = "No such declaration, or not yours.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Versions>, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let versions = state.store.versions(&row.id).await?;
    Ok(Json(Versions {
        versions: versions.iter().map(version_view).collect(),
        current: row.version,
        declaration: row.id,
    }))
}

#[derive(Deserialize)]
pub(crate) struct VersionQuery {
    /// `received` (the default): the document as received; `model`: its description and JSON twin.
    form: Option<String>,
}

/// `GET /api/v1/declarations/{id}/versions/{n}`: version n as received, in its own media type (its SHA-256 in
/// `X-Aduana-Document-Sha256`); with `?form=model`, its description and model as JSON.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/versions/{n}",
    tag = "declarations",
    summary = "One version as received",
    description = "The document exactly as it was received, in its own media type (application/xml, application/json or application/edifact), its SHA-256 in X-Aduana-Document-Sha256; with ?form=model, its description and its JSON twin.",
    params(("id" = String, Path, description = "The declaration's id (returned at lodgement)."), ("n" = i64, Path, description = "The version number."), ("form" = Option<String>, Query)),
    responses((status = 200, description = "The version", content((String = "application/xml"), (String = "application/edifact"), (serde_json::Value = "application/json"))), (status = 404, description = "No such declaration or version, or not yours.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, n)): Path<(String, String)>,
    Queried(query): Queried<VersionQuery>,
) -> Result<Response, ApiError> {
    let as_model = match query.form.as_deref() {
        None | Some("received") => false,
        Some("model") => true,
        Some(_) => return Err(query_error("form", "The form is received or model.")),
    };
    let row = load_visible(&state, &caller, &id).await?;
    let number: i64 = n
        .parse()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let (version, document, model) = state
        .store
        .version_document(&row.id, number)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let media = match version.format.as_str() {
        "xml" => "application/xml; charset=utf-8",
        "edifact" => "application/edifact",
        _ => "application/json",
    };
    if as_model {
        let mut body = version_view(&version);
        body.declaration = Some(serde_json::from_str(&model).unwrap_or(Value::Null));
        return Ok(Json(body).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::HeaderName::from_static("x-aduana-document-sha256"),
                version.document_sha256.clone(),
            ),
        ],
        document,
    )
        .into_response())
}
