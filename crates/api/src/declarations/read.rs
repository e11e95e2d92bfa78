//! Reading declarations: one with its history, a page of them, what the trader was told, and every version as
//! received.

use super::summary;
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
use serde::Deserialize;
use serde_json::{Value, json};
use storage::ListFilter;

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

/// `GET /api/v1/declarations/{id}`: everything about a declaration — status, lane and why, assessment, money,
/// events with their times, the current model.
pub(crate) async fn show(
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
pub(crate) struct ListQuery {
    status: Option<String>,
    lane: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/declarations`: newest first, a page at a time (a trader sees its own).
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Queried(query): Queried<ListQuery>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({
        "items": rows.iter().map(summary).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// `GET /api/v1/declarations/{id}/notifications`: what the trader was told, as JSON or WCO RES XML.
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
    Ok(Json(
        json!({ "declaration": row.id, "notifications": notifications::derive(&row, &events) }),
    )
    .into_response())
}

fn version_json(version: &storage::DeclarationVersion) -> Value {
    json!({
        "version": version.version,
        "format": version.format,
        "content_hash": version.content_hash,
        "document_sha256": version.document_sha256,
        "received_at": version.received_at,
        "received_by": version.received_by,
        "received_role": version.received_role,
    })
}

/// `GET /api/v1/declarations/{id}/versions`: every version, oldest first (the lodgement is 1).
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let versions = state.store.versions(&row.id).await?;
    Ok(Json(json!({
        "declaration": row.id,
        "current": row.version,
        "versions": versions.iter().map(version_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub(crate) struct VersionQuery {
    /// `received` (the default): the document as received; `model`: its description and JSON twin.
    form: Option<String>,
}

/// `GET /api/v1/declarations/{id}/versions/{n}`: version n as received, in its own media type (its SHA-256 in
/// `X-Aduana-Document-Sha256`); with `?form=model`, its description and model as JSON.
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
        let mut body = version_json(&version);
        body["declaration"] = serde_json::from_str(&model).unwrap_or(Value::Null);
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
