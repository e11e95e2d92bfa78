//! The risk rule language: any text gives a rule set (checked against lists, evaluated and screening a consignment
//! twice with the same answer)
//! or an error at a line and column inside the text; the lane rate table: any text gives a table or an error naming
//! its line (or saying that it holds none).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use selectivity::{Facts, ItemFacts, Lists};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let lines = text.lines().count().max(1);
        match selectivity::RuleSet::parse(text) {
            Ok(rules) => {
                let mut lists = Lists::default();
                lists.insert("watch", ["GB1".to_owned()]);
                let _ = rules.check_lists(&lists);
                assert_eq!(
                    rules.decide(&Facts::default(), 0),
                    rules.decide(&Facts::default(), 0)
                );
                let facts = Facts {
                    importer: Some("GB1".into()),
                    aeo: true,
                    items: vec![ItemFacts {
                        value: Decimal::MAX,
                        net_mass: Some(Decimal::new(1, 28)),
                        gross_mass: Some(Decimal::MAX),
                        supplementary_units: Some(Decimal::ZERO),
                        description: Some("General cargo, spare parts; pistol 9 mm".into()),
                        dangerous_goods: Some("0081".into()),
                        ..ItemFacts::default()
                    }],
                    consignment: selectivity::ConsignmentFacts {
                        consignors: vec!["GB1".into()],
                        route: vec!["SY".into(), "AE".into()],
                        ..selectivity::ConsignmentFacts::default()
                    },
                    ..Facts::default()
                };
                let screening = rules.screen(&facts, &lists);
                assert_eq!(screening, rules.screen(&facts, &lists));
                assert!(screening.referrals.len() <= 3);
                let first = rules.decide_with(&facts, &lists, 9_999);
                assert_eq!(
                    first,
                    rules.decide_with(&facts, &lists, 9_999),
                    "evaluation twice, one answer"
                );
            }
            Err(error) => {
                assert!(
                    error.line >= 1 && error.line <= lines + 1,
                    "line {} of {lines}",
                    error.line
                );
                assert!(error.column >= 1, "{error:?}");
            }
        }
        if let Err(error) = selectivity::rates::RateTable::parse(text) {
            // Every error names its line, but for a text with no line at all (blank lines and comments only).
            assert!(
                error.contains("line") || error == "the rate table is empty",
                "{error}"
            );
        }
    }
});
