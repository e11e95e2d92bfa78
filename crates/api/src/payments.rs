//! E-payment: payment orders, the banks' signed confirmations, and the reconciliation report.
//!
//! A trader (or an officer) asks for a payment order for a declaration awaiting payment: the immediate
//! liabilities are posted to the ledger (`receivable:<declaration> → revenue:<tax type>`, idempotent ids) and an
//! order with a reference, amount and due date is issued. The trader pays through its bank; the bank confirms at
//! `POST /api/v1/bank/confirmations`, signed with its key:
//!
//! ```text
//! X-Aduana-Bank: BANKID
//! X-Aduana-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>." + body)>
//! ```
//!
//! A signature older than the tolerance (5 minutes) is refused (replay), a confirmation id already received is
//! answered as a replay without effect, the same id with another body is a conflict. A new confirmation posts
//! `bank:<bank> → receivable:<declaration>` to the ledger and records the payment on the declaration, which
//! settles and releases it when everything is paid.

use crate::error::ApiError;
use crate::handlers::{apply_as, load_visible, summary};
use crate::{AppState, Caller};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use error_table::{ErrorCode, Problem};
use hmac::{Hmac, Mac};
use ledger::{Applied, LedgerError, Transfer, TransferId, TransferKind, customs};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use storage::{Confirmation, ConfirmationRecorded, PaymentOrder, TransferOutcome};
use workflow::{Actor, Command, Status};

pub const BANK_HEADER: &str = "x-aduana-bank";
pub const SIGNATURE_HEADER: &str = "x-aduana-signature";
/// How old a signature may be.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;
/// Days a trader has to pay an order.
pub const ORDER_DAYS: i64 = 10;

/// The signature header for `body` sent at `timestamp` (unix seconds): what a bank computes.
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks a signature header against `body` at `now` (unix seconds).
pub fn verify(key: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signature = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err("The signature header must read t=<unix seconds>,v1=<hex HMAC-SHA256>.");
    };
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_SECONDS {
        return Err("The signature is too old or from the future: a replayed message is refused.");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    // Constant-time comparison.
    mac.verify_slice(&signature)
        .map_err(|_| "The signature does not match the body and the bank's key.")
}

fn order_json(order: &PaymentOrder) -> Value {
    json!({
        "reference": order.reference,
        "declaration_id": order.declaration_id,
        "amount": order.amount,
        "currency": order.currency,
        "due_date": order.due_date,
        "status": order.status,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
    })
}

fn transfer(
    id: String,
    debit: ledger::AccountId,
    credit: ledger::AccountId,
    amount: Decimal,
    currency: &declaration::Currency,
    code: &str,
    reference: &str,
) -> Result<Transfer, ApiError> {
    Ok(Transfer {
        id: TransferId::parse(&id).map_err(ApiError::internal)?,
        debit,
        credit,
        amount,
        currency: currency.clone(),
        kind: TransferKind::Posted,
        code: code.to_owned(),
        reference: reference.to_owned(),
        at: storage::format_time(time::OffsetDateTime::now_utc()),
    })
}

async fn post(state: &AppState, transfers: Vec<Transfer>) -> Result<Vec<Applied>, ApiError> {
    if transfers.is_empty() {
        return Ok(Vec::new());
    }
    match state
        .store
        .transfer(transfers, time::OffsetDateTime::now_utc())
        .await?
    {
        TransferOutcome::Applied(answers) => Ok(answers),
        TransferOutcome::Refused(refusal) => Err(ApiError::with_message(
            ErrorCode::LedgerRefused,
            refusal.to_string(),
        )),
    }
}

/// `POST /api/v1/declarations/{id}/payment-orders`.
pub async fn create_order(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let lifecycle = row.workflow_state()?;
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
    let (_, currency) = sync_assessment(&state, &row, &lifecycle).await?;
    let digest = Sha256::digest(format!("{}:{}:{due}", row.id, row.version).as_bytes());
    let reference = format!("PO-{}", hex::encode(&digest[..8]).to_uppercase());
    let now = time::OffsetDateTime::now_utc();
    let order = state
        .store
        .payment_order_for(PaymentOrder {
            reference,
            declaration_id: row.id.clone(),
            ledger_key: clearance::ledger_key(&row.declarant, &row.lrn),
            party: Some(row.declarant.clone()),
            amount: format!("{due:.2}"),
            currency: currency.to_string(),
            due_date: (now.date() + time::Duration::days(ORDER_DAYS)).to_string(),
            status: "open".into(),
            created_at: storage::format_time(now),
            paid_at: None,
        })
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(order_json(&order))).into_response())
}

