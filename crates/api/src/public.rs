//! The public tariff, no login (TFA Art. 1: publish the tariff): look up a code, search descriptions, and the
//! e-duty calculator, as JSON and as a page. The calculator runs the pipeline's own assessment.

use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use error_table::{ErrorCode, Problem};
use serde::Serialize;
use std::collections::HashMap;
use tariff::calculator::{DutyCalculationRequest, MoneyInput, QuantityInput};
use tariff::{CodeError, DutyCalculation, Measure};
use time::Date;

/// Most search results one request may ask for.
pub const MAX_SEARCH_RESULTS: usize = 100;
/// Longest search text.
pub const MAX_QUERY_CHARS: usize = 200;

type Params = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

fn params(query: Params) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(q)| q).map_err(|_| {
        ApiError::with_message(ErrorCode::InvalidQuery, "The query string cannot be read.")
    })
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn query_problem(parameter: &str, message: String) -> ApiError {
    ApiError::problems(vec![Problem::with_message(
        ErrorCode::InvalidQuery,
        format!("?{parameter}"),
        message,
    )])
}

fn date_param(params: &HashMap<String, String>) -> Result<Date, ApiError> {
    match params
        .get("date")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        None => Ok(today()),
        Some(text) => Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| {
            query_problem(
                "date",
                format!("{text:?} is not a date written YYYY-MM-DD."),
            )
        }),
    }
}

/// A code of the nomenclature.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CodeView {
    pub code: String,
    pub description: String,
    pub level: u8,
}

/// A measure of the tariff: a rate, a specific amount, both, or a relief, and when it applies.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Measure)]
pub struct MeasureView {
    pub tax_type: String,
    pub kind: tariff::MeasureKind,
    pub commodity_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_percent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<String>,
    pub base: tariff::Base,
    /// The origins the measure is limited to (a group when several); absent for every origin.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    /// How the amount is rounded; absent: as the administration rounds its currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounding: Option<tariff::measures::Rounding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preference_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<tariff::Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// The measure in words, as explanations name it.
    pub description: String,
}

impl From<&Measure> for MeasureView {
    fn from(m: &Measure) -> Self {
        let text = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string());
        MeasureView {
            tax_type: m.tax_type.clone(),
            kind: m.kind,
            commodity_code: m.commodity_prefix.clone(),
            rate_percent: text(m.rate_percent),
            amount: text(m.amount),
            currency: m.currency.as_ref().map(|c| c.to_string()),
            unit: m.unit.clone(),
            minimum: text(m.minimum),
            maximum: text(m.maximum),
            base: m.base,
            origins: m.origins.iter().map(|c| c.to_string()).collect(),
            rounding: m.rounding,
            preference_code: m.preference_code.clone(),
            conditions: m.conditions.clone(),
            valid_from: m.valid_from.map(|d| d.to_string()),
            valid_to: m.valid_to.map(|d| d.to_string()),
            description: m.describe(),
        }
    }
}

