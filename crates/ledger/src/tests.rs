use super::*;
use proptest::prelude::*;

fn gbp() -> Currency {
    Currency::parse("GBP").unwrap()
}

fn account(name: &str, rule: Rule) -> Account {
    Account::new(AccountId::parse(name).unwrap(), gbp(), rule)
}

fn transfer(id: &str, debit: &str, credit: &str, amount: &str, kind: TransferKind) -> Transfer {
    Transfer {
        id: TransferId::parse(id).unwrap(),
        debit: AccountId::parse(debit).unwrap(),
        credit: AccountId::parse(credit).unwrap(),
        amount: amount.parse().unwrap(),
        currency: gbp(),
        kind,
        code: "test".into(),
        reference: "ref".into(),
        at: "2026-11-29T00:00:00Z".into(),
    }
}

fn ledger() -> Ledger {
    let mut ledger = Ledger::new();
    ledger.open(account("bank:B", Rule::Unrestricted)).unwrap();
    ledger.open(account("cash:T", Rule::NoOverdraft)).unwrap();
    ledger
        .open(account(
            "deferment:D",
            Rule::DebitLimit(Decimal::from(1000)),
        ))
        .unwrap();
    ledger
        .open(account("guarantee:G", Rule::DebitLimit(Decimal::from(500))))
        .unwrap();
    ledger
        .open(account("receivable:X", Rule::Unrestricted))
        .unwrap();
    ledger
        .open(account("revenue:A00", Rule::Unrestricted))
        .unwrap();
    ledger
}

fn balance(ledger: &Ledger, id: &str) -> Decimal {
    ledger
        .account(&AccountId::parse(id).unwrap())
        .unwrap()
        .balance()
}

#[test]
fn assessment_payment_deferment_and_refund_move_money_as_documented() {
    let mut l = ledger();
    // Assessed 300.00: the declaration owes it.
    l.apply(transfer(
        "a1",
        "receivable:X",
        "revenue:A00",
        "300.00",
        TransferKind::Posted,
    ))
    .unwrap();
    assert_eq!(balance(&l, "receivable:X"), Decimal::from(-300));
    // 200 deferred, 100 paid by the bank.
    l.apply(transfer(
        "d1",
        "deferment:D",
        "receivable:X",
        "200.00",
        TransferKind::Posted,
    ))
    .unwrap();
    l.apply(transfer(
        "p1",
        "bank:B",
        "receivable:X",
        "100.00",
        TransferKind::Posted,
    ))
    .unwrap();
    assert_eq!(balance(&l, "receivable:X"), Decimal::ZERO);
    // Deferment limit 1000: 200 used, 800 available; 900 more is refused and changes nothing.
    let before = l.clone();
    let error = l
        .apply(transfer(
            "d2",
            "deferment:D",
            "receivable:X",
            "900.00",
            TransferKind::Posted,
        ))
        .unwrap_err();
    assert!(matches!(error, LedgerError::Refused { .. }), "{error}");
    assert!(error.to_string().contains("800"), "{error}");
    assert_eq!(l, before);
    // A reassessment lowers the duty by 50: refund owed, then paid out.
    l.apply(transfer(
        "r1",
        "revenue:A00",
        "receivable:X",
        "50.00",
        TransferKind::Posted,
    ))
    .unwrap();
    assert_eq!(balance(&l, "receivable:X"), Decimal::from(50));
    l.apply(transfer(
        "r2",
        "receivable:X",
        "bank:B",
        "50.00",
        TransferKind::Posted,
    ))
    .unwrap();
    assert_eq!(balance(&l, "revenue:A00"), Decimal::from(250));
    l.verify().unwrap();
}

#[test]
fn retries_apply_once_and_reused_ids_are_refused() {
    let mut l = ledger();
    let t = transfer("p1", "bank:B", "cash:T", "10.00", TransferKind::Posted);
    assert_eq!(l.apply(t.clone()).unwrap(), Applied::Applied);
    assert_eq!(l.apply(t.clone()).unwrap(), Applied::AlreadyApplied);
    assert_eq!(balance(&l, "cash:T"), Decimal::from(10));
    let other = transfer("p1", "bank:B", "cash:T", "11.00", TransferKind::Posted);
    assert_eq!(
        l.apply(other).unwrap_err(),
        LedgerError::IdReused(TransferId::parse("p1").unwrap())
    );
}

