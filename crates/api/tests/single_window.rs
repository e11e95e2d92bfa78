//! Issue 18, end to end over HTTP on SQLite and PostgreSQL: an agency and its document type registered, the UK
//! Trade Tariff's requirements for live cattle in use; a trader's import from the US without the CHED-A (C640)
//! refused naming the document and the agency; the trader applies, the agency approves, declarations citing the
//! issued reference draw on its balance until it is exhausted, the next is refused with the balance named, and a
//! cancellation gives back what its declaration drew. The agency's feed carries every event once, in order.

mod browser;
mod common;

use common::{TestApp, json};
use serde_json::{Value, json};

const TRADER: &str = "GB603202734852";
const OTHER: &str = "GB000000000009";

fn cattle(lrn: &str, kg: u32, origin: &str, documents: Value) -> Value {
    json!({
        "function_code": "original", "lrn": lrn, "type_code": "IMA",
        "declarant": {"id": TRADER},
        "goods_shipment": {"goods_items": [{
            "sequence_numeric": 1,
            "classifications": [{"id": "0102291010", "identification_type_code": "TSP"}],
            "duty_tax_fees": [{"type_code": "A00", "payment_method_code": "A"}, {"type_code": "B00", "payment_method_code": "A"}],
            "item_charge_amount": {"value": "1000", "currency": "GBP"},
            "net_mass_kg": kg.to_string(),
            "origins": [{"country_code": origin, "type_code": "1"}],
            "additional_documents": documents
        }]}
    })
}

fn citing(reference: &str) -> Value {
    json!([
        {"category_code": "C", "type_code": "640", "id": reference, "lpco_exemption_code": "AE"},
        {"category_code": "Y", "type_code": "929", "id": "EXEMPT"}
    ])
}

/// The requirements of the UK Trade Tariff's file for 0102291010 (live bovine animals).
fn uk_cattle() -> Option<lpco::Requirements> {
    let shared = test_support::shared_dir()?;
    let text =
        std::fs::read_to_string(shared.join("data/uk-trade-tariff/uk/commodities/0102291010.json"))
            .unwrap();
    let mut set = lpco::Requirements::default();
    set.merge(lpco::uk::read(&text).unwrap()).unwrap();
    Some(set)
}

