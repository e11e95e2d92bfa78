//! Every correction (function code 13, COR) of the HMRC corpus applied to its scenario's declaration: each is
//! accepted, every value it carries is in the declaration as corrected (goods items matched by sequence number,
//! other repeated elements by position), nothing else changes, and pointers that name what the correction does not
//! carry are refused at the pointer.

use declaration::{AdditionalMessage, Declaration};
use std::path::{Path, PathBuf};

fn read(path: &Path) -> Option<wco::Message> {
    wco::read_message(&std::fs::read(path).ok()?, &wco::Limits::default()).ok()
}

/// Each correction of the corpus with the declaration of its scenario folder.
fn scenarios() -> Option<Vec<(PathBuf, Declaration, AdditionalMessage)>> {
    let samples = test_support::hmrc_samples()?;
    let mut out = Vec::new();
    for file in test_support::hmrc_declaration_files(&samples) {
        let Some(wco::Message::Additional(message)) = read(&file) else {
            continue;
        };
        if message.type_code != declaration::AdditionalMessageType::Correction {
            continue;
        }
        let folder = file.parent().unwrap();
        let original = test_support::files_under(folder)
            .into_iter()
            .filter(|f| f != &file)
            .find_map(|f| match read(&f) {
                Some(wco::Message::Declaration(d)) => Some(*d),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{}: no declaration beside it", file.display()));
        out.push((file, original, *message));
    }
    Some(out)
}

/// The leaves of a message's data (not its own elements) as (path, value), goods items named by sequence number.
fn leaves(xml: &str, skip_own: bool) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let declaration = doc
        .root_element()
        .children()
        .find(|c| c.tag_name().name() == "Declaration")
        .unwrap();
    let own = [
        "FunctionCode",
        "FunctionalReferenceID",
        "ID",
        "TypeCode",
        "Amendment",
        "AdditionalInformation",
        "Submitter",
    ];
    let mut out = Vec::new();
    fn walk(node: roxmltree::Node, path: &str, out: &mut Vec<(String, String)>) {
        let elements: Vec<_> = node.children().filter(|c| c.is_element()).collect();
        if elements.is_empty() {
            // An empty container (the model writes an item's Commodity even when it holds nothing) is no value.
            if node.text().unwrap_or_default().trim().is_empty() && node.attributes().len() == 0 {
                return;
            }
            out.push((
                path.to_owned(),
                node.text().unwrap_or_default().trim().to_owned(),
            ));
            for a in node.attributes() {
                out.push((format!("{path}/@{}", a.name()), a.value().to_owned()));
            }
            return;
        }
        let mut seen: Vec<(String, usize)> = Vec::new();
        for child in elements {
            let name = child.tag_name().name().to_owned();
            let step = if name == "GovernmentAgencyGoodsItem" {
                let sequence = child
                    .children()
                    .find(|c| c.tag_name().name() == "SequenceNumeric")
                    .and_then(|c| c.text())
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                format!("{name}#{sequence}")
            } else {
                let n = match seen.iter_mut().find(|(s, _)| *s == name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        seen.push((name.clone(), 1));
                        1
                    }
                };
                format!("{name}[{n}]")
            };
            walk(child, &format!("{path}/{step}"), out);
        }
    }
    for child in declaration.children().filter(|c| c.is_element()) {
        if skip_own && own.contains(&child.tag_name().name()) {
            continue;
        }
        let mut one = Vec::new();
        // The header's own repeated elements are numbered as the walk numbers them below.
        walk(child, &format!("/{}", child.tag_name().name()), &mut one);
        out.extend(one);
    }
    out
}

fn same(a: &str, b: &str) -> bool {
    a == b
        || matches!((a.parse::<rust_decimal::Decimal>(), b.parse::<rust_decimal::Decimal>()), (Ok(x), Ok(y)) if x == y)
}

