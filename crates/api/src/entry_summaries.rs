//! Entry summary declarations (issue 20): a carrier lodges the ICS CC315A before loading or arrival, as XML or as
//! its JSON twin (`entry_summary::json`); it is
//! read within limits, checked against the ICS schema and business rules (crate `entry-summary`) and accepted
//! with an MRN, or refused with every error — Aduana's code and sentence, the ICS error number of a business
//! rule and its location in HMRC's form (`/ie:CC315A[1]/GOOITEGDS[1]`). An amendment (CC313A, its MRN in
//! HEAHEA/DocNumHEA5) sent to the same route is the next version of that MRN, by the same lodging party. Nothing is
//! stored from a refused message. A carrier sees its own; officers, analysts and auditors all.

use crate::access::audit_actor;
use crate::error::ApiError;
use crate::request::{media_type, now, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, body::Body};
use entry_summary::{Kind, Message};
use error_table::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use storage::{EntrySummaryRefusal, EntrySummaryRow, NewEntrySummary};

/// The lodging party a trader acts for; `None` for the other roles.
fn own_party(caller: &Caller) -> Option<&str> {
    match caller.role {
        crate::policy::Role::Trader => caller.user.party.as_deref(),
        _ => None,
    }
}

/// One version as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EntrySummaryVersion {
    pub mrn: String,
    pub version: i64,
    /// `declaration` (CC315A) or `amendment` (CC313A).
    pub kind: String,
    pub lodged_by_party: String,
    pub reference: String,
    pub goods_items: i64,
    /// `xml`, or `json` for the JSON twin: the form it was received in and is kept in.
    pub format: String,
    pub first_entry_office: Option<String>,
    pub expected_arrival: Option<String>,
    pub sha256: String,
    pub received_at: String,
}

fn version_of(row: &EntrySummaryRow) -> EntrySummaryVersion {
    EntrySummaryVersion {
        mrn: row.mrn.clone(),
        version: row.version,
        kind: row.kind.clone(),
        lodged_by_party: row.lodged_by_party.clone(),
        reference: row.reference.clone(),
        goods_items: row.goods_items,
        format: row.format.clone(),
        first_entry_office: row.first_entry_office.clone(),
        expected_arrival: row.expected_arrival.clone(),
        sha256: row.sha256.clone(),
        received_at: row.received_at.clone(),
    }
}

fn text(message: &Message, path: &[&str]) -> Option<String> {
    let mut node = &message.root;
    for step in path {
        node = node.child(step)?;
    }
    Some(node.text.clone()).filter(|t| !t.is_empty())
}

