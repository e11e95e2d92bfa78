//! Refunds: what a declaration is owed back (its receivable's credit, after a lower reassessment, a cancellation,
//! or money received beyond what was due) is requested, approved by one officer (above the threshold a second,
//! different one too) and paid out once — each step in the declaration's transaction, so that one credit is
//! refunded once, and never after it is gone.

use crate::access::load_visible;
use crate::declarations::{Asked, execute};
use crate::error::ApiError;
use crate::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use clearance::Act;
use error_table::ErrorCode;
use rust_decimal::Decimal;
use storage::{Refund, RefundStatus, Write};
use workflow::EventKind;

/// `POST /api/v1/declarations/{id}/refunds`: asks for the whole credit back. One open refund per declaration:
/// asking again (even at the same instant) gives the open one.
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/refunds",
    tag = "payments",
    summary = "Request the refund of what a declaration is owed back",
    description = "After a reassessment that lowered the duties (or money received beyond what was due): the ledger is brought to the current assessment and the declaration's credit is requested for refund. One officer approves it; above the configured threshold (1,000.00 by default) a second, different officer too. Asking again returns the open request.",
    params(("id" = String, Path)),
    responses((status = 201, description = "The refund", body = crate::payments::RefundView), (status = 404, description = "No such declaration visible to you", body = crate::error::ErrorBody), (status = 409, description = "Nothing is owed back", body = crate::error::ErrorBody))
)]
pub async fn request_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pipeline = state.pipeline();
    let row = load_visible(&state, &caller, &id).await?;
    if let Some(open) = state.store.open_refund(&row.id).await? {
        return Ok((
            axum::http::StatusCode::CREATED,
            Json(crate::payments::RefundView::from(&open)),
        )
            .into_response());
    }
    if row.assessment.is_none() {
        return Err(ApiError::with_message(
            ErrorCode::TransitionNotAllowed,
            "This declaration was never assessed: nothing can be refunded.",
        ));
    }
    let refund_id = uuid::Uuid::now_v7().to_string();
    let four_eyes_above = state.config.refund_four_eyes_above;
    let requested_by = caller.user.id.clone();
    let result = execute(
        &state,
        &crate::access::actor(&caller),
        &row,
        None,
        Vec::new(),
        |context| {
            if context
                .refunds
                .iter()
                .any(|r| r.status == RefundStatus::Requested)
            {
                // Another request got there first (under the same lock): answered with its refund below.
                return Err(ApiError::new(ErrorCode::ConcurrentUpdate));
            }
            Ok(Some(Asked {
                act: Act::RequestRefund {
                    refund: refund_id.clone(),
                },
                reason: "Refund of the credit requested.".to_owned(),
                version: None,
            }))
        },
        |context, executed| {
            let amount = executed
                .into_iter()
                .flat_map(|e| &e.steps)
                .find_map(|s| match &s.event {
                    EventKind::RefundRequested { amount, .. } => Some(*amount),
                    _ => None,
                })
                .ok_or_else(|| ApiError::internal("a refund request without its amount"))?;
            let currency = context
                .row
                .workflow_state()?
                .liabilities
                .map(|l| l.currency)
                .or_else(|| {
                    context
                        .row
                        .assessment
                        .as_deref()
                        .and_then(|a| serde_json::from_str::<tariff::Assessment>(a).ok())
                        .map(|a| a.currency)
                })
                .unwrap_or_default();
            Ok(vec![Write::RefundRequested(Refund {
                id: refund_id.clone(),
                declaration_id: context.row.id.clone(),
                ledger_key: context.row.ledger_key(),
                amount: pipeline.amount_text(amount),
                currency,
                status: RefundStatus::Requested,
                approvals_needed: if amount > four_eyes_above { 2 } else { 1 },
                approvals: Vec::new(),
                requested_by: requested_by.clone(),
                requested_at: storage::format_time(context.now),
                paid_at: None,
            })])
        },
    )
    .await;
    match result {
        Ok(_) => {}
        Err(error) if error.code == ErrorCode::ConcurrentUpdate => {}
        Err(error) => return Err(error),
    }
    let refund = state
        .store
        .open_refund(&row.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ConcurrentUpdate))?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(crate::payments::RefundView::from(&refund)),
    )
        .into_response())
}

