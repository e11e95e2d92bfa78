//! Tariff measures and their CSV form.

use declaration::{Country, Currency};
use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

/// What a measure's rate applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// The customs value of the goods item; the amount is a duty and joins the base of the taxes below.
    CustomsValue,
    /// The customs value of the goods item, for a tax that does not join the duties: the first line of an import
    /// VAT split in two, as HMRC does (B00 on the customs value alone, B05 on the duties).
    CustomsValueAlone,
    /// The customs value plus the duties (and excise) computed on it: the usual VAT base.
    CustomsValuePlusDuties,
    /// Only the duties (and excise) computed on the customs value: the base of the second VAT line of an
    /// administration that splits import VAT in two, as HMRC does (B00 on the customs value, B05 on the duties).
    Duties,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    AdValorem,
    Specific,
    Compound,
    /// A relief (suspension, exemption): `rate_percent` of the tax computed by the other measures of the same tax
    /// type is relieved (100 when empty), usually under a `condition` the declaration claims.
    Relief,
}

/// What a declaration must claim for a measure to apply: a requested procedure (DE 1/10, first two digits), an
/// additional procedure code (DE 1/11) or an additional information statement code (DE 2/2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "on", content = "code", rename_all = "snake_case")]
pub enum Condition {
    Procedure(String),
    AdditionalProcedure(String),
    Statement(String),
    /// A document declared on the item (DE 2/3, category and type, e.g. N954 EUR.1, U164 statement on origin):
    /// how a preferential line requires its proof of origin.
    Document(String),
    /// A tariff quota order number declared on the tax line (DE 8/1).
    Quota(String),
}

impl Condition {
    fn parse(text: &str) -> Option<Condition> {
        let (on, code) = text.trim().split_once('=')?;
        let code = code.trim();
        if code.is_empty() || code.len() > 8 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let code = code.to_owned();
        match on.trim() {
            "procedure" if code.len() == 2 => Some(Condition::Procedure(code)),
            "additional_procedure" if code.len() == 3 => Some(Condition::AdditionalProcedure(code)),
            "statement" => Some(Condition::Statement(code)),
            "document" if code.len() == 4 => Some(Condition::Document(code)),
            "quota" if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Condition::Quota(code))
            }
            _ => None,
        }
    }

    pub fn holds(&self, claims: &Claims) -> bool {
        match self {
            Condition::Procedure(code) => claims.procedure.as_deref() == Some(code.as_str()),
            Condition::AdditionalProcedure(code) => claims.additional_procedures.contains(code),
            Condition::Statement(code) => claims.statements.contains(code),
            Condition::Document(code) => claims.documents.contains(code),
            Condition::Quota(code) => claims.quotas.contains(code),
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::Procedure(code) => write!(f, "procedure {code}"),
            Condition::AdditionalProcedure(code) => write!(f, "additional procedure {code}"),
            Condition::Statement(code) => write!(f, "statement {code}"),
            Condition::Document(code) => write!(f, "document {code}"),
            Condition::Quota(code) => write!(f, "quota {code}"),
        }
    }
}

/// What a goods item declares that measures may depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    pub origin: Option<Country>,
    /// DE 4/17, e.g. 100 (no preference), 300 (tariff preference).
    pub preference: Option<String>,
    /// DE 1/10, the requested procedure's two digits, e.g. 40.
    pub procedure: Option<String>,
    /// DE 1/11 codes, e.g. C07.
    pub additional_procedures: Vec<String>,
    /// DE 2/2 statement codes of the item and of the header, e.g. NIDOM.
    pub statements: Vec<String>,
    /// DE 2/3 documents of the item and of the header, category and type, e.g. N954.
    pub documents: Vec<String>,
    /// DE 8/1 quota order numbers declared on the item's tax lines.
    pub quotas: Vec<String>,
}

/// How a tax line's amount is rounded to the currency's minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half away from zero (0.005 → 0.01): the default.
    #[default]
    HalfUp,
    /// Towards zero (0.009 → 0.00), as some administrations round duties in the trader's favour.
    Down,
    /// Away from zero (0.001 → 0.01).
    Up,
    /// Half to even, banker's rounding (0.005 → 0.00, 0.015 → 0.02).
    HalfEven,
}