#[tokio::test]
async fn an_agency_issues_a_certificate_and_declarations_draw_on_it_until_exhausted() {
    let Some(set) = uk_cattle() else {
        return;
    };
    let set = std::sync::Arc::new(set);
    for backend in common::backends() {
        let requirements = set.clone();
        let app = TestApp::spawn_with(backend, move |p| p.requirements = requirements).await;
        let admin = app.user("admin", None).await;
        for (code, name) in [
            ("VET", "Animal and Plant Health Agency"),
            ("PLANT", "Plant Health Service"),
        ] {
            let (status, saved) = json(
                app.put(
                    &admin,
                    &format!("/api/v1/agencies/{code}"),
                    json!({"name": name}),
                )
                .await,
            )
            .await;
            assert_eq!(status, 200, "{saved}");
        }
        let vet = app.user("agency", Some("VET")).await;
        let plant = app.user("agency", Some("PLANT")).await;
        let ched = json!({
            "agency": "VET", "kind": "certificate", "title": "CHED-A", "validity_days": 30, "balance_unit": "KGM",
            "fields": [{"name": "establishment", "label": "Establishment of origin", "required": true}]
        });
        // Another agency may not keep VET's types; the administration or VET may.
        let (status, refused) = json(
            app.put(&plant, "/api/v1/lpco/types/C640", ched.clone())
                .await,
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("lpco.other_agency")),
            "{refused}"
        );
        let (status, saved) = json(app.put(&vet, "/api/v1/lpco/types/C640", ched).await).await;
        assert_eq!(status, 200, "{saved}");
        let (_, registry) = json(
            app.client
                .get(format!("{}/api/v1/agencies", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let vet_entry = registry["agencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == "VET")
            .unwrap();
        assert_eq!(vet_entry["documents"][0]["code"], "C640", "{registry}");

        // Without the certificate: refused, naming it and its agency.
        let trader = app.user("trader", Some(TRADER)).await;
        let (_, refused) = json(
            app.lodge_json(
                &trader,
                &cattle(
                    "COW-0",
                    1000,
                    "US",
                    json!([{"category_code": "Y", "type_code": "929"}]),
                ),
            )
            .await,
        )
        .await;
        assert_eq!(refused["status"], "rejected", "{refused}");
        assert_eq!(refused["errors"][0]["code"], "lpco.document_missing");
        assert_eq!(
            refused["errors"][0]["message"],
            "Goods item 1 (0102291010 from US) needs C640 for Veterinary control (agency VET): Import/export not allowed after control."
        );

        // The application: an unknown code and a form lacking its field are refused, nothing stored.
        let apply = |body: Value| {
            let app = &app;
            let trader = trader.clone();
            async move { json(app.post(&trader, "/api/v1/lpco/applications", body).await).await }
        };
        let (status, refused) =
            apply(json!({"document_code": "C999", "commodity": "0102291010"})).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("lpco.unknown_type")),
            "{refused}"
        );
        let (status, refused) = apply(json!({"document_code": "C640", "commodity": "0102291010", "origin": "US", "quantity": "3000", "unit": "KGM"})).await;
        assert_eq!(
            (status, refused["errors"][0]["pointer"].as_str()),
            (422, Some("/fields/establishment")),
            "{refused}"
        );
        let (status, application) = apply(json!({
            "document_code": "C640", "commodity": "0102291010", "origin": "US", "quantity": "3000", "unit": "KGM",
            "fields": {"establishment": "US-TX-0042"}
        }))
        .await;
        assert_eq!(status, 201, "{application}");
        let id = application["id"].as_str().unwrap().to_owned();
        assert_eq!(application["agency"], "VET");

        // VET's queue has it; PLANT's does not, and PLANT may not decide it.
        let (_, queue) = json(app.get(&vet, "/api/v1/agency/queue").await).await;
        assert_eq!(queue["applications"][0]["id"], id.as_str(), "{queue}");
        let (_, other) = json(app.get(&plant, "/api/v1/agency/queue").await).await;
        assert_eq!(other["applications"], json!([]));
        let decisions = format!("/api/v1/lpco/applications/{id}/decisions");
        let (status, refused) = json(
            app.post(&plant, &decisions, json!({"decision": "approve"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("lpco.other_agency")),
            "{refused}"
        );
        let (status, refused) = json(
            app.post(&vet, &decisions, json!({"decision": "reject"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, refused["errors"][0]["pointer"].as_str()),
            (422, Some("/reasons")),
            "{refused}"
        );
        let (status, decided) = json(
            app.post(&vet, &decisions, json!({"decision": "approve"}))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{decided}");
        let reference = decided["licence"]["reference"].as_str().unwrap().to_owned();
        assert!(
            reference.starts_with("VET-20") && reference.ends_with("-000001"),
            "{reference}"
        );
        let (status, again) = json(
            app.post(&vet, &decisions, json!({"decision": "approve"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, again["code"].as_str()),
            (409, Some("lpco.application_closed")),
            "{again}"
        );
        // The trader sees its application decided; another trader sees nothing of it.
        let (_, mine) = json(
            app.get(&trader, &format!("/api/v1/lpco/applications/{id}"))
                .await,
        )
        .await;
        assert_eq!(mine["status"], "approved", "{mine}");
        let stranger = app.user("trader", Some(OTHER)).await;
        let (status, _) = json(
            app.get(&stranger, &format!("/api/v1/lpco/applications/{id}"))
                .await,
        )
        .await;
        assert_eq!(status, 404);

        // Three declarations of 1,000 kg each draw the 3,000 kg down; the fourth is refused with the balance named.
        let mut ids = Vec::new();
        for n in 1..=3 {
            let (status, lodged) = json(
                app.lodge_json(
                    &trader,
                    &cattle(&format!("COW-{n}"), 1000, "US", citing(&reference)),
                )
                .await,
            )
            .await;
            assert_eq!(status, 201, "{lodged}");
            assert_ne!(lodged["status"], "rejected", "{lodged}");
            ids.push(lodged["id"].as_str().unwrap().to_owned());
        }
        let licence_path = format!("/api/v1/lpco/licences/C640/{reference}");
        let (_, licence) = json(app.get(&trader, &licence_path).await).await;
        assert_eq!(
            (licence["drawn"].as_str(), licence["left"].as_str()),
            (Some("3000"), Some("0")),
            "{licence}"
        );
        let (_, refused) = json(
            app.lodge_json(&trader, &cattle("COW-4", 1000, "US", citing(&reference)))
                .await,
        )
        .await;
        assert_eq!(refused["status"], "rejected", "{refused}");
        assert_eq!(
            refused["errors"][0]["code"], "lpco.balance_exceeded",
            "{refused}"
        );
        assert_eq!(
            refused["errors"][0]["pointer"],
            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/AdditionalDocument[1]"
        );
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("has 0 KGM left, less than the 1000 KGM declared"),
            "{refused}"
        );

        // Another party may not cite it; goods from elsewhere are not covered; an unknown reference is named.
        let mut theirs = cattle("COW-X", 10, "US", citing(&reference));
        theirs["declarant"]["id"] = json!(OTHER);
        let (_, refused) = json(app.lodge_json(&stranger, &theirs).await).await;
        assert_eq!(refused["errors"][0]["code"], "lpco.not_holder", "{refused}");
        let (_, refused) = json(
            app.lodge_json(&trader, &cattle("COW-FR", 10, "FR", citing(&reference)))
                .await,
        )
        .await;
        assert_eq!(
            refused["errors"][0]["code"], "lpco.goods_not_covered",
            "{refused}"
        );
        let (_, refused) = json(
            app.lodge_json(
                &trader,
                &cattle("COW-NONE", 10, "US", citing("VET-1999-000009")),
            )
            .await,
        )
        .await;
        assert_eq!(refused["errors"][0]["code"], "lpco.unknown", "{refused}");
        let mut applied = citing(&reference);
        applied[0]["lpco_exemption_code"] = json!("LP");
        let (_, refused) = json(
            app.lodge_json(&trader, &cattle("COW-LP", 10, "US", applied))
                .await,
        )
        .await;
        assert_eq!(refused["errors"][0]["code"], "lpco.not_issued", "{refused}");
        // A certificate in force only from next month is not in force today.
        let (_, later) = json(app.post(&trader, "/api/v1/lpco/applications", json!({
            "document_code": "C640", "commodity": "0102291010", "origin": "US", "quantity": "500", "unit": "KGM",
            "fields": {"establishment": "US-TX-0042"}
        })).await).await;
        let next_month =
            (time::OffsetDateTime::now_utc().date() + time::Duration::days(31)).to_string();
        let (status, issued) = json(
            app.post(
                &vet,
                &format!(
                    "/api/v1/lpco/applications/{}/decisions",
                    later["id"].as_str().unwrap()
                ),
                json!({"decision": "approve", "valid_from": next_month}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{issued}");
        let not_yet = issued["licence"]["reference"].as_str().unwrap().to_owned();
        let (_, refused) = json(
            app.lodge_json(&trader, &cattle("COW-LATER", 10, "US", citing(&not_yet)))
                .await,
        )
        .await;
        assert_eq!(
            refused["errors"][0]["code"], "lpco.not_in_force",
            "{refused}"
        );
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("is in force from {next_month}")),
            "{refused}"
        );

        // A cancellation gives back its 1,000 kg: a fifth declaration then draws them.
        let (status, cancelled) = json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{}/cancellation", ids[0]),
                json!({"reason": "The cattle were not shipped."}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, cancelled["status"].as_str()),
            (200, Some("cancelled")),
            "{cancelled}"
        );
        let (_, licence) = json(app.get(&vet, &licence_path).await).await;
        assert_eq!(licence["left"], "1000", "{licence}");
        let (_, lodged) = json(
            app.lodge_json(&trader, &cattle("COW-5", 1000, "US", citing(&reference)))
                .await,
        )
        .await;
        assert_ne!(lodged["status"], "rejected", "{lodged}");
        // Nobody but its holder, its agency and customs sees the document.
        let (status, _) = json(app.get(&stranger, &licence_path).await).await;
        assert_eq!(status, 404);
        let (status, _) = json(app.get(&plant, &licence_path).await).await;
        assert_eq!(status, 404);

        // VET's feed: every event once, in order; read again after `next`, nothing more. PLANT's is empty.
        let (status, feed) = json(app.get(&vet, "/api/v1/agency/feed?after=0").await).await;
        assert_eq!(status, 200, "{feed}");
        let topics: Vec<&str> = feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["topic"].as_str().unwrap())
            .collect();
        assert_eq!(
            topics,
            [
                "application.filed",
                "application.decided",
                "declaration.lodged",
                "declaration.lodged",
                "declaration.lodged",
                "application.filed",
                "application.decided",
                "declaration.cancelled",
                "declaration.lodged"
            ],
            "{feed}"
        );
        let positions: Vec<i64> = feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_i64().unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        let next = feed["next"].as_i64().unwrap();
        let (_, rest) = json(
            app.get(&vet, &format!("/api/v1/agency/feed?after={next}"))
                .await,
        )
        .await;
        assert_eq!(rest["events"], json!([]));
        let (_, split) = json(
            app.get(
                &vet,
                &format!("/api/v1/agency/feed?after={}&limit=2", positions[1]),
            )
            .await,
        )
        .await;
        assert_eq!(split["events"][0]["topic"], "declaration.lodged", "{split}");
        let (_, theirs) = json(app.get(&plant, "/api/v1/agency/feed").await).await;
        assert_eq!(theirs["events"], json!([]));
        let (status, bad) = json(app.get(&vet, "/api/v1/agency/feed?after=-1").await).await;
        assert_eq!(
            (status, bad["errors"][0]["pointer"].as_str()),
            (400, Some("?after")),
            "{bad}"
        );
    }
}

/// A document type whose absence holds the declaration for its agency instead of refusing it: accepted, release
/// waits for the agency (named on the declaration and in its queue), the agency alone may decide, and its release
/// lifts the hold; the feed tells it.
#[tokio::test]
async fn a_missing_document_can_hold_the_declaration_for_its_agency() {
    let Some(set) = uk_cattle() else {
        return;
    };
    let set = std::sync::Arc::new(set);
    for backend in common::backends() {
        let requirements = set.clone();
        let app = TestApp::spawn_with(backend, move |p| p.requirements = requirements).await;
        let admin = app.user("admin", None).await;
        for code in ["VET", "ORG"] {
            let (status, _) = json(
                app.put(
                    &admin,
                    &format!("/api/v1/agencies/{code}"),
                    json!({"name": code}),
                )
                .await,
            )
            .await;
            assert_eq!(status, 200);
        }
        // Organic products: C644 (or the waiver Y929); lacking it holds the declaration for ORG.
        let (status, saved) = json(app.put(&admin, "/api/v1/lpco/types/C644", json!({
            "agency": "ORG", "kind": "certificate", "title": "Certificate of inspection for organic products",
            "validity_days": 30, "when_missing": "hold"
        })).await).await;
        assert_eq!(status, 200, "{saved}");
        let org = app.user("agency", Some("ORG")).await;
        let vet = app.user("agency", Some("VET")).await;
        let trader = app.user("trader", Some(TRADER)).await;
        let officer = app.user("officer", None).await;
        // The CHED-A is cited (VET registered no type: its reference is not checked); the C644 is missing.
        let documents =
            json!([{"category_code": "C", "type_code": "640", "id": "GBCHD2026.0001234"}]);
        let (_, lodged) = json(
            app.lodge_json(&trader, &cattle("HOLD-1", 100, "US", documents))
                .await,
        )
        .await;
        assert_ne!(lodged["status"], "rejected", "{lodged}");
        let id = lodged["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/declarations/{id}");
        let (_, shown) = json(app.get(&trader, &path).await).await;
        assert_eq!(
            shown["awaiting_agencies"],
            json!({"ORG": "awaited"}),
            "{shown}"
        );
        let (_, queue) = json(app.get(&org, "/api/v1/agency/queue").await).await;
        assert_eq!(
            queue["declarations"][0]["declaration_id"],
            id.as_str(),
            "{queue}"
        );
        assert!(
            queue["declarations"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("needs C644 or Y929"),
            "{queue}"
        );
        // ORG sees the declaration; VET, not asked, does not, and may not decide.
        let (status, _) = json(app.get(&org, &path).await).await;
        assert_eq!(status, 200);
        let (status, _) = json(app.get(&vet, &path).await).await;
        assert_eq!(status, 404);
        let decisions = format!("{path}/agency-decisions");
        let (status, _) = json(
            app.post(&vet, &decisions, json!({"decision": "released"}))
                .await,
        )
        .await;
        assert_eq!(status, 404);
        // Customs cannot release past the agency.
        let (status, refused) = json(
            app.post(&officer, &format!("{path}/release"), json!({}))
                .await,
        )
        .await;
        assert_eq!(status, 409, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("agency ORG has not decided"),
            "{refused}"
        );
        // A hold for inspection needs its reason; then release lifts it.
        let (status, bad) = json(
            app.post(&org, &decisions, json!({"decision": "held_for_inspection"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, bad["errors"][0]["pointer"].as_str()),
            (422, Some("/reason")),
            "{bad}"
        );
        let (status, held) = json(
            app.post(
                &org,
                &decisions,
                json!({"decision": "held_for_inspection", "reason": "Sampling for residues."}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, &held["awaiting_agencies"]),
            (200, &json!({"ORG": "held_for_inspection"})),
            "{held}"
        );
        let (status, released) = json(
            app.post(&org, &decisions, json!({"decision": "released"}))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{released}");
        assert!(released.get("awaiting_agencies").is_none(), "{released}");
        let (status, again) = json(
            app.post(&org, &decisions, json!({"decision": "released"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, again["code"].as_str()),
            (409, Some("lifecycle.transition_not_allowed")),
            "{again}"
        );
        // Paid at the counter: customs' conditions hold too, and the goods are released.
        let (_, shown) = json(app.get(&officer, &path).await).await;
        assert_eq!(shown["status"], "awaiting_payment", "{shown}");
        let (_, orders) = json(app.get(&trader, &format!("{path}/notifications")).await).await;
        let due = orders["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["type"] == "payment_request")
            .unwrap()["detail"]["amount"]
            .clone();
        let (status, paid) = json(
            app.post(
                &officer,
                &format!("{path}/payments"),
                json!({"amount": due, "reference": "CTR-1"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, paid["status"].as_str()),
            (200, Some("released")),
            "{paid}"
        );
        // The Time Release Study by agency: ORG's request to decision and to release.
        let (status, study) = json(
            app.get(&officer, "/api/v1/reports/release-times?group_by=agency")
                .await,
        )
        .await;
        assert_eq!(status, 200, "{study}");
        assert_eq!(study["groups"][0]["group"], "ORG", "{study}");
        let stages: Vec<&str> = study["groups"][0]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stage"].as_str().unwrap())
            .collect();
        assert!(
            stages.contains(&"agency_request_to_decision")
                && stages.contains(&"agency_request_to_release"),
            "{stages:?}"
        );
        // The officers' indicators give ORG's times too: a chart, its table and the CSV.
        browser::portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = browser::session(&app, &client, "olga").await;
        let portal = async |path: &str| {
            client
                .get(format!("{}{path}", app.base))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = portal("/portal/kpis").await;
        assert!(
            html.contains("id=\"agencies-chart\"")
                && html.contains("<tr><th scope=\"row\">ORG</th><td class=\"amount\">1</td>"),
            "{html}"
        );
        let csv = portal("/portal/kpis.csv?table=agencies").await;
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[1].starts_with("ORG,1,"), "{csv}");
        // The trader was told each step; ORG's feed has the hold and the decisions.
        let (_, notices) = json(app.get(&trader, &format!("{path}/notifications")).await).await;
        let types: Vec<&str> = notices["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert!(
            types.contains(&"agency_hold")
                && types.iter().filter(|t| **t == "agency_decision").count() == 2,
            "{types:?}"
        );
        let (_, feed) = json(app.get(&org, "/api/v1/agency/feed").await).await;
        let topics: Vec<&str> = feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["topic"].as_str().unwrap())
            .collect();
        assert_eq!(
            topics,
            [
                "declaration.awaiting",
                "declaration.agency_decided",
                "declaration.agency_decided",
                "declaration.released"
            ],
            "{feed}"
        );
    }
}

/// Documents: accepted by their content (a PDF; an executable refused; a PNG sent as a PDF refused), stored once
/// by SHA-256, attached to an application only by their uploader, and read by the uploader and the agency the
/// application goes to — nobody else.
#[tokio::test]
async fn documents_are_typed_by_content_stored_once_and_read_by_those_entitled() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.user("admin", None).await;
        for code in ["VET", "PLANT"] {
            json(
                app.put(
                    &admin,
                    &format!("/api/v1/agencies/{code}"),
                    json!({"name": code}),
                )
                .await,
            )
            .await;
        }
        let (status, _) = json(
            app.put(
                &admin,
                "/api/v1/lpco/types/C640",
                json!({
                    "agency": "VET", "kind": "certificate", "title": "CHED-A", "validity_days": 30
                }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        // A webhook needs the key its posts are signed with, long enough.
        let hook = |key: Value| json!({"name": "Hooked", "delivery": {"by": "webhook", "url": "https://agency.example/hook"}, "webhook_secret": key});
        let (status, refused) = json(
            app.put(&admin, "/api/v1/agencies/HOOK", hook(Value::Null))
                .await,
        )
        .await;
        assert_eq!(
            (status, refused["errors"][0]["pointer"].as_str()),
            (422, Some("/webhook_secret")),
            "{refused}"
        );
        let (status, refused) = json(
            app.put(&admin, "/api/v1/agencies/HOOK", hook(json!("short")))
                .await,
        )
        .await;
        assert_eq!(
            (status, refused["errors"][0]["pointer"].as_str()),
            (422, Some("/webhook_secret")),
            "{refused}"
        );
        let (status, saved) = json(
            app.put(&admin, "/api/v1/agencies/HOOK", hook(json!("k".repeat(40))))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{saved}");
        assert!(
            saved.get("webhook_secret").is_none(),
            "the key is never shown"
        );
        let trader = app.user("trader", Some(TRADER)).await;
        let stranger = app.user("trader", Some(OTHER)).await;
        let vet = app.user("agency", Some("VET")).await;
        let plant = app.user("agency", Some("PLANT")).await;
        let upload = |token: &str, content_type: &str, bytes: Vec<u8>| {
            let request = app
                .client
                .post(format!("{}/api/v1/documents", app.base))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(bytes);
            async move { json(request.send().await.unwrap()).await }
        };
        let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
        let (status, stored) = upload(&trader, "application/pdf", pdf.clone()).await;
        assert_eq!(
            (status, stored["media_type"].as_str()),
            (201, Some("application/pdf")),
            "{stored}"
        );
        let sha256 = stored["sha256"].as_str().unwrap().to_owned();
        let (status, again) = upload(&trader, "application/octet-stream", pdf.clone()).await;
        assert_eq!(
            (status, again["sha256"].as_str()),
            (200, Some(sha256.as_str())),
            "stored once"
        );
        let (status, refused) = upload(
            &trader,
            "application/pdf",
            b"MZ\x90\x00 an executable".to_vec(),
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (415, Some("document.type_not_accepted")),
            "{refused}"
        );
        let (status, refused) = upload(
            &trader,
            "application/pdf",
            b"\x89PNG\r\n\x1a\n....".to_vec(),
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (415, Some("document.type_not_accepted")),
            "{refused}"
        );

        let application = |documents: Value| json!({"document_code": "C640", "commodity": "0102291010", "origin": "US", "documents": documents});
        let (status, refused) = json(
            app.post(
                &stranger,
                "/api/v1/lpco/applications",
                application(json!([sha256])),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, refused["errors"][0]["pointer"].as_str()),
            (422, Some("/documents/0")),
            "{refused}"
        );
        let (status, filed) = json(
            app.post(
                &trader,
                "/api/v1/lpco/applications",
                application(json!([sha256])),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{filed}");

        let path = format!("/api/v1/documents/{sha256}");
        let read = |token: &str| {
            let request = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(token);
            async move {
                let response = request.send().await.unwrap();
                (
                    response.status().as_u16(),
                    response.bytes().await.unwrap().to_vec(),
                )
            }
        };
        assert_eq!(read(&trader).await, (200, pdf.clone()));
        assert_eq!(
            read(&vet).await,
            (200, pdf.clone()),
            "the agency the application goes to"
        );
        assert_eq!(read(&plant).await.0, 404);
        assert_eq!(read(&stranger).await.0, 404);
        let (status, _) = json(app.get(&trader, "/api/v1/documents/not-a-hash").await).await;
        assert_eq!(status, 404);
    }
}

/// An agency's own selection rules, in the risk rule language: checked before they are stored, in use at once; a
/// declaration they select is accepted and waits for the agency, one they do not is not.
#[tokio::test]
async fn an_agency_selects_consignments_with_its_own_rules() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.user("admin", None).await;
        json(
            app.put(&admin, "/api/v1/agencies/VET", json!({"name": "VET"}))
                .await,
        )
        .await;
        let vet = app.user("agency", Some("VET")).await;
        let trader = app.user("trader", Some(TRADER)).await;
        let (status, refused) = json(
            app.put(
                &vet,
                "/api/v1/agency/rules",
                json!({"text": "rule V1 \"x\" when commodity starts_with then red"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("risk.rules_invalid")),
            "{refused}"
        );
        assert!(
            refused["errors"][0]["pointer"]
                .as_str()
                .unwrap()
                .starts_with("/text/line/1/column/"),
            "{refused}"
        );
        let (status, saved) = json(app.put(&vet, "/api/v1/agency/rules", json!({
            "text": "rule V1 \"Live cattle\" when commodity starts_with \"0102\" then red", "comment": "BSE watch"
        })).await).await;
        assert_eq!((status, saved["rules"].as_i64()), (200, Some(1)), "{saved}");
        let (_, shown) = json(app.get(&vet, "/api/v1/agency/rules").await).await;
        assert!(
            shown["text"].as_str().unwrap().contains("Live cattle"),
            "{shown}"
        );

        let (_, cattle) = json(
            app.lodge_json(&trader, &cattle("SEL-1", 100, "US", json!([])))
                .await,
        )
        .await;
        assert_ne!(cattle["status"], "rejected", "{cattle}");
        let path = format!("/api/v1/declarations/{}", cattle["id"].as_str().unwrap());
        let (_, shown) = json(app.get(&trader, &path).await).await;
        assert_eq!(
            shown["awaiting_agencies"],
            json!({"VET": "awaited"}),
            "{shown}"
        );
        let (_, queue) = json(app.get(&vet, "/api/v1/agency/queue").await).await;
        assert!(
            queue["declarations"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("Live cattle"),
            "{queue}"
        );
        let (status, _) = json(app.get(&vet, &path).await).await;
        assert_eq!(status, 200, "the agency reads what it selected");

        let (_, shavers) = json(
            app.lodge_xml(&trader, include_bytes!("../../wco/tests/minimal.xml"))
                .await,
        )
        .await;
        let (_, shown) = json(
            app.get(
                &trader,
                &format!("/api/v1/declarations/{}", shavers["id"].as_str().unwrap()),
            )
            .await,
        )
        .await;
        assert!(shown.get("awaiting_agencies").is_none(), "{shown}");
    }
}
