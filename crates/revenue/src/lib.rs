//! Revenue: what a declaration owes and how it is secured, as one pure decision.
//!
//! Every command that can change what a declaration owes or how it is secured — lodgement, amendment, correction,
//! arrival, a payment, an override, cancellation — ends with [`plan`]: the declaration's assessment (its [`Needs`]),
//! the accounts it names (with their holders and authorities) and its [`Position`] in the ledger go in; the
//! transfers that bring the ledger to what the assessment requires come out, with the [`Coverage`] the lifecycle
//! settles on. The caller applies the transfers in the same transaction as the declaration's change, so no path can
//! release goods the ledger does not cover, and nothing needs undoing when a lodgement loses a race: its transaction
//! simply does not commit.
//!
//! The plan is a difference, not a script: it computes the target position (revenue per tax type, the amount
//! deferred to the named deferment account, the amount reserved on the named guarantee, what the trader's cash
//! account paid) and posts what is missing or gives back what is too much. Run twice, it moves nothing the second
//! time. Once the lifecycle has assessed a version, the amounts deferred and guaranteed are [`Decided`] and kept.
//!
//! [`check`] is the other half: the integrity checks `aduana ledger verify` and the reconciliation report run over
//! every declaration (released ones covered, no account charged for a declarant it does not authorise, refunds
//! within what was paid, cancelled declarations' money owed back, the lifecycle's payments equal to the ledger's).
//!
//! **Architecture invariant**: pure. No IO, no clock (times are passed in).

mod check;
mod methods;
mod plan;
mod position;

pub use check::{Finding, Subject, TransitSubject, check, check_transit};
pub use methods::{Methods, Settles};
pub use plan::{Accounts, Coverage, Decided, Holding, Opening, Owed, Plan, Request, plan};
pub use position::{Position, Reservation};

use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// An amount did not fit: the decision is refused rather than wrapped or panicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow(pub String);

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is larger than the ledger can hold.", self.0)
    }
}

impl std::error::Error for Overflow {}

pub(crate) fn add(total: &mut Decimal, amount: Decimal, what: &str) -> Result<(), Overflow> {
    *total = total
        .checked_add(amount)
        .ok_or_else(|| Overflow(what.to_owned()))?;
    Ok(())
}

pub(crate) fn sub(total: &mut Decimal, amount: Decimal, what: &str) -> Result<(), Overflow> {
    *total = total
        .checked_sub(amount)
        .ok_or_else(|| Overflow(what.to_owned()))?;
    Ok(())
}

/// What an assessment asks for: per tax type, the amount by how the declaration says it is settled (DE 4/8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needs {
    pub currency: declaration::Currency,
    pub lines: BTreeMap<(String, Settles), Decimal>,
}

impl Needs {
    /// The needs of `assessment`, its DE 4/8 methods read with the administration's `methods`.
    pub fn of(assessment: &tariff::Assessment, methods: &Methods) -> Result<Needs, Overflow> {
        let currency = declaration::Currency::parse(&assessment.currency)
            .map_err(|_| Overflow(format!("the currency {:?}", assessment.currency)))?;
        let mut lines = BTreeMap::new();
        for tax in assessment.items.iter().flat_map(|i| &i.taxes) {
            if tax.amount.is_zero() {
                continue;
            }
            let entry: &mut Decimal = lines
                .entry((tax.tax_type.clone(), methods.settles(tax.payment_method)))
                .or_default();
            add(entry, tax.amount, &format!("the {} assessed", tax.tax_type))?;
        }
        Ok(Needs { currency, lines })
    }

    /// Everything settled in this way.
    pub fn total(&self, settles: Settles) -> Decimal {
        // Each line fits, and their sum was checked when `lines` was built per tax type; the sum over tax types is
        // checked here.
        self.lines
            .iter()
            .filter(|((_, s), _)| *s == settles)
            .try_fold(Decimal::ZERO, |sum, (_, amount)| sum.checked_add(*amount))
            .unwrap_or(Decimal::MAX)
    }

    /// Everything assessed.
    pub fn grand_total(&self) -> Result<Decimal, Overflow> {
        let mut total = Decimal::ZERO;
        for amount in self.lines.values() {
            add(&mut total, *amount, "the total assessed")?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests;
