//! Issue 17, "An administration, not a demo": a second administration (`demo-sn`: French-speaking, CFA francs with
//! no minor unit, its own offices, calendar, tax types and codes) works end to end over HTTP on SQLite and
//! PostgreSQL — lodged, laned, assessed in XOF in its tax order and rounding, paid through a bank and released,
//! its MRN, notifications, receipt and pages in its language and currency — and an administrator changes its
//! offices, calendar and code lists at run time, each change checked, versioned and audited.

mod common;

use common::{Backend, TestApp, json};
use serde_json::{Value, json};

const TRADER: &str = "SN0012345678";
const KEY: &[u8] = b"bank-sn-shared-secret-for-tests";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_full(
        backend,
        |p| {
            *p = clearance::Pipeline::for_profile(
                administration::built_in_profile("demo-sn").unwrap(),
                b"test seed".to_vec(),
            );
            p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
        },
        api::Config {
            bank_keys: [("CBAO".to_owned(), KEY.to_vec())].into(),
            ..common::config()
        },
    )
    .await
}

/// One item of 85109000 from China worth 1,000 EUR, lodged at Dakar Port, its four taxes to be paid before release
/// (DE 4/8 A), under procedure `procedure`.
fn declaration(lrn: &str, procedure: &str) -> Value {
    json!({
        "function_code": "original",
        "lrn": lrn,
        "type_code": "IMA",
        "declarant": {"id": TRADER},
        "declaration_office_id": "10S",
        "goods_shipment": {
            "goods_items": [{
                "sequence_numeric": 1,
                "classifications": [{"id": "85109000", "identification_type_code": "TSP"}],
                "procedures": [{"current_code": &procedure[..2], "previous_code": &procedure[2..]}],
                "duty_tax_fees": [
                    {"type_code": "DD", "payment_method_code": "A"},
                    {"type_code": "RS", "payment_method_code": "A"},
                    {"type_code": "PCS", "payment_method_code": "A"},
                    {"type_code": "TVA", "payment_method_code": "A"}
                ],
                "item_charge_amount": {"value": "1000", "currency": "EUR"},
                "origins": [{"country_code": "CN", "type_code": "1"}]
            }]
        }
    })
}

