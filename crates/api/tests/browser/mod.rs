//! What the browser tests share: chromedriver and Chromium started headless, portal users, signing in, and
//! waiting for what a page shows. Included by each browser test (`mod browser`).

#![allow(dead_code)]

use crate::common::TestApp;
use fantoccini::{ClientBuilder, Locator};
use reqwest::header;
use std::time::Duration;

/// axe-core's script (`ADUANA_AXE`: the path of axe.min.js); required in CI, where `.ci/run` installs it.
pub fn axe_source() -> Option<String> {
    match std::env::var("ADUANA_AXE") {
        Ok(path) => Some(
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("ADUANA_AXE={path}: {e}")),
        ),
        Err(_) if test_support::in_ci() => {
            panic!("ADUANA_AXE is not set: in CI every page is checked with axe-core")
        }
        Err(_) => {
            eprintln!(
                "SKIPPED accessibility checks: ADUANA_AXE (the path of axe-core's axe.min.js) is not set"
            );
            None
        }
    }
}

pub fn chromedriver() -> Option<String> {
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

pub struct Driver {
    pub _process: tokio::process::Child,
    pub _profile: tempfile::TempDir,
    pub client: fantoccini::Client,
}

pub async fn start_browser(driver: &str) -> Driver {
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

/// The text of the element `css` names, waiting for it up to 30 s (CI runs the browser beside the other tests on
/// two cores); when it never comes, the panic says where the browser is and what the page shows.
pub async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    match client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element.text().await.unwrap(),
        Err(error) => {
            let url = client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let page = client
                .execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("{css}: {error}; at {url}, the page shows: {page}")
        }
    }
}

pub async fn fill(client: &fantoccini::Client, css: &str, value: &str) {
    let element = client.find(Locator::Css(css)).await.unwrap();
    element.clear().await.unwrap();
    element.send_keys(value).await.unwrap();
}

/// Creates a user with a portal login and password.
pub async fn portal_user(app: &TestApp, name: &str, role: &str, party: Option<&str>, login: &str) {
    let now = time::OffsetDateTime::now_utc();
    let user = app
        .store
        .add_user_as(
            &storage::Actor::cli(),
            storage::NewUser {
                name: name.into(),
                role: role.into(),
                party: party.map(str::to_owned),
                login: Some(login.into()),
            },
            now,
        )
        .await
        .unwrap();
    app.store
        .change_user(
            &storage::Actor::cli(),
            &user.id,
            storage::UserChange {
                password_hash: Some(
                    api::hash_password(&format!("a password for {login}")).unwrap(),
                ),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
}

pub async fn sign_in(client: &fantoccini::Client, base: &str, login: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    fill(client, "#login", login).await;
    fill(client, "#password", &format!("a password for {login}")).await;
    client
        .find(Locator::Css("#sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_of(client, "#who").await;
}

pub async fn click(client: &fantoccini::Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Clicks what `css` names and waits until the browser has left the page and loaded the next one: a click
/// returns before the navigation it starts ends, and a later `goto` or read could race it.
pub async fn submit(client: &fantoccini::Client, css: &str) {
    client
        .execute("window.__aduana_old_page = true", vec![])
        .await
        .unwrap();
    click(client, css).await;
    for _ in 0..300 {
        let loaded = client
            .execute(
                "return window.__aduana_old_page !== true && document.readyState === 'complete'",
                vec![],
            )
            .await;
        if matches!(loaded, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: the click led to no new page in 30 s");
}

/// With `ADUANA_SCREENSHOTS` (a folder), saves the page shown as `{name}.png` there: how the README's pictures
/// of the portal are made (`docs/portal-*.png`).
pub async fn screenshot(client: &fantoccini::Client, name: &str) {
    let Ok(folder) = std::env::var("ADUANA_SCREENSHOTS") else {
        return;
    };
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        std::path::Path::new(&folder).join(format!("{name}.png")),
        png,
    )
    .unwrap();
}

/// Presses one key (a keyboard-only journey).
pub async fn press(client: &fantoccini::Client, key: fantoccini::key::Key) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let value: char = key.into();
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value })
        .then(KeyAction::Up { value });
    client.perform_actions(actions).await.unwrap();
}

/// Types into whatever has the focus.
pub async fn type_text(client: &fantoccini::Client, text: &str) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// What has the focus: its id, else its class.
pub async fn focused(client: &fantoccini::Client) -> String {
    client
        .execute(
            "const e = document.activeElement; return e ? (e.id || e.className || e.tagName) : ''",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// Portal sessions over plain HTTP (for tests that post forms without a browser).

/// A cookie the response sets (`name=value`).
pub fn set_cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.split('=').next().is_some_and(|n| n.contains(name)))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

pub fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Signs `login` in (the password `portal_user` gave it): the session cookie to send.
pub async fn session(app: &TestApp, client: &reqwest::Client, login: &str) -> String {
    let form = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csrf_cookie = set_cookie(&form, "aduana_login_csrf");
    let csrf = hidden_csrf(&form.text().await.unwrap());
    let password = format!("a password for {login}");
    let response = client
        .post(format!("{}/login", app.base))
        .header(header::COOKIE, csrf_cookie)
        .form(&[
            ("login", login),
            ("password", password.as_str()),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    set_cookie(&response, "aduana_session")
}

/// axe-core's serious and critical violations of the page shown, when axe-core is available.
pub async fn accessibility(client: &fantoccini::Client, axe: Option<&str>, page: &str) {
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
    assert_eq!(result, serde_json::json!([]), "axe-core on {page}");
}

/// The linked fields of a page's error summary.
pub fn linked(html: &str) -> Vec<String> {
    html.split("<li><a href=\"#")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}
