//! `aduana bench-cargo`: how fast cargo reports are joined to declarations (issue 20's targets: a 10,000-consignment
//! cargo report matched to its declarations in under a second; the reconciliation of temporary storage over a year
//! of reports in under a second). A server started in-process on a fresh database; the declarations are lodged
//! over HTTP as traders do (setup, not timed); then, timed over HTTP as officers call them,
//! `GET /api/v1/cargo-reports/{id}/consignments` of the big report and `GET /api/v1/reports/cargo-reconciliation`
//! over the year (BENCHMARKS.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The declaration copied for every consignment (HMRC's TT_IM001b: a DUCR, a container, 50 packages).
    #[arg(
        long,
        default_value = "../shared/conformance/hmrc-cds-v2/samples/TT_IM001b/TT_IM001b.xml"
    )]
    sample: PathBuf,
    /// Consignments of the big report, each with its own pre-lodged declaration.
    #[arg(long, default_value_t = 10_000)]
    consignments: usize,
    /// Reports whose means of transport arrived over the past year (one a day by default).
    #[arg(long, default_value_t = 365)]
    reports: usize,
    /// Consignments in each of those reports (their UCRs name the big report's declarations, round the year).
    #[arg(long, default_value_t = 100)]
    per_report: usize,
    /// Database URL (default: a fresh SQLite file in a temporary folder).
    #[arg(long)]
    database: Option<String>,
    /// Concurrent clients lodging the declarations.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Timed runs of each request (the median is judged).
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

/// The targets of issue 20, in seconds.
const TARGET_SECONDS: f64 = 1.0;
const DECLARANT: &str = "GB603202734852";
const CARRIER: &str = "GB123456789000";

fn ucr(k: usize) -> String {
    format!("7GB553202734852-B{k:07}")
}

fn container(k: usize) -> String {
    format!("BNCU{k:07}")
}

/// A report of consignments naming the UCRs `ucrs`, each in its own container (none for the year's reports, whose
/// UCRs repeat the big report's).
fn report(
    reference: &str,
    ucrs: impl Iterator<Item = usize>,
    containers: bool,
) -> serde_json::Value {
    let mut consignments = Vec::new();
    let mut equipment = Vec::new();
    for (i, k) in ucrs.enumerate() {
        let mut goods = serde_json::json!({
            "sequence": 1, "package_count": 50, "package_kind": "BX", "gross_mass_kg": "150"
        });
        if containers {
            goods["equipment"] = serde_json::json!([container(k)]);
            equipment.push(serde_json::json!({"id": container(k)}));
        }
        consignments.push(serde_json::json!({
            "sequence": i + 1,
            "transport_document": format!("{reference}-{i:07}"),
            "ucr": ucr(k),
            "goods": [goods],
        }));
    }
    serde_json::json!({
        "reference": reference,
        "carrier": {"id": CARRIER},
        "transport": {"mode_code": "1", "id": "9839131"},
        "place_of_arrival": "GBFXT",
        "equipment": equipment,
        "consignments": consignments,
    })
}

