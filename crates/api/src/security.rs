//! Authentication, authorization, rate limits and security headers: the middleware every request passes.
//!
//! - A bearer token is looked up by its SHA-256 (tokens are 256 random bits, so a fast hash is enough), then
//!   checked: not revoked, not expired, its user not disabled, its role listed for the route, its scopes covering
//!   the route's scope. Lookups are cached for [`TOKEN_CACHE_SECONDS`]: a token revoked from the command line
//!   stops working within that time.
//! - A portal session is a random id in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure`), stored as its hash.
//! - Every caller is rate-limited: per token, or per client address on public routes (GCRA, `governor`).
//! - Every response carries the security headers (CSP with the hashes of our inline styles, no framing, no
//!   sniffing, no referrer to other sites); responses to authenticated requests are not cached.

use crate::error::ApiError;
use crate::policy::{self, Access, Role};
use crate::{AppState, Caller, RateLimit};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use governor::clock::{Clock, DefaultClock};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use storage::{Token, User};
use time::OffsetDateTime;

/// How long a token lookup is trusted without asking the database again.
pub const TOKEN_CACHE_SECONDS: u64 = 5;
const TOKEN_CACHE_ENTRIES: usize = 10_000;
/// Largest total size of a request's headers.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header lines a request may carry.
pub const MAX_HEADERS: usize = 100;
/// Unknown bearer tokens an address may send in [`GUESS_WINDOW`] before its new tokens are answered 429 without a
/// look-up, until the window ends (tokens it sent that are valid and known go on working).
pub const MAX_UNKNOWN_TOKENS: u32 = 100;
pub const GUESS_WINDOW: Duration = Duration::from_secs(60);
/// Failed sign-ins allowed per login in [`LOGIN_WINDOW`].
pub const MAX_LOGIN_FAILURES: u32 = 5;
/// Failed sign-ins allowed per client address in [`LOGIN_WINDOW`] (an office behind one address has many users).
pub const MAX_ADDRESS_FAILURES: u32 = 20;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
const THROTTLE_ENTRIES: usize = 100_000;

/// The SHA-256 of a bearer token or session id, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new secret: 256 random bits in hex, with a prefix saying what it is.
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// What the middleware shares: the token cache, the rate limiter, the sign-in throttle.
pub struct Guard {
    tokens: Mutex<HashMap<String, ((User, Token), Instant)>>,
    limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    checks: std::sync::atomic::AtomicU64,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Guard {
    pub fn new(limit: &Option<RateLimit>) -> Guard {
        let limiter = limit.map(|limit| {
            let per_second = NonZeroU32::new(limit.per_second.max(1)).expect("at least 1");
            let burst = NonZeroU32::new(limit.burst.max(1)).expect("at least 1");
            governor::RateLimiter::keyed(governor::Quota::per_second(per_second).allow_burst(burst))
        });
        Guard {
            tokens: Mutex::new(HashMap::new()),
            limiter,
            checks: Default::default(),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, hash: &str) -> Option<(User, Token)> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(hash)
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(TOKEN_CACHE_SECONDS))
            .map(|(found, _)| found.clone())
    }

