//! Risk management through the API (issue #5): rule sets with validity dates, named lists (watch lists and the
//! AEO register), the lane rate table, trained models and the analyst's choice of model. Every save is a new
//! version in `risk_documents` (append-only, audited); the pipeline in use is then rebuilt from the pipeline the
//! server started with plus the stored documents ([`load`]), and replaced whole, so that a lodgement decides
//! with one consistent set.

use crate::error::ApiError;
use crate::request::{parse_json, read_body};
use crate::{AppState, Caller};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use clearance::Pipeline;
use error_table::{ErrorCode, Problem};
use selectivity::rates::RateTable;
use selectivity::{Lists, RuleSet, RuleVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use storage::{NewRiskDocument, RiskDocument, Store};
use time::{Date, OffsetDateTime};

pub(crate) const RULES: &str = "rules";
pub(crate) const LIST: &str = "list";
const RATES: &str = "rates";
pub(crate) const MODEL: &str = "model";
const CHOICE: &str = "model_choice";
/// A partner agency's own selection rules (the Single Window), one document per agency.
pub(crate) const AGENCY_RULES: &str = "agency_rules";

/// Largest risk model accepted (the KCS model, 150 trees of depth 5 and its statistics tables, is 6.8 MB of JSON).
pub const MAX_MODEL_BYTES: usize = 64 * 1024 * 1024;
/// Longest entry of a list (an EORI is at most 17 characters; codes are shorter).
pub const MAX_LIST_ENTRY_CHARS: usize = 64;

fn date_of(text: &str) -> Result<Date, String> {
    Date::parse(text, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)."))
}

/// The pipeline in use: `base` (as the server started: its tariff, its rules file, its `--risk-model`) with the
/// stored rule sets, lists, rate table and model choice. A stored rule set that no longer parses is an error: the
/// server does not decide with rules missing.
pub async fn load(store: &Store, base: &Pipeline) -> Result<Pipeline, String> {
    let mut pipeline = base.clone();
    let fail = |e: storage::StoreError| e.to_string();
    let mut lists = Lists::default();
    for document in store.latest_risk_documents(LIST).await.map_err(fail)? {
        lists.insert(
            &document.name,
            document.body.lines().map(str::to_owned).collect::<Vec<_>>(),
        );
    }
    pipeline.lists = Arc::new(lists);
    let mut versions = Vec::new();
    for document in store.all_risk_documents(RULES).await.map_err(fail)? {
        let rules = RuleSet::parse(&document.body)
            .map_err(|e| format!("stored risk rules version {}: {e}", document.version))?;
        versions.push(RuleVersion {
            version: u32::try_from(document.version).unwrap_or(u32::MAX),
            author: document.author.clone(),
            valid_from: date_of(document.valid_from.as_deref().unwrap_or("1970-01-01"))?,
            valid_to: document.valid_to.as_deref().map(date_of).transpose()?,
            rules: Arc::new(rules),
        });
    }
    pipeline.rule_versions = versions;
    let mut agency_rules = Vec::new();
    for document in store
        .latest_risk_documents(AGENCY_RULES)
        .await
        .map_err(fail)?
    {
        if document.body.trim().is_empty() {
            continue;
        }
        let rules = RuleSet::parse(&document.body).map_err(|e| {
            format!(
                "stored selection rules of agency {} version {}: {e}",
                document.name, document.version
            )
        })?;
        agency_rules.push((document.name.clone(), rules));
    }
    pipeline.agency_rules = Arc::new(agency_rules);
    if let Some(document) = store
        .risk_document(RATES, RATES, None)
        .await
        .map_err(fail)?
    {
        pipeline.lane_rates = if document.body.trim().is_empty() {
            None
        } else {
            Some(
                RateTable::parse(&document.body)
                    .map_err(|e| format!("stored lane rates version {}: {e}", document.version))?,
            )
        };
    }
    if let Some(choice) = store
        .risk_document(CHOICE, MODEL, None)
        .await
        .map_err(fail)?
    {
        pipeline.risk_model = match serde_json::from_str::<Choice>(&choice.body) {
            Ok(Choice {
                name: Some(name),
                version: Some(version),
            }) => {
                let document = store
                    .risk_document(MODEL, &name, Some(version))
                    .await
                    .map_err(fail)?
                    .ok_or_else(|| {
                        format!("the chosen risk model {name} v{version} is not stored")
                    })?;
                let model = risk_model::Model::from_json(&document.body)
                    .map_err(|e| format!("stored risk model {name} v{version}: {e}"))?;
                Some(clearance::RiskModel {
                    name: format!("{name} v{version}"),
                    model: Arc::new(model),
                })
            }
            _ => None,
        };
    }
    Ok(pipeline)
}

/// Rebuilds today's rate controller counts from the lane assignments recorded since midnight UTC.
pub async fn rebuild_rate_book(state: &AppState, now: OffsetDateTime) -> Result<usize, String> {
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    let events = state
        .store
        .lane_assignments_since(&storage::format_time(midnight))
        .await
        .map_err(|e| e.to_string())?;
    let mut book = state
        .rate_book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut counted = 0;
    for event in events {
        if let workflow::EventKind::LaneAssigned {
            lane,
            basis: workflow::SelectionBasis {
                rate: Some(rate), ..
            },
            ..
        } = event
            && let Some(counts) = book.state(now.date(), &rate.population)
        {
            counts.record(rate.rule_lane, lane);
            counted += 1;
        }
    }
    Ok(counted)
}

/// Serializes reloads, so that the last one to finish saw every save before it.
pub(crate) static RELOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn reload(state: &AppState) -> Result<(), ApiError> {
    let _guard = RELOAD.lock().await;
    let pipeline = load(&state.store, &state.base())
        .await
        .map_err(ApiError::internal)?;
    state.set_pipeline(pipeline);
    Ok(())
}

/// Saves an agency's selection rules (checked as risk rules are) as the next version, and puts them in use.
pub(crate) async fn save_agency_rules(
    state: &AppState,
    caller: &Caller,
    agency: &str,
    text: String,
    comment: String,
) -> Result<(RiskDocument, usize), ApiError> {
    let count = if text.trim().is_empty() {
        0
    } else {
        check_rules(state, &text)?.len()
    };
    let saved = save(
        state,
        caller,
        AGENCY_RULES,
        agency,
        text,
        comment,
        (None, None),
    )
    .await?;
    reload(state).await?;
    Ok((saved, count))
}

/// Saves the next version of (`kind`, `name`) as `caller`, with its audit entry.
async fn save(
    state: &AppState,
    caller: &Caller,
    kind: &str,
    name: &str,
    body: String,
    comment: String,
    (valid_from, valid_to): (Option<String>, Option<String>),
) -> Result<RiskDocument, ApiError> {
    Ok(state
        .store
        .save_risk_document(
            &crate::access::audit_actor(caller),
            NewRiskDocument {
                kind: kind.into(),
                name: name.into(),
                body,
                comment,
                valid_from,
                valid_to,
            },
            OffsetDateTime::now_utc(),
        )
        .await?)
}

fn invalid(code: ErrorCode, pointer: &str, message: impl Into<String>) -> ApiError {
    ApiError::problems(vec![Problem::with_message(code, pointer, message.into())])
}

fn meta(document: &RiskDocument) -> Value {
    json!({
        "version": document.version,
        "sha256": document.sha256,
        "author": document.author,
        "comment": document.comment,
        "valid_from": document.valid_from,
        "valid_to": document.valid_to,
        "created_at": document.created_at,
    })
}

// ----- rule sets --------------------------------------------------------------------------------------------

/// A rule set in the rule language (docs/risk-rules.md).
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// The rules, one per line.
    text: String,
    /// In force from (RFC 3339); now when absent.
    #[serde(default)]
    valid_from: Option<String>,
    /// In force until (RFC 3339); open-ended when absent.
    #[serde(default)]
    valid_to: Option<String>,
    /// Why this version, for the audit trail.
    #[serde(default)]
    comment: String,
}

