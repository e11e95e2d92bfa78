//! The reader's promises on bad input: a coded refusal, never a panic — too large, not UTF-8, not XML, a DTD
//! (no entity is ever expanded), too deep, too many elements, the wrong message or namespace — and the findings of
//! a message written for these tests: none; then each rule's finding at its location as it is broken.

use entry_summary::{Kind, Limits, Refusal, check, read};

const MINIMAL: &str = include_str!("minimal-cc315a.xml");

fn numbers(xml: &str) -> Vec<(u16, String)> {
    let message = read(xml.as_bytes(), &Limits::default()).expect("reads");
    check(&message)
        .into_iter()
        .map(|f| (f.number, f.pointer))
        .collect()
}

#[test]
fn the_minimal_message_meets_every_rule() {
    let message = read(MINIMAL.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(message.kind, Kind::Declaration);
    assert_eq!(message.root.pointer, "/ie:CC315A[1]");
    assert_eq!(
        message.root.child("ITI").unwrap().pointer,
        "/ie:CC315A[1]/ITI[1]"
    );
    assert_eq!(
        message.root.all("ITI").nth(1).unwrap().pointer,
        "/ie:CC315A[1]/ITI[2]"
    );
    assert_eq!(check(&message), Vec::new());
}

#[test]
fn broken_rules_are_found_at_their_locations() {
    let cases: &[(&str, &str, &[(u16, &str)])] = &[
        (
            "<TINCE159>GB603202734852</TINCE159>",
            "<CitCE124>Dover</CitCE124>",
            &[
                (8125, "/ie:CC315A[1]/TRACONCE1[1]"),
                (8126, "/ie:CC315A[1]/TRACONCE1[1]"),
                (8127, "/ie:CC315A[1]/TRACONCE1[1]"),
                (8129, "/ie:CC315A[1]/TRACONCE1[1]"),
            ],
        ),
        (
            "<TINCE159>GB603202734852</TINCE159>",
            "<NamCE17>Tom</NamCE17><TINCE159>GB603202734852</TINCE159>",
            &[(8631, "/ie:CC315A[1]/TRACONCE1[1]/NamCE17[1]")],
        ),
        (
            "<TotGroMasHEA307>250.5</TotGroMasHEA307>",
            "<TotGroMasHEA307>200</TotGroMasHEA307>",
            &[(8686, "/ie:CC315A[1]/HEAHEA[1]")],
        ),
        (
            "<GroMasGDS46>250.5</GroMasGDS46>",
            "<GroMasGDS46>+0250.5</GroMasGDS46>",
            &[
                (8679, "/ie:CC315A[1]/GOOITEGDS[1]/GroMasGDS46[1]"),
                (8674, "/ie:CC315A[1]/GOOITEGDS[1]/GroMasGDS46[1]"),
            ],
        ),
        (
            "<KinOfPacGS23>CT</KinOfPacGS23>",
            "<KinOfPacGS23>VQ</KinOfPacGS23>",
            &[(8149, "/ie:CC315A[1]/GOOITEGDS[1]/PACGS2[1]")],
        ),
        (
            "<TraModAtBorHEA76>3</TraModAtBorHEA76>",
            "<TraModAtBorHEA76>4</TraModAtBorHEA76>",
            &[
                (8198, "/ie:CC315A[1]/GOOITEGDS[1]/IDEMEATRAGI970[1]"),
                (8118, "/ie:CC315A[1]/HEAHEA[1]"),
            ],
        ),
        (
            "<TotNumOfIteHEA305>1</TotNumOfIteHEA305>",
            "<TotNumOfIteHEA305>2</TotNumOfIteHEA305>",
            &[(8206, "/ie:CC315A[1]/HEAHEA[1]")],
        ),
    ];
    for (from, to, expected) in cases {
        assert!(MINIMAL.contains(from), "{from}");
        let found = numbers(&MINIMAL.replacen(from, to, 1));
        let expected: Vec<(u16, String)> = expected
            .iter()
            .map(|(n, p)| (*n, (*p).to_owned()))
            .collect();
        assert_eq!(found, expected, "{to}");
    }
}

#[test]
fn bad_input_is_refused_with_a_reason_never_a_panic() {
    let limits = Limits {
        max_bytes: 64 * 1024,
        max_depth: 8,
        max_elements: 500,
    };
    let refused = |bytes: &[u8]| read(bytes, &limits).unwrap_err();
    assert!(matches!(
        refused(&vec![b' '; 64 * 1024 + 1]),
        Refusal::TooLarge { .. }
    ));
    assert_eq!(refused(b"\xff\xfe<a/>"), Refusal::NotUtf8);
    assert!(matches!(refused(b"<ie:CC315A"), Refusal::NotXml { .. }));
    let entity = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>";
    assert!(matches!(refused(entity.as_bytes()), Refusal::NotXml { .. }));
    let deep = format!(
        "<ie:CC315A xmlns:ie=\"http://ics.dgtaxud.ec/CC315A\">{}{}</ie:CC315A>",
        "<a>".repeat(50),
        "</a>".repeat(50)
    );
    assert_eq!(refused(deep.as_bytes()), Refusal::TooDeep { max_depth: 8 });
    let wide = format!(
        "<ie:CC315A xmlns:ie=\"http://ics.dgtaxud.ec/CC315A\">{}</ie:CC315A>",
        "<ITI/>".repeat(501)
    );
    assert!(matches!(
        refused(wide.as_bytes()),
        Refusal::TooManyElements { .. } | Refusal::NotXml { .. }
    ));
    let other = MINIMAL.replace(
        "http://ics.dgtaxud.ec/CC315A",
        "http://ics.dgtaxud.ec/CC015C",
    );
    assert_eq!(
        refused(other.as_bytes()),
        Refusal::NotAnEntrySummary {
            found: "CC315A in http://ics.dgtaxud.ec/CC015C".into()
        }
    );
    let transit = "<ie:CC015C xmlns:ie=\"http://ics.dgtaxud.ec/CC315A\"/>";
    assert!(matches!(
        refused(transit.as_bytes()),
        Refusal::NotAnEntrySummary { .. }
    ));
    let amendment = MINIMAL.replace("CC315A", "CC313A");
    assert_eq!(
        read(amendment.as_bytes(), &limits).unwrap().kind,
        Kind::Amendment
    );
}

#[test]
fn the_schema_check_names_what_is_missing_misplaced_or_malformed() {
    let errors = |xml: &str| {
        entry_summary::validate(&read(xml.as_bytes(), &Limits::default()).unwrap())
            .into_iter()
            .map(|e| (e.pointer, e.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(errors(MINIMAL), Vec::new());
    let lodger = "<PERLODSUMDEC>\n    <TINPLD1>GB123456789000</TINPLD1>\n  </PERLODSUMDEC>";
    assert!(MINIMAL.contains(lodger));
    let missing = errors(&MINIMAL.replace(lodger, ""));
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].0, "/ie:CC315A[1]/CUSOFFFENT730[1]");
    assert_eq!(
        missing[0].1,
        "CUSOFFFENT730 is not expected here in CC315A: PERLODSUMDEC is."
    );
    let kind = errors(&MINIMAL.replace(
        "<MesTypMES20>CC315A</MesTypMES20>",
        "<MesTypMES20>CC999A</MesTypMES20>",
    ));
    assert_eq!(
        kind,
        [(
            "/ie:CC315A[1]/MesTypMES20[1]".to_owned(),
            "MesTypMES20 is not one of the values its list allows.".to_owned()
        )]
    );
    let misplaced = errors(&MINIMAL.replace(
        "<MesRecMES6>GBCD1234</MesRecMES6>",
        "<MesRecMES6>GBCD1234</MesRecMES6><Unknown>1</Unknown>",
    ));
    assert_eq!(misplaced[0].0, "/ie:CC315A[1]/Unknown[1]", "{misplaced:?}");
    let long = errors(&MINIMAL.replace("ADUANA-ENS-1", &"X".repeat(23)));
    assert_eq!(
        long[0].0, "/ie:CC315A[1]/HEAHEA[1]/RefNumHEA4[1]",
        "{long:?}"
    );
}

#[test]
fn the_json_twin_is_read_by_the_schema_and_refused_at_its_pointer() {
    let message = read(MINIMAL.as_bytes(), &Limits::default()).unwrap();
    let twin = entry_summary::json::write(&message);
    assert_eq!(twin["CC315A"]["HEAHEA"]["RefNumHEA4"], "ADUANA-ENS-1");
    assert!(
        twin["CC315A"]["GOOITEGDS"].is_array(),
        "a repeatable element is an array"
    );
    assert!(twin["CC315A"]["PERLODSUMDEC"].is_object());
    let again = entry_summary::json::read(twin.to_string().as_bytes(), &Limits::default()).unwrap();
    assert_eq!(check(&again), Vec::new());
    assert_eq!(entry_summary::validate(&again), Vec::new());
    assert_eq!(
        again.root.all("ITI").nth(1).unwrap().pointer,
        "/ie:CC315A[1]/ITI[2]"
    );
    let refused = |value: serde_json::Value| match entry_summary::json::read(
        value.to_string().as_bytes(),
        &Limits::default(),
    ) {
        Err(Refusal::Json { pointer, .. }) => pointer,
        other => panic!("{other:?}"),
    };
    let mut unknown = twin.clone();
    unknown["CC315A"]["HEAHEA"]["Colour"] = "red".into();
    assert_eq!(refused(unknown), "/CC315A/HEAHEA/Colour");
    let mut single = twin.clone();
    single["CC315A"]["GOOITEGDS"] = twin["CC315A"]["GOOITEGDS"][0].clone();
    assert_eq!(refused(single), "/CC315A/GOOITEGDS");
    let mut array = twin.clone();
    array["CC315A"]["HEAHEA"] = serde_json::json!([twin["CC315A"]["HEAHEA"].clone()]);
    assert_eq!(refused(array), "/CC315A/HEAHEA");
    let mut number = twin.clone();
    number["CC315A"]["HEAHEA"]["TotNumOfIteHEA305"] = 1.into();
    assert_eq!(refused(number), "/CC315A/HEAHEA/TotNumOfIteHEA305");
    assert_eq!(refused(serde_json::json!({"CC315A": {}, "CC313A": {}})), "");
    assert!(matches!(
        entry_summary::json::read(b"{\"CC015C\": {}}", &Limits::default()),
        Err(Refusal::NotAnEntrySummary { .. })
    ));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        entry_summary::json::read(deep.as_bytes(), &Limits::default()),
        Err(Refusal::Json { .. })
    ));
}
