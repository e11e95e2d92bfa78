//! Context-free rules: checks on one declaration that need no tariff, no register and no clock. They apply to
//! the XML message and to its JSON twin alike; pointers are written in the style of the input.

use declaration::{
    AdditionalMessage, AdditionalMessageType, Declaration, FunctionCode, MAX_GOODS_ITEMS,
};
use error_table::{ErrorCode, Problem};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointerStyle {
    /// `/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/SequenceNumeric`
    XPath,
    /// `/goods_shipment/goods_items/1/sequence_numeric`
    JsonPointer,
}

struct Pointers(PointerStyle);

impl Pointers {
    fn header(&self, xml: &str, json: &str) -> String {
        match self.0 {
            PointerStyle::XPath => format!("/MetaData/Declaration/{xml}"),
            PointerStyle::JsonPointer => format!("/{json}"),
        }
    }
    fn item(&self, index: usize, xml: &str, json: &str) -> String {
        match self.0 {
            PointerStyle::XPath => {
                format!(
                    "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{}]/{xml}",
                    index + 1
                )
            }
            PointerStyle::JsonPointer => format!("/goods_shipment/goods_items/{index}/{json}"),
        }
    }
}

/// Every context-free problem of `declaration`, in document order.
pub fn check(declaration: &Declaration, style: PointerStyle) -> Vec<Problem> {
    let at = Pointers(style);
    let mut problems = Vec::new();
    let items = &declaration.goods_shipment.goods_items;

    if declaration.function_code == FunctionCode::Original && declaration.declarant_id().is_none() {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            at.header("Declarant/ID", "declarant/id"),
            "The declarant's EORI (DE 3/18) is required.",
        ));
    }
    if declaration.function_code == FunctionCode::Amendment && declaration.id.is_none() {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            at.header("ID", "id"),
            "An amendment must name the MRN of the declaration it amends.",
        ));
    }
    if items.is_empty() {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            at.header(
                "GoodsShipment/GovernmentAgencyGoodsItem",
                "goods_shipment/goods_items",
            ),
            "A declaration needs at least one goods item.",
        ));
    }
    if items.len() > MAX_GOODS_ITEMS {
        problems.push(Problem::with_message(
            ErrorCode::TooManyGoodsItems,
            at.header("GoodsShipment", "goods_shipment/goods_items"),
            format!(
                "The declaration has {} goods items; at most {MAX_GOODS_ITEMS} are allowed.",
                items.len()
            ),
        ));
        return problems;
    }
    if let Some(declared) = declaration.goods_item_quantity
        && declared as usize != items.len()
    {
        problems.push(Problem::with_message(
            ErrorCode::GoodsItemCountMismatch,
            at.header("GoodsItemQuantity", "goods_item_quantity"),
            format!(
                "DE 1/9 says {declared} goods items but {} were sent.",
                items.len()
            ),
        ));
    }
    for (value, xml, json) in [
        (
            &declaration.issue_date_time,
            "IssueDateTime/DateTimeString",
            "issue_date_time",
        ),
        (
            &declaration.acceptance_date_time,
            "AcceptanceDateTime/DateTimeString",
            "acceptance_date_time",
        ),
    ] {
        if let Some(text) = value
            && !is_date_time(text)
        {
            problems.push(Problem::with_message(
                ErrorCode::InvalidValue,
                at.header(xml, json),
                format!(
                    "{text:?} is no date and time: write CCYYMMDDHHMMSS and a zone (format code 304), e.g. \
                     20261129080000Z, or a date CCYYMMDD."
                ),
            ));
        }
    }
    for (index, item) in items.iter().enumerate() {
        let expected = index + 1;
        if item.sequence_numeric as usize != expected {
            problems.push(Problem::with_message(
                ErrorCode::GoodsItemSequence,
                at.item(index, "SequenceNumeric", "sequence_numeric"),
                format!(
                    "Goods item {expected} is numbered {}; number goods items 1, 2, 3 … in order.",
                    item.sequence_numeric
                ),
            ));
        }
        let has_code = item
            .classifications
            .iter()
            .any(|c| matches!(c.identification_type_code.as_str(), "TSP" | "GN"));
        if has_code && item.commodity_code().is_none() {
            problems.push(Problem::with_message(
                ErrorCode::InvalidCommodityCode,
                at.item(index, "Commodity/Classification", "classifications"),
                "The commodity code (DE 6/14 with DE 6/15) must be 6, 8 or 10 digits.",
            ));
        }
    }
    problems
}