    fn cache(&self, hash: String, found: (User, Token)) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= TOKEN_CACHE_ENTRIES {
            tokens.clear();
        }
        tokens.insert(hash, (found, Instant::now()));
    }

    /// `Err(seconds to wait)` when `key` is over its rate.
    fn check_rate(&self, key: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % 10_000 == 9_999 {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Whether sign-in attempts for `key` (a login or an address) are blocked for now, after `max` failures.
    pub fn login_blocked(&self, key: &str, max: u32) -> bool {
        self.blocked_within(key, max, LOGIN_WINDOW)
    }

    /// Whether `key` failed `max` times in the `window` that its first failure opened.
    fn blocked_within(&self, key: &str, max: u32, window: Duration) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures
            .get(key)
            .is_some_and(|(n, since)| *n >= max && since.elapsed() < window)
    }

    /// Counts a failure of `key` in a window of its own (see [`Guard::blocked_within`]).
    fn failed_within(&self, key: &str, window: Duration) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= THROTTLE_ENTRIES {
            failures.retain(|_, (_, since)| since.elapsed() < LOGIN_WINDOW);
        }
        let entry = failures
            .entry(key.to_owned())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn login_failed(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= THROTTLE_ENTRIES {
            failures.retain(|_, (_, since)| since.elapsed() < LOGIN_WINDOW);
        }
        let entry = failures
            .entry(key.to_owned())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= LOGIN_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn login_succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// The portal session of a request (set by [`authorize`] on session routes).
#[derive(Clone, Debug)]
pub struct PortalSession {
    pub id_hash: String,
    pub csrf_token: String,
}

/// The session cookie's name: `__Host-` binds it to this host, over HTTPS, for the whole site.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-aduana_session"
    } else {
        "aduana_session"
    }
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Equal secrets, compared in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn rate_limited(seconds: u64) -> Response {
    let mut response = ApiError::new(ErrorCode::RateLimited).into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn client_address(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Authentication, authorization and rate limits, deny by default: a route without a row in the policy table is
/// refused.
pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES || request.headers().len() > MAX_HEADERS {
        return ApiError::with_message(
            ErrorCode::HeadersTooLarge,
            format!(
                "The request has more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes of them; this service accepts no more."
            ),
        )
        .into_response();
    }
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
    else {
        return next.run(request).await; // the fallback answers 404
    };
    let method = request.method().clone();
    let Some(rule) = policy::rule_for(&method, &path) else {
        // The path exists with other methods: 405 with the methods it takes. A route without any policy row is
        // refused, whatever it is.
        let allowed: Vec<String> = policy::table()
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.method.to_string())
            .collect();
        if allowed.is_empty() {
            return ApiError::new(ErrorCode::Forbidden).into_response();
        }
        let mut response = ApiError::with_message(
            ErrorCode::MethodNotAllowed,
            format!("{path} takes {}, not {method}.", allowed.join(", ")),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    };
    let roles = match rule.access {
        Access::Public | Access::Signed => {
            if let Err(wait) = state
                .guard
                .check_rate(&format!("ip:{}", client_address(&request)))
            {
                return rate_limited(wait);
            }
            return next.run(request).await;
        }
        Access::Session(roles) => return session_route(state, request, next, roles).await,
        Access::Roles(roles) => roles,
    };
    // The scheme is case-insensitive (RFC 7235 §2.1): "Bearer", "bearer", "BEARER".
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 256);
    let Some(token) = token else {
        return ApiError::new(ErrorCode::Unauthenticated).into_response();
    };
    let hash = token_hash(token);
    // Guessing tokens costs a database look-up each: an address that sent many unknown ones waits.
    let guesser = format!("unknown-token@{}", client_address(&request));
    let (user, token) = match state.guard.cached(&hash) {
        Some(found) => found,
        None => {
            if state
                .guard
                .blocked_within(&guesser, MAX_UNKNOWN_TOKENS, GUESS_WINDOW)
            {
                return rate_limited(GUESS_WINDOW.as_secs());
            }
            match state.store.token_by_hash(&hash).await {
                Ok(Some(found)) => {
                    state.guard.cache(hash, found.clone());
                    found
                }
                Ok(None) => {
                    state.guard.failed_within(&guesser, GUESS_WINDOW);
                    return ApiError::new(ErrorCode::Unauthenticated).into_response();
                }
                Err(error) => return ApiError::from(error).into_response(),
            }
        }
    };
    if token.revoked_at.is_some() {
        return ApiError::new(ErrorCode::TokenRevoked).into_response();
    }
    let now = storage::format_time(OffsetDateTime::now_utc());
    if token
        .expires_at
        .as_deref()
        .is_some_and(|at| at <= now.as_str())
    {
        return ApiError::new(ErrorCode::TokenExpired).into_response();
    }
    if user.disabled_at.is_some() {
        return ApiError::with_message(ErrorCode::Unauthenticated, "This user is disabled.")
            .into_response();
    }
    if let Err(wait) = state.guard.check_rate(&format!("token:{}", token.id)) {
        return rate_limited(wait);
    }
    let Some(role) = Role::parse(&user.role) else {
        return ApiError::new(ErrorCode::Forbidden).into_response();
    };
    if !roles.contains(&role) {
        return ApiError::with_message(
            ErrorCode::Forbidden,
            format!("The {} role may not call {method} {path}.", role.as_str()),
        )
        .into_response();
    }
    if !policy::scopes_allow(&token.scopes, rule.scope) {
        return ApiError::with_message(
            ErrorCode::ScopeMissing,
            format!(
                "This token's scopes ({}) do not include {}, which {method} {path} needs.",
                token.scopes.join(" "),
                rule.scope.as_str()
            ),
        )
        .into_response();
    }
    request.extensions_mut().insert(Caller { user, role });
    no_store(next.run(request).await)
}

async fn session_route(
    state: AppState,
    mut request: Request,
    next: Next,
    roles: &[Role],
) -> Response {
    let is_get = request.method() == axum::http::Method::GET;
    let refuse = |code: ErrorCode| -> Response {
        if is_get {
            Redirect::to("/login").into_response()
        } else {
            ApiError::new(code).into_response()
        }
    };
    let name = session_cookie_name(state.config.secure_cookies);
    let Some(id) = cookie(request.headers(), name).filter(|v| !v.is_empty() && v.len() <= 128)
    else {
        return refuse(ErrorCode::Unauthenticated);
    };
    let id_hash = token_hash(&id);
    let (user, session) = match state.store.session(&id_hash).await {
        Ok(Some(found)) => found,
        Ok(None) => return refuse(ErrorCode::Unauthenticated),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let now = storage::format_time(OffsetDateTime::now_utc());
    if session.ended_at.is_some() || session.expires_at <= now || user.disabled_at.is_some() {
        return refuse(ErrorCode::Unauthenticated);
    }
    if let Err(wait) = state.guard.check_rate(&format!("session:{id_hash}")) {
        return rate_limited(wait);
    }
    let Some(role) = Role::parse(&user.role).filter(|r| roles.contains(r)) else {
        return ApiError::new(ErrorCode::Forbidden).into_response();
    };
    request.extensions_mut().insert(Caller { user, role });
    request.extensions_mut().insert(PortalSession {
        id_hash,
        csrf_token: session.csrf_token,
    });
    no_store(next.run(request).await)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The Content-Security-Policy of every response: nothing but our own forms and the inline styles of our pages,
/// pinned by their hashes; no scripts, no framing.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    use base64::Engine;
    let mut hashes = Vec::new();
    for template in crate::portal::TEMPLATES_WITH_STYLES {
        let mut rest = *template;
        while let Some(start) = rest.find("<style>") {
            let after = &rest[start + "<style>".len()..];
            let Some(end) = after.find("</style>") else {
                break;
            };
            let digest = Sha256::digest(&after.as_bytes()[..end]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
            rest = &after[end..];
        }
    }
    let policy = format!(
        "default-src 'none'; style-src 'self' {}; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        hashes.join(" ")
    );
    HeaderValue::from_str(&policy).expect("ASCII")
});

/// Adds the security headers to every response.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: with the latter Chromium sends `Origin: null` on our own form posts,
    // which the sign-in's origin check refuses; other sites still get no referrer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}
