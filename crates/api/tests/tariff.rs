//! The public tariff over HTTP, without a token: look-up, search, the duty calculator; code checks on lodgement
//! once a nomenclature is in force; reference files imported all or nothing, on SQLite and PostgreSQL.

mod common;

use common::{TestApp, json};
use serde_json::{Value, json};

async fn public_get(app: &TestApp, path: &str) -> (u16, Value) {
    json(
        app.client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn calculate(app: &TestApp, body: Value) -> (u16, Value) {
    json(
        app.client
            .post(format!("{}/api/v1/duty-calculations", app.base))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_code_is_published_with_its_hierarchy_and_measures_in_force() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let (status, code) = public_get(&app, "/api/v1/tariff/851090?date=2026-03-01").await;
        assert_eq!(status, 200, "{code}");
        assert_eq!(
            code["description"],
            "Parts of shavers, clippers and hair-removing appliances"
        );
        let chain: Vec<&str> = code["hierarchy"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(chain, ["85", "8510", "851090"]);
        let measures: Vec<(String, String)> = code["measures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] != "relief")
            .map(|m| {
                (
                    m["tax_type"].as_str().unwrap().to_owned(),
                    m["rate_percent"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        // 85 A00 2.7 %, 851090 A00 2 % (the longer prefix), the Japanese preference, and VAT.
        assert!(
            measures.contains(&("A00".into(), "2".into())),
            "{measures:?}"
        );
        assert!(
            measures.contains(&("B00".into(), "20".into())),
            "{measures:?}"
        );
        assert_eq!(
            code["declarable"],
            Value::Null,
            "the demo nomenclature only describes"
        );

        // The heading shows its subdivisions.
        let (_, heading) = public_get(&app, "/api/v1/tariff/8510").await;
        assert_eq!(heading["subdivisions"].as_array().unwrap().len(), 4);

        // The rate in force on the date: 8703 was 10 % until 2025-12-31, 9.8 % since.
        let rate_on = |body: &Value| {
            body["measures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["tax_type"] == "A00" && m["commodity_code"] == "8703")
                .map(|m| m["rate_percent"].as_str().unwrap().to_owned())
        };
        let (_, before) = public_get(&app, "/api/v1/tariff/8703?date=2025-06-01").await;
        let (_, after) = public_get(&app, "/api/v1/tariff/8703?date=2026-06-01").await;
        assert_eq!(rate_on(&before).as_deref(), Some("10"));
        assert_eq!(rate_on(&after).as_deref(), Some("9.8"));

        // By origin: a US origin does not see the Japanese preference; no origin sees every line.
        let preferential = |body: &Value| {
            body["measures"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["origins"] == json!(["JP"]))
        };
        let (_, all) = public_get(&app, "/api/v1/tariff/851090").await;
        let (_, us) = public_get(&app, "/api/v1/tariff/851090?origin=US").await;
        assert!(preferential(&all) && !preferential(&us));

        // Errors: a bad code, an unknown one, a bad date, a bad origin.
        let (status, body) = public_get(&app, "/api/v1/tariff/85A").await;
        assert_eq!(
            (status, body["errors"][0]["code"].as_str()),
            (422, Some("declaration.invalid_commodity_code"))
        );
        let (status, body) = public_get(&app, "/api/v1/tariff/7799").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("request.not_found"))
        );
        let (status, body) = public_get(&app, "/api/v1/tariff/8510?date=2026-02-30").await;
        assert_eq!(
            (status, body["errors"][0]["pointer"].as_str()),
            (400, Some("?date"))
        );
        let (status, body) = public_get(&app, "/api/v1/tariff/8510?origin=Mars").await;
        assert_eq!(
            (status, body["errors"][0]["pointer"].as_str()),
            (400, Some("?origin"))
        );
    }
}

#[tokio::test]
async fn the_nomenclature_is_searched_by_words_or_code() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let (status, found) = public_get(&app, "/api/v1/tariff?q=Shavers").await;
        assert_eq!(status, 200);
        let codes: Vec<&str> = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes[..2], ["8510", "851010"]);
        let (_, by_code) = public_get(&app, "/api/v1/tariff?q=8510&limit=2").await;
        assert_eq!(by_code["results"].as_array().unwrap().len(), 2);
        for bad in [
            "/api/v1/tariff",
            "/api/v1/tariff?q=",
            "/api/v1/tariff?q=wine&limit=0",
            "/api/v1/tariff?q=wine&limit=101",
        ] {
            let (status, body) = public_get(&app, bad).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["errors"][0]["code"], "request.invalid_query", "{bad}");
        }
    }
}

#[tokio::test]
async fn the_duty_calculator_runs_the_assessment_without_a_token() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        // 1,000 USD at the demo rate 0.79 = 790.00 GBP; A00 2 % = 15.80; B00 20 % of 805.80 = 161.16.
        let (status, answer) = calculate(
            &app,
            json!({"commodity_code": "8510900000", "origin": "CN",
               "customs_value": {"amount": "1000", "currency": "USD"}, "date": "2026-03-01"}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let rate = tariff::demo::exchange_rates()
            .rate(&declaration::Currency::parse("USD").unwrap())
            .unwrap();
        let value = (rust_decimal::Decimal::from(1000) * rate).round_dp(2);
        assert_eq!(
            answer["customs_value"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap(),
            value
        );
        let a00 = (value * rust_decimal::Decimal::new(2, 2)).round_dp(2);
        let b00 = ((value + a00) * rust_decimal::Decimal::new(20, 2)).round_dp(2);
        assert_eq!(answer["taxes"][0]["type"], "A00");
        assert_eq!(answer["taxes"][0]["amount"], format!("{a00:.2}"));
        assert_eq!(answer["taxes"][1]["type"], "B00");
        assert_eq!(answer["taxes"][1]["amount"], format!("{b00:.2}"));
        assert_eq!(answer["total"], format!("{:.2}", a00 + b00));
        assert!(
            answer["taxes"][0]["explanation"]
                .as_str()
                .unwrap()
                .contains("851090")
        );

        // The same item as a real declaration is assessed the same way (one code for both).
        let (_, relieved) = calculate(
        &app,
        json!({"commodity_code": "8510900000", "customs_value": {"amount": "100", "currency": "GBP"},
               "additional_procedures": ["C07"]}),
    )
    .await;
        assert_eq!(relieved["taxes"][0]["amount"], "0.00");
        assert_eq!(relieved["taxes"][0]["relieved"], "2.00");

        // Bad requests name the field.
        let (status, body) = calculate(&app, json!({"commodity_code": "8510900000"})).await;
        assert_eq!(status, 422);
        assert_eq!(body["errors"][0]["code"], "request.invalid");
        let (status, body) = calculate(
        &app,
        json!({"commodity_code": "8510900000", "customs_value": {"amount": "ten", "currency": "GBP"}}),
    )
    .await;
        assert_eq!(
            (status, body["errors"][0]["pointer"].as_str()),
            (422, Some("/customs_value/amount"))
        );
        let (status, body) = calculate(
        &app,
        json!({"commodity_code": "2204210000", "customs_value": {"amount": "10", "currency": "GBP"}}),
    )
    .await;
        assert_eq!(
            (status, body["errors"][0]["pointer"].as_str()),
            (422, Some("/quantities")),
            "{body}"
        );
        let (status, body) = calculate(
        &app,
        json!({"commodity_code": "8510900000", "customs_value": {"amount": "10", "currency": "XAU"}}),
    )
    .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            body["errors"][0]["code"],
            "assessment.exchange_rate_unknown"
        );
    }
}

#[tokio::test]
async fn with_a_nomenclature_in_force_subdivided_codes_are_refused() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |pipeline| {
            pipeline
                .nomenclature
                .add_csv("commodity_code,description\n85109010,Blades\n85109090,Other parts\n")
                .unwrap();
            pipeline.check_codes = true;
        })
        .await;
        // The minimal declaration declares 85109000: 851090 now has national subdivisions.
        let trader = app.user("trader", Some("GB603202734852")).await;
        let (status, lodged) = json(
            app.lodge_xml(&trader, include_bytes!("../../wco/tests/minimal.xml"))
                .await,
        )
        .await;
        assert_eq!(status, 201, "{lodged}");
        assert_eq!(lodged["status"], "rejected", "{lodged}");
        let (_, shown) = json(
            app.get(
                &trader,
                &format!("/api/v1/declarations/{}", lodged["id"].as_str().unwrap()),
            )
            .await,
        )
        .await;
        let text = shown.to_string();
        assert!(
            text.contains("assessment.commodity_code_not_leaf"),
            "{text}"
        );
        assert!(text.contains("85109010"), "{text}");

        let (status, body) = calculate(
        &app,
        json!({"commodity_code": "8510900000", "customs_value": {"amount": "10", "currency": "GBP"}}),
    )
    .await;
        assert_eq!(
            (status, body["errors"][0]["code"].as_str()),
            (422, Some("assessment.commodity_code_not_leaf"))
        );
        let (status, _) = calculate(
        &app,
        json!({"commodity_code": "8510901000", "customs_value": {"amount": "10", "currency": "GBP"}}),
    )
    .await;
        assert_eq!(status, 200);
        let (_, code) = public_get(&app, "/api/v1/tariff/85109000").await;
        assert_eq!(code["declarable"], false);
    }
}