/// Parses `text` and checks the lists it names against the lists kept: the rule set, or the error at its line
/// and column.
fn check_rules(state: &AppState, text: &str) -> Result<RuleSet, ApiError> {
    let rules = RuleSet::parse(text)
        .and_then(|rules| rules.check_lists(&state.pipeline().lists).map(|()| rules))
        .map_err(|e| {
            ApiError::problems(vec![Problem::with_message(
                ErrorCode::RiskRulesInvalid,
                format!("/text/line/{}/column/{}", e.line, e.column),
                e.to_string(),
            )])
        })?;
    Ok(rules)
}

/// `POST /api/v1/risk/rules/check`: the verdict on a rule set, without saving it.
#[utoipa::path(
    post,
    path = "/api/v1/risk/rules/check",
    tag = "risk",
    summary = "Check a rule set without saving it",
    description = "The same checks as saving. Risk analysts; scope `risk`.",
    request_body(content((crate::risk::RulesBody = "application/json"))),
    responses((status = 200, description = "Valid: the number of rules and the lists they name", body = serde_json::Value), (status = 422, description = "Invalid rules (risk.rules_invalid)", body = crate::error::ErrorBody), (status = 403, description = "Not a risk analyst", body = crate::error::ErrorBody))
)]
pub async fn check(State(state): State<AppState>, body: Body) -> Result<Json<Value>, ApiError> {
    let body: RulesBody = parse_json(&read_body(&state, body).await?)?;
    let rules = check_rules(&state, &body.text)?;
    Ok(Json(json!({
        "valid": true,
        "rules": rules.len(),
        "lists": rules.list_names(),
    })))
}

