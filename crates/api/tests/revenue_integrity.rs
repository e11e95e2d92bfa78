//! Issue 14, "Revenue integrity under hostile use": one test per finding, over HTTP, on SQLite and PostgreSQL. A
//! trader with its own valid token tries to get goods released without the duty secured, to charge another
//! trader's account, to have one credit refunded twice; races fire at one instant (tasks on a barrier). After each,
//! the ledger verifies and every declaration's money agrees with it (`Store::money_findings`, what `aduana ledger
//! verify` and the reconciliation report run).

mod common;

use common::{Backend, TestApp, json};
use serde_json::{Value, json};
use std::sync::Arc;

const A: &str = "GB603202734852";
const B: &str = "GB123456789000";
const KEY: &[u8] = b"bank-a-shared-secret-for-tests";

fn config() -> api::Config {
    api::Config {
        bank_keys: [("BANKA".to_owned(), KEY.to_vec())].into(),
        ..common::config()
    }
}

/// No account opens on first use (the safe default), and no random selection.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_full(
        backend,
        |p| {
            p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
            p.auto_open_limit = None;
        },
        config(),
    )
    .await
}

/// The JSON twin example of docs/json-twin.md: one item of 85109000 from the US, A00 2 % and B00 20 % (1,000 GBP
/// gives 20.00 + 204.00 = 224.00), declared by `declarant`, both tax lines with DE 4/8 `method`, naming the
/// deferment account `dan` and the guarantee `grn` when given.
fn declaration(
    lrn: &str,
    declarant: &str,
    price: &str,
    method: &str,
    dan: Option<&str>,
    grn: Option<&str>,
) -> Value {
    let doc = include_str!("../../../docs/json-twin.md");
    let start = doc.find("```json").unwrap() + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    let mut d: Value = serde_json::from_str(&doc[start..end]).unwrap();
    d["lrn"] = json!(lrn);
    d["declarant"]["id"] = json!(declarant);
    let item = &mut d["goods_shipment"]["goods_items"][0];
    item["item_charge_amount"]["value"] = json!(price);
    for fee in item["duty_tax_fees"].as_array_mut().unwrap() {
        fee["payment_method_code"] = json!(method);
    }
    d["additional_documents"] = match dan {
        Some(dan) => json!([{"category_code": "1", "type_code": "DAN", "id": dan}]),
        None => json!([]),
    };
    if let Some(grn) = grn {
        d["obligation_guarantees"] = json!([{"id": grn}]);
    }
    d
}

/// A pre-lodged declaration (IMD): settled at lodgement, released on arrival.
fn pre_lodged(mut d: Value) -> Value {
    d["type_code"] = json!("IMD");
    d
}

