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
pub mod public;
pub mod reference;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use clearance::Pipeline;
use error::ApiError;
use error_table::ErrorCode;
use sha2::{Digest, Sha256};
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
    users: Arc<UserCache>,
}

impl AppState {
    pub fn new(store: Store, pipeline: Pipeline, config: Config) -> AppState {
        AppState {
            store,
            pipeline: Arc::new(pipeline),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            users: Arc::new(UserCache::default()),
        }
    }
}

/// Users by token hash, kept for a few seconds so that a busy client does not cost a database read per request.
/// A token removed from the database stops working within `USER_CACHE_SECONDS`.
#[derive(Default)]
struct UserCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (User, std::time::Instant)>>,
}

const USER_CACHE_SECONDS: u64 = 10;
const USER_CACHE_ENTRIES: usize = 10_000;

impl UserCache {
    fn get(&self, hash: &str) -> Option<User> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(USER_CACHE_SECONDS))
            .map(|(user, _)| user.clone())
    }

    fn put(&self, hash: String, user: User) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= USER_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (user, std::time::Instant::now()));
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub role: policy::Role,
}

/// The SHA-256 of a bearer token, as stored. Tokens are 256 random bits, so a fast hash is enough.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Builds the router: one route per row of the policy table.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for rule in policy::table() {
        router = router.route(rule.path, handlers::method_router(&rule.method, rule.path));
    }
    router
        .fallback(|| async { ApiError::new(ErrorCode::NotFound) })
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            state.config.request_timeout,
        ))
        .with_state(state)
}

/// Authentication and authorization, deny by default: a route without a row in the policy table is refused.
async fn authorize(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return next.run(request).await; // the fallback answers 404
    };
    let method = request.method().clone();
    let Some(rule) = policy::rule_for(&method, &path) else {
        // A route without a policy row is refused, whatever it is.
        return ApiError::new(ErrorCode::Forbidden).into_response();
    };
    let roles = match rule.access {
        policy::Access::Public => return next.run(request).await,
        policy::Access::Roles(roles) => roles,
    };
    let token = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256);
    let Some(token) = token else {
        return ApiError::new(ErrorCode::Unauthenticated).into_response();
    };
    let hash = token_hash(token);
    let user = match state.users.get(&hash) {
        Some(user) => user,
        None => match state.store.user_by_token_hash(&hash).await {
            Ok(Some(user)) => {
                state.users.put(hash, user.clone());
                user
            }
            Ok(None) => return ApiError::new(ErrorCode::Unauthenticated).into_response(),
            Err(error) => return ApiError::from(error).into_response(),
        },
    };
    let Some(role) = policy::Role::parse(&user.role) else {
        return ApiError::new(ErrorCode::Forbidden).into_response();
    };
    if !roles.contains(&role) {
        return ApiError::with_message(
            ErrorCode::Forbidden,
            format!("The {} role may not call {method} {path}.", role.as_str()),
        )
        .into_response();
    }
    request.extensions_mut().insert(Caller { user, role });
    next.run(request).await
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
