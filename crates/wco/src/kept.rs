//! What the model does not interpret, kept: found by comparing the document read with the model written back
//! ([`residue`]: every element and attribute of the one that the other lacks), and put back in schema order when
//! the model is written ([`merge`]). Together they make the reader lossless for everything the schema allows,
//! whatever the model's typed fields cover.

use crate::dom::Element;
use crate::schema::{self, Type};
use declaration::{Kept, KeptElement};
use std::sync::Arc;

/// Every element and attribute of `original` (a document read) that `written` (its model written back) lacks, each
/// at its place.
pub fn residue(original: &Element, written: &Element) -> Vec<Kept> {
    let mut out = Vec::new();
    walk(original, written, "", &mut out);
    out
}

fn walk(original: &Element, written: &Element, at: &str, out: &mut Vec<Kept>) {
    for (name, value) in &original.attributes {
        if written.attribute(name).is_none() {
            out.push(Kept::Attribute {
                at: at.to_owned(),
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    let mut seen: Vec<(&str, u32)> = Vec::new();
    for child in &original.children {
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
        let counterpart = written
            .children
            .iter()
            .filter(|c| c.name == child.name)
            .nth(index as usize - 1);
        match counterpart {
            Some(counterpart) => {
                let repeated = original
                    .children
                    .iter()
                    .filter(|c| c.name == child.name)
                    .nth(1)
                    .is_some();
                let path = step(at, &child.name, repeated.then_some(index));
                walk(child, counterpart, &path, out);
            }
            None => out.push(Kept::Element {
                at: at.to_owned(),
                index,
                element: keep(child),
            }),
        }
    }
}

fn step(at: &str, name: &str, index: Option<u32>) -> String {
    let mut path = String::with_capacity(at.len() + name.len() + 5);
    if !at.is_empty() {
        path.push_str(at);
        path.push('/');
    }
    path.push_str(name);
    if let Some(index) = index {
        path.push_str(&format!("[{index}]"));
    }
    path
}

fn keep(e: &Element) -> KeptElement {
    KeptElement {
        name: e.name.clone(),
        attributes: e.attributes.iter().cloned().collect(),
        text: if e.children.is_empty() {
            e.text.clone()
        } else {
            String::new()
        },
        children: e.children.iter().map(keep).collect(),
    }
}

/// Puts each kept element and attribute back into `tree` (a document as the model writes it), each at its place in
/// schema order, creating the elements on its path that the model did not write. Fails, naming it, on a kept item
/// whose place the schema does not have.
pub fn merge(tree: &mut Element, kept: &[Kept]) -> Result<(), String> {
    for item in kept {
        match item {
            Kept::Element { at, index, element } => {
                let (parent, ty) = resolve(tree, at)?;
                let Some((_, child)) = ty.child(&element.name) else {
                    return Err(format!(
                        "{at}: the schema has no element {} here",
                        element.name
                    ));
                };
                let element = restore(element, child.ns.uri(), child.ty())?;
                insert(parent, ty, element, (*index).max(1));
            }
            Kept::Attribute { at, name, value } => {
                let (element, ty) = resolve(tree, at)?;
                let schema::Body::Simple { attributes, .. } = &ty.body else {
                    return Err(format!("{at}: the element has no attribute {name}"));
                };
                if !attributes.iter().any(|a| a.name == *name) {
                    return Err(format!("{at}: the element has no attribute {name}"));
                }
                if element.attribute(name).is_none() {
                    element.attributes.push((name.clone(), value.clone()));
                }
            }
        }
    }
    Ok(())
}

/// The element at `at` (created where missing) and its type.
fn resolve<'t>(
    tree: &'t mut Element,
    at: &str,
) -> Result<(&'t mut Element, &'static Type), String> {
    let mut element = tree;
    let mut ty = schema::envelope();
    for step in at.split('/').filter(|s| !s.is_empty()) {
        let (name, index) = match step.split_once('[') {
            Some((name, rest)) => {
                let index = rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| format!("{at}: {step} is not a step such as Name or Name[2]"))?;
                (name, index)
            }
            None => (step, 1),
        };
        let Some((_, child)) = ty.child(name) else {
            return Err(format!(
                "{at}: the schema has no element {name} in {}",
                element.name
            ));
        };
        let have = element.children.iter().filter(|c| c.name == name).count() as u32;
        for _ in have..index {
            let new = Element {
                namespace: Some(Arc::from(child.ns.uri())),
                name: name.to_owned(),
                ..Element::default()
            };
            insert(element, ty, new, u32::MAX);
        }
        let position = element
            .children
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name == name)
            .nth(index as usize - 1)
            .map(|(i, _)| i)
            .expect("created above");
        element = &mut element.children[position];
        ty = child.ty();
    }
    Ok((element, ty))
}

/// A kept element as a tree element, its namespaces from the schema; fails on a name the schema does not have.
fn restore(kept: &KeptElement, namespace: &str, ty: &'static Type) -> Result<Element, String> {
    let mut children = Vec::with_capacity(kept.children.len());
    for child in &kept.children {
        let Some((_, position)) = ty.child(&child.name) else {
            return Err(format!(
                "the schema has no element {} in {}",
                child.name, kept.name
            ));
        };
        children.push(restore(child, position.ns.uri(), position.ty())?);
    }
    Ok(Element {
        namespace: Some(Arc::from(namespace)),
        name: kept.name.clone(),
        attributes: kept
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        text: kept.text.clone(),
        children,
        line: 0,
    })
}

/// Inserts `new` among the children of `parent` (of type `ty`) where the schema's sequence puts it, as the
/// `index`-th of its name (or after the last of them).
pub(crate) fn insert(parent: &mut Element, ty: &Type, new: Element, index: u32) {
    let order = |name: &str| ty.child(name).map_or(usize::MAX, |(i, _)| i);
    let mine = order(&new.name);
    let mut at = 0;
    let mut same = 0u32;
    for (i, child) in parent.children.iter().enumerate() {
        let theirs = order(&child.name);
        if theirs < mine || (theirs == mine && same + 1 < index) {
            if theirs == mine {
                same += 1;
            }
            at = i + 1;
        } else {
            break;
        }
    }
    parent.children.insert(at, new);
}

/// A document tree as XML, in the prefixes Aduana writes (`md:` for the envelope, the DEC namespace by default,
/// `ds:` for the data structures).
pub fn serialize(root: &Element) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write(root, 0, true, &mut out);
    out
}

