//! E-payment and the accounts traders keep with customs (docs/payments.md): payment orders and the banks' signed
//! confirmations ([`bank`]), deferment accounts, guarantees and cash accounts with their holders and authorities
//! ([`accounts`]), refunds with four eyes ([`refunds`]), guarantees discharged or called ([`guarantees`]).
//!
//! Money that concerns a declaration moves only in the declaration's own transaction, decided by the pipeline
//! (`clearance::Pipeline::command`); the routes here ask for it. Ledger-only movements (a period's settlement into
//! a deferment account, a deposit to a cash account) go through `Store::transfer`.

pub mod accounts;
pub mod bank;
pub mod guarantees;
pub mod refunds;

pub use bank::{BANK_HEADER, SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS, sign, verify};

use crate::error::ApiError;
use error_table::{ErrorCode, Problem};
use serde::Serialize;

/// A payment order: what a trader is asked to pay for a declaration, through a bank.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentOrder)]
pub struct PaymentOrderView {
    /// The reference the bank quotes in its confirmation.
    reference: String,
    declaration_id: String,
    #[schema(value_type = crate::openapi::DecimalString)]
    amount: String,
    currency: String,
    /// YYYY-MM-DD.
    due_date: String,
    #[schema(value_type = crate::openapi::OrderStatusName)]
    status: &'static str,
    /// RFC 3339, UTC.
    created_at: String,
    /// RFC 3339, UTC.
    paid_at: Option<String>,
}

impl From<&storage::PaymentOrder> for PaymentOrderView {
    fn from(order: &storage::PaymentOrder) -> Self {
        PaymentOrderView {
            reference: order.reference.clone(),
            declaration_id: order.declaration_id.clone(),
            amount: order.amount.clone(),
            currency: order.currency.clone(),
            due_date: order.due_date.clone(),
            status: order.status.as_str(),
            created_at: order.created_at.clone(),
            paid_at: order.paid_at.clone(),
        }
    }
}

/// A refund of a declaration's credit and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Refund)]
pub struct RefundView {
    id: String,
    declaration_id: String,
    #[schema(value_type = crate::openapi::DecimalString)]
    amount: String,
    currency: String,
    #[schema(value_type = crate::openapi::RefundStatusName)]
    pub(crate) status: &'static str,
    /// 1, or 2 above the administration's four-eyes threshold.
    approvals_needed: i64,
    /// The officers who approved it, in order.
    approvals: Vec<String>,
    /// RFC 3339, UTC.
    requested_at: String,
    /// RFC 3339, UTC.
    paid_at: Option<String>,
}

impl From<&storage::Refund> for RefundView {
    fn from(refund: &storage::Refund) -> Self {
        RefundView {
            id: refund.id.clone(),
            declaration_id: refund.declaration_id.clone(),
            amount: refund.amount.clone(),
            currency: refund.currency.clone(),
            status: refund.status.as_str(),
            approvals_needed: refund.approvals_needed,
            approvals: refund.approvals.clone(),
            requested_at: refund.requested_at.clone(),
            paid_at: refund.paid_at.clone(),
        }
    }
}

/// A body field that is not valid, with its pointer.
pub(crate) fn bad(pointer: &str, message: &str) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidRequest,
        pointer,
        message,
    )])
}

/// An amount a client sends: positive, at most 2 decimals, at most the administration's ceiling per amount.
pub(crate) fn amount(
    state: &crate::AppState,
    value: rust_decimal::Decimal,
    pointer: &str,
) -> Result<rust_decimal::Decimal, ApiError> {
    let max = state.pipeline().max_amount;
    if value <= rust_decimal::Decimal::ZERO || value.scale() > 2 || value > max {
        return Err(ApiError::problems(vec![Problem::with_message(
            if value > max {
                ErrorCode::AmountTooLarge
            } else {
                ErrorCode::InvalidRequest
            },
            pointer,
            format!("The amount is positive, with at most 2 decimals, and at most {max}."),
        )]));
    }
    Ok(value)
}
