//! `GET /api/v1/declarations/{id}/notifications` with `Accept: application/xml`: one WCO RES document per
//! declaration, checked against `WCO_RES_2_DMS.xsd` by libxml2 (lxml, `ADUANA_LXML_PYTHON`) for each lifecycle:
//! released (receipt, acceptance, tax assessment, release), examined with a control result (DMSRES), documents
//! requested, amended (DMSREQ) and cancelled, rejected (errors).

mod common;

use common::{TestApp, json, with_lrn};

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &[u8] = include_bytes!("../../wco/tests/minimal.xml");

async fn xml_notifications(app: &TestApp, token: &str, id: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/declarations/{id}/notifications",
            app.base
        ))
        .bearer_auth(token)
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    response.text().await.unwrap()
}

fn validate(documents: &[(String, String)]) {
    if test_support::hmrc_samples().is_none() {
        return;
    }
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("aduana-res-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = Vec::new();
    for (name, document) in documents {
        let path = dir.join(format!("{name}.xml"));
        std::fs::write(&path, document).unwrap();
        paths.push(path);
    }
    let verdicts = test_support::xsd_verdicts(&python, test_support::Schemas::Notification, &paths);
    assert_eq!(verdicts.len(), documents.len());
    for verdict in verdicts {
        assert!(verdict.valid, "{}: {:?}", verdict.file, verdict.error);
    }
}

#[tokio::test]
async fn res_notifications_validate_for_every_lifecycle() {
    for backend in common::backends() {
        let mut documents = Vec::new();
        // Released at once (green; deferred duties in the HMRC sample): receipt, acceptance, tax assessment, release.
        let app = TestApp::spawn_with(backend, |p| {
            p.rules = selectivity::RuleSet::parse(
                "rule X when origin = \"CN\" then red\nrule Y when origin = \"DE\" then yellow\n",
            )
            .unwrap()
        })
        .await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let officer = app.user("officer", None).await;
        let Some(samples) = test_support::hmrc_samples() else {
            return;
        };
        let sample = std::fs::read(samples.join("TT_IM001b/TT_IM001b.xml")).unwrap();
        let (status, lodged) = json(app.lodge_xml(&trader, &sample).await).await;
        assert_eq!(
            (status, lodged["status"].as_str()),
            (201, Some("released")),
            "{lodged}"
        );
        let released = xml_notifications(&app, &trader, lodged["id"].as_str().unwrap()).await;
        for code in ["02", "01", "13", "08"] {
            assert!(
                released.contains(&format!("<FunctionCode>{code}</FunctionCode>")),
                "{code}\n{released}"
            );
        }
        assert!(released.contains("<TypeCode>A00</TypeCode>"), "{released}");
        assert!(released.contains("<ID>"), "the MRN: {released}");
        documents.push(("released".to_owned(), released));

        // Examined (red), then documents requested (yellow) and cancelled.
        let cn = String::from_utf8(with_lrn(MINIMAL, "RES-RED"))
            .unwrap()
            .replace(">US<", ">CN<");
        let (_, red) = json(app.lodge_xml(&trader, cn.as_bytes()).await).await;
        let red_id = red["id"].as_str().unwrap();
        let (status, body) = json(
            app.post(
                &officer,
                &format!("/api/v1/declarations/{red_id}/control-results"),
                serde_json::json!({"result": "irregularity", "irregularity_type": "valuation",
                "additional_duty": "50.00", "remarks": "Invoice undervalued"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let examined = xml_notifications(&app, &officer, red_id).await;
        for expected in [
            "<FunctionCode>05</FunctionCode>",
            "<FunctionCode>07</FunctionCode>",
            "Irregularity: valuation.",
            "Additional duty: 50.00.",
            "Remarks: Invoice undervalued",
        ] {
            assert!(examined.contains(expected), "{expected}\n{examined}");
        }
        documents.push(("examined".to_owned(), examined));
        let de = String::from_utf8(with_lrn(MINIMAL, "RES-YELLOW"))
            .unwrap()
            .replace(">US<", ">DE<");
        let (_, yellow) = json(app.lodge_xml(&trader, de.as_bytes()).await).await;
        let id = yellow["id"].as_str().unwrap();
        // Amended while documents are requested: an accepted amendment (DMSREQ 11) naming version 2.
        let amended = de.replace("Shaver parts", "Shaver parts and blades");
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/declarations/{id}/amendments", app.base))
            .bearer_auth(&trader)
            .header("content-type", "application/xml")
            .body(amended)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "{}",
            response.text().await.unwrap()
        );
        let (status, body) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/cancellation"),
                serde_json::json!({"reason": "Sent twice."}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let cancelled = xml_notifications(&app, &trader, id).await;
        assert!(
            cancelled.contains("<FunctionCode>06</FunctionCode>"),
            "{cancelled}"
        );
        assert!(
            cancelled.contains("<FunctionCode>10</FunctionCode>"),
            "{cancelled}"
        );
        assert!(cancelled.contains("CancellationDateTime"), "{cancelled}");
        assert!(
            cancelled.contains("<FunctionCode>11</FunctionCode>")
                && cancelled.contains("<NameCode>39</NameCode>")
                && cancelled.contains("<VersionID>2</VersionID>"),
            "{cancelled}"
        );
        documents.push(("cancelled".to_owned(), cancelled));

        // Rejected: a subdivided code under a nomenclature in force.
        let strict = TestApp::spawn_with(backend, |p| {
            p.nomenclature
                .add_csv("commodity_code,description\n85109010,Blades\n85109090,Other parts\n")
                .unwrap();
            p.check_codes = true;
        })
        .await;
        let trader = strict.user("trader", Some(DECLARANT)).await;
        let (_, rejected) = json(strict.lodge_xml(&trader, MINIMAL).await).await;
        assert_eq!(rejected["status"], "rejected", "{rejected}");
        let refused = xml_notifications(&strict, &trader, rejected["id"].as_str().unwrap()).await;
        assert!(
            refused.contains("<FunctionCode>03</FunctionCode>"),
            "{refused}"
        );
        assert!(refused.contains("<ValidationCode>ADU"), "{refused}");
        assert!(
            refused.contains("assessment.commodity_code_not_leaf"),
            "{refused}"
        );
        documents.push(("rejected".to_owned(), refused));

        validate(&documents);
    }
}
