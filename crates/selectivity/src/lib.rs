//! Selectivity: which lane a declaration takes.
//!
//! Risk criteria are data: a rules file written in the small language of docs/risk-rules.md, e.g.
//!
//! ```text
//! rule R001 "Arms and ammunition" when commodity starts_with "93" then red
//! rule R003 "Large electrical consignments" when commodity starts_with "85" and value > 100000 then yellow
//! random 2% then yellow
//! ```
//!
//! [`RuleSet::parse`] checks a file before use (errors carry line and column). [`RuleSet::decide`] evaluates
//! every rule against the [`Facts`] of one declaration; the most severe lane hit wins (red > yellow > blue >
//! green) and every hit is returned with its reason. A declaration no rule selects may still be drawn at random:
//! the draw is passed in (`roll`, in basis points), so evaluation is deterministic and replayable.
//!
//! **Architecture invariant**: pure and deterministic. No IO, no clock, no randomness of its own.

mod language;
pub mod rates;

pub use language::{MAX_LIST_REFERENCES, MAX_RULES, MAX_WORDS, RuleError, RuleSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most entries one named list may hold, and most lists.
pub const MAX_LIST_ENTRIES: usize = 1_000_000;
pub const MAX_LISTS: usize = 1_000;

/// The named lists rules look identifiers up in (`importer in list "watch"`): watch lists kept by risk analysts,
/// and the register of authorised economic operators (`aeo`), from which the `aeo` fact is derived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lists {
    lists: BTreeMap<String, BTreeSet<String>>,
}

/// The list whose entries are authorised economic operators: a declaration is `aeo` when its declarant or its
/// importer is on it.
pub const AEO_LIST: &str = "aeo";

impl Lists {
    /// Puts a list (replacing one of the same name). Entries are trimmed; empty ones dropped.
    pub fn insert(&mut self, name: &str, entries: impl IntoIterator<Item = String>) {
        self.lists.insert(
            name.to_owned(),
            entries
                .into_iter()
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect(),
        );
    }
    pub fn contains_list(&self, name: &str) -> bool {
        self.lists.contains_key(name)
    }
    pub fn contains(&self, name: &str, value: &str) -> bool {
        self.lists.get(name).is_some_and(|l| l.contains(value))
    }
    pub fn names(&self) -> Vec<&str> {
        self.lists.keys().map(String::as_str).collect()
    }
    pub fn len(&self) -> usize {
        self.lists.len()
    }
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
    /// Whether a declaration by these parties is an AEO's.
    pub fn is_aeo(&self, declarant: Option<&str>, importer: Option<&str>) -> bool {
        [declarant, importer]
            .into_iter()
            .flatten()
            .any(|p| self.contains(AEO_LIST, p))
    }
}

/// A rule set as stored: its version, who wrote it and when it is in force (dates inclusive; `valid_to` open when
/// absent).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleVersion {
    pub version: u32,
    pub author: String,
    pub valid_from: time::Date,
    pub valid_to: Option<time::Date>,
    pub rules: std::sync::Arc<RuleSet>,
}

impl RuleVersion {
    pub fn in_force(&self, date: time::Date) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// The stored rule set in force on `date`: the highest version whose validity covers it.
pub fn rules_in_force(versions: &[RuleVersion], date: time::Date) -> Option<&RuleVersion> {
    versions
        .iter()
        .filter(|v| v.in_force(date))
        .max_by_key(|v| v.version)
}

/// The lanes, in increasing order of severity for the decision (blue is post-clearance audit: released, then
/// audited; yellow a documentary check; red a physical examination).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Green,
    Blue,
    Yellow,
    Red,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Green, Lane::Blue, Lane::Yellow, Lane::Red];

    pub fn parse(text: &str) -> Option<Lane> {
        match text {
            "green" => Some(Lane::Green),
            "blue" => Some(Lane::Blue),
            "yellow" => Some(Lane::Yellow),
            "red" => Some(Lane::Red),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Green => "green",
            Lane::Blue => "blue",
            Lane::Yellow => "yellow",
            Lane::Red => "red",
        }
    }
    /// The lane's name as a sentence starts with it ("Yellow").
    pub fn title(self) -> &'static str {
        match self {
            Lane::Green => "Green",
            Lane::Blue => "Blue",
            Lane::Yellow => "Yellow",
            Lane::Red => "Red",
        }
    }
    /// Yellow and red stop the goods for a control before release.
    pub fn requires_control(self) -> bool {
        matches!(self, Lane::Yellow | Lane::Red)
    }
}

