//! Issue 19's journeys in a real headless Chromium (Debian's chromium and chromium-driver, over WebDriver): a
//! trader lodges by upload, follows the timeline, pays through a payment order and the simulated bank, prints
//! the receipt, and cancels another declaration (a missing reason named in the error summary, linked to its
//! field); an officer changes a declaration's lane to red with a reason, takes it from the red queue, reads why it
//! is red and records the control result; an auditor verifies the chain; the public reads a declaration's status
//! by MRN and code and the release times. Then every page in French and Spanish, at desktop and phone sizes:
//! `lang` set, no message id shown, nothing wider than the window. With axe-core (`ADUANA_AXE`, the path of
//! axe.min.js, which `.ci/run` installs from npm) each page is checked for serious or critical violations.

mod common;

use common::TestApp;
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::Duration;

const KEY: &[u8] = b"bank-a-shared-secret-for-tests";

mod browser;
use browser::*;

fn minimal(lrn: &str) -> Vec<u8> {
    String::from_utf8(include_bytes!("../../wco/tests/minimal.xml").to_vec())
        .unwrap()
        .replace("MINIMAL-1", lrn)
        .into_bytes()
}

/// axe-core's serious and critical violations of the page shown, when axe-core is available.
async fn accessibility(client: &fantoccini::Client, axe: Option<&str>, page: &str) {
    let Some(source) = axe else { return };
    client.execute(source, vec![]).await.unwrap();
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations\
               .filter(v => v.impact === 'serious' || v.impact === 'critical')\
               .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(result, json!([]), "axe-core on {page}");
}

/// The page is in `language`, shows no message id, and is no wider than the window.
async fn well_formed(client: &fantoccini::Client, language: &str, page: &str) {
    let lang = client
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang, json!(language), "{page}");
    let text = client
        .execute("return document.body.innerText", vec![])
        .await
        .unwrap();
    let text = text.as_str().unwrap_or_default().to_owned();
    for id in ["page-", "status-", "lane-", "event-", "role-", "stage-"] {
        assert!(
            !text.contains(id),
            "{page} in {language} shows a message id ({id}…): {text}"
        );
    }
    // The elements that reach past the window's right edge, if any.
    let wide = client
        .execute(
            "if (document.documentElement.scrollWidth <= window.innerWidth) return [];\
             return [...document.querySelectorAll('body *')].filter(e => !e.closest('.table'))\
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)\
               .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + getComputedStyle(e).overflowWrap + ' ' + e.parentElement.tagName + ' ' + Math.round(e.parentElement.getBoundingClientRect().right) + ' ' + window.innerWidth + ' ' + e.textContent.slice(0, 80));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!([]), "{page} in {language} scrolls sideways");
}

