//! Tariff measures and their CSV form.

use declaration::{Country, Currency};
use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

/// What a measure's rate applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// The customs value of the goods item.
    CustomsValue,
    /// The customs value plus the duties (and excise) computed on it: the usual VAT base.
    CustomsValuePlusDuties,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    AdValorem,
    Specific,
    Compound,
}

/// One line of the tariff.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// Country of origin the measure is limited to.
    pub origin: Option<Country>,
    /// Preference code (DE 4/17) the measure is limited to, e.g. 300 for a tariff preference.
    pub preference_code: Option<String>,
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
        };
        let mut text = format!("{} {rate} on {}", self.tax_type, self.commodity_prefix);
        if let Some(origin) = &self.origin {
            text.push_str(&format!(" for origin {origin}"));
        }
        if let Some(preference) = &self.preference_code {
            text.push_str(&format!(" with preference {preference}"));
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

/// The measures of a tariff.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tariff {
    pub measures: Vec<Measure>,
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
    "preference_code",
    "valid_from",
    "valid_to",
];

impl Tariff {
    /// Reads the measures CSV (docs/tariff-csv.md). All or nothing: the first bad cell is reported with its
    /// line and column, and no tariff is returned.
    pub fn from_csv(text: &str) -> Result<Tariff, TariffError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| TariffError {
                line: 1,
                column: None,
                message: format!("The header line cannot be read: {e}."),
            })?
            .clone();
        let mut index = std::collections::HashMap::new();
        for (position, name) in headers.iter().enumerate() {
            if !COLUMNS.contains(&name) {
                return Err(TariffError {
                    line: 1,
                    column: Some(name.to_owned()),
                    message: format!(
                        "Unknown column {name:?}; the columns are {}.",
                        COLUMNS.join(", ")
                    ),
                });
            }
            if index.insert(name.to_owned(), position).is_some() {
                return Err(TariffError {
                    line: 1,
                    column: Some(name.to_owned()),
                    message: "This column appears twice.".into(),
                });
            }
        }
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
            let record = record.map_err(|e| TariffError {
                line: e.position().map_or(0, |p| p.line() as usize),
                column: None,
                message: format!("The line cannot be read as CSV: {e}."),
            })?;
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
                        Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                            .map_err(|_| {
                                fail(name, format!("{v:?} is not a date written YYYY-MM-DD."))
                            })
                    })
                    .transpose()
            };

            let commodity_prefix = cell("commodity_code").unwrap_or_default().to_owned();
            if !(2..=10).contains(&commodity_prefix.len())
                || !commodity_prefix.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(fail(
                    "commodity_code",
                    format!("{commodity_prefix:?} must be 2 to 10 digits."),
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
                other => {
                    return Err(fail(
                        "kind",
                        format!("{other:?} must be ad_valorem, specific or compound."),
                    ));
                }
            };
            let base = match cell("base").unwrap_or("customs_value") {
                "customs_value" => Base::CustomsValue,
                "customs_value_plus_duties" => Base::CustomsValuePlusDuties,
                other => {
                    return Err(fail(
                        "base",
                        format!("{other:?} must be customs_value or customs_value_plus_duties."),
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
            let origin = cell("origin")
                .map(|v| {
                    Country::parse(v)
                        .map_err(|_| fail("origin", format!("{v:?} is not a country code.")))
                })
                .transpose()?;
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
                origin,
                preference_code: cell("preference_code").map(str::to_owned),
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
            measures.push(measure);
        }
        Ok(Tariff { measures })
    }

    /// The measures of `tax_type` that apply to `commodity_code` on `date` for goods of `origin` declared with
    /// `preference`: among the matching lines, the most specific wins — longest commodity prefix first, then a line
    /// limited to the origin, then a line limited to the preference.
    pub fn applicable<'a>(
        &'a self,
        commodity_code: &str,
        tax_type: &str,
        date: time::Date,
        origin: Option<&Country>,
        preference: Option<&str>,
    ) -> Option<&'a Measure> {
        self.measures
            .iter()
            .filter(|m| {
                m.tax_type == tax_type
                    && commodity_code.starts_with(&m.commodity_prefix)
                    && m.in_force(date)
            })
            .filter(|m| m.origin.is_none() || m.origin.as_ref() == origin)
            .filter(|m| m.preference_code.is_none() || m.preference_code.as_deref() == preference)
            .max_by_key(|m| {
                (
                    m.commodity_prefix.len(),
                    m.origin.is_some(),
                    m.preference_code.is_some(),
                    std::cmp::Reverse(m.line),
                )
            })
    }

    /// The tax types with at least one line matching `commodity_code` on `date`, in the order of first appearance.
    pub fn tax_types_for(&self, commodity_code: &str, date: time::Date) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in &self.measures {
            if commodity_code.starts_with(&m.commodity_prefix)
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
        let rate = |code, origin, pref| {
            tariff
                .applicable(code, "A00", day, origin, pref)
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
                .applicable("0101210000", "A00", day, None, None)
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
                .applicable("851090", "A00", d, None, None)
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
                tariff.applicable(&code, "A00", day, None, None).is_some(),
                "A00 for chapter {chapter}"
            );
            assert!(
                tariff.applicable(&code, "B00", day, None, None).is_some(),
                "B00 for chapter {chapter}"
            );
        }
        crate::demo::exchange_rates();
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
