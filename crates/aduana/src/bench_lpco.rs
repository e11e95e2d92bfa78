//! `aduana bench-lpco`: how fast the Single Window's requirements of a goods item are found and checked in a
//! national-size set (BENCHMARKS.md; issue 18's target: under 20 µs per goods item with 50,000 requirements).

use lpco::{Direction, Group, Requirement, Requirements, Way};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// How many requirements the generated set holds.
    #[arg(long, default_value_t = 50_000)]
    requirements: usize,
    /// How many goods items are looked up.
    #[arg(long, default_value_t = 200_000)]
    items: usize,
}

/// A generated country list of `n` two-letter codes.
fn countries(n: usize, offset: usize) -> Vec<String> {
    (0..n)
        .map(|k| {
            let k = (k + offset) % 676;
            format!(
                "{}{}",
                (b'A' + (k / 26) as u8) as char,
                (b'A' + (k % 26) as u8) as char
            )
        })
        .collect()
}

/// Requirements on prefixes of 4 to 10 digits spread over the nomenclature, each for a group of 200 countries, with
/// two groups of two documents and a waiver.
pub(crate) fn generated(n: usize) -> Requirements {
    let mut set = Requirements::default();
    let requirements = (0..n)
        .map(|i| {
            let digits = 4 + i % 7;
            let code = format!(
                "{:010}",
                (i as u64).wrapping_mul(2_654_435_761) % 10_000_000_000
            );
            let way = |code: String| Way::Document {
                code,
                description: String::new(),
                waiver: false,
            };
            Requirement {
                id: format!("g:{i}"),
                measure_type: format!("{}", 300 + i % 400),
                title: "generated".into(),
                agency: None,
                commodity_prefix: code[..digits].to_owned(),
                direction: if i % 5 == 0 {
                    Direction::Export
                } else {
                    Direction::Import
                },
                area: "1011".into(),
                countries: countries(200, i % 600),
                excluded: vec!["CH".into()],
                additional_code: None,
                valid_from: None,
                valid_to: None,
                groups: vec![
                    Group {
                        condition: "B".into(),
                        ways: vec![way(format!("C{:03}", i % 1000)), way("Y929".into())],
                        otherwise: "not allowed".into(),
                    },
                    Group {
                        condition: "E".into(),
                        ways: vec![way(format!("N{:03}", i % 1000))],
                        otherwise: "not allowed".into(),
                    },
                ],
            }
        })
        .collect();
    set.merge(requirements).expect("under the ceiling");
    set
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let started = Instant::now();
    let set = generated(args.requirements);
    let built = started.elapsed();
    let date = time::macros::date!(2026 - 12 - 01);
    let cited = ["C640", "Y929", "N851"];
    let origins = countries(676, 0);
    let codes: Vec<String> = (0..args.items)
        .map(|i| format!("{:010}", (i as u64).wrapping_mul(40_503) % 10_000_000_000))
        .collect();
    let started = Instant::now();
    let (mut found, mut missing) = (0usize, 0usize);
    for (i, code) in codes.iter().enumerate() {
        for requirement in set.for_goods(code, Direction::Import, &origins[i % 676], date) {
            found += 1;
            if matches!(
                requirement.check(&cited, &[]),
                lpco::Verdict::Missing { .. }
            ) {
                missing += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{} requirements indexed in {:.1} ms; {} goods items looked up and checked in {:.1} ms: {:.2} µs per item \
         ({found} requirements applied, {missing} missing a document); ceiling 20 µs",
        set.len(),
        built.as_secs_f64() * 1e3,
        args.items,
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / args.items.max(1) as f64,
    );
    Ok(ExitCode::SUCCESS)
}
