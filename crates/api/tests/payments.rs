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
        ..common::config()
    }
}

/// What a bank's system does (the harness's `TestApp::confirm`).
async fn confirm(
    app: &TestApp,
    bank: &str,
    key: &[u8],
    body: &Value,
    age_seconds: i64,
) -> (u16, Value) {
    app.confirm(bank, key, body, age_seconds).await
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
        // A receipt, as JSON and printable HTML; its SHA-256 is in the declaration's history.
        let receipt_path = format!("/api/v1/receipts/{}", answer["receipt"].as_str().unwrap());
        let (status, receipt) = json(app.get(&trader, &receipt_path).await).await;
        assert_eq!(status, 200, "{receipt}");
        use sha2::Digest;
        let recomputed = hex::encode(sha2::Sha256::digest(
            receipt["content"].as_str().unwrap().as_bytes(),
        ));
        assert_eq!(receipt["sha256"], recomputed.as_str());
        assert_eq!(receipt["receipt"]["amount"], "224.00");
        let (_, history) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        assert!(
            history.to_string().contains(&recomputed),
            "the hash is recorded with the payment"
        );
        let page = app
            .client
            .get(format!("{}{receipt_path}", app.base))
            .bearer_auth(&trader)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("224.00 GBP") && page.contains(&recomputed),
            "{page}"
        );
        let stranger_token = app.user("trader", Some("GB000000000002")).await;
        let (status, _) = json(app.get(&stranger_token, &receipt_path).await).await;
        assert_eq!(status, 404);
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
            .account(&ledger::customs::receivable(&clearance::ledger_key(
                "GB603202734852",
                "MINIMAL-1",
            )))
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
        // Each step of the money's way is in the audit trail, and the trail verifies with every transfer.
        let entries = app.store.audit_entries(0, 10_000).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for action in [
            "payment.order",
            "payment.confirmation",
            "payment.order_paid",
            "receipt.issue",
            "ledger.transfer",
            "export",
        ] {
            assert!(
                actions.contains(&action),
                "{backend:?}: no {action} in {actions:?}"
            );
        }
        let confirmation = entries
            .iter()
            .find(|e| e.action == "payment.confirmation")
            .unwrap();
        assert_eq!(
            (
                confirmation.actor.as_str(),
                confirmation.actor_role.as_str()
            ),
            ("bank:BANKA", "bank")
        );
        assert!(app.store.verify_audit(vec![], &[]).await.unwrap().is_ok());
    }
}

#[tokio::test]
async fn partial_payments_settle_when_the_last_one_arrives() {
    for backend in common::backends() {
        let app = spawn(backend).await;
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
            .account(&ledger::customs::receivable(&clearance::ledger_key(
                "GB603202734852",
                "MINIMAL-1",
            )))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(receivable.balance().to_string(), "5.00");
        app.store.ledger().await.unwrap().verify().unwrap();
        assert!(app.store.money_findings().await.unwrap().is_empty());
    }
}

/// The JSON twin example of docs/json-twin.md (duties deferred to DAN 1108654) with its price set.
fn deferred_declaration(lrn: &str, price: &str) -> Value {
    let doc = include_str!("../../../docs/json-twin.md");
    let start = doc.find("```json").unwrap() + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    let mut example: Value = serde_json::from_str(&doc[start..end]).unwrap();
    example["lrn"] = json!(lrn);
    example["goods_shipment"]["goods_items"][0]["item_charge_amount"]["value"] = json!(price);
    example
}

