//! `aduana bench-ledger`: ledger transfers per second, in memory (the pure crate) and stored (one database
//! transaction per call to `Store::transfer`), one transfer per call and in batches. Prints a Markdown table for
//! BENCHMARKS.md.

use ledger::{Ledger, Rule, Transfer, TransferId, TransferKind, customs};
use rust_decimal::Decimal;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Database URL (default: a fresh SQLite file in a temporary folder).
    #[arg(long)]
    pub database: Option<String>,
    /// Transfers per measurement.
    #[arg(long, default_value_t = 5_000)]
    pub transfers: usize,
    /// Transfers per batch in the batched measurements.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
}

fn gbp() -> declaration::Currency {
    declaration::Currency::parse("GBP").expect("GBP")
}

/// The n-th transfer of a run: a payment from the bank to one of 100 declarations' receivables, alternating with
/// a deferral from one deferment account.
fn transfer(run: &str, n: usize) -> Transfer {
    let receivable = customs::receivable(&format!("bench-{}", n % 100));
    let (debit, code) = if n.is_multiple_of(2) {
        (customs::bank("BENCH"), "payment")
    } else {
        (customs::deferment("BENCH"), "deferment")
    };
    Transfer {
        id: TransferId::parse(&format!("{run}-{n}")).expect("valid id"),
        debit,
        credit: receivable,
        amount: Decimal::new(1234, 2),
        currency: gbp(),
        kind: TransferKind::Posted,
        code: code.into(),
        reference: format!("bench-{}", n % 100),
        at: "2026-11-29T00:00:00Z".into(),
    }
}

fn row(what: &str, count: usize, seconds: f64) {
    println!(
        "| {what} | {count} | {:.0} | {:.1} |",
        count as f64 / seconds,
        seconds * 1e6 / count as f64
    );
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let n = args.transfers.max(args.batch);
    let batch = args.batch.clamp(1, ledger::MAX_BATCH);
    println!("| measurement | transfers | transfers/s | µs per transfer |");
    println!("|---|---|---|---|");

    // In memory.
    for batched in [false, true] {
        let mut ledger = Ledger::new();
        ledger
            .open(ledger::Account::new(
                customs::deferment("BENCH"),
                gbp(),
                Rule::DebitLimit(Decimal::from(1_000_000_000)),
            ))
            .map_err(|e| e.to_string())?;
        ledger
            .open(ledger::Account::new(
                customs::bank("BENCH"),
                gbp(),
                Rule::Unrestricted,
            ))
            .map_err(|e| e.to_string())?;
        for d in 0..100 {
            ledger
                .open(ledger::Account::new(
                    customs::receivable(&format!("bench-{d}")),
                    gbp(),
                    Rule::Unrestricted,
                ))
                .map_err(|e| e.to_string())?;
        }
        let transfers: Vec<Transfer> = (0..n).map(|i| transfer("mem", i)).collect();
        let started = Instant::now();
        if batched {
            for chunk in transfers.chunks(batch) {
                ledger
                    .apply_all(chunk.to_vec())
                    .map_err(|e| e.to_string())?;
            }
        } else {
            for t in transfers {
                ledger.apply(t).map_err(|e| e.to_string())?;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        ledger.verify()?;
        row(
            if batched {
                "in memory, batches"
            } else {
                "in memory, one at a time"
            },
            n,
            seconds,
        );
    }

    // Stored.
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
    store
        .open_account(
            &customs::deferment("BENCH"),
            &gbp(),
            Rule::DebitLimit(Decimal::from(1_000_000_000)),
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    for batched in [false, true] {
        let count = if batched { n } else { n.min(2_000) };
        let prefix = format!("{run_id}-{batched}");
        let transfers: Vec<Transfer> = (0..count).map(|i| transfer(&prefix, i)).collect();
        let spinner = crate::progress::spinner(&format!("{backend}: writing {count} transfers"));
        let started = Instant::now();
        if batched {
            for chunk in transfers.chunks(batch) {
                store
                    .transfer(chunk.to_vec(), now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        } else {
            for t in transfers {
                store
                    .transfer(vec![t], now)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        spinner.finish_and_clear();
        row(
            &format!(
                "{backend}, {}",
                if batched {
                    format!("batches of {batch}, one transaction each")
                } else {
                    "one transaction per transfer".into()
                }
            ),
            count,
            seconds,
        );
    }
    store.ledger().await.map_err(|e| e.to_string())?.verify()?;
    Ok(ExitCode::SUCCESS)
}
