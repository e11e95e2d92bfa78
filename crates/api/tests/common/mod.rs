//! The black-box harness: each test spawns the real application on port 0 with a fresh database (a SQLite file
//! in a temporary folder, or a new PostgreSQL database on the server named by `ADUANA_TEST_POSTGRES`) and talks
//! HTTP to it.

#![allow(dead_code)]

use reqwest::{Client, Response};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to run against: SQLite always; PostgreSQL when `ADUANA_TEST_POSTGRES` names a server (required
/// in CI).
pub fn backends() -> Vec<Backend> {
    test_support::databases()
        .into_iter()
        .map(|d| match d {
            test_support::Database::Sqlite => Backend::Sqlite,
            test_support::Database::Postgres => Backend::Postgres,
        })
        .collect()
}

/// The configuration tests run with.
pub fn config() -> api::Config {
    api::Config {
        // Tests send as fast as they can from one token; the limit has its own test.
        rate_limit: None,
        // Reports show what was just done (the published figures' cache has its own test).
        published_every: std::time::Duration::ZERO,
        ..api::Config::default()
    }
}

/// The deferment limit tests open accounts with when a declaration names one nobody opened (the HMRC samples
/// defer to such accounts): the demonstration convenience, held by the first declarant that names it. Tests of
/// the safe default turn it off (`p.auto_open_limit = None`).
pub const AUTO_OPEN_LIMIT: i64 = 10_000_000;

pub struct TestApp {
    pub base: String,
    url: String,
    pub client: Client,
    pub store: storage::Store,
    pub backend: Backend,
    _temp: tempfile::TempDir,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn fresh_postgres() -> String {
    test_support::fresh_postgres().await
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut clearance::Pipeline),
    ) -> TestApp {
        Self::spawn_full(backend, configure, config()).await
    }

    pub async fn spawn_full(
        backend: Backend,
        configure: impl FnOnce(&mut clearance::Pipeline),
        config: api::Config,
    ) -> TestApp {
        let temp = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                temp.path().join("test.db").display()
            ),
            Backend::Postgres => fresh_postgres().await,
        };
        Self::start(backend, url, temp, configure, config).await
    }

    /// The application on an existing database (e.g. as another PostgreSQL role).
    pub async fn spawn_on(backend: Backend, url: &str) -> TestApp {
        Self::spawn_on_with(backend, url, config()).await
    }

    /// Another server with its own configuration on an existing database.
    pub async fn spawn_on_with(backend: Backend, url: &str, config: api::Config) -> TestApp {
        let temp = tempfile::tempdir().unwrap();
        Self::start(backend, url.to_owned(), temp, |_| {}, config).await
    }

    async fn start(
        backend: Backend,
        url: String,
        temp: tempfile::TempDir,
        configure: impl FnOnce(&mut clearance::Pipeline),
        config: api::Config,
    ) -> TestApp {
        let store = storage::Store::open(&url).await.expect("open store");
        let mut pipeline = clearance::Pipeline::demo(b"test seed".to_vec());
        pipeline.auto_open_limit = Some(rust_decimal::Decimal::from(AUTO_OPEN_LIMIT));
        configure(&mut pipeline);
        let state = api::AppState::start(store.clone(), pipeline, config)
            .await
            .expect("start");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(api::serve(listener, state, std::future::pending()));
        TestApp {
            base: format!("http://{address}"),
            url,
            client: Client::new(),
            store,
            backend,
            _temp: temp,
            server,
        }
    }

    /// The database URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Creates a user and returns its token.
    pub async fn user(&self, role: &str, party: Option<&str>) -> String {
        let token = format!("tok-{}", uuid::Uuid::new_v4().simple());
        self.store
            .add_user(
                &format!("{role} {party:?}"),
                role,
                party,
                &api::token_hash(&token),
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        token
    }

    /// Creates a user with a token limited to `scopes` (and an expiry), and returns the token.
    pub async fn user_with_token(
        &self,
        role: &str,
        party: Option<&str>,
        scopes: &[&str],
        expires_at: Option<time::OffsetDateTime>,
    ) -> String {
        let now = time::OffsetDateTime::now_utc();
        let user = self
            .store
            .add_user_as(
                &storage::Actor::cli(),
                storage::NewUser {
                    name: format!("{role} {party:?}"),
                    role: role.to_owned(),
                    party: party.map(str::to_owned),
                    login: None,
                },
                now,
            )
            .await
            .unwrap();
        let token = format!("tok-{}", uuid::Uuid::new_v4().simple());
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.store
            .create_token(
                &storage::Actor::cli(),
                &user.id,
                "test",
                &scopes,
                expires_at,
                &api::token_hash(&token),
                now,
            )
            .await
            .unwrap();
        token
    }

    pub async fn lodge_xml(&self, token: &str, body: &[u8]) -> Response {
        self.client
            .post(format!("{}/api/v1/declarations", self.base))
            .bearer_auth(token)
            .header("content-type", "application/xml")
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    pub async fn lodge_json(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}/api/v1/declarations", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Response {
        self.client
            .put(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// What a bank's system does: sign a payment confirmation with `key`, as of `age_seconds` ago, and post it
    /// as `bank`.
    pub async fn confirm(
        &self,
        bank: &str,
        key: &[u8],
        body: &Value,
        age_seconds: i64,
    ) -> (u16, Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp() - age_seconds;
        json(
            self.client
                .post(format!("{}/api/v1/bank/confirmations", self.base))
                .header(api::payments::BANK_HEADER, bank)
                .header(
                    api::payments::SIGNATURE_HEADER,
                    api::payments::sign(key, timestamp, &bytes),
                )
                .header("content-type", "application/json")
                .body(bytes)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

/// Reads a response as (status, JSON).
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Replaces the LRN of an XML declaration.
pub fn with_lrn(xml: &[u8], lrn: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(xml);
    let start = text.find("<FunctionalReferenceID>").unwrap() + "<FunctionalReferenceID>".len();
    let end = start + text[start..].find('<').unwrap();
    format!("{}{lrn}{}", &text[..start], &text[end..]).into_bytes()
}

/// A small model trained on records where chapter 85 from CN is irregular.
pub fn tiny_model() -> String {
    let records: Vec<risk_model::records::Record> = (0..400)
        .map(|i| {
            let risky = i % 3 == 0;
            risk_model::records::Record {
                declarant: format!("GB{:012}", i % 17),
                importer: format!("GB{:012}", i % 23),
                hs_code: if risky {
                    "851090".into()
                } else {
                    "940360".into()
                },
                origin_country: if risky { "US".into() } else { "DE".into() },
                net_mass: Some(f64::from(10 + i % 50)),
                item_price: Some(f64::from(100 + i * 7 % 900)),
                irregular: Some(risky && i % 2 == 0),
                ..risk_model::records::Record::default()
            }
        })
        .collect();
    let settings = risk_model::Settings {
        iterations: 10,
        ..risk_model::Settings::default()
    };
    risk_model::Model::train(&records, &settings)
        .unwrap()
        .to_json()
}