#[tokio::test]
async fn deferment_within_its_limit_releases_beyond_it_asks_for_payment_and_is_settled_at_period_end()
 {
    for backend in common::backends() {
        let app = TestApp::spawn_full(
            backend,
            |p| {
                p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
                p.auto_open_limit = None;
            },
            config(),
        )
        .await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let officer = app.user("officer", None).await;
        let admin = app.user("admin", None).await;

        // No account opened: deferment refused with the reason, the duties are due now.
        let (_, first) = json(
            app.lodge_json(&trader, &deferred_declaration("DEF-0", "100"))
                .await,
        )
        .await;
        assert_eq!(first["status"], "awaiting_payment", "{first}");

        // The administration opens DAN 1108654 with a limit of 300.00 (officers may not).
        let open = json!({"id": "deferment:1108654", "currency": "GBP", "limit": "300.00", "owner": "GB603202734852"});
        let (status, _) = json(
            app.post(&officer, "/api/v1/ledger/accounts", open.clone())
                .await,
        )
        .await;
        assert_eq!(status, 403);
        let (status, opened) = json(app.post(&admin, "/api/v1/ledger/accounts", open).await).await;
        assert_eq!(status, 200, "{opened}");

        // 1,000 GBP: A00 20.00 + B00 204.00 = 224.00 fits the 300.00: released at once.
        let (_, fits) = json(
            app.lodge_json(&trader, &deferred_declaration("DEF-1", "1000"))
                .await,
        )
        .await;
        assert_eq!(fits["status"], "released", "{fits}");
        // 500 GBP: 10.00 + 102.00 = 112.00 does not fit the 76.00 left: awaiting payment, and the trader is told why.
        let (_, over) = json(
            app.lodge_json(&trader, &deferred_declaration("DEF-2", "500"))
                .await,
        )
        .await;
        assert_eq!(over["status"], "awaiting_payment", "{over}");
        let id = over["id"].as_str().unwrap();
        let (_, notes) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}/notifications"))
                .await,
        )
        .await;
        let told = notes.to_string();
        assert!(
            told.contains("76.00 GBP available; 112.00 is needed"),
            "{told}"
        );
        // It is paid through a payment order instead.
        let (_, order) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/payment-orders"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(order["amount"], "112.00");
        let (_, paid) = confirm(&app, "BANKA", KEY, &json!({"confirmation_id": "D-1", "order_reference": order["reference"], "amount": "112.00", "currency": "GBP"}), 0).await;
        assert_eq!(paid["declaration"]["status"], "released", "{paid}");

        // The monthly statement of the deferment account, then its settlement at period end.
        let (status, statement) = json(
            app.get(&officer, "/api/v1/ledger/accounts/deferment:1108654")
                .await,
        )
        .await;
        assert_eq!(status, 200, "{statement}");
        assert_eq!(
            (
                statement["balance"].as_str(),
                statement["available"].as_str()
            ),
            (Some("-224.00"), Some("76.00"))
        );
        assert_eq!(statement["transfers"].as_array().unwrap().len(), 1);
        let settle = json!({"amount": "224.00", "reference": "DD-2026-11", "bank": "BANKA"});
        let path = "/api/v1/ledger/accounts/deferment:1108654/settlements";
        let (status, settled) = json(app.post(&officer, path, settle.clone()).await).await;
        assert_eq!(
            (status, settled["status"].as_str()),
            (200, Some("applied")),
            "{settled}"
        );
        let (_, again) = json(app.post(&officer, path, settle).await).await;
        assert_eq!(again["status"], "already_applied");
        let (_, statement) = json(
            app.get(&officer, "/api/v1/ledger/accounts/deferment:1108654")
                .await,
        )
        .await;
        assert_eq!(
            (
                statement["balance"].as_str(),
                statement["available"].as_str()
            ),
            (Some("0.00"), Some("300.00"))
        );
        // The owner reads its own statement; another trader cannot see the account.
        let (status, own) = json(
            app.get(&trader, "/api/v1/ledger/accounts/deferment:1108654")
                .await,
        )
        .await;
        assert_eq!(
            (status, own["balance"].as_str()),
            (200, Some("0.00")),
            "{own}"
        );
        let other = app.user("trader", Some("GB000000000003")).await;
        let (status, _) = json(
            app.get(&other, "/api/v1/ledger/accounts/deferment:1108654")
                .await,
        )
        .await;
        assert_eq!(status, 404);

        let (_, report) = json(app.get(&officer, "/api/v1/reports/reconciliation").await).await;
        assert_eq!(
            (
                report["mismatches"].as_i64(),
                report["ledger_balanced"].as_bool()
            ),
            (Some(0), Some(true)),
            "{report}"
        );
    }
}

