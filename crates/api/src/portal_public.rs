//! The public pages (no sign-in; TFA Art. 1 and 7.6):
//!
//! - `/status`: a declaration's status by its MRN and the code its trader was given (`status_code`), nothing
//!   else: the same answer for an unknown MRN and a wrong code.
//! - `/release-times`: the Time Release Study published: for declarations released in the last 30, 90 or 365
//!   days, by mode of transport or office, how long release took (mean, median, 90th percentile), the mean of each
//!   stage as stacked bars (server-rendered SVG, the table beside it for screen readers) and each group's
//!   bottleneck named; the table as CSV at `/release-times.csv`.

use crate::AppState;
use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::portal::render;
use crate::portal_declarations::status_code;
use crate::security::same_secret;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use wording::Language;
use workflow::study::StageStats;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    t: Language,
    frame: Frame,
    mrn: String,
    code: String,
    /// The status found, in the page's language.
    found: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct StatusQuery {
    mrn: Option<String>,
    code: Option<String>,
}

/// `GET /status?mrn=&code=`.
#[utoipa::path(
    get,
    path = "/status",
    tag = "public",
    summary = "A declaration's status by MRN (page)",
    description = "A form; with `mrn` and `code` (the ten characters shown to the declaration's trader on its page), the declaration's status and nothing else. An unknown MRN and a wrong code get the same answer.",
    params(("mrn" = Option<String>, Query), ("code" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html"))), (status = 404, description = "No declaration with this MRN and code: the page with the error", content((String = "text/html"))))
)]
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<StatusQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let mrn: String = query
        .mrn
        .unwrap_or_default()
        .trim()
        .to_uppercase()
        .chars()
        .take(35)
        .collect();
    let code: String = query
        .code
        .unwrap_or_default()
        .trim()
        .to_uppercase()
        .chars()
        .take(20)
        .collect();
    let mut errors = Vec::new();
    let mut found = None;
    let asked = !mrn.is_empty() || !code.is_empty();
    if asked {
        if mrn.is_empty() {
            errors.push(FieldError {
                field: "mrn".into(),
                message: t.get("page-status-need-mrn"),
            });
        }
        if code.is_empty() {
            errors.push(FieldError {
                field: "code".into(),
                message: t.get("page-status-need-code"),
            });
        }
    }
    if errors.is_empty() && asked {
        let row = state.store.declaration_by_mrn(&mrn).await?;
        match row.filter(|r| same_secret(&status_code(&r.id), &code)) {
            Some(row) => found = Some(t.get(&format!("status-{}", row.status.as_str()))),
            None => errors.push(FieldError {
                field: "mrn".into(),
                message: t.get("page-status-not-found"),
            }),
        }
    }
    let code_status = if errors.is_empty() {
        StatusCode::OK
    } else if asked && !mrn.is_empty() && !code.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let frame =
        Frame::public(&state, &headers, &uri, t.get("page-status-check")).with_errors(errors);
    let page = render(&StatusPage {
        t,
        frame,
        mrn,
        code,
        found,
    })?;
    Ok((code_status, Html(page)).into_response())
}

/// The stages that follow one another from lodgement to release, as the stacked bars show them.
pub(crate) const SEQUENCE: [&str; 5] = [
    "lodgement_to_acceptance",
    "acceptance_to_lane",
    "control_or_lane_to_assessment",
    "assessment_to_settlement",
    "settlement_to_release",
];
/// One colour per stage of [`SEQUENCE`] (distinct in lightness too, for those who do not see colours).
const COLOURS: [&str; 5] = ["#0b3d5c", "#2f7bbf", "#d4a017", "#8c4b9e", "#0b6e3a"];

