//! Customs value per goods item.
//!
//! The value starts from the item price (DE 4/14), or a customs value declared directly, or failing both the
//! statistical value; it is converted to the national currency at the rate declared on the declaration (DE 4/15)
//! or, failing that, the administration's published rate; item-level additions (DE 4/9, codes beginning with A) are
//! added and deductions (DE 4/10, codes beginning with B) taken off; shipment-level freight is apportioned across
//! items in proportion to their value, the last item taking the remainder so that the parts add up exactly.

use declaration::{Amount, Currency, Declaration};
use error_table::{ErrorCode, Problem};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::HashMap;

/// Exchange rates published by the administration: national currency units per one unit of each foreign one.
#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeRates {
    pub national: Currency,
    rates: HashMap<Currency, Decimal>,
}

impl ExchangeRates {
    pub fn new(national: Currency) -> Self {
        Self {
            national,
            rates: HashMap::new(),
        }
    }

    pub fn with_rate(mut self, currency: Currency, rate: Decimal) -> Self {
        self.rates.insert(currency, rate);
        self
    }

    /// Reads `currency,rate` lines (a header line first).
    pub fn from_csv(national: &str, text: &str) -> Result<Self, String> {
        let national = Currency::parse(national).map_err(|e| e.to_string())?;
        let mut rates = Self::new(national);
        for (index, line) in text.lines().enumerate().skip(1) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (currency, rate) = line
                .split_once(',')
                .ok_or_else(|| format!("line {}: expected currency,rate", index + 1))?;
            let currency =
                Currency::parse(currency.trim()).map_err(|e| format!("line {}: {e}", index + 1))?;
            let rate =
                declaration::parse_decimal(rate).map_err(|e| format!("line {}: {e}", index + 1))?;
            if rate.is_zero() {
                return Err(format!("line {}: a rate cannot be zero", index + 1));
            }
            rates.rates.insert(currency, rate);
        }
        Ok(rates)
    }

    /// Number of foreign currencies with a published rate.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    pub fn rate(&self, currency: &Currency) -> Option<Decimal> {
        if *currency == self.national {
            Some(Decimal::ONE)
        } else {
            self.rates.get(currency).copied()
        }
    }
}

/// The customs value of one goods item, in the national currency, with how it was reached.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemValue {
    pub sequence: u32,
    pub customs_value: Decimal,
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Valuation {
    pub currency: Currency,
    pub items: Vec<ItemValue>,
}

impl Valuation {
    /// The sum of the items' customs values (each below the ceiling the caller checks; `None` if they do not fit).
    pub fn total(&self) -> Option<Decimal> {
        self.items
            .iter()
            .try_fold(Decimal::ZERO, |sum, i| sum.checked_add(i.customs_value))
    }
}

/// An amount that does not fit a decimal once multiplied or added up: refused at `pointer`, never a panic.
pub(crate) fn too_large(pointer: &str) -> Problem {
    Problem::with_message(
        ErrorCode::AmountTooLarge,
        pointer,
        "This amount, with its rate or the amounts added to it, is too large to compute with; check what is declared.",
    )
}

pub type ValuationError = Vec<Problem>;

fn item_path(index: usize, rest: &str) -> String {
    format!(
        "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{}]/{rest}",
        index + 1
    )
}

/// Converts `amount` to the national currency: the rate declared for its currency wins, then the published one.
fn convert(
    declaration: &Declaration,
    rates: &ExchangeRates,
    amount: &Amount,
    pointer: &str,
) -> Result<(Decimal, String), Problem> {
    if amount.currency == rates.national {
        return Ok((amount.value, String::new()));
    }
    let declared = declaration
        .currency_exchanges
        .iter()
        .find(|x| x.currency == amount.currency)
        .map(|x| x.rate);
    let (rate, source) = match (declared, rates.rate(&amount.currency)) {
        (Some(rate), _) => (rate, "declared rate"),
        (None, Some(rate)) => (rate, "published rate"),
        (None, None) => {
            return Err(Problem::with_message(
                ErrorCode::ExchangeRateUnknown,
                pointer,
                format!(
                    "No exchange rate from {} to {} is declared (DE 4/15) or published; declare one.",
                    amount.currency, rates.national
                ),
            ));
        }
    };
    Ok((
        amount
            .value
            .checked_mul(rate)
            .ok_or_else(|| too_large(pointer))?,
        format!(
            " converted from {} {} at the {source} {rate}",
            amount.value, amount.currency
        ),
    ))
}

/// Rounds half away from zero to the currency's minor units and writes them all out ("20.00", not "20").
pub(crate) fn round(value: Decimal, currency: &Currency) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(
        currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    );
    rounded.rescale(currency.minor_units());
    rounded
}

/// How shipment-level costs (freight and insurance to the border, header-level additions and deductions) are
/// shared among the goods items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Apportionment {
    /// In proportion to each item's value (the default).
    #[default]
    ByValue,
    /// In proportion to each item's gross mass (net mass when no gross mass is declared). When an item declares
    /// neither, the shipment falls back to value, and the explanation says so.
    ByMass,
}

/// Values every goods item of `declaration`, sharing shipment costs by value.
pub fn value(
    declaration: &Declaration,
    rates: &ExchangeRates,
) -> Result<Valuation, ValuationError> {
    value_with(declaration, rates, Apportionment::ByValue)
}