/// `GET /api/v1/payment-orders/{reference}`.
pub async fn show_order(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(reference): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = match state.store.payment_order(&reference).await? {
        Some(order) if reference.len() <= 64 => order,
        _ => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    // Visible to whoever may see the declaration.
    load_visible(&state, &caller, &order.declaration_id).await?;
    Ok(Json(order_json(&order)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmationBody {
    confirmation_id: String,
    order_reference: String,
    amount: String,
    currency: String,
    #[serde(default)]
    paid_at: Option<String>,
}

fn bad(pointer: &str, message: &str) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidRequest,
        pointer,
        message,
    )])
}

/// `POST /api/v1/bank/confirmations`: no bearer token; the bank's signature authenticates it.
pub async fn confirmation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = crate::handlers::read_body(&state, body).await?;
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

    let body: ConfirmationBody = crate::handlers::parse_json(&bytes)?;
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
        .ok()
        .filter(|a| *a > Decimal::ZERO && a.scale() <= 2)
        .ok_or_else(|| {
            bad(
                "/amount",
                "The amount is positive, with at most 2 decimals.",
            )
        })?;
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
    let recorded = state
        .store
        .record_confirmation(&Confirmation {
            bank: bank.clone(),
            confirmation_id: body.confirmation_id.clone(),
            order_reference: order.reference.clone(),
            amount: format!("{amount:.2}"),
            currency: currency.to_string(),
            body_sha256: hex::encode(Sha256::digest(&bytes)),
            received_at: storage::format_time(now),
        })
        .await?;
    match recorded {
        ConfirmationRecorded::Replay => {
            return Ok(Json(json!({"status": "already_received"})));
        }
        ConfirmationRecorded::Conflict => {
            return Err(ApiError::with_message(
                ErrorCode::ConfirmationConflict,
                "This confirmation id was already received with different content.",
            ));
        }
        ConfirmationRecorded::New => {}
    }
    // The money: from the bank to the declaration's receivable (idempotent id: a crash before the next step is
    // repaired by the bank's retry, which finds the confirmation and this transfer already there).
    post(
        &state,
        vec![transfer(
            format!("bank:{bank}:{}", body.confirmation_id),
            customs::bank(&bank),
            customs::receivable(&order.ledger_key),
            amount,
            &currency,
            "payment",
            &order.reference,
        )?],
    )
    .await?;
    let row = state
        .store
        .declaration(&order.declaration_id)
        .await?
        .ok_or_else(|| ApiError::internal("an order's declaration vanished"))?;
    // The receipt: canonical JSON (fixed field order), its SHA-256 recorded with the payment event.
    let receipt_id = format!("RC-{bank}-{}", body.confirmation_id);
    let receipt = Receipt {
        receipt: receipt_id.clone(),
        declaration_id: row.id.clone(),
        mrn: row.mrn.clone(),
        lrn: row.lrn.clone(),
        payer: row.declarant.clone(),
        order_reference: order.reference.clone(),
        bank: bank.clone(),
        confirmation_id: body.confirmation_id.clone(),
        amount: format!("{amount:.2}"),
        currency: currency.to_string(),
        received_at: storage::format_time(now),
    };
    let content = serde_json::to_string(&receipt).map_err(ApiError::internal)?;
    let receipt_hash = hex::encode(Sha256::digest(content.as_bytes()));
    state
        .store
        .add_receipt(&receipt_id, &row.id, &content, &receipt_hash, now)
        .await?;
    let who = Actor {
        id: format!("bank:{bank}"),
        role: "bank".into(),
    };
    let applied = apply_as(
        &state,
        who,
        &row,
        Command::RecordPayment {
            amount,
            reference: order.reference.clone(),
        },
        format!(
            "Payment {} confirmed by {bank} ({}); receipt {receipt_id}, sha256 {receipt_hash}.",
            order.reference, body.confirmation_id
        ),
        None,
    )
    .await;
    match applied {
        Ok(Json(mut view)) => {
            let current = state
                .store
                .declaration(&order.declaration_id)
                .await?
                .ok_or_else(|| ApiError::internal("an order's declaration vanished"))?
                .workflow_state()?;
            let outstanding = current.outstanding();
            if outstanding <= Decimal::ZERO || current.status != Status::AwaitingPayment {
                state.store.mark_order_paid(&order.reference, now).await?;
            }
            view["outstanding"] = json!(format!("{outstanding:.2}"));
            Ok(Json(json!({
                "status": "applied",
                "receipt": receipt_id,
                "declaration": view,
            })))
        }
        // Money received for a declaration that no longer awaits it (paid already, cancelled): kept on its
        // receivable as a credit for refund, and shown by the reconciliation report.
        Err(error) => {
            tracing::warn!(order = %order.reference, ?error, "confirmation not applied to the declaration");
            Ok(Json(json!({
                "status": "received_not_applied",
                "declaration": summary(&row),
            })))
        }
    }
}

