//! The HTTP API: a thin edge around the clearance pipeline.
//!
//! Each request is authenticated (bearer token → user), authorized by the one policy table ([`policy`]),
//! parsed (WCO XML or the JSON twin), decided by the pure crates, and stored in one transaction by `storage`.
//! Every error body comes from the error table ([`error`]). The OpenAPI document is generated from the handlers
//! and their types ([`policy::ApiDoc`]), served at `/api/v1/openapi.json`, and checked against the routes by a test.
//!
//! **API boundary**: wire types live here and in the JSON twin; the domain crates never see HTTP.

mod access;
mod cargo;
mod configuration;
mod declarations;
mod discharge;
pub mod documents;
mod entry_summaries;
pub mod error;
mod frame;
mod metrics;
mod notifications;
mod openapi;
pub mod payments;
pub mod policy;
mod portal;
mod portal_admin;
mod portal_agencies;
mod portal_arrivals;
mod portal_audit;
mod portal_declarations;
mod portal_enquiries;
mod portal_inspection;
mod portal_kpis;
mod portal_lodge_form;
mod portal_lpco_types;
mod portal_public;
mod portal_publications;
mod portal_queue;
mod portal_referrals;
mod portal_refunds;
mod portal_risk;
mod portal_risk_lists;
mod portal_risk_models;
mod portal_risk_rates;
mod portal_sw;
mod portal_transit;
pub mod public;
pub mod reference;
mod reports;
mod request;
pub mod risk;
mod security;
pub mod single_window;
pub mod transit;
pub mod users;

use axum::Router;
use axum::middleware;
use clearance::Pipeline;
use error::ApiError;
use error_table::ErrorCode;
use std::sync::Arc;
use std::time::Duration;
use storage::{Store, User};

pub use metrics::Metrics;
/// The code a trader gives so that anyone may read its declaration's status by MRN (`GET /status`).
pub use portal_declarations::status_code as public_status_code;

/// The OpenAPI document served at `/api/v1/openapi.json`: generated from the route table's handlers and the
/// types they read and answer ([`policy::ApiDoc`]), once per process.
pub fn openapi() -> &'static str {
    static DOCUMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use utoipa::OpenApi;
        policy::ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    });
    &DOCUMENT
}

/// Limits on requests (see also `wco::Limits` for XML).
#[derive(Clone, Debug)]
pub struct Config {
    pub xml_limits: wco::Limits,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest page of a list.
    pub max_page: i64,
    pub request_timeout: Duration,
    /// How long a request's body may take to arrive (shorter than `request_timeout`): then `request.timeout`.
    pub body_timeout: Duration,
    /// Banks that may confirm payments, with their HMAC keys.
    pub bank_keys: std::collections::HashMap<String, Vec<u8>>,
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
    /// How old the figures of a report computed from the whole history (the published release times, the rules'
    /// hit rates) may be on a page; `AppState::publish_reports` computes the standing ones again within half of
    /// it. Zero: computed for every request.
    pub published_every: Duration,
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
            body_timeout: Duration::from_secs(20),
            bank_keys: Default::default(),
            refund_four_eyes_above: rust_decimal::Decimal::from(1000),
            refund_bank: "TREASURY".into(),
            rate_limit: Some(RateLimit {
                per_second: 100,
                burst: 400,
            }),
            session_lifetime: Duration::from_secs(8 * 3600),
            secure_cookies: true,
            published_every: Duration::from_secs(600),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The pipeline in use: the one the server was started with, plus the risk documents analysts saved (rules,
    /// lists, rates, model choice); replaced whole when they save a new version.
    pipeline: Arc<std::sync::RwLock<Arc<Pipeline>>>,
    /// The pipeline as started (its profile replaced when an administrator changes it), before stored risk
    /// documents: what each reload starts from.
    base: Arc<std::sync::RwLock<Arc<Pipeline>>>,
    /// Today's counts per lane-rate population (the rate controller's state).
    pub rate_book: Arc<std::sync::Mutex<selectivity::rates::RateBook>>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    guard: Arc<security::Guard>,
}

impl AppState {
    pub fn new(store: Store, pipeline: Pipeline, config: Config) -> AppState {
        let config_limits = config.rate_limit;
        let pipeline = Arc::new(pipeline);
        AppState {
            store,
            base: Arc::new(std::sync::RwLock::new(pipeline.clone())),
            pipeline: Arc::new(std::sync::RwLock::new(pipeline)),
            rate_book: Default::default(),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            guard: Arc::new(security::Guard::new(&config_limits)),
        }
    }

