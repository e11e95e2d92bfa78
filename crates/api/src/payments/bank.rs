//! Payment orders, the banks' signed confirmations, and receipts.
//!
//! A trader (or an officer) asks for a payment order for a declaration awaiting payment: an order with a
//! reference, amount and due date is issued (one open order per declaration; a new amount supersedes the old
//! order). The trader pays through its bank; the bank confirms at `POST /api/v1/bank/confirmations`, signed with
//! its key:
//!
//! ```text
//! X-Aduana-Bank: BANKID
//! X-Aduana-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>." + body)>
//! ```
//!
//! A signature older than the tolerance (5 minutes) is refused (replay), a confirmation id already received is
//! answered as a replay without effect, the same id with another body is a conflict. A new confirmation is one
//! transaction: the confirmation, `bank:<bank> → receivable:<declaration>`, the payment event and what follows by
//! itself (settlement, release), the receipt, and the order marked paid.

use super::bad;
use crate::access::load_visible;
use crate::declarations::{Asked, DeclarationSummary, execute, summary};
use crate::error::ApiError;
use crate::request::{parse_json, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use clearance::Act;
use error_table::{ErrorCode, Problem};
use ledger::TransferId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use storage::{Confirmation, OrderStatus, PaymentOrder, Write};
use workflow::{Actor, PaymentSource, Status};

pub const BANK_HEADER: &str = "x-aduana-bank";
pub const SIGNATURE_HEADER: &str = "x-aduana-signature";
/// How old a signature may be.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = signed::TOLERANCE_SECONDS;

/// The signature header for `body` sent at `timestamp` (unix seconds): what a bank computes.
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    signed::sign(key, timestamp, body)
}

/// Checks a signature header against `body` at `now` (unix seconds).
pub fn verify(key: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    signed::verify(key, header, body, now).map_err(|refusal| match refusal {
        signed::Refusal::Malformed => {
            "The signature header must read t=<unix seconds>,v1=<hex HMAC-SHA256>."
        }
        signed::Refusal::Stale => {
            "The signature is too old or from the future: a replayed message is refused."
        }
        signed::Refusal::Mismatch => "The signature does not match the body and the bank's key.",
    })
}

/// `POST /api/v1/declarations/{id}/payment-orders`: the open order for what is outstanding, or a new one (in the
/// declaration's transaction, so that requests at once get one order).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/payment-orders",
    tag = "payments",
    summary = "Issue a payment order",
    description = "For a declaration awaiting payment: issues an order for the outstanding amount, payable through a bank within 10 days (what the declaration owes was posted to the ledger when it was assessed). Asking again returns the same open order; a new amount supersedes it.",
    params(("id" = String, Path)),
    responses((status = 201, description = "The order", body = crate::payments::PaymentOrderView), (status = 404, description = "No such declaration visible to you", body = crate::error::ErrorBody), (status = 409, description = "The declaration does not await payment (lifecycle.transition_not_allowed)", body = crate::error::ErrorBody))
)]
pub async fn create_order(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let who = crate::access::actor(&caller);
    let pipeline = state.pipeline();
    execute(
        &state,
        &who,
        &row,
        None,
        Vec::new(),
        |_| Ok(None),
        |context, _| {
            let lifecycle = context.row.workflow_state()?;
            if lifecycle.status != Status::AwaitingPayment {
                return Err(ApiError::with_message(
                    ErrorCode::TransitionNotAllowed,
                    format!(
                        "A payment order is issued for a declaration awaiting payment; this one is {}.",
                        lifecycle.status.as_str()
                    ),
                ));
            }
            let due = lifecycle.outstanding();
            let amount = pipeline.amount_text(due);
            let due_date = pipeline.payment_due(context.row.office.as_deref(), context.now);
            let open = context.orders.iter().find(|o| o.status == OrderStatus::Open);
            if open.is_some_and(|o| o.amount == amount) {
                return Ok(Vec::new()); // asked again: the same order
            }
            let currency = lifecycle
                .liabilities
                .as_ref()
                .map(|l| l.currency.clone())
                .unwrap_or_default();
            let digest = Sha256::digest(
                format!("{}:{}:{}:{due}", context.row.id, context.row.version, context.row.revision)
                    .as_bytes(),
            );
            let mut writes = Vec::new();
            if let Some(old) = open {
                writes.push(Write::OrderStatus {
                    reference: old.reference.clone(),
                    status: OrderStatus::Superseded,
                });
            }
            writes.push(Write::OrderIssued(PaymentOrder {
                reference: format!("PO-{}", hex::encode(&digest[..8]).to_uppercase()),
                declaration_id: context.row.id.clone(),
                ledger_key: context.row.ledger_key(),
                party: Some(context.row.declarant.clone()),
                amount,
                currency,
                due_date: due_date.to_string(),
                status: OrderStatus::Open,
                created_at: storage::format_time(context.now),
                paid_at: None,
            }));
            Ok(writes)
        },
    )
    .await?;
    let order = state
        .store
        .open_order(&row.id)
        .await?
        .ok_or_else(|| ApiError::internal("an order issued is not open"))?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(crate::payments::PaymentOrderView::from(&order)),
    )
        .into_response())
}

