//! Cargo reports over HTTP, on SQLite and PostgreSQL: a carrier lodges CUSCAR or JSON, once per reference; the
//! report is refused with the segment or field of each fault; carriers see their own reports, officers all.

mod common;

use common::{TestApp, json};
use serde_json::Value;

const CARRIER: &str = "GB123456789000";
const CUSCAR: &str = include_str!("../../edifact/tests/messages/cuscar.edi");

async fn lodge(app: &TestApp, token: &str, media: &str, body: &str) -> (u16, Value) {
    json(
        app.client
            .post(format!("{}/api/v1/cargo-reports", app.base))
            .bearer_auth(token)
            .header("content-type", media)
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn carriers_lodge_cargo_reports_and_see_their_own() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let carrier = app.user("trader", Some(CARRIER)).await;
        let importer = app.user("trader", Some("GB603202734852")).await;
        let officer = app.user("officer", None).await;

        let (status, lodged) = lodge(&app, &carrier, "application/edifact", CUSCAR).await;
        assert_eq!(status, 201, "{lodged}");
        assert_eq!(
            (
                lodged["reference"].as_str(),
                lodged["consignments"].as_i64(),
                lodged["goods_items"].as_i64(),
                lodged["format"].as_str(),
                lodged["transport_id"].as_str()
            ),
            (
                Some("MSC-VOY-0426W"),
                Some(2),
                Some(3),
                Some("edifact"),
                Some("9839131")
            )
        );
        let id = lodged["id"].as_str().unwrap().to_owned();

        // Once per reference.
        let (status, error) = lodge(&app, &carrier, "application/edifact", CUSCAR).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("manifest.duplicate")),
            "{error}"
        );
        // Only the carrier itself lodges its report.
        let (status, error) = lodge(&app, &importer, "application/edifact", CUSCAR).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (403, Some("auth.forbidden")),
            "{error}"
        );
        // A goods item naming a container the report does not declare: refused at its GID segment.
        let broken = CUSCAR.replace("SGP+TGHU7654321'", "SGP+XXXU0000000'");
        let (status, error) = lodge(&app, &carrier, "application/edifact", &broken).await;
        assert_eq!(
            (
                status,
                error["errors"][0]["code"].as_str(),
                error["errors"][0]["pointer"].as_str()
            ),
            (422, Some("declaration.invalid_value"), Some("/segments/28")),
            "{error}"
        );
        let (status, _) = lodge(&app, &carrier, "text/plain", CUSCAR).await;
        assert_eq!(status, 415);

        // The JSON form: what the CUSCAR was read into, under another reference.
        let (_, shown) = json(
            app.get(&carrier, &format!("/api/v1/cargo-reports/{id}"))
                .await,
        )
        .await;
        let mut report = shown["report"].clone();
        assert_eq!(
            report["consignments"][0]["transport_document"], "MEDUAB123456",
            "{shown}"
        );
        report["reference"] = "MSC-VOY-0427W".into();
        let (status, lodged_json) =
            lodge(&app, &carrier, "application/json", &report.to_string()).await;
        assert_eq!(
            (status, lodged_json["format"].as_str()),
            (201, Some("json")),
            "{lodged_json}"
        );
        report["reference"] = "MSC-VOY-0428W".into();
        report["consignments"][1]["goods"][0]["gross_mass"] = "800".into();
        let (status, error) = lodge(&app, &carrier, "application/json", &report.to_string()).await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (422, Some("/consignments/1/goods/0/gross_mass")),
            "an unknown field is refused, not dropped: {error}"
        );

        // Who sees what.
        let count = |v: &Value| v["cargo_reports"].as_array().map(Vec::len);
        let (_, mine) = json(app.get(&carrier, "/api/v1/cargo-reports").await).await;
        assert_eq!(count(&mine), Some(2), "{mine}");
        assert_eq!(
            mine["cargo_reports"][0]["reference"], "MSC-VOY-0427W",
            "newest first"
        );
        let (_, theirs) = json(app.get(&importer, "/api/v1/cargo-reports").await).await;
        assert_eq!(count(&theirs), Some(0));
        let (_, all) = json(app.get(&officer, "/api/v1/cargo-reports?limit=10").await).await;
        assert_eq!(count(&all), Some(2));
        let (status, _) = json(
            app.get(&importer, &format!("/api/v1/cargo-reports/{id}"))
                .await,
        )
        .await;
        assert_eq!(status, 404, "another carrier's report does not leak");
        let (status, seen) = json(
            app.get(&officer, &format!("/api/v1/cargo-reports/{id}"))
                .await,
        )
        .await;
        assert_eq!(
            (status, seen["report"]["transport"]["name"].as_str()),
            (200, Some("MSC AURORA"))
        );
        let (status, _) = json(app.get(&officer, "/api/v1/cargo-reports?limit=0").await).await;
        assert_eq!(status, 400);
    }
}
