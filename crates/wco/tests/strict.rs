//! Finding 10 of issue 14, for the readers: the JSON twin accepted text after its object and rounded an amount
//! of 40 decimals silently; the XML reader accepted an impossible issue date. Each is refused at its field, as the
//! other form refuses it.

use error_table::ErrorCode;

fn minimal_json() -> serde_json::Value {
    let declaration =
        wco::read_declaration(include_bytes!("minimal.xml"), &wco::Limits::default()).unwrap();
    serde_json::to_value(&declaration).unwrap()
}

#[test]
fn the_json_twin_is_one_value_with_exact_amounts() {
    let good = minimal_json().to_string();
    assert!(wco::json::read_declaration(good.as_bytes()).is_ok());
    for trailing in [
        format!("{good} {{}}"),
        format!("{good}garbage"),
        format!("{good}\n[1]"),
    ] {
        let problems = wco::json::read_declaration(trailing.as_bytes()).unwrap_err();
        assert_eq!(problems[0].code, ErrorCode::JsonInvalid, "{trailing}");
    }
    assert!(wco::json::read_declaration(format!("{good}\n  \n").as_bytes()).is_ok());
    let mut inexact = minimal_json();
    inexact["goods_shipment"]["goods_items"][0]["item_charge_amount"]["value"] =
        serde_json::json!("1000.0000000000000000000000000000000000001");
    let problems = wco::json::read_declaration(inexact.to_string().as_bytes()).unwrap_err();
    assert_eq!(problems[0].code, ErrorCode::InvalidValue);
    assert!(
        problems[0].pointer.ends_with("/item_charge_amount/value"),
        "{:?}",
        problems[0]
    );
    let mut huge = minimal_json();
    huge["goods_shipment"]["goods_items"][0]["item_charge_amount"]["value"] =
        serde_json::json!("79228162514264337593543950335");
    let problems = wco::json::read_declaration(huge.to_string().as_bytes()).unwrap_err();
    assert!(problems[0].message.contains("16"), "{:?}", problems[0]);
}

#[test]
fn an_impossible_issue_date_is_refused_in_both_forms() {
    let xml = String::from_utf8(include_bytes!("minimal.xml").to_vec()).unwrap();
    // The schemas' pattern allows 20261345000000Z (month 13, day 45): the reader's date check refuses it.
    let with_date = xml.replacen(
        "<TypeCode>",
        "<IssueDateTime><ds:DateTimeString xmlns:ds=\"urn:wco:datamodel:WCO:Declaration_DS:DMS:2\" \
         formatCode=\"304\">20261345000000Z</ds:DateTimeString></IssueDateTime><TypeCode>",
        1,
    );
    let problems = wco::read_declaration(with_date.as_bytes(), &wco::Limits::default())
        .expect_err("an impossible issue date was accepted");
    assert!(
        problems.iter().any(|p| p.code == ErrorCode::InvalidValue
            && p.pointer.ends_with("IssueDateTime/DateTimeString")),
        "{problems:?}"
    );
    let mut json = minimal_json();
    json["issue_date_time"] = serde_json::json!("20261345000000Z");
    let problems = wco::json::read_declaration(json.to_string().as_bytes()).unwrap_err();
    assert_eq!(problems[0].pointer, "/issue_date_time");
}
