//! The ICS business rules an entry summary declaration must meet (the conditions C…, rules R… and technical
//! rules TR… of the ICS functional specifications, as HMRC's service applies them), each finding with the error
//! number HMRC answers and the location of the element it is about.
//!
//! Most rules are families over the message's parties: the same five address fields of each party (name,
//! street and number, postcode, city, country) required when the party gives no TIN or a TIN not from GB, and
//! not to be given with a GB TIN (C501). They are a table ([`PARTIES`]); the others are functions below.

use crate::{Message, Node};

/// One finding: the ICS error number, the location (`/ie:CC315A[1]/HEAHEA[1]`), the rule's code and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub number: u16,
    pub pointer: String,
    pub rule: &'static str,
    pub message: String,
}

/// A party of the message and the numbers of its C501 errors (each the first of five: name, street and number,
/// postcode, city, country).
pub struct Party {
    /// Its group's element, under the message (`TRACONCO1`) or under each goods item (`TRACONCO2`).
    pub group: &'static str,
    pub in_goods_item: bool,
    pub what: &'static str,
    /// Name, street and number, postcode, city, country.
    pub fields: [&'static str; 5],
    pub tin: &'static str,
    /// Each field required when no TIN is given.
    pub without_tin: Option<u16>,
    /// Each field required when a TIN not beginning with GB is given.
    pub with_foreign_tin: Option<u16>,
    /// Each field not to be given with a GB TIN (for the person lodging, with any TIN).
    pub with_gb_tin: u16,
}

const FIELD_NAMES: [&str; 5] = ["name", "street and number", "postcode", "city", "country"];

pub const PARTIES: &[Party] = &[
    Party {
        group: "TRACONCO1",
        in_goods_item: false,
        what: "consignor",
        fields: [
            "NamCO17",
            "StrAndNumCO122",
            "PosCodCO123",
            "CitCO124",
            "CouCO125",
        ],
        tin: "TINCO159",
        without_tin: Some(8120),
        with_foreign_tin: Some(8220),
        with_gb_tin: 8626,
    },
    Party {
        group: "TRACONCE1",
        in_goods_item: false,
        what: "consignee",
        fields: [
            "NamCE17",
            "StrAndNumCE122",
            "PosCodCE123",
            "CitCE124",
            "CouCE125",
        ],
        tin: "TINCE159",
        without_tin: Some(8125),
        with_foreign_tin: Some(8225),
        with_gb_tin: 8631,
    },
    Party {
        group: "NOTPAR670",
        in_goods_item: false,
        what: "notify party",
        fields: [
            "NamNOTPAR672",
            "StrNumNOTPAR673",
            "PosCodNOTPAR676",
            "CitNOTPAR674",
            "CouCodNOTPAR675",
        ],
        tin: "TINNOTPAR671",
        without_tin: Some(8130),
        with_foreign_tin: Some(8230),
        with_gb_tin: 8636,
    },
    Party {
        group: "TRACONCO2",
        in_goods_item: true,
        what: "goods item's consignor",
        fields: [
            "NamCO27",
            "StrAndNumCO222",
            "PosCodCO223",
            "CitCO224",
            "CouCO225",
        ],
        tin: "TINCO259",
        without_tin: Some(8137),
        with_foreign_tin: Some(8237),
        with_gb_tin: 8641,
    },
    Party {
        group: "TRACONCE2",
        in_goods_item: true,
        what: "goods item's consignee",
        fields: [
            "NamCE27",
            "StrAndNumCE222",
            "PosCodCE223",
            "CitCE224",
            "CouCE225",
        ],
        tin: "TINCE259",
        without_tin: Some(8142),
        with_foreign_tin: Some(8242),
        with_gb_tin: 8646,
    },
    Party {
        group: "PRTNOT640",
        in_goods_item: true,
        what: "goods item's notify party",
        fields: [
            "NamPRTNOT642",
            "StrNumPRTNOT646",
            "PstCodPRTNOT644",
            "CtyPRTNOT643",
            "CouCodGINOT647",
        ],
        tin: "TINPRTNOT641",
        without_tin: Some(8154),
        with_foreign_tin: Some(8254),
        with_gb_tin: 8651,
    },
    Party {
        group: "TRACARENT601",
        in_goods_item: false,
        what: "carrier",
        fields: [
            "NamTRACARENT604",
            "StrNumTRACARENT607",
            "PstCodTRACARENT606",
            "CtyTRACARENT603",
            "CouCodTRACARENT605",
        ],
        tin: "TINTRACARENT602",
        without_tin: Some(8159),
        with_foreign_tin: Some(8259),
        with_gb_tin: 8666,
    },
    Party {
        group: "PERLODSUMDEC",
        in_goods_item: false,
        what: "person lodging the declaration",
        fields: [
            "NamPLD1",
            "StrAndNumPLD1",
            "PosCodPLD1",
            "CitPLD1",
            "CouCodPLD1",
        ],
        tin: "TINPLD1",
        without_tin: None,
        with_foreign_tin: None,
        with_gb_tin: 8661,
    },
];

/// Packaging kinds of UNECE Recommendation 21 that are bulk, and that are unpacked.
const BULK: [&str; 7] = ["VQ", "VG", "VL", "VY", "VR", "VS", "VO"];
const UNPACKED: [&str; 3] = ["NE", "NF", "NG"];

/// The additional information code of an express consignment (a goods item's own consignee and notify party).
const EXPRESS: &str = "10600";

struct Out(Vec<Finding>);

impl Out {
    fn add(&mut self, number: u16, at: &Node, rule: &'static str, message: impl Into<String>) {
        self.0.push(Finding {
            number,
            pointer: at.pointer.clone(),
            rule,
            message: message.into(),
        });
    }
}

/// Every business rule's findings on the message, in the order of the rules.
pub fn check(message: &Message) -> Vec<Finding> {
    let root = &message.root;
    let mut out = Out(Vec::new());
    parties(root, &mut out);
    header(root, &mut out);
    goods_items(root, &mut out);
    express(root, &mut out);
    masses(root, &mut out);
    transport(root, &mut out);
    counts(root, &mut out);
    places_and_documents(root, &mut out);
    identities(root, &mut out);
    out.0
}

fn parties(root: &Node, out: &mut Out) {
    for party in PARTIES {
        let groups: Vec<&Node> = if party.in_goods_item {
            root.all("GOOITEGDS")
                .flat_map(|i| i.all(party.group))
                .collect()
        } else {
            root.all(party.group).collect()
        };
        for group in groups {
            let tin = group.text_of(party.tin);
            let gb = tin.is_some_and(|t| t.starts_with("GB"));
            for (k, field) in party.fields.iter().enumerate() {
                let offset = u16::try_from(k).unwrap_or(0);
                let name = FIELD_NAMES[k];
                match (tin, group.child(field)) {
                    (None, None) => {
                        if let Some(first) = party.without_tin {
                            out.add(
                                first + offset,
                                group,
                                "C501",
                                format!("The {} gives no TIN: its {name} is required.", party.what),
                            );
                        }
                    }
                    (Some(_), None) if !gb => {
                        if let Some(first) = party.with_foreign_tin {
                            out.add(
                                first + offset,
                                group,
                                "C501",
                                format!(
                                    "The {}'s TIN is not from GB: its {name} is required.",
                                    party.what
                                ),
                            );
                        }
                    }
                    (Some(_), Some(given))
                        if gb || (party.without_tin.is_none() && party.group == "PERLODSUMDEC") =>
                    {
                        out.add(
                            party.with_gb_tin + offset,
                            given,
                            "C501",
                            format!(
                                "The {} gives its TIN: its {name} is not to be given.",
                                party.what
                            ),
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(person) = root.child("PERLODSUMDEC")
        && let Some(tin) = person.child("TINPLD1")
        && !tin.text.starts_with("GB")
    {
        out.add(
            8692,
            tin,
            "R",
            "The person lodging the declaration is identified by a GB TIN.",
        );
    }
}

/// The transport mode at the border as its number reads (`08` is 8; its leading zero is a finding of its own).
fn mode(root: &Node) -> Option<&str> {
    root.child("HEAHEA")?
        .text_of("TraModAtBorHEA76")
        .map(|m| m.trim_start_matches('0'))
}

fn header(root: &Node, out: &mut Out) {
    let Some(header) = root.child("HEAHEA") else {
        return;
    };
    let mode = mode(root);
    let circumstance = header.text_of("SpeCirIndHEA1");
    if let Some(c) = circumstance
        && !matches!(c, "C" | "D" | "E")
    {
        out.add(
            8691,
            header,
            "R",
            "The specific circumstance indicator is C, D or E.",
        );
    }
    if let Some(m) = mode
        && !matches!(m, "1" | "2" | "3" | "4" | "8" | "10" | "11")
    {
        out.add(
            8689,
            header,
            "R",
            "The transport mode at the border is 1, 2, 3, 4, 8, 10 or 11.",
        );
    }
    match (circumstance.and_then(|c| c.chars().next()), mode) {
        (Some('D'), Some("1" | "3" | "4" | "8" | "10" | "11")) => out.add(
            8112,
            header,
            "C529",
            "With specific circumstance D the transport mode at the border is not 1, 3, 4, 8, 10 or 11.",
        ),
        (Some('C'), Some("1" | "2" | "4" | "8" | "10" | "11")) => out.add(
            8111,
            header,
            "C529",
            "With specific circumstance C the transport mode at the border is not 1, 2, 4, 8, 10 or 11.",
        ),
        _ => {}
    }
    let identity = header.has("IdeOfMeaOfTraCroHEA85");
    if matches!(mode, Some("1" | "8")) && !identity {
        out.add(
            8107,
            header,
            "C017",
            "By sea or inland waterway, the identity of the means of transport crossing the border is given.",
        );
    }
    if mode == Some("4") && identity {
        out.add(
            8113,
            header,
            "C017",
            "By air, the identity of the means of transport crossing the border is not given.",
        );
    }
    if let Some(total) = header.text_of("TotNumOfIteHEA305") {
        let items = root.all("GOOITEGDS").count();
        if total.parse::<usize>().ok() != Some(items) {
            out.add(
                8206,
                header,
                "R",
                format!("The total number of items is the number of goods items ({items})."),
            );
        }
    }
}

fn goods_items(root: &Node, out: &mut Out) {
    let header_identity = root
        .child("HEAHEA")
        .is_some_and(|h| h.has("IdeOfMeaOfTraCroHEA85"));
    let mode = mode(root);
    for item in root.all("GOOITEGDS") {
        for means in item.all("IDEMEATRAGI970") {
            if header_identity || mode == Some("4") {
                out.add(
                    8198,
                    means,
                    "C019",
                    "A goods item's means of transport at the border is not given when the header gives it or by air.",
                );
            }
            if mode != Some("2") && !means.has("NatIDEMEATRAGI973") {
                out.add(
                    8147,
                    means,
                    "C020",
                    "Except by rail, the nationality of the means of transport crossing the border is given.",
                );
            }
        }
        for package in item.all("PACGS2") {
            let kind = package.text_of("KinOfPacGS23").unwrap_or("");
            let packages = package.has("NumOfPacGS24");
            let pieces = package.has("NumOfPieGS25");
            if BULK.contains(&kind) {
                if packages || pieces {
                    out.add(
                        8149,
                        package,
                        "C062",
                        "Bulk goods give neither a number of packages nor a number of pieces.",
                    );
                }
            } else if UNPACKED.contains(&kind) {
                if !pieces || packages {
                    out.add(
                        8150,
                        package,
                        "C062",
                        "Unpacked goods give the number of pieces and no number of packages.",
                    );
                }
            } else if !packages || pieces {
                out.add(
                    8151,
                    package,
                    "C062",
                    "Packed goods give the number of packages and no number of pieces.",
                );
            }
        }
    }
}

fn is_express(item: &Node) -> bool {
    item.all("SPEMENMT2")
        .any(|s| s.text_of("AddInfCodMT23") == Some(EXPRESS))
}

/// C583, C584: an express consignment's goods items name their own consignee and notify party; the others use
/// the message's.
fn express(root: &Node, out: &mut Out) {
    let consignee = root.child("TRACONCE1");
    let notify = root.child("NOTPAR670");
    let items: Vec<&Node> = root.all("GOOITEGDS").collect();
    for item in &items {
        let express = is_express(item);
        let own_consignee = item.child("TRACONCE2");
        let own_notify = item.child("PRTNOT640");
        if !express && consignee.is_none() && own_consignee.is_none() {
            out.add(
                8623,
                item,
                "C584",
                "Without the message's consignee, each goods item names its consignee.",
            );
        }
        if express && notify.is_none() && own_notify.is_none() {
            out.add(
                8622,
                item,
                "C584",
                "An express goods item without the message's notify party names its own.",
            );
        }
        if let Some(own) = own_consignee {
            if consignee.is_some() {
                out.add(
                    8625,
                    own,
                    "C584",
                    "The message names the consignee: a goods item does not name another.",
                );
            }
            if express {
                out.add(
                    8624,
                    own,
                    "C584",
                    "An express goods item does not name its own consignee.",
                );
            }
        }
        if let Some(own) = own_notify {
            if notify.is_some() {
                out.add(
                    8621,
                    own,
                    "C584",
                    "The message names the notify party: a goods item does not name another.",
                );
            }
            if !express {
                out.add(
                    8620,
                    own,
                    "C584",
                    "Only an express goods item names its own notify party.",
                );
            }
        }
    }
    if let Some(notify) = notify
        && items.iter().any(|i| !is_express(i))
    {
        out.add(
            8619,
            notify,
            "C583",
            "The message's notify party is given only when every goods item is an express consignment.",
        );
    }
    if let Some(consignee) = consignee
        && items.iter().any(|i| is_express(i))
    {
        out.add(
            8204,
            consignee,
            "C583",
            "The message's consignee is not given when a goods item is an express consignment.",
        );
    }
}

/// The gross masses: a decimal with a point, at most 11 digits of which 3 decimals, no leading zeros (TR0812:
/// the total at least the sum of the items').
fn masses(root: &Node, out: &mut Out) {
    let header = root.child("HEAHEA");
    let total = header.and_then(|h| h.child("TotGroMasHEA307"));
    let mut sum = rust_decimal::Decimal::ZERO;
    let mut summed = true;
    for item in root.all("GOOITEGDS") {
        match item.child("GroMasGDS46") {
            Some(mass) => {
                // A signed mass is not a mass: the total is not compared with a sum it would be part of.
                if mass.text.starts_with(['+', '-']) {
                    summed = false;
                }
                match decimal(mass, 8679, mass, out) {
                    Some(value) => sum = sum.checked_add(value).unwrap_or(sum),
                    None => summed = false,
                }
            }
            None => {
                let circumstance = header.and_then(|h| h.text_of("SpeCirIndHEA1"));
                if circumstance != Some("E") && total.is_none() {
                    out.add(
                        8103,
                        item,
                        "C592",
                        "The goods item's gross mass is given (unless specific circumstance E, or a total gross mass).",
                    );
                }
            }
        }
    }
    if let (Some(total), Some(header)) = (total, header)
        && let Some(value) = decimal(total, 8673, header, out)
        && summed
        && value < sum
    {
        out.add(
            8686,
            header,
            "TR0812",
            "The total gross mass is at least the sum of the goods items' gross masses.",
        );
    }
}

/// A gross mass read (its sign kept), with its format's findings at the element: no sign (`sign`, at
/// `sign_at`), no leading zeros, a digit each side of a decimal point, at most 11 digits of which 3 decimals.
fn decimal(at: &Node, sign: u16, sign_at: &Node, out: &mut Out) -> Option<rust_decimal::Decimal> {
    let text = at.text.as_str();
    let (negative, digits) = match text.strip_prefix(['+', '-']) {
        Some(rest) => {
            out.add(sign, sign_at, "R", "A mass has no sign.");
            (text.starts_with('-'), rest)
        }
        None => (false, text),
    };
    if digits.is_empty()
        || digits.contains(|c: char| !c.is_ascii_digit() && c != '.')
        || digits.matches('.').count() > 1
    {
        return None;
    }
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.len() > 1 && whole.starts_with('0') {
        out.add(8674, at, "R", "A mass has no leading zeros.");
    }
    if digits.contains('.') && (whole.is_empty() || fraction.is_empty()) {
        out.add(
            8677,
            at,
            "R",
            "A mass has a digit before and after its decimal point.",
        );
    }
    if whole.len() + fraction.len() > 11 {
        out.add(8675, at, "R", "A mass has at most 11 digits.");
    }
    if fraction.len() > 3 {
        out.add(8676, at, "R", "A mass has at most 3 decimals.");
    }
    let number = format!(
        "{}{}.{}",
        if negative { "-" } else { "" },
        if whole.is_empty() { "0" } else { whole },
        if fraction.is_empty() { "0" } else { fraction }
    );
    number.parse().ok()
}

fn leading_zeros(at: &Node) -> bool {
    at.text.len() > 1 && at.text.starts_with('0')
}

/// A count with leading zeros (`007`): its finding at the count.
fn no_leading_zeros(at: &Node, number: u16, what: &str, out: &mut Out) {
    if leading_zeros(at) {
        out.add(number, at, "R", format!("{what} has no leading zeros."));
    }
}

fn digits(text: &str, lengths: &[usize]) -> bool {
    lengths.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// C514, TR0518 and the XFER form: the identity of a vessel is its IMO (n7) or ENI (n8) number; by air the
/// conveyance reference is an IATA flight number (an..3 prefix, n..4 number, an optional letter; an..8 in all).
fn transport(root: &Node, out: &mut Out) {
    let Some(header) = root.child("HEAHEA") else {
        return;
    };
    let mode = mode(root);
    if header.child("TraModAtBorHEA76").is_some_and(leading_zeros) {
        out.add(
            8690,
            header,
            "R",
            "The transport mode at the border has no leading zeros.",
        );
    }
    let vessel = matches!(mode, Some("1" | "8"));
    if vessel {
        if let Some(identity) = header.text_of("IdeOfMeaOfTraCroHEA85")
            && !digits(identity, &[7, 8])
        {
            out.add(
                8114,
                header,
                "C514",
                "A vessel is identified by its IMO number (7 digits) or its ENI (8 digits).",
            );
        }
        for item in root.all("GOOITEGDS") {
            for means in item.all("IDEMEATRAGI970") {
                if let Some(identity) = means.child("IdeMeaTraGIMEATRA971")
                    && !digits(&identity.text, &[7, 8])
                {
                    out.add(
                        8114,
                        identity,
                        "C514",
                        "A vessel is identified by its IMO number (7 digits) or its ENI (8 digits).",
                    );
                }
            }
        }
    }
    let conveyance = header.text_of("ConRefNumHEA");
    if mode == Some("4") && !conveyance.is_some_and(flight_number) {
        out.add(
            8118,
            header,
            "TR0518",
            "By air, the conveyance reference is the IATA flight number: a prefix of up to 3 letters or digits, a number of up to 4 digits, an optional letter.",
        );
    }
    if mode == Some("1")
        && let Some(reference) = conveyance
        && reference.starts_with("XFER")
        && !transfer(reference)
    {
        out.add(
            8685,
            header,
            "R",
            "A transfer reference is XFER, letters or digits, and optionally a colon or hyphen and more letters or digits.",
        );
    }
    let identity = header.has("IdeOfMeaOfTraCroHEA85");
    let nationality = header.has("NatOfMeaOfTraCroHEA87");
    let inland = matches!(mode, Some("3" | "10" | "11"));
    if nationality && !(inland && identity) {
        out.add(
            8115,
            header,
            "R",
            "The nationality of the means of transport crossing the border is given only by road, fixed installation or inland waterway, with its identity.",
        );
    }
    for item in root.all("GOOITEGDS") {
        if !identity && mode != Some("4") && !item.has("IDEMEATRAGI970") {
            out.add(
                8199,
                item,
                "R",
                "Without the header's identity, and except by air, each goods item gives its means of transport at the border.",
            );
        }
    }
}

/// IATA flight number: an..3 prefix, n..4, a1 optional, an..8 in all.
fn flight_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() > 8 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let body = match bytes.last() {
        Some(b) if b.is_ascii_alphabetic() => &bytes[..bytes.len() - 1],
        _ => bytes,
    };
    // The number is the trailing digits (1 to 4); the prefix before it, 1 to 3 characters.
    let number = body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let prefix = body.len() - number.min(4);
    (1..=4).contains(&number) && (1..=3).contains(&prefix)
        || (number > 4 && (1..=3).contains(&(body.len() - 4)))
}

/// XFER, one or more letters or digits, optionally a colon or hyphen and one or more letters or digits.
fn transfer(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("XFER") else {
        return false;
    };
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    match rest.find([':', '-']) {
        Some(at) => alnum(&rest[..at]) && alnum(&rest[at + 1..]),
        None => alnum(rest),
    }
}

/// Counts and numbers: no leading zeros; the goods items numbered 1, 2, 3 …; at least two itineraries;
/// packages given; the goods items' consignors two at least and not all one.
fn counts(root: &Node, out: &mut Out) {
    if let Some(header) = root.child("HEAHEA") {
        for (field, number, what) in [
            ("TotNumOfIteHEA305", 8671, "The total number of items"),
            ("TotNumOfPacHEA306", 8672, "The total number of packages"),
        ] {
            if header.child(field).is_some_and(leading_zeros) {
                out.add(number, header, "R", format!("{what} has no leading zeros."));
            }
        }
    }
    let items: Vec<&Node> = root.all("GOOITEGDS").collect();
    let mut sequential = true;
    for (k, item) in items.iter().enumerate() {
        if let Some(number) = item.child("IteNumGDS7") {
            no_leading_zeros(number, 8678, "The item number", out);
            if number.text.trim_start_matches('0') != (k + 1).to_string() {
                sequential = false;
            }
        }
        for package in item.all("PACGS2") {
            if let Some(n) = package.child("NumOfPacGS24") {
                no_leading_zeros(n, 8680, "The number of packages", out);
            }
            if let Some(n) = package.child("NumOfPieGS25") {
                no_leading_zeros(n, 8681, "The number of pieces", out);
            }
        }
    }
    if !sequential {
        out.add(
            8102,
            root,
            "R",
            "The goods items are numbered 1, 2, 3 … in order, each number once.",
        );
    }
    if root.all("ITI").count() < 2 {
        out.add(
            8684,
            root,
            "R",
            "The itinerary gives at least two countries of routing.",
        );
    }
    if !items.iter().any(|i| i.has("PACGS2")) {
        out.add(8688, root, "R", "The packages are given.");
    }
    let consignors: Vec<&Node> = items.iter().filter_map(|i| i.child("TRACONCO2")).collect();
    // Two consignors are the same when their fields say the same, whitespace aside.
    let said = |c: &Node| -> Vec<(String, String)> {
        c.children
            .iter()
            .map(|f| (f.name.clone(), crate::schema::value(f)))
            .collect()
    };
    if !consignors.is_empty()
        && (consignors.len() < 2 || consignors.iter().all(|c| said(c) == said(consignors[0])))
    {
        out.add(
            8193,
            root,
            "R",
            "Goods items name their own consignors only when there are at least two and they differ.",
        );
    }
    // TR0022: no packages here, some with the same marks elsewhere.
    let packages: Vec<&Node> = items.iter().flat_map(|i| i.all("PACGS2")).collect();
    let count = |p: &Node| {
        p.text_of("NumOfPacGS24")
            .and_then(|n| n.parse::<u64>().ok())
    };
    for package in &packages {
        if count(package) == Some(0) {
            let marks = package.text_of("MarNumOfPacGSL21");
            // Absent marks match nothing, not even other absent marks.
            let elsewhere = packages.iter().any(|other| {
                other.pointer != package.pointer
                    && marks.is_some()
                    && other.text_of("MarNumOfPacGSL21") == marks
                    && count(other).is_some_and(|n| n > 0)
            });
            if !elsewhere {
                out.add(
                    8153,
                    package,
                    "TR0022",
                    "No packages here: another goods item with the same marks and numbers gives them.",
                );
            }
        }
    }
    // C511: the message's consignor only when no goods item names its own.
    if let Some(consignor) = root.child("TRACONCO1")
        && !consignors.is_empty()
    {
        out.add(
            8119,
            consignor,
            "C511",
            "The message names the consignor only when no goods item names its own.",
        );
        for own in &consignors {
            out.add(
                8119,
                own,
                "C511",
                "The message names the consignor: a goods item does not name its own.",
            );
        }
    }
    // C502: the carrier's TIN by sea, air, inland waterway, fixed installation and road.
    if let Some(carrier) = root.child("TRACARENT601")
        && !carrier.has("TINTRACARENT602")
        && matches!(mode(root), Some("1" | "4" | "8" | "10" | "11"))
    {
        out.add(
            8164,
            carrier,
            "C502",
            "By this mode of transport the carrier gives its TIN.",
        );
    }
    if let Some(sender) = root.child("MesSenMES3")
        && !message_sender(&crate::schema::value(sender))
    {
        out.add(
            4065,
            sender,
            "R",
            "The message sender is two capital letters, up to 15 characters, a slash and 10 digits.",
        );
    }
}

/// `[A-Z]{2}[^\n\r]{1,15}/[0-9]{10}`, the whole text.
fn message_sender(text: &str) -> bool {
    let Some((head, tail)) = text.rsplit_once('/') else {
        return false;
    };
    let chars: Vec<char> = head.chars().collect();
    chars.len() >= 3
        && chars.len() <= 17
        && chars[..2].iter().all(char::is_ascii_uppercase)
        && !chars.iter().any(|c| *c == '\n' || *c == '\r')
        && digits(tail, &[10])
}

/// Places of loading and unloading (the header's or each goods item's), documents, commodity or description.
fn places_and_documents(root: &Node, out: &mut Out) {
    let Some(header) = root.child("HEAHEA") else {
        return;
    };
    let loading = header.has("PlaLoaGOOITE334");
    let unloading = header.has("PlaUnlGOOITE334");
    let circumstance = header.text_of("SpeCirIndHEA1");
    let commercial = header.has("ComRefNumHEA");
    for item in root.all("GOOITEGDS") {
        if !loading && !item.has("PlaLoaGOOITE333") {
            out.add(
                8104,
                item,
                "R",
                "Without the header's place of loading, each goods item gives its own.",
            );
        }
        if unloading && let Some(own) = item.child("PlaUnlGOOITE333") {
            out.add(
                8171,
                own,
                "R",
                "The header gives the place of unloading: a goods item does not give another.",
            );
        }
        if !unloading && circumstance != Some("E") && !item.has("PlaUnlGOOITE333") {
            out.add(
                8687,
                item,
                "R",
                "Without the header's place of unloading, each goods item gives its own.",
            );
        }
        if !commercial && !item.has("ComRefNumGIM1") && !item.has("PRODOCDC2") {
            out.add(
                8170,
                item,
                "R",
                "Without a commercial reference number, the goods item gives its documents.",
            );
        }
        if !item.has("GooDesGDS23") && !item.has("COMCODGODITM") {
            out.add(
                8207,
                item,
                "R",
                "A goods item gives its commodity code or its description.",
            );
        }
    }
}

/// Who is who: the consignee's TIN with specific circumstance E (C562), the carrier only when not the person
/// lodging (R806), the office of lodgement not the office of first entry, the header's place of loading and method
/// of payment or the goods items', not both (C574, C576), marks and numbers of packed goods (C063).
fn identities(root: &Node, out: &mut Out) {
    let Some(header) = root.child("HEAHEA") else {
        return;
    };
    let express = header.text_of("SpeCirIndHEA1") == Some("E");
    if express
        && let Some(consignee) = root.child("TRACONCE1")
        && !consignee.has("TINCE159")
    {
        out.add(
            8105,
            consignee,
            "C562",
            "With specific circumstance E the consignee gives its TIN.",
        );
    }
    let same = |a: Option<&str>, b: Option<&str>| {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        matches!((a, b), (Some(a), Some(b)) if words(a) == words(b))
    };
    if let Some(carrier) = root.child("TRACARENT601")
        && let Some(tin) = carrier.child("TINTRACARENT602")
        && same(
            Some(&tin.text),
            root.child("PERLODSUMDEC")
                .and_then(|p| p.text_of("TINPLD1")),
        )
    {
        out.add(
            8195,
            tin,
            "R806",
            "The carrier is given only when it is not the person lodging the declaration.",
        );
    }
    if let Some(lodgement) = root.child("CUSOFFLON").and_then(|o| o.child("RefNumCOL1"))
        && same(
            Some(&lodgement.text),
            root.child("CUSOFFFENT730")
                .and_then(|o| o.text_of("RefNumCUSOFFFENT731")),
        )
    {
        out.add(
            8616,
            lodgement,
            "R",
            "The office of lodgement is given only when it is not the office of first entry.",
        );
    }
    let loading = header.has("PlaLoaGOOITE334");
    let payment = header.has("TraChaMetOfPayHEA1");
    for item in root.all("GOOITEGDS") {
        if express
            && let Some(consignee) = item.child("TRACONCE2")
            && !consignee.has("TINCE259")
        {
            out.add(
                8208,
                consignee,
                "C562",
                "With specific circumstance E the goods item's consignee gives its TIN.",
            );
        }
        if loading && let Some(own) = item.child("PlaLoaGOOITE333") {
            out.add(
                8136,
                own,
                "C574",
                "The header gives the place of loading: a goods item does not give another.",
            );
        }
        if payment && let Some(own) = item.child("MetOfPayGDI12") {
            out.add(
                8135,
                own,
                "C576",
                "The header gives the method of payment of transport charges: a goods item does not give another.",
            );
        }
        if !header.has("SpeCirIndHEA1") {
            for package in item.all("PACGS2") {
                let kind = package.text_of("KinOfPacGS23").unwrap_or("");
                if !BULK.contains(&kind)
                    && !UNPACKED.contains(&kind)
                    && !package.has("MarNumOfPacGSL21")
                {
                    out.add(
                        8152,
                        package,
                        "C063",
                        "Packed goods give their marks and numbers.",
                    );
                }
            }
        }
    }
}
