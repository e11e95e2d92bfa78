//! Function code 13 messages over HTTP, on SQLite and PostgreSQL: a WCO invalidation (INV) sent to
//! `…/cancellation` cancels the declaration it names, a goods presentation (GPR) sent to `…/arrival` notifies the
//! arrival of a pre-lodged one; the message must name the declaration's own MRN and be of the right type, and the
//! event records the message's reference, change reason and text. Lodging one as a new declaration is refused.

mod common;

use common::{TestApp, json, with_lrn};

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &[u8] = include_bytes!("../../wco/tests/minimal.xml");
const INVALIDATION: &str = include_str!("../../wco/tests/invalidation.xml");

async fn post_xml(app: &TestApp, token: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    json(
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn naming(message: &str, mrn: &str) -> String {
    message.replace("25GB53T2CGAY90LAA1", mrn)
}

#[tokio::test]
async fn invalidations_and_goods_presentations_act_on_the_declaration_they_name() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules =
                selectivity::RuleSet::parse("rule Y when origin = \"DE\" then yellow\n").unwrap()
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let other = app.user("trader", Some("GB123456789000")).await;

        // A function code 13 message is not lodged as a declaration.
        let (status, error) = json(app.lodge_xml(&trader, INVALIDATION.as_bytes()).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (422, Some("declaration.unsupported_function_code")),
            "{error}"
        );

        // Yellow: documents requested; the trader sends a WCO invalidation instead.
        let de = String::from_utf8(with_lrn(MINIMAL, "FC13-YELLOW"))
            .unwrap()
            .replace(">US<", ">DE<");
        let (_, lodged) = json(app.lodge_xml(&trader, de.as_bytes()).await).await;
        let id = lodged["id"].as_str().unwrap();
        let mrn = lodged["mrn"].as_str().unwrap();
        let cancellation = format!("/api/v1/declarations/{id}/cancellation");

        let cases: Vec<(String, u16, &str, &str)> = vec![
            // Another declaration's MRN.
            (
                INVALIDATION.to_owned(),
                422,
                "request.invalid",
                "/MetaData/Declaration/ID",
            ),
            // A correction is not an invalidation.
            (
                naming(INVALIDATION, mrn).replace(">INV<", ">COR<"),
                422,
                "declaration.unsupported_type",
                "/MetaData/Declaration/TypeCode",
            ),
            // A declaration is not a message.
            (
                String::from_utf8(MINIMAL.to_vec()).unwrap(),
                422,
                "declaration.unsupported_function_code",
                "/MetaData/Declaration/FunctionCode",
            ),
            // A reason longer than the schema allows (an..512): refused at the message's text, not cut.
            (
                naming(INVALIDATION, mrn).replace("Lodged twice by mistake", &"x".repeat(1100)),
                422,
                "declaration.invalid_value",
                "/MetaData/Declaration/AdditionalInformation/StatementDescription",
            ),
            // No reason.
            (
                naming(INVALIDATION, mrn).replace(">AES<", ">ABC<"),
                422,
                "declaration.missing_element",
                "/MetaData/Declaration/AdditionalInformation/StatementDescription",
            ),
        ];
        for (body, want_status, code, pointer) in &cases {
            let (status, error) = post_xml(&app, &trader, &cancellation, body).await;
            assert_eq!(
                (
                    status,
                    error["code"].as_str(),
                    error["errors"][0]["pointer"].as_str()
                ),
                (*want_status, Some(*code), Some(*pointer)),
                "{error}"
            );
        }
        // Another trader does not learn that the declaration exists.
        let (status, _) = post_xml(&app, &other, &cancellation, &naming(INVALIDATION, mrn)).await;
        assert_eq!(status, 404);

        let (status, view) =
            post_xml(&app, &trader, &cancellation, &naming(INVALIDATION, mrn)).await;
        assert_eq!(
            (status, view["status"].as_str()),
            (200, Some("cancelled")),
            "{view}"
        );
        let (_, shown) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        let reasons: Vec<&str> = shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["reason"].as_str())
            .collect();
        assert!(
            reasons.contains(&"Invalidation CANCEL-1 (change reason 1): Lodged twice by mistake"),
            "{reasons:#?}"
        );

        // Pre-lodged (IMD): waits for the goods; a goods presentation (GPR) naming it notifies their arrival.
        let prelodged = String::from_utf8(with_lrn(MINIMAL, "FC13-PRELODGED"))
            .unwrap()
            .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>");
        let (_, lodged) = json(app.lodge_xml(&trader, prelodged.as_bytes()).await).await;
        let id = lodged["id"].as_str().unwrap();
        let mrn = lodged["mrn"].as_str().unwrap();
        let (_, shown) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        assert_eq!(shown["arrived"], false, "{shown}");
        let presentation = naming(INVALIDATION, mrn)
            .replace(">INV<", ">GPR<")
            .replace("CANCEL-1", "ARRIVED-1")
            .replace("Lodged twice by mistake", "Presented at Dover")
            .replace(
                "<Amendment><ChangeReasonCode>1</ChangeReasonCode></Amendment>",
                "",
            );
        let arrival = format!("/api/v1/declarations/{id}/arrival");
        let (status, error) = post_xml(&app, &trader, &arrival, &naming(INVALIDATION, mrn)).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (422, Some("declaration.unsupported_type")),
            "an invalidation is not an arrival: {error}"
        );
        let (status, view) = post_xml(&app, &trader, &arrival, &presentation).await;
        assert_eq!(status, 200, "{view}");
        let (_, shown) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        assert_eq!(shown["arrived"], true, "{shown}");
        assert!(
            shown["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["type"] == "arrived"
                    && e["reason"] == "Goods presentation ARRIVED-1: Presented at Dover"),
            "{shown}"
        );
    }
}
