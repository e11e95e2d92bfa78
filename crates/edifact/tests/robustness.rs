//! Any bytes, and any mutation of a good interchange, give a result or problems with a segment pointer; never a
//! panic.

use proptest::prelude::*;

const GOOD: &[u8] = include_bytes!("messages/TT_IM001b.edi");
const MARKUP: &[u8] = b"'+:?\r\nUNHUNTUNZ0123456789";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    #[test]
    fn mutated_interchanges_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, 0usize..MARKUP.len()), 1..6)) {
        let mut bytes = GOOD.to_vec();
        for (at, kind, m) in edits {
            let i = at.index(bytes.len().max(1)).min(bytes.len().saturating_sub(1));
            match kind {
                0 if !bytes.is_empty() => { bytes.remove(i); }
                1 => bytes.insert(i, MARKUP[m]),
                _ if !bytes.is_empty() => bytes[i] = MARKUP[m],
                _ => {}
            }
        }
        if let Err(problems) = edifact::read_cusdec(&bytes, &edifact::syntax::Limits::default()) {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| p.pointer.starts_with("/segments/")), "{problems:?}");
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = edifact::read_cusdec(&bytes, &edifact::syntax::Limits::default());
    }
}
