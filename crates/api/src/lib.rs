//! The HTTP API: a thin edge around the clearance pipeline.
//!
//! Each request is authenticated (bearer token → user), authorized by the one policy table ([`policy`]),
//! parsed (WCO XML or the JSON twin), decided by the pure crates, and stored in one transaction by `storage`.
//! Every error body comes from the error table ([`error`]). The OpenAPI document (`openapi.json`) is served at
//! `/api/v1/openapi.json` and checked against the routes by a test.
//!
//! **API boundary**: wire types live here and in the JSON twin; the domain crates never see HTTP.

pub mod error;
mod handlers;
mod metrics;
mod notifications;
pub mod payments;
pub mod policy;
mod portal;
pub mod public;
pub mod reference;
mod security;

use axum::Router;
use axum::middleware;
use clearance::Pipeline;
use error::ApiError;
use error_table::ErrorCode;
use std::sync::Arc;
use std::time::Duration;
use storage::{Store, User};

pub use metrics::Metrics;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Limits on requests (see also `wco::Limits` for XML).
#[derive(Clone, Debug)]
pub struct Config {
    pub xml_limits: wco::Limits,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest page of a list.
    pub max_page: i64,
    pub request_timeout: Duration,
    /// Banks that may confirm payments, with their HMAC keys.
    pub bank_keys: std::collections::HashMap<String, Vec<u8>>,
    /// A deferment account named by a declaration but not opened is opened with this limit (a demonstration
    /// convenience; `None` in production: accounts are opened by the administration with their own limits).
    pub auto_open_deferment_limit: Option<rust_decimal::Decimal>,
    /// Refunds above this amount need a second officer's approval (four eyes).
    pub refund_four_eyes_above: rust_decimal::Decimal,
    /// The bank account refunds are paid out through.
    pub refund_bank: String,
    /// Requests per token (or per client address on public routes); `None` turns the limit off (benchmarks).
    pub rate_limit: Option<RateLimit>,
    /// How long a portal session lasts.
    pub session_lifetime: Duration,
    /// Whether session cookies carry `Secure` (off only for plain-HTTP development on another host than localhost).
    pub secure_cookies: bool,
}

/// A token bucket: `per_second` sustained, `burst` at once.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for Config {
    fn default() -> Self {
        let xml_limits = wco::Limits::default();
        Config {
            max_body_bytes: xml_limits.max_bytes,
            xml_limits,
            max_page: 500,
            request_timeout: Duration::from_secs(30),
            bank_keys: Default::default(),
            auto_open_deferment_limit: None,
            refund_four_eyes_above: rust_decimal::Decimal::from(1000),
            refund_bank: "TREASURY".into(),
            rate_limit: Some(RateLimit {
                per_second: 100,
                burst: 400,
            }),
            session_lifetime: Duration::from_secs(8 * 3600),
            secure_cookies: true,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub pipeline: Arc<Pipeline>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    guard: Arc<security::Guard>,
}

impl AppState {
    pub fn new(store: Store, pipeline: Pipeline, config: Config) -> AppState {
        let config_limits = config.rate_limit;
        AppState {
            store,
            pipeline: Arc::new(pipeline),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            guard: Arc::new(security::Guard::new(&config_limits)),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub role: policy::Role,
}

pub use portal::hash_password;
pub use security::{TOKEN_CACHE_SECONDS, new_secret, token_hash};

/// Builds the router: one route per row of the policy table.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for rule in policy::table() {
        router = router.route(rule.path, handlers::method_router(&rule.method, rule.path));
    }
    router
        .fallback(|| async { ApiError::new(ErrorCode::NotFound) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::authorize,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(middleware::from_fn(security::headers))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            state.config.request_timeout,
        ))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
