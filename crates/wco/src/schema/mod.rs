//! The one description of the WCO DEC-DMS 2 schemas that the reader, the writer and the JSON twin are driven by.
//!
//! [`table`] is generated from the XSD files themselves (`WCO_DEC_2_DMS.xsd` with its DS, UN/CEFACT and code-list
//! companions, under the `DocumentMetaData_2_DMS.xsd` envelope) by `crates/wco/tests/schema_table.rs`, which also
//! fails when the checked-in table differs from what the schemas give (regenerate with
//! `ADUANA_BLESS=1 cargo test -p wco --test schema_table`). Every complex type is an ordered sequence of children
//! with their occurrence bounds; every simple-content type is a value with its facets and its attributes. The
//! `CANCEL.xsd` schema of invalidations is a restriction of the same structure (the test checks that it allows
//! nothing the table does not).
//!
//! [`validate`] checks an element tree against the table (order, occurrences, values, attributes) — the structural
//! verdict of the reader, which is libxml2's on every corpus file; [`type_at`] resolves an element path to its type,
//! which is how elements the model does not interpret are kept, written back in schema order and carried by the
//! JSON twin.

#[rustfmt::skip]
mod table;
mod validate;

pub use validate::{validate, validate_subtree};

use crate::dom::{NS_DECLARATION, NS_DECLARATION_DS, NS_METADATA};

/// Which namespace an element is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns {
    Metadata,
    Declaration,
    /// The Declaration data structures (`DateTimeString`).
    DeclarationDs,
}

impl Ns {
    pub fn uri(self) -> &'static str {
        match self {
            Self::Metadata => NS_METADATA,
            Self::Declaration => NS_DECLARATION,
            Self::DeclarationDs => NS_DECLARATION_DS,
        }
    }
}

/// A type of the schema: a sequence of child elements, or a value with attributes.
#[derive(Debug)]
pub struct Type {
    pub name: &'static str,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    /// Element-only content: the children in the order the schema requires them.
    Complex(&'static [Child]),
    /// A value (simple content) and the attributes the element may carry.
    Simple {
        value: Facets,
        attributes: &'static [Attribute],
    },
}

/// One position of a sequence.
#[derive(Debug)]
pub struct Child {
    pub name: &'static str,
    /// The WCO data model ID (`67A` for the class GoodsShipment, `112` for ItemChargeAmount) that function code 13
    /// pointers name; empty where the schema's annotation gives none.
    pub wco_id: &'static str,
    pub ns: Ns,
    /// Index into [`types`].
    pub ty: usize,
    pub min: u32,
    /// `u32::MAX` when unbounded.
    pub max: u32,
}

#[derive(Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub value: Facets,
    pub required: bool,
}

/// The XSD built-in a value derives from (which fixes its whitespace handling and lexical space).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    String,
    Token,
    Decimal,
    Boolean,
    Language,
    AnyUri,
}

/// The XSD patterns the DEC-DMS 2 schemas use, each implemented exactly (XSD regular expressions match the whole
/// value; `.` is any character but line feed and carriage return; `\s` is space, tab, line feed, carriage return).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `.*[^\s].*`: one line holding at least one character that is not white space.
    NonBlank,
    /// `([a-zA-Z])*`
    Letters,
    /// `([0-9])*`
    Digits,
    /// `(20\d{6})(\d{6}(Z|[-+]\d\d))?`: the UN/CEFACT date (102) or date and time (304) of this century.
    DateTime,
    /// A pattern without metacharacters: the value itself.
    Literal(&'static str),
    /// `[A-Z]{3}` or `.{1,3}`: between `min` and `max` characters of a class.
    Chars {
        class: CharClass,
        min: u32,
        max: u32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharClass {
    /// `.`: any character but line feed and carriage return.
    AnyOnLine,
    /// `[A-Z]`
    Upper,
}

/// The facets of a value. `patterns` holds one group per derivation step: a value matches every group, and within
/// a group any one pattern (XSD's rule for patterns).
#[derive(Debug)]
pub struct Facets {
    pub base: Base,
    pub length: Option<u32>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub total_digits: Option<u32>,
    pub fraction_digits: Option<u32>,
    pub patterns: &'static [&'static [Pattern]],
    pub enumeration: &'static [&'static str],
}

/// Every type of the description; children name their type by index.
pub fn types() -> &'static [Type] {
    table::TYPES
}

/// The type of the `md:MetaData` envelope.
pub fn envelope() -> &'static Type {
    &table::TYPES[table::ENVELOPE]
}

/// The type of the `Declaration` element.
pub fn declaration() -> &'static Type {
    &table::TYPES[table::DECLARATION]
}

impl Type {
    /// The children of a complex type (none for a value).
    pub fn children(&self) -> &'static [Child] {
        match self.body {
            Body::Complex(children) => children,
            Body::Simple { .. } => &[],
        }
    }

    /// The position of the child element `name` in this type's sequence.
    pub fn child(&self, name: &str) -> Option<(usize, &'static Child)> {
        self.children()
            .iter()
            .enumerate()
            .find(|(_, child)| child.name == name)
    }
}

impl Child {
    pub fn ty(&self) -> &'static Type {
        &table::TYPES[self.ty]
    }
}

/// The type of the element at `path`, a path of element names from the `MetaData` envelope (`Name` or `Name[k]`
/// steps separated by `/`, e.g. `Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity`, as kept items
/// name their place; the empty path is the envelope). `None` when the schema allows no such element.
pub fn type_at(path: &str) -> Option<&'static Type> {
    let mut ty = envelope();
    for step in path.split('/').filter(|step| !step.is_empty()) {
        let name = step.split_once('[').map_or(step, |(name, _)| name);
        ty = ty.child(name)?.1.ty();
    }
    Some(ty)
}