async fn open(app: &TestApp, admin: &str, id: &str, limit: &str, holder: &str) {
    let (status, body) = json(
        app.post(
            admin,
            "/api/v1/ledger/accounts",
            json!({"id": id, "currency": "GBP", "limit": limit, "owner": holder}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn view(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = json(app.get(token, &format!("/api/v1/declarations/{id}")).await).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn account(app: &TestApp, id: &str) -> ledger::Account {
    app.store
        .account(&ledger::AccountId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no account {id}"))
}

/// The ledger balances and every declaration's money agrees with it.
async fn money_holds(app: &TestApp) {
    let ledger = app.store.ledger().await.unwrap();
    assert!(ledger.verify().is_ok(), "{:?}", ledger.verify());
    let findings = app.store.money_findings().await.unwrap();
    assert!(findings.is_empty(), "{:?}: {findings:#?}", app.backend);
}

fn receivable(lrn: &str, declarant: &str) -> String {
    format!(
        "receivable:{}",
        ledger::customs::declaration_key(declarant, lrn)
    )
}

/// What a bank's system does: sign the confirmation and post it, as BANKA.
async fn confirm(app: &TestApp, body: &Value) -> (u16, Value) {
    app.confirm("BANKA", KEY, body, 0).await
}

/// How many rounds a race runs: `ADUANA_RACE_ROUNDS`, else 100 on PostgreSQL in CI (the issue asks for it), 10
/// elsewhere.
fn rounds(backend: Backend) -> usize {
    match std::env::var("ADUANA_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => n,
        None if backend == Backend::Postgres && test_support::in_ci() => 100,
        None => 10,
    }
}

/// Finding 1: a declaration awaiting immediate payment amended to deferment, 100 times the value, no DAN: it was
/// released with nothing in the ledger. Now the amendment takes exactly the security its assessment needs — none
/// here, so everything is due — and a pre-lodged deferral amended beyond its account's limit is given back.
#[tokio::test]
async fn an_amendment_takes_exactly_the_security_its_new_assessment_needs() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(A)).await;
        let admin = app.user("admin", None).await;
        let (_, lodged) = json(
            app.lodge_json(&trader, &declaration("AM-1", A, "1000", "A", None, None))
                .await,
        )
        .await;
        assert_eq!(lodged["status"], "awaiting_payment", "{lodged}");
        let id = lodged["id"].as_str().unwrap();
        let amended = declaration("AM-1", A, "100000", "E", None, None);
        let (status, answer) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/amendments"),
                amended,
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["status"], "awaiting_payment",
            "{backend:?}: {answer}"
        );
        let shown = view(&app, &trader, id).await;
        assert_eq!(shown["outstanding"], "22400.00", "{shown}");
        assert_eq!(shown["liabilities"]["deferred"], "0");
        assert_eq!(
            account(&app, &receivable("AM-1", A))
                .await
                .balance()
                .to_string(),
            "-22400.00",
            "what is due is owed in the ledger"
        );

        // Pre-lodged with a DAN whose limit covers 1,000 but not 100,000: the amendment gives the deferral back.
        open(&app, &admin, "deferment:1108654", "1000.00", A).await;
        let (_, pre) = json(
            app.lodge_json(
                &trader,
                &pre_lodged(declaration("AM-2", A, "1000", "E", Some("1108654"), None)),
            )
            .await,
        )
        .await;
        assert_eq!(pre["status"], "settled", "{pre}");
        assert_eq!(
            account(&app, "deferment:1108654")
                .await
                .balance()
                .to_string(),
            "-224.00"
        );
        let pre_id = pre["id"].as_str().unwrap();
        let (_, answer) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{pre_id}/amendments"),
                pre_lodged(declaration("AM-2", A, "100000", "E", Some("1108654"), None)),
            )
            .await,
        )
        .await;
        assert_eq!(answer["status"], "awaiting_payment", "{answer}");
        let (_, arrived) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{pre_id}/arrival"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(
            arrived["status"], "awaiting_payment",
            "arrival releases nothing unpaid: {arrived}"
        );
        assert!(
            account(&app, "deferment:1108654").await.balance().is_zero(),
            "the deferral was given back"
        );
        // Down again within the limit: deferred, settled and (arrived) released.
        let (_, answer) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{pre_id}/amendments"),
                pre_lodged(declaration("AM-2", A, "500", "E", Some("1108654"), None)),
            )
            .await,
        )
        .await;
        assert_eq!(answer["status"], "released", "{answer}");
        assert_eq!(
            account(&app, "deferment:1108654")
                .await
                .balance()
                .to_string(),
            "-112.00"
        );
        // Every version kept, as received.
        let (_, versions) = json(
            app.get(&trader, &format!("/api/v1/declarations/{pre_id}/versions"))
                .await,
        )
        .await;
        assert_eq!(
            versions["versions"].as_array().unwrap().len(),
            3,
            "{versions}"
        );
        let first = app
            .client
            .get(format!(
                "{}/api/v1/declarations/{pre_id}/versions/1",
                app.base
            ))
            .bearer_auth(&trader)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let first: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(
            first["goods_shipment"]["goods_items"][0]["item_charge_amount"]["value"], "1000",
            "version 1 as received"
        );
        money_holds(&app).await;
        let audit = app.store.verify_audit(vec![], &[]).await.unwrap();
        assert!(audit.is_ok(), "{audit:?}");
        assert!(audit.versions_checked >= 4);
    }
}

