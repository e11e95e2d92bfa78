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
#[allow(non_upper_case_globals)]
#[rustfmt::skip]
mod schema_table;
mod tree;

pub use rules::{Finding, check};
pub use schema::{SchemaError, validate};
pub use tree::Node;

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

/// What a message may be at most.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for Limits {
    /// 16 MiB, 32 levels (the schema needs 4), 200,000 elements (9,999 goods items and seals fit).
    fn default() -> Limits {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 32,
            max_elements: 200_000,
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
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Refusal::NotUtf8)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_elements.saturating_mul(4)).unwrap_or(u32::MAX),
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let at = e.pos();
        Refusal::NotXml {
            line: at.row,
            column: at.col,
            message: e.to_string(),
        }
    })?;
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
    let root = tree::build(root, &format!("/ie:{}[1]", kind.name()), limits)?;
    Ok(Message { kind, root })
}

/// Whether `bytes` look like an entry summary message (its root named CC315A or CC313A), to tell them from
/// other XML before reading: the first element's name in the first 4 KiB.
pub fn sniff(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let mut rest = text.as_ref();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        let local = name.rsplit(':').next().unwrap_or("");
        return local == "CC315A" || local == "CC313A";
    }
    false
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
