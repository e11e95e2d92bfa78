//! The decision: from what is owed, the accounts named and the position, the transfers to apply.

use crate::{Needs, Overflow, Position, Settles, add, sub};
use declaration::Currency;
use ledger::customs::{self, Movement};
use ledger::{Account, AccountId, Rule, Transfer, TransferId, TransferKind};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// An account as the decision sees it: its totals and rule, its holder, and the declarants the holder authorised
/// to name it (a standing authority, registered like a representation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub account: Account,
    pub holder: Option<String>,
    pub authorised: BTreeSet<String>,
}

impl Holding {
    /// Whether `declarant` may have duties charged to this account.
    pub fn allows(&self, declarant: &str) -> bool {
        self.holder.as_deref() == Some(declarant) || self.authorised.contains(declarant)
    }
}

/// The accounts loaded for a decision (those that exist), by id.
pub type Accounts = BTreeMap<AccountId, Holding>;

/// The amounts deferred and guaranteed once the lifecycle assessed the current version: kept as they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decided {
    pub deferred: Decimal,
    pub guaranteed: Decimal,
}

/// What the declaration owes, and the accounts it names for it.
#[derive(Clone, Debug)]
pub struct Owed<'a> {
    pub needs: &'a Needs,
    /// DE 2/6, the deferment account number (a DAN), if named.
    pub deferment: Option<&'a str>,
    /// DE 8/3, the guarantee reference, if named.
    pub guarantee: Option<&'a str>,
    /// Set once the current version is assessed.
    pub decided: Option<Decided>,
}

/// Everything the decision reads.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The declaration's name in the ledger (`clearance::ledger_key`).
    pub key: &'a str,
    /// DE 3/18: whose duties they are; an account is charged only for a declarant it allows.
    pub declarant: &'a str,
    /// `None`: nothing is owed (the declaration is cancelled or was rejected): everything is given back.
    pub owed: Option<Owed<'a>>,
    pub accounts: &'a Accounts,
    pub position: &'a Position,
    /// Unique to the command (e.g. `r7`, the declaration's revision before it): transfer ids are built from it.
    pub stamp: &'a str,
    /// The time the transfers carry, RFC 3339 UTC.
    pub at: &'a str,
    /// A demonstration convenience: a deferment account or guarantee named but not opened is opened with this
    /// limit, held by the declarant. `None` (the default) refuses an account nobody opened.
    pub auto_open: Option<Decimal>,
}

/// An account the decision opens (only with `auto_open`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    pub account: Account,
    pub holder: String,
}

/// How the declaration's liabilities stand after the plan: what the lifecycle settles on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub currency: Currency,
    /// Everything assessed.
    pub total: Decimal,
    /// Deferred to the deferment account (accepted).
    pub deferred: Decimal,
    /// Secured by the guarantee (accepted).
    pub guaranteed: Decimal,
    /// Due before release: the rest (including what the cash account paid, and what an account refused).
    pub immediate: Decimal,
    /// Paid from the cash account, in all (the ledger's figure after the plan).
    pub cash_account: Decimal,
    pub deferment_refused: Option<String>,
    pub guarantee_refused: Option<String>,
    pub cash_refused: Option<String>,
}

/// The transfers (to apply as one, in order), the accounts to open first, and the coverage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub opens: Vec<Opening>,
    pub transfers: Vec<Transfer>,
    pub coverage: Coverage,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.opens.is_empty() && self.transfers.is_empty()
    }
}

struct Builder<'a> {
    request: &'a Request<'a>,
    currency: Currency,
    transfers: Vec<Transfer>,
}

impl Builder<'_> {
    fn push(
        &mut self,
        movement: Movement,
        debit: AccountId,
        credit: AccountId,
        amount: Decimal,
        kind: TransferKind,
    ) {
        let id = transfer_id(
            movement,
            self.request.key,
            self.request.stamp,
            self.transfers.len(),
        );
        self.transfers.push(Transfer {
            id,
            debit,
            credit,
            amount,
            currency: self.currency.clone(),
            kind,
            code: movement.as_str().to_owned(),
            reference: self.request.key.to_owned(),
            at: self.request.at.to_owned(),
        });
    }
}

