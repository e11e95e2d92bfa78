//! The decision driven against a real (in-memory) ledger: each scenario plans, applies, and reads the position
//! back; a property test runs random sequences of assessments, accounts and cancellations.

use super::*;
use declaration::Currency;
use ledger::customs::{self, Movement};
use ledger::{Account, AccountId, Ledger, Rule, Transfer, TransferKind};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const KEY: &str = "GB603202734852/LRN1";
const TRADER: &str = "GB603202734852";
const OTHER: &str = "GB123456789000";

fn gbp() -> Currency {
    Currency::parse("GBP").unwrap()
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// Needs from (tax type, settles, amount) rows.
fn needs(rows: &[(&str, Settles, &str)]) -> Needs {
    let mut lines = BTreeMap::new();
    for (tax, settles, amount) in rows {
        *lines
            .entry(((*tax).to_owned(), *settles))
            .or_insert(Decimal::ZERO) += d(amount);
    }
    Needs {
        currency: gbp(),
        lines,
    }
}

/// A ledger with its accounts' holders and authorities, as storage would load them.
struct Books {
    ledger: Ledger,
    holders: BTreeMap<AccountId, (Option<String>, BTreeSet<String>)>,
    revision: u32,
}

impl Books {
    fn new() -> Books {
        Books {
            ledger: Ledger::new(),
            holders: BTreeMap::new(),
            revision: 0,
        }
    }

    fn open(&mut self, id: &AccountId, limit: &str, holder: &str) {
        self.ledger
            .open(Account::new(id.clone(), gbp(), Rule::DebitLimit(d(limit))))
            .unwrap();
        self.holders
            .insert(id.clone(), (Some(holder.to_owned()), BTreeSet::new()));
    }

    fn authorise(&mut self, id: &AccountId, party: &str) {
        self.holders.get_mut(id).unwrap().1.insert(party.to_owned());
    }

    fn deposit(&mut self, party: &str, amount: &str) {
        let cash = customs::cash(party);
        self.ensure(&cash);
        self.ensure(&customs::bank("B"));
        self.ledger
            .apply(Transfer {
                id: ledger::TransferId::parse(&format!(
                    "dep:{party}:{}",
                    self.ledger.transfers().count()
                ))
                .unwrap(),
                debit: customs::bank("B"),
                credit: cash,
                amount: d(amount),
                currency: gbp(),
                kind: TransferKind::Posted,
                code: Movement::Settlement.as_str().into(),
                reference: party.into(),
                at: "2026-12-01T00:00:00Z".into(),
            })
            .unwrap();
    }

    fn pay(&mut self, amount: &str) {
        self.ensure(&customs::bank("B"));
        self.ensure(&customs::receivable(KEY));
        self.ledger
            .apply(Transfer {
                id: ledger::TransferId::parse(&format!("pay:{}", self.ledger.transfers().count()))
                    .unwrap(),
                debit: customs::bank("B"),
                credit: customs::receivable(KEY),
                amount: d(amount),
                currency: gbp(),
                kind: TransferKind::Posted,
                code: Movement::Payment.as_str().into(),
                reference: KEY.into(),
                at: "2026-12-01T00:00:00Z".into(),
            })
            .unwrap();
    }

    fn ensure(&mut self, id: &AccountId) {
        if self.ledger.account(id).is_none()
            && let Some(account) = customs::default_account(id, &gbp())
        {
            self.ledger.open(account).unwrap();
        }
    }

    fn accounts(&self) -> Accounts {
        self.ledger
            .accounts()
            .map(|a| {
                let (holder, authorised) = self.holders.get(&a.id).cloned().unwrap_or_default();
                (
                    a.id.clone(),
                    Holding {
                        account: a.clone(),
                        holder,
                        authorised,
                    },
                )
            })
            .collect()
    }

    fn position(&self) -> Position {
        Position::of(KEY, self.ledger.transfers(), |id| {
            self.ledger.pending_state(id)
        })
        .unwrap()
    }

    /// Plans for `owed` as `declarant`, applies the plan, and returns it.
    fn run(&mut self, declarant: &str, owed: Option<Owed<'_>>, auto_open: Option<Decimal>) -> Plan {
        self.revision += 1;
        let accounts = self.accounts();
        let position = self.position();
        let stamp = format!("r{}", self.revision);
        let plan = plan(&Request {
            key: KEY,
            declarant,
            owed,
            accounts: &accounts,
            position: &position,
            stamp: &stamp,
            at: "2026-12-01T00:00:00Z",
            auto_open,
        })
        .unwrap();
        for opening in &plan.opens {
            self.ledger.open(opening.account.clone()).unwrap();
            self.holders.insert(
                opening.account.id.clone(),
                (Some(opening.holder.clone()), BTreeSet::new()),
            );
        }
        for t in &plan.transfers {
            self.ensure(&t.debit.clone());
            self.ensure(&t.credit.clone());
        }
        self.ledger
            .apply_all(plan.transfers.clone())
            .unwrap_or_else(|e| panic!("the plan must apply: {e}\n{plan:#?}"));
        assert!(self.ledger.verify().is_ok(), "{:?}", self.ledger.verify());
        plan
    }
}

fn owed<'a>(needs: &'a Needs, dan: Option<&'a str>, grn: Option<&'a str>) -> Owed<'a> {
    Owed {
        needs,
        deferment: dan,
        guarantee: grn,
        decided: None,
    }
}

