//! Transit movements in the portal (issue 20, item 6): a holder sees its movements and where each stands; officers,
//! analysts and auditors see every movement, and the enquiries due (released and not arrived by the time limit);
//! an officer releases an accepted movement for transit from the page. The form calls the API's own handler
//! (`transit::release`) and the page reads what the store holds.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame, refusal_fields};
use crate::policy::Role;
use crate::portal::{posted_form, render};
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use storage::TransitRow;
use transit::movement::{self, Status};
use wording::Language;

/// Movements shown at once, newest first.
const SHOWN: i64 = 200;

struct MovementRow {
    mrn: String,
    lrn: String,
    holder: String,
    route: String,
    status: String,
    time_limit: String,
    guarantee: String,
    overdue: bool,
    /// An officer may release it for transit here.
    releasable: bool,
}

#[derive(Template)]
#[template(path = "transit.html")]
struct TransitPage {
    t: Language,
    frame: Frame,
    trader: bool,
    movements: Vec<MovementRow>,
    /// For customs: the enquiries due today.
    enquiries: Option<Vec<MovementRow>>,
}

fn status_label(t: Language, status: Status) -> String {
    t.get(match status {
        Status::Accepted => "page-transit-status-accepted",
        Status::Released => "page-transit-status-released",
        Status::Arrived => "page-transit-status-arrived",
        Status::UnloadingPermitted => "page-transit-status-unloading-permitted",
        Status::Unloaded => "page-transit-status-unloaded",
        Status::Discharged => "page-transit-status-discharged",
        Status::Cancelled => "page-transit-status-cancelled",
    })
}

fn row(t: Language, m: &TransitRow, today: &str, officer: bool) -> MovementRow {
    MovementRow {
        overdue: movement::overdue(m.status, &m.time_limit, today),
        releasable: officer && movement::after(m.status, movement::Step::Release).is_some(),
        mrn: m.mrn.clone(),
        lrn: m.lrn.clone(),
        holder: m.holder.clone().unwrap_or_else(|| m.owner.clone()),
        route: format!("{} → {}", m.office_of_departure, m.office_of_destination),
        status: status_label(t, m.status),
        time_limit: m.time_limit.clone(),
        guarantee: match (&m.guarantee_grn, &m.guarantee_amount, &m.currency) {
            (Some(grn), Some(amount), Some(currency)) => format!("{grn}: {amount} {currency}"),
            _ => String::new(),
        },
    }
}

fn today() -> String {
    let now = crate::request::now();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

#[derive(serde::Deserialize, Default)]
pub struct TransitQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    query: TransitQuery,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let trader = caller.role == Role::Trader;
    let officer = caller.role == Role::Officer;
    let party = crate::cargo::own_party(caller);
    let today = today();
    let movements = state
        .store
        .transit_movements(
            if trader {
                Some(party.unwrap_or(""))
            } else {
                None
            },
            None,
            SHOWN,
        )
        .await?
        .iter()
        .map(|m| row(t, m, &today, officer))
        .collect();
    let enquiries = if trader {
        None
    } else {
        Some(
            state
                .store
                .transit_movements(None, Some(&today), SHOWN)
                .await?
                .iter()
                .map(|m| row(t, m, &today, officer))
                .collect(),
        )
    };
    let done = match query.done.as_deref() {
        Some("released") => Some(t.get("page-done-transit-released")),
        _ => None,
    };
    let uri = Uri::from_static("/portal/transit");
    let frame = Frame::signed_in(state, caller, session, headers, &uri, t.get("page-transit"))
        .with_errors(errors)
        .with_done(done);
    let html = render(&TransitPage {
        t,
        frame,
        trader,
        movements,
        enquiries,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/transit`.
#[utoipa::path(
    get,
    path = "/portal/transit",
    tag = "portal",
    summary = "Transit movements and enquiries (page)",
    description = "Transit movements, newest first (a holder its own), each with its route, status, time limit and guarantee; for officers, analysts and auditors, the enquiries due today (released and not arrived by the time limit); an officer's form releases an accepted movement.",
    params(("done" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Query(query): Query<TransitQuery>,
) -> Result<Response, ApiError> {
    page(
        &state,
        &caller,
        &session,
        &headers,
        query,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /portal/transit/{mrn}/release`.
#[utoipa::path(
    post,
    path = "/portal/transit/{mrn}/release",
    tag = "portal",
    summary = "Release a movement for transit (officer's form)",
    description = "Form field `csrf`. Released as `POST /api/v1/transit/{mrn}/release` does (CC029C sent, audited): 303 to the page; refused: the page with the error at the movement.",
    params(("mrn" = String, Path)),
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 303, description = "Released"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 409, description = "Refused", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Path(mrn): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    posted_form(&headers, &session, &body, 4 * 1024)?;
    let outcome = crate::transit::release(
        State(state.clone()),
        Extension(caller.clone()),
        Path(mrn.clone()),
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/portal/transit?done=released").into_response()),
        Err(error) if error.status().is_client_error() => {
            let t = state.wording(&headers).language;
            let status = error.status();
            let name = format!("release-{mrn}");
            let errors = refusal_fields(t, error, &name, |_| name.clone());
            page(
                &state,
                &caller,
                &session,
                &headers,
                TransitQuery::default(),
                errors,
                status,
            )
            .await
        }
        Err(error) => Err(error),
    }
}
