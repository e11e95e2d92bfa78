//! The risk analyst's pages: the rule editor (the rules in force, check or save a new version; an error is shown
//! at its line and column, with the line quoted) calling the API's own handlers (`risk::check`,
//! `risk::save_rules`), and the hit-rate report per rule and per model version (`reports::hit_report`, the API
//! report's computation) as a server-rendered chart with its table, and as CSV.

use crate::error::ApiError;
use crate::frame::{FieldError, Frame};
use crate::portal::{field, local_time, posted_form, render};
use crate::portal_public::csv_field;
use crate::security::PortalSession;
use crate::{AppState, Caller};
use askama::Template;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use wording::Language;

/// The largest rule set the editor posts (the API's body limit applies too).
const RULES_FORM_MAX: usize = 512 * 1024;

/// An error of the rules: where, the line as written, and what is wrong.
struct RuleProblem {
    line: usize,
    column: usize,
    quoted: String,
    message: String,
}

#[derive(Template)]
#[template(path = "risk_rules.html")]
struct RulesPage {
    t: Language,
    frame: Frame,
    text: String,
    comment: String,
    valid_from: String,
    problems: Vec<RuleProblem>,
    /// After a check that passed: the sentence.
    checked: Option<String>,
    /// (version, author, comment, in force from, saved at, in force today).
    versions: Vec<(i64, String, String, String, String, bool)>,
    built_in: bool,
    zone: String,
    can_write: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct RulesQuery {
    done: Option<String>,
}

/// The line and column of a rules problem's pointer (`/text/line/L/column/C`).
fn place(pointer: &str) -> Option<(usize, usize)> {
    let rest = pointer.strip_prefix("/text/line/")?;
    let (line, column) = rest.split_once("/column/")?;
    Some((line.parse().ok()?, column.parse().ok()?))
}

#[allow(clippy::too_many_arguments)]
async fn rules_page(
    state: &AppState,
    caller: &Caller,
    session: &PortalSession,
    headers: &HeaderMap,
    typed: Option<(String, String, String)>,
    errors: Vec<FieldError>,
    problems: Vec<RuleProblem>,
    checked: Option<String>,
    done: Option<&str>,
) -> Result<Response, ApiError> {
    let t = state.wording(headers).language;
    let pipeline = state.pipeline();
    let (office, zone) = crate::portal::zone_of(&pipeline.administration);
    let today = time::OffsetDateTime::now_utc().date();
    let in_force = pipeline.rules_for(today).1.map(i64::from);
    let stored = state
        .store
        .risk_documents(crate::risk::RULES, Some(crate::risk::RULES))
        .await?;
    let versions = stored
        .iter()
        .take(50)
        .map(|d| {
            (
                d.version,
                d.author.clone(),
                d.comment.clone(),
                d.valid_from.clone().unwrap_or_default(),
                local_time(&d.created_at, office),
                Some(d.version) == in_force,
            )
        })
        .collect();
    let (text, comment, valid_from) = match typed {
        Some(typed) => typed,
        None => {
            let text = match in_force {
                Some(version) => state
                    .store
                    .risk_document(crate::risk::RULES, crate::risk::RULES, Some(version))
                    .await?
                    .map(|d| d.body)
                    .unwrap_or_default(),
                None => String::new(),
            };
            (text, String::new(), String::new())
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let done = done
        .filter(|d| *d == "rules-saved")
        .map(|d| t.get(&format!("page-done-{d}")));
    let uri = Uri::from_static("/portal/risk/rules");
    let frame = Frame::signed_in(
        state,
        caller,
        session,
        headers,
        &uri,
        t.get("page-risk-rules"),
    )
    .with_errors(errors)
    .with_done(done);
    let html = render(&RulesPage {
        t,
        frame,
        text,
        comment,
        valid_from,
        problems,
        checked,
        versions,
        built_in: in_force.is_none(),
        zone,
        can_write: caller.role == crate::policy::Role::RiskAnalyst,
    })?;
    Ok((status, Html(html)).into_response())
}

/// `GET /portal/risk/rules`.
#[utoipa::path(
    get,
    path = "/portal/risk/rules",
    tag = "portal",
    summary = "The risk rule editor (page)",
    description = "The rule set in force today in an editor, the stored versions (newest first, the one in force marked), and the form that checks or saves a new version. Risk analysts write; auditors and administrators read.",
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn show_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    Query(query): Query<RulesQuery>,
) -> Result<Response, ApiError> {
    rules_page(
        &state,
        &caller,
        &session,
        &headers,
        None,
        Vec::new(),
        Vec::new(),
        None,
        query.done.as_deref(),
    )
    .await
}

/// `POST /portal/risk/rules`.
#[utoipa::path(
    post,
    path = "/portal/risk/rules",
    tag = "portal",
    summary = "Check or save a risk rule set (form)",
    description = "Form fields `text` (the rules), `comment`, `valid_from` (a date, today when empty), `action` (`check` or `save`), `csrf`; at most 512 KiB. As `POST /api/v1/risk/rules/check` and `POST /api/v1/risk/rules`: an error is shown at its line and column with the line quoted; a saved version is in force from its date and recorded in the audit trail.",
    request_body(content((String = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Checked: the page with the verdict", content((String = "text/html"))), (status = 303, description = "Saved: back to the editor"), (status = 403, description = "CSRF token missing or wrong", body = crate::error::ErrorBody), (status = 422, description = "The rules (or a date) are wrong: the page with each error at its line", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn submit_rules(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = posted_form(&headers, &session, &body, RULES_FORM_MAX)?;
    let t = state.wording(&headers).language;
    // A browser sends CRLF line ends from a textarea: the rules are kept with LF.
    let text = field(&fields, "text").replace("\r\n", "\n");
    let comment = field(&fields, "comment").trim().to_owned();
    let valid_from = field(&fields, "valid_from").trim().to_owned();
    let saving = field(&fields, "action") == "save";
    let mut json = serde_json::json!({ "text": text, "comment": comment });
    if !valid_from.is_empty() {
        json["valid_from"] = serde_json::json!(valid_from);
    }
    let request = Body::from(json.to_string());
    let outcome = if saving {
        crate::risk::save_rules(State(state.clone()), Extension(caller.clone()), request)
            .await
            .map(|_| None)
    } else {
        crate::risk::check(State(state.clone()), request)
            .await
            .map(|answer| answer.0["rules"].as_u64())
    };
    let typed = (text.clone(), comment, valid_from);
    match outcome {
        Ok(None) => Ok(Redirect::to("/portal/risk/rules?done=rules-saved").into_response()),
        Ok(Some(count)) => {
            let checked = t.with("page-rules-valid", "count", &count.to_string());
            rules_page(
                &state,
                &caller,
                &session,
                &headers,
                Some(typed),
                Vec::new(),
                Vec::new(),
                Some(checked),
                None,
            )
            .await
        }
        Err(error) => {
            let error = crate::portal_declarations::in_language(t, error);
            let lines: Vec<&str> = text.lines().collect();
            let mut errors = Vec::new();
            let mut problems = Vec::new();
            for problem in &error.errors {
                match place(&problem.pointer) {
                    Some((line, column)) => {
                        // The sentence after its "line L, column C:" (the rule language's own words).
                        let message = problem
                            .message
                            .split_once(": ")
                            .map_or(problem.message.as_str(), |(_, m)| m)
                            .to_owned();
                        let at = t.text(
                            "page-rules-error-at",
                            &[
                                ("line", &line.to_string()),
                                ("column", &column.to_string()),
                                ("message", &message),
                            ],
                        );
                        errors.push(FieldError {
                            field: "text".into(),
                            message: at.clone(),
                        });
                        problems.push(RuleProblem {
                            line,
                            column,
                            quoted: lines
                                .get(line.wrapping_sub(1))
                                .map(|l| l.chars().take(300).collect())
                                .unwrap_or_default(),
                            message: at,
                        });
                    }
                    None => errors.push(FieldError {
                        field: if problem.pointer.starts_with("/valid_from") {
                            "valid_from".into()
                        } else {
                            "text".into()
                        },
                        message: problem.message.clone(),
                    }),
                }
            }
            if errors.is_empty() {
                errors.push(FieldError {
                    field: "text".into(),
                    message: error.message.clone(),
                });
            }
            rules_page(
                &state,
                &caller,
                &session,
                &headers,
                Some(typed),
                errors,
                problems,
                None,
                None,
            )
            .await
        }
    }
}

/// A row of the hit-rate table.
struct HitRow {
    selector: String,
    description: String,
    lane: String,
    selected: u64,
    controlled: u64,
    irregular: u64,
    rate: String,
    duty: String,
    /// The bar's width in the chart (of 500), and its y.
    width: f64,
    y: f64,
}

#[derive(Template)]
#[template(path = "hit_rates.html")]
struct HitRatesPage {
    t: Language,
    frame: Frame,
    rows: Vec<HitRow>,
    models: Vec<(String, u64, u64, u64, u64, String, String, String, String)>,
    declarations: usize,
    truncated: bool,
    /// When the figures were computed, in the first office's time.
    as_of: String,
    from: String,
    to: String,
    csv: String,
    chart_height: f64,
}

#[derive(serde::Deserialize, Default)]
pub struct HitQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The period asked for, as dates (`YYYY-MM-DD`, to exclusive) and as the report's instants.
fn period(query: &HitQuery) -> (String, String, String, String) {
    let date = |d: &Option<String>| {
        d.as_deref()
            .map(str::trim)
            .filter(|d| {
                time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE).is_ok()
            })
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let (from, to) = (date(&query.from), date(&query.to));
    let from_at = if from.is_empty() {
        "0000-01-01T00:00:00.000000Z".to_owned()
    } else {
        format!("{from}T00:00:00.000000Z")
    };
    let to_at = if to.is_empty() {
        "9999-12-31T23:59:59.999999Z".to_owned()
    } else {
        format!("{to}T00:00:00.000000Z")
    };
    (from, to, from_at, to_at)
}

fn percent(rate: Option<Decimal>) -> String {
    rate.map_or_else(
        || "–".to_owned(),
        |r| format!("{} %", (r * Decimal::from(100)).round_dp(1).normalize()),
    )
}

/// `GET /portal/risk/hit-rates`.
#[utoipa::path(
    get,
    path = "/portal/risk/hit-rates",
    tag = "portal",
    summary = "Hit rates per rule and model (page)",
    description = "Over declarations lodged from `from` to `to` (dates; default all, at most 1,000,000 declarations): per rule (and the random selection) declarations selected, controlled, found irregular, the hit rate as a bar chart with the table beside, the additional duty found; per model version the same with the mean scores. As `GET /api/v1/reports/rule-hits`; the read is recorded in the audit trail. Officers, risk analysts, auditors, administrators.",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "The page", content((String = "text/html")))),
    security(("session" = []))
)]
pub async fn hit_rates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(session): Extension<PortalSession>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<HitQuery>,
) -> Result<Response, ApiError> {
    let t = state.wording(&headers).language;
    let (from, to, from_at, to_at) = period(&query);
    crate::access::record_export(
        &state,
        &caller,
        "report/rule-hits",
        uri.query().unwrap_or(""),
    )
    .await?;
    let ((report, declarations, truncated), computed_at) = crate::reports::published_hit_report(
        &state,
        &from_at,
        &to_at,
        state.config.published_every,
    )
    .await?;
    let pipeline = state.pipeline();
    let places = pipeline.administration.currency.decimal_places;
    let currency = pipeline.administration.currency.code.as_str().to_owned();
    let rows: Vec<HitRow> = report
        .selectors
        .iter()
        .enumerate()
        .map(|(n, s)| HitRow {
            selector: s.selector.clone(),
            description: s.description.clone(),
            lane: s.lane.clone(),
            selected: s.selected,
            controlled: s.controlled,
            irregular: s.irregular,
            rate: percent(s.hit_rate),
            duty: t.amount(s.additional_duty, places, &currency),
            width: s
                .hit_rate
                .and_then(|r| rust_decimal::prelude::ToPrimitive::to_f64(&r))
                .map_or(0.0, |r| (r.clamp(0.0, 1.0) * 500.0).round()),
            y: n as f64 * 34.0,
        })
        .collect();
    let models = report
        .models
        .iter()
        .map(|m| {
            (
                m.model.clone(),
                m.scored,
                m.selected,
                m.controlled,
                m.irregular,
                percent(m.hit_rate),
                t.amount(m.additional_duty, places, &currency),
                m.mean_score_irregular
                    .map_or_else(|| "–".to_owned(), |s| s.round_dp(3).to_string()),
                m.mean_score_regular
                    .map_or_else(|| "–".to_owned(), |s| s.round_dp(3).to_string()),
            )
        })
        .collect();
    let chart_height = (rows.len() as f64 * 34.0).max(34.0);
    let frame = Frame::signed_in(
        &state,
        &caller,
        &session,
        &headers,
        &uri,
        t.get("page-hit-rates"),
    );
    let csv = format!(
        "/portal/risk/hit-rates.csv?from={}&to={}",
        crate::frame::url_encode(&from),
        crate::frame::url_encode(&to)
    );
    let html = render(&HitRatesPage {
        t,
        frame,
        rows,
        models,
        declarations,
        truncated,
        as_of: {
            let (office, zone) = crate::portal::zone_of(&pipeline.administration);
            format!("{} ({zone})", local_time(&computed_at, office))
        },
        from,
        to,
        csv,
        chart_height,
    })?;
    Ok(Html(html).into_response())
}

