//! Function code 13 corrections (COR) applied to the declaration they name (docs/corrections.md).
//!
//! A correction carries pointers (each `Amendment` a chain of WCO class IDs with sequence numbers, the last one
//! perhaps with the ID of a data element) and the changed data, laid out as in a declaration. Every pointer must
//! name a part of the declaration that the correction carries; the data is then laid over the current version: a
//! goods item is matched by its sequence number, any other repeated element by its position, a value replaces the
//! value (and the attributes it carries), an element the declaration lacks is added at its place in schema order.
//! The result is read again as a whole declaration, so it is checked exactly as a lodgement is. Pure: models in,
//! model out.

use crate::dom::Element;
use crate::schema::{self, Body, Type};
use declaration::{AdditionalMessage, AdditionalMessageType, Declaration, Pointer};
use error_table::{ErrorCode, Problem};

/// The elements of a function code 13 message that are the message's own (what it is, what it names, why), not
/// data of the declaration.
const MESSAGE_OWN: &[&str] = &[
    "FunctionCode",
    "FunctionalReferenceID",
    "ID",
    "TypeCode",
    "Amendment",
    "AdditionalInformation",
    "Submitter",
];

/// The declaration as `correction` leaves it, or why the correction cannot be applied (each problem at the pointer
/// or the element concerned).
pub fn apply(
    current: &Declaration,
    correction: &AdditionalMessage,
) -> Result<Declaration, Vec<Problem>> {
    if correction.type_code != AdditionalMessageType::Correction {
        return Err(vec![Problem::with_message(
            ErrorCode::UnsupportedDeclarationType,
            "/MetaData/Declaration/TypeCode",
            format!(
                "Only a correction (COR) is applied to a declaration; this is {}.",
                correction.type_code.wco_code()
            ),
        )]);
    }
    let mut tree = crate::write::declaration_tree(current);
    let data = crate::write::additional_message_tree(correction);
    let data = declaration_of(&data).expect("a written message holds a Declaration");
    let mut problems = Vec::new();
    if correction.amendments.is_empty() {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            "/MetaData/Declaration/Amendment",
            "A correction says what it changes: an Amendment with its change reason code and pointers.",
        ));
    }
    let several = correction.amendments.len() > 1;
    for (a, amendment) in correction.amendments.iter().enumerate() {
        let at = if several {
            format!("/MetaData/Declaration/Amendment[{}]", a + 1)
        } else {
            "/MetaData/Declaration/Amendment".to_owned()
        };
        if let Err(problem) = resolve(&amendment.pointers, data, &at) {
            problems.push(problem);
        }
    }
    if data
        .children
        .iter()
        .all(|c| MESSAGE_OWN.contains(&c.name.as_str()))
    {
        problems.push(Problem::with_message(
            ErrorCode::MissingElement,
            "/MetaData/Declaration",
            "The correction carries no changed data (such as a GoodsShipment with the goods items that change).",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let target = tree
        .children
        .iter_mut()
        .find(|c| c.name == "Declaration")
        .expect("a written declaration holds a Declaration");
    overlay_children(data, target, schema::declaration(), true);
    let xml = crate::kept::serialize(&tree);
    match crate::read_message(xml.as_bytes(), &crate::Limits::for_own_output()) {
        Ok(crate::Message::Declaration(declaration)) => Ok(*declaration),
        Ok(crate::Message::Additional(_)) => {
            unreachable!("the function code stays the declaration's")
        }
        Err(problems) => Err(problems
            .into_iter()
            .map(|p| {
                Problem::with_message(
                    p.code,
                    p.pointer,
                    format!("The declaration as corrected is not valid: {}", p.message),
                )
            })
            .collect()),
    }
}

fn declaration_of(root: &Element) -> Option<&Element> {
    root.children.iter().find(|c| c.name == "Declaration")
}

/// Checks that a chain of pointers names a part of the declaration that the correction's data (`data`, its
/// `Declaration` element) carries; the problem names the pointer that does not resolve.
fn resolve(pointers: &[Pointer], data: &Element, at: &str) -> Result<(), Problem> {
    let several = pointers.len() > 1;
    let pointer_at = |k: usize| {
        if several {
            format!("{at}/Pointer[{}]", k + 1)
        } else {
            format!("{at}/Pointer")
        }
    };
    let refuse = |k: usize, sentence: String| {
        Problem::with_message(ErrorCode::PointerUnresolved, pointer_at(k), sentence)
    };
    let Some(first) = pointers.first() else {
        return Err(Problem::with_message(
            ErrorCode::MissingElement,
            format!("{at}/Pointer"),
            "An amendment points at what it changes: pointers from the declaration (42A) down.",
        ));
    };
    if first.document_section_code.as_deref() != Some("42A") {
        return Err(refuse(
            0,
            format!(
                "Pointers start at the declaration (section 42A), not {}.",
                first.document_section_code.as_deref().unwrap_or("nothing")
            ),
        ));
    }
    let mut node = data;
    let mut ty: &'static Type = schema::declaration();
    let mut named = vec!["Declaration".to_owned()];
    for (k, pointer) in pointers.iter().enumerate() {
        if k > 0 {
            let Some(section) = pointer.document_section_code.as_deref() else {
                return Err(refuse(
                    k,
                    "A pointer below the declaration names its section (DocumentSectionCode)."
                        .into(),
                ));
            };
            let Some(child) = ty.children().iter().find(|c| c.wco_id == section) else {
                return Err(refuse(
                    k,
                    format!(
                        "Section {section} is not a part of {} (in {}).",
                        ty_name(ty, &named),
                        named.join(" / ")
                    ),
                ));
            };
            let sequence = pointer.sequence_numeric.unwrap_or(1).max(1);
            let instance = if child.name == "GovernmentAgencyGoodsItem" {
                node.children
                    .iter()
                    .find(|c| c.name == child.name && sequence_of(c) == Some(sequence))
            } else {
                node.children
                    .iter()
                    .filter(|c| c.name == child.name)
                    .nth(sequence as usize - 1)
            };
            named.push(format!("{} {sequence}", child.name));
            let Some(instance) = instance else {
                return Err(refuse(
                    k,
                    format!(
                        "The pointer names {}, which the correction does not carry: send the changed data with it.",
                        named.join(" / ")
                    ),
                ));
            };
            node = instance;
            ty = child.ty();
        }
        if let Some(tag) = pointer.tag_id.as_deref() {
            let Some(leaf) = ty.children().iter().find(|c| c.wco_id == tag) else {
                return Err(refuse(
                    k,
                    format!("Data element {tag} is not a part of {}.", named.join(" / ")),
                ));
            };
            if !node.children.iter().any(|c| c.name == leaf.name) {
                return Err(refuse(
                    k,
                    format!(
                        "The pointer names {} / {} (data element {tag}), which the correction does not carry.",
                        named.join(" / "),
                        leaf.name
                    ),
                ));
            }
            if k + 1 < pointers.len() {
                return Err(refuse(
                    k,
                    "Only the last pointer of an amendment names a data element (TagID).".into(),
                ));
            }
        }
    }
    Ok(())
}

fn ty_name(_ty: &Type, named: &[String]) -> String {
    named.last().cloned().unwrap_or_default()
}

/// The sequence number of a goods item element.
fn sequence_of(item: &Element) -> Option<u32> {
    item.children
        .iter()
        .find(|c| c.name == "SequenceNumeric")
        .and_then(|c| c.text.trim().parse().ok())
}

/// Lays the children of `data` over those of `target` (both of type `ty`).
fn overlay_children(data: &Element, target: &mut Element, ty: &'static Type, top: bool) {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for child in &data.children {
        if top && MESSAGE_OWN.contains(&child.name.as_str()) {
            continue;
        }
        let index = match seen.iter_mut().find(|(name, _)| *name == child.name) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((&child.name, 1));
                1
            }
        };
        let Some((_, position)) = ty.child(&child.name) else {
            continue;
        };
        let counterpart = if child.name == "GovernmentAgencyGoodsItem" {
            let sequence = sequence_of(child);
            target.children.iter().position(|c| {
                c.name == child.name && sequence.is_some() && sequence_of(c) == sequence
            })
        } else {
            target
                .children
                .iter()
                .enumerate()
                .filter(|(_, c)| c.name == child.name)
                .nth(index - 1)
                .map(|(i, _)| i)
        };
        match counterpart {
            Some(i) => match position.ty().body {
                Body::Simple { .. } => {
                    let existing = &mut target.children[i];
                    existing.text = child.text.clone();
                    for (key, value) in &child.attributes {
                        match existing.attributes.iter_mut().find(|(k, _)| k == key) {
                            Some(slot) => slot.1 = value.clone(),
                            None => existing.attributes.push((key.clone(), value.clone())),
                        }
                    }
                }
                Body::Complex(_) => {
                    overlay_children(child, &mut target.children[i], position.ty(), false)
                }
            },
            None => {
                let at = if child.name == "GovernmentAgencyGoodsItem" {
                    u32::MAX
                } else {
                    index as u32
                };
                crate::kept::insert(target, ty, child.clone(), at);
            }
        }
    }
}
