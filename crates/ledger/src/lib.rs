//! A double-entry ledger for the money customs handles: duties and taxes owed, payments, deferment, guarantees,
//! refunds.
//!
//! Every movement is a [`Transfer`] from one account (debited) to another (credited), of a positive decimal
//! amount in the currency both accounts keep. A transfer's id is chosen by the caller, so a retry never applies
//! twice: the same transfer again is answered [`Applied::AlreadyApplied`], another transfer under a used id is
//! refused. A transfer is posted at once, or held pending (a reservation: a guarantee drawn for a release before
//! final assessment) and later posted or voided, once. History is never edited: a correction is a new transfer.
//!
//! Accounts carry a [`Rule`]: a cash account may not go below zero, a deferment or guarantee account may not owe
//! more than its limit (pending reservations count against it). See [`customs`] for how Aduana names its accounts.
//!
//! **Architecture invariant**: pure. No IO, no clock (times are passed in), no floating point.

pub mod customs;

use declaration::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Longest account or transfer id.
pub const MAX_ID_LEN: usize = 128;

fn valid_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":._-/".contains(&b))
}

/// An account's name, e.g. `cash:GB603202734852`, `revenue:A00`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Result<AccountId, LedgerError> {
        if valid_id(text) {
            Ok(AccountId(text.to_owned()))
        } else {
            Err(LedgerError::InvalidId(
                text.chars().take(MAX_ID_LEN).collect(),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = LedgerError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AccountId::parse(&value)
    }
}
impl From<AccountId> for String {
    fn from(value: AccountId) -> Self {
        value.0
    }
}
impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A transfer's id, chosen by the caller (a payment order reference, `assessment:<declaration>:<version>`, …).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TransferId(String);

impl TransferId {
    pub fn parse(text: &str) -> Result<TransferId, LedgerError> {
        if valid_id(text) {
            Ok(TransferId(text.to_owned()))
        } else {
            Err(LedgerError::InvalidId(
                text.chars().take(MAX_ID_LEN).collect(),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for TransferId {
    type Error = LedgerError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TransferId::parse(&value)
    }
}
impl From<TransferId> for String {
    fn from(value: TransferId) -> Self {
        value.0
    }
}
impl std::fmt::Display for TransferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", content = "limit", rename_all = "snake_case")]
pub enum Rule {
    /// Any balance (revenue, receivables, the bank's clearing account, suspense).
    Unrestricted,
    /// Debits (posted and pending) may not exceed posted credits: a trader's cash account never goes negative.
    NoOverdraft,
    /// Debits (posted and pending) less posted credits may not exceed the limit: a deferment account's monthly
    /// limit, a guarantee's reference amount.
    DebitLimit(#[serde(with = "rust_decimal::serde::str")] Decimal),
}

/// An account and its totals. The balance is `credits - debits`; pending amounts are reserved, not yet moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub currency: Currency,
    pub rule: Rule,
    #[serde(with = "rust_decimal::serde::str")]
    pub debits_posted: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub credits_posted: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub debits_pending: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub credits_pending: Decimal,
}

impl Account {
    pub fn new(id: AccountId, currency: Currency, rule: Rule) -> Account {
        Account {
            id,
            currency,
            rule,
            debits_posted: Decimal::ZERO,
            credits_posted: Decimal::ZERO,
            debits_pending: Decimal::ZERO,
            credits_pending: Decimal::ZERO,
        }
    }

    /// Posted credits less posted debits. (Both totals are non-negative and within `Decimal`, so their
    /// difference cannot overflow.)
    pub fn balance(&self) -> Decimal {
        self.credits_posted - self.debits_posted
    }

    /// Debits (posted and pending) less posted credits; `None` when it does not fit a `Decimal`.
    fn used(&self) -> Option<Decimal> {
        self.debits_posted
            .checked_add(self.debits_pending)?
            .checked_sub(self.credits_posted)
    }

    /// What may still be debited: for a cash account its balance less reservations, for a limited account its
    /// limit less what it owes and has reserved; `None` when unrestricted. Totals too large to compare count as
    /// nothing available.
    pub fn available(&self) -> Option<Decimal> {
        let used = self.used();
        match self.rule {
            Rule::Unrestricted => None,
            Rule::NoOverdraft => Some(used.map_or(Decimal::MIN, |u| -u)),
            Rule::DebitLimit(limit) => Some(
                used.and_then(|u| limit.checked_sub(u))
                    .unwrap_or(Decimal::MIN),
            ),
        }
    }

    fn allows(&self) -> bool {
        self.available().is_none_or(|a| a >= Decimal::ZERO)
    }
}

/// How a transfer moves money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "pending", rename_all = "snake_case")]
pub enum TransferKind {
    /// Moves the amount now.
    Posted,
    /// Reserves the amount; a later transfer posts or voids it.
    Pending,
    /// Posts the pending transfer named (same accounts and amount).
    PostPending(TransferId),
    /// Releases the pending transfer named.
    VoidPending(TransferId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: TransferId,
    pub debit: AccountId,
    pub credit: AccountId,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
    pub kind: TransferKind,
    /// Why: `assessment`, `payment`, `deferment`, `guarantee`, `refund`, …
    pub code: String,
    /// What it concerns: a declaration id, a payment order, a period.
    pub reference: String,
    /// When it was applied, RFC 3339 UTC, passed in.
    pub at: String,
}

/// The answer to a transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// The same transfer was applied before: nothing changed (a retry).
    AlreadyApplied,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerError {
    InvalidId(String),
    UnknownAccount(AccountId),
    AccountExists(AccountId),
    SameAccount,
    NotPositive,
    CurrencyMismatch {
        account: AccountId,
        expected: Currency,
    },
    /// The id was used by a different transfer.
    IdReused(TransferId),
    /// The debited account's rule refuses it.
    Refused {
        account: AccountId,
        available: Decimal,
        rule: Rule,
    },
    PendingNotFound(TransferId),
    PendingResolved(TransferId),
    /// A post or void must repeat the pending transfer's accounts and amount.
    PendingMismatch(TransferId),
    TooManyTransfers,
    /// An account's totals would no longer fit a decimal: the transfer is refused, nothing changes.
    Overflow(AccountId),
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::InvalidId(id) => write!(
                f,
                "{id:?} is not a valid id: 1 to {MAX_ID_LEN} letters, digits or : . _ - /."
            ),
            LedgerError::UnknownAccount(id) => write!(f, "There is no account {id}."),
            LedgerError::AccountExists(id) => write!(f, "The account {id} exists already."),
            LedgerError::SameAccount => {
                write!(f, "A transfer must go from one account to another.")
            }
            LedgerError::NotPositive => write!(f, "A transfer's amount must be more than zero."),
            LedgerError::CurrencyMismatch { account, expected } => {
                write!(f, "The account {account} is kept in {expected}.")
            }
            LedgerError::IdReused(id) => write!(
                f,
                "The transfer id {id} was already used for a different transfer."
            ),
            LedgerError::Refused {
                account,
                available,
                rule,
            } => match rule {
                Rule::NoOverdraft => write!(
                    f,
                    "The account {account} holds too little: {available} is available."
                ),
                _ => write!(
                    f,
                    "The account {account} would exceed its limit: {available} is available."
                ),
            },
            LedgerError::PendingNotFound(id) => write!(f, "There is no pending transfer {id}."),
            LedgerError::PendingResolved(id) => {
                write!(f, "The pending transfer {id} was already posted or voided.")
            }
            LedgerError::PendingMismatch(id) => write!(
                f,
                "Posting or voiding {id} must repeat its accounts and amount."
            ),
            LedgerError::TooManyTransfers => {
                write!(f, "At most {MAX_BATCH} transfers may be applied together.")
            }
            LedgerError::Overflow(id) => write!(
                f,
                "The totals of {id} would be larger than the ledger can hold; the transfer is refused."
            ),
        }
    }
}

impl std::error::Error for LedgerError {}

/// Most transfers one atomic batch may hold.
pub const MAX_BATCH: usize = 1000;

/// What became of a pending transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    Open,
    Posted,
    Voided,
}

/// Accounts and the transfers applied to them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    accounts: BTreeMap<AccountId, Account>,
    transfers: HashMap<TransferId, Transfer>,
    pending: HashMap<TransferId, PendingState>,
    order: Vec<TransferId>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    pub fn open(&mut self, account: Account) -> Result<(), LedgerError> {
        if self.accounts.contains_key(&account.id) {
            return Err(LedgerError::AccountExists(account.id));
        }
        self.accounts.insert(account.id.clone(), account);
        Ok(())
    }

    /// Puts an account back as stored (storage loads the accounts a transfer touches).
    pub fn restore(&mut self, account: Account) {
        self.accounts.insert(account.id.clone(), account);
    }

    /// Puts a stored transfer back, with the state of its reservation when it is pending, so that retries and
    /// post/void find it. Balances are not touched (they were restored with the accounts).
    pub fn restore_transfer(&mut self, transfer: Transfer, pending: Option<PendingState>) {
        if let Some(state) = pending {
            self.pending.insert(transfer.id.clone(), state);
        }
        self.order.push(transfer.id.clone());
        self.transfers.insert(transfer.id.clone(), transfer);
    }

    /// Removes an account restored or opened speculatively that no transfer touched (a refused decision's new
    /// account). An account with transfers is kept: history is never removed.
    pub fn forget(&mut self, id: &AccountId) {
        let used = self
            .transfers
            .values()
            .any(|t| &t.debit == id || &t.credit == id);
        if !used {
            self.accounts.remove(id);
        }
    }

    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    pub fn transfer(&self, id: &TransferId) -> Option<&Transfer> {
        self.transfers.get(id)
    }

    pub fn pending_state(&self, id: &TransferId) -> Option<PendingState> {
        self.pending.get(id).copied()
    }

    /// Transfers in the order they were applied.
    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.order.iter().filter_map(|id| self.transfers.get(id))
    }

    /// Applies one transfer.
    pub fn apply(&mut self, transfer: Transfer) -> Result<Applied, LedgerError> {
        self.apply_all(vec![transfer]).map(|mut v| v.remove(0))
    }

    /// Applies transfers as one: all of them or none (an assessment posts every tax type, a payment settles
    /// several liabilities).
    pub fn apply_all(&mut self, transfers: Vec<Transfer>) -> Result<Vec<Applied>, LedgerError> {
        if transfers.len() > MAX_BATCH {
            return Err(LedgerError::TooManyTransfers);
        }
        let mut touched: BTreeMap<AccountId, Account> = BTreeMap::new();
        let mut added: Vec<TransferId> = Vec::new();
        let mut resolved: Vec<TransferId> = Vec::new();
        let mut answers = Vec::new();
        let mut failure = None;
        for transfer in transfers {
            for id in [&transfer.debit, &transfer.credit] {
                if let Some(account) = self.accounts.get(id)
                    && !touched.contains_key(id)
                {
                    touched.insert(id.clone(), account.clone());
                }
            }
            match self.apply_one(transfer) {
                Ok((answer, id, resolves)) => {
                    if answer == Applied::Applied {
                        added.push(id);
                        resolved.extend(resolves);
                    }
                    answers.push(answer);
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        if let Some(error) = failure {
            // Undo: accounts as they were, the batch's transfers forgotten, reservations reopened.
            for (id, account) in touched {
                self.accounts.insert(id, account);
            }
            for id in &added {
                self.transfers.remove(id);
                self.pending.remove(id);
            }
            for id in resolved {
                self.pending.insert(id, PendingState::Open);
            }
            self.order.truncate(self.order.len() - added.len());
            return Err(error);
        }
        Ok(answers)
    }

    fn apply_one(
        &mut self,
        transfer: Transfer,
    ) -> Result<(Applied, TransferId, Option<TransferId>), LedgerError> {
        if let Some(existing) = self.transfers.get(&transfer.id) {
            let same = existing.debit == transfer.debit
                && existing.credit == transfer.credit
                && existing.amount == transfer.amount
                && existing.currency == transfer.currency
                && existing.kind == transfer.kind
                && existing.code == transfer.code
                && existing.reference == transfer.reference;
            return if same {
                Ok((Applied::AlreadyApplied, transfer.id, None))
            } else {
                Err(LedgerError::IdReused(transfer.id))
            };
        }
        if transfer.debit == transfer.credit {
            return Err(LedgerError::SameAccount);
        }
        if transfer.amount <= Decimal::ZERO {
            return Err(LedgerError::NotPositive);
        }
        for id in [&transfer.debit, &transfer.credit] {
            let account = self
                .accounts
                .get(id)
                .ok_or_else(|| LedgerError::UnknownAccount(id.clone()))?;
            if account.currency != transfer.currency {
                return Err(LedgerError::CurrencyMismatch {
                    account: id.clone(),
                    expected: account.currency.clone(),
                });
            }
        }
        let amount = transfer.amount;
        let mut resolves = None;
        // Totals are computed first and written only when both accounts' fit (checked arithmetic: an amount near
        // the largest decimal is refused, never a panic).
        let (debit, credit) = (
            self.accounts[&transfer.debit].clone(),
            self.accounts[&transfer.credit].clone(),
        );
        let overflow = |id: &AccountId| LedgerError::Overflow(id.clone());
        match &transfer.kind {
            TransferKind::Posted => {
                let d = debit
                    .debits_posted
                    .checked_add(amount)
                    .ok_or_else(|| overflow(&debit.id))?;
                let c = credit
                    .credits_posted
                    .checked_add(amount)
                    .ok_or_else(|| overflow(&credit.id))?;
                self.change(&transfer.debit, |a| a.debits_posted = d);
                self.change(&transfer.credit, |a| a.credits_posted = c);
            }
            TransferKind::Pending => {
                let d = debit
                    .debits_pending
                    .checked_add(amount)
                    .ok_or_else(|| overflow(&debit.id))?;
                let c = credit
                    .credits_pending
                    .checked_add(amount)
                    .ok_or_else(|| overflow(&credit.id))?;
                self.change(&transfer.debit, |a| a.debits_pending = d);
                self.change(&transfer.credit, |a| a.credits_pending = c);
            }
            TransferKind::PostPending(pending) | TransferKind::VoidPending(pending) => {
                let original = self
                    .transfers
                    .get(pending)
                    .filter(|t| t.kind == TransferKind::Pending)
                    .ok_or_else(|| LedgerError::PendingNotFound(pending.clone()))?;
                if original.debit != transfer.debit
                    || original.credit != transfer.credit
                    || original.amount != amount
                {
                    return Err(LedgerError::PendingMismatch(pending.clone()));
                }
                if self.pending.get(pending) != Some(&PendingState::Open) {
                    return Err(LedgerError::PendingResolved(pending.clone()));
                }
                let post = matches!(transfer.kind, TransferKind::PostPending(_));
                let moved = if post { amount } else { Decimal::ZERO };
                let d = debit
                    .debits_posted
                    .checked_add(moved)
                    .ok_or_else(|| overflow(&debit.id))?;
                let c = credit
                    .credits_posted
                    .checked_add(moved)
                    .ok_or_else(|| overflow(&credit.id))?;
                // A pending amount was added to these totals when reserved, so taking it off cannot overflow.
                self.change(&transfer.debit, |a| {
                    a.debits_pending -= amount;
                    a.debits_posted = d;
                });
                self.change(&transfer.credit, |a| {
                    a.credits_pending -= amount;
                    a.credits_posted = c;
                });
                resolves = Some((
                    pending.clone(),
                    if post {
                        PendingState::Posted
                    } else {
                        PendingState::Voided
                    },
                ));
            }
        }
        // Only the debited account can break its rule (credits only add to what an account holds).
        let debited = &self.accounts[&transfer.debit];
        if !debited.allows() {
            let error = LedgerError::Refused {
                account: transfer.debit.clone(),
                available: debited.available().unwrap_or_default()
                    + match transfer.kind {
                        TransferKind::Posted | TransferKind::Pending => amount,
                        _ => Decimal::ZERO,
                    },
                rule: debited.rule,
            };
            return Err(error);
        }
        let id = transfer.id.clone();
        if transfer.kind == TransferKind::Pending {
            self.pending.insert(id.clone(), PendingState::Open);
        }
        let resolves = resolves.map(|(pending, state)| {
            self.pending.insert(pending.clone(), state);
            pending
        });
        self.order.push(id.clone());
        self.transfers.insert(id.clone(), transfer);
        Ok((Applied::Applied, id, resolves))
    }

    fn change(&mut self, id: &AccountId, f: impl FnOnce(&mut Account)) {
        if let Some(account) = self.accounts.get_mut(id) {
            f(account);
        }
    }

    /// Checks every invariant of the ledger: debits equal credits per currency (posted and pending), every
    /// account within its rule, and every account's totals equal to the replay of the transfers. Used by the
    /// property tests and by `aduana ledger verify`.
    pub fn verify(&self) -> Result<(), String> {
        // Checked sums: stored totals too large to add up are reported, never a panic.
        fn add(
            total: &mut Decimal,
            amount: Decimal,
            what: &dyn std::fmt::Display,
        ) -> Result<(), String> {
            *total = total
                .checked_add(amount)
                .ok_or_else(|| format!("the totals of {what} are too large to add up"))?;
            Ok(())
        }
        fn sub(
            total: &mut Decimal,
            amount: Decimal,
            what: &dyn std::fmt::Display,
        ) -> Result<(), String> {
            *total = total
                .checked_sub(amount)
                .ok_or_else(|| format!("the totals of {what} are too large to add up"))?;
            Ok(())
        }
        let mut sums: BTreeMap<&str, [Decimal; 4]> = BTreeMap::new();
        for account in self.accounts.values() {
            if !account.allows() {
                return Err(format!("{} breaks its rule {:?}", account.id, account.rule));
            }
            let entry = sums.entry(account.currency.as_str()).or_default();
            let currency = account.currency.as_str();
            add(&mut entry[0], account.debits_posted, &currency)?;
            add(&mut entry[1], account.credits_posted, &currency)?;
            add(&mut entry[2], account.debits_pending, &currency)?;
            add(&mut entry[3], account.credits_pending, &currency)?;
        }
        for (currency, [dp, cp, dn, cn]) in &sums {
            if dp != cp || dn != cn {
                return Err(format!(
                    "{currency}: debits {dp}/{dn} and credits {cp}/{cn} (posted/pending) differ"
                ));
            }
        }
        let mut replay: BTreeMap<&AccountId, [Decimal; 4]> = BTreeMap::new();
        for transfer in self.transfers() {
            let amount = transfer.amount;
            let (debit, credit) = (&transfer.debit, &transfer.credit);
            match &transfer.kind {
                TransferKind::Posted => {
                    add(&mut replay.entry(debit).or_default()[0], amount, debit)?;
                    add(&mut replay.entry(credit).or_default()[1], amount, credit)?;
                }
                TransferKind::Pending => {
                    add(&mut replay.entry(debit).or_default()[2], amount, debit)?;
                    add(&mut replay.entry(credit).or_default()[3], amount, credit)?;
                }
                TransferKind::PostPending(_) => {
                    sub(&mut replay.entry(debit).or_default()[2], amount, debit)?;
                    sub(&mut replay.entry(credit).or_default()[3], amount, credit)?;
                    add(&mut replay.entry(debit).or_default()[0], amount, debit)?;
                    add(&mut replay.entry(credit).or_default()[1], amount, credit)?;
                }
                TransferKind::VoidPending(_) => {
                    sub(&mut replay.entry(debit).or_default()[2], amount, debit)?;
                    sub(&mut replay.entry(credit).or_default()[3], amount, credit)?;
                }
            }
        }
        for account in self.accounts.values() {
            let expected = replay.get(&account.id).copied().unwrap_or_default();
            let actual = [
                account.debits_posted,
                account.credits_posted,
                account.debits_pending,
                account.credits_pending,
            ];
            if expected != actual {
                return Err(format!(
                    "{}: totals {actual:?} but the transfers add up to {expected:?}",
                    account.id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
