//! The message as a tree of elements, each with its text and its location.

use crate::{Limits, Overrun};

/// An element of the message: its local name, its text (trimmed; empty for a group), its children in order, and
/// its location as HMRC's answers give it: each step the element's name and its position among the siblings of
/// that name (`/ie:CC315A[1]/GOOITEGDS[2]/PACGS2[1]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// Its text, trimmed (what the business rules read).
    pub text: String,
    /// Its text as written (what the schema reads, with the whitespace rule of the element's type).
    pub raw: String,
    /// The element is in a namespace (the message's elements other than the root are in none).
    pub qualified: bool,
    /// Its attributes (name, value), in order.
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub pointer: String,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.child(name).is_some()
    }
}

/// The tree under `element`, whose location is `pointer`; iterative, so that no depth can exhaust the stack.
pub fn build(
    element: roxmltree::Node<'_, '_>,
    pointer: &str,
    limits: &Limits,
) -> Result<Node, Overrun> {
    let mut count = 0usize;
    // Each frame: the element, the node being built, the number of children of each name seen so far.
    struct Frame<'a, 'input> {
        children: roxmltree::Children<'a, 'input>,
        node: Node,
        seen: Vec<(String, usize)>,
    }
    let start = |element: roxmltree::Node<'_, '_>, pointer: String| {
        let raw: String = element
            .children()
            .filter(|c| c.is_text())
            .filter_map(|c| c.text())
            .collect();
        Node {
            name: element.tag_name().name().to_owned(),
            text: raw.trim().to_owned(),
            raw,
            qualified: element.tag_name().namespace().is_some(),
            attributes: element
                .attributes()
                // Where the schema is, for a validator to fetch: no part of the message (Aduana never fetches).
                .filter(|a| {
                    a.namespace() != Some("http://www.w3.org/2001/XMLSchema-instance")
                        || !matches!(a.name(), "schemaLocation" | "noNamespaceSchemaLocation")
                })
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect(),
            children: Vec::new(),
            pointer,
        }
    };
    let mut stack = vec![Frame {
        children: element.children(),
        node: start(element, pointer.to_owned()),
        seen: Vec::new(),
    }];
    loop {
        let Some(top) = stack.last_mut() else {
            unreachable!("the root frame is popped only to return")
        };
        match top.children.find(|c| c.is_element()) {
            Some(child) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(Overrun::TooManyElements {
                        max_elements: limits.max_elements,
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(Overrun::TooDeep {
                        max_depth: limits.max_depth,
                    });
                }
                let top = stack.last_mut().expect("a frame is on the stack");
                let name = child.tag_name().name();
                let position = match top.seen.iter_mut().find(|(n, _)| n == name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        top.seen.push((name.to_owned(), 1));
                        1
                    }
                };
                let pointer = format!("{}/{name}[{position}]", top.node.pointer);
                stack.push(Frame {
                    children: child.children(),
                    node: start(child, pointer),
                    seen: Vec::new(),
                });
            }
            None => {
                let done = stack.pop().expect("a frame is on the stack").node;
                match stack.last_mut() {
                    Some(parent) => parent.node.children.push(done),
                    None => return Ok(done),
                }
            }
        }
    }
}

/// The tree as an XML document: the root in `namespace` under `prefix` (its attributes kept), every other element
/// in no namespace, text escaped.
pub fn write_xml(node: &Node, prefix: &str, namespace: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<{prefix}:{}", node.name));
    for (name, value) in &node.attributes {
        out.push_str(&format!(" {name}=\"{}\"", escape(value)));
    }
    out.push_str(&format!(" xmlns:{prefix}=\"{}\">", escape(namespace)));
    // Iterative: a child's opening, its text or children, its closing.
    enum Step<'a> {
        Open(&'a Node),
        Close(&'a str),
    }
    let mut stack: Vec<Step<'_>> = vec![Step::Close("")];
    stack.extend(node.children.iter().rev().map(Step::Open));
    while let Some(step) = stack.pop() {
        match step {
            Step::Open(child) if child.children.is_empty() => {
                out.push_str(&format!("<{0}>{1}</{0}>", child.name, escape(&child.raw)));
            }
            Step::Open(child) => {
                out.push_str(&format!("<{}>", child.name));
                stack.push(Step::Close(&child.name));
                stack.extend(child.children.iter().rev().map(Step::Open));
            }
            Step::Close("") => out.push_str(&format!("</{prefix}:{}>\n", node.name)),
            Step::Close(name) => out.push_str(&format!("</{name}>")),
        }
    }
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}
