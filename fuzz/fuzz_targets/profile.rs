//! The administration's profile (aduana.toml): any text gives a profile or errors each at a line of the text,
//! never a panic; a profile read is written back and read as the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let lines = text.lines().count().max(1);
        match administration::parse(text) {
            Ok(profile) => {
                let again = administration::parse(&profile.to_toml()).expect("written back reads");
                assert_eq!(
                    administration::Profile { source: String::new(), ..again },
                    administration::Profile { source: String::new(), ..profile }
                );
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                for error in errors {
                    assert!(error.line <= lines + 1, "{error}");
                }
            }
        }
    }
});
