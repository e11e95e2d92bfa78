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

/// Found by the `wco_xml` fuzz target: a value holding a control character broke the round trip (the writer dropped
/// it). XML 1.0 forbids such characters, so the reader now refuses the document (and the JSON reader an escaped one),
/// and no model can hold one to write.
#[test]
fn a_value_with_a_control_character_is_refused() {
    let limits = wco::Limits::default();
    for raw in [
        "XI\u{0}55",
        "XI\u{1}55",
        "XI&#x1;55",
        "XI&#1;55",
        "XI\u{ffff}55",
    ] {
        let xml = String::from_utf8(include_bytes!("minimal.xml").to_vec())
            .unwrap()
            .replace(
                "<TypeCode>IMA</TypeCode>",
                &format!("<ID>{raw}</ID><TypeCode>IMA</TypeCode>"),
            );
        let problems = wco::read_declaration(xml.as_bytes(), &limits).unwrap_err();
        assert_eq!(
            problems[0].code,
            wco::ErrorCode::XmlNotWellFormed,
            "{raw:?}"
        );
        assert!(
            problems[0].message.contains("Line 6"),
            "{raw:?}: {}",
            problems[0].message
        );
    }
    // A tab is allowed in a value; a carriage return (written as a reference, since a literal one is normalised)
    // or a line feed is not: every DEC-DMS value is one line (the schemas' pattern `.*[^\s].*`), as libxml2 says.
    let with_id = |id: &str| {
        String::from_utf8(include_bytes!("minimal.xml").to_vec())
            .unwrap()
            .replace(
                "<TypeCode>IMA</TypeCode>",
                &format!("<ID>{id}</ID><TypeCode>IMA</TypeCode>"),
            )
    };
    for id in ["XI5&#xD;5", "XI5&#xA;5"] {
        let problems = wco::read_declaration(with_id(id).as_bytes(), &limits).unwrap_err();
        assert_eq!(problems[0].code, wco::ErrorCode::InvalidValue, "{id}");
        assert_eq!(problems[0].pointer, "/MetaData/Declaration/ID", "{id}");
    }
    let model = wco::read_declaration(with_id("XI\t55").as_bytes(), &limits).unwrap();
    assert_eq!(model.id.as_deref(), Some("XI\t55"));
    let again =
        wco::read_declaration(wco::write::write_declaration(&model).as_bytes(), &limits).unwrap();
    assert_eq!(again, model);
}

/// The walk the conformance work asks for: every value (element text or attribute) of every corpus message Aduana
/// reads must come out again when the model is written back, at the same path. A value read but not kept in the
/// model — an element mapped to nothing — shows up here by its path. Target: none.
#[test]
fn no_value_of_the_corpus_is_dropped() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let limits = wco::Limits::default();
    let mut dropped: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut files, mut values) = (0, 0);
    for file in test_support::hmrc_declaration_files(&samples) {
        let bytes = std::fs::read(&file).unwrap();
        let Ok(model) = wco::read_message(&bytes, &limits) else {
            continue;
        };
        files += 1;
        let written = wco::write::write_message(&model);
        let mut before = Vec::new();
        leaves(&wco::dom::parse(&bytes, &limits).unwrap(), "", &mut before);
        let mut after = Vec::new();
        leaves(
            &wco::dom::parse(written.as_bytes(), &limits).unwrap(),
            "",
            &mut after,
        );
        values += before.len();
        let mut remaining: std::collections::HashMap<&(String, String), usize> = Default::default();
        for leaf in &after {
            *remaining.entry(leaf).or_default() += 1;
        }
        for leaf in &before {
            match remaining.get_mut(leaf) {
                Some(n) if *n > 0 => *n -= 1,
                _ => *dropped.entry(leaf.0.clone()).or_default() += 1,
            }
        }
    }
    println!(
        "{files} messages, {values} values, {} paths dropped",
        dropped.len()
    );
    for (path, count) in &dropped {
        println!("  dropped {count}× {path}");
    }
    assert!(files >= 201, "only {files} messages read");
    assert!(dropped.is_empty(), "values read but not kept: {dropped:#?}");
}

/// (path without positions, value) of every non-empty text and attribute, the envelope's metadata left out (Aduana
/// writes its own). `MetaData` and `Declaration` have no attributes in the schemas: what the reader lists there are
/// namespace declarations and schema locations, not values.
fn leaves(element: &wco::dom::Element, parent: &str, out: &mut Vec<(String, String)>) {
    let path = format!("{parent}/{}", element.name);
    if parent == "/MetaData" && element.name != "Declaration" {
        return;
    }
    if !matches!(path.as_str(), "/MetaData" | "/MetaData/Declaration") {
        for (key, value) in &element.attributes {
            out.push((format!("{path}@{key}"), value.trim().to_owned()));
        }
    }
    let text = element.text.trim();
    if !text.is_empty() {
        out.push((path.clone(), text.to_owned()));
    }
    for child in &element.children {
        leaves(child, &path, out);
    }
}

/// A mass is kilograms (DE 6/1, 6/5): another unit is refused at the attribute, never read as kilograms (the model
/// holds kilograms and writes KGM back, so a tonne would silently become a kilogram).
#[test]
fn a_mass_in_another_unit_is_refused_not_read_as_kilograms() {
    let xml = String::from_utf8(include_bytes!("minimal.xml").to_vec()).unwrap();
    let with = |unit: &str| {
        xml.replace(
            "<InvoiceLine>",
            &format!("<GoodsMeasure><GrossMassMeasure{unit}>1.5</GrossMassMeasure></GoodsMeasure><InvoiceLine>"),
        )
    };
    let limits = wco::Limits::default();
    let problems =
        wco::read_declaration(with(" unitCode=\"TNE\"").as_bytes(), &limits).unwrap_err();
    assert_eq!(problems[0].code, wco::ErrorCode::InvalidValue);
    assert!(
        problems[0].pointer.ends_with("GrossMassMeasure/@unitCode"),
        "{problems:?}"
    );
    for unit in ["", " unitCode=\"KGM\""] {
        let model = wco::read_declaration(with(unit).as_bytes(), &limits).unwrap();
        assert_eq!(
            model.goods_shipment.goods_items[0].gross_mass_kg,
            Some("1.5".parse().unwrap())
        );
    }
}
