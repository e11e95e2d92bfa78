//! The JSON twin of a message: its elements as JSON, by the schema table — each element its name as key, a value
//! as a string (or, where a family's JSON form has them, a number), a group as an object, an element the schema
//! lets repeat as an array (even of one, or none), a root attribute as `@name`. Read back by the same table, in
//! the schema's order whatever the keys' order, so that a message gives the same tree, the same locations and so
//! the same verdict in either form. A key the schema does not have, a value of the wrong kind, a repeat of an
//! element that may not repeat: refusals at their JSON pointer.

use crate::schema::{Content, Particle, Root};
use crate::{Limits, Node, Overrun};
use serde_json::{Map, Value};

/// Why a JSON twin could not be read into a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    Overrun(Overrun),
    /// Not of the schema's shape at `pointer` (a JSON pointer).
    Shape {
        pointer: String,
        message: String,
    },
}

/// How a family writes its JSON twin.
#[derive(Clone, Copy, Debug)]
pub struct Form {
    /// Values may be JSON numbers (NCTS); otherwise strings only (ICS).
    pub numbers: bool,
}

/// The tree under `root` as its JSON twin's body (the object under the message's key).
pub fn write(node: &Node, root: &Root) -> Value {
    let mut out = group(node, root.particles);
    if let Value::Object(fields) = &mut out {
        for (name, value) in &node.attributes {
            fields.insert(format!("@{name}"), Value::String(value.clone()));
        }
    }
    out
}

fn group(node: &Node, particles: &'static [Particle]) -> Value {
    let mut out = Map::new();
    for particle in particles {
        let values: Vec<Value> = node
            .all(particle.name)
            .map(|child| match particle.content {
                Content::Complex(inner) => group(child, inner),
                Content::Simple(_) => Value::String(child.raw.clone()),
            })
            .collect();
        if particle.max > 1 {
            if !values.is_empty() {
                out.insert(particle.name.to_owned(), Value::Array(values));
            }
        } else if let Some(value) = values.into_iter().next() {
            out.insert(particle.name.to_owned(), value);
        }
    }
    Value::Object(out)
}

/// Reads the body of a JSON twin (the object under the message's key `name`) as the tree of `root`, located
/// under `pointer` (`/ie:CC315A[1]`) for the schema's errors and `json` (`/CC315A`) for its own refusals.
pub fn read(
    name: &str,
    body: &Value,
    root: &Root,
    pointer: &str,
    json: &str,
    form: Form,
    limits: &Limits,
) -> Result<Node, Refused> {
    let mut count = 0usize;
    let mut attributes = Vec::new();
    if let Value::Object(fields) = body {
        for (key, value) in fields {
            let Some(attribute) = key.strip_prefix('@') else {
                continue;
            };
            if !root.attributes.iter().any(|a| a.name == attribute) {
                return Err(Refused::Shape {
                    pointer: format!("{json}/{key}"),
                    message: format!("{name} has no attribute {attribute}."),
                });
            }
            let Some(text) = scalar(value, form) else {
                return Err(Refused::Shape {
                    pointer: format!("{json}/{key}"),
                    message: format!("{key} is a value: a string."),
                });
            };
            attributes.push((attribute.to_owned(), text));
        }
    }
    let mut node = node(
        name,
        body,
        root.particles,
        pointer,
        json,
        form,
        limits,
        &mut count,
        1,
    )?;
    node.attributes = attributes;
    Ok(node)
}

fn scalar(value: &Value, form: Form) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) if form.numbers => Some(number.to_string()),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn node(
    name: &str,
    value: &Value,
    particles: &'static [Particle],
    pointer: &str,
    json: &str,
    form: Form,
    limits: &Limits,
    count: &mut usize,
    depth: usize,
) -> Result<Node, Refused> {
    let refuse = |at: &str, message: String| Refused::Shape {
        pointer: at.to_owned(),
        message,
    };
    if depth >= limits.max_depth {
        return Err(Refused::Overrun(Overrun::TooDeep {
            max_depth: limits.max_depth,
        }));
    }
    let Value::Object(fields) = value else {
        return Err(refuse(json, format!("{name} is a group: an object.")));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !k.starts_with('@') && !particles.iter().any(|p| p.name == *k))
    {
        return Err(refuse(
            &format!("{json}/{unknown}"),
            format!("{name} has no element {unknown}."),
        ));
    }
    if depth > 1
        && let Some(attribute) = fields.keys().find(|k| k.starts_with('@'))
    {
        return Err(refuse(
            &format!("{json}/{attribute}"),
            format!("{name} has no attribute {}.", &attribute[1..]),
        ));
    }
    let mut children = Vec::new();
    for particle in particles {
        let Some(value) = fields.get(particle.name) else {
            continue;
        };
        let at = format!("{json}/{}", particle.name);
        let values: Vec<(&Value, String)> = match value {
            Value::Array(items) if particle.max > 1 => items
                .iter()
                .enumerate()
                .map(|(k, v)| (v, format!("{at}/{k}")))
                .collect(),
            Value::Array(_) => {
                return Err(refuse(
                    &at,
                    format!("{} occurs once: not an array.", particle.name),
                ));
            }
            _ if particle.max > 1 => {
                return Err(refuse(
                    &at,
                    format!("{} may repeat: an array, even of one.", particle.name),
                ));
            }
            one => vec![(one, at.clone())],
        };
        for (position, (value, at)) in values.into_iter().enumerate() {
            *count += 1;
            if *count > limits.max_elements {
                return Err(Refused::Overrun(Overrun::TooManyElements {
                    max_elements: limits.max_elements,
                }));
            }
            let pointer = format!("{pointer}/{}[{}]", particle.name, position + 1);
            let child = match particle.content {
                Content::Complex(inner) => node(
                    particle.name,
                    value,
                    inner,
                    &pointer,
                    &at,
                    form,
                    limits,
                    count,
                    depth + 1,
                )?,
                Content::Simple(_) => {
                    let Some(text) = scalar(value, form) else {
                        return Err(refuse(
                            &at,
                            format!(
                                "{} is a value: {}.",
                                particle.name,
                                if form.numbers {
                                    "a string or a number"
                                } else {
                                    "a string"
                                }
                            ),
                        ));
                    };
                    Node {
                        name: particle.name.to_owned(),
                        text: text.trim().to_owned(),
                        raw: text,
                        qualified: false,
                        attributes: Vec::new(),
                        children: Vec::new(),
                        pointer,
                    }
                }
            };
            children.push(child);
        }
    }
    Ok(Node {
        name: name.to_owned(),
        text: String::new(),
        raw: String::new(),
        qualified: false,
        attributes: Vec::new(),
        children,
        pointer: pointer.to_owned(),
    })
}