/// `GET /api/v1/reports/reconciliation`: every order against the confirmations received and the ledger.
pub async fn reconciliation(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    crate::handlers::record_export(&state, &caller, "report/reconciliation", "").await?;
    let orders = state.store.payment_orders().await?;
    let confirmations = state.store.confirmations().await?;
    let ledger = state.store.ledger().await?;
    let ledger_check = ledger.verify();
    let mut rows = Vec::new();
    let mut mismatches = 0;
    for order in &orders {
        let confirmed: Decimal = confirmations
            .iter()
            .filter(|c| c.order_reference == order.reference)
            .filter_map(|c| c.amount.parse::<Decimal>().ok())
            .sum();
        let received_in_ledger: Decimal = ledger
            .transfers()
            .filter(|t| t.code == "payment" && t.reference == order.reference)
            .map(|t| t.amount)
            .sum();
        let ordered: Decimal = order.amount.parse().unwrap_or_default();
        let receivable = ledger
            .account(&customs::receivable(&order.ledger_key))
            .map(|a| a.balance())
            .unwrap_or_default();
        let ok = confirmed == received_in_ledger
            && ((order.status == "paid" && confirmed >= ordered)
                || (order.status == "open" && confirmed < ordered));
        if !ok {
            mismatches += 1;
        }
        rows.push(json!({
            "reference": order.reference,
            "declaration_id": order.declaration_id,
            "status": order.status,
            "ordered": format!("{ordered:.2}"),
            "confirmed": format!("{confirmed:.2}"),
            "in_ledger": format!("{received_in_ledger:.2}"),
            "receivable_balance": format!("{receivable:.2}"),
            "reconciled": ok,
        }));
    }
    Ok(Json(json!({
        "orders": rows,
        "confirmations": confirmations.len(),
        "mismatches": mismatches,
        "ledger_balanced": ledger_check.is_ok(),
        "ledger_problem": ledger_check.err(),
    })))
}

/// The deferment and the guarantee reservation taken at lodgement, to give back if the lodgement is not stored.
pub struct Deferral {
    /// Why the deferment account refused, if it did.
    pub refused: Option<String>,
    /// Why the guarantee refused, if it did.
    pub guarantee_refused: Option<String>,
    /// What the trader's cash account paid (DE 4/8 P).
    pub cash_account_paid: Option<Decimal>,
    taken: Vec<Transfer>,
}

impl Deferral {
    /// Reverses what was taken (the lodgement conflicted with another declaration under the same LRN).
    pub async fn undo(self, state: &AppState) -> Result<(), ApiError> {
        let mut reversals = Vec::new();
        for taken in self.taken {
            let kind = match taken.kind {
                TransferKind::Pending => TransferKind::VoidPending(taken.id.clone()),
                _ => TransferKind::Posted,
            };
            let posted = kind == TransferKind::Posted;
            reversals.push(Transfer {
                id: TransferId::parse(&format!("{}:undo", taken.id)).map_err(ApiError::internal)?,
                debit: if posted {
                    taken.credit.clone()
                } else {
                    taken.debit.clone()
                },
                credit: if posted { taken.debit } else { taken.credit },
                kind,
                code: "lodgement_undone".into(),
                ..taken
            });
        }
        post(state, reversals).await?;
        Ok(())
    }
}

/// The account a declaration names, opened on first use when the configuration says so.
async fn named_account(
    state: &AppState,
    account: &ledger::AccountId,
    at: time::OffsetDateTime,
) -> Result<Option<ledger::Account>, ApiError> {
    Ok(
        match (
            state.store.account(account).await?,
            state.config.auto_open_deferment_limit,
        ) {
            (Some(existing), _) => Some(existing),
            (None, Some(limit)) => Some(
                state
                    .store
                    .open_account_if_missing(
                        account,
                        &state.pipeline().rates.national,
                        ledger::Rule::DebitLimit(limit),
                        at,
                    )
                    .await?,
            ),
            (None, None) => None,
        },
    )
}

