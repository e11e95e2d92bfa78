//! Integrity checks over declarations and the ledger: what `aduana ledger verify` and the reconciliation report
//! add to the ledger's own `verify`.

use crate::{Accounts, Position};
use ledger::customs::{self, AccountKind};
use rust_decimal::Decimal;
use workflow::{Liabilities, Status};

/// A declaration as the checks see it.
#[derive(Clone, Debug)]
pub struct Subject<'a> {
    pub id: &'a str,
    pub declarant: &'a str,
    pub status: Status,
    /// What the lifecycle settled on, if assessed.
    pub liabilities: Option<&'a Liabilities>,
    /// What the lifecycle recorded as paid (payments less refunds).
    pub paid: Decimal,
}

/// Something that must never be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub declaration: String,
    pub sentence: String,
}

fn finding(subject: &Subject<'_>, sentence: String) -> Finding {
    Finding {
        declaration: subject.id.to_owned(),
        sentence,
    }
}

/// The checks on one declaration against its position and the accounts it used (`holdings`: at least every
/// deferment account and guarantee in `position`).
pub fn check(subject: &Subject<'_>, position: &Position, holdings: &Accounts) -> Vec<Finding> {
    let mut out = Vec::new();
    // The lifecycle and the ledger agree on what was paid.
    if subject.paid != position.paid() {
        out.push(finding(
            subject,
            format!(
                "the lifecycle records {} paid but the ledger {}",
                subject.paid,
                position.paid()
            ),
        ));
    }
    // Released (or settled, waiting only for arrival): every liability paid, deferred or guaranteed in the ledger.
    if matches!(subject.status, Status::Released | Status::Settled)
        && let Some(l) = subject.liabilities
    {
        if position.deferred_total() != l.deferred {
            out.push(finding(
                subject,
                format!(
                    "{} with {} deferred, but the ledger defers {}",
                    subject.status.as_str(),
                    l.deferred,
                    position.deferred_total()
                ),
            ));
        }
        let secured = position
            .reserved_total()
            .checked_add(position.called)
            .and_then(|s| s.checked_add(position.discharged))
            .unwrap_or(Decimal::MAX);
        if secured < l.guaranteed {
            out.push(finding(
                subject,
                format!(
                    "{} with {} guaranteed, but the ledger secures {secured}",
                    subject.status.as_str(),
                    l.guaranteed
                ),
            ));
        }
        let covered = position.paid();
        if covered < l.immediate {
            out.push(finding(
                subject,
                format!(
                    "{} with {} due now, but the ledger holds {covered} paid",
                    subject.status.as_str(),
                    l.immediate
                ),
            ));
        }
        let assessed = l.immediate.checked_add(l.deferred).unwrap_or(Decimal::MAX);
        if position.revenue_total() != assessed {
            out.push(finding(
                subject,
                format!(
                    "{} with {assessed} assessed for revenue, but the ledger credits revenue with {}",
                    subject.status.as_str(),
                    position.revenue_total()
                ),
            ));
        }
    }
    // Cancelled or rejected: nothing assessed, deferred or reserved is left; what was paid is owed back.
    if matches!(subject.status, Status::Cancelled | Status::Rejected) {
        if !position.revenue.is_empty()
            || !position.deferred.is_empty()
            || !position.reserved.is_empty()
        {
            out.push(finding(
                subject,
                format!(
                    "{} but the ledger still holds {} assessed, {} deferred and {} reserved for it",
                    subject.status.as_str(),
                    position.revenue_total(),
                    position.deferred_total(),
                    position.reserved_total()
                ),
            ));
        }
        if position.balance < Decimal::ZERO {
            out.push(finding(
                subject,
                format!(
                    "{} but its receivable owes {}",
                    subject.status.as_str(),
                    -position.balance
                ),
            ));
        }
    }
    // Never more paid back than was paid. (That a refund was within what was paid less what was due when it was
    // paid is checked by the refund itself, under the declaration's lock; a later amendment may make more due,
    // which the lifecycle then asks for — and a released or settled declaration owing it is found above.)
    let paid_in = position
        .received
        .checked_add(position.cash_total())
        .unwrap_or(Decimal::MAX);
    if position.refunded > paid_in {
        out.push(finding(
            subject,
            format!(
                "{} refunded, more than the {paid_in} paid",
                position.refunded
            ),
        ));
    }
    // No account charged for a declarant it does not authorise.
    let used = position
        .deferred
        .keys()
        .cloned()
        .chain(position.reserved.iter().map(|r| r.guarantee.clone()));
    for account in used {
        let allowed = holdings
            .get(&account)
            .is_some_and(|h| h.allows(subject.declarant));
        if !allowed {
            out.push(finding(
                subject,
                format!(
                    "{account} is charged for {}, which its holder has not authorised",
                    subject.declarant
                ),
            ));
        }
    }
    for account in position.cash.keys() {
        let own = customs::kind(account)
            .is_some_and(|(k, party)| k == AccountKind::Cash && party == subject.declarant);
        if !own {
            out.push(finding(
                subject,
                format!(
                    "{account} paid for {}, whose cash account it is not",
                    subject.declarant
                ),
            ));
        }
    }
    out
}

