//! Every declaration and function code 13 message of the HMRC corpus that Aduana reads goes XML → model → XML → model and XML → model → JSON twin →
//! model without change, and the XML Aduana writes validates against `DocumentMetaData_2_DMS.xsd` +
//! `WCO_DEC_2_DMS.xsd` (libxml2 through lxml, `ADUANA_LXML_PYTHON`; `.ci/run` provides one).

#[test]
fn xml_and_json_round_trips_keep_every_corpus_declaration() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let limits = wco::Limits::default();
    let dir = std::env::temp_dir().join(format!("aduana-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = Vec::new();
    for file in test_support::hmrc_declaration_files(&samples) {
        let Ok(model) = wco::read_message(&std::fs::read(&file).unwrap(), &limits) else {
            continue;
        };
        let xml = wco::write::write_message(&model);
        let again = wco::read_message(xml.as_bytes(), &limits).unwrap_or_else(|p| {
            panic!(
                "{}: the written XML is refused: {p:#?}\n{xml}",
                file.display()
            )
        });
        assert_eq!(again, model, "{}: XML round trip", file.display());
        let from_json = match &model {
            wco::Message::Declaration(d) => {
                wco::json::read_declaration(&serde_json::to_vec(d).unwrap())
                    .map(|d| wco::Message::Declaration(Box::new(d)))
            }
            wco::Message::Additional(m) => {
                wco::json::read_additional_message(&serde_json::to_vec(m).unwrap())
                    .map(|m| wco::Message::Additional(Box::new(m)))
            }
        }
        .unwrap_or_else(|p| panic!("{}: {p:#?}", file.display()));
        assert_eq!(from_json, model, "{}: JSON round trip", file.display());
        let path = dir.join(format!("{}.xml", written.len()));
        std::fs::write(&path, &xml).unwrap();
        written.push((path, file));
    }
    assert!(
        written.len() >= 201,
        "only {} declarations and function code 13 messages read",
        written.len()
    );
    let Some(python) = test_support::lxml_python() else {
        return;
    };
    let paths: Vec<std::path::PathBuf> = written.iter().map(|(p, _)| p.clone()).collect();
    let verdicts = test_support::xsd_verdicts(&python, test_support::Schemas::Declaration, &paths);
    // Verdicts come in the order of the files: the n-th was written from the n-th declaration read.
    let invalid: Vec<String> = verdicts
        .iter()
        .zip(&written)
        .filter(|(v, _)| !v.valid)
        .map(|(v, (_, source))| {
            format!(
                "{} (written from {}): {:?}",
                v.file,
                source.display(),
                v.error
            )
        })
        .collect();
    assert!(
        invalid.is_empty(),
        "{} written documents are invalid:\n{}",
        invalid.len(),
        invalid.join("\n")
    );
    assert_eq!(verdicts.len(), written.len());
    println!(
        "{} declarations: XML and JSON round trips hold, the written XML is valid",
        written.len()
    );
}

/// Found by the `wco_xml` fuzz target: a value holding a control character the reader accepts must be written back
/// as read, or the round trip breaks (the writer had started to drop such characters).
#[test]
fn a_value_with_a_control_character_round_trips() {
    let xml = String::from_utf8(include_bytes!("minimal.xml").to_vec())
        .unwrap()
        .replace(
            "<TypeCode>IMA</TypeCode>",
            "<TypeCode>IMA</TypeCode><ID>XI\u{0}55</ID>",
        );
    let limits = wco::Limits::default();
    let model = wco::read_declaration(xml.as_bytes(), &limits).unwrap();
    assert_eq!(model.id.as_deref(), Some("XI\u{0}55"));
    let again =
        wco::read_declaration(wco::write::write_declaration(&model).as_bytes(), &limits).unwrap();
    assert_eq!(again, model);
}