#[tokio::test]
async fn reference_files_are_imported_whole_or_not_at_all() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let profile = administration::demo();
        let now = time::OffsetDateTime::now_utc();
        let bad = "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,2\n85,A00,ad_valorem,two\n";
        let error = api::reference::import(
            &app.store, &profile, "measures", "bad.csv", bad, "test", now,
        )
        .await
        .unwrap_err();
        assert!(error.contains("line 3, column rate_percent"), "{error}");
        assert!(
            app.store
                .current_reference_files()
                .await
                .unwrap()
                .is_empty()
        );

        let good = "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,3\n";
        let file = api::reference::import(
            &app.store, &profile, "measures", "good.csv", good, "test", now,
        )
        .await
        .unwrap();
        assert_eq!(file.row_count, 1);
        let hs = "hscode,description,parent\n85,Electrical machinery,TOTAL\n8510,Shavers,85\n";
        api::reference::import(
            &app.store,
            &profile,
            "nomenclature",
            "hs.csv",
            hs,
            "test",
            now,
        )
        .await
        .unwrap();
        // A national layer is checked over the HS layer in force.
        let national = "commodity_code,description\n85100010,Razors\n";
        api::reference::import(
            &app.store,
            &profile,
            "national_nomenclature",
            "n.csv",
            national,
            "test",
            now,
        )
        .await
        .unwrap();
        let bad_national = "commodity_code,description,parent\n85100020,Razors,8511\n";
        assert!(
            api::reference::import(
                &app.store,
                &profile,
                "national_nomenclature",
                "n2.csv",
                bad_national,
                "test",
                now
            )
            .await
            .is_err()
        );

        let reference = api::reference::load(&app.store, &clearance::Pipeline::demo(vec![]))
            .await
            .unwrap();
        assert_eq!(reference.files.len(), 3, "{backend:?}");
        assert_eq!(reference.tariff.measures().len(), 1);
        assert!(reference.check_codes);
        assert_eq!(reference.nomenclature.len(), 3);
        assert!(
            reference
                .nomenclature
                .check("8510001000", time::macros::date!(2026 - 01 - 01))
                .is_ok()
        );
        // History is kept: stored files cannot be changed.
        let changed = sqlx::query("UPDATE reference_files SET name = 'x'")
            .execute(app.store.pool())
            .await;
        assert!(
            changed.is_err(),
            "{backend:?}: reference files must be append-only"
        );
    }
}

