//! `aduana bench-ens`: how fast entry summary declarations are checked — read, the ICS schema and the business
//! rules, as `POST /api/v1/entry-summaries` does before storing — on one thread, over HMRC's shared test cases
//! (BENCHMARKS.md; issue 20's target: at least 5,000 messages a second on one core).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The folder of HMRC's ENS cases (its `.xml` files under it are read).
    #[arg(long, default_value = "../shared/conformance/hmrc-ens/cases")]
    cases: PathBuf,
    /// How many times every message is checked.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

/// The target of issue 20, in messages a second on one core.
const TARGET: f64 = 5_000.0;

pub fn run(args: Args) -> Result<ExitCode, String> {
    let mut files = Vec::new();
    let mut stack = vec![args.cases.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                files.push(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
            }
        }
    }
    if files.is_empty() {
        return Err(format!("no .xml case under {}", args.cases.display()));
    }
    let bytes: usize = files.iter().map(Vec::len).sum();
    let limits = entry_summary::Limits::default();
    let (mut accepted, mut refused) = (0usize, 0usize);
    let started = Instant::now();
    for _ in 0..args.rounds {
        for file in &files {
            match entry_summary::judge(file, &limits) {
                Ok(_) => accepted += 1,
                Err(_) => refused += 1,
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let checked = files.len() * args.rounds;
    let rate = checked as f64 / elapsed;
    println!(
        "{} messages ({:.1} KiB on average), {} rounds: {checked} checked in {elapsed:.2} s on one thread",
        files.len(),
        bytes as f64 / files.len() as f64 / 1024.0,
        args.rounds
    );
    println!(
        "  {rate:.0} messages/s, {:.1} MB/s; accepted {accepted}, refused {refused}",
        (bytes * args.rounds) as f64 / elapsed / 1e6
    );
    println!(
        "  target {TARGET:.0} messages/s on one core: {}",
        if rate >= TARGET { "met" } else { "NOT met" }
    );
    Ok(if rate >= TARGET {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