/// Values every goods item of `declaration`, sharing shipment costs as `apportionment` says.
pub fn value_with(
    declaration: &Declaration,
    rates: &ExchangeRates,
    apportionment: Apportionment,
) -> Result<Valuation, ValuationError> {
    let national = &rates.national;
    let mut problems = Vec::new();
    let mut raw = Vec::new();
    for (index, item) in declaration.goods_shipment.goods_items.iter().enumerate() {
        let (price, field, label) = if let Some(a) = &item.item_charge_amount {
            (
                Some(a),
                "Commodity/InvoiceLine/ItemChargeAmount",
                "item price",
            )
        } else if let Some(a) = &item.customs_value_amount {
            (Some(a), "CustomsValueAmount", "declared customs value")
        } else if let Some(a) = &item.statistical_value_amount {
            (Some(a), "StatisticalValueAmount", "statistical value")
        } else {
            (None, "", "")
        };
        let mut value = Decimal::ZERO;
        let mut explanation = match price {
            Some(amount) => match convert(declaration, rates, amount, &item_path(index, field)) {
                Ok((converted, how)) => {
                    value = converted;
                    format!("{label} {}{how}", amount.value)
                }
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            },
            None => "no price declared: value 0".to_owned(),
        };
        if let Some(method) = &item.valuation_method_code {
            let name = match method.as_str() {
                "1" => "transaction value",
                "2" => "transaction value of identical goods",
                "3" => "transaction value of similar goods",
                "4" => "deductive value",
                "5" => "computed value",
                "6" => "fall-back method",
                _ => "method as declared",
            };
            explanation = format!("valuation method {method} ({name}): {explanation}");
        }
        for (position, charge) in item.charge_deductions.iter().enumerate() {
            let pointer = item_path(
                index,
                &format!("CustomsValuation/ChargeDeduction[{}]", position + 1),
            );
            match convert(declaration, rates, &charge.amount, &pointer) {
                Ok((converted, _)) if charge.charges_type_code.starts_with('B') => {
                    match value.checked_sub(converted) {
                        Some(v) => value = v,
                        None => problems.push(too_large(&pointer)),
                    }
                    explanation
                        .push_str(&format!(", minus {} {converted}", charge.charges_type_code));
                }
                Ok((converted, _)) => {
                    match value.checked_add(converted) {
                        Some(v) => value = v,
                        None => problems.push(too_large(&pointer)),
                    }
                    explanation
                        .push_str(&format!(", plus {} {converted}", charge.charges_type_code));
                }
                Err(problem) => problems.push(problem),
            }
        }
        raw.push((item.sequence_numeric, value, explanation));
    }

    // Shipment-level costs, apportioned by value.
    let valuation = declaration.goods_shipment.customs_valuation.as_ref();
    let mut shipment_costs = Vec::new();
    if let Some(freight) = valuation.and_then(|v| v.freight_charge_amount.as_ref()) {
        match convert(
            declaration,
            rates,
            freight,
            "/MetaData/Declaration/GoodsShipment/CustomsValuation/FreightChargeAmount",
        ) {
            Ok((converted, _)) => shipment_costs.push(("freight", converted)),
            Err(problem) => problems.push(problem),
        }
    }
    for (position, charge) in valuation
        .map(|v| v.charge_deductions.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let pointer = format!(
            "/MetaData/Declaration/GoodsShipment/CustomsValuation/ChargeDeduction[{}]",
            position + 1
        );
        match convert(declaration, rates, &charge.amount, &pointer) {
            Ok((converted, _)) if charge.charges_type_code.starts_with('B') => {
                shipment_costs.push(("deduction", -converted))
            }
            Ok((converted, _)) => shipment_costs.push(("addition", converted)),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // The weights costs are shared by: values, or masses when every item declares one.
    let masses: Option<Vec<Decimal>> = match apportionment {
        Apportionment::ByValue => None,
        Apportionment::ByMass => declaration
            .goods_shipment
            .goods_items
            .iter()
            .map(|i| i.gross_mass_kg.or(i.net_mass_kg))
            .collect(),
    };
    let (weights, by): (Vec<Decimal>, &str) = match masses {
        Some(masses) => (masses, " by mass"),
        None => (
            raw.iter().map(|(_, v, _)| *v).collect(),
            if apportionment == Apportionment::ByMass {
                " by value (an item declares no mass)"
            } else {
                ""
            },
        ),
    };
    let shipment = "/MetaData/Declaration/GoodsShipment/CustomsValuation";
    let total = weights
        .iter()
        .try_fold(Decimal::ZERO, |sum, w| sum.checked_add(*w))
        .ok_or_else(|| vec![too_large(shipment)])?;
    for (label, cost) in shipment_costs {
        let cost = round(cost, national);
        let mut left = cost;
        let count = raw.len();
        for (position, ((_, value, explanation), weight)) in
            raw.iter_mut().zip(&weights).enumerate()
        {
            let share = if position + 1 == count {
                Some(left)
            } else if total.is_zero() {
                cost.checked_div(Decimal::from(count as u64))
                    .map(|s| round(s, national))
            } else {
                cost.checked_mul(*weight)
                    .and_then(|c| c.checked_div(total))
                    .map(|s| round(s, national))
            };
            let share = share.ok_or_else(|| vec![too_large(shipment)])?;
            left = left
                .checked_sub(share)
                .ok_or_else(|| vec![too_large(shipment)])?;
            *value = value
                .checked_add(share)
                .ok_or_else(|| vec![too_large(shipment)])?;
            explanation.push_str(&format!(", {label} share{by} {share}"));
        }
    }
    let items = raw
        .into_iter()
        .map(|(sequence, value, explanation)| ItemValue {
            sequence,
            customs_value: round(value.max(Decimal::ZERO), national),
            explanation,
        })
        .collect();
    Ok(Valuation {
        currency: national.clone(),
        items,
    })
}
