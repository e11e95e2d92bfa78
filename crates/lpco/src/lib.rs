//! Licences, permits, certificates and other documents (LPCO) that partner agencies require before goods cross the
//! border — the Single Window's requirements as data.
//!
//! A [`Requirement`] says which goods (a commodity code prefix, imported from or exported to which countries, in a
//! period) need which documents: every [`Group`] of it must be met (a conjunction, TARIC's condition codes), each by
//! one of its [`Way`]s (alternatives: a document code as traders declare it in DE 2/3, e.g. `C640`; a waiver code,
//! e.g. `Y929` "goods not concerned"; or a quantity at most a threshold, e.g. 20 kg of waste). What happens
//! otherwise is the group's action ("Import/export not allowed after control").
//!
//! [`uk::read`] reads them from the UK Trade Tariff's commodity format (the prohibitions and restrictions among a
//! commodity's measures: those whose conditions end in "not allowed"), its geographical groups expanded.
//! [`Requirements::for_goods`] finds those in force for a goods item; [`Requirement::check`] says whether the
//! documents a declaration cites meet it.
//!
//! **Architecture invariant**: pure. Text in, requirements out; the date is passed in.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

pub mod application;
pub mod register;
pub mod uk;

pub use register::{
    Agency, AgencyCode, Delivery, DocumentCode, Draw, Held, Issuer, Kind, Licence, LpcoType,
    Meaning, Refusal, Standing, Statuses, Use, Uses, WhenMissing,
};

/// Which way the goods cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Import,
    Export,
}

impl Direction {
    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "import" => Some(Direction::Import),
            "export" => Some(Direction::Export),
            _ => None,
        }
    }
}

/// One way to meet a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Way {
    /// A document cited in DE 2/3 (category and type, e.g. `C640`).
    Document {
        code: String,
        description: String,
        /// A waiver: the code declares the goods are not concerned (the UK's Y-codes), rather than a document held.
        waiver: bool,
    },
    /// The declared quantity in `unit` is at most `amount` (e.g. 20 KGM): no document needed.
    AtMost {
        #[serde(with = "rust_decimal::serde::str")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        amount: Decimal,
        unit: String,
    },
}

/// Ways of which one must be met, and what happens when none is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// The source's condition code (TARIC: `B` a document, `E`/`I` a quantity or a document, `Z` several documents).
    pub condition: String,
    pub ways: Vec<Way>,
    /// What happens when no way is met.
    pub otherwise: String,
}

/// Which goods need which documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requirement {
    /// Stable within its source (`uk:` and the measure's id).
    pub id: String,
    /// The source's measure type, e.g. `410`.
    pub measure_type: String,
    /// What it is, e.g. "Veterinary control".
    pub title: String,
    /// The agency that decides, when the administration has said (by measure type); `None` until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub commodity_prefix: String,
    pub direction: Direction,
    /// The countries of origin (imports) or destination (exports), as named by the source (a country or a group,
    /// e.g. `1008` "all third countries") and expanded; kept sorted.
    pub area: String,
    pub countries: Vec<String>,
    pub excluded: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_code: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::date::option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub valid_from: Option<Date>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::date::option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub valid_to: Option<Date>,
    /// Every group must be met.
    pub groups: Vec<Group>,
}

/// Whether a requirement is met by what a declaration cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Each group met: by the documents or waivers named (a quantity under a threshold names none).
    Met { by: Vec<String> },
    /// The first group no way meets: the document codes that would.
    Missing {
        condition: String,
        documents: Vec<String>,
        otherwise: String,
    },
}

impl Requirement {
    /// Whether it concerns goods of `commodity` from (import) or to (export) `country` on `date`.
    pub fn applies(
        &self,
        commodity: &str,
        direction: Direction,
        country: &str,
        date: Date,
    ) -> bool {
        self.direction == direction
            && commodity.starts_with(&self.commodity_prefix)
            && self
                .countries
                .binary_search_by(|c| c.as_str().cmp(country))
                .is_ok()
            && !self.excluded.iter().any(|c| c == country)
            && self.valid_from.is_none_or(|from| from <= date)
            && self.valid_to.is_none_or(|to| date <= to)
    }

