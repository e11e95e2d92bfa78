//! Reads a family's XSD files into the table [`crate::Schema`] checks messages with, and renders it as Rust.
//! Test-side only (the `render` feature): the product carries the rendered tables, never the XSDs. What the
//! customs schemas use is what this understands — named complex types of one `xs:sequence` of elements and group
//! references (or a `xs:complexContent` extension of one), attributes on them, simple types by restriction of
//! `xs:token`, `xs:string`, `xs:normalizedString`, `xs:decimal`, `xs:integer`, `xs:date` or `xs:dateTime` with
//! length, digit, bound, pattern and enumeration facets; anything else makes it fail, naming what it met.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

const XS: &str = "http://www.w3.org/2001/XMLSchema";

#[derive(Default)]
struct Simple {
    base: String,
    length: Option<u32>,
    min_length: Option<u32>,
    max_length: Option<u32>,
    total_digits: Option<u32>,
    fraction_digits: Option<u32>,
    min_inclusive: Option<i64>,
    max_inclusive: Option<i64>,
    patterns: Vec<Vec<String>>,
    enumeration: Vec<String>,
}

struct Element {
    name: String,
    min: u32,
    max: Option<u32>,
    /// The type's key (`COMPLEX_ITIType`, `SIMPLE_Alphanumeric_Max35`).
    kind: String,
}

struct Schemas {
    /// Namespace → file key.
    keys: BTreeMap<String, String>,
    documents: Vec<(String, String)>,
}

fn key_of(namespace: &str, keys: &BTreeMap<String, String>) -> String {
    keys.get(namespace)
        .cloned()
        .unwrap_or_else(|| panic!("a type in namespace {namespace}, which no file read declares"))
}

/// A QName attribute (`simple:Alphanumeric_Max35`) as a type key, or the builtin (`xs:token`).
fn type_key(node: roxmltree::Node<'_, '_>, qname: &str, keys: &BTreeMap<String, String>) -> String {
    let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
    let namespace = node
        .lookup_namespace_uri(if prefix.is_empty() {
            None
        } else {
            Some(prefix)
        })
        .unwrap_or_else(|| panic!("no namespace for the prefix of {qname}"));
    if namespace == XS {
        return format!("xs:{local}");
    }
    format!("{}_{local}", key_of(namespace, keys))
}

fn xs<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    let name = name.to_owned();
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().namespace() == Some(XS) && c.tag_name().name() == name
    })
}

struct Declared {
    name: String,
    required: bool,
    kind: String,
}

pub struct Table {
    simple: BTreeMap<String, Simple>,
    complex: BTreeMap<String, Vec<Element>>,
    attributes: BTreeMap<String, Vec<Declared>>,
    roots: Vec<(String, String)>,
}

