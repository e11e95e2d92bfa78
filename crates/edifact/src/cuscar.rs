//! CUSCAR (D95B and later) in: Aduana's guide (docs/edifact.md) maps each segment to a field of the cargo report
//! (crate `manifest`). Values go through the same newtypes as declarations; a segment or qualifier outside the guide
//! is refused, never dropped; every problem names its segment.

use crate::cusdec::fail;
use crate::syntax::{Message, Segment};
use declaration::{CommodityCode, Country, Party, PartyId};
use error_table::{ErrorCode, Problem};
use manifest::{CargoReport, Consignment, Equipment, GoodsItem, Transport};

fn party(segment: &Segment, problems: &mut Vec<Problem>) -> Party {
    let id = match segment.get(2, 1) {
        "" => None,
        text => match PartyId::parse(text) {
            Ok(id) => Some(id),
            Err(e) => {
                problems.push(fail(segment, Some(2), e.code, &e.to_string()));
                None
            }
        },
    };
    // C080 party name is the fourth element: NAD+CN+id++name.
    let name = Some(segment.get(4, 1).to_owned()).filter(|n| !n.is_empty());
    Party {
        id,
        name,
        address: None,
    }
}

fn number(
    segment: &Segment,
    element: usize,
    component: usize,
    problems: &mut Vec<Problem>,
) -> Option<u32> {
    let text = segment.get(element, component);
    match text.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(fail(
                segment,
                Some(element),
                ErrorCode::InvalidValue,
                &format!("{text:?} is not a whole number."),
            ));
            None
        }
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned()).filter(|t| !t.is_empty())
}

