//! Cargo reports joined to declarations over HTTP, on SQLite and PostgreSQL (issue 20, part 3): a container ship's
//! report of 51 consignments, 50 of them pre-lodged by the importer (HMRC's TT_IM001b, each with its own DUCR and
//! container); the vessel's one arrival notification arrives and releases all 50; the consignment nobody declared
//! is named by the reconciliation once its temporary storage deadline passed, and a declaration declaring fewer
//! packages than reported is named as a discrepancy; another carrier cannot notify the arrival.

mod browser;
mod common;

use common::{TestApp, json, with_lrn};
use serde_json::{Value, json};

const DECLARANT: &str = "GB603202734852";
const CARRIER: &str = "GB123456789000";
const DECLARED: usize = 50;

fn sample(name: &str) -> Option<Vec<u8>> {
    let samples = test_support::hmrc_samples()?;
    Some(std::fs::read(samples.join(name)).unwrap())
}

fn ducr(k: usize) -> String {
    format!("6GB553202734852-V{k:03}")
}

fn container(k: usize) -> String {
    format!("MSCU{k:07}")
}

/// The vessel's report: consignment `k` (0-based) under bill of lading MEDU…, its DUCR, 50 packages of 150 kg in
/// its own container; the last consignment is declared by nobody; consignment 7 reports 40 packages.
fn report() -> Value {
    let consignments: Vec<Value> = (0..=DECLARED)
        .map(|k| {
            json!({
                "sequence": k + 1,
                "transport_document": format!("MEDU{k:08}"),
                "ucr": ducr(k),
                "goods": [{
                    "sequence": 1,
                    "package_count": if k == 7 { 40 } else { 50 },
                    "package_kind": "BX",
                    "gross_mass_kg": "150",
                    "equipment": [container(k)],
                }],
            })
        })
        .collect();
    let equipment: Vec<Value> = (0..=DECLARED)
        .map(|k| json!({"id": container(k), "seals": [format!("SEAL{k}")]}))
        .collect();
    json!({
        "reference": "MSC-VOY-0612E",
        "carrier": {"id": CARRIER, "name": "Ocean Carrier Ltd"},
        "transport": {"mode_code": "1", "id": "9839131", "name": "MSC OSCAR"},
        "arrival": "202612060800",
        "place_of_arrival": "GBFXT",
        "equipment": equipment,
        "consignments": consignments,
    })
}

