//! A declaration's position in the ledger, read from the transfers that touch its receivable and its secured
//! account.

use crate::{Overflow, add, sub};
use ledger::customs::{self, AccountKind, Movement};
use ledger::{AccountId, PendingState, Transfer, TransferId, TransferKind};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// An open reservation on a guarantee for the declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub id: TransferId,
    pub guarantee: AccountId,
    pub amount: Decimal,
}

/// What the ledger holds for one declaration (`receivable:<key>`, `secured:<key>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Net assessed per tax type (`receivable → revenue:<type>` less reassessments back).
    pub revenue: BTreeMap<String, Decimal>,
    /// Net deferred per deferment account.
    pub deferred: BTreeMap<AccountId, Decimal>,
    /// Net paid from cash accounts.
    pub cash: BTreeMap<AccountId, Decimal>,
    /// Received through banks and counters (payments) …
    pub received: Decimal,
    /// … and paid back (refunds).
    pub refunded: Decimal,
    /// Open reservations on guarantees.
    pub reserved: Vec<Reservation>,
    /// Reservations the guarantor paid (called) and released by an officer (discharged).
    pub called: Decimal,
    pub discharged: Decimal,
    /// The receivable's balance: credits (payments, deferrals) less debits (assessments, refunds). Negative: owed;
    /// positive: owed back.
    pub balance: Decimal,
    /// The currency the declaration's money is kept in (of its transfers), when it has any.
    pub currency: Option<declaration::Currency>,
}

impl Position {
    /// The position of the declaration whose ledger key is `key`, from the transfers touching its accounts (any
    /// order; each counted once) and the state of each reservation.
    pub fn of<'a>(
        key: &str,
        transfers: impl IntoIterator<Item = &'a Transfer>,
        pending: impl Fn(&TransferId) -> Option<PendingState>,
    ) -> Result<Position, Overflow> {
        let receivable = customs::receivable(key);
        let secured = customs::secured(key);
        let mut out = Position::default();
        let mut seen = std::collections::BTreeSet::new();
        for t in transfers {
            if !seen.insert(&t.id) {
                continue;
            }
            if out.currency.is_none()
                && [&t.debit, &t.credit]
                    .iter()
                    .any(|a| **a == receivable || **a == secured)
            {
                out.currency = Some(t.currency.clone());
            }
            let amount = t.amount;
            if t.credit == secured || t.debit == secured {
                // Reservations on guarantees: open ones count; posted (called) and voided ones are history.
                if t.credit == secured
                    && t.kind == TransferKind::Pending
                    && pending(&t.id).unwrap_or(PendingState::Open) == PendingState::Open
                {
                    out.reserved.push(Reservation {
                        id: t.id.clone(),
                        guarantee: t.debit.clone(),
                        amount,
                    });
                }
                match (&t.kind, Movement::parse(&t.code)) {
                    (TransferKind::PostPending(_), _) => add(&mut out.called, amount, key)?,
                    (TransferKind::VoidPending(_), Some(Movement::GuaranteeDischarged)) => {
                        add(&mut out.discharged, amount, key)?
                    }
                    _ => {}
                }
                continue;
            }
            if t.kind != TransferKind::Posted && !matches!(t.kind, TransferKind::PostPending(_)) {
                continue;
            }
            let (incoming, other) = if t.credit == receivable {
                (true, &t.debit)
            } else if t.debit == receivable {
                (false, &t.credit)
            } else {
                continue;
            };
            if incoming {
                add(&mut out.balance, amount, key)?;
            } else {
                sub(&mut out.balance, amount, key)?;
            }
            let signed = |total: &mut Decimal| {
                if incoming {
                    add(total, amount, key)
                } else {
                    sub(total, amount, key)
                }
            };
            match customs::kind(other) {
                Some((AccountKind::Revenue, tax_type)) => {
                    // Revenue is credited (outgoing from the receivable) by an assessment.
                    let total = out.revenue.entry(tax_type.to_owned()).or_default();
                    if incoming {
                        sub(total, amount, key)?
                    } else {
                        add(total, amount, key)?
                    }
                }
                Some((AccountKind::Deferment, _)) => {
                    signed(out.deferred.entry(other.clone()).or_default())?
                }
                Some((AccountKind::Cash, _)) => signed(out.cash.entry(other.clone()).or_default())?,
                Some((AccountKind::Bank, _)) => {
                    if incoming {
                        add(&mut out.received, amount, key)?
                    } else {
                        add(&mut out.refunded, amount, key)?
                    }
                }
                _ => {}
            }
        }
        out.revenue.retain(|_, v| !v.is_zero());
        out.deferred.retain(|_, v| !v.is_zero());
        out.cash.retain(|_, v| !v.is_zero());
        Ok(out)
    }

    /// Everything assessed, over all tax types.
    pub fn revenue_total(&self) -> Decimal {
        self.revenue
            .values()
            .try_fold(Decimal::ZERO, |s, v| s.checked_add(*v))
            .unwrap_or(Decimal::MAX)
    }

    /// Everything deferred, over all accounts.
    pub fn deferred_total(&self) -> Decimal {
        self.deferred
            .values()
            .try_fold(Decimal::ZERO, |s, v| s.checked_add(*v))
            .unwrap_or(Decimal::MAX)
    }

    /// Everything paid from cash accounts.
    pub fn cash_total(&self) -> Decimal {
        self.cash
            .values()
            .try_fold(Decimal::ZERO, |s, v| s.checked_add(*v))
            .unwrap_or(Decimal::MAX)
    }

    /// Everything reserved on guarantees now.
    pub fn reserved_total(&self) -> Decimal {
        self.reserved
            .iter()
            .try_fold(Decimal::ZERO, |s, r| s.checked_add(r.amount))
            .unwrap_or(Decimal::MAX)
    }

    /// What the trader has paid, net: through banks and counters less refunds, plus cash accounts.
    pub fn paid(&self) -> Decimal {
        (self.received - self.refunded)
            .checked_add(self.cash_total())
            .unwrap_or(Decimal::MAX)
    }
}
