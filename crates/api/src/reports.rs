//! Service routes (health, metrics, the OpenAPI document, the error table) and the reports: Time Release Study,
//! rule hit rates, the audit trail, and the reconciliation of orders, confirmations and the ledger with the
//! integrity checks of every declaration's money.

use crate::access::record_export;
use crate::error::ApiError;
use crate::request::{Queried, parse_instant, query_error};
use crate::{AppState, Caller};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use error_table::ErrorCode;
use ledger::customs::{self, Movement};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use storage::OrderStatus;

/// The service answers and its database too.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok` (an unhealthy service answers 503 with an Error).
    status: &'static str,
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    summary = "Liveness and database reachability",
    responses((status = 200, description = "Healthy", body = crate::reports::Health), (status = 503, description = "The database does not answer (service.unavailable).", body = crate::error::ErrorBody))
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            ApiError::new(ErrorCode::Unavailable).into_response()
        }
    }
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "service",
    summary = "Prometheus metrics (text format 0.0.4)",
    responses((status = 200, description = "Metrics", content((String = "text/plain"))))
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let operations = match state.store.operations().await {
        Ok(operations) => Some(operations),
        Err(error) => {
            // The process's own figures are still worth a scrape when the database is not answering.
            tracing::warn!(%error, "metrics: the database's figures cannot be read");
            None
        }
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(operations.as_ref()),
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "service",
    summary = "This document",
    responses((status = 200, description = "OpenAPI 3.1 document", body = serde_json::Value))
)]
pub(crate) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi(),
    )
        .into_response()
}

/// One row of the error table.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorCodeRow {
    /// The stable number (a RES notification's `ValidationCode` is `ADU` and this number on five digits).
    number: u16,
    #[serde(serialize_with = "code_text")]
    code: ErrorCode,
    http_status: u16,
    /// The default sentence, in English (the table's own).
    message: &'static str,
    /// The sentence in every language the administration speaks, by language code (`en`, `fr`, `es`).
    sentences: std::collections::BTreeMap<&'static str, String>,
}

fn code_text<S: serde::Serializer>(code: &ErrorCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.code())
}

/// The error table.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorCodes {
    codes: Vec<ErrorCodeRow>,
}

#[utoipa::path(
    get,
    path = "/api/v1/error-codes",
    tag = "service",
    summary = "The table of error codes",
    description = "Every code a client may receive, with its HTTP status, default message and its sentence in each language the administration speaks. Clients switch on the code, never on the message.",
    responses((status = 200, description = "The table", body = crate::reports::ErrorCodes))
)]
pub(crate) async fn error_codes(State(state): State<AppState>) -> Json<ErrorCodes> {
    let languages = state.pipeline().administration.languages.clone();
    Json(ErrorCodes {
        codes: ErrorCode::ALL
            .iter()
            .map(|&code| ErrorCodeRow {
                number: code.number(),
                code,
                http_status: code.http_status(),
                message: code.message(),
                sentences: languages
                    .iter()
                    .map(|l| (l.code(), l.error_sentence(code)))
                    .collect(),
            })
            .collect(),
    })
}

#[derive(Deserialize)]
pub(crate) struct ReleaseTimesQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

/// Most released declarations one report reads.
const MAX_REPORT_DECLARATIONS: i64 = 1_000_000;