/// `POST /api/v1/risk/rules`: saves a rule set as the next version, in force from `valid_from` (today when
/// absent, never in the past) to `valid_to` (open when absent).
#[utoipa::path(
    post,
    path = "/api/v1/risk/rules",
    tag = "risk",
    summary = "Save a risk rule set as the next version",
    description = "Checked before it is stored: a syntax error or a list that does not exist is refused (422 `risk.rules_invalid`) with the pointer `/text/line/L/column/C` and a sentence starting `line L, column C:`. In force from `valid_from` (inclusive) to `valid_to` (inclusive); on any day the highest version in force decides. Recorded in the audit trail. Risk analysts; scope `risk`.",
    request_body(content((crate::risk::RulesBody = "application/json"))),
    responses((status = 201, description = "Stored: version, sha256, rules, in_force_today", body = serde_json::Value), (status = 422, description = "Invalid rules (risk.rules_invalid) or dates (request.invalid)", body = crate::error::ErrorBody), (status = 403, description = "Not a risk analyst", body = crate::error::ErrorBody))
)]
pub async fn save_rules(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Body,
) -> Result<Response, ApiError> {
    let body: RulesBody = parse_json(&read_body(&state, body).await?)?;
    let rules = check_rules(&state, &body.text)?;
    let today = OffsetDateTime::now_utc().date();
    let valid_from = match &body.valid_from {
        Some(text) => {
            date_of(text).map_err(|m| invalid(ErrorCode::InvalidRequest, "/valid_from", m))?
        }
        None => today,
    };
    if valid_from < today {
        return Err(invalid(
            ErrorCode::InvalidRequest,
            "/valid_from",
            format!(
                "A rule set cannot take effect in the past ({valid_from}); decisions already taken stay as they \
                 were. Use today ({today}) or a later date."
            ),
        ));
    }
    let valid_to = body
        .valid_to
        .as_deref()
        .map(date_of)
        .transpose()
        .map_err(|m| invalid(ErrorCode::InvalidRequest, "/valid_to", m))?;
    if valid_to.is_some_and(|to| to < valid_from) {
        return Err(invalid(
            ErrorCode::InvalidRequest,
            "/valid_to",
            "valid_to is before valid_from.",
        ));
    }
    let saved = save(
        &state,
        &caller,
        RULES,
        RULES,
        body.text,
        body.comment,
        (
            Some(valid_from.to_string()),
            valid_to.map(|d| d.to_string()),
        ),
    )
    .await?;
    reload(&state).await?;
    let in_force = state.pipeline().rules_for(today).1;
    let mut answer = meta(&saved);
    answer["rules"] = json!(rules.len());
    answer["in_force_today"] = json!(in_force == u32::try_from(saved.version).ok());
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /api/v1/risk/rules`: every stored version (newest first) and the one in force today.
#[utoipa::path(
    get,
    path = "/api/v1/risk/rules",
    tag = "risk",
    summary = "Stored risk rule sets",
    description = "Every stored version (newest first, without text) and the version in force today (`in_force`; null when the rules the server started with decide). Risk analysts read and write; auditors and administrators read. Scope `risk`.",
    responses((status = 200, description = "The versions", body = serde_json::Value), (status = 403, description = "Not a risk role", body = crate::error::ErrorBody))
)]
pub async fn list_rules(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let versions = state.store.risk_documents(RULES, Some(RULES)).await?;
    let (rules, in_force) = {
        let pipeline = state.pipeline();
        let (rules, version) = pipeline.rules_for(OffsetDateTime::now_utc().date());
        (rules.len(), version)
    };
    Ok(Json(json!({
        "in_force": in_force,
        "in_force_rules": rules,
        "built_in_in_force": in_force.is_none(),
        "versions": versions.iter().map(meta).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/risk/rules/{version}`: one version with its text.
#[utoipa::path(
    get,
    path = "/api/v1/risk/rules/{version}",
    tag = "risk",
    summary = "One stored rule set with its text",
    description = "Risk analysts read and write; auditors and administrators read. Scope `risk`.",
    params(("version" = i64, Path)),
    responses((status = 200, description = "The version and its text", body = serde_json::Value), (status = 404, description = "No such version", body = crate::error::ErrorBody), (status = 403, description = "Not a risk role", body = crate::error::ErrorBody))
)]
pub async fn show_rules(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let version: i64 = version
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let document = state
        .store
        .risk_document(RULES, RULES, Some(version))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let mut answer = meta(&document);
    answer["text"] = json!(document.body);
    Ok(Json(answer))
}

