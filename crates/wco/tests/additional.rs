//! Function code 13 messages (corrections COR, invalidations INV, goods presentations GPR): read into their own
//! model, never taken for a declaration, and refused with a code and an XPath when they are incomplete. Each case
//! is an edit of `invalidation.xml`.

use error_table::ErrorCode;

const INVALIDATION: &str = include_str!("invalidation.xml");

fn read(text: &str) -> Result<wco::Message, Vec<wco::Problem>> {
    wco::read_message(text.as_bytes(), &wco::Limits::default())
}

#[test]
fn an_invalidation_is_read_with_its_reason() {
    let Ok(wco::Message::Additional(message)) = read(INVALIDATION) else {
        panic!("not read as a function code 13 message")
    };
    assert_eq!(
        message.type_code,
        declaration::AdditionalMessageType::Invalidation
    );
    assert_eq!(message.declaration_id.as_str(), "25GB53T2CGAY90LAA1");
    assert_eq!(message.functional_reference_id.as_str(), "CANCEL-1");
    assert_eq!(message.reason().as_deref(), Some("Lodged twice by mistake"));
    assert_eq!(message.amendments[0].change_reason_code, "1");
    // Written back, it reads the same.
    let again = read(&wco::write::write_additional_message(&message)).unwrap();
    assert_eq!(again, wco::Message::Additional(message));
}

#[test]
fn a_function_code_13_message_is_not_a_declaration() {
    let problems =
        wco::read_declaration(INVALIDATION.as_bytes(), &wco::Limits::default()).unwrap_err();
    assert_eq!(problems[0].code, ErrorCode::UnsupportedFunctionCode);
    assert_eq!(problems[0].pointer, "/MetaData/Declaration/FunctionCode");
}

#[test]
fn incomplete_messages_are_refused_at_the_element() {
    const GOODS: &str = "<GoodsShipment><GovernmentAgencyGoodsItem><SequenceNumeric>2</SequenceNumeric>\
        </GovernmentAgencyGoodsItem><GovernmentAgencyGoodsItem><SequenceNumeric>2</SequenceNumeric>\
        </GovernmentAgencyGoodsItem></GoodsShipment></Declaration>";
    let cases: &[(&str, &str, ErrorCode, &str)] = &[
        (
            "<StatementTypeCode>AES</StatementTypeCode>",
            "<StatementTypeCode>ABC</StatementTypeCode>",
            ErrorCode::MissingElement,
            "/MetaData/Declaration/AdditionalInformation/StatementDescription",
        ),
        (
            "<Amendment><ChangeReasonCode>1</ChangeReasonCode></Amendment>",
            "",
            ErrorCode::MissingElement,
            "/MetaData/Declaration/Amendment/ChangeReasonCode",
        ),
        (
            "<TypeCode>INV</TypeCode>",
            "<TypeCode>IMA</TypeCode>",
            ErrorCode::UnsupportedDeclarationType,
            "/MetaData/Declaration/TypeCode",
        ),
        (
            "<TypeCode>INV</TypeCode>",
            "",
            ErrorCode::MissingElement,
            "/MetaData/Declaration/TypeCode",
        ),
        (
            "<ID>25GB53T2CGAY90LAA1</ID>",
            "<ID>25GB53T2CGAY90LAA2</ID>",
            ErrorCode::InvalidMrn,
            "/MetaData/Declaration/ID",
        ),
        (
            "<ID>25GB53T2CGAY90LAA1</ID>",
            "",
            ErrorCode::MissingElement,
            "/MetaData/Declaration",
        ),
        (
            "<FunctionalReferenceID>CANCEL-1</FunctionalReferenceID>",
            "",
            ErrorCode::MissingElement,
            "/MetaData/Declaration/FunctionalReferenceID",
        ),
        (
            "<Submitter>",
            "<Declarant><ID>GB603202734852</ID></Declarant><Submitter>",
            // Out of the schema's order: the schema puts Submitter (and what follows it) before Declarant.
            ErrorCode::UnexpectedElement,
            "/MetaData/Declaration/Submitter",
        ),
        (
            "</Declaration>",
            GOODS,
            ErrorCode::GoodsItemSequence,
            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/SequenceNumeric",
        ),
        // "COR" with function code 9 was once read as a declaration of kind CO, additional type R.
        (
            "<FunctionCode>13</FunctionCode>",
            "<FunctionCode>9</FunctionCode>",
            ErrorCode::UnsupportedDeclarationType,
            "/MetaData/Declaration/TypeCode",
        ),
    ];
    for (from, to, code, pointer) in cases {
        assert!(INVALIDATION.contains(from), "{from}");
        let mut text = INVALIDATION.replacen(from, to, 1);
        if *code == ErrorCode::UnsupportedDeclarationType && from.contains("FunctionCode") {
            text = text.replace("<TypeCode>INV</TypeCode>", "<TypeCode>COR</TypeCode>");
        }
        let problems = read(&text).expect_err(to);
        assert!(
            problems
                .iter()
                .any(|p| p.code == *code && p.pointer == *pointer),
            "{from} → {to}: expected {code:?} at {pointer}, got {problems:#?}"
        );
    }
}

#[test]
fn the_json_twin_of_a_message_reads_the_same() {
    let Ok(wco::Message::Additional(message)) = read(INVALIDATION) else {
        panic!()
    };
    let json = serde_json::to_string(&message).unwrap();
    assert!(json.contains("\"type_code\":\"INV\""), "{json}");
    assert_eq!(
        wco::json::read_additional_message(json.as_bytes()).unwrap(),
        *message
    );
    let broken = json.replace("25GB53T2CGAY90LAA1", "25GB53T2CGAY90LAA2");
    let problems = wco::json::read_additional_message(broken.as_bytes()).unwrap_err();
    assert_eq!(
        (problems[0].code, problems[0].pointer.as_str()),
        (ErrorCode::InvalidValue, "/declaration_id")
    );
}

#[test]
fn problems_name_their_data_element() {
    let minimal = include_str!("minimal.xml");
    let cases = [
        (
            minimal.replace("<ID>85109000</ID>", "<ID>8510900</ID>"),
            "6/14",
        ),
        (minimal.replace(">MINIMAL-1<", "><"), "2/5"),
        (
            minimal.replace(
                "<CountryCode>US</CountryCode>",
                "<CountryCode>usa</CountryCode>",
            ),
            "5/16",
        ),
        (
            INVALIDATION.replace(
                "<FunctionalReferenceID>CANCEL-1</FunctionalReferenceID>",
                "",
            ),
            "2/5",
        ),
    ];
    for (text, de) in cases {
        let problems = read(&text).unwrap_err();
        assert_eq!(problems[0].data_element, Some(de), "{problems:#?}");
        assert!(problems[0].to_string().contains(&format!("(DE {de})")));
    }
}
