//! The UK Trade Tariff's commodity format: any text gives requirements or a sentence, never a panic, and what it
//! gives survives the JSON the administration stores it as; its duties read as tariff lines or a sentence, each
//! line with a rate or an amount.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match lpco::uk::read(text) {
            Ok(requirements) => {
                let mut set = lpco::Requirements::default();
                set.merge(requirements).expect("one file is under the ceiling");
                let stored = serde_json::to_string(&set).expect("serialises");
                let back: lpco::Requirements = serde_json::from_str(&stored).expect("reads back");
                assert_eq!(back, set);
            }
            Err(sentence) => assert!(!sentence.is_empty()),
        }
        match lpco::uk::duties(text) {
            Ok((duties, _)) => {
                for duty in duties {
                    assert!(duty.rate_percent.is_some() || duty.amount.is_some());
                }
            }
            Err(sentence) => assert!(!sentence.is_empty()),
        }
    }
});
