//! E-payment end to end, on SQLite and PostgreSQL: a declaration assessed → a payment order → a bank's signed
//! confirmation sent by a real HTTP client → settled and released; replays, forgeries and conflicts refused; the
//! reconciliation report and the ledger agree.

mod common;

use common::{Backend, TestApp, json};
use serde_json::{Value, json};

const KEY: &[u8] = b"bank-a-shared-secret-for-tests";

fn config() -> api::Config {
    api::Config {
        bank_keys: [("BANKA".to_owned(), KEY.to_vec())].into(),
        ..api::Config::default()
    }
}

/// What a bank's system does: sign the confirmation and post it.
async fn confirm(
    app: &TestApp,
    bank: &str,
    key: &[u8],
    body: &Value,
    age_seconds: i64,
) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp() - age_seconds;
    json(
        app.client
            .post(format!("{}/api/v1/bank/confirmations", app.base))
            .header(api::payments::BANK_HEADER, bank)
            .header(
                api::payments::SIGNATURE_HEADER,
                api::payments::sign(key, timestamp, &bytes),
            )
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_full(
        backend,
        |p| p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap(),
        config(),
    )
    .await
}

#[tokio::test]
async fn a_payment_order_paid_through_a_signed_bank_confirmation_releases_the_goods() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let officer = app.user("officer", None).await;
        let (_, lodged) = json(
            app.lodge_xml(&trader, include_bytes!("../../wco/tests/minimal.xml"))
                .await,
        )
        .await;
        assert_eq!(lodged["status"], "awaiting_payment", "{lodged}");
        let id = lodged["id"].as_str().unwrap().to_owned();

        // The order: A00 2 % of 1,000 = 20.00; B00 20 % of 1,020 = 204.00.
        let (status, order) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/payment-orders"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{order}");
        assert_eq!(
            (order["amount"].as_str(), order["currency"].as_str()),
            (Some("224.00"), Some("GBP"))
        );
        let reference = order["reference"].as_str().unwrap().to_owned();
        // Asking again gives the same order.
        let (_, again) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/payment-orders"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(again["reference"], reference.as_str());

        let body = json!({"confirmation_id": "TX-1", "order_reference": reference, "amount": "224.00", "currency": "GBP"});
        // Forgeries and replays first: a wrong key, an unknown bank, a signature ten minutes old.
        for (bank, key, age) in [
            ("BANKA", b"wrong key".as_slice(), 0),
            ("BANKZ", KEY, 0),
            ("BANKA", KEY, 600),
        ] {
            let (status, error) = confirm(&app, bank, key, &body, age).await;
            assert_eq!(
                (status, error["code"].as_str()),
                (401, Some("payment.signature_invalid")),
                "{bank} {age}"
            );
        }
        let (_, view) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        assert_eq!(
            view["status"], "awaiting_payment",
            "nothing forged took effect"
        );

        // The real confirmation: settled and released.
        let (status, answer) = confirm(&app, "BANKA", KEY, &body, 0).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], "applied");
        assert_eq!(answer["declaration"]["status"], "released", "{answer}");
        // The bank retries (a lost answer): no effect. The same id with other content: a conflict.
        let (_, replay) = confirm(&app, "BANKA", KEY, &body, 0).await;
        assert_eq!(replay["status"], "already_received");
        let mut other = body.clone();
        other["amount"] = json!("1.00");
        let (status, conflict) = confirm(&app, "BANKA", KEY, &other, 0).await;
        assert_eq!(
            (status, conflict["code"].as_str()),
            (409, Some("payment.confirmation_conflict"))
        );
        let mut unknown = body.clone();
        unknown["confirmation_id"] = json!("TX-2");
        unknown["order_reference"] = json!("PO-NOSUCHORDER");
        let (status, _) = confirm(&app, "BANKA", KEY, &unknown, 0).await;
        assert_eq!(status, 404);

        let (_, order) = json(
            app.get(&trader, &format!("/api/v1/payment-orders/{reference}"))
                .await,
        )
        .await;
        assert_eq!(order["status"], "paid");
        // Another trader cannot see it.
        let stranger = app.user("trader", Some("GB000000000001")).await;
        let (status, _) = json(
            app.get(&stranger, &format!("/api/v1/payment-orders/{reference}"))
                .await,
        )
        .await;
        assert_eq!(status, 404);

        // The ledger: revenue per tax type, the receivable settled, everything balanced and reconciled.
        let revenue = |tax: &str| {
            let store = app.store.clone();
            let account = ledger::customs::revenue(tax);
            async move {
                store
                    .account(&account)
                    .await
                    .unwrap()
                    .unwrap()
                    .balance()
                    .to_string()
            }
        };
        assert_eq!(revenue("A00").await, "20.00");
        assert_eq!(revenue("B00").await, "204.00");
        let receivable = app
            .store
            .account(&ledger::customs::receivable(&id))
            .await
            .unwrap()
            .unwrap();
        assert!(receivable.balance().is_zero(), "{:?}", receivable);
        let (status, report) =
            json(app.get(&officer, "/api/v1/reports/reconciliation").await).await;
        assert_eq!(status, 200);
        assert_eq!(
            (
                report["mismatches"].as_i64(),
                report["ledger_balanced"].as_bool()
            ),
            (Some(0), Some(true)),
            "{report}"
        );
        assert_eq!(report["orders"][0]["confirmed"], "224.00");
        let (status, _) = json(app.get(&trader, "/api/v1/reports/reconciliation").await).await;
        assert_eq!(status, 403, "traders do not see the reconciliation");
    }
}

#[tokio::test]
async fn partial_payments_settle_when_the_last_one_arrives() {
    let app = spawn(Backend::Sqlite).await;
    let trader = app.user("trader", Some("GB603202734852")).await;
    let (_, lodged) = json(
        app.lodge_xml(&trader, include_bytes!("../../wco/tests/minimal.xml"))
            .await,
    )
    .await;
    let id = lodged["id"].as_str().unwrap().to_owned();
    let (_, order) = json(
        app.post(
            &trader,
            &format!("/api/v1/declarations/{id}/payment-orders"),
            json!({}),
        )
        .await,
    )
    .await;
    let reference = order["reference"].as_str().unwrap();
    let (_, first) = confirm(&app, "BANKA", KEY, &json!({"confirmation_id": "P-1", "order_reference": reference, "amount": "100.00", "currency": "GBP"}), 0).await;
    assert_eq!(
        first["declaration"]["status"], "awaiting_payment",
        "{first}"
    );
    assert_eq!(first["declaration"]["outstanding"], "124.00");
    let (_, second) = confirm(&app, "BANKA", KEY, &json!({"confirmation_id": "P-2", "order_reference": reference, "amount": "124.00", "currency": "GBP"}), 0).await;
    assert_eq!(second["declaration"]["status"], "released", "{second}");
    // A payment to a declaration already settled is kept as a credit, and the report shows the order is over-paid.
    let (_, third) = confirm(&app, "BANKA", KEY, &json!({"confirmation_id": "P-3", "order_reference": reference, "amount": "5.00", "currency": "GBP"}), 0).await;
    assert_eq!(third["status"], "received_not_applied");
    let receivable = app
        .store
        .account(&ledger::customs::receivable(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(receivable.balance().to_string(), "5.00");
    app.store.ledger().await.unwrap().verify().unwrap();
}
