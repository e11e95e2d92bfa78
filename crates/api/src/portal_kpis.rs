//! The dashboard of key performance indicators (issue 19, item 7): declarations lodged per day by lane, the
//! time from lodgement to release (distribution and weekly trend), the revenue posted per day and the partner
//! agencies' times (request to decision, request to release), each a
//! server-rendered SVG chart with its table beside it (for screen readers, and as CSV). The figures are the
//! published ones (`reports::published_kpis`, computed by the publishing task), so the page reads one row.

use crate::error::ApiError;
use crate::frame::Frame;
use crate::portal::{local_time, render};
use crate::portal_public::duration;
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use wording::Language;

/// The lanes of the volume chart, in stacking order, with their fill (distinct in lightness as well).
const LANES: [(&str, &str); 5] = [
    ("green", "#00703c"),
    ("yellow", "#b58105"),
    ("red", "#d4351c"),
    ("blue", "#1d70b8"),
    ("none", "#505a5f"),
];

/// One bar (or segment) of a chart: x, y, width, height, fill, its title.
struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    fill: &'static str,
    title: String,
}

struct VolumeRow {
    day: String,
    counts: Vec<u64>,
    total: u64,
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct KpisPage {
    t: Language,
    frame: Frame,
    as_of: String,
    truncated: bool,
    volume_bars: Vec<Bar>,
    volume_rows: Vec<VolumeRow>,
    lanes: Vec<(String, &'static str)>,
    lodged: u64,
    /// (class, releases, share, bar width)
    classes: Vec<(String, u64, String, f64)>,
    trend_bars: Vec<Bar>,
    /// (week starting, released, mean, median)
    trend_rows: Vec<(String, u64, String, String)>,
    revenue_bars: Vec<Bar>,
    revenue_rows: Vec<(String, String)>,
    revenue_total: String,
    agency_rows: Vec<AgencyRow>,
}

/// A partner agency's times on the dashboard.
struct AgencyRow {
    agency: String,
    decided: usize,
    median: String,
    p90: String,
    to_release: String,
    /// The bar of its median request-to-decision time, 500 wide at the slowest agency.
    width: f64,
}

/// Each agency's row: its decisions' count, median and 90th percentile, and its median request-to-release.
fn agency_rows(t: Language, groups: &crate::reports::StudyGroups) -> Vec<AgencyRow> {
    let stage = |stages: &[workflow::study::StageStats], name: &str| {
        stages.iter().find(|s| s.stage == name).cloned()
    };
    let slowest = groups
        .values()
        .filter_map(|s| stage(s, "agency_request_to_decision"))
        .map(|s| s.median_seconds)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    groups
        .iter()
        .map(|(agency, stages)| {
            let decision = stage(stages, "agency_request_to_decision");
            let release = stage(stages, "agency_request_to_release");
            let text = |s: Option<f64>| s.map_or_else(|| "–".to_owned(), |s| duration(t, s));
            AgencyRow {
                agency: agency.clone(),
                decided: decision.as_ref().map_or(0, |s| s.count),
                median: text(decision.as_ref().map(|s| s.median_seconds)),
                p90: text(decision.as_ref().map(|s| s.p90_seconds)),
                to_release: text(release.as_ref().map(|s| s.median_seconds)),
                width: decision
                    .as_ref()
                    .map_or(0.0, |s| (s.median_seconds / slowest * 500.0).round()),
            }
        })
        .collect()
}

/// The class of the distribution as read: `up to 1 min`, `1 min – 15 min`, …, `more than 3 d`.
fn class_name(t: Language, index: usize) -> String {
    let bounds = workflow::kpi::RELEASE_CLASSES;
    let text = |s: i64| duration(t, s as f64);
    match (index.checked_sub(1).and_then(|i| bounds[i]), bounds[index]) {
        (None, Some(upper)) => t.text("page-kpi-up-to", &[("upper", &text(upper))]),
        (Some(lower), Some(upper)) => format!("{} – {}", text(lower), text(upper)),
        (Some(lower), None) => t.text("page-kpi-more-than", &[("lower", &text(lower))]),
        (None, None) => String::new(),
    }
}

fn day_text(day: time::Date) -> String {
    day.format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

#[derive(serde::Deserialize)]
pub struct CsvQuery {
    table: Option<String>,
}

/// `GET /portal/kpis`.
#[utoipa::path(
    get,
    path = "/portal/kpis",
    tag = "portal",
    summary = "Key performance indicators (page)",
    description = "Declarations lodged per day by lane (30 days), lodgement to release (distribution over 30 days, trend over 12 weeks) and revenue posted per day: SVG charts, each with its table and CSV. The published figures, with when they were computed. Officers, analysts, auditors, administrators.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let (kpis, computed_at) =
        crate::reports::published_kpis(&state, state.config.published_every).await?;
    let pipeline = state.pipeline();
    let places = pipeline.administration.currency.decimal_places;
    let currency = pipeline.administration.currency.code.as_str().to_owned();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let lane_names: Vec<String> = LANES
        .iter()
        .map(|(lane, _)| match *lane {
            "none" => t.get("page-kpi-not-laned"),
            lane => t.get(&format!("lane-{lane}")),
        })
        .collect();

    // Declarations per day: a stacked column per day, 600 wide, 200 high.
    const HEIGHT: f64 = 200.0;
    let column = 600.0 / kpis.volumes.len().max(1) as f64;
    let most = kpis
        .volumes
        .iter()
        .map(|d| d.total())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut volume_bars = Vec::new();
    let mut volume_rows = Vec::new();
    for (i, day) in kpis.volumes.iter().enumerate() {
        let counts = [day.green, day.yellow, day.red, day.blue, day.other];
        let mut top = HEIGHT;
        for (k, n) in counts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let height = *n as f64 / most * HEIGHT;
            top -= height;
            volume_bars.push(Bar {
                x: 40.0 + i as f64 * column,
                y: top,
                width: (column - 2.0).max(1.0),
                height,
                fill: LANES[k].1,
                title: format!("{} – {}: {n}", day_text(day.day), lane_names[k]),
            });
        }
        volume_rows.push(VolumeRow {
            day: day_text(day.day),
            counts: counts.to_vec(),
            total: day.total(),
        });
    }
    let lodged = kpis.volumes.iter().map(|d| d.total()).sum();

    let released: u64 = kpis.distribution.iter().sum();
    let classes = kpis
        .distribution
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let share = if released == 0 {
                0.0
            } else {
                *n as f64 / released as f64
            };
            (
                class_name(t, i),
                *n,
                format!("{:.1} %", share * 100.0),
                (share * 500.0).round(),
            )
        })
        .collect();

    let slowest = kpis
        .trend
        .iter()
        .filter_map(|w| w.median_seconds)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let week_width = 600.0 / kpis.trend.len().max(1) as f64;
    let trend_bars = kpis
        .trend
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let median = w.median_seconds?;
            let height = median as f64 / slowest * HEIGHT;
            Some(Bar {
                x: 40.0 + i as f64 * week_width,
                y: HEIGHT - height,
                width: (week_width - 6.0).max(1.0),
                height,
                fill: "#1d70b8",
                title: format!("{}: {}", day_text(w.starts), duration(t, median as f64)),
            })
        })
        .collect();
    let trend_rows = kpis
        .trend
        .iter()
        .map(|w| {
            (
                day_text(w.starts),
                w.released,
                w.mean_seconds
                    .map_or_else(|| "–".to_owned(), |s| duration(t, s)),
                w.median_seconds
                    .map_or_else(|| "–".to_owned(), |s| duration(t, s as f64)),
            )
        })
        .collect();

    let largest = kpis
        .revenue
        .iter()
        .map(|d| d.net.abs())
        .max()
        .unwrap_or_default();
    let largest = rust_decimal::prelude::ToPrimitive::to_f64(&largest)
        .unwrap_or(0.0)
        .max(f64::MIN_POSITIVE);
    let revenue_bars = kpis
        .revenue
        .iter()
        .enumerate()
        .filter(|(_, d)| d.net > rust_decimal::Decimal::ZERO)
        .map(|(i, d)| {
            let height = rust_decimal::prelude::ToPrimitive::to_f64(&d.net).unwrap_or(0.0)
                / largest
                * HEIGHT;
            Bar {
                x: 40.0 + i as f64 * column,
                y: HEIGHT - height,
                width: (column - 2.0).max(1.0),
                height,
                fill: "#00703c",
                title: format!(
                    "{}: {}",
                    day_text(d.day),
                    t.amount(d.net, places, &currency)
                ),
            }
        })
        .collect();
    let revenue_rows = kpis
        .revenue
        .iter()
        .map(|d| (day_text(d.day), t.amount(d.net, places, &currency)))
        .collect();
    let total = kpis
        .revenue
        .iter()
        .try_fold(rust_decimal::Decimal::ZERO, |sum, d| sum.checked_add(d.net))
        .ok_or_else(|| {
            ApiError::internal("the revenue of the period is beyond the decimal range")
        })?;

    let frame = Frame::signed_in(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        t.get("page-kpis"),
    );
    let html = render(&KpisPage {
        t,
        frame,
        as_of: format!("{} ({zone})", local_time(&computed_at, office)),
        truncated: kpis.truncated,
        volume_bars,
        volume_rows,
        lanes: lane_names
            .into_iter()
            .zip(LANES.iter().map(|(_, fill)| *fill))
            .collect(),
        lodged,
        classes,
        trend_bars,
        trend_rows,
        revenue_bars,
        revenue_rows,
        revenue_total: t.amount(total, places, &currency),
        agency_rows: agency_rows(t, &kpis.agencies),
    })?;
    Ok(Html(html).into_response())
}