fn dan() -> AccountId {
    customs::deferment("1234567")
}

#[test]
fn deferred_duties_go_to_the_declared_account_within_its_limit() {
    let mut books = Books::new();
    books.open(&dan(), "1000", TRADER);
    let n = needs(&[
        ("A00", Settles::Deferred, "20"),
        ("B00", Settles::Deferred, "204"),
    ]);
    let plan = books.run(TRADER, Some(owed(&n, Some("1234567"), None)), None);
    assert_eq!(plan.coverage.deferred, d("224"));
    assert_eq!(plan.coverage.immediate, Decimal::ZERO);
    let p = books.position();
    assert_eq!(p.deferred_total(), d("224"));
    assert_eq!(p.revenue_total(), d("224"));
    assert_eq!(p.balance, Decimal::ZERO);
    // Again: nothing moves.
    let again = books.run(TRADER, Some(owed(&n, Some("1234567"), None)), None);
    assert!(again.transfers.is_empty(), "{again:#?}");
}

#[test]
fn an_account_that_cannot_take_them_leaves_the_duties_due_now_with_the_reason() {
    let mut books = Books::new();
    books.open(&dan(), "100", TRADER);
    books.open(&customs::deferment("7654321"), "100000", OTHER);
    let n = needs(&[("A00", Settles::Deferred, "224")]);
    let cases: [(&str, Option<&str>, &str); 4] = [
        (TRADER, None, "No deferment account is declared"),
        (
            TRADER,
            Some("1234567"),
            "has 100.00 GBP available; 224.00 is needed",
        ),
        (
            TRADER,
            Some("9999999"),
            "is not open with this administration",
        ),
        // Another trader's account (finding 3 of issue 14): refused, and its holder is not named.
        (TRADER, Some("7654321"), "it is not its holder"),
    ];
    for (declarant, number, why) in cases {
        let mut books = Books::new();
        books.open(&dan(), "100", TRADER);
        books.open(&customs::deferment("7654321"), "100000", OTHER);
        let plan = books.run(declarant, Some(owed(&n, number, None)), None);
        let refused = plan.coverage.deferment_refused.clone().unwrap_or_default();
        assert!(refused.contains(why), "{number:?}: {refused}");
        assert!(
            !refused.contains(OTHER),
            "the holder is never named: {refused}"
        );
        assert_eq!(plan.coverage.deferred, Decimal::ZERO);
        assert_eq!(plan.coverage.immediate, d("224"));
        let p = books.position();
        assert!(p.deferred.is_empty());
        assert_eq!(p.balance, d("-224"), "owed now");
    }
    // An authority registered by the holder lets the other declarant use it.
    books.authorise(&customs::deferment("7654321"), TRADER);
    let plan = books.run(TRADER, Some(owed(&n, Some("7654321"), None)), None);
    assert_eq!(plan.coverage.deferment_refused, None);
    assert_eq!(plan.coverage.deferred, d("224"));
}

