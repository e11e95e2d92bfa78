//! Findings 6 and 7 of issue 14: the largest `Decimal` as a customs value, a price, a freight, an exchange rate or a
//! quantity made assessment panic ("Multiplication overflowed"). Every combination of extreme values — zero, a
//! cent, the schema's largest amount, 10^20, `Decimal::MAX` — through valuation and assessment gives an assessment
//! or a coded `declaration.amount_too_large` at a pointer, never a panic; the calculator the same over its request.

use declaration::{Amount, Currency, CurrencyExchange, ShipmentValuation};
use proptest::prelude::*;
use rust_decimal::Decimal;
use tariff::calculator::{DutyCalculationRequest, MoneyInput, QuantityInput, calculate};

fn extremes() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::ZERO),
        Just(Decimal::new(1, 2)),
        Just(Decimal::ONE),
        Just("9999999999999.999".parse().unwrap()),
        Just(Decimal::from(10u64.pow(15))),
        Just("100000000000000000000".parse().unwrap()),
        Just(Decimal::MAX),
        Just(Decimal::new(1, 28)),
    ]
}

fn request(value: &str) -> DutyCalculationRequest {
    serde_json::from_value(serde_json::json!({
        "commodity_code": "8510900000",
        "origin": "CN",
        "customs_value": {"amount": value, "currency": "GBP"}
    }))
    .unwrap()
}

fn day() -> time::Date {
    time::macros::date!(2026 - 03 - 01)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn extreme_values_are_assessed_or_refused_at_a_pointer(
        price in extremes(),
        freight in extremes(),
        declared_rate in extremes(),
        published_rate in extremes(),
        mass in extremes(),
        items in 1usize..4,
    ) {
        let (mut d, _) = tariff::calculator::declaration_for(&request("1"), day()).unwrap();
        let template = d.goods_shipment.goods_items[0].clone();
        d.goods_shipment.goods_items = (0..items)
            .map(|i| {
                let mut item = template.clone();
                item.sequence_numeric = i as u32 + 1;
                item.item_charge_amount = Some(Amount { value: price, currency: Currency::parse("USD").unwrap() });
                item.net_mass_kg = Some(mass);
                item
            })
            .collect();
        d.goods_item_quantity = Some(items as u32);
        d.goods_shipment.customs_valuation = Some(ShipmentValuation {
            freight_charge_amount: Some(Amount { value: freight, currency: Currency::parse("USD").unwrap() }),
            ..ShipmentValuation::default()
        });
        if !declared_rate.is_zero() {
            d.currency_exchanges.push(CurrencyExchange { currency: Currency::parse("USD").unwrap(), rate: declared_rate });
        }
        let mut rates = tariff::demo::exchange_rates();
        if !published_rate.is_zero() {
            rates = rates.with_rate(Currency::parse("USD").unwrap(), published_rate);
        }
        let tariff = tariff::demo::tariff();
        match tariff::assess(&d, &tariff, &rates, day()) {
            Ok(assessment) => {
                // What was computed adds up: every total is the sum of its lines.
                for total in &assessment.totals {
                    let sum = assessment.items.iter().flat_map(|i| &i.taxes)
                        .filter(|t| t.tax_type == total.tax_type)
                        .try_fold(Decimal::ZERO, |s, t| s.checked_add(t.amount));
                    prop_assert_eq!(sum, Some(total.amount));
                }
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(p.pointer.starts_with('/'), "{:?}", p);
                }
            }
        }
    }

    #[test]
    fn the_calculator_answers_or_refuses_extreme_requests(value in extremes(), quantity in extremes()) {
        let mut r = request(&value.to_string());
        r.quantities = vec![QuantityInput { unit: "KGM".into(), value: quantity.to_string() }];
        r.customs_value = MoneyInput { amount: value.to_string(), currency: "USD".into() };
        let rates = tariff::demo::exchange_rates();
        match calculate(&r, &tariff::demo::tariff(), &rates, &Default::default(), day()) {
            Ok(answer) => prop_assert!(answer.total >= Decimal::ZERO),
            Err(problems) => prop_assert!(problems.iter().all(|p| p.pointer.starts_with('/'))),
        }
    }
}

/// The exact cases of the findings: the largest `Decimal` as a calculator's customs value, and a date of year -1.
#[test]
fn the_findings_exact_requests_are_refused_with_their_codes() {
    let rates = tariff::demo::exchange_rates();
    let problems = calculate(
        &request("79228162514264337593543950335"),
        &tariff::demo::tariff(),
        &rates,
        &Default::default(),
        day(),
    )
    .unwrap_err();
    assert_eq!(problems[0].code.code(), "declaration.amount_too_large");
    assert_eq!(problems[0].pointer, "/customs_value/amount");
    let mut dated = request("100");
    dated.date = Some("-0001-01-01".into());
    let problems = calculate(
        &dated,
        &tariff::demo::tariff(),
        &rates,
        &Default::default(),
        day(),
    )
    .unwrap_err();
    assert_eq!(problems[0].pointer, "/date");
}
