//! Transit under guarantee over HTTP, on SQLite and PostgreSQL (issue 20, part 4): a movement from departure to
//! discharge — the CC015C accepted with its MRN and its guarantee reserved, released for transit, arrived,
//! unloading permitted, the remarks noting a discrepancy, the goods released at destination and the guarantee
//! freed (the ledger verified); a movement lodged as JSON and cancelled by its holder, freeing its guarantee; a
//! movement released and not arrived, listed for an enquiry once its time limit passed; and the refusals: a
//! guarantee too small, an LRN used twice, another message on the departure route, a step out of turn, a trader
//! who is not the trader at destination. Every message Aduana wrote is kept and valid against its schema.

mod browser;
mod common;

use common::{TestApp, json};
use serde_json::{Value, json};

const HOLDER: &str = "GB123456789000";
const DESTINATION: &str = "GB987654321000";
const GRN: &str = "26GB0000010000001";

fn fixture(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transit")
        .join(name);
    let mut text = std::fs::read_to_string(path).unwrap();
    for (key, value) in fill {
        text = text.replace(&format!("{{{key}}}"), value);
    }
    text.into_bytes()
}

fn departure(lrn: &str, amount: &str) -> Vec<u8> {
    fixture(
        "cc015c.xml",
        &[("LRN", lrn), ("GRN", GRN), ("AMOUNT", amount)],
    )
}