#[utoipa::path(
    get,
    path = "/api/v1/reports/release-times",
    tag = "reports",
    summary = "Time Release Study: stage durations",
    description = "For declarations released in [from, to): count, mean, median and 90th percentile (nearest rank) in seconds of each stage interval and of lodgement to release, grouped by lane, office, transport mode or partner agency (each agency's request-to-decision and request-to-release times). Officers and administrators.",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query), ("group_by" = Option<String>, Query)),
    responses((status = 200, description = "The report", body = crate::reports::ReleaseTimes), (status = 400, description = "A query parameter is invalid.", body = crate::error::ErrorBody), (status = 401, description = "No valid bearer token (auth.unauthenticated).", body = crate::error::ErrorBody), (status = 403, description = "The role may not call this route (auth.forbidden).", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub(crate) async fn release_times(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
    Queried(query): Queried<ReleaseTimesQuery>,
) -> Result<Json<ReleaseTimes>, ApiError> {
    record_export(
        &state,
        &caller,
        "report/release-times",
        uri.query().unwrap_or(""),
    )
    .await?;
    let from = parse_instant("from", query.from)?
        .unwrap_or_else(|| "0000-01-01T00:00:00.000000Z".to_owned());
    let to =
        parse_instant("to", query.to)?.unwrap_or_else(|| "9999-12-31T23:59:59.999999Z".to_owned());
    let group_by = query.group_by.unwrap_or_else(|| "lane".to_owned());
    if !matches!(group_by.as_str(), "lane" | "office" | "mode" | "agency") {
        return Err(query_error(
            "group_by",
            "Group by lane, office, mode or agency.",
        ));
    }
    let (report, truncated) = study(&state, &from, &to, &group_by).await?;
    Ok(Json(ReleaseTimes {
        from,
        to,
        group_by,
        truncated,
        groups: report
            .into_iter()
            .map(|(group, stages)| ReleaseGroup { group, stages })
            .collect(),
    }))
}

/// A study's groups with their stage statistics.
pub(crate) type StudyGroups = std::collections::BTreeMap<String, Vec<workflow::study::StageStats>>;

/// The Time Release Study of declarations released in [from, to), grouped by `group_by` (lane, office, mode or
/// agency): each group's stage statistics, and whether it stopped at `MAX_REPORT_DECLARATIONS` (then it covers
/// the first released only). The API's report and the public release-times page read this.
pub(crate) async fn study(
    state: &AppState,
    from: &str,
    to: &str,
    group_by: &str,
) -> Result<(StudyGroups, bool), ApiError> {
    let released = state
        .store
        .released_timelines(from, to, MAX_REPORT_DECLARATIONS)
        .await?;
    let truncated = released.len() as i64 >= MAX_REPORT_DECLARATIONS;
    let mut timelines = Vec::with_capacity(released.len());
    for declaration in released {
        if group_by == "agency" {
            // One timeline per agency the declaration waited for: its own request and decision, with the
            // declaration's other events.
            let mut events = Vec::with_capacity(declaration.events.len());
            for (kind, at) in &declaration.events {
                if !kind.starts_with("agency_") {
                    events.push((kind.clone(), storage::parse_time(at)?));
                }
            }
            for (agency, asked, decided) in &declaration.agencies {
                let mut own = events.clone();
                own.push(("agency_awaited".to_owned(), storage::parse_time(asked)?));
                if let Some(decided) = decided {
                    own.push(("agency_decided".to_owned(), storage::parse_time(decided)?));
                }
                timelines.push(workflow::study::Timeline {
                    group: agency.clone(),
                    events: own,
                });
            }
            continue;
        }
        let group = match group_by {
            "lane" => declaration.lane,
            "office" => declaration.office,
            _ => declaration.transport_mode,
        }
        .unwrap_or_else(|| "unknown".to_owned());
        let mut events = Vec::with_capacity(declaration.events.len());
        for (kind, at) in declaration.events {
            events.push((kind, storage::parse_time(&at)?));
        }
        timelines.push(workflow::study::Timeline { group, events });
    }
    Ok((workflow::study::release_times(&timelines), truncated))
}

/// A report computed from the whole history, as last published: computed again (and kept in the store, for
/// every server) when older than `max_age`. Answers the report and when it was computed (RFC 3339).
pub(crate) async fn published<T, F, Fut>(
    state: &AppState,
    name: &str,
    max_age: std::time::Duration,
    compute: F,
) -> Result<(T, String), ApiError>
where
    T: Serialize + serde::de::DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let now = crate::request::now();
    if !max_age.is_zero()
        && let Some((body, at)) = state.store.published_report(name).await?
        && let Ok(computed) = storage::parse_time(&at)
        && (now - computed) < max_age
        && let Ok(value) = serde_json::from_str(&body)
    {
        return Ok((value, at));
    }
    let value = compute().await?;
    if !max_age.is_zero() {
        let body = serde_json::to_string(&value).map_err(ApiError::internal)?;
        state.store.save_published_report(name, &body, now).await?;
    }
    Ok((value, storage::format_time(now)))
}

/// The release times published: the windows of the public page (days) and its groupings.
pub(crate) const PUBLISHED_DAYS: [i64; 3] = [30, 90, 365];
pub(crate) const PUBLISHED_GROUPS: [&str; 2] = ["mode", "office"];

/// The release times of the last `days` by `group_by`, as published (see [`published`]).
pub(crate) async fn published_release_times(
    state: &AppState,
    group_by: &str,
    days: i64,
    max_age: std::time::Duration,
) -> Result<((StudyGroups, bool), String), ApiError> {
    published(
        state,
        &format!("release-times:{group_by}:{days}"),
        max_age,
        || async move {
            let now = crate::request::now();
            let from = storage::format_time(now - time::Duration::days(days));
            let to = storage::format_time(now + time::Duration::minutes(1));
            study(state, &from, &to, group_by).await
        },
    )
    .await
}

/// The hit-rate report over [from, to), as published (see [`published`]): the report, the declarations read,
/// whether it stopped at the ceiling, and when it was computed.
pub(crate) async fn published_hit_report(
    state: &AppState,
    from: &str,
    to: &str,
    max_age: std::time::Duration,
) -> Result<((workflow::hit_rates::HitReport, usize, bool), String), ApiError> {
    published(state, &format!("hit-rates:{from}:{to}"), max_age, || {
        hit_report(state, from, to)
    })
    .await
}

/// The whole history's hit rates, the analyst's page without dates.
pub(crate) const ALL_FROM: &str = "0000-01-01T00:00:00.000000Z";
pub(crate) const ALL_TO: &str = "9999-12-31T23:59:59.999999Z";

/// The dashboard's indicators: the last [`KPI_DAYS`] days (UTC) and the last [`KPI_WEEKS`] weeks.
#[derive(Serialize, serde::Deserialize)]
pub(crate) struct Kpis {
    pub volumes: Vec<workflow::kpi::DayVolume>,
    /// Releases of the last `KPI_DAYS` days per class of `workflow::kpi::RELEASE_CLASSES`.
    pub distribution: Vec<u64>,
    pub trend: Vec<workflow::kpi::WeekTrend>,
    pub revenue: Vec<workflow::kpi::DayRevenue>,
    /// The partner agencies' times over the last `KPI_DAYS` days: per agency, the Time Release Study's
    /// request-to-decision and request-to-release stages of the declarations released (absent from figures
    /// published before it was added: none until computed again).
    #[serde(default)]
    pub agencies: StudyGroups,
    /// Whether a ceiling of rows read was reached (the figures then cover the oldest part only).
    pub truncated: bool,
}

pub(crate) const KPI_DAYS: i64 = 30;
pub(crate) const KPI_WEEKS: u32 = 12;

/// Computes the dashboard's indicators from the store at `now`.
async fn kpis(state: &AppState, now: time::OffsetDateTime) -> Result<Kpis, ApiError> {
    let last = now.date();
    let first = last - time::Duration::days(KPI_DAYS - 1);
    let first_at = storage::format_time(first.midnight().assume_utc());
    let day = |text: &str| {
        time::Date::parse(
            text.get(..10).unwrap_or(text),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    };
    let counts: Vec<_> = state
        .store
        .lodged_per_day(&first_at)
        .await?
        .into_iter()
        .filter_map(|(d, lane, n)| {
            Some((
                day(&d)?,
                lane.as_deref().and_then(selectivity::Lane::parse),
                u64::try_from(n).unwrap_or(0),
            ))
        })
        .collect();
    let trend_from = now - time::Duration::days(7) * KPI_WEEKS;
    let releases = state
        .store
        .releases_since(&storage::format_time(trend_from), MAX_REPORT_DECLARATIONS)
        .await?;
    let mut truncated = releases.len() as i64 >= MAX_REPORT_DECLARATIONS;
    let mut timed = Vec::with_capacity(releases.len());
    for (lodged, released) in &releases {
        let (Ok(lodged), Ok(released)) =
            (storage::parse_time(lodged), storage::parse_time(released))
        else {
            continue;
        };
        timed.push((released, (released - lodged).whole_seconds().max(0)));
    }
    let recent: Vec<i64> = timed
        .iter()
        .filter(|(at, _)| *at >= first.midnight().assume_utc())
        .map(|(_, s)| *s)
        .collect();
    let movements = state
        .store
        .revenue_movements(&first_at, MAX_REPORT_DECLARATIONS)
        .await?;
    truncated |= movements.len() as i64 >= MAX_REPORT_DECLARATIONS;
    let movements: Vec<_> = movements
        .into_iter()
        .filter_map(|(at, amount, credited)| {
            Some((
                day(&at)?,
                amount.parse::<rust_decimal::Decimal>().ok()?,
                credited,
            ))
        })
        .collect();
    let (agencies, agencies_truncated) = study(
        state,
        &first_at,
        &storage::format_time(now + time::Duration::minutes(1)),
        "agency",
    )
    .await?;
    truncated |= agencies_truncated;
    Ok(Kpis {
        agencies,
        volumes: workflow::kpi::volumes(first, last, &counts),
        distribution: workflow::kpi::release_distribution(&recent),
        trend: workflow::kpi::weekly_trend(now, KPI_WEEKS, &timed),
        revenue: workflow::kpi::revenue(first, last, &movements).ok_or_else(|| {
            ApiError::internal("the revenue of a day is beyond the decimal range")
        })?,
        truncated,
    })
}

/// The dashboard's indicators, as published (see [`published`]).
pub(crate) async fn published_kpis(
    state: &AppState,
    max_age: std::time::Duration,
) -> Result<(Kpis, String), ApiError> {
    published(state, "kpis", max_age, || {
        kpis(state, crate::request::now())
    })
    .await
}

/// Computes again every standing published report older than `max_age` (not zero).
pub(crate) async fn refresh_published(
    state: &AppState,
    max_age: std::time::Duration,
) -> Result<(), ApiError> {
    for days in PUBLISHED_DAYS {
        for group_by in PUBLISHED_GROUPS {
            published_release_times(state, group_by, days, max_age).await?;
        }
    }
    published_hit_report(state, ALL_FROM, ALL_TO, max_age).await?;
    published_kpis(state, max_age).await?;
    Ok(())
}

/// The Time Release Study: how long each stage took, per group of released declarations.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReleaseTimes {
    /// Released at or after (RFC 3339).
    from: String,
    /// Released before (RFC 3339).
    to: String,
    /// `lane`, `office`, `mode` (of transport) or `agency` (the partner agencies release waited for: each agency's
    /// request-to-decision and request-to-release times).
    group_by: String,
    /// The report stopped at its ceiling of 1,000,000 released declarations (the first released of the period).
    truncated: bool,
    groups: Vec<ReleaseGroup>,
}

/// One group's stages.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ReleaseGroup {
    /// The lane, office or mode; `unknown` when the declaration has none.
    group: String,
    stages: Vec<workflow::study::StageStats>,
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    after: Option<u64>,
    limit: Option<i64>,
}

