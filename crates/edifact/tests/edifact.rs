//! CUSDEC messages written from HMRC sample declarations mean the same as the XML (the same fields of the model
//! that Aduana's guide covers, and the same duties and taxes); broken interchanges are refused with the code and
//! the segment of the first fault; CUSRES written by Aduana reads back through the same syntax checks.

use edifact::syntax::{self, Limits};
use error_table::ErrorCode;
use serde_json::{Value, json};

const MINIMAL_EDI: &[u8] = include_bytes!("messages/minimal.edi");
const TT_IM001B_EDI: &[u8] = include_bytes!("messages/TT_IM001b.edi");

/// The fields of a declaration that Aduana's CUSDEC guide carries.
fn essentials(declaration: &declaration::Declaration) -> Value {
    let value = serde_json::to_value(declaration).unwrap();
    let pick = |v: &Value, keys: &[&str]| -> Value {
        let mut out = serde_json::Map::new();
        for key in keys {
            if let Some(x) = v.get(*key) {
                out.insert((*key).to_owned(), x.clone());
            }
        }
        Value::Object(out)
    };
    let docs = |v: &Value| -> Value {
        json!(v.as_array().map(|docs| {
            docs.iter()
                .map(|d| pick(d, &["category_code", "type_code", "id"]))
                .collect::<Vec<_>>()
        }))
    };
    let items: Vec<Value> = value["goods_shipment"]["goods_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let mut out = pick(
                item,
                &[
                    "sequence_numeric",
                    "description",
                    "classifications",
                    "gross_mass_kg",
                    "net_mass_kg",
                    "item_charge_amount",
                    "procedures",
                    "origins",
                    "valuation_method_code",
                ],
            );
            out["additional_documents"] = docs(&item["additional_documents"]);
            out["duty_tax_fees"] = json!(item["duty_tax_fees"].as_array().map(|fees| {
                fees.iter()
                    .map(|f| pick(f, &["type_code", "payment_method_code"]))
                    .collect::<Vec<_>>()
            }));
            out
        })
        .collect();
    json!({
        "header": pick(&value, &["function_code", "lrn", "type_code", "goods_item_quantity", "declarant"]),
        "exporter": value["exporter"]["name"],
        "border_mode": value["border_transport_means"]["mode_code"],
        "documents": docs(&value["additional_documents"]),
        "importer": value["goods_shipment"]["importer"]["id"],
        "items": items,
    })
}

#[test]
fn the_minimal_declaration_reads_the_same_from_cusdec_and_xml() {
    let xml = wco::read_declaration(
        include_bytes!("../../wco/tests/minimal.xml"),
        &wco::Limits::default(),
    )
    .unwrap();
    let edi = edifact::read_cusdec(MINIMAL_EDI, &Limits::default()).unwrap();
    // Everything, not only the guide's fields: the minimal XML holds nothing the guide lacks.
    assert_eq!(
        serde_json::to_value(&edi).unwrap(),
        serde_json::to_value(&xml).unwrap()
    );
}

#[test]
fn an_hmrc_import_means_the_same_in_cusdec_as_in_xml() {
    let Some(samples) = test_support::hmrc_samples() else {
        return;
    };
    let xml = wco::read_declaration(
        &std::fs::read(samples.join("TT_IM001b/TT_IM001b.xml")).unwrap(),
        &wco::Limits::default(),
    )
    .unwrap();
    let edi = edifact::read_cusdec(TT_IM001B_EDI, &Limits::default()).unwrap();
    assert_eq!(essentials(&edi), essentials(&xml));
    // The same duties and taxes, line by line.
    let pipeline = clearance::Pipeline::demo(b"seed".to_vec());
    let date = time::macros::date!(2026 - 11 - 29);
    let a = pipeline.assess(&xml, date).unwrap();
    let b = pipeline.assess(&edi, date).unwrap();
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
    assert!(!a.items[0].taxes.is_empty());
}

fn refused(text: &str) -> (ErrorCode, String, String) {
    let problems = edifact::read_cusdec(text.as_bytes(), &Limits::default()).unwrap_err();
    (
        problems[0].code,
        problems[0].pointer.clone(),
        problems[0].message.clone(),
    )
}

