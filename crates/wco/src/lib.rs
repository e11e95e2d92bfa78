//! WCO DEC-DMS 2 declarations in XML (the message of the UK Customs Declaration Service and of EU systems).
//!
//! [`read_declaration`] turns bytes into a [`declaration::Declaration`] ([`read_message`] also reads the function
//! code 13 messages about one: corrections, invalidations, goods presentations) or a list of [`Problem`]s, each with an
//! error code from the table, the XPath of the offending element and a sentence. It goes in two steps: [`dom`]
//! reads the bytes into a small element tree under hard limits (size, depth, element count, attribute and text
//! length; no DTD, no entities beyond the five predefined ones), then [`map`] walks that tree into the model,
//! refusing elements it does not know.
//!
//! [`rules`] holds the context-free checks that follow parsing (goods item count and numbering, required parties),
//! shared with the JSON twin, which [`json`] reads.
//!
//! **Architecture invariant**: pure. This crate reads bytes handed to it; it opens no file and keeps no state.

pub mod correction;
pub mod data_elements;
pub mod dom;
pub mod json;
pub mod kept;
pub mod map;
pub mod res;
pub mod rules;
pub mod schema;
pub mod write;

pub use dom::Limits;
pub use error_table::{ErrorCode, Problem};

/// Reads a WCO DEC-DMS 2 declaration (an `md:MetaData` envelope holding a `Declaration`).
pub fn read_declaration(
    bytes: &[u8],
    limits: &Limits,
) -> Result<declaration::Declaration, Vec<Problem>> {
    match read_message(bytes, limits)? {
        Message::Declaration(declaration) => Ok(*declaration),
        Message::Additional(_) => Err(vec![map::not_a_declaration()]),
    }
}

/// Keeps in `message` everything of the document that its model, written back, lacks.
fn keep_the_rest(root: &dom::Element, message: &mut Message) {
    let written = match message {
        Message::Declaration(d) => write::typed_declaration(d),
        Message::Additional(m) => write::typed_additional_message(m),
    };
    let kept = kept::residue(root, &written);
    match message {
        Message::Declaration(d) => d.kept = kept,
        Message::Additional(m) => m.kept = kept,
    }
}

pub use map::Message;

/// Reads a WCO DEC-DMS 2 document: a declaration (function code 9) or a function code 13 message about one
/// (correction, invalidation, goods presentation), each checked by its own context-free rules.
pub fn read_message(bytes: &[u8], limits: &Limits) -> Result<Message, Vec<Problem>> {
    let root = dom::parse(bytes, limits).map_err(|problem| vec![problem])?;
    let mut structure = schema::validate(&root);
    if !structure.is_empty() {
        data_elements::annotate(&mut structure);
        return Err(structure);
    }
    let mut message = map::message(&root).map_err(|mut problems| {
        data_elements::annotate(&mut problems);
        problems
    })?;
    keep_the_rest(&root, &mut message);
    let mut problems = match &message {
        Message::Declaration(d) => rules::check(d, rules::PointerStyle::XPath),
        Message::Additional(m) => rules::check_additional(m, rules::PointerStyle::XPath),
    };
    data_elements::annotate(&mut problems);
    if problems.is_empty() {
        Ok(message)
    } else {
        Err(problems)
    }
}

/// Text and attribute values for the XML Aduana writes (RES notifications, DEC declarations): the markup characters
/// escaped, and the carriage return. Everything else is written as read, so that a declaration written back reads the
/// same (the readers refuse the control characters XML 1.0 forbids, so no model holds one).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // A literal carriage return would come back as a line feed (XML end-of-line handling).
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_minimal_fixture_is_a_valid_declaration() {
        let declaration = crate::read_declaration(
            include_bytes!("../tests/minimal.xml"),
            &crate::Limits::default(),
        )
        .unwrap();
        assert_eq!(declaration.lrn.as_str(), "MINIMAL-1");
        assert_eq!(
            declaration.goods_shipment.goods_items[0]
                .commodity_code()
                .unwrap()
                .as_str(),
            "85109000"
        );
    }
}
