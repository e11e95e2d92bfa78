//! The portal's declaration pages, in the portal's way (`frame`): server-rendered, no script, the session's CSRF
//! token in every form, an error summary at the top linking each field at fault, every word from the catalogues.
//!
//! - `/portal`: declarations (a trader its party's, customs roles all), filtered by status and lane, newest first,
//!   a page at a time by the serial index (`before`), never by offset.
//! - `/portal/queue` is `portal_queue`'s.
//! - `/portal/declarations/{id}`: one declaration: status and what it waits for, lane (and, for customs roles, why),
//!   the assessment per item and tax type, money, the timeline, what the trader was told, versions, payment orders
//!   and receipts; the forms of what the signed-in role may do now.
//! - `/portal/lodge`: a trader lodges by uploading a WCO XML, JSON twin or EDIFACT CUSDEC file.
//! - `/portal/receipts/{id}`: a receipt to print, from the session.
//!
//! Every form calls the API's own handler in-process with the body the API documents (one path for each
//! decision: the portal adds no rule of its own), and answers 303 to the declaration with what was done, or the
//! page again with the API's errors in the page's language.

use crate::declarations::{commands, lodge};
use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::policy::Role;
use crate::portal::{field, form, local_time, render, same_origin};
use crate::security::{PortalSession, same_secret};
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use error_table::ErrorCode;
use rust_decimal::Decimal;
use selectivity::Lane;
use storage::{DeclarationRow, ListFilter};
use wording::Language;
use workflow::Status;

/// Declarations a list page shows.
const PAGE_ROWS: i64 = 25;

/// The code a trader gives to let anyone read its declaration's status by MRN (`GET /status`): ten characters
/// derived from the declaration's id (a UUIDv7 with 74 random bits, which only those who may read the
/// declaration see), so every server computes the same code and none is stored.
pub fn status_code(declaration_id: &str) -> String {
    crate::portal::derived_code(&format!("aduana-status-code:{declaration_id}"))
}

fn terminal(status: Status) -> bool {
    matches!(
        status,
        Status::Rejected | Status::Released | Status::Cancelled
    )
}

/// One declaration as a row of a list.
pub(crate) struct Row {
    pub id: String,
    pub lrn: String,
    pub mrn: String,
    pub declarant: String,
    pub status: String,
    pub lane: String,
    pub lane_code: String,
    pub lodged_at: String,
}

fn row_of(t: Language, office: Option<&administration::Office>, row: &DeclarationRow) -> Row {
    Row {
        id: row.id.clone(),
        lrn: row.lrn.clone(),
        mrn: row.mrn.clone().unwrap_or_default(),
        declarant: row.declarant.clone(),
        status: t.get(&format!("status-{}", row.status.as_str())),
        lane: row
            .lane
            .map(|l| t.get(&format!("lane-{}", l.as_str())))
            .unwrap_or_default(),
        lane_code: row.lane.map(|l| l.as_str()).unwrap_or_default().to_owned(),
        lodged_at: local_time(&row.lodged_at, office),
    }
}

#[derive(Template)]
#[template(path = "declarations.html")]
struct ListPage {
    t: Language,
    frame: Frame,
    /// Shown above the table (the zone of the times).
    zone: String,
    rows: Vec<Row>,
    /// Whether this role lists declarations at all.
    lists: bool,
    statuses: Vec<(String, String, bool)>,
    lanes: Vec<(String, String, bool)>,
    /// The address of the next (older) page, if any.
    older: Option<String>,
    /// The dates asked (YYYY-MM-DD), for the form.
    from: String,
    to: String,
    /// The address of the first page, when this is not it.
    newest: Option<String>,
    action: String,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    lane: Option<String>,
    /// Lodged on or after this local day (YYYY-MM-DD, the administration's time zone).
    from: Option<String>,
    /// Lodged on or before this local day.
    to: Option<String>,
    before: Option<i64>,
    done: Option<String>,
}

/// The list's filters as asked: each kept in the paging links.
#[derive(Clone, Copy, Default)]
struct Filters {
    status: Option<Status>,
    lane: Option<Lane>,
    from: Option<time::Date>,
    to: Option<time::Date>,
}

impl Filters {
    /// The query string of these filters (without a cursor).
    fn query(&self) -> Vec<String> {
        let mut query = Vec::new();
        if let Some(s) = self.status {
            query.push(format!("status={}", s.as_str()));
        }
        if let Some(l) = self.lane {
            query.push(format!("lane={}", l.as_str()));
        }
        if let Some(d) = self.from {
            query.push(format!("from={}", date_text(d)));
        }
        if let Some(d) = self.to {
            query.push(format!("to={}", date_text(d)));
        }
        query
    }
}

fn date_text(date: time::Date) -> String {
    date.format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// A date field of the list's filters: empty is none; anything but YYYY-MM-DD is an error at the field.
fn date_field(
    t: Language,
    name: &str,
    text: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<time::Date> {
    let text = text.map(str::trim).filter(|s| !s.is_empty())?;
    match time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(FieldError {
                field: name.to_owned(),
                message: t.text("page-date-invalid", &[("value", text)]),
            });
            None
        }
    }
}

fn zone_of(state: &AppState) -> (Option<administration::Office>, String) {
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    (office.cloned(), zone)
}

