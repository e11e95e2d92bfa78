//! Customs messages against their XSD schemas, without an XSD engine at run time.
//!
//! Each message family (the ICS entry summary declarations, the NCTS transit messages) carries its schemas as a
//! table rendered from the XSDs by its tests ([`render`], behind the `render` feature): for each root, its
//! attributes and its sequence of [`schema::Particle`]s, each an element's name, how many times it occurs and its
//! content (a nested sequence, or a simple type's [`schema::Facets`]). [`tree::build`] reads a message into a
//! [`Node`] tree within [`Limits`], each element with its location (`/ie:CC315A[1]/GOOITEGDS[2]`);
//! [`schema::Schema::validate`] checks it as libxml2 does — every element in its place and number, no text where
//! a group is, the attributes declared, and every value within its type's facets; [`json`] reads and writes the
//! same tree as JSON, by the table.
//!
//! **Architecture invariant**: pure. Bytes in, findings out.

pub mod json;
#[cfg(feature = "render")]
pub mod render;
pub mod schema;
pub mod tree;

pub use schema::{Attribute, Base, Content, Facets, Particle, Root, Schema, SchemaError};
pub use tree::Node;

/// What a message may be at most.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for Limits {
    /// 16 MiB, 32 levels (the schemas need at most 8), 200,000 elements (9,999 goods items and seals fit).
    fn default() -> Limits {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 32,
            max_elements: 200_000,
        }
    }
}

/// A message that goes past its [`Limits`] while its tree is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overrun {
    TooDeep { max_depth: usize },
    TooManyElements { max_elements: usize },
}

/// Why an XML text could not be read at all: too large, not UTF-8, not well-formed (a DTD included: no entities
/// are ever expanded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unreadable {
    TooLarge {
        max_bytes: usize,
    },
    NotUtf8,
    NotXml {
        line: u32,
        column: u32,
        message: String,
    },
}

/// Parses `bytes` as XML within `limits` (no DTD, a node budget), for `then` to read the document.
pub fn parse<T>(
    bytes: &[u8],
    limits: &Limits,
    then: impl FnOnce(&roxmltree::Document<'_>) -> T,
) -> Result<T, Unreadable> {
    if bytes.len() > limits.max_bytes {
        return Err(Unreadable::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Unreadable::NotUtf8)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_elements.saturating_mul(4)).unwrap_or(u32::MAX),
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        let at = e.pos();
        Unreadable::NotXml {
            line: at.row,
            column: at.col,
            message: e.to_string(),
        }
    })?;
    Ok(then(&document))
}

/// The local name of the first element in the first 4 KiB of `bytes`, to tell messages apart before reading.
pub fn sniff_root(bytes: &[u8]) -> Option<String> {
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
        return Some(name.rsplit(':').next().unwrap_or("").to_owned());
    }
    None
}
