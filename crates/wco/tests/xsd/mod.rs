//! Reads the DEC-DMS 2 XSD files into the description `wco::schema` is generated from, and renders it as Rust.
//! Test-side only: the product carries the rendered table (`crates/wco/src/schema/table.rs`), never the XSDs.
//!
//! What the schemas use is what this understands: named complex types with `xs:sequence` of `xs:element`,
//! simple-content types by extension or restriction of the UN/CEFACT unqualified data types, simple types by
//! restriction with length, digit, pattern and enumeration facets, a choice of one element (the `DateTimeString`
//! wrappers) and the envelope's choice of a Declaration. Anything else makes the generator fail, naming it.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub const XS: &str = "http://www.w3.org/2001/XMLSchema";
pub const NS_DEC: &str = "urn:wco:datamodel:WCO:DEC-DMS:2";
pub const NS_MD: &str = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2";
pub const NS_DS: &str = "urn:wco:datamodel:WCO:Declaration_DS:DMS:2";

#[derive(Clone, Debug, PartialEq)]
pub struct Facets {
    pub base: &'static str,
    pub length: Option<u32>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub total_digits: Option<u32>,
    pub fraction_digits: Option<u32>,
    pub patterns: Vec<Vec<String>>,
    pub enumeration: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: String,
    pub value: Facets,
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    pub name: String,
    /// The WCO data model ID of the element (its annotation's `WCOID`: `67A` for a class, `112` for an
    /// attribute), which function code 13 pointers name; empty where the schema gives none.
    pub wco_id: String,
    /// "Metadata", "Declaration" or "DeclarationDs".
    pub ns: &'static str,
    pub ty: usize,
    pub min: u32,
    pub max: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Complex(Vec<Child>),
    Simple {
        value: Facets,
        attributes: Vec<Attribute>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    pub name: String,
    pub body: Body,
}

#[derive(Debug)]
pub struct Description {
    pub types: Vec<Type>,
    pub envelope: usize,
    pub declaration: usize,
    /// The `version` attributes of the two main schemas, for the header of the table.
    pub versions: String,
}

struct Schemas {
    /// (namespace, name) → (file index, node id) of every named complexType and simpleType.
    named: HashMap<(String, String), (usize, roxmltree::NodeId)>,
    docs: Vec<roxmltree::Document<'static>>,
}

fn is_xs(node: &roxmltree::Node, name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(XS) && node.tag_name().name() == name
}

fn xs_children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().namespace() == Some(XS))
        .filter(|c| c.tag_name().name() != "annotation")
}

/// A QName attribute resolved against the node's namespace declarations.
fn qname(node: &roxmltree::Node, value: &str) -> (String, String) {
    let (prefix, local) = value.split_once(':').unwrap_or(("", value));
    let prefix = (!prefix.is_empty()).then_some(prefix);
    let ns = node
        .lookup_namespace_uri(prefix)
        .unwrap_or_else(|| panic!("undeclared prefix in {value}"));
    (ns.to_owned(), local.to_owned())
}

