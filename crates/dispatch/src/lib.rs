//! Delivery of the Single Window's outbox (docs/single-window.md, "Events"): every event an agency cares about is
//! written to the outbox in the transaction of the change that caused it (storage); this crate moves it on.
//!
//! - [`sequence`] gives committed events their positions in the order they became visible (storage's
//!   `sequence_outbox`, one sequencer at a time across servers), every few hundred milliseconds. The HTTP feed
//!   (`GET /api/v1/agency/feed`) reads by position: the embedded default, needing nothing but the database.
//! - [`publish`] sends them to NATS JetStream (`aduana serve --nats URL`): subject `aduana.<agency>.<topic>`, the
//!   outbox id as `Nats-Msg-Id`, so that JetStream's de-duplication drops a repeat. The publisher's position (the
//!   last event JetStream acknowledged) is stored in the database: after a restart of either side it resends from
//!   there, and a resend of an event already stored is dropped by the broker. Nothing is lost (an event is only
//!   passed once acknowledged) and nothing is delivered twice (within the duplicate window, two minutes by default,
//!   which a publisher's retry never exceeds).
//!
//! - [`webhooks`] posts each agency's events to its webhook (an agency registered with `delivery = webhook`),
//!   signed as banks sign their confirmations (`x-aduana-signature: t=<unix seconds>,v1=<HMAC-SHA256 hex>` of
//!   `t.body` with the agency's key) and carrying `x-aduana-event-id` (the outbox id, for the agency to drop a
//!   repeat); an answer other than 2xx is retried with backoff (1 s doubling to 5 min); the position of each agency
//!   is stored, so a restart resends from the first event not acknowledged.
//!
//! **An edge**: IO only; no customs decision is made here.

use async_nats::jetstream;
use std::time::Duration;
use storage::Store;

/// The JetStream stream the events go to, and its subjects.
pub const STREAM: &str = "ADUANA";
pub const SUBJECTS: &str = "aduana.>";
/// The publisher's name in the database's cursors.
pub const CURSOR: &str = "nats";
/// Most events one round publishes before it records its position.
pub const ROUND: i64 = 500;

/// The subject of an event: `aduana.<agency>.<topic>` (`aduana.VET.application.filed`); `_` without an agency.
pub fn subject(event: &storage::OutboxEvent) -> String {
    let agency: String = event
        .agency
        .as_deref()
        .unwrap_or("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("aduana.{agency}.{}", event.topic)
}

/// Gives committed events their positions, every `every`, forever.
pub async fn sequence(store: Store, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = store.sequence_outbox().await {
            tracing::warn!(%error, "the outbox was not sequenced this time");
        }
    }
}

/// Connects to NATS and makes sure the stream exists (file storage, the de-duplication window given).
pub async fn connect(url: &str, duplicate_window: Duration) -> Result<jetstream::Context, String> {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| format!("NATS at {url}: {e}"))?;
    let context = jetstream::new(client);
    ensure_stream(&context, duplicate_window).await?;
    Ok(context)
}

