//! The architecture's first invariant, executable: the domain crates are pure. Their dependency closure, as
//! `cargo metadata` resolves it for this workspace, holds no crate that does IO, runs an async runtime, speaks SQL
//! or HTTP, or reads the network — a domain crate that gained one fails here, in CI.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The crates ARCHITECTURE.md calls pure.
const DOMAIN: &[&str] = &[
    "declaration",
    "manifest",
    "wco",
    "edifact",
    "tariff",
    "selectivity",
    "risk-model",
    "workflow",
    "revenue",
    "clearance",
    "ledger",
    "audit",
    "error-table",
    "administration",
    "wording",
    "lpco",
    "signed",
    "entry-summary",
    "message-schema",
    "transit",
];

/// Crates a pure crate may not reach: runtimes, IO, databases, HTTP, the edges of this workspace.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "mio",
    "futures-executor",
    "sqlx",
    "sqlx-core",
    "rusqlite",
    "libsqlite3-sys",
    "postgres",
    "tokio-postgres",
    "hyper",
    "hyper-util",
    "axum",
    "tower",
    "reqwest",
    "ureq",
    "socket2",
    "storage",
    "api",
    "aduana",
    "dispatch",
    "async-nats",
];

#[test]
fn domain_crates_reach_no_io_async_sql_or_http_crate() {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let name_of: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    // The resolved graph, normal dependencies only (tests and build scripts may use anything).
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap();
        let normal: Vec<&str> = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        edges.insert(id, normal);
    }
    let mut failures = Vec::new();
    for domain in DOMAIN {
        let Some((root, _)) = name_of.iter().find(|(_, name)| *name == domain) else {
            failures.push(format!("{domain}: not in the workspace"));
            continue;
        };
        // Every crate reachable from it, with the path that reaches it (for the message).
        let mut seen = BTreeSet::new();
        let mut stack = vec![(*root, vec![*domain])];
        while let Some((id, path)) = stack.pop() {
            for next in edges.get(id).into_iter().flatten() {
                if !seen.insert(*next) {
                    continue;
                }
                let name = name_of[next];
                let mut path = path.clone();
                path.push(name);
                if FORBIDDEN.contains(&name) {
                    failures.push(path.join(" → "));
                }
                stack.push((next, path));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "domain crates reach IO, async, SQL or HTTP:\n{}",
        failures.join("\n")
    );
}
