//! The messages customs sends on a movement, built from the messages it received and checked against their own
//! schemas: CC028C (the departure accepted, with its MRN), CC029C (released for transit: the declaration as
//! accepted, with MRN, acceptance and release dates, itinerary, guarantees and seals as declared), CC009C
//! (cancellation decided), CC043C (unloading permission at destination) and CC025C (goods released at
//! destination). Each is built in its schema's order — what the received message holds and the written one's
//! schema also has is kept, in place — so that the written message validates (the tests run every writer through
//! [`crate::validate`] and libxml2).

use crate::{Message, NAMESPACE, Node, Root};
use message_schema::{Content, Particle};

/// The envelope of a message customs sends (the MESSAGE group).
#[derive(Clone, Debug)]
pub struct Header<'a> {
    /// Customs' own address (`NTA.GB`).
    pub sender: &'a str,
    /// The trader's, as its message gave it (`messageSender`).
    pub recipient: &'a str,
    /// `YYYY-MM-DDTHH:MM:SS`, UTC.
    pub prepared: &'a str,
    /// Unique to the message sent.
    pub identification: &'a str,
    /// The `messageIdentification` of the message answered, if one is.
    pub correlation: Option<&'a str>,
}

fn value(name: &str, text: &str) -> Node {
    Node {
        name: name.to_owned(),
        text: text.trim().to_owned(),
        raw: text.to_owned(),
        qualified: false,
        attributes: Vec::new(),
        children: Vec::new(),
        pointer: String::new(),
    }
}

fn group(name: &str, children: Vec<Node>) -> Node {
    Node {
        children,
        ..value(name, "")
    }
}

/// The particles of `name` under `particles`, if it is a group there.
fn inner(particles: &'static [Particle], name: &str) -> Option<&'static [Particle]> {
    particles
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| match p.content {
            Content::Complex(inner) => Some(inner),
            Content::Simple(_) => None,
        })
}

/// `source` as the type `particles` reads it: the children the type has, in its order and within its counts,
/// each projected in turn; the others dropped.
pub fn project(source: &Node, name: &str, particles: &'static [Particle]) -> Node {
    let mut children = Vec::new();
    for particle in particles {
        for child in source.all(particle.name).take(particle.max as usize) {
            children.push(match particle.content {
                Content::Complex(inner) => project(child, particle.name, inner),
                Content::Simple(_) => child.clone(),
            });
        }
    }
    Node {
        children,
        ..value(name, "")
    }
}

/// Adds the groups `particles` require and `node` lacks where nothing in them is required (PlaceOfLoading in a
/// release whose declaration gave none: present, empty), through the whole tree.
fn complete(node: &mut Node, particles: &'static [Particle]) {
    for particle in particles {
        let Content::Complex(inner) = particle.content else {
            continue;
        };
        if particle.min > 0 && !node.has(particle.name) && inner.iter().all(|p| p.min == 0) {
            place(node, particles, group(particle.name, Vec::new()), false);
        }
    }
    for child in &mut node.children {
        if let Some(inner) = inner(particles, &child.name) {
            complete(child, inner);
        }
    }
}

/// Puts `child` into `parent` at its place by the schema (after the siblings that come before it or are of its
/// name), replacing the first of its name when `replace`.
fn place(parent: &mut Node, particles: &'static [Particle], child: Node, replace: bool) {
    let rank = |name: &str| {
        particles
            .iter()
            .position(|p| p.name == name)
            .unwrap_or(usize::MAX)
    };
    if replace && let Some(existing) = parent.children.iter_mut().find(|c| c.name == child.name) {
        *existing = child;
        return;
    }
    let own = rank(&child.name);
    let at = parent
        .children
        .iter()
        .position(|c| rank(&c.name) > own)
        .unwrap_or(parent.children.len());
    parent.children.insert(at, child);
}

/// Sets the value at `path` (group names, then the element's), creating groups on the way, each in its place.
fn set(root: &mut Node, particles: &'static [Particle], path: &[&str], text: &str) {
    let (last, groups) = path.split_last().expect("a path names an element");
    let mut at = root;
    let mut types = particles;
    for name in groups {
        let inner_types =
            inner(types, name).unwrap_or_else(|| panic!("{name} is a group of the schema"));
        if !at.children.iter().any(|c| c.name == *name) {
            place(at, types, group(name, Vec::new()), false);
        }
        at = at
            .children
            .iter_mut()
            .find(|c| c.name == *name)
            .expect("placed above");
        types = inner_types;
    }
    place(at, types, value(last, text), true);
}

fn envelope(root: &'static Root, header: &Header<'_>) -> Node {
    let mut node = group(root.name, Vec::new());
    node.attributes
        .push(("PhaseID".to_owned(), "NCTS5.0".to_owned()));
    let particles = root.particles;
    set(&mut node, particles, &["messageSender"], header.sender);
    set(
        &mut node,
        particles,
        &["messageRecipient"],
        header.recipient,
    );
    set(
        &mut node,
        particles,
        &["preparationDateAndTime"],
        header.prepared,
    );
    set(
        &mut node,
        particles,
        &["messageIdentification"],
        header.identification,
    );
    set(&mut node, particles, &["messageType"], root.name);
    if let Some(correlation) = header.correlation {
        set(
            &mut node,
            particles,
            &["correlationIdentifier"],
            correlation,
        );
    }
    node
}

fn xml(mut node: Node) -> String {
    let root = root(&node.name);
    complete(&mut node, root.particles);
    message_schema::tree::write_xml(&node, "ncts", NAMESPACE)
}

fn root(name: &str) -> &'static Root {
    crate::P5.root(name).expect("a P5 message")
}

