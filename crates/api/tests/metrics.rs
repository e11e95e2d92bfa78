//! `GET /metrics` on SQLite and PostgreSQL: what operators watch (declarations by status and lane, lodgement to
//! release, writer batches, queues, the audit chain, requests and rejections by code) in Prometheus's text format.
//! Counters and histograms are the process's (the test's servers share one recorder), so they are read as
//! differences; the gauges are the database's and exact.

mod common;

use common::{TestApp, json, with_lrn};

const DECLARANT: &str = "GB603202734852";

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    response.text().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as rendered), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_show_what_operators_watch() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let xml = std::fs::read(samples.join("TT_IM001b/TT_IM001b.xml")).unwrap();
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let trader = app.user("trader", Some(DECLARANT)).await;
        let before = scrape(&app).await;
        for sequence in 0..3 {
            let lodged = with_lrn(&xml, &format!("METRICS{sequence}"));
            let (status, answer) = json(app.lodge_xml(&trader, &lodged).await).await;
            assert_eq!(status, 201, "{backend:?}: {answer}");
        }
        // Two refusals from the error table: a declaration that does not exist, a token nobody issued.
        let (status, _) = json(app.get(&trader, "/api/v1/declarations/none").await).await;
        assert_eq!(status, 404);
        let (status, _) = json(app.get("not-a-token", "/api/v1/declarations").await).await;
        assert_eq!(status, 401);
        let after = scrape(&app).await;
        let grew = |series: &str| value(&after, series) - value(&before, series);

        // The database's figures, exact: TT_IM001b is released on lodgement (green, duties deferred).
        assert_eq!(
            value(
                &after,
                "aduana_declarations{status=\"released\",lane=\"green\"}"
            ),
            3.0,
            "{backend:?}:\n{after}"
        );
        assert_eq!(
            value(
                &after,
                "aduana_declarations{status=\"rejected\",lane=\"none\"}"
            ),
            0.0
        );
        assert!(after.contains("aduana_declarations{status=\"rejected\",lane=\"none\"} 0"));
        assert!(
            value(&after, "aduana_audit_chain_length")
                > value(&before, "aduana_audit_chain_length"),
            "{backend:?}: the audit chain grows with each lodgement"
        );
        for queue in [
            "payment_orders_open",
            "refunds_awaiting_approval",
            "lodgement_writer",
            "ledger_writer",
        ] {
            assert!(
                after.contains(&format!("aduana_queue_length{{queue=\"{queue}\"}} ")),
                "{queue} missing:\n{after}"
            );
        }

        // The process's figures, as differences.
        assert_eq!(
            grew("aduana_lodgement_to_release_seconds_count"),
            3.0,
            "{backend:?}"
        );
        assert_eq!(
            grew("aduana_rejected_requests_total{code=\"request.not_found\"}"),
            1.0,
            "{after}"
        );
        assert_eq!(
            grew("aduana_rejected_requests_total{code=\"auth.unauthenticated\"}"),
            1.0
        );
        assert_eq!(
            grew(
                "aduana_http_requests_total{method=\"POST\",route=\"/api/v1/declarations\",status=\"201\"}"
            ),
            3.0
        );
        if backend == common::Backend::Sqlite {
            // The group-commit writer wrote the three lodgements, in one batch or more.
            assert_eq!(
                grew("aduana_writer_batch_size_sum{writer=\"lodgements\"}"),
                3.0
            );
        }
        for histogram in [
            "aduana_http_request_duration_seconds",
            "aduana_lodgement_to_release_seconds",
        ] {
            assert!(
                after.contains(&format!("# TYPE {histogram} histogram")),
                "{histogram}:\n{after}"
            );
        }
        assert!(after.contains("# HELP aduana_declarations "));
    }
}
