//! How Aduana's money maps onto ledger accounts and transfers.
//!
//! | account | rule | holds |
//! |---|---|---|
//! | `receivable:<declaration>` | unrestricted | what a declaration owes (debit balance) or is owed back (credit) |
//! | `revenue:<tax type>` | unrestricted | duties and taxes assessed, per tax type (credit balance) |
//! | `cash:<party>` | no overdraft | a trader's prepaid cash account |
//! | `deferment:<account number>` | debit limit | duties deferred to the period's end, up to the limit |
//! | `guarantee:<reference>` | debit limit | amounts secured by a guarantee, up to its reference amount |
//! | `bank:<bank>` | unrestricted | money received from or paid out through a bank |
//! | `secured:<declaration>` | unrestricted | the other side of a guarantee's reservations for a declaration |
//!
//! - An assessment posts, per tax type, `receivable → revenue` (the declaration owes).
//! - A payment posts `bank → receivable` (or `cash:<party> → receivable` from a cash account).
//! - Deferment posts `deferment → receivable`: the debt moves to the deferment account, within its limit; the
//!   period's settlement posts `bank → deferment`.
//! - A guarantee reserves `guarantee → secured` (pending) for release before final assessment or for transit; the
//!   reservation is voided on discharge, or posted if the guarantee is called.
//! - A reassessment posts the difference: more due `receivable → revenue`; less due `revenue → receivable`,
//!   leaving a credit that a refund pays out `receivable → bank`.

use crate::{Account, AccountId, Rule};
use declaration::Currency;

fn id(kind: &str, name: &str) -> AccountId {
    // Names come from parsed codes (party ids, tax types, declaration uuids); anything else is a bug upstream.
    AccountId::parse(&format!("{kind}:{name}")).expect("account names are built from valid codes")
}

pub fn receivable(declaration: &str) -> AccountId {
    id("receivable", declaration)
}
pub fn revenue(tax_type: &str) -> AccountId {
    id("revenue", tax_type)
}
pub fn cash(party: &str) -> AccountId {
    id("cash", party)
}
pub fn deferment(account_number: &str) -> AccountId {
    id("deferment", account_number)
}
pub fn guarantee(reference: &str) -> AccountId {
    id("guarantee", reference)
}
pub fn bank(name: &str) -> AccountId {
    id("bank", name)
}
pub fn secured(declaration: &str) -> AccountId {
    id("secured", declaration)
}

/// The rule an account of this name keeps when it is opened on first use (deferment and guarantee accounts are
/// opened by an officer with their limit; a cash account may not go below zero; the others are unrestricted).
pub fn default_account(id: &AccountId, currency: &Currency) -> Option<Account> {
    let kind = id.as_str().split(':').next().unwrap_or_default();
    let rule = match kind {
        "receivable" | "revenue" | "bank" | "secured" | "suspense" => Rule::Unrestricted,
        "cash" => Rule::NoOverdraft,
        _ => return None,
    };
    Some(Account::new(id.clone(), currency.clone(), rule))
}
