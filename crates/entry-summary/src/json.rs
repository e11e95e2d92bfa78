//! The JSON twin of an entry summary message: the XML's elements as JSON, by the schema — `{"CC315A": {…}}`, each
//! element its name as key, a value as a string, a group as an object, an element the schema lets repeat as an
//! array (even of one). Read back by the same table, in the schema's order whatever the keys' order, so that a
//! message gives the same tree, the same locations (`/ie:CC315A[1]/GOOITEGDS[2]`) and so the same verdict in
//! either form. A key the schema does not have, a value of the wrong kind, a repeat of an element that may not
//! repeat: refusals at their JSON pointer.

use crate::schema::{Content, Particle};
use crate::{Kind, Limits, Message, Node, Refusal};
use serde_json::{Map, Value};

fn particles(kind: Kind) -> &'static [Particle] {
    match kind {
        Kind::Declaration => crate::schema_table::CC315A,
        Kind::Amendment => crate::schema_table::CC313A,
    }
}

/// The message as its JSON twin.
pub fn write(message: &Message) -> Value {
    let mut root = Map::new();
    root.insert(
        message.kind.name().to_owned(),
        group(&message.root, particles(message.kind)),
    );
    Value::Object(root)
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

/// Reads the JSON twin within `limits` (its size, the elements it makes, its depth by the schema's own).
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Message, Refusal> {
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Refusal::Json {
        pointer: String::new(),
        message: e.to_string(),
    })?;
    let Value::Object(root) = value else {
        return Err(Refusal::Json {
            pointer: String::new(),
            message: "The JSON twin is an object: {\"CC315A\": {…}} or {\"CC313A\": {…}}.".into(),
        });
    };
    let mut keys = root.iter();
    let (Some((name, body)), None) = (keys.next(), keys.next()) else {
        return Err(Refusal::Json {
            pointer: String::new(),
            message: "The JSON twin has one key, the message's name: CC315A or CC313A.".into(),
        });
    };
    let kind = crate::Kind::of_name(name).ok_or_else(|| Refusal::NotAnEntrySummary {
        found: format!("{name} (JSON)"),
    })?;
    let mut count = 0usize;
    let root = node(
        name,
        body,
        particles(kind),
        &format!("/ie:{name}[1]"),
        &format!("/{name}"),
        limits,
        &mut count,
    )?;
    Ok(Message { kind, root })
}

fn node(
    name: &str,
    value: &Value,
    particles: &'static [Particle],
    pointer: &str,
    json: &str,
    limits: &Limits,
    count: &mut usize,
) -> Result<Node, Refusal> {
    let refuse = |at: &str, message: String| Refusal::Json {
        pointer: at.to_owned(),
        message,
    };
    let Value::Object(fields) = value else {
        return Err(refuse(json, format!("{name} is a group: an object.")));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !particles.iter().any(|p| p.name == *k))
    {
        return Err(refuse(
            &format!("{json}/{unknown}"),
            format!("{name} has no element {unknown}."),
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
                return Err(Refusal::TooManyElements {
                    max_elements: limits.max_elements,
                });
            }
            let pointer = format!("{pointer}/{}[{}]", particle.name, position + 1);
            let child = match particle.content {
                Content::Complex(inner) => {
                    node(particle.name, value, inner, &pointer, &at, limits, count)?
                }
                Content::Simple(_) => {
                    let Value::String(text) = value else {
                        return Err(refuse(
                            &at,
                            format!("{} is a value: a string.", particle.name),
                        ));
                    };
                    Node {
                        name: particle.name.to_owned(),
                        text: text.trim().to_owned(),
                        raw: text.clone(),
                        qualified: false,
                        attribute: None,
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
        attribute: None,
        children,
        pointer: pointer.to_owned(),
    })
}