impl Table {
    /// Reads `files` (each with the key its namespace's types are named under; files of one namespace share it)
    /// from `folder`, keeping the root elements named in `roots`.
    pub fn read(folder: &Path, files: &[(&str, &str)], keep: &[&str]) -> Table {
        let mut schemas = Schemas {
            keys: BTreeMap::new(),
            documents: Vec::new(),
        };
        for (file, key) in files {
            let text = std::fs::read_to_string(folder.join(file)).expect("an XSD");
            let namespace = roxmltree::Document::parse(&text)
                .unwrap()
                .root_element()
                .attribute("targetNamespace")
                .unwrap()
                .to_owned();
            schemas.keys.insert(namespace, (*key).to_owned());
            schemas.documents.push(((*key).to_owned(), text));
        }
        let mut raw_simple: BTreeMap<String, (String, Simple)> = BTreeMap::new();
        let mut complex = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Element>> = BTreeMap::new();
        let mut roots = Vec::new();
        let mut group_refs: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
        let mut attributes: BTreeMap<String, Vec<Declared>> = BTreeMap::new();
        let mut extensions: BTreeMap<String, String> = BTreeMap::new();
        for (key, text) in &schemas.documents {
            let document = roxmltree::Document::parse(text).unwrap();
            let schema = document.root_element();
            for child in schema.children().filter(|c| c.is_element()) {
                let name = child.attribute("name").unwrap_or_default();
                match child.tag_name().name() {
                    "import" | "include" | "annotation" => {}
                    "element" => roots.push((
                        name.to_owned(),
                        type_key(child, child.attribute("type").unwrap(), &schemas.keys),
                    )),
                    "simpleType" => {
                        let restriction = xs(child, "restriction").next().unwrap_or_else(|| {
                            panic!("{key}:{name}: a simple type not by restriction")
                        });
                        let base = type_key(
                            restriction,
                            restriction.attribute("base").unwrap(),
                            &schemas.keys,
                        );
                        let mut facets = Simple::default();
                        let mut step = Vec::new();
                        for facet in restriction.children().filter(|c| c.is_element()) {
                            let value = facet.attribute("value").unwrap_or_default();
                            let number = || value.parse::<u32>().ok();
                            match facet.tag_name().name() {
                                "length" => facets.length = number(),
                                "minLength" => facets.min_length = number(),
                                "maxLength" => facets.max_length = number(),
                                "totalDigits" => facets.total_digits = number(),
                                "fractionDigits" => facets.fraction_digits = number(),
                                "minInclusive" => facets.min_inclusive = value.parse().ok(),
                                "maxInclusive" => facets.max_inclusive = value.parse().ok(),
                                "pattern" => step.push(value.to_owned()),
                                "enumeration" => facets.enumeration.push(value.to_owned()),
                                "annotation" => {}
                                other => panic!("{key}:{name}: the facet {other}"),
                            }
                        }
                        if !step.is_empty() {
                            facets.patterns.push(step);
                        }
                        raw_simple.insert(format!("{key}_{name}"), (base, facets));
                    }
                    "complexType" | "group" => {
                        let is_group = child.tag_name().name() == "group";
                        let full = format!("{key}_{name}");
                        let mut body = child;
                        if let Some(content) = xs(child, "complexContent").next() {
                            let extension = xs(content, "extension").next().unwrap_or_else(|| {
                                panic!("{key}:{name}: complex content not by extension")
                            });
                            extensions.insert(
                                full.clone(),
                                type_key(
                                    extension,
                                    extension.attribute("base").unwrap(),
                                    &schemas.keys,
                                ),
                            );
                            body = extension;
                        }
                        let mut sequence = None;
                        for part in body
                            .children()
                            .filter(|c| c.is_element() && c.tag_name().name() != "annotation")
                        {
                            match part.tag_name().name() {
                                "sequence" if sequence.is_none() => sequence = Some(part),
                                "attribute" => {
                                    attributes.entry(full.clone()).or_default().push(Declared {
                                        name: part.attribute("name").unwrap().to_owned(),
                                        required: part.attribute("use") == Some("required"),
                                        kind: type_key(
                                            part,
                                            part.attribute("type").unwrap(),
                                            &schemas.keys,
                                        ),
                                    })
                                }
                                "complexContent" if body != child => {}
                                other => panic!("{key}:{name}: a {other} in a complex type"),
                            }
                        }
                        let sequence =
                            sequence.unwrap_or_else(|| panic!("{key}:{name}: no sequence"));
                        let mut elements = Vec::new();
                        for particle in sequence.children().filter(|c| c.is_element()) {
                            let min = particle
                                .attribute("minOccurs")
                                .map_or(1, |m| m.parse().unwrap());
                            let max = match particle.attribute("maxOccurs") {
                                Some("unbounded") => None,
                                Some(m) => Some(m.parse().unwrap()),
                                None => Some(1),
                            };
                            match particle.tag_name().name() {
                                "element" => elements.push(Element {
                                    name: particle.attribute("name").unwrap().to_owned(),
                                    min,
                                    max,
                                    kind: type_key(
                                        particle,
                                        particle.attribute("type").unwrap_or_else(|| {
                                            panic!("{key}:{name}: an element without a named type")
                                        }),
                                        &schemas.keys,
                                    ),
                                }),
                                "group" => {
                                    assert!(
                                        min == 1 && max == Some(1),
                                        "{key}:{name}: a repeated group"
                                    );
                                    let target = type_key(
                                        particle,
                                        particle.attribute("ref").unwrap(),
                                        &schemas.keys,
                                    );
                                    group_refs
                                        .entry(full.clone())
                                        .or_default()
                                        .push((elements.len(), target));
                                }
                                other => panic!("{key}:{name}: a particle {other}"),
                            }
                        }
                        if is_group {
                            groups.insert(full, elements);
                        } else {
                            complex.insert(full, elements);
                        }
                    }
                    other => panic!("{key}: a top-level {other}"),
                }
            }
        }
        // Groups in place, last first so that the positions hold.
        for (owner, refs) in group_refs {
            let elements: &mut Vec<Element> =
                complex.get_mut(&owner).expect("a group in a complex type");
            for (at, group) in refs.into_iter().rev() {
                let inner = &groups[&group];
                for (k, e) in inner.iter().enumerate() {
                    elements.insert(
                        at + k,
                        Element {
                            name: e.name.clone(),
                            min: e.min,
                            max: e.max,
                            kind: e.kind.clone(),
                        },
                    );
                }
            }
        }
        // Extensions: the base's elements, then the extension's own.
        for (owner, base) in &extensions {
            let inherited: Vec<Element> = complex
                .get(base)
                .unwrap_or_else(|| panic!("{owner}: its base {base} is not a complex type read"))
                .iter()
                .map(|e| Element {
                    name: e.name.clone(),
                    min: e.min,
                    max: e.max,
                    kind: e.kind.clone(),
                })
                .collect();
            let own = complex
                .get_mut(owner)
                .expect("an extension is a complex type");
            own.splice(0..0, inherited);
        }
        // Simple types resolved down to their builtin: the nearest facet wins, each step's patterns a group.
        let mut simple = BTreeMap::new();
        for name in raw_simple.keys() {
            let mut resolved = Simple::default();
            let mut at = name.clone();
            loop {
                let Some((base, facets)) = raw_simple.get(&at) else {
                    panic!("{name}: its base {at} is unknown")
                };
                resolved.length = resolved.length.or(facets.length);
                resolved.min_length = resolved.min_length.or(facets.min_length);
                resolved.max_length = resolved.max_length.or(facets.max_length);
                resolved.total_digits = resolved.total_digits.or(facets.total_digits);
                resolved.fraction_digits = resolved.fraction_digits.or(facets.fraction_digits);
                resolved.min_inclusive = resolved.min_inclusive.or(facets.min_inclusive);
                resolved.max_inclusive = resolved.max_inclusive.or(facets.max_inclusive);
                resolved.patterns.extend(facets.patterns.iter().cloned());
                if resolved.enumeration.is_empty() {
                    resolved.enumeration = facets.enumeration.clone();
                }
                if let Some(builtin) = base.strip_prefix("xs:") {
                    assert!(
                        matches!(
                            builtin,
                            "token"
                                | "string"
                                | "normalizedString"
                                | "decimal"
                                | "integer"
                                | "date"
                                | "dateTime"
                        ),
                        "{name}: built on xs:{builtin}"
                    );
                    resolved.base = builtin.to_owned();
                    break;
                }
                at = base.clone();
            }
            simple.insert(name.clone(), resolved);
        }
        // The builtins themselves, for attributes and elements typed with them directly.
        for builtin in [
            "token",
            "string",
            "normalizedString",
            "decimal",
            "integer",
            "date",
            "dateTime",
        ] {
            simple.insert(
                format!("xs:{builtin}"),
                Simple {
                    base: builtin.to_owned(),
                    ..Simple::default()
                },
            );
        }
        roots.retain(|(name, _)| keep.contains(&name.as_str()));
        roots.sort();
        roots.dedup();
        assert_eq!(roots.len(), keep.len(), "a root asked for is not declared");
        Table {
            simple,
            complex,
            attributes,
            roots,
        }
    }