/// `GET /portal`: the declarations the signed-in user may see, filtered, a page at a time.
#[utoipa::path(
    get,
    path = "/portal",
    tag = "portal",
    summary = "The portal's declarations page",
    description = "The declarations the signed-in user may see (a trader its party's, customs roles all), newest first, 25 a page by the serial index (`before`, the link to older ones), filtered by `status` and `lane`; each links to its page. An administrator is sent to /portal/users; an agency officer sees its pages in the navigation. Without a session: 303 to /login.",
    params(("status" = Option<String>, Query), ("lane" = Option<String>, Query), ("before" = Option<i64>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 303, description = "No session: go to /login")),
    security(("session" = []))
)]
pub async fn declarations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    // An administrator, who has no declarations, starts on the users page.
    if caller.role == Role::Admin {
        return Ok(Redirect::to("/portal/users").into_response());
    }
    let t = state.wording(&headers).language;
    let mut errors = Vec::new();
    let filters = Filters {
        status: query.status.as_deref().and_then(Status::parse),
        lane: query.lane.as_deref().and_then(Lane::parse),
        from: date_field(t, "from", query.from.as_deref(), &mut errors),
        to: date_field(t, "to", query.to.as_deref(), &mut errors),
    };
    let lists = caller.role.sees_all_declarations() || caller.role == Role::Trader;
    let frame = Frame::signed_in(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        t.get("page-declarations"),
    )
    .with_done(query.done.as_deref().map(|d| done_text(t, d)))
    .with_errors(errors);
    let page = list_page(
        &state,
        &caller,
        t,
        frame,
        filters,
        query.before,
        lists,
        "/portal",
    )
    .await?;
    Ok(Html(page).into_response())
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    state: &AppState,
    caller: &Caller,
    t: Language,
    frame: Frame,
    filters: Filters,
    before: Option<i64>,
    lists: bool,
    action: &str,
) -> Result<String, ApiError> {
    let (office, zone) = zone_of(state);
    let Filters {
        status,
        lane,
        from,
        to,
    } = filters;
    // A local day begins at the administration's first office's midnight (UTC without an office); `to` is the
    // last day listed.
    let day_starts = |date: time::Date| {
        office
            .as_ref()
            .and_then(|o| o.day_starts(date))
            .unwrap_or_else(|| date.midnight().assume_utc())
    };
    let mut rows = Vec::new();
    let mut older = None;
    if lists {
        let filter = ListFilter {
            party: (!caller.role.sees_all_declarations())
                .then(|| caller.user.party.clone().unwrap_or_default()),
            status,
            lane,
            from: from.map(|d| storage::format_time(day_starts(d))),
            to: to
                .and_then(|d| d.next_day())
                .map(|d| storage::format_time(day_starts(d))),
            before_serial: before,
            limit: PAGE_ROWS + 1,
        };
        let mut found = state.store.list(&filter).await?;
        if found.len() as i64 > PAGE_ROWS {
            found.truncate(PAGE_ROWS as usize);
            older = found.last().map(|r| {
                let mut query = vec![format!("before={}", r.serial)];
                query.extend(filters.query());
                format!("{action}?{}", query.join("&"))
            });
        }
        rows = found
            .iter()
            .map(|r| row_of(t, office.as_ref(), r))
            .collect();
    }
    let newest = before.map(|_| format!("{action}?{}", filters.query().join("&")));
    render(&ListPage {
        t,
        frame,
        zone,
        rows,
        lists,
        statuses: Status::ALL
            .iter()
            .filter(|s| **s != Status::Lodged)
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    t.get(&format!("status-{}", s.as_str())),
                    status == Some(*s),
                )
            })
            .collect(),
        lanes: Lane::ALL
            .iter()
            .map(|l| {
                (
                    l.as_str().to_owned(),
                    t.get(&format!("lane-{}", l.as_str())),
                    lane == Some(*l),
                )
            })
            .collect(),
        from: from.map(date_text).unwrap_or_default(),
        to: to.map(date_text).unwrap_or_default(),
        older,
        newest,
        action: action.to_owned(),
    })
}

/// One event of the timeline.
struct TimelineEntry {
    at: String,
    what: String,
    who: String,
    reason: String,
}

/// One tax line of the assessment.
struct TaxRow {
    item: String,
    commodity: String,
    value: String,
    tax: String,
    base: String,
    rate: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "declaration.html")]
