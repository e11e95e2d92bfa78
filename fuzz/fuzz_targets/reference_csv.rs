//! The other reference files: the nomenclature (HS or national layer) and exchange rates. Any text gives a
//! table or an error naming a line, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

const HS: &str = include_str!("../seeds/reference_csv/hs.csv");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // As the HS layer, then as a national layer over a small HS one.
        let _ = tariff::Nomenclature::from_csv(text);
        if let Ok(mut layered) = tariff::Nomenclature::from_csv(HS) {
            let _ = layered.add_csv(text);
        }
        let _ = tariff::ExchangeRates::from_csv("GBP", text);
    }
});
