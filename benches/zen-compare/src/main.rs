//! One rule set, two engines: Aduana's rule language and GoRules' zen-engine (a JSON Decision Model decision
//! table, hit policy `collect`), over the same declarations, in the same run. Both must select the same rules for
//! every declaration (checked), so the timings compare equal work.
//!
//! Run: `cargo run --release --manifest-path benches/zen-compare/Cargo.toml -- [RULES] [DECLARATIONS]`.
//!
//! The rules are the kinds a decision table can hold row by row: commodity prefixes, origins, declared values,
//! party identifiers and transport modes. An `or` across two fields is two rows. Declarations have one goods item,
//! so that item-level and declaration-level fields mean the same in both.

use rust_decimal::Decimal;
use selectivity::{Facts, ItemFacts, RuleSet};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Instant;
use zen_engine::DecisionEngine;
use zen_engine::model::DecisionContent;

const ORIGINS: [&str; 10] = ["CN", "US", "DE", "IN", "VN", "TR", "BR", "KP", "IR", "SY"];

/// Rule `i`: (Aduana's condition, zen rows as (column → cell)).
fn rule(i: usize) -> (String, Vec<Vec<(&'static str, String)>>) {
    let chapter = 1 + i % 97;
    match i % 4 {
        0 => {
            let prefix = format!("{chapter:02}{:02}", i % 100);
            (
                format!("commodity starts_with \"{prefix}\""),
                vec![vec![("commodity", format!("startsWith($, \"{prefix}\")"))]],
            )
        }
        1 => {
            let (a, b, v) = (ORIGINS[i % 10], ORIGINS[(i + 3) % 10], 10_000 + i * 37);
            (
                format!("origin in [\"{a}\", \"{b}\"] and value > {v}"),
                vec![vec![
                    ("origin", format!("\"{a}\", \"{b}\"")),
                    ("value", format!("> {v}")),
                ]],
            )
        }
        2 => {
            let (o, v) = (ORIGINS[i % 10], 1000 + i);
            (
                format!(
                    "commodity starts_with \"{chapter:02}\" and origin = \"{o}\" and item_value > {v}"
                ),
                vec![vec![
                    ("commodity", format!("startsWith($, \"{chapter:02}\")")),
                    ("origin", format!("\"{o}\"")),
                    ("item_value", format!("> {v}")),
                ]],
            )
        }
        _ => {
            let (d, m) = (format!("GB{i:012}"), format!("GB{:012}", i + 1));
            (
                format!("(declarant = \"{d}\" or importer = \"{m}\") and not mode = \"4\""),
                vec![
                    vec![
                        ("declarant", format!("\"{d}\"")),
                        ("mode", "$ != \"4\"".into()),
                    ],
                    vec![
                        ("importer", format!("\"{m}\"")),
                        ("mode", "$ != \"4\"".into()),
                    ],
                ],
            )
        }
    }
}

const COLUMNS: [&str; 7] = [
    "commodity",
    "origin",
    "value",
    "item_value",
    "declarant",
    "importer",
    "mode",
];

fn decision_table(n: usize) -> (String, Value) {
    let mut text = String::new();
    let mut rows = Vec::new();
    for i in 0..n {
        let (condition, zen_rows) = rule(i);
        text.push_str(&format!("rule B{i:04} when {condition} then yellow\n"));
        for cells in zen_rows {
            let mut row = serde_json::Map::new();
            row.insert("_id".into(), json!(format!("row{}", rows.len())));
            for column in COLUMNS {
                let cell = cells
                    .iter()
                    .find(|(c, _)| *c == column)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                row.insert(format!("in_{column}"), json!(cell));
            }
            row.insert("out_rule".into(), json!(format!("\"B{i:04}\"")));
            rows.push(Value::Object(row));
        }
    }
    let inputs: Vec<Value> = COLUMNS
        .iter()
        .map(|c| json!({"id": format!("in_{c}"), "name": c, "type": "expression", "field": c}))
        .collect();
    let graph = json!({
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
            {"id": "table", "type": "decisionTableNode", "name": "Risk rules", "position": {"x": 1, "y": 0},
             "content": {"hitPolicy": "collect", "inputs": inputs,
                         "outputs": [{"id": "out_rule", "name": "Rule", "type": "expression", "field": "rule"}],
                         "rules": rows}},
            {"id": "response", "type": "outputNode", "name": "Response", "position": {"x": 2, "y": 0}}
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "request", "targetId": "table"},
            {"id": "e2", "type": "edge", "sourceId": "table", "targetId": "response"}
        ]
    });
    (text, graph)
}