#[test]
fn every_correction_of_the_corpus_applies_to_its_declaration() {
    let Some(scenarios) = scenarios() else { return };
    assert_eq!(scenarios.len(), 9, "the corpus holds nine corrections");
    for (file, original, correction) in &scenarios {
        let corrected = wco::correction::apply(original, correction)
            .unwrap_or_else(|p| panic!("{}: refused: {p:#?}", file.display()));
        // Still the same declaration: its reference, type and declarant.
        assert_eq!(corrected.lrn, original.lrn, "{}", file.display());
        assert_eq!(
            corrected.type_code,
            original.type_code,
            "{}",
            file.display()
        );
        assert_eq!(
            corrected.declarant,
            original.declarant,
            "{}",
            file.display()
        );
        // Every value the correction carries is in the declaration as corrected.
        let after = leaves(&wco::write::write_declaration(&corrected), false);
        for (path, value) in leaves(&wco::write::write_additional_message(correction), true) {
            assert!(
                after.iter().any(|(p, v)| *p == path && same(v, &value)),
                "{}: {path} = {value:?} is not in the corrected declaration",
                file.display()
            );
        }
        // And what it does not carry is as it was.
        let data: Vec<String> = leaves(&wco::write::write_additional_message(correction), true)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        for (path, value) in leaves(&wco::write::write_declaration(original), false) {
            if data.contains(&path) {
                continue;
            }
            assert!(
                after.iter().any(|(p, v)| *p == path && *v == value),
                "{}: {path} = {value:?} changed though the correction does not carry it",
                file.display()
            );
        }
    }
}

#[test]
fn a_correction_changes_exactly_what_it_names() {
    let Some(scenarios) = scenarios() else { return };
    let find = |name: &str| {
        scenarios
            .iter()
            .find(|(f, _, _)| f.to_string_lossy().contains(name))
            .unwrap()
    };
    // TT_IM002b: the item price of item 1 becomes 999 GBP; the model is otherwise the original.
    let (_, original, correction) = find("TT_IM002b");
    let corrected = wco::correction::apply(original, correction).unwrap();
    let mut expected = original.clone();
    expected.goods_shipment.goods_items[0].item_charge_amount = Some(declaration::Amount {
        value: "999".parse().unwrap(),
        currency: declaration::Currency::parse("GBP").unwrap(),
    });
    assert_eq!(corrected, expected);
    // TT_Add_Item_Scenario_v1: a third goods item, and the header's counts that go with it.
    let (_, original, correction) = find("TT_Add_Item_Scenario_v1");
    assert_eq!(original.goods_shipment.goods_items.len(), 2);
    let corrected = wco::correction::apply(original, correction).unwrap();
    assert_eq!(corrected.goods_shipment.goods_items.len(), 3);
    assert_eq!(corrected.goods_item_quantity, Some(3));
    assert_eq!(corrected.total_package_quantity, Some(80));
    assert_eq!(
        corrected.goods_shipment.goods_items[..2],
        original.goods_shipment.goods_items[..]
    );
}

#[test]
fn a_pointer_that_names_what_the_correction_does_not_carry_is_refused_at_the_pointer() {
    let Some(scenarios) = scenarios() else { return };
    let (_, original, correction) = scenarios
        .iter()
        .find(|(f, _, _)| f.to_string_lossy().contains("TT_IM002b"))
        .unwrap();
    let cases: Vec<(Box<dyn Fn(&mut AdditionalMessage)>, &str)> = vec![
        // Item 2 is not in the correction's data.
        (
            Box::new(|m| m.amendments[0].pointers[2].sequence_numeric = Some(2)),
            "/MetaData/Declaration/Amendment/Pointer[3]",
        ),
        // Data element 114 is not a part of InvoiceLine.
        (
            Box::new(|m| m.amendments[0].pointers[4].tag_id = Some("114".into())),
            "/MetaData/Declaration/Amendment/Pointer[5]",
        ),
        // Section 99Z is nothing.
        (
            Box::new(|m| m.amendments[0].pointers[1].document_section_code = Some("99Z".into())),
            "/MetaData/Declaration/Amendment/Pointer[2]",
        ),
        // Pointers start at the declaration.
        (
            Box::new(|m| m.amendments[0].pointers[0].document_section_code = Some("67A".into())),
            "/MetaData/Declaration/Amendment/Pointer[1]",
        ),
    ];
    for (change, at) in cases {
        let mut bad = correction.clone();
        change(&mut bad);
        let problems = wco::correction::apply(original, &bad).unwrap_err();
        assert_eq!(
            problems[0].code,
            wco::ErrorCode::PointerUnresolved,
            "{problems:?}"
        );
        assert_eq!(problems[0].pointer, at, "{problems:?}");
    }
    // No amendment at all.
    let mut bad = correction.clone();
    bad.amendments.clear();
    let problems = wco::correction::apply(original, &bad).unwrap_err();
    assert_eq!(problems[0].pointer, "/MetaData/Declaration/Amendment");
}
