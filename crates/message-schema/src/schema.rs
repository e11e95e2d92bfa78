//! A message family's schemas as a table (rendered from the XSDs by its tests), and the check of a message
//! against it: every element in its place and number (each type one sequence of elements), no text where a group
//! is, only the attributes its root declares, and every value within its simple type's facets — its whitespace
//! rule (`xs:token` collapses, `xs:normalizedString` replaces, `xs:string` keeps), lengths, digits, bounds, the
//! lexical space of dates, times and integers, patterns (XSD regular expressions, anchored, `.` any character but
//! a line end) and enumerations.

use crate::Node;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Token,
    String,
    NormalizedString,
    Decimal,
    Integer,
    Date,
    DateTime,
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
    pub min_inclusive: Option<i64>,
    pub max_inclusive: Option<i64>,
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

/// An attribute a root declares (the schemas declare attributes on roots only).
#[derive(Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub required: bool,
    pub facets: &'static Facets,
}

/// A message's root element: its name, attributes and content.
#[derive(Debug)]
pub struct Root {
    pub name: &'static str,
    pub attributes: &'static [Attribute],
    pub particles: &'static [Particle],
}

/// A place where the message departs from its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    pub pointer: String,
    pub message: String,
}

/// A family of roots with the patterns of their types compiled once.
pub struct Schema {
    roots: &'static [&'static Root],
    compiled: OnceLock<HashMap<&'static str, regex::Regex>>,
    kept: OnceLock<HashSet<&'static str>>,
}

impl Schema {
    pub const fn new(roots: &'static [&'static Root]) -> Schema {
        Schema {
            roots,
            compiled: OnceLock::new(),
            kept: OnceLock::new(),
        }
    }

    /// The root of this name.
    pub fn root(&self, name: &str) -> Option<&'static Root> {
        self.roots.iter().copied().find(|r| r.name == name)
    }

    pub fn roots(&self) -> &'static [&'static Root] {
        self.roots
    }

    /// The message's departures from `root`'s schema, in document order (at most `MAX_ERRORS`).
    pub fn validate(&self, root: &Root, node: &Node) -> Vec<SchemaError> {
        let mut errors = Vec::new();
        complex(node, root.particles, root.attributes, self, &mut errors);
        errors.truncate(MAX_ERRORS);
        errors
    }

    /// An element's value as its schema type reads it: kept as written for `xs:string` types (a TIN), whitespace
    /// collapsed for the others — what two values are compared by (two consignors differing only in the spaces
    /// of a name are one; in the spaces of a TIN, two).
    pub fn value(&self, node: &Node) -> String {
        let kept = self.kept.get_or_init(|| {
            let mut names = HashSet::new();
            for root in self.roots {
                walk(root.particles, 0, &mut |facets, name| {
                    if facets.base == Base::String {
                        names.insert(name);
                    }
                });
            }
            names
        });
        if kept.contains(node.name.as_str()) {
            node.raw.clone()
        } else {
            collapse(&node.raw)
        }
    }

    /// The pattern compiled, once per pattern of the family's tables.
    fn pattern(&self, xsd: &'static str) -> &regex::Regex {
        let compiled = self.compiled.get_or_init(|| {
            let mut all = HashMap::new();
            let mut add = |facets: &'static Facets| {
                for p in facets.patterns.iter().flat_map(|g| g.iter()) {
                    all.entry(*p).or_insert_with(|| {
                        regex::Regex::new(&to_rust(p)).expect("a schema pattern translates")
                    });
                }
            };
            for root in self.roots {
                for attribute in root.attributes {
                    add(attribute.facets);
                }
                walk(root.particles, 0, &mut |facets, _| add(facets));
            }
            all
        });
        compiled
            .get(xsd)
            .expect("every pattern of the table was compiled")
    }
}