/// Finding 2: eight lodgements at the same instant under one LRN, equal amounts, different descriptions; a loser's
/// undo reversed the winner's money. Now one is stored, seven conflict, and the winner's deferral and cash payment
/// are intact, every round.
#[tokio::test]
async fn a_lodgement_that_loses_a_race_changes_no_money() {
    for backend in common::backends() {
        let app = Arc::new(spawn(backend).await);
        let trader = app.user("trader", Some(A)).await;
        let admin = app.user("admin", None).await;
        let officer = app.user("officer", None).await;
        open(&app, &admin, "deferment:1108654", "10000000.00", A).await;
        let (status, _) = json(
            app.post(
                &officer,
                &format!("/api/v1/ledger/accounts/cash:{A}/settlements"),
                json!({"amount": "10000000.00", "reference": "DEP-1", "bank": "BANKA"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        let rounds = rounds(backend);
        for round in 0..rounds {
            let method = if round % 2 == 0 { "E" } else { "P" };
            let lrn = format!("RACE-{round}");
            let barrier = Arc::new(tokio::sync::Barrier::new(8));
            let mut tasks = Vec::new();
            for n in 0..8 {
                let (app, trader, barrier) = (app.clone(), trader.clone(), barrier.clone());
                let mut body = declaration(&lrn, A, "1000", method, Some("1108654"), None);
                body["goods_shipment"]["goods_items"][0]["description"] =
                    json!(format!("version {n}"));
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    json(app.lodge_json(&trader, &body).await).await.0
                }));
            }
            let mut statuses = Vec::new();
            for task in tasks {
                statuses.push(task.await.unwrap());
            }
            statuses.sort();
            assert_eq!(
                statuses,
                [201, 409, 409, 409, 409, 409, 409, 409],
                "{backend:?} round {round}"
            );
        }
        // Every winner's money is there: half deferred, half paid from the cash account.
        let deferred = account(&app, "deferment:1108654").await.balance();
        let cash = account(&app, &format!("cash:{A}")).await.balance();
        let deferrals = rounds.div_ceil(2) as i64;
        let cash_payments = (rounds / 2) as i64;
        assert_eq!(
            deferred,
            rust_decimal::Decimal::from(-224 * deferrals),
            "{backend:?}"
        );
        assert_eq!(
            cash,
            rust_decimal::Decimal::from(10_000_000 - 224 * cash_payments),
            "{backend:?}"
        );
        let ledger = app.store.ledger().await.unwrap();
        assert!(
            ledger.transfers().all(|t| !t.code.contains("undone")),
            "no undo path: a loser never commits"
        );
        money_holds(&app).await;
    }
}

/// Finding 3: trader B named A's deferment account (and A's guarantee): released, 22,400 charged to A, and A's
/// statement showed B's EORI. Now an account is charged only for its holder or a declarant the holder authorised.
#[tokio::test]
async fn an_account_is_charged_only_for_its_holder_or_a_declarant_it_authorised() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let a = app.user("trader", Some(A)).await;
        let b = app.user("trader", Some(B)).await;
        let admin = app.user("admin", None).await;
        open(&app, &admin, "deferment:1108654", "100000.00", A).await;
        open(&app, &admin, "guarantee:GRNA1", "100000.00", A).await;
        for (lrn, method, dan, grn) in [
            ("STEAL-1", "E", Some("1108654"), None),
            ("STEAL-2", "R", None, Some("GRNA1")),
        ] {
            let (_, lodged) = json(
                app.lodge_json(&b, &declaration(lrn, B, "100000", method, dan, grn))
                    .await,
            )
            .await;
            assert_eq!(
                lodged["status"], "awaiting_payment",
                "{backend:?} {lrn}: {lodged}"
            );
        }
        assert!(
            account(&app, "deferment:1108654").await.balance().is_zero(),
            "nothing charged to A's account"
        );
        assert_eq!(
            account(&app, "guarantee:GRNA1")
                .await
                .available()
                .unwrap()
                .to_string(),
            "100000.00"
        );
        let (_, statement) = json(
            app.get(&a, "/api/v1/ledger/accounts/deferment:1108654")
                .await,
        )
        .await;
        assert!(!statement.to_string().contains(B), "{statement}");
        // B may not manage A's account; A authorises B, and B's next declaration defers.
        let (status, _) = json(
            app.post(
                &b,
                "/api/v1/ledger/accounts/deferment:1108654/authorities",
                json!({"party": B}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 404, "not B's account");
        let (status, granted) = json(
            app.post(
                &a,
                "/api/v1/ledger/accounts/deferment:1108654/authorities",
                json!({"party": B}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{granted}");
        let (_, lodged) = json(
            app.lodge_json(
                &b,
                &declaration("ALLOWED-1", B, "1000", "E", Some("1108654"), None),
            )
            .await,
        )
        .await;
        assert_eq!(lodged["status"], "released", "{lodged}");
        assert_eq!(
            account(&app, "deferment:1108654")
                .await
                .balance()
                .to_string(),
            "-224.00"
        );
        // Revoked: the next one is refused again.
        let revoked = app
            .client
            .delete(format!(
                "{}/api/v1/ledger/accounts/deferment:1108654/authorities/{B}",
                app.base
            ))
            .bearer_auth(&a)
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        let (_, lodged) = json(
            app.lodge_json(
                &b,
                &declaration("REVOKED-1", B, "1000", "E", Some("1108654"), None),
            )
            .await,
        )
        .await;
        assert_eq!(lodged["status"], "awaiting_payment", "{lodged}");
        money_holds(&app).await;
    }
}

/// Finding 4: a DAN or guarantee nobody opened was opened on the fly with a 1,000,000 limit and no holder. By
/// default it is refused now; the duties are due.
#[tokio::test]
async fn an_account_nobody_opened_is_refused_by_default() {
    assert_eq!(clearance::Pipeline::demo(vec![]).auto_open_limit, None);
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(A)).await;
        for (lrn, method, dan, grn) in [
            ("INVENT-1", "E", Some("9999999"), None),
            ("INVENT-2", "S", None, Some("INVENTED1")),
        ] {
            let (_, lodged) = json(
                app.lodge_json(&trader, &declaration(lrn, A, "1000", method, dan, grn))
                    .await,
            )
            .await;
            assert_eq!(lodged["status"], "awaiting_payment", "{lodged}");
        }
        for id in ["deferment:9999999", "guarantee:INVENTED1"] {
            let found = app
                .store
                .account(&ledger::AccountId::parse(id).unwrap())
                .await
                .unwrap();
            assert!(found.is_none(), "{id} was opened");
        }
        money_holds(&app).await;
    }
}

/// Finding 5 over HTTP: 20,000 nested `not` sent to the rule check is refused with its line, and the server answers
/// the next request.
#[tokio::test]
async fn a_deeply_nested_rule_is_refused_and_the_server_goes_on() {
    let app = spawn(Backend::Sqlite).await;
    let analyst = app.user("risk_analyst", None).await;
    let rule = format!("rule R1 when {}value > 1 then red\n", "not ".repeat(20_000));
    let response = app
        .client
        .post(format!("{}/api/v1/risk/rules/check", app.base))
        .bearer_auth(&analyst)
        .json(&json!({"text": rule}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert!(matches!(status, 200 | 422), "{status} {body}");
    assert!(body.contains("nested too deeply"), "{body}");
    let (status, _) = json(app.get(&analyst, "/api/v1/risk/rules").await).await;
    assert_eq!(status, 200, "still answering");
}

/// Finding 6: an officer's settlement of the largest decimal, twice, stopped the ledger writer for good. It is
/// refused at the edge with its pointer; the ledger goes on and verifies.
#[tokio::test]
async fn an_amount_too_large_is_refused_at_the_edge_and_the_ledger_goes_on() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let officer = app.user("officer", None).await;
        let admin = app.user("admin", None).await;
        open(&app, &admin, "deferment:1108654", "1000.00", A).await;
        for n in 0..2 {
            let (status, refused) = json(
                app.post(
                    &officer,
                    "/api/v1/ledger/accounts/deferment:1108654/settlements",
                    json!({"amount": "79228162514264337593543950335", "reference": format!("MAX-{n}"), "bank": "BANKA"}),
                )
                .await,
            )
            .await;
            assert_eq!(status, 422, "{refused}");
            assert_eq!(
                refused["errors"][0]["code"], "declaration.amount_too_large",
                "{refused}"
            );
            assert_eq!(refused["errors"][0]["pointer"], "/amount");
        }
        let (status, settled) = json(
            app.post(
                &officer,
                "/api/v1/ledger/accounts/deferment:1108654/settlements",
                json!({"amount": "10.00", "reference": "OK-1", "bank": "BANKA"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, settled["status"].as_str()),
            (200, Some("applied")),
            "{settled}"
        );
        money_holds(&app).await;
    }
}

/// Finding 7: anonymous requests with the largest decimal closed the connection ("Multiplication overflowed").
/// Each gets a coded answer now, and the server goes on.
#[tokio::test]
async fn extreme_amounts_get_a_coded_answer_anonymous_or_not() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(A)).await;
        let max = "79228162514264337593543950335";
        let (status, answer) = json(
            app.client
                .post(format!("{}/api/v1/duty-calculations", app.base))
                .json(&json!({"commodity_code": "8510900000", "origin": "CN", "customs_value": {"amount": max, "currency": "USD"}}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["code"], "declaration.amount_too_large");
        // In a declaration: a price, and a 16-digit value whose product with a 12-digit rate (the most the schema
        // allows a rate) is beyond any amount.
        let mut huge = declaration("HUGE-1", A, max, "A", None, None);
        let (status, answer) = json(app.lodge_json(&trader, &huge).await).await;
        assert_eq!(status, 422, "{answer}");
        huge["goods_shipment"]["goods_items"][0]["item_charge_amount"] =
            json!({"value": "9999999999999999", "currency": "USD"});
        huge["currency_exchanges"] = json!([{"currency": "USD", "rate": "999999999999"}]);
        let (status, answer) = json(app.lodge_json(&trader, &huge).await).await;
        assert!(status < 500, "{status} {answer}");
        assert!(answer.to_string().contains("amount_too_large"), "{answer}");
        let (status, _) = json(app.get(&trader, "/api/v1/declarations").await).await;
        assert_eq!(status, 200, "still answering");
    }
}

/// Finding 8: a declaration naming B as agent, with no representation registered, let B read and cancel it.
#[tokio::test]
async fn a_representative_the_registry_does_not_know_sees_and_cancels_nothing() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let a = app.user("trader", Some(A)).await;
        let b = app.user("trader", Some(B)).await;
        let mut d = declaration("AGENT-1", A, "1000", "A", None, None);
        d["agent"] = json!({"id": B, "function_code": "2"});
        let (status, lodged) = json(app.lodge_json(&a, &d).await).await;
        assert_eq!(status, 201, "{lodged}");
        let id = lodged["id"].as_str().unwrap();
        let (status, _) = json(app.get(&b, &format!("/api/v1/declarations/{id}")).await).await;
        assert_eq!(status, 404);
        let (status, _) = json(
            app.post(
                &b,
                &format!("/api/v1/declarations/{id}/cancellation"),
                json!({"reason": "mine"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(view(&app, &a, id).await["status"], "awaiting_payment");
        // Registered, B may.
        app.store
            .set_representation(
                &storage::Actor::cli(),
                B,
                A,
                true,
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        let (status, _) = json(app.get(&b, &format!("/api/v1/declarations/{id}")).await).await;
        assert_eq!(status, 200);
    }
}

/// Finding 9: an officer's recorded payment released the goods and posted nothing; the order stayed open.
#[tokio::test]
async fn a_payment_an_officer_records_is_in_the_ledger() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(A)).await;
        let officer = app.user("officer", None).await;
        let (_, lodged) = json(
            app.lodge_json(
                &trader,
                &declaration("COUNTER-1", A, "1000", "A", None, None),
            )
            .await,
        )
        .await;
        let id = lodged["id"].as_str().unwrap();
        let (_, order) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/payment-orders"),
                json!({}),
            )
            .await,
        )
        .await;
        let (status, paid) = json(
            app.post(
                &officer,
                &format!("/api/v1/declarations/{id}/payments"),
                json!({"amount": "224.00", "reference": "TILL-7"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, paid["status"].as_str()),
            (200, Some("released")),
            "{paid}"
        );
        assert_eq!(
            account(&app, &receivable("COUNTER-1", A))
                .await
                .balance()
                .to_string(),
            "0.00"
        );
        assert_eq!(
            account(&app, "bank:COUNTER").await.balance().to_string(),
            "-224.00"
        );
        let reference = order["reference"].as_str().unwrap();
        let (_, order) = json(
            app.get(&trader, &format!("/api/v1/payment-orders/{reference}"))
                .await,
        )
        .await;
        assert_eq!(order["status"], "paid", "{order}");
        let (_, report) = json(app.get(&officer, "/api/v1/reports/reconciliation").await).await;
        assert_eq!(report["reconciled"], true, "{report}");
        money_holds(&app).await;
    }
}

/// A declaration released with its 224.00 paid twice through its order: a 224.00 credit. Its id.
async fn with_credit(app: &TestApp, trader: &str, lrn: &str) -> String {
    let (_, lodged) = json(
        app.lodge_json(trader, &declaration(lrn, A, "1000", "A", None, None))
            .await,
    )
    .await;
    let id = lodged["id"].as_str().unwrap().to_owned();
    let (_, order) = json(
        app.post(
            trader,
            &format!("/api/v1/declarations/{id}/payment-orders"),
            json!({}),
        )
        .await,
    )
    .await;
    for n in 0..2 {
        let (status, paid) = confirm(
            app,
            &json!({"confirmation_id": format!("C{n}-{lrn}"), "order_reference": order["reference"], "amount": "224.00", "currency": "GBP"}),
        )
        .await;
        assert_eq!(status, 200, "{paid}");
    }
    assert_eq!(view(app, trader, &id).await["status"], "released");
    id
}

/// Finding 11: three refund requests at once for one credit each created a refund, and approved at once all were
/// paid (224.00 paid out as 672.00). Now one refund, paid once, every round.
#[tokio::test]
async fn one_credit_is_refunded_once_whatever_arrives_at_once() {
    for backend in common::backends() {
        let app = Arc::new(spawn(backend).await);
        let trader = app.user("trader", Some(A)).await;
        let requesters = [
            app.user("officer", None).await,
            app.user("officer", None).await,
            app.user("officer", None).await,
        ];
        let approvers = [
            app.user("officer", None).await,
            app.user("officer", None).await,
            app.user("officer", None).await,
        ];
        for round in 0..rounds(backend) {
            let lrn = format!("REF-{round}");
            let id = with_credit(&app, &trader, &lrn).await;
            let barrier = Arc::new(tokio::sync::Barrier::new(3));
            let mut tasks = Vec::new();
            for requester in &requesters {
                let (app, token, barrier, id) =
                    (app.clone(), requester.clone(), barrier.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    json(
                        app.post(
                            &token,
                            &format!("/api/v1/declarations/{id}/refunds"),
                            json!({}),
                        )
                        .await,
                    )
                    .await
                }));
            }
            let mut refunds = std::collections::BTreeSet::new();
            for task in tasks {
                let (status, refund) = task.await.unwrap();
                assert_eq!(status, 201, "{backend:?}: {refund}");
                refunds.insert(refund["id"].as_str().unwrap().to_owned());
            }
            assert_eq!(
                refunds.len(),
                1,
                "{backend:?} round {round}: one refund for one credit"
            );
            let refund = refunds.into_iter().next().unwrap();
            let barrier = Arc::new(tokio::sync::Barrier::new(3));
            let mut tasks = Vec::new();
            for approver in &approvers {
                let (app, token, barrier, refund) = (
                    app.clone(),
                    approver.clone(),
                    barrier.clone(),
                    refund.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    json(
                        app.post(
                            &token,
                            &format!("/api/v1/refunds/{refund}/approvals"),
                            json!({}),
                        )
                        .await,
                    )
                    .await
                }));
            }
            let mut paid = 0;
            for task in tasks {
                let (status, answer) = task.await.unwrap();
                assert!(status < 500, "{status} {answer}");
                paid += usize::from(status == 200);
            }
            assert!(paid >= 1, "one approval pays it");
            let balance = account(&app, &receivable(&lrn, A)).await.balance();
            assert_eq!(
                balance.to_string(),
                "0.00",
                "{backend:?} round {round}: paid out once"
            );
        }
        let refunded: rust_decimal::Decimal = app
            .store
            .ledger()
            .await
            .unwrap()
            .transfers()
            .filter(|t| t.code == "refund")
            .map(|t| t.amount)
            .sum();
        assert_eq!(
            refunded,
            rust_decimal::Decimal::from(224 * rounds(backend) as i64)
        );
        money_holds(&app).await;
    }
}

