//! Entry summary declarations: the ICS messages a carrier lodges before goods are loaded or arrive (CC315A) and
//! their amendment (CC313A), as HMRC's entry summary declaration service reads them.
//!
//! [`read`] takes the message's bytes within [`Limits`] (no DTD or entities, a size, a depth and a count of
//! elements) into a [`Message`]: its kind (from the root's name and namespace, which must agree) and its tree of
//! elements, each with its location in the form HMRC's answers give it (`/ie:CC315A[1]/GOOITEGDS[1]`).
//! [`check`] applies the ICS business rules ([`rules`]) and answers every [`Finding`]: the ICS error number, the
//! location, the rule's code (C501, TR0812, …) and a sentence.
//!
//! **Architecture invariant**: pure. Bytes in, findings out.

pub mod json;
pub mod referral;
pub mod rules;
pub mod schema;
pub mod screening;
#[allow(non_upper_case_globals)]
#[rustfmt::skip]
mod schema_table;

pub use message_schema::{Limits, Node};
pub use rules::{Finding, check};
pub use schema::{SchemaError, validate};

/// Which entry summary message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// CC315A: the entry summary declaration.
    Declaration,
    /// CC313A: its amendment.
    Amendment,
}

impl Kind {
    /// The message's name as its root element and `MesTypMES20` give it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Declaration => "CC315A",
            Kind::Amendment => "CC313A",
        }
    }

    /// The namespace of its root element.
    pub fn namespace(self) -> &'static str {
        match self {
            Kind::Declaration => "http://ics.dgtaxud.ec/CC315A",
            Kind::Amendment => "http://ics.dgtaxud.ec/CC313A",
        }
    }

    pub(crate) fn of_name(name: &str) -> Option<Kind> {
        match name {
            "CC315A" => Some(Kind::Declaration),
            "CC313A" => Some(Kind::Amendment),
            _ => None,
        }
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
    /// The root is not CC315A or CC313A in its namespace; `found` is what it is.
    NotAnEntrySummary {
        found: String,
    },
    /// The JSON twin is not JSON, or not of the schema's shape at `pointer` (a JSON pointer).
    Json {
        pointer: String,
        message: String,
    },
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
            Refusal::Json { pointer, message } if pointer.is_empty() => f.write_str(message),
            Refusal::Json { pointer, message } => write!(f, "{message} (at {pointer})"),
            Refusal::NotAnEntrySummary { found } => write!(
                f,
                "This is not an entry summary declaration (CC315A) or its amendment (CC313A) in the ICS namespace: its root is {found}."
            ),
        }
    }
}

/// An entry summary message read.
#[derive(Clone, Debug)]
pub struct Message {
    pub kind: Kind,
    pub root: Node,
}

/// Reads a CC315A or CC313A within `limits`.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Message, Refusal> {
    message_schema::parse(bytes, limits, |document| {
        let root = document.root_element();
        let name = root.tag_name().name();
        let kind = Kind::of_name(name)
            .filter(|k| root.tag_name().namespace() == Some(k.namespace()))
            .ok_or_else(|| Refusal::NotAnEntrySummary {
                found: match root.tag_name().namespace() {
                    Some(ns) => format!("{name} in {ns}"),
                    None => format!("{name} in no namespace"),
                },
            })?;
        let root = message_schema::tree::build(root, &format!("/ie:{}[1]", kind.name()), limits)?;
        Ok(Message { kind, root })
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

/// Whether `bytes` look like an entry summary message (its root named CC315A or CC313A), to tell them from
/// other XML before reading: the first element's name in the first 4 KiB.
pub fn sniff(bytes: &[u8]) -> bool {
    message_schema::sniff_root(bytes).is_some_and(|local| local == "CC315A" || local == "CC313A")
}

/// The message read and checked, or every problem as the API answers it: a refusal to read, the schema's
/// departures (`entry_summary.schema`), or the business rules' findings (`entry_summary.rule`, each with its ICS
/// error number). The business rules are applied only to a message its schema accepts (as HMRC does).
pub fn judge(bytes: &[u8], limits: &Limits) -> Result<Message, Vec<error_table::Problem>> {
    judge_read(read(bytes, limits))
}

/// As [`judge`], the message given as its JSON twin ([`json`]).
pub fn judge_json(bytes: &[u8], limits: &Limits) -> Result<Message, Vec<error_table::Problem>> {
    judge_read(json::read(bytes, limits))
}

fn judge_read(read: Result<Message, Refusal>) -> Result<Message, Vec<error_table::Problem>> {
    use error_table::{ErrorCode, Problem};
    let message = read.map_err(|refusal| {
        if let Refusal::Json { pointer, message } = &refusal {
            return vec![Problem::with_message(
                ErrorCode::JsonInvalid,
                pointer.clone(),
                message.clone(),
            )];
        }
        let code = match &refusal {
            Refusal::TooLarge { .. } | Refusal::TooManyElements { .. } => ErrorCode::XmlTooLarge,
            Refusal::NotUtf8 => ErrorCode::NotUtf8,
            Refusal::NotXml { message, .. } if message.contains("DTD") => {
                ErrorCode::XmlDtdForbidden
            }
            Refusal::NotXml { .. } => ErrorCode::XmlNotWellFormed,
            Refusal::TooDeep { .. } => ErrorCode::XmlTooDeep,
            Refusal::NotAnEntrySummary { .. } => ErrorCode::EntrySummaryNotEns,
            Refusal::Json { .. } => ErrorCode::JsonInvalid,
        };
        vec![Problem::with_message(code, "", refusal.to_string())]
    })?;
    let schema = validate(&message);
    if !schema.is_empty() {
        return Err(schema
            .into_iter()
            .map(|e| Problem::with_message(ErrorCode::EntrySummarySchema, e.pointer, e.message))
            .collect());
    }
    let findings = check(&message);
    if !findings.is_empty() {
        return Err(findings
            .into_iter()
            .map(|f| Problem {
                number: Some(f.number),
                ..Problem::with_message(ErrorCode::EntrySummaryRule, f.pointer, f.message)
            })
            .collect());
    }
    Ok(message)
}