/// `GET /api/v1/refunds/{refund}`.
#[utoipa::path(
    get,
    path = "/api/v1/refunds/{refund}",
    tag = "payments",
    summary = "A refund",
    params(("refund" = String, Path)),
    responses((status = 200, description = "The refund", body = crate::payments::RefundView), (status = 404, description = "No such refund visible to you", body = crate::error::ErrorBody))
)]
pub async fn show_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<crate::payments::RefundView>, ApiError> {
    let refund = state
        .store
        .refund(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    load_visible(&state, &caller, &refund.declaration_id).await?;
    Ok(Json(crate::payments::RefundView::from(&refund)))
}

/// `POST /api/v1/refunds/{refund}/approvals`: an officer approves; the last approval needed pays the refund out
/// (`receivable → bank`) if the credit is still there. The officer who requested it, or who approved already,
/// cannot approve it. Every check is made on the refund as it stands under the declaration's lock.
#[utoipa::path(
    post,
    path = "/api/v1/refunds/{refund}/approvals",
    tag = "payments",
    summary = "Approve a refund",
    description = "Officers. The requester and an officer who approved already cannot approve (refund.four_eyes). The last approval needed pays it out: receivable → the treasury's bank account, once.",
    params(("refund" = String, Path)),
    responses((status = 200, description = "The refund, requested or paid", body = crate::payments::RefundView), (status = 404, description = "No such refund", body = crate::error::ErrorBody), (status = 409, description = "refund.four_eyes, paid already, or a concurrent approval", body = crate::error::ErrorBody))
)]
pub async fn approve_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<crate::payments::RefundView>, ApiError> {
    let refund = state
        .store
        .refund(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let row = load_visible(&state, &caller, &refund.declaration_id).await?;
    let officer = caller.user.id.clone();
    let bank = ledger::customs::bank(&state.config.refund_bank);
    // Decided under the lock: the refund as stored now, its approvals and status.
    let decide = |context: &storage::Context<'_>| -> Result<(Refund, Vec<String>, bool), ApiError> {
        let current = context
            .refunds
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
        if current.status != RefundStatus::Requested {
            return Err(ApiError::with_message(
                ErrorCode::TransitionNotAllowed,
                format!("This refund is {} already.", current.status.as_str()),
            ));
        }
        if current.requested_by == officer {
            return Err(ApiError::with_message(
                ErrorCode::FourEyes,
                "The officer who requested a refund cannot approve it.",
            ));
        }
        if current.approvals.contains(&officer) {
            return Err(ApiError::with_message(
                ErrorCode::FourEyes,
                "You approved this refund already: another officer must approve it.",
            ));
        }
        let expected = current.approvals.clone();
        let mut approved = current;
        approved.approvals.push(officer.clone());
        let last = approved.approvals.len() as i64 >= approved.approvals_needed;
        if last {
            approved.status = RefundStatus::Paid;
        }
        Ok((approved, expected, last))
    };
    execute(
        &state,
        &crate::access::actor(&caller),
        &row,
        None,
        vec![bank.clone()],
        |context| {
            let (approved, _, last) = decide(context)?;
            if !last {
                return Ok(None);
            }
            let amount: Decimal = approved.amount.parse().map_err(ApiError::internal)?;
            Ok(Some(Asked {
                act: Act::Refund {
                    refund: approved.id.clone(),
                    amount,
                    account: bank,
                },
                reason: format!("Refund {} approved and paid.", approved.id),
                version: None,
            }))
        },
        |context, _| {
            let (approved, expected, _) = decide(context)?;
            Ok(vec![Write::RefundApproved {
                refund: approved,
                expected,
                approver: officer.clone(),
            }])
        },
    )
    .await?;
    let refund = state
        .store
        .refund(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok(Json(crate::payments::RefundView::from(&refund)))
}