/// Most audit entries one page returns.
const MAX_AUDIT_PAGE: i64 = 1000;

fn entry_json(entry: &audit::Entry) -> Value {
    serde_json::to_value(entry).unwrap_or(Value::Null)
}

/// The audit trail, a page at a time, oldest first, with the current head (for auditors).
#[utoipa::path(
    get,
    path = "/api/v1/audit/entries",
    tag = "audit",
    summary = "The audit trail, a page at a time",
    description = "Entries oldest first after `after` (default 0), at most `limit` (1 to 1000, default 100), with the current head and `next_after`. Each entry: seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash (see ARCHITECTURE.md for how to recompute the chain). Auditors and administrators; scope `audit`. The read itself is recorded in the trail.",
    params(("after" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "A page of entries", body = serde_json::Value), (status = 400, description = "Bad query (request.invalid_query)", body = crate::error::ErrorBody), (status = 403, description = "Auditors and administrators only", body = crate::error::ErrorBody))
)]
pub(crate) async fn audit_entries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
    Queried(query): Queried<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(query_error("limit", "Ask for 1 to 1000 entries."));
    }
    record_export(&state, &caller, "audit/entries", uri.query().unwrap_or("")).await?;
    let after = query.after.unwrap_or(0);
    let entries = state.store.audit_entries(after, limit).await?;
    let head = state.store.audit_head().await?;
    let next = entries.last().map(|e| e.seq).filter(|seq| *seq < head.seq);
    Ok(Json(json!({
        "head": head,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        "next_after": next,
    })))
}

