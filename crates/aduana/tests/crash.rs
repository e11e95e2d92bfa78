//! Crash safety: the server is killed with SIGKILL at random moments while clients lodge declarations that defer
//! their duties, pay them from the trader's cash account, secure them with a guarantee or owe them at once, then it
//! is restarted on the same database. Every declaration the server acknowledged must still be there; every stored
//! declaration's history must be whole (its events, folded by the lifecycle, give its stored status); every ledger
//! transfer must belong to a stored declaration, and `ledger verify` (the ledger and every declaration's money)
//! and `audit verify` must pass. On SQLite (a data folder) and on PostgreSQL (`ADUANA_TEST_POSTGRES`, required in
//! CI). Rounds: `ADUANA_CRASH_ROUNDS` (default 50 on SQLite, 20 on PostgreSQL); a longer run by command:
//! `ADUANA_CRASH_ROUNDS=500 cargo nextest run -p aduana --test crash`.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TRADER: &str = "GB603202734852";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the server keeps its data: the data folder's SQLite database, or a PostgreSQL database.
struct Place {
    dir: tempfile::TempDir,
    database: Option<String>,
}

impl Place {
    fn args(&self, command: &mut Command) {
        command.arg("--data-dir").arg(self.dir.path());
        if let Some(url) = &self.database {
            command.args(["--database", url]);
        }
    }

    fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_aduana"));
        command.args(args);
        self.args(&mut command);
        command.output().unwrap()
    }
}

