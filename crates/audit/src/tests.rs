use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn key(n: u8) -> SigningKey {
    signing_key([n; 32])
}

fn new_entry(rng: &mut StdRng, i: usize) -> NewEntry {
    let actions = [
        "declaration.event",
        "ledger.transfer",
        "user.login",
        "token.revoke",
        "export.report",
    ];
    NewEntry {
        at: format!("2026-11-29T10:{:02}:{:02}.000000Z", i / 60 % 60, i % 60),
        actor: format!("user-{}", rng.random_range(0..5)),
        actor_role: ["trader", "officer", "admin"][rng.random_range(0..3)].to_owned(),
        action: actions[rng.random_range(0..actions.len())].to_owned(),
        subject: format!("declaration/{}/{:06}", rng.random_range(0..1000), i),
        data_hash: data_hash(&rng.random::<[u8; 16]>()),
    }
}

fn chain(rng: &mut StdRng, len: usize) -> Vec<Entry> {
    let mut head = Head::genesis();
    (0..len).map(|i| head.append(new_entry(rng, i))).collect()
}

/// Checkpoints at some entries and always at the last one.
fn checkpoints(rng: &mut StdRng, entries: &[Entry], key: &SigningKey) -> Vec<Checkpoint> {
    let mut signed = Vec::new();
    for entry in entries {
        if rng.random_bool(0.2) || entry.seq == entries.len() as u64 {
            let head = Head {
                seq: entry.seq,
                hash: entry.hash.clone(),
            };
            signed.push(Checkpoint::sign(&head, &entry.at, key));
        }
    }
    signed
}

#[test]
fn an_untouched_chain_verifies() {
    let mut rng = StdRng::seed_from_u64(1);
    let entries = chain(&mut rng, 50);
    let key = key(7);
    let signed = checkpoints(&mut rng, &entries, &key);
    let summary = verify(&entries, signed.clone(), &[key.verifying_key()]).unwrap();
    assert_eq!(summary.entries, 50);
    assert_eq!(summary.unsealed, 0);
    assert_eq!(summary.checkpoints_matched, signed.len());
    // An empty chain with no checkpoint is fine; with a checkpoint at 3 it is a truncation.
    assert_eq!(verify(&[], vec![], &[]).unwrap().entries, 0);
}

#[test]
fn checkpoints_must_be_signed_by_a_trusted_key() {
    let mut rng = StdRng::seed_from_u64(2);
    let entries = chain(&mut rng, 5);
    let head = Head {
        seq: 5,
        hash: entries[4].hash.clone(),
    };
    let good = Checkpoint::sign(&head, "2026-11-29T10:00:00Z", &key(1));
    let trusted = [key(1).verifying_key()];
    assert!(verify(&entries, vec![good.clone()], &trusted).is_ok());
    // Another key, an edited hash, an edited time, a garbled signature.
    let foreign = Checkpoint::sign(&head, "2026-11-29T10:00:00Z", &key(2));
    let mut edited_hash = good.clone();
    edited_hash.hash = entries[3].hash.clone();
    let mut edited_time = good.clone();
    edited_time.at = "2026-11-30T10:00:00Z".into();
    let mut garbled = good.clone();
    garbled.signature = "zz".into();
    for bad in [foreign, edited_hash, edited_time, garbled] {
        let finding = verify(&entries, vec![bad], &trusted).unwrap_err();
        assert_eq!(finding.problem, Problem::BadCheckpoint { checkpoint: 5 });
    }
}

#[derive(Clone, Copy, Debug)]
enum Tampering {
    EditField,
    EditAndRehash,
    Delete,
    DeleteAndRenumber,
    InsertForged,
    Swap,
    TruncateTail,
    RewriteFrom,
}

