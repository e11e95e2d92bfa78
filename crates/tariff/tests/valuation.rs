//! Customs value per goods item, with expectations computed by hand: conversion at the declared or published rate,
//! item additions and deductions, shipment costs apportioned by value or by mass with the remainder on the last
//! item, and the valuation method named.
//!
//! Published rates: GBP national; USD 0.8 GBP. Declared rates override them.

use declaration::{Amount, ChargeDeduction, Currency, CurrencyExchange, ShipmentValuation};
use rust_decimal::Decimal;
use tariff::valuation::{self, Apportionment, ExchangeRates};

fn money(value: &str, currency: &str) -> Amount {
    Amount {
        value: value.parse().unwrap(),
        currency: Currency::parse(currency).unwrap(),
    }
}

fn rates() -> ExchangeRates {
    ExchangeRates::new(Currency::parse("GBP").unwrap())
        .with_rate(Currency::parse("USD").unwrap(), Decimal::new(8, 1))
}

/// A declaration of items with these (price, currency, gross mass) values.
fn declaration(items: &[(&str, &str, Option<&str>)]) -> declaration::Declaration {
    let request = serde_json::from_value(serde_json::json!({
        "commodity_code": "8510900000",
        "customs_value": {"amount": "1", "currency": "GBP"}
    }))
    .unwrap();
    let (mut declaration, _) =
        tariff::calculator::declaration_for(&request, time::macros::date!(2026 - 03 - 01)).unwrap();
    let template = declaration.goods_shipment.goods_items[0].clone();
    declaration.goods_shipment.goods_items = items
        .iter()
        .enumerate()
        .map(|(index, (price, currency, mass))| {
            let mut item = template.clone();
            item.sequence_numeric = index as u32 + 1;
            item.item_charge_amount = Some(money(price, currency));
            item.gross_mass_kg = mass.map(|m| m.parse().unwrap());
            item
        })
        .collect();
    declaration.goods_item_quantity = Some(items.len() as u32);
    declaration
}

fn values(declaration: &declaration::Declaration, apportionment: Apportionment) -> Vec<String> {
    valuation::value_with(declaration, &rates(), apportionment)
        .unwrap()
        .items
        .iter()
        .map(|i| i.customs_value.to_string())
        .collect()
}

#[test]
fn conversion_uses_the_declared_rate_before_the_published_one() {
    let mut d = declaration(&[("1000", "USD", None)]);
    assert_eq!(values(&d, Apportionment::ByValue), ["800.00"]); // published 0.8
    d.currency_exchanges.push(CurrencyExchange {
        currency: Currency::parse("USD").unwrap(),
        rate: "0.7525".parse().unwrap(),
    });
    assert_eq!(values(&d, Apportionment::ByValue), ["752.50"]); // declared 0.7525
    let d = declaration(&[("1000", "JPY", None)]);
    let problems = valuation::value(&d, &rates()).unwrap_err();
    assert_eq!(problems[0].code.code(), "assessment.exchange_rate_unknown");
    assert!(
        problems[0].pointer.ends_with("ItemChargeAmount"),
        "{}",
        problems[0].pointer
    );
}

#[test]
fn item_additions_and_deductions_change_the_value() {
    let mut d = declaration(&[("1000", "GBP", None)]);
    let item = &mut d.goods_shipment.goods_items[0];
    item.charge_deductions = vec![
        // AK commissions (+), AD royalties (+) in USD at 0.8, BA transport after import (−)
        ChargeDeduction {
            charges_type_code: "AK".into(),
            amount: money("50", "GBP"),
        },
        ChargeDeduction {
            charges_type_code: "AD".into(),
            amount: money("100", "USD"),
        },
        ChargeDeduction {
            charges_type_code: "BA".into(),
            amount: money("30", "GBP"),
        },
    ];
    item.valuation_method_code = Some("1".into());
    // 1000 + 50 + 80 − 30 = 1100
    let valuation = valuation::value(&d, &rates()).unwrap();
    assert_eq!(valuation.items[0].customs_value.to_string(), "1100.00");
    let explanation = &valuation.items[0].explanation;
    assert!(
        explanation.starts_with("valuation method 1 (transaction value)"),
        "{explanation}"
    );
    assert!(explanation.contains("minus BA 30"), "{explanation}");
}

#[test]
fn shipment_costs_are_shared_by_value_or_by_mass_and_add_up_exactly() {
    // Freight 100.00 over three items worth 100, 200 and 700 with gross masses 60, 30 and 10 kg.
    let mut d = declaration(&[
        ("100", "GBP", Some("60")),
        ("200", "GBP", Some("30")),
        ("700", "GBP", Some("10")),
    ]);
    d.goods_shipment.customs_valuation = Some(ShipmentValuation {
        freight_charge_amount: Some(money("100", "GBP")),
        ..ShipmentValuation::default()
    });
    // By value: 10, 20, 70.
    assert_eq!(
        values(&d, Apportionment::ByValue),
        ["110.00", "220.00", "770.00"]
    );
    // By mass: 60, 30, 10.
    assert_eq!(
        values(&d, Apportionment::ByMass),
        ["160.00", "230.00", "710.00"]
    );
    // Thirds that do not divide: 33.33 + 33.33 + 33.34, the last item takes the remainder.
    let mut d = declaration(&[
        ("100", "GBP", Some("1")),
        ("100", "GBP", Some("1")),
        ("100", "GBP", Some("1")),
    ]);
    d.goods_shipment.customs_valuation = Some(ShipmentValuation {
        freight_charge_amount: Some(money("100", "GBP")),
        ..ShipmentValuation::default()
    });
    for apportionment in [Apportionment::ByValue, Apportionment::ByMass] {
        assert_eq!(values(&d, apportionment), ["133.33", "133.33", "133.34"]);
    }
    // An item without a mass: by value, and the explanation says why.
    d.goods_shipment.goods_items[1].gross_mass_kg = None;
    let valuation = valuation::value_with(&d, &rates(), Apportionment::ByMass).unwrap();
    assert!(
        valuation.items[0]
            .explanation
            .contains("by value (an item declares no mass)"),
        "{}",
        valuation.items[0].explanation
    );
}

#[test]
fn apportioned_costs_always_add_up_to_the_cost() {
    use proptest::prelude::*;
    proptest!(|(prices in proptest::collection::vec(1u32..1_000_000, 1..20), freight in 0u32..10_000_000)| {
        let items: Vec<(String, &str, Option<String>)> = prices
            .iter()
            .map(|p| (format!("{}.{:02}", p / 100, p % 100), "GBP", Some(format!("{}", p % 97 + 1))))
            .collect();
        let refs: Vec<(&str, &str, Option<&str>)> = items
            .iter()
            .map(|(p, c, m)| (p.as_str(), *c, m.as_deref()))
            .collect();
        let mut d = declaration(&refs);
        let freight = Decimal::new(i64::from(freight), 2);
        d.goods_shipment.customs_valuation = Some(ShipmentValuation {
            freight_charge_amount: Some(Amount { value: freight, currency: Currency::parse("GBP").unwrap() }),
            ..ShipmentValuation::default()
        });
        let before: Decimal = prices.iter().map(|p| Decimal::new(i64::from(*p), 2)).sum();
        for apportionment in [Apportionment::ByValue, Apportionment::ByMass] {
            let after = valuation::value_with(&d, &rates(), apportionment).unwrap().total();
            prop_assert_eq!(after, Some(before + freight));
        }
    });
}