/// A code of the public tariff as of a date.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TariffCode)]
pub struct Lookup {
    pub code: String,
    pub date: String,
    /// The description of the code, or of the nearest code above it the nomenclature knows.
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Chapter, heading, subheading … down to the code.
    pub hierarchy: Vec<CodeView>,
    /// Subdivisions in force; a code with subdivisions cannot be declared.
    pub subdivisions: Vec<CodeView>,
    /// Whether the code may be declared on the date (when the administration has imported its nomenclature;
    /// `null` when only the demo nomenclature describes codes).
    pub declarable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declarable_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Measures in force on the date, for the origin when one is given (the general ones and that origin's),
    /// otherwise all of them, preferential lines included.
    pub measures: Vec<MeasureView>,
}

fn view(node: &tariff::Node) -> CodeView {
    CodeView {
        code: node.code.clone(),
        description: node.description.clone(),
        level: node.level,
    }
}

/// Looks a code up; `None` when neither the nomenclature nor the tariff knows anything of it.
pub fn lookup(state: &AppState, code: &str, date: Date, origin: Option<&str>) -> Option<Lookup> {
    let pipeline = &state.pipeline();
    let nomenclature = &pipeline.nomenclature;
    let nearest = (2..=code.len())
        .rev()
        .filter_map(|len| code.get(..len))
        .find_map(|prefix| nomenclature.get(prefix, date));
    let hierarchy: Vec<CodeView> = nearest
        .map(|n| {
            nomenclature
                .hierarchy(&n.code, date)
                .into_iter()
                .map(view)
                .collect()
        })
        .unwrap_or_default();
    let subdivisions: Vec<CodeView> = match nearest {
        Some(node) if node.code == code => nomenclature
            .children(code, date)
            .into_iter()
            .map(view)
            .collect(),
        _ => Vec::new(),
    };
    let measures: Vec<MeasureView> = pipeline
        .tariff
        .matching(code)
        .filter(|m| m.in_force(date))
        .filter(|m| match origin {
            Some(origin) => m.origins.is_empty() || m.origins.iter().any(|o| o.as_str() == origin),
            None => true,
        })
        .map(MeasureView::from)
        .collect();
    if nearest.is_none() && measures.iter().all(|m| m.commodity_code.is_empty()) {
        return None;
    }
    let (declarable, declarable_reason) = if pipeline.check_codes {
        match nomenclature.check(code, date) {
            Ok(_) => (Some(true), None),
            Err(error) => (Some(false), Some(error.sentence(code, date))),
        }
    } else {
        (None, None)
    };
    Some(Lookup {
        code: code.to_owned(),
        date: date.to_string(),
        description: nearest.map(|n| n.description.clone()),
        section: nearest.and_then(|n| n.section.clone()),
        hierarchy,
        subdivisions,
        declarable,
        declarable_reason,
        origin: origin.map(str::to_owned),
        measures,
    })
}

fn code_param(code: &str) -> Result<String, ApiError> {
    let code = code.trim();
    if (2..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err(ApiError::problems(vec![Problem::with_message(
            ErrorCode::InvalidCommodityCode,
            "/code",
            format!("{code:?} is not a commodity code: write 2 to 10 digits."),
        )]))
    }
}

fn origin_param(params: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    match params
        .get("origin")
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
    {
        None => Ok(None),
        Some(text) => declaration::Country::parse(text)
            .map(|c| Some(c.to_string()))
            .map_err(|_| {
                query_problem(
                    "origin",
                    format!("{text:?} is not a country code such as CN."),
                )
            }),
    }
}

/// `GET /api/v1/tariff/{code}`.
#[utoipa::path(
    get,
    path = "/api/v1/tariff/{code}",
    tag = "public",
    summary = "A commodity code of the public tariff",
    description = "Description, hierarchy (chapter to code), subdivisions, whether it may be declared, and the measures in force on the date — for the origin when given (general and that origin's measures), otherwise all, preferential lines included. No login.",
    params(("code" = String, Path), ("origin" = Option<String>, Query), ("date" = Option<String>, Query, description = "The date of the tariff (YYYY-MM-DD); today (UTC) when absent.")),
    responses((status = 200, description = "The code", body = crate::public::Lookup), (status = 400, description = "Bad query parameter", body = crate::error::ErrorBody), (status = 404, description = "Neither the nomenclature nor the tariff knows the code", body = crate::error::ErrorBody), (status = 422, description = "Not a commodity code (declaration.invalid_commodity_code)", body = crate::error::ErrorBody))
)]
pub async fn tariff_code(
    State(state): State<AppState>,
    Path(code): Path<String>,
    query: Params,
) -> Result<axum::Json<Lookup>, ApiError> {
    let params = params(query)?;
    let code = code_param(&code)?;
    let date = date_param(&params)?;
    let origin = origin_param(&params)?;
    lookup(&state, &code, date, origin.as_deref())
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::NotFound,
                format!("The tariff has no code {code} on {date}."),
            )
        })
}

/// Codes whose description matches a search.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TariffSearch)]
pub struct SearchAnswer {
    pub query: String,
    pub date: String,
    pub results: Vec<CodeView>,
}

fn search(state: &AppState, q: &str, date: Date, limit: usize) -> Vec<CodeView> {
    state
        .pipeline()
        .nomenclature
        .search(q, date, limit)
        .into_iter()
        .map(view)
        .collect()
}