#[test]
fn a_cash_account_never_goes_negative_and_reservations_count() {
    let mut l = ledger();
    l.apply(transfer(
        "in",
        "bank:B",
        "cash:T",
        "100",
        TransferKind::Posted,
    ))
    .unwrap();
    l.apply(transfer(
        "hold",
        "cash:T",
        "receivable:X",
        "60",
        TransferKind::Pending,
    ))
    .unwrap();
    // 40 left: 50 is refused.
    assert!(matches!(
        l.apply(transfer(
            "x",
            "cash:T",
            "receivable:X",
            "50",
            TransferKind::Posted
        )),
        Err(LedgerError::Refused { .. })
    ));
    // Voiding the hold frees it; posting it afterwards is refused.
    l.apply(transfer(
        "void",
        "cash:T",
        "receivable:X",
        "60",
        TransferKind::VoidPending(TransferId::parse("hold").unwrap()),
    ))
    .unwrap();
    assert_eq!(
        l.apply(transfer(
            "post",
            "cash:T",
            "receivable:X",
            "60",
            TransferKind::PostPending(TransferId::parse("hold").unwrap()),
        ))
        .unwrap_err(),
        LedgerError::PendingResolved(TransferId::parse("hold").unwrap())
    );
    l.apply(transfer(
        "y",
        "cash:T",
        "receivable:X",
        "100",
        TransferKind::Posted,
    ))
    .unwrap();
    assert_eq!(balance(&l, "cash:T"), Decimal::ZERO);
    l.verify().unwrap();
}

#[test]
fn a_batch_is_all_or_nothing() {
    let mut l = ledger();
    let before = l.clone();
    let error = l
        .apply_all(vec![
            transfer(
                "a",
                "receivable:X",
                "revenue:A00",
                "10",
                TransferKind::Posted,
            ),
            transfer(
                "h",
                "guarantee:G",
                "receivable:X",
                "100",
                TransferKind::Pending,
            ),
            transfer(
                "b",
                "guarantee:G",
                "receivable:X",
                "450",
                TransferKind::Posted,
            ),
        ])
        .unwrap_err();
    assert!(matches!(error, LedgerError::Refused { .. }));
    assert_eq!(l, before);
}

#[test]
fn bad_transfers_are_refused_with_a_sentence() {
    let mut l = ledger();
    let usd = Transfer {
        currency: Currency::parse("USD").unwrap(),
        ..transfer("u", "bank:B", "cash:T", "1", TransferKind::Posted)
    };
    let cases = [
        (
            transfer("s", "bank:B", "bank:B", "1", TransferKind::Posted),
            "from one account to another",
        ),
        (
            transfer("z", "bank:B", "cash:T", "0", TransferKind::Posted),
            "more than zero",
        ),
        (
            transfer("n", "bank:B", "cash:Nobody", "1", TransferKind::Posted),
            "no account cash:Nobody",
        ),
        (usd, "kept in GBP"),
        (
            transfer(
                "q",
                "bank:B",
                "cash:T",
                "1",
                TransferKind::PostPending(TransferId::parse("nope").unwrap()),
            ),
            "no pending transfer nope",
        ),
    ];
    for (t, words) in cases {
        let error = l.apply(t).unwrap_err().to_string();
        assert!(error.contains(words), "{error}");
    }
    assert!(AccountId::parse("cash: spaces").is_err());
    assert!(TransferId::parse("").is_err());
}

/// One random operation on the test ledger.
#[derive(Clone, Debug)]
enum Op {
    Transfer {
        id: u8,
        debit: usize,
        credit: usize,
        cents: i64,
        pending: bool,
    },
    Resolve {
        id: u8,
        post: bool,
        debit: usize,
        credit: usize,
        cents: i64,
    },
    Batch(Vec<(u8, usize, usize, i64)>),
    Retry,
}

const NAMES: [&str; 6] = [
    "bank:B",
    "cash:T",
    "deferment:D",
    "guarantee:G",
    "receivable:X",
    "revenue:A00",
];

fn op() -> impl Strategy<Value = Op> {
    let amount = 1i64..150_000;
    prop_oneof![
        (0u8..40, 0usize..6, 0usize..6, amount.clone(), any::<bool>()).prop_map(
            |(id, debit, credit, cents, pending)| Op::Transfer {
                id,
                debit,
                credit,
                cents,
                pending
            }
        ),
        (0u8..40, any::<bool>(), 0usize..6, 0usize..6, amount.clone()).prop_map(
            |(id, post, debit, credit, cents)| Op::Resolve {
                id,
                post,
                debit,
                credit,
                cents
            }
        ),
        proptest::collection::vec((0u8..40, 0usize..6, 0usize..6, amount), 1..4)
            .prop_map(Op::Batch),
        Just(Op::Retry),
    ]
}

