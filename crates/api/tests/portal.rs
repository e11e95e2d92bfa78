//! The public duty-calculator page in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver: search, follow the hierarchy, calculate, and see a field error. Skips with a reason when
//! chromedriver is absent, except in CI, where `.ci/run` installs it.

mod common;

use common::TestApp;
use fantoccini::Locator;

mod browser;
use browser::*;
use std::time::Duration;

#[tokio::test]
async fn a_trader_searches_looks_up_and_calculates_in_a_real_browser() {
    for backend in common::backends() {
        let Some(driver) = chromedriver() else {
            return;
        };
        let app = TestApp::spawn(backend).await;

        // The page is served with its security headers, without a token.
        let response = app
            .client
            .get(format!("{}/duty-calculator", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");

        let browser = start_browser(&driver).await;
        let client = &browser.client;
        client
            .goto(&format!("{}/duty-calculator", app.base))
            .await
            .unwrap();
        assert_eq!(
            client.title().await.unwrap(),
            "Tariff and duty calculator — Aduana"
        );

        // Search by words, then follow the results down the hierarchy.
        fill(client, "#q", "shavers").await;
        client
            .find(Locator::Css("#search-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let results = text_of(client, "#search-results").await;
        assert!(
            results.contains("851010") && results.contains("Parts of shavers"),
            "{results}"
        );
        client
            .find(Locator::LinkText("8510"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let subdivisions = text_of(client, "#subdivisions").await;
        assert!(subdivisions.contains("851090"), "{subdivisions}");
        client
            .find(Locator::LinkText("851090"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let measures = text_of(client, "#measures").await;
        assert!(
            measures.contains("A00 2 % ad valorem on 851090"),
            "{measures}"
        );
        // The calculator is filled with the code looked up.
        let code = client
            .find(Locator::Css("#commodity_code"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(code.as_deref(), Some("851090"));

        // Calculate: 1,000 GBP; A00 2 % = 20.00; B00 20 % of 1,020.00 = 204.00; total 224.00.
        fill(client, "#origin", "CN").await;
        fill(client, "#value", "1000").await;
        fill(client, "#date", "03/01/2026").await;
        client
            .find(Locator::Css("#calculate"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(text_of(client, "#total").await, "224.00");
        let a00 = text_of(client, "#taxes tr[data-type='A00'] .amount").await;
        let b00 = text_of(client, "#taxes tr[data-type='B00'] .amount").await;
        assert_eq!((a00.as_str(), b00.as_str()), ("20.00", "204.00"));
        assert!(
            client
                .current_url()
                .await
                .unwrap()
                .as_str()
                .contains("date=2026-03-01")
        );

        // A bad value: the error names the field, in words.
        fill(client, "#value", "ten pounds").await;
        client
            .find(Locator::Css("#calculate"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let error = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#errors .error"))
            .await
            .unwrap();
        assert_eq!(
            error.attr("data-pointer").await.unwrap().as_deref(),
            Some("/customs_value/amount")
        );
        assert!(error.text().await.unwrap().contains("is not an amount"));
        browser.client.clone().close().await.unwrap();
    }
}

/// The portal's sign-in in a real browser: a wrong password is refused in words; the right one opens the
/// declarations page (the session cookie is HttpOnly, so the page's scripts — there are none — could not read
/// it); signing out ends the session and the page sends the browser back to the sign-in form.
#[tokio::test]
async fn an_officer_signs_in_sees_the_declarations_and_signs_out_in_a_real_browser() {
    for backend in common::backends() {
        let Some(driver) = chromedriver() else {
            return;
        };
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        assert_eq!(
            app.lodge_xml(&trader, include_bytes!("../../wco/tests/minimal.xml"))
                .await
                .status(),
            201
        );
        let now = time::OffsetDateTime::now_utc();
        let officer = app
            .store
            .add_user_as(
                &storage::Actor::cli(),
                storage::NewUser {
                    name: "Officer Ada".into(),
                    role: "officer".into(),
                    party: None,
                    login: Some("ada".into()),
                },
                now,
            )
            .await
            .unwrap();
        app.store
            .change_user(
                &storage::Actor::cli(),
                &officer.id,
                storage::UserChange {
                    password_hash: Some(api::hash_password("a password for ada").unwrap()),
                    ..Default::default()
                },
                now,
            )
            .await
            .unwrap();

        let browser = start_browser(&driver).await;
        let client = &browser.client;
        // `localhost` is a secure context for Chromium, so the `Secure`, `__Host-` cookie is kept over plain HTTP.
        let base = app.base.replace("127.0.0.1", "localhost");
        client.goto(&format!("{base}/portal")).await.unwrap();
        assert!(
            client
                .current_url()
                .await
                .unwrap()
                .as_str()
                .ends_with("/login")
        );
        // The portal's stylesheet is applied: the Content-Security-Policy allows our own (`style-src 'self'`).
        let bar = client
            .execute(
                "return getComputedStyle(document.querySelector('.bar')).backgroundColor",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(bar, serde_json::json!("rgb(11, 61, 92)"));
        fill(client, "#login", "ada").await;
        fill(client, "#password", "not the password").await;
        client
            .find(Locator::Css("#sign-in"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(
            text_of(client, "#error-summary")
                .await
                .contains("The login or password is wrong.")
        );

        fill(client, "#login", "ada").await;
        fill(client, "#password", "a password for ada").await;
        client
            .find(Locator::Css("#sign-in"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let who = text_of(client, "#who").await;
        assert!(who.contains("Officer Ada (customs officer)"), "{who}");
        let table = text_of(client, "#declarations").await;
        assert!(
            table.contains("MINIMAL-1") && table.contains("GB603202734852"),
            "{table}"
        );
        // The session cookie is not readable from the page.
        let cookies = client
            .execute("return document.cookie", vec![])
            .await
            .unwrap();
        assert_eq!(cookies, serde_json::json!(""));

        client
            .find(Locator::Css("#sign-out"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        text_of(client, "#sign-in").await;
        client.goto(&format!("{base}/portal")).await.unwrap();
        assert!(
            client
                .current_url()
                .await
                .unwrap()
                .as_str()
                .ends_with("/login")
        );
        browser.client.clone().close().await.unwrap();
    }
}

/// Issue 18's journeys in a real browser: a trader applies for a CHED-A from the portal (a missing field of the
/// agency's form named in the error summary, linked to the field), the agency's officer finds it in its queue,
/// opens it and approves it, and the trader sees the reference issued.
#[tokio::test]
async fn a_trader_applies_and_the_agency_approves_in_a_real_browser() {
    for backend in common::backends() {
        let Some(driver) = chromedriver() else {
            return;
        };
        let app = TestApp::spawn(backend).await;
        let admin = app.user("admin", None).await;
        let (status, _) = common::json(
            app.put(
                &admin,
                "/api/v1/agencies/VET",
                serde_json::json!({"name": "Veterinary service"}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = common::json(
            app.put(
                &admin,
                "/api/v1/lpco/types/C640",
                serde_json::json!({
                    "agency": "VET", "kind": "certificate", "title": "CHED-A", "validity_days": 30,
                    "balance_unit": "KGM",
                    "fields": [{"name": "establishment", "label": "Establishment of origin", "required": true}]
                }),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        portal_user(&app, "Trader Tom", "trader", Some("GB603202734852"), "tom").await;
        portal_user(&app, "Vet Vera", "agency", Some("VET"), "vera").await;

        let browser = start_browser(&driver).await;
        let client = &browser.client;
        let base = app.base.replace("127.0.0.1", "localhost");
        sign_in(client, &base, "tom").await;
        client
            .find(Locator::LinkText("Licences, permits and certificates"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(text_of(client, "#none").await, "No applications.");
        fill(client, "#commodity", "0102291010").await;
        fill(client, "#origin", "US").await;
        fill(client, "#quantity", "3000").await;
        fill(client, "#unit", "KGM").await;
        click(client, "#apply").await;
        // The agency's form asks for the establishment: named at the top, linked to the field.
        let summary = text_of(client, "#error-summary").await;
        assert!(
            summary.contains("There is a problem") && summary.contains("Establishment of origin"),
            "{summary}"
        );
        let link = client
            .find(Locator::Css("#error-summary a"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap();
        assert_eq!(link.as_deref(), Some("#fields"));
        // What was typed is kept.
        let kept = client
            .find(Locator::Css("#commodity"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some("0102291010"));
        fill(client, "#fields", "establishment=US-TX-0042").await;
        click(client, "#apply").await;
        assert_eq!(
            text_of(client, "#done").await,
            "Your application for C640 is filed with agency VET."
        );
        assert_eq!(text_of(client, "#applications .status").await, "filed");
        accessibility(client, axe_source().as_deref(), "the trader's applications").await;
        client.goto(&format!("{base}/portal")).await.unwrap();
        click(client, "#sign-out").await;
        text_of(client, "#sign-in").await;

        // The agency's officer: the queue, the application, the decision.
        let axe = axe_source();
        sign_in(client, &base, "vera").await;
        click(client, "#nav-agency").await;
        accessibility(client, axe.as_deref(), "the agency's queue").await;
        let queue = text_of(client, "#applications").await;
        assert!(
            queue.contains("GB603202734852") && queue.contains("3000 KGM"),
            "{queue}"
        );
        client
            .find(Locator::LinkText("C640"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let shown = text_of(client, "#application").await;
        assert!(
            shown.contains("US-TX-0042") && shown.contains("filed"),
            "{shown}"
        );
        // A rejection needs its reasons: the error summary says so.
        client
            .find(Locator::Css("#decision option[value='reject']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(client, "#decide").await;
        assert!(
            text_of(client, "#error-summary")
                .await
                .contains("Give the reasons")
        );
        accessibility(client, axe.as_deref(), "an application with an error").await;
        click(client, "#decide").await; // the select is back at its first choice: approve
        assert_eq!(
            text_of(client, "#done").await,
            "Decision recorded: approved."
        );
        assert_eq!(
            text_of(client, "#no-applications").await,
            "No applications."
        );
        client.goto(&format!("{base}/portal")).await.unwrap();
        click(client, "#sign-out").await;
        text_of(client, "#sign-in").await;

        // The trader sees the reference.
        sign_in(client, &base, "tom").await;
        client
            .goto(&format!("{base}/portal/applications"))
            .await
            .unwrap();
        assert_eq!(text_of(client, "#applications .status").await, "approved");
        let reference = text_of(client, "#applications .reference").await;
        assert!(
            reference.starts_with("VET-20") && reference.ends_with("-000001"),
            "{reference}"
        );
        browser.client.clone().close().await.unwrap();
    }
}
