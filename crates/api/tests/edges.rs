//! Finding 10 of issue 14, the lesser gaps at the HTTP edge: every answer comes from the error table, with the
//! security headers, whatever the request does wrong — a query value of the wrong type, a body that never
//! arrives, too many headers, a method the path does not take, a lower-case bearer scheme — and guessing tokens
//! is throttled.

mod common;

use common::{Backend, TestApp, json};
use std::io::{Read, Write};
use std::time::Duration;

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_full(
        backend,
        |_| {},
        api::Config {
            body_timeout: Duration::from_secs(1),
            ..common::config()
        },
    )
    .await
}

/// Sends raw bytes and reads the whole answer (the server closes or answers within a few seconds).
fn raw(base: &str, request: &[u8], then_wait: Duration) -> String {
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    std::thread::sleep(then_wait);
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && let Some(length) = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            && body.len() >= length.trim().parse::<usize>().unwrap_or(0)
        {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn every_refusal_at_the_edge_is_coded_with_the_security_headers() {
    for backend in common::backends() {
        refusals_at_the_edge(backend).await;
    }
}

async fn refusals_at_the_edge(backend: Backend) {
    let app = spawn(backend).await;
    let officer = app.user("officer", None).await;

    // A query value of the wrong type: the table's request.invalid_query as JSON, not axum's plain text.
    let response = app.get(&officer, "/api/v1/declarations?limit=abc").await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().contains_key("content-security-policy"));
    let (_, body) = json(response).await;
    assert_eq!(body["code"], "request.invalid_query", "{body}");

    // A method the path does not take: 405 with Allow, not 403.
    let response = app
        .client
        .delete(format!("{}/api/v1/declarations", app.base))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let (_, body) = json(response).await;
    assert_eq!(body["code"], "request.method_not_allowed");

    // The bearer scheme in any case (RFC 7235).
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = app
            .client
            .get(format!("{}/api/v1/declarations", app.base))
            .header("authorization", format!("{scheme} {officer}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }

    // More than 100 headers: the table's 431 with a body and our headers (the parser's own answer was empty).
    let mut request = format!(
        "GET /api/v1/declarations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {officer}\r\n"
    );
    for n in 0..150 {
        request.push_str(&format!("X-Extra-{n}: {n}\r\n"));
    }
    request.push_str("\r\n");
    let base = app.base.clone();
    let answer =
        tokio::task::spawn_blocking(move || raw(&base, request.as_bytes(), Duration::ZERO))
            .await
            .unwrap();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(answer.contains("request.headers_too_large"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-security-policy"),
        "{answer}"
    );

    // A body that never arrives: request.timeout after the body timeout, with the headers.
    let trader = app.user("trader", Some("GB603202734852")).await;
    let request = format!(
        "POST /api/v1/declarations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {trader}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"lrn\":"
    );
    let base = app.base.clone();
    let answer =
        tokio::task::spawn_blocking(move || raw(&base, request.as_bytes(), Duration::ZERO))
            .await
            .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request.timeout"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-security-policy"),
        "{answer}"
    );
}

/// Invalid bearer tokens were never throttled (600 answered 600 × 401, each a database look-up). An address that
/// sent 100 unknown tokens in a minute is answered 429 without a look-up until the minute ends; a token already
/// known goes on working.
#[tokio::test]
async fn guessing_tokens_is_throttled_per_address() {
    for backend in common::backends() {
        guessing(backend).await;
    }
}

async fn guessing(backend: Backend) {
    let app = spawn(backend).await;
    let officer = app.user("officer", None).await;
    let response = app.get(&officer, "/api/v1/declarations").await;
    assert_eq!(response.status(), 200, "cached before the guessing starts");
    let mut statuses = Vec::new();
    for n in 0..130 {
        let response = app.get(&format!("guess-{n}"), "/api/v1/declarations").await;
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..100].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[100..].iter().all(|s| *s == 429), "{statuses:?}");
    let (status, body) = json(app.get("guess-again", "/api/v1/declarations").await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("request.rate_limited"))
    );
    let response = app.get(&officer, "/api/v1/declarations").await;
    assert_eq!(response.status(), 200, "a known token goes on working");
}
