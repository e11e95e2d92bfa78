//! The public duty-calculator page in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver: search, follow the hierarchy, calculate, and see a field error. Skips with a reason when
//! chromedriver is absent, except in CI, where `.ci/run` installs it.

mod common;

use common::TestApp;
use fantoccini::{ClientBuilder, Locator};
use std::time::Duration;

fn chromedriver() -> Option<String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    let reason = format!("{path} not found (apt-get install chromium chromium-driver)");
    if test_support::in_ci() {
        panic!("{reason}: in CI the browser tests must run");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

struct Driver {
    _process: tokio::process::Child,
    _profile: tempfile::TempDir,
    client: fantoccini::Client,
}

async fn start_browser(driver: &str) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let process = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": binary,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-quic",
                     format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    let mut last_error = String::new();
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => {
                return Driver {
                    _process: process,
                    _profile: profile,
                    client,
                };
            }
            Err(error) => {
                last_error = error.to_string();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("chromedriver did not answer: {last_error}");
}

async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn fill(client: &fantoccini::Client, css: &str, value: &str) {
    let element = client.find(Locator::Css(css)).await.unwrap();
    element.clear().await.unwrap();
    element.send_keys(value).await.unwrap();
}

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
        // The page's inline style is applied: the Content-Security-Policy allows it by its hash.
        let width = client
            .execute("return getComputedStyle(document.body).maxWidth", vec![])
            .await
            .unwrap();
        assert_eq!(width, serde_json::json!("960px"));
        fill(client, "#login", "ada").await;
        fill(client, "#password", "not the password").await;
        client
            .find(Locator::Css("#sign-in"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            text_of(client, "#error").await,
            "The login or password is wrong."
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
        assert!(who.contains("Officer Ada (officer)"), "{who}");
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