/// Every context-free problem of a function code 13 message: a correction or invalidation says why (an `Amendment`
/// with its change reason code), an invalidation gives its reason as text, and the goods items a correction
/// carries are numbered 1 … 999, each once, in order.
pub fn check_additional(message: &AdditionalMessage, style: PointerStyle) -> Vec<Problem> {
    let at = Pointers(style);
    let mut problems = Vec::new();
    let asks_change = matches!(
        message.type_code,
        AdditionalMessageType::Correction | AdditionalMessageType::Invalidation
    );
    if asks_change && message.amendments.is_empty() {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            at.header("Amendment/ChangeReasonCode", "amendments"),
            "A correction or invalidation needs an Amendment with its change reason code (e.g. 1 to cancel, 21 \
             to correct).",
        ));
    }
    if message.type_code == AdditionalMessageType::Invalidation && message.reason().is_none() {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            at.header(
                "AdditionalInformation/StatementDescription",
                "additional_information",
            ),
            "An invalidation needs its reason as additional information of type AES.",
        ));
    }
    let items = message
        .goods_shipment
        .as_ref()
        .map(|g| g.goods_items.as_slice())
        .unwrap_or_default();
    if items.len() > MAX_GOODS_ITEMS {
        problems.push(Problem::with_message(
            ErrorCode::TooManyGoodsItems,
            at.header("GoodsShipment", "goods_shipment/goods_items"),
            format!(
                "The message changes {} goods items; a declaration has at most {MAX_GOODS_ITEMS}.",
                items.len()
            ),
        ));
        return problems;
    }
    let mut previous = 0;
    for (index, item) in items.iter().enumerate() {
        let number = item.sequence_numeric;
        if number == 0 || number as usize > MAX_GOODS_ITEMS || number <= previous {
            problems.push(Problem::with_message(
                ErrorCode::GoodsItemSequence,
                at.item(index, "SequenceNumeric", "sequence_numeric"),
                format!(
                    "Goods item {} of the message is numbered {number}; name each goods item that changes once, by \
                     its number 1 … {MAX_GOODS_ITEMS}, in order.",
                    index + 1
                ),
            ));
        }
        previous = previous.max(number);
    }
    problems
}

/// A date and time as declarations write them: format code 304 (`CCYYMMDDHHMMSS` then `Z`, `±HH` or `±HHMM`),
/// 203 (`CCYYMMDDHHMM`) or 102 (`CCYYMMDD`), that names a day of the calendar and a time of the day.
pub fn is_date_time(text: &str) -> bool {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (stamp, zone) = text.split_at(digits);
    let zone_ok = match zone.as_bytes() {
        [] => true,
        [b'Z'] => digits == 14,
        [b'+' | b'-', rest @ ..] => {
            digits == 14
                && matches!(rest.len(), 2 | 4)
                && rest.iter().all(u8::is_ascii_digit)
                && rest[..2] <= b"14"[..]
                && (rest.len() == 2 || rest[2..] < b"60"[..])
        }
        _ => false,
    };
    if !zone_ok || !matches!(digits, 8 | 12 | 14) {
        return false;
    }
    let number = |range: std::ops::Range<usize>| stamp[range].parse::<u32>().unwrap_or(u32::MAX);
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let Ok(month) = time::Month::try_from(u8::try_from(month).unwrap_or(0)) else {
        return false;
    };
    let Ok(_) = time::Date::from_calendar_date(
        i32::try_from(year).unwrap_or(0).max(0),
        month,
        u8::try_from(day).unwrap_or(0),
    ) else {
        return false;
    };
    if year == 0 {
        return false;
    }
    let (hour, minute, second) = match digits {
        14 => (number(8..10), number(10..12), number(12..14)),
        12 => (number(8..10), number(10..12), 0),
        _ => (0, 0, 0),
    };
    hour < 24 && minute < 60 && second < 60
}

#[cfg(test)]
mod date_tests {
    use super::is_date_time;

    #[test]
    fn dates_and_times_are_checked_on_the_calendar() {
        for good in [
            "20261129080000Z",
            "20230605173755+01",
            "20240229235959-0530",
            "20261129",
            "202611291400",
        ] {
            assert!(is_date_time(good), "{good}");
        }
        for bad in [
            "99999999999999+0000",
            "20261345",
            "20250229",
            "20261129250000Z",
            "20261129086000Z",
            "00001129080000Z",
            "2026112908Z",
            "20261129080000+2500",
            "20261129080000X",
            "",
            "2026-11-29",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