async fn post_report(app: &TestApp, token: &str, report: &Value) -> (u16, Value) {
    json(
        app.client
            .post(format!("{}/api/v1/cargo-reports", app.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(report.to_string())
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_vessels_arrival_releases_every_pre_lodged_declaration_of_its_consignments() {
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    let xml = String::from_utf8(xml).unwrap();
    for backend in common::backends() {
        // Temporary storage of no days: whatever is not discharged on arrival is overdue at once.
        // No random selection: every declaration is green, released once its goods arrive.
        let app = TestApp::spawn_with(backend, |pipeline| {
            pipeline.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
            std::sync::Arc::make_mut(&mut pipeline.administration)
                .deadlines
                .temporary_storage_days = 0;
        })
        .await;
        let carrier = app.user("trader", Some(CARRIER)).await;
        let importer = app.user("trader", Some(DECLARANT)).await;
        let stranger = app.user("trader", Some("GB000000000009")).await;
        let officer = app.user("officer", None).await;
        let auditor = app.user("auditor", None).await;

        let (status, lodged) = post_report(&app, &carrier, &report()).await;
        assert_eq!(status, 201, "{lodged}");
        let report_id = lodged["id"].as_str().unwrap().to_owned();

        // The importer pre-lodges (IMD) one declaration per consignment: its DUCR and its container.
        let mut ids = Vec::new();
        for k in 0..DECLARED {
            let one = xml
                .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>")
                .replace("1GB553202734852-12345", &ducr(k))
                .replace("<ID>AD12345</ID>", &format!("<ID>{}</ID>", container(k)));
            let (status, declaration) = json(
                app.lodge_xml(
                    &importer,
                    &with_lrn(one.as_bytes(), &format!("VOY0612-{k}")),
                )
                .await,
            )
            .await;
            assert_eq!(status, 201, "{declaration}");
            assert_ne!(declaration["status"], "released", "{declaration}");
            ids.push(declaration["id"].as_str().unwrap().to_owned());
        }

        // Before arrival: declared, none discharged, no arrival.
        let path = format!("/api/v1/cargo-reports/{report_id}/consignments");
        let (status, before) = json(app.get(&officer, &path).await).await;
        assert_eq!(status, 200, "{before}");
        assert!(before.get("arrival").is_none(), "{before}");
        let discharges = |v: &Value| -> Vec<String> {
            v["consignments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["discharge"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut expected = vec!["declared".to_owned(); DECLARED];
        expected.push("undeclared".to_owned());
        assert_eq!(discharges(&before), expected);
        assert_eq!(
            before["consignments"][3]["declarations"][0]["id"], ids[3],
            "{before}"
        );
        assert_eq!(
            before["consignments"][3]["declarations"][0]["matched_by"], "ucr",
            "the DUCR names it before its container does"
        );

        // Goods not released cannot leave.
        let exit = format!("/api/v1/declarations/{}/exit", ids[0]);
        let (status, error) = json(app.post(&officer, &exit, json!({})).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("lifecycle.transition_not_allowed")),
            "{error}"
        );

        // Another carrier neither sees the report nor notifies its arrival; the importer neither.
        let arrival = format!("/api/v1/cargo-reports/{report_id}/arrival");
        for token in [&stranger, &importer] {
            let (status, error) = json(app.post(token, &arrival, json!({})).await).await;
            assert_eq!(
                (status, error["code"].as_str()),
                (404, Some("request.not_found")),
                "{error}"
            );
        }
        let (status, error) = json(
            app.post(&carrier, &arrival, json!({"place": "x".repeat(71)}))
                .await,
        )
        .await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (422, Some("/place")),
            "{error}"
        );

        // One notification for the vessel: every declaration arrived, and released.
        let (status, arrived) = json(
            app.post(
                &carrier,
                &arrival,
                json!({"reason": "MSC OSCAR berthed at Felixstowe."}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{arrived}");
        assert_eq!(arrived["arrival"]["recorded_now"], true, "{arrived}");
        assert_eq!(arrived["arrival"]["place"], "GBFXT");
        let mut expected = vec!["discharged".to_owned(); DECLARED];
        expected.push("undeclared".to_owned());
        assert_eq!(discharges(&arrived), expected, "{arrived}");
        for id in &ids {
            let (_, shown) = json(
                app.get(&importer, &format!("/api/v1/declarations/{id}"))
                    .await,
            )
            .await;
            assert_eq!(
                (shown["status"].as_str(), shown["arrived"].as_bool()),
                (Some("released"), Some(true)),
                "{shown}"
            );
            assert!(
                shown["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["type"] == "arrived"
                        && e["reason"] == "MSC OSCAR berthed at Felixstowe."),
                "{shown}"
            );
        }
        // The carrier sees how its consignments stand, but not the importer's declarations.
        let first = &arrived["consignments"][0];
        assert_eq!(
            (
                first["declaration_count"].as_u64(),
                first["declarations"].as_array().map(Vec::len)
            ),
            (Some(1), Some(0)),
            "{first}"
        );
        let (_, seen) = json(app.get(&officer, &path).await).await;
        assert_eq!(
            seen["consignments"][0]["declarations"][0]["status"],
            "released"
        );
        assert_eq!(
            seen["consignments"][7]["discrepancies"],
            json!([{"kind": "packages", "reported": 40, "declared": 50}]),
            "{seen}"
        );
        assert_eq!(seen["consignments"][8]["discrepancies"], json!([]));

        // Gate-out: the first consignment's goods leave temporary storage, once; the trader is told, and the Time
        // Release Study measures release to exit. Only officers confirm it.
        let (status, _) = json(app.post(&importer, &exit, json!({})).await).await;
        assert_eq!(status, 403);
        let (status, gone) = json(
            app.post(
                &officer,
                &exit,
                json!({"reason": "Gate-out at Felixstowe, truck AB12 CDE."}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, gone["status"].as_str()),
            (200, Some("released")),
            "{gone}"
        );
        let (_, shown) = json(
            app.get(&importer, &format!("/api/v1/declarations/{}", ids[0]))
                .await,
        )
        .await;
        assert_eq!(shown["exited"], true, "{shown}");
        let (status, error) = json(app.post(&officer, &exit, json!({})).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("lifecycle.transition_not_allowed")),
            "{error}"
        );
        assert!(
            error["message"].as_str().unwrap().contains("already"),
            "{error}"
        );
        let (_, notices) = json(
            app.get(
                &importer,
                &format!("/api/v1/declarations/{}/notifications", ids[0]),
            )
            .await,
        )
        .await;
        assert!(notices.to_string().contains("\"exit\""), "{notices}");
        app.store.ledger().await.unwrap().verify().unwrap();
        let (_, study) = json(app.get(&officer, "/api/v1/reports/release-times").await).await;
        let stages: Vec<(String, u64)> = study["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["stages"].as_array().unwrap().iter())
            .filter(|s| s["stage"].as_str().unwrap().ends_with("_to_exit"))
            .map(|s| {
                (
                    s["stage"].as_str().unwrap().to_owned(),
                    s["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            stages,
            [
                ("release_to_exit".to_owned(), 1),
                ("lodgement_to_exit".to_owned(), 1)
            ],
            "{study}"
        );

        // Once per voyage: a second notification records nothing new.
        let (status, again) = json(app.post(&officer, &arrival, json!({})).await).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["arrival"]["recorded_now"], false);
        assert_eq!(
            again["arrival"]["arrived_at"],
            arrived["arrival"]["arrived_at"]
        );
        assert_eq!(
            again["consignments"][0]["declarations"][0]["outcome"], "already_released",
            "{again}"
        );

        // The reconciliation names the undeclared consignment, overdue, and the discrepancy.
        let (status, reconciled) = json(
            app.get(&auditor, "/api/v1/reports/cargo-reconciliation")
                .await,
        )
        .await;
        assert_eq!(status, 200, "{reconciled}");
        assert_eq!(
            (
                reconciled["reports"].as_u64(),
                reconciled["consignments"].as_u64(),
                reconciled["discharged"].as_u64(),
                reconciled["undeclared"].as_u64(),
                reconciled["overdue"].as_u64(),
                reconciled["with_discrepancies"].as_u64(),
            ),
            (Some(1), Some(51), Some(50), Some(1), Some(1), Some(1)),
            "{reconciled}"
        );
        let lines = reconciled["lines"].as_array().unwrap();
        let named: Vec<(u64, bool, &str)> = lines
            .iter()
            .map(|l| {
                (
                    l["sequence"].as_u64().unwrap(),
                    l["overdue"].as_bool().unwrap(),
                    l["transport_document"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            named,
            vec![(8, false, "MEDU00000007"), (51, true, "MEDU00000050")],
            "{reconciled}"
        );
        // A period the arrival is not in holds nothing; a bad period is refused with its parameter.
        let (_, empty) = json(
            app.get(
                &officer,
                "/api/v1/reports/cargo-reconciliation?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            )
            .await,
        )
        .await;
        assert_eq!(empty["consignments"], 0, "{empty}");
        let (status, error) = json(
            app.get(
                &officer,
                "/api/v1/reports/cargo-reconciliation?from=yesterday",
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, error["errors"][0]["pointer"].as_str()),
            (400, Some("?from")),
            "{error}"
        );
        // The arrival and the report's read are in the audit trail.
        let (_, entries) = json(app.get(&auditor, "/api/v1/audit/entries?limit=1000").await).await;
        let actions: Vec<&str> = entries["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "manifest.arrival").count(),
            1,
            "{actions:?}"
        );
    }
}

/// The portal's arrivals page: the carrier sees its report with the form, notifies the vessel's arrival (a place
/// too long refused at its field, in Spanish), and reads its consignments; an officer reads the report's
/// consignments with their declarations and the temporary storage reconciliation; each through the API's handlers.
#[tokio::test]
async fn carriers_notify_arrivals_and_officers_read_temporary_storage_in_the_portal() {
    use browser::{hidden_csrf, linked, portal_user, session};
    use reqwest::header;
    let Some(xml) = sample("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    let xml = String::from_utf8(xml).unwrap();
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |pipeline| {
            pipeline.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
        })
        .await;
        let carrier = app.user("trader", Some(CARRIER)).await;
        let importer = app.user("trader", Some(DECLARANT)).await;
        portal_user(&app, "Cara Carrier", "trader", Some(CARRIER), "cara").await;
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        let mut small = report();
        small["consignments"] =
            Value::Array(small["consignments"].as_array().unwrap()[..2].to_vec());
        small["equipment"] = Value::Array(small["equipment"].as_array().unwrap()[..2].to_vec());
        let (status, lodged) = post_report(&app, &carrier, &small).await;
        assert_eq!(status, 201, "{lodged}");
        let report_id = lodged["id"].as_str().unwrap().to_owned();
        let one = xml
            .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>")
            .replace("1GB553202734852-12345", &ducr(0));
        let (_, declaration) = json(
            app.lodge_xml(&importer, &with_lrn(one.as_bytes(), "PORTAL-0"))
                .await,
        )
        .await;
        let mrn = declaration["mrn"].as_str().unwrap().to_owned();

        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let get = async |cookie: &str, path: &str| {
            client
                .get(format!("{}{path}", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let cara = session(&app, &client, "cara").await;
        let html = get(&cara, "/portal/arrivals").await;
        assert!(
            html.contains("MSC-VOY-0612E") && html.contains(&format!("id=\"arrive-{report_id}\"")),
            "{html}"
        );
        let csrf = hidden_csrf(&html);
        let action = format!("{}/portal/arrivals/{report_id}/arrival", app.base);
        let too_long = client
            .post(&action)
            .header(header::COOKIE, &cara)
            .header(header::ORIGIN, &app.base)
            .header(header::ACCEPT_LANGUAGE, "es")
            .form(&[("csrf", csrf.as_str()), ("place", &"x".repeat(71))])
            .send()
            .await
            .unwrap();
        assert_eq!(too_long.status(), 422);
        let html = too_long.text().await.unwrap();
        assert_eq!(linked(&html), [format!("place-{report_id}")], "{html}");
        assert!(html.contains("lang=\"es\""), "{html}");
        let arrived = client
            .post(&action)
            .header(header::COOKIE, &cara)
            .header(header::ORIGIN, &app.base)
            .form(&[("csrf", csrf.as_str()), ("place", "GBFXT berth 7")])
            .send()
            .await
            .unwrap();
        assert_eq!(arrived.status(), 303);
        let to = arrived.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let html = get(&cara, &to).await;
        assert!(
            html.contains("Arrival notified")
                && !html.contains(&format!("id=\"arrive-{report_id}\"")),
            "{html}"
        );
        // The carrier sees that one declaration names its first consignment, not which.
        assert!(
            html.contains("<th scope=\"row\">MEDU00000000</th><td>6GB553202734852-V000</td><td class=\"discharge\">discharged</td><td>1</td>"),
            "{html}"
        );
        assert!(!html.contains(&mrn), "{html}");
        let olga = session(&app, &client, "olga").await;
        let html = get(&olga, &format!("/portal/arrivals?report={report_id}")).await;
        assert!(
            html.contains(&format!(
                "<td class=\"discharge\">discharged</td><td>{mrn}</td>"
            )),
            "{html}"
        );
        assert!(
            html.contains("2 consignments arrived: 1 discharged, 0 declared, 1 undeclared; 0 overdue, 0 with discrepancies."),
            "{html}"
        );
        let (_, shown) = json(
            app.get(
                &importer,
                &format!(
                    "/api/v1/declarations/{}",
                    declaration["id"].as_str().unwrap()
                ),
            )
            .await,
        )
        .await;
        assert_eq!(shown["status"], "released", "{shown}");

        // The officer at the gate records the goods leaving, once, from the declaration's page.
        let declaration_id = declaration["id"].as_str().unwrap();
        let page = format!("/portal/declarations/{declaration_id}");
        let html = get(&olga, &page).await;
        assert!(html.contains("id=\"exit\""), "{html}");
        let csrf_olga = hidden_csrf(&html);
        let gone = client
            .post(format!("{}{page}/exit", app.base))
            .header(header::COOKIE, &olga)
            .header(header::ORIGIN, &app.base)
            .form(&[("csrf", csrf_olga.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 303);
        let to = gone.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let html = get(&olga, &to).await;
        assert!(
            html.contains("The goods are recorded as having left the customs area.")
                && !html.contains("id=\"exit\"")
                && html.contains("Left the customs area"),
            "{html}"
        );
        // The carrier has no such form.
        let html = get(&cara, &page).await;
        assert!(!html.contains("id=\"exit\""));
    }
}
