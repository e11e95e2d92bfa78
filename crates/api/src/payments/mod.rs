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