struct DeclarationPage {
    t: Language,
    frame: Frame,
    id: String,
    lrn: String,
    mrn: String,
    declarant: String,
    office: String,
    status: String,
    lane: String,
    lane_code: String,
    lodged_at: String,
    zone: String,
    /// Sentences of what the declaration waits for.
    waits: Vec<String>,
    /// Why it has its lane (customs roles only): the decision's sentence and the rules hit.
    risk: Option<(String, Vec<String>)>,
    taxes: Vec<TaxRow>,
    totals: Vec<(String, String)>,
    owed: String,
    paid: String,
    outstanding: String,
    timeline: Vec<TimelineEntry>,
    told: Vec<(String, String)>,
    versions: Vec<(i64, String, String)>,
    order: Option<(String, String, String)>,
    receipts: Vec<(String, String)>,
    /// The code for the public status page (the trader's own).
    public_code: Option<String>,
    agencies: Vec<(String, String)>,
    can_pay: bool,
    can_arrive: bool,
    can_cancel: bool,
    can_amend: bool,
    can_control: bool,
    can_override: bool,
    can_release: bool,
    /// Released goods an officer may record as gone (gate-out or exit).
    can_exit: bool,
    /// The credit a refund may be asked for, when there is one and no refund is open.
    refundable: Option<String>,
    /// The declaration's refunds: (amount, status, approvals given of needed).
    refunds: Vec<(String, String, String)>,
    /// Customs roles: the examiner allocated, if any.
    examiner: Option<String>,
    /// The officer may record an inspection act (under control in the red lane): the goods items (number,
    /// description) it describes.
    inspect_items: Vec<crate::portal_inspection::InspectItem>,
    /// The act recorded, if any.
    act: Option<crate::portal_inspection::ActView>,
    lanes: Vec<(String, String)>,
    /// What was typed into a form, given back with its errors: (field, value).
    typed: Vec<(String, String)>,
}