/// A duration in seconds as people read it: `45 s`, `12 min 05 s`, `3 h 20 min`, `2 d 4 h`.
pub(crate) fn duration(t: Language, seconds: f64) -> String {
    let total = if seconds.is_finite() && seconds > 0.0 {
        seconds.round().min(1e12) as u64
    } else {
        0
    };
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    let day = t.get("unit-day");
    if d > 0 {
        format!("{d} {day} {h} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// One group of the published study.
struct GroupRow {
    name: String,
    count: usize,
    mean: String,
    median: String,
    p90: String,
    bottleneck: String,
    /// The stacked bar: (x, width, colour, stage name, mean as text), in SVG units.
    segments: Vec<(f64, f64, &'static str, String, String)>,
    y: f64,
}

#[derive(Template)]
#[template(path = "release_times.html")]
struct ReleaseTimesPage {
    t: Language,
    frame: Frame,
    rows: Vec<GroupRow>,
    group_by: String,
    days: i64,
    legend: Vec<(&'static str, String)>,
    chart_height: f64,
    csv: String,
    /// When the figures were computed, in the first office's time.
    as_of: String,
    /// The study stopped at its ceiling of released declarations.
    truncated: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct ReleaseTimesQuery {
    group_by: Option<String>,
    days: Option<i64>,
}

fn group_name(t: Language, group_by: &str, group: &str) -> String {
    if group_by == "mode" {
        let key = format!("mode-{group}");
        let name = t.get(&key);
        if name != key {
            return format!("{group} — {name}");
        }
    }
    if group == "unknown" {
        return t.get("page-unknown");
    }
    group.to_owned()
}

struct Published {
    group_by: String,
    days: i64,
    groups: Vec<(String, Vec<StageStats>)>,
    /// When the figures were computed (RFC 3339).
    computed_at: String,
    /// The study stopped at its ceiling of released declarations.
    truncated: bool,
}

/// The window and grouping asked (30, 90 or 365 days; mode or office), as published (`reports::published`):
/// the page reads the figures kept, computed again at most every `Config::published_every`.
async fn published(state: &AppState, query: ReleaseTimesQuery) -> Result<Published, ApiError> {
    let group_by = match query.group_by.as_deref() {
        Some("office") => "office",
        _ => "mode",
    };
    let days = match query.days {
        Some(30) => 30,
        Some(365) => 365,
        _ => 90,
    };
    let ((groups, truncated), computed_at) = crate::reports::published_release_times(
        state,
        group_by,
        days,
        state.config.published_every,
    )
    .await?;
    Ok(Published {
        group_by: group_by.to_owned(),
        days,
        groups: groups.into_iter().collect(),
        truncated,
        computed_at,
    })
}

fn stage<'a>(stages: &'a [StageStats], name: &str) -> Option<&'a StageStats> {
    stages.iter().find(|s| s.stage == name)
}

/// `GET /release-times`.
#[utoipa::path(
    get,
    path = "/release-times",
    tag = "public",
    summary = "Average release times (page)",
    description = "The Time Release Study published: declarations released in the last `days` (30, 90 or 365; default 90) by `group_by` (mode, the default, or office): count, mean, median and 90th percentile of lodgement to release, each stage's mean as a stacked bar, the bottleneck named. No personal or trader data.",
    params(("group_by" = Option<String>, Query), ("days" = Option<i64>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html"))))
)]
pub async fn release_times(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<ReleaseTimesQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let published = published(&state, query).await?;
    const WIDTH: f64 = 560.0;
    let longest = published
        .groups
        .iter()
        .map(|(_, stages)| {
            SEQUENCE
                .iter()
                .filter_map(|s| stage(stages, s))
                .map(|s| s.mean_seconds)
                .sum::<f64>()
        })
        .fold(0.0_f64, f64::max);
    let mut rows = Vec::new();
    for (n, (group, stages)) in published.groups.iter().enumerate() {
        let Some(total) = stage(stages, "lodgement_to_release") else {
            continue;
        };
        let mut x = 0.0;
        let mut segments = Vec::new();
        let mut bottleneck = (0.0, String::new());
        for (i, name) in SEQUENCE.iter().enumerate() {
            let Some(s) = stage(stages, name) else {
                continue;
            };
            let label = t.get(&format!("stage-{name}"));
            if s.mean_seconds > bottleneck.0 {
                bottleneck = (s.mean_seconds, label.clone());
            }
            let width = if longest > 0.0 {
                s.mean_seconds / longest * WIDTH
            } else {
                0.0
            };
            segments.push((
                (x * 10.0_f64).round() / 10.0,
                (width * 10.0).round() / 10.0,
                COLOURS[i],
                label,
                duration(t, s.mean_seconds),
            ));
            x += width;
        }
        rows.push(GroupRow {
            name: group_name(t, &published.group_by, group),
            count: total.count,
            mean: duration(t, total.mean_seconds),
            median: duration(t, total.median_seconds),
            p90: duration(t, total.p90_seconds),
            bottleneck: bottleneck.1,
            segments,
            y: (n as f64) * 34.0 + 4.0,
        });
    }
    for (n, row) in rows.iter_mut().enumerate() {
        row.y = (n as f64) * 34.0 + 4.0;
    }
    let chart_height = rows.len() as f64 * 34.0 + 8.0;
    let frame = Frame::public(&state, &headers, &uri, t.get("page-release-times"));
    let page = render(&ReleaseTimesPage {
        t,
        frame,
        chart_height,
        rows,
        csv: format!(
            "/release-times.csv?group_by={}&days={}",
            published.group_by, published.days
        ),
        as_of: {
            let pipeline = state.pipeline();
            let (office, zone) = crate::portal::zone_of(&pipeline.administration);
            format!(
                "{} ({zone})",
                crate::portal::local_time(&published.computed_at, office)
            )
        },
        truncated: published.truncated,
        group_by: published.group_by,
        days: published.days,
        legend: SEQUENCE
            .iter()
            .zip(COLOURS)
            .map(|(s, c)| (c, t.get(&format!("stage-{s}"))))
            .collect(),
    })?;
    Ok(Html(page).into_response())
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
pub(crate) fn csv_field(text: &str) -> String {
    // A leading =, +, - or @ would be a formula in a spreadsheet: prefixed with a quote (OWASP's advice).
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `GET /release-times.csv`.
#[utoipa::path(
    get,
    path = "/release-times.csv",
    tag = "public",
    summary = "Average release times (CSV)",
    description = "The release-times page's table: group, stage, count, mean, median and 90th percentile in seconds, one line per group and stage.",
    params(("group_by" = Option<String>, Query), ("days" = Option<i64>, Query)),
    responses((status = 200, description = "CSV", content((String = "text/csv"))))
)]
pub async fn release_times_csv(
    State(state): State<AppState>,
    Query(query): Query<ReleaseTimesQuery>,
) -> Result<Response, ApiError> {
    let published = published(&state, query).await?;
    let mut csv = format!(
        "{},stage,count,mean_seconds,median_seconds,p90_seconds\r\n",
        published.group_by
    );
    for (group, stages) in &published.groups {
        for s in stages {
            csv.push_str(&format!(
                "{},{},{},{:.0},{:.0},{:.0}\r\n",
                csv_field(group),
                s.stage,
                s.count,
                s.mean_seconds,
                s.median_seconds,
                s.p90_seconds
            ));
        }
    }
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response();
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"release-times.csv\""),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        for (seconds, text) in [
            (0.0, "0 s"),
            (44.6, "45 s"),
            (725.0, "12 min 05 s"),
            (12_000.0, "3 h 20 min"),
            (187_200.0, "2 d 4 h"),
            (f64::NAN, "0 s"),
            (-5.0, "0 s"),
            (1e300, "11574074 d 1 h"),
        ] {
            assert_eq!(duration(Language::En, seconds), text, "{seconds}");
        }
        assert_eq!(duration(Language::Fr, 187_200.0), "2 j 4 h");
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        for (field, out) in [
            ("GBLHR001", "GBLHR001"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
            ("-1,2", "\"'-1,2\""),
        ] {
            assert_eq!(csv_field(field), out);
        }
    }
}