/// The first `WCOID` of an element's annotations.
fn wco_id(element: &roxmltree::Node) -> String {
    element
        .children()
        .filter(|c| is_xs(c, "annotation"))
        .flat_map(|a| a.children().filter(|c| is_xs(c, "documentation")))
        .flat_map(|d| d.children())
        .find(|n| n.is_element() && n.tag_name().name() == "WCOID")
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

fn occurs(node: &roxmltree::Node, name: &str) -> u32 {
    match node.attribute(name) {
        None => 1,
        Some("unbounded") => u32::MAX,
        Some(n) => n.parse().unwrap(),
    }
}

fn builtin(name: &str) -> Facets {
    let base = match name {
        "string" => "String",
        "token" => "Token",
        "decimal" => "Decimal",
        "boolean" => "Boolean",
        "language" => "Language",
        "anyURI" => "AnyUri",
        other => panic!("XSD built-in type xs:{other} is not described yet"),
    };
    Facets {
        base,
        length: None,
        min_length: None,
        max_length: None,
        total_digits: None,
        fraction_digits: None,
        patterns: Vec::new(),
        enumeration: Vec::new(),
    }
}

impl Schemas {
    fn load(dir: &Path) -> Schemas {
        let files = [
            "DocumentMetaData_2_DMS.xsd",
            "WCO_DS/WCO_METADATA_2_DMS.xsd",
            "WCO_DEC_2_DMS.xsd",
            "WCO_DS/WCO_DEC_DS_2_DMS.xsd",
            "UNECE/UnqualifiedDataType_6_DMS.xsd",
            "UNECE/ISO_ISO3AlphaCurrencyCode_2012-08-31.xsd",
            "UNECE/UNECE_AgencyIdentificationCode_D12B.xsd",
        ];
        let mut named = HashMap::new();
        let mut docs = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()));
            let text: &'static str = Box::leak(text.into_boxed_str());
            let doc = roxmltree::Document::parse(text).unwrap();
            let root = doc.root_element();
            let target = root.attribute("targetNamespace").unwrap().to_owned();
            for node in xs_children(root) {
                if is_xs(&node, "complexType") || is_xs(&node, "simpleType") {
                    let name = node.attribute("name").unwrap().to_owned();
                    named.insert((target.clone(), name), (docs.len(), node.id()));
                }
            }
            docs.push(doc);
        }
        Schemas { named, docs }
    }

    fn node(&self, ns: &str, name: &str) -> Option<roxmltree::Node<'_, 'static>> {
        let (doc, id) = self.named.get(&(ns.to_owned(), name.to_owned()))?;
        self.docs[*doc].get_node(*id)
    }

    /// Facets of a simple type (named or XSD built-in).
    fn simple(&self, ns: &str, name: &str) -> Facets {
        if ns == XS {
            return builtin(name);
        }
        let node = self
            .node(ns, name)
            .unwrap_or_else(|| panic!("simple type {{{ns}}}{name} not found"));
        assert!(is_xs(&node, "simpleType"), "{name} is not a simple type");
        let restriction = xs_children(node).next().unwrap();
        assert!(
            is_xs(&restriction, "restriction"),
            "{name}: only restrictions are described"
        );
        let (base_ns, base) = qname(&restriction, restriction.attribute("base").unwrap());
        let mut facets = self.simple(&base_ns, &base);
        restrict(&mut facets, restriction);
        facets
    }

    /// The value facets and attributes of a simple-content complex type.
    fn content(&self, ns: &str, name: &str) -> (Facets, Vec<Attribute>) {
        let node = self
            .node(ns, name)
            .unwrap_or_else(|| panic!("type {{{ns}}}{name} not found"));
        if is_xs(&node, "simpleType") {
            return (self.simple(ns, name), Vec::new());
        }
        let simple_content = xs_children(node).next().unwrap();
        assert!(
            is_xs(&simple_content, "simpleContent"),
            "{name}: not simple content"
        );
        self.simple_content(simple_content)
    }

    fn simple_content(&self, simple_content: roxmltree::Node) -> (Facets, Vec<Attribute>) {
        let step = xs_children(simple_content).next().unwrap();
        let (base_ns, base) = qname(&step, step.attribute("base").unwrap());
        let (mut facets, mut attributes) = if base_ns == XS {
            (builtin(&base), Vec::new())
        } else {
            self.content(&base_ns, &base)
        };
        match step.tag_name().name() {
            "extension" => {}
            "restriction" => restrict(&mut facets, step),
            other => panic!("simpleContent/{other} is not described"),
        }
        for attribute in xs_children(step).filter(|c| is_xs(c, "attribute")) {
            let (type_ns, type_name) = qname(&attribute, attribute.attribute("type").unwrap());
            let value = self.simple(&type_ns, &type_name);
            let name = attribute.attribute("name").unwrap().to_owned();
            let required = attribute.attribute("use") == Some("required");
            attributes.retain(|a: &Attribute| a.name != name);
            attributes.push(Attribute {
                name,
                value,
                required,
            });
        }
        (facets, attributes)
    }
}