/// Every simple type under `particles`, with the element's name.
fn walk(
    particles: &'static [Particle],
    depth: usize,
    visit: &mut dyn FnMut(&'static Facets, &'static str),
) {
    assert!(depth < 32, "the schema table nests too deep");
    for particle in particles {
        match particle.content {
            Content::Complex(inner) => walk(inner, depth + 1, visit),
            Content::Simple(facets) => visit(facets, particle.name),
        }
    }
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

/// The root's attributes: each declared one within its facets, the required ones there, no others.
fn attributes(
    node: &Node,
    declared: &'static [Attribute],
    schema: &Schema,
    errors: &mut Vec<SchemaError>,
) {
    for (name, value) in &node.attributes {
        match declared.iter().find(|a| a.name == name) {
            Some(attribute) => {
                let as_node = Node {
                    name: format!("{}/@{name}", node.name),
                    text: value.trim().to_owned(),
                    raw: value.clone(),
                    qualified: false,
                    attributes: Vec::new(),
                    children: Vec::new(),
                    pointer: format!("{}/@{name}", node.pointer),
                };
                simple(&as_node, attribute.facets, schema, errors);
            }
            None => error(
                errors,
                node,
                format!("{} has no attribute {name}.", node.name),
            ),
        }
    }
    for attribute in declared.iter().filter(|a| a.required) {
        if !node.attributes.iter().any(|(n, _)| n == attribute.name) {
            error(
                errors,
                node,
                format!("{} has the attribute {}.", node.name, attribute.name),
            );
        }
    }
}

fn complex(
    node: &Node,
    particles: &'static [Particle],
    declared: &'static [Attribute],
    schema: &Schema,
    errors: &mut Vec<SchemaError>,
) {
    attributes(node, declared, schema, errors);
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
                Content::Complex(inner) => complex(child, inner, &[], schema, errors),
                Content::Simple(facets) => simple(child, facets, schema, errors),
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

fn simple(node: &Node, facets: &'static Facets, schema: &Schema, errors: &mut Vec<SchemaError>) {
    attributes(node, &[], schema, errors);
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
        Base::NormalizedString => node.raw.replace(['\t', '\n', '\r'], " "),
        _ => collapse(&node.raw),
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
    let (lexical, kind) = match facets.base {
        Base::Integer => {
            let unsigned = value.strip_prefix(['+', '-']).unwrap_or(&value);
            (
                !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()),
                "an integer",
            )
        }
        Base::Date => (date(&value), "a date (yyyy-mm-dd)"),
        Base::DateTime => (date_time(&value), "a date and time (yyyy-mm-ddThh:mm:ss)"),
        _ => (true, ""),
    };
    if !lexical {
        error(errors, node, format!("{name} is {kind}."));
    }
    if matches!(facets.base, Base::Integer | Base::Decimal) && lexical {
        if let Ok(number) = value.parse::<rust_decimal::Decimal>() {
            if facets
                .min_inclusive
                .is_some_and(|min| number < rust_decimal::Decimal::from(min))
            {
                error(
                    errors,
                    node,
                    format!("{name} is at least {}.", facets.min_inclusive.unwrap_or(0)),
                );
            }
            if facets
                .max_inclusive
                .is_some_and(|max| number > rust_decimal::Decimal::from(max))
            {
                error(
                    errors,
                    node,
                    format!("{name} is at most {}.", facets.max_inclusive.unwrap_or(0)),
                );
            }
        } else if facets.max_inclusive.is_some() && !value.starts_with('-') {
            // More digits than a decimal holds: beyond any bound the schemas set.
            error(
                errors,
                node,
                format!("{name} is at most {}.", facets.max_inclusive.unwrap_or(0)),
            );
        }
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
        if !group.iter().any(|p| schema.pattern(p).is_match(&value)) {
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

/// XSD's `date` lexical space without a zone (as the schemas' patterns allow): a real day of the Gregorian
/// calendar, year 0001 or later.
fn date(value: &str) -> bool {
    let v = value.as_bytes();
    if v.len() != 10 || v[4] != b'-' || v[7] != b'-' {
        return false;
    }
    let number = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (
        number(&value[0..4]),
        number(&value[5..7]),
        number(&value[8..10]),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

/// XSD's `dateTime` lexical space: a date, `T`, hh:mm:ss with optional fractions, an optional zone (`Z`, ±hh:mm);
/// 24:00:00 is midnight at the day's end.
fn date_time(value: &str) -> bool {
    let Some((day, time)) = value.split_once('T') else {
        return false;
    };
    if !date(day) || time.len() < 8 || !time.is_char_boundary(8) {
        return false;
    }
    let (clock, mut rest) = time.split_at(8);
    let c = clock.as_bytes();
    let two = |a: u8, b: u8| {
        (a.is_ascii_digit() && b.is_ascii_digit())
            .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    };
    let (Some(h), Some(m), Some(s)) = (two(c[0], c[1]), two(c[3], c[4]), two(c[6], c[7])) else {
        return false;
    };
    if c[2] != b':' || c[5] != b':' || m > 59 || s > 59 {
        return false;
    }
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    let midnight = h == 24
        && m == 0
        && s == 0
        && !time[8..]
            .trim_start_matches(['.', '0'])
            .starts_with(|c: char| c.is_ascii_digit());
    if h > 23 && !midnight {
        return false;
    }
    match rest {
        "" | "Z" => true,
        zone => {
            let z = zone.as_bytes();
            z.len() == 6
                && (z[0] == b'+' || z[0] == b'-')
                && z[3] == b':'
                && two(z[1], z[2]).is_some_and(|h| h <= 14)
                && two(z[4], z[5]).is_some_and(|m| m <= 59)
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
    fn dates_and_times_are_real_ones() {
        assert!(
            date("2024-02-29") && !date("2023-02-29") && !date("2024-13-01") && !date("0000-01-01")
        );
        assert!(date_time("2022-07-02T03:11:04") && date_time("2022-07-02T03:11:04.5Z"));
        assert!(date_time("2022-07-02T24:00:00") && !date_time("2022-07-02T24:00:01"));
        assert!(!date_time("2022-07-02T03:61:04") && !date_time("2022-07-02 03:11:04"));
        assert!(date_time("2022-07-02T03:11:04+01:00") && !date_time("2022-07-02T03:11:04+1"));
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
