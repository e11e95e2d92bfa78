//! The entry summary declaration readers (CC315A, CC313A, as XML and as the JSON twin): any bytes give a message or
//! a refusal, never a panic; every message read is checked against its schema and the business rules without a
//! panic, each finding at a location inside the message, and its consignment facts read; what is read from XML and written as JSON reads back to
//! the same verdict.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = entry_summary::Limits::default();
    if let Ok(message) = entry_summary::read(data, &limits) {
        let schema = entry_summary::validate(&message);
        for finding in entry_summary::check(&message) {
            assert!(finding.pointer.starts_with(&message.root.pointer));
        }
        // What the consignment rules see is read from any message, within its limits.
        let facts = entry_summary::screening::facts(&message);
        assert!(facts.items.len() <= entry_summary::screening::MAX_VALUES);
        if schema.is_empty() {
            let twin = entry_summary::json::write(&message).to_string();
            assert_eq!(
                entry_summary::judge_json(twin.as_bytes(), &limits).err(),
                entry_summary::judge(data, &limits).err(),
                "the JSON twin's verdict is the XML's"
            );
        }
    }
    let _ = entry_summary::json::read(data, &limits);
});