/// `<movement>:<key>:<stamp>:<n>`, or with the key hashed when that would be longer than an id may be.
fn transfer_id(movement: Movement, key: &str, stamp: &str, n: usize) -> TransferId {
    let plain = format!("{}:{key}:{stamp}:{n}", movement.as_str());
    TransferId::parse(&plain).unwrap_or_else(|_| {
        let digest = hex::encode(&Sha256::digest(key.as_bytes())[..16]);
        TransferId::parse(&format!("{}:{digest}:{stamp}:{n}", movement.as_str()))
            .expect("a hex digest and a short stamp make a valid id")
    })
}

/// An account a declaration names, as its sentences call it.
struct Named {
    id: AccountId,
    /// `deferment account 1234567`, `guarantee GRN1`.
    label: String,
    /// How such an account comes to exist: `open`, `registered`.
    opened: &'static str,
}

/// Whether an account named for deferment or a guarantee can take `amount` for this declarant, of which
/// `already` it holds for the declaration now. Returns the account's id, or the reason in words.
fn usable(
    request: &Request<'_>,
    named: Named,
    currency: &Currency,
    amount: Decimal,
    already: Decimal,
    opens: &mut Vec<Opening>,
) -> Result<AccountId, String> {
    let Named { id, label, opened } = named;
    let id = &id;
    let holding = match request.accounts.get(id) {
        Some(holding) => holding.clone(),
        None => match request.auto_open.filter(|limit| *limit > Decimal::ZERO) {
            Some(limit) => {
                let account = Account::new(id.clone(), currency.clone(), Rule::DebitLimit(limit));
                opens.push(Opening {
                    account: account.clone(),
                    holder: request.declarant.to_owned(),
                });
                Holding {
                    account,
                    holder: Some(request.declarant.to_owned()),
                    authorised: BTreeSet::new(),
                }
            }
            None => {
                return Err(format!(
                    "The {label} is not {opened} with this administration."
                ));
            }
        },
    };
    if !holding.allows(request.declarant) {
        // The holder is not named: a declarant learns nothing about another party's account.
        return Err(format!(
            "The {label} cannot be used by {}: it is not its holder, and its holder has registered no authority for it.",
            request.declarant
        ));
    }
    if &holding.account.currency != currency {
        return Err(format!(
            "The {label} is kept in {}.",
            holding.account.currency
        ));
    }
    // The limit applies to what is added: what the declaration holds already stays (a lowered limit does not claw
    // back a deferral granted).
    let more = (amount - already).max(Decimal::ZERO);
    match holding.account.available() {
        Some(available) if more > Decimal::ZERO && available < more => Err(format!(
            "The {label} has {:.2} {currency} available; {amount:.2} is needed.",
            available
                .checked_add(already)
                .unwrap_or(Decimal::MAX)
                .max(Decimal::ZERO)
        )),
        _ => Ok(id.clone()),
    }
}

