//! An element tree checked against the description: the structural half of the reader's verdict.

use super::{Body, Type};
use crate::dom::{Element, NS_METADATA};
use error_table::{ErrorCode, Problem};

/// Every way the document (an `md:MetaData` element tree) departs from the schemas, each at its XPath. Empty when
/// the schemas accept it.
pub fn validate(root: &Element) -> Vec<Problem> {
    let mut problems = Vec::new();
    if root.name != "MetaData" || root.namespace.as_deref() != Some(NS_METADATA) {
        problems.push(Problem::with_message(
            ErrorCode::XmlWrongEnvelope,
            format!("/{}", root.name),
            format!(
                "The root element must be md:MetaData in {NS_METADATA}; found {}.",
                root.name
            ),
        ));
        return problems;
    }
    element(root, super::envelope(), "/MetaData", &mut problems);
    problems
}

/// The problems of one element subtree (`element` of type `ty`, found at `path`), e.g. an element the JSON twin
/// carries for a place the model does not interpret.
pub fn validate_subtree(element_: &Element, ty: &Type, path: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    element(element_, ty, path, &mut problems);
    problems
}

/// Most problems reported for one document: past this the rest are noise.
const MAX_PROBLEMS: usize = 100;

fn element(e: &Element, ty: &Type, path: &str, problems: &mut Vec<Problem>) {
    if problems.len() >= MAX_PROBLEMS {
        return;
    }
    match &ty.body {
        Body::Simple { value, attributes } => {
            for child in &e.children {
                problems.push(Problem::with_message(
                    ErrorCode::UnexpectedElement,
                    format!("{path}/{}", child.name),
                    format!("{} holds a value, not the element {}.", e.name, child.name),
                ));
            }
            if let Some(why) = value.check(&e.text) {
                problems.push(Problem::with_message(
                    ErrorCode::InvalidValue,
                    path.to_owned(),
                    format!("{}: {why}", e.name),
                ));
            }
            for (name, text) in &e.attributes {
                match attributes.iter().find(|a| a.name == *name) {
                    Some(attribute) => {
                        if let Some(why) = attribute.value.check(text) {
                            problems.push(Problem::with_message(
                                ErrorCode::InvalidValue,
                                format!("{path}/@{name}"),
                                format!("The attribute {name} of {}: {why}", e.name),
                            ));
                        }
                    }
                    None => problems.push(unexpected_attribute(e, path, name)),
                }
            }
            for attribute in attributes.iter().filter(|a| a.required) {
                if e.attribute(attribute.name).is_none() {
                    problems.push(Problem::with_message(
                        ErrorCode::MissingElement,
                        format!("{path}/@{}", attribute.name),
                        format!("{} needs the attribute {}.", e.name, attribute.name),
                    ));
                }
            }
        }
        Body::Complex(sequence) => {
            if let Some((name, _)) = e.attributes.first() {
                problems.push(unexpected_attribute(e, path, name));
            }
            if !e.text.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
                problems.push(Problem::with_message(
                    ErrorCode::InvalidValue,
                    path.to_owned(),
                    format!("{} holds elements, not text.", e.name),
                ));
            }
            // Walk the children along the sequence: each position matched in order, counted against its bounds.
            let mut position = 0usize;
            let mut count = 0u32;
            for (k, child) in e.children.iter().enumerate() {
                let child_path = child_path(e, k, path);
                let found = sequence[position..]
                    .iter()
                    .position(|c| {
                        c.name == child.name && child.namespace.as_deref() == Some(c.ns.uri())
                    })
                    .map(|offset| position + offset);
                let Some(at) = found else {
                    let earlier = sequence[..position].iter().find(|c| c.name == child.name);
                    let sentence = match (earlier, child.namespace.as_deref()) {
                        (Some(_), _) => format!(
                            "The element {} must come before {} in {}.",
                            child.name, sequence[position].name, e.name
                        ),
                        (None, Some(ns)) if sequence.iter().any(|c| c.name == child.name) => {
                            format!(
                                "The element {} is not in the namespace {ns} expects.",
                                child.name
                            )
                        }
                        _ => format!("The element {} is not allowed in {}.", child.name, e.name),
                    };
                    problems.push(Problem::with_message(
                        ErrorCode::UnexpectedElement,
                        child_path,
                        sentence,
                    ));
                    continue;
                };
                if at != position {
                    missing(e, path, &sequence[position..at], count, problems);
                    position = at;
                    count = 0;
                }
                count += 1;
                if count > sequence[at].max {
                    // DE 1/9's own sentence for the one bound a trader is likely to meet.
                    let code = if child.name == "GovernmentAgencyGoodsItem" {
                        ErrorCode::TooManyGoodsItems
                    } else {
                        ErrorCode::RepeatedElement
                    };
                    problems.push(Problem::with_message(
                        code,
                        child_path.clone(),
                        match sequence[at].max {
                            1 => format!(
                                "The element {} may appear only once in {}.",
                                child.name, e.name
                            ),
                            max => format!(
                                "The element {} may appear at most {max} times in {}.",
                                child.name, e.name
                            ),
                        },
                    ));
                }
                element(child, sequence[at].ty(), &child_path, problems);
            }
            if position < sequence.len() {
                missing(e, path, &sequence[position..], count, problems);
            }
        }
    }
}

/// The required elements among `skipped` (the first of them seen `count` times already) that are not there.
fn missing(
    e: &Element,
    path: &str,
    skipped: &[super::Child],
    count: u32,
    problems: &mut Vec<Problem>,
) {
    for (i, child) in skipped.iter().enumerate() {
        let seen = if i == 0 { count } else { 0 };
        if seen < child.min {
            problems.push(Problem::with_message(
                ErrorCode::MissingElement,
                format!("{path}/{}", child.name),
                format!("The element {} is required in {}.", child.name, e.name),
            ));
        }
    }
}

fn unexpected_attribute(e: &Element, path: &str, name: &str) -> Problem {
    Problem::with_message(
        ErrorCode::UnexpectedElement,
        format!("{path}/@{name}"),
        format!("The attribute {name} is not allowed on {}.", e.name),
    )
}

/// The XPath of the k-th child: `Name[i]` when the name repeats among its siblings (as the reader's errors say it).
pub(crate) fn child_path(parent: &Element, k: usize, path: &str) -> String {
    let name = &parent.children[k].name;
    let same = |c: &&Element| c.name == *name;
    if parent.children.iter().filter(same).nth(1).is_some() {
        let index = parent.children[..k].iter().filter(same).count() + 1;
        format!("{path}/{name}[{index}]")
    } else {
        format!("{path}/{name}")
    }
}