const TAMPERINGS: [Tampering; 8] = [
    Tampering::EditField,
    Tampering::EditAndRehash,
    Tampering::Delete,
    Tampering::DeleteAndRenumber,
    Tampering::InsertForged,
    Tampering::Swap,
    Tampering::TruncateTail,
    Tampering::RewriteFrom,
];

/// Edits one field; says whether it was the link to the previous entry.
fn edit_field(rng: &mut StdRng, entry: &mut Entry) -> bool {
    let field = rng.random_range(0..8);
    let text = match field {
        0 => &mut entry.at,
        1 => &mut entry.actor,
        2 => &mut entry.actor_role,
        3 => &mut entry.action,
        4 => &mut entry.subject,
        5 => &mut entry.data_hash,
        6 => &mut entry.prev_hash,
        _ => &mut entry.hash,
    };
    // Change one character, or append one: the smallest edits.
    if text.is_empty() || rng.random_bool(0.3) {
        text.push('x');
    } else {
        let at = rng.random_range(0..text.len());
        let old = text.as_bytes()[at];
        let new = if old == b'0' { '1' } else { '0' };
        text.replace_range(at..at + 1, &new.to_string());
    }
    field == 6
}

/// Re-chains entries from `from` (an index) on, as someone able to write the database could.
fn rehash_from(entries: &mut [Entry], from: usize) {
    for i in from..entries.len() {
        if i > 0 {
            entries[i].prev_hash = entries[i - 1].hash.clone();
        }
        entries[i].hash = entries[i].computed_hash();
    }
}

/// Applies one tampering at a random place; returns the number of the first entry it made bad, and whether the
/// verifier may only be able to name the checkpoint range that holds it (a rewrite consistent up to a checkpoint).
fn tamper(rng: &mut StdRng, entries: &mut Vec<Entry>, how: Tampering) -> (u64, bool) {
    let len = entries.len();
    let k = rng.random_range(0..len); // index; seq = k + 1
    let seq = k as u64 + 1;
    match how {
        Tampering::EditField => {
            let _ = edit_field(rng, &mut entries[k]);
            (seq, false)
        }
        Tampering::EditAndRehash => {
            let before = entries[k].hash.clone();
            let mut link_edited = false;
            while entries[k].computed_hash() == before {
                link_edited |= edit_field(rng, &mut entries[k]);
            }
            entries[k].hash = entries[k].computed_hash();
            // A consistent entry that does not link to its predecessor: either it was re-linked or the predecessor
            // was replaced; nothing tells the two apart, so the verifier names the predecessor, the earlier one.
            let named = if link_edited && seq > 1 { seq - 1 } else { seq };
            (named, k + 1 == len && !link_edited)
        }
        Tampering::Delete => {
            entries.remove(k);
            (seq, false)
        }
        Tampering::DeleteAndRenumber => {
            entries.remove(k);
            for entry in &mut entries[k..] {
                entry.seq -= 1;
            }
            (seq, false)
        }
        Tampering::InsertForged => {
            let mut forged = entries[k].clone();
            forged.actor = "intruder".into();
            forged.hash = forged.computed_hash();
            entries.insert(k, forged);
            for entry in &mut entries[k + 1..] {
                entry.seq += 1;
            }
            (seq, false)
        }
        Tampering::Swap => {
            if len < 2 {
                let _ = edit_field(rng, &mut entries[k]);
                return (seq, false);
            }
            let k = rng.random_range(0..len - 1);
            let (a, b) = (entries[k].seq, entries[k + 1].seq);
            entries.swap(k, k + 1);
            entries[k].seq = a;
            entries[k + 1].seq = b;
            (k as u64 + 1, false)
        }
        Tampering::TruncateTail => {
            entries.truncate(k);
            (seq, false)
        }
        Tampering::RewriteFrom => {
            entries[k].data_hash = data_hash(b"forged");
            rehash_from(entries, k);
            (seq, true)
        }
    }
}

