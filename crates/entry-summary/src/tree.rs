//! The message as a tree of elements, each with its text and its location.

use crate::{Limits, Refusal};

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
    /// The first attribute it has, if any (the schemas declare none).
    pub attribute: Option<String>,
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
pub(crate) fn build(
    element: roxmltree::Node<'_, '_>,
    pointer: &str,
    limits: &Limits,
) -> Result<Node, Refusal> {
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
            attribute: element.attributes().next().map(|a| a.name().to_owned()),
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
                    return Err(Refusal::TooManyElements {
                        max_elements: limits.max_elements,
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(Refusal::TooDeep {
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
