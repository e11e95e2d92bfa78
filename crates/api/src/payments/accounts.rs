//! The accounts traders keep with customs: deferment accounts and guarantees (opened by the administration, with
//! a limit and a holder), the standing authorities a holder gives other declarants to name them, cash accounts
//! (opened by a first deposit), statements and settlements.

use super::bad;
use crate::access::record_export;
use crate::error::ApiError;
use crate::policy::Role;
use crate::request::{Queried, parse_date, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use error_table::{ErrorCode, Problem};
use ledger::customs::{self, AccountKind, Movement};
use ledger::{Applied, Transfer, TransferId, TransferKind};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use storage::TransferOutcome;

fn account_param(text: &str) -> Result<ledger::AccountId, ApiError> {
    ledger::AccountId::parse(text).map_err(|_| ApiError::new(ErrorCode::NotFound))
}

/// A trader sees (and manages the authorities of) the accounts it holds; officers, auditors and administrators
/// all. Another party's account is "not found".
async fn may_see(
    state: &AppState,
    caller: &Caller,
    id: &ledger::AccountId,
) -> Result<(), ApiError> {
    if caller.role == Role::Trader {
        let owner = state.store.account_owner(id).await?;
        if owner.is_none() || owner != caller.user.party {
            return Err(ApiError::new(ErrorCode::NotFound));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct StatementQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/ledger/accounts/{account}?from=YYYY-MM-DD&to=YYYY-MM-DD`: the account and its statement.
pub async fn account_statement(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(account): Path<String>,
    Queried(query): Queried<StatementQuery>,
) -> Result<Json<Value>, ApiError> {
    let id = account_param(&account)?;
    let date = |name: &str, value: &Option<String>| -> Result<Option<time::Date>, ApiError> {
        value
            .as_deref()
            .map(|v| {
                parse_date(v).ok_or_else(|| {
                    ApiError::problems(vec![Problem::with_message(
                        ErrorCode::InvalidQuery,
                        format!("?{name}"),
                        format!("{v:?} is not a date written YYYY-MM-DD."),
                    )])
                })
            })
            .transpose()
    };
    let (from, to) = (date("from", &query.from)?, date("to", &query.to)?);
    let Some(found) = state.store.account(&id).await? else {
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    may_see(&state, &caller, &id).await?;
    record_export(&state, &caller, &format!("ledger/statement/{id}"), "").await?;
    let transfers = state.store.account_transfers(&id).await?;
    // Opening balance: everything posted before the period; lines: the period's transfers. Checked sums: stored
    // totals too large to add are reported, not a panic.
    let too_large = || {
        ApiError::with_message(
            ErrorCode::AmountTooLarge,
            "This account's totals are too large to add up.",
        )
    };
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
            opening = opening.checked_add(signed).ok_or_else(too_large)?;
            continue;
        }
        if after {
            continue;
        }
        running = running.checked_add(signed).ok_or_else(too_large)?;
        let balance = opening.checked_add(running).ok_or_else(too_large)?;
        lines.push(json!({
            "id": t.id, "at": t.at, "code": t.code, "reference": t.reference,
            "kind": t.kind, "debit": t.debit, "credit": t.credit,
            "amount": format!("{:.2}", t.amount),
            "balance": format!("{balance:.2}"),
        }));
    }
    let closing = opening.checked_add(running).ok_or_else(too_large)?;
    let authorities = if customs::kind(&id).is_some_and(|(k, _)| k.is_held()) {
        Some(state.store.account_authorities(&id).await?)
    } else {
        None
    };
    Ok(Json(json!({
        "account": found,
        "balance": format!("{:.2}", found.balance()),
        "available": found.available().map(|a| format!("{a:.2}")),
        "authorised": authorities,
        "period": {"from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string())},
        "opening_balance": format!("{opening:.2}"),
        "closing_balance": format!("{closing:.2}"),
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
    /// The party (EORI) that holds the account: the only declarant who may name it, besides those it authorises.
    owner: String,
}

/// `POST /api/v1/ledger/accounts`: an administrator opens a deferment account (`deferment:<number>`) or a
/// guarantee (`guarantee:<reference>`) with its limit and holder, or changes the limit.
pub async fn open_account(
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = read_body(&state, body).await?;
    let body: OpenAccountBody = crate::request::parse_json(&bytes)?;
    let id = ledger::AccountId::parse(&body.id)
        .ok()
        .filter(|id| customs::kind(id).is_some_and(|(k, name)| k.is_held() && !name.is_empty()))
        .ok_or_else(|| {
            bad(
                "/id",
                "Open deferment:<account number> or guarantee:<reference>.",
            )
        })?;
    let currency = declaration::Currency::parse(&body.currency)
        .map_err(|_| bad("/currency", "The currency is an ISO 4217 code."))?;
    if body.limit < Decimal::ZERO || body.limit > state.pipeline().max_amount {
        return Err(bad(
            "/limit",
            &format!("The limit is from 0 to {}.", state.pipeline().max_amount),
        ));
    }
    let owner = declaration::PartyId::parse(&body.owner)
        .map(|p| p.to_string())
        .map_err(|_| bad("/owner", "The holder is an EORI such as GB603202734852."))?;
    if let Some(existing) = state.store.account_owner(&id).await?
        && existing != owner
    {
        return Err(bad(
            "/owner",
            "This account is held by another party; its holder is not changed by a new limit.",
        ));
    }
    let account = state
        .store
        .open_account(
            &id,
            &currency,
            ledger::Rule::DebitLimit(body.limit),
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    state.store.set_account_owner(&id, &owner).await?;
    Ok(Json(json!({ "account": account, "owner": owner })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorityBody {
    /// The declarant (EORI) the holder authorises to name the account.
    party: String,
}

/// `POST /api/v1/ledger/accounts/{account}/authorities`: the holder (or an administrator) authorises another
/// declarant to name its deferment account or guarantee (a standing authority). Audited.
pub async fn grant_authority(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(account): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let id = held_account(&state, &caller, &account).await?;
    let bytes = read_body(&state, body).await?;
    let body: AuthorityBody = crate::request::parse_json(&bytes)?;
    let party = declaration::PartyId::parse(&body.party)
        .map(|p| p.to_string())
        .map_err(|_| bad("/party", "The party is an EORI such as GB603202734852."))?;
    state
        .store
        .grant_account_authority(
            &crate::access::audit_actor(&caller),
            &id,
            &party,
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(Json(json!({
        "account": id,
        "authorised": state.store.account_authorities(&id).await?,
    })))
}

/// `DELETE /api/v1/ledger/accounts/{account}/authorities/{party}`: ends an authority. Audited.
pub async fn revoke_authority(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((account, party)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = held_account(&state, &caller, &account).await?;
    let ended = state
        .store
        .revoke_account_authority(
            &crate::access::audit_actor(&caller),
            &id,
            &party,
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    if !ended {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    Ok(Json(json!({
        "account": id,
        "authorised": state.store.account_authorities(&id).await?,
    })))
}

/// A deferment account or guarantee the caller may manage: a trader its own, an administrator any.
async fn held_account(
    state: &AppState,
    caller: &Caller,
    account: &str,
) -> Result<ledger::AccountId, ApiError> {
    let id = account_param(account)?;
    if !customs::kind(&id).is_some_and(|(k, _)| k.is_held())
        || state.store.account(&id).await?.is_none()
    {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    may_see(state, caller, &id).await?;
    Ok(id)
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
    let bytes = read_body(&state, body).await?;
    let body: SettlementBody = crate::request::parse_json(&bytes)?;
    let amount = super::amount(&state, body.amount, "/amount")?;
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
    let kind = customs::kind(&id).map(|(k, _)| k);
    if !matches!(
        kind,
        Some(AccountKind::Deferment | AccountKind::Guarantee | AccountKind::Cash)
    ) {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    // A deposit to a trader's cash account opens it on first use; other accounts must exist.
    let currency = match state.store.account(&id).await? {
        Some(found) => found.currency,
        None if kind == Some(AccountKind::Cash) => state.pipeline().rates.national.clone(),
        None => return Err(ApiError::new(ErrorCode::NotFound)),
    };
    let transfer = Transfer {
        id: TransferId::parse(&format!("settle:{id}:{}", body.reference))
            .map_err(|e| bad("/reference", &e.to_string()))?,
        debit: customs::bank(&body.bank),
        credit: id.clone(),
        amount,
        currency,
        kind: TransferKind::Posted,
        code: Movement::Settlement.as_str().to_owned(),
        reference: body.reference.clone(),
        at: storage::format_time(time::OffsetDateTime::now_utc()),
    };
    let answers = match state
        .store
        .transfer(vec![transfer], time::OffsetDateTime::now_utc())
        .await?
    {
        TransferOutcome::Applied(answers) => answers,
        TransferOutcome::Refused(refusal) => {
            return Err(ApiError::with_message(
                ErrorCode::LedgerRefused,
                refusal.to_string(),
            ));
        }
    };
    let account = state.store.account(&id).await?;
    Ok(Json(json!({
        "status": if answers.first() == Some(&Applied::AlreadyApplied) { "already_applied" } else { "applied" },
        "account": account,
    })))
}
