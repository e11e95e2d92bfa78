//! The NCTS phase 5 readers (every P5 message, as XML and as JSON): any bytes give a message or a refusal, never a
//! panic; every message read is checked against its schema without a panic, each departure at a location inside
//! the message; what is read is written as XML and as JSON, and both read back to the same verdict.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = transit::Limits::default();
    if let Ok(message) = transit::read(data, &limits) {
        let errors = transit::validate(&message);
        for error in &errors {
            assert!(error.pointer.starts_with(&message.tree.pointer));
        }
        let valid = errors.is_empty();
        let xml = transit::to_xml(&message);
        let again = transit::read(xml.as_bytes(), &limits).expect("what is written reads back");
        assert_eq!(transit::validate(&again).is_empty(), valid, "the written XML's verdict");
        let json = transit::to_json(&message).to_string();
        if let Ok(twin) = transit::read_json(json.as_bytes(), &limits) {
            assert_eq!(transit::validate(&twin).is_empty(), valid, "the JSON form's verdict");
        }
    }
    let _ = transit::read_json(data, &limits);
});
