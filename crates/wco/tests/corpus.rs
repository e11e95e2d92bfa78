//! Reads every declaration of the HMRC CDS corpus. Files in the MetaData envelope that are well-formed must be
//! read without a problem; the others must be refused with the envelope or well-formedness code.

use error_table::ErrorCode;

#[test]
fn every_hmrc_declaration_is_read_or_refused_with_a_clear_code() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let files = test_support::hmrc_declaration_files(&samples);
    assert!(
        files.len() > 150,
        "expected the corpus, found {} files",
        files.len()
    );
    let (mut read, mut envelope, mut not_well_formed, mut deltas) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut types = std::collections::BTreeMap::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        match wco::read_message(&bytes, &wco::Limits::default()) {
            Ok(wco::Message::Declaration(_)) => read += 1,
            Ok(wco::Message::Additional(m)) => {
                deltas += 1;
                *types.entry(m.type_code.wco_code()).or_insert(0) += 1;
            }
            Err(problems)
                if problems.len() == 1 && problems[0].code == ErrorCode::XmlWrongEnvelope =>
            {
                envelope += 1
            }
            Err(problems)
                if problems.len() == 1 && problems[0].code == ErrorCode::XmlNotWellFormed =>
            {
                not_well_formed += 1
            }
            Err(problems) => failures.push(format!("{}: {:#?}", file.display(), problems)),
        }
    }
    println!(
        "read {read}, wrong envelope {envelope}, not well-formed {not_well_formed}, function code 13 messages read {deltas} {types:?}"
    );
    assert!(
        failures.is_empty(),
        "{} files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(read + envelope + not_well_formed + deltas, files.len());
    // The corpus has 9 files in another envelope and 1 that is not well-formed (a comment containing --).
    assert_eq!((envelope, not_well_formed), (9, 1));
    assert!(read >= 186, "only {read} declarations read");
    // 9 corrections (COR), 2 invalidations (INV) and 4 goods presentations (GPR), all read.
    assert_eq!(deltas, 15);
    assert_eq!(format!("{types:?}"), r#"{"COR": 9, "GPR": 4, "INV": 2}"#);
}