/// `POST /api/v1/entry-summaries`.
#[utoipa::path(
    post,
    path = "/api/v1/entry-summaries",
    tag = "pre-arrival",
    summary = "Lodge an entry summary declaration (CC315A) or amend one (CC313A)",
    description = "The ICS message as XML, or as its JSON twin (`{\"CC315A\": {…}}`: each element its name as key, a value a string, a group an object, an element the schema lets repeat an array; JSON pointers in reading errors). Read within limits (no DTD or entities), checked against the ICS schema (`entry_summary.schema`, each departure at its place) and business rules (`entry_summary.rule`, each with its ICS error `number` and `pointer` in HMRC's form, e.g. `/ie:CC315A[1]/GOOITEGDS[1]`). A CC315A accepted is given an MRN (201); a CC313A names the MRN it amends in HEAHEA/DocNumHEA5 and becomes its next version (200). The person lodging (PERLODSUMDEC/TINPLD1) is the caller's party. Nothing is stored from a refused message. Traders (carriers); scope `declarations:write`.",
    request_body(content((String = "application/xml"), (serde_json::Value = "application/json"))),
    responses((status = 201, description = "Accepted with its MRN", body = crate::entry_summaries::EntrySummaryVersion), (status = 200, description = "Amendment accepted as the next version", body = crate::entry_summaries::EntrySummaryVersion), (status = 400, description = "Not well-formed XML, a DTD, too deep or too large", body = crate::error::ErrorBody), (status = 403, description = "The person lodging is not the caller's party", body = crate::error::ErrorBody), (status = 404, description = "An amendment of an MRN that is not the caller's (entry_summary.unknown)", body = crate::error::ErrorBody), (status = 409, description = "The reference was used before (entry_summary.duplicate)", body = crate::error::ErrorBody), (status = 415, description = "Not application/xml", body = crate::error::ErrorBody), (status = 422, description = "Refused: every error with its code, number and pointer", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn lodge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let format = match media_type(&headers).as_str() {
        "application/xml" | "text/xml" => "xml",
        "application/json" => "json",
        _ => {
            return Err(ApiError::with_message(
                ErrorCode::UnsupportedMediaType,
                "Send the entry summary declaration as application/xml (ICS CC315A or CC313A) or as its JSON twin (application/json).",
            ));
        }
    };
    let bytes = read_body(&state, body).await?;
    let limits = entry_summary::Limits {
        max_bytes: state.config.max_body_bytes,
        ..entry_summary::Limits::default()
    };
    let message = if format == "json" {
        entry_summary::judge_json(&bytes, &limits)
    } else {
        entry_summary::judge(&bytes, &limits)
    }
    .map_err(ApiError::problems)?;
    let lodger = text(&message, &["PERLODSUMDEC", "TINPLD1"]).unwrap_or_default();
    if own_party(&caller) != Some(lodger.as_str()) {
        return Err(ApiError::with_message(
            ErrorCode::Forbidden,
            format!(
                "You act for {}, not for the person lodging this declaration ({lodger}).",
                caller.user.party.as_deref().unwrap_or("no party")
            ),
        ));
    }
    let document =
        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::new(ErrorCode::NotUtf8))?;
    let new = NewEntrySummary {
        kind: match message.kind {
            Kind::Declaration => "declaration",
            Kind::Amendment => "amendment",
        }
        .to_owned(),
        lodged_by_party: lodger,
        reference: text(&message, &["HEAHEA", "RefNumHEA4"]).unwrap_or_default(),
        goods_items: message.root.all("GOOITEGDS").count() as i64,
        format: format.to_owned(),
        first_entry_office: text(&message, &["CUSOFFFENT730", "RefNumCUSOFFFENT731"]),
        expected_arrival: text(&message, &["CUSOFFFENT730", "ExpDatOfArrFIRENT733"]),
        document,
    };
    let actor = audit_actor(&caller);
    match message.kind {
        Kind::Declaration => {
            let reference = new.reference.clone();
            let (year, country) = {
                let pipeline = state.pipeline();
                (now().year(), pipeline.administration.country.clone())
            };
            // 'S' for summary: an entry summary's MRN never equals a declaration's.
            let mrn_of =
                move |serial: u64| declaration::Mrn::issue(year, &country, serial, 'S').to_string();
            match state
                .store
                .lodge_entry_summary(&actor, new, mrn_of, now())
                .await?
            {
                Ok(row) => Ok((StatusCode::CREATED, Json(version_of(&row))).into_response()),
                Err(EntrySummaryRefusal::Duplicate { mrn }) => Err(ApiError::with_message(
                    ErrorCode::EntrySummaryDuplicate,
                    format!(
                        "You already lodged an entry summary declaration with the reference {reference:?} (MRN {mrn}); amend it with a CC313A naming that MRN."
                    ),
                )),
                Err(EntrySummaryRefusal::Unknown) => {
                    Err(ApiError::new(ErrorCode::EntrySummaryUnknown))
                }
            }
        }
        Kind::Amendment => {
            let mrn = text(&message, &["HEAHEA", "DocNumHEA5"]).unwrap_or_default();
            match state
                .store
                .amend_entry_summary(&actor, &mrn, new, now())
                .await?
            {
                Ok(row) => Ok((StatusCode::OK, Json(version_of(&row))).into_response()),
                Err(_) => Err(ApiError::problems(vec![Problem::with_message(
                    ErrorCode::EntrySummaryUnknown,
                    "/ie:CC313A[1]/HEAHEA[1]/DocNumHEA5[1]",
                    format!("No entry summary declaration of yours has the MRN {mrn:?}."),
                )])),
            }
        }
    }
}

/// An entry summary declaration with its versions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EntrySummary {
    pub mrn: String,
    /// Every version, oldest first; the last is in force.
    pub versions: Vec<EntrySummaryVersion>,
}

/// `GET /api/v1/entry-summaries/{mrn}`.
#[utoipa::path(
    get,
    path = "/api/v1/entry-summaries/{mrn}",
    tag = "pre-arrival",
    summary = "An entry summary declaration and its versions",
    description = "Every version (the declaration, then each amendment) with its kind, reference, counts, office of first entry, expected arrival and SHA-256 of the message kept. A carrier reads its own; officers, analysts and auditors any.",
    params(("mrn" = String, Path)),
    responses((status = 200, description = "The declaration", body = crate::entry_summaries::EntrySummary), (status = 404, description = "No such MRN, or not the caller's (entry_summary.unknown)", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(mrn): Path<String>,
) -> Result<Json<EntrySummary>, ApiError> {
    let versions = state.store.entry_summary_versions(&mrn).await?;
    let visible = versions.first().is_some_and(|first| {
        caller.role != crate::policy::Role::Trader
            || own_party(&caller) == Some(first.lodged_by_party.as_str())
    });
    if !visible {
        return Err(ApiError::new(ErrorCode::EntrySummaryUnknown));
    }
    Ok(Json(EntrySummary {
        mrn,
        versions: versions.iter().map(version_of).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most this many (1 to 1000; 50 when absent).
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EntrySummaries {
    /// The versions received, newest first.
    pub entry_summaries: Vec<EntrySummaryVersion>,
}

/// `GET /api/v1/entry-summaries`.
#[utoipa::path(
    get,
    path = "/api/v1/entry-summaries",
    tag = "pre-arrival",
    summary = "Entry summary declarations received",
    description = "The versions received, newest first: a carrier's own, or all for officers, analysts and auditors.",
    params(ListQuery),
    responses((status = 200, description = "The list", body = crate::entry_summaries::EntrySummaries), (status = 400, description = "A query parameter is invalid.", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<EntrySummaries>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            "limit: ask for 1 to 1000 entry summary declarations.",
        ));
    }
    let party = match caller.role {
        crate::policy::Role::Trader => Some(own_party(&caller).unwrap_or("")),
        _ => None,
    };
    let rows = state.store.entry_summaries(party, limit).await?;
    Ok(Json(EntrySummaries {
        entry_summaries: rows.iter().map(version_of).collect(),
    }))
}
