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
use serde_json::{Value, json};
use storage::{Refund, RefundStatus, Write};
use workflow::EventKind;

pub(crate) fn refund_json(refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "declaration_id": refund.declaration_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "status": refund.status,
        "approvals_needed": refund.approvals_needed,
        "approvals": refund.approvals,
        "requested_at": refund.requested_at,
        "paid_at": refund.paid_at,
    })
}

/// `POST /api/v1/declarations/{id}/refunds`: asks for the whole credit back. One open refund per declaration:
/// asking again (even at the same instant) gives the open one.
pub async fn request_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    if let Some(open) = state.store.open_refund(&row.id).await? {
        return Ok((axum::http::StatusCode::CREATED, Json(refund_json(&open))).into_response());
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
                amount: format!("{amount:.2}"),
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
    Ok((axum::http::StatusCode::CREATED, Json(refund_json(&refund))).into_response())
}

/// `GET /api/v1/refunds/{refund}`.
pub async fn show_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let refund = state
        .store
        .refund(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    load_visible(&state, &caller, &refund.declaration_id).await?;
    Ok(Json(refund_json(&refund)))
}

/// `POST /api/v1/refunds/{refund}/approvals`: an officer approves; the last approval needed pays the refund out
/// (`receivable → bank`) if the credit is still there. The officer who requested it, or who approved already,
/// cannot approve it. Every check is made on the refund as it stands under the declaration's lock.
pub async fn approve_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(refund_json(&refund)))
}
