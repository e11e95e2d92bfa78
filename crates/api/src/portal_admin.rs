//! The administrator's pages (until now the command line's alone): users with their role, party, portal login
//! and password; a user's API tokens, scoped and expiring, whose secret is shown once; representations of
//! declarants by brokers. Every change goes through `users` (the same checks as `aduana users | tokens |
//! representations`) and the store writes it with its audit entry, the administrator as actor.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::policy::{Role, Scope};
use crate::portal::{field, local_time, posted_form, render};
use crate::security::PortalSession;
use crate::users::{self, UserRequest, UsersError};
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use time::OffsetDateTime;
use wording::Language;

const USERS_PAGE: i64 = 50;
const REPRESENTATIONS_SHOWN: i64 = 500;

/// What the pages say was just done, by the key in `?done=`.
fn done_text(t: Language, key: Option<&str>) -> Option<String> {
    const KNOWN: &[&str] = &[
        "user-created",
        "role",
        "office",
        "password",
        "disabled",
        "token-revoked",
        "representation-granted",
        "representation-revoked",
    ];
    key.filter(|k| KNOWN.contains(k))
        .map(|k| t.get(&format!("page-done-{k}")))
}

/// A refusal's errors in the page's language, each at its field; the store failing is the server's error.
fn refusals(t: Language, error: UsersError) -> Result<Vec<FieldError>, ApiError> {
    match error {
        UsersError::Refused(refused) => Ok(refused
            .into_iter()
            .map(|r| FieldError {
                field: r.field().to_owned(),
                message: r.sentence(t),
            })
            .collect()),
        UsersError::Store(e) => Err(ApiError::internal(e)),
    }
}

fn role_choices(t: Language, chosen: &str) -> Vec<(String, String, bool)> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_owned(),
                t.get(&format!("role-{}", r.as_str())),
                r.as_str() == chosen,
            )
        })
        .collect()
}

fn state_text(
    t: Language,
    user: &storage::User,
    office: Option<&administration::Office>,
) -> String {
    match &user.disabled_at {
        Some(at) => t.with("page-user-disabled-at", "at", &local_time(at, office)),
        None => t.get("page-user-active"),
    }
}

struct UserRow {
    id: String,
    name: String,
    role: String,
    party: String,
    login: String,
    state: String,
    created: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    t: Language,
    frame: Frame,
    rows: Vec<UserRow>,
    older: Option<String>,
    roles: Vec<(String, String, bool)>,
    typed: Vec<(String, String)>,
    zone: String,
}

