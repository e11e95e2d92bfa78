//! Prometheus metrics in the text exposition format: requests by route and status, and a latency histogram.
//! Hand-written because the set is small; the format is the stable text format 0.0.4.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

const BUCKETS_SECONDS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS_SECONDS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let histogram = inner
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS_SECONDS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The metrics in Prometheus text format, with `extra` lines appended (gauges computed by the caller).
    pub fn render(&self, extra: &str) -> String {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP aduana_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE aduana_http_requests_total counter\n");
        for ((method, route, status), count) in &inner.requests {
            out.push_str(&format!(
                "aduana_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}\n"
            ));
        }
        out.push_str("# HELP aduana_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE aduana_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &inner.latency {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bound, count) in BUCKETS_SECONDS.iter().zip(h.buckets) {
                out.push_str(&format!("aduana_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}\n"));
            }
            out.push_str(&format!(
                "aduana_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                h.count
            ));
            out.push_str(&format!(
                "aduana_http_request_duration_seconds_sum{{{labels}}} {}\n",
                h.sum
            ));
            out.push_str(&format!(
                "aduana_http_request_duration_seconds_count{{{labels}}} {}\n",
                h.count
            ));
        }
        out.push_str(extra);
        out
    }
}

pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The matched route template, never the raw path: ids must not explode the label set.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