#[test]
fn broken_interchanges_are_refused_at_the_first_fault() {
    let good = String::from_utf8(MINIMAL_EDI.to_vec()).unwrap();
    // (what is changed, code, pointer, start of the sentence)
    let cases: Vec<(String, ErrorCode, &str, &str)> = vec![
        (
            good.replace("UNT+9+M1", "UNT+8+M1"),
            ErrorCode::EdifactControlMismatch,
            "/segments/10/elements/1",
            "Segment 10 (UNT), element 1: The control count says \"8\", but there are 9",
        ),
        (
            good.replace("UNT+9+M1", "UNT+9+M2"),
            ErrorCode::EdifactControlMismatch,
            "/segments/10/elements/2",
            "Segment 10 (UNT), element 2: The reference \"M2\" does not match \"M1\"",
        ),
        (
            good.replace("UNZ+1+MIN1", "UNZ+1+MIN2"),
            ErrorCode::EdifactControlMismatch,
            "/segments/11/elements/2",
            "Segment 11 (UNZ), element 2",
        ),
        (
            good.replace("UNZ+1+MIN1", "UNZ+2+MIN1"),
            ErrorCode::EdifactControlMismatch,
            "/segments/11/elements/1",
            "Segment 11 (UNZ), element 1: The control count says \"2\", but there are 1",
        ),
        // Truncated: in a segment, before UNT, before UNZ, after a release character.
        (
            good[..good.find("LOC+27").unwrap() + 4].to_owned(),
            ErrorCode::EdifactTruncated,
            "/segments/9",
            "Segment 9 (): The interchange ends in the middle of a segment",
        ),
        (
            good[..good.find("UNT").unwrap()].to_owned(),
            ErrorCode::EdifactTruncated,
            "/segments/10",
            "Segment 10 (): The message M1 ends without UNT.",
        ),
        (
            good[..good.find("UNZ").unwrap()].to_owned(),
            ErrorCode::EdifactTruncated,
            "/segments/11",
            "Segment 11 (): The interchange ends without UNZ.",
        ),
        (
            "UNB+UNOW:3+A+B+261129:1200+R1'UNH+1+CUSDEC:D:96B:UN'BGM+IMA+X?".into(),
            ErrorCode::EdifactTruncated,
            "/segments/3",
            "Segment 3 (): The interchange ends after a release character.",
        ),
        (
            good.replace("UNB+UNOW:3", "UNB+UNOX:3"),
            ErrorCode::EdifactSyntax,
            "/segments/1/elements/1",
            "Segment 1 (UNB), element 1: Syntax identifier \"UNOX\"",
        ),
        (
            good.replace("UNB+", "UNX+"),
            ErrorCode::EdifactSyntax,
            "/segments/1",
            "Segment 1 (UNX): An interchange starts with UNB",
        ),
        (
            good.replace("LOC+27+US'", "LOC+27+US'nad+DT+X'"),
            ErrorCode::EdifactSyntax,
            "/segments/10",
            "Segment 10 (nad): A segment starts with a three-letter tag",
        ),
        (
            format!("{good}UNB+UNOW:3+A+B+1:1+R'"),
            ErrorCode::EdifactSyntax,
            "/segments/12",
            "Segment 12 (UNB): Nothing may follow UNZ.",
        ),
        (
            "UNA:+.? 'UNB'".into(),
            ErrorCode::EdifactSyntax,
            "/segments/1/elements/1",
            "Segment 1 (UNB), element 1",
        ),
        (
            "UNA:+".into(),
            ErrorCode::EdifactTruncated,
            "/segments/0",
            "The service string advice UNA needs six characters.",
        ),
        (
            "UNA::.? 'UNB'".into(),
            ErrorCode::EdifactSyntax,
            "/segments/0",
            "The separators in UNA must be four different",
        ),
        // Mapping faults carry the segment too.
        (
            good.replace("LOC+27+US", "LOC+27+USA"),
            ErrorCode::InvalidValue,
            "/segments/9",
            "Segment 9 (LOC): The country code is not an ISO 3166-1 alpha-2 code. (got \"USA\")",
        ),
        (
            good.replace("NAD+DT+GB603202734852", "NAD+ZZ+GB603202734852"),
            ErrorCode::EdifactUnmappedSegment,
            "/segments/5/elements/1",
            "Segment 5 (NAD), element 1: Party function \"ZZ\"",
        ),
        (
            good.replace("FTX+AAA", "QTY+AAA"),
            ErrorCode::EdifactUnmappedSegment,
            "/segments/7",
            "Segment 7 (QTY): This segment (or qualifier) is not in Aduana's CUSDEC guide",
        ),
        (
            good.replace("BGM+IMA+MINIMAL-1+9", "BGM+IMA+MINIMAL-1+1"),
            ErrorCode::UnsupportedFunctionCode,
            "/segments/3/elements/3",
            "Segment 3 (BGM), element 3: Message function \"1\"",
        ),
        // Found by the fuzz target: a four-character procedure holding a multi-byte character was cut inside it.
        (
            good.replace("LOC+27+US'", "LOC+27+US'GIS+4\u{e9}00'")
                .replace("UNT+9", "UNT+10"),
            ErrorCode::InvalidValue,
            "/segments/10/elements/1",
            "Segment 10 (GIS), element 1: \"4\u{e9}00\" is neither a procedure",
        ),
        (
            good.replace("CUSDEC", "CUSCAR"),
            ErrorCode::EdifactUnsupportedMessage,
            "/segments/2/elements/2",
            "Segment 2 (UNH), element 2: A CUSCAR message cannot be lodged",
        ),
    ];
    for (text, code, pointer, sentence) in cases {
        let (c, p, m) = refused(&text);
        assert_eq!((c, p.as_str()), (code, pointer), "{text}\n{m}");
        assert!(m.starts_with(sentence), "{text}\n{m}");
        // Never a position inside the JSON twin, which the sender never saw.
        assert!(!m.contains(" at line "), "{m}");
    }
}

