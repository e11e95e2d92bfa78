//! The reader's verdict on every shared NCTS sample (`ncts-p5/messages`) against libxml2's XSD validation (through
//! lxml, run by `tools/ncts_validate.py` with the Python named in `ADUANA_LXML_PYTHON`; `.ci/run` makes one).
//! Libxml2 is the reference here only: Aduana never calls it.

mod libxml2;

use libxml2::libxml2;
use std::path::PathBuf;

fn samples() -> Option<Vec<PathBuf>> {
    let shared = test_support::shared_dir()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join("conformance/ncts-p5/messages"))
        .expect("the NCTS samples")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Some(files)
}

#[test]
fn the_reader_agrees_with_libxml2_on_every_xml_sample() {
    let Some(files) = samples() else { return };
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let xml: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "xml"))
        .collect();
    let verdicts = libxml2(&python, &xml);
    let limits = transit::Limits::default();
    let (mut valid, mut disagree) = (0, Vec::new());
    for file in &xml {
        let (expected, why) = &verdicts[&file.display().to_string()];
        let ours = transit::judge(&std::fs::read(file).unwrap(), false, &[], &limits);
        valid += usize::from(ours.is_ok());
        if ours.is_ok() != *expected {
            disagree.push(format!(
                "{}: libxml2 {expected} ({why}), Aduana {:?}",
                file.display(),
                ours.err()
            ));
        }
    }
    println!(
        "{} XML samples: {valid} valid, {} disagree",
        xml.len(),
        disagree.len()
    );
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    assert!(valid > 0 && valid < xml.len(), "both verdicts occur");
}

/// A JSON sample is judged by libxml2 through its XML: the tree Aduana read from the JSON, written as XML, is
/// what libxml2 validates; Aduana's verdict on the JSON must equal it. A JSON sample Aduana cannot read into a
/// tree at all (an element or attribute its schema does not have, a value of the wrong kind) must be one its name
/// calls invalid (`-invalid…`, `-missingNode`, `-rootNodeMismatch`, `invalid-with-extra-braces`) or whose XML
/// twin (same name, `.xml`) libxml2 refuses: samples written for an earlier version of the schemas.
#[test]
fn the_reader_agrees_with_libxml2_on_every_json_sample() {
    let Some(files) = samples() else { return };
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let limits = transit::Limits::default();
    let dir = std::env::temp_dir().join(format!("aduana-ncts-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let twins: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "xml"))
        .cloned()
        .collect();
    let twin_verdicts = libxml2(&python, &twins);
    let mut written = Vec::new();
    let mut wrong = Vec::new();
    let (mut count, mut unreadable) = (0, 0);
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        count += 1;
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        match transit::read_json(&std::fs::read(file).unwrap(), &limits) {
            Ok(message) => {
                let xml = dir.join(format!("{name}.xml"));
                std::fs::write(&xml, transit::to_xml(&message)).unwrap();
                written.push((name, xml, transit::validate(&message).is_empty()));
            }
            Err(refusal) => {
                unreadable += 1;
                let twin_refused = twin_verdicts
                    .get(&file.with_extension("xml").display().to_string())
                    .is_some_and(|(valid, _)| !valid);
                let named_invalid = ["invalid", "missingNode", "Mismatch"]
                    .iter()
                    .any(|w| name.contains(w));
                if !named_invalid && !twin_refused {
                    wrong.push(format!("{name}: unread ({refusal}) but not named invalid"));
                }
            }
        }
    }
    let paths: Vec<PathBuf> = written.iter().map(|(_, p, _)| p.clone()).collect();
    let verdicts = libxml2(&python, &paths);
    for (name, path, ours) in &written {
        let (expected, why) = &verdicts[&path.display().to_string()];
        if ours != expected {
            wrong.push(format!("{name}: libxml2 {expected} ({why}), Aduana {ours}"));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!(
        "{count} JSON samples: {unreadable} not readable, {} checked by libxml2, {} disagree",
        written.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        written.iter().any(|(_, _, ok)| *ok),
        "a JSON sample is valid"
    );
}