    /// [`AppState::new`], then the risk documents analysts stored (rules, lists, rates, model choice) put in use
    /// and today's lane-rate counts rebuilt: what the server does at start.
    pub async fn start(
        store: Store,
        pipeline: Pipeline,
        config: Config,
    ) -> Result<AppState, String> {
        let state = AppState::new(store, pipeline, config);
        // The profile in use is the stored one: saved when it is new or differs from the newest stored version.
        let profile = &state.base().administration;
        let stored = state
            .store
            .current_administration()
            .await
            .map_err(|e| e.to_string())?;
        if stored.is_none_or(|v| v.profile != profile.source) {
            state
                .store
                .save_administration(
                    &storage::Actor::new("aduana serve", "system"),
                    &profile.source,
                    &format!("in use from the start of the server ({})", profile.name),
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        let loaded = risk::load(&state.store, &state.base()).await?;
        state.set_pipeline(loaded);
        let counted = risk::rebuild_rate_book(&state, time::OffsetDateTime::now_utc()).await?;
        if counted > 0 {
            tracing::info!(counted, "lane rate counts rebuilt from today's decisions");
        }
        Ok(state)
    }

    /// The pipeline as started, with the profile in use, before the stored risk documents.
    pub(crate) fn base(&self) -> Arc<Pipeline> {
        self.base
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts `profile` in use (already checked and saved): the base pipeline takes it, and the risk documents are
    /// applied over it again. The caller holds `risk::RELOAD`.
    pub(crate) async fn put_profile_in_use(
        &self,
        profile: administration::Profile,
    ) -> Result<(), error::ApiError> {
        let base = self.base().with_profile(profile);
        *self
            .base
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(base.clone());
        let loaded = risk::load(&self.store, &base)
            .await
            .map_err(error::ApiError::internal)?;
        self.set_pipeline(loaded);
        Ok(())
    }

    /// How to word an answer to a request with these headers: the administration's language the request's
    /// `Accept-Language` prefers (its default otherwise), and its currency's decimal places.
    pub(crate) fn wording(&self, headers: &axum::http::HeaderMap) -> notifications::Wording {
        let pipeline = self.pipeline();
        let profile = &pipeline.administration;
        // The language a portal user chose (its cookie), when the administration offers it; else the request's.
        let chosen = security::cookie(headers, frame::LANGUAGE_COOKIE)
            .as_deref()
            .and_then(wording::Language::parse)
            .filter(|l| profile.languages.contains(l));
        notifications::Wording {
            language: chosen.unwrap_or_else(|| {
                wording::Language::negotiate(
                    headers
                        .get(axum::http::header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok()),
                    &profile.languages,
                )
            }),
            places: profile.currency.decimal_places,
        }
    }

    /// Puts in use the profile stored by another server on the same database (an administrator's change made
    /// there): the newest stored version, when it differs from the one in use. `Ok(true)` when it changed.
    pub async fn follow_stored_profile(&self) -> Result<bool, String> {
        let Some(stored) = self
            .store
            .current_administration()
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(false);
        };
        let _guard = risk::RELOAD.lock().await;
        let base = self.base();
        if stored.profile == base.administration.source {
            return Ok(false);
        }
        let profile = ::administration::parse(&stored.profile).map_err(|errors| {
            format!(
                "stored profile version {} does not read: {}",
                stored.version,
                errors.first().map(|e| e.to_string()).unwrap_or_default()
            )
        })?;
        if profile.currency.code != base.administration.currency.code {
            return Err(format!(
                "stored profile version {} changes the national currency; restart the server to use it",
                stored.version
            ));
        }
        self.put_profile_in_use(profile)
            .await
            .map_err(|e| e.message.clone())?;
        Ok(true)
    }

    /// Follows the profile other servers store, every `every`, for ever (run it as a task beside `serve`).
    pub async fn follow_profile_changes(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.follow_stored_profile().await {
                Ok(true) => tracing::info!(
                    "the administration's profile stored by another server is in use"
                ),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "the stored profile was not put in use"),
            }
        }
    }