/// At lodgement: duties deferred (DE 4/8 E, F, G) are posted to the ledger and moved to the deferment account
/// the declaration names (DE 2/6 DAN), within its limit; duties guaranteed (M, R, S) are reserved on the guarantee
/// it names (DE 8/3), within its reference amount, until discharge. A refusal (nothing named, no such account,
/// over the limit) is not an error: those duties become due at once, and the reason is recorded.
pub async fn defer_at_lodgement(
    state: &AppState,
    declaration: &declaration::Declaration,
    new: &storage::NewDeclaration,
    at: time::OffsetDateTime,
) -> Result<Deferral, ApiError> {
    let mut out = Deferral {
        refused: None,
        guarantee_refused: None,
        cash_account_paid: None,
        taken: Vec::new(),
    };
    let Ok(assessment) = state.pipeline().assess(declaration, at.date()) else {
        return Ok(out); // the pipeline rejects it; nothing is owed
    };
    let mut deferred_per_type = BTreeMap::new();
    let mut cash_per_type = BTreeMap::new();
    let mut guaranteed = Decimal::ZERO;
    for tax in assessment.items.iter().flat_map(|i| &i.taxes) {
        if tax.amount.is_zero() {
            continue;
        }
        match tax.payment_method.as_str() {
            "E" | "F" | "G" => {
                *deferred_per_type.entry(tax.tax_type.clone()).or_default() += tax.amount
            }
            "P" => *cash_per_type.entry(tax.tax_type.clone()).or_default() += tax.amount,
            "M" | "R" | "S" => guaranteed += tax.amount,
            _ => {}
        }
    }
    if deferred_per_type.is_empty() && cash_per_type.is_empty() && guaranteed.is_zero() {
        return Ok(out); // everything is due at once: nothing to take before the decision
    }
    // A declaration already stored under this LRN answers for itself (replay or conflict): nothing new is taken.
    if state
        .store
        .declaration_id_by_lrn(&new.declarant, &new.lrn)
        .await?
        .is_some()
    {
        return Ok(out);
    }
    let key = clearance::ledger_key(&new.declarant, &new.lrn);
    let currency =
        declaration::Currency::parse(&assessment.currency).map_err(ApiError::internal)?;

    let deferred: Decimal = deferred_per_type.values().sum();
    if !deferred.is_zero() {
        out.refused = match clearance::deferment_account(declaration) {
            None => Some("No deferment account is declared (DE 2/6, document type DAN).".into()),
            Some(dan) => {
                let label = format!("deferment account {dan}");
                match usable_account(
                    state,
                    customs::deferment(&dan),
                    &label,
                    "open",
                    &currency,
                    at,
                )
                .await?
                {
                    Err(why) => Some(why),
                    Ok(account) => {
                        let mut transfers = assessment_transfers(
                            &key,
                            &deferred_per_type,
                            &currency,
                            ":deferred",
                            "assessment_deferred",
                        )?;
                        transfers.push(transfer(
                            format!("defer:{key}:v1"),
                            account,
                            customs::receivable(&key),
                            deferred,
                            &currency,
                            "deferment",
                            &key,
                        )?);
                        take(
                            state,
                            &mut out.taken,
                            transfers,
                            at,
                            &label,
                            deferred,
                            &currency,
                        )
                        .await?
                    }
                }
            }
        };
    }

    // Immediate payment from the declarant's cash account (DE 4/8 P), if it holds enough; otherwise the duties
    // wait for payment as any immediate duty does.
    let from_cash: Decimal = cash_per_type.values().sum();
    if !from_cash.is_zero() {
        let mut transfers =
            assessment_transfers(&key, &cash_per_type, &currency, "", "assessment")?;
        transfers.push(transfer(
            format!("cash:{key}:v1"),
            customs::cash(&new.declarant),
            customs::receivable(&key),
            from_cash,
            &currency,
            "payment",
            &key,
        )?);
        let label = format!("cash account of {}", new.declarant);
        if take(
            state,
            &mut out.taken,
            transfers,
            at,
            &label,
            from_cash,
            &currency,
        )
        .await?
        .is_none()
        {
            out.cash_account_paid = Some(from_cash);
        }
    }

    if !guaranteed.is_zero() {
        out.guarantee_refused = match clearance::guarantee_reference(declaration) {
            None => Some("No guarantee is declared (DE 8/3).".into()),
            Some(reference) => {
                let label = format!("guarantee {reference}");
                let guarantee = customs::guarantee(&reference);
                match usable_account(state, guarantee, &label, "registered", &currency, at).await? {
                    Err(why) => Some(why),
                    Ok(account) => {
                        let reservation = Transfer {
                            kind: TransferKind::Pending,
                            ..transfer(
                                format!("secure:{key}:v1"),
                                account,
                                customs::secured(&key),
                                guaranteed,
                                &currency,
                                "guarantee",
                                &key,
                            )?
                        };
                        take(
                            state,
                            &mut out.taken,
                            vec![reservation],
                            at,
                            &label,
                            guaranteed,
                            &currency,
                        )
                        .await?
                    }
                }
            }
        };
    }
    Ok(out)
}