/// `GET /api/v1/payment-orders/{reference}`.
#[utoipa::path(
    get,
    path = "/api/v1/payment-orders/{reference}",
    tag = "payments",
    summary = "A payment order",
    params(("reference" = String, Path)),
    responses((status = 200, description = "The order", body = crate::payments::PaymentOrderView), (status = 404, description = "No such order visible to you", body = crate::error::ErrorBody))
)]
pub async fn show_order(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(reference): Path<String>,
) -> Result<Json<crate::payments::PaymentOrderView>, ApiError> {
    let order = match state.store.payment_order(&reference).await? {
        Some(order) if reference.len() <= 64 => order,
        _ => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    // Visible to whoever may see the declaration.
    load_visible(&state, &caller, &order.declaration_id).await?;
    Ok(Json(crate::payments::PaymentOrderView::from(&order)))
}

/// A bank's confirmation that a payment order was paid.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBody {
    /// The bank's id of this confirmation, 1 to 64 letters, digits, - _ or .: a second delivery is a replay.
    confirmation_id: String,
    /// The payment order's reference.
    order_reference: String,
    /// What was paid, a decimal string (at most 2 decimals).
    #[schema(value_type = crate::openapi::DecimalString)]
    amount: String,
    /// ISO 4217.
    currency: String,
    /// When the bank took the money (RFC 3339), for the bank's records.
    #[serde(default)]
    paid_at: Option<String>,
}

/// What became of a confirmation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationStatus {
    /// The money paid what the declaration owed.
    Applied,
    /// The declaration no longer awaited it (paid already, cancelled): the money is kept as a credit, to refund.
    ReceivedNotApplied,
    /// This confirmation was received before: nothing happened again.
    AlreadyReceived,
}

/// A declaration after a payment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaidDeclaration {
    #[serde(flatten)]
    summary: DeclarationSummary,
    /// What it still owes, a decimal string with 2 decimals.
    #[schema(value_type = crate::openapi::DecimalString)]
    outstanding: String,
}

/// The answer to a bank's confirmation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfirmationAnswer {
    status: ConfirmationStatus,
    /// The receipt issued (GET /api/v1/receipts/{receipt}); none for a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    declaration: Option<PaidDeclaration>,
}

/// A payment receipt. Field order is the canonical order: its SHA-256 is taken over this JSON.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub receipt: String,
    pub declaration_id: String,
    pub mrn: Option<String>,
    pub lrn: String,
    pub payer: String,
    pub order_reference: String,
    pub bank: String,
    pub confirmation_id: String,
    pub amount: String,
    pub currency: String,
    pub received_at: String,
}

