//! The risk rule language: any text gives a rule set (checked against lists, evaluated twice) or an error with
//! its position; the lane rate table: any text gives a table or an error naming its line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use selectivity::{Facts, ItemFacts, Lists};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rules) = selectivity::RuleSet::parse(text) {
            let mut lists = Lists::default();
            lists.insert("watch", ["GB1".to_owned()]);
            let _ = rules.check_lists(&lists);
            let _ = rules.decide(&Facts::default(), 0);
            let facts = Facts {
                importer: Some("GB1".into()),
                aeo: true,
                items: vec![ItemFacts {
                    value: Decimal::MAX,
                    net_mass: Some(Decimal::new(1, 28)),
                    gross_mass: Some(Decimal::MAX),
                    supplementary_units: Some(Decimal::ZERO),
                    ..ItemFacts::default()
                }],
                ..Facts::default()
            };
            let _ = rules.decide_with(&facts, &lists, 9_999);
        }
        let _ = selectivity::rates::RateTable::parse(text);
    }
});
