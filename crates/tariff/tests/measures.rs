//! Measures of every kind, with expectations computed by hand. Each case is a small tariff, a duty calculation
//! request, and the tax lines expected: `TYPE base rate amount [relieved]` (rate `-` for a specific measure).
//!
//! Rates used: GBP is the national currency; USD 0.8 and EUR 0.85 GBP per unit.

use rust_decimal::Decimal;
use tariff::{ExchangeRates, Tariff};

struct Case {
    name: &'static str,
    tariff: &'static str,
    request: &'static str,
    expected: &'static [&'static str],
}

const HEADER: &str = "commodity_code,tax_type,kind,rate_percent,amount,currency,unit,minimum,maximum,base,origin,preference_code,condition,valid_from,valid_to,rounding\n";

const CASES: &[Case] = &[
    Case {
        name: "ad valorem on the customs value",
        tariff: "85,A00,ad_valorem,2.7,,,,,,,,,,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        // 1000 × 2.7 % = 27
        expected: &["A00 1000.00 2.70 27.00"],
    },
    Case {
        name: "a value in a foreign currency is converted at the published rate",
        tariff: "85,A00,ad_valorem,2.7,,,,,,,,,,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"USD"}}"#,
        // 1000 USD × 0.8 = 800 GBP; 800 × 2.7 % = 21.60
        expected: &["A00 800.00 2.70 21.60"],
    },
    Case {
        name: "amounts are rounded half away from zero to the penny",
        tariff: "85,A00,ad_valorem,10,,,,,,,,,,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"0.05","currency":"GBP"}}"#,
        // 0.05 × 10 % = 0.005 → 0.01
        expected: &["A00 0.05 10.00 0.01"],
    },
    Case {
        name: "specific per kilogram of net mass",
        tariff: "0701,A00,specific,,0.32,GBP,KGM,,,,,,,,,",
        request: r#"{"commodity_code":"0701900000","customs_value":{"amount":"100","currency":"GBP"},"quantities":[{"unit":"KGM","value":"12.5"}]}"#,
        // 12.5 kg × 0.32 = 4.00
        expected: &["A00 100.00 - 4.00"],
    },
    Case {
        name: "specific per litre",
        tariff: "2204,A00,specific,,0.32,GBP,LTR,,,,,,,,,",
        request: r#"{"commodity_code":"2204210000","customs_value":{"amount":"1000","currency":"GBP"},"quantities":[{"unit":"LTR","value":"750"}]}"#,
        // 750 l × 0.32 = 240.00
        expected: &["A00 1000.00 - 240.00"],
    },
    Case {
        name: "excise per litre of pure alcohol",
        tariff: "2208,311,specific,,31.64,GBP,LPA,,,,,,,,,",
        request: r#"{"commodity_code":"2208301100","customs_value":{"amount":"500","currency":"GBP"},"quantities":[{"unit":"LTR","value":"25"},{"unit":"LPA","value":"10.5"}]}"#,
        // 10.5 lpa × 31.64 = 332.22 (the litres of product do not count)
        expected: &["311 500.00 - 332.22"],
    },
    Case {
        name: "specific per 1,000 items",
        tariff: "2402,A00,specific,,45.20,GBP,1000 NAR,,,,,,,,,",
        request: r#"{"commodity_code":"2402200000","customs_value":{"amount":"300","currency":"GBP"},"quantities":[{"unit":"NAR","value":"2500"}]}"#,
        // 2500 / 1000 × 45.20 = 113.00
        expected: &["A00 300.00 - 113.00"],
    },
    Case {
        name: "a specific amount in a foreign currency is converted",
        tariff: "0406,A00,specific,,2,EUR,KGM,,,,,,,,,",
        request: r#"{"commodity_code":"0406100000","customs_value":{"amount":"900","currency":"GBP"},"quantities":[{"unit":"KGM","value":"100"}]}"#,
        // 100 kg × 2 EUR × 0.85 = 170.00
        expected: &["A00 900.00 - 170.00"],
    },
    Case {
        name: "compound: ad valorem plus specific",
        tariff: "1704,A00,compound,6,0.30,GBP,KGM,,,,,,,,,",
        request: r#"{"commodity_code":"1704909900","customs_value":{"amount":"200","currency":"GBP"},"quantities":[{"unit":"KGM","value":"50"}]}"#,
        // 200 × 6 % + 50 × 0.30 = 12 + 15 = 27.00
        expected: &["A00 200.00 6.00 27.00"],
    },
    Case {
        name: "a minimum raises the amount",
        tariff: "64,A00,ad_valorem,5,,,,10,,,,,,,,",
        request: r#"{"commodity_code":"6403990000","customs_value":{"amount":"100","currency":"GBP"}}"#,
        // 100 × 5 % = 5, below the minimum 10
        expected: &["A00 100.00 5.00 10.00"],
    },
    Case {
        name: "a maximum caps the amount",
        tariff: "64,A00,ad_valorem,10,,,,,20,,,,,,,",
        request: r#"{"commodity_code":"6403990000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        // 1000 × 10 % = 100, above the maximum 20
        expected: &["A00 1000.00 10.00 20.00"],
    },
    Case {
        name: "a preferential rate for an origin with its preference code",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,JP,300,,,,",
        request: r#"{"commodity_code":"8510900000","origin":"JP","preference":"300","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 0.00 0.00"],
    },
    Case {
        name: "the same origin without the preference claimed pays the full rate",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,JP,300,,,,",
        request: r#"{"commodity_code":"8510900000","origin":"JP","preference":"100","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        // 1000 × 4 % = 40
        expected: &["A00 1000.00 4.00 40.00"],
    },
    Case {
        name: "the longest commodity prefix wins",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n851090,A00,ad_valorem,2,,,,,,,,,,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 2.00 20.00"],
    },
    Case {
        name: "VAT on the customs value plus duties",
        tariff: "85,A00,ad_valorem,10,,,,,,customs_value,,,,,,\n85,B00,ad_valorem,20,,,,,,customs_value_plus_duties,,,,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        // A00 100; B00 (1000 + 100) × 20 % = 220
        expected: &["A00 1000.00 10.00 100.00", "B00 1100.00 20.00 220.00"],
    },
    Case {
        name: "VAT split in two lines, as HMRC notifies it",
        tariff: "85,A00,ad_valorem,10,,,,,,customs_value,,,,,,\n85,B00,ad_valorem,20,,,,,,customs_value_alone,,,,,,\n85,B05,ad_valorem,20,,,,,,duties,,,,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        // A00 100; B00 1000 × 20 % = 200; B05 100 × 20 % = 20
        expected: &[
            "A00 1000.00 10.00 100.00",
            "B00 1000.00 20.00 200.00",
            "B05 100.00 20.00 20.00",
        ],
    },
    Case {
        name: "excise joins the VAT base",
        tariff: "2204,A00,ad_valorem,0,,,,,,,,,,,,\n2204,411,specific,,2.67,GBP,LTR,,,,,,,,,\n2204,B00,ad_valorem,20,,,,,,customs_value_plus_duties,,,,,,",
        request: r#"{"commodity_code":"2204210000","customs_value":{"amount":"1000","currency":"GBP"},"quantities":[{"unit":"LTR","value":"100"}]}"#,
        // 411: 100 l × 2.67 = 267; B00 (1000 + 0 + 267) × 20 % = 253.40
        expected: &[
            "A00 1000.00 0.00 0.00",
            "411 1000.00 - 267.00",
            "B00 1267.00 20.00 253.40",
        ],
    },
    Case {
        name: "a full relief claimed: the tax is shown and taken off, and leaves the VAT base",
        tariff: "85,A00,ad_valorem,5,,,,,,,,,,,,\n85,B00,ad_valorem,20,,,,,,customs_value_plus_duties,,,,,,\n,A00,relief,,,,,,,,,,additional_procedure=C07,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"100","currency":"GBP"},"additional_procedures":["C07"]}"#,
        // A00 5 relieved in full; B00 100 × 20 % = 20
        expected: &["A00 100.00 5.00 0.00 5.00", "B00 100.00 20.00 20.00"],
    },
    Case {
        name: "a partial relief",
        tariff: "85,A00,ad_valorem,5,,,,,,,,,,,,\n85,A00,relief,50,,,,,,,,,statement=XYZ01,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"GBP"},"statements":["XYZ01"]}"#,
        // 1000 × 5 % = 50, half relieved
        expected: &["A00 1000.00 5.00 25.00 25.00"],
    },
    Case {
        name: "a relief not claimed does not apply",
        tariff: "85,A00,ad_valorem,5,,,,,,,,,,,,\n,A00,relief,,,,,,,,,,additional_procedure=C07,,,",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 5.00 50.00"],
    },
    Case {
        name: "a relief needs every one of its conditions",
        tariff: "85,A00,ad_valorem,5,,,,,,,,,,,,\n,A00,relief,,,,,,,,,,statement=NIDOM & procedure=40,,,",
        request: r#"{"commodity_code":"8510900000","procedure":"51","statements":["NIDOM"],"customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 5.00 50.00"],
    },
    Case {
        name: "a rate limited to a procedure (suspension as data)",
        tariff: "85,A00,ad_valorem,5,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,,,procedure=61,,,",
        request: r#"{"commodity_code":"8510900000","procedure":"61","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 0.00 0.00"],
    },
    Case {
        name: "the measure in force on the date applies",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,2020-01-01,2025-12-31,\n85,A00,ad_valorem,3,,,,,,,,,,2026-01-01,,",
        request: r#"{"commodity_code":"8510900000","date":"2025-12-31","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 4.00 40.00"],
    },
    Case {
        name: "the next day the new rate applies",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,2020-01-01,2025-12-31,\n85,A00,ad_valorem,3,,,,,,,,,,2026-01-01,,",
        request: r#"{"commodity_code":"8510900000","date":"2026-01-01","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 3.00 30.00"],
    },
    Case {
        name: "a country group: the preferential line lists its countries",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,CA MX US,300,,,,",
        request: r#"{"commodity_code":"8510900000","origin":"MX","preference":"300","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 0.00 0.00"],
    },
    Case {
        name: "an origin outside the group pays the general rate",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,CA MX US,300,,,,",
        request: r#"{"commodity_code":"8510900000","origin":"CN","preference":"300","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 4.00 40.00"],
    },
    Case {
        name: "a preference with its proof of origin declared",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,JP,300,document=U164,,,",
        request: r#"{"commodity_code":"8510900000","origin":"JP","preference":"300","documents":["U164"],"customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 0.00 0.00"],
    },
    Case {
        name: "a preference claimed without its proof of origin falls back to the general rate",
        tariff: "85,A00,ad_valorem,4,,,,,,,,,,,,\n85,A00,ad_valorem,0,,,,,,,JP,300,document=U164,,,",
        request: r#"{"commodity_code":"8510900000","origin":"JP","preference":"300","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 4.00 40.00"],
    },
    Case {
        name: "a tariff quota rate with its order number",
        tariff: "0201,A00,ad_valorem,12.8,,,,,,,,,,,,\n0201,A00,ad_valorem,0,,,,,,,,,quota=054321,,,",
        request: r#"{"commodity_code":"0201100000","quota_order_id":"054321","customs_value":{"amount":"1000","currency":"GBP"}}"#,
        expected: &["A00 1000.00 0.00 0.00"],
    },
    Case {
        name: "rounding down, configured on the line",
        tariff: "85,A00,ad_valorem,10,,,,,,,,,,,,down",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"0.09","currency":"GBP"}}"#,
        // 0.09 × 10 % = 0.009 → 0.00 (half up would give 0.01)
        expected: &["A00 0.09 10.00 0.00"],
    },
    Case {
        name: "rounding up, configured on the line",
        tariff: "85,A00,ad_valorem,1,,,,,,,,,,,,up",
        request: r#"{"commodity_code":"8510900000","customs_value":{"amount":"0.10","currency":"GBP"}}"#,
        // 0.10 × 1 % = 0.001 → 0.01 (half up would give 0.00)
        expected: &["A00 0.10 1.00 0.01"],
    },
];