/// Copies the groups `names` of `from` (projected onto `root`'s types) into `node`.
fn copy(node: &mut Node, root: &'static Root, from: &Node, names: &[&str]) {
    for name in names {
        let Some(types) = inner(root.particles, name) else {
            continue;
        };
        for source in from.all(name) {
            node.children.push(project(source, name, types));
        }
    }
    // In the schema's order whatever the order of `names`.
    let rank = |n: &str| {
        root.particles
            .iter()
            .position(|p| p.name == n)
            .unwrap_or(usize::MAX)
    };
    node.children.sort_by_key(|c| rank(&c.name));
}

/// CC028C: the departure declaration `departure` (a CC015C) accepted under `mrn` on `accepted` (YYYY-MM-DD).
pub fn accepted(header: &Header<'_>, departure: &Message, mrn: &str, accepted: &str) -> String {
    let root = root("CC028C");
    let mut node = envelope(root, header);
    copy(
        &mut node,
        root,
        &departure.tree,
        &["CustomsOfficeOfDeparture", "HolderOfTheTransitProcedure"],
    );
    let lrn = departure
        .text(&["TransitOperation", "LRN"])
        .unwrap_or_default();
    set(&mut node, root.particles, &["TransitOperation", "LRN"], lrn);
    set(&mut node, root.particles, &["TransitOperation", "MRN"], mrn);
    set(
        &mut node,
        root.particles,
        &["TransitOperation", "declarationAcceptanceDate"],
        accepted,
    );
    xml(node)
}

/// CC029C: the movement released for transit on `released`: the declaration as accepted (offices, itinerary,
/// holder, guarantees, consignment with its transport equipment and seals), with its MRN and dates.
pub fn released(
    header: &Header<'_>,
    departure: &Message,
    mrn: &str,
    accepted: &str,
    released: &str,
) -> String {
    let root = root("CC029C");
    let mut node = project(&departure.tree, root.name, root.particles);
    let envelope = envelope(root, header);
    node.attributes = envelope.attributes.clone();
    for child in envelope.children {
        place(&mut node, root.particles, child, true);
    }
    if header.correlation.is_none() {
        node.children.retain(|c| c.name != "correlationIdentifier");
    }
    set(&mut node, root.particles, &["TransitOperation", "MRN"], mrn);
    set(
        &mut node,
        root.particles,
        &["TransitOperation", "declarationAcceptanceDate"],
        accepted,
    );
    set(
        &mut node,
        root.particles,
        &["TransitOperation", "releaseDate"],
        released,
    );
    // Optional in the declaration, required in the release: whether the goods travel in containers.
    if let Some(consignment) = node.children.iter().find(|c| c.name == "Consignment")
        && !consignment.has("containerIndicator")
    {
        let containers = consignment
            .all("TransportEquipment")
            .any(|e| e.has("containerIdentificationNumber"));
        set(
            &mut node,
            root.particles,
            &["Consignment", "containerIndicator"],
            if containers { "1" } else { "0" },
        );
    }
    xml(node)
}

/// CC009C: the movement cancelled (`by_customs`, or at the holder's request, a CC014C), with the reason.
pub fn invalidated(
    header: &Header<'_>,
    departure: &Message,
    mrn: &str,
    decided: &str,
    by_customs: bool,
    justification: &str,
) -> String {
    let root = root("CC009C");
    let mut node = envelope(root, header);
    copy(
        &mut node,
        root,
        &departure.tree,
        &["CustomsOfficeOfDeparture", "HolderOfTheTransitProcedure"],
    );
    let particles = root.particles;
    set(&mut node, particles, &["TransitOperation", "MRN"], mrn);
    set(
        &mut node,
        particles,
        &["Invalidation", "decisionDateAndTime"],
        decided,
    );
    set(&mut node, particles, &["Invalidation", "decision"], "1");
    set(
        &mut node,
        particles,
        &["Invalidation", "initiatedByCustoms"],
        if by_customs { "1" } else { "0" },
    );
    set(
        &mut node,
        particles,
        &["Invalidation", "justification"],
        justification,
    );
    xml(node)
}

/// CC043C: unloading permitted at the office of destination the arrival notification (a CC007C) names, to the
/// trader at destination it names.
pub fn unloading_permission(
    header: &Header<'_>,
    departure: &Message,
    arrival: &Message,
    mrn: &str,
) -> String {
    let root = root("CC043C");
    let mut node = envelope(root, header);
    copy(
        &mut node,
        root,
        &arrival.tree,
        &["CustomsOfficeOfDestinationActual", "TraderAtDestination"],
    );
    let particles = root.particles;
    set(&mut node, particles, &["TransitOperation", "MRN"], mrn);
    for field in ["declarationType", "security", "reducedDatasetIndicator"] {
        if let Some(text) = departure.text(&["TransitOperation", field]) {
            set(&mut node, particles, &["TransitOperation", field], text);
        }
    }
    xml(node)
}

/// CC025C: the goods released at destination on `released` (release indicator 1: released; 2: released with
/// discrepancies noted in the unloading remarks).
pub fn goods_released(
    header: &Header<'_>,
    arrival: &Message,
    mrn: &str,
    released: &str,
    discrepancies: bool,
) -> String {
    let root = root("CC025C");
    let mut node = envelope(root, header);
    copy(
        &mut node,
        root,
        &arrival.tree,
        &["CustomsOfficeOfDestinationActual", "TraderAtDestination"],
    );
    let particles = root.particles;
    set(&mut node, particles, &["TransitOperation", "MRN"], mrn);
    set(
        &mut node,
        particles,
        &["TransitOperation", "releaseDate"],
        released,
    );
    set(
        &mut node,
        particles,
        &["TransitOperation", "releaseIndicator"],
        if discrepancies { "2" } else { "1" },
    );
    xml(node)
}