#[test]
fn released_characters_line_breaks_groups_and_latin1_are_read() {
    // A released apostrophe and plus in a description; line breaks between segments; a UNG/UNE group; UNOC bytes
    // in ISO 8859-1 (é).
    let mut bytes = b"UNA:+.? '\r\nUNB+UNOC:3+A+B+261129:1200+R1'\r\nUNG+CUSDEC+A+B+261129:1200+G1+UN+D:96B'\r\n\
UNH+1+CUSDEC:D:96B:UN'\nBGM+IMA+REF-1+9'\nNAD+DT+GB603202734852'\nCST+1+85109000:TSP'\n\
FTX+AAA+++Rock ?'n?' roll ?+ caf"
        .to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b"'\nMOA+66:10.5:GBP'\nLOC+27+US'\nUNT+8+1'\nUNE+1+G1'\nUNZ+1+R1'\n");
    let declaration = edifact::read_cusdec(&bytes, &Limits::default()).unwrap();
    assert_eq!(
        declaration.goods_shipment.goods_items[0]
            .description
            .as_deref(),
        Some("Rock 'n' roll + café")
    );
    let interchange = syntax::read(&bytes, &Limits::default()).unwrap();
    assert_eq!(
        (interchange.syntax.as_str(), interchange.messages.len()),
        ("UNOC", 1)
    );
    // A group's count and reference are checked too.
    let broken = String::from_utf8_lossy(&bytes).replace("UNE+1+G1", "UNE+2+G1");
    assert_eq!(
        syntax::read(broken.as_bytes(), &Limits::default())
            .unwrap_err()
            .code,
        ErrorCode::EdifactControlMismatch
    );
}

