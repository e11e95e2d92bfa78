//! CUSDEC (D96B) in: Aduana's message implementation guide (docs/edifact.md) maps each segment to the same field of
//! the declaration model as the WCO XML and the JSON twin. The message is turned into the JSON twin, which the
//! twin's reader checks with the same rules as XML; a fault found there is reported at the segment it came from.

use crate::syntax::{Message, Segment};
use declaration::Declaration;
use error_table::{ErrorCode, Problem};
use serde_json::{Map, Value, json};

/// Where each part of the twin came from: (JSON pointer prefix, segment number).
type Provenance = Vec<(String, usize)>;

pub(crate) fn fail(
    segment: &Segment,
    element: Option<usize>,
    code: ErrorCode,
    message: &str,
) -> Problem {
    let (pointer, place) = match element {
        Some(e) => (
            format!("/segments/{}/elements/{e}", segment.number),
            format!(
                "Segment {} ({}), element {e}: ",
                segment.number, segment.tag
            ),
        ),
        None => (
            format!("/segments/{}", segment.number),
            format!("Segment {} ({}): ", segment.number, segment.tag),
        ),
    };
    Problem::with_message(code, pointer, format!("{place}{message}"))
}

fn party(segment: &Segment) -> Value {
    let mut party = Map::new();
    if !segment.get(2, 1).is_empty() {
        party.insert("id".into(), json!(segment.get(2, 1)));
    }
    if !segment.get(4, 1).is_empty() {
        party.insert("name".into(), json!(segment.get(4, 1)));
    }
    Value::Object(party)
}

fn amount(segment: &Segment, currency: &str) -> Value {
    let code = match segment.get(1, 3) {
        "" => currency,
        c => c,
    };
    json!({"value": segment.get(1, 2), "currency": code})
}

/// A document code of DE 2/3 and 2/6 (`N935`, `1DAN`): the category is its first character, the type the rest.
fn document(segment: &Segment) -> Value {
    let code = segment.get(1, 1);
    let mut split = code.char_indices().nth(1).map_or(code.len(), |(i, _)| i);
    if !code.is_char_boundary(split) {
        split = code.len();
    }
    let mut doc = Map::new();
    doc.insert("category_code".into(), json!(&code[..split]));
    doc.insert("type_code".into(), json!(&code[split..]));
    if !segment.get(2, 1).is_empty() {
        doc.insert("id".into(), json!(segment.get(2, 1)));
    }
    Value::Object(doc)
}

fn push(object: &mut Map<String, Value>, key: &str, value: Value) -> usize {
    let list = object
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    let array = list.as_array_mut().expect("lists are arrays");
    array.push(value);
    array.len() - 1
}

