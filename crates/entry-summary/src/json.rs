//! The JSON twin of an entry summary message: the XML's elements as JSON, by the schema — `{"CC315A": {…}}`, each
//! element its name as key, a value as a string, a group as an object, an element the schema lets repeat as an
//! array (even of one). Read back by the same table, in the schema's order whatever the keys' order, so that a
//! message gives the same tree, the same locations (`/ie:CC315A[1]/GOOITEGDS[2]`) and so the same verdict in
//! either form. A key the schema does not have, a value of the wrong kind, a repeat of an element that may not
//! repeat: refusals at their JSON pointer.

use crate::{Limits, Message, Refusal};
use serde_json::{Map, Value};

/// The message as its JSON twin.
pub fn write(message: &Message) -> Value {
    let mut root = Map::new();
    root.insert(
        message.kind.name().to_owned(),
        message_schema::json::write(&message.root, crate::schema::root(message.kind)),
    );
    Value::Object(root)
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
    let root = message_schema::json::read(
        name,
        body,
        crate::schema::root(kind),
        &format!("/ie:{name}[1]"),
        &format!("/{name}"),
        message_schema::json::Form { numbers: false },
        limits,
    )
    .map_err(|refused| match refused {
        message_schema::json::Refused::Overrun(overrun) => Refusal::from(overrun),
        message_schema::json::Refused::Shape { pointer, message } => {
            Refusal::Json { pointer, message }
        }
    })?;
    Ok(Message { kind, root })
}