impl Facets {
    /// The value after the whitespace handling of its base type (`collapse` for everything but `xs:string`).
    pub fn normalise<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if self.base == Base::String {
            return std::borrow::Cow::Borrowed(text);
        }
        let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        let collapsed = text.trim_matches(is_space);
        if !collapsed.contains(['\t', '\n', '\r']) && !collapsed.contains("  ") {
            return std::borrow::Cow::Borrowed(collapsed);
        }
        let mut out = String::with_capacity(collapsed.len());
        for word in collapsed.split(is_space).filter(|word| !word.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        std::borrow::Cow::Owned(out)
    }

    /// Why the value (as written in the document) does not fit these facets, or `None` when it does.
    pub fn check(&self, text: &str) -> Option<String> {
        let normalised = self.normalise(text);
        let value = normalised.as_ref();
        let why = self.why(value)?;
        Some(why.replace("{value}", &quoted(value)))
    }

    /// Why `value` (normalised) does not fit, with `{value}` where the value is to be quoted.
    fn why(&self, value: &str) -> Option<String> {
        match self.base {
            Base::Decimal => {
                let Some((integer, fraction)) = decimal_digits(value) else {
                    return Some("{value} is not a decimal number.".to_owned());
                };
                let significant = integer.trim_start_matches('0').len() + fraction.len();
                if let Some(total) = self.total_digits
                    && significant > total as usize
                {
                    return Some(format!("{{value}} has more than {total} digits."));
                }
                if let Some(digits) = self.fraction_digits
                    && fraction.len() > digits as usize
                {
                    return Some(format!(
                        "{{value}} has more than {digits} digits after the decimal point."
                    ));
                }
            }
            Base::Boolean => {
                if !matches!(value, "true" | "false" | "1" | "0") {
                    return Some("{value} is not true or false.".to_owned());
                }
            }
            Base::Language => {
                let mut parts = value.split('-');
                let first = parts.next().unwrap_or_default();
                let ok = (1..=8).contains(&first.len())
                    && first.chars().all(|c| c.is_ascii_alphabetic())
                    && parts.all(|part| {
                        (1..=8).contains(&part.len())
                            && part.chars().all(|c| c.is_ascii_alphanumeric())
                    });
                if !ok {
                    return Some("{value} is not a language code such as en or fr-CA.".to_owned());
                }
            }
            Base::String | Base::Token | Base::AnyUri => {}
        }
        // Length facets do not apply to decimals and booleans (XSD 1.0); the schemas put none there.
        let length = value.chars().count();
        if let Some(exact) = self.length
            && length != exact as usize
        {
            return Some(format!(
                "{{value}} must be exactly {exact} characters long."
            ));
        }
        if let Some(min) = self.min_length
            && length < min as usize
        {
            return Some(format!("{{value}} must be at least {min} characters long."));
        }
        if let Some(max) = self.max_length
            && length > max as usize
        {
            return Some(format!(
                "{{value}} is longer than the {max} characters allowed."
            ));
        }
        for group in self.patterns {
            if !group.iter().any(|pattern| pattern.matches(value)) {
                return Some(match group {
                    [Pattern::NonBlank] => {
                        "The value must be one line that is not blank.".to_owned()
                    }
                    _ => format!("{{value}} does not have the required format ({group:?})."),
                });
            }
        }
        if !self.enumeration.is_empty() && !self.enumeration.contains(&value) {
            return Some(format!(
                "{{value}} is not one of {}.",
                self.enumeration.join(", ")
            ));
        }
        None
    }
}

/// A value as a message quotes it: at most 40 characters of it.
fn quoted(value: &str) -> String {
    match value.char_indices().nth(40) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

/// The digits before and after the point of an `xs:decimal` (leading zeros kept, trailing fraction zeros dropped,
/// as the value space counts them), or `None` when the text is not one.
fn decimal_digits(value: &str) -> Option<(&str, &str)> {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (integer.is_empty() && fraction.is_empty()) || !digits(integer) || !digits(fraction) {
        return None;
    }
    Some((integer, fraction.trim_end_matches('0')))
}

impl Pattern {
    pub fn matches(self, value: &str) -> bool {
        let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        match self {
            Self::NonBlank => !value.contains(['\n', '\r']) && value.chars().any(|c| !is_space(c)),
            Self::Letters => value.chars().all(|c| c.is_ascii_alphabetic()),
            Self::Digits => value.chars().all(|c| c.is_ascii_digit()),
            Self::DateTime => {
                let bytes = value.as_bytes();
                let digits =
                    |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
                match bytes.len() {
                    8 => value.starts_with("20") && digits(2..8),
                    15 => value.starts_with("20") && digits(2..14) && bytes[14] == b'Z',
                    17 => {
                        value.starts_with("20")
                            && digits(2..14)
                            && matches!(bytes[14], b'+' | b'-')
                            && digits(15..17)
                    }
                    _ => false,
                }
            }
            Self::Literal(literal) => value == literal,
            Self::Chars { class, min, max } => {
                let count = value.chars().count();
                (min as usize..=max as usize).contains(&count)
                    && value.chars().all(|c| match class {
                        CharClass::AnyOnLine => !matches!(c, '\n' | '\r'),
                        CharClass::Upper => c.is_ascii_uppercase(),
                    })
            }
        }
    }
}
