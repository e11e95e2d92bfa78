//! The other reference files: the nomenclature (HS or national layer) and exchange rates. Any text gives a
//! table or an error naming a line of the text, never a panic; a national layer refused leaves the HS layer as it
//! was.
#![no_main]
use libfuzzer_sys::fuzz_target;

const HS: &str = include_str!("../seeds/reference_csv/hs.csv");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let lines = text.lines().count().max(1);
        // As the HS layer, then as a national layer over a small HS one.
        if let Err(error) = tariff::Nomenclature::from_csv(text) {
            assert!(
                error.line <= lines + 1,
                "line {} of {lines}: {error}",
                error.line
            );
        }
        if let Ok(mut layered) = tariff::Nomenclature::from_csv(HS) {
            let before = layered.len();
            if let Err(error) = layered.add_csv(text) {
                assert!(error.line <= lines + 1, "{error}");
                assert_eq!(layered.len(), before, "a refused layer adds nothing");
            }
        }
        if let Err(error) = tariff::ExchangeRates::from_csv("GBP", text) {
            assert!(error.contains("line") || !error.is_empty(), "{error}");
        }
    }
});