impl Rounding {
    pub fn apply(self, value: Decimal, minor_units: u32) -> Decimal {
        let strategy = match self {
            Rounding::HalfUp => rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            Rounding::Down => rust_decimal::RoundingStrategy::ToZero,
            Rounding::Up => rust_decimal::RoundingStrategy::AwayFromZero,
            Rounding::HalfEven => rust_decimal::RoundingStrategy::MidpointNearestEven,
        };
        let mut rounded = value.round_dp_with_strategy(minor_units, strategy);
        rounded.rescale(minor_units);
        rounded
    }
}

/// One line of the tariff.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    /// 2 to 10 digits; the longest prefix of the declared commodity code wins.
    pub commodity_prefix: String,
    /// The administration's tax type code, e.g. A00 customs duty, B00 VAT.
    pub tax_type: String,
    pub kind: MeasureKind,
    pub rate_percent: Option<Decimal>,
    /// Specific amount per `unit` (for `specific` and `compound`).
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    /// UN/ECE Rec. 20 unit: KGM, LTR, LPA, NAR, … ; a leading number scales it (`1000 NAR` per 1,000 items).
    pub unit: Option<String>,
    pub minimum: Option<Decimal>,
    pub maximum: Option<Decimal>,
    pub base: Base,
    /// Countries of origin the measure is limited to (one country, or a group written as several); empty for
    /// every origin.
    pub origins: Vec<Country>,
    /// How the amount is rounded; `None`: as the administration rounds its national currency
    /// ([`crate::TaxRegime::rounding`]).
    pub rounding: Option<Rounding>,
    /// Preference code (DE 4/17) the measure is limited to, e.g. 300 for a tariff preference.
    pub preference_code: Option<String>,
    /// What the declaration must claim for the measure to apply (every one of them).
    pub conditions: Vec<Condition>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// 1-based line in the CSV it came from, for explanations.
    pub line: usize,
}

impl Measure {
    pub fn in_force(&self, on: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= on) && self.valid_to.is_none_or(|to| on <= to)
    }

    /// A human-readable name for explanations: "A00 2.00 % ad valorem on 8510 (tariff line 14)".
    pub fn describe(&self) -> String {
        let rate = match self.kind {
            MeasureKind::AdValorem => {
                format!("{} % ad valorem", self.rate_percent.unwrap_or_default())
            }
            MeasureKind::Specific => format!(
                "{} {} per {}",
                self.amount.unwrap_or_default(),
                self.currency.as_ref().map(Currency::as_str).unwrap_or(""),
                self.unit.as_deref().unwrap_or("unit")
            ),
            MeasureKind::Compound => format!(
                "{} % + {} {} per {}",
                self.rate_percent.unwrap_or_default(),
                self.amount.unwrap_or_default(),
                self.currency.as_ref().map(Currency::as_str).unwrap_or(""),
                self.unit.as_deref().unwrap_or("unit")
            ),
            MeasureKind::Relief => format!(
                "relief of {} %",
                self.rate_percent.unwrap_or(Decimal::ONE_HUNDRED)
            ),
        };
        let on = if self.commodity_prefix.is_empty() {
            "every commodity code"
        } else {
            self.commodity_prefix.as_str()
        };
        let mut text = format!("{} {rate} on {on}", self.tax_type);
        if !self.origins.is_empty() {
            let origins: Vec<&str> = self.origins.iter().map(Country::as_str).collect();
            text.push_str(&format!(" for origin {}", origins.join(" ")));
        }
        if let Some(preference) = &self.preference_code {
            text.push_str(&format!(" with preference {preference}"));
        }
        if !self.conditions.is_empty() {
            let conditions: Vec<String> = self.conditions.iter().map(|c| c.to_string()).collect();
            text.push_str(&format!(" under {}", conditions.join(" and ")));
        }
        text.push_str(&format!(" (tariff line {})", self.line));
        text
    }
}

/// A bad tariff file: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TariffError {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for TariffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for TariffError {}

/// Most measures one tariff file may hold: a full national tariff has some 15,000–30,000 lines.
pub const MAX_MEASURES: usize = 500_000;