#[test]
fn an_account_nobody_opened_is_opened_only_when_the_demonstration_asks() {
    let n = needs(&[("A00", Settles::Deferred, "224")]);
    let mut books = Books::new();
    let plan = books.run(TRADER, Some(owed(&n, Some("1234567"), None)), None);
    assert!(plan.opens.is_empty());
    assert!(plan.coverage.deferment_refused.is_some());
    let mut books = Books::new();
    let plan = books.run(TRADER, Some(owed(&n, Some("1234567"), None)), Some(d("0")));
    assert!(plan.opens.is_empty(), "a zero limit opens nothing");
    let plan = books.run(
        TRADER,
        Some(owed(&n, Some("1234567"), None)),
        Some(d("1000")),
    );
    assert_eq!(plan.opens.len(), 1);
    assert_eq!(
        plan.opens[0].holder, TRADER,
        "held by the declarant who named it"
    );
    assert_eq!(plan.coverage.deferred, d("224"));
    // Once open, it is the trader's: another declarant naming it is refused.
    let plan = books.run(
        OTHER,
        Some(owed(&n, Some("1234567"), None)),
        Some(d("1000")),
    );
    assert!(plan.coverage.deferment_refused.is_some());
}

#[test]
fn an_amendment_takes_or_gives_back_exactly_what_its_assessment_needs() {
    let mut books = Books::new();
    books.open(&dan(), "1000", TRADER);
    let first = needs(&[("A00", Settles::Deferred, "224")]);
    books.run(TRADER, Some(owed(&first, Some("1234567"), None)), None);
    // Up within the limit: the difference deferred.
    let more = needs(&[("A00", Settles::Deferred, "500")]);
    let plan = books.run(TRADER, Some(owed(&more, Some("1234567"), None)), None);
    assert_eq!(plan.transfers.len(), 2, "{plan:#?}");
    assert_eq!(books.position().deferred_total(), d("500"));
    // Up beyond the limit (finding 1 of issue 14): nothing stays deferred, everything is due now.
    let too_much = needs(&[("A00", Settles::Deferred, "22400")]);
    let plan = books.run(TRADER, Some(owed(&too_much, Some("1234567"), None)), None);
    assert!(plan.coverage.deferment_refused.is_some());
    assert_eq!(plan.coverage.immediate, d("22400"));
    let p = books.position();
    assert!(p.deferred.is_empty(), "{p:?}");
    assert_eq!(p.balance, d("-22400"));
    // Down again: deferred, and revenue reassessed.
    let less = needs(&[("A00", Settles::Deferred, "100")]);
    books.run(TRADER, Some(owed(&less, Some("1234567"), None)), None);
    let p = books.position();
    assert_eq!(
        (p.deferred_total(), p.revenue_total(), p.balance),
        (d("100"), d("100"), d("0"))
    );
    // Method changed from deferment to cash (A): the deferral is given back, the duty is due.
    let cash = needs(&[("A00", Settles::Immediate, "100")]);
    books.run(TRADER, Some(owed(&cash, Some("1234567"), None)), None);
    let p = books.position();
    assert!(p.deferred.is_empty());
    assert_eq!(p.balance, d("-100"));
}

#[test]
fn a_decided_assessment_keeps_its_deferral_whatever_the_account_does_next() {
    let mut books = Books::new();
    books.open(&dan(), "1000", TRADER);
    let n = needs(&[("A00", Settles::Deferred, "224")]);
    books.run(TRADER, Some(owed(&n, Some("1234567"), None)), None);
    // The limit is lowered to what is deferred (nothing left available): the decided version keeps it.
    let mut account = books.ledger.account(&dan()).unwrap().clone();
    account.rule = Rule::DebitLimit(d("224"));
    books.ledger.restore(account);
    let decided = Owed {
        decided: Some(Decided {
            deferred: d("224"),
            guaranteed: Decimal::ZERO,
        }),
        ..owed(&n, Some("1234567"), None)
    };
    let plan = books.run(TRADER, Some(decided), None);
    assert!(plan.transfers.is_empty(), "{plan:#?}");
    assert_eq!(plan.coverage.deferred, d("224"));
}

