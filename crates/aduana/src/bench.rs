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
    /// With the Single Window's checks (issue 18's cost target): 50,000 generated requirements looked up for every
    /// goods item (none applying to the samples' goods, so the work is the same), every document code the samples
    /// cite registered as an LPCO type, and every document they cite issued to their declarant, so that each
    /// lodgement loads, checks and records the use of each cited document.
    #[arg(long, conflicts_with = "server")]
    pub single_window: bool,
    /// With `--single-window`: publish the events to this NATS server during the run (the sequencer and the
    /// publisher of `aduana serve --nats`), sample the backlog every second, and report how long it took to drain.
    #[arg(long, requires = "single_window")]
    pub nats: Option<String>,
}

/// Registers every document code the samples cite as an LPCO type of agency BENCH, and issues every (code,
/// reference) they cite to the sample's declarant (multiple use, no balance); a code cited under one reference by
/// two declarants is left unregistered.
async fn register_cited(
    store: &storage::Store,
    samples: &[Vec<u8>],
) -> Result<(usize, usize), String> {
    use std::collections::BTreeMap;
    let mut holders: BTreeMap<(String, String), std::collections::BTreeSet<String>> =
        BTreeMap::new();
    for sample in samples {
        let d = wco::read_declaration(sample, &wco::Limits::default()).map_err(|_| "sample")?;
        let declarant = d.declarant_id().expect("filtered").to_string();
        let documents = d.additional_documents.iter().chain(
            d.goods_shipment
                .goods_items
                .iter()
                .flat_map(|i| &i.additional_documents),
        );
        for document in documents {
            if let Some(id) = &document.id {
                holders
                    .entry((
                        format!("{}{}", document.category_code, document.type_code),
                        id.clone(),
                    ))
                    .or_default()
                    .insert(declarant.clone());
            }
        }
    }
    let shared: std::collections::BTreeSet<&String> = holders
        .iter()
        .filter(|(_, h)| h.len() > 1)
        .map(|((code, _), _)| code)
        .collect();
    let actor = storage::Actor::cli();
    let now = time::OffsetDateTime::now_utc();
    let agency = lpco::AgencyCode::parse("BENCH")?;
    store
        .save_agency(
            &actor,
            &lpco::Agency {
                code: agency.clone(),
                name: "Benchmark agency".into(),
                contact: None,
                delivery: lpco::Delivery::Feed,
            },
            None,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut types = std::collections::BTreeSet::new();
    let mut issued = 0;
    for ((code, reference), parties) in &holders {
        let Ok(document_code) = lpco::DocumentCode::parse(code) else {
            continue;
        };
        if shared.contains(code) {
            continue;
        }
        if types.insert(code.clone()) {
            let kind = lpco::LpcoType {
                code: document_code.clone(),
                agency: agency.clone(),
                kind: lpco::Kind::Other,
                title: format!("document {code}"),
                fields: Vec::new(),
                validity_days: 3660,
                balance_unit: None,
                uses: lpco::Uses::Multiple,
                statuses: lpco::Statuses::uk(),
                when_missing: lpco::WhenMissing::Refuse,
            };
            store
                .save_lpco_type(&actor, &kind, now)
                .await
                .map_err(|e| e.to_string())??;
        }
        let holder = parties.iter().next().expect("one");
        store
            .issue_licence(
                &actor,
                &lpco::Licence {
                    reference: reference.clone(),
                    code: document_code,
                    agency: agency.clone(),
                    holder: declaration::PartyId::parse(holder).map_err(|e| e.to_string())?,
                    commodity_prefix: String::new(),
                    origin: None,
                    valid_from: time::macros::date!(2000 - 01 - 01),
                    valid_to: time::macros::date!(2099 - 12 - 31),
                    unit: None,
                    granted: None,
                    drawn: rust_decimal::Decimal::ZERO,
                    uses: lpco::Uses::Multiple,
                    used_by: 0,
                    standing: lpco::Standing::InForce,
                    conditions: Vec::new(),
                },
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        issued += 1;
    }
    Ok((types.len(), issued))
}

pub(crate) fn samples(dir: &std::path::Path) -> Vec<Vec<u8>> {
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
pub(crate) fn unique(sample: &[u8], index: usize) -> Vec<u8> {
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
            if args.single_window {
                let mut requirements = crate::bench_lpco::generated(50_000);
                // Looked up for every goods item, applying to none of the samples' (no such country).
                for requirement in &mut requirements.requirements {
                    requirement.countries = vec!["XZ".into()];
                }
                // Reindexed by a merge into an empty set.
                let mut indexed = lpco::Requirements::default();
                indexed.merge(requirements.requirements)?;
                let requirements = indexed;
                pipeline.requirements = std::sync::Arc::new(requirements);
                let (types, issued) = register_cited(&store, &samples).await?;
                eprintln!(
                    "Single Window: {} requirements, {types} document types, {issued} documents issued",
                    pipeline.requirements.len()
                );
            }
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
    // Each sample with its declarant's token; the i-th request is a copy of sample i mod n with its own LRN, made
    // when it is sent (a long run would not fit in memory made beforehand).
    let work: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        samples
            .iter()
            .map(|sample| {
                let d = wco::read_declaration(sample, &wco::Limits::default()).expect("filtered");
                (
                    sample.clone(),
                    tokens[&d.declarant_id().expect("filtered").to_string()].clone(),
                )
            })
            .collect(),
    );
    let requests = args.requests;
    // The outbox's publishers, as `aduana serve --nats` runs them, with the backlog sampled every second.
    let mut publishing = Vec::new();
    let backlog = Arc::new(std::sync::Mutex::new(Vec::<(f64, i64, i64)>::new()));
    let clock = Instant::now();
    if let Some(nats) = &args.nats {
        let context = dispatch::connect(nats, Duration::from_secs(120)).await?;
        publishing.push(tokio::spawn(dispatch::sequence(
            store.clone(),
            Duration::from_millis(250),
        )));
        publishing.push(tokio::spawn(dispatch::publish(
            store.clone(),
            context,
            Duration::from_millis(100),
        )));
        let (store, backlog) = (store.clone(), backlog.clone());
        publishing.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok((total, waiting)) = store.outbox_backlog(dispatch::CURSOR).await {
                    backlog
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((clock.elapsed().as_secs_f64(), total, waiting));
                }
            }
        }));
    }
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
            let mut rejected = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let (sample, token) = &work[i % work.len()];
                let body = unique(sample, i);
                let t = Instant::now();
                let response = client
                    .post(&base)
                    .bearer_auth(token)
                    .header("content-type", "application/xml")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let body = r.bytes().await.unwrap_or_default();
                        latencies.push(t.elapsed());
                        let needle: &[u8] = b"\"status\":\"rejected\"";
                        if body.windows(needle.len()).any(|w| w == needle) {
                            rejected += 1;
                        }
                    }
                    _ => failures += 1,
                }
                progress.inc(1);
            }
            (latencies, failures, rejected)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failures = 0;
    let mut rejected = 0;
    for handle in handles {
        let (l, f, r) = handle.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        failures += f;
        rejected += r;
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    if args.nats.is_some() {
        // Drained when every event is acknowledged by the broker.
        let drain = Instant::now();
        loop {
            let (total, waiting) = store
                .outbox_backlog(dispatch::CURSOR)
                .await
                .map_err(|e| e.to_string())?;
            if waiting == 0 {
                let samples = backlog
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let peak = samples.iter().map(|s| s.2).max().unwrap_or(0);
                let rate = total as f64 / elapsed.as_secs_f64();
                eprintln!(
                    "outbox: {total} events ({rate:.0}/s during the run), backlog sampled each second: peak {peak}, \
                     last during the run {}, drained {:.1} s after the last lodgement",
                    samples.last().map_or(0, |s| s.2),
                    drain.elapsed().as_secs_f64()
                );
                let series: Vec<String> = samples
                    .iter()
                    .map(|(t, _, w)| format!("{t:.0}s:{w}"))
                    .collect();
                eprintln!("backlog by second: {}", series.join(" "));
                break;
            }
            if drain.elapsed() > Duration::from_secs(600) {
                return Err(format!(
                    "the outbox did not drain in 600 s ({waiting} of {total} waiting)"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for task in publishing {
            task.abort();
        }
    }
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
        "| backend | clients | declarations | rejected | failures | declarations/s | p50 ms | p99 ms | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {} | {} | {rejected} | {failures} | {:.0} | {:.2} | {:.2} | {} |",
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