fn restrict(facets: &mut Facets, restriction: roxmltree::Node) {
    let mut patterns = Vec::new();
    let mut enumeration = Vec::new();
    for facet in xs_children(restriction) {
        let value = facet.attribute("value").unwrap_or_default();
        let number = || Some(value.parse::<u32>().unwrap());
        match facet.tag_name().name() {
            "length" => facets.length = number(),
            "minLength" => facets.min_length = number(),
            "maxLength" => facets.max_length = number(),
            "totalDigits" => facets.total_digits = number(),
            "fractionDigits" => facets.fraction_digits = number(),
            "pattern" => patterns.push(value.to_owned()),
            "enumeration" => enumeration.push(value.to_owned()),
            "attribute" => {}
            other => panic!("facet {other} is not described"),
        }
    }
    if !patterns.is_empty() {
        facets.patterns.push(patterns);
    }
    if !enumeration.is_empty() {
        facets.enumeration = enumeration;
    }
}

struct Builder<'s> {
    schemas: &'s Schemas,
    types: Vec<Type>,
    index: BTreeMap<String, usize>,
}

impl Builder<'_> {
    /// The index of the type `{ns}name`, describing it (and what it reaches) on first use.
    fn ty(&mut self, ns: &str, name: &str) -> usize {
        let key = format!("{{{ns}}}{name}");
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let node = self
            .schemas
            .node(ns, name)
            .unwrap_or_else(|| panic!("type {key} not found"));
        let i = self.reserve(name, &key);
        let body = self.body(node, ns, name);
        self.types[i].body = body;
        i
    }

    /// The body of a type node (named or anonymous); `name` names it in messages and in its children's keys.
    fn body(&mut self, node: roxmltree::Node, ns: &str, name: &str) -> Body {
        if is_xs(&node, "simpleType") {
            return Body::Simple {
                value: self.schemas.simple(ns, node.attribute("name").unwrap()),
                attributes: Vec::new(),
            };
        }
        let content = xs_children(node).next().unwrap();
        match content.tag_name().name() {
            "simpleContent" => {
                let (value, attributes) = self.schemas.simple_content(content);
                Body::Simple { value, attributes }
            }
            "sequence" => Body::Complex(self.sequence(content, ns, name)),
            "choice" => {
                let elements: Vec<_> = xs_children(content).collect();
                assert_eq!(
                    elements.len(),
                    1,
                    "{name}: a choice of several is not described"
                );
                Body::Complex(self.sequence(content, ns, name))
            }
            other => panic!("{name}: {other} content is not described"),
        }
    }

    fn reserve(&mut self, name: &str, key: &str) -> usize {
        let i = self.types.len();
        self.types.push(Type {
            name: name.to_owned(),
            body: Body::Complex(Vec::new()),
        });
        self.index.insert(key.to_owned(), i);
        i
    }

    fn sequence(&mut self, group: roxmltree::Node, ns: &str, owner: &str) -> Vec<Child> {
        let mut children = Vec::new();
        for element in xs_children(group) {
            assert!(
                is_xs(&element, "element"),
                "{owner}: {:?} in a sequence",
                element.tag_name()
            );
            let name = element.attribute("name").unwrap().to_owned();
            let element_ns = match ns {
                NS_MD => "Metadata",
                NS_DEC => "Declaration",
                NS_DS => "DeclarationDs",
                other => panic!("elements in {other} are not described"),
            };
            let ty = match element.attribute("type") {
                Some(t) => {
                    let (type_ns, type_name) = qname(&element, t);
                    self.ty(&type_ns, &type_name)
                }
                None => {
                    // An anonymous type, named by where it is (e.g. Declaration/Submitter/Address).
                    let key = format!("{owner}/{name}");
                    let i = self.reserve(&key, &key);
                    let complex = xs_children(element).next().unwrap();
                    assert!(
                        is_xs(&complex, "complexType"),
                        "{key}: an anonymous simple type"
                    );
                    let body = self.body(complex, ns, &key);
                    self.types[i].body = body;
                    i
                }
            };
            assert!(
                children.iter().all(|c: &Child| c.name != name),
                "{owner}: {name} twice in one sequence"
            );
            children.push(Child {
                name,
                wco_id: wco_id(&element),
                ns: element_ns,
                ty,
                min: occurs(&element, "minOccurs"),
                max: occurs(&element, "maxOccurs"),
            });
        }
        children
    }
}