    /// Computes the standing published reports again (the release times of the last 30, 90 and 365 days by mode
    /// and by office; the hit rates of every rule over the whole history; the dashboard's indicators) whenever they are older than half of
    /// `Config::published_every`, for ever (run it as a task beside `serve`; every server may: the newest
    /// computation is kept), so that no page waits for one.
    pub async fn publish_reports(self) {
        if self.config.published_every.is_zero() {
            return;
        }
        let mut ticks =
            tokio::time::interval((self.config.published_every / 4).max(Duration::from_secs(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) =
                reports::refresh_published(&self, self.config.published_every / 2).await
            {
                tracing::warn!(error = %error.message, "a published report was not computed");
            }
        }
    }

    /// Computes every standing published report now and keeps it (what `publish_reports` does on its ticks), for
    /// an operator's command or a benchmark.
    pub async fn refresh_published_reports(&self) -> Result<(), String> {
        reports::refresh_published(self, Duration::from_nanos(1))
            .await
            .map_err(|e| e.message)
    }

    /// The pipeline in use now.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_pipeline(&self, pipeline: Pipeline) {
        *self
            .pipeline
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(pipeline);
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
    // One route per row of the policy table, with the row's handler (rows of one path share a route).
    let mut paths: Vec<&'static str> = Vec::new();
    let mut handlers: std::collections::HashMap<
        &'static str,
        axum::routing::MethodRouter<AppState>,
    > = std::collections::HashMap::new();
    for rule in policy::table() {
        let handler = (rule.handler)();
        match handlers.remove(rule.path) {
            Some(existing) => handlers.insert(rule.path, existing.merge(handler)),
            None => {
                paths.push(rule.path);
                handlers.insert(rule.path, handler)
            }
        };
    }
    for path in paths {
        if let Some(handler) = handlers.remove(path) {
            router = router.route(path, handler);
        }
    }
    with_layers(router, state)
}

/// The middleware every route passes, innermost first: authorization, panic containment, metrics, the request
/// timeout, the security headers.
fn with_layers(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(|| async { ApiError::new(ErrorCode::NotFound) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::authorize,
        ))
        // A panic in a handler (or in the middleware inside this layer) fails that request alone, with the error
        // table's 500 and one line in the log; the server goes on.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |panic: Box<dyn std::any::Any + Send>| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(%message, "a request panicked; it alone failed");
                axum::response::IntoResponse::into_response(ApiError::new(ErrorCode::Internal))
            },
        ))
        .layer(middleware::from_fn(metrics::record))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        // Outermost: every answer carries the security headers, timeouts and panics included.
        .layer(middleware::from_fn(security::headers))
        .with_state(state)
}

/// A request not answered within the configured time gets the error table's 503 (its transaction, if any, is
/// rolled back with the dropped future); a body not received in time is `request.timeout` (see `request::read_body`).
async fn timeout(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(ApiError::with_message(
            ErrorCode::Unavailable,
            "The request took longer than this service allows; try again.",
        )),
    }
}

/// How many header lines the HTTP parser reads before refusing a request by itself; the security middleware
/// refuses more than [`security::MAX_HEADERS`] with the error table's 431, so the parser's bare answer is never
/// what a client sees for an ordinary excess.
const PARSER_MAX_HEADERS: usize = 1024;

/// Serves the API on `listener` until `shutdown` completes, then lets the requests in flight finish.
///
/// The accept loop is ours rather than `axum::serve` so that the HTTP parser's limits can be set: with hyper's
/// default of 100 header lines, a request with more got a bare 431 with no body and none of our headers.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tower::ServiceExt;
    let app = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                request.map(axum::body::Body::new)
            },
        );
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().max_headers(PARSER_MAX_HEADERS);
        let connection = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            )
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    /// A profile stored by another server on the same database is put in use by this one.
    #[tokio::test]
    async fn a_profile_another_server_stored_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let sn = || {
            Pipeline::for_profile(
                ::administration::built_in_profile("demo-sn").unwrap(),
                vec![],
            )
        };
        let one = AppState::start(store.clone(), sn(), Config::default())
            .await
            .unwrap();
        let other = AppState::start(store.clone(), sn(), Config::default())
            .await
            .unwrap();
        assert!(!other.follow_stored_profile().await.unwrap());
        let mut changed = (*one.pipeline().administration).clone();
        changed
            .calendar
            .holidays
            .push(time::macros::date!(2027 - 04 - 27));
        store
            .save_administration(
                &storage::Actor::cli(),
                &changed.to_toml(),
                "a holiday, saved by the first server",
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        assert!(other.follow_stored_profile().await.unwrap());
        assert!(
            other
                .pipeline()
                .administration
                .calendar
                .holidays
                .contains(&time::macros::date!(2027 - 04 - 27))
        );
        assert!(!other.follow_stored_profile().await.unwrap());
    }

    /// A panic in a handler fails that request alone, with the error table's 500 and the security headers, and
    /// the next request is answered.
    #[tokio::test]
    async fn a_panicking_handler_fails_its_request_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let state = AppState::new(store, Pipeline::demo(vec![]), Config::default());
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        // The public route /healthz, answered by a handler that panics on its first call.
        let routes = Router::new().route(
            "/healthz",
            axum::routing::get(move || {
                let first = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
                async move {
                    assert!(!first, "a handler that panics");
                    "ok"
                }
            }),
        );
        let app = with_layers(routes, state);
        let request = || {
            axum::http::Request::get("/healthz")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let response = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(response.status(), 500);
        assert!(response.headers().contains_key("content-security-policy"));
        let body = axum::body::to_bytes(response.into_body(), 10_000)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "service.internal");
        let response = app.oneshot(request()).await.unwrap();
        assert_eq!(response.status(), 200, "the next request is answered");
    }
}
