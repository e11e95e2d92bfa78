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

/// The kinds of account in the table above, read from an account's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountKind {
    Receivable,
    Revenue,
    Cash,
    Deferment,
    Guarantee,
    Bank,
    Secured,
    Suspense,
}

impl AccountKind {
    pub const ALL: [AccountKind; 8] = [
        AccountKind::Receivable,
        AccountKind::Revenue,
        AccountKind::Cash,
        AccountKind::Deferment,
        AccountKind::Guarantee,
        AccountKind::Bank,
        AccountKind::Secured,
        AccountKind::Suspense,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            AccountKind::Receivable => "receivable",
            AccountKind::Revenue => "revenue",
            AccountKind::Cash => "cash",
            AccountKind::Deferment => "deferment",
            AccountKind::Guarantee => "guarantee",
            AccountKind::Bank => "bank",
            AccountKind::Secured => "secured",
            AccountKind::Suspense => "suspense",
        }
    }

    /// Accounts opened by the administration with a limit and a holder (deferment accounts, guarantees); the others
    /// open on first use.
    pub fn is_held(self) -> bool {
        matches!(self, AccountKind::Deferment | AccountKind::Guarantee)
    }
}

/// The kind of an account and the name after its prefix (`deferment:1234567` → Deferment, "1234567").
pub fn kind(id: &AccountId) -> Option<(AccountKind, &str)> {
    let (prefix, name) = id.as_str().split_once(':')?;
    AccountKind::ALL
        .into_iter()
        .find(|k| k.prefix() == prefix)
        .map(|k| (k, name))
}

/// The name of a declaration in the ledger (`receivable:<key>`): its declarant and LRN, which identify it before
/// it has an id and for ever after. Characters an account name cannot hold are replaced, and a short hash then
/// keeps distinct LRNs distinct.
pub fn declaration_key(declarant: &str, lrn: &str) -> String {
    let clean: String = lrn
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean == lrn {
        format!("{declarant}/{lrn}")
    } else {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(lrn.as_bytes());
        let prefix: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("{declarant}/{clean}.{prefix}")
    }
}

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
    let rule = match kind(id)?.0 {
        AccountKind::Receivable
        | AccountKind::Revenue
        | AccountKind::Bank
        | AccountKind::Secured
        | AccountKind::Suspense => Rule::Unrestricted,
        AccountKind::Cash => Rule::NoOverdraft,
        AccountKind::Deferment | AccountKind::Guarantee => return None,
    };
    Some(Account::new(id.clone(), currency.clone(), rule))
}

/// Why money moved: the `code` of a transfer, one word per kind of movement (docs/payments.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Movement {
    /// `receivable → revenue:<tax type>`: duties and taxes assessed.
    Assessment,
    /// `revenue → receivable`: a lower reassessment (or a cancellation) gives back what was assessed.
    Reassessment,
    /// `deferment → receivable`: duties deferred to the account's period end.
    Deferment,
    /// `receivable → deferment`: deferred duties given back to the account (lower reassessment, cancellation).
    DefermentReturned,
    /// `guarantee → secured` (pending): duties secured by a guarantee.
    Guarantee,
    /// The reservation voided when the amount secured changes or is no longer needed.
    GuaranteeReleased,
    /// The reservation voided by an officer once the duties are paid or no longer due.
    GuaranteeDischarged,
    /// The reservation posted: the guarantor pays.
    GuaranteeCalled,
    /// `cash:<party> → receivable`: paid from the trader's cash account (DE 4/8 P).
    CashAccount,
    /// `bank → receivable`: paid through a bank (a payment order) or at a customs counter.
    Payment,
    /// `receivable → bank`: a credit paid back.
    Refund,
    /// `bank → deferment | cash`: a period's settlement, or a deposit to a cash account.
    Settlement,
}

impl Movement {
    pub const ALL: [Movement; 12] = [
        Movement::Assessment,
        Movement::Reassessment,
        Movement::Deferment,
        Movement::DefermentReturned,
        Movement::Guarantee,
        Movement::GuaranteeReleased,
        Movement::GuaranteeDischarged,
        Movement::GuaranteeCalled,
        Movement::CashAccount,
        Movement::Payment,
        Movement::Refund,
        Movement::Settlement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Assessment => "assessment",
            Movement::Reassessment => "reassessment",
            Movement::Deferment => "deferment",
            Movement::DefermentReturned => "deferment_returned",
            Movement::Guarantee => "guarantee",
            Movement::GuaranteeReleased => "guarantee_released",
            Movement::GuaranteeDischarged => "guarantee_discharged",
            Movement::GuaranteeCalled => "guarantee_called",
            Movement::CashAccount => "cash_account",
            Movement::Payment => "payment",
            Movement::Refund => "refund",
            Movement::Settlement => "settlement",
        }
    }

    pub fn parse(text: &str) -> Option<Movement> {
        Movement::ALL.into_iter().find(|m| m.as_str() == text)
    }
}
