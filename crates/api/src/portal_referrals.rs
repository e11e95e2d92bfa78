//! Referrals in the portal (issue 20, item 6): a carrier reads what customs asks of it about the consignments of
//! its entry summary declarations and answers each once; officers read every referral and close it (a
//! do-not-load is lifted). The forms call the API's own handlers (`entry_summaries::answer`, `…::close`), so the
//! checks and the audit are the API's. A carrier also sees its entry summaries, newest first.

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
use wording::Language;

/// Referrals and entry summaries shown at once.
const SHOWN: i64 = 200;

struct ReferralRow {
    id: String,
    mrn: String,
    kind: String,
    reason: String,
    status: String,
    carrier: String,
    opened_at: String,
    /// Who opened it, as the page says it: the risk rules at lodgement, or customs.
    opened_by: String,
    answer: String,
    closing_note: String,
    /// The signed-in carrier may answer it.
    answerable: bool,
    /// The signed-in officer may close it.
    closable: bool,
}

struct SummaryRow {
    mrn: String,
    reference: String,
    version: i64,
    goods_items: i64,
    received_at: String,
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    t: Language,
    frame: Frame,
    rows: Vec<ReferralRow>,
    summaries: Vec<SummaryRow>,
    carrier: bool,
    zone: String,
    typed: Vec<(String, String)>,
}

impl ReferralsPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn kind_label(t: Language, kind: &str) -> String {
    t.get(match kind {
        "request_for_information" => "page-referral-kind-information",
        "high_risk_cargo_screening" => "page-referral-kind-screening",
        _ => "page-referral-kind-do-not-load",
    })
}

fn status_label(t: Language, status: &str) -> String {
    t.get(match status {
        "open" => "page-referral-status-open",
        "answered" => "page-referral-status-answered",
        _ => "page-referral-status-closed",
    })
}

#[derive(serde::Deserialize, Default)]
pub struct ReferralsQuery {
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    done: Option<&str>,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let carrier = caller.role == Role::Trader;
    let party = carrier.then(|| caller.user.party.clone().unwrap_or_default());
    let rows = state
        .store
        .referrals(None, party.as_deref(), None, SHOWN)
        .await?
        .into_iter()
        .map(|r| ReferralRow {
            answerable: carrier && r.status == "open",
            closable: caller.role == Role::Officer && r.status != "closed",
            kind: kind_label(t, &r.kind),
            status: status_label(t, &r.status),
            opened_at: local_time(&r.opened_at, office),
            opened_by: t.get(if r.opened_by == storage::screened_by().id {
                "page-referral-by-rules"
            } else {
                "page-referral-by-customs"
            }),
            answer: r.answer.unwrap_or_default(),
            closing_note: r.closing_note.unwrap_or_default(),
            carrier: r.lodged_by_party,
            id: r.id,
            mrn: r.mrn,
            reason: r.reason,
        })
        .collect();
    let summaries = match &party {
        Some(party) => state
            .store
            .entry_summaries(Some(party), SHOWN)
            .await?
            .into_iter()
            .map(|s| SummaryRow {
                received_at: local_time(&s.received_at, office),
                mrn: s.mrn,
                reference: s.reference,
                version: s.version,
                goods_items: s.goods_items,
            })
            .collect(),
        None => Vec::new(),
    };
    let done = match done {
        Some("answered") => Some(t.get("page-referral-answered")),
        Some("closed") => Some(t.get("page-referral-closed")),
        _ => None,
    };
    let uri = Uri::from_static("/portal/referrals");
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        &uri,
        t.get("page-referrals"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&ReferralsPage {
        t,
        frame,
        rows,
        summaries,
        carrier,
        zone,
        typed,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/referrals`.
#[utoipa::path(
    get,
    path = "/portal/referrals",
    tag = "portal",
    summary = "Referrals before loading or arrival (page)",
    description = "What customs asks of carriers about their consignments (requests for information, high-risk cargo screening, do-not-load), oldest first: a carrier its own, with the answer form where one is open, and its entry summary declarations; officers, analysts and auditors every referral, officers with the close form.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Query(query): Query<ReferralsQuery>,
) -> Result<Response, ApiError> {
    page(
        &state,
        &caller,
        &session,
        &headers,
        query.done.as_deref(),
        Vec::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Sends a form's text to the API's handler; on a refusal, the page again with the error at the form's field.
async fn act(
    state: AppState,
    caller: Caller,
    session: PortalSession,
    headers: HeaderMap,
    id: String,
    body: Bytes,
    answer: bool,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 16 * 1024)?;
    let text = field(&fields, "text").to_owned();
    let json = if answer {
        serde_json::json!({"answer": text})
    } else {
        serde_json::json!({"note": text})
    };
    let body = Body::from(serde_json::to_vec(&json).map_err(ApiError::internal)?);
    let outcome = if answer {
        crate::entry_summaries::answer(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            body,
        )
        .await
    } else {
        crate::entry_summaries::close(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            body,
        )
        .await
    };
    let t = state.wording(&headers).language;
    let name = format!("text-{id}");
    match outcome {
        Ok(_) => Ok(Redirect::to(if answer {
            "/portal/referrals?done=answered"
        } else {
            "/portal/referrals?done=closed"
        })
        .into_response()),
        Err(error) if error.status().is_client_error() => {
            let status = error.status();
            // The text's own rule said in the page's language; the rest as the error table says it.
            let empty = error.code == error_table::ErrorCode::InvalidRequest;
            let mut errors = refusal_fields(t, error, &name, |_| name.clone());
            if empty {
                for e in &mut errors {
                    e.message = t.get("page-referral-text-needed");
                }
            }
            page(
                &state,
                &caller,
                &session,
                &headers,
                None,
                errors,
                vec![(name.clone(), text)],
                status,
            )
            .await
        }
        Err(error) => Err(error),
    }
}

/// `POST /portal/referrals/{id}/answer`.
#[utoipa::path(
    post,
    path = "/portal/referrals/{id}/answer",
    tag = "portal",
    summary = "Answer a referral (carrier's form)",
    description = "Form fields `csrf` and `text`. Answered as `POST /api/v1/referrals/{id}/answer` answers (once, audited): 303 to the page; refused: the page with the error at the field.",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Answered"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn answer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    act(state, caller, session, headers, id, body, true).await
}

/// `POST /portal/referrals/{id}/closure`.
#[utoipa::path(
    post,
    path = "/portal/referrals/{id}/closure",
    tag = "portal",
    summary = "Close a referral (officer's form)",
    description = "Form fields `csrf` and `text` (the closing note). Closed as `POST /api/v1/referrals/{id}/closure` closes it (a do-not-load is lifted; audited): 303 to the page; refused: the page with the error at the field.",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Closed"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    act(state, caller, session, headers, id, body, false).await
}
