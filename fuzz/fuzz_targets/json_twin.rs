//! The JSON twin: any bytes give a declaration (then checked by the context-free rules) or an error at a JSON
//! pointer; what is read writes back to JSON and reads again unchanged, and its assessment is the same twice.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match wco::json::read_declaration(data) {
        Ok(declaration) => {
            let json = serde_json::to_vec(&declaration).expect("a declaration serializes");
            let again =
                wco::json::read_declaration(&json).expect("what was read and written reads again");
            assert_eq!(again, declaration, "JSON round trip");
            let assess = || {
                tariff::assess(
                    &declaration,
                    &tariff::demo::tariff(),
                    &tariff::demo::exchange_rates(),
                    time_date(),
                )
            };
            assert_eq!(
                assess(),
                assess(),
                "the assessment is a function of the declaration"
            );
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "a refusal says why");
            for p in &problems {
                assert!(
                    p.pointer.is_empty() || p.pointer.starts_with('/'),
                    "a JSON pointer: {p:?}"
                );
            }
        }
    }
});

fn time_date() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::November, 29).expect("a valid date")
}