// ----- lists ------------------------------------------------------------------------------------------------

/// A list the rules name (watch lists, trusted traders, …): the whole list, as its next version.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListBody {
    /// The entries: party identifiers, commodity codes, countries, as the rules compare them.
    entries: Vec<String>,
    /// Why this version, for the audit trail.
    #[serde(default)]
    comment: String,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// `PUT /api/v1/risk/lists/{name}`: the list's whole new content, as the next version. The list `aeo` is the
/// register of authorised economic operators (the `aeo` fact and the AEO lane rates).
#[utoipa::path(
    put,
    path = "/api/v1/risk/lists/{name}",
    tag = "risk",
    summary = "Replace a list's entries (the next version)",
    description = "Entries are trimmed, deduplicated and sorted; one empty, longer than 64 characters or holding a control character refuses the whole list (422 `risk.list_invalid`, pointer `/entries/i`). The list `aeo` is the register of authorised economic operators: a declaration whose declarant or importer is on it is `aeo` for the rules and the lane rates. Risk analysts; scope `risk`.",
    params(("name" = String, Path)),
    request_body(content((crate::risk::ListBody = "application/json"))),
    responses((status = 200, description = "Stored: version and number of entries", body = serde_json::Value), (status = 422, description = "Invalid list (risk.list_invalid)", body = crate::error::ErrorBody), (status = 403, description = "Not a risk analyst", body = crate::error::ErrorBody))
)]
pub async fn save_list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    if !valid_name(&name) {
        return Err(invalid(
            ErrorCode::RiskListInvalid,
            "",
            "A list's name is 1 to 64 letters, digits, '_', '-' or '.'.",
        ));
    }
    let body: ListBody = parse_json(&read_body(&state, body).await?)?;
    if body.entries.len() > selectivity::MAX_LIST_ENTRIES {
        return Err(invalid(
            ErrorCode::RiskListInvalid,
            "/entries",
            format!(
                "A list holds at most {} entries.",
                selectivity::MAX_LIST_ENTRIES
            ),
        ));
    }
    let mut entries = Vec::with_capacity(body.entries.len());
    for (index, entry) in body.entries.iter().enumerate() {
        let entry = entry.trim();
        if entry.is_empty()
            || entry.chars().count() > MAX_LIST_ENTRY_CHARS
            || entry.chars().any(char::is_control)
        {
            return Err(invalid(
                ErrorCode::RiskListInvalid,
                &format!("/entries/{index}"),
                format!(
                    "Entry {} is empty, longer than {MAX_LIST_ENTRY_CHARS} characters or holds a control \
                     character.",
                    index + 1
                ),
            ));
        }
        entries.push(entry.to_owned());
    }
    entries.sort_unstable();
    entries.dedup();
    let known = state.pipeline().lists.len();
    if !state.pipeline().lists.contains_list(&name) && known >= selectivity::MAX_LISTS {
        return Err(invalid(
            ErrorCode::RiskListInvalid,
            "",
            format!("At most {} lists may be kept.", selectivity::MAX_LISTS),
        ));
    }
    let saved = save(
        &state,
        &caller,
        LIST,
        &name,
        entries.join("\n"),
        body.comment,
        (None, None),
    )
    .await?;
    reload(&state).await?;
    let mut answer = meta(&saved);
    answer["name"] = json!(name);
    answer["entries"] = json!(entries.len());
    Ok(Json(answer))
}