/// The posting of assessed duties per tax type, `receivable → revenue`, for a lodgement (version 1).
fn assessment_transfers(
    key: &str,
    per_type: &BTreeMap<String, Decimal>,
    currency: &declaration::Currency,
    id_suffix: &str,
    code: &str,
) -> Result<Vec<Transfer>, ApiError> {
    per_type
        .iter()
        .map(|(tax_type, amount)| {
            transfer(
                format!("assess:{key}:v1:{tax_type}{id_suffix}"),
                customs::receivable(key),
                customs::revenue(tax_type),
                *amount,
                currency,
                code,
                key,
            )
        })
        .collect()
}

/// The account a declaration names for deferment or a guarantee, if it can be used: opened (on first use when
/// the configuration says so) and kept in the declaration's currency. Otherwise why not, in words.
async fn usable_account(
    state: &AppState,
    account: ledger::AccountId,
    label: &str,
    opened: &str,
    currency: &declaration::Currency,
    at: time::OffsetDateTime,
) -> Result<Result<ledger::AccountId, String>, ApiError> {
    Ok(match named_account(state, &account, at).await? {
        None => Err(format!(
            "The {label} is not {opened} with this administration."
        )),
        Some(found) if &found.currency != currency => {
            Err(format!("The {label} is kept in {}.", found.currency))
        }
        Some(_) => Ok(account),
    })
}

/// Applies `transfers` as one request; on success they join `taken` (to give back if the lodgement is not
/// stored) and the answer is `None`; a refusal is the reason, in words.
async fn take(
    state: &AppState,
    taken: &mut Vec<Transfer>,
    transfers: Vec<Transfer>,
    at: time::OffsetDateTime,
    label: &str,
    needed: Decimal,
    currency: &declaration::Currency,
) -> Result<Option<String>, ApiError> {
    Ok(match state.store.transfer(transfers.clone(), at).await? {
        TransferOutcome::Applied(_) => {
            taken.extend(transfers);
            None
        }
        TransferOutcome::Refused(LedgerError::Refused { available, .. }) => Some(format!(
            "The {label} has {available:.2} {currency} available; {needed:.2} is needed."
        )),
        TransferOutcome::Refused(other) => Some(other.to_string()),
    })
}

/// `POST /api/v1/declarations/{id}/guarantee-discharge` and `…/guarantee-call`: an officer frees the amount a
/// guarantee secures for a declaration (its duties are paid or no longer due), or calls the guarantee (the
/// trader defaulted: the guarantor pays).
pub async fn discharge_guarantee(
    state: State<AppState>,
    caller: axum::Extension<Caller>,
    path: Path<String>,
) -> Result<Json<Value>, ApiError> {
    resolve_guarantee(state, caller, path, false).await
}

pub async fn call_guarantee(
    state: State<AppState>,
    caller: axum::Extension<Caller>,
    path: Path<String>,
) -> Result<Json<Value>, ApiError> {
    resolve_guarantee(state, caller, path, true).await
}

async fn resolve_guarantee(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    call: bool,
) -> Result<Json<Value>, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let key = clearance::ledger_key(&row.declarant, &row.lrn);
    let secured = customs::secured(&key);
    let reservation = state
        .store
        .account_transfers(&secured)
        .await?
        .into_iter()
        .find(|t| t.kind == TransferKind::Pending)
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::TransitionNotAllowed,
                "No guarantee secures this declaration.",
            )
        })?;
    let resolution = Transfer {
        id: TransferId::parse(&format!(
            "{}:{}",
            reservation.id,
            if call { "call" } else { "discharge" }
        ))
        .map_err(ApiError::internal)?,
        kind: if call {
            TransferKind::PostPending(reservation.id.clone())
        } else {
            TransferKind::VoidPending(reservation.id.clone())
        },
        code: if call {
            "guarantee_called"
        } else {
            "guarantee_discharged"
        }
        .into(),
        at: storage::format_time(time::OffsetDateTime::now_utc()),
        ..reservation.clone()
    };
    post(&state, vec![resolution]).await?;
    let account = state.store.account(&reservation.debit).await?;
    Ok(Json(json!({
        "status": if call { "called" } else { "discharged" },
        "amount": format!("{:.2}", reservation.amount),
        "guarantee": account,
    })))
}

fn account_param(text: &str) -> Result<ledger::AccountId, ApiError> {
    ledger::AccountId::parse(text).map_err(|_| ApiError::new(ErrorCode::NotFound))
}