/// Finding 12: a refund requested for a credit that an amendment then used up was paid anyway (the receivable
/// left at −112.00). Now the approval finds no credit and pays nothing.
#[tokio::test]
async fn a_refund_is_not_paid_once_its_credit_is_gone() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(A)).await;
        let requester = app.user("officer", None).await;
        let approver = app.user("officer", None).await;
        // Pre-lodged, paid 224.00: settled, waiting for arrival, still amendable.
        let (_, lodged) = json(
            app.lodge_json(
                &trader,
                &pre_lodged(declaration("GONE-1", A, "1000", "A", None, None)),
            )
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
        confirm(
            &app,
            &json!({"confirmation_id": "GONE-PAY", "order_reference": order["reference"], "amount": "224.00", "currency": "GBP"}),
        )
        .await;
        let amend = |price: &str| pre_lodged(declaration("GONE-1", A, price, "A", None, None));
        // Amended to 500: 112.00 due, a 112.00 credit, refund requested.
        let path = format!("/api/v1/declarations/{id}/amendments");
        let (status, _) = json(app.post(&trader, &path, amend("500")).await).await;
        assert_eq!(status, 200);
        let (status, refund) = json(
            app.post(
                &requester,
                &format!("/api/v1/declarations/{id}/refunds"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, refund["amount"].as_str()),
            (201, Some("112.00")),
            "{refund}"
        );
        // Amended back to 1,000: the credit is gone; the approval pays nothing.
        let (status, _) = json(app.post(&trader, &path, amend("1000")).await).await;
        assert_eq!(status, 200);
        let (status, refused) = json(
            app.post(
                &approver,
                &format!(
                    "/api/v1/refunds/{}/approvals",
                    refund["id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (409, Some("ledger.refused")),
            "{refused}"
        );
        assert_eq!(
            account(&app, &receivable("GONE-1", A))
                .await
                .balance()
                .to_string(),
            "0.00",
            "{backend:?}"
        );
        money_holds(&app).await;
    }
}

/// Finding 13: a bank confirmation racing a cancellation left the money in revenue ("Nothing is owed back"), and
/// a cancelled pre-lodged declaration's deferred duties stayed charged. Whichever wins now, the cancelled
/// declaration's money is owed back and refunded, and the deferment account is given its duties back.
#[tokio::test]
async fn a_cancelled_declarations_money_is_owed_back() {
    for backend in common::backends() {
        let app = Arc::new(spawn(backend).await);
        let trader = app.user("trader", Some(A)).await;
        let officer = app.user("officer", None).await;
        let admin = app.user("admin", None).await;
        for round in 0..rounds(backend).min(20) {
            let lrn = format!("CANCEL-{round}");
            let (_, lodged) = json(
                app.lodge_json(
                    &trader,
                    &pre_lodged(declaration(&lrn, A, "1000", "A", None, None)),
                )
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
            let pay = {
                let app = app.clone();
                let body = json!({"confirmation_id": format!("CP-{round}"), "order_reference": order["reference"], "amount": "224.00", "currency": "GBP"});
                tokio::spawn(async move { confirm(&app, &body).await })
            };
            let cancel = {
                let (app, trader, id) = (app.clone(), trader.clone(), id.clone());
                tokio::spawn(async move {
                    json(
                        app.post(
                            &trader,
                            &format!("/api/v1/declarations/{id}/cancellation"),
                            json!({"reason": "not shipped"}),
                        )
                        .await,
                    )
                    .await
                })
            };
            let (paid, cancelled) = (pay.await.unwrap(), cancel.await.unwrap());
            assert_eq!(paid.0, 200, "{paid:?}");
            let status = view(&app, &trader, &id).await["status"].clone();
            if cancelled.0 == 200 {
                assert_eq!(status, "cancelled");
                let balance = account(&app, &receivable(&lrn, A)).await.balance();
                assert_eq!(balance.to_string(), "224.00", "{backend:?}: owed back");
                let (status, refund) = json(
                    app.post(
                        &trader,
                        &format!("/api/v1/declarations/{id}/refunds"),
                        json!({}),
                    )
                    .await,
                )
                .await;
                assert_eq!(
                    (status, refund["amount"].as_str()),
                    (201, Some("224.00")),
                    "{refund}"
                );
            }
        }
        // Deferred duties of a cancelled pre-lodged declaration go back to the account.
        open(&app, &admin, "deferment:1108654", "10000.00", A).await;
        let (_, lodged) = json(
            app.lodge_json(
                &trader,
                &pre_lodged(declaration(
                    "CANCEL-DEF",
                    A,
                    "1000",
                    "E",
                    Some("1108654"),
                    None,
                )),
            )
            .await,
        )
        .await;
        assert_eq!(
            account(&app, "deferment:1108654")
                .await
                .balance()
                .to_string(),
            "-224.00"
        );
        let id = lodged["id"].as_str().unwrap();
        let (status, _) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/cancellation"),
                json!({"reason": "no"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            account(&app, "deferment:1108654")
                .await
                .balance()
                .to_string(),
            "0.00"
        );
        let _ = officer;
        money_holds(&app).await;
    }
}

/// Finding 14: a settled or awaiting-payment declaration overridden to red, whose control then passed, stayed
/// `accepted` for ever. Now it is assessed again and goes on.
#[tokio::test]
async fn an_override_after_assessment_does_not_leave_the_declaration_stuck() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(A)).await;
        let officer = app.user("officer", None).await;
        for (lrn, method, after) in [
            ("STUCK-1", "A", "awaiting_payment"),
            ("STUCK-2", "P", "awaiting_payment"),
        ] {
            let (_, lodged) = json(
                app.lodge_json(
                    &trader,
                    &pre_lodged(declaration(lrn, A, "1000", method, None, None)),
                )
                .await,
            )
            .await;
            let id = lodged["id"].as_str().unwrap();
            let (status, red) = json(
                app.post(
                    &officer,
                    &format!("/api/v1/declarations/{id}/lane"),
                    json!({"lane": "red", "reason": "intelligence"}),
                )
                .await,
            )
            .await;
            assert_eq!(
                (status, red["status"].as_str()),
                (200, Some("under_control")),
                "{red}"
            );
            let (_, passed) = json(
                app.post(
                    &officer,
                    &format!("/api/v1/declarations/{id}/control-results"),
                    json!({"result": "no_irregularity"}),
                )
                .await,
            )
            .await;
            assert_eq!(passed["status"], after, "{backend:?} {lrn}: {passed}");
            let (status, order) = json(
                app.post(
                    &trader,
                    &format!("/api/v1/declarations/{id}/payment-orders"),
                    json!({}),
                )
                .await,
            )
            .await;
            assert_eq!(status, 201, "a payment order can be issued: {order}");
        }
        money_holds(&app).await;
    }
}

/// Finding 15: three payment-order requests at once (the losing insert collided) and two rule saves at once
/// (highest + 1 twice) answered 500. Now the same order thrice, and two versions.
#[tokio::test]
async fn requests_at_once_never_answer_500_for_a_key_taken_first() {
    for backend in common::backends() {
        let app = Arc::new(spawn(backend).await);
        let trader = app.user("trader", Some(A)).await;
        let analyst = app.user("risk_analyst", None).await;
        for round in 0..rounds(backend).min(20) {
            let (_, lodged) = json(
                app.lodge_json(
                    &trader,
                    &declaration(&format!("ORD-{round}"), A, "1000", "A", None, None),
                )
                .await,
            )
            .await;
            let id = lodged["id"].as_str().unwrap().to_owned();
            let barrier = Arc::new(tokio::sync::Barrier::new(3));
            let mut tasks = Vec::new();
            for _ in 0..3 {
                let (app, trader, barrier, id) =
                    (app.clone(), trader.clone(), barrier.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    json(
                        app.post(
                            &trader,
                            &format!("/api/v1/declarations/{id}/payment-orders"),
                            json!({}),
                        )
                        .await,
                    )
                    .await
                }));
            }
            let mut references = std::collections::BTreeSet::new();
            for task in tasks {
                let (status, order) = task.await.unwrap();
                assert_eq!(status, 201, "{backend:?}: {order}");
                references.insert(order["reference"].as_str().unwrap().to_owned());
            }
            assert_eq!(references.len(), 1);
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let mut tasks = Vec::new();
        for n in 0..2 {
            let (app, analyst, barrier) = (app.clone(), analyst.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                json(
                    app.post(
                        &analyst,
                        "/api/v1/risk/rules",
                        json!({"text": "random 1% then yellow\n", "comment": format!("save {n}")}),
                    )
                    .await,
                )
                .await
            }));
        }
        let mut versions = Vec::new();
        for task in tasks {
            let (status, saved) = task.await.unwrap();
            assert!(status < 500, "{status} {saved}");
            if status == 201 {
                versions.push(saved["version"].as_i64().unwrap());
            }
        }
        versions.sort();
        assert!(versions == [1, 2] || versions.len() == 1, "{versions:?}");
    }
}