fn declaration(i: usize) -> (Facts, Value) {
    let commodity = format!("{:010}", (i * 7919) % 9_700_000_000 + 100_000_000);
    let origin = ["CN", "US", "DE", "IN", "VN", "TR", "BR", "FR", "JP", "GB"][i % 10];
    let value = 1000 + (i * 7919) % 200_000;
    let item_value = 500 + i % 50_000;
    // Every 50th declaration is by a party some rule names.
    let declarant = format!(
        "GB{:012}",
        if i % 50 == 0 {
            (i / 50) % 1000
        } else {
            100_000 + i
        }
    );
    let importer = format!("GB{:012}", 200_000 + i);
    let mode = ["1", "4", "3"][i % 3];
    let facts = Facts {
        declaration_type: "IMA".into(),
        declarant: Some(declarant.clone()),
        importer: Some(importer.clone()),
        mode: Some(mode.into()),
        value: Decimal::from(value),
        items: vec![ItemFacts {
            commodity: Some(commodity.clone()),
            origin: Some(origin.into()),
            procedure: Some("4000".into()),
            value: Decimal::from(item_value),
            ..ItemFacts::default()
        }],
        ..Facts::default()
    };
    let input = json!({
        "commodity": commodity, "origin": origin, "value": value, "item_value": item_value,
        "declarant": declarant, "importer": importer, "mode": mode,
    });
    (facts, input)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rules = args.first().copied().unwrap_or(1000);
    let n = args.get(1).copied().unwrap_or(5000);
    let (text, graph) = decision_table(rules);
    let ours = RuleSet::parse(&text).expect("the generated rules parse");
    let content: DecisionContent = serde_json::from_value(graph).expect("a decision model");
    let engine = DecisionEngine::default();
    let decision = engine.create_decision(content.into()).expect("a decision");
    let declarations: Vec<(Facts, Value)> = (0..n).map(declaration).collect();

    // Same answers first.
    let mut hits = 0;
    for (facts, input) in &declarations {
        let a: BTreeSet<String> = ours
            .decide(facts, 9_999)
            .hits
            .into_iter()
            .map(|h| h.rule)
            .collect();
        let response = decision
            .evaluate(input.clone().into())
            .await
            .expect("zen evaluates");
        let result: Value = response.result.into();
        let b: BTreeSet<String> = result
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r["rule"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(a, b, "the engines disagree on {input}");
        hits += a.len();
    }

    let started = Instant::now();
    let mut count = 0;
    for (facts, _) in &declarations {
        count += ours.decide(facts, 9_999).hits.len();
    }
    let aduana = started.elapsed();
    let started = Instant::now();
    for (_, input) in &declarations {
        let response = decision
            .evaluate(input.clone().into())
            .await
            .expect("zen evaluates");
        std::hint::black_box(response);
    }
    let zen = started.elapsed();
    assert_eq!(count, hits);
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "{rules} rules ({} decision-table rows), {n} declarations, one thread; {hits} hits, same in both",
        {
            let (_, g) = decision_table(rules);
            g["nodes"][1]["content"]["rules"]
                .as_array()
                .map_or(0, Vec::len)
        }
    );
    println!("| engine | per declaration µs | declarations/s |");
    println!("|---|---|---|");
    println!(
        "| Aduana rules | {:.1} | {:.0} |",
        per(aduana),
        n as f64 / aduana.as_secs_f64()
    );
    println!(
        "| zen-engine decision table (collect) | {:.1} | {:.0} |",
        per(zen),
        n as f64 / zen.as_secs_f64()
    );
}
