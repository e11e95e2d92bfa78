//! Prometheus metrics: the `metrics` facade, recorded by `metrics-exporter-prometheus` (no listener of its own:
//! `GET /metrics` renders through its handle). Counters and histograms are this process's (Prometheus sums the
//! servers of a cluster); what every server must report alike — declarations by status and lane, the audit
//! chain, work waiting — is read from the database at each scrape.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

const HTTP_REQUESTS: &str = "aduana_http_requests_total";
const HTTP_SECONDS: &str = "aduana_http_request_duration_seconds";
const REJECTED: &str = "aduana_rejected_requests_total";
const DECLARATIONS: &str = "aduana_declarations";
const AUDIT_ENTRIES: &str = "aduana_audit_chain_length";
const QUEUE: &str = "aduana_queue_length";

/// Request latency: from a millisecond to the request timeout.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];
/// Lodgement to release: released at once (green), within minutes (a document check), hours (a physical
/// control), days (waiting for the goods or the money).
const RELEASE_BUCKETS: [f64; 12] = [
    1.0, 10.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0, 259200.0,
];
const BATCH_SECONDS_BUCKETS: [f64; 10] =
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2.0];
const BATCH_SIZE_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The handle of the process's recorder, installed the first time it is asked for. A process has one global
/// recorder: servers started in one process (tests) share it.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let mut builder = PrometheusBuilder::new();
        for (name, buckets) in [
            (HTTP_SECONDS, &HTTP_BUCKETS[..]),
            (
                storage::observe::LODGEMENT_TO_RELEASE_SECONDS,
                &RELEASE_BUCKETS[..],
            ),
            (
                storage::observe::WRITER_BATCH_SECONDS,
                &BATCH_SECONDS_BUCKETS[..],
            ),
            (storage::observe::WRITER_BATCH_SIZE, &BATCH_SIZE_BUCKETS[..]),
        ] {
            builder = match builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
            {
                Ok(builder) => builder,
                // Only an empty list of buckets is refused; these are constants.
                Err(error) => unreachable!("buckets of {name}: {error}"),
            };
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed: /metrics shows only the scrape-time gauges"
            );
        }
        describe();
        storage::observe::describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route and status.");
    metrics::describe_histogram!(
        HTTP_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request latency by method and route."
    );
    metrics::describe_counter!(
        REJECTED,
        "Requests answered with an error of the error table, by its code."
    );
    metrics::describe_gauge!(
        DECLARATIONS,
        "Declarations by status and lane (lane none: not yet through selectivity)."
    );
    metrics::describe_gauge!(AUDIT_ENTRIES, "Entries in the hash-chained audit trail.");
    metrics::describe_gauge!(
        QUEUE,
        "Work waiting: open payment orders, refunds awaiting approval, and this process's SQLite writer queues."
    );
}

/// The server's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            handle: handle().clone(),
        }
    }
}

impl Metrics {
    /// The exposition text, with the gauges read from `operations` (the database's view) set first.
    pub fn render(&self, operations: Option<&storage::Operations>) -> String {
        if let Some(operations) = operations {
            // Every status and lane, zero when none: a series that vanished would read as "no data".
            for status in workflow::Status::ALL {
                for lane in [
                    None,
                    Some(selectivity::Lane::Green),
                    Some(selectivity::Lane::Blue),
                    Some(selectivity::Lane::Yellow),
                    Some(selectivity::Lane::Red),
                ] {
                    let count = operations
                        .declarations
                        .iter()
                        .find(|(s, l, _)| *s == status && *l == lane)
                        .map_or(0, |(_, _, n)| *n);
                    metrics::gauge!(
                        DECLARATIONS,
                        "status" => status.as_str(),
                        "lane" => lane.map_or("none", |l| l.as_str())
                    )
                    .set(count as f64);
                }
            }
            metrics::gauge!(AUDIT_ENTRIES).set(operations.audit_entries as f64);
            for (queue, length) in [
                ("payment_orders_open", operations.open_payment_orders as f64),
                (
                    "refunds_awaiting_approval",
                    operations.refunds_awaiting_approval as f64,
                ),
                ("lodgement_writer", operations.lodgement_writer_queue as f64),
                ("ledger_writer", operations.ledger_writer_queue as f64),
            ] {
                metrics::gauge!(QUEUE, "queue" => queue).set(length);
            }
        }
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// An answer from the error table, counted by code.
pub(crate) fn rejected(code: error_table::ErrorCode) {
    metrics::counter!(REJECTED, "code" => code.code()).increment(1);
}

pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The matched route template, never the raw path: ids must not explode the label set.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        HTTP_REQUESTS,
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(HTTP_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
