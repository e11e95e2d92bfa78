//! The WCO DEC-DMS 2 reader: any bytes give a declaration, a function code 13 message or coded problems, never a
//! panic; what is read is written back and read again unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = wco::Limits::default();
    if let Ok(message) = wco::read_message(data, &limits) {
        let xml = wco::write::write_message(&message);
        let again = wco::read_message(xml.as_bytes(), &limits)
            .expect("what was read and written reads again");
        assert_eq!(again, message, "XML round trip");
    }
});
