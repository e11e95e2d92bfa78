//! The entry summary declaration reader (CC315A, CC313A): any bytes give a message or a refusal, never a panic,
//! and every message read is checked against the business rules without a panic, each finding at a location
//! inside the message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = entry_summary::read(data, &entry_summary::Limits::default()) {
        for finding in entry_summary::check(&message) {
            assert!(finding.pointer.starts_with(&message.root.pointer));
        }
    }
});