/// The audit entries of one declaration's events.
#[utoipa::path(
    get,
    path = "/api/v1/declarations/{id}/audit",
    tag = "audit",
    summary = "A declaration's entries in the audit trail",
    description = "The trail's entries for every event of the declaration (their data_hash is the SHA-256 of the stored event). Auditors and administrators; scope `audit`.",
    params(("id" = String, Path)),
    responses((status = 200, description = "The entries", body = serde_json::Value), (status = 404, description = "No such declaration", body = crate::error::ErrorBody), (status = 403, description = "Auditors and administrators only", body = crate::error::ErrorBody))
)]
pub(crate) async fn declaration_audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if id.len() > 64 || state.store.declaration(&id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    record_export(&state, &caller, &format!("audit/declaration/{id}"), "").await?;
    let entries = state
        .store
        .audit_entries_for(&format!("declaration/{id}/"))
        .await?;
    Ok(Json(json!({
        "declaration": id,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub(crate) struct RuleHitsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The feedback loop: per risk rule (and the random selection), declarations selected, controlled, found
/// irregular, additional duty found — over declarations lodged in [from, to).
#[utoipa::path(
    get,
    path = "/api/v1/reports/rule-hits",
    tag = "reports",
    summary = "Hit rates per risk rule (the feedback loop)",
    description = "Over declarations lodged in [from, to) (RFC 3339 with a zone; default: all, at most 1,000,000 declarations): per rule, and for the random selection, the declarations it selected, how many were controlled, how many controls found an irregularity, the hit rate, the additional duty found and the irregularities by type; declarations topped up by the lane rates count under `rate-top-up`. Per risk model version (`models`): declarations scored, selected for a lane other than green, controlled, found irregular, hit rate, additional duty, and the mean score of the irregular and of the regular ones. A control's outcome is credited to every rule that selected the declaration. Officers, risk analysts, auditors, administrators; scope `reports`. The read is recorded in the audit trail.",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "The report", body = serde_json::Value), (status = 400, description = "Bad query (request.invalid_query)", body = crate::error::ErrorBody), (status = 403, description = "Not a reporting role", body = crate::error::ErrorBody))
)]
pub(crate) async fn rule_hits(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
    Queried(query): Queried<RuleHitsQuery>,
) -> Result<Json<Value>, ApiError> {
    let from = parse_instant("from", query.from)?
        .unwrap_or_else(|| "0000-01-01T00:00:00.000000Z".to_owned());
    let to =
        parse_instant("to", query.to)?.unwrap_or_else(|| "9999-12-31T23:59:59.999999Z".to_owned());
    record_export(
        &state,
        &caller,
        "report/rule-hits",
        uri.query().unwrap_or(""),
    )
    .await?;
    let (report, declarations, truncated) = hit_report(&state, &from, &to).await?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "declarations": declarations,
        "truncated": truncated,
        "selectors": report.selectors,
        "models": report.models,
    })))
}

