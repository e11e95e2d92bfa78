//! Transit under customs control as NCTS phase 5 runs it: the P5 messages, and a movement's life from departure
//! to discharge.
//!
//! [`read`] takes an XML message within [`Limits`] (no DTD or entities, a size, a depth and a count of elements)
//! and [`read_json`] its JSON form (`{"n1:CC015C": {…}}`, as HMRC's transit API takes it); both give a
//! [`Message`]: its root's schema and its tree, each element located as `/ncts:CC015C[1]/Consignment[1]/…`.
//! [`judge`] adds the check against the P5 schemas (XSD version 60.4.16, rendered into `schema_table.rs` by the
//! tests), for every message of the phase: 33 roots, CC004C to CC928C. [`movement`] is the movement's state
//! machine; [`write`] builds the messages customs sends (CC028C, CC029C, CC043C, CC025C, CC009C), each checked
//! against its own schema.
//!
//! **Architecture invariant**: pure. Bytes in, findings out; times are passed in.

pub mod movement;
#[allow(non_upper_case_globals)]
#[rustfmt::skip]
mod schema_table;
pub mod write;

pub use message_schema::{Limits, Node, Root, SchemaError};

/// The namespace of every P5 message's root (its other elements are in none).
pub const NAMESPACE: &str = "http://ncts.dgtaxud.ec";

/// Every P5 message's schema.
pub static P5: message_schema::Schema = message_schema::Schema::new(&[
    &schema_table::CC004C,
    &schema_table::CC007C,
    &schema_table::CC009C,
    &schema_table::CC013C,
    &schema_table::CC014C,
    &schema_table::CC015C,
    &schema_table::CC017C,
    &schema_table::CC019C,
    &schema_table::CC022C,
    &schema_table::CC023C,
    &schema_table::CC025C,
    &schema_table::CC028C,
    &schema_table::CC029C,
    &schema_table::CC035C,
    &schema_table::CC040C,
    &schema_table::CC042C,
    &schema_table::CC043C,
    &schema_table::CC044C,
    &schema_table::CC045C,
    &schema_table::CC048C,
    &schema_table::CC051C,
    &schema_table::CC055C,
    &schema_table::CC056C,
    &schema_table::CC057C,
    &schema_table::CC060C,
    &schema_table::CC170C,
    &schema_table::CC182C,
    &schema_table::CC190C,
    &schema_table::CC191C,
    &schema_table::CC228C,
    &schema_table::CC906C,
    &schema_table::CC917C,
    &schema_table::CC928C,
]);

/// A P5 message read: its root's schema and its tree.
#[derive(Clone, Debug)]
pub struct Message {
    pub root: &'static Root,
    pub tree: Node,
}

impl Message {
    /// The message's name (`CC015C`).
    pub fn name(&self) -> &'static str {
        self.root.name
    }

    /// The text of the element at `path` (child names from the root), if there.
    pub fn text(&self, path: &[&str]) -> Option<&str> {
        let mut at = &self.tree;
        for name in path {
            at = at.child(name)?;
        }
        Some(at.text.as_str())
    }
}

/// Why a message could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    TooLarge {
        max_bytes: usize,
    },
    NotUtf8,
    /// Not well-formed XML, or a DTD (refused: no entities are ever expanded).
    NotXml {
        line: u32,
        column: u32,
        message: String,
    },
    TooDeep {
        max_depth: usize,
    },
    TooManyElements {
        max_elements: usize,
    },
    /// The root is no P5 message in the NCTS namespace; `found` is what it is.
    NotNcts {
        found: String,
    },
    /// The JSON form is not JSON, or not of the schema's shape at `pointer` (a JSON pointer).
    Json {
        pointer: String,
        message: String,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge { max_bytes } => {
                write!(f, "The message is larger than {max_bytes} bytes.")
            }
            Refusal::NotUtf8 => f.write_str("The message is not UTF-8 text."),
            Refusal::NotXml {
                line,
                column,
                message,
            } => write!(
                f,
                "The message is not well-formed XML at line {line}, column {column}: {message}."
            ),
            Refusal::TooDeep { max_depth } => {
                write!(
                    f,
                    "The message nests elements deeper than {max_depth} levels."
                )
            }
            Refusal::TooManyElements { max_elements } => {
                write!(f, "The message has more than {max_elements} elements.")
            }
            Refusal::NotNcts { found } => write!(
                f,
                "This is not an NCTS phase 5 message in the namespace {NAMESPACE}: its root is {found}."
            ),
            Refusal::Json { pointer, message } if pointer.is_empty() => f.write_str(message),
            Refusal::Json { pointer, message } => write!(f, "{message} (at {pointer})"),
        }
    }
}

impl From<message_schema::Overrun> for Refusal {
    fn from(overrun: message_schema::Overrun) -> Refusal {
        match overrun {
            message_schema::Overrun::TooDeep { max_depth } => Refusal::TooDeep { max_depth },
            message_schema::Overrun::TooManyElements { max_elements } => {
                Refusal::TooManyElements { max_elements }
            }
        }
    }
}

/// The location of a message's root, as its elements' locations start.
pub fn root_pointer(name: &str) -> String {
    format!("/ncts:{name}[1]")
}

