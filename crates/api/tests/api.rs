//! Black-box tests of the API, each on SQLite and PostgreSQL: idempotency, bad input, access, lifecycle
//! refusals, pre-lodged declarations, the JSON twin, amendments, paging and the OpenAPI document.

mod common;

use common::{TestApp, json, with_lrn};
use serde_json::{Value, json};

const DECLARANT: &str = "GB603202734852";

fn sample(name: &str) -> Option<Vec<u8>> {
    let samples = test_support::hmrc_samples()?;
    Some(std::fs::read(samples.join(name)).unwrap())
}

async fn count(app: &TestApp, officer: &str) -> usize {
    let (_, list) = json(app.get(officer, "/api/v1/declarations?limit=500").await).await;
    list["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn the_same_document_gets_the_same_answer_and_another_under_the_same_lrn_a_conflict() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;
        let first = app.lodge_xml(&trader, &xml).await;
        assert_eq!(first.headers().get("idempotent-replayed"), None);
        let (s1, a1) = json(first).await;
        let again = app.lodge_xml(&trader, &xml).await;
        assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
        let (s2, a2) = json(again).await;
        assert_eq!((s1, &a1), (s2, &a2), "{backend:?}");
        // The same declaration as JSON means the same thing: also a replay.
        let (_, view) = json(
            app.get(
                &trader,
                &format!("/api/v1/declarations/{}", a1["id"].as_str().unwrap()),
            )
            .await,
        )
        .await;
        let (s3, a3) = json(app.lodge_json(&trader, &view["declaration"]).await).await;
        assert_eq!((s3, &a3), (s1, &a1));
        // Different content under the same LRN.
        let changed = String::from_utf8(xml.clone())
            .unwrap()
            .replace(">1000<", ">1001<");
        let (status, error) = json(app.lodge_xml(&trader, changed.as_bytes()).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("lodgement.lrn_reused")),
            "{error}"
        );
        assert_eq!(count(&app, &officer).await, 1);

        // Two identical documents at once: one declaration, two identical answers.
        let fresh = with_lrn(&xml, "CONCURRENT-1");
        let (r1, r2) = tokio::join!(
            app.lodge_xml(&trader, &fresh),
            app.lodge_xml(&trader, &fresh)
        );
        let ((s1, b1), (s2, b2)) = (json(r1).await, json(r2).await);
        assert_eq!((s1, &b1), (s2, &b2), "{backend:?}");
        assert_eq!(count(&app, &officer).await, 2);

        // Two different documents under one LRN at once: one is stored, the other is a conflict.
        let first = with_lrn(&xml, "CONCURRENT-2");
        let second = String::from_utf8(first.clone())
            .unwrap()
            .replace(">1000<", ">999<")
            .into_bytes();
        let (r1, r2) = tokio::join!(
            app.lodge_xml(&trader, &first),
            app.lodge_xml(&trader, &second)
        );
        let mut statuses = [json(r1).await.0, json(r2).await.0];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{backend:?}");
        assert_eq!(count(&app, &officer).await, 3);
    }
}

