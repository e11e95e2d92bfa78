use super::*;

fn waste() -> Requirement {
    let doc = |code: &str| Way::Document {
        code: code.into(),
        description: String::new(),
        waiver: code.starts_with('Y'),
    };
    let group = |condition: &str, codes: &[&str]| Group {
        condition: condition.into(),
        ways: codes
            .iter()
            .map(|c| doc(c))
            .chain([Way::AtMost {
                amount: Decimal::from(20),
                unit: "KGM".into(),
            }])
            .collect(),
        otherwise: "Import/export not allowed after control".into(),
    };
    Requirement {
        id: "t".into(),
        measure_type: "755".into(),
        title: "Import control - waste".into(),
        agency: None,
        commodity_prefix: "1516".into(),
        direction: Direction::Import,
        area: "1011".into(),
        countries: vec!["CN".into(), "US".into()],
        excluded: vec!["CN".into()],
        additional_code: None,
        valid_from: Some(time::macros::date!(2021 - 01 - 01)),
        valid_to: Some(time::macros::date!(2021 - 12 - 31)),
        groups: vec![
            group("E", &["C672", "C669", "Y923"]),
            group("I", &["C672", "C670", "Y923"]),
        ],
    }
}

#[test]
fn a_requirement_applies_to_its_goods_countries_and_period_only() {
    let r = waste();
    let day = time::macros::date!(2021 - 06 - 01);
    assert!(r.applies("1516209821", Direction::Import, "US", day));
    assert!(!r.applies("1516209821", Direction::Export, "US", day));
    assert!(!r.applies("1517000000", Direction::Import, "US", day));
    assert!(
        !r.applies("1516209821", Direction::Import, "CN", day),
        "excluded"
    );
    assert!(
        !r.applies("1516209821", Direction::Import, "FR", day),
        "not in the area"
    );
    assert!(!r.applies(
        "1516209821",
        Direction::Import,
        "US",
        time::macros::date!(2022 - 01 - 01)
    ));
}

#[test]
fn every_group_must_be_met_by_one_of_its_ways() {
    let r = waste();
    let kg = |n: i64| (Decimal::from(n), "KGM");
    assert_eq!(
        r.check(&["C672"], &[]),
        Verdict::Met {
            by: vec!["C672".into()]
        }
    );
    assert_eq!(
        r.check(&["C669", "C670"], &[]),
        Verdict::Met {
            by: vec!["C669".into(), "C670".into()]
        }
    );
    assert_eq!(
        r.check(&["Y923"], &[]),
        Verdict::Met {
            by: vec!["Y923".into()]
        }
    );
    assert_eq!(r.check(&[], &[kg(20)]), Verdict::Met { by: vec![] });
    // C669 meets E only; I needs C672, C670, Y923 or at most 20 kg.
    assert_eq!(
        r.check(&["C669"], &[kg(21)]),
        Verdict::Missing {
            condition: "I".into(),
            documents: vec!["C672".into(), "C670".into(), "Y923".into()],
            otherwise: "Import/export not allowed after control".into()
        }
    );
    assert!(matches!(
        r.check(&[], &[(Decimal::from(5), "LTR")]),
        Verdict::Missing { .. }
    ));
}

#[test]
fn a_merge_replaces_by_id_and_stops_at_the_ceiling() {
    let mut set = Requirements::default();
    set.merge(vec![waste()]).unwrap();
    let mut changed = waste();
    changed.title = "changed".into();
    set.merge(vec![changed]).unwrap();
    assert_eq!(set.requirements.len(), 1);
    assert_eq!(set.requirements[0].title, "changed");
    let json = serde_json::to_string(&set).unwrap();
    assert_eq!(serde_json::from_str::<Requirements>(&json).unwrap(), set);
}

#[test]
fn what_is_not_the_uk_format_is_refused_with_a_sentence() {
    assert!(uk::read("{").unwrap_err().starts_with("not JSON"));
    assert!(
        uk::read("{}")
            .unwrap_err()
            .contains("goods_nomenclature_item_id")
    );
    assert!(uk::read(r#"{"goods_nomenclature_item_id": "12x"}"#).is_err());
    assert_eq!(
        uk::read(r#"{"goods_nomenclature_item_id": "0102"}"#).unwrap(),
        vec![]
    );
    let no_id = r#"{"goods_nomenclature_item_id": "0102", "import_measures": [{"measure_conditions":
        [{"condition_code": "B", "document_code": "", "action": "Import/export not allowed after control"}]}]}"#;
    assert!(uk::read(no_id).unwrap_err().contains("without an id"));
}

/// No input stops the server: a commodity file nested 100,000 deep is refused with a sentence (serde_json's depth
/// limit), on a small stack.
#[test]
fn a_deeply_nested_file_is_refused_not_a_crash() {
    let text = format!(
        "{{\"goods_nomenclature_item_id\": \"0102\", \"import_measures\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let refused = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || uk::read(&text))
        .unwrap()
        .join()
        .unwrap();
    assert!(refused.unwrap_err().contains("recursion limit"));
}

#[test]
fn dates_are_written_as_iso_and_read_from_iso_or_the_stored_pair() {
    let mut r = waste();
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains("\"valid_from\":\"2021-01-01\""), "{text}");
    assert_eq!(serde_json::from_str::<Requirement>(&text).unwrap(), r);
    // Sets stored before wrote [year, ordinal day].
    let old = text
        .replace("\"2021-01-01\"", "[2021,1]")
        .replace("\"2021-12-31\"", "[2021,365]");
    assert_eq!(serde_json::from_str::<Requirement>(&old).unwrap(), r);
    r.valid_to = None;
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("valid_to"), "{text}");
    assert!(
        serde_json::from_str::<Requirement>(&text.replace("\"2021-01-01\"", "\"2021-13-01\""))
            .is_err()
    );
}

#[test]
fn a_document_types_status_codes_are_two_letters_each_with_one_meaning() {
    let mut kind = crate::LpcoType {
        code: crate::DocumentCode::parse("C640").unwrap(),
        agency: crate::AgencyCode::parse("VET").unwrap(),
        kind: crate::Kind::Certificate,
        title: "Common health entry document".into(),
        fields: Vec::new(),
        validity_days: 30,
        balance_unit: None,
        uses: crate::Uses::Single,
        statuses: crate::Statuses::uk(),
        when_missing: crate::WhenMissing::Refuse,
    };
    assert_eq!(kind.problems(), Vec::new(), "the UK reading is sound");
    kind.statuses.exempt.push("AE".into());
    kind.statuses.not_required.push("x1".into());
    let problems = kind.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|(field, _)| *field == "statuses"));
    assert!(problems[0].1.contains("AE is in two lists"), "{problems:?}");
    assert!(problems[1].1.contains("\"x1\" is not a DE 2/3 status code"));
}