/// `GET /api/v1/tariff?q=…`.
#[utoipa::path(
    get,
    path = "/api/v1/tariff",
    tag = "public",
    summary = "Search the nomenclature",
    description = "Codes in force whose description holds every word of `q` (case-insensitive), or whose code begins with `q` when it is digits; broader codes first. No login.",
    params(("q" = String, Query), ("limit" = Option<i64>, Query), ("date" = Option<String>, Query, description = "The date of the tariff (YYYY-MM-DD); today (UTC) when absent.")),
    responses((status = 200, description = "The codes found", body = crate::public::SearchAnswer), (status = 400, description = "Missing or bad query parameter (request.invalid_query)", body = crate::error::ErrorBody))
)]
pub async fn tariff_search(
    State(state): State<AppState>,
    query: Params,
) -> Result<axum::Json<SearchAnswer>, ApiError> {
    let params = params(query)?;
    let q = params.get("q").map(|q| q.trim()).unwrap_or_default();
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
        return Err(query_problem(
            "q",
            format!(
                "Give the words or the start of the code to search for (at most {MAX_QUERY_CHARS} characters)."
            ),
        ));
    }
    let limit = match params.get("limit") {
        None => 20,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_SEARCH_RESULTS).contains(&n) => n,
            _ => {
                return Err(query_problem(
                    "limit",
                    format!("limit must be a number from 1 to {MAX_SEARCH_RESULTS}."),
                ));
            }
        },
    };
    let date = date_param(&params)?;
    Ok(axum::Json(SearchAnswer {
        query: q.to_owned(),
        date: date.to_string(),
        results: search(&state, q, date, limit),
    }))
}

/// Runs a calculation with the pipeline's tariff, checking the code when the nomenclature is imported.
pub fn calculate(
    state: &AppState,
    request: &DutyCalculationRequest,
) -> Result<DutyCalculation, Vec<Problem>> {
    let pipeline = &state.pipeline();
    if pipeline.check_codes {
        let (_, date) = tariff::calculator::declaration_for(request, today())?;
        let code = request.commodity_code.trim();
        if let Err(error) = pipeline.nomenclature.check(code, date) {
            let code_of_error = match error {
                CodeError::Unknown { .. } => ErrorCode::CommodityCodeUnknown,
                CodeError::NotLeaf { .. } => ErrorCode::CommodityCodeNotLeaf,
                CodeError::NotInForce { .. } => ErrorCode::CommodityCodeNotInForce,
            };
            return Err(vec![Problem::with_message(
                code_of_error,
                "/commodity_code",
                error.sentence(code, date),
            )]);
        }
    }
    tariff::calculate(
        request,
        &pipeline.tariff,
        &pipeline.rates,
        &pipeline.tax_regime(),
        pipeline.date_at_office(None, time::OffsetDateTime::now_utc()),
    )
}

/// `POST /api/v1/duty-calculations`.
#[utoipa::path(
    post,
    path = "/api/v1/duty-calculations",
    tag = "public",
    summary = "The e-duty calculator",
    description = "What would be due on one goods item: the same assessment the clearance pipeline runs, on a one-item import declaration built from the request. Nothing is stored. No login.",
    request_body(content((tariff::DutyCalculationRequest = "application/json"))),
    responses((status = 200, description = "Taxes with their explanations", body = tariff::DutyCalculation), (status = 413, description = "Body too large", body = crate::error::ErrorBody), (status = 422, description = "A field is invalid (pointer names it), the code is not declarable, or a quantity the tariff needs is missing", body = crate::error::ErrorBody))
)]
pub async fn duty_calculation(
    State(state): State<AppState>,
    body: Body,
) -> Result<axum::Json<DutyCalculation>, ApiError> {
    let bytes = crate::request::read_body(&state, body).await?;
    let request: DutyCalculationRequest = crate::request::parse_json(&bytes)?;
    calculate(&state, &request)
        .map(axum::Json)
        .map_err(ApiError::problems)
}

// ----- the page ---------------------------------------------------------------------------------------------

/// Units offered by the page, with their names.
/// The units the calculator offers, with their names' ids in the catalogues.
const UNITS: &[(&str, &str)] = &[
    ("KGM", "page-calc-unit-kgm"),
    ("LTR", "page-calc-unit-ltr"),
    ("LPA", "page-calc-unit-lpa"),
    ("NAR", "page-calc-unit-nar"),
    ("MTK", "page-calc-unit-mtk"),
    ("MTQ", "page-calc-unit-mtq"),
];