/// `POST /api/v1/bank/confirmations`: no bearer token; the bank's signature authenticates it.
#[utoipa::path(
    post,
    path = "/api/v1/bank/confirmations",
    tag = "payments",
    summary = "A bank confirms a payment",
    description = "No bearer token: the bank signs the body. Headers `X-Aduana-Bank: <bank id>` and `X-Aduana-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, \"<t>.\" + body)>`; signatures older than 300 s are refused. A confirmation id received before is answered `already_received` without effect; the same id with another body is a conflict. A new confirmation is one transaction: the confirmation, bank → receivable in the ledger, the payment on the declaration (settled and released when all is paid), the receipt, and the order marked paid. Money for a declaration that no longer awaits it is kept as a credit (status received_not_applied), to refund.",
    request_body(content((crate::payments::bank::ConfirmationBody = "application/json"))),
    responses((status = 200, description = "applied, already_received, or received_not_applied (the declaration no longer awaited payment: the money stays as a credit for refund)", body = crate::payments::bank::ConfirmationAnswer), (status = 401, description = "payment.signature_invalid", body = crate::error::ErrorBody), (status = 404, description = "No such order", body = crate::error::ErrorBody), (status = 409, description = "payment.confirmation_conflict", body = crate::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::error::ErrorBody))
)]
pub async fn confirmation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ConfirmationAnswer>, ApiError> {
    let pipeline = state.pipeline();
    let bytes = read_body(&state, body).await?;
    let bank = headers
        .get(BANK_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Some(key) = state.config.bank_keys.get(&bank) else {
        return Err(ApiError::with_message(
            ErrorCode::SignatureInvalid,
            "The X-Aduana-Bank header does not name a bank this administration knows.",
        ));
    };
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    verify(key, signature, &bytes, now.unix_timestamp())
        .map_err(|message| ApiError::with_message(ErrorCode::SignatureInvalid, message))?;

    let body: ConfirmationBody = parse_json(&bytes)?;
    if body.confirmation_id.is_empty()
        || body.confirmation_id.len() > 64
        || !body
            .confirmation_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(bad(
            "/confirmation_id",
            "The confirmation id is 1 to 64 letters, digits, - _ or .",
        ));
    }
    let amount = declaration::parse_decimal(&body.amount)
        .map_err(|_| {
            bad(
                "/amount",
                "The amount is positive, with at most 2 decimals.",
            )
        })
        .and_then(|a| super::amount(&state, a, "/amount"))?;
    let currency = declaration::Currency::parse(&body.currency)
        .map_err(|_| bad("/currency", "The currency is an ISO 4217 code."))?;
    let _ = &body.paid_at;
    let order = state
        .store
        .payment_order(&body.order_reference)
        .await?
        .ok_or_else(|| {
            ApiError::problems(vec![Problem::with_message(
                ErrorCode::NotFound,
                "/order_reference",
                "No payment order has this reference.",
            )])
        })?;
    if order.currency != currency.as_str() {
        return Err(bad(
            "/currency",
            &format!("The order is in {}.", order.currency),
        ));
    }
    let confirmation = Confirmation {
        bank: bank.clone(),
        confirmation_id: body.confirmation_id.clone(),
        order_reference: order.reference.clone(),
        amount: pipeline.amount_text(amount),
        currency: currency.to_string(),
        body_sha256: hex::encode(Sha256::digest(&bytes)),
        received_at: storage::format_time(now),
    };
    if let Some(answer) = replayed(&state, &confirmation).await? {
        return answer;
    }
    let row = state
        .store
        .declaration(&order.declaration_id)
        .await?
        .ok_or_else(|| ApiError::internal("an order's declaration vanished"))?;
    let awaiting_before = row.status == Status::AwaitingPayment;
    let who = Actor {
        id: format!("bank:{bank}"),
        role: "bank".into(),
    };
    let receipt_id = format!("RC-{bank}-{}", body.confirmation_id);
    let account = ledger::customs::bank(&bank);
    let transfer = TransferId::parse(&format!("bank:{bank}:{}", body.confirmation_id))
        .map_err(ApiError::internal)?;
    // The receipt: canonical JSON (fixed field order), its SHA-256 recorded with the payment event.
    let receipt = |context: &storage::Context<'_>| -> Result<(String, String), ApiError> {
        let receipt = Receipt {
            receipt: receipt_id.clone(),
            declaration_id: context.row.id.clone(),
            mrn: context.row.mrn.clone(),
            lrn: context.row.lrn.clone(),
            payer: context.row.declarant.clone(),
            order_reference: order.reference.clone(),
            bank: bank.clone(),
            confirmation_id: body.confirmation_id.clone(),
            amount: pipeline.amount_text(amount),
            currency: currency.to_string(),
            received_at: confirmation.received_at.clone(),
        };
        let content = serde_json::to_string(&receipt).map_err(ApiError::internal)?;
        let hash = hex::encode(Sha256::digest(content.as_bytes()));
        Ok((content, hash))
    };
    let executed = execute(
        &state,
        &who,
        &row,
        None,
        vec![account.clone()],
        |context| {
            let (_, hash) = receipt(context)?;
            Ok(Some(Asked {
                act: Act::Payment {
                    amount,
                    reference: order.reference.clone(),
                    source: PaymentSource::Bank,
                    account,
                    transfer,
                },
                reason: format!(
                    "Payment {} confirmed by {bank} ({}); receipt {receipt_id}, sha256 {hash}.",
                    order.reference, body.confirmation_id
                ),
                version: None,
            }))
        },
        |context, executed| {
            let (content, sha256) = receipt(context)?;
            let mut writes = vec![
                Write::Confirmation(confirmation.clone()),
                Write::Receipt {
                    id: receipt_id.clone(),
                    declaration_id: context.row.id.clone(),
                    content,
                    sha256,
                },
            ];
            let settled = executed.is_none_or(|e| {
                e.state.outstanding() <= Decimal::ZERO || e.state.status != Status::AwaitingPayment
            });
            if settled {
                writes.push(Write::OrderStatus {
                    reference: order.reference.clone(),
                    status: OrderStatus::Paid,
                });
            }
            Ok(writes)
        },
    )
    .await;
    let row = match executed {
        Ok(row) => row,
        // The same confirmation delivered twice at once: the one that lost finds the winner's.
        Err(error) if error.code == ErrorCode::ConcurrentUpdate => {
            if let Some(answer) = replayed(&state, &confirmation).await? {
                return answer;
            }
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    let lifecycle = row.workflow_state()?;
    Ok(Json(ConfirmationAnswer {
        // Money for a declaration that no longer awaited it (paid already, cancelled) is recorded and kept on its
        // receivable as a credit, to refund: received, not applied to what is due.
        status: if awaiting_before {
            ConfirmationStatus::Applied
        } else {
            ConfirmationStatus::ReceivedNotApplied
        },
        receipt: Some(receipt_id),
        declaration: Some(PaidDeclaration {
            summary: summary(&row),
            outstanding: pipeline.amount_text(lifecycle.outstanding()),
        }),
    }))
}

/// The answer to a confirmation received before: the same body is a replay, another one a conflict.
async fn replayed(
    state: &AppState,
    confirmation: &Confirmation,
) -> Result<Option<Result<Json<ConfirmationAnswer>, ApiError>>, ApiError> {
    Ok(
        match state
            .store
            .confirmation(&confirmation.bank, &confirmation.confirmation_id)
            .await?
        {
            Some(stored) if stored.body_sha256 == confirmation.body_sha256 => {
                Some(Ok(Json(ConfirmationAnswer {
                    status: ConfirmationStatus::AlreadyReceived,
                    receipt: None,
                    declaration: None,
                })))
            }
            Some(_) => Some(Err(ApiError::with_message(
                ErrorCode::ConfirmationConflict,
                "This confirmation id was already received with different content.",
            ))),
            None => None,
        },
    )
}

/// A receipt with the exact text it was issued as and that text's SHA-256 (what the audit trail records).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptAnswer {
    receipt: Receipt,
    /// The receipt as issued: the JSON whose SHA-256 is `sha256`.
    content: String,
    sha256: String,
}