fn stats(mut runs: Vec<f64>) -> (f64, f64, f64) {
    runs.sort_by(f64::total_cmp);
    (runs[0], runs[runs.len() / 2], runs[runs.len() - 1])
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    runs: usize,
) -> Result<(Vec<f64>, serde_json::Value), String> {
    let mut seconds = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let response = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        seconds.push(t.elapsed().as_secs_f64());
        if !status.is_success() {
            return Err(format!(
                "{url}: {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        last = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    }
    Ok((seconds, last))
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let sample = std::fs::read_to_string(&args.sample)
        .map_err(|e| format!("{}: {e}", args.sample.display()))?;
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = args.database.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            temp.path().join("bench.db").display()
        )
    });
    let store = storage::Store::open(&url)
        .await
        .map_err(|e| e.to_string())?;
    let now = time::OffsetDateTime::now_utc();
    let tag = std::process::id();
    let mut tokens = Vec::new();
    for (name, role, party) in [
        ("declarant", "trader", Some(DECLARANT)),
        ("carrier", "trader", Some(CARRIER)),
        ("officer", "officer", None),
    ] {
        let token = format!("bench-cargo-{tag}-{name}");
        store
            .add_user(
                &format!("bench-cargo-{name}"),
                role,
                party,
                &api::token_hash(&token),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        tokens.push(token);
    }
    let [declarant, carrier, officer] = <[String; 3]>::try_from(tokens).expect("three");
    let mut pipeline = clearance::Pipeline::demo(b"bench-cargo".to_vec());
    // The sample's deferment account opened on first use, as `aduana bench` does.
    pipeline.auto_open_limit = Some(rust_decimal::Decimal::from(1_000_000_000));
    let state = api::AppState::new(
        store.clone(),
        pipeline,
        api::Config {
            rate_limit: None,
            max_body_bytes: 64 * 1024 * 1024,
            ..api::Config::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let root = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let server = tokio::spawn(api::serve(listener, state, std::future::pending()));

    // Setup: one pre-lodged declaration per consignment, with its UCR (as its DUCR) and container.
    let prelodged = sample.replace("<TypeCode>IMA</TypeCode>", "<TypeCode>IMD</TypeCode>");
    let work = Arc::new((
        prelodged,
        declarant.clone(),
        format!("{root}/api/v1/declarations"),
    ));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress = crate::progress::bar(args.consignments as u64, "declarations lodged");
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..args.clients.max(1) {
        let (work, next, progress, total) = (
            work.clone(),
            next.clone(),
            progress.clone(),
            args.consignments,
        );
        handles.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut failures = 0usize;
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= total {
                    break;
                }
                let body = crate::bench::unique(
                    work.0
                        .replace("1GB553202734852-12345", &ucr(k))
                        .replace("<ID>AD12345</ID>", &format!("<ID>{}</ID>", container(k)))
                        .as_bytes(),
                    k,
                );
                let response = client
                    .post(&work.2)
                    .bearer_auth(&work.1)
                    .header("content-type", "application/xml")
                    .body(body)
                    .send()
                    .await;
                if !matches!(&response, Ok(r) if r.status().as_u16() == 201) {
                    failures += 1;
                }
                progress.inc(1);
            }
            failures
        }));
    }
    let mut failures = 0;
    for handle in handles {
        failures += handle.await.map_err(|e| e.to_string())?;
    }
    progress.finish_and_clear();
    if failures > 0 {
        return Err(format!("{failures} declarations were not lodged"));
    }
    eprintln!(
        "setup: {} declarations lodged in {:.1} s",
        args.consignments,
        started.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::new();
    let lodge = |report: serde_json::Value| {
        let (client, url, carrier) = (
            client.clone(),
            format!("{root}/api/v1/cargo-reports"),
            carrier.clone(),
        );
        async move {
            let response = client
                .post(url)
                .bearer_auth(carrier)
                .header("content-type", "application/json")
                .body(report.to_string())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            if status.as_u16() != 201 {
                return Err(format!("cargo report refused: {status}: {body}"));
            }
            Ok::<_, String>(body["id"].as_str().unwrap_or_default().to_owned())
        }
    };
    let big = lodge(report("BIG-VOYAGE", 0..args.consignments, true)).await?;
    // The year: one report a day, each arrived then; their UCRs go round the big report's declarations.
    let actor = storage::Actor::new("bench-cargo-officer".to_owned(), "officer");
    for r in 0..args.reports {
        let first = r * args.per_report;
        let id = lodge(report(
            &format!("DAY-{r:04}"),
            (first..first + args.per_report).map(|k| k % args.consignments.max(1)),
            false,
        ))
        .await?;
        let row = store
            .cargo_report(&id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the report just lodged")?;
        let arrived = now - time::Duration::days(365) + time::Duration::days(r as i64);
        store
            .record_cargo_arrival(
                &actor,
                &row,
                None,
                arrived,
                arrived + time::Duration::days(90),
            )
            .await
            .map_err(|e| e.to_string())?;
    }

    let (matching, matched) = timed(
        &client,
        &format!("{root}/api/v1/cargo-reports/{big}/consignments"),
        &officer,
        args.runs,
    )
    .await?;
    let declared = matched["consignments"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["discharge"] != "undeclared").count())
        .unwrap_or(0);
    let from = storage::format_time(now - time::Duration::days(366));
    let (reconciling, reconciled) = timed(
        &client,
        &format!("{root}/api/v1/reports/cargo-reconciliation?from={from}"),
        &officer,
        args.runs,
    )
    .await?;
    server.abort();

    let (m_min, m_median, m_max) = stats(matching);
    let (r_min, r_median, r_max) = stats(reconciling);
    println!(
        "report of {} consignments matched to its declarations: median {:.3} s (min {:.3}, max {:.3}) over {} runs; {declared} declared",
        args.consignments, m_median, m_min, m_max, args.runs
    );
    println!(
        "reconciliation over {} reports, {} consignments: median {:.3} s (min {:.3}, max {:.3}); {} lines",
        reconciled["reports"],
        reconciled["consignments"],
        r_median,
        r_min,
        r_max,
        reconciled["lines"].as_array().map_or(0, Vec::len)
    );
    let met = m_median < TARGET_SECONDS && r_median < TARGET_SECONDS;
    println!(
        "  targets under {TARGET_SECONDS:.0} s each: {}",
        if met { "met" } else { "NOT met" }
    );
    if declared != args.consignments {
        return Err(format!(
            "{declared} of {} consignments matched a declaration",
            args.consignments
        ));
    }
    Ok(if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