async fn send(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Vec<u8>,
    json_form: bool,
) -> (u16, Value) {
    json(
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(token)
            .header(
                "content-type",
                if json_form {
                    "application/json"
                } else {
                    "application/xml"
                },
            )
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn pending(app: &TestApp) -> String {
    let account = app
        .store
        .account(&ledger::AccountId::parse(&format!("guarantee:{GRN}")).unwrap())
        .await
        .unwrap()
        .expect("the guarantee is open");
    account.debits_pending.normalize().to_string()
}

fn kinds(movement: &Value) -> Vec<String> {
    movement["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["direction"].as_str().unwrap(),
                m["message_type"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_movement_from_departure_to_discharge() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.user("admin", None).await;
        let holder = app.user("trader", Some(HOLDER)).await;
        let destination = app.user("trader", Some(DESTINATION)).await;
        let stranger = app.user("trader", Some("GB555555555000")).await;
        let officer = app.user("officer", None).await;
        let (status, body) = json(
            app.post(
                &admin,
                "/api/v1/ledger/accounts",
                json!({"id": format!("guarantee:{GRN}"), "currency": "GBP", "limit": "10000", "owner": HOLDER}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");

        // Refusals first: nothing is stored from any of them.
        let (status, body) = send(
            &app,
            &holder,
            "/api/v1/transit/departures",
            departure("LRN-BIG", "20000"),
            false,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("transit.guarantee_refused")),
            "{body}"
        );
        let cancel = fixture("cc014c.xml", &[("MRN", "26GB000000000001J5")]);
        let (status, body) = send(&app, &holder, "/api/v1/transit/departures", cancel, false).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("transit.wrong_message")),
            "{body}"
        );
        let (status, body) = send(
            &app,
            &stranger,
            "/api/v1/transit/departures",
            departure("LRN-1", "5000"),
            false,
        )
        .await;
        assert_eq!(status, 403, "not the holder: {body}");
        let mut broken = departure("LRN-1", "5000");
        broken = String::from_utf8(broken)
            .unwrap()
            .replace("<security>0</security>", "<security>x</security>")
            .into_bytes();
        let (status, body) = send(&app, &holder, "/api/v1/transit/departures", broken, false).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("transit.schema")),
            "{body}"
        );
        assert!(
            body["errors"]
                .to_string()
                .contains("/ncts:CC015C[1]/TransitOperation[1]/security[1]"),
            "{body}"
        );
        let (status, listed) = json(app.get(&officer, "/api/v1/transit").await).await;
        assert_eq!(status, 200, "{listed}");
        assert_eq!(
            listed["movements"].as_array().unwrap().len(),
            0,
            "nothing half-stored"
        );

        // Accepted: MRN, CC028C, the guarantee reserved.
        let (status, accepted) = send(
            &app,
            &holder,
            "/api/v1/transit/departures",
            departure("LRN-1", "5000"),
            false,
        )
        .await;
        assert_eq!(status, 201, "{accepted}");
        let mrn = accepted["mrn"].as_str().unwrap().to_owned();
        assert_eq!(mrn.len(), 18);
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(kinds(&accepted), ["in:CC015C", "out:CC028C"]);
        assert_eq!(pending(&app).await, "5000", "{backend:?}");
        let (status, body) = send(
            &app,
            &holder,
            "/api/v1/transit/departures",
            departure("LRN-1", "5000"),
            false,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("transit.duplicate")),
            "{body}"
        );

        // Out of turn, then released for transit.
        let arrival = fixture("cc007c.xml", &[("MRN", &mrn)]);
        let (status, body) = send(
            &app,
            &destination,
            &format!("/api/v1/transit/{mrn}/arrival"),
            arrival.clone(),
            false,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("transit.step_refused")),
            "{body}"
        );
        let (status, released) = json(
            app.post(
                &officer,
                &format!("/api/v1/transit/{mrn}/release"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{released}");
        assert_eq!(released["status"], "released");
        let cc029c = released["messages"][2]["body"].as_str().unwrap();
        assert!(
            cc029c.contains("SEAL-0042") && cc029c.contains("GB000219") && cc029c.contains(&mrn),
            "{cc029c}"
        );

        // Arrival by the trader at destination only; unloading permitted at once.
        let (status, _) = send(
            &app,
            &holder,
            &format!("/api/v1/transit/{mrn}/arrival"),
            arrival.clone(),
            false,
        )
        .await;
        assert_eq!(status, 403, "the holder is not the trader at destination");
        let (status, arrived) = send(
            &app,
            &destination,
            &format!("/api/v1/transit/{mrn}/arrival"),
            arrival,
            false,
        )
        .await;
        assert_eq!(status, 200, "{arrived}");
        assert_eq!(arrived["status"], "unloading_permitted");
        let (status, _) = json(app.get(&stranger, &format!("/api/v1/transit/{mrn}")).await).await;
        assert_eq!(status, 404, "another trader sees nothing");

        // Remarks with a discrepancy: goods released (indicator 2), discharged, the guarantee freed.
        let remarks = fixture("cc044c.xml", &[("MRN", &mrn)]);
        let (status, discharged) = send(
            &app,
            &destination,
            &format!("/api/v1/transit/{mrn}/unloading-remarks"),
            remarks,
            false,
        )
        .await;
        assert_eq!(status, 200, "{discharged}");
        assert_eq!(discharged["status"], "discharged");
        assert_eq!(
            kinds(&discharged),
            [
                "in:CC015C",
                "out:CC028C",
                "out:CC029C",
                "in:CC007C",
                "out:CC043C",
                "in:CC044C",
                "out:CC025C"
            ]
        );
        assert!(
            discharged["messages"][6]["body"]
                .as_str()
                .unwrap()
                .contains("<releaseIndicator>2</releaseIndicator>")
        );
        assert_eq!(
            pending(&app).await,
            "0",
            "the guarantee is freed on discharge"
        );
        for message in discharged["messages"].as_array().unwrap() {
            let body = message["body"].as_str().unwrap();
            assert!(
                transit::judge(body.as_bytes(), false, &[], &transit::Limits::default()).is_ok(),
                "{body}"
            );
        }
        let (status, _) = json(
            app.post(
                &officer,
                &format!("/api/v1/transit/{mrn}/release"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 409, "nothing after discharge");

        // A departure as JSON, cancelled by its holder: its guarantee freed.
        let read = transit::read(&departure("LRN-2", "3000"), &transit::Limits::default()).unwrap();
        let as_json = transit::to_json(&read).to_string().into_bytes();
        let (status, second) =
            send(&app, &holder, "/api/v1/transit/departures", as_json, true).await;
        assert_eq!(status, 201, "{second}");
        assert_eq!(pending(&app).await, "3000");
        let second_mrn = second["mrn"].as_str().unwrap().to_owned();
        let cancel = fixture("cc014c.xml", &[("MRN", &second_mrn)]);
        let (status, cancelled) = send(
            &app,
            &holder,
            &format!("/api/v1/transit/{second_mrn}/cancellation"),
            cancel,
            false,
        )
        .await;
        assert_eq!(status, 200, "{cancelled}");
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(pending(&app).await, "0");

        // Released and never arrived: overdue after its time limit, an enquiry due.
        let (_, third) = send(
            &app,
            &holder,
            "/api/v1/transit/departures",
            departure("LRN-3", "1000"),
            false,
        )
        .await;
        let third_mrn = third["mrn"].as_str().unwrap().to_owned();
        let (status, _) = json(
            app.post(
                &officer,
                &format!("/api/v1/transit/{third_mrn}/release"),
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        let (_, now) = json(app.get(&officer, "/api/v1/transit/enquiries").await).await;
        assert_eq!(
            now["movements"].as_array().unwrap().len(),
            0,
            "not overdue yet"
        );
        let later = (time::OffsetDateTime::now_utc()
            + time::Duration::days(api::transit::TIME_LIMIT_DAYS + 1))
        .date();
        let (status, overdue) = json(
            app.get(&officer, &format!("/api/v1/transit/enquiries?on={later}"))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{overdue}");
        let listed: Vec<&str> = overdue["movements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["mrn"].as_str().unwrap())
            .collect();
        assert_eq!(
            listed,
            [third_mrn.as_str()],
            "only the movement released and not arrived"
        );
        let (status, _) = json(app.get(&holder, "/api/v1/transit/enquiries").await).await;
        assert_eq!(status, 403, "enquiries are customs'");

        let ledger = app.store.ledger().await.unwrap();
        assert!(ledger.verify().is_ok(), "{:?}", ledger.verify());
        let findings = app.store.money_findings().await.unwrap();
        assert!(findings.is_empty(), "{findings:#?}");
        assert_eq!(
            pending(&app).await,
            "1000",
            "only the overdue movement still holds its guarantee"
        );
    }
}

/// The portal's transit page: the holder sees its movement; an officer releases it from the page (the form calls
/// the API's handler), then sees it released; a second release is refused at the movement, in the page's language.
#[tokio::test]
async fn officers_release_movements_and_read_enquiries_in_the_portal() {
    use browser::{hidden_csrf, portal_user, session};
    use reqwest::header;
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.user("admin", None).await;
        let holder = app.user("trader", Some(HOLDER)).await;
        let (status, body) = json(
            app.post(
                &admin,
                "/api/v1/ledger/accounts",
                json!({"id": format!("guarantee:{GRN}"), "currency": "GBP", "limit": "10000", "owner": HOLDER}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, accepted) = send(
            &app,
            &holder,
            "/api/v1/transit/departures",
            departure("LRN-P", "2500"),
            false,
        )
        .await;
        assert_eq!(status, 201, "{accepted}");
        let mrn = accepted["mrn"].as_str().unwrap().to_owned();
        portal_user(&app, "Hana Holder", "trader", Some(HOLDER), "hana").await;
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
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
        let hana = session(&app, &client, "hana").await;
        let html = get(&hana, "/portal/transit").await;
        assert!(
            html.contains(&mrn) && html.contains("accepted") && !html.contains("id=\"release-"),
            "{html}"
        );
        let olga = session(&app, &client, "olga").await;
        let html = get(&olga, "/portal/transit").await;
        assert!(html.contains(&format!("id=\"release-{mrn}\"")), "{html}");
        assert!(html.contains("No movement is overdue."), "{html}");
        let csrf = hidden_csrf(&html);
        let action = format!("{}/portal/transit/{mrn}/release", app.base);
        let released = client
            .post(&action)
            .header(header::COOKIE, &olga)
            .header(header::ORIGIN, &app.base)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(released.status(), 303);
        let html = get(&olga, "/portal/transit?done=released").await;
        assert!(
            html.contains("The movement is released for transit")
                && html.contains("released for transit"),
            "{html}"
        );
        assert!(!html.contains(&format!("id=\"release-{mrn}\"")), "{html}");
        let again = client
            .post(&action)
            .header(header::COOKIE, &olga)
            .header(header::ORIGIN, &app.base)
            .header(header::ACCEPT_LANGUAGE, "fr")
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);
        let html = again.text().await.unwrap();
        assert!(
            html.contains("lang=\"fr\"") && html.contains("mainlevée pour le transit"),
            "{html}"
        );
    }
}
