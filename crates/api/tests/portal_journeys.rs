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
        screenshot(client, "portal-trader-declaration").await;
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
        // The receipt's own print style is applied: the Content-Security-Policy allows it by its hash.
        let width = client
            .execute("return getComputedStyle(document.body).maxWidth", vec![])
            .await
            .unwrap();
        assert_eq!(width, json!("640px"));

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
        screenshot(client, "portal-release-times").await;

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
                    "/portal/lodge/import".to_owned(),
                ],
            ),
            (
                "olga",
                vec![
                    "/portal/queue?lane=red".to_owned(),
                    format!("/portal/declarations/{third_id}"),
                    "/portal/kpis".to_owned(),
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
                "/information".to_owned(),
                "/enquiry".to_owned(),
                "/duty-calculator?code=8510&calculate=1&commodity_code=85109000&origin=CN&value=1000&currency=GBP"
                    .to_owned(),
                "/login".to_owned(),
            ] {
                client.goto(&format!("{base}{public}")).await.unwrap();
                text_of(client, "main").await;
                well_formed(client, language, &public).await;
                if size.0 == 390 {
                    accessibility(client, axe.as_deref(), &public).await;
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

/// The pre-lodged (IMD) minimal declaration: paid before the goods arrive, so that an amendment can lower it.
fn pre_lodged(lrn: &str) -> String {
    String::from_utf8(minimal(lrn))
        .unwrap()
        .replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>")
}

#[tokio::test]
async fn administrators_officers_and_analysts_do_their_work_in_a_real_browser() {
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
                refund_four_eyes_above: rust_decimal::Decimal::from(100),
                ..common::config()
            },
        )
        .await;
        portal_user(&app, "Admin Ada", "admin", None, "ada").await;
        portal_user(&app, "Trader Tom", "trader", Some("GB603202734852"), "tom").await;
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        portal_user(&app, "Analyst Ana", "risk_analyst", None, "ana").await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let browser = start_browser(&driver).await;
        let client = &browser.client;
        let base = app.base.clone();
        client.set_window_size(1280, 900).await.unwrap();

        // The administrator creates an officer (a short password first: refused at its field) and a token.
        sign_in(client, &base, "ada").await;
        submit(client, "#nav-users").await;
        fill(client, "#name", "Officer Oscar").await;
        fill(client, "#login", "oscar").await;
        fill(client, "#password", "short").await;
        submit(client, "#create-user").await;
        let link = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#error-summary a"))
            .await
            .unwrap();
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some("#password")
        );
        assert!(link.text().await.unwrap().contains("at least 12"));
        accessibility(client, axe.as_deref(), "users with an error").await;
        // What was typed is given back, never the password.
        let login = client.find(Locator::Css("#login")).await.unwrap();
        assert_eq!(login.prop("value").await.unwrap().as_deref(), Some("oscar"));
        fill(client, "#password", "a password for oscar").await;
        submit(client, "#create-user").await;
        assert_eq!(text_of(client, "#done").await, "The user is created.");
        assert_eq!(text_of(client, "#current-role").await, "customs officer");
        let oscar_page = client.current_url().await.unwrap();
        let oscar_id = oscar_page.path().rsplit('/').next().unwrap().to_owned();
        fill(client, "#token-name", "broker software").await;
        click(client, "#scope-1").await; // not everything …
        click(client, "#scope-2").await; // … only reading declarations
        submit(client, "#create-token").await;
        let secret = text_of(client, "#token-secret").await;
        assert!(secret.starts_with("adu_"), "{secret}");
        assert!(
            text_of(client, "#tokens")
                .await
                .contains("declarations:read")
        );
        accessibility(client, axe.as_deref(), "user with a new token").await;
        let read = app.get(&secret, "/api/v1/declarations").await;
        assert_eq!(read.status(), 200, "the token reads declarations");
        let write = app.post(&secret, "/api/v1/cargo-reports", json!({})).await;
        assert_eq!(write.status(), 403, "and nothing else");
        submit(client, "#revoke-1").await;
        assert_eq!(text_of(client, "#done").await, "The token is revoked.");
        submit(client, "#nav-representations").await;
        fill(client, "#representative", "GB123456789000").await;
        fill(client, "#principal", "GB123456789000").await;
        submit(client, "#grant").await;
        assert_eq!(
            client
                .find(Locator::Css("#error-summary a"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .as_deref(),
            Some("#representative")
        );
        fill(client, "#principal", "GB603202734852").await;
        submit(client, "#grant").await;
        assert_eq!(
            text_of(client, "#done").await,
            "The representation is registered."
        );
        assert!(
            text_of(client, "#representations")
                .await
                .contains("GB123456789000")
        );
        accessibility(client, axe.as_deref(), "representations").await;
        submit(client, "#sign-out").await;
        let entries = app.store.audit_entries(0, 10_000).await.unwrap();
        for action in ["user.add", "user.password", "token.create", "token.revoke"] {
            assert!(
                entries
                    .iter()
                    .any(|e| e.action == action && e.actor_role == "admin"),
                "{action} under the administrator: {entries:?}"
            );
        }

        // A refund above the threshold: the trader asks, two officers approve, the second pays it out.
        let (_, lodged) = common::json(
            app.lodge_xml(&trader, pre_lodged("WORK-1").as_bytes())
                .await,
        )
        .await;
        let id = lodged["id"].as_str().unwrap().to_owned();
        let (_, order) = common::json(
            app.post(
                &trader,
                &format!("/api/v1/declarations/{id}/payment-orders"),
                json!({}),
            )
            .await,
        )
        .await;
        let (status, _) = app
            .confirm(
                "BANKA",
                KEY,
                &json!({"confirmation_id": "TX-WORK-1", "order_reference": order["reference"], "amount": "224.00", "currency": "GBP"}),
                0,
            )
            .await;
        assert_eq!(status, 200);
        let amended = app
            .client
            .post(format!("{}/api/v1/declarations/{id}/amendments", app.base))
            .bearer_auth(&trader)
            .header("content-type", "application/xml")
            .body(pre_lodged("WORK-1").replace(">1000<", ">500<"))
            .send()
            .await
            .unwrap();
        assert_eq!(amended.status(), 200);
        sign_in(client, &base, "tom").await;
        client
            .goto(&format!("{base}/portal/declarations/{id}"))
            .await
            .unwrap();
        submit(client, "#ask-refund").await;
        assert_eq!(
            text_of(client, "#done").await,
            "The refund is asked for; officers approve it."
        );
        assert_eq!(
            text_of(client, "#declaration-refunds").await,
            "112.00 GBP: awaiting approval (approvals 0 of 2)"
        );
        submit(client, "#sign-out").await;
        for (login, done) in [
            (
                "olga",
                "Your approval is recorded; another officer approves too.",
            ),
            ("oscar", "The refund is approved and paid out."),
        ] {
            sign_in(client, &base, login).await;
            submit(client, "#nav-refunds").await;
            assert!(text_of(client, "#refunds").await.contains("WORK-1"));
            accessibility(client, axe.as_deref(), "refunds").await;
            submit(client, "button.approve").await;
            assert_eq!(text_of(client, "#done").await, done);
            if login == "olga" {
                assert!(
                    text_of(client, "#refunds")
                        .await
                        .contains("You approved it")
                );
            } else {
                assert!(text_of(client, "#none").await.contains("No refund"));
            }
            submit(client, "#sign-out").await;
        }
        sign_in(client, &base, "tom").await;
        client
            .goto(&format!("{base}/portal/declarations/{id}"))
            .await
            .unwrap();
        assert_eq!(
            text_of(client, "#declaration-refunds").await,
            "112.00 GBP: paid (approvals 2 of 2)"
        );
        let mrn = text_of(client, "#mrn").await;
        let code = text_of(client, "#public-code").await;
        submit(client, "#sign-out").await;

        // Keyboard only: the skip link comes first and leads to the page's content, whose form is filled and
        // sent without a pointer, its fields in their visual order.
        use fantoccini::key::Key;
        client.goto(&format!("{base}/status")).await.unwrap();
        // The first Tab into the page (as from the address bar): WebDriver gives the document the keys by its body.
        client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .send_keys(&Key::Tab)
            .await
            .unwrap();
        assert_eq!(focused(client).await, "skip");
        press(client, Key::Enter).await;
        assert_eq!(focused(client).await, "main");
        press(client, Key::Tab).await;
        assert_eq!(focused(client).await, "mrn");
        type_text(client, &mrn).await;
        press(client, Key::Tab).await;
        assert_eq!(focused(client).await, "code");
        type_text(client, &code).await;
        press(client, Key::Tab).await;
        assert_eq!(focused(client).await, "check");
        client
            .execute("window.__aduana_old_page = true", vec![])
            .await
            .unwrap();
        press(client, Key::Enter).await;
        assert_eq!(
            text_of(client, "#found").await,
            format!("Declaration {mrn}: settled.")
        );
        app.store.ledger().await.unwrap().verify().unwrap();

        // The analyst saves a rule with a mistake (shown at its line), then a good one, and sees its hit rate.
        sign_in(client, &base, "ana").await;
        submit(client, "#nav-rules").await;
        accessibility(client, axe.as_deref(), "rule editor").await;
        fill(
            client,
            "#text",
            "# shavers\nrule R010 \"Shavers examined\" when commodity starts_wit \"8510\" then red",
        )
        .await;
        submit(client, "#save").await;
        let summary = text_of(client, "#error-summary").await;
        assert!(summary.contains("Line 2, column"), "{summary}");
        let problem = client.find(Locator::Css(".rule-problem")).await.unwrap();
        assert_eq!(
            problem.attr("data-line").await.unwrap().as_deref(),
            Some("2")
        );
        assert!(problem.text().await.unwrap().contains("starts_wit"));
        accessibility(client, axe.as_deref(), "rule editor with an error").await;
        fill(
            client,
            "#text",
            "# shavers\nrule R010 \"Shavers examined\" when commodity starts_with \"8510\" then red",
        )
        .await;
        submit(client, "#check").await;
        assert_eq!(
            text_of(client, "#checked").await,
            "The rules are valid. Rules read: 1."
        );
        fill(client, "#comment", "Shavers undervalued").await;
        submit(client, "#save").await;
        assert_eq!(
            text_of(client, "#done").await,
            "The rules are saved as a new version."
        );
        assert!(
            text_of(client, "#versions")
                .await
                .contains("Shavers undervalued")
        );
        submit(client, "#sign-out").await;

        // The rule sends the next declaration to red, with its examiner. The officer takes it,
        // reads why it is red and records the inspection act with a photo: an irregularity, duty found.
        let (_, red) = common::json(app.lodge_xml(&trader, &minimal("WORK-2")).await).await;
        assert_eq!(red["status"], "under_control", "{red}");
        let red_id = red["id"].as_str().unwrap().to_owned();
        sign_in(client, &base, "olga").await;
        submit(client, "#nav-queue").await;
        // Its examiner was allocated when its lane was decided.
        let examiner = text_of(client, "#declarations td.examiner").await;
        assert!(
            examiner == "Officer Olga" || examiner == "Officer Oscar",
            "{examiner}"
        );
        accessibility(client, axe.as_deref(), "queue with examiners").await;
        screenshot(client, "portal-officer-queue").await;
        client
            .find(Locator::LinkText("WORK-2"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(text_of(client, "#risk-hits").await.contains("R010"));
        assert_eq!(
            text_of(client, "#examiner").await,
            format!("Examiner: {examiner}.")
        );
        fill(client, "#quantity_1", "ten").await;
        submit(client, "#record-act").await;
        let link = client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#error-summary a"))
            .await
            .unwrap();
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some("#quantity_1")
        );
        accessibility(client, axe.as_deref(), "inspection act with an error").await;
        fill(client, "#quantity_1", "10").await;
        fill(
            client,
            "#description_1",
            "Electric shavers, declared at half their price",
        )
        .await;
        click(client, "#seals_checked").await;
        click(client, "#seals_intact").await;
        fill(client, "#seal_numbers", "GB123, GB124").await;
        let photo = tempfile::tempdir().unwrap();
        let image = photo.path().join("shavers.png");
        std::fs::write(&image, b"\x89PNG\r\n\x1a\n a photo of the shavers").unwrap();
        client
            .find(Locator::Css("#images"))
            .await
            .unwrap()
            .send_keys(image.to_str().unwrap())
            .await
            .unwrap();
        client
            .find(Locator::Css(
                "#inspection-result option[value=irregularity]",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        fill(client, "#act_irregularity_type", "valuation").await;
        fill(client, "#act_additional_duty", "12.50").await;
        submit(client, "#record-act").await;
        assert_eq!(
            text_of(client, "#done").await,
            "The inspection act and the control result are recorded."
        );
        assert!(
            text_of(client, "#findings")
                .await
                .contains("Electric shavers")
        );
        assert!(text_of(client, "#act-seals").await.contains("GB123, GB124"));
        // An irregularity keeps the declaration under control until the trader amends it.
        assert_eq!(text_of(client, "#status").await, "under control");
        let href = client
            .find(Locator::Css("#act-images a"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        accessibility(client, axe.as_deref(), "declaration with its act").await;
        screenshot(client, "portal-inspection-act").await;
        let cookies = client
            .get_all_cookies()
            .await
            .unwrap()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let photo_back = app
            .client
            .get(format!("{base}{href}"))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(photo_back.status(), 200);
        assert_eq!(
            photo_back.bytes().await.unwrap().as_ref(),
            b"\x89PNG\r\n\x1a\n a photo of the shavers"
        );
        submit(client, "#sign-out").await;
        // The act and the result were written together: the act's audit entry, the control event.
        let entries = app.store.audit_entries(0, 100_000).await.unwrap();
        assert!(
            entries.iter().any(
                |e| e.action == "inspection.act" && e.subject == format!("inspection/{red_id}")
            )
        );
        sign_in(client, &base, "ana").await;
        submit(client, "#nav-hit-rates").await;
        client.find(Locator::Css("#hit-chart")).await.unwrap();
        let table = text_of(client, "#hit-rates").await;
        assert!(table.contains("R010") && table.contains("100 %"), "{table}");
        accessibility(client, axe.as_deref(), "hit rates").await;
        screenshot(client, "portal-hit-rates").await;
        // The CSV, fetched with the browser's session (the page's CSP lets no script fetch).
        let href = client
            .find(Locator::Css("#csv"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let cookies = client
            .get_all_cookies()
            .await
            .unwrap()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let csv = app
            .client
            .get(format!("{base}{href}"))
            .header("cookie", cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200);
        assert_eq!(
            csv.headers()["content-type"].to_str().unwrap(),
            "text/csv; charset=utf-8"
        );
        let csv = csv.text().await.unwrap();
        assert!(csv.contains("R010,"), "{csv}");
        submit(client, "#sign-out").await;

        // In French: the administrator's error in French, and every new page in French and Spanish, phone and
        // desktop sizes.
        client.goto(&format!("{base}/status")).await.unwrap();
        submit(client, "#language-fr").await;
        sign_in(client, &base, "ada").await;
        submit(client, "#nav-users").await;
        fill(client, "#name", "Agente Ana").await;
        fill(client, "#login", "ana2").await;
        fill(client, "#password", "court").await;
        submit(client, "#create-user").await;
        assert!(
            text_of(client, "#error-summary")
                .await
                .contains("Le mot de passe doit compter au moins 12 caractères")
        );
        submit(client, "#sign-out").await;
        // A draft rule open for comment, for its public page (with the comment form) and the administrator's.
        let now = time::OffsetDateTime::now_utc();
        let draft = administration::publication::check(
            "rule",
            "RULE-1",
            "Advance rulings",
            "Applications are decided within 90 days.\n\nRulings are valid for 3 years.",
            Some(now + time::Duration::days(30)),
            now,
        )
        .unwrap();
        let rule = app
            .store
            .add_publication(&storage::Actor::cli(), &draft, now)
            .await
            .unwrap()
            .unwrap();
        // A cargo report of Tom's (as carrier), two consignments, for the arrivals page (with its form).
        let cargo = serde_json::json!({
            "reference": "VOY-SWEEP-1",
            "carrier": {"id": "GB603202734852"},
            "transport": {"mode_code": "1", "id": "9839131"},
            "place_of_arrival": "GBFXT",
            "consignments": [
                {"sequence": 1, "transport_document": "MEDUSWEEP0001", "ucr": "1GB553202734852-12345",
                 "goods": [{"sequence": 1, "package_count": 40, "gross_mass_kg": "150"}]},
                {"sequence": 2, "transport_document": "MEDUSWEEP0002",
                 "goods": [{"sequence": 1, "package_count": 5}]}
            ]
        });
        let cargo = app
            .client
            .post(format!("{base}/api/v1/cargo-reports"))
            .bearer_auth(&trader)
            .header("content-type", "application/json")
            .body(cargo.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(cargo.status(), 201);
        let cargo: serde_json::Value = cargo.json().await.unwrap();
        let cargo_id = cargo["id"].as_str().unwrap().to_owned();
        // A transit movement of Tom's (as holder, under a guarantee waiver), for the transit page with its form.
        let departure = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transit/cc015c.xml"),
        )
        .unwrap()
        .replace("GB123456789000", "GB603202734852")
        .replace("{LRN}", "LRN-SWEEP-1");
        let start = departure.find("<GuaranteeReference>").unwrap();
        let end = departure.find("</GuaranteeReference>").unwrap() + "</GuaranteeReference>".len();
        let departure = format!("{}{}", &departure[..start], &departure[end..]).replace(
            "<guaranteeType>1</guaranteeType>",
            "<guaranteeType>0</guaranteeType>",
        );
        let movement = app
            .client
            .post(format!("{base}/api/v1/transit/departures"))
            .bearer_auth(&trader)
            .header("content-type", "application/xml")
            .body(departure)
            .send()
            .await
            .unwrap();
        assert_eq!(movement.status(), 201, "{}", movement.text().await.unwrap());
        let pages = [
            (
                "ada",
                vec![
                    "/portal/users".to_owned(),
                    format!("/portal/users/{oscar_id}"),
                    "/portal/representations".to_owned(),
                    "/portal/agencies".to_owned(),
                    "/portal/lpco-types".to_owned(),
                    "/information".to_owned(),
                    format!("/information/{}", rule.id),
                    // Last, a page with the sign-out button (public pages have none).
                    "/portal/publications".to_owned(),
                ],
            ),
            (
                "olga",
                vec![
                    "/portal/refunds".to_owned(),
                    "/portal/referrals".to_owned(),
                    "/portal/arrivals".to_owned(),
                    "/portal/transit".to_owned(),
                    "/portal/enquiries".to_owned(),
                    "/portal/queue?lane=red".to_owned(),
                    format!("/portal/declarations/{red_id}"),
                ],
            ),
            (
                "ana",
                vec![
                    "/portal/risk/rules".to_owned(),
                    "/portal/risk/lists".to_owned(),
                    "/portal/risk/rates".to_owned(),
                    "/portal/risk/models".to_owned(),
                    "/portal/risk/hit-rates".to_owned(),
                ],
            ),
            (
                "tom",
                vec![
                    "/portal/referrals".to_owned(),
                    format!("/portal/arrivals?report={cargo_id}"),
                    "/portal/transit".to_owned(),
                    format!("/portal/declarations/{id}"),
                ],
            ),
        ];
        for (language, size) in [("fr", (390, 844)), ("es", (390, 844)), ("es", (1280, 900))] {
            client.set_window_size(size.0, size.1).await.unwrap();
            client.goto(&format!("{base}/status")).await.unwrap();
            submit(client, &format!("#language-{language}")).await;
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
        browser.client.clone().close().await.unwrap();
    }
}

/// The trader's, officer's and auditor's journeys in French at phone size and in Spanish at desktop size: the
/// trader lodges a standard import by the form (adding a row without script), pays through a payment order the
/// bank confirms, and cancels another declaration; the officer sends one to red with its reason, takes it from
/// the red queue and records the control result; the auditor verifies the chain — every page in the language
/// chosen, no message id shown, nothing wider than the window, axe-core clean.
#[tokio::test]
async fn traders_officers_and_auditors_work_in_french_and_spanish() {
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
        for (code, size) in [("fr", (390, 844)), ("es", (1280, 900))] {
            let t = wording::Language::parse(code).unwrap();
            client.set_window_size(size.0, size.1).await.unwrap();
            client.goto(&format!("{base}/status")).await.unwrap();
            submit(client, &format!("#language-{code}")).await;
            sign_in(client, &base, "tom").await;

            // Lodges by the form, one more row asked first (what was typed is kept).
            client
                .goto(&format!("{base}/portal/lodge/import"))
                .await
                .unwrap();
            let lrn = format!("FORM-{code}");
            fill(client, "#lrn", &lrn).await;
            fill(client, "#item-1-description", "Shaver parts").await;
            fill(client, "#item-1-commodity", "85109000").await;
            fill(client, "#item-1-origin", "US").await;
            fill(client, "#item-1-price", "1000").await;
            submit(client, "#add-item").await;
            text_of(client, "#item-3-description").await;
            well_formed(client, code, "/portal/lodge/import").await;
            accessibility(client, axe.as_deref(), "the lodgement form").await;
            submit(client, "#lodge").await;
            assert_eq!(text_of(client, "#done").await, t.get("page-done-lodged"));
            assert_eq!(
                text_of(client, "#status").await,
                t.get("status-awaiting_payment")
            );
            well_formed(client, code, "a declaration lodged by form").await;
            accessibility(client, axe.as_deref(), "a declaration lodged by form").await;
            let url = client.current_url().await.unwrap();
            let id = url.path().rsplit('/').next().unwrap().to_owned();

            // Pays: the payment order, confirmed by the bank for the amount outstanding.
            submit(client, "#pay").await;
            let reference = text_of(client, "#order-reference").await;
            let (_, view) = common::json(
                app.get(&trader, &format!("/api/v1/declarations/{id}"))
                    .await,
            )
            .await;
            let amount = view["outstanding"].as_str().unwrap().to_owned();
            let (status, answer) = app
                .confirm(
                    "BANKA",
                    KEY,
                    &json!({"confirmation_id": format!("TX-{code}"), "order_reference": reference, "amount": amount, "currency": "GBP"}),
                    0,
                )
                .await;
            assert_eq!(status, 200, "{answer}");
            client.refresh().await.unwrap();
            assert_eq!(text_of(client, "#status").await, t.get("status-released"));

            // Cancels another: the reason asked for in the language chosen, then given.
            let other = format!("OTHER-{code}");
            let (_, lodged) = common::json(app.lodge_xml(&trader, &minimal(&other)).await).await;
            let other_id = lodged["id"].as_str().unwrap().to_owned();
            client
                .goto(&format!("{base}/portal/declarations/{other_id}"))
                .await
                .unwrap();
            submit(client, "#cancel").await;
            client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("#error-summary a[href='#reason']"))
                .await
                .unwrap();
            well_formed(client, code, "a cancellation without its reason").await;
            accessibility(client, axe.as_deref(), "a cancellation without its reason").await;
            fill(client, "#reason", "Doublon").await;
            submit(client, "#cancel").await;
            assert_eq!(text_of(client, "#status").await, t.get("status-cancelled"));
            submit(client, "#sign-out").await;

            // The officer, in the same language and size: sends a declaration to red (the reason asked for),
            // takes it from the red queue and records the control result.
            let third = format!("RED-{code}");
            let (_, lodged) = common::json(app.lodge_xml(&trader, &minimal(&third)).await).await;
            let third_id = lodged["id"].as_str().unwrap().to_owned();
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
            client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("#error-summary a[href='#lane_reason']"))
                .await
                .unwrap();
            fill(client, "#lane_reason", "Renseignement").await;
            submit(client, "#override").await;
            assert_eq!(
                text_of(client, "#status").await,
                t.get("status-under_control")
            );
            client
                .goto(&format!("{base}/portal/queue?lane=red"))
                .await
                .unwrap();
            well_formed(client, code, "the red queue").await;
            client
                .find(Locator::LinkText(&third))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            submit(client, "#record-control").await;
            assert_eq!(
                text_of(client, "#done").await,
                t.get("page-done-control-result")
            );
            well_formed(client, code, "a control result recorded").await;
            accessibility(client, axe.as_deref(), "a control result recorded").await;
            submit(client, "#sign-out").await;

            // The auditor verifies the chain.
            sign_in(client, &base, "abe").await;
            client.goto(&format!("{base}/portal/audit")).await.unwrap();
            submit(client, "#verify").await;
            assert_eq!(
                text_of(client, "#verdict").await,
                t.get("page-audit-verified")
            );
            well_formed(client, code, "the trail verified").await;
            submit(client, "#sign-out").await;
        }
        browser.client.clone().close().await.unwrap();
    }
}

/// The administrator's, the analyst's and the refund's journeys in French at phone size and in Spanish at
/// desktop size: the administrator creates an officer and a token, registers an agency and its document type
/// (a wrong number of days refused at its field, in the language); the analyst saves a rule with a mistake
/// (shown at its line) then a good one, uploads a trained model and puts it in use; a trader asks for a refund
/// above the threshold that two officers approve, the second paying it out — every page in the language chosen,
/// no message id shown, nothing wider than the window, axe-core clean.
#[tokio::test]
async fn administrators_analysts_and_refund_approvers_work_in_french_and_spanish() {
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
                refund_four_eyes_above: rust_decimal::Decimal::from(100),
                ..common::config()
            },
        )
        .await;
        portal_user(&app, "Admin Ada", "admin", None, "ada").await;
        portal_user(&app, "Trader Tom", "trader", Some("GB603202734852"), "tom").await;
        portal_user(&app, "Officer Olga", "officer", None, "olga").await;
        portal_user(&app, "Analyst Ana", "risk_analyst", None, "ana").await;
        let trader = app.user("trader", Some("GB603202734852")).await;
        let browser = start_browser(&driver).await;
        let client = &browser.client;
        let base = app.base.clone();
        let folder = tempfile::tempdir().unwrap();
        let model = folder.path().join("model.json");
        std::fs::write(&model, common::tiny_model()).unwrap();
        for (code, size, agency, document) in [
            ("fr", (390, 844), "VET", "C640"),
            ("es", (1280, 900), "PHY", "N851"),
        ] {
            let t = wording::Language::parse(code).unwrap();
            let check = async |page: &str| {
                well_formed(client, code, page).await;
                accessibility(client, axe.as_deref(), page).await;
            };
            client.set_window_size(size.0, size.1).await.unwrap();
            client.goto(&format!("{base}/status")).await.unwrap();
            submit(client, &format!("#language-{code}")).await;

            // The administrator: an officer, a token, an agency and its document type.
            sign_in(client, &base, "ada").await;
            submit(client, "#nav-users").await;
            let officer = format!("oscar{code}");
            fill(client, "#name", &format!("Officer Oscar {code}")).await;
            fill(client, "#login", &officer).await;
            fill(client, "#password", &format!("a password for {officer}")).await;
            submit(client, "#create-user").await;
            assert_eq!(
                text_of(client, "#done").await,
                t.get("page-done-user-created")
            );
            fill(client, "#token-name", "broker software").await;
            submit(client, "#create-token").await;
            assert!(text_of(client, "#token-secret").await.starts_with("adu_"));
            check("a user with a new token").await;
            submit(client, "#nav-agencies").await;
            fill(client, "#code", agency).await;
            fill(client, "#name", "Service").await;
            submit(client, "#save-agency").await;
            assert_eq!(
                text_of(client, "#done").await,
                t.with("page-agency-saved", "code", agency)
            );
            submit(client, "#nav-lpco-types").await;
            fill(client, "#code", document).await;
            fill(client, "#title", "Certificat").await;
            fill(client, "#validity_days", "0").await;
            fill(client, "#fields", "establishment: Etablissement *").await;
            submit(client, "#save-type").await;
            let link = client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("#error-summary a"))
                .await
                .unwrap();
            assert_eq!(
                link.attr("href").await.unwrap().as_deref(),
                Some("#validity_days")
            );
            assert_eq!(
                link.text().await.unwrap(),
                t.with("page-lpco-problem-validity", "days", "3660")
            );
            check("a document type refused").await;
            fill(client, "#validity_days", "90").await;
            submit(client, "#save-type").await;
            assert_eq!(
                text_of(client, "#done").await,
                t.with("page-lpco-type-saved", "code", document)
            );
            assert!(
                text_of(client, "#lpco-types")
                    .await
                    .contains("Etablissement")
            );
            check("document types").await;
            submit(client, "#sign-out").await;

            // The analyst: a rule with a mistake, then a good one; a model uploaded and put in use.
            sign_in(client, &base, "ana").await;
            submit(client, "#nav-rules").await;
            fill(
                client,
                "#text",
                "# chevaux\nrule R020 \"Chevaux\" when commodity starts_wit \"0101\" then yellow",
            )
            .await;
            submit(client, "#save").await;
            let problem = client.find(Locator::Css(".rule-problem")).await.unwrap();
            assert_eq!(
                problem.attr("data-line").await.unwrap().as_deref(),
                Some("2")
            );
            check("a rule with a mistake").await;
            fill(
                client,
                "#text",
                "# chevaux\nrule R020 \"Chevaux\" when commodity starts_with \"0101\" then yellow",
            )
            .await;
            fill(client, "#comment", "Rasoirs").await;
            submit(client, "#save").await;
            assert_eq!(
                text_of(client, "#done").await,
                t.get("page-done-rules-saved")
            );
            submit(client, "#nav-models").await;
            let name = format!("tiny-{code}");
            fill(client, "#model_name", &name).await;
            client
                .find(Locator::Css("#model_file"))
                .await
                .unwrap()
                .send_keys(model.to_str().unwrap())
                .await
                .unwrap();
            submit(client, "#store-model").await;
            assert_eq!(
                text_of(client, "#done").await,
                t.get("page-risk-model-stored-done")
            );
            check("a model stored").await;
            submit(client, &format!("#use-{name}-1")).await;
            assert_eq!(
                text_of(client, "#done").await,
                t.get("page-risk-model-chosen")
            );
            assert_eq!(
                text_of(client, "#in-use").await,
                t.with("page-risk-models-in-use", "model", &format!("{name} v1"))
            );
            // Back to deciding without a model, for the declarations that follow.
            submit(client, "#no-model").await;
            assert_eq!(
                text_of(client, "#in-use").await,
                t.get("page-risk-models-none-in-use")
            );
            submit(client, "#sign-out").await;

            // A refund above the threshold: paid, lowered by an amendment, asked for, approved twice.
            let lrn = format!("REFUND-{code}");
            let (_, lodged) =
                common::json(app.lodge_xml(&trader, pre_lodged(&lrn).as_bytes()).await).await;
            let id = lodged["id"].as_str().unwrap().to_owned();
            let (_, order) = common::json(
                app.post(
                    &trader,
                    &format!("/api/v1/declarations/{id}/payment-orders"),
                    json!({}),
                )
                .await,
            )
            .await;
            let (status, answer) = app
                .confirm(
                    "BANKA",
                    KEY,
                    &json!({"confirmation_id": format!("TX-{lrn}"), "order_reference": order["reference"], "amount": "224.00", "currency": "GBP"}),
                    0,
                )
                .await;
            assert_eq!(status, 200, "{answer}");
            let amended = app
                .client
                .post(format!("{}/api/v1/declarations/{id}/amendments", app.base))
                .bearer_auth(&trader)
                .header("content-type", "application/xml")
                .body(pre_lodged(&lrn).replace(">1000<", ">500<"))
                .send()
                .await
                .unwrap();
            assert_eq!(amended.status(), 200);
            sign_in(client, &base, "tom").await;
            client
                .goto(&format!("{base}/portal/declarations/{id}"))
                .await
                .unwrap();
            submit(client, "#ask-refund").await;
            assert_eq!(text_of(client, "#done").await, t.get("page-done-refund"));
            check("a refund asked for").await;
            submit(client, "#sign-out").await;
            for (login, done) in [
                ("olga", "page-done-refund-approved"),
                (officer.as_str(), "page-done-refund-paid"),
            ] {
                sign_in(client, &base, login).await;
                submit(client, "#nav-refunds").await;
                assert!(text_of(client, "#refunds").await.contains(&lrn));
                check("refunds awaiting approval").await;
                submit(client, "button.approve").await;
                assert_eq!(text_of(client, "#done").await, t.get(done));
                submit(client, "#sign-out").await;
            }
        }
        app.store.ledger().await.unwrap().verify().unwrap();
        browser.client.clone().close().await.unwrap();
    }
}