#[test]
fn a_refused_deferral_once_decided_is_not_taken_later() {
    let mut books = Books::new();
    books.open(&dan(), "100", TRADER);
    let n = needs(&[("A00", Settles::Deferred, "224")]);
    books.run(TRADER, Some(owed(&n, Some("1234567"), None)), None);
    let mut account = books.ledger.account(&dan()).unwrap().clone();
    account.rule = Rule::DebitLimit(d("10000"));
    books.ledger.restore(account);
    let decided = Owed {
        decided: Some(Decided::default()),
        ..owed(&n, Some("1234567"), None)
    };
    let plan = books.run(TRADER, Some(decided), None);
    assert!(plan.transfers.is_empty(), "{plan:#?}");
    assert_eq!(plan.coverage.immediate, d("224"));
}

#[test]
fn cancellation_gives_everything_back_and_leaves_payments_as_a_credit() {
    let mut books = Books::new();
    books.open(&dan(), "1000", TRADER);
    books.open(&customs::guarantee("GRN1"), "1000", TRADER);
    let n = needs(&[
        ("A00", Settles::Deferred, "100"),
        ("B00", Settles::Immediate, "50"),
        ("C00", Settles::Guaranteed, "70"),
    ]);
    books.run(TRADER, Some(owed(&n, Some("1234567"), Some("GRN1"))), None);
    books.pay("50");
    let p = books.position();
    assert_eq!(
        (
            p.deferred_total(),
            p.reserved_total(),
            p.revenue_total(),
            p.balance
        ),
        (d("100"), d("70"), d("150"), d("0"))
    );
    // Finding 13 of issue 14: the money of a cancelled declaration is owed back.
    let plan = books.run(TRADER, None, None);
    assert_eq!(plan.transfers.len(), 4, "{plan:#?}");
    let p = books.position();
    assert!(
        p.revenue.is_empty() && p.deferred.is_empty() && p.reserved.is_empty(),
        "{p:?}"
    );
    assert_eq!(p.balance, d("50"), "the 50 paid is owed back");
    let account = books.ledger.account(&dan()).unwrap();
    assert_eq!(
        account.balance(),
        Decimal::ZERO,
        "the deferment account is whole again"
    );
    assert!(books.run(TRADER, None, None).transfers.is_empty());
}

#[test]
fn a_guarantee_reservation_follows_the_amount_and_is_kept_when_it_matches() {
    let mut books = Books::new();
    books.open(&customs::guarantee("GRN1"), "500", TRADER);
    let n = needs(&[("A00", Settles::Guaranteed, "224")]);
    let plan = books.run(TRADER, Some(owed(&n, None, Some("GRN1"))), None);
    assert_eq!(plan.coverage.guaranteed, d("224"));
    assert_eq!(books.position().reserved_total(), d("224"));
    assert!(
        books.position().revenue.is_empty(),
        "secured, not collected"
    );
    let more = needs(&[("A00", Settles::Guaranteed, "400")]);
    let plan = books.run(TRADER, Some(owed(&more, None, Some("GRN1"))), None);
    assert_eq!(plan.transfers.len(), 2, "void then reserve: {plan:#?}");
    assert_eq!(books.position().reserved.len(), 1);
    assert_eq!(books.position().reserved_total(), d("400"));
    // Beyond the reference amount: nothing reserved, the duty is due and is revenue.
    let too_much = needs(&[("A00", Settles::Guaranteed, "900")]);
    let plan = books.run(TRADER, Some(owed(&too_much, None, Some("GRN1"))), None);
    assert!(plan.coverage.guarantee_refused.is_some());
    let p = books.position();
    assert!(p.reserved.is_empty());
    assert_eq!((p.revenue_total(), p.balance), (d("900"), d("-900")));
}

#[test]
fn the_cash_account_pays_all_or_nothing_and_is_never_taken_back() {
    let mut books = Books::new();
    books.deposit(TRADER, "300");
    let n = needs(&[("A00", Settles::CashAccount, "224")]);
    let plan = books.run(TRADER, Some(owed(&n, None, None)), None);
    assert_eq!(plan.coverage.cash_account, d("224"));
    assert_eq!(books.position().balance, Decimal::ZERO);
    // More than it holds: nothing more taken, the rest is due.
    let more = needs(&[("A00", Settles::CashAccount, "500")]);
    let plan = books.run(TRADER, Some(owed(&more, None, None)), None);
    assert!(plan.coverage.cash_refused.is_some());
    assert_eq!(plan.coverage.cash_account, d("224"));
    assert_eq!(books.position().balance, d("-276"));
    // Less: nothing given back by the plan; the credit waits for a refund.
    let less = needs(&[("A00", Settles::CashAccount, "100")]);
    books.run(TRADER, Some(owed(&less, None, None)), None);
    assert_eq!(books.position().balance, d("124"));
    assert_eq!(books.position().cash_total(), d("224"));
}

