//! Assessment speed against a full-size tariff: `cargo bench -p tariff --bench assessment`.
//!
//! The tariff is generated for the benchmark from the HS 2022 nomenclature of the shared material: for every HS
//! subheading, three national 10-digit lines (ad valorem A00 with rates spread 0–12 %, every seventh line
//! specific per kg, every eleventh compound, every thirteenth with a minimum), a preferential line for one origin
//! per heading, duty and VAT per chapter, and a relief — about 18,000 lines. The declarations are the HMRC sample
//! declarations that read, each assessed on 2026-03-01. Prints a table; BENCHMARKS.md records it.

use std::time::Instant;
use tariff::Tariff;

fn generated_tariff(hs_csv: &str) -> String {
    let mut out = String::from(
        "commodity_code,tax_type,kind,rate_percent,amount,currency,unit,minimum,maximum,base,origin,preference_code,valid_from,valid_to,condition\n",
    );
    let mut line = 0u32;
    let mut chapters = std::collections::BTreeSet::new();
    let mut headings = std::collections::BTreeSet::new();
    for row in hs_csv.lines().skip(1) {
        let code = row.split(',').nth(1).unwrap_or_default();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        chapters.insert(code[..2].to_owned());
        headings.insert(code[..4].to_owned());
        for suffix in ["0000", "1000", "9000"] {
            line += 1;
            // 0, 0.5, … 12 %, written as text.
            let rate = format!(
                "{}.{}",
                (line % 25) / 2,
                if !line.is_multiple_of(2) { 5 } else { 0 }
            );
            let national = format!("{code}{suffix}");
            let measure = if line.is_multiple_of(7) {
                format!(
                    "{national},A00,specific,,{}.{:02},GBP,KGM,,,customs_value,,,,,",
                    line % 5,
                    line % 100
                )
            } else if line.is_multiple_of(11) {
                format!(
                    "{national},A00,compound,{rate},0.{:02},GBP,KGM,,,customs_value,,,,,",
                    line % 100
                )
            } else if line.is_multiple_of(13) {
                format!("{national},A00,ad_valorem,{rate},,,,1.00,,customs_value,,,,,")
            } else {
                format!("{national},A00,ad_valorem,{rate},,,,,,customs_value,,,2020-01-01,,")
            };
            out.push_str(&measure);
            out.push('\n');
        }
    }
    for heading in &headings {
        out.push_str(&format!(
            "{heading},A00,ad_valorem,0,,,,,,customs_value,JP,300,,,\n"
        ));
    }
    for chapter in &chapters {
        out.push_str(&format!(
            "{chapter},B00,ad_valorem,20,,,,,,customs_value_plus_duties,,,,,\n"
        ));
        // Codes declared with national digits this tariff does not list still pay the chapter's duty.
        out.push_str(&format!(
            "{chapter},A00,ad_valorem,3,,,,,,customs_value,,,,,\n"
        ));
    }
    out.push_str(",A00,relief,,,,,,,,,,,,additional_procedure=C07\n");
    out
}

fn main() {
    let Some(shared) = test_support::shared_dir() else {
        return;
    };
    let hs = std::fs::read_to_string(shared.join("data/hs2022/harmonized-system.csv")).unwrap();
    let csv = generated_tariff(&hs);
    let started = Instant::now();
    let tariff = Tariff::from_csv(&csv).unwrap();
    let load = started.elapsed();
    let lines = tariff.measures().len();
    assert!(lines >= 15_000, "{lines}");

    let samples = test_support::hmrc_samples().unwrap();
    let declarations: Vec<_> = test_support::hmrc_declaration_files(&samples)
        .iter()
        .filter_map(|f| {
            wco::read_declaration(&std::fs::read(f).unwrap(), &wco::Limits::default()).ok()
        })
        .collect();
    let rates = tariff::demo::exchange_rates();
    let date = time::macros::date!(2026 - 03 - 01);
    let rounds = 50;
    let (mut assessed, mut refused, mut items) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for _ in 0..rounds {
        for declaration in &declarations {
            match tariff::assess(declaration, &tariff, &rates, date) {
                Ok(assessment) => {
                    assessed += 1;
                    items += assessment.items.len();
                }
                Err(_) => refused += 1,
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let all = assessed + refused;
    println!("| measure | value |");
    println!("|---|---|");
    println!("| tariff lines (generated) | {lines} |");
    println!("| tariff CSV size | {:.2} MB |", csv.len() as f64 / 1e6);
    println!(
        "| tariff load (parse + index) | {:.1} ms |",
        load.as_secs_f64() * 1e3
    );
    println!(
        "| declarations per round × rounds | {} × {rounds} |",
        declarations.len()
    );
    println!(
        "| assessed / refused (a specific duty without its quantity) | {assessed} / {refused} |"
    );
    println!(
        "| declarations/s (one core) | {:.0} |",
        all as f64 / elapsed
    );
    println!(
        "| goods items/s (one core) | {:.0} |",
        items as f64 / elapsed
    );
    println!(
        "| mean time per declaration | {:.1} µs |",
        elapsed * 1e6 / all as f64
    );
}