impl DeclarationPage {
    /// What was typed into `name`, for a form shown again.
    fn typed(&self, name: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn amount(t: Language, places: u32, text: &str, currency: &str) -> String {
    declaration::parse_decimal(text).map_or_else(
        |_| format!("{text} {currency}"),
        |a| t.amount(a, places, currency),
    )
}

/// What the page says was just done (`?done=`), by its key.
fn done_text(t: Language, key: &str) -> String {
    const KNOWN: &[&str] = &[
        "lodged",
        "arrival",
        "cancellation",
        "payment-order",
        "control-result",
        "lane",
        "release",
        "exit",
        "amendment",
        "refund",
        "inspection",
    ];
    if KNOWN.contains(&key) {
        t.get(&format!("page-done-{key}"))
    } else {
        String::new()
    }
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /portal/declarations/{id}`.
#[utoipa::path(
    get,
    path = "/portal/declarations/{id}",
    tag = "portal",
    summary = "One declaration's page",
    description = "Status and what it waits for, lane (for customs roles, why: rules hit, model score), assessment per item and tax type, money, timeline, notifications, versions, payment orders and receipts, and the forms of what the signed-in role may do now. A trader sees its party's declarations only (404 otherwise, as the API).",
    params(("id" = String, Path)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 404, description = "No such declaration visible to you", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let done = query
        .done
        .as_deref()
        .map(|d| done_text(t, d))
        .filter(|d| !d.is_empty());
    declaration_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        &id,
        Vec::new(),
        Vec::new(),
        done,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn declaration_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    id: &str,
    errors: Vec<FieldError>,
    typed: Vec<(String, String)>,
    done: Option<String>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let wording = state.wording(headers);
    let (t, places) = (wording.language, wording.places);
    let row = crate::access::load_visible(state, caller, id).await?;
    let events = state.store.events(&row.id).await?;
    let lifecycle = row.workflow_state()?;
    let (office, zone) = zone_of(state);
    let office = office.as_ref();
    let role = caller.role;
    let customs = role.sees_all_declarations();
    let currency = lifecycle
        .liabilities
        .as_ref()
        .map(|l| l.currency.clone())
        .unwrap_or_else(|| state.pipeline().administration.currency.code.to_string());

    let mut waits = Vec::new();
    match lifecycle.status {
        Status::AwaitingPayment => waits.push(t.with(
            "page-waits-payment",
            "amount",
            &t.amount(lifecycle.outstanding(), places, &currency),
        )),
        Status::UnderControl => waits.push(t.get(match lifecycle.control {
            Some(workflow::ControlKind::PhysicalExamination) => "page-waits-examination",
            _ => "page-waits-documents",
        })),
        _ => {}
    }
    if !terminal(lifecycle.status) && row.mrn.is_some() && !lifecycle.arrived {
        waits.push(t.get("page-waits-arrival"));
    }
    let mut agencies = Vec::new();
    for (agency, standing) in &lifecycle.agencies {
        let standing_text = t.get(&format!("agency-standing-{}", standing.as_str()));
        if *standing != workflow::AgencyStanding::Released && !terminal(lifecycle.status) {
            waits.push(t.text(
                "page-waits-agency",
                &[("agency", agency), ("standing", &standing_text)],
            ));
        }
        agencies.push((agency.clone(), standing_text));
    }
    if lifecycle.status == Status::Settled && lifecycle.arrived && waits.is_empty() {
        waits.push(t.get("page-waits-release"));
    }

    let risk = customs
        .then(|| {
            events
                .iter()
                .rev()
                .find(|e| e.event_type == "lane_assigned" || e.event_type == "lane_overridden")
                .map(|e| {
                    let data: serde_json::Value =
                        serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null);
                    let mut reasons: Vec<String> = data["hits"]
                        .as_array()
                        .map(|hits| {
                            hits.iter()
                                .map(|h| {
                                    format!(
                                        "{} — {} ({})",
                                        h["rule"].as_str().unwrap_or(""),
                                        h["description"].as_str().unwrap_or(""),
                                        t.get(&format!(
                                            "lane-{}",
                                            h["lane"].as_str().unwrap_or("green")
                                        ))
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if data["random"].as_bool() == Some(true) {
                        reasons.push(t.get("page-risk-random"));
                    }
                    if let Some(score) = data["basis"]["score"].as_str() {
                        reasons.push(t.text(
                            "page-risk-score",
                            &[
                                ("score", score),
                                ("model", data["basis"]["model"].as_str().unwrap_or("")),
                            ],
                        ));
                    }
                    (e.reason.clone(), reasons)
                })
        })
        .flatten();

    let mut taxes = Vec::new();
    let mut totals = Vec::new();
    if let Some(assessment) = row
        .assessment
        .as_deref()
        .and_then(|a| serde_json::from_str::<tariff::Assessment>(a).ok())
    {
        for item in &assessment.items {
            for (n, tax) in item.taxes.iter().enumerate() {
                taxes.push(TaxRow {
                    item: if n == 0 {
                        item.sequence.to_string()
                    } else {
                        String::new()
                    },
                    commodity: if n == 0 {
                        item.commodity_code.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                    value: if n == 0 {
                        t.amount(item.customs_value, places, &assessment.currency)
                    } else {
                        String::new()
                    },
                    tax: tax.tax_type.clone(),
                    base: t.amount(tax.base, places, &assessment.currency),
                    rate: tax
                        .rate_percent
                        .map(|r| format!("{} %", r.normalize()))
                        .unwrap_or_default(),
                    amount: t.amount(tax.amount, places, &assessment.currency),
                });
            }
        }
        totals = assessment
            .totals
            .iter()
            .map(|total| {
                (
                    total.tax_type.clone(),
                    t.amount(total.amount, places, &assessment.currency),
                )
            })
            .collect();
    }
    let owed = lifecycle
        .liabilities
        .as_ref()
        .map(|l| {
            l.immediate
                .checked_add(l.deferred)
                .and_then(|s| s.checked_add(l.guaranteed))
                .unwrap_or(Decimal::MAX)
        })
        .unwrap_or(Decimal::ZERO);

    let timeline = events
        .iter()
        .map(|e| TimelineEntry {
            at: local_time(&e.at, office),
            what: t.get(&format!("event-{}", e.event_type)),
            who: t.get(&format!("role-{}", e.actor_role)),
            // A trader sees no reasons of the risk decision (its rules are confidential).
            reason: if !customs && (e.event_type.starts_with("lane_") || e.actor_role == "system") {
                String::new()
            } else {
                e.reason.clone()
            },
        })
        .collect();
    let told = crate::notifications::derive(&row, &events, wording)
        .into_iter()
        .map(|n| (local_time(&n.at, office), n.message))
        .collect();
    let versions = state
        .store
        .versions(&row.id)
        .await?
        .into_iter()
        .map(|v| {
            (
                v.version,
                v.format.to_uppercase(),
                local_time(&v.received_at, office),
            )
        })
        .collect();
    let order = state.store.open_order(&row.id).await?.map(|o| {
        (
            o.reference.clone(),
            amount(t, places, &o.amount, &o.currency),
            o.due_date.clone(),
        )
    });
    let receipts = state
        .store
        .receipts_of(&row.id)
        .await?
        .into_iter()
        .map(|(id, at)| (id, local_time(&at, office)))
        .collect();
    let trader = role == Role::Trader;
    let officer = role == Role::Officer;
    let open = !terminal(lifecycle.status) && lifecycle.status != Status::Lodged;
    let refunds_stored = state.store.refunds_for(&row.id).await?;
    let inspection = if customs {
        state
            .store
            .inspections(std::slice::from_ref(&row.id))
            .await?
            .pop()
    } else {
        None
    };
    let examiner = match inspection.as_ref().and_then(|i| i.examiner.clone()) {
        Some(examiner) => Some(
            state
                .store
                .user(&examiner)
                .await?
                .map_or(examiner, |u| u.name),
        ),
        None => None,
    };
    let act = inspection
        .as_ref()
        .and_then(|i| crate::portal_inspection::act_view(t, i, office));
    let inspect_items: Vec<(u32, String)> =
        if officer && lifecycle.status == Status::UnderControl && row.lane == Some(Lane::Red) {
            serde_json::from_str::<declaration::Declaration>(&row.model)
                .map(|d| {
                    d.goods_shipment
                        .goods_items
                        .iter()
                        .take(workflow::inspection::MAX_FINDINGS)
                        .map(|g| {
                            (
                                g.sequence_numeric,
                                g.description.clone().unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
    let credit = lifecycle.liabilities.as_ref().map_or(Decimal::ZERO, |l| {
        lifecycle
            .paid
            .checked_sub(l.immediate)
            .unwrap_or(Decimal::ZERO)
    });
    let refundable = ((trader || officer)
        && credit > Decimal::ZERO
        && !refunds_stored
            .iter()
            .any(|r| r.status == storage::RefundStatus::Requested))
    .then(|| t.amount(credit, places, &currency));
    let refunds = refunds_stored
        .iter()
        .map(|r| {
            (
                amount(t, places, &r.amount, &r.currency),
                t.get(&format!("page-refund-status-{}", r.status.as_str())),
                t.text(
                    "page-refund-approvals-of",
                    &[
                        ("given", &r.approvals.len().to_string()),
                        ("needed", &r.approvals_needed.to_string()),
                    ],
                ),
            )
        })
        .collect();
    let title = t.with("page-declaration", "lrn", &row.lrn);
    let frame = Frame::signed_in(state, caller, session, headers, uri, title)
        .with_errors(errors)
        .with_done(done);
    let page = DeclarationPage {
        t,
        frame,
        id: row.id.clone(),
        lrn: row.lrn.clone(),
        mrn: row.mrn.clone().unwrap_or_default(),
        declarant: row.declarant.clone(),
        office: row.office.clone().unwrap_or_default(),
        status: t.get(&format!("status-{}", row.status.as_str())),
        lane: row
            .lane
            .map(|l| t.get(&format!("lane-{}", l.as_str())))
            .unwrap_or_default(),
        lane_code: row.lane.map(|l| l.as_str()).unwrap_or_default().to_owned(),
        lodged_at: local_time(&row.lodged_at, office),
        zone,
        waits,
        risk,
        taxes,
        totals,
        owed: t.amount(owed, places, &currency),
        paid: t.amount(lifecycle.paid, places, &currency),
        outstanding: t.amount(lifecycle.outstanding(), places, &currency),
        timeline,
        told,
        versions,
        order,
        receipts,
        public_code: (trader && row.mrn.is_some()).then(|| status_code(&row.id)),
        agencies,
        can_pay: (trader || officer) && lifecycle.status == Status::AwaitingPayment,
        can_arrive: (trader || officer) && open && !lifecycle.arrived,
        can_cancel: (trader || officer) && open,
        can_amend: trader && open,
        can_control: officer && lifecycle.status == Status::UnderControl,
        can_override: officer && open,
        can_release: officer && lifecycle.status == Status::Settled && lifecycle.arrived,
        can_exit: officer && lifecycle.status == Status::Released && !lifecycle.exited,
        refundable,
        refunds,
        examiner,
        inspect_items: crate::portal_inspection::inspect_items(t, &inspect_items),
        act,
        lanes: Lane::ALL
            .iter()
            .map(|l| {
                (
                    l.as_str().to_owned(),
                    t.get(&format!("lane-{}", l.as_str())),
                )
            })
            .collect(),
        typed,
    };
    let mut response = (code, Html(render(&page)?)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(t.code()));
    Ok(response)
}

/// A JSON request for an API handler called in-process.
fn json_request(value: serde_json::Value) -> Request<Body> {
    Request::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(value.to_string()))
        .expect("a request")
}

fn json_body(value: serde_json::Value) -> Body {
    Body::from(value.to_string())
}

/// The CSRF check of every form: the session's token, sent from this site.
fn checked(
    headers: &HeaderMap,
    session: &PortalSession,
    fields: &[(String, String)],
) -> Result<(), ApiError> {
    if !same_origin(headers) || !same_secret(field(fields, "csrf"), &session.csrf_token) {
        return Err(ApiError::new(ErrorCode::CsrfInvalid));
    }
    Ok(())
}

/// An API error in the page's language: the table's sentence when the error is the code's own, the problems as
/// they are (they name values).
pub(crate) fn in_language(t: Language, mut error: ApiError) -> ApiError {
    if error.message == error.code.message() {
        error.message = t.error_sentence(error.code);
    }
    for problem in &mut error.errors {
        if problem.message == problem.code.message() {
            problem.message = t.error_sentence(problem.code);
        }
    }
    error
}

/// The answer to a form of the page's own fields: as [`answer`], each problem at the field its pointer's first
/// step names when the form has it, else at `fallback_field` (an amendment's pointer into the declaration points
/// at the file field).
#[allow(clippy::too_many_arguments)]
async fn after_action(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    id: &str,
    outcome: Result<(), ApiError>,
    done: &str,
    fallback_field: &str,
    typed: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let names: Vec<String> = typed.iter().map(|(k, _)| k.clone()).collect();
    let fallback = fallback_field.to_owned();
    let field_of = move |pointer: &str| {
        pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .filter(|f| names.iter().any(|n| n == f))
            .map_or_else(|| fallback.clone(), str::to_owned)
    };
    answer(
        state,
        caller,
        session,
        headers,
        uri,
        id,
        outcome,
        done,
        fallback_field,
        typed,
        &field_of,
    )
    .await
}

/// The answer to a form whose errors point into a body other than the page's fields: 303 to the declaration
/// with `done`, or its page again with each problem at the field `field_of` its pointer names.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn answer(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    id: &str,
    outcome: Result<(), ApiError>,
    done: &str,
    fallback_field: &str,
    typed: Vec<(String, String)>,
    field_of: &(dyn Fn(&str) -> String + Sync),
) -> Result<Response, ApiError> {
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/portal/declarations/{id}?done={done}")).into_response())
        }
        Err(error) if error.code == ErrorCode::NotFound || error.code == ErrorCode::CsrfInvalid => {
            Err(error)
        }
        Err(error) => {
            let t = state.wording(headers).language;
            let error = in_language(t, error);
            let code = error.status();
            let errors = if error.errors.is_empty() {
                vec![FieldError {
                    field: fallback_field.to_owned(),
                    message: error.message.clone(),
                }]
            } else {
                error
                    .errors
                    .iter()
                    .map(|p| FieldError {
                        field: field_of(&p.pointer),
                        message: p.message.clone(),
                    })
                    .collect()
            };
            let view = Uri::from_maybe_shared(format!("/portal/declarations/{id}"))
                .unwrap_or_else(|_| uri.clone());
            declaration_page(
                state, caller, session, headers, &view, id, errors, typed, None, code,
            )
            .await
        }
    }
}

fn typed_fields(fields: &[(String, String)], names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| ((*n).to_owned(), field(fields, n).to_owned()))
        .collect()
}

/// A form of the declaration page, documented as such (every one answers the same way).
macro_rules! documented_action {
    ($path:literal, $summary:literal, $description:literal, $item:item) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "portal",
            summary = $summary,
            description = $description,
            params(("id" = String, Path)),
            request_body(content((String = "application/x-www-form-urlencoded"))),
            responses((status = 303, description = "Done: back to the declaration's page"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 404, description = "No such declaration visible to you", body = crate::error::ErrorBody), (status = 409, description = "Not allowed now: the page again with the error", content((String = "text/html"))), (status = 422, description = "A field is wrong: the page again with an error summary", content((String = "text/html")))),
            security(("session" = []))
        )]
        $item
    };
}

/// A form's fields and its CSRF check.
fn posted(
    headers: &HeaderMap,
    session: &PortalSession,
    body: &Bytes,
) -> Result<Vec<(String, String)>, ApiError> {
    let fields = form(body);
    checked(headers, session, &fields)?;
    Ok(fields)
}

// `POST /portal/declarations/{id}/{action}`: the forms of the declaration page. One handler per action (the
// policy table names each), all answered by `after_action`.
documented_action!(
    "/portal/declarations/{id}/arrival",
    "Notify the arrival of the goods (form)",
    "Form field `csrf`. As `POST /api/v1/declarations/{id}/arrival`.",
    pub async fn arrival(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        posted(&headers, &session, &body)?;
        let outcome = commands::arrival(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            json_request(serde_json::json!({})),
        )
        .await
        .map(|_| ());
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "arrival",
            "arrival",
            Vec::new(),
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/refund",
    "Ask for the declaration's credit to be refunded (form)",
    "Form field `csrf`. As `POST /api/v1/declarations/{id}/refunds`: officers then approve it (two above the four-eyes threshold) on /portal/refunds; the page shows its approvals.",
    pub async fn refund(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        posted(&headers, &session, &body)?;
        let outcome = crate::payments::refunds::request_refund(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
        )
        .await
        .map(|_| ());
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "refund",
            "ask-refund",
            Vec::new(),
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/cancellation",
    "Cancel a declaration (form)",
    "Form fields `reason`, `csrf`. As `POST /api/v1/declarations/{id}/cancellation`.",
    pub async fn cancellation(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted(&headers, &session, &body)?;
        let reason = field(&fields, "reason").trim().to_owned();
        let outcome = commands::cancellation(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            json_request(serde_json::json!({ "reason": reason })),
        )
        .await
        .map(|_| ());
        let typed = typed_fields(&fields, &["reason"]);
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "cancellation",
            "reason",
            typed,
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/payment-order",
    "Ask for a payment order (form)",
    "Form field `csrf`. As `POST /api/v1/declarations/{id}/payment-orders`: the page then shows the order's reference, amount and due date to pay at a bank.",
    pub async fn payment_order(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        posted(&headers, &session, &body)?;
        let outcome = crate::payments::bank::create_order(
            State(state.clone()),
            axum::Extension(caller.clone()),
            Path(id.clone()),
        )
        .await
        .map(|_| ());
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "payment-order",
            "pay",
            Vec::new(),
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/control-result",
    "Record a control result (form)",
    "Form fields `result` (no_irregularity, irregularity), `irregularity_type`, `additional_duty`, `remarks`, `csrf`. As `POST /api/v1/declarations/{id}/control-results`.",
    pub async fn control_result(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted(&headers, &session, &body)?;
        let mut json = serde_json::json!({ "result": field(&fields, "result") });
        for name in ["irregularity_type", "additional_duty", "remarks"] {
            let value = field(&fields, name).trim();
            if !value.is_empty() {
                json[name] = serde_json::Value::String(value.to_owned());
            }
        }
        let outcome = commands::control_results(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            json_body(json),
        )
        .await
        .map(|_| ());
        let typed = typed_fields(
            &fields,
            &["result", "irregularity_type", "additional_duty", "remarks"],
        );
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "control-result",
            "result",
            typed,
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/lane",
    "Override the lane (form)",
    "Form fields `lane`, `lane_reason`, `csrf`. As `POST /api/v1/declarations/{id}/lane`.",
    pub async fn lane(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        let fields = posted(&headers, &session, &body)?;
        let json = serde_json::json!({ "lane": field(&fields, "lane"), "reason": field(&fields, "lane_reason") });
        let outcome = commands::override_lane(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            json_body(json),
        )
        .await
        .map(|_| ());
        // The API names `/reason`; on this page the lane form's reason field is `lane_reason`.
        let outcome = outcome.map_err(|mut e| {
            for p in &mut e.errors {
                if p.pointer == "/reason" {
                    p.pointer = "/lane_reason".to_owned();
                }
            }
            e
        });
        let typed = typed_fields(&fields, &["lane", "lane_reason"]);
        after_action(
            &state, &caller, &session, &headers, &uri, &id, outcome, "lane", "lane", typed,
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/release",
    "Release the goods (form)",
    "Form field `csrf`. As `POST /api/v1/declarations/{id}/release`.",
    pub async fn release(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        posted(&headers, &session, &body)?;
        let outcome = commands::release(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            json_body(serde_json::json!({})),
        )
        .await
        .map(|_| ());
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "release",
            "release",
            Vec::new(),
        )
        .await
    }
);

documented_action!(
    "/portal/declarations/{id}/exit",
    "Confirm that the released goods left (form)",
    "Form field `csrf`. As `POST /api/v1/declarations/{id}/exit`.",
    pub async fn exit(
        State(state): State<AppState>,
        Extension(caller): Extension<Caller>,
        Extension(session): Extension<PortalSession>,
        headers: HeaderMap,
        uri: Uri,
        Path(id): Path<String>,
        body: Bytes,
    ) -> Result<Response, ApiError> {
        posted(&headers, &session, &body)?;
        let outcome = commands::exit(
            State(state.clone()),
            Extension(caller.clone()),
            Path(id.clone()),
            json_body(serde_json::json!({})),
        )
        .await
        .map(|_| ());
        after_action(
            &state,
            &caller,
            &session,
            &headers,
            &uri,
            &id,
            outcome,
            "exit",
            "exit",
            Vec::new(),
        )
        .await
    }
);

/// The media type of an uploaded declaration, from its first bytes: `<` XML, `{` JSON, `UNA`/`UNB` EDIFACT.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)?;
    let rest = &bytes[start..];
    if rest.starts_with(b"<") {
        Some("application/xml")
    } else if rest.starts_with(b"{") {
        Some("application/json")
    } else if rest.starts_with(b"UNA") || rest.starts_with(b"UNB") {
        Some("application/edifact")
    } else {
        None
    }
}

/// A multipart form's CSRF token and its one file.
async fn upload(state: &AppState, request: Request<Body>) -> Result<(String, Vec<u8>), ApiError> {
    let limit = state.config.max_body_bytes;
    let mut multipart = Multipart::from_request(request, state).await.map_err(|_| {
        crate::request::invalid(
            "/document",
            "Send the form as multipart/form-data with the file.",
        )
    })?;
    let (mut csrf, mut file) = (String::new(), Vec::new());
    for _ in 0..8 {
        let Ok(Some(mut part)) = multipart.next_field().await else {
            break;
        };
        let name = part.name().unwrap_or("").to_owned();
        let mut bytes = Vec::new();
        loop {
            match part.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > limit {
                        return Err(ApiError::new(ErrorCode::BodyTooLarge));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => {
                    return Err(crate::request::invalid(
                        "/document",
                        "The upload was cut off; send the file again.",
                    ));
                }
            }
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "document" => file = bytes,
            _ => {}
        }
    }
    Ok((csrf, file))
}

fn document_request(bytes: Vec<u8>) -> Result<(HeaderMap, Body), ApiError> {
    let media = sniff(&bytes).ok_or_else(|| {
        crate::request::invalid(
            "/document",
            "Choose a WCO DEC-DMS 2 XML file, its JSON twin or a UN/EDIFACT CUSDEC interchange.",
        )
    })?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    Ok((headers, Body::from(bytes)))
}

#[derive(Template)]
#[template(path = "lodge.html")]
struct LodgePage {
    t: Language,
    frame: Frame,
}

fn lodge_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    uri: &Uri,
    errors: Vec<FieldError>,
    code: StatusCode,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let frame = Frame::signed_in(state, caller, session, headers, uri, t.get("page-lodge"))
        .with_errors(errors);
    Ok((code, Html(render(&LodgePage { t, frame })?)).into_response())
}

/// `GET /portal/lodge`.
#[utoipa::path(
    get,
    path = "/portal/lodge",
    tag = "portal",
    summary = "Lodge a declaration by upload (page)",
    description = "A form to upload a WCO DEC-DMS 2 XML file, its JSON twin or a UN/EDIFACT CUSDEC interchange. Traders.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_lodge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    lodge_page(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        Vec::new(),
        StatusCode::OK,
    )
}

/// Errors of a lodgement for the upload form: each problem's pointer in front of its sentence (it points into
/// the file), all linked to the file field.
fn upload_errors(t: Language, error: ApiError) -> Vec<FieldError> {
    let error = in_language(t, error);
    if error.errors.is_empty() {
        return vec![FieldError {
            field: "document".into(),
            message: error.message,
        }];
    }
    error
        .errors
        .into_iter()
        .take(20)
        .map(|p| FieldError {
            field: "document".into(),
            message: if p.pointer.is_empty() || p.pointer == "/document" {
                p.message
            } else {
                format!("{}: {}", p.pointer, p.message)
            },
        })
        .collect()
}

/// `POST /portal/lodge`: multipart, fields `csrf` and `document` (the file).
#[utoipa::path(
    post,
    path = "/portal/lodge",
    tag = "portal",
    summary = "Lodge a declaration by upload",
    description = "multipart/form-data with `csrf` and `document` (the file; its kind read from its first bytes). Lodged as `POST /api/v1/declarations` lodges it: 303 to the declaration's page; refused: 4xx with the page and an error summary naming each error's place in the file.",
    request_body(content((String = "multipart/form-data"))),
    responses((status = 303, description = "Lodged: the declaration's page"), (status = 403, description = "CSRF token missing or wrong (auth.csrf_invalid)", body = crate::error::ErrorBody), (status = 422, description = "Refused: the page again with the errors", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn submit_lodge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let (csrf, file) = match upload(&state, request).await {
        Ok(parts) => parts,
        Err(error) => {
            let code = error.status();
            return lodge_page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                upload_errors(t, error),
                code,
            );
        }
    };
    if !same_origin(&headers) || !same_secret(&csrf, &session.csrf_token) {
        return Err(ApiError::new(ErrorCode::CsrfInvalid));
    }
    let outcome = match document_request(file) {
        Ok((document_headers, body)) => {
            lodge::lodge(
                State(state.clone()),
                Extension(caller.clone()),
                document_headers,
                body,
            )
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(response) => {
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .map_err(ApiError::internal)?;
            let answer: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
            let id = answer["id"].as_str().unwrap_or_default();
            Ok(Redirect::to(&format!("/portal/declarations/{id}?done=lodged")).into_response())
        }
        Err(error) => {
            let code = error.status();
            lodge_page(
                &state,
                &caller,
                &session,
                &headers,
                &uri,
                upload_errors(t, error),
                code,
            )
        }
    }
}

/// `POST /portal/declarations/{id}/amendment`: multipart, `csrf` and `document` (the whole amended declaration).
#[utoipa::path(
    post,
    path = "/portal/declarations/{id}/amendment",
    tag = "portal",
    summary = "Amend a declaration by upload",
    description = "multipart/form-data with `csrf` and `document`: the whole amended declaration (same LRN and declarant), as `POST /api/v1/declarations/{id}/amendments` takes it. 303 to the declaration's page; refused: the page with an error summary.",
    params(("id" = String, Path)),
    request_body(content((String = "multipart/form-data"))),
    responses((status = 303, description = "Amended"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 422, description = "Refused: the page again with the errors", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn amendment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let outcome = match upload(&state, request).await {
        Ok((csrf, file)) => {
            if !same_origin(&headers) || !same_secret(&csrf, &session.csrf_token) {
                return Err(ApiError::new(ErrorCode::CsrfInvalid));
            }
            match document_request(file) {
                Ok((document_headers, body)) => {
                    let mut request = Request::new(body);
                    *request.headers_mut() = document_headers;
                    commands::amendment(
                        State(state.clone()),
                        Extension(caller.clone()),
                        Path(id.clone()),
                        request,
                    )
                    .await
                    .map(|_| ())
                }
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/portal/declarations/{id}?done=amendment")).into_response())
        }
        Err(error) if error.code == ErrorCode::NotFound => Err(error),
        Err(error) => {
            let code = error.status();
            let view = Uri::from_maybe_shared(format!("/portal/declarations/{id}")).unwrap_or(uri);
            declaration_page(
                &state,
                &caller,
                &session,
                &headers,
                &view,
                &id,
                upload_errors(t, error),
                vec![("document".into(), String::new())],
                None,
                code,
            )
            .await
        }
    }
}

/// `GET /portal/receipts/{receipt}`: the receipt's printable page, from the session (as the API's HTML receipt).
#[utoipa::path(
    get,
    path = "/portal/receipts/{receipt}",
    tag = "portal",
    summary = "A receipt to print",
    description = "The printable receipt of a payment, for those who may read its declaration (a trader its own).",
    params(("receipt" = String, Path)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 404, description = "No such receipt visible to you", body = crate::error::ErrorBody)),
    security(("session" = []))
)]
pub async fn receipt(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    mut headers: HeaderMap,
) -> Result<Response, ApiError> {
    headers.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
    crate::payments::bank::show_receipt(State(state), axum::Extension(caller), Path(id), headers)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_told_apart_by_their_first_bytes() {
        for (bytes, media) in [
            (
                &b"<?xml version=\"1.0\"?><MetaData/>"[..],
                Some("application/xml"),
            ),
            (b"\xEF\xBB\xBF  <MetaData/>", Some("application/xml")),
            (b"\n {\"lrn\": \"X\"}", Some("application/json")),
            (b"UNA:+.? 'UNB+UNOC:3", Some("application/edifact")),
            (b"UNB+UNOC:3+SENDER", Some("application/edifact")),
            (b"%PDF-1.7", None),
            (b"", None),
        ] {
            assert_eq!(sniff(bytes), media, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn a_status_code_is_ten_unambiguous_characters_fixed_by_the_id() {
        let code = status_code("0190a7a4-1111-7000-8000-000000000001");
        assert_eq!(code.len(), 10);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='9').contains(&c))
        );
        assert!(!code.contains(['O', 'I', '0', '1']));
        assert_eq!(code, status_code("0190a7a4-1111-7000-8000-000000000001"));
        assert_ne!(code, status_code("0190a7a4-1111-7000-8000-000000000002"));
    }
}
