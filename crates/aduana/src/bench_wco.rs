//! `aduana bench-wco`: how fast WCO DEC XML is read and checked (parse + structure + context-free rules), side by
//! side in the same run with libxml2's XSD validation of the same files through lxml (BENCHMARKS.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Declaration files (e.g. every declaration of ../shared/conformance/hmrc-cds-v2/samples).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Passes over the files.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// A Python with lxml, to time libxml2's XSD validation of the same files (tools/xsd_validate.py).
    #[arg(long)]
    lxml_python: Option<PathBuf>,
    /// The folder of DocumentMetaData_2_DMS.xsd and WCO_DEC_2_DMS.xsd (for --lxml-python).
    #[arg(long)]
    schemas: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let contents: Vec<Vec<u8>> = args
        .files
        .iter()
        .map(|f| std::fs::read(f).map_err(|e| format!("{}: {e}", f.display())))
        .collect::<Result<_, _>>()?;
    let bytes: usize = contents.iter().map(Vec::len).sum();
    let limits = wco::Limits::default();
    let rounds = args.rounds.max(1);
    let started = Instant::now();
    let mut accepted = 0usize;
    for _ in 0..rounds {
        for content in &contents {
            accepted += usize::from(wco::read_message(content, &limits).is_ok());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = contents.len() * rounds;
    println!(
        "{} files, {:.2} MB, {rounds} passes, one thread",
        contents.len(),
        bytes as f64 / 1e6
    );
    println!("| engine | accepted per pass | files/s | MB/s |");
    println!("|---|---|---|---|");
    println!(
        "| Aduana `wco` (parse, structure, rules, into the model) | {} | {:.0} | {:.1} |",
        accepted / rounds,
        n as f64 / elapsed,
        (bytes * rounds) as f64 / elapsed / 1e6
    );
    // Where the time goes: the bounded element tree alone, then with the schema check, then the whole reader.
    for (label, step) in [
        ("of which: the element tree alone (`wco::dom::parse`)", 0u8),
        ("of which: tree + schema check (`wco::schema::validate`)", 1),
    ] {
        let started = Instant::now();
        let mut ok = 0usize;
        for _ in 0..rounds {
            for content in &contents {
                if let Ok(root) = wco::dom::parse(content, &limits) {
                    ok += usize::from(step == 0 || wco::schema::validate(&root).is_empty());
                }
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "| {label} | {} | {:.0} | {:.1} |",
            ok / rounds,
            n as f64 / elapsed,
            (bytes * rounds) as f64 / elapsed / 1e6
        );
    }
    if let Some(python) = args.lxml_python {
        let schemas = args
            .schemas
            .ok_or("--schemas is needed with --lxml-python")?;
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/xsd_validate.py");
        let output = std::process::Command::new(&python)
            .arg(&script)
            .arg("--bench")
            .arg(rounds.to_string())
            .arg(&schemas)
            .args(&args.files)
            .output()
            .map_err(|e| format!("{}: {e}", python.display()))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let result: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("tools/xsd_validate.py: {e}"))?;
        println!(
            "| {} (parse + XSD validation, schema loaded once) | {} | {:.0} | {:.1} |",
            result["engine"].as_str().unwrap_or("lxml"),
            result["valid"].as_u64().unwrap_or(0) / rounds as u64,
            result["per_second"].as_f64().unwrap_or(0.0),
            result["mb_per_second"].as_f64().unwrap_or(0.0)
        );
        let ratio = (n as f64 / elapsed) / result["per_second"].as_f64().unwrap_or(f64::NAN);
        println!("\nAduana / libxml2: {ratio:.1}× the files per second");
    }
    Ok(ExitCode::SUCCESS)
}
