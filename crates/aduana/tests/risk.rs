//! `aduana risk` as an analyst runs it: train a model on labelled declarations, score new ones with their top
//! factors, back-test with the documented JSON shape; bad files are refused with their line.

use std::fmt::Write as _;
use std::process::Command;

const HEADER: &str = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud";

/// Declarations where importer IMP0 is found irregular nine times in ten, the others once in twenty.
fn csv(rows: usize, offset: usize) -> String {
    let mut text = format!("{HEADER}\n");
    for i in offset..offset + rows {
        let importer = i % 10;
        let fraud = if importer == 0 {
            i % 10 != 3
        } else {
            i % 20 == 7
        } as u8;
        writeln!(
            text,
            "{i},2020-01-{:02},30,B,11,21,11,10,DEC{},IMP{importer},SEL{},,{},CN,CN,8.0,A,Y,{},{},{fraud},0",
            1 + i % 28,
            i % 7,
            i % 13,
            850000 + (i / 10) % 40,
            10 + i % 500,
            1000 + i % 9000
        )
        .unwrap();
    }
    text
}

fn aduana(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aduana"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn train_score_and_backtest_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(path("train.csv"), csv(2000, 0)).unwrap();
    std::fs::write(path("test.csv"), csv(500, 5000)).unwrap();

    let output = aduana(&[
        "risk",
        "backtest",
        "--json",
        "--train",
        &path("train.csv"),
        "--test",
        &path("test.csv"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["test_rows"], 500);
    assert!(result["auc"].as_f64().unwrap() > 0.9, "{result}");
    for rate in ["0.01", "0.02", "0.05", "0.1", "0.2"] {
        assert!(
            result["at"][rate]["precision"].is_f64() && result["at"][rate]["recall"].is_f64(),
            "{result}"
        );
    }

    let output = aduana(&[
        "risk",
        "train",
        "--train",
        &path("train.csv"),
        "--out",
        &path("model.json"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Piped, the progress bar and spinner stay away: the summary line alone, no terminal controls.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("model trained on 2000 rows"), "{stderr}");
    assert!(!stderr.contains(['\r', '\x1b']), "{stderr:?}");
    let output = aduana(&[
        "risk",
        "score",
        "--model",
        &path("model.json"),
        &path("test.csv"),
    ]);
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 500);
    // Row 5000 is importer IMP0's: a high score, explained by the importer's history.
    assert!(lines[0]["score"].as_f64().unwrap() > 0.5, "{}", lines[0]);
    assert!(
        lines[0]["factors"][0]["feature"]
            .as_str()
            .unwrap()
            .contains("importer"),
        "{}",
        lines[0]
    );

    // A bad outcome value: refused with its line.
    std::fs::write(
        path("bad.csv"),
        format!("{HEADER}\n1,2020-01-01,30,B,11,21,11,10,D,I,S,,850000,CN,CN,8,A,Y,1,1,maybe,0\n"),
    )
    .unwrap();
    let output = aduana(&[
        "risk",
        "train",
        "--train",
        &path("bad.csv"),
        "--out",
        &path("x.json"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("line 2: the outcome must be 0, 1 or empty")
    );
}
