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
