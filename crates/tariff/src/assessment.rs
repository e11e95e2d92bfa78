//! Duties and taxes per goods item and tax type.

use crate::measures::{Base, Claims, Measure, MeasureKind, Tariff};
use crate::valuation::round;
use crate::valuation::{self, ExchangeRates, Valuation};
use declaration::{Declaration, DeclarationKind, GoodsItem};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One tax computed for one goods item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxLine {
    #[serde(rename = "type")]
    pub tax_type: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub base: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub rate_percent: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// What a relief took off the computed tax (HMRC's DeductAmount); `amount` is what remains.
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub relieved: Option<Decimal>,
    /// DE 4/8 method of payment declared for this tax type (A immediate, E deferment, R guarantee, …).
    pub payment_method: declaration::PaymentMethod,
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemAssessment {
    pub sequence: u32,
    pub commodity_code: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub customs_value: Decimal,
    pub valuation: String,
    pub taxes: Vec<TaxLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxTotal {
    #[serde(rename = "type")]
    pub tax_type: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// The assessment of a declaration: the shape printed by `aduana assess --json` and stored with the declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// The LRN.
    pub declaration: String,
    pub currency: String,
    pub items: Vec<ItemAssessment>,
    pub totals: Vec<TaxTotal>,
}

impl Assessment {
    /// The total of every tax (the totals were added up with checked arithmetic when assessed).
    pub fn total(&self) -> Decimal {
        self.totals
            .iter()
            .try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.amount))
            .unwrap_or(Decimal::MAX)
    }
}

fn item_path(index: usize, rest: &str) -> String {
    format!(
        "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{}]/{rest}",
        index + 1
    )
}

/// The quantity a specific measure in `unit` applies to: net mass for KGM, else the supplementary units (DE 6/2)
/// or the tax base quantity declared on the tax line (DE 4/4) when their unit matches. Supplementary units
/// declared without a unit code are in the unit the tariff prescribes for the code, as DE 6/2 is in practice.
/// A unit written with a leading number ("1000 NAR") is per that many units.
fn quantity(item: &GoodsItem, tax_type: &str, unit: &str) -> Option<(Decimal, String)> {
    let (per, unit) = match unit.split_once(' ') {
        Some((n, u)) => (
            declaration::parse_decimal(n)
                .ok()
                .filter(|d| !d.is_zero())?,
            u,
        ),
        None => (Decimal::ONE, unit),
    };
    let same = |declared: &Option<String>| {
        declared
            .as_deref()
            .is_some_and(|d| d.split('#').next() == Some(unit))
    };
    // DE 4/4 on this tax type's line first, then on any line (a quantity in LPA is one whatever the tax).
    let on_lines = |this_type: bool| {
        item.duty_tax_fees
            .iter()
            .filter(|f| !this_type || f.type_code.as_deref() == Some(tax_type))
            .filter_map(|f| f.specific_tax_base_quantity.as_ref())
            .find(|q| same(&q.unit_code))
            .map(|q| q.value)
    };
    let from_line = on_lines(true).or_else(|| on_lines(false));
    let found = from_line
        .or_else(|| {
            item.tariff_quantity
                .as_ref()
                .filter(|q| q.unit_code.is_none() || same(&q.unit_code))
                .map(|q| q.value)
        })
        .or_else(|| {
            if unit == "KGM" {
                item.net_mass_kg
            } else {
                None
            }
        })?;
    Some((found.checked_div(per)?, format!("{found} {unit}")))
}

struct Computed {
    amount: Decimal,
    rate: Option<Decimal>,
    how: String,
}