async fn ensure_stream(
    context: &jetstream::Context,
    duplicate_window: Duration,
) -> Result<(), String> {
    context
        .get_or_create_stream(jetstream::stream::Config {
            name: STREAM.into(),
            subjects: vec![SUBJECTS.into()],
            storage: jetstream::stream::StorageType::File,
            duplicate_window,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("the JetStream stream {STREAM}: {e}"))?;
    Ok(())
}

/// One round: sequences, then publishes the events after the stored position, each acknowledged by JetStream
/// before the next; records the position of the last acknowledged. Returns how many were acknowledged (repeats the
/// broker dropped count: they are stored).
pub async fn publish_round(store: &Store, context: &jetstream::Context) -> Result<usize, String> {
    store.sequence_outbox().await.map_err(|e| e.to_string())?;
    let after = store
        .outbox_cursor(CURSOR)
        .await
        .map_err(|e| e.to_string())?;
    let events = store
        .outbox(None, None, after, ROUND)
        .await
        .map_err(|e| e.to_string())?;
    let mut acknowledged = None;
    let mut count = 0;
    let mut failure = None;
    for event in &events {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            event.id.to_string().as_str(),
        );
        let payload = match serde_json::to_vec(event) {
            Ok(payload) => payload,
            Err(error) => {
                failure = Some(error.to_string());
                break;
            }
        };
        let sent = context
            .publish_with_headers(subject(event), headers, payload.into())
            .await;
        let ack = match sent {
            Ok(pending) => pending.await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match ack {
            Ok(_) => {
                acknowledged = Some(event.position);
                count += 1;
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    if let Some(position) = acknowledged {
        store
            .advance_outbox_cursor(CURSOR, position)
            .await
            .map_err(|e| e.to_string())?;
    }
    match failure {
        Some(error) if count == 0 => Err(error),
        Some(error) => {
            tracing::warn!(%error, count, "publishing stopped; the rest is resent next round");
            Ok(count)
        }
        None => Ok(count),
    }
}

/// Publishes forever: a round whenever the last was full or `every` has passed; after a failure (the broker down),
/// waits with backoff (up to 5 s) and resends from the stored position.
pub async fn publish(store: Store, context: jetstream::Context, every: Duration) {
    let mut backoff = every;
    loop {
        match publish_round(&store, &context).await {
            Ok(n) if n as i64 >= ROUND => {
                backoff = every;
                continue;
            }
            Ok(_) => {
                backoff = every;
                tokio::time::sleep(every).await;
            }
            Err(error) => {
                tracing::warn!(%error, "the broker did not take the events; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The header carrying the signature of a webhook post, and the one carrying the event's id.
pub const SIGNATURE_HEADER: &str = "x-aduana-signature";
pub const EVENT_HEADER: &str = "x-aduana-event-id";
/// Most events one agency's round posts.
pub const WEBHOOK_ROUND: i64 = 100;

/// One round of webhook posts for `agency` to `url`: the events after its stored position, each signed, in order,
/// until one is not acknowledged (2xx). Returns how many were acknowledged, or the failure.
pub async fn post_round(
    store: &Store,
    client: &reqwest::Client,
    agency: &str,
    url: &str,
    key: &[u8],
) -> Result<usize, String> {
    let cursor = format!("webhook:{agency}");
    let after = store
        .outbox_cursor(&cursor)
        .await
        .map_err(|e| e.to_string())?;
    let events = store
        .outbox(Some(agency), None, after, WEBHOOK_ROUND)
        .await
        .map_err(|e| e.to_string())?;
    let mut count = 0;
    for event in &events {
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let answer = client
            .post(url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signed::sign(key, now, &body))
            .header(EVENT_HEADER, event.id.to_string())
            .body(body)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                store
                    .advance_outbox_cursor(&cursor, event.position)
                    .await
                    .map_err(|e| e.to_string())?;
                count += 1;
            }
            Ok(response) => return Err(format!("{url} answered {}", response.status())),
            Err(error) => return Err(format!("{url}: {error}")),
        }
    }
    Ok(count)
}

/// Posts every webhook agency's events, forever: a round per agency every `every`; an agency whose endpoint
/// failed waits (1 s, doubling to 5 min) before it is tried again.
pub async fn webhooks(store: Store, every: Duration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut waiting: std::collections::HashMap<String, (std::time::Instant, Duration)> =
        Default::default();
    loop {
        tokio::time::sleep(every).await;
        let agencies = match store.agencies().await {
            Ok(agencies) => agencies,
            Err(error) => {
                tracing::warn!(%error, "agencies not read");
                continue;
            }
        };
        for agency in agencies {
            let lpco::Delivery::Webhook { url } = &agency.delivery else {
                continue;
            };
            let code = agency.code.to_string();
            if waiting
                .get(&code)
                .is_some_and(|(until, _)| std::time::Instant::now() < *until)
            {
                continue;
            }
            let key = match store.agency_secret(&code).await {
                Ok(Some(key)) => key,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(%error, agency = %code, "webhook key not read");
                    continue;
                }
            };
            match post_round(&store, &client, &code, url, key.as_bytes()).await {
                Ok(_) => {
                    waiting.remove(&code);
                }
                Err(error) => {
                    let backoff = waiting.get(&code).map_or(Duration::from_secs(1), |(_, b)| {
                        (*b * 2).min(Duration::from_secs(300))
                    });
                    tracing::warn!(%error, agency = %code, retry_in_s = backoff.as_secs(), "webhook not acknowledged");
                    waiting.insert(code, (std::time::Instant::now() + backoff, backoff));
                }
            }
        }
    }
}
