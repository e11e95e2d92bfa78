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
use serde::{Deserialize, Serialize};
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
#[utoipa::path(
    get,
    path = "/api/v1/ledger/accounts/{account}",
    tag = "ledger",
    summary = "An account and its statement",
    description = "Officers and administrators see every account; a trader sees the accounts its party owns (others are not found). Balance (credits less debits), what is still available under its rule, and the transfers of the period `from`–`to` (YYYY-MM-DD, inclusive) with the opening and closing balance: the monthly statement of a deferment account.",
    params(("account" = String, Path, description = "e.g. deferment:1108654, guarantee:GBCGU3827, revenue:A00, receivable:GB603202734852/MY-REF-0001"), ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "The statement", body = serde_json::Value), (status = 404, description = "No such account", body = crate::error::ErrorBody))
)]
pub async fn account_statement(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(account): Path<String>,
    Queried(query): Queried<StatementQuery>,
) -> Result<Json<Value>, ApiError> {
    let pipeline = state.pipeline();
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
            "amount": pipeline.amount_text(t.amount),
            "balance": pipeline.amount_text(balance),
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
        "balance": pipeline.amount_text(found.balance()),
        "available": found.available().map(|a| pipeline.amount_text(a)),
        "authorised": authorities,
        "period": {"from": from.map(|d| d.to_string()), "to": to.map(|d| d.to_string())},
        "opening_balance": pipeline.amount_text(opening),
        "closing_balance": pipeline.amount_text(closing),
        "transfers": lines,
    })))
}

/// A deferment account or guarantee to open, or a new limit for it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountBody {
    /// `deferment:<number>` (DE 2/6 DAN) or `guarantee:<reference>`.
    id: String,
    /// ISO 4217.
    currency: String,
    /// The debit limit, a decimal string: deferred duties and reservations may not exceed it.
    #[serde(with = "rust_decimal::serde::str")]
    limit: Decimal,
    /// The party (EORI) that holds the account: the only declarant who may name it, besides those it authorises
    /// (POST …/authorities); it reads the account's statements. A holder is never changed by a new limit.
    owner: String,
}

/// `POST /api/v1/ledger/accounts`: an administrator opens a deferment account (`deferment:<number>`) or a
/// guarantee (`guarantee:<reference>`) with its limit and holder, or changes the limit.
#[utoipa::path(
    post,
    path = "/api/v1/ledger/accounts",
    tag = "ledger",
    summary = "Open a deferment account or a guarantee, or change its limit",
    description = "Administrators. Deferment accounts (`deferment:<number>`, DE 2/6 DAN) and guarantees (`guarantee:<reference>`) carry a debit limit: deferred duties and reservations may not exceed it. An account has a holder; a declaration naming an account that is not its declarant's, and for which the holder registered no authority, is refused the deferment (its duties are due at once).",
    request_body(content((crate::payments::accounts::OpenAccountBody = "application/json"))),
    responses((status = 200, description = "The account", body = serde_json::Value), (status = 403, description = "Administrators only", body = crate::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::error::ErrorBody))
)]
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

/// A declarant the holder authorises to name its account.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityBody {
    /// The declarant (EORI) the holder authorises to name the account.
    party: String,
}

/// Who may name an account besides its holder.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Authorities {
    #[schema(value_type = String)]
    account: ledger::AccountId,
    /// The EORIs of the declarants the holder authorised.
    authorised: Vec<String>,
}

/// `POST /api/v1/ledger/accounts/{account}/authorities`: the holder (or an administrator) authorises another
/// declarant to name its deferment account or guarantee (a standing authority). Audited.
#[utoipa::path(
    post,
    path = "/api/v1/ledger/accounts/{account}/authorities",
    tag = "ledger",
    summary = "Authorise a declarant to name this account",
    description = "The holder of a deferment account or guarantee (or an administrator) registers a standing authority: the declarant may then name the account in its declarations (DE 2/6, DE 8/3). Without one, only the holder may. Audited.",
    params(("account" = String, Path, description = "deferment:<number> or guarantee:<reference>.")),
    request_body(content((crate::payments::accounts::AuthorityBody = "application/json"))),
    responses((status = 200, description = "The parties authorised now", body = crate::payments::accounts::Authorities), (status = 404, description = "No such account, or not yours.", body = crate::error::ErrorBody), (status = 422, description = "The party is not an EORI (request.invalid).", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn grant_authority(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(account): Path<String>,
    body: Body,
) -> Result<Json<Authorities>, ApiError> {
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
    Ok(Json(Authorities {
        authorised: state.store.account_authorities(&id).await?,
        account: id,
    }))
}

/// `DELETE /api/v1/ledger/accounts/{account}/authorities/{party}`: ends an authority. Audited.
#[utoipa::path(
    delete,
    path = "/api/v1/ledger/accounts/{account}/authorities/{party}",
    tag = "ledger",
    summary = "End an authority",
    description = "The declarant may no longer name the account. Audited.",
    params(("account" = String, Path, description = "deferment:<number> or guarantee:<reference>."), ("party" = String, Path)),
    responses((status = 200, description = "The parties authorised now", body = crate::payments::accounts::Authorities), (status = 404, description = "No such account or authority, or not yours.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn revoke_authority(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((account, party)): Path<(String, String)>,
) -> Result<Json<Authorities>, ApiError> {
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
    Ok(Json(Authorities {
        authorised: state.store.account_authorities(&id).await?,
        account: id,
    }))
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

/// Money paid into a deferment account (its period's settlement), a guarantee or a cash account.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementBody {
    /// A positive decimal string, at most 2 decimals.
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    /// The payment's reference, 1 to 40 letters, digits, - _ or .: one settlement per reference.
    reference: String,
    /// The bank it came through, 1 to 40 letters, digits, - _ or .
    bank: String,
}

/// `POST /api/v1/ledger/accounts/{account}/settlements`: money collected from the trader's bank into an account
/// (`bank → account`): the period's settlement of a deferment account, or a deposit to a trader's cash account.
/// Idempotent by reference.
#[utoipa::path(
    post,
    path = "/api/v1/ledger/accounts/{account}/settlements",
    tag = "ledger",
    summary = "Settle a deferment account at period end",
    description = "Officers. Records the amount collected from the trader's bank (bank → deferment account). Idempotent by reference.",
    params(("account" = String, Path, description = "e.g. deferment:1108654, guarantee:GBCGU3827, revenue:A00, receivable:GB603202734852/MY-REF-0001")),
    request_body(content((crate::payments::accounts::SettlementBody = "application/json"))),
    responses((status = 200, description = "applied or already_applied, with the account", body = serde_json::Value), (status = 404, description = "No such account", body = crate::error::ErrorBody), (status = 409, description = "ledger.refused", body = crate::error::ErrorBody), (status = 422, description = "A field is invalid", body = crate::error::ErrorBody))
)]
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