fn rates() -> ExchangeRates {
    use declaration::Currency;
    ExchangeRates::new(Currency::parse("GBP").unwrap())
        .with_rate(Currency::parse("USD").unwrap(), Decimal::new(8, 1))
        .with_rate(Currency::parse("EUR").unwrap(), Decimal::new(85, 2))
}

#[test]
fn every_kind_of_measure_computes_the_hand_computed_amount() {
    let today = time::macros::date!(2026 - 03 - 01);
    for case in CASES {
        let tariff = Tariff::from_csv(&format!("{HEADER}{}\n", case.tariff))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let request = serde_json::from_str(case.request).unwrap();
        let calculation = tariff::calculate(
            &request,
            &tariff,
            &rates(),
            &tariff::TaxRegime::default(),
            today,
        )
        .unwrap_or_else(|p| panic!("{}: {p:?}", case.name));
        let got: Vec<String> = calculation
            .taxes
            .iter()
            .map(|t| {
                let mut line = format!(
                    "{} {} {} {}",
                    t.tax_type,
                    t.base,
                    t.rate_percent.map_or("-".to_owned(), |r| r.to_string()),
                    t.amount
                );
                if let Some(relieved) = t.relieved {
                    line.push_str(&format!(" {relieved}"));
                }
                line
            })
            .collect();
        assert_eq!(got, case.expected, "{}", case.name);
        let total: Decimal = calculation.taxes.iter().map(|t| t.amount).sum();
        assert_eq!(calculation.total, total, "{}", case.name);
    }
}