/// Reads a P5 message within `limits`.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Message, Refusal> {
    message_schema::parse(bytes, limits, |document| {
        let element = document.root_element();
        let name = element.tag_name().name();
        let root = P5
            .root(name)
            .filter(|_| element.tag_name().namespace() == Some(NAMESPACE))
            .ok_or_else(|| Refusal::NotNcts {
                found: match element.tag_name().namespace() {
                    Some(ns) => format!("{name} in {ns}"),
                    None => format!("{name} in no namespace"),
                },
            })?;
        let tree = message_schema::tree::build(element, &root_pointer(root.name), limits)?;
        Ok(Message { root, tree })
    })
    .map_err(|unreadable| match unreadable {
        message_schema::Unreadable::TooLarge { max_bytes } => Refusal::TooLarge { max_bytes },
        message_schema::Unreadable::NotUtf8 => Refusal::NotUtf8,
        message_schema::Unreadable::NotXml {
            line,
            column,
            message,
        } => Refusal::NotXml {
            line,
            column,
            message,
        },
    })?
}

/// Reads a P5 message's JSON form: one key, the message's name with any prefix (`n1:CC015C`), over its content;
/// values strings or numbers, root attributes as `@PhaseID`.
pub fn read_json(bytes: &[u8], limits: &Limits) -> Result<Message, Refusal> {
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let refuse = |message: &str| Refusal::Json {
        pointer: String::new(),
        message: message.to_owned(),
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Refusal::Json {
        pointer: String::new(),
        message: format!("The message is not JSON: {e}."),
    })?;
    let serde_json::Value::Object(top) = value else {
        return Err(refuse(
            "The message is a JSON object: {\"n1:CC015C\": {…}}.",
        ));
    };
    let mut keys = top.iter();
    let (Some((key, body)), None) = (keys.next(), keys.next()) else {
        return Err(refuse(
            "The message has one key, its name: n1:CC015C, n1:CC007C, …",
        ));
    };
    let name = key.rsplit(':').next().unwrap_or(key);
    let root = P5.root(name).ok_or_else(|| Refusal::NotNcts {
        found: format!("{key} (JSON)"),
    })?;
    let tree = message_schema::json::read(
        root.name,
        body,
        root,
        &root_pointer(root.name),
        &format!("/{}", key.replace('~', "~0").replace('/', "~1")),
        message_schema::json::Form { numbers: true },
        limits,
    )
    .map_err(|refused| match refused {
        message_schema::json::Refused::Overrun(overrun) => Refusal::from(overrun),
        message_schema::json::Refused::Shape { pointer, message } => {
            Refusal::Json { pointer, message }
        }
    })?;
    Ok(Message { root, tree })
}

/// Whether `bytes` look like a P5 message, to tell them from other messages before reading: `Some(false)` for XML
/// whose first element is a P5 root, `Some(true)` for a JSON object whose one key names one (`n1:CC015C`).
pub fn sniff(bytes: &[u8]) -> Option<bool> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let object = value.as_object().filter(|o| o.len() == 1)?;
        let key = object.keys().next()?;
        return P5.root(key.rsplit(':').next().unwrap_or(key)).map(|_| true);
    }
    let name = message_schema::sniff_root(bytes)?;
    P5.root(&name).map(|_| false)
}

/// The message as XML (`ncts:` the root's prefix), as customs writes it and libxml2 can check it.
pub fn to_xml(message: &Message) -> String {
    message_schema::tree::write_xml(&message.tree, "ncts", NAMESPACE)
}

/// The message in its JSON form (`{"n1:CC015C": {…}}`, values as strings).
pub fn to_json(message: &Message) -> serde_json::Value {
    let mut top = serde_json::Map::new();
    top.insert(
        format!("n1:{}", message.name()),
        message_schema::json::write(&message.tree, message.root),
    );
    serde_json::Value::Object(top)
}

/// The message's departures from its schema, in document order (at most 100).
pub fn validate(message: &Message) -> Vec<SchemaError> {
    P5.validate(message.root, &message.tree)
}

/// The message read (XML, or JSON when `json`) and checked against its schema, and one of the `expected`
/// messages (an empty list takes any); or every problem as the API answers it.
pub fn judge(
    bytes: &[u8],
    json: bool,
    expected: &[&str],
    limits: &Limits,
) -> Result<Message, Vec<error_table::Problem>> {
    use error_table::{ErrorCode, Problem};
    let read = if json {
        read_json(bytes, limits)
    } else {
        read(bytes, limits)
    };
    let message = read.map_err(|refusal| {
        let code = match &refusal {
            Refusal::TooLarge { .. } | Refusal::TooManyElements { .. } => ErrorCode::XmlTooLarge,
            Refusal::NotUtf8 => ErrorCode::NotUtf8,
            Refusal::NotXml { message, .. } if message.contains("DTD") => {
                ErrorCode::XmlDtdForbidden
            }
            Refusal::NotXml { .. } => ErrorCode::XmlNotWellFormed,
            Refusal::TooDeep { .. } => ErrorCode::XmlTooDeep,
            Refusal::NotNcts { .. } => ErrorCode::TransitNotNcts,
            Refusal::Json { .. } => ErrorCode::JsonInvalid,
        };
        let pointer = match &refusal {
            Refusal::Json { pointer, .. } => pointer.clone(),
            _ => String::new(),
        };
        vec![Problem::with_message(code, pointer, refusal.to_string())]
    })?;
    if !expected.is_empty() && !expected.contains(&message.name()) {
        return Err(vec![Problem::with_message(
            ErrorCode::TransitWrongMessage,
            root_pointer(message.name()),
            format!(
                "This address takes {}; the message is {}.",
                expected.join(" or "),
                message.name()
            ),
        )]);
    }
    let errors = validate(&message);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| Problem::with_message(ErrorCode::TransitSchema, e.pointer, e.message))
            .collect());
    }
    Ok(message)
}
