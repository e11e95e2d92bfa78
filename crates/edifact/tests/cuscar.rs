//! CUSCAR in: a container ship's cargo report read into the `manifest` model field by field, and broken reports
//! refused with the code and the segment of each fault. Every case is an edit of `messages/cuscar.edi`.

use edifact::syntax::Limits;
use error_table::ErrorCode;

const CUSCAR: &str = include_str!("messages/cuscar.edi");

fn read(text: &str) -> Result<manifest::CargoReport, Vec<error_table::Problem>> {
    edifact::read_cuscar(text.as_bytes(), &Limits::default())
}

#[test]
fn a_cargo_report_is_read_field_by_field() {
    let report = read(CUSCAR).unwrap();
    assert_eq!(report.reference, "MSC-VOY-0426W");
    assert_eq!(
        report.carrier.name.as_deref(),
        Some("Mediterranean Shipping Co (UK) Ltd"),
        "the released ? is the character itself"
    );
    assert_eq!(
        report.carrier.id.as_ref().map(|p| p.as_str()),
        Some("GB123456789000")
    );
    let t = &report.transport;
    assert_eq!(
        (
            t.mode_code.as_str(),
            t.conveyance_reference.as_deref(),
            t.id.as_deref(),
            t.name.as_deref(),
            t.nationality.as_ref().map(|c| c.as_str())
        ),
        (
            "1",
            Some("0426W"),
            Some("9839131"),
            Some("MSC AURORA"),
            Some("PA")
        )
    );
    assert_eq!(report.arrival.as_deref(), Some("202612011400"));
    assert_eq!(report.place_of_arrival.as_deref(), Some("GBFXT"));
    assert_eq!(report.equipment.len(), 2);
    assert_eq!(report.equipment[0].seals, ["SEAL0001", "SEAL0002"]);
    assert_eq!(report.equipment[1].size_type.as_deref(), Some("22G1"));
    assert_eq!(report.consignments.len(), 2);
    let first = &report.consignments[0];
    assert_eq!(first.transport_document, "MEDUAB123456");
    assert_eq!(
        first.consignor.as_ref().and_then(|p| p.name.as_deref()),
        Some("Shenzhen Shaver Works")
    );
    assert_eq!(
        (
            first.place_of_loading.as_deref(),
            first.place_of_discharge.as_deref()
        ),
        (Some("CNYTN"), Some("GBFXT"))
    );
    assert_eq!(first.goods.len(), 2);
    let g = &first.goods[0];
    assert_eq!(
        (
            g.package_count,
            g.package_kind.as_deref(),
            g.description.as_deref(),
            g.commodity_code.as_ref().map(|c| c.as_str()),
            g.gross_mass_kg.map(|m| m.to_string()),
            g.equipment.as_slice()
        ),
        (
            Some(120),
            Some("CT"),
            Some("Electric shaver parts"),
            Some("851090"),
            Some("1450.5".to_owned()),
            ["MSCU1234565".to_owned()].as_slice()
        )
    );
    assert_eq!(first.goods[1].commodity_code, None);
    assert_eq!(report.goods_item_count(), 3);
    // The JSON form reads back to the same report and passes the same checks.
    let json = serde_json::to_string(&report).unwrap();
    let again: manifest::CargoReport = serde_json::from_str(&json).unwrap();
    assert_eq!(again, report);
    assert!(manifest::check(&again).is_empty());
}

