//! The tariff CSV: any text gives a tariff or an error naming a line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tariff::Tariff::from_csv(text);
    }
});