/// `GET /portal/kpis.csv?table=volumes|releases|trend|revenue`.
#[utoipa::path(
    get,
    path = "/portal/kpis.csv",
    tag = "portal",
    summary = "Key performance indicators (CSV)",
    description = "One table of the dashboard: `volumes` (day, declarations per lane, total; the default), `releases` (class upper bound in seconds, releases), `trend` (week starting, released, mean and median seconds) or `revenue` (day, net revenue posted) or `agencies` (agency, decisions, median and 90th percentile of request to decision, median of request to release, in seconds).",
    params(("table" = Option<String>, Query)),
    responses((status = 200, description = "CSV", content((String = "text/csv")))),
    security(("session" = []))
)]
pub async fn csv(
    State(state): State<AppState>,
    Query(query): Query<CsvQuery>,
) -> Result<Response, ApiError> {
    let (kpis, _) = crate::reports::published_kpis(&state, state.config.published_every).await?;
    let table = match query.table.as_deref() {
        Some("releases") => "releases",
        Some("trend") => "trend",
        Some("revenue") => "revenue",
        Some("agencies") => "agencies",
        _ => "volumes",
    };
    let mut out = String::new();
    match table {
        "releases" => {
            out.push_str("up_to_seconds,releases\r\n");
            for (bound, n) in workflow::kpi::RELEASE_CLASSES
                .iter()
                .zip(&kpis.distribution)
            {
                let bound = bound.map(|b| b.to_string()).unwrap_or_default();
                out.push_str(&format!("{bound},{n}\r\n"));
            }
        }
        "trend" => {
            out.push_str("week_starting,released,mean_seconds,median_seconds\r\n");
            for w in &kpis.trend {
                let mean = w
                    .mean_seconds
                    .map(|s| format!("{s:.0}"))
                    .unwrap_or_default();
                let median = w.median_seconds.map(|s| s.to_string()).unwrap_or_default();
                out.push_str(&format!(
                    "{},{},{mean},{median}\r\n",
                    day_text(w.starts),
                    w.released
                ));
            }
        }
        "agencies" => {
            out.push_str("agency,decided,median_decision_seconds,p90_decision_seconds,median_request_to_release_seconds\r\n");
            for (agency, stages) in &kpis.agencies {
                let stage = |name: &str| stages.iter().find(|s| s.stage == name);
                let decision = stage("agency_request_to_decision");
                let seconds = |s: Option<f64>| s.map(|s| format!("{s:.0}")).unwrap_or_default();
                out.push_str(&format!(
                    "{agency},{},{},{},{}\r\n",
                    decision.map_or(0, |s| s.count),
                    seconds(decision.map(|s| s.median_seconds)),
                    seconds(decision.map(|s| s.p90_seconds)),
                    seconds(stage("agency_request_to_release").map(|s| s.median_seconds)),
                ));
            }
        }
        "revenue" => {
            out.push_str("day,net_revenue\r\n");
            for d in &kpis.revenue {
                out.push_str(&format!("{},{}\r\n", day_text(d.day), d.net));
            }
        }
        _ => {
            out.push_str("day,green,yellow,red,blue,not_laned,total\r\n");
            for d in &kpis.volumes {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\r\n",
                    day_text(d.day),
                    d.green,
                    d.yellow,
                    d.red,
                    d.blue,
                    d.other,
                    d.total()
                ));
            }
        }
    }
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response();
    let disposition = format!("attachment; filename=\"kpi-{table}.csv\"");
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    Ok(response)
}
