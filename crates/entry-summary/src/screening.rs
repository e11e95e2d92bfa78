//! What the risk rules see of an entry summary's consignment (safety and security risk before loading or
//! arrival): [`facts`] reads them from the message; the rule set's consignment rules (`selectivity::RuleSet::screen`)
//! and the learned model decide which referrals are opened at lodgement.

use crate::Message;
use message_schema::Node;
use selectivity::{ConsignmentFacts, Facts, ItemFacts};

/// Most values one consignment fact holds (more are not screened on).
pub const MAX_VALUES: usize = 1_000;

/// The facts of the consignment of `message`: parties by TIN, or by name when they have none, at header and
/// goods item level (consignor TRACONCO1/2, consignee TRACONCE1/2, notify party NOTPAR670/PRTNOT640); the route
/// (ITI); the places of loading (HEAHEA/PlaLoaGOOITE334, GOOITEGDS/PlaLoaGOOITE333); containers (CONNR2);
/// transport documents (PRODOCDC2/DocRefDC23); per goods item its description, HS code (COMCODGODITM), UN
/// dangerous goods code and gross mass. The person lodging is the declarant, the office of first entry the
/// office, the mode of transport at the border the mode; the type is `ENS`.
pub fn facts(message: &Message) -> Facts {
    let root = &message.root;
    let header = root.child("HEAHEA");
    let items: Vec<&Node> = root.all("GOOITEGDS").take(MAX_VALUES).collect();
    let mut consignment = ConsignmentFacts::default();
    let party = |node: Option<&Node>, tin: &str, name: &str| -> Option<String> {
        let node = node?;
        node.text_of(tin)
            .or_else(|| node.text_of(name))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let push = |list: &mut Vec<String>, value: Option<String>| {
        if let Some(value) = value
            && list.len() < MAX_VALUES
            && !list.contains(&value)
        {
            list.push(value);
        }
    };
    let text = |node: Option<&Node>, name: &str| -> Option<String> {
        node.and_then(|n| n.text_of(name))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    push(
        &mut consignment.consignors,
        party(root.child("TRACONCO1"), "TINCO159", "NamCO17"),
    );
    push(
        &mut consignment.consignees,
        party(root.child("TRACONCE1"), "TINCE159", "NamCE17"),
    );
    push(
        &mut consignment.notify_parties,
        party(root.child("NOTPAR670"), "TINNOTPAR671", "NamNOTPAR672"),
    );
    for stop in root.all("ITI") {
        push(&mut consignment.route, text(Some(stop), "CouOfRouCodITI1"));
    }
    push(&mut consignment.loading, text(header, "PlaLoaGOOITE334"));
    for item in &items {
        let item = Some(*item);
        push(
            &mut consignment.consignors,
            party(
                item.and_then(|i| i.child("TRACONCO2")),
                "TINCO259",
                "NamCO27",
            ),
        );
        push(
            &mut consignment.consignees,
            party(
                item.and_then(|i| i.child("TRACONCE2")),
                "TINCE259",
                "NamCE27",
            ),
        );
        push(
            &mut consignment.notify_parties,
            party(
                item.and_then(|i| i.child("PRTNOT640")),
                "TINPRTNOT641",
                "NamPRTNOT642",
            ),
        );
        push(&mut consignment.loading, text(item, "PlaLoaGOOITE333"));
        for container in item.into_iter().flat_map(|i| i.all("CONNR2")) {
            push(
                &mut consignment.containers,
                text(Some(container), "ConNumNR21"),
            );
        }
        for document in item.into_iter().flat_map(|i| i.all("PRODOCDC2")) {
            push(
                &mut consignment.transport_documents,
                text(Some(document), "DocRefDC23"),
            );
        }
    }
    Facts {
        declaration_type: "ENS".to_owned(),
        declarant: party(root.child("PERLODSUMDEC"), "TINPLD1", "NamPLD1"),
        office: text(root.child("CUSOFFFENT730"), "RefNumCUSOFFFENT731"),
        mode: text(header, "TraModAtBorHEA76"),
        items: items
            .iter()
            .map(|item| ItemFacts {
                commodity: text(item.child("COMCODGODITM"), "ComNomCMD1"),
                description: text(Some(item), "GooDesGDS23"),
                dangerous_goods: text(Some(item), "UNDanGooCodGDI1"),
                gross_mass: text(Some(item), "GroMasGDS46")
                    .and_then(|m| m.parse::<rust_decimal::Decimal>().ok()),
                ..ItemFacts::default()
            })
            .collect(),
        consignment,
        ..Facts::default()
    }
}
