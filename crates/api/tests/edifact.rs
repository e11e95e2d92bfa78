//! Lodging a CUSDEC interchange over HTTP (`Content-Type: application/edifact`): the same outcome as the XML, the
//! answer as CUSRES when asked for, broken interchanges refused with the segment of the fault.

mod common;

use common::{TestApp, json};

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &str = include_str!("../../edifact/tests/messages/minimal.edi");

async fn post(app: &TestApp, token: &str, body: &str, accept: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/declarations", app.base))
        .bearer_auth(token)
        .header("content-type", "application/edifact")
        .header("accept", accept)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cusdec_is_lodged_and_answered_with_cusres() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap()
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;

        let response = post(&app, &trader, MINIMAL, "application/edifact").await;
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/edifact"
        );
        let cusres = response.text().await.unwrap();
        let interchange =
            edifact::syntax::read(cusres.as_bytes(), &edifact::syntax::Limits::default())
                .unwrap_or_else(|e| panic!("{cusres}\n{e:?}"));
        let message = &interchange.messages[0];
        assert_eq!(message.message_type, "CUSRES");
        let bgm = &message.segments[1];
        assert_eq!(bgm.get(3, 1), "29", "{cusres}");
        let mrn = message
            .segments
            .iter()
            .find(|s| s.tag == "RFF" && s.get(1, 1) == "ABT")
            .map(|s| s.get(1, 2).to_owned())
            .unwrap_or_else(|| panic!("no MRN: {cusres}"));
        assert!(declaration::Mrn::parse(&mrn).is_ok(), "{mrn}");
        let gis = message.segments.iter().find(|s| s.tag == "GIS").unwrap();
        assert_eq!(
            (gis.get(1, 1), gis.get(1, 2)),
            ("awaiting_payment", "green"),
            "{cusres}"
        );

        // The same interchange again: the same answer, as JSON when JSON is asked for.
        let (status, body) = json(post(&app, &trader, MINIMAL, "application/json").await).await;
        assert_eq!(
            (status, body["mrn"].as_str()),
            (201, Some(mrn.as_str())),
            "{body}"
        );
        let id = body["id"].as_str().unwrap().to_owned();
        let (_, full) = json(
            app.get(&trader, &format!("/api/v1/declarations/{id}"))
                .await,
        )
        .await;
        assert_eq!(full["declaration"]["lrn"], "MINIMAL-1", "{full}");

        // A wrong segment count: 400 with the code and the segment.
        let broken = MINIMAL.replace("UNT+9+M1", "UNT+7+M1");
        let (status, body) = json(post(&app, &trader, &broken, "application/edifact").await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "edifact.control_mismatch", "{body}");
        assert_eq!(body["errors"][0]["pointer"], "/segments/10/elements/1");
    }
}
