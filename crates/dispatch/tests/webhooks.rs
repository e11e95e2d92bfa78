//! Webhooks to an agency that has neither a broker nor a feed reader: each event posted once acknowledged, in
//! order, signed with the agency's key (verified here as the agency would), retried after failures; the position
//! stored, so that a new dispatcher resends nothing acknowledged.

use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Received {
    /// (event id, verified) of every post answered 200.
    accepted: Arc<Mutex<Vec<(i64, bool)>>>,
    /// Posts refused (the first ones).
    refused: Arc<Mutex<usize>>,
}

async fn agency_endpoint(received: Received) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let received = received.clone();
            async move {
                {
                    let mut refused = received.refused.lock().unwrap();
                    if *refused < 2 {
                        *refused += 1;
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let header = headers[dispatch::SIGNATURE_HEADER].to_str().unwrap();
                let verified = signed::verify(KEY.as_bytes(), header, &body, now).is_ok();
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(
                    headers[dispatch::EVENT_HEADER].to_str().unwrap(),
                    event["id"].to_string()
                );
                received
                    .accepted
                    .lock()
                    .unwrap()
                    .push((event["id"].as_i64().unwrap(), verified));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hook")
}

const KEY: &str = "a webhook key of at least thirty-two characters";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_and_delivered_once_in_order() {
    for database in test_support::databases() {
        let folder = tempfile::tempdir().unwrap();
        let url = match database {
            test_support::Database::Sqlite => {
                format!("sqlite://{}?mode=rwc", folder.path().join("w.db").display())
            }
            test_support::Database::Postgres => test_support::fresh_postgres().await,
        };
        let store = storage::Store::open(&url).await.unwrap();
        let received = Received::default();
        let hook = agency_endpoint(received.clone()).await;
        let actor = storage::Actor::cli();
        let now = time::OffsetDateTime::now_utc();
        let agency = lpco::Agency {
            code: lpco::AgencyCode::parse("VET").unwrap(),
            name: "Veterinary service".into(),
            contact: None,
            delivery: lpco::Delivery::Webhook { url: hook },
        };
        store
            .save_agency(&actor, &agency, Some(KEY), now)
            .await
            .unwrap();
        store
            .save_lpco_type(
                &actor,
                &lpco::LpcoType {
                    code: lpco::DocumentCode::parse("C640").unwrap(),
                    agency: agency.code.clone(),
                    kind: lpco::Kind::Certificate,
                    title: "CHED-A".into(),
                    fields: Vec::new(),
                    validity_days: 30,
                    balance_unit: None,
                    uses: lpco::Uses::Multiple,
                    statuses: lpco::Statuses::uk(),
                    when_missing: lpco::WhenMissing::Refuse,
                },
                now,
            )
            .await
            .unwrap()
            .unwrap();
        for n in 0..5 {
            let application = lpco::application::Application {
                id: format!("app-{n}"),
                agency: agency.code.clone(),
                applicant: declaration::PartyId::parse("GB603202734852").unwrap(),
                request: serde_json::from_value(serde_json::json!({
                    "document_code": "C640", "commodity": "0102291010"
                }))
                .unwrap(),
                status: lpco::application::Status::Filed,
                filed_at: storage::format_time(now),
                decisions: Vec::new(),
            };
            store
                .file_application(&actor, &application, now)
                .await
                .unwrap();
        }
        store.sequence_outbox().await.unwrap();
        let dispatcher = tokio::spawn(dispatch::webhooks(store.clone(), Duration::from_millis(50)));
        // Two refusals (1 s, then 2 s of backoff), then the five events.
        let mut waited = 0;
        while received.accepted.lock().unwrap().len() < 5 {
            waited += 1;
            assert!(waited < 200, "not delivered within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        dispatcher.abort();
        let expected: Vec<i64> = store
            .outbox(Some("VET"), None, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        let accepted = received.accepted.lock().unwrap().clone();
        assert_eq!(
            accepted.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            expected,
            "{database:?}"
        );
        assert!(
            accepted.iter().all(|(_, verified)| *verified),
            "every post signed with the agency's key"
        );
        assert_eq!(*received.refused.lock().unwrap(), 2);
        // A new dispatcher resends nothing acknowledged.
        let again = tokio::spawn(dispatch::webhooks(store.clone(), Duration::from_millis(50)));
        tokio::time::sleep(Duration::from_millis(400)).await;
        again.abort();
        assert_eq!(received.accepted.lock().unwrap().len(), 5, "{database:?}");
    }
}