#[test]
fn broken_reports_are_refused_at_their_segment() {
    // (from, to, code, pointer): segments count from UNB = 1.
    let cases: &[(&str, &str, ErrorCode, &str)] = &[
        (
            "UNT+32+C1'",
            "UNT+31+C1'",
            ErrorCode::EdifactControlMismatch,
            "/segments/33/elements/1",
        ),
        (
            "UNZ+1+CAR1'",
            "UNZ+1+CAR2'",
            ErrorCode::EdifactControlMismatch,
            "/segments/34/elements/2",
        ),
        (
            "GID+2+8:PK'\n",
            "GID+2+8:PK'\nTOD+3++CIF'\n",
            ErrorCode::EdifactControlMismatch,
            "/segments/34/elements/1",
        ),
        (
            "PIA+5+851090:HS'",
            "PIA+5+8510:HS'",
            ErrorCode::InvalidCommodityCode,
            "/segments/19/elements/2",
        ),
        (
            "PIA+5+851090:HS'",
            "PIA+1+851090:HS'",
            ErrorCode::EdifactUnmappedSegment,
            "/segments/19",
        ),
        (
            "SGP+TGHU7654321'",
            "SGP+XXXU0000000'",
            ErrorCode::InvalidValue,
            "/segments/28",
        ),
        (
            "CNI+2+MEDUAB123457'",
            "CNI+2+MEDUAB123456'",
            ErrorCode::InvalidValue,
            "/segments/26",
        ),
        (
            "CNI+2+MEDUAB123457'",
            "CNI+3+MEDUAB123457'",
            ErrorCode::GoodsItemSequence,
            "/segments/26",
        ),
        (
            "GID+2+8:PK'",
            "GID+3+8:PK'",
            ErrorCode::GoodsItemSequence,
            "/segments/22",
        ),
        (
            "MEA+AAE+G+KGM:210'",
            "MEA+AAE+G+LBR:210'",
            ErrorCode::InvalidValue,
            "/segments/24/elements/3",
        ),
        (
            "MEA+AAE+G+KGM:210'",
            "MEA+AAE+G+KGM:-210'",
            ErrorCode::InvalidValue,
            "/segments/24/elements/3",
        ),
        (
            "BGM+85+MSC-VOY-0426W+9'",
            "BGM+85+MSC-VOY-0426W+5'",
            ErrorCode::UnsupportedFunctionCode,
            "/segments/3/elements/3",
        ),
        (
            "TDT+20+0426W+1+++++9839131:146::MSC AURORA:PA'",
            "TDT+20+0426W+9+++++9839131:146::MSC AURORA:PA'",
            ErrorCode::InvalidValue,
            "/segments/2",
        ),
        (
            "TDT+20+0426W+1+++++9839131:146::MSC AURORA:PA'",
            "TDT+20+0426W+1+++++9839131:146::MSC AURORA:XX'",
            ErrorCode::InvalidCountry,
            "/segments/6/elements/8",
        ),
        (
            "NAD+CA+GB123456789000++Mediterranean Shipping Co? (UK) Ltd'",
            "NAD+CA+GB 1'",
            ErrorCode::InvalidParty,
            "/segments/5/elements/2",
        ),
        (
            "CUSCAR:D:95B:UN",
            "CUSDEC:D:96B:UN",
            ErrorCode::EdifactUnsupportedMessage,
            "/segments/2/elements/2",
        ),
        (
            "LOC+9+CNYTN'",
            "LOC+9+CNYTN'\nDOC+380+INV1'",
            ErrorCode::EdifactControlMismatch,
            "/segments/34/elements/1",
        ),
    ];
    let mut wrong = Vec::new();
    for (from, to, code, pointer) in cases {
        assert!(CUSCAR.contains(from), "{from}");
        let text = CUSCAR.replacen(from, to, 1);
        let problems = read(&text).expect_err(to);
        if !problems
            .iter()
            .any(|p| p.code == *code && p.pointer == *pointer)
        {
            wrong.push(format!(
                "{from} → {to}: expected {code:?} at {pointer}, got {:?}",
                problems
                    .iter()
                    .map(|p| (p.code, p.pointer.as_str(), p.message.as_str()))
                    .collect::<Vec<_>>()
            ));
        }
        // Every sentence says where: the segment, or the message as a whole.
        for p in &problems {
            assert!(
                p.message.starts_with("Segment") || p.message.starts_with("Message"),
                "{p:?}"
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn an_unmapped_segment_is_refused_not_dropped() {
    // Added with a correct count, so that the mapping (not the syntax) sees it.
    let text = CUSCAR
        .replacen("LOC+9+CNYTN'", "LOC+9+CNYTN'\nDOC+380+INV1'", 1)
        .replace("UNT+32+C1'", "UNT+33+C1'");
    let problems = read(&text).unwrap_err();
    assert_eq!(
        (problems[0].code, problems[0].pointer.as_str()),
        (ErrorCode::EdifactUnmappedSegment, "/segments/16")
    );
    // A report without a carrier, transport or reference is refused as a whole, each missing part named.
    let bare =
        "UNB+UNOC:3+A+B+261129:0600+R'UNH+1+CUSCAR:D:95B:UN'CNI+1+BL1'GID+1'UNT+4+1'UNZ+1+R'";
    let problems = read(bare).unwrap_err();
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(problems.len(), 3, "{messages:#?}");
    assert!(
        messages.iter().any(|m| m.contains("NAD+CA")),
        "{messages:#?}"
    );
}