/// `GET /api/v1/risk/lists`: the lists kept, newest version of each, with their sizes.
#[utoipa::path(
    get,
    path = "/api/v1/risk/lists",
    tag = "risk",
    summary = "Named lists (watch lists, the AEO register)",
    description = "The newest version of each list, with its number of entries. Risk analysts read and write; auditors and administrators read. Scope `risk`.",
    responses((status = 200, description = "The lists", body = serde_json::Value), (status = 403, description = "Not a risk role", body = crate::error::ErrorBody))
)]
pub async fn list_lists(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let lists = state.store.latest_risk_documents(LIST).await?;
    Ok(Json(json!({
        "lists": lists.iter().map(|d| {
            let mut row = meta(d);
            row["name"] = json!(d.name);
            row["entries"] = json!(d.body.lines().count());
            row
        }).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/risk/lists/{name}`: the newest version of a list with its entries.
#[utoipa::path(
    get,
    path = "/api/v1/risk/lists/{name}",
    tag = "risk",
    summary = "A list's entries",
    description = "Risk analysts read and write; auditors and administrators read. Scope `risk`.",
    params(("name" = String, Path)),
    responses((status = 200, description = "The newest version with its entries", body = serde_json::Value), (status = 404, description = "No such list", body = crate::error::ErrorBody), (status = 403, description = "Not a risk role", body = crate::error::ErrorBody))
)]
pub async fn show_list(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !valid_name(&name) {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let document = state
        .store
        .risk_document(LIST, &name, None)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let mut answer = meta(&document);
    answer["name"] = json!(name);
    answer["entries"] = json!(document.body.lines().collect::<Vec<_>>());
    Ok(Json(answer))
}

// ----- lane rates -------------------------------------------------------------------------------------------

/// The controlled lane rates per office and regime.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatesBody {
    /// The rate table (CSV: office,regime,red,yellow,blue,aeo_percent; docs/risk-rules.md); empty turns the
    /// controlled rates off.
    csv: String,
    /// Why this version, for the audit trail.
    #[serde(default)]
    comment: String,
}

/// `PUT /api/v1/risk/rates`: the rate table (CSV, docs/risk-rules.md), as the next version; an empty `csv` turns
/// the controlled rates off.
#[utoipa::path(
    put,
    path = "/api/v1/risk/rates",
    tag = "risk",
    summary = "Set the lane rate table (the next version)",
    description = "Declarations the rules leave green are topped up into the lanes short of their expected share (red > yellow > blue); AEOs at `aeo_percent` of the shares. Errors name the line and column (422 `risk.rates_invalid`). An empty `csv` turns controlled rates off. Risk analysts; scope `risk`.",
    request_body(content((crate::risk::RatesBody = "application/json"))),
    responses((status = 200, description = "Stored", body = serde_json::Value), (status = 422, description = "Invalid table (risk.rates_invalid)", body = crate::error::ErrorBody), (status = 403, description = "Not a risk analyst", body = crate::error::ErrorBody))
)]
pub async fn save_rates(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body: RatesBody = parse_json(&read_body(&state, body).await?)?;
    if !body.csv.trim().is_empty() {
        RateTable::parse(&body.csv).map_err(|e| invalid(ErrorCode::RiskRatesInvalid, "/csv", e))?;
    }
    let saved = save(
        &state,
        &caller,
        RATES,
        RATES,
        body.csv,
        body.comment,
        (None, None),
    )
    .await?;
    reload(&state).await?;
    let mut answer = meta(&saved);
    answer["in_force"] = json!(state.pipeline().lane_rates.is_some());
    Ok(Json(answer))
}

/// `GET /api/v1/risk/rates`: the table in force and today's counts per population, with the shares observed.
#[utoipa::path(
    get,
    path = "/api/v1/risk/rates",
    tag = "risk",
    summary = "Lane rates in force and today's counts",
    description = "The rate table (CSV) in force, and per population (office/regime/aeo|other) today's declarations, those the rules left green, and the counts and shares per control lane. Risk analysts read and write; auditors and administrators read. Scope `risk`.",
    responses((status = 200, description = "The table and today's counts", body = serde_json::Value), (status = 403, description = "Not a risk role", body = crate::error::ErrorBody))
)]
pub async fn show_rates(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let document = state.store.risk_document(RATES, RATES, None).await?;
    let today: Vec<Value> = {
        let book = state
            .rate_book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        book.states()
            .map(|(population, counts)| {
                let share = |n: u64| {
                    (counts.seen > 0).then(|| {
                        (rust_decimal::Decimal::from(n) * rust_decimal::Decimal::ONE_HUNDRED
                            / rust_decimal::Decimal::from(counts.seen))
                        .round_dp(2)
                        .to_string()
                    })
                };
                json!({
                    "population": population,
                    "seen": counts.seen,
                    "left_green_by_rules": counts.rule_green,
                    "red": counts.selected[0],
                    "yellow": counts.selected[1],
                    "blue": counts.selected[2],
                    "red_percent": share(counts.selected[0]),
                    "yellow_percent": share(counts.selected[1]),
                    "blue_percent": share(counts.selected[2]),
                })
            })
            .collect()
    };
    Ok(Json(json!({
        "in_force": state.pipeline().lane_rates.is_some(),
        "version": document.as_ref().map(|d| d.version),
        "csv": document.as_ref().map(|d| d.body.clone()),
        "author": document.as_ref().map(|d| d.author.clone()),
        "created_at": document.as_ref().map(|d| d.created_at.clone()),
        "today": today,
    })))
}

// ----- models -----------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelQuery {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) comment: String,
}

/// `POST /api/v1/risk/models?name=NAME`: stores a model trained by `aduana risk train` (its JSON file is the
/// body) as the next version of NAME. It is used once chosen (`PUT /api/v1/risk/model-choice`).
#[utoipa::path(
    post,
    path = "/api/v1/risk/models",
    tag = "risk",
    summary = "Store a trained risk model (the next version of its name)",
    description = "The body is the JSON file written by `aduana risk train --out` (at most 64 MiB); it is read before it is stored (422 `risk.model_invalid`). Stored models are used once chosen. Risk analysts; scope `risk`.",
    params(("name" = String, Query), ("comment" = Option<String>, Query)),
    request_body(content((serde_json::Value = "application/json"))),
    responses((status = 201, description = "Stored: name, version, sha256", body = serde_json::Value), (status = 422, description = "Not a model (risk.model_invalid)", body = crate::error::ErrorBody), (status = 413, description = "Too large (request.too_large)", body = crate::error::ErrorBody), (status = 403, description = "Not a risk analyst", body = crate::error::ErrorBody))
)]
pub async fn save_model(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    query: Result<Query<ModelQuery>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::with_message(ErrorCode::InvalidQuery, e.body_text()))?;
    if !valid_name(&query.name) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            "A model's name is 1 to 64 letters, digits, '_', '-' or '.'.",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_MODEL_BYTES)
        .await
        .map_err(|_| {
            ApiError::with_message(
                ErrorCode::BodyTooLarge,
                format!("A risk model may be at most {MAX_MODEL_BYTES} bytes."),
            )
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::new(ErrorCode::NotUtf8))?;
    let model = risk_model::Model::from_json(text)
        .map_err(|e| invalid(ErrorCode::RiskModelInvalid, "", e.to_string()))?;
    drop(model);
    let saved = save(
        &state,
        &caller,
        MODEL,
        &query.name,
        text.to_owned(),
        query.comment,
        (None, None),
    )
    .await?;
    let mut answer = meta(&saved);
    answer["name"] = json!(query.name);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The learned model the lane decisions use.
#[derive(Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ModelChoice)]
pub struct Choice {
    /// The model's name; none to decide without a model.
    name: Option<String>,
    /// The model's version; its newest when absent.
    version: Option<i64>,
}

/// `PUT /api/v1/risk/model-choice`: `{"name": NAME, "version": N}` puts that model in use for the lane decisions
/// from now on; `{"name": null}` decides without a model.
#[utoipa::path(
    put,
    path = "/api/v1/risk/model-choice",
    tag = "risk",
    summary = "Choose the risk model used in lane decisions",
    description = "From now on every lane decision is scored by this model (its name and version are recorded with each decision and in the hit-rate report); `{\"name\": null}` decides without a model. Recorded in the audit trail. Risk analysts; scope `risk`.",
    request_body(content((crate::risk::Choice = "application/json"))),
    responses((status = 200, description = "The model in use", body = serde_json::Value), (status = 422, description = "No such stored model", body = crate::error::ErrorBody), (status = 403, description = "Not a risk analyst", body = crate::error::ErrorBody))
)]
pub async fn choose_model(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let choice: Choice = parse_json(&read_body(&state, body).await?)?;
    let choice = match (choice.name, choice.version) {
        (None, _) => Choice::default(),
        (Some(name), version) => {
            let stored = state
                .store
                .risk_document(MODEL, &name, version)
                .await?
                .ok_or_else(|| {
                    invalid(
                        ErrorCode::InvalidRequest,
                        "/name",
                        format!(
                            "There is no stored model {name}{}.",
                            version.map(|v| format!(" v{v}")).unwrap_or_default()
                        ),
                    )
                })?;
            Choice {
                name: Some(name),
                version: Some(stored.version),
            }
        }
    };
    save(
        &state,
        &caller,
        CHOICE,
        MODEL,
        serde_json::to_string(&choice).map_err(ApiError::internal)?,
        String::new(),
        (None, None),
    )
    .await?;
    reload(&state).await?;
    Ok(Json(json!({
        "in_use": state.pipeline().risk_model.as_ref().map(|m| m.name.clone()),
    })))
}

/// `GET /api/v1/risk/models`: the stored models (every version) and the one in use.
#[utoipa::path(
    get,
    path = "/api/v1/risk/models",
    tag = "risk",
    summary = "Stored risk models and the one in use",
    description = "Risk analysts read and write; auditors and administrators read. Scope `risk`.",
    responses((status = 200, description = "The models", body = serde_json::Value), (status = 403, description = "Not a risk role", body = crate::error::ErrorBody))
)]
pub async fn list_models(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let models = state.store.risk_documents(MODEL, None).await?;
    Ok(Json(json!({
        "in_use": state.pipeline().risk_model.as_ref().map(|m| m.name.clone()),
        "models": models.iter().map(|d| {
            let mut row = meta(d);
            row["name"] = json!(d.name);
            row
        }).collect::<Vec<_>>(),
    })))
}