#[derive(askama::Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    r: &'a Receipt,
    sha256: &'a str,
    /// The amount as the page's language writes it, with its currency.
    amount: String,
    t: wording::Language,
}

/// `GET /api/v1/receipts/{receipt}`: the receipt as JSON (with its SHA-256), or as a printable page when the
/// client accepts `text/html`.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/{receipt}",
    tag = "payments",
    summary = "A payment receipt",
    description = "Issued for every bank confirmation applied. JSON: the receipt, its canonical JSON `content` and its `sha256` (recorded with the payment event of the declaration); with `Accept: text/html`, a printable page.",
    params(("receipt" = String, Path)),
    responses((status = 200, description = "The receipt", content((crate::payments::bank::ReceiptAnswer = "application/json"), (crate::payments::bank::ReceiptAnswer = "text/html"))), (status = 404, description = "No such receipt visible to you", body = crate::error::ErrorBody))
)]
pub async fn show_receipt(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (declaration_id, content, sha256) = state
        .store
        .receipt(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    load_visible(&state, &caller, &declaration_id).await?;
    let receipt: Receipt = serde_json::from_str(&content).map_err(ApiError::internal)?;
    if crate::request::accepts(&headers, &["text/html"]) {
        use askama::Template;
        let wording = state.wording(&headers);
        let amount = declaration::parse_decimal(&receipt.amount).map_or_else(
            |_| format!("{} {}", receipt.amount, receipt.currency),
            |a| {
                wording
                    .language
                    .amount(a, wording.places, &receipt.currency)
            },
        );
        let page = ReceiptPage {
            r: &receipt,
            sha256: &sha256,
            amount,
            t: wording.language,
        }
        .render()
        .map_err(ApiError::internal)?;
        return Ok((
            // The security headers are added to every response by `security::headers`.
            [
                (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    axum::http::header::CONTENT_LANGUAGE,
                    wording.language.code(),
                ),
            ],
            page,
        )
            .into_response());
    }
    Ok(Json(ReceiptAnswer {
        receipt,
        content,
        sha256,
    })
    .into_response())
}
