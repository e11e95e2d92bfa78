//! The tariff CSV: any text gives a tariff (the same one twice) or an error naming a line of the text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let lines = text.lines().count().max(1);
        match tariff::Tariff::from_csv(text) {
            Ok(tariff) => assert_eq!(Some(tariff), tariff::Tariff::from_csv(text).ok()),
            Err(error) => assert!(
                error.line <= lines + 1,
                "line {} of {lines}: {error}",
                error.line
            ),
        }
    }
});
