//! Authentication and hardening, end to end over HTTP: token expiry, revocation and disabled users; rate limits;
//! security headers; header size; representations; the portal's sign-in with CSRF and throttling; the audit
//! trail's entries for all of it.

mod common;

use common::{TestApp, json};
use reqwest::header;
use sha2::Digest;

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &[u8] = include_bytes!("../../wco/tests/minimal.xml");

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn expired_revoked_and_disabled_tokens_are_refused_with_their_own_codes() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
        let expired = app
            .user_with_token("officer", None, &["*"], Some(past))
            .await;
        let (status, body) = json(app.get(&expired, "/api/v1/declarations").await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("auth.token_expired"))
        );

        let future = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let valid = app
            .user_with_token("officer", None, &["*"], Some(future))
            .await;
        assert_eq!(app.get(&valid, "/api/v1/declarations").await.status(), 200);

        // Revoked before its first use (a token in use is refused within the cache time, TOKEN_CACHE_SECONDS).
        let revoked = app.user_with_token("officer", None, &["*"], None).await;
        let hash = api::token_hash(&revoked);
        let (user, token) = app.store.token_by_hash(&hash).await.unwrap().unwrap();
        assert!(
            app.store
                .revoke_token(
                    &storage::Actor::cli(),
                    &token.id,
                    time::OffsetDateTime::now_utc()
                )
                .await
                .unwrap()
        );
        let (status, body) = json(app.get(&revoked, "/api/v1/declarations").await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("auth.token_revoked"))
        );

        // Disabling a user revokes its tokens.
        let other = app.user_with_token("officer", None, &["*"], None).await;
        let (other_user, _) = app
            .store
            .token_by_hash(&api::token_hash(&other))
            .await
            .unwrap()
            .unwrap();
        app.store
            .change_user(
                &storage::Actor::cli(),
                &other_user.id,
                storage::UserChange {
                    disable: true,
                    ..Default::default()
                },
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        assert_eq!(app.get(&other, "/api/v1/declarations").await.status(), 401);
        let _ = user;

        // Each of these changes is in the audit trail.
        let entries = app.store.audit_entries(0, 1000).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for action in ["user.add", "token.create", "token.revoke", "user.disable"] {
            assert!(
                actions.contains(&action),
                "{backend:?}: no {action} in {actions:?}"
            );
        }
    }
}

#[tokio::test]
async fn requests_over_the_rate_are_refused_with_retry_after_per_token_and_per_address() {
    for backend in common::backends() {
        let config = api::Config {
            rate_limit: Some(api::RateLimit {
                per_second: 1,
                burst: 3,
            }),
            ..common::config()
        };
        let app = TestApp::spawn_full(backend, |_| {}, config).await;
        let busy = app.user("officer", None).await;
        let calm = app.user("officer", None).await;
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(app.get(&busy, "/api/v1/declarations").await);
        }
        let last = statuses.pop().unwrap();
        assert_eq!(last.status(), 429);
        let retry: u64 = last.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry), "{retry}");
        let (_, body) = json(last).await;
        assert_eq!(body["code"], "request.rate_limited");
        // Another token has its own bucket.
        assert_eq!(app.get(&calm, "/api/v1/declarations").await.status(), 200);
        // Public routes are limited per client address.
        let mut last = 0;
        for _ in 0..5 {
            last = app
                .client
                .get(format!("{}/api/v1/tariff/851090", app.base))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
        }
        assert_eq!(last, 429);
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_the_csp_allows_exactly_our_styles() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let page = app
            .client
            .get(format!("{}/duty-calculator", app.base))
            .send()
            .await
            .unwrap();
        let headers = page.headers().clone();
        let html = page.text().await.unwrap();
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
        // Portal pages use the one stylesheet; the printable receipt's inline style is allowed by its hash, so
        // the browser applies it (the journeys check it is applied).
        assert!(
            !html.contains("<style>"),
            "the calculator uses the stylesheet"
        );
        let receipt = include_str!("../templates/receipt.html");
        let start = receipt.find("<style>").unwrap() + "<style>".len();
        let end = start + receipt[start..].find("</style>").unwrap();
        use base64::Engine;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(&receipt.as_bytes()[start..end]));
        assert!(
            csp.contains(&format!("'sha256-{hash}'")),
            "{csp} lacks {hash}"
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");

        let token = app.user("officer", None).await;
        let api = app.get(&token, "/api/v1/declarations").await;
        assert_eq!(api.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(api.headers()[header::CACHE_CONTROL], "no-store");

        // Headers larger than the limit: 431 with a code.
        let response = app
            .client
            .get(format!("{}/api/v1/declarations", app.base))
            .bearer_auth(&token)
            .header("x-padding", "a".repeat(api_max_header_bytes() + 1))
            .send()
            .await
            .unwrap();
        let (status, body) = json(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (431, Some("request.headers_too_large"))
        );
    }
}

fn api_max_header_bytes() -> usize {
    16 * 1024
}