#[derive(Default)]
struct Form {
    commodity_code: String,
    origin: String,
    preference: String,
    value: String,
    currency: String,
    quantity: String,
    unit: String,
    date: String,
    additional_procedure: String,
}

#[derive(Template)]
#[template(path = "duty_calculator.html")]
struct CalculatorPage {
    t: wording::Language,
    frame: crate::frame::Frame,
    q: String,
    searched: bool,
    results: Vec<CodeView>,
    lookup: Option<Lookup>,
    lookup_missing: Option<String>,
    form: Form,
    /// (code, name) of each unit offered.
    units: Vec<(&'static str, String)>,
    calculation: Option<DutyCalculation>,
    errors: Vec<Problem>,
    national_currency: String,
}

fn field(params: &HashMap<String, String>, name: &str, limit: usize) -> String {
    params
        .get(name)
        .map(|v| v.trim().chars().take(limit).collect())
        .unwrap_or_default()
}

/// `GET /duty-calculator`: search, look up and calculate, rendered on the server (no script needed).
#[utoipa::path(
    get,
    path = "/duty-calculator",
    tag = "public",
    summary = "The tariff and duty calculator page",
    description = "An HTML page: search the nomenclature (`q`), look a code up (`code`), and calculate (`calculate=1` with `commodity_code`, `origin`, `preference`, `value`, `currency`, `quantity`, `unit`, `date`, `additional_procedure`). Rendered on the server; works without script. No login.",
    responses((status = 200, description = "The page", content((String = "text/html"))))
)]
pub async fn calculator_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    query: Params,
) -> Response {
    let t = state.wording(&headers).language;
    let params = params(query).unwrap_or_default();
    let national_currency = state.pipeline().rates.national.to_string();
    let q = field(&params, "q", MAX_QUERY_CHARS);
    let date = date_param(&params).unwrap_or_else(|_| today());
    let results = if q.is_empty() {
        Vec::new()
    } else {
        search(&state, &q, date, 50)
    };
    let mut lookup_missing = None;
    let lookup_code = field(&params, "code", 10);
    let found = if lookup_code.is_empty() {
        None
    } else if code_param(&lookup_code).is_err() {
        lookup_missing = Some(t.text("page-calc-not-a-code", &[("code", &lookup_code)]));
        None
    } else {
        let found = lookup(&state, &lookup_code, date, None);
        if found.is_none() {
            lookup_missing = Some(t.text(
                "page-calc-no-code",
                &[("code", &lookup_code), ("date", &date.to_string())],
            ));
        }
        found
    };
    let mut form = Form {
        commodity_code: field(&params, "commodity_code", 10),
        origin: field(&params, "origin", 2).to_uppercase(),
        preference: field(&params, "preference", 3),
        value: field(&params, "value", 24),
        currency: field(&params, "currency", 3).to_uppercase(),
        quantity: field(&params, "quantity", 24),
        unit: field(&params, "unit", 3),
        date: field(&params, "date", 10),
        additional_procedure: field(&params, "additional_procedure", 3).to_uppercase(),
    };
    if form.commodity_code.is_empty() && !lookup_code.is_empty() {
        form.commodity_code = lookup_code.clone();
    }
    if form.currency.is_empty() {
        form.currency = national_currency.clone();
    }
    let mut errors = Vec::new();
    let mut calculation = None;
    if params.contains_key("calculate") {
        let request = DutyCalculationRequest {
            commodity_code: form.commodity_code.clone(),
            origin: Some(form.origin.clone()),
            preference: Some(form.preference.clone()),
            customs_value: MoneyInput {
                amount: form.value.clone(),
                currency: form.currency.clone(),
            },
            quantities: if form.quantity.is_empty() {
                Vec::new()
            } else {
                vec![QuantityInput {
                    unit: form.unit.clone(),
                    value: form.quantity.clone(),
                }]
            },
            date: Some(form.date.clone()),
            procedure: None,
            additional_procedures: if form.additional_procedure.is_empty() {
                Vec::new()
            } else {
                vec![form.additional_procedure.clone()]
            },
            statements: Vec::new(),
            documents: Vec::new(),
            quota_order_id: None,
        };
        match calculate(&state, &request) {
            Ok(result) => calculation = Some(result),
            Err(problems) => {
                errors = problems
                    .into_iter()
                    .map(|mut p| {
                        if p.message == p.code.message() {
                            p.message = t.error_sentence(p.code);
                        }
                        p
                    })
                    .collect()
            }
        }
    }
    let frame = crate::frame::Frame::public(&state, &headers, &uri, t.get("page-calc-title"));
    let page = CalculatorPage {
        t,
        frame,
        searched: !q.is_empty(),
        q,
        results,
        lookup: found,
        lookup_missing,
        form,
        units: UNITS.iter().map(|(code, id)| (*code, t.get(id))).collect(),
        calculation,
        errors,
        national_currency,
    };
    match page.render() {
        Ok(html) => (
            // The security headers are added to every response by `security::headers`.
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// Most requirements one answer lists (a goods item has a handful; the ceiling bounds the answer).
const MAX_REQUIREMENTS_ANSWERED: usize = 500;

/// What a trader needs for goods: the requirements in force (`GET /api/v1/lpco/requirements`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RequirementsAnswer {
    commodity: String,
    direction: lpco::Direction,
    /// The country of origin (imports) or destination (exports) asked about.
    country: String,
    date: String,
    requirements: Vec<lpco::Requirement>,
}

/// `GET /api/v1/lpco/requirements`: "what do I need to import X from Y".
#[utoipa::path(
    get,
    path = "/api/v1/lpco/requirements",
    tag = "public",
    summary = "The documents goods need",
    description = "The licences, permits, certificates and other documents (LPCO) required for goods of `commodity` (2 to 10 digits) imported from `origin` or exported to `destination` (ISO 3166-1 alpha-2) on `date` (default today): each requirement with its groups — every group must be met, by one of its ways: a document code cited in DE 2/3, a waiver code, or a quantity at most a threshold — and what happens otherwise. `direction` is `import` (the default) or `export`. No login.",
    params(("commodity" = String, Query), ("origin" = Option<String>, Query), ("destination" = Option<String>, Query), ("direction" = Option<String>, Query), ("date" = Option<String>, Query)),
    responses((status = 200, description = "The requirements in force", body = crate::public::RequirementsAnswer), (status = 400, description = "A parameter is missing or wrong (request.invalid_query)", body = crate::error::ErrorBody))
)]
pub async fn requirements(
    State(state): State<AppState>,
    query: Params,
) -> Result<axum::Json<RequirementsAnswer>, ApiError> {
    let params = params(query)?;
    let commodity = params
        .get("commodity")
        .map(|c| c.trim())
        .unwrap_or_default();
    if !(2..=10).contains(&commodity.len()) || !commodity.bytes().all(|b| b.is_ascii_digit()) {
        return Err(query_problem(
            "commodity",
            format!("{commodity:?} is not a commodity code: write 2 to 10 digits."),
        ));
    }
    let direction = match params.get("direction").map(|d| d.trim()) {
        None | Some("") => lpco::Direction::Import,
        Some(text) => lpco::Direction::parse(text).ok_or_else(|| {
            query_problem("direction", format!("{text:?} is not import or export."))
        })?,
    };
    let (name, wanted) = match direction {
        lpco::Direction::Import => ("origin", "the country of origin"),
        lpco::Direction::Export => ("destination", "the country of destination"),
    };
    let country = params.get(name).map(|c| c.trim()).unwrap_or_default();
    if declaration::Country::parse(country).is_err() {
        return Err(query_problem(
            name,
            format!("Give {wanted} as an ISO 3166-1 alpha-2 code such as US, not {country:?}."),
        ));
    }
    let date = date_param(&params)?;
    let pipeline = state.pipeline();
    Ok(axum::Json(RequirementsAnswer {
        requirements: pipeline
            .requirements
            .for_goods(commodity, direction, country, date)
            .take(MAX_REQUIREMENTS_ANSWERED)
            .cloned()
            .collect(),
        commodity: commodity.to_owned(),
        direction,
        country: country.to_owned(),
        date: date.to_string(),
    }))
}