#[test]
fn the_checks_find_what_must_never_be() {
    let mut books = Books::new();
    books.open(&dan(), "1000", OTHER);
    // Someone else's account charged (as the old code did): a deferral written by hand.
    books.ensure(&customs::receivable(KEY));
    books.ensure(&customs::revenue("A00"));
    books
        .ledger
        .apply_all(vec![
            Transfer {
                id: ledger::TransferId::parse("x1").unwrap(),
                debit: customs::receivable(KEY),
                credit: customs::revenue("A00"),
                amount: d("224"),
                currency: gbp(),
                kind: TransferKind::Posted,
                code: "assessment".into(),
                reference: KEY.into(),
                at: "t".into(),
            },
            Transfer {
                id: ledger::TransferId::parse("x2").unwrap(),
                debit: dan(),
                credit: customs::receivable(KEY),
                amount: d("224"),
                currency: gbp(),
                kind: TransferKind::Posted,
                code: "deferment".into(),
                reference: KEY.into(),
                at: "t".into(),
            },
        ])
        .unwrap();
    let liabilities = workflow::Liabilities {
        immediate: Decimal::ZERO,
        deferred: d("224"),
        guaranteed: Decimal::ZERO,
        currency: "GBP".into(),
    };
    let subject = Subject {
        id: "d1",
        declarant: TRADER,
        status: workflow::Status::Released,
        liabilities: Some(&liabilities),
        paid: Decimal::ZERO,
    };
    let found = check(&subject, &books.position(), &books.accounts());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].sentence.contains("has not authorised"));
    // Released with 224 due now and nothing paid; and the lifecycle claiming a payment the ledger lacks.
    let unpaid = workflow::Liabilities {
        immediate: d("224"),
        deferred: Decimal::ZERO,
        ..liabilities.clone()
    };
    let subject = Subject {
        liabilities: Some(&unpaid),
        paid: d("224"),
        ..subject
    };
    let found: Vec<String> = check(&subject, &books.position(), &books.accounts())
        .into_iter()
        .map(|f| f.sentence)
        .collect();
    assert!(
        found.iter().any(|s| s.contains("records 224 paid")),
        "{found:?}"
    );
    assert!(found.iter().any(|s| s.contains("deferred")), "{found:?}");
    assert!(found.iter().any(|s| s.contains("due now")), "{found:?}");
    // Cancelled with everything still held.
    let subject = Subject {
        status: workflow::Status::Cancelled,
        paid: Decimal::ZERO,
        ..subject
    };
    let found = check(&subject, &books.position(), &books.accounts());
    assert!(
        found.iter().any(|f| f.sentence.contains("still holds")),
        "{found:?}"
    );
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Step {
    /// Assess again with these amounts (deferred, guaranteed, cash account, immediate), naming the accounts or not.
    Assess(u32, u32, u32, u32, bool, bool),
    /// The lifecycle decides the current assessment (sticky from now on, until the next Assess).
    Decide,
    /// Another declaration uses the deferment account, or its period is settled.
    Elsewhere(i32),
    Deposit(u32),
    Pay(u32),
    Cancel,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u32..600, 0u32..400, 0u32..300, 0u32..200, any::<bool>(), any::<bool>())
            .prop_map(|(a, b, c, e, x, y)| Step::Assess(a, b, c, e, x, y)),
        2 => Just(Step::Decide),
        1 => (-500i32..500).prop_map(Step::Elsewhere),
        1 => (0u32..400).prop_map(Step::Deposit),
        1 => (1u32..300).prop_map(Step::Pay),
        1 => Just(Step::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever happens, the ledger stays balanced and within every rule, a plan run twice moves nothing the
    /// second time, the position is what the coverage says, and nothing is charged for a declarant it is not.
    #[test]
    fn random_sequences_keep_the_ledger_equal_to_the_coverage(steps in prop::collection::vec(step(), 1..25)) {
        let mut books = Books::new();
        books.open(&dan(), "700", TRADER);
        books.open(&customs::guarantee("GRN1"), "350", TRADER);
        books.open(&customs::deferment("7654321"), "100000", OTHER);
        let mut current: Option<Needs> = None;
        let mut names = (true, true);
        let mut decided: Option<Decided> = None;
        let mut cancelled = false;
        for step in steps {
            match step {
                Step::Assess(e, g, p, i, x, y) => {
                    if cancelled { continue; }
                    current = Some(needs(&[
                        ("A00", Settles::Deferred, &e.to_string()),
                        ("B00", Settles::Guaranteed, &g.to_string()),
                        ("B00", Settles::CashAccount, &p.to_string()),
                        ("C00", Settles::Immediate, &i.to_string()),
                    ]));
                    names = (x, y);
                    decided = None;
                }
                Step::Decide => {}
                Step::Elsewhere(delta) => {
                    // Outside this declaration: another one defers to the account, or its period is settled.
                    let other = customs::receivable("GB603202734852/OTHER");
                    books.ensure(&other);
                    books.ensure(&customs::bank("B"));
                    let (debit, credit) = if delta >= 0 { (dan(), other) } else { (customs::bank("B"), dan()) };
                    let n = books.ledger.transfers().count();
                    let _ = books.ledger.apply(Transfer {
                        id: ledger::TransferId::parse(&format!("elsewhere:{n}")).unwrap(),
                        debit,
                        credit,
                        amount: Decimal::from(delta.unsigned_abs().max(1)),
                        currency: gbp(),
                        kind: TransferKind::Posted,
                        code: "deferment".into(),
                        reference: "other".into(),
                        at: "t".into(),
                    });
                    continue;
                }
                Step::Deposit(amount) => { books.deposit(TRADER, &(amount + 1).to_string()); continue; }
                Step::Pay(amount) => { books.pay(&amount.to_string()); continue; }
                Step::Cancel => { cancelled = true; }
            }
            let owed = match (&current, cancelled) {
                (Some(n), false) => Some(Owed {
                    needs: n,
                    deferment: names.0.then_some("1234567"),
                    guarantee: names.1.then_some("GRN1"),
                    decided,
                }),
                _ => None,
            };
            let plan = books.run(TRADER, owed.clone(), None);
            if matches!(step, Step::Decide) && !cancelled {
                decided = Some(Decided { deferred: plan.coverage.deferred, guaranteed: plan.coverage.guaranteed });
            }
            let again = books.run(TRADER, owed, None);
            prop_assert!(again.transfers.is_empty(), "a second plan moved money: {:#?}", again);
            prop_assert_eq!(&again.coverage, &plan.coverage);
            let p = books.position();
            prop_assert_eq!(p.deferred_total(), plan.coverage.deferred);
            prop_assert_eq!(p.reserved_total(), plan.coverage.guaranteed);
            prop_assert_eq!(p.revenue_total(), plan.coverage.total - plan.coverage.guaranteed);
            if let Some(n) = &current && !cancelled {
                prop_assert_eq!(plan.coverage.total, n.grand_total().unwrap());
            }
            prop_assert!(p.deferred.keys().all(|a| *a == dan()), "only the trader's own account: {:?}", p);
            let liabilities = workflow::Liabilities {
                immediate: plan.coverage.immediate,
                deferred: plan.coverage.deferred,
                guaranteed: plan.coverage.guaranteed,
                currency: "GBP".into(),
            };
            let settled = p.paid() >= plan.coverage.immediate;
            let subject = Subject {
                id: "d",
                declarant: TRADER,
                status: if cancelled { workflow::Status::Cancelled } else if settled { workflow::Status::Released } else { workflow::Status::AwaitingPayment },
                liabilities: Some(&liabilities),
                paid: p.paid(),
            };
            let found = check(&subject, &p, &books.accounts());
            prop_assert!(found.is_empty(), "{:?}", found);
        }
    }
}