fn prefix(namespace: Option<&str>) -> &'static str {
    match namespace {
        Some(crate::dom::NS_METADATA) => "md:",
        Some(crate::dom::NS_DECLARATION_DS) => "ds:",
        _ => "",
    }
}

fn write(e: &Element, depth: usize, root: bool, out: &mut String) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    let name = format!("{}{}", prefix(e.namespace.as_deref()), e.name);
    out.push('<');
    out.push_str(&name);
    if root {
        out.push_str(&format!(
            " xmlns:md=\"{}\" xmlns=\"{}\" xmlns:ds=\"{}\"",
            crate::dom::NS_METADATA,
            crate::dom::NS_DECLARATION,
            crate::dom::NS_DECLARATION_DS
        ));
    }
    for (key, value) in &e.attributes {
        if root && is_namespace_declaration(key, value) {
            continue;
        }
        out.push_str(&format!(" {key}=\"{}\"", crate::escape(value)));
    }
    if e.children.is_empty() {
        out.push_str(&format!(">{}</{name}>\n", crate::escape(&e.text)));
        return;
    }
    out.push_str(">\n");
    for child in &e.children {
        write(child, depth + 1, false, out);
    }
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str(&format!("</{name}>\n"));
}

fn is_namespace_declaration(_key: &str, value: &str) -> bool {
    value.starts_with("urn:wco:") || value.starts_with("http://www.w3.org/")
}
