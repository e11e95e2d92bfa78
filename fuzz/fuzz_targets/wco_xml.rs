//! The WCO DEC-DMS 2 reader: any bytes give a declaration or coded problems, never a panic; a declaration read is
//! written back and read again unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = wco::Limits::default();
    if let Ok(declaration) = wco::read_declaration(data, &limits) {
        let xml = wco::write::write_declaration(&declaration);
        let again = wco::read_declaration(xml.as_bytes(), &limits).expect("what was read and written reads again");
        assert_eq!(again, declaration, "XML round trip");
    }
});
