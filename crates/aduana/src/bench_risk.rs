//! `aduana bench-risk`: how fast the risk rules decide and the learned model scores (BENCHMARKS.md).

use rust_decimal::Decimal;
use selectivity::{Facts, ItemFacts, RuleSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// How many rules the generated rule set holds.
    #[arg(long, default_value_t = 1000)]
    rules: usize,
    /// How many declarations the rules decide.
    #[arg(long, default_value_t = 20_000)]
    declarations: usize,
    /// Labelled KCS-layout CSV to train a model on, and to score (optional: no model figures without it).
    #[arg(long)]
    train: Option<PathBuf>,
    #[arg(long)]
    test: Option<PathBuf>,
}

/// A rule set of `n` rules of the kinds the demo uses: prefixes, origins, values, combinations.
fn rules(n: usize) -> String {
    let origins = ["CN", "US", "DE", "IN", "VN", "TR", "BR", "KP", "IR", "SY"];
    let mut text = String::new();
    for i in 0..n {
        let chapter = 1 + i % 97;
        let lane = ["yellow", "blue", "red"][i % 3];
        let condition = match i % 6 {
            0 => format!("commodity starts_with \"{chapter:02}{:02}\"", i % 100),
            1 => format!(
                "origin in [\"{}\", \"{}\"] and value > {}",
                origins[i % 10],
                origins[(i + 3) % 10],
                10_000 + i * 37
            ),
            2 => format!(
                "commodity starts_with \"{chapter:02}\" and origin = \"{}\" and item_value > {}",
                origins[i % 10],
                1000 + i
            ),
            3 => format!(
                "(declarant = \"GB{:012}\" or importer = \"GB{:012}\") and not mode = \"4\"",
                i,
                i + 1
            ),
            4 => format!(
                "commodity starts_with \"{chapter:02}\" and unit_value_kg < {} and mass_ratio > 1.2",
                1 + i % 20
            ),
            _ => format!(
                "(importer in list \"watch\" or seller in list \"sellers\") and not aeo and origin = \"{}\"",
                origins[i % 10]
            ),
        };
        text.push_str(&format!(
            "rule B{i:04} \"generated rule {i}\" when {condition} then {lane}\n"
        ));
    }
    text.push_str("random 3% then yellow\n");
    text
}

fn declaration(i: usize) -> Facts {
    let origins = ["CN", "US", "DE", "IN", "VN", "TR", "BR", "FR", "JP", "GB"];
    Facts {
        declaration_type: "IMA".into(),
        declarant: Some(format!("GB{:012}", i * 7919 % 100_000)),
        importer: Some(format!("GB{:012}", i * 104_729 % 100_000)),
        exporter: None,
        dispatch: Some(origins[i % 10].into()),
        office: Some("GB000060".into()),
        mode: Some(["1", "4", "3"][i % 3].into()),
        value: Decimal::from(1000 + (i * 7919) % 200_000),
        items: (0..1 + i % 3)
            .map(|k| ItemFacts {
                commodity: Some(format!(
                    "{:010}",
                    (i * 7919 + k * 104_729) % 9_700_000_000 + 100_000_000
                )),
                origin: Some(origins[(i + k) % 10].into()),
                procedure: Some("4000".into()),
                value: Decimal::from(500 + (i + k) % 50_000),
                net_mass: Some(Decimal::from(10 + (i * 13 + k) % 5_000)),
                gross_mass: Some(Decimal::from(12 + (i * 17 + k) % 6_000)),
                supplementary_units: None,
                ..ItemFacts::default()
            })
            .collect(),
        score: None,
        seller: Some(format!("CN{:012}", i * 31 % 50_000)),
        aeo: i.is_multiple_of(5),
        ..Facts::default()
    }
}

/// Watch lists of 10,000 importers and 10,000 sellers.
fn lists() -> selectivity::Lists {
    let mut lists = selectivity::Lists::default();
    lists.insert(
        "watch",
        (0..10_000)
            .map(|i| format!("GB{:012}", i * 10))
            .collect::<Vec<_>>(),
    );
    lists.insert(
        "sellers",
        (0..10_000)
            .map(|i| format!("CN{:012}", i * 5))
            .collect::<Vec<_>>(),
    );
    lists
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let text = rules(args.rules);
    let set = RuleSet::parse(&text).map_err(|e| e.to_string())?;
    let facts: Vec<Facts> = (0..args.declarations).map(declaration).collect();
    let lists = lists();
    let started = Instant::now();
    let mut hits = 0usize;
    for (i, f) in facts.iter().enumerate() {
        hits += set
            .decide_with(f, &lists, (i as u32 * 7919) % 10_000)
            .hits
            .len();
    }
    let elapsed = started.elapsed();
    println!("| what | count | total s | per declaration µs | per second |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} rules, one thread ({hits} hits) | {} | {:.3} | {:.1} | {:.0} |",
        args.rules,
        facts.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / facts.len() as f64,
        facts.len() as f64 / elapsed.as_secs_f64()
    );
    if let (Some(train), Some(test)) = (args.train, args.test) {
        let mapping = risk_model::records::ColumnMapping::kcs();
        let read = |path: &PathBuf| -> Result<Vec<risk_model::records::Record>, String> {
            risk_model::records::read_csv(&crate::read_text(path)?, &mapping)
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        let (train, test) = (read(&train)?, read(&test)?);
        let model = risk_model::Model::train(&train, &risk_model::Settings::default())
            .map_err(|e| e.to_string())?;
        let rounds = 10;
        let started = Instant::now();
        let mut columns = 0;
        for _ in 0..rounds {
            columns += model.features(&test).len();
        }
        let encoding = started.elapsed();
        println!(
            "| of which features ({columns} columns built) | {} | {:.3} | {:.1} | {:.0} |",
            test.len() * rounds,
            encoding.as_secs_f64(),
            encoding.as_secs_f64() * 1e6 / (test.len() * rounds) as f64,
            (test.len() * rounds) as f64 / encoding.as_secs_f64()
        );
        // Each pass timed apart: this machine is shared, so the median pass is the figure, the best one the
        // ceiling.
        let mut total = 0.0;
        let mut passes: Vec<f64> = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            total += model.score(&test).iter().sum::<f64>();
            passes.push(started.elapsed().as_secs_f64());
        }
        passes.sort_by(f64::total_cmp);
        let rows = test.len() * rounds;
        let per_row = |seconds: f64| seconds * 1e6 / test.len() as f64;
        let median = passes[rounds / 2];
        println!(
            "| model scores, one thread (mean {:.3}), median of {rounds} passes | {rows} | {:.3} | {:.1} | {:.0} |",
            total / rows as f64,
            passes.iter().sum::<f64>(),
            per_row(median),
            test.len() as f64 / median
        );
        println!(
            "| the same, best pass | {} | {:.3} | {:.1} | {:.0} |",
            test.len(),
            passes[0],
            per_row(passes[0]),
            test.len() as f64 / passes[0]
        );
    }
    Ok(ExitCode::SUCCESS)
}
