//! The portal's sign-in: users with argon2id passwords, sessions in `HttpOnly`, `SameSite=Strict`, `Secure`
//! cookies, a CSRF token in every form (per session; before sign-in, a double-submit cookie), sign-in attempts
//! throttled per login and per client address, every sign-in, failure and sign-out in the audit trail.

use crate::error::ApiError;
use crate::security::{self, PortalSession, same_secret, session_cookie_name, token_hash};
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use std::net::SocketAddr;
use time::OffsetDateTime;

/// The templates whose inline styles the Content-Security-Policy allows by hash.
pub const TEMPLATES_WITH_STYLES: &[&str] = &[include_str!("../templates/receipt.html")];

/// The cookie holding the sign-in form's CSRF token (before there is a session).
const LOGIN_CSRF_COOKIE: &str = "aduana_login_csrf";
const MAX_LOGIN_CHARS: usize = 128;
const MAX_PASSWORD_BYTES: usize = 1024;

/// An argon2id hash of a password, in the PHC string format (salt and parameters inside).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches an argon2 PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash to verify against when the login does not exist, so that a wrong login takes as long as a wrong
/// password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("no such user").expect("argon2 works"));

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: wording::Language,
    frame: crate::frame::Frame,
    csrf: String,
    login: String,
}

/// An RFC 3339 UTC time as `YYYY-MM-DD HH:MM` at `office` (its time zone); as stored when it does not read.
/// The office whose time zone a page's times are shown in (the administration's first), and the zone's name
/// (UTC when the administration has no office).
pub(crate) fn zone_of(
    profile: &administration::Profile,
) -> (Option<&administration::Office>, String) {
    let office = profile.offices.first();
    let zone = office.map_or_else(|| "UTC".to_owned(), |o| o.time_zone.clone());
    (office, zone)
}

pub(crate) fn local_time(at: &str, office: Option<&administration::Office>) -> String {
    let Ok(time) = storage::parse_time(at) else {
        return at.to_owned();
    };
    let local = office
        .and_then(|o| o.utc_offset(time))
        .map_or(time, |offset| time.to_offset(offset));
    local
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_else(|_| at.to_owned())
}

/// Text as written, for a template to show (it escapes): paragraphs (blank lines between) of lines.
pub(crate) fn paragraphs(text: &str) -> Vec<Vec<String>> {
    text.split("\n\n")
        .map(|p| p.lines().map(str::to_owned).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Ten unambiguous letters and digits derived from `seed` (SHA-256): a code every server computes alike and none
/// stores (a declaration's public status code, an enquiry's reference and answer code).
pub(crate) fn derived_code(seed: &str) -> String {
    use sha2::Digest;
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    sha2::Sha256::digest(seed.as_bytes())
        .iter()
        .take(10)
        .map(|b| ALPHABET[(*b & 31) as usize] as char)
        .collect()
}

/// A public form (no session) is its page's: posted from this site with the token its page put in the form and in
/// the cookie `cookie_name` (double submit).
pub(crate) fn public_form_is_ours(
    headers: &HeaderMap,
    fields: &[(String, String)],
    cookie_name: &str,
) -> bool {
    let sent = field(fields, "csrf");
    let kept = security::cookie(headers, cookie_name).unwrap_or_default();
    same_origin(headers) && !sent.is_empty() && same_secret(sent, &kept)
}

pub(crate) fn render(template: &impl Template) -> Result<String, ApiError> {
    template.render().map_err(ApiError::internal)
}

pub(crate) fn cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie values are hex")
}

/// A form's fields, at most a few and short.
pub(crate) fn form(body: &[u8]) -> Vec<(String, String)> {
    form_up_to(body, 4096)
}

/// A form's fields when the body is at most `max` bytes (none otherwise: the CSRF check then fails).
pub(crate) fn form_up_to(body: &[u8], max: usize) -> Vec<(String, String)> {
    if body.len() > max {
        return Vec::new();
    }
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// A form's fields (at most `max` bytes) once its CSRF token is the session's and it was sent from this site.
pub(crate) fn posted_form(
    headers: &HeaderMap,
    session: &crate::security::PortalSession,
    body: &[u8],
    max: usize,
) -> Result<Vec<(String, String)>, ApiError> {
    let fields = form_up_to(body, max);
    check_posted(headers, session, &fields)?;
    Ok(fields)
}

/// A form's fields are the session's own: posted from this site with the session's CSRF token (any form,
/// urlencoded or multipart).
pub(crate) fn check_posted(
    headers: &HeaderMap,
    session: &crate::security::PortalSession,
    fields: &[(String, String)],
) -> Result<(), ApiError> {
    if !same_origin(headers)
        || !crate::security::same_secret(field(fields, "csrf"), &session.csrf_token)
    {
        return Err(ApiError::new(error_table::ErrorCode::CsrfInvalid));
    }
    Ok(())
}

pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A form posted from another site is refused (on top of `SameSite=Strict` and the CSRF token).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // older browsers; the CSRF token still has to match
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

/// The sign-in page in the language asked (`aduana_lang` or `Accept-Language`), with `error` (a refusal of the
/// last attempt) in its error summary, linked to the login field.
fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    status: StatusCode,
    login: &str,
    error: Option<ErrorCode>,
) -> Result<Response, ApiError> {
    let csrf = security::new_secret("");
    let t = state.wording(headers).language;
    let errors = error
        .map(|code| {
            vec![crate::frame::FieldError {
                field: "login".to_owned(),
                message: t.error_sentence(code),
            }]
        })
        .unwrap_or_default();
    let frame = crate::frame::Frame::public(state, headers, uri, t.get("page-sign-in-title"))
        .with_errors(errors);
    let page = render(&LoginPage {
        t,
        frame,
        csrf: csrf.clone(),
        login: login.chars().take(MAX_LOGIN_CHARS).collect(),
    })?;
    let mut response = (status, Html(page)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(state, LOGIN_CSRF_COOKIE, &csrf, "/login", 3600),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The sign-in form (`application/x-www-form-urlencoded`), as the login page sends it. A schema for the
/// document: `login` reads the form's fields by name.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct LoginForm {
    login: String,
    password: String,
    /// The login page's CSRF token (also in its cookie).
    csrf: String,
}

/// The sign-out form: the session's CSRF token.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct LogoutForm {
    csrf: String,
}

#[utoipa::path(
    get,
    path = "/login",
    tag = "portal",
    summary = "The portal's sign-in page",
    description = "An HTML form (login, password) with a CSRF token, also set in a cookie scoped to /login (double submit). No script.",
    responses((status = 200, description = "The page", content((String = "text/html"))))
)]
pub async fn show_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    login_page(&state, &headers, &uri, StatusCode::OK, "", None)
}