/// What the rules can see of a declaration. Item-level facts hold one entry per goods item; a condition on an
/// item-level field holds when it holds for at least one goods item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// Declaration type and additional type, e.g. `IMA`.
    pub declaration_type: String,
    pub declarant: Option<String>,
    pub importer: Option<String>,
    pub exporter: Option<String>,
    /// Country of dispatch/export (DE 5/14).
    pub dispatch: Option<String>,
    pub office: Option<String>,
    /// Mode of transport at the border (DE 7/4).
    pub mode: Option<String>,
    /// Total customs value in the national currency.
    pub value: Decimal,
    pub items: Vec<ItemFacts>,
    /// The learned risk model's score, when a model is in use (rules see it as `score`).
    pub score: Option<ModelScore>,
    /// The seller (DE 3/24), who is often not the exporter.
    pub seller: Option<String>,
    /// The declarant or importer is an authorised economic operator (on the `aeo` list).
    pub aeo: bool,
    /// The consignment, as an entry summary declaration or a declaration names it (each list: a condition holds
    /// when it holds for one entry). Parties are their identification number, or their name when they have none.
    pub consignment: ConsignmentFacts,
}

/// What the rules can see of a consignment before loading or arrival (safety and security risk): the parties,
/// the route, where it is loaded, its containers and transport documents. Goods descriptions, HS codes and
/// dangerous goods codes are item facts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsignmentFacts {
    pub consignors: Vec<String>,
    pub consignees: Vec<String>,
    pub notify_parties: Vec<String>,
    /// The countries of routing, in order (ISO 3166 alpha-2).
    pub route: Vec<String>,
    /// The places of loading (UN/LOCODE, or as declared).
    pub loading: Vec<String>,
    pub containers: Vec<String>,
    pub transport_documents: Vec<String>,
}

/// What a consignment rule asks of the carrier (rules ending `then request_for_information`, …): the outcomes
/// of safety and security risk analysis before loading or arrival. Referrals are opened for the consignment of
/// an entry summary declaration; declarations take lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Referral {
    RequestForInformation,
    HighRiskCargoScreening,
    DoNotLoad,
}

impl Referral {
    pub const ALL: [Referral; 3] = [
        Referral::RequestForInformation,
        Referral::HighRiskCargoScreening,
        Referral::DoNotLoad,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Referral::RequestForInformation => "request_for_information",
            Referral::HighRiskCargoScreening => "high_risk_cargo_screening",
            Referral::DoNotLoad => "do_not_load",
        }
    }

    pub fn parse(text: &str) -> Option<Referral> {
        Referral::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What is asked, as a sentence part ("a request for information").
    pub fn phrase(self) -> &'static str {
        match self {
            Referral::RequestForInformation => "a request for information",
            Referral::HighRiskCargoScreening => "high-risk cargo screening",
            Referral::DoNotLoad => "do-not-load",
        }
    }
}

/// A consignment rule that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralHit {
    pub rule: String,
    pub description: String,
    pub referral: Referral,
}

/// What the consignment rules and the model ask of one consignment: one referral per kind asked, most severe
/// first, each with the sentence saying why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Screening {
    pub hits: Vec<ReferralHit>,
    pub referrals: Vec<(Referral, String)>,
}

/// A learned model's score of a declaration, with what moved it most: part of every lane decision's reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelScore {
    /// The estimated probability of an irregularity, 0 to 1, four decimals.
    pub score: Decimal,
    /// The model's version (its training data and date, as the analyst named it).
    pub model: String,
    /// The features that moved the score most, largest first.
    pub factors: Vec<String>,
}

impl ModelScore {
    /// The sentence added to the decision's reason.
    pub fn sentence(&self) -> String {
        format!(
            "Risk model {} scored {}{}.",
            self.model,
            self.score,
            if self.factors.is_empty() {
                String::new()
            } else {
                format!(", mostly from {}", self.factors.join(", "))
            }
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemFacts {
    pub commodity: Option<String>,
    pub origin: Option<String>,
    /// Requested and previous procedure, four digits (e.g. 4000).
    pub procedure: Option<String>,
    /// Customs value of the item in the national currency.
    pub value: Decimal,
    /// The goods description as declared (rules match its words: `description contains "pistol"`).
    pub description: Option<String>,
    /// The UN number of dangerous goods (four digits).
    pub dangerous_goods: Option<String>,
    /// Net and gross mass in kilograms (DE 6/1, 6/5).
    pub net_mass: Option<Decimal>,
    pub gross_mass: Option<Decimal>,
    /// Supplementary units (DE 6/2).
    pub supplementary_units: Option<Decimal>,
}

/// Where a declaration stands in the officers' queues (TFA Art. 7.8, 7.9: perishable goods, express
/// consignments, authorised operators first): the priority line of the rule set that placed it, its rank among
/// those lines (1 is served first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    pub rank: u32,
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Priority {
    /// The priority's name as an officer reads it: its description, or its identifier when it has none.
    pub fn name(&self) -> &str {
        if self.description.is_empty() {
            &self.id
        } else {
            &self.description
        }
    }
}

/// One rule that fired, with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub rule: String,
    pub description: String,
    pub lane: Lane,
}

/// The selectivity decision for one declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub lane: Lane,
    pub hits: Vec<Hit>,
    /// True when no rule selected the declaration but the random draw did.
    pub random: bool,
    /// One sentence saying why this lane: the rules hit, the random draw, or neither.
    pub reason: String,
}

/// The demo rules shipped with Aduana (docs/risk-rules.md explains them).
pub const DEMO_RULES: &str = include_str!("../demo/rules.txt");