    /// Whether the documents cited (DE 2/3 category and type, e.g. `C640`) and the declared quantities (amount,
    /// unit) meet every group.
    pub fn check(&self, documents: &[&str], quantities: &[(Decimal, &str)]) -> Verdict {
        let mut by = Vec::new();
        for group in &self.groups {
            let met = group.ways.iter().find(|way| match way {
                Way::Document { code, .. } => documents.contains(&code.as_str()),
                Way::AtMost { amount, unit } => quantities
                    .iter()
                    .any(|(quantity, u)| u == unit && quantity <= amount),
            });
            match met {
                Some(Way::Document { code, .. }) => by.push(code.clone()),
                Some(Way::AtMost { .. }) => {}
                None => {
                    return Verdict::Missing {
                        condition: group.condition.clone(),
                        documents: group
                            .ways
                            .iter()
                            .filter_map(|w| match w {
                                Way::Document { code, .. } => Some(code.clone()),
                                Way::AtMost { .. } => None,
                            })
                            .collect(),
                        otherwise: group.otherwise.clone(),
                    };
                }
            }
        }
        by.dedup();
        Verdict::Met { by }
    }
}

/// A set of requirements, as the administration has them in force, indexed by commodity prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub struct Requirements {
    pub requirements: Vec<Requirement>,
    /// Positions in `requirements` by commodity prefix (rebuilt on every change).
    by_prefix: std::collections::HashMap<String, Vec<usize>>,
}

/// The stored form: the requirements alone.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    requirements: Vec<Requirement>,
}

impl From<Stored> for Requirements {
    fn from(stored: Stored) -> Self {
        let mut set = Requirements {
            requirements: stored.requirements,
            by_prefix: Default::default(),
        };
        set.reindex();
        set
    }
}

impl From<Requirements> for Stored {
    fn from(set: Requirements) -> Self {
        Stored {
            requirements: set.requirements,
        }
    }
}

/// Most requirements one set may hold.
pub const MAX_REQUIREMENTS: usize = 200_000;

impl Requirements {
    fn reindex(&mut self) {
        self.by_prefix.clear();
        for (at, requirement) in self.requirements.iter_mut().enumerate() {
            // Countries looked up by binary search.
            requirement.countries.sort();
            requirement.countries.dedup();
            self.by_prefix
                .entry(requirement.commodity_prefix.clone())
                .or_default()
                .push(at);
        }
    }

    /// Those in force on `date` for goods of `commodity` from or to `country`: the requirements of each prefix of
    /// the code (2 to 10 digits), so the cost does not grow with the size of the set.
    pub fn for_goods<'a>(
        &'a self,
        commodity: &'a str,
        direction: Direction,
        country: &'a str,
        date: Date,
    ) -> impl Iterator<Item = &'a Requirement> + 'a {
        (1..=commodity.len().min(10))
            .filter_map(move |len| commodity.get(..len))
            .filter_map(move |prefix| self.by_prefix.get(prefix))
            .flatten()
            .map(move |&at| &self.requirements[at])
            .filter(move |r| r.applies(commodity, direction, country, date))
    }

    /// Adds `more`, replacing a requirement of the same id; refused past [`MAX_REQUIREMENTS`].
    pub fn merge(&mut self, more: Vec<Requirement>) -> Result<(), String> {
        let mut ids: std::collections::HashMap<String, usize> = self
            .requirements
            .iter()
            .enumerate()
            .map(|(at, r)| (r.id.clone(), at))
            .collect();
        for requirement in more {
            match ids.get(&requirement.id) {
                Some(&at) => self.requirements[at] = requirement,
                None => {
                    if self.requirements.len() >= MAX_REQUIREMENTS {
                        return Err(format!(
                            "A set holds at most {MAX_REQUIREMENTS} requirements."
                        ));
                    }
                    ids.insert(requirement.id.clone(), self.requirements.len());
                    self.requirements.push(requirement);
                }
            }
        }
        self.reindex();
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.requirements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

#[cfg(test)]
mod tests;

/// Dates as the API writes them, `YYYY-MM-DD`; read from that or from the `[year, ordinal day]` pair that stored
/// requirement sets of earlier versions hold.
pub mod date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Pair(i32, u16),
    }

    fn read<E: serde::de::Error>(either: Either) -> Result<Date, E> {
        match either {
            Either::Text(text) => Date::parse(&text, FORMAT)
                .map_err(|_| E::custom(format!("{text:?} is not a date (YYYY-MM-DD)"))),
            Either::Pair(year, day) => Date::from_ordinal_date(year, day)
                .map_err(|_| E::custom(format!("[{year}, {day}] is not a date"))),
        }
    }

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&date.format(FORMAT).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        read(Either::deserialize(deserializer)?)
    }

    /// The same for an optional date.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            date: &Option<Date>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match date {
                Some(date) => super::serialize(date, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Date>, D::Error> {
            Option::<Either>::deserialize(deserializer)?
                .map(read)
                .transpose()
        }
    }
}
