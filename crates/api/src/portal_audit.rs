//! The auditor's pages: the audit trail by subject, actor and time, newest first a page at a time (each read is
//! itself recorded in the trail, as the API's), and the verification of the whole chain and of every event and
//! ledger row against it. Checkpoints signed offline are verified by `aduana audit verify` where their key is
//! kept; this page says so.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::portal::{field, form, local_time, render, same_origin};
use crate::security::{PortalSession, same_secret};
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use error_table::ErrorCode;
use wording::Language;

const PAGE: i64 = 50;

struct EntryRow {
    seq: u64,
    at: String,
    actor: String,
    role: String,
    action: String,
    subject: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Language,
    frame: Frame,
    subject: String,
    actor: String,
    rows: Vec<EntryRow>,
    head: u64,
    older: Option<String>,
    /// The verification's outcome: (passed, sentences).
    verified: Option<(bool, Vec<String>)>,
    zone: String,
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    subject: Option<String>,
    actor: Option<String>,
    before: Option<u64>,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    query: AuditQuery,
    verified: Option<(bool, Vec<String>)>,
    errors: Vec<FieldError>,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let subject: String = query
        .subject
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    let actor: String = query
        .actor
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    crate::access::record_export(state, caller, "audit/entries", uri.query().unwrap_or("")).await?;
    // A declaration's id stands for its subjects; any other subject is taken as a prefix of subjects.
    let prefix = (!subject.is_empty()).then(|| {
        if subject.contains('/') {
            format!("{}/", subject.trim_end_matches('/'))
        } else {
            format!("declaration/{subject}/")
        }
    });
    let mut entries = state
        .store
        .audit_search(
            prefix.as_deref(),
            (!actor.is_empty()).then_some(actor.as_str()),
            query.before,
            PAGE + 1,
        )
        .await?;
    let older = (entries.len() as i64 > PAGE).then(|| {
        entries.truncate(PAGE as usize);
        let last = entries.last().map_or(0, |e| e.seq);
        format!(
            "/portal/audit?subject={}&actor={}&before={last}",
            crate::frame::url_encode(&subject),
            crate::frame::url_encode(&actor)
        )
    });
    let head = state.store.audit_head().await?.seq;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let rows = entries
        .iter()
        .map(|e| EntryRow {
            seq: e.seq,
            at: local_time(&e.at, office),
            actor: e.actor.clone(),
            role: e.actor_role.clone(),
            action: e.action.clone(),
            subject: e.subject.clone(),
            hash: e.hash.chars().take(16).collect(),
        })
        .collect();
    let frame = Frame::signed_in(state, caller, session, headers, uri, t.get("page-audit"))
        .with_errors(errors);
    let code = if frame.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let html = render(&AuditPage {
        t,
        frame,
        subject,
        actor,
        rows,
        head,
        older,
        verified,
        zone,
    })?;
    Ok((code, Html(html)).into_response())
}

/// `GET /portal/audit`.
#[utoipa::path(
    get,
    path = "/portal/audit",
    tag = "portal",
    summary = "The audit trail (page)",
    description = "Entries newest first, 50 a page (`before`: a seq), by `subject` (a declaration's id, or a subject prefix such as `user/`) or `actor`; with the button that verifies the chain. Auditors and administrators. The read is recorded in the trail.",
    params(("subject" = Option<String>, Query), ("actor" = Option<String>, Query), ("before" = Option<u64>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        query,
        None,
        Vec::new(),
    )
    .await
}

/// `POST /portal/audit/verification`.
#[utoipa::path(
    post,
    path = "/portal/audit/verification",
    tag = "portal",
    summary = "Verify the audit trail (form)",
    description = "Form field `csrf`. Reads the whole chain in order (each entry's hash and link), then every declaration event, version and ledger transfer against the hash the trail recorded for it; the page shows the outcome: entries checked, or the first entry that cannot be trusted and the rows that differ. Signed checkpoints are verified offline by `aduana audit verify`.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The page with the outcome", content((String = "text/html"))), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn verify(
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
    let t = state.wording(&headers).language;
    let report = state.store.verify_audit(Vec::new(), &[]).await?;
    let mut sentences = Vec::new();
    match &report.chain {
        Ok(summary) => sentences.push(t.text(
            "page-audit-chain-ok",
            &[
                ("entries", &summary.entries.to_string()),
                ("head", &summary.head.seq.to_string()),
            ],
        )),
        Err(finding) => {
            sentences.push(t.with("page-audit-chain-broken", "finding", &finding.to_string()))
        }
    }
    sentences.push(t.text(
        "page-audit-rows-checked",
        &[
            ("events", &report.events_checked.to_string()),
            ("transfers", &report.transfers_checked.to_string()),
            ("versions", &report.versions_checked.to_string()),
        ],
    ));
    for row in &report.rows {
        sentences.push(t.with("page-audit-row-differs", "row", row));
    }
    sentences.push(t.get("page-audit-checkpoints-offline"));
    let uri = Uri::from_static("/portal/audit");
    page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        AuditQuery::default(),
        Some((report.is_ok(), sentences)),
        Vec::new(),
    )
    .await
}
