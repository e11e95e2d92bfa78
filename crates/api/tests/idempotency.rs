//! Idempotency under concurrency, on SQLite and PostgreSQL: 64 clients lodge at once; 10 % of their lodgements
//! lose the answer (the client gives up after 1 to 20 ms) and are sent again; 5 % are sent twice at the same
//! moment. Afterwards every acknowledged declaration is stored exactly once under the id every answer gave, with
//! one lodgement event; the ledger (deferred duties are taken at lodgement) balances; the audit chain verifies
//! and every event and transfer matches it.
//!
//! A short run in CI (64 × 16 lodgements); a long soak by command:
//! `ADUANA_SOAK_PER_CLIENT=200 cargo nextest run -p api --test idempotency --no-capture`.

mod common;

use common::TestApp;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;
const DECLARANT: &str = "GB603202734852";

fn per_client() -> usize {
    std::env::var("ADUANA_SOAK_PER_CLIENT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

/// The documented JSON example (it defers its duties to a deferment account) under another LRN.
fn declaration(lrn: &str) -> Value {
    let doc = include_str!("../../../docs/json-twin.md");
    let start = doc.find("```json").unwrap() + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    let mut example: Value = serde_json::from_str(&doc[start..end]).unwrap();
    example["lrn"] = Value::String(lrn.to_owned());
    example
}

/// What happens to one lodgement: sent once, sent and its answer lost then sent again, or sent twice at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Fate {
    Once,
    Retried,
    Duplicated,
}

/// A fixed pseudo-random fate (SplitMix64 of the pair), so that every run tries the same mix.
fn fate(client: usize, n: usize) -> Fate {
    let mut x = (client as u64) << 32 | n as u64;
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    match (x ^ (x >> 31)) % 100 {
        0..5 => Fate::Duplicated,
        5..15 => Fate::Retried,
        _ => Fate::Once,
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .post(format!("{base}/api/v1/declarations"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// Sends until answered (a real client retries an unanswered lodgement: it is idempotent).
async fn send_until_answered(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
) -> (u16, Value) {
    for _ in 0..50 {
        match send(client, base, token, body).await {
            Ok((503, _)) | Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Ok(answer) => return answer,
        }
    }
    panic!("no answer after 50 tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_retrying_and_duplicating_store_each_declaration_once() {
    let per_client = per_client();
    for backend in common::backends() {
        let app = TestApp::spawn(backend).await;
        let mut tokens = Vec::new();
        for _ in 0..CLIENTS {
            tokens.push(app.user("trader", Some(DECLARANT)).await);
        }
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (c, token) in tokens.into_iter().enumerate() {
            let base = app.base.clone();
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut answers: Vec<(String, Fate, Vec<(u16, Value)>)> = Vec::new();
                for n in 0..per_client {
                    let lrn = format!("IDEM-{c}-{n}");
                    let body = declaration(&lrn);
                    let fate = fate(c, n);
                    let got = match fate {
                        Fate::Once => {
                            vec![send_until_answered(&client, &base, &token, &body).await]
                        }
                        Fate::Retried => {
                            // The first answer is lost: the client gives up after 1 to 20 ms, before or after the
                            // server stored the lodgement, and sends it again.
                            let impatient = reqwest::Client::builder()
                                .timeout(Duration::from_millis(1 + ((c + n) % 20) as u64))
                                .build()
                                .unwrap();
                            let _ = send(&impatient, &base, &token, &body).await;
                            vec![send_until_answered(&client, &base, &token, &body).await]
                        }
                        Fate::Duplicated => {
                            let (a, b) = tokio::join!(
                                send_until_answered(&client, &base, &token, &body),
                                send_until_answered(&client, &base, &token, &body)
                            );
                            vec![a, b]
                        }
                    };
                    answers.push((lrn, fate, got));
                }
                answers
            }));
        }
        let mut by_lrn: HashMap<String, String> = HashMap::new();
        let mut fates: HashMap<Fate, usize> = HashMap::new();
        for task in tasks {
            for (lrn, fate, got) in task.await.unwrap() {
                *fates.entry(fate).or_default() += 1;
                let ids: Vec<String> = got
                    .iter()
                    .map(|(status, body)| {
                        assert!(
                            *status == 200 || *status == 201,
                            "{backend:?} {lrn}: {status} {body}"
                        );
                        body["id"].as_str().unwrap().to_owned()
                    })
                    .collect();
                assert!(
                    ids.windows(2).all(|w| w[0] == w[1]),
                    "{backend:?} {lrn}: two ids {ids:?}"
                );
                by_lrn.insert(lrn, ids[0].clone());
            }
        }
        let elapsed = started.elapsed();
        let total = CLIENTS * per_client;
        assert_eq!(by_lrn.len(), total);

        // Every acknowledged declaration is stored once, under the id it was answered with, lodged once.
        let stored = app
            .store
            .list(&storage::ListFilter {
                party: Some(DECLARANT.into()),
                status: None,
                lane: None,
                from: None,
                to: None,
                before_serial: None,
                limit: i64::try_from(total + 10).unwrap(),
            })
            .await
            .unwrap();
        assert_eq!(
            stored.len(),
            total,
            "{backend:?}: {} rows for {total} declarations",
            stored.len()
        );
        let mut events = 0;
        for (lrn, id) in &by_lrn {
            let found = app
                .store
                .declaration_id_by_lrn(DECLARANT, lrn)
                .await
                .unwrap();
            assert_eq!(found.as_deref(), Some(id.as_str()), "{backend:?} {lrn}");
            let log = app.store.events(id).await.unwrap();
            assert_eq!(
                log.iter().filter(|e| e.event_type == "lodged").count(),
                1,
                "{backend:?} {lrn}"
            );
            events += log.len() as u64;
        }
        // The ledger balances; the audit chain holds and matches every event and transfer.
        let ledger = app.store.ledger().await.unwrap();
        ledger.verify().unwrap();
        let deferred = ledger.transfers().filter(|t| t.code == "deferment").count();
        let report = app.store.verify_audit(vec![], &[]).await.unwrap();
        assert!(report.is_ok(), "{backend:?}: {report:?}");
        assert_eq!(report.events_checked, events);
        assert_eq!(
            report.transfers_checked as usize,
            ledger.transfers().count()
        );
        println!(
            "{backend:?}: {CLIENTS} clients, {total} declarations ({} once, {} retried, {} duplicated) in {:.1} s; \
             {events} events, {} transfers ({deferred} deferrals), {} audit entries, all verified",
            fates.get(&Fate::Once).unwrap_or(&0),
            fates.get(&Fate::Retried).unwrap_or(&0),
            fates.get(&Fate::Duplicated).unwrap_or(&0),
            elapsed.as_secs_f64(),
            ledger.transfers().count(),
            report.chain.as_ref().unwrap().entries,
        );
    }
}
