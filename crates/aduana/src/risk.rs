//! `aduana risk`: train the learned risk model and back-test it on labelled declarations (docs/risk-model.md).

use clap::Subcommand;
use risk_model::records::{ColumnMapping, Record, read_csv};
use risk_model::{Model, Settings};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RiskCommand {
    /// Train on labelled CSV files and score a test file: AUC, precision and recall at 1, 2, 5, 10, 20 % inspected.
    Backtest {
        /// Print one JSON object: {"test_rows", "auc", "at": {"0.01": {"precision", "recall"}, …}}.
        #[arg(long)]
        json: bool,
        #[arg(long, required = true)]
        train: Vec<PathBuf>,
        #[arg(long)]
        test: PathBuf,
        /// A JSON column mapping for files not in the KCS layout.
        #[arg(long)]
        columns: Option<PathBuf>,
    },
    /// Train on labelled CSV files and write the model (JSON) to a file.
    Train {
        #[arg(long, required = true)]
        train: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        columns: Option<PathBuf>,
    },
    /// Score declarations with a trained model: one JSON line per row, with the score and its top factors.
    Score {
        #[arg(long)]
        model: PathBuf,
        file: PathBuf,
        #[arg(long)]
        columns: Option<PathBuf>,
        /// How many factors to show per row.
        #[arg(long, default_value_t = 3)]
        factors: usize,
    },
}

fn mapping(path: Option<&Path>) -> Result<ColumnMapping, String> {
    match path {
        None => Ok(ColumnMapping::kcs()),
        Some(path) => ColumnMapping::from_json(&crate::read_text(path)?),
    }
}

fn records(paths: &[PathBuf], mapping: &ColumnMapping) -> Result<Vec<Record>, String> {
    let progress = crate::progress::bar(paths.len() as u64, "files read");
    let mut all = Vec::new();
    for path in paths {
        let text = crate::read_text(path)?;
        all.extend(read_csv(&text, mapping).map_err(|e| format!("{}: {e}", path.display()))?);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(all)
}

/// Trains on `rows`, a spinner turning meanwhile (the learner reports no progress of its own).
fn train(rows: &[Record]) -> Result<Model, String> {
    let spinner = crate::progress::spinner(&format!("training on {} rows", rows.len()));
    let model = Model::train(rows, &Settings::default()).map_err(|e| e.to_string());
    spinner.finish_and_clear();
    model
}

fn labelled(records: Vec<Record>, what: &str) -> Result<Vec<Record>, String> {
    let known: Vec<Record> = records
        .into_iter()
        .filter(|r| r.irregular.is_some())
        .collect();
    if known.is_empty() {
        return Err(format!("the {what} rows carry no outcome (0 or 1)"));
    }
    Ok(known)
}

pub fn run(command: RiskCommand) -> Result<ExitCode, String> {
    match command {
        RiskCommand::Backtest {
            json,
            train,
            test,
            columns,
        } => {
            let mapping = mapping(columns.as_deref())?;
            let train = labelled(records(&train, &mapping)?, "training")?;
            let test = labelled(records(std::slice::from_ref(&test), &mapping)?, "test")?;
            let started = std::time::Instant::now();
            let model = self::train(&train)?;
            let trained = started.elapsed();
            let spinner = crate::progress::spinner(&format!("scoring {} rows", test.len()));
            let scoring = std::time::Instant::now();
            let scores = model.score(&test);
            let scored = scoring.elapsed();
            spinner.finish_and_clear();
            let labels: Vec<bool> = test.iter().map(|r| r.irregular == Some(true)).collect();
            let result = risk_model::metrics::backtest(&scores, &labels);
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&result).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "trained on {} rows in {:.1} s; {} test rows; ROC AUC {:.4}",
                    train.len(),
                    trained.as_secs_f64(),
                    result.test_rows,
                    result.auc
                );
                for (rate, at) in &result.at {
                    println!(
                        "inspect top {:>4} %: precision {:.3}, recall {:.3}",
                        rate.parse::<f64>().unwrap_or(0.0) * 100.0,
                        at.precision,
                        at.recall
                    );
                }
            }
            eprintln!(
                "training took {:.2} s; scoring {} rows took {:.3} s ({:.0} rows/s, one thread)",
                trained.as_secs_f64(),
                test.len(),
                scored.as_secs_f64(),
                test.len() as f64 / scored.as_secs_f64().max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        RiskCommand::Train {
            train,
            out,
            columns,
        } => {
            let mapping = mapping(columns.as_deref())?;
            let train = labelled(records(&train, &mapping)?, "training")?;
            let model = self::train(&train)?;
            std::fs::write(&out, model.to_json())
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!(
                "model trained on {} rows ({:.1} % irregular) written to {}",
                model.training_rows,
                model.irregular_rate * 100.0,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        RiskCommand::Score {
            model,
            file,
            columns,
            factors,
        } => {
            let model = Model::from_json(&crate::read_text(&model)?).map_err(|e| e.to_string())?;
            let mapping = mapping(columns.as_deref())?;
            let rows = records(std::slice::from_ref(&file), &mapping)?;
            let scores = model.score(&rows);
            for (row, score) in rows.iter().zip(scores) {
                let line = serde_json::json!({
                    "score": score,
                    "factors": model.factors(row, factors.min(10)),
                });
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