#[tokio::test]
async fn every_role_does_its_work_in_the_portal_in_a_real_browser() {
    for backend in common::backends() {
        let Some(driver) = chromedriver() else {
            return;
        };
        let axe = axe_source();
        let app = TestApp::spawn_full(
            backend,
            |p| {
                p.rules = selectivity::RuleSet::parse("random 0% then yellow").unwrap();
            },
            api::Config {
                bank_keys: [("BANKA".to_owned(), KEY.to_vec())].into(),
                ..common::config()
            },
        )
        .await;
        portal_user(&app, "Trader Tom", "trader", Some("GB603202734852"), "tom").await;
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        portal_user(&app, "Auditor Abe", "auditor", None, "abe").await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let browser = start_browser(&driver).await;
        let client = &browser.client;
        let base = app.base.clone();
        client.set_window_size(1280, 900).await.unwrap();

        // The trader lodges by upload: first a file that is no declaration, then the declaration.
        sign_in(client, &base, "tom").await;
        accessibility(client, axe.as_deref(), "declarations").await;
        submit(client, "#nav-lodge").await;
        let folder = tempfile::tempdir().unwrap();
        let wrong = folder.path().join("photo.txt");
        std::fs::write(&wrong, b"%PDF-1.7 not a declaration").unwrap();
        client
            .find(Locator::Css("#document"))
            .await
            .unwrap()
            .send_keys(wrong.to_str().unwrap())
            .await
            .unwrap();
        submit(client, "#lodge").await;
        let summary = text_of(client, "#error-summary").await;
        assert!(summary.contains("WCO DEC-DMS 2 XML"), "{summary}");
        let link = client.find(Locator::Css("#error-summary a")).await.unwrap();
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some("#document")
        );
        accessibility(client, axe.as_deref(), "lodge with an error").await;
        let file = folder.path().join("declaration.xml");
        std::fs::write(&file, minimal("PORTAL-1")).unwrap();
        client
            .find(Locator::Css("#document"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        submit(client, "#lodge").await;
        assert_eq!(
            text_of(client, "#done").await,
            "Your declaration is lodged."
        );
        assert_eq!(text_of(client, "#status").await, "awaiting payment");
        let timeline = text_of(client, "#timeline").await;
        assert!(
            timeline.contains("Accepted") && timeline.contains("Duties and taxes assessed"),
            "{timeline}"
        );
        assert!(text_of(client, "#assessment").await.contains("85109000"));
        assert!(
            text_of(client, "#waits")
                .await
                .contains("Payment of 224.00 GBP")
        );
        accessibility(client, axe.as_deref(), "declaration").await;
        let url = client.current_url().await.unwrap();
        let id = url.path().rsplit('/').next().unwrap().to_owned();
        let mrn = text_of(client, "#mrn").await;
        let code = text_of(client, "#public-code").await;

        // Pays: a payment order, which the bank confirms (the simulated bank signs its confirmation).
        submit(client, "#pay").await;
        assert_eq!(text_of(client, "#done").await, "A payment order is issued.");
        let reference = text_of(client, "#order-reference").await;
        assert_eq!(text_of(client, "#order-amount").await, "224.00 GBP");
        let (status, answer) = app
            .confirm(
                "BANKA",
                KEY,
                &json!({"confirmation_id": "TX-PORTAL-1", "order_reference": reference, "amount": "224.00", "currency": "GBP"}),
                0,
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        client.refresh().await.unwrap();
        assert_eq!(text_of(client, "#status").await, "released");
        assert_eq!(text_of(client, "#outstanding").await, "0.00 GBP");
        submit(client, "#receipts a").await;
        let receipt = text_of(client, "body").await;
        assert!(
            receipt.contains("224.00") && receipt.contains(&reference),
            "{receipt}"
        );

        // Cancels another: the reason is required, named in the summary and linked to its field.
        let (_, other) = common::json(app.lodge_xml(&trader, &minimal("PORTAL-2")).await).await;
        let other_id = other["id"].as_str().unwrap().to_owned();
        client.goto(&format!("{base}/portal")).await.unwrap();
        assert!(text_of(client, "#declarations").await.contains("PORTAL-2"));
        client
            .find(Locator::LinkText("PORTAL-2"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        submit(client, "#cancel").await;
        let link = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#error-summary a"))
            .await
            .unwrap();
        assert_eq!(link.attr("href").await.unwrap().as_deref(), Some("#reason"));
        assert!(link.text().await.unwrap().contains("reason"));
        fill(client, "#reason", "Lodged twice by mistake").await;
        submit(client, "#cancel").await;
        assert_eq!(text_of(client, "#status").await, "cancelled");
        submit(client, "#sign-out").await;

        // The public: the status by MRN and code, nothing else; a wrong code tells nothing.
        client
            .goto(&format!("{base}/status?mrn={mrn}&code=WRONGCODE2"))
            .await
            .unwrap();
        assert!(
            text_of(client, "#error-summary")
                .await
                .contains("No declaration has this MRN")
        );
        client.goto(&format!("{base}/status")).await.unwrap();
        fill(client, "#mrn", &mrn).await;
        fill(client, "#code", &code).await;
        submit(client, "#check").await;
        assert_eq!(
            text_of(client, "#found").await,
            format!("Declaration {mrn}: released.")
        );
        accessibility(client, axe.as_deref(), "status").await;
        client.goto(&format!("{base}/release-times")).await.unwrap();
        let times = text_of(client, "#release-times").await;
        assert!(times.contains("Released") && times.contains('1'), "{times}");
        client.find(Locator::Css("#stages-chart")).await.unwrap();
        accessibility(client, axe.as_deref(), "release times").await;

        // The officer: a declaration sent to red with a reason, found in the red queue, read, controlled.
        let (_, third) = common::json(app.lodge_xml(&trader, &minimal("PORTAL-3")).await).await;
        let third_id = third["id"].as_str().unwrap().to_owned();
        sign_in(client, &base, "olga").await;
        client
            .goto(&format!("{base}/portal/declarations/{third_id}"))
            .await
            .unwrap();
        client
            .find(Locator::Css("#new-lane option[value=red]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        submit(client, "#override").await;
        let link = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#error-summary a"))
            .await
            .unwrap();
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some("#lane_reason")
        );
        fill(
            client,
            "#lane_reason",
            "Intelligence: shavers declared below value",
        )
        .await;
        submit(client, "#override").await;
        assert_eq!(text_of(client, "#status").await, "under control");
        submit(client, "#nav-queue").await;
        client
            .find(Locator::LinkText("PORTAL-3"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(
            text_of(client, "#risk-reason")
                .await
                .contains("shavers declared below value")
        );
        assert!(
            text_of(client, "#waits")
                .await
                .contains("physical examination")
        );
        accessibility(client, axe.as_deref(), "officer's declaration").await;
        submit(client, "#record-control").await;
        assert_eq!(
            text_of(client, "#done").await,
            "The control result is recorded."
        );
        assert_eq!(text_of(client, "#status").await, "awaiting payment");
        submit(client, "#sign-out").await;

        // The auditor verifies the chain.
        sign_in(client, &base, "abe").await;
        submit(client, "#nav-audit").await;
        assert!(text_of(client, "#entries").await.contains("declaration/"));
        submit(client, "#verify").await;
        assert_eq!(text_of(client, "#verdict").await, "The trail is intact.");
        accessibility(client, axe.as_deref(), "audit").await;
        submit(client, "#sign-out").await;

        // Every page in French and Spanish, at desktop and phone sizes, chosen with the switcher.
        let pages = [
            (
                "tom",
                vec![
                    "/portal".to_owned(),
                    format!("/portal/declarations/{id}"),
                    format!("/portal/declarations/{other_id}"),
                    "/portal/lodge".to_owned(),
                ],
            ),
            (
                "olga",
                vec![
                    "/portal/queue?lane=red".to_owned(),
                    format!("/portal/declarations/{third_id}"),
                ],
            ),
            ("abe", vec!["/portal/audit".to_owned()]),
        ];
        for (language, size) in [
            ("fr", (390, 844)),
            ("es", (390, 844)),
            ("fr", (1280, 900)),
            ("es", (1280, 900)),
        ] {
            client.set_window_size(size.0, size.1).await.unwrap();
            client.goto(&format!("{base}/status")).await.unwrap();
            submit(client, &format!("#language-{language}")).await;
            for public in [
                format!("/status?mrn={mrn}&code={code}"),
                "/release-times".to_owned(),
                "/login".to_owned(),
            ] {
                client.goto(&format!("{base}{public}")).await.unwrap();
                text_of(client, "main").await;
                if public != "/login" {
                    well_formed(client, language, &public).await;
                }
            }
            for (login, addresses) in &pages {
                sign_in(client, &base, login).await;
                for address in addresses {
                    client.goto(&format!("{base}{address}")).await.unwrap();
                    text_of(client, "main").await;
                    well_formed(client, language, address).await;
                    if size.0 == 390 {
                        accessibility(client, axe.as_deref(), address).await;
                    }
                }
                submit(client, "#sign-out").await;
            }
        }
        client.set_window_size(1280, 900).await.unwrap();
        client.goto(&format!("{base}/status")).await.unwrap();
        submit(client, "#language-fr").await;
        client
            .goto(&format!("{base}/status?mrn={mrn}&code={code}"))
            .await
            .unwrap();
        assert_eq!(
            text_of(client, "#found").await,
            format!("Déclaration {mrn} : mainlevée accordée.")
        );
        let _: Value = json!(null);
        browser.client.clone().close().await.unwrap();
    }
}
