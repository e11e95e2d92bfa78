//! The ICS schemas of CC315A and CC313A as a table (`schema_table.rs`, rendered from the XSDs by the tests), and
//! the check of a message against it: every element in its place and number (each type one sequence of
//! elements), no text where a group is, no attributes, and every value within its simple type's facets — its
//! whitespace rule (`xs:token` collapses, `xs:string` keeps), lengths, digits, patterns (XSD regular expressions,
//! anchored, `.` any character but a line end) and enumerations.

use crate::{Kind, Message, Node};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Token,
    String,
    Decimal,
}

/// A simple type's facets; `patterns` holds one group per derivation step: a value matches every group, and
/// within a group any one pattern (XSD's rule).
#[derive(Debug)]
pub struct Facets {
    pub base: Base,
    pub length: Option<u32>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub total_digits: Option<u32>,
    pub fraction_digits: Option<u32>,
    pub patterns: &'static [&'static [&'static str]],
    pub enumeration: &'static [&'static str],
}

#[derive(Debug)]
pub enum Content {
    Complex(&'static [Particle]),
    Simple(&'static Facets),
}

/// An element of a sequence: its name, how many times (`u32::MAX`: unbounded), its type.
#[derive(Debug)]
pub struct Particle {
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub content: Content,
}

/// A place where the message departs from its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    pub pointer: String,
    pub message: String,
}

/// The message's departures from its schema, in document order (at most `MAX_ERRORS`).
pub fn validate(message: &Message) -> Vec<SchemaError> {
    let particles = match message.kind {
        Kind::Declaration => crate::schema_table::CC315A,
        Kind::Amendment => crate::schema_table::CC313A,
    };
    let mut errors = Vec::new();
    complex(&message.root, particles, &mut errors);
    errors.truncate(MAX_ERRORS);
    errors
}

/// The most schema errors one answer lists.
pub const MAX_ERRORS: usize = 100;

fn error(errors: &mut Vec<SchemaError>, at: &Node, message: String) {
    if errors.len() < MAX_ERRORS {
        errors.push(SchemaError {
            pointer: at.pointer.clone(),
            message,
        });
    }
}

fn complex(node: &Node, particles: &'static [Particle], errors: &mut Vec<SchemaError>) {
    if let Some(attribute) = &node.attribute {
        error(
            errors,
            node,
            format!("{} has no attribute {attribute}.", node.name),
        );
    }
    if !node.raw.trim().is_empty() {
        error(
            errors,
            node,
            format!("{} holds elements, not text.", node.name),
        );
    }
    let children = &node.children;
    let mut at = 0;
    for particle in particles {
        let mut count = 0u32;
        while at < children.len() && children[at].name == particle.name && count < particle.max {
            let child = &children[at];
            if child.qualified {
                error(
                    errors,
                    child,
                    format!(
                        "{} is in no namespace (only the message's root is).",
                        child.name
                    ),
                );
            }
            match particle.content {
                Content::Complex(inner) => complex(child, inner, errors),
                Content::Simple(facets) => simple(child, facets, errors),
            }
            at += 1;
            count += 1;
        }
        if count < particle.min {
            // As libxml2 does: one error, where the sequence went wrong, and no guesses after it.
            match children.get(at) {
                Some(found) => error(
                    errors,
                    found,
                    format!(
                        "{} is not expected here in {}: {} is.",
                        found.name, node.name, particle.name
                    ),
                ),
                None => error(
                    errors,
                    node,
                    format!("{} is missing at the end of {}.", particle.name, node.name),
                ),
            }
            return;
        }
    }
    if let Some(extra) = children.get(at) {
        error(
            errors,
            extra,
            format!("{} is not expected here in {}.", extra.name, node.name),
        );
    }
}

/// XSD's whiteSpace collapse: runs of space, tab, line feed and carriage return to one space, none at the ends.
fn collapse(text: &str) -> String {
    text.split([' ', '\t', '\n', '\r'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn simple(node: &Node, facets: &'static Facets, errors: &mut Vec<SchemaError>) {
    if let Some(attribute) = &node.attribute {
        error(
            errors,
            node,
            format!("{} has no attribute {attribute}.", node.name),
        );
    }
    if let Some(child) = node.children.first() {
        error(
            errors,
            child,
            format!("{} holds a value, not elements.", node.name),
        );
        return;
    }
    let value = match facets.base {
        Base::String => node.raw.clone(),
        Base::Token | Base::Decimal => collapse(&node.raw),
    };
    let chars = u32::try_from(value.chars().count()).unwrap_or(u32::MAX);
    let name = &node.name;
    if facets.length.is_some_and(|n| chars != n) {
        error(
            errors,
            node,
            format!("{name} is {} characters long.", facets.length.unwrap_or(0)),
        );
    }
    if facets.min_length.is_some_and(|n| chars < n) {
        error(
            errors,
            node,
            format!(
                "{name} has at least {} characters.",
                facets.min_length.unwrap_or(0)
            ),
        );
    }
    if facets.max_length.is_some_and(|n| chars > n) {
        error(
            errors,
            node,
            format!(
                "{name} has at most {} characters.",
                facets.max_length.unwrap_or(0)
            ),
        );
    }
    if facets.base == Base::Decimal {
        match digits(&value) {
            None => error(errors, node, format!("{name} is a decimal number.")),
            Some((total, fraction)) => {
                if facets.total_digits.is_some_and(|n| total > n) {
                    error(
                        errors,
                        node,
                        format!(
                            "{name} has at most {} digits.",
                            facets.total_digits.unwrap_or(0)
                        ),
                    );
                }
                if facets.fraction_digits.is_some_and(|n| fraction > n) {
                    error(
                        errors,
                        node,
                        format!(
                            "{name} has at most {} decimals.",
                            facets.fraction_digits.unwrap_or(0)
                        ),
                    );
                }
            }
        }
    }
    for group in facets.patterns {
        if !group.iter().any(|p| pattern(p).is_match(&value)) {
            error(
                errors,
                node,
                format!("{name} does not have the form {}.", group.join(" or ")),
            );
        }
    }
    if !facets.enumeration.is_empty() && !facets.enumeration.contains(&value.as_str()) {
        error(
            errors,
            node,
            format!("{name} is not one of the values its list allows."),
        );
    }
}

/// An `xs:decimal`'s significant digits and its decimals, or `None` when it is not one.
fn digits(value: &str) -> Option<(u32, u32)> {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let count = |s: &str| u32::try_from(s.len()).unwrap_or(u32::MAX);
    Some((count(whole) + count(fraction), count(fraction)))
}

/// An element's value as its schema type reads it: kept as written for `xs:string` types (a TIN), whitespace
/// collapsed for the others — what two values are compared by (two consignors differing only in the spaces of
/// a name are one; in the spaces of a TIN, two).
pub fn value(node: &Node) -> String {
    static KEPT: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let kept = KEPT.get_or_init(|| {
        let mut names = std::collections::HashSet::new();
        fn walk(
            particles: &'static [Particle],
            names: &mut std::collections::HashSet<&'static str>,
            depth: usize,
        ) {
            assert!(depth < 16, "the schema table nests too deep");
            for particle in particles {
                match particle.content {
                    Content::Complex(inner) => walk(inner, names, depth + 1),
                    Content::Simple(facets) if facets.base == Base::String => {
                        names.insert(particle.name);
                    }
                    Content::Simple(_) => {}
                }
            }
        }
        walk(crate::schema_table::CC315A, &mut names, 0);
        walk(crate::schema_table::CC313A, &mut names, 0);
        names
    });
    if kept.contains(node.name.as_str()) {
        node.raw.clone()
    } else {
        collapse(&node.raw)
    }
}

/// The pattern compiled, once per pattern of the table.
fn pattern(xsd: &'static str) -> &'static regex::Regex {
    static COMPILED: OnceLock<HashMap<&'static str, regex::Regex>> = OnceLock::new();
    let compiled = COMPILED.get_or_init(|| {
        let mut all = HashMap::new();
        for root in [crate::schema_table::CC315A, crate::schema_table::CC313A] {
            collect(root, &mut all, 0);
        }
        all
    });
    compiled
        .get(xsd)
        .expect("every pattern of the table was compiled")
}

fn collect(
    particles: &'static [Particle],
    out: &mut HashMap<&'static str, regex::Regex>,
    depth: usize,
) {
    assert!(depth < 16, "the schema table nests too deep");
    for particle in particles {
        match particle.content {
            Content::Complex(inner) => collect(inner, out, depth + 1),
            Content::Simple(facets) => {
                for p in facets.patterns.iter().flat_map(|g| g.iter()) {
                    out.entry(*p).or_insert_with(|| {
                        regex::Regex::new(&to_rust(p)).expect("an ICS pattern translates")
                    });
                }
            }
        }
    }
}

/// An XSD regular expression as the `regex` crate reads it: anchored at both ends, `.` any character but a line
/// end, `\p{IsBasicLatin}` the block U+0000–U+007F.
pub fn to_rust(xsd: &str) -> String {
    let mut out = String::from("^(?:");
    let mut in_class = false;
    let mut chars = xsd.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let rest: String = chars.clone().take(13).collect();
                if rest.starts_with("p{IsBasicLatin}") || rest.starts_with("p{IsBasicLati") {
                    for _ in 0.."p{IsBasicLatin}".len() {
                        chars.next();
                    }
                    out.push_str(if in_class {
                        r"\x00-\x7F"
                    } else {
                        r"[\x00-\x7F]"
                    });
                } else if let Some(next) = chars.next() {
                    out.push('\\');
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '.' if !in_class => out.push_str(r"[^\n\r]"),
            _ => out.push(c),
        }
    }
    out.push_str(")$");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xsd_patterns_read_as_xsd_means_them() {
        let matches = |p: &str, v: &str| regex::Regex::new(&to_rust(p)).unwrap().is_match(v);
        assert!(matches(
            "[A-Z]{2}[^\\n\\r]{1,15}/[0-9]{10}",
            "GBCD1234/1234567890"
        ));
        assert!(!matches(
            "[A-Z]{2}[^\\n\\r]{1,15}/[0-9]{10}",
            "xGBCD1234/1234567890"
        ));
        assert!(matches(".{1,35}", "any text"));
        assert!(!matches(".{1,35}", "two\nlines"));
        assert!(matches("\\p{IsBasicLatin}+", "plain"));
        assert!(!matches("\\p{IsBasicLatin}+", "é"));
        assert!(matches("[0-9]{2}", "12") && !matches("[0-9]{2}", "123"));
    }

    #[test]
    fn decimals_count_their_significant_digits() {
        assert_eq!(digits("0012.3400"), Some((4, 2)));
        assert_eq!(digits("-.5"), Some((1, 1)));
        assert_eq!(digits("."), None);
        assert_eq!(digits("1e3"), None);
        assert_eq!(digits("+"), None);
    }
}
