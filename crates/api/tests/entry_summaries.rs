//! Entry summary declarations over HTTP, on SQLite and PostgreSQL: a carrier lodges a CC315A and gets an MRN,
//! amends it with a CC313A (the next version), and every refusal — a business rule with its ICS number and
//! HMRC-form location, a schema departure, another message, a DTD, another lodging party, a reference used twice,
//! an amendment of an MRN not its own — is coded and stores nothing; carriers see their own, officers all. A
//! do-not-load referral, answered by the carrier alone, refuses a declaration naming the consignment until an
//! officer closes it.

mod browser;
mod common;

use common::{TestApp, json};
use serde_json::Value;

const CARRIER: &str = "GB123456789000";
const MINIMAL: &str = include_str!("../../entry-summary/tests/minimal-cc315a.xml");

async fn lodge(app: &TestApp, token: &str, body: &str) -> (u16, Value) {
    json(
        app.client
            .post(format!("{}/api/v1/entry-summaries", app.base))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The minimal declaration as its amendment of `mrn`: the root renamed, the MRN first in the header, the time of
/// amendment for the time of declaration, one more package.
fn amendment(mrn: &str) -> String {
    MINIMAL
        .replace("CC315A", "CC313A")
        .replace(
            "<RefNumHEA4>ADUANA-ENS-1</RefNumHEA4>",
            &format!("<DocNumHEA5>{mrn}</DocNumHEA5>"),
        )
        .replace("DecDatTimHEA114", "DatTimAmeHEA113")
        .replace(
            "<NumOfPacGS24>12</NumOfPacGS24>",
            "<NumOfPacGS24>13</NumOfPacGS24>",
        )
        .replace(
            "<TotNumOfPacHEA306>12</TotNumOfPacHEA306>",
            "<TotNumOfPacHEA306>13</TotNumOfPacHEA306>",
        )
}

/// A declaration naming the minimal entry summary's consignment by its UCR.
fn naming_the_consignment() -> String {
    String::from_utf8(include_bytes!("../../wco/tests/minimal.xml").to_vec())
        .unwrap()
        .replace(
            "</GovernmentAgencyGoodsItem>",
            "</GovernmentAgencyGoodsItem><UCR><TraderAssignedReferenceID>UCR-2026-0001</TraderAssignedReferenceID></UCR>",
        )
}

#[tokio::test]
async fn carriers_lodge_and_amend_entry_summaries_and_every_refusal_is_coded() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let carrier = app.user("trader", Some(CARRIER)).await;
        let other = app.user("trader", Some("GB999999999000")).await;
        let officer = app.user("officer", None).await;

        // Refused, each with its code; nothing stored.
        let broken = MINIMAL.replace(
            "<TotGroMasHEA307>250.5</TotGroMasHEA307>",
            "<TotGroMasHEA307>200</TotGroMasHEA307>",
        );
        let (status, body) = lodge(&app, &carrier, &broken).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            body["errors"],
            serde_json::json!([{"code": "entry_summary.rule", "number": 8686, "pointer": "/ie:CC315A[1]/HEAHEA[1]", "message": "The total gross mass is at least the sum of the goods items' gross masses."}])
        );
        let (status, body) = lodge(
            &app,
            &carrier,
            &MINIMAL.replace("ADUANA-ENS-1", &"X".repeat(23)),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("entry_summary.schema")),
            "{body}"
        );
        assert_eq!(
            body["errors"][0]["pointer"],
            "/ie:CC315A[1]/HEAHEA[1]/RefNumHEA4[1]"
        );
        assert!(
            body["errors"][0].get("number").is_none(),
            "a schema error has no ICS number"
        );
        let transit = MINIMAL.replace("http://ics.dgtaxud.ec/CC315A", "http://ncts.dgtaxud.ec");
        let (status, body) = lodge(&app, &carrier, &transit).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("entry_summary.not_entry_summary")),
            "{body}"
        );
        let dtd = format!(
            "<!DOCTYPE x [<!ENTITY e \"e\">]>{}",
            MINIMAL.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        );
        let (status, body) = lodge(&app, &carrier, &dtd).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("xml.dtd_forbidden")),
            "{body}"
        );
        let (status, body) = lodge(&app, &other, MINIMAL).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("auth.forbidden")),
            "{body}"
        );
        let (_, listed) = json(app.get(&officer, "/api/v1/entry-summaries").await).await;
        assert_eq!(
            listed["entry_summaries"],
            serde_json::json!([]),
            "nothing stored"
        );

        // Accepted with an MRN; the reference once.
        let (status, accepted) = lodge(&app, &carrier, MINIMAL).await;
        assert_eq!(status, 201, "{accepted}");
        let mrn = accepted["mrn"].as_str().unwrap().to_owned();
        assert!(declaration::Mrn::parse(&mrn).is_ok(), "{mrn}");
        assert_eq!(
            (
                accepted["version"].as_i64(),
                accepted["kind"].as_str(),
                accepted["goods_items"].as_i64()
            ),
            (Some(1), Some("declaration"), Some(1))
        );
        assert_eq!(accepted["first_entry_office"], "GB000060");
        let (status, body) = lodge(&app, &carrier, MINIMAL).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("entry_summary.duplicate")),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains(&mrn));

        // Amended: the next version of the MRN, by the carrier only.
        let (status, body) = lodge(
            &app,
            &other,
            &amendment(&mrn).replace(CARRIER, "GB999999999000"),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("entry_summary.unknown")),
            "{body}"
        );
        assert_eq!(
            body["errors"][0]["pointer"],
            "/ie:CC313A[1]/HEAHEA[1]/DocNumHEA5[1]"
        );
        let (status, amended) = lodge(&app, &carrier, &amendment(&mrn)).await;
        assert_eq!(status, 200, "{amended}");
        assert_eq!(
            (amended["version"].as_i64(), amended["kind"].as_str()),
            (Some(2), Some("amendment"))
        );
        assert_eq!(
            amended["reference"], "ADUANA-ENS-1",
            "the reference of the first version"
        );

        // The JSON twin: another reference, the same checks, kept as JSON.
        let read =
            entry_summary::read(MINIMAL.as_bytes(), &entry_summary::Limits::default()).unwrap();
        let mut twin = entry_summary::json::write(&read);
        twin["CC315A"]["HEAHEA"]["RefNumHEA4"] = "ADUANA-ENS-2".into();
        let post_json = async |value: &Value| {
            json(
                app.client
                    .post(format!("{}/api/v1/entry-summaries", app.base))
                    .bearer_auth(&carrier)
                    .json(value)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        };
        let mut broken_twin = twin.clone();
        broken_twin["CC315A"]["HEAHEA"]["TotGroMasHEA307"] = "200".into();
        let (status, body) = post_json(&broken_twin).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["number"], 8686);
        assert_eq!(body["errors"][0]["pointer"], "/ie:CC315A[1]/HEAHEA[1]");
        let mut unknown = twin.clone();
        unknown["CC315A"]["HEAHEA"]["Colour"] = "red".into();
        let (status, body) = post_json(&unknown).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("json.invalid")),
            "{body}"
        );
        assert_eq!(body["errors"][0]["pointer"], "/CC315A/HEAHEA/Colour");
        let (status, accepted_json) = post_json(&twin).await;
        assert_eq!(status, 201, "{accepted_json}");
        assert_eq!(accepted_json["format"], "json");
        assert_ne!(accepted_json["mrn"], mrn.as_str());

        // Searchable by the consignment's UCR: officers find it, another carrier does not.
        let (_, found) = json(
            app.get(&officer, "/api/v1/entry-summaries?reference=UCR-2026-0001")
                .await,
        )
        .await;
        let found = found["entry_summaries"].as_array().unwrap().clone();
        // Both consignments of this carrier carry that UCR (the JSON twin was copied from the XML), oldest first.
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0]["mrn"], mrn.as_str());
        assert_eq!(found[1]["mrn"], accepted_json["mrn"]);
        let (_, hidden) = json(
            app.get(&other, "/api/v1/entry-summaries?reference=UCR-2026-0001")
                .await,
        )
        .await;
        assert_eq!(hidden["entry_summaries"], serde_json::json!([]));
        let (_, nothing) = json(
            app.get(&officer, "/api/v1/entry-summaries?reference=NO-SUCH-UCR")
                .await,
        )
        .await;
        assert_eq!(nothing["entry_summaries"], serde_json::json!([]));

        // Do-not-load: sent to the carrier, answered once by it alone; while it stands, a declaration naming the
        // consignment's UCR is refused; closed, the declaration is accepted.
        let analyst = app.user("risk_analyst", None).await;
        let (status, bad) = json(
            app.post(
                &analyst,
                &format!("/api/v1/entry-summaries/{mrn}/referrals"),
                serde_json::json!({"kind": "stop", "reason": "x"}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, bad["errors"][0]["pointer"].as_str()),
            (422, Some("/kind")),
            "{bad}"
        );
        let (status, referral) = json(
            app.post(
                &analyst,
                &format!("/api/v1/entry-summaries/{mrn}/referrals"),
                serde_json::json!({"kind": "do_not_load", "reason": "The consignee is on the watch list."}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{referral}");
        assert_eq!(
            (referral["status"].as_str(), referral["carrier"].as_str()),
            (Some("open"), Some(CARRIER))
        );
        let id = referral["id"].as_str().unwrap().to_owned();
        let (_, theirs) = json(app.get(&carrier, "/api/v1/referrals?status=open").await).await;
        assert_eq!(theirs["referrals"][0]["id"], id.as_str(), "{theirs}");
        let (_, none) = json(app.get(&other, "/api/v1/referrals").await).await;
        assert_eq!(none["referrals"], serde_json::json!([]));
        let trader = app.user("trader", Some("GB603202734852")).await;
        let declaration = naming_the_consignment();
        let (status, refused) = json(app.lodge_xml(&trader, declaration.as_bytes()).await).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("entry_summary.do_not_load")),
            "{refused}"
        );
        assert!(refused["message"].as_str().unwrap().contains(&mrn));
        let answer = format!("/api/v1/referrals/{id}/answer");
        let (status, _) = json(
            app.post(&other, &answer, serde_json::json!({"answer": "Not ours."}))
                .await,
        )
        .await;
        assert_eq!(status, 404, "another carrier cannot answer");
        let (status, answered) = json(
            app.post(
                &carrier,
                &answer,
                serde_json::json!({"answer": "The consignee is a new customer; invoice attached."}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, answered["status"].as_str()),
            (200, Some("answered")),
            "{answered}"
        );
        let (status, again) = json(
            app.post(&carrier, &answer, serde_json::json!({"answer": "Again."}))
                .await,
        )
        .await;
        assert_eq!(
            (status, again["code"].as_str()),
            (409, Some("referral.step_refused")),
            "{again}"
        );
        let (status, still) = json(app.lodge_xml(&trader, declaration.as_bytes()).await).await;
        assert_eq!(
            (status, still["code"].as_str()),
            (422, Some("entry_summary.do_not_load")),
            "answered is not lifted"
        );
        let closure = format!("/api/v1/referrals/{id}/closure");
        let (status, closed) = json(
            app.post(
                &officer,
                &closure,
                serde_json::json!({"note": "Consignee verified; the order is lifted."}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, closed["status"].as_str()),
            (200, Some("closed")),
            "{closed}"
        );
        let (status, lodged) = json(app.lodge_xml(&trader, declaration.as_bytes()).await).await;
        assert_eq!(status, 201, "lifted: the declaration is accepted {lodged}");
        let (_, shown) = json(
            app.get(&officer, &format!("/api/v1/entry-summaries/{mrn}"))
                .await,
        )
        .await;
        assert_eq!(
            shown["referrals"][0]["closing_note"],
            "Consignee verified; the order is lifted."
        );

        // Read: the carrier its own, another carrier nothing, officers all; the trail has both versions.
        let (status, shown) = json(
            app.get(&carrier, &format!("/api/v1/entry-summaries/{mrn}"))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["versions"].as_array().unwrap().len(), 2);
        let (status, _) = json(
            app.get(&other, &format!("/api/v1/entry-summaries/{mrn}"))
                .await,
        )
        .await;
        assert_eq!(status, 404);
        let (_, theirs) = json(app.get(&other, "/api/v1/entry-summaries").await).await;
        assert_eq!(theirs["entry_summaries"], serde_json::json!([]));
        let (_, all) = json(app.get(&officer, "/api/v1/entry-summaries").await).await;
        assert_eq!(all["entry_summaries"].as_array().unwrap().len(), 3);
        let trail = app.store.audit_entries(0, 1000).await.unwrap();
        let actions: Vec<&str> = trail
            .iter()
            .filter(|e| e.subject == format!("entry-summary/{mrn}"))
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(actions, ["entry_summary.lodge", "entry_summary.amend"]);
        let steps: Vec<&str> = trail
            .iter()
            .filter(|e| e.subject == format!("referral/{id}"))
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(
            steps,
            ["referral.open", "referral.answer", "referral.close"]
        );
    }
}

/// Safety and security risk at lodgement: an analyst's consignment rules (a watch-listed consignee →
/// do-not-load; vague goods words → a request for information) open referrals in the lodging transaction, each
/// with the rule and the rules version as its reason; an amendment asks again without doubling a standing kind; the
/// rules' do-not-load refuses the declaration naming the consignment; a consignment no rule asks about has none.
#[tokio::test]
async fn consignment_rules_open_referrals_at_lodgement() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let carrier = app.user("trader", Some(CARRIER)).await;
        let analyst = app.user("risk_analyst", None).await;
        let (status, body) = json(
            app.put(
                &analyst,
                "/api/v1/risk/lists/watch",
                serde_json::json!({"entries": ["GB603202734852"]}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let rules = "rule S1 \"Consignee on the watch list\" when consignee in list \"watch\" then do_not_load\n\
                     rule S2 \"Vague goods description\" when description contains [\"general cargo\", \"spare parts\"] then request_for_information\n\
                     rule R1 when commodity starts_with \"85\" then yellow\n";
        let (status, body) = json(
            app.post(
                &analyst,
                "/api/v1/risk/rules",
                serde_json::json!({"text": rules, "comment": "security screening"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 201, "{body}");

        let (status, lodged) = lodge(&app, &carrier, MINIMAL).await;
        assert_eq!(status, 201, "{lodged}");
        let mrn = lodged["mrn"].as_str().unwrap().to_owned();
        let opened = lodged["referrals"].as_array().expect("referrals opened");
        assert_eq!(opened.len(), 1, "{lodged}");
        assert_eq!(
            (
                opened[0]["kind"].as_str(),
                opened[0]["status"].as_str(),
                opened[0]["carrier"].as_str(),
                &opened[0]["opened_by_rules"],
                opened[0]["reason"].as_str()
            ),
            (
                Some("do_not_load"),
                Some("open"),
                Some(CARRIER),
                &serde_json::json!(true),
                Some(
                    "Do-not-load asked by rule S1 (Consignee on the watch list). (Risk rules version 1.)"
                )
            ),
            "{lodged}"
        );
        // The carrier sees it among its referrals.
        let (_, theirs) = json(app.get(&carrier, "/api/v1/referrals?status=open").await).await;
        assert_eq!(theirs["referrals"][0]["id"], opened[0]["id"], "{theirs}");

        // The amendment describes the goods vaguely: a request for information; the do-not-load stands once.
        let vague = amendment(&mrn).replace("Electric shavers", "Spare parts");
        let (status, amended) = lodge(&app, &carrier, &vague).await;
        assert_eq!(status, 200, "{amended}");
        assert_eq!(
            amended["referrals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["kind"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["request_for_information"],
            "{amended}"
        );
        let (_, shown) = json(
            app.get(&carrier, &format!("/api/v1/entry-summaries/{mrn}"))
                .await,
        )
        .await;
        assert_eq!(shown["referrals"].as_array().unwrap().len(), 2, "{shown}");
        // The carrier's Referrals page says the rules opened them.
        browser::portal_user(&app, "Cara Carrier", "trader", Some(CARRIER), "cara").await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = browser::session(&app, &client, "cara").await;
        let html = client
            .get(format!("{}/portal/referrals", app.base))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            html.matches("<dd class=\"opened-by\">The risk rules, at lodgement</dd>")
                .count(),
            2,
            "{html}"
        );

        // The rules' do-not-load refuses a declaration naming the consignment's UCR.
        let trader = app.user("trader", Some("GB603202734852")).await;
        let declaration = naming_the_consignment();
        let (status, refused) = json(app.lodge_xml(&trader, declaration.as_bytes()).await).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("entry_summary.do_not_load")),
            "{refused}"
        );

        // Another consignment, to a consignee no list names, described plainly: no referral; the lane rule over
        // HS 85 screens nothing.
        let plain = MINIMAL
            .replace("ADUANA-ENS-1", "ADUANA-ENS-2")
            .replace("GB603202734852", "GB111111111000");
        let (status, clean) = lodge(&app, &carrier, &plain).await;
        assert_eq!(status, 201, "{clean}");
        assert!(clean.get("referrals").is_none(), "{clean}");
    }
}

/// The portal's referrals page: the carrier reads a request for information about its consignment and answers it
/// (an empty answer refused at its field, in French too), an officer closes it with a note; each through the API's
/// own handler.
#[tokio::test]
async fn carriers_answer_referrals_and_officers_close_them_in_the_portal() {
    use browser::{hidden_csrf, linked, portal_user, session};
    use reqwest::header;
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let carrier = app.user("trader", Some(CARRIER)).await;
        let analyst = app.user("risk_analyst", None).await;
        portal_user(&app, "Cara Carrier", "trader", Some(CARRIER), "cara").await;
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        let (status, accepted) = lodge(&app, &carrier, MINIMAL).await;
        assert_eq!(status, 201, "{accepted}");
        let mrn = accepted["mrn"].as_str().unwrap().to_owned();
        let (_, referral) = json(
            app.post(
                &analyst,
                &format!("/api/v1/entry-summaries/{mrn}/referrals"),
                serde_json::json!({"kind": "request_for_information", "reason": "Who is the buyer of the shavers?"}),
            )
            .await,
        )
        .await;
        let id = referral["id"].as_str().unwrap().to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let get = async |cookie: &str| {
            client
                .get(format!("{}/portal/referrals", app.base))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let cara = session(&app, &client, "cara").await;
        let html = get(&cara).await;
        assert!(
            html.contains("Request for information: ")
                && html.contains("Who is the buyer of the shavers?")
                && html.contains(&format!("id=\"answer-{id}\""))
                && html.contains(&format!(
                    "<th scope=\"row\">{mrn}</th><td>ADUANA-ENS-1</td>"
                ))
                && html.contains(
                    "<dd class=\"opened-by\">Customs (an officer or a risk analyst)</dd>"
                ),
            "{html}"
        );
        let csrf = hidden_csrf(&html);
        let post = async |cookie: &str, path: &str, text: &str, language: &str| {
            client
                .post(format!("{}{path}", app.base))
                .header(header::COOKIE, cookie)
                .header(header::ORIGIN, &app.base)
                .header(header::ACCEPT_LANGUAGE, language)
                .form(&[("csrf", csrf.as_str()), ("text", text)])
                .send()
                .await
                .unwrap()
        };
        let empty = post(&cara, &format!("/portal/referrals/{id}/answer"), "  ", "fr").await;
        assert_eq!(empty.status(), 422);
        let html = empty.text().await.unwrap();
        assert_eq!(linked(&html), [format!("text-{id}")]);
        assert!(
            html.contains("lang=\"fr\"")
                && html.contains("Écrivez le texte : 1 à 4 000 caractères."),
            "{html}"
        );
        let answered = post(
            &cara,
            &format!("/portal/referrals/{id}/answer"),
            "Shavers Ltd, Dover, our customer since 2019.",
            "en",
        )
        .await;
        assert_eq!(answered.status(), 303);
        let html = get(&cara).await;
        assert!(
            html.contains("Your answer is sent to customs.")
                || html.contains("answered, awaiting customs"),
            "{html}"
        );
        assert!(
            !html.contains(&format!("id=\"answer-{id}\"")),
            "answered once"
        );
        let olga = session(&app, &client, "olga").await;
        let html = get(&olga).await;
        assert!(
            html.contains("Shavers Ltd, Dover") && html.contains(&format!("id=\"close-{id}\"")),
            "{html}"
        );
        let csrf_olga = hidden_csrf(&html);
        let closed = client
            .post(format!("{}/portal/referrals/{id}/closure", app.base))
            .header(header::COOKIE, &olga)
            .header(header::ORIGIN, &app.base)
            .form(&[
                ("csrf", csrf_olga.as_str()),
                ("text", "The buyer is known."),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(closed.status(), 303);
        let (_, shown) = json(app.get(&analyst, "/api/v1/referrals").await).await;
        assert_eq!(shown["referrals"][0]["status"], "closed");
        assert_eq!(shown["referrals"][0]["closing_note"], "The buyer is known.");
    }
}