/// The decision (see the crate documentation).
pub fn plan(request: &Request<'_>) -> Result<Plan, Overflow> {
    let position = request.position;
    // The currency of what is owed; with nothing owed, the one its money was kept in (whatever there is to give
    // back is in it).
    let currency = match &request.owed {
        Some(owed) => owed.needs.currency.clone(),
        None => position
            .currency
            .clone()
            .unwrap_or_else(|| Currency::parse("XXX").expect("XXX is ISO 4217's 'no currency'")),
    };
    let mut opens = Vec::new();
    let mut coverage = Coverage {
        currency: currency.clone(),
        total: Decimal::ZERO,
        deferred: Decimal::ZERO,
        guaranteed: Decimal::ZERO,
        immediate: Decimal::ZERO,
        cash_account: position.cash_total(),
        deferment_refused: None,
        guarantee_refused: None,
        cash_refused: None,
    };

    // 1. The targets: the deferment account and amount, the guarantee and amount, more from the cash account.
    let mut deferral: Option<(AccountId, Decimal)> = None;
    let mut reservation: Option<(AccountId, Decimal)> = None;
    let mut cash_more = Decimal::ZERO;
    let mut guarantee_resolved = false;
    let mut revenue_target: BTreeMap<String, Decimal> = BTreeMap::new();
    if let Some(owed) = &request.owed {
        let needs = owed.needs;
        coverage.total = needs.grand_total()?;
        let wanted_deferred = owed
            .decided
            .map_or(needs.total(Settles::Deferred), |d| d.deferred);
        let wanted_guaranteed = owed
            .decided
            .map_or(needs.total(Settles::Guaranteed), |d| d.guaranteed);
        if wanted_deferred > Decimal::ZERO {
            let chosen = match owed.deferment {
                None => {
                    Err("No deferment account is declared (DE 2/6, document type DAN).".to_owned())
                }
                Some(number) => {
                    let id = customs::deferment(number);
                    let already = position.deferred.get(&id).copied().unwrap_or_default();
                    usable(
                        request,
                        Named {
                            id,
                            label: format!("deferment account {number}"),
                            opened: "open",
                        },
                        &currency,
                        wanted_deferred,
                        already,
                        &mut opens,
                    )
                }
            };
            match chosen {
                Ok(id) => deferral = Some((id, wanted_deferred)),
                Err(why) => coverage.deferment_refused = Some(why),
            }
        }
        // A reservation an officer discharged, or the guarantor paid (called), is resolved: not reserved again.
        let mut resolved = position.called;
        add(&mut resolved, position.discharged, "the amount guaranteed")?;
        let still_guaranteed = (wanted_guaranteed - resolved).max(Decimal::ZERO);
        if wanted_guaranteed > Decimal::ZERO && still_guaranteed.is_zero() {
            guarantee_resolved = true;
        } else if wanted_guaranteed > Decimal::ZERO {
            let chosen = match owed.guarantee {
                None => Err("No guarantee is declared (DE 8/3).".to_owned()),
                Some(reference) => {
                    let id = customs::guarantee(reference);
                    let already: Decimal = position
                        .reserved
                        .iter()
                        .filter(|r| r.guarantee == id)
                        .try_fold(Decimal::ZERO, |s, r| s.checked_add(r.amount))
                        .unwrap_or(Decimal::MAX);
                    usable(
                        request,
                        Named {
                            id,
                            label: format!("guarantee {reference}"),
                            opened: "registered",
                        },
                        &currency,
                        still_guaranteed,
                        already,
                        &mut opens,
                    )
                }
            };
            match chosen {
                Ok(id) => reservation = Some((id, still_guaranteed)),
                Err(why) => coverage.guarantee_refused = Some(why),
            }
        }
        // The cash account pays what the P lines ask beyond what it paid already, all of it or none; what it paid
        // is never taken back by a plan (a lower reassessment leaves a credit, refunded through a refund).
        let cash_needed = needs.total(Settles::CashAccount);
        if cash_needed > coverage.cash_account {
            let more = cash_needed - coverage.cash_account;
            let id = customs::cash(request.declarant);
            let available = request
                .accounts
                .get(&id)
                .filter(|h| h.account.currency == currency)
                .and_then(|h| h.account.available())
                .unwrap_or(Decimal::ZERO);
            if available >= more {
                cash_more = more;
                add(&mut coverage.cash_account, more, "the cash account")?;
            } else {
                coverage.cash_refused = Some(format!(
                    "The cash account of {} has {:.2} {currency} available; {more:.2} is needed.",
                    request.declarant,
                    available.max(Decimal::ZERO)
                ));
            }
        }
        // Revenue: every line but those a guarantee secures (they are not collected unless it is called).
        for ((tax_type, settles), amount) in &needs.lines {
            if *settles == Settles::Guaranteed && (reservation.is_some() || guarantee_resolved) {
                continue;
            }
            add(
                revenue_target.entry(tax_type.clone()).or_default(),
                *amount,
                "the revenue assessed",
            )?;
        }
        coverage.deferred = deferral.as_ref().map_or(Decimal::ZERO, |(_, a)| *a);
        coverage.guaranteed = if reservation.is_some() || guarantee_resolved {
            wanted_guaranteed
        } else {
            Decimal::ZERO
        };
        coverage.immediate = coverage.total;
        sub(&mut coverage.immediate, coverage.deferred, "the amount due")?;
        sub(
            &mut coverage.immediate,
            coverage.guaranteed,
            "the amount due",
        )?;
        coverage.immediate = coverage.immediate.max(Decimal::ZERO);
    }

    // 2. The differences, as transfers: give back first (so that limits free up), then take.
    let mut out = Builder {
        request,
        currency: currency.clone(),
        transfers: Vec::new(),
    };
    let receivable = customs::receivable(request.key);
    let secured = customs::secured(request.key);

    // Revenue per tax type.
    let types: BTreeSet<&String> = revenue_target
        .keys()
        .chain(position.revenue.keys())
        .collect();
    let mut takes = Vec::new();
    for tax_type in types {
        let target = revenue_target.get(tax_type).copied().unwrap_or_default();
        let posted = position.revenue.get(tax_type).copied().unwrap_or_default();
        let mut difference = target;
        sub(&mut difference, posted, "the revenue assessed")?;
        if difference < Decimal::ZERO {
            out.push(
                Movement::Reassessment,
                customs::revenue(tax_type),
                receivable.clone(),
                -difference,
                TransferKind::Posted,
            );
        } else if difference > Decimal::ZERO {
            takes.push((tax_type.clone(), difference));
        }
    }
    // Deferrals: accounts that hold more than their target give back.
    let mut deferral_take = None;
    let accounts: BTreeSet<AccountId> = position
        .deferred
        .keys()
        .cloned()
        .chain(deferral.iter().map(|(id, _)| id.clone()))
        .collect();
    for id in accounts {
        let target = match &deferral {
            Some((chosen, amount)) if *chosen == id => *amount,
            _ => Decimal::ZERO,
        };
        let held = position.deferred.get(&id).copied().unwrap_or_default();
        let mut difference = target;
        sub(&mut difference, held, "the amount deferred")?;
        if difference < Decimal::ZERO {
            out.push(
                Movement::DefermentReturned,
                receivable.clone(),
                id.clone(),
                -difference,
                TransferKind::Posted,
            );
        } else if difference > Decimal::ZERO {
            deferral_take = Some((id, difference));
        }
    }
    // Reservations: keep the one that is exactly the target; void the others; reserve the target if not kept.
    let mut kept = false;
    for open in &position.reserved {
        let keep = !kept
            && reservation
                .as_ref()
                .is_some_and(|(g, amount)| *g == open.guarantee && *amount == open.amount);
        if keep {
            kept = true;
            continue;
        }
        out.push(
            Movement::GuaranteeReleased,
            open.guarantee.clone(),
            secured.clone(),
            open.amount,
            TransferKind::VoidPending(open.id.clone()),
        );
    }
    // Then what is taken: revenue assessed, deferral, reservation, cash.
    for (tax_type, amount) in takes {
        out.push(
            Movement::Assessment,
            receivable.clone(),
            customs::revenue(&tax_type),
            amount,
            TransferKind::Posted,
        );
    }
    if let Some((id, amount)) = deferral_take {
        out.push(
            Movement::Deferment,
            id,
            receivable.clone(),
            amount,
            TransferKind::Posted,
        );
    }
    if let Some((guarantee, amount)) = reservation
        && !kept
    {
        out.push(
            Movement::Guarantee,
            guarantee,
            secured.clone(),
            amount,
            TransferKind::Pending,
        );
    }
    if cash_more > Decimal::ZERO {
        out.push(
            Movement::CashAccount,
            customs::cash(request.declarant),
            receivable.clone(),
            cash_more,
            TransferKind::Posted,
        );
    }
    Ok(Plan {
        opens,
        transfers: out.transfers,
        coverage,
    })
}
