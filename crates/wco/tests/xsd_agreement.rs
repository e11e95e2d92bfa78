//! Aduana's verdict on every declaration of the HMRC corpus against libxml2's XSD validation (through lxml, run by
//! `tools/xsd_validate.py` with the Python named in `ADUANA_LXML_PYTHON`; `.ci/run` makes one). Libxml2 is the
//! reference here only: Aduana never calls it.
//!
//! Holds: every file the schemas refuse, Aduana refuses; every file they accept, Aduana reads — declarations and the
//! function code 13 messages (corrections, invalidations) alike. The test fails on any disagreement.

use std::collections::BTreeMap;

#[test]
fn aduana_agrees_with_xsd_validation_on_the_corpus() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let files = test_support::hmrc_declaration_files(&samples);
    let verdicts: BTreeMap<String, bool> =
        test_support::xsd_verdicts(&python, test_support::Schemas::Declaration, &files)
            .into_iter()
            .map(|v| (v.file, v.valid))
            .collect();
    assert_eq!(verdicts.len(), files.len());
    let (mut agree, mut additional, mut others) = (0, 0, Vec::new());
    for file in &files {
        let xsd_valid = verdicts[&file.display().to_string()];
        let ours = wco::read_message(&std::fs::read(file).unwrap(), &wco::Limits::default());
        match (xsd_valid, &ours) {
            (true, Ok(message)) => {
                agree += 1;
                additional += usize::from(matches!(message, wco::Message::Additional(_)));
            }
            (false, Err(_)) => agree += 1,
            _ => others.push(format!(
                "{}: XSD {xsd_valid}, Aduana {:?}",
                file.display(),
                ours.as_ref().err()
            )),
        }
    }
    println!(
        "{} files: {agree} agree ({additional} of them function code 13 messages), {} disagree",
        files.len(),
        others.len()
    );
    assert!(others.is_empty(), "{}", others.join("\n"));
    assert_eq!(agree, files.len());
    // The corpus holds 9 corrections, 2 invalidations and 4 goods presentations.
    assert_eq!(additional, 15);
}

/// Invalidations have their own, stricter schema (`CANCEL.xsd`): the corpus's two, Aduana's fixture, and each of them
/// as Aduana writes it back all validate against it; a correction does not (so the check can fail).
#[test]
fn invalidations_fit_the_cancel_schema() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let limits = wco::Limits::default();
    let dir = std::env::temp_dir().join(format!("aduana-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = vec![
        samples.join("TT_EX052a/Step3_Cancellation.xml"),
        samples.join("TT_EX010a/TT_EX010a_Cancellation.xml"),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalidation.xml"),
    ];
    for (n, source) in files.clone().iter().enumerate() {
        let Ok(message @ wco::Message::Additional(_)) =
            wco::read_message(&std::fs::read(source).unwrap(), &limits)
        else {
            panic!(
                "{} is not read as a function code 13 message",
                source.display()
            )
        };
        let written = dir.join(format!("written-{n}.xml"));
        std::fs::write(&written, wco::write::write_message(&message)).unwrap();
        files.push(written);
    }
    let correction = samples.join("TT_IM061b/TT_IM061b_Amendment.xml");
    files.push(correction.clone());
    let verdicts = test_support::xsd_verdicts(&python, test_support::Schemas::Cancel, &files);
    for verdict in &verdicts {
        let expected = verdict.file != correction.display().to_string();
        assert_eq!(
            verdict.valid, expected,
            "{}: {:?}",
            verdict.file, verdict.error
        );
    }
    assert_eq!(verdicts.len(), 7);
}
