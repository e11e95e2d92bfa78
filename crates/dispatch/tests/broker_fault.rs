//! Issue 18's broker fault test: a burst of Single Window events while the NATS server is killed (SIGKILL) and
//! started again; every event reaches a durable JetStream consumer exactly once, in order, none lost — on SQLite
//! and on PostgreSQL.

use futures_util::StreamExt;
use std::time::Duration;
use test_support::{Database, NatsServer};

const EVENTS: usize = 240;

async fn store(database: Database, folder: &std::path::Path) -> storage::Store {
    let url = match database {
        Database::Sqlite => format!("sqlite://{}?mode=rwc", folder.join("fault.db").display()),
        Database::Postgres => test_support::fresh_postgres().await,
    };
    storage::Store::open(&url).await.unwrap()
}

fn application(n: usize) -> lpco::application::Application {
    lpco::application::Application {
        id: format!("app-{n:05}"),
        agency: lpco::AgencyCode::parse("VET").unwrap(),
        applicant: declaration::PartyId::parse("GB603202734852").unwrap(),
        request: lpco::application::Request {
            document_code: lpco::DocumentCode::parse("C640").unwrap(),
            commodity: declaration::CommodityCode::parse("0102291010").unwrap(),
            origin: None,
            quantity: None,
            unit: None,
            fields: Default::default(),
            documents: Vec::new(),
        },
        status: lpco::application::Status::Filed,
        filed_at: storage::format_time(time::OffsetDateTime::now_utc()),
        decisions: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_during_a_burst_loses_and_duplicates_nothing() {
    let Some(mut nats) = NatsServer::start() else {
        return;
    };
    for database in test_support::databases() {
        let folder = tempfile::tempdir().unwrap();
        let store = store(database, folder.path()).await;
        let actor = storage::Actor::cli();
        let now = time::OffsetDateTime::now_utc();
        store
            .save_agency(
                &actor,
                &lpco::Agency {
                    code: lpco::AgencyCode::parse("VET").unwrap(),
                    name: "Veterinary service".into(),
                    contact: None,
                    delivery: lpco::Delivery::Feed,
                },
                None,
                now,
            )
            .await
            .unwrap();
        store
            .save_lpco_type(
                &actor,
                &lpco::LpcoType {
                    code: lpco::DocumentCode::parse("C640").unwrap(),
                    agency: lpco::AgencyCode::parse("VET").unwrap(),
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
        // A fresh stream per database: the consumer then sees this run's events only.
        let context = dispatch::connect(&nats.url(), Duration::from_secs(120))
            .await
            .unwrap();
        let _ = context.delete_stream(dispatch::STREAM).await;
        let context = dispatch::connect(&nats.url(), Duration::from_secs(120))
            .await
            .unwrap();
        let publisher = tokio::spawn(dispatch::publish(
            store.clone(),
            context.clone(),
            Duration::from_millis(20),
        ));

        // The burst: the broker dies a third of the way in and comes back at two thirds.
        for n in 0..EVENTS {
            store
                .file_application(&actor, &application(n), time::OffsetDateTime::now_utc())
                .await
                .unwrap();
            if n == EVENTS / 3 {
                nats.kill();
            }
            if n == 2 * EVENTS / 3 {
                // The events filed during the outage are not acknowledged yet: the publisher is waiting.
                let acknowledged = store.outbox_cursor(dispatch::CURSOR).await.unwrap();
                assert!(
                    acknowledged <= (EVENTS / 3 + 1) as i64,
                    "{acknowledged} acknowledged during the outage"
                );
                nats.restart();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Every event acknowledged by the broker: the publisher's position reaches the last.
        let mut waited = 0;
        loop {
            store.sequence_outbox().await.unwrap();
            let last = store
                .outbox(None, None, 0, 500)
                .await
                .unwrap()
                .last()
                .map(|e| e.position);
            if last.is_some()
                && store.outbox_cursor(dispatch::CURSOR).await.unwrap() == last.unwrap()
            {
                break;
            }
            waited += 1;
            assert!(waited < 600, "the publisher did not catch up within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        publisher.abort();

        // A durable consumer reads the stream: each event once, in the outbox's order.
        let context = dispatch::connect(&nats.url(), Duration::from_secs(120))
            .await
            .unwrap();
        let stream = context.get_stream(dispatch::STREAM).await.unwrap();
        let consumer = stream
            .get_or_create_consumer(
                "agency-vet",
                async_nats::jetstream::consumer::pull::Config {
                    durable_name: Some("agency-vet".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut ids = Vec::new();
        while ids.len() < EVENTS + 1 {
            let mut batch = consumer
                .fetch()
                .max_messages(500)
                .expires(Duration::from_secs(1))
                .messages()
                .await
                .unwrap();
            let before = ids.len();
            while let Some(message) = batch.next().await {
                let message = message.unwrap();
                let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
                assert_eq!(
                    message.subject.as_str(),
                    format!("aduana.VET.{}", event["topic"].as_str().unwrap())
                );
                ids.push(event["id"].as_i64().unwrap());
                message.ack().await.unwrap();
            }
            if ids.len() == before {
                break;
            }
        }
        let expected: Vec<i64> = store
            .outbox(None, None, 0, 500)
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(expected.len(), EVENTS, "one event per application filed");
        assert_eq!(ids, expected, "{database:?}: every event once, in order");
    }
}