/// The description of `DocumentMetaData_2_DMS.xsd` + `WCO_DEC_2_DMS.xsd` in the folder `dir`.
pub fn describe(dir: &Path) -> Description {
    let schemas = Schemas::load(dir);
    let mut b = Builder {
        schemas: &schemas,
        types: Vec::new(),
        index: BTreeMap::new(),
    };
    // The envelope: its anonymous sequence of metadata elements, then the choice of a DEC-DMS Declaration (the RES
    // responses the same envelope may carry are not declarations).
    let md = schemas.docs[0].root_element();
    let metadata = xs_children(md)
        .find(|n| is_xs(n, "element") && n.attribute("name") == Some("MetaData"))
        .unwrap();
    let envelope = b.reserve("MetaData", "MetaData");
    let sequence = xs_children(xs_children(metadata).next().unwrap())
        .next()
        .unwrap();
    let mut children = Vec::new();
    for element in xs_children(sequence).filter(|n| is_xs(n, "element")) {
        let (type_ns, type_name) = qname(&element, element.attribute("type").unwrap());
        let ty = b.ty(&type_ns, &type_name);
        children.push(Child {
            name: element.attribute("name").unwrap().to_owned(),
            wco_id: String::new(),
            ns: "Metadata",
            ty,
            min: occurs(&element, "minOccurs"),
            max: occurs(&element, "maxOccurs"),
        });
    }
    assert!(
        xs_children(sequence).any(|n| is_xs(&n, "choice")),
        "the envelope's choice"
    );
    let dec = &schemas.docs[2];
    let declaration_element = xs_children(dec.root_element())
        .find(|n| is_xs(n, "element") && n.attribute("name") == Some("Declaration"))
        .unwrap();
    let (type_ns, type_name) = qname(
        &declaration_element,
        declaration_element.attribute("type").unwrap(),
    );
    let declaration = b.ty(&type_ns, &type_name);
    children.push(Child {
        name: "Declaration".to_owned(),
        wco_id: wco_id(&declaration_element),
        ns: "Declaration",
        ty: declaration,
        min: 1,
        max: 1,
    });
    b.types[envelope].body = Body::Complex(children);
    let versions = format!(
        "DocumentMetaData_2_DMS.xsd {}, WCO_DEC_2_DMS.xsd {}, WCO_DEC_DS_2_DMS.xsd {}",
        md.attribute("version").unwrap_or("?"),
        dec.root_element().attribute("version").unwrap_or("?"),
        schemas.docs[3]
            .root_element()
            .attribute("version")
            .unwrap_or("?"),
    );
    Description {
        types: b.types,
        envelope,
        declaration,
        versions,
    }
}

fn pattern(xsd: &str) -> String {
    match xsd {
        r".*[^\s].*" => "Pattern::NonBlank".to_owned(),
        "([a-zA-Z])*" => "Pattern::Letters".to_owned(),
        "([0-9])*" => "Pattern::Digits".to_owned(),
        r"(20\d{6})(\d{6}(Z|[-+]\d\d))?" => "Pattern::DateTime".to_owned(),
        "[A-Z]{3}" => "Pattern::Chars { class: CharClass::Upper, min: 3, max: 3 }".to_owned(),
        ".{1,3}" => "Pattern::Chars { class: CharClass::AnyOnLine, min: 1, max: 3 }".to_owned(),
        literal if literal.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("Pattern::Literal({literal:?})")
        }
        other => panic!("the pattern {other:?} is not described: teach wco::schema::Pattern"),
    }
}

fn option(value: Option<u32>) -> String {
    value.map_or("None".to_owned(), |v| format!("Some({v})"))
}

