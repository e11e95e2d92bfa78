//! Function code 13 corrections (COR) over HTTP, on SQLite and PostgreSQL: `POST …/corrections` applies the
//! correction to the current version and stores the result as a new version (the correction kept as received),
//! assessed again; its JSON twin does the same; a pointer that does not resolve is refused at the pointer, and a
//! correction after the declaration has left the statuses an amendment is allowed in is refused naming the pointer.

mod common;

use common::{TestApp, json, with_lrn};
use serde_json::Value;

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &[u8] = include_bytes!("../../wco/tests/minimal.xml");
const CORRECTION: &str = include_str!("../../wco/tests/correction.xml");

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    json(
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A declaration held for documents (a yellow lane), so that it waits and can be corrected.
async fn lodged(app: &TestApp, trader: &str, lrn: &str) -> (String, String) {
    let xml = String::from_utf8(with_lrn(MINIMAL, lrn))
        .unwrap()
        .replace(">US<", ">DE<");
    let (status, lodged) = json(app.lodge_xml(trader, xml.as_bytes()).await).await;
    assert_eq!(status, 201, "{lodged}");
    (
        lodged["id"].as_str().unwrap().to_owned(),
        lodged["mrn"].as_str().unwrap().to_owned(),
    )
}

fn total(view: &Value, tax: &str) -> String {
    view["assessment"]["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == tax)
        .map(|t| t["amount"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_correction_is_applied_as_a_new_version_and_assessed_again() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules =
                selectivity::RuleSet::parse("rule Y when origin = \"DE\" then yellow\n").unwrap()
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let (id, mrn) = lodged(&app, &trader, "COR-XML").await;
        let path = format!("/api/v1/declarations/{id}");
        let (_, before) = json(app.get(&trader, &path).await).await;
        let duty_before: rust_decimal::Decimal = total(&before, "A00").parse().unwrap();

        let correction = CORRECTION.replace("25GB53T2CGAY90LAA1", &mrn);
        let (status, answer) = post(
            &app,
            &trader,
            &format!("{path}/corrections"),
            "application/xml",
            correction.clone(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");

        let (_, after) = json(app.get(&trader, &path).await).await;
        let item = &after["declaration"]["goods_shipment"]["goods_items"][0];
        assert_eq!(item["item_charge_amount"]["value"], "2000", "{after}");
        // The element the model keeps rather than interprets came with the correction.
        assert!(
            after["declaration"]["kept"].to_string().contains("1234"),
            "{after}"
        );
        // Assessed again: the duty follows the doubled price.
        let duty_after: rust_decimal::Decimal = total(&after, "A00").parse().unwrap();
        assert_eq!(
            duty_after,
            duty_before * rust_decimal::Decimal::TWO,
            "{after}"
        );

        // A new version, the correction kept as received.
        let (_, versions) = json(app.get(&trader, &format!("{path}/versions")).await).await;
        assert_eq!(
            versions["versions"].as_array().unwrap().len(),
            2,
            "{versions}"
        );
        let received = app
            .client
            .get(format!("{}{path}/versions/2", app.base))
            .bearer_auth(&trader)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(received, correction);

        // The JSON twin of a correction: the message's own form, read back from the XML.
        let wco::Message::Additional(message) =
            wco::read_message(correction.as_bytes(), &wco::Limits::default()).unwrap()
        else {
            panic!()
        };
        let mut twin = serde_json::to_value(&*message).unwrap();
        twin["goods_shipment"]["goods_items"][0]["item_charge_amount"]["value"] = "3000".into();
        let (status, answer) = post(
            &app,
            &trader,
            &format!("{path}/corrections"),
            "application/json",
            twin.to_string(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let (_, after) = json(app.get(&trader, &path).await).await;
        assert_eq!(
            after["declaration"]["goods_shipment"]["goods_items"][0]["item_charge_amount"]["value"],
            "3000"
        );
        let audit = app.store.verify_audit(vec![], &[]).await.unwrap();
        assert!(audit.is_ok(), "{audit:?}");
    }
}

#[tokio::test]
async fn a_correction_that_cannot_be_applied_is_refused_at_its_pointer() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules =
                selectivity::RuleSet::parse("rule Y when origin = \"DE\" then yellow\n").unwrap()
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let (id, mrn) = lodged(&app, &trader, "COR-BAD").await;
        let path = format!("/api/v1/declarations/{id}/corrections");
        let correction = CORRECTION.replace("25GB53T2CGAY90LAA1", &mrn);
        let cases = [
            // Goods item 2 is not in the correction.
            (
                correction.replacen(
                    "<Pointer><SequenceNumeric>1</SequenceNumeric><DocumentSectionCode>68A</DocumentSectionCode></Pointer>",
                    "<Pointer><SequenceNumeric>2</SequenceNumeric><DocumentSectionCode>68A</DocumentSectionCode></Pointer>",
                    1,
                ),
                422,
                "declaration.pointer_unresolved",
                "/MetaData/Declaration/Amendment[1]/Pointer[3]",
            ),
            // Another declaration's MRN.
            (
                CORRECTION.to_owned(),
                422,
                "request.invalid",
                "/MetaData/Declaration/ID",
            ),
            // A correction changing the declarant.
            (
                correction.replace(
                    "<GoodsShipment>",
                    "<Declarant><ID>GB123456789000</ID></Declarant><GoodsShipment>",
                ),
                422,
                "request.invalid",
                "/MetaData/Declaration/Declarant",
            ),
        ];
        for (body, want, code, pointer) in cases {
            let (status, error) = post(&app, &trader, &path, "application/xml", body).await;
            assert_eq!(
                (
                    status,
                    error["code"].as_str(),
                    error["errors"][0]["pointer"].as_str()
                ),
                (want, Some(code), Some(pointer)),
                "{error}"
            );
        }
        // Nothing was stored by the refusals.
        let (_, versions) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}/versions"))
                .await,
        )
        .await;
        assert_eq!(
            versions["versions"].as_array().unwrap().len(),
            1,
            "{versions}"
        );

        // Cancelled: a correction is no longer accepted, and the refusal names the pointer.
        let (status, _) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/cancellation"),
                serde_json::json!({"reason": "Sent twice"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        let (status, error) = post(&app, &trader, &path, "application/xml", correction).await;
        assert_eq!(
            (
                status,
                error["code"].as_str(),
                error["errors"][0]["pointer"].as_str()
            ),
            (
                409,
                Some("lifecycle.transition_not_allowed"),
                Some("/MetaData/Declaration/Amendment[1]/Pointer")
            ),
            "{error}"
        );
    }
}
