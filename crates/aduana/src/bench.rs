//! `aduana bench`: lodgement throughput over HTTP on loopback, with N concurrent clients, against a server this
//! command starts in-process on a fresh database. Prints a Markdown table row for BENCHMARKS.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Folder of WCO DEC XML declarations to lodge (e.g. ../shared/conformance/hmrc-cds-v2/samples).
    #[arg(long)]
    pub samples: PathBuf,
    /// Database URL (default: a fresh SQLite file in a temporary folder).
    #[arg(long)]
    pub database: Option<String>,
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Declarations to lodge in total.
    #[arg(long, default_value_t = 10_000)]
    pub requests: usize,
    /// Load a server already running in another process (e.g. `http://127.0.0.1:8080`) instead of one started
    /// in-process; `--database` must then name that server's database, where the bench adds its traders.
    #[arg(long, requires = "database")]
    pub server: Option<String>,
}

fn samples(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xml")
                && let Ok(bytes) = std::fs::read(&path)
                && wco::read_declaration(&bytes, &wco::Limits::default())
                    .is_ok_and(|d| d.declarant_id().is_some())
            {
                out.push(bytes);
            }
        }
    }
    out.sort();
    out
}

/// Gives the `index`-th copy of a sample a unique LRN, so that every request is a new declaration.
fn unique(sample: &[u8], index: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(sample);
    let start = text
        .find("<FunctionalReferenceID>")
        .map(|i| i + "<FunctionalReferenceID>".len());
    let end = start.and_then(|s| text[s..].find('<').map(|e| s + e));
    match (start, end) {
        (Some(s), Some(e)) => format!(
            "{}B{}-{index:010}{}",
            &text[..s],
            std::process::id(),
            &text[e..]
        )
        .into_bytes(),
        _ => sample.to_vec(),
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let samples = samples(&args.samples);
    if samples.is_empty() {
        return Err(format!(
            "no usable declarations under {}",
            args.samples.display()
        ));
    }
    let temp = std::env::temp_dir().join(format!("aduana-bench-{}", std::process::id()));
    std::fs::create_dir_all(&temp).map_err(|e| e.to_string())?;
    let url = args
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", temp.join("bench.db").display()));
    let store = storage::Store::open(&url)
        .await
        .map_err(|e| e.to_string())?;
    // One trader per declarant of the samples.
    let mut tokens = std::collections::HashMap::new();
    for sample in &samples {
        let d = wco::read_declaration(sample, &wco::Limits::default()).map_err(|_| "sample")?;
        let party = d.declarant_id().expect("filtered").to_string();
        if let std::collections::hash_map::Entry::Vacant(slot) = tokens.entry(party.clone()) {
            let token = format!("bench-{}-{party}", std::process::id());
            store
                .add_user(
                    &party,
                    "trader",
                    Some(&party),
                    &api::token_hash(&token),
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| e.to_string())?;
            slot.insert(token);
        }
    }
    let mut server = None;
    let root = match &args.server {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            // Deferment accounts named by the samples are opened on first use (the demonstration convenience, held by
            // the first declarant naming one), so that deferred duties are taken through the ledger, in the
            // lodgement's own transaction, as in production.
            let mut pipeline = clearance::Pipeline::demo(b"bench".to_vec());
            pipeline.auto_open_limit = Some(rust_decimal::Decimal::from(1_000_000_000));
            let state = api::AppState::new(
                store.clone(),
                pipeline,
                // No rate limit: the benchmark is one client sending as fast as the server answers.
                api::Config {
                    rate_limit: None,
                    ..api::Config::default()
                },
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            server = Some(tokio::spawn(api::serve(
                listener,
                state,
                std::future::pending(),
            )));
            format!("http://{address}")
        }
    };
    let base = format!("{root}/api/v1/declarations");
    let work: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..args.requests)
            .map(|i| {
                let sample = &samples[i % samples.len()];
                let d = wco::read_declaration(sample, &wco::Limits::default()).expect("filtered");
                (
                    unique(sample, i),
                    tokens[&d.declarant_id().expect("filtered").to_string()].clone(),
                )
            })
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let progress = crate::progress::bar(args.requests as u64, "declarations lodged");
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..args.clients {
        let (work, next, base) = (work.clone(), next.clone(), base.clone());
        let progress = progress.clone();
        handles.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, token)) = work.get(i) else {
                    break;
                };
                let t = Instant::now();
                let response = client
                    .post(&base)
                    .bearer_auth(token)
                    .header("content-type", "application/xml")
                    .body(body.clone())
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => failures += 1,
                }
                progress.inc(1);
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failures = 0;
    for handle in handles {
        let (l, f) = handle.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    if let Some(server) = server {
        server.abort();
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    let backend = if url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!(
        "| backend | clients | declarations | failures | declarations/s | p50 ms | p99 ms | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {} | {} | {failures} | {:.0} | {:.2} | {:.2} | {} |",
        args.clients,
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        peak_rss_kib().map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
    );
    let _ = std::fs::remove_dir_all(&temp);
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
