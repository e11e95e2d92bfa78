//! The WCO DEC-DMS 2 reader: any bytes give a declaration or coded problems, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wco::read_declaration(data, &wco::Limits::default());
});