/// Reads a CUSCAR message into a cargo report, then applies the report's checks (their JSON pointers are kept, the
/// message names the segment of the consignment or goods item concerned).
pub fn read(message: &Message) -> Result<CargoReport, Vec<Problem>> {
    if message.message_type != "CUSCAR" {
        return Err(vec![fail(
            &message.segments[0],
            Some(2),
            ErrorCode::EdifactUnsupportedMessage,
            &format!(
                "A {} message is not a cargo report; send CUSCAR.",
                message.message_type
            ),
        )]);
    }
    let mut problems = Vec::new();
    let mut reference = None;
    let mut carrier = None;
    let mut transport: Option<Transport> = None;
    let mut arrival = None;
    let mut place_of_arrival = None;
    let mut equipment: Vec<Equipment> = Vec::new();
    let mut consignments: Vec<Consignment> = Vec::new();
    // Segment numbers of each consignment and goods item, to point problems found by the checks.
    let mut origins: Vec<(usize, Vec<usize>)> = Vec::new();
    let body = &message.segments[1..message.segments.len() - 1];
    for segment in body {
        let in_consignment = !consignments.is_empty();
        let in_goods = consignments.last().is_some_and(|c| !c.goods.is_empty());
        let qualifier = segment.get(1, 1);
        match (segment.tag.as_str(), qualifier) {
            ("BGM", _) if !in_consignment => {
                if qualifier != "85" {
                    problems.push(fail(
                        segment,
                        Some(1),
                        ErrorCode::EdifactUnsupportedMessage,
                        &format!("Document name {qualifier:?}: a cargo report is 85 (customs manifest)."),
                    ));
                }
                if !matches!(segment.get(3, 1), "9" | "") {
                    problems.push(fail(
                        segment,
                        Some(3),
                        ErrorCode::UnsupportedFunctionCode,
                        "Only original reports (message function 9) are accepted; lodge a corrected report under a \
                         new reference.",
                    ));
                }
                reference = Some(segment.get(2, 1).to_owned());
            }
            ("DTM", "132") if !in_consignment => arrival = some(segment.get(1, 2)),
            ("NAD", "CA") if !in_consignment => carrier = Some(party(segment, &mut problems)),
            ("TDT", "20") if !in_consignment => {
                let nationality = match segment.get(8, 5) {
                    "" => None,
                    text => match Country::parse(text) {
                        Ok(c) => Some(c),
                        Err(e) => {
                            problems.push(fail(segment, Some(8), e.code, &e.to_string()));
                            None
                        }
                    },
                };
                transport = Some(Transport {
                    mode_code: segment.get(3, 1).to_owned(),
                    conveyance_reference: some(segment.get(2, 1)),
                    id: some(segment.get(8, 1)),
                    name: some(segment.get(8, 4)),
                    nationality,
                });
            }
            ("LOC", "60") if !in_consignment => place_of_arrival = some(segment.get(2, 1)),
            ("EQD", "CN") if !in_consignment => equipment.push(Equipment {
                id: segment.get(2, 1).to_owned(),
                size_type: some(segment.get(3, 1)),
                seals: Vec::new(),
            }),
            ("SEL", _) if !in_consignment && !equipment.is_empty() => {
                if let Some(last) = equipment.last_mut() {
                    last.seals.push(qualifier.to_owned());
                }
            }
            ("CNI", _) => {
                let sequence = number(segment, 1, 1, &mut problems).unwrap_or(0);
                consignments.push(Consignment {
                    sequence,
                    transport_document: segment.get(2, 1).to_owned(),
                    ..Consignment::default()
                });
                origins.push((segment.number, Vec::new()));
            }
            ("NAD", "CZ" | "CN" | "N1") if in_consignment && !in_goods => {
                let p = Some(party(segment, &mut problems));
                let c = consignments.last_mut().expect("in a consignment");
                match qualifier {
                    "CZ" => c.consignor = p,
                    "CN" => c.consignee = p,
                    _ => c.notify_party = p,
                }
            }
            ("RFF", "UCN") if in_consignment && !in_goods => {
                consignments.last_mut().expect("in a consignment").ucr = some(segment.get(1, 2));
            }
            ("LOC", "9" | "11") if in_consignment && !in_goods => {
                let c = consignments.last_mut().expect("in a consignment");
                if qualifier == "9" {
                    c.place_of_loading = some(segment.get(2, 1));
                } else {
                    c.place_of_discharge = some(segment.get(2, 1));
                }
            }
            ("GID", _) if in_consignment => {
                let sequence = number(segment, 1, 1, &mut problems).unwrap_or(0);
                let package_count = match segment.get(2, 1) {
                    "" => None,
                    _ => number(segment, 2, 1, &mut problems),
                };
                let c = consignments.last_mut().expect("in a consignment");
                c.goods.push(GoodsItem {
                    sequence,
                    package_count,
                    package_kind: some(segment.get(2, 2)),
                    ..GoodsItem::default()
                });
                origins.last_mut().expect("in a consignment").1.push(segment.number);
            }
            ("FTX", "AAA") if in_goods => {
                let g = goods(&mut consignments);
                g.description = some(segment.get(4, 1));
            }
            ("PIA", "5") if in_goods && segment.get(2, 2) == "HS" => {
                match CommodityCode::parse(segment.get(2, 1)) {
                    Ok(code) => goods(&mut consignments).commodity_code = Some(code),
                    Err(e) => problems.push(fail(segment, Some(2), e.code, &e.to_string())),
                }
            }
            ("MEA", "AAE") if in_goods && segment.get(2, 1) == "G" => {
                if segment.get(3, 1) != "KGM" {
                    problems.push(fail(
                        segment,
                        Some(3),
                        ErrorCode::InvalidValue,
                        "Masses are declared in kilograms (KGM).",
                    ));
                    continue;
                }
                match declaration::parse_decimal(segment.get(3, 2)) {
                    Ok(mass) => goods(&mut consignments).gross_mass_kg = Some(mass),
                    Err(e) => problems.push(fail(segment, Some(3), e.code, &e.to_string())),
                }
            }
            ("SGP", _) if in_goods => goods(&mut consignments).equipment.push(qualifier.to_owned()),
            _ => problems.push(fail(
                segment,
                None,
                ErrorCode::EdifactUnmappedSegment,
                "This segment (or qualifier) is not in Aduana's CUSCAR guide at this place (docs/edifact.md).",
            )),
        }
    }
    let unh = &message.segments[0];
    let missing = |what: &str| {
        Problem::with_message(
            ErrorCode::MissingElement,
            format!("/segments/{}", unh.number),
            format!("Message {}: {what}", message.reference),
        )
    };
    if reference.is_none() {
        problems.push(missing(
            "the BGM segment (document name 85, the report's reference) is required.",
        ));
    }
    if transport.is_none() {
        problems.push(missing(
            "the TDT+20 segment (the means of transport and voyage) is required.",
        ));
    }
    if carrier.is_none() {
        problems.push(missing("the NAD+CA segment (the carrier) is required."));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let report = CargoReport {
        reference: reference.unwrap_or_default(),
        carrier: carrier.unwrap_or_default(),
        transport: transport.unwrap_or_default(),
        arrival,
        place_of_arrival,
        equipment,
        consignments,
    };
    let problems = manifest::check(&report);
    if problems.is_empty() {
        return Ok(report);
    }
    // Point each problem at the CNI or GID segment it concerns when there is one: `/consignments/i[/goods/k]`.
    Err(problems
        .into_iter()
        .map(|p| {
            let parts: Vec<&str> = p.pointer.split('/').collect();
            let consignment = parts.get(2).and_then(|i| i.parse::<usize>().ok());
            let item = (parts.get(3) == Some(&"goods"))
                .then(|| parts.get(4).and_then(|k| k.parse::<usize>().ok()))
                .flatten();
            let number = match (consignment, item) {
                (Some(i), Some(k)) => origins.get(i).and_then(|o| o.1.get(k)).copied(),
                (Some(i), None) => origins.get(i).map(|o| o.0),
                _ => None,
            }
            .unwrap_or(unh.number);
            let segment = message
                .segments
                .iter()
                .find(|s| s.number == number)
                .unwrap_or(unh);
            let mut problem = fail(segment, None, p.code, &p.message);
            problem.message = format!("{} (field {})", problem.message, p.pointer);
            problem
        })
        .collect())
}

fn goods(consignments: &mut [Consignment]) -> &mut GoodsItem {
    consignments
        .last_mut()
        .and_then(|c| c.goods.last_mut())
        .expect("in a goods item")
}