/// Finding 16: under concurrent commands an event's time was earlier than the one before it. Times are taken under
/// the row lock now, never before the declaration's last change.
#[tokio::test]
async fn a_historys_times_never_go_back() {
    for backend in common::backends() {
        let app = Arc::new(spawn(backend).await);
        let trader = app.user("trader", Some(A)).await;
        let officer = app.user("officer", None).await;
        let mut ids = Vec::new();
        for n in 0..10 {
            let (_, lodged) = json(
                app.lodge_json(
                    &trader,
                    &pre_lodged(declaration(
                        &format!("TIME-{n}"),
                        A,
                        "1000",
                        "A",
                        None,
                        None,
                    )),
                )
                .await,
            )
            .await;
            ids.push(lodged["id"].as_str().unwrap().to_owned());
        }
        let mut tasks = Vec::new();
        for id in &ids {
            for n in 0..4 {
                let (app, officer, trader, id) =
                    (app.clone(), officer.clone(), trader.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    let _ = match n {
                        0 => {
                            app.post(
                                &trader,
                                &format!("/api/v1/declarations/{id}/arrival"),
                                json!({}),
                            )
                            .await
                        }
                        1 => {
                            app.post(
                                &officer,
                                &format!("/api/v1/declarations/{id}/lane"),
                                json!({"lane": "yellow", "reason": "check"}),
                            )
                            .await
                        }
                        2 => {
                            app.post(
                                &officer,
                                &format!("/api/v1/declarations/{id}/payments"),
                                json!({"amount": "100.00", "reference": "T1"}),
                            )
                            .await
                        }
                        _ => {
                            app.post(
                                &officer,
                                &format!("/api/v1/declarations/{id}/control-results"),
                                json!({"result": "no_irregularity"}),
                            )
                            .await
                        }
                    };
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        for id in &ids {
            let events = app.store.events(id).await.unwrap();
            for pair in events.windows(2) {
                assert!(
                    pair[0].at <= pair[1].at,
                    "{backend:?}: {} then {}",
                    pair[0].at,
                    pair[1].at
                );
            }
        }
        money_holds(&app).await;
    }
}

/// A correction (function code 13, COR) goes through the same decision as an amendment: trader B's correction that
/// names A's deferment account and switches its duties to deferment (DE 4/8 E) charges nothing to A and releases
/// nothing; the declaration still awaits payment.
#[tokio::test]
async fn a_correction_naming_another_traders_account_charges_nothing_and_releases_nothing() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let b = app.user("trader", Some(B)).await;
        let admin = app.user("admin", None).await;
        open(&app, &admin, "deferment:1108654", "100000.00", A).await;
        let (_, lodged) = json(
            app.lodge_json(&b, &declaration("COR-STEAL", B, "100000", "A", None, None))
                .await,
        )
        .await;
        assert_eq!(lodged["status"], "awaiting_payment", "{lodged}");
        let (id, mrn) = (
            lodged["id"].as_str().unwrap(),
            lodged["mrn"].as_str().unwrap(),
        );
        let pointer = |section: &str, sequence: u32| {
            format!(
                "<Pointer><SequenceNumeric>{sequence}</SequenceNumeric><DocumentSectionCode>{section}</DocumentSectionCode></Pointer>"
            )
        };
        let fee = |k: u32| {
            format!(
                "<Amendment><ChangeReasonCode>21</ChangeReasonCode>{}{}{}{}{}<Pointer><SequenceNumeric>1</SequenceNumeric>\
                 <DocumentSectionCode>94A</DocumentSectionCode><TagID>107</TagID></Pointer></Amendment>",
                pointer("42A", 1),
                pointer("67A", 1),
                pointer("68A", 1),
                pointer("23A", 1),
                pointer("50A", k)
            )
        };
        let correction = format!(
            "<md:MetaData xmlns=\"urn:wco:datamodel:WCO:DEC-DMS:2\" xmlns:md=\"urn:wco:datamodel:WCO:DocumentMetaData-DMS:2\">\
             <Declaration><FunctionCode>13</FunctionCode><FunctionalReferenceID>COR-STEAL-1</FunctionalReferenceID>\
             <ID>{mrn}</ID><TypeCode>COR</TypeCode>\
             <AdditionalDocument><CategoryCode>1</CategoryCode><ID>1108654</ID><TypeCode>DAN</TypeCode></AdditionalDocument>\
             <AdditionalInformation><StatementDescription>Defer it</StatementDescription><StatementTypeCode>AES</StatementTypeCode></AdditionalInformation>\
             <Amendment><ChangeReasonCode>32</ChangeReasonCode>{}{}</Amendment>{}{}\
             <GoodsShipment><GovernmentAgencyGoodsItem><SequenceNumeric>1</SequenceNumeric><Commodity>\
             <DutyTaxFee><Payment><MethodCode>E</MethodCode></Payment></DutyTaxFee>\
             <DutyTaxFee><Payment><MethodCode>E</MethodCode></Payment></DutyTaxFee>\
             </Commodity></GovernmentAgencyGoodsItem></GoodsShipment></Declaration></md:MetaData>",
            pointer("42A", 1),
            pointer("02A", 1),
            fee(1),
            fee(2)
        );
        let response = app
            .client
            .post(format!("{}/api/v1/declarations/{id}/corrections", app.base))
            .bearer_auth(&b)
            .header("content-type", "application/xml")
            .body(correction)
            .send()
            .await
            .unwrap();
        let (status, answer) = json(response).await;
        // Applied as a new version — the account named, the duties switched to deferment — yet still owed.
        assert_eq!(
            (status, answer["version"].as_i64()),
            (200, Some(2)),
            "{answer}"
        );
        let (_, view) = json(app.get(&b, &format!("/api/v1/declarations/{id}")).await).await;
        let current = &view["declaration"];
        assert_eq!(
            current["additional_documents"][0]["id"], "1108654",
            "{view}"
        );
        assert_eq!(
            current["goods_shipment"]["goods_items"][0]["duty_tax_fees"][0]["payment_method_code"],
            "E"
        );
        assert_eq!(view["status"], "awaiting_payment", "{view}");
        assert!(
            account(&app, "deferment:1108654").await.balance().is_zero(),
            "nothing charged to A's account"
        );
        money_holds(&app).await;
    }
}