#[tokio::test]
async fn an_amendment_that_lowers_the_duty_is_refunded_after_two_officers_approve() {
    for backend in common::backends() {
        let app = TestApp::spawn_full(
            backend,
            |p| p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap(),
            api::Config {
                refund_four_eyes_above: rust_decimal::Decimal::from(100),
                ..config()
            },
        )
        .await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let officer_a = app.user("officer", None).await;
        let officer_b = app.user("officer", None).await;
        // Pre-lodged (IMD): paid before the goods arrive.
        let minimal = String::from_utf8(include_bytes!("../../wco/tests/minimal.xml").to_vec())
            .unwrap()
            .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>");
        let (_, lodged) = json(app.lodge_xml(&trader, minimal.as_bytes()).await).await;
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
        let (_, paid) = confirm(&app, "BANKA", KEY, &json!({"confirmation_id": "R-1", "order_reference": order["reference"], "amount": "224.00", "currency": "GBP"}), 0).await;
        assert_eq!(paid["declaration"]["status"], "settled", "{paid}");
        // Nothing to refund yet.
        let (status, _) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/refunds"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 409);

        // The price was 500, not 1,000: 10.00 + 102.00 = 112.00 due, 112.00 paid too much.
        let amended = minimal.replace(">1000<", ">500<");
        let response = app
            .client
            .post(format!("{}/api/v1/declarations/{id}/amendments", app.base))
            .bearer_auth(&trader)
            .header("content-type", "application/xml")
            .body(amended)
            .send()
            .await
            .unwrap();
        let (status, view) = json(response).await;
        assert_eq!(
            (status, view["status"].as_str()),
            (200, Some("settled")),
            "{view}"
        );

        let (status, refund) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/refunds"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{refund}");
        assert_eq!(
            (
                refund["amount"].as_str(),
                refund["approvals_needed"].as_i64()
            ),
            (Some("112.00"), Some(2))
        );
        let approve = format!(
            "/api/v1/refunds/{}/approvals",
            refund["id"].as_str().unwrap()
        );
        let (status, _) = json(app.post(&trader, &approve, json!({})).await).await;
        assert_eq!(status, 403, "traders do not approve refunds");
        let (_, first) = json(app.post(&officer_a, &approve, json!({})).await).await;
        assert_eq!(first["status"], "requested", "{first}");
        let (status, same) = json(app.post(&officer_a, &approve, json!({})).await).await;
        assert_eq!(
            (status, same["code"].as_str()),
            (409, Some("refund.four_eyes"))
        );
        let (_, second) = json(app.post(&officer_b, &approve, json!({})).await).await;
        assert_eq!(second["status"], "paid", "{second}");
        let (status, _) = json(app.post(&officer_b, &approve, json!({})).await).await;
        assert_eq!(status, 409, "paid once");

        // The ledger: revenue at the new duties, the declaration's receivable back to zero, all balanced.
        let balance = |account: ledger::AccountId| {
            let store = app.store.clone();
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
        assert_eq!(balance(ledger::customs::revenue("A00")).await, "10.00");
        assert_eq!(balance(ledger::customs::revenue("B00")).await, "102.00");
        let key = clearance::ledger_key("GB603202734852", "MINIMAL-1");
        assert_eq!(balance(ledger::customs::receivable(&key)).await, "0.00");
        // Paid out through the treasury's bank account: credited (money in debits a bank account, money out credits it).
        assert_eq!(balance(ledger::customs::bank("TREASURY")).await, "112.00");
        app.store.ledger().await.unwrap().verify().unwrap();
        // The request and both approvals are in the audit trail, each approval under its officer.
        let entries = app.store.audit_entries(0, 10_000).await.unwrap();
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.action == "refund.request")
                .count(),
            1
        );
        let approvers: std::collections::BTreeSet<&str> = entries
            .iter()
            .filter(|e| e.action == "refund.approval")
            .map(|e| e.actor.as_str())
            .collect();
        assert_eq!(approvers.len(), 2, "{entries:?}");
    }
}