fn start(place: &Place, address: &str) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aduana"));
    command
        .args(["serve", "--addr", address])
        .env("ADUANA_SELECTION_SEED", "crash test")
        // Crash safety is measured here, not rate limits: the checks read every declaration back at full speed.
        .env("ADUANA_RATE_LIMIT", "0")
        .stderr(Stdio::null());
    place.args(&mut command);
    let mut child = command.spawn().unwrap();
    for _ in 0..500 {
        if std::net::TcpStream::connect(address).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

fn token(place: &Place, role: &str, party: Option<&str>) -> String {
    let mut args = vec!["users", "add", "--role", role];
    if let Some(party) = party {
        args.extend(["--party", party]);
    }
    let output = place.cli(&args);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The JSON twin example of docs/json-twin.md, its duties settled by `method`: E defers to DAN 1108654, P pays
/// from the trader's cash account, R is secured by guarantee GRN-CRASH, A is owed at once.
fn declaration(lrn: &str, method: &str) -> Value {
    let doc = include_str!("../../../docs/json-twin.md");
    let start = doc.find("```json").unwrap() + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    let mut d: Value = serde_json::from_str(&doc[start..end]).unwrap();
    d["lrn"] = json!(lrn);
    for fee in d["goods_shipment"]["goods_items"][0]["duty_tax_fees"]
        .as_array_mut()
        .unwrap()
    {
        fee["payment_method_code"] = json!(method);
    }
    if method == "R" {
        d["obligation_guarantees"] = json!([{"id": "GRNCRASH"}]);
    }
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_declarations_and_their_money_survive_sigkill() {
    for database in test_support::databases() {
        let place = Place {
            dir: tempfile::tempdir().unwrap(),
            database: match database {
                test_support::Database::Sqlite => None,
                test_support::Database::Postgres => Some(test_support::fresh_postgres().await),
            },
        };
        let default_rounds = if place.database.is_some() { 20 } else { 50 };
        let rounds: usize = std::env::var("ADUANA_CRASH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(default_rounds);
        crash(&place, rounds, database).await;
    }
}

async fn crash(place: &Place, rounds: usize, database: test_support::Database) {
    let trader = token(place, "trader", Some(TRADER));
    let officer = token(place, "officer", None);
    // The accounts the declarations name: opened by the administration, held by the trader.
    for (account, limit) in [
        ("deferment:1108654", "1000000000"),
        ("guarantee:GRNCRASH", "1000000000"),
    ] {
        let output = place.cli(&[
            "ledger", "open", account, "--limit", limit, "--holder", TRADER,
        ]);
        assert!(output.status.success(), "{output:?}");
    }
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    // The cash account funded once, through the API.
    {
        let address = format!("127.0.0.1:{}", free_port());
        let mut server = start(place, &address);
        let response = client
            .post(format!(
                "http://{address}/api/v1/ledger/accounts/cash:{TRADER}/settlements"
            ))
            .bearer_auth(&officer)
            .json(&json!({"amount": "1000000000.00", "reference": "FUND", "bank": "BANKA"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        server.kill().unwrap();
        server.wait().unwrap();
    }
    let mut attempted = 0usize;
    for round in 0..rounds {
        let address = format!("127.0.0.1:{}", free_port());
        let mut server = start(place, &address);
        let mut clients = Vec::new();
        for worker in 0..8 {
            let (client, address, trader, acknowledged) = (
                client.clone(),
                address.clone(),
                trader.clone(),
                acknowledged.clone(),
            );
            clients.push(tokio::spawn(async move {
                let mut sent = 0;
                for n in 0.. {
                    let lrn = format!("CRASH-{round}-{worker}-{n}");
                    let method = ["E", "P", "R", "A"][(worker + n) % 4];
                    sent += 1;
                    let response = client
                        .post(format!("http://{address}/api/v1/declarations"))
                        .bearer_auth(&trader)
                        .json(&declaration(&lrn, method))
                        .send()
                        .await;
                    let Ok(response) = response else { break };
                    if response.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(body) = response.json::<Value>().await else {
                        break;
                    };
                    acknowledged
                        .lock()
                        .unwrap()
                        .push((lrn, body["id"].as_str().unwrap().to_owned()));
                }
                sent
            }));
        }
        // Kill at a random moment: somewhere in the first 20–300 ms of load.
        let delay = 20 + (round as u64 * 7919) % 280;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        for handle in clients {
            attempted += handle.await.unwrap();
        }
    }

    // Restart once more and check every acknowledged declaration, then every stored one, whole.
    let address = format!("127.0.0.1:{}", free_port());
    let mut server = start(place, &address);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > rounds,
        "{database:?}: too little load: {} acknowledged in {rounds} rounds",
        acknowledged.len()
    );
    let mut ids: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor
            .as_ref()
            .map_or("limit=500".to_owned(), |c| format!("limit=500&cursor={c}"));
        let page: Value = client
            .get(format!("http://{address}/api/v1/declarations?{query}"))
            .bearer_auth(&officer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let stored: std::collections::HashSet<&String> = ids.iter().collect();
    for (lrn, id) in &acknowledged {
        assert!(
            stored.contains(id),
            "{database:?}: acknowledged {lrn} ({id}) was lost"
        );
    }
    for id in &ids {
        let view: Value = client
            .get(format!("http://{address}/api/v1/declarations/{id}"))
            .bearer_auth(&officer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The history is whole: its events, folded, give the stored status, lane, version and money.
        let mut state = workflow::State::new();
        let events = view["events"].as_array().unwrap();
        assert_eq!(
            events.first().map(|e| &e["type"]),
            Some(&json!("lodged")),
            "{view}"
        );
        for event in events {
            let kind: workflow::EventKind = serde_json::from_value(event["data"].clone()).unwrap();
            state.apply(&kind);
        }
        assert_eq!(
            json!(state.status),
            view["status"],
            "{database:?} {id}: {view}"
        );
        assert_eq!(json!(state.lane), view["lane"], "{id}");
        assert_eq!(json!(state.liabilities), view["liabilities"], "{id}");
        assert_eq!(
            state.paid.to_string(),
            view["paid"].as_str().unwrap(),
            "{id}"
        );
        assert!(view["mrn"].is_string(), "{id}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    println!(
        "{database:?}, {rounds} SIGKILLs: {attempted} lodgements attempted, {} acknowledged, {} stored, none lost",
        acknowledged.len(),
        ids.len()
    );
    // The audit trail and the ledger came through every crash whole: the chain verifies and matches every stored
    // event, version and transfer; the ledger balances, every transfer belongs to a stored declaration, and every
    // declaration's money agrees with it.
    for check in [&["audit", "verify"][..], &["ledger", "verify"][..]] {
        let output = place.cli(check);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{database:?} {check:?} after {rounds} SIGKILLs: {text}"
        );
        println!("{}", text.trim());
    }
}
