//! Hostile and broken input never panics: random mutations of a real declaration (bit flips, truncations,
//! insertions of markup) and random bytes are read to a result, never a crash. The fuzz targets of the
//! conformance work explore further; these run in every test run.

use proptest::prelude::*;

fn seed() -> Vec<u8> {
    match test_support::hmrc_samples() {
        Some(samples) => std::fs::read(samples.join("TT_IM001b/TT_IM001b.xml")).unwrap(),
        None => include_bytes!("../../../crates/wco/tests/minimal.xml").to_vec(),
    }
}

const MARKUP: &[&str] = &[
    "<",
    ">",
    "</",
    "&",
    "&amp;",
    "&#0;",
    "&#xFFFFFFFF;",
    "<!DOCTYPE x>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?x?>",
    "\"",
    "'",
    "=",
    "xmlns:a=\"\"",
    "\u{0}",
    "\u{FFFF}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn mutated_declarations_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, any::<u8>(), 0usize..MARKUP.len()), 1..8)) {
        let mut bytes = seed();
        for (index, kind, byte, markup) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = index.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.truncate(at),
                2 => { bytes.splice(at..at, MARKUP[markup].bytes()); }
                _ => { bytes.remove(at); }
            }
        }
        let _ = wco::read_declaration(&bytes, &wco::Limits::default());
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = wco::read_declaration(&bytes, &wco::Limits::default());
    }
}