/// A transit movement as the checks see it: whose it is, whether it still holds its guarantee (not discharged
/// or cancelled), and the guarantee and amount its departure named.
#[derive(Clone, Debug)]
pub struct TransitSubject<'a> {
    pub mrn: &'a str,
    pub holder: &'a str,
    pub holds: bool,
    pub guarantee: Option<(&'a str, Decimal)>,
}

/// The checks on one transit movement: while it runs, its guarantee reserved once for the amount named, on an
/// account its holder may use; once ended, nothing reserved; never revenue, cash or deferral.
pub fn check_transit(
    subject: &TransitSubject<'_>,
    position: &Position,
    holdings: &Accounts,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let say = |sentence: String| Finding {
        declaration: format!("transit {}", subject.mrn),
        sentence,
    };
    if !position.revenue.values().all(Decimal::is_zero)
        || !position.deferred.values().all(Decimal::is_zero)
        || !position.cash.values().all(Decimal::is_zero)
        || !position.received.is_zero()
    {
        out.push(say(
            "a transit movement holds money other than its guarantee".to_owned(),
        ));
    }
    match (subject.holds, subject.guarantee) {
        (true, Some((grn, amount))) => {
            let account = customs::guarantee(grn);
            let open: Vec<_> = position.reserved.iter().collect();
            if open.len() != 1 || open[0].guarantee != account || open[0].amount != amount {
                out.push(say(format!(
                    "it runs under guarantee {grn} for {amount}, but the ledger reserves {:?}",
                    open.iter()
                        .map(|r| (r.guarantee.as_str(), r.amount))
                        .collect::<Vec<_>>()
                )));
            }
            if holdings
                .get(&account)
                .is_some_and(|h| !h.allows(subject.holder))
            {
                out.push(say(format!(
                    "guarantee {grn} is not {}'s to use",
                    subject.holder
                )));
            }
        }
        _ if !position.reserved.is_empty() => {
            out.push(say(format!(
                "it holds no guarantee now, but the ledger still reserves {}",
                position.reserved_total()
            )));
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod transit_tests {
    use super::*;
    use crate::Reservation;

    fn reserved(amount: i64) -> Position {
        Position {
            reserved: vec![Reservation {
                id: ledger::TransferId::parse("guarantee:transit-M:d1:0").unwrap(),
                guarantee: customs::guarantee("GRN1"),
                amount: Decimal::from(amount),
            }],
            ..Position::default()
        }
    }

    #[test]
    fn a_movement_holds_its_guarantee_exactly_while_it_runs() {
        let accounts = Accounts::new();
        let running = TransitSubject {
            mrn: "M",
            holder: "GB1",
            holds: true,
            guarantee: Some(("GRN1", Decimal::from(500))),
        };
        assert!(check_transit(&running, &reserved(500), &accounts).is_empty());
        assert_eq!(
            check_transit(&running, &reserved(400), &accounts).len(),
            1,
            "the amount named"
        );
        assert_eq!(
            check_transit(&running, &Position::default(), &accounts).len(),
            1,
            "not reserved"
        );
        let ended = TransitSubject {
            holds: false,
            ..running
        };
        assert!(check_transit(&ended, &Position::default(), &accounts).is_empty());
        assert_eq!(
            check_transit(&ended, &reserved(500), &accounts).len(),
            1,
            "freed once ended"
        );
    }
}