#[tokio::test]
async fn a_representative_lodges_only_for_its_registered_principals() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        // The minimal declaration's declarant is DECLARANT; a broker names itself as representative.
        let broker_party = "GB111111111000";
        let xml = String::from_utf8(MINIMAL.to_vec()).unwrap();
        let xml = xml.replacen(
            "<Declarant>",
            &format!(
                "<Agent><ID>{broker_party}</ID><FunctionCode>2</FunctionCode></Agent><Declarant>"
            ),
            1,
        );
        let broker = app.user("trader", Some(broker_party)).await;
        let (status, body) = json(app.lodge_xml(&broker, xml.as_bytes()).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("auth.not_representative")),
            "{backend:?} {body}"
        );
        let now = time::OffsetDateTime::now_utc();
        app.store
            .set_representation(&storage::Actor::cli(), broker_party, DECLARANT, true, now)
            .await
            .unwrap();
        let (status, body) = json(app.lodge_xml(&broker, xml.as_bytes()).await).await;
        assert!(
            status == 201 || status == 200,
            "{backend:?} {status} {body}"
        );
        // The broker sees it; after revocation it may not lodge another.
        let id = body["id"].as_str().unwrap();
        assert_eq!(
            app.get(&broker, &format!("/api/v1/declarations/{id}"))
                .await
                .status(),
            200
        );
        app.store
            .set_representation(&storage::Actor::cli(), broker_party, DECLARANT, false, now)
            .await
            .unwrap();
        let again = common::with_lrn(xml.as_bytes(), "REP-2");
        let (status, _) = json(app.lodge_xml(&broker, &again).await).await;
        assert_eq!(status, 403);
    }
}

/// Cookies from a response's Set-Cookie headers: (name, value, attributes).
fn set_cookies(response: &reqwest::Response) -> Vec<(String, String, String)> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (pair, attributes) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=')?;
            Some((name.to_owned(), value.to_owned(), attributes.to_owned()))
        })
        .collect()
}

fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Opens the sign-in page: the form's CSRF token and the cookie holding the same.
async fn login_form(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    let page = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = set_cookies(&page)
        .into_iter()
        .find(|(n, _, _)| n == "aduana_login_csrf")
        .expect("login CSRF cookie");
    assert!(cookie.2.contains("HttpOnly") && cookie.2.contains("SameSite=Strict"));
    let html = page.text().await.unwrap();
    let csrf = hidden_csrf(&html);
    assert_eq!(csrf, cookie.1);
    (csrf, format!("aduana_login_csrf={}", cookie.1))
}