/// Issue 18 (begun): "what do I need to import X from Y", public, from the UK Trade Tariff's commodity files.
#[tokio::test]
async fn the_public_asks_which_documents_goods_need() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let folder = shared.join("data/uk-trade-tariff/uk/commodities");
    let mut set = lpco::Requirements::default();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        set.merge(lpco::uk::read(&text).unwrap()).unwrap();
    }
    let set = std::sync::Arc::new(set);
    for backend in common::backends() {
        let requirements = set.clone();
        let app = TestApp::spawn_with(backend, move |p| p.requirements = requirements).await;
        let ask = |query: &str| {
            let url = format!("{}/api/v1/lpco/requirements?{query}", app.base);
            let client = app.client.clone();
            async move { json(client.get(url).send().await.unwrap()).await }
        };
        let (status, answer) = ask("commodity=0102291010&origin=US&date=2026-12-01").await;
        assert_eq!(status, 200, "{answer}");
        let types: Vec<&str> = answer["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["measure_type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["410", "750"], "{answer}");
        let ched = &answer["requirements"][0]["groups"][0];
        assert_eq!(ched["ways"][0]["code"], "C640");
        assert_eq!(ched["otherwise"], "Import/export not allowed after control");
        let (_, swiss) = ask("commodity=0102291010&origin=CH").await;
        assert_eq!(swiss["requirements"], json!([]));
        let (_, export) = ask("commodity=0702000007&direction=export&destination=US").await;
        assert_eq!(export["requirements"][0]["measure_type"], "357", "{export}");
        // Lodged without the documents: rejected, each missing one named with its item; with them: accepted.
        let trader = app.user("trader", Some("GB603202734852")).await;
        let cattle = |lrn: &str, documents: Value| {
            json!({
                "function_code": "original", "lrn": lrn, "type_code": "IMA",
                "declarant": {"id": "GB603202734852"},
                "goods_shipment": {"goods_items": [{
                    "sequence_numeric": 1,
                    "classifications": [{"id": "0102291010", "identification_type_code": "TSP"}],
                    "duty_tax_fees": [{"type_code": "A00", "payment_method_code": "A"}, {"type_code": "B00", "payment_method_code": "A"}],
                    "item_charge_amount": {"value": "1000", "currency": "GBP"},
                    "origins": [{"country_code": "US", "type_code": "1"}],
                    "additional_documents": documents
                }]}
            })
        };
        let (_, refused) = json(app.lodge_json(&trader, &cattle("COW-1", json!([]))).await).await;
        assert_eq!(refused["status"], "rejected", "{refused}");
        let errors = refused["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2, "{refused}");
        assert!(errors.iter().all(|e| e["code"] == "lpco.document_missing"
            && e["pointer"] == "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/AdditionalDocument"));
        assert_eq!(
            errors[0]["message"],
            "Goods item 1 (0102291010 from US) needs C640 for Veterinary control: Import/export not allowed after control."
        );
        assert!(
            errors[1]["message"]
                .as_str()
                .unwrap()
                .contains("needs C644 or Y929 for Import control of organic products")
        );
        let documents = json!([
            {"category_code": "C", "type_code": "640", "id": "GBCHD2026.0001234"},
            {"category_code": "Y", "type_code": "929", "id": "EXEMPT"}
        ]);
        let (status, lodged) =
            json(app.lodge_json(&trader, &cattle("COW-2", documents)).await).await;
        assert_eq!(
            (status, lodged["status"].as_str()),
            (201, Some("awaiting_payment")),
            "{lodged}"
        );

        for (query, parameter) in [
            ("commodity=01x&origin=US", "?commodity"),
            ("commodity=0102291010", "?origin"),
            (
                "commodity=0102291010&origin=US&direction=sideways",
                "?direction",
            ),
            ("commodity=0102291010&origin=US&date=2026-13-01", "?date"),
        ] {
            let (status, error) = ask(query).await;
            assert_eq!(
                (
                    status,
                    error["code"].as_str(),
                    error["errors"][0]["pointer"].as_str()
                ),
                (400, Some("request.invalid_query"), Some(parameter)),
                "{query}: {error}"
            );
        }
    }
}
