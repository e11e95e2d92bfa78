//! The risk rule language: any text gives a rule set (evaluated once) or an error with its position.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rules) = selectivity::RuleSet::parse(text) {
            let _ = rules.decide(&selectivity::Facts::default(), 0);
        }
    }
});