/// The JSON twin of a CUSDEC message and where each part came from.
fn twin(message: &Message) -> Result<(Value, Provenance), Vec<Problem>> {
    let mut header = Map::new();
    let mut shipment = Map::new();
    let mut items: Vec<Map<String, Value>> = Vec::new();
    let mut provenance: Provenance = Vec::new();
    let mut currency = String::new();
    let mut problems = Vec::new();
    let body = &message.segments[1..message.segments.len() - 1];
    for segment in body {
        let item = items.len().checked_sub(1);
        let at = |p: &str| (p.to_owned(), segment.number);
        match (segment.tag.as_str(), item) {
            // One beginning of message: a second BGM would silently replace the first's LRN.
            ("BGM", None) if header.contains_key("lrn") => problems.push(fail(
                segment,
                None,
                ErrorCode::RepeatedElement,
                "A CUSDEC message has one BGM segment (its type, LRN and function); this is a second one.",
            )),
            ("BGM", None) => {
                header.insert("type_code".into(), json!(segment.get(1, 1)));
                header.insert("lrn".into(), json!(segment.get(2, 1)));
                match segment.get(3, 1) {
                    "9" | "" => {
                        header.insert("function_code".into(), json!("original"));
                    }
                    other => problems.push(fail(
                        segment,
                        Some(3),
                        ErrorCode::UnsupportedFunctionCode,
                        &format!(
                            "Message function {other:?}: only 9 (original) is lodged as CUSDEC; amend and cancel \
                             through the API."
                        ),
                    )),
                }
                provenance.extend([at("/type_code"), at("/lrn"), at("/function_code")]);
            }
            ("DTM", None) if segment.get(1, 1) == "137" => {
                header.insert("issue_date_time".into(), json!(segment.get(1, 2)));
                provenance.push(at("/issue_date_time"));
            }
            ("LOC", None) if segment.get(1, 1) == "22" => {
                header.insert("declaration_office_id".into(), json!(segment.get(2, 1)));
                provenance.push(at("/declaration_office_id"));
            }
            ("CUX", None) => currency = segment.get(1, 2).to_owned(),
            ("MOA", None) if segment.get(1, 1) == "39" => {
                header.insert("invoice_amount".into(), amount(segment, &currency));
                provenance.push(at("/invoice_amount"));
            }
            ("CNT", None) if segment.get(1, 1) == "5" => {
                let count: Value = segment
                    .get(1, 2)
                    .parse::<u64>()
                    .map_or_else(|_| json!(segment.get(1, 2)), |n| json!(n));
                header.insert("goods_item_quantity".into(), count);
                provenance.push(at("/goods_item_quantity"));
            }
            ("NAD", None) => {
                let (target, key, pointer) = match segment.get(1, 1) {
                    "DT" => (&mut header, "declarant", "/declarant"),
                    "EX" => (&mut header, "exporter", "/exporter"),
                    "IM" => (&mut shipment, "importer", "/goods_shipment/importer"),
                    "SE" => (&mut shipment, "seller", "/goods_shipment/seller"),
                    "BY" => (&mut shipment, "buyer", "/goods_shipment/buyer"),
                    "CN" => (&mut shipment, "consignee", "/goods_shipment/consignee"),
                    other => {
                        problems.push(fail(
                            segment,
                            Some(1),
                            ErrorCode::EdifactUnmappedSegment,
                            &format!("Party function {other:?}: DT, EX, IM, SE, BY or CN expected."),
                        ));
                        continue;
                    }
                };
                target.insert(key.into(), party(segment));
                provenance.push(at(pointer));
            }
            ("TDT", None) if segment.get(1, 1) == "11" => {
                header.insert(
                    "border_transport_means".into(),
                    json!({"mode_code": segment.get(3, 1)}),
                );
                provenance.push(at("/border_transport_means"));
            }
            ("DOC", None) => {
                let i = push(&mut header, "additional_documents", document(segment));
                provenance.push(at(&format!("/additional_documents/{i}")));
            }
            ("UNS", _) => {}
            ("CST", _) => {
                let mut goods = Map::new();
                let sequence: Value = segment
                    .get(1, 1)
                    .parse::<u64>()
                    .map_or_else(|_| json!(segment.get(1, 1)), |n| json!(n));
                goods.insert("sequence_numeric".into(), sequence);
                let classifications: Vec<Value> = segment
                    .elements
                    .iter()
                    .skip(1)
                    .filter(|e| e.first().is_some_and(|c| !c.is_empty()))
                    .map(|e| {
                        json!({"id": e[0], "identification_type_code": e.get(1).cloned().unwrap_or_default()})
                    })
                    .collect();
                goods.insert("classifications".into(), Value::Array(classifications));
                let index = items.len();
                provenance.push(at(&format!("/goods_shipment/goods_items/{index}")));
                items.push(goods);
            }
            (tag, Some(index)) => {
                let goods = &mut items[index];
                let base = format!("/goods_shipment/goods_items/{index}");
                match (tag, segment.get(1, 1)) {
                    ("FTX", "AAA") => {
                        goods.insert("description".into(), json!(segment.get(4, 1)));
                        provenance.push(at(&format!("{base}/description")));
                    }
                    ("LOC", "27") => {
                        let i = push(
                            goods,
                            "origins",
                            json!({"country_code": segment.get(2, 1), "type_code": "1"}),
                        );
                        provenance.push(at(&format!("{base}/origins/{i}")));
                    }
                    ("MEA", "WT") => {
                        let key = match segment.get(2, 1) {
                            "AAA" | "N" => "net_mass_kg",
                            "AAB" | "G" => "gross_mass_kg",
                            other => {
                                problems.push(fail(
                                    segment,
                                    Some(2),
                                    ErrorCode::EdifactUnmappedSegment,
                                    &format!(
                                        "Weight qualifier {other:?}: AAA (net) or AAB (gross) expected."
                                    ),
                                ));
                                continue;
                            }
                        };
                        if segment.get(3, 1) != "KGM" {
                            problems.push(fail(
                                segment,
                                Some(3),
                                ErrorCode::InvalidValue,
                                "Masses are declared in kilograms (KGM).",
                            ));
                            continue;
                        }
                        goods.insert(key.into(), json!(segment.get(3, 2)));
                        provenance.push(at(&format!("{base}/{key}")));
                    }
                    ("MEA", "SU") => {
                        goods.insert(
                            "tariff_quantity".into(),
                            json!({"value": segment.get(3, 2), "unit_code": segment.get(3, 1)}),
                        );
                        provenance.push(at(&format!("{base}/tariff_quantity")));
                    }
                    ("MOA", "66") => {
                        goods.insert("item_charge_amount".into(), amount(segment, &currency));
                        provenance.push(at(&format!("{base}/item_charge_amount")));
                    }
                    // A requested + previous procedure is four digits; an additional procedure three letters or
                    // digits (counted in characters: a value may hold any character of the syntax level).
                    ("GIS", code)
                        if !(code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())
                            || code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphanumeric())) =>
                    {
                        problems.push(fail(
                            segment,
                            Some(1),
                            ErrorCode::InvalidValue,
                            &format!(
                                "{code:?} is neither a procedure (four digits, DE 1/10) nor an additional \
                                 procedure (three letters or digits, DE 1/11)."
                            ),
                        ));
                    }
                    ("GIS", code) if code.chars().count() == 4 => {
                        let current: String = code.chars().take(2).collect();
                        let previous: String = code.chars().skip(2).collect();
                        let i = push(
                            goods,
                            "procedures",
                            json!({"current_code": current, "previous_code": previous}),
                        );
                        provenance.push(at(&format!("{base}/procedures/{i}")));
                    }
                    // An additional procedure code (DE 1/11): three characters, no previous procedure.
                    ("GIS", code) if code.chars().count() == 3 => {
                        let i = push(goods, "procedures", json!({"current_code": code}));
                        provenance.push(at(&format!("{base}/procedures/{i}")));
                    }
                    // The valuation method (DE 4/16).
                    ("GEI", "VM") => {
                        goods.insert("valuation_method_code".into(), json!(segment.get(2, 1)));
                        provenance.push(at(&format!("{base}/valuation_method_code")));
                    }
                    ("TAX", _) => {
                        let mut fee = Map::new();
                        fee.insert("type_code".into(), json!(segment.get(2, 1)));
                        if !segment.get(6, 1).is_empty() {
                            fee.insert("payment_method_code".into(), json!(segment.get(6, 1)));
                        }
                        let i = push(goods, "duty_tax_fees", Value::Object(fee));
                        provenance.push(at(&format!("{base}/duty_tax_fees/{i}")));
                    }
                    ("DOC", _) => {
                        let i = push(goods, "additional_documents", document(segment));
                        provenance.push(at(&format!("{base}/additional_documents/{i}")));
                    }
                    _ => problems.push(fail(
                        segment,
                        None,
                        ErrorCode::EdifactUnmappedSegment,
                        "This segment (or qualifier) is not in Aduana's CUSDEC guide for a goods item (docs/edifact.md).",
                    )),
                }
            }
            _ => problems.push(fail(
                segment,
                None,
                ErrorCode::EdifactUnmappedSegment,
                "This segment (or qualifier) is not in Aduana's CUSDEC guide for the declaration header (docs/edifact.md).",
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if !items.is_empty() {
        shipment.insert(
            "goods_items".into(),
            Value::Array(items.into_iter().map(Value::Object).collect()),
        );
    }
    header.insert("goods_shipment".into(), Value::Object(shipment));
    Ok((Value::Object(header), provenance))
}

/// serde's messages end with the position in the JSON twin (" at line 1 column 309"), which means nothing to the
/// sender of the EDIFACT.
fn without_json_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// Reads a CUSDEC message into the declaration model. Problems point at the segment (`/segments/N`) that holds the
/// faulty value.
pub fn read(message: &Message) -> Result<Declaration, Vec<Problem>> {
    if message.message_type != "CUSDEC" {
        let unh = &message.segments[0];
        return Err(vec![fail(
            unh,
            Some(2),
            ErrorCode::EdifactUnsupportedMessage,
            &format!(
                "A {} message cannot be lodged as a declaration; send CUSDEC.",
                message.message_type
            ),
        )]);
    }
    let (twin, provenance) = twin(message)?;
    let bytes = serde_json::to_vec(&twin).expect("a JSON value serializes");
    wco::json::read_declaration(&bytes).map_err(|problems| {
        problems
            .into_iter()
            .map(|problem| {
                // The longest recorded prefix of the problem's pointer names the segment.
                let origin = provenance
                    .iter()
                    .filter(|(prefix, _)| {
                        problem.pointer == *prefix
                            || problem.pointer.starts_with(&format!("{prefix}/"))
                    })
                    .max_by_key(|(prefix, _)| prefix.len())
                    .map(|(_, n)| *n);
                match origin {
                    Some(n) => {
                        let segment = message
                            .segments
                            .iter()
                            .find(|s| s.number == n)
                            .expect("provenance names a segment of the message");
                        fail(
                            segment,
                            None,
                            problem.code,
                            without_json_position(&problem.message),
                        )
                    }
                    // Something missing altogether: the message as a whole.
                    None => Problem::with_message(
                        problem.code,
                        format!("/segments/{}", message.segments[0].number),
                        format!(
                            "Message {} ({}): {}",
                            message.reference,
                            problem.pointer,
                            without_json_position(&problem.message)
                        ),
                    ),
                }
            })
            .collect()
    })
}