fn facets(f: &Facets, constants: &mut Constants) -> String {
    let patterns: Vec<String> = f
        .patterns
        .iter()
        .map(|group| {
            let inner: Vec<String> = group.iter().map(|p| pattern(p)).collect();
            format!("&[{}]", inner.join(", "))
        })
        .collect();
    let enumeration = if f.enumeration.is_empty() {
        "&[]".to_owned()
    } else {
        let values: Vec<String> = f.enumeration.iter().map(|v| format!("{v:?}")).collect();
        constants.get(
            "ENUMERATION",
            "&[&str]",
            format!("&[{}]", values.join(", ")),
        )
    };
    format!(
        "Facets {{ base: Base::{}, length: {}, min_length: {}, max_length: {}, total_digits: {}, fraction_digits: {}, patterns: &[{}], enumeration: {enumeration} }}",
        f.base,
        option(f.length),
        option(f.min_length),
        option(f.max_length),
        option(f.total_digits),
        option(f.fraction_digits),
        patterns.join(", "),
    )
}

/// Shared constants (attribute lists, enumerations), each written once.
#[derive(Default)]
struct Constants {
    by_value: BTreeMap<String, String>,
    out: Vec<String>,
}

impl Constants {
    fn get(&mut self, prefix: &str, ty: &str, value: String) -> String {
        if let Some(name) = self.by_value.get(&value) {
            return name.clone();
        }
        let name = format!("{prefix}_{}", self.out.len());
        self.out.push(format!("const {name}: {ty} = {value};\n"));
        self.by_value.insert(value, name.clone());
        name
    }
}

/// The description as the Rust source of `crates/wco/src/schema/table.rs`.
pub fn render(d: &Description) -> String {
    let mut constants = Constants::default();
    let mut types = String::new();
    for (i, ty) in d.types.iter().enumerate() {
        let body = match &ty.body {
            Body::Complex(children) => {
                let mut out = String::from("Body::Complex(&[\n");
                for c in children {
                    out.push_str(&format!(
                        "        Child {{ name: {:?}, wco_id: {:?}, ns: Ns::{}, ty: {}, min: {}, max: {} }},\n",
                        c.name,
                        c.wco_id,
                        c.ns,
                        c.ty,
                        c.min,
                        if c.max == u32::MAX {
                            "u32::MAX".to_owned()
                        } else {
                            c.max.to_string()
                        }
                    ));
                }
                out.push_str("    ])");
                out
            }
            Body::Simple { value, attributes } => {
                let attributes = if attributes.is_empty() {
                    "&[]".to_owned()
                } else {
                    let list: Vec<String> = attributes
                        .iter()
                        .map(|a| {
                            format!(
                                "    Attribute {{ name: {:?}, value: {}, required: {} }},\n",
                                a.name,
                                facets(&a.value, &mut constants),
                                a.required
                            )
                        })
                        .collect();
                    constants.get(
                        "ATTRIBUTES",
                        "&[Attribute]",
                        format!("&[\n{}]", list.concat()),
                    )
                };
                format!(
                    "Body::Simple {{\n        value: {},\n        attributes: {attributes},\n    }}",
                    facets(value, &mut constants)
                )
            }
        };
        types.push_str(&format!(
            "    // {i}\n    Type {{ name: {:?}, body: {body} }},\n",
            ty.name
        ));
    }
    format!(
        "// @generated by crates/wco/tests/schema_table.rs from {} — do not edit.\n\
         // Regenerate: ADUANA_BLESS=1 cargo test -p wco --test schema_table\n\n\
         use super::{{Attribute, Base, Body, CharClass, Child, Facets, Ns, Pattern, Type}};\n\n\
         pub(super) const ENVELOPE: usize = {};\n\
         pub(super) const DECLARATION: usize = {};\n\n\
         {}\n\
         pub(super) static TYPES: &[Type] = &[\n{types}];\n",
        d.versions,
        d.envelope,
        d.declaration,
        constants.out.concat()
    )
}
