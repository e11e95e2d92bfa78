//! The JSON twin: any bytes give a declaration (then checked by the context-free rules) or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(declaration) = wco::json::read_declaration(data) {
        let _ = tariff::assess(&declaration, &tariff::demo::tariff(), &tariff::demo::exchange_rates(), time_date());
    }
});

fn time_date() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::November, 29).expect("a valid date")
}