impl UsersPage {
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

#[derive(serde::Deserialize, Default)]
pub struct UsersQuery {
    before: Option<String>,
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn users_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    query: UsersQuery,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let before = query
        .before
        .filter(|b| b.len() <= 64 && b.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
    let mut users = state
        .store
        .users_page(before.as_deref(), USERS_PAGE + 1)
        .await?;
    let older = (users.len() as i64 > USERS_PAGE).then(|| {
        users.truncate(USERS_PAGE as usize);
        format!(
            "/portal/users?before={}",
            users.last().map_or("", |u| u.id.as_str())
        )
    });
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let rows = users
        .iter()
        .map(|u| UserRow {
            id: u.id.clone(),
            name: u.name.clone(),
            role: t.get(&format!("role-{}", u.role)),
            party: u.party.clone().unwrap_or_default(),
            login: u.login.clone().unwrap_or_default(),
            state: state_text(t, u, office),
            created: local_time(&u.created_at, office),
        })
        .collect();
    let chosen = typed
        .iter()
        .find(|(k, _)| k == "role")
        .map_or("officer", |(_, v)| v.as_str())
        .to_owned();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let frame = Frame::signed_in(state, caller, session, headers, uri, t.get("page-users"))
        .with_errors(errors)
        .with_done(done_text(t, query.done.as_deref()));
    let html = render(&UsersPage {
        t,
        frame,
        rows,
        older,
        roles: role_choices(t, &chosen),
        typed,
        zone,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/users`.
#[utoipa::path(
    get,
    path = "/portal/users",
    tag = "portal",
    summary = "Users (administrator's page)",
    description = "Users newest first, 50 a page (`before`: the last id shown), with the form that creates one (name, role, party, portal login and password). Administrators.",
    params(("before" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<UsersQuery>,
) -> Result<Response, ApiError> {
    users_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        query,
        Vec::new(),
        Vec::new(),
    )
    .await
}

/// `POST /portal/users`.
#[utoipa::path(
    post,
    path = "/portal/users",
    tag = "portal",
    summary = "Create a user (form)",
    description = "Form fields `name`, `role`, `party` (a trader's EORI, an agency's code), `login`, `password` (12 characters at least; only with a login), `csrf`. The same checks as `aduana users add`; every refusal named at its field. Recorded in the audit trail. Then 303 to the user's page, where tokens are made.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Created: to the user's page"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 422, description = "The page again with an error summary", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 4096)?;
    let t = state.wording(&headers).language;
    let request = UserRequest {
        name: field(&fields, "name").to_owned(),
        role: field(&fields, "role").to_owned(),
        party: Some(field(&fields, "party").to_owned()),
        login: Some(field(&fields, "login").to_owned()),
        password: Some(field(&fields, "password").to_owned()),
    };
    match users::add_user(
        &state.store,
        &crate::access::audit_actor(&caller),
        request,
        OffsetDateTime::now_utc(),
    )
    .await
    {
        Ok(user) => Ok(
            Redirect::to(&format!("/portal/users/{}?done=user-created", user.id)).into_response(),
        ),
        Err(error) => {
            let errors = refusals(t, error)?;
            // The password is never given back.
            let typed = ["name", "role", "party", "login"]
                .iter()
                .map(|n| ((*n).to_owned(), field(&fields, n).to_owned()))
                .collect();
            users_page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                UsersQuery::default(),
                errors,
                typed,
            )
            .await
        }
    }
}

struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    created: String,
    expires: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    t: Language,
    frame: Frame,
    id: String,
    role: String,
    party: String,
    login: String,
    state: String,
    active: bool,
    roles: Vec<(String, String, bool)>,
    /// An officer's office choices: (code, name, chosen); empty for other roles.
    offices: Vec<(String, String, bool)>,
    /// The office the officer works at, in words.
    office_now: String,
    tokens: Vec<TokenRow>,
    /// (scope, its description, chosen) for the new token's form.
    scopes: Vec<(String, String, bool)>,
    /// A token just made: (its name, the secret shown once).
    new_token: Option<(String, String)>,
    token_name: String,
    expires_in_days: String,
    zone: String,
}

#[derive(serde::Deserialize, Default)]
pub struct UserQuery {
    done: Option<String>,
}

/// What the new token's form is given back with.
#[derive(Default)]
struct TokenForm {
    name: String,
    scopes: Vec<String>,
    expires_in_days: String,
}

#[allow(clippy::too_many_arguments)]
async fn user_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    id: &str,
    done: Option<&str>,
    errors: Vec<FieldError>,
    new_token: Option<(String, String)>,
    token_form: TokenForm,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let tokens = state
        .store
        .tokens(Some(&user.id))
        .await?
        .into_iter()
        .rev()
        .map(|k| TokenRow {
            id: k.id,
            name: k.name,
            scopes: if k.scopes.iter().any(|s| s == "*") {
                t.get("page-token-every-scope")
            } else {
                k.scopes.join(", ")
            },
            created: local_time(&k.created_at, office),
            expires: k
                .expires_at
                .as_deref()
                .map_or_else(|| t.get("page-token-never"), |at| local_time(at, office)),
            revoked: k.revoked_at.as_deref().map(|at| local_time(at, office)),
        })
        .collect();
    let chosen_scopes = if token_form.scopes.is_empty() {
        vec!["*".to_owned()]
    } else {
        token_form.scopes
    };
    let scopes = std::iter::once(("*".to_owned(), t.get("page-token-every-scope")))
        .chain(Scope::ALL.iter().map(|s| {
            (
                s.as_str().to_owned(),
                t.get(&format!("page-scope-{}", s.as_str().replace(':', "-"))),
            )
        }))
        .map(|(s, d)| {
            let chosen = chosen_scopes.contains(&s);
            (s, d, chosen)
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let uri = Uri::from_maybe_shared(format!("/portal/users/{}", user.id))
        .unwrap_or_else(|_| Uri::from_static("/portal/users"));
    let frame = Frame::signed_in(state, caller, session, headers, &uri, user.name.clone())
        .with_errors(errors)
        .with_done(done_text(t, done));
    let showing_secret = new_token.is_some();
    let html = render(&UserPage {
        t,
        frame,
        id: user.id.clone(),
        role: t.get(&format!("role-{}", user.role)),
        party: user.party.clone().unwrap_or_default(),
        login: user.login.clone().unwrap_or_default(),
        state: state_text(t, &user, office),
        active: user.disabled_at.is_none(),
        roles: role_choices(t, &user.role),
        offices: if user.role == "officer" {
            state
                .pipeline()
                .administration
                .offices
                .iter()
                .map(|o| {
                    (
                        o.code.clone(),
                        format!("{} ({})", o.name, o.code),
                        user.office.as_deref() == Some(o.code.as_str()),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        office_now: match &user.office {
            Some(code) => state
                .pipeline()
                .administration
                .office(code)
                .map_or_else(|| code.clone(), |o| format!("{} ({code})", o.name)),
            None if user.role == "officer" => t.get("page-any-office"),
            None => String::new(),
        },
        tokens,
        scopes,
        new_token,
        token_name: token_form.name,
        expires_in_days: if token_form.expires_in_days.is_empty() {
            "90".to_owned()
        } else {
            token_form.expires_in_days
        },
        zone,
    })?;
    let mut response = (status, Html(html)).into_response();
    if showing_secret {
        // A secret shown once is kept by no cache.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// `GET /portal/users/{id}`.
#[utoipa::path(
    get,
    path = "/portal/users/{id}",
    tag = "portal",
    summary = "A user (administrator's page)",
    description = "The user's role, party, login and state; forms to change the role, set the portal password, disable the user (tokens revoked, sessions ended); the user's tokens (never their secrets) with revocation, and the form that makes a new one. Administrators.",
    params(("id" = String, Path)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 404, description = "No such user", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn show_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<UserQuery>,
) -> Result<Response, ApiError> {
    user_page(
        &state,
        &caller,
        &session,
        &headers,
        &id,
        query.done.as_deref(),
        Vec::new(),
        None,
        TokenForm::default(),
    )
    .await
}

/// A form of the user's page, documented as such (each answers the same way).
macro_rules! user_action {
    ($path:literal, $summary:literal, $description:literal, $item:item) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "portal",
            summary = $summary,
            description = $description,
            params(("id" = String, Path)),
            request_body(content((String = "application/x-www-form-urlencoded"))),
            responses((status = 303, description = "Done: back to the user's page"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 404, description = "No such user", body = crate::error::ErrorBody), (status = 422, description = "The page again with an error summary", content((String = "text/html")))),
            security(("session" = []))
        )]
        $item
    };
}

/// The answer to a form of the user's page: 303 back with `done`, or the page with the refusals.
#[allow(clippy::too_many_arguments)]
async fn after_user_action(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    id: &str,
    outcome: Result<(), UsersError>,
    done: &str,
) -> Result<Response, ApiError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/portal/users/{id}?done={done}")).into_response()),
        Err(UsersError::Refused(r)) if r.contains(&users::Refusal::UserUnknown) => {
            Err(ApiError::new(ErrorCode::NotFound))
        }
        Err(error) => {
            let errors = refusals(state.wording(headers).language, error)?;
            user_page(
                state,
                caller,
                session,
                headers,
                id,
                None,
                errors,
                None,
                TokenForm::default(),
            )
            .await
        }
    }
}

user_action!(
    "/portal/users/{id}/role",
    "Change a user's role (form)",
    "Form fields `role`, `csrf`. A trader needs a party (its EORI), an agency officer a registered agency's code. Recorded in the audit trail.",
    pub async fn change_role(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted_form(&headers, &session, &body, 4096)?;
        let outcome = users::set_role(
            &state.store,
            &crate::access::audit_actor(&caller),
            &id,
            field(&fields, "role"),
            OffsetDateTime::now_utc(),
        )
        .await;
        after_user_action(&state, &caller, &session, &headers, &id, outcome, "role").await
    }
);

user_action!(
    "/portal/users/{id}/office",
    "Set the office an officer works at (form)",
    "Form fields `office` (one of the administration's office codes; empty: any office), `csrf`. Examiners are allocated to a declaration under control from the officers of its office and those of any office. Officers only; recorded in the audit trail.",
    pub async fn change_office(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted_form(&headers, &session, &body, 4096)?;
        let offices = state.pipeline().administration.offices.clone();
        let outcome = users::set_office(
            &state.store,
            &crate::access::audit_actor(&caller),
            &id,
            field(&fields, "office"),
            &offices,
            OffsetDateTime::now_utc(),
        )
        .await;
        after_user_action(&state, &caller, &session, &headers, &id, outcome, "office").await
    }
);

user_action!(
    "/portal/users/{id}/password",
    "Set a user's portal password (form)",
    "Form fields `password` (12 to 256 characters), `csrf`. The user needs a portal login. Stored as an argon2id hash; recorded in the audit trail (never the password).",
    pub async fn change_password(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted_form(&headers, &session, &body, 4096)?;
        let outcome = users::set_password(
            &state.store,
            &crate::access::audit_actor(&caller),
            &id,
            field(&fields, "password"),
            OffsetDateTime::now_utc(),
        )
        .await;
        after_user_action(
            &state, &caller, &session, &headers, &id, outcome, "password",
        )
        .await
    }
);

user_action!(
    "/portal/users/{id}/disable",
    "Disable a user (form)",
    "Form field `csrf`. The user's tokens are revoked and sessions ended in the same transaction; recorded in the audit trail.",
    pub async fn disable_user(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        posted_form(&headers, &session, &body, 4096)?;
        let outcome = users::disable(
            &state.store,
            &crate::access::audit_actor(&caller),
            &id,
            OffsetDateTime::now_utc(),
        )
        .await;
        after_user_action(
            &state, &caller, &session, &headers, &id, outcome, "disabled",
        )
        .await
    }
);

user_action!(
    "/portal/users/{id}/tokens",
    "Make an API token for a user (form)",
    "Form fields `name`, `scope` (repeated: `*` or scopes), `expires_in_days` (0: never; at most 3650), `csrf`. The answer is the user's page showing the token's secret once (`Cache-Control: no-store`); only its hash is stored. Recorded in the audit trail.",
    pub async fn create_token(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted_form(&headers, &session, &body, 4096)?;
        let t = state.wording(&headers).language;
        let scopes: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.clone())
            .collect();
        let days_text = field(&fields, "expires_in_days").trim().to_owned();
        let days = if days_text.is_empty() {
            Some(90)
        } else {
            days_text.parse::<u32>().ok()
        };
        let form = TokenForm {
            name: field(&fields, "name").to_owned(),
            scopes: scopes.clone(),
            expires_in_days: days_text,
        };
        let outcome = match days {
            None => Err(UsersError::Refused(vec![users::Refusal::ExpiryTooLong])),
            Some(days) => {
                users::create_token(
                    &state.store,
                    &crate::access::audit_actor(&caller),
                    &id,
                    &form.name,
                    &scopes.join(","),
                    days,
                    OffsetDateTime::now_utc(),
                )
                .await
            }
        };
        match outcome {
            Ok((token, secret)) => {
                user_page(
                    &state,
                    &caller,
                    &session,
                    &headers,
                    &id,
                    None,
                    Vec::new(),
                    Some((token.name, secret)),
                    TokenForm::default(),
                )
                .await
            }
            Err(UsersError::Refused(r)) if r.contains(&users::Refusal::UserUnknown) => {
                Err(ApiError::new(ErrorCode::NotFound))
            }
            Err(error) => {
                let errors = refusals(t, error)?;
                user_page(
                    &state, &caller, &session, &headers, &id, None, errors, None, form,
                )
                .await
            }
        }
    }
);

/// `POST /portal/tokens/{id}/revocation`.
#[utoipa::path(
    post,
    path = "/portal/tokens/{id}/revocation",
    tag = "portal",
    summary = "Revoke an API token (form)",
    description = "Form fields `user` (whose page to go back to), `csrf`. Servers refuse the token within a few seconds. Recorded in the audit trail.",
    params(("id" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Revoked: back to the user's page"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 422, description = "No such token, or revoked already: the page with the error", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 4096)?;
    let user = field(&fields, "user").to_owned();
    let outcome = users::revoke_token(
        &state.store,
        &crate::access::audit_actor(&caller),
        &id,
        OffsetDateTime::now_utc(),
    )
    .await;
    after_user_action(
        &state,
        &caller,
        &session,
        &headers,
        &user,
        outcome,
        "token-revoked",
    )
    .await
}

struct RepresentationRow {
    representative: String,
    principal: String,
    granted_by: String,
    granted_at: String,
    ended: Option<String>,
}

#[derive(Template)]
#[template(path = "representations.html")]
struct RepresentationsPage {
    t: Language,
    frame: Frame,
    rows: Vec<RepresentationRow>,
    representative: String,
    principal: String,
    zone: String,
}

#[allow(clippy::too_many_arguments)]
async fn representations_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    done: Option<&str>,
    errors: Vec<FieldError>,
    (representative, principal): (String, String),
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let rows = state
        .store
        .representations(REPRESENTATIONS_SHOWN)
        .await?
        .into_iter()
        .map(
            |(representative, principal, granted_by, granted_at, ended)| RepresentationRow {
                representative,
                principal,
                granted_by,
                granted_at: local_time(&granted_at, office),
                ended: ended.as_deref().map(|at| local_time(at, office)),
            },
        )
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let uri = Uri::from_static("/portal/representations");
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        &uri,
        t.get("page-representations"),
    )
    .with_errors(errors)
    .with_done(done_text(t, done));
    let html = render(&RepresentationsPage {
        t,
        frame,
        rows,
        representative,
        principal,
        zone,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/representations`.
#[utoipa::path(
    get,
    path = "/portal/representations",
    tag = "portal",
    summary = "Representations (administrator's page)",
    description = "Which brokers (representatives) act for which declarants (principals), in force or ended (the first 500 by principal), with the form that registers or ends one. Administrators.",
    params(("done" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_representations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Query(query): Query<UserQuery>,
) -> Result<Response, ApiError> {
    representations_page(
        &state,
        &caller,
        &session,
        &headers,
        query.done.as_deref(),
        Vec::new(),
        (String::new(), String::new()),
    )
    .await
}

/// `POST /portal/representations`.
#[utoipa::path(
    post,
    path = "/portal/representations",
    tag = "portal",
    summary = "Register or end a representation (form)",
    description = "Form fields `representative`, `principal` (EORIs), `action` (`grant` or `revoke`), `csrf`. The same checks as `aduana representations`. Recorded in the audit trail.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Done: back to the page"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 422, description = "The page again with an error summary", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn change_representation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, 4096)?;
    let granted = field(&fields, "action") != "revoke";
    let representative = field(&fields, "representative").to_owned();
    let principal = field(&fields, "principal").to_owned();
    match users::set_representation(
        &state.store,
        &crate::access::audit_actor(&caller),
        &representative,
        &principal,
        granted,
        OffsetDateTime::now_utc(),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(if granted {
            "/portal/representations?done=representation-granted"
        } else {
            "/portal/representations?done=representation-revoked"
        })
        .into_response()),
        Err(error) => {
            let errors = refusals(state.wording(&headers).language, error)?;
            representations_page(
                &state,
                &caller,
                &session,
                &headers,
                None,
                errors,
                (representative, principal),
            )
            .await
        }
    }
}