#[test]
fn limits_refuse_oversized_interchanges_fast() {
    let limits = Limits {
        max_bytes: 1_000,
        ..Limits::default()
    };
    let big = vec![b'A'; 1_001];
    assert_eq!(
        syntax::read(&big, &limits).unwrap_err().code,
        ErrorCode::BodyTooLarge
    );
    let long_value = format!(
        "UNB+UNOW:3+A+B+1:1+R'UNH+1+CUSDEC:D:96B:UN'FTX+AAA+++{}'",
        "x".repeat(600)
    );
    assert_eq!(
        syntax::read(long_value.as_bytes(), &Limits::default())
            .unwrap_err()
            .code,
        ErrorCode::EdifactSyntax
    );
    let many_elements = format!("UNB+UNOW:3+A+B+1:1+R'FTX{}'", "+a".repeat(120));
    assert_eq!(
        syntax::read(many_elements.as_bytes(), &Limits::default())
            .unwrap_err()
            .code,
        ErrorCode::EdifactSyntax
    );
}

#[test]
fn cusres_answers_read_back_through_the_syntax_checks() {
    let accepted = edifact::cusres::Response {
        lrn: "TT_IM01b_v1.7_220322_1".into(),
        mrn: Some("26GB000000000001J5".into()),
        status: "released".into(),
        lane: Some("green".into()),
        errors: vec![],
        at: "202611291200".into(),
    };
    let rejected = edifact::cusres::Response {
        lrn: "REF+1:'?".into(),
        mrn: None,
        status: "rejected".into(),
        lane: None,
        errors: vec![
            (
                "declaration.invalid_country".into(),
                "/segments/9".into(),
                "Segment 9 (LOC): 'USA' is not a country: use ISO 3166 codes.".into(),
            ),
            (
                "assessment.commodity_code_unknown".into(),
                "/segments/7".into(),
                "Unknown code.".into(),
            ),
        ],
        at: "202611291201".into(),
    };
    for (response, function, segments) in [(&accepted, "29", 7), (&rejected, "27", 14)] {
        let text = edifact::cusres::write(response, "ADUANA", "GB603202734852", "R1");
        let interchange = syntax::read(text.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        let message = &interchange.messages[0];
        assert_eq!(message.message_type, "CUSRES");
        assert_eq!(message.segments.len(), segments, "{text}");
        let bgm = &message.segments[1];
        assert_eq!(bgm.get(3, 1), function);
        let rff = &message.segments[3];
        // Released characters come back as they were.
        assert_eq!(rff.get(1, 2), response.lrn);
        if let Some((_, _, sentence)) = response.errors.first() {
            let ftx = message.segments.iter().find(|s| s.tag == "FTX").unwrap();
            assert_eq!(ftx.get(4, 1), sentence);
        }
    }
}

/// Finding 10 of issue 14: a second BGM replaced the first's LRN; an amount with 40 decimals was rounded where the
/// XML reader refuses it; an impossible issue date was accepted. Each is refused, at its segment or field.
#[test]
fn a_second_bgm_an_inexact_amount_and_an_impossible_date_are_refused() {
    let good = String::from_utf8(MINIMAL_EDI.to_vec()).unwrap();
    let twice = good
        .replace(
            "BGM+IMA+MINIMAL-1+9'",
            "BGM+IMA+MINIMAL-1+9'BGM+IMA+OTHER-LRN+9'",
        )
        .replace("UNT+9+M1", "UNT+10+M1");
    let (code, pointer, message) = refused(&twice);
    assert_eq!(code, ErrorCode::RepeatedElement, "{message}");
    assert!(pointer.starts_with("/segments/4"), "{pointer}");
    let inexact = good.replace(
        "MOA+66:1000:GBP'",
        "MOA+66:1000.0000000000000000000000000000000000001:GBP'",
    );
    let problems = edifact::read_cusdec(inexact.as_bytes(), &Limits::default()).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.code == ErrorCode::InvalidValue || p.code == ErrorCode::EdifactSyntax),
        "{problems:?}"
    );
    let dated = good
        .replace(
            "BGM+IMA+MINIMAL-1+9'",
            "BGM+IMA+MINIMAL-1+9'DTM+137:20261345:102'",
        )
        .replace("UNT+9+M1", "UNT+10+M1");
    let problems = edifact::read_cusdec(dated.as_bytes(), &Limits::default()).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.code == ErrorCode::InvalidValue && p.message.contains("20261345")),
        "{problems:?}"
    );
}