async fn post_login(
    app: &TestApp,
    client: &reqwest::Client,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let (csrf, cookie) = login_form(app, client).await;
    client
        .post(format!("{}/login", app.base))
        .header(header::COOKIE, cookie)
        .form(&[
            ("login", login),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn portal_sign_in_with_argon2_sessions_csrf_and_throttling() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let client = no_redirects();
        let now = time::OffsetDateTime::now_utc();
        let password = "correct horse battery staple";
        let mut users = Vec::new();
        for login in ["alice", "bob"] {
            let user = app
                .store
                .add_user_as(
                    &storage::Actor::cli(),
                    storage::NewUser {
                        name: format!("Trader {login}"),
                        role: "trader".into(),
                        party: Some(DECLARANT.into()),
                        login: Some(login.into()),
                    },
                    now,
                )
                .await
                .unwrap();
            let hash = api::hash_password(password).unwrap();
            assert!(hash.starts_with("$argon2id$"), "{hash}");
            app.store
                .change_user(
                    &storage::Actor::cli(),
                    &user.id,
                    storage::UserChange {
                        password_hash: Some(hash),
                        ..Default::default()
                    },
                    now,
                )
                .await
                .unwrap();
            users.push(user);
        }
        let trader = app.user("trader", Some(DECLARANT)).await;
        assert_eq!(app.lodge_xml(&trader, MINIMAL).await.status().as_u16(), 201);

        // No CSRF token, or another one: refused before the password is even looked at.
        let response = client
            .post(format!("{}/login", app.base))
            .form(&[("login", "alice"), ("password", password), ("csrf", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        // A form posted from another site is refused even with a token.
        let (csrf, cookie) = login_form(&app, &client).await;
        let response = client
            .post(format!("{}/login", app.base))
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, "https://evil.example")
            .form(&[
                ("login", "alice"),
                ("password", password),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);

        // Wrong passwords: 401 each time, then throttled (429) even with the right password.
        for _ in 0..5 {
            let response = post_login(&app, &client, "bob", "wrong password!").await;
            assert_eq!(response.status(), 401);
            assert!(
                response
                    .text()
                    .await
                    .unwrap()
                    .contains("The login or password is wrong.")
            );
        }
        assert_eq!(
            post_login(&app, &client, "bob", password).await.status(),
            429
        );
        // An unknown login answers as a wrong password does.
        assert_eq!(
            post_login(&app, &client, "nobody", password).await.status(),
            401
        );

        // The right password: a session cookie, HttpOnly, Secure, SameSite=Strict, host-only.
        let response = post_login(&app, &client, "alice", password).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()[header::LOCATION], "/portal");
        let (name, session, attributes) = set_cookies(&response)
            .into_iter()
            .find(|(n, _, _)| n.contains("aduana_session"))
            .expect("session cookie");
        assert_eq!(name, "__Host-aduana_session");
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(attributes.contains(attribute), "{attributes}");
        }
        assert!(!attributes.contains("Domain"), "{attributes}");
        let cookie = format!("{name}={session}");
        let page = client
            .get(format!("{}/portal", app.base))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("Signed in as Trader alice"), "{html}");
        assert!(html.contains("<table id=\"declarations\">"), "{html}");
        let csrf = hidden_csrf(&html);

        // Sign-out needs the session's CSRF token.
        let response = client
            .post(format!("{}/logout", app.base))
            .header(header::COOKIE, &cookie)
            .form(&[("csrf", "not-the-token")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        let response = client
            .post(format!("{}/logout", app.base))
            .header(header::COOKIE, &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        // The old cookie opens nothing any more.
        let page = client
            .get(format!("{}/portal", app.base))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303);
        assert_eq!(page.headers()[header::LOCATION], "/login");

        // Failures from one address, whatever the login, are throttled at 20: six so far (bob's five, nobody's
        // one; a throttled try is not a failure), so the fifteenth new guess is refused.
        let mut throttled_at = None;
        for n in 0..30 {
            let status = post_login(&app, &client, &format!("guess{n}"), "wrong password!")
                .await
                .status();
            if status == 429 {
                throttled_at = Some(n);
                break;
            }
            assert_eq!(status, 401);
        }
        assert_eq!(throttled_at, Some(14));

        // Sign-ins, failures and sign-outs are in the audit trail, and the chain holds.
        let entries = app.store.audit_entries(0, 1000).await.unwrap();
        let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
        assert_eq!(count("user.login"), 1, "{backend:?}");
        assert_eq!(count("user.logout"), 1, "{backend:?}");
        assert!(count("user.login_failed") >= 6, "{backend:?}");
        assert_eq!(count("user.password"), 2, "{backend:?}");
        audit::verify(&entries, vec![], &[]).unwrap();
        // No password or session secret is in the trail.
        let text = format!("{entries:?}");
        assert!(!text.contains(password) && !text.contains(&session));
    }
}

#[tokio::test]
async fn auditors_read_the_trail_and_their_reads_are_recorded() {
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let auditor = app.user("auditor", None).await;
        let (status, lodged) = json(app.lodge_xml(&trader, MINIMAL).await).await;
        assert_eq!(status, 201);
        let id = lodged["id"].as_str().unwrap();
        // The auditor reads declarations but may not decide anything.
        assert_eq!(
            app.get(&auditor, &format!("/api/v1/declarations/{id}"))
                .await
                .status(),
            200
        );
        let refused = app
            .post(
                &auditor,
                &format!("/api/v1/declarations/{id}/release"),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(refused.status(), 403);

        let (status, page) =
            json(app.get(&auditor, "/api/v1/audit/entries?limit=1000").await).await;
        assert_eq!(status, 200, "{page}");
        let entries: Vec<audit::Entry> = serde_json::from_value(page["entries"].clone()).unwrap();
        let summary = audit::verify(&entries, vec![], &[]).unwrap();
        assert_eq!(summary.head.seq, page["head"]["seq"].as_u64().unwrap());
        let (_, events) = json(
            app.get(&auditor, &format!("/api/v1/declarations/{id}/audit"))
                .await,
        )
        .await;
        let entries = events["entries"].as_array().unwrap();
        let stored = app.store.events(id).await.unwrap();
        let events: Vec<&serde_json::Value> = entries
            .iter()
            .filter(|e| e["action"] == "declaration.event")
            .collect();
        assert_eq!(
            events.len(),
            stored.len(),
            "{backend:?}: one entry per event"
        );
        // And one per version received (the lodgement is version 1); nothing else.
        let versions: Vec<&serde_json::Value> = entries
            .iter()
            .filter(|e| e["action"] == "declaration.version")
            .collect();
        assert_eq!(versions.len(), 1, "{backend:?}: {entries:?}");
        assert_eq!(events.len() + versions.len(), entries.len());
        // The two reads are exports, recorded with the auditor as actor.
        let all = app.store.audit_entries(0, 10_000).await.unwrap();
        let exports: Vec<_> = all.iter().filter(|e| e.action == "export").collect();
        assert_eq!(exports.len(), 2, "{backend:?}: {exports:?}");
        assert!(exports.iter().all(|e| e.actor_role == "auditor"));
        // A trader may not read the trail.
        assert_eq!(
            app.get(&trader, "/api/v1/audit/entries").await.status(),
            403
        );
    }
}