    /// The table as Rust: every complex and simple type a message's elements use, and the two messages' roots.
    /// The table as Rust, under `header` (comment lines naming where it comes from and how to render it again):
    /// the roots, and every complex and simple type they reach.
    pub fn render(&self, header: &str) -> String {
        let mut out = String::new();
        out.push_str(header);
        out.push_str("\n#[allow(unused_imports)]\nuse message_schema::{Attribute, Base, Content, Facets, Particle, Root};\n\n");
        let mut stack: Vec<&String> = self.roots.iter().map(|(_, k)| k).collect();
        for (name, kind) in &self.roots {
            let attributes = self
                .attributes
                .get(kind)
                .map(|all| {
                    all.iter()
                        .map(|a| {
                            stack.push(&a.kind);
                            format!(
                                "Attribute {{ name: {:?}, required: {}, facets: &{} }}",
                                a.name,
                                a.required,
                                ident(&a.kind)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            writeln!(
                out,
                "/// The {name} message.\npub static {name}: Root = Root {{ name: {name:?}, attributes: &[{attributes}], particles: {} }};\n",
                ident(kind)
            )
            .unwrap();
        }
        // Only what the roots reach.
        let mut reached = std::collections::BTreeSet::new();
        while let Some(kind) = stack.pop() {
            if reached.insert(kind.clone())
                && let Some(elements) = self.complex.get(kind)
            {
                stack.extend(elements.iter().map(|e| &e.kind));
            }
        }
        let used: std::collections::BTreeSet<&String> = self
            .simple
            .keys()
            .filter(|k| reached.contains(*k))
            .collect();
        for (name, elements) in self.complex.iter().filter(|(k, _)| reached.contains(*k)) {
            writeln!(out, "const {}: &[Particle] = &[", ident(name)).unwrap();
            for e in elements {
                let content = if self.complex.contains_key(&e.kind) {
                    format!("Content::Complex({})", ident(&e.kind))
                } else if self.simple.contains_key(&e.kind) {
                    format!("Content::Simple(&{})", ident(&e.kind))
                } else {
                    panic!("{name}/{}: the type {} is unknown", e.name, e.kind)
                };
                let max = e.max.map_or("u32::MAX".to_owned(), |m| m.to_string());
                writeln!(
                    out,
                    "    Particle {{ name: {:?}, min: {}, max: {max}, content: {content} }},",
                    e.name, e.min
                )
                .unwrap();
            }
            out.push_str("];\n\n");
        }
        for name in used {
            let s = &self.simple[name];
            let base = match s.base.as_str() {
                "token" => "Base::Token",
                "string" => "Base::String",
                "normalizedString" => "Base::NormalizedString",
                "integer" => "Base::Integer",
                "date" => "Base::Date",
                "dateTime" => "Base::DateTime",
                _ => "Base::Decimal",
            };
            let bound = |v: Option<i64>| v.map_or("None".to_owned(), |v| format!("Some({v})"));
            let option = |v: Option<u32>| v.map_or("None".to_owned(), |v| format!("Some({v})"));
            let patterns = s
                .patterns
                .iter()
                .map(|g| {
                    format!(
                        "&[{}]",
                        g.iter()
                            .map(|p| format!("{p:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let enumeration = s
                .enumeration
                .iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                out,
                "const {}: Facets = Facets {{ base: {base}, length: {}, min_length: {}, max_length: {}, total_digits: {}, fraction_digits: {}, min_inclusive: {}, max_inclusive: {}, patterns: &[{patterns}], enumeration: &[{enumeration}] }};",
                ident(name),
                option(s.length),
                option(s.min_length),
                option(s.max_length),
                option(s.total_digits),
                option(s.fraction_digits),
                bound(s.min_inclusive),
                bound(s.max_inclusive),
            )
            .unwrap();
        }
        out
    }
}

fn ident(key: &str) -> String {
    key.replace(['-', '.', ':'], "_")
}