fn compute(
    measure: &Measure,
    base: Decimal,
    item: &GoodsItem,
    rates: &ExchangeRates,
    pointer: &str,
) -> Result<Computed, Problem> {
    let too_large = || crate::valuation::too_large(pointer);
    let ad_valorem = measure
        .rate_percent
        .map(|rate| {
            base.checked_mul(rate)
                .map(|v| v / Decimal::ONE_HUNDRED)
                .ok_or_else(too_large)
        })
        .transpose()?;
    let specific = match measure.kind {
        MeasureKind::AdValorem | MeasureKind::Relief => None,
        MeasureKind::Specific | MeasureKind::Compound => {
            let unit = measure.unit.as_deref().unwrap_or("KGM");
            let (quantity, described) = quantity(item, &measure.tax_type, unit).ok_or_else(|| {
                Problem::with_message(
                    ErrorCode::MissingElement,
                    pointer,
                    format!(
                        "The tariff charges {} per {unit}: declare the quantity in {unit} (DE 6/2 or DE 4/4).",
                        measure.tax_type
                    ),
                )
            })?;
            let currency = measure.currency.as_ref().unwrap_or(&rates.national);
            let rate = rates.rate(currency).ok_or_else(|| {
                Problem::with_message(
                    ErrorCode::ExchangeRateUnknown,
                    pointer,
                    format!(
                        "The tariff's amount is in {currency}, for which no rate is published."
                    ),
                )
            })?;
            Some((
                quantity
                    .checked_mul(measure.amount.unwrap_or_default())
                    .and_then(|a| a.checked_mul(rate))
                    .ok_or_else(too_large)?,
                described,
            ))
        }
    };
    let mut amount = match measure.kind {
        MeasureKind::AdValorem => ad_valorem.unwrap_or_default(),
        // Never reached: `applicable` does not return reliefs.
        MeasureKind::Relief => Decimal::ZERO,
        MeasureKind::Specific => specific.as_ref().map(|s| s.0).unwrap_or_default(),
        MeasureKind::Compound => ad_valorem
            .unwrap_or_default()
            .checked_add(specific.as_ref().map(|s| s.0).unwrap_or_default())
            .ok_or_else(too_large)?,
    };
    let mut how = match &specific {
        Some((_, described)) => format!("{} applied to {described}", measure.describe()),
        None => measure.describe(),
    };
    if let Some(minimum) = measure.minimum.filter(|m| amount < *m) {
        amount = minimum;
        how.push_str(&format!(", raised to the minimum {minimum}"));
    }
    if let Some(maximum) = measure.maximum.filter(|m| amount > *m) {
        amount = maximum;
        how.push_str(&format!(", capped at the maximum {maximum}"));
    }
    Ok(Computed {
        amount,
        rate: measure.rate_percent,
        how,
    })
}

/// What `item` of `declaration` claims that measures may depend on: origin, preference, requested and additional
/// procedures, and the statement codes of the item and of the header.
pub fn claims(declaration: &Declaration, item: &GoodsItem) -> Claims {
    Claims {
        origin: item.origin_country().cloned(),
        preference: item
            .duty_tax_fees
            .iter()
            .find_map(|f| f.duty_regime_code.clone()),
        procedure: item
            .procedures
            .iter()
            .find(|p| p.current_code.len() == 2)
            .map(|p| p.current_code.clone()),
        additional_procedures: item
            .procedures
            .iter()
            .filter(|p| p.current_code.len() == 3)
            .map(|p| p.current_code.clone())
            .collect(),
        statements: item
            .additional_information
            .iter()
            .chain(&declaration.additional_information)
            .filter_map(|a| a.statement_code.clone())
            .collect(),
        documents: declaration.documents_cited(item),
        quotas: item
            .duty_tax_fees
            .iter()
            .filter_map(|f| f.quota_order_id.clone())
            .collect(),
    }
}

/// What the administration's profile says of its taxes (docs/configuration.md, `[[tax_types]]` and `[currency]`):
/// the order they are computed in, which of them join the base of the value-added taxes, and how amounts in the
/// national currency are rounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaxRegime {
    /// The tax types in the order the VAT base adds them: (code, joins the VAT base). Empty: measures on the
    /// customs value first, each of them joining the base of the taxes on value plus duties.
    pub order: Vec<(String, bool)>,
    /// Decimal places tax amounts are rounded to; `None`: the national currency's minor units.
    pub decimal_places: Option<u32>,
    /// How a tax amount is rounded when its measure does not say.
    pub rounding: crate::measures::Rounding,
}