#[tokio::test]
async fn a_guarantee_secures_release_within_its_reference_amount_and_is_freed_on_discharge() {
    for backend in common::backends() {
        let app = TestApp::spawn_full(
            backend,
            |p| {
                p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
                p.auto_open_limit = None;
            },
            config(),
        )
        .await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let officer = app.user("officer", None).await;
        let admin = app.user("admin", None).await;
        let guaranteed = |lrn: &str, price: &str| {
            let mut d = deferred_declaration(lrn, price);
            d["obligation_guarantees"] = json!([{"id": "GBCGU1234"}]);
            for fee in d["goods_shipment"]["goods_items"][0]["duty_tax_fees"]
                .as_array_mut()
                .unwrap()
            {
                fee["payment_method_code"] = json!("R");
            }
            d
        };
        let (status, _) = json(
            app.post(
                &admin,
                "/api/v1/ledger/accounts",
                json!({"id": "guarantee:GBCGU1234", "currency": "GBP", "limit": "300.00", "owner": "GB603202734852"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        // 224.00 secured: released at once; 76.00 of the reference amount left.
        let (_, first) = json(app.lodge_json(&trader, &guaranteed("G-1", "1000")).await).await;
        assert_eq!(first["status"], "released", "{first}");
        let (_, statement) = json(
            app.get(&officer, "/api/v1/ledger/accounts/guarantee:GBCGU1234")
                .await,
        )
        .await;
        assert_eq!(statement["available"], "76.00", "{statement}");
        // 112.00 more does not fit: due now.
        let (_, second) = json(app.lodge_json(&trader, &guaranteed("G-2", "500")).await).await;
        assert_eq!(second["status"], "awaiting_payment", "{second}");
        // The first is discharged (its duties settled): the reference amount is free again, and a third fits.
        let first_id = first["id"].as_str().unwrap();
        let path = format!("/api/v1/declarations/{first_id}/guarantee-discharge");
        let (status, discharged) = json(app.post(&officer, &path, json!({})).await).await;
        assert_eq!(
            (status, discharged["status"].as_str()),
            (200, Some("discharged")),
            "{discharged}"
        );
        // A retry is answered the same, without effect; calling a discharged guarantee is refused.
        let (status, _) = json(app.post(&officer, &path, json!({})).await).await;
        assert_eq!(status, 200);
        let call = format!("/api/v1/declarations/{first_id}/guarantee-call");
        let (status, refused) = json(app.post(&officer, &call, json!({})).await).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (409, Some("ledger.refused")),
            "{refused}"
        );
        let (_, statement) = json(
            app.get(&officer, "/api/v1/ledger/accounts/guarantee:GBCGU1234")
                .await,
        )
        .await;
        assert_eq!(statement["available"], "300.00");
        let (_, third) = json(app.lodge_json(&trader, &guaranteed("G-3", "500")).await).await;
        assert_eq!(third["status"], "released", "{third}");
        // The third's guarantee is called: the guarantor owes its 112.00.
        let third_id = third["id"].as_str().unwrap();
        let (_, called) = json(
            app.post(
                &officer,
                &format!("/api/v1/declarations/{third_id}/guarantee-call"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(called["status"], "called", "{called}");
        let (_, statement) = json(
            app.get(&officer, "/api/v1/ledger/accounts/guarantee:GBCGU1234")
                .await,
        )
        .await;
        assert_eq!(
            (
                statement["balance"].as_str(),
                statement["available"].as_str()
            ),
            (Some("-112.00"), Some("188.00"))
        );
        app.store.ledger().await.unwrap().verify().unwrap();
    }
}

#[tokio::test]
async fn duties_paid_from_the_cash_account_release_at_once_while_funds_last() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let officer = app.user("officer", None).await;
        let from_cash = |lrn: &str, price: &str| {
            let mut d = deferred_declaration(lrn, price);
            for fee in d["goods_shipment"]["goods_items"][0]["duty_tax_fees"]
                .as_array_mut()
                .unwrap()
            {
                fee["payment_method_code"] = json!("P");
            }
            d
        };
        // 500.00 deposited in the trader's cash account.
        let (status, deposit) = json(
            app.post(
                &officer,
                "/api/v1/ledger/accounts/cash:GB603202734852/settlements",
                json!({"amount": "500.00", "reference": "DEP-1", "bank": "BANKA"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{deposit}");
        // 224.00 from the cash account: paid and released at once.
        let (_, first) = json(app.lodge_json(&trader, &from_cash("C-1", "1000")).await).await;
        assert_eq!(first["status"], "released", "{first}");
        // 448.00 more than the 276.00 left: it waits for payment, the cash account is untouched.
        let (_, second) = json(app.lodge_json(&trader, &from_cash("C-2", "2000")).await).await;
        assert_eq!(second["status"], "awaiting_payment", "{second}");
        let cash = app
            .store
            .account(&ledger::customs::cash("GB603202734852"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cash.balance().to_string(), "276.00");
        app.store.ledger().await.unwrap().verify().unwrap();
    }
}