/// The hit-rate report over declarations lodged in [from, to): the report, how many declarations it read, and
/// whether it stopped at the ceiling. The API's report and the analyst's page are this one computation.
pub(crate) async fn hit_report(
    state: &AppState,
    from: &str,
    to: &str,
) -> Result<(workflow::hit_rates::HitReport, usize, bool), ApiError> {
    let histories = state
        .store
        .selection_histories(from, to, MAX_REPORT_DECLARATIONS)
        .await?;
    let report = workflow::hit_rates::report(histories.iter().map(|h| h.as_slice()));
    Ok((
        report,
        histories.len(),
        histories.len() as i64 >= MAX_REPORT_DECLARATIONS,
    ))
}

fn checked_sum(mut amounts: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    amounts.try_fold(Decimal::ZERO, |sum, a| sum.checked_add(a))
}

/// `GET /api/v1/reports/reconciliation`: every order against the confirmations received and the ledger, the
/// ledger's own checks, and the integrity checks of every declaration's money.
#[utoipa::path(
    get,
    path = "/api/v1/reports/reconciliation",
    tag = "reports",
    summary = "Payment orders against bank confirmations and the ledger",
    description = "Per order: ordered, confirmed, posted in the ledger, the declaration's receivable balance, reconciled or not; the count of mismatches; whether the whole ledger verifies (debits equal credits, every account within its rule, totals equal to the replay of the transfers).",
    responses((status = 200, description = "The report", body = serde_json::Value), (status = 403, description = "Officers and administrators only", body = crate::error::ErrorBody))
)]
pub(crate) async fn reconciliation(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let pipeline = state.pipeline();
    record_export(&state, &caller, "report/reconciliation", "").await?;
    let orders = state.store.payment_orders().await?;
    let confirmations = state.store.confirmations().await?;
    let ledger = state.store.ledger().await?;
    let ledger_check = ledger.verify();
    let mut rows = Vec::new();
    let mut mismatches = 0;
    for order in &orders {
        // Checked sums: totals too large to add are a mismatch, never a panic.
        let confirmed = checked_sum(
            confirmations
                .iter()
                .filter(|c| c.order_reference == order.reference)
                .filter_map(|c| c.amount.parse::<Decimal>().ok()),
        );
        let received_in_ledger = checked_sum(
            ledger
                .transfers()
                .filter(|t| t.code == Movement::Payment.as_str() && t.reference == order.reference)
                .map(|t| t.amount),
        );
        let (Some(confirmed), Some(received_in_ledger)) = (confirmed, received_in_ledger) else {
            mismatches += 1;
            continue;
        };
        let ordered: Decimal = order.amount.parse().unwrap_or_default();
        let receivable = ledger
            .account(&customs::receivable(&order.ledger_key))
            .map(|a| a.balance())
            .unwrap_or_default();
        // What the banks confirmed is in the ledger; a paid order was paid by them or otherwise (at a customs
        // counter: the declaration owes nothing); an open one is not paid yet; a superseded one is history.
        let ok = confirmed == received_in_ledger
            && match order.status {
                OrderStatus::Paid => confirmed >= ordered || receivable >= Decimal::ZERO,
                OrderStatus::Open => confirmed < ordered,
                OrderStatus::Superseded => true,
            };
        if !ok {
            mismatches += 1;
        }
        rows.push(json!({
            "reference": order.reference,
            "declaration_id": order.declaration_id,
            "status": order.status,
            "ordered": pipeline.amount_text(ordered),
            "confirmed": pipeline.amount_text(confirmed),
            "in_ledger": pipeline.amount_text(received_in_ledger),
            "receivable_balance": pipeline.amount_text(receivable),
            "reconciled": ok,
        }));
    }
    // Every declaration's money against the ledger (what `aduana ledger verify` checks too).
    let findings = state.store.money_findings().await?;
    let reconciled = mismatches == 0 && ledger_check.is_ok() && findings.is_empty();
    Ok(Json(json!({
        "orders": rows,
        "confirmations": confirmations.len(),
        "mismatches": mismatches,
        "ledger_balanced": ledger_check.is_ok(),
        "ledger_problem": ledger_check.err(),
        "findings": findings
            .iter()
            .map(|f| json!({"declaration": f.declaration, "finding": f.sentence}))
            .collect::<Vec<_>>(),
        "reconciled": reconciled,
    })))
}