impl TaxRegime {
    /// The place of `tax_type` in the order (unknown types after every known one) and whether it joins the base
    /// of the taxes computed on value plus duties.
    fn place(&self, measure: &Measure) -> (usize, bool) {
        if self.order.is_empty() {
            return (
                usize::from(measure.base != Base::CustomsValue),
                measure.base == Base::CustomsValue,
            );
        }
        match self
            .order
            .iter()
            .position(|(code, _)| *code == measure.tax_type)
        {
            Some(place) => (
                place,
                self.order[place].1 && measure.base != Base::CustomsValueAlone,
            ),
            None => (self.order.len(), false),
        }
    }
}

/// Assesses `declaration` against `tariff` on `date`, shipment costs shared by value. Exports are valued but bear
/// no duty in this tariff.
pub fn assess(
    declaration: &Declaration,
    tariff: &Tariff,
    rates: &ExchangeRates,
    date: time::Date,
) -> Result<Assessment, Vec<Problem>> {
    assess_with(
        declaration,
        tariff,
        rates,
        date,
        valuation::Apportionment::ByValue,
        &TaxRegime::default(),
    )
}

/// [`assess`], with shipment costs shared as `apportionment` says and the taxes computed, added to the VAT base and
/// rounded as `regime` says.
pub fn assess_with(
    declaration: &Declaration,
    tariff: &Tariff,
    rates: &ExchangeRates,
    date: time::Date,
    apportionment: valuation::Apportionment,
    regime: &TaxRegime,
) -> Result<Assessment, Vec<Problem>> {
    let Valuation {
        currency,
        items: values,
    } = valuation::value_with(declaration, rates, apportionment)?;
    let imports = declaration.type_code.kind != DeclarationKind::EX;
    let mut problems = Vec::new();
    let mut items = Vec::new();
    for (index, (item, value)) in declaration
        .goods_shipment
        .goods_items
        .iter()
        .zip(&values)
        .enumerate()
    {
        let code = item.commodity_code();
        let mut taxes = Vec::new();
        if imports {
            let Some(code) = &code else {
                problems.push(Problem::with_message(
                    ErrorCode::MissingElement,
                    item_path(index, "Commodity/Classification"),
                    "An import goods item needs its commodity code (DE 6/14) to be assessed.",
                ));
                continue;
            };
            let tax_types = tariff.tax_types_for(code.as_str(), date);
            if tax_types.is_empty() {
                problems.push(Problem::with_message(
                    ErrorCode::CommodityCodeNotInTariff,
                    item_path(index, "Commodity/Classification"),
                    format!("The commodity code {code} has no measures in the tariff in force on {date}."),
                ));
                continue;
            }
            let claims = claims(declaration, item);
            // DE 4/8 per tax line; a line without one takes the item's first, and an item without any pays in cash.
            let mut methods = Vec::new();
            for (fee_index, fee) in item.duty_tax_fees.iter().enumerate() {
                let Some(code) = &fee.payment_method_code else {
                    continue;
                };
                match declaration::PaymentMethod::parse(code) {
                    Ok(method) => methods.push((fee.type_code.clone(), method)),
                    Err(_) => problems.push(Problem::with_message(
                        ErrorCode::InvalidValue,
                        item_path(
                            index,
                            &format!("Commodity/DutyTaxFee[{}]/Payment/MethodCode", fee_index + 1),
                        ),
                        format!(
                            "The method of payment (DE 4/8) is one capital letter, not {code:?}."
                        ),
                    )),
                }
            }
            let default_method = methods
                .first()
                .map_or(declaration::PaymentMethod::CASH, |(_, m)| *m);
            // The taxes that join the VAT base so far ("duties" in the CSV's base names).
            let mut duties = Decimal::ZERO;
            // In the administration's order: the taxes of the VAT base before the taxes computed on it.
            let mut measures: Vec<(usize, bool, &Measure)> = tax_types
                .iter()
                .filter_map(|t| tariff.applicable(code.as_str(), t, date, &claims))
                .map(|m| {
                    let (place, joins) = regime.place(m);
                    (place, joins, m)
                })
                .collect();
            measures.sort_by_key(|(place, _, _)| *place);
            for (_, joins_vat_base, measure) in measures {
                let pointer = item_path(index, "Commodity/DutyTaxFee");
                let base = match measure.base {
                    Base::CustomsValue | Base::CustomsValueAlone => value.customs_value,
                    Base::CustomsValuePlusDuties => match value.customs_value.checked_add(duties) {
                        Some(sum) => round(sum, &currency),
                        None => {
                            problems.push(crate::valuation::too_large(&pointer));
                            continue;
                        }
                    },
                    Base::Duties => round(duties, &currency),
                };
                match compute(measure, base, item, rates, &pointer) {
                    Ok(mut computed) => {
                        let minor = regime
                            .decimal_places
                            .map_or(currency.minor_units(), |p| p.min(currency.minor_units()));
                        let rounding = measure.rounding.unwrap_or(regime.rounding);
                        let mut amount = rounding.apply(computed.amount, minor);
                        let mut relieved = None;
                        if let Some(relief) =
                            tariff.relief(code.as_str(), &measure.tax_type, date, &claims)
                        {
                            let share = relief.rate_percent.unwrap_or(Decimal::ONE_HUNDRED);
                            let Some(off) = amount
                                .checked_mul(share)
                                .map(|v| rounding.apply(v / Decimal::ONE_HUNDRED, minor))
                            else {
                                problems.push(crate::valuation::too_large(&pointer));
                                continue;
                            };
                            amount -= off;
                            relieved = Some(off);
                            computed
                                .how
                                .push_str(&format!("; {off} relieved by {}", relief.describe()));
                        }
                        // A relieved duty does not join the base of the taxes computed on the duties.
                        if joins_vat_base {
                            match duties.checked_add(amount) {
                                Some(sum) => duties = sum,
                                None => {
                                    problems.push(crate::valuation::too_large(&pointer));
                                    continue;
                                }
                            }
                        }
                        let payment_method = methods
                            .iter()
                            .find(|(t, _)| t.as_deref() == Some(measure.tax_type.as_str()))
                            .map_or(default_method, |(_, m)| *m);
                        taxes.push(TaxLine {
                            tax_type: measure.tax_type.clone(),
                            base,
                            rate_percent: computed.rate.map(|mut rate| {
                                // Written with at least two decimals, as tariffs print rates ("2.00").
                                if rate.scale() < 2 {
                                    rate.rescale(2);
                                }
                                rate
                            }),
                            amount,
                            relieved,
                            payment_method,
                            explanation: computed.how,
                        });
                    }
                    Err(problem) => problems.push(problem),
                }
            }
        }
        items.push(ItemAssessment {
            sequence: item.sequence_numeric,
            commodity_code: code.map(|c| c.to_string()),
            customs_value: value.customs_value,
            valuation: value.explanation.clone(),
            taxes,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut totals: Vec<TaxTotal> = Vec::new();
    for tax in items.iter().flat_map(|i| &i.taxes) {
        match totals.iter_mut().find(|t| t.tax_type == tax.tax_type) {
            Some(total) => {
                total.amount = total
                    .amount
                    .checked_add(tax.amount)
                    .ok_or_else(|| vec![crate::valuation::too_large("/MetaData/Declaration")])?
            }
            None => totals.push(TaxTotal {
                tax_type: tax.tax_type.clone(),
                amount: tax.amount,
            }),
        }
    }
    Ok(Assessment {
        declaration: declaration.lrn.to_string(),
        currency: currency.to_string(),
        items,
        totals,
    })
}