#[test]
fn a_bad_request_names_every_bad_field() {
    let tariff = tariff::demo::tariff();
    let request = serde_json::from_str(
        r#"{"commodity_code":"85A","origin":"XX1","customs_value":{"amount":"-5","currency":"GBP"},
            "quantities":[{"unit":"KGM","value":"many"}],"date":"2026-02-30","procedure":"4"}"#,
    )
    .unwrap();
    let problems = tariff::calculate(
        &request,
        &tariff,
        &rates(),
        &tariff::TaxRegime::default(),
        time::macros::date!(2026 - 03 - 01),
    )
    .unwrap_err();
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/commodity_code",
            "/origin",
            "/customs_value/amount",
            "/date",
            "/quantities/0/value",
            "/procedure"
        ]
    );
    assert!(problems.iter().all(|p| p.message.len() > 20));
}

#[test]
fn a_specific_measure_without_its_quantity_asks_for_it() {
    let tariff = Tariff::from_csv(&format!(
        "{HEADER}2204,A00,specific,,0.32,GBP,LTR,,,,,,,,,\n"
    ))
    .unwrap();
    let request = serde_json::from_str(
        r#"{"commodity_code":"2204210000","customs_value":{"amount":"1000","currency":"GBP"}}"#,
    )
    .unwrap();
    let problems = tariff::calculate(
        &request,
        &tariff,
        &rates(),
        &tariff::TaxRegime::default(),
        time::macros::date!(2026 - 03 - 01),
    )
    .unwrap_err();
    assert_eq!(problems[0].pointer, "/quantities");
    assert!(
        problems[0].message.contains("LTR"),
        "{}",
        problems[0].message
    );
}