fn cents(c: i64) -> String {
    Decimal::new(c, 2).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Random operation sequences keep every invariant: debits equal credits, no account breaks its rule, totals
    /// equal the replay of the transfers, a refused operation changes nothing, a retry changes nothing.
    #[test]
    fn random_operations_keep_every_invariant(ops in proptest::collection::vec(op(), 1..80)) {
        let mut l = ledger();
        let mut last: Option<Transfer> = None;
        for (step, op) in ops.into_iter().enumerate() {
            let before = l.clone();
            let result = match op {
                Op::Transfer { id, debit, credit, cents: c, pending } => {
                    let t = transfer(&format!("t{id}"), NAMES[debit], NAMES[credit], &cents(c),
                        if pending { TransferKind::Pending } else { TransferKind::Posted });
                    last = Some(t.clone());
                    l.apply(t).map(|_| ())
                }
                Op::Resolve { id, post, debit, credit, cents: c } => {
                    // Half the time repeat the pending transfer exactly, as a real caller does.
                    let target = TransferId::parse(&format!("t{id}")).unwrap();
                    let (d, cr, amount) = match l.transfer(&target) {
                        Some(p) if c % 2 == 0 => (p.debit.to_string(), p.credit.to_string(), p.amount.to_string()),
                        _ => (NAMES[debit].to_owned(), NAMES[credit].to_owned(), cents(c)),
                    };
                    let kind = if post { TransferKind::PostPending(target) } else { TransferKind::VoidPending(target) };
                    l.apply(transfer(&format!("r{step}"), &d, &cr, &amount, kind)).map(|_| ())
                }
                Op::Batch(parts) => l
                    .apply_all(parts.iter().map(|(id, d, c, a)| {
                        transfer(&format!("b{id}"), NAMES[*d], NAMES[*c], &cents(*a), TransferKind::Posted)
                    }).collect())
                    .map(|_| ()),
                Op::Retry => match &last {
                    Some(t) if l.transfer(&t.id) == Some(t) => {
                        let answer = l.apply(t.clone());
                        prop_assert_eq!(answer, Ok(Applied::AlreadyApplied));
                        prop_assert_eq!(&l, &before);
                        Ok(())
                    }
                    _ => Ok(()),
                },
            };
            if result.is_err() {
                prop_assert_eq!(&l, &before, "a refused operation changed the ledger");
            }
            if let Err(broken) = l.verify() {
                prop_assert!(false, "step {}: {}", step, broken);
            }
        }
    }
}

/// Finding 6 of issue 14: the largest decimal posted twice panicked inside the ledger writer. Now the second
/// transfer is refused, nothing changes, and `verify` still holds.
#[test]
fn totals_that_would_overflow_are_refused_not_panicked() {
    let mut l = ledger();
    let max = Decimal::MAX.to_string();
    l.apply(transfer(
        "m1",
        "bank:B",
        "receivable:X",
        &max,
        TransferKind::Posted,
    ))
    .unwrap();
    let before = l.clone();
    let refused = l.apply(transfer(
        "m2",
        "bank:B",
        "receivable:X",
        &max,
        TransferKind::Posted,
    ));
    assert!(
        matches!(refused, Err(LedgerError::Overflow(_))),
        "{refused:?}"
    );
    assert_eq!(l, before, "nothing changed");
    let refused = l.apply(transfer(
        "m3",
        "bank:B",
        "receivable:X",
        &max,
        TransferKind::Pending,
    ));
    assert!(refused.is_ok(), "pending totals are separate: {refused:?}");
    let refused = l.apply(transfer(
        "m4",
        "bank:B",
        "receivable:X",
        "1",
        TransferKind::Pending,
    ));
    assert!(
        matches!(refused, Err(LedgerError::Overflow(_))),
        "{refused:?}"
    );
    assert!(l.verify().is_ok(), "{:?}", l.verify());
    // Posting the reservation would overflow the posted totals: refused too.
    let posted = l.apply(transfer(
        "m5",
        "bank:B",
        "receivable:X",
        &max,
        TransferKind::PostPending(TransferId::parse("m3").unwrap()),
    ));
    assert!(
        matches!(posted, Err(LedgerError::Overflow(_))),
        "{posted:?}"
    );
    assert!(l.verify().is_ok());
}

/// `verify` over stored totals too large to add up reports them instead of panicking (a poisoned database).
#[test]
fn verify_reports_totals_too_large_to_add_up() {
    let mut l = Ledger::new();
    for name in ["bank:A", "bank:B"] {
        let mut a = account(name, Rule::Unrestricted);
        a.debits_posted = Decimal::MAX;
        l.restore(a);
    }
    let found = l.verify();
    assert!(found.is_err_and(|e| e.contains("too large")));
}