/// Ten thousand random tamperings of signed chains: every one is detected, and the finding names the tampered
/// entry (or, for a chain rewritten consistently, a checkpoint range that starts at or before it).
#[test]
fn ten_thousand_random_tamperings_are_all_detected() {
    let mut rng = StdRng::seed_from_u64(20261129);
    let key = key(9);
    let trusted = [key.verifying_key()];
    let mut by_kind = [0usize; TAMPERINGS.len()];
    let (mut exact, mut ranges) = (0, 0);
    for round in 0..10_000 {
        let len = rng.random_range(1..80);
        let mut entries = chain(&mut rng, len);
        let signed = checkpoints(&mut rng, &entries, &key);
        let kind = rng.random_range(0..TAMPERINGS.len());
        by_kind[kind] += 1;
        let how = TAMPERINGS[kind];
        let original = entries.clone();
        let (first_bad, range_only) = tamper(&mut rng, &mut entries, how);
        assert_ne!(entries, original, "round {round}: {how:?} changed nothing");
        let finding = match verify(&entries, signed, &trusted) {
            Ok(summary) => {
                panic!("round {round}: {how:?} at entry {first_bad} not detected: {summary:?}")
            }
            Err(finding) => finding,
        };
        let in_range = matches!(finding.problem, Problem::Rewritten { checkpoint, .. }
            if finding.first_bad <= first_bad && first_bad <= checkpoint);
        if range_only || in_range {
            // Consistent up to a checkpoint that no longer matches: the range from the previous checkpoint.
            assert!(
                in_range,
                "round {round}: {how:?} at entry {first_bad}, found {finding}"
            );
            ranges += 1;
        } else {
            assert_eq!(
                finding.first_bad, first_bad,
                "round {round}: {how:?} at entry {first_bad}, found {finding}"
            );
            exact += 1;
        }
        // The sentence names the entry.
        let sentence = finding.to_string();
        assert!(
            sentence.contains(&format!("entry {} ", finding.first_bad))
                || sentence.contains(&format!("entries {} ", finding.first_bad)),
            "{sentence}"
        );
    }
    assert!(by_kind.iter().all(|&n| n > 1000), "{by_kind:?}");
    assert_eq!(exact + ranges, 10_000);
    println!("10,000 tamperings {by_kind:?}: {exact} named exactly, {ranges} by checkpoint range");
}

#[test]
fn a_forged_entry_appended_after_the_last_checkpoint_is_only_unsealed() {
    // Said plainly in ARCHITECTURE.md: what follows the last checkpoint is protected by the chain alone.
    let mut rng = StdRng::seed_from_u64(3);
    let mut entries = chain(&mut rng, 10);
    let key = key(4);
    let signed = vec![Checkpoint::sign(
        &Head {
            seq: 10,
            hash: entries[9].hash.clone(),
        },
        "t",
        &key,
    )];
    let mut head = Head {
        seq: 10,
        hash: entries[9].hash.clone(),
    };
    entries.push(head.append(new_entry(&mut rng, 10)));
    let summary = verify(&entries, signed, &[key.verifying_key()]).unwrap();
    assert_eq!(summary.unsealed, 1);
}

#[test]
fn entry_hashes_are_stable() {
    // The hash format is part of the stored data: changing it would break every existing chain.
    let mut head = Head::genesis();
    let entry = head.append(NewEntry {
        at: "2026-11-29T10:00:00.000000Z".into(),
        actor: "admin".into(),
        actor_role: "admin".into(),
        action: "user.add".into(),
        subject: "user/1".into(),
        data_hash: data_hash(b"{}"),
    });
    assert_eq!(entry.seq, 1);
    assert_eq!(entry.prev_hash, GENESIS);
    assert_eq!(entry.hash, entry.computed_hash());
    assert_eq!(entry.hash, STABLE_HASH);
}

const STABLE_HASH: &str = "c8983a3d04f7e65b8ecbe8e34f4b2bdb6b3517e2489b0c51f517112ef3b06124";
