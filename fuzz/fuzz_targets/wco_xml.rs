//! The WCO DEC-DMS 2 reader: any bytes give a declaration, a function code 13 message or coded problems, never a
//! panic; what is read is written back and read again unchanged; a correction read is applied to a declaration without
//! a panic, and what it gives reads again.
#![no_main]
use libfuzzer_sys::fuzz_target;

const MINIMAL: &[u8] = include_bytes!("../../crates/wco/tests/minimal.xml");

fuzz_target!(|data: &[u8]| {
    let limits = wco::Limits::default();
    if let Ok(message) = wco::read_message(data, &limits) {
        let xml = wco::write::write_message(&message);
        let again = wco::read_message(xml.as_bytes(), &limits)
            .expect("what was read and written reads again");
        assert_eq!(again, message, "XML round trip");
        if let wco::Message::Additional(correction) = &message {
            let declaration = wco::read_declaration(MINIMAL, &limits).expect("the fixture reads");
            if let Ok(corrected) = wco::correction::apply(&declaration, correction) {
                let xml = wco::write::write_declaration(&corrected);
                let again = wco::read_declaration(xml.as_bytes(), &wco::Limits::for_own_output())
                    .expect("a corrected declaration reads again");
                assert_eq!(again, corrected, "corrected round trip");
            }
        }
    }
});