/// `GET /api/v1/ledger/accounts/{account}?from=YYYY-MM-DD&to=YYYY-MM-DD`: the account and its statement.
pub async fn account_statement(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(account): Path<String>,
    query: Result<
        axum::extract::Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Json<Value>, ApiError> {
    let id = account_param(&account)?;
    let params = query.map(|q| q.0).unwrap_or_default();
    let date = |name: &str| -> Result<Option<time::Date>, ApiError> {
        params
            .get(name)
            .map(|v| {
                time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| {
                        ApiError::problems(vec![Problem::with_message(
                            ErrorCode::InvalidQuery,
                            format!("?{name}"),
                            format!("{v:?} is not a date written YYYY-MM-DD."),
                        )])
                    })
            })
            .transpose()
    };
    let (from, to) = (date("from")?, date("to")?);
    let Some(found) = state.store.account(&id).await? else {
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    // Traders see the accounts they own; officers, auditors and administrators all.
    if caller.role == crate::policy::Role::Trader {
        let owner = state.store.account_owner(&id).await?;
        if owner.is_none() || owner != caller.user.party {
            return Err(ApiError::new(ErrorCode::NotFound));
        }
    }
    crate::handlers::record_export(&state, &caller, &format!("ledger/statement/{id}"), "").await?;
    let transfers = state.store.account_transfers(&id).await?;
    // Opening balance: everything posted before the period; lines: the period's transfers.
    let mut opening = Decimal::ZERO;
    let mut lines = Vec::new();
    let mut running = Decimal::ZERO;
    for t in &transfers {
        let day = t.at.get(..10).unwrap_or_default();
        let before = from.is_some_and(|f| day < f.to_string().as_str());
        let after = to.is_some_and(|t| day > t.to_string().as_str());
        let signed = match t.kind {
            TransferKind::Posted | TransferKind::PostPending(_) => {
                if t.credit == id {
                    t.amount
                } else {
                    -t.amount
                }
            }
            _ => Decimal::ZERO,
        };
        if before {
            opening += signed;
            continue;
        }
        if after {
            continue;
        }
        running += signed;
        lines.push(json!({
            "id": t.id, "at": t.at, "code": t.code, "reference": t.reference,
            "kind": t.kind, "debit": t.debit, "credit": t.credit,
            "amount": format!("{:.2}", t.amount),
            "balance": format!("{:.2}", opening + running),
        }));
    }
    Ok(Json(json!({
        "account": found,
        "balance": format!("{:.2}", found.balance()),
        "available": found.available().map(|a| format!("{a:.2}")),
        "period": {"from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string())},
        "opening_balance": format!("{opening:.2}"),
        "closing_balance": format!("{:.2}", opening + running),
        "transfers": lines,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenAccountBody {
    id: String,
    currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    limit: Decimal,
    /// The party (EORI) the account belongs to: it may read the account's statements.
    #[serde(default)]
    owner: Option<String>,
}

/// `POST /api/v1/ledger/accounts`: an administrator opens a deferment account (`deferment:<number>`) or a
/// guarantee (`guarantee:<reference>`) with its limit, or changes the limit.
pub async fn open_account(
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = crate::handlers::read_body(&state, body).await?;
    let body: OpenAccountBody = serde_json::from_slice(&bytes)
        .map_err(|e| bad("", &format!("The body is not valid: {e}")))?;
    let id = ledger::AccountId::parse(&body.id)
        .ok()
        .filter(|id| {
            let kind = id.as_str().split(':').next().unwrap_or_default();
            matches!(kind, "deferment" | "guarantee") && id.as_str().len() > kind.len() + 1
        })
        .ok_or_else(|| {
            bad(
                "/id",
                "Open deferment:<account number> or guarantee:<reference>.",
            )
        })?;
    let currency = declaration::Currency::parse(&body.currency)
        .map_err(|_| bad("/currency", "The currency is an ISO 4217 code."))?;
    if body.limit < Decimal::ZERO {
        return Err(bad("/limit", "The limit cannot be negative."));
    }
    let owner = body
        .owner
        .as_deref()
        .map(|o| {
            declaration::PartyId::parse(o)
                .map(|p| p.to_string())
                .map_err(|_| bad("/owner", "The owner is an EORI such as GB603202734852."))
        })
        .transpose()?;
    let account = state
        .store
        .open_account(
            &id,
            &currency,
            ledger::Rule::DebitLimit(body.limit),
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    if let Some(owner) = &owner {
        state.store.set_account_owner(&id, owner).await?;
    }
    Ok(Json(json!({ "account": account, "owner": owner })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettlementBody {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    reference: String,
    bank: String,
}

/// `POST /api/v1/ledger/accounts/{account}/settlements`: money collected from the trader's bank into an account
/// (`bank → account`): the period's settlement of a deferment account, or a deposit to a trader's cash account.
/// Idempotent by reference.
pub async fn settle_account(
    State(state): State<AppState>,
    Path(account): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let id = account_param(&account)?;
    let bytes = crate::handlers::read_body(&state, body).await?;
    let body: SettlementBody = serde_json::from_slice(&bytes)
        .map_err(|e| bad("", &format!("The body is not valid: {e}")))?;
    if body.amount <= Decimal::ZERO || body.amount.scale() > 2 {
        return Err(bad(
            "/amount",
            "The amount is positive, with at most 2 decimals.",
        ));
    }
    let valid = |t: &str| {
        !t.is_empty()
            && t.len() <= 40
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if !valid(&body.reference) {
        return Err(bad(
            "/reference",
            "The reference is 1 to 40 letters, digits, - _ or .",
        ));
    }
    if !valid(&body.bank) {
        return Err(bad(
            "/bank",
            "The bank is 1 to 40 letters, digits, - _ or .",
        ));
    }
    // A deposit to a trader's cash account opens it on first use; other accounts must exist.
    let currency = match state.store.account(&id).await? {
        Some(found) => found.currency,
        None if id.as_str().starts_with("cash:") => state.pipeline().rates.national.clone(),
        None => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    let answers = post(
        &state,
        vec![transfer(
            format!("settle:{id}:{}", body.reference),
            customs::bank(&body.bank),
            id.clone(),
            body.amount,
            &currency,
            "settlement",
            &body.reference,
        )?],
    )
    .await?;
    let account = state.store.account(&id).await?;
    Ok(Json(json!({
        "status": if answers.first() == Some(&Applied::AlreadyApplied) { "already_applied" } else { "applied" },
        "account": account,
    })))
}

/// Brings the ledger to the declaration's current assessment: the duties due now (immediate lines, and deferred
/// ones the deferment account refused) per tax type, against what was posted before for it; the difference is
/// posted (`receivable → revenue` when more is due, `revenue → receivable` when less: a credit to refund).
/// Returns the declaration's ledger key and currency.
pub async fn sync_assessment(
    state: &AppState,
    row: &storage::DeclarationRow,
    lifecycle: &workflow::State,
) -> Result<(String, declaration::Currency), ApiError> {
    let assessment: tariff::Assessment = serde_json::from_str(
        row.assessment
            .as_deref()
            .ok_or_else(|| ApiError::internal("a declaration without assessment"))?,
    )
    .map_err(ApiError::internal)?;
    let currency =
        declaration::Currency::parse(&assessment.currency).map_err(ApiError::internal)?;
    let key = clearance::ledger_key(&row.declarant, &row.lrn);
    let due_now = |method: &str| {
        clearance::is_immediate(method)
            || (lifecycle.deferment_refused.is_some() && matches!(method, "E" | "F" | "G"))
    };
    let mut due: BTreeMap<String, Decimal> = Default::default();
    for tax in assessment.items.iter().flat_map(|i| &i.taxes) {
        if due_now(&tax.payment_method) {
            *due.entry(tax.tax_type.clone()).or_default() += tax.amount;
        }
    }
    let receivable = customs::receivable(&key);
    let mut posted: BTreeMap<String, Decimal> = Default::default();
    for t in state.store.account_transfers(&receivable).await? {
        if !matches!(t.code.as_str(), "assessment" | "reassessment") {
            continue;
        }
        if let Some(tax) = t.credit.as_str().strip_prefix("revenue:") {
            *posted.entry(tax.to_owned()).or_default() += t.amount;
        } else if let Some(tax) = t.debit.as_str().strip_prefix("revenue:") {
            *posted.entry(tax.to_owned()).or_default() -= t.amount;
        }
    }
    let mut transfers = Vec::new();
    let types: std::collections::BTreeSet<&String> = due.keys().chain(posted.keys()).collect();
    for tax_type in types {
        let difference = due.get(tax_type).copied().unwrap_or_default()
            - posted.get(tax_type).copied().unwrap_or_default();
        if difference > Decimal::ZERO {
            transfers.push(transfer(
                format!("assess:{key}:v{}:{tax_type}", row.version),
                receivable.clone(),
                customs::revenue(tax_type),
                difference,
                &currency,
                "assessment",
                &key,
            )?);
        } else if difference < Decimal::ZERO {
            transfers.push(transfer(
                format!("reassess:{key}:v{}:{tax_type}", row.version),
                customs::revenue(tax_type),
                receivable.clone(),
                -difference,
                &currency,
                "reassessment",
                &key,
            )?);
        }
    }
    post(state, transfers).await?;
    Ok((key, currency))
}

fn refund_json(refund: &storage::Refund) -> Value {
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

/// `POST /api/v1/declarations/{id}/refunds`: what the declaration is owed back (its receivable's credit, after
/// a reassessment that lowered the duties, or money received beyond what was due) is requested for refund. One
/// officer approves it; above the threshold, a second, different officer too.
pub async fn request_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = load_visible(&state, &caller, &id).await?;
    let lifecycle = row.workflow_state()?;
    if row.assessment.is_none() {
        return Err(ApiError::with_message(
            ErrorCode::TransitionNotAllowed,
            "This declaration was never assessed: nothing can be refunded.",
        ));
    }
    let (key, currency) = sync_assessment(&state, &row, &lifecycle).await?;
    let balance = state
        .store
        .account(&customs::receivable(&key))
        .await?
        .map(|a| a.balance())
        .unwrap_or_default();
    if balance <= Decimal::ZERO {
        return Err(ApiError::with_message(
            ErrorCode::TransitionNotAllowed,
            "Nothing is owed back on this declaration.",
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let refund = state
        .store
        .refund_for(storage::Refund {
            id: uuid::Uuid::now_v7().to_string(),
            declaration_id: row.id.clone(),
            ledger_key: key,
            amount: format!("{balance:.2}"),
            currency: currency.to_string(),
            status: "requested".into(),
            approvals_needed: if balance > state.config.refund_four_eyes_above {
                2
            } else {
                1
            },
            approvals: Vec::new(),
            requested_by: caller.user.id.clone(),
            requested_at: storage::format_time(now),
            paid_at: None,
        })
        .await?;
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
/// (`receivable → bank`). The officer who requested it, or who approved already, cannot approve it.
pub async fn approve_refund(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut refund = state
        .store
        .refund(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    if refund.status != "requested" {
        return Err(ApiError::with_message(
            ErrorCode::TransitionNotAllowed,
            format!("This refund is {} already.", refund.status),
        ));
    }
    let officer = caller.user.id.clone();
    if refund.requested_by == officer {
        return Err(ApiError::with_message(
            ErrorCode::FourEyes,
            "The officer who requested a refund cannot approve it.",
        ));
    }
    if refund.approvals.contains(&officer) {
        return Err(ApiError::with_message(
            ErrorCode::FourEyes,
            "You approved this refund already: another officer must approve it.",
        ));
    }
    let before = refund.approvals.len();
    refund.approvals.push(officer);
    let now = time::OffsetDateTime::now_utc();
    if refund.approvals.len() as i64 >= refund.approvals_needed {
        let amount: Decimal = refund.amount.parse().map_err(ApiError::internal)?;
        let currency =
            declaration::Currency::parse(&refund.currency).map_err(ApiError::internal)?;
        let receivable = customs::receivable(&refund.ledger_key);
        let held = state
            .store
            .account(&receivable)
            .await?
            .map(|a| a.balance())
            .unwrap_or_default();
        let id_of_transfer = format!("refund:{}", refund.id);
        let already = state
            .store
            .account_transfers(&receivable)
            .await?
            .iter()
            .any(|t| t.id.as_str() == id_of_transfer);
        if held < amount && !already {
            return Err(ApiError::with_message(
                ErrorCode::LedgerRefused,
                format!("The declaration holds {held:.2} {currency}, less than the refund."),
            ));
        }
        // The payout's id is the refund's: two last approvals at once pay once.
        post(
            &state,
            vec![transfer(
                id_of_transfer,
                receivable,
                customs::bank(&state.config.refund_bank),
                amount,
                &currency,
                "refund",
                &refund.ledger_key,
            )?],
        )
        .await?;
        refund.status = "paid".into();
    }
    if !state.store.update_refund(&refund, before, now).await? {
        return Err(ApiError::new(ErrorCode::ConcurrentUpdate));
    }
    let refund = state.store.refund(&refund.id).await?.unwrap_or(refund);
    Ok(Json(refund_json(&refund)))
}

/// A payment receipt. Field order is the canonical order: its SHA-256 is taken over this JSON.
#[derive(serde::Serialize, serde::Deserialize)]
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

#[derive(askama::Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    r: &'a Receipt,
    sha256: &'a str,
}

/// `GET /api/v1/receipts/{receipt}`: the receipt as JSON (with its SHA-256), or as a printable page when the
/// client accepts `text/html`.
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
    let html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html {
        use askama::Template;
        let page = ReceiptPage {
            r: &receipt,
            sha256: &sha256,
        }
        .render()
        .map_err(ApiError::internal)?;
        return Ok((
            // The security headers are added to every response by `security::headers`.
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response());
    }
    Ok(Json(json!({"receipt": receipt, "content": content, "sha256": sha256})).into_response())
}