#[tokio::test]
async fn bad_input_gets_a_coded_error_with_a_pointer_and_nothing_is_stored() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    let text = String::from_utf8(xml.clone()).unwrap();
    let item = {
        let start = text.find("<GovernmentAgencyGoodsItem>").unwrap();
        let end = text.find("</GovernmentAgencyGoodsItem>").unwrap()
            + "</GovernmentAgencyGoodsItem>".len();
        text[start..end].to_owned()
    };
    let too_many = text.replacen(&item, &item.repeat(1000), 1);
    let huge = format!("{}<!--{}-->", text, "x".repeat(9 * 1024 * 1024));
    // (body, content type, status, code, pointer)
    let cases: Vec<(Vec<u8>, &str, u16, &str, &str)> = vec![
        (
            b"<MetaData><Declaration>".to_vec(),
            "application/xml",
            400,
            "xml.not_well_formed",
            "",
        ),
        (
            b"<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>".to_vec(),
            "application/xml",
            400,
            "xml.dtd_forbidden",
            "",
        ),
        (
            format!("<{}x/>", "a".repeat(10)).into_bytes(),
            "application/xml",
            400,
            "xml.wrong_envelope",
            "/aaaaaaaaaax",
        ),
        (
            b"\xff\xfe<x/>".to_vec(),
            "application/xml",
            400,
            "request.not_utf8",
            "",
        ),
        (
            text.replace("<ID>85109000</ID>", "<ID>8510X000</ID>")
                .into_bytes(),
            "application/xml",
            422,
            "declaration.invalid_commodity_code",
            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification",
        ),
        (
            text.replacen(
                "<CountryCode>US</CountryCode>",
                "<CountryCode>QQ</CountryCode>",
                1,
            )
            .into_bytes(),
            "application/xml",
            422,
            "declaration.invalid_country",
            "/MetaData/Declaration/Exporter/Address/CountryCode",
        ),
        (
            text.replace("currencyID=\"GBP\">1000", "currencyID=\"GBX\">1000")
                .into_bytes(),
            "application/xml",
            422,
            "declaration.invalid_currency",
            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine/ItemChargeAmount/@currencyID",
        ),
        (
            text.replace("<GoodsItemQuantity>1<", "<GoodsItemQuantity>2<")
                .into_bytes(),
            "application/xml",
            422,
            "declaration.goods_item_count_mismatch",
            "/MetaData/Declaration/GoodsItemQuantity",
        ),
        (
            text.replace(
                "<TypeCode>IMA</TypeCode>",
                "<TypeCode>IMA</TypeCode><Colour>red</Colour>",
            )
            .into_bytes(),
            "application/xml",
            422,
            "declaration.unexpected_element",
            "/MetaData/Declaration/Colour",
        ),
        (
            too_many.into_bytes(),
            "application/xml",
            422,
            "declaration.too_many_goods_items",
            // The schema's bound (999), at the first item past it.
            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1000]",
        ),
        (
            huge.into_bytes(),
            "application/xml",
            413,
            "request.too_large",
            "",
        ),
        (
            b"{\"function_code\": \"original\", \"lrn\": 5}".to_vec(),
            "application/json",
            422,
            "declaration.invalid_value",
            "/lrn",
        ),
        (
            b"{\"function_code\": ".to_vec(),
            "application/json",
            400,
            "json.invalid",
            "",
        ),
        (
            format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
            "application/json",
            400,
            "json.invalid",
            "",
        ),
        (
            b"lrn=1".to_vec(),
            "application/x-www-form-urlencoded",
            415,
            "request.unsupported_media_type",
            "",
        ),
    ];
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;
        for (body, content_type, status, code, pointer) in &cases {
            let response = app
                .client
                .post(format!("{}/api/v1/declarations", app.base))
                .bearer_auth(&trader)
                .header("content-type", *content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let (got, error) = json(response).await;
            assert_eq!(
                (got, error["code"].as_str().unwrap_or("")),
                (*status, *code),
                "{content_type} {error}"
            );
            assert!(
                !error["message"].as_str().unwrap_or("").is_empty(),
                "{error}"
            );
            if !pointer.is_empty() {
                let pointers: Vec<&str> = error["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["pointer"].as_str().unwrap())
                    .collect();
                assert!(
                    pointers.contains(pointer),
                    "{code}: expected {pointer} in {pointers:?}"
                );
            }
        }
        assert_eq!(count(&app, &officer).await, 0, "nothing half-stored");
        let (status, _) = json(
            app.client
                .get(format!("{}/healthz", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "the server keeps serving");
        let (status, _) = json(app.lodge_xml(&trader, &xml).await).await;
        assert_eq!(status, 201);
    }
}

#[tokio::test]
async fn access_is_denied_by_default_and_traders_see_only_their_own() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let stranger = app.user("trader", Some("GB999999999999")).await;
        let officer = app.user("officer", None).await;
        let agency = app.user("agency", None).await;
        let admin = app.user("admin", None).await;
        let (_, lodged) = json(app.lodge_xml(&trader, &xml).await).await;
        let id = lodged["id"].as_str().unwrap();
        let path = format!("/api/v1/declarations/{id}");

        let no_token = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            no_token.headers().get("www-authenticate").unwrap(),
            "Bearer"
        );
        assert_eq!(json(no_token).await.1["code"], "auth.unauthenticated");
        assert_eq!(json(app.get("not-a-token", &path).await).await.0, 401);
        assert_eq!(json(app.get(&trader, &path).await).await.0, 200);
        assert_eq!(json(app.get(&officer, &path).await).await.0, 200);
        let (status, error) = json(app.get(&stranger, &path).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (404, Some("request.not_found")),
            "another party's declaration does not exist for you"
        );
        // An agency officer reads only declarations its agency is asked about: this one does not exist for it.
        assert_eq!(json(app.get(&agency, &path).await).await.0, 404);
        assert_eq!(json(app.get(&admin, &path).await).await.0, 403);
        let (_, mine) = json(app.get(&stranger, "/api/v1/declarations").await).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 0);
        let (_, theirs) = json(app.get(&trader, "/api/v1/declarations").await).await;
        assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
        // A trader cannot record its own control result, nor lodge for another declarant.
        let (status, error) = json(
            app.post(
                &trader,
                &format!("{path}/control-results"),
                json!({"result": "no_irregularity"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (403, Some("auth.forbidden"))
        );
        let (status, _) = json(app.lodge_xml(&stranger, &with_lrn(&xml, "OTHER-1")).await).await;
        assert_eq!(status, 403);
        // Officers do not lodge; the report is for officers and administrators.
        assert_eq!(
            json(app.lodge_xml(&officer, &with_lrn(&xml, "OTHER-2")).await)
                .await
                .0,
            403
        );
        assert_eq!(
            json(app.get(&trader, "/api/v1/reports/release-times").await)
                .await
                .0,
            403
        );
        assert_eq!(
            json(app.get(&admin, "/api/v1/reports/release-times").await)
                .await
                .0,
            200
        );
        // Unknown routes are 404 with the error shape.
        let (status, error) = json(app.get(&officer, "/api/v1/nothing-here").await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (404, Some("request.not_found"))
        );
    }
}

#[tokio::test]
async fn illegal_transitions_are_refused_and_a_pre_lodged_declaration_waits_for_arrival() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    // The same goods, pre-lodged (additional type D) and routed red by a rule on their commodity code.
    let prelodged = String::from_utf8(with_lrn(&xml, "PRELODGED-1"))
        .unwrap()
        .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>");
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |pipeline| {
            pipeline.rules = selectivity::RuleSet::parse(
                "rule T1 \"test\" when commodity starts_with \"8510\" then red",
            )
            .unwrap();
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;
        let (_, lodged) = json(app.lodge_xml(&trader, prelodged.as_bytes()).await).await;
        assert_eq!(
            (lodged["status"].as_str(), lodged["lane"].as_str()),
            (Some("under_control"), Some("red")),
            "{lodged}"
        );
        let id = lodged["id"].as_str().unwrap();
        let path = |action: &str| format!("/api/v1/declarations/{id}/{action}");

        let (status, error) = json(app.post(&officer, &path("release"), json!({})).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("lifecycle.transition_not_allowed")),
            "{error}"
        );
        let (status, error) = json(
            app.post(
                &officer,
                &path("control-results"),
                json!({"result": "maybe"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (422, Some("/result"))
        );
        let (status, view) = json(
            app.post(
                &officer,
                &path("control-results"),
                json!({"result": "no_irregularity"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, view["status"].as_str()),
            (200, Some("settled")),
            "deferred duty, but the goods have not arrived"
        );
        let (status, error) = json(app.post(&officer, &path("release"), json!({})).await).await;
        assert_eq!(status, 409);
        assert!(
            error["message"].as_str().unwrap().contains("not arrived"),
            "{error}"
        );
        let (status, view) = json(
            app.post(
                &trader,
                &path("arrival"),
                json!({"reason": "Vessel berthed."}),
            )
            .await,
        )
        .await;
        assert_eq!((status, view["status"].as_str()), (200, Some("released")));
        let (status, error) = json(
            app.post(
                &trader,
                &path("cancellation"),
                json!({"reason": "Too late"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("lifecycle.transition_not_allowed"))
        );
        let (status, _) = json(app.post(&trader, &path("arrival"), json!({})).await).await;
        assert_eq!(status, 409);

        // The events tell the story, with actors and reasons.
        let (_, view) = json(
            app.get(&officer, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        let story: Vec<(String, String)> = view["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_owned(),
                    e["actor_role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected = [
            ("lodged", "trader"),
            ("accepted", "system"),
            ("lane_assigned", "system"),
            ("control_recorded", "officer"),
            ("assessed", "system"),
            ("settled", "system"),
            ("arrived", "trader"),
            ("released", "system"),
        ];
        assert_eq!(
            story,
            expected.map(|(a, b)| (a.to_owned(), b.to_owned())),
            "{backend:?}"
        );
        assert_eq!(view["selectivity"]["data"]["hits"][0]["rule"], "T1");
    }
}

#[tokio::test]
async fn cancellation_amendment_lane_override_and_payment() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    // Immediate payment (method A) instead of deferment (E).
    let immediate = String::from_utf8(with_lrn(&xml, "PAY-1"))
        .unwrap()
        .replace("<MethodCode>E</MethodCode>", "<MethodCode>A</MethodCode>");
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap()
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;

        let (_, lodged) = json(app.lodge_xml(&trader, immediate.as_bytes()).await).await;
        assert_eq!(lodged["status"], "awaiting_payment");
        let id = lodged["id"].as_str().unwrap();
        let path = |action: &str| format!("/api/v1/declarations/{id}/{action}");
        // The trader amends the price from 1000 to 500 before paying: reassessed at once.
        let amended = immediate.replace(">1000<", ">500<");
        let response = app
            .client
            .post(format!("{}{}", app.base, path("amendments")))
            .bearer_auth(&trader)
            .header("content-type", "application/xml")
            .body(amended)
            .send()
            .await
            .unwrap();
        let (status, view) = json(response).await;
        assert_eq!(
            (status, view["version"].as_i64(), view["status"].as_str()),
            (200, Some(2), Some("awaiting_payment")),
            "{view}"
        );
        let (_, view) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        assert_eq!(
            view["outstanding"], "112.00",
            "A00 2 % of 500 = 10.00; B00 20 % of 510 = 102.00"
        );
        let (status, error) = json(
            app.post(
                &officer,
                &path("payments"),
                json!({"amount": "-1", "reference": "X"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (422, Some("/amount"))
        );
        let (_, view) = json(
            app.post(
                &officer,
                &path("payments"),
                json!({"amount": "100.00", "reference": "BANK-1"}),
            )
            .await,
        )
        .await;
        assert_eq!(view["status"], "awaiting_payment");
        let (_, view) = json(
            app.post(
                &officer,
                &path("payments"),
                json!({"amount": "12.00", "reference": "BANK-2"}),
            )
            .await,
        )
        .await;
        assert_eq!(view["status"], "released");

        // An officer overrides a green lane to red, with a reason; the trader then cancels.
        let (_, second) = json(app.lodge_xml(&trader, &with_lrn(&xml, "LANE-1")).await).await;
        assert_eq!(
            second["status"], "released",
            "deferred and green: released at once"
        );
        let pre = String::from_utf8(with_lrn(&xml, "LANE-2"))
            .unwrap()
            .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>");
        let (_, third) = json(app.lodge_xml(&trader, pre.as_bytes()).await).await;
        assert_eq!(third["status"], "settled");
        let third_path = |action: &str| {
            format!(
                "/api/v1/declarations/{}/{action}",
                third["id"].as_str().unwrap()
            )
        };
        let (status, error) = json(
            app.post(
                &officer,
                &third_path("lane"),
                json!({"lane": "red", "reason": ""}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (422, Some("/reason"))
        );
        let (status, view) = json(
            app.post(
                &officer,
                &third_path("lane"),
                json!({"lane": "red", "reason": "Intelligence report 42."}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, view["status"].as_str(), view["lane"].as_str()),
            (200, Some("under_control"), Some("red"))
        );
        let (status, error) = json(
            app.post(&trader, &third_path("cancellation"), json!({}))
                .await,
        )
        .await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (422, Some("/reason"))
        );
        let (status, view) = json(
            app.post(
                &trader,
                &third_path("cancellation"),
                json!({"reason": "Order cancelled by the buyer."}),
            )
            .await,
        )
        .await;
        assert_eq!((status, view["status"].as_str()), (200, Some("cancelled")));
        let (_, notes) = json(app.get(&trader, &third_path("notifications")).await).await;
        let kinds: Vec<&str> = notes["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "receipt",
                "acceptance",
                "tax_assessment",
                "control",
                "cancellation"
            ]
        );
    }
}

#[tokio::test]
async fn lists_are_filtered_and_cursor_paged() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        for n in 0..7 {
            let (status, _) = json(
                app.lodge_xml(&trader, &with_lrn(&xml, &format!("PAGE-{n}")))
                    .await,
            )
            .await;
            assert_eq!(status, 201);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("/api/v1/declarations?limit=3&cursor={c}"),
                None => "/api/v1/declarations?limit=3".to_owned(),
            };
            let (_, page) = json(app.get(&trader, &query).await).await;
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["lrn"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(
            seen,
            (0..7)
                .rev()
                .map(|n| format!("PAGE-{n}"))
                .collect::<Vec<_>>()
        );
        let (_, released) = json(
            app.get(
                &trader,
                "/api/v1/declarations?status=released&lane=green&from=2000-01-01T00:00:00Z",
            )
            .await,
        )
        .await;
        let green = released["items"].as_array().unwrap().len();
        let (_, all) = json(
            app.get(&trader, "/api/v1/declarations?to=2000-01-01T00:00:00Z")
                .await,
        )
        .await;
        assert_eq!(all["items"].as_array().unwrap().len(), 0);
        assert!(
            green >= 5,
            "most of the seven go green at a 3 % random rate"
        );
        for bad in [
            "status=flying",
            "lane=purple",
            "from=yesterday",
            "limit=0",
            "limit=100000",
            "cursor=abc",
        ] {
            let (status, error) = json(
                app.get(&trader, &format!("/api/v1/declarations?{bad}"))
                    .await,
            )
            .await;
            assert_eq!(
                (status, error["code"].as_str()),
                (400, Some("request.invalid_query")),
                "{bad}"
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes_and_metrics_are_served() {
    let app = TestApp::spawn(common::Backend::Sqlite).await;
    let (status, document) = json(
        app.client
            .get(format!("{}/api/v1/openapi.json", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        document["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let mut documented = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
        {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    let mut routed: Vec<String> = api::policy::table()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed, "openapi.json and the routes disagree");
    // Every status value and error code the API can answer is documented.
    let statuses: Vec<&str> = document["components"]["schemas"]["Status"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for status in workflow::Status::ALL {
        assert!(
            statuses.contains(&status.as_str()),
            "{status:?} not documented"
        );
    }
    // Every reference resolves: the schemas are those of the types the handlers name.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", Value::String(target)) => out.push(target),
                        _ => refs(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    refs(&document, &mut targets);
    assert!(targets.len() > 100, "{} references", targets.len());
    for target in targets {
        let name = target.trim_start_matches("#/components/schemas/");
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{target} is not defined"
        );
    }
    // The JSON twin is described field by field, from the declaration model itself.
    let twin = &document["components"]["schemas"]["Declaration"];
    for field in ["function_code", "lrn", "type_code", "goods_shipment"] {
        assert!(
            twin["properties"][field].is_object(),
            "Declaration.{field}: {twin}"
        );
    }
    if let Some(path) = std::env::var_os("ADUANA_WRITE_OPENAPI") {
        std::fs::write(path, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    }
    let codes: Vec<&str> = document["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for code in error_table::ErrorCode::ALL {
        assert!(
            codes.contains(&code.code()),
            "{} not documented",
            code.code()
        );
    }

    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("aduana_http_requests_total{method=\"GET\",route=\"/api/v1/openapi.json\",status=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("# TYPE aduana_http_request_duration_seconds histogram"));
    let (_, codes) = json(
        app.client
            .get(format!("{}/api/v1/error-codes", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        codes["codes"].as_array().unwrap().len(),
        error_table::ErrorCode::ALL.len()
    );
    let _: Value = codes;
}

#[tokio::test]
async fn the_json_example_of_the_documentation_is_lodged_and_assessed() {
    let doc = include_str!("../../../docs/json-twin.md");
    let start = doc.find("```json").unwrap() + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    let example: Value = serde_json::from_str(&doc[start..end]).unwrap();
    let app = TestApp::spawn_with(common::Backend::Sqlite, |p| {
        p.rules = selectivity::RuleSet::parse("").unwrap()
    })
    .await;
    let trader = app.user("trader", Some(DECLARANT)).await;
    let (status, answer) = json(app.lodge_json(&trader, &example).await).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (201, Some("released")),
        "{answer}"
    );
    let (_, view) = json(
        app.get(
            &trader,
            &format!("/api/v1/declarations/{}", answer["id"].as_str().unwrap()),
        )
        .await,
    )
    .await;
    assert_eq!(
        view["assessment"]["totals"],
        json!([{"type": "A00", "amount": "20.00"}, {"type": "B00", "amount": "204.00"}])
    );
    // A wrong field is refused with its JSON pointer.
    let mut bad = example.clone();
    bad["goods_shipment"]["goods_items"][0]["origins"][0]["country_code"] = json!("ZZZ");
    let (status, error) = json(app.lodge_json(&trader, &bad).await).await;
    assert_eq!(
        (status, error["errors"][0]["pointer"].as_str()),
        (
            422,
            Some("/goods_shipment/goods_items/0/origins/0/country_code")
        ),
        "{error}"
    );
    let mut bad = example;
    bad["colour"] = json!("red");
    let (status, error) = json(app.lodge_json(&trader, &bad).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (422, Some("declaration.invalid_value")),
        "{error}"
    );
}

/// 64 concurrent clients lodge, retry (10 %) and send duplicates of other clients' documents (5 %): every
/// declaration is stored exactly once, and every answer for one LRN is the same answer.
#[tokio::test]
async fn concurrent_lodgements_with_retries_and_duplicates_are_stored_exactly_once() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    const CLIENTS: usize = 64;
    const EACH: usize = 8;
    for backend in common::backends() {
        let app = std::sync::Arc::new(TestApp::spawn(backend).await);
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let (app, trader, xml) = (app.clone(), trader.clone(), xml.clone());
            tasks.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for n in 0..EACH {
                    // Deterministic choice of what to send: own new document, a retry of it, or another's.
                    let pick = (client * 31 + n * 17) % 100;
                    let lrn = if pick < 5 {
                        format!("MANY-{}-{n}", (client + 1) % CLIENTS)
                    } else {
                        format!("MANY-{client}-{n}")
                    };
                    let body = with_lrn(&xml, &lrn);
                    let times = if pick >= 90 { 2 } else { 1 };
                    for _ in 0..times {
                        let (status, answer) = json(app.lodge_xml(&trader, &body).await).await;
                        answers.push((lrn.clone(), status, answer));
                    }
                }
                answers
            }));
        }
        let mut by_lrn: std::collections::HashMap<String, Vec<(u16, Value)>> =
            std::collections::HashMap::new();
        let mut sent = 0;
        for task in tasks {
            for (lrn, status, answer) in task.await.unwrap() {
                sent += 1;
                by_lrn.entry(lrn).or_default().push((status, answer));
            }
        }
        for (lrn, answers) in &by_lrn {
            assert!(
                answers.iter().all(|a| a == &answers[0]),
                "{lrn}: different answers {answers:?}"
            );
            assert_eq!(answers[0].0, 201, "{lrn}: {:?}", answers[0]);
        }
        let mut stored = 0;
        let mut cursor: Option<String> = None;
        loop {
            let query = cursor
                .as_ref()
                .map_or("/api/v1/declarations?limit=500".to_owned(), |c| {
                    format!("/api/v1/declarations?limit=500&cursor={c}")
                });
            let (_, page) = json(app.get(&officer, &query).await).await;
            stored += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(
            stored,
            by_lrn.len(),
            "{backend:?}: {sent} requests, {} distinct declarations",
            by_lrn.len()
        );
        assert!(sent > by_lrn.len(), "the mix must contain repeats");
    }
}

/// Where `value` does not fit `schema` of the generated document: a field the schema does not declare, a
/// required field missing, a string where the schema says a number. Follows `$ref`, `allOf` and `oneOf`.
fn misfits(document: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.trim_start_matches("#/components/schemas/");
        return misfits(
            document,
            &document["components"]["schemas"][name],
            value,
            at,
            out,
        );
    }
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let fits = choices.iter().any(|choice| {
            let mut found = Vec::new();
            misfits(document, choice, value, at, &mut found);
            found.is_empty()
        });
        if !fits {
            out.push(format!("{at}: fits none of {} choices", choices.len()));
        }
        return;
    }
    if let Some(parts) = schema["allOf"].as_array() {
        // The parts together declare the object's fields.
        let mut merged = serde_json::Map::new();
        let mut required = Vec::new();
        for part in parts {
            let part = match part["$ref"].as_str() {
                Some(t) => {
                    &document["components"]["schemas"]
                        [t.trim_start_matches("#/components/schemas/")]
                }
                None => part,
            };
            if let Some(p) = part["properties"].as_object() {
                merged.extend(p.clone());
            }
            if let Some(r) = part["required"].as_array() {
                required.extend(r.clone());
            }
        }
        let whole = json!({"type": "object", "properties": merged, "required": required});
        return misfits(document, &whole, value, at, out);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    if !allowed {
        out.push(format!("{at}: {kind} where the schema says {types:?}"));
        return;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        out.push(format!("{at}: {value} is not one of the documented values"));
    }
    match value {
        Value::Object(fields) if schema["properties"].is_object() => {
            let declared = schema["properties"].as_object().unwrap();
            for (name, inner) in fields {
                match declared.get(name) {
                    Some(field) => misfits(document, field, inner, &format!("{at}/{name}"), out),
                    None if schema["additionalProperties"] == Value::Bool(false)
                        || !schema["additionalProperties"].is_object() =>
                    {
                        out.push(format!("{at}/{name}: not in the schema"))
                    }
                    None => {}
                }
            }
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !fields.contains_key(name) {
                    out.push(format!("{at}/{name}: required by the schema, missing"));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                misfits(document, &schema["items"], item, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn answers_fit_the_schemas_the_document_generates_for_them() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let (_, document) = json(app.get("", "/api/v1/openapi.json").await).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;
        let schema_of = |path: &str, method: &str, status: &str| {
            let content = &document["paths"][path][method]["responses"][status]["content"];
            content["application/json"]["schema"].clone()
        };
        let check = |what: &str, schema: Value, value: &Value| {
            assert!(!schema.is_null(), "{what}: no schema");
            let mut out = Vec::new();
            misfits(&document, &schema, value, "", &mut out);
            assert!(
                out.is_empty(),
                "{backend:?} {what} does not fit its schema: {out:#?}\n{value}"
            );
        };
        let (status, lodged) = json(app.lodge_xml(&trader, &xml).await).await;
        assert_eq!(status, 201);
        check(
            "the lodgement's answer",
            schema_of("/api/v1/declarations", "post", "201"),
            &lodged,
        );
        let id = lodged["id"].as_str().unwrap();
        let (_, view) = json(
            app.get(&officer, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        check(
            "a declaration",
            schema_of("/api/v1/declarations/{id}", "get", "200"),
            &view,
        );
        let (_, page) = json(app.get(&officer, "/api/v1/declarations").await).await;
        check(
            "a page",
            schema_of("/api/v1/declarations", "get", "200"),
            &page,
        );
        let (_, told) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}/notifications"))
                .await,
        )
        .await;
        check(
            "notifications",
            schema_of("/api/v1/declarations/{id}/notifications", "get", "200"),
            &told,
        );
        let (_, versions) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}/versions"))
                .await,
        )
        .await;
        check(
            "versions",
            schema_of("/api/v1/declarations/{id}/versions", "get", "200"),
            &versions,
        );
        let (_, codes) = json(app.get("", "/api/v1/error-codes").await).await;
        check(
            "the error table",
            schema_of("/api/v1/error-codes", "get", "200"),
            &codes,
        );
        let (status, error) = json(app.get(&officer, "/api/v1/declarations/none").await).await;
        assert_eq!(status, 404);
        check(
            "an error",
            json!({"$ref": "#/components/schemas/Error"}),
            &error,
        );
        // The check itself catches a field the schema does not declare, a missing one, a wrong type.
        for (change, expected) in [
            ("an undeclared field", "/bogus: not in the schema"),
            (
                "a missing field",
                "/status: required by the schema, missing",
            ),
            (
                "a number for a string",
                "/lrn: integer where the schema says",
            ),
        ] {
            let mut wrong = view.clone();
            match change {
                "an undeclared field" => wrong["bogus"] = json!(1),
                "a missing field" => {
                    wrong.as_object_mut().unwrap().remove("status");
                }
                _ => wrong["lrn"] = json!(7),
            }
            let mut out = Vec::new();
            misfits(
                &document,
                &schema_of("/api/v1/declarations/{id}", "get", "200"),
                &wrong,
                "",
                &mut out,
            );
            assert!(
                out.iter().any(|o| o.starts_with(expected)),
                "{change}: {out:?}"
            );
        }
        // The JSON twin the reader took is what the document says it takes.
        check(
            "the JSON twin",
            json!({"$ref": "#/components/schemas/Declaration"}),
            &view["declaration"],
        );
    }
}