async fn get_with(
    app: &TestApp,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let mut request = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let language = response
        .headers()
        .get("content-language")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, language, response.text().await.unwrap())
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    json(
        app.client
            .put(format!("{}{path}", app.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn confirm(app: &TestApp, body: &Value) -> (u16, Value) {
    app.confirm("CBAO", KEY, body, 0).await
}

const NNBSP: &str = "\u{202f}";

#[tokio::test]
async fn a_french_speaking_administration_in_cfa_francs_clears_a_declaration_end_to_end() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let trader = app.user("trader", Some(TRADER)).await;

        // Lodged, accepted with an MRN of SN, laned green, assessed in XOF.
        let (status, lodged) = json(
            app.lodge_json(&trader, &declaration("DKR-0001", "4000"))
                .await,
        )
        .await;
        assert_eq!(status, 201, "{backend:?}: {lodged}");
        assert_eq!(lodged["status"], "awaiting_payment", "{lodged}");
        assert_eq!(lodged["lane"], "green", "{lodged}");
        let mrn = lodged["mrn"].as_str().unwrap().to_owned();
        let year = time::OffsetDateTime::now_utc().year() % 100;
        assert!(mrn.starts_with(&format!("{year:02}SN")), "{mrn}");
        let id = lodged["id"].as_str().unwrap().to_owned();
        let (_, view) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        let assessment = &view["assessment"];
        assert_eq!(assessment["currency"], "XOF", "{view}");
        // 1,000 EUR at the fixed parity 655.957 = 655,957 XOF. DD 5 % = 32,797.85 → 32,798, RS 1 % = 6,559.57 →
        // 6,560, PCS 0.8 % = 5,247.656 → 5,248 (rounded up, no minor unit); TVA 18 % of 655,957 + 32,798 + 6,560 +
        // 5,248 = 700,563 → 126,101.34 → 126,102. In the profile's order: DD, RS, PCS, then TVA.
        let item = &assessment["items"][0];
        assert_eq!(item["customs_value"], "655957", "{item}");
        let taxes: Vec<(&str, &str)> = item["taxes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["type"].as_str().unwrap(), t["amount"].as_str().unwrap()))
            .collect();
        assert_eq!(
            taxes,
            [
                ("DD", "32798"),
                ("RS", "6560"),
                ("PCS", "5248"),
                ("TVA", "126102")
            ],
            "{item}"
        );
        assert_eq!(item["taxes"][3]["base"], "700563", "{item}");

        // The payment order: the total in XOF without decimals, due 15 working days (Monday to Saturday, holidays
        // skipped) from today at Dakar.
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
            (Some("170708"), Some("XOF"))
        );
        let profile = administration::built_in_profile("demo-sn").unwrap();
        let today = time::OffsetDateTime::now_utc().date(); // Africa/Dakar is UTC all year
        let due = profile.calendar.add_working_days(today, 15).unwrap();
        assert_eq!(order["due_date"], due.to_string(), "{order}");

        // Paid through the bank: released; the receipt in French, in francs.
        let (status, answer) = confirm(
            &app,
            &json!({"confirmation_id": "CBAO-1", "order_reference": order["reference"], "amount": "170708", "currency": "XOF"}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["declaration"]["status"], "released", "{answer}");
        let receipt = answer["receipt"].as_str().unwrap();
        let (status, language, page) = get_with(
            &app,
            &trader,
            &format!("/api/v1/receipts/{receipt}"),
            &[("accept", "text/html")],
        )
        .await;
        assert_eq!((status, language.as_str()), (200, "fr"), "{page}");
        assert!(page.contains("<html lang=\"fr\">"), "{page}");
        assert!(
            page.contains("Quittance des droits et taxes payés"),
            "{page}"
        );
        assert!(page.contains(&format!("170{NNBSP}708 XOF")), "{page}");

        // What the trader was told, in French by default, in English when asked.
        let path = format!("/api/v1/declarations/{id}/notifications");
        let (_, language, body) = get_with(&app, &trader, &path, &[]).await;
        assert_eq!(language, "fr");
        let told: Value = serde_json::from_str(&body).unwrap();
        let messages: Vec<&str> = told["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["message"].as_str().unwrap())
            .collect();
        assert_eq!(
            messages,
            [
                "Votre déclaration a été reçue.".to_owned(),
                format!("Votre déclaration est acceptée sous le MRN {mrn}."),
                "Les droits et taxes sont liquidés.".to_owned(),
                format!("Veuillez payer 170{NNBSP}708 XOF avant la mainlevée."),
                format!(
                    "Un paiement de 170{NNBSP}708 XOF est reçu ({}).",
                    order["reference"].as_str().unwrap()
                ),
                "Mainlevée accordée : vos marchandises peuvent être enlevées.".to_owned(),
            ]
        );
        let (_, language, body) = get_with(
            &app,
            &trader,
            &path,
            &[("accept-language", "en-GB,en;q=0.8")],
        )
        .await;
        assert_eq!(language, "en");
        assert!(
            body.contains("Please pay 170,708 XOF before release."),
            "{body}"
        );
        // A language the administration does not speak gets its default.
        let (_, language, _) = get_with(&app, &trader, &path, &[("accept-language", "es")]).await;
        assert_eq!(language, "fr");

        // A procedure the administration does not accept: rejected, the error's sentence in French.
        let (status, rejected) = json(
            app.lodge_json(&trader, &declaration("DKR-0002", "4200"))
                .await,
        )
        .await;
        // Stored and rejected, as every business-rule refusal at acceptance.
        assert_eq!(
            (status, rejected["status"].as_str()),
            (201, Some("rejected")),
            "{rejected}"
        );
        assert_eq!(
            rejected["errors"][0]["code"], "declaration.procedure_not_accepted",
            "{rejected}"
        );
        assert_eq!(
            rejected["errors"][0]["pointer"],
            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/GovernmentProcedure"
        );
        let id = rejected["id"].as_str().unwrap();
        let (_, _, body) = get_with(
            &app,
            &trader,
            &format!("/api/v1/declarations/{id}/notifications"),
            &[],
        )
        .await;
        assert!(
            body.contains(
                "Le régime (DE 1/10) n'est pas de ceux que cette administration accepte."
            ),
            "{body}"
        );

        // The sign-in page speaks the administration's language; the error table gives each sentence in it.
        let login = app
            .client
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        let login = login.text().await.unwrap();
        assert!(
            login.contains("<html lang=\"fr\">") && login.contains("Se connecter à Aduana"),
            "{login}"
        );
        let (_, codes) = json(
            app.client
                .get(format!("{}/api/v1/error-codes", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let not_found = codes["codes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "request.not_found")
            .unwrap();
        assert_eq!(
            not_found["sentences"]["fr"],
            "Cette ressource n'existe pas."
        );
        assert_eq!(not_found["sentences"]["en"], "No such resource.");

        let ledger = app.store.ledger().await.unwrap();
        assert!(ledger.verify().is_ok(), "{:?}", ledger.verify());
        assert!(app.store.money_findings().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn offices_calendar_and_code_lists_change_at_run_time_checked_versioned_and_audited() {
    for backend in common::backends() {
        let app = spawn(backend).await;
        let admin = app.user("admin", None).await;
        let trader = app.user("trader", Some(TRADER)).await;
        let auditor = app.user("auditor", None).await;

        // Anyone reads the profile in use: the one the server started with, stored as version 1.
        let (status, shown) = json(
            app.client
                .get(format!("{}/api/v1/administration", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["version"], 1, "{shown}");
        assert_eq!(shown["profile"]["administration"]["country"], "SN");
        assert_eq!(shown["profile"]["currency"]["code"], "XOF");

        // An office added, a holiday added, a procedure accepted: each a new version.
        let (status, changed) = put(
            &app,
            &admin,
            "/api/v1/administration/offices/30K",
            json!({"name": "Kidira", "time_zone": "Africa/Dakar", "working_hours": "08:00-17:00", "reason": "new border post"}),
        )
        .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["version"], 2);
        assert!(
            changed["profile"]["offices"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["code"] == "30K")
        );
        let (status, changed) = put(
            &app,
            &admin,
            "/api/v1/administration/holidays/2027-04-27",
            json!({"reason": "Independence Day"}),
        )
        .await;
        assert_eq!(
            (status, changed["version"].as_i64()),
            (200, Some(3)),
            "{changed}"
        );
        assert!(
            changed["profile"]["calendar"]["holidays"]
                .as_array()
                .unwrap()
                .contains(&json!("2027-04-27"))
        );

        // Lodged under 4200 before it is accepted: rejected; after: accepted.
        let (status, refused) =
            json(app.lodge_json(&trader, &declaration("KDR-1", "4200")).await).await;
        assert_eq!(
            (status, refused["status"].as_str()),
            (201, Some("rejected")),
            "{refused}"
        );
        let (status, changed) = put(
            &app,
            &admin,
            "/api/v1/administration/procedures/4200",
            json!({"reason": "re-exportation"}),
        )
        .await;
        assert_eq!(
            (status, changed["version"].as_i64()),
            (200, Some(4)),
            "{changed}"
        );
        let (status, lodged) =
            json(app.lodge_json(&trader, &declaration("KDR-2", "4200")).await).await;
        assert_eq!(
            (status, lodged["status"].as_str()),
            (201, Some("awaiting_payment")),
            "{lodged}"
        );

        // Mistakes are refused with the line and a sentence, and change nothing.
        let mut text = shown["toml"].as_str().unwrap().to_owned();
        text = text.replacen("code = \"XOF\"", "code = \"XOO\"", 1);
        text = text.replacen("code = \"20A\"", "code = \"10S\"", 1);
        text = text.replacen("basis = \"value_added\"\n", "\n", 1);
        let (status, refused) = put(
            &app,
            &admin,
            "/api/v1/administration",
            json!({"profile": text, "reason": "typos"}),
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("administration.profile_invalid")),
            "{refused}"
        );
        let errors = refused["errors"].as_array().unwrap();
        let sentences: Vec<&str> = errors
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(sentences.len(), 3, "{refused}");
        assert!(
            sentences[0].contains("\"XOO\" is not an ISO 4217 code"),
            "{sentences:?}"
        );
        assert!(
            sentences[1].contains("The office 10S is listed twice."),
            "{sentences:?}"
        );
        assert!(
            sentences[2].contains("The tax type TVA has no rate basis"),
            "{sentences:?}"
        );
        for error in errors {
            assert!(
                error["pointer"]
                    .as_str()
                    .unwrap()
                    .starts_with("/profile/line/"),
                "{error}"
            );
        }
        // The national currency does not change under a running server.
        let euro = shown["toml"]
            .as_str()
            .unwrap()
            .replacen("code = \"XOF\"", "code = \"EUR\"", 1)
            .replacen("decimal_places = 0", "decimal_places = 2", 1)
            .replacen("reference_data = \"sn\"\n", "", 1);
        let (status, refused) = put(
            &app,
            &admin,
            "/api/v1/administration",
            json!({"profile": euro, "reason": "euro"}),
        )
        .await;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("cannot change while the server runs"),
            "{refused}"
        );

        // Only administrators change it; auditors see every version; each save is on the trail.
        let (status, _) = put(
            &app,
            &trader,
            "/api/v1/administration/holidays/2027-05-02",
            json!({"reason": "mine"}),
        )
        .await;
        assert_eq!(status, 403);
        let (status, versions) =
            json(app.get(&auditor, "/api/v1/administration/versions").await).await;
        assert_eq!(status, 200, "{versions}");
        let reasons: Vec<&str> = versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["reason"].as_str().unwrap())
            .collect();
        assert_eq!(reasons.len(), 4, "{versions}");
        assert_eq!(
            &reasons[..3],
            ["re-exportation", "Independence Day", "new border post"]
        );
        let (_, trail) = json(app.get(&auditor, "/api/v1/audit/entries?limit=500").await).await;
        let saves = trail["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "administration.save")
            .count();
        assert_eq!(saves, 4, "{trail}");

        // A restart keeps what was changed: the stored profile is the one in use.
        let stored = app.store.current_administration().await.unwrap().unwrap();
        assert_eq!(stored.version, 4);
        let profile = administration::parse(&stored.profile).unwrap();
        assert!(
            profile.office("30K").is_some()
                && profile.codes.procedures.contains(&"4200".to_owned())
        );
    }
}
