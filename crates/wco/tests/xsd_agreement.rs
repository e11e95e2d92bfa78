//! Aduana's verdict on every declaration of the HMRC corpus against libxml2's XSD validation (through lxml, run by
//! `tools/xsd_validate.py` with the Python named in `ADUANA_LXML_PYTHON`; `.ci/run` makes one). Libxml2 is the
//! reference here only: Aduana never calls it.
//!
//! Holds today: every file the schemas refuse, Aduana refuses; every file they accept, Aduana reads — except the
//! function code 13 messages (amendments, invalidations), which it does not map yet and refuses with
//! `declaration.unsupported_function_code`. The test fails if any other disagreement appears, or if one of those
//! starts to agree (then tighten it).

use error_table::ErrorCode;
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
    let (mut agree, mut deltas, mut others) = (0, Vec::new(), Vec::new());
    for file in &files {
        let xsd_valid = verdicts[&file.display().to_string()];
        let ours = wco::read_declaration(&std::fs::read(file).unwrap(), &wco::Limits::default());
        match (xsd_valid, &ours) {
            (true, Ok(_)) | (false, Err(_)) => agree += 1,
            (true, Err(problems))
                if problems.len() == 1
                    && problems[0].code == ErrorCode::UnsupportedFunctionCode =>
            {
                deltas.push(file.display().to_string())
            }
            _ => others.push(format!(
                "{}: XSD {xsd_valid}, Aduana {:?}",
                file.display(),
                ours.as_ref().err()
            )),
        }
    }
    println!(
        "{} files: {agree} agree, {} function code 13 not mapped yet, {} other disagreements",
        files.len(),
        deltas.len(),
        others.len()
    );
    assert!(others.is_empty(), "{}", others.join("\n"));
    assert_eq!(deltas.len(), 11, "{deltas:#?}");
}
