//! The ledger under concurrency, on SQLite and PostgreSQL: many simultaneous payments and deferrals on one account
//! lose no update, never overdraw a cash account, never pass a deferment limit, and a transfer sent many times at
//! once is applied once.

mod common;

use common::TestApp;
use ledger::customs;
use ledger::{Applied, Rule, Transfer, TransferId, TransferKind};
use rust_decimal::Decimal;
use storage::TransferOutcome;

fn gbp() -> declaration::Currency {
    declaration::Currency::parse("GBP").unwrap()
}

fn posted(id: &str, debit: ledger::AccountId, credit: ledger::AccountId, amount: &str) -> Transfer {
    Transfer {
        id: TransferId::parse(id).unwrap(),
        debit,
        credit,
        amount: amount.parse().unwrap(),
        currency: gbp(),
        kind: TransferKind::Posted,
        code: "test".into(),
        reference: id.into(),
        at: "2026-11-29T00:00:00Z".into(),
    }
}

#[tokio::test]
async fn concurrent_payments_and_deferrals_keep_the_ledger_true() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let store = app.store.clone();
        let now = time::OffsetDateTime::now_utc();
        let deferment = customs::deferment("1234567");
        store
            .open_account(
                &deferment,
                &gbp(),
                Rule::DebitLimit(Decimal::from(1000)),
                now,
            )
            .await
            .unwrap();
        let cash = customs::cash("GB603202734852");
        // 500.00 deposited in the trader's cash account.
        let outcome = store
            .transfer(
                vec![posted(
                    "deposit",
                    customs::bank("BANK"),
                    cash.clone(),
                    "500.00",
                )],
                now,
            )
            .await
            .unwrap();
        assert!(matches!(outcome, TransferOutcome::Applied(_)));

        // 48 deferrals of 30.00 (limit 1000: 33 fit) and 48 cash payments of 20.00 (500: 25 fit), all at once.
        let mut tasks = Vec::new();
        for n in 0..48 {
            let defer_store = store.clone();
            let deferment = deferment.clone();
            tasks.push(tokio::spawn(async move {
                let receivable = customs::receivable(&format!("decl-{n}"));
                defer_store
                    .transfer(
                        vec![posted(
                            &format!("defer-{n}"),
                            deferment,
                            receivable,
                            "30.00",
                        )],
                        now,
                    )
                    .await
            }));
            let pay_store = store.clone();
            let cash = cash.clone();
            tasks.push(tokio::spawn(async move {
                let receivable = customs::receivable(&format!("paid-{n}"));
                pay_store
                    .transfer(
                        vec![posted(&format!("pay-{n}"), cash, receivable, "20.00")],
                        now,
                    )
                    .await
            }));
        }
        // And one payment sent 16 times at once: applied once.
        let twice = posted(
            "order-77",
            customs::bank("BANK"),
            customs::receivable("decl-77"),
            "77.00",
        );
        for _ in 0..16 {
            let retry_store = store.clone();
            let twice = twice.clone();
            tasks.push(tokio::spawn(async move {
                retry_store.transfer(vec![twice], now).await
            }));
        }
        let (mut applied, mut refused, mut replayed) = (0, 0, 0);
        for task in tasks {
            match task.await.unwrap().expect("no database error") {
                TransferOutcome::Applied(answers) if answers[0] == Applied::Applied => applied += 1,
                TransferOutcome::Applied(_) => replayed += 1,
                TransferOutcome::Refused(_) => refused += 1,
            }
        }
        assert_eq!(
            (applied, refused, replayed),
            (33 + 25 + 1, 15 + 23, 15),
            "{backend:?}"
        );
        let deferment = store.account(&deferment).await.unwrap().unwrap();
        assert_eq!(deferment.debits_posted, Decimal::from(990), "{backend:?}");
        let cash = store.account(&cash).await.unwrap().unwrap();
        assert_eq!(cash.balance(), Decimal::ZERO, "{backend:?}");
        let receivable = store
            .account(&customs::receivable("decl-77"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(receivable.balance(), Decimal::from(77));
        // Every invariant of the stored ledger, checked by the pure crate.
        store.ledger().await.unwrap().verify().unwrap();
        // Transfers cannot be edited in the database itself.
        assert!(
            sqlx::query("UPDATE ledger_transfers SET amount = '0'")
                .execute(store.pool())
                .await
                .is_err(),
            "{backend:?}"
        );
    }
}