/// The measures of a tariff, indexed by commodity prefix so that a lookup reads only the measures of the code's
/// ten prefixes, whatever the size of the tariff.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tariff {
    measures: Vec<Measure>,
    #[serde(skip)]
    by_prefix: std::collections::HashMap<String, Vec<usize>>,
}

const COLUMNS: &[&str] = &[
    "commodity_code",
    "tax_type",
    "kind",
    "rate_percent",
    "amount",
    "currency",
    "unit",
    "minimum",
    "maximum",
    "base",
    "origin",
    "rounding",
    "preference_code",
    "condition",
    "valid_from",
    "valid_to",
];

impl Tariff {
    /// Reads the measures CSV (docs/tariff-csv.md). All or nothing: the first bad cell is reported with its
    /// line and column, and no tariff is returned.
    pub fn from_csv(text: &str) -> Result<Tariff, TariffError> {
        let (mut reader, index) = crate::csv_file::open(text, COLUMNS)?;
        for required in ["commodity_code", "tax_type", "kind"] {
            if !index.contains_key(required) {
                return Err(TariffError {
                    line: 1,
                    column: Some(required.to_owned()),
                    message: format!("The column {required:?} is required."),
                });
            }
        }
        let mut measures = Vec::new();
        for record in reader.records() {
            let record = record.map_err(crate::csv_file::record_error)?;
            let line = record.position().map_or(0, |p| p.line() as usize);
            if measures.len() >= MAX_MEASURES {
                return Err(TariffError {
                    line,
                    column: None,
                    message: format!("A tariff may hold at most {MAX_MEASURES} measures."),
                });
            }
            let cell = |name: &str| {
                index
                    .get(name)
                    .and_then(|i| record.get(*i))
                    .filter(|v| !v.is_empty())
            };
            let fail = |name: &str, message: String| TariffError {
                line,
                column: Some(name.to_owned()),
                message,
            };
            let decimal = |name: &str| -> Result<Option<Decimal>, TariffError> {
                cell(name)
                    .map(|v| {
                        declaration::parse_decimal(v).map_err(|_| {
                            fail(
                                name,
                                format!("{v:?} is not a non-negative decimal number such as 12.5."),
                            )
                        })
                    })
                    .transpose()
            };
            let date = |name: &str| -> Result<Option<Date>, TariffError> {
                cell(name)
                    .map(|v| {
                        crate::csv_file::date(v).ok_or_else(|| {
                            fail(name, format!("{v:?} is not a date written YYYY-MM-DD."))
                        })
                    })
                    .transpose()
            };

            let relief = cell("kind") == Some("relief");
            let commodity_prefix = cell("commodity_code").unwrap_or_default().to_owned();
            let every_code = relief && commodity_prefix.is_empty();
            if !every_code
                && (!(2..=10).contains(&commodity_prefix.len())
                    || !commodity_prefix.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(fail(
                    "commodity_code",
                    format!(
                        "{commodity_prefix:?} must be 2 to 10 digits (a relief may leave it empty for every code)."
                    ),
                ));
            }
            let tax_type = cell("tax_type").unwrap_or_default().to_owned();
            if !(1..=4).contains(&tax_type.len())
                || !tax_type.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(fail(
                    "tax_type",
                    format!("{tax_type:?} must be a tax type code such as A00 or B00."),
                ));
            }
            let kind = match cell("kind").unwrap_or_default() {
                "ad_valorem" => MeasureKind::AdValorem,
                "specific" => MeasureKind::Specific,
                "compound" => MeasureKind::Compound,
                "relief" => MeasureKind::Relief,
                other => {
                    return Err(fail(
                        "kind",
                        format!("{other:?} must be ad_valorem, specific, compound or relief."),
                    ));
                }
            };
            let base = match cell("base").unwrap_or("customs_value") {
                "customs_value" => Base::CustomsValue,
                "customs_value_plus_duties" => Base::CustomsValuePlusDuties,
                "duties" => Base::Duties,
                "customs_value_alone" => Base::CustomsValueAlone,
                other => {
                    return Err(fail(
                        "base",
                        format!(
                            "{other:?} must be customs_value, customs_value_alone, customs_value_plus_duties or duties."
                        ),
                    ));
                }
            };
            let currency = cell("currency")
                .map(|v| {
                    Currency::parse(v).map_err(|_| {
                        fail(
                            "currency",
                            format!("{v:?} is not an ISO 4217 currency code."),
                        )
                    })
                })
                .transpose()?;
            let origins = cell("origin")
                .map(|v| {
                    v.split([' ', ';'])
                        .filter(|c| !c.is_empty())
                        .map(|c| {
                            Country::parse(c).map_err(|_| {
                                fail(
                                    "origin",
                                    format!(
                                        "{c:?} is not a country code; a group is written as several, e.g. \"CA MX US\"."
                                    ),
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            if origins.len() > 300 {
                return Err(fail(
                    "origin",
                    "A group may hold at most 300 countries.".into(),
                ));
            }
            // Absent: the administration's rounding of the national currency (its profile).
            let rounding = match cell("rounding") {
                None => None,
                Some("half_up") => Some(Rounding::HalfUp),
                Some("half_even") => Some(Rounding::HalfEven),
                Some("down") => Some(Rounding::Down),
                Some("up") => Some(Rounding::Up),
                Some(other) => {
                    return Err(fail(
                        "rounding",
                        format!("{other:?} must be half_up, half_even, down or up."),
                    ));
                }
            };
            let measure = Measure {
                commodity_prefix,
                tax_type,
                kind,
                rate_percent: decimal("rate_percent")?,
                amount: decimal("amount")?,
                currency,
                unit: cell("unit").map(str::to_owned),
                minimum: decimal("minimum")?,
                maximum: decimal("maximum")?,
                base,
                origins,
                rounding,
                preference_code: cell("preference_code").map(str::to_owned),
                conditions: cell("condition")
                    .map(|v| {
                        v.split('&')
                            .map(|one| {
                                Condition::parse(one).ok_or_else(|| {
                                    fail(
                                        "condition",
                                        format!(
                                            "{one:?} must be procedure=NN, additional_procedure=XNN, \
                                             statement=CODE, document=XNNN or quota=NNNNNN (several joined by &)."
                                        ),
                                    )
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .transpose()?
                    .unwrap_or_default(),
                valid_from: date("valid_from")?,
                valid_to: date("valid_to")?,
                line,
            };
            let needs_rate = matches!(kind, MeasureKind::AdValorem | MeasureKind::Compound);
            let needs_amount = matches!(kind, MeasureKind::Specific | MeasureKind::Compound);
            if needs_rate && measure.rate_percent.is_none() {
                return Err(fail(
                    "rate_percent",
                    "An ad valorem or compound measure needs a rate_percent.".into(),
                ));
            }
            if needs_amount
                && (measure.amount.is_none()
                    || measure.unit.is_none()
                    || measure.currency.is_none())
            {
                return Err(fail(
                    "amount",
                    "A specific or compound measure needs amount, currency and unit.".into(),
                ));
            }
            if let (Some(from), Some(to)) = (measure.valid_from, measure.valid_to)
                && to < from
            {
                return Err(fail("valid_to", "valid_to is before valid_from.".into()));
            }
            if let (Some(min), Some(max)) = (measure.minimum, measure.maximum)
                && max < min
            {
                return Err(fail("maximum", "maximum is below minimum.".into()));
            }
            if relief
                && measure
                    .rate_percent
                    .is_some_and(|r| r > Decimal::ONE_HUNDRED)
            {
                return Err(fail(
                    "rate_percent",
                    "A relief relieves at most 100 % of the tax.".into(),
                ));
            }
            measures.push(measure);
        }
        Ok(Tariff::new(measures))
    }

    /// A tariff of these measures.
    pub fn new(measures: Vec<Measure>) -> Tariff {
        let mut by_prefix: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (index, measure) in measures.iter().enumerate() {
            by_prefix
                .entry(measure.commodity_prefix.clone())
                .or_default()
                .push(index);
        }
        Tariff {
            measures,
            by_prefix,
        }
    }

    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }

    /// The measures whose prefix matches `commodity_code` (reliefs for every code included), in file order.
    pub fn matching<'a>(&'a self, commodity_code: &str) -> impl Iterator<Item = &'a Measure> + 'a {
        let mut indices: Vec<usize> = (0..=commodity_code.len().min(10))
            .filter_map(|len| commodity_code.get(..len))
            .filter_map(|prefix| self.by_prefix.get(prefix))
            .flatten()
            .copied()
            .collect();
        indices.sort_unstable();
        indices.into_iter().map(|i| &self.measures[i])
    }

    /// The measures of `tax_type` that apply to `commodity_code` on `date` for goods of `origin` declared with
    /// `preference`: among the matching lines, the most specific wins — longest commodity prefix first, then a line
    /// limited to the origin, then a line limited to the preference.
    /// The measure of `tax_type` that applies to `commodity_code` on `date` for what the item claims: the longest
    /// matching prefix wins, then a measure limited to the origin, the preference or a condition over one that is
    /// not, then the earlier line. Reliefs are not measures of a tax; see [`Tariff::relief`].
    pub fn applicable<'a>(
        &'a self,
        commodity_code: &str,
        tax_type: &str,
        date: time::Date,
        claims: &Claims,
    ) -> Option<&'a Measure> {
        self.best(commodity_code, tax_type, date, claims, false)
    }

    /// The relief of `tax_type` that applies to `commodity_code` on `date` for what the item claims.
    pub fn relief<'a>(
        &'a self,
        commodity_code: &str,
        tax_type: &str,
        date: time::Date,
        claims: &Claims,
    ) -> Option<&'a Measure> {
        self.best(commodity_code, tax_type, date, claims, true)
    }

    fn best<'a>(
        &'a self,
        commodity_code: &str,
        tax_type: &str,
        date: time::Date,
        claims: &Claims,
        relief: bool,
    ) -> Option<&'a Measure> {
        self.matching(commodity_code)
            .filter(|m| {
                m.tax_type == tax_type
                    && (m.kind == MeasureKind::Relief) == relief
                    && m.in_force(date)
            })
            .filter(|m| {
                m.origins.is_empty()
                    || claims
                        .origin
                        .as_ref()
                        .is_some_and(|o| m.origins.contains(o))
            })
            .filter(|m| m.preference_code.is_none() || m.preference_code == claims.preference)
            .filter(|m| m.conditions.iter().all(|c| c.holds(claims)))
            .max_by_key(|m| {
                (
                    m.commodity_prefix.len(),
                    !m.origins.is_empty(),
                    m.preference_code.is_some(),
                    m.conditions.len(),
                    std::cmp::Reverse(m.line),
                )
            })
    }

    /// The tax types charged on `commodity_code` on `date`, in the order of the file (reliefs left out).
    pub fn tax_types_for(&self, commodity_code: &str, date: time::Date) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in self.matching(commodity_code) {
            if m.kind != MeasureKind::Relief
                && m.in_force(date)
                && !out.contains(&m.tax_type.as_str())
            {
                out.push(&m.tax_type);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(csv: &str) -> TariffError {
        Tariff::from_csv(csv).unwrap_err()
    }

    #[test]
    fn bad_files_are_refused_with_line_and_column() {
        let cases: &[(&str, usize, Option<&str>)] = &[
            (
                "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,x\n",
                2,
                Some("rate_percent"),
            ),
            (
                "commodity_code,tax_type,kind,rate_percent\n85,A00,ad_valorem,2\n8,A00,ad_valorem,2\n",
                3,
                Some("commodity_code"),
            ),
            (
                "commodity_code,tax_type,kind\n85,A00,free\n",
                2,
                Some("kind"),
            ),
            (
                "commodity_code,tax_type,kind\n85,A00,ad_valorem\n",
                2,
                Some("rate_percent"),
            ),
            (
                "commodity_code,tax_type,kind,amount\n85,A00,specific,3\n",
                2,
                Some("amount"),
            ),
            (
                "commodity_code,tax_type,kind,rate_percent,colour\n",
                1,
                Some("colour"),
            ),
            ("commodity_code,kind\n", 1, Some("tax_type")),
            (
                "commodity_code,tax_type,kind,rate_percent,valid_from\n85,A00,ad_valorem,2,2024-13-01\n",
                2,
                Some("valid_from"),
            ),
            (
                "commodity_code,tax_type,kind,rate_percent,origin\n85,A00,ad_valorem,2,XX\n",
                2,
                Some("origin"),
            ),
        ];
        for (csv, line, column) in cases {
            let e = error(csv);
            assert_eq!(
                (e.line, e.column.as_deref()),
                (*line, *column),
                "{csv}: {e}"
            );
        }
    }

    #[test]
    fn longest_prefix_then_origin_then_preference_wins() {
        let tariff = Tariff::from_csv(
            "commodity_code,tax_type,kind,rate_percent,origin,preference_code\n\
             85,A00,ad_valorem,4,,\n\
             8510,A00,ad_valorem,2,,\n\
             8510,A00,ad_valorem,1,JP,\n\
             8510,A00,ad_valorem,0,JP,300\n",
        )
        .unwrap();
        let day = time::macros::date!(2026 - 01 - 01);
        let jp = Country::parse("JP").unwrap();
        let us = Country::parse("US").unwrap();
        let rate = |code, origin: Option<&Country>, pref: Option<&str>| {
            let claims = Claims {
                origin: origin.cloned(),
                preference: pref.map(str::to_owned),
                ..Claims::default()
            };
            tariff
                .applicable(code, "A00", day, &claims)
                .unwrap()
                .rate_percent
                .unwrap()
        };
        assert_eq!(rate("8501100000", Some(&us), None), Decimal::from(4));
        assert_eq!(rate("8510900000", Some(&us), None), Decimal::from(2));
        assert_eq!(rate("8510900000", Some(&jp), Some("100")), Decimal::from(1));
        assert_eq!(rate("8510900000", Some(&jp), Some("300")), Decimal::from(0));
        assert!(
            tariff
                .applicable("0101210000", "A00", day, &Claims::default())
                .is_none()
        );
    }

    #[test]
    fn validity_dates_choose_the_tariff_in_force() {
        let tariff = Tariff::from_csv(
            "commodity_code,tax_type,kind,rate_percent,valid_from,valid_to\n\
             85,A00,ad_valorem,4,2020-01-01,2025-12-31\n\
             85,A00,ad_valorem,3,2026-01-01,\n",
        )
        .unwrap();
        let rate = |d| {
            tariff
                .applicable("851090", "A00", d, &Claims::default())
                .map(|m| m.rate_percent.unwrap())
        };
        assert_eq!(
            rate(time::macros::date!(2025 - 12 - 31)),
            Some(Decimal::from(4))
        );
        assert_eq!(
            rate(time::macros::date!(2026 - 01 - 01)),
            Some(Decimal::from(3))
        );
        assert_eq!(rate(time::macros::date!(2019 - 12 - 31)), None);
    }

    #[test]
    fn the_demo_tariff_and_rates_are_valid_and_cover_every_chapter() {
        let tariff = crate::demo::tariff();
        let day = time::macros::date!(2026 - 06 - 01);
        for chapter in (1..=97).filter(|c| *c != 77) {
            let code = format!("{chapter:02}0000");
            assert!(
                tariff
                    .applicable(&code, "A00", day, &Claims::default())
                    .is_some(),
                "A00 for chapter {chapter}"
            );
            assert!(
                tariff
                    .applicable(&code, "B00", day, &Claims::default())
                    .is_some(),
                "B00 for chapter {chapter}"
            );
        }
        crate::demo::exchange_rates();
        assert_eq!(crate::demo::nomenclature().len(), 96 + 12);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]
        /// Any text is a tariff or an error naming a line; never a panic.
        #[test]
        fn any_csv_parses_or_fails_with_a_line(body in "([0-9]{0,11}|A00|B00|ad_valorem|specific|compound|customs_value|GBP|KGM|2026-01-01|-1|x|\"|,|\n){0,60}") {
            let text = format!("commodity_code,tax_type,kind,rate_percent,amount,currency,unit,base,valid_from\n{body}");
            if let Err(error) = Tariff::from_csv(&text) {
                prop_assert!(!error.message.is_empty());
            }
        }
    }
}