#[utoipa::path(
    post,
    path = "/login",
    tag = "portal",
    summary = "Sign in to the portal",
    description = "Form fields `login`, `password`, `csrf`. On success: a session cookie (`__Host-aduana_session`: HttpOnly, Secure, SameSite=Strict) and 303 to /portal. Wrong login or password: 401 with the page again (`auth.login_failed`); five failures per login or per client address in 15 minutes: 429 (`auth.login_throttled`); a missing or wrong CSRF token or a foreign Origin: 403 (`auth.csrf_invalid`). Every attempt is in the audit trail.",
    request_body(content((crate::portal::LoginForm = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Signed in: go to /portal"), (status = 401, description = "Wrong login or password", content((String = "text/html"))), (status = 403, description = "CSRF token missing or wrong", content((String = "text/html"))), (status = 429, description = "Too many failures", content((String = "text/html"))))
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form(&body);
    let login: String = field(&fields, "login")
        .chars()
        .take(MAX_LOGIN_CHARS)
        .collect();
    let password = field(&fields, "password");
    if !public_form_is_ours(&headers, &fields, LOGIN_CSRF_COOKIE) {
        return login_page(
            &state,
            &headers,
            &uri,
            StatusCode::FORBIDDEN,
            &login,
            Some(ErrorCode::CsrfInvalid),
        );
    }
    let (by_login, by_address) = (format!("login:{login}"), format!("ip:{}", address.ip()));
    if state
        .guard
        .login_blocked(&by_login, security::MAX_LOGIN_FAILURES)
        || state
            .guard
            .login_blocked(&by_address, security::MAX_ADDRESS_FAILURES)
    {
        return login_page(
            &state,
            &headers,
            &uri,
            StatusCode::TOO_MANY_REQUESTS,
            &login,
            Some(ErrorCode::LoginThrottled),
        );
    }
    let found = if login.is_empty() {
        None
    } else {
        state.store.user_by_login(&login).await?
    };
    let stored = found
        .as_ref()
        .and_then(|(user, hash)| user.disabled_at.is_none().then_some(hash.clone()).flatten());
    let password = password.as_bytes()[..password.len().min(MAX_PASSWORD_BYTES)].to_vec();
    let matches = tokio::task::spawn_blocking(move || {
        let password = String::from_utf8_lossy(&password);
        match stored {
            Some(hash) => verify_password(&password, &hash),
            None => {
                let _ = verify_password(&password, &DUMMY_HASH);
                false
            }
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let now = OffsetDateTime::now_utc();
    let Some((user, _)) = found.filter(|_| matches) else {
        state.guard.login_failed(&by_login);
        state.guard.login_failed(&by_address);
        state
            .store
            .record(vec![storage::audit_entry(
                &storage::Actor::new(format!("login:{login}"), "anonymous"),
                audit::Action::UserLoginFailed,
                &format!("login/{login}"),
                address.ip().to_string().as_bytes(),
                now,
            )])
            .await?;
        return login_page(
            &state,
            &headers,
            &uri,
            StatusCode::UNAUTHORIZED,
            &login,
            Some(ErrorCode::LoginFailed),
        );
    };
    state.guard.login_succeeded(&by_login);
    let session_id = security::new_secret("s_");
    let csrf = security::new_secret("");
    let lifetime = state.config.session_lifetime;
    state
        .store
        .create_session(&user, &token_hash(&session_id), &csrf, now + lifetime, now)
        .await?;
    let mut response = Redirect::to("/portal").into_response();
    let name = session_cookie_name(state.config.secure_cookies);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(&state, name, &session_id, "/", lifetime.as_secs() as i64),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(&state, LOGIN_CSRF_COOKIE, "", "/login", 0),
    );
    Ok(response)
}

#[utoipa::path(
    post,
    path = "/logout",
    tag = "portal",
    summary = "Sign out",
    description = "Form field `csrf` (the session's token). Ends the session and clears the cookie.",
    request_body(content((crate::portal::LogoutForm = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Signed out: go to /login"), (status = 401, description = "No session (auth.unauthenticated)", body = crate::error::ErrorBody), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = form(&body);
    if !same_origin(&headers) || !same_secret(field(&fields, "csrf"), &session.csrf_token) {
        return Err(ApiError::new(ErrorCode::CsrfInvalid));
    }
    state
        .store
        .end_session(&caller.user, &session.id_hash, OffsetDateTime::now_utc())
        .await?;
    let mut response = Redirect::to("/login").into_response();
    let name = session_cookie_name(state.config.secure_cookies);
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie(&state, name, "", "/", 0));
    Ok(response)
}