/// `GET /portal/risk/hit-rates.csv`.
#[utoipa::path(
    get,
    path = "/portal/risk/hit-rates.csv",
    tag = "portal",
    summary = "Hit rates per rule (CSV)",
    description = "The page's table per rule as CSV (selector, description, lane, selected, controlled, irregular, hit rate, additional duty), cells quoted so that no spreadsheet reads a formula. The read is recorded in the audit trail.",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "The table", content((String = "text/csv")))),
    security(("session" = []))
)]
pub async fn hit_rates_csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    Query(query): Query<HitQuery>,
) -> Result<Response, ApiError> {
    let (_, _, from_at, to_at) = period(&query);
    crate::access::record_export(
        &state,
        &caller,
        "report/rule-hits",
        uri.query().unwrap_or(""),
    )
    .await?;
    let ((report, _, _), _) = crate::reports::published_hit_report(
        &state,
        &from_at,
        &to_at,
        state.config.published_every,
    )
    .await?;
    let mut out = String::from(
        "selector,description,lane,selected,controlled,irregular,hit_rate,additional_duty\r\n",
    );
    for s in &report.selectors {
        out.push_str(
            &[
                csv_field(&s.selector),
                csv_field(&s.description),
                csv_field(&s.lane),
                s.selected.to_string(),
                s.controlled.to_string(),
                s.irregular.to_string(),
                s.hit_rate
                    .map(|r| r.round_dp(4).to_string())
                    .unwrap_or_default(),
                s.additional_duty.to_string(),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"hit-rates.csv\""),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rules_pointer_gives_its_line_and_column() {
        assert_eq!(super::place("/text/line/3/column/14"), Some((3, 14)));
        assert_eq!(super::place("/valid_from"), None);
        assert_eq!(super::place("/text/line/x/column/1"), None);
    }

    #[test]
    fn rates_read_as_percentages() {
        use rust_decimal::Decimal;
        assert_eq!(super::percent(Some(Decimal::new(25, 2))), "25 %");
        assert_eq!(super::percent(Some(Decimal::new(1, 3))), "0.1 %");
        assert_eq!(super::percent(None), "–");
    }
}
