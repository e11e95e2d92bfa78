//! The officer's refunds awaiting approval (four eyes, as the API enforces it): oldest first, each with its
//! declaration, amount, who asked and the approvals it has and needs; the approve form calls the API's own
//! handler (`payments::refunds::approve_refund`), so the requester or an officer who approved already is refused
//! there, and the last approval pays the refund out through the ledger once.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame, field_errors};
use crate::portal::{local_time, posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use wording::Language;

/// Refunds shown at once (the oldest first: they are the ones to decide).
const SHOWN: i64 = 100;

struct RefundRow {
    id: String,
    declaration_id: String,
    lrn: String,
    amount: String,
    requested_by: String,
    requested_at: String,
    approvals: String,
    /// Why the signed-in officer cannot approve it, if so.
    not_yours: Option<String>,
}

#[derive(Template)]
#[template(path = "refunds.html")]
struct RefundsPage {
    t: Language,
    frame: Frame,
    rows: Vec<RefundRow>,
    threshold: String,
    zone: String,
}

#[derive(serde::Deserialize, Default)]
pub struct RefundsQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    done: Option<&str>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let places = pipeline.administration.currency.decimal_places;
    let currency = pipeline.administration.currency.code.as_str().to_owned();
    let mut names = std::collections::BTreeMap::new();
    let mut rows = Vec::new();
    for (refund, lrn) in state.store.refunds_awaiting(SHOWN).await? {
        if !names.contains_key(&refund.requested_by) {
            let name = state
                .store
                .user(&refund.requested_by)
                .await?
                .map_or_else(|| refund.requested_by.clone(), |u| u.name);
            names.insert(refund.requested_by.clone(), name);
        }
        let me = &caller.user.id;
        let not_yours = if refund.requested_by == *me {
            Some(t.get("page-refund-you-asked"))
        } else if refund.approvals.contains(me) {
            Some(t.get("page-refund-you-approved"))
        } else {
            None
        };
        rows.push(RefundRow {
            amount: declaration::parse_decimal(&refund.amount).map_or_else(
                |_| format!("{} {}", refund.amount, refund.currency),
                |a| t.amount(a, places, &refund.currency),
            ),
            requested_by: names[&refund.requested_by].clone(),
            requested_at: local_time(&refund.requested_at, office),
            approvals: t.text(
                "page-refund-approvals-of",
                &[
                    ("given", &refund.approvals.len().to_string()),
                    ("needed", &refund.approvals_needed.to_string()),
                ],
            ),
            not_yours,
            id: refund.id,
            declaration_id: refund.declaration_id,
            lrn,
        });
    }
    let done = done
        .filter(|d| ["refund-approved", "refund-paid"].contains(d))
        .map(|d| t.get(&format!("page-done-{d}")));
    let uri = Uri::from_static("/portal/refunds");
    let frame = Frame::signed_in(state, caller, session, headers, &uri, t.get("page-refunds"))
        .with_errors(errors)
        .with_done(done);
    let html = render(&RefundsPage {
        t,
        frame,
        rows,
        threshold: t.amount(state.config.refund_four_eyes_above, places, &currency),
        zone,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/refunds`.
#[utoipa::path(
    get,
    path = "/portal/refunds",
    tag = "portal",
    summary = "Refunds awaiting approval (officer's page)",
    description = "Refunds waiting for their approvals, oldest first (the first 100), with the declaration, amount, who asked, approvals given and needed (two above the four-eyes threshold), and the approve button where the signed-in officer may approve. Officers.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Query(query): Query<RefundsQuery>,
) -> Result<Response, ApiError> {
    page(
        &state,
        &caller,
        &session,
        &headers,
        query.done.as_deref(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/refunds/{refund}/approval`.
#[utoipa::path(
    post,
    path = "/portal/refunds/{refund}/approval",
    tag = "portal",
    summary = "Approve a refund (form)",
    description = "Form field `csrf`. As `POST /api/v1/refunds/{refund}/approvals`: the requester and an officer who approved already are refused (refund.four_eyes); the last approval needed pays the refund out once. Then 303 to the refunds page saying whether it was approved or paid, or the page with the error.",
    params(("refund" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Approved (or paid): back to the refunds page"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 409, description = "Four eyes, or paid already: the page with the error", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(refund): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    posted_form(&headers, &session, &body, 4096)?;
    let outcome = crate::payments::refunds::approve_refund(
        State(state.clone()),
        Extension(caller.clone()),
        Path(refund.clone()),
    )
    .await;
    match outcome {
        Ok(view) => {
            let done = if view.0.status == storage::RefundStatus::Paid.as_str() {
                "refund-paid"
            } else {
                "refund-approved"
            };
            Ok(Redirect::to(&format!("/portal/refunds?done={done}")).into_response())
        }
        Err(error) if error.code == ErrorCode::NotFound => Err(error),
        Err(error) => {
            let t = state.wording(&headers).language;
            let error = crate::portal_declarations::in_language(t, error);
            let status = error.status();
            let errors = field_errors(&error, &format!("approve-{refund}"))
                .into_iter()
                .map(|mut e| {
                    e.field = format!("approve-{refund}");
                    e
                })
                .collect();
            page(&state, &caller, &session, &headers, None, errors, status).await
        }
    }
}
