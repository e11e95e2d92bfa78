//! The partner agencies, the LPCO types each owns, and the licences, permits and certificates they issue — with the
//! one decision about an issued document's use: whether a declaration may cite it for a goods item, and what it
//! draws from the balance ([`Held::draw`]).
//!
//! A declaration cites a document in DE 2/3 by its code (category and type, `C640`), its reference (the `ID`) and a
//! status code (`LPCOExemptionCode`). What the status means is the LPCO type's data ([`Statuses`]): held (the
//! reference must then name a document issued to the declarant or importer, in force, covering the goods, with
//! balance enough), applied for, exempt, or not required.

use declaration::{CommodityCode, Country};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// An agency's code: 2 to 16 capital letters, digits or hyphens (`VET`, `PLANT-HEALTH`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(text: &str) -> Result<AgencyCode, String> {
        let ok = (2..=16).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(AgencyCode(text.to_owned()))
        } else {
            Err(format!(
                "{text:?} is not an agency code: 2 to 16 capital letters, digits or hyphens."
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgencyCode {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        AgencyCode::parse(&text)
    }
}

impl From<AgencyCode> for String {
    fn from(code: AgencyCode) -> String {
        code.0
    }
}

impl std::fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A document code as traders cite it in DE 2/3: the category (one letter or digit) and the type (three letters or
/// digits), e.g. `C640`, `9120`, `Y929`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct DocumentCode(String);

impl DocumentCode {
    pub fn parse(text: &str) -> Result<DocumentCode, String> {
        if text.len() == 4
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            Ok(DocumentCode(text.to_owned()))
        } else {
            Err(format!(
                "{text:?} is not a document code: four capital letters or digits, the category then the type (C640)."
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentCode {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        DocumentCode::parse(&text)
    }
}

impl From<DocumentCode> for String {
    fn from(code: DocumentCode) -> String {
        code.0
    }
}

impl std::fmt::Display for DocumentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How an agency receives the Single Window's events (besides the feed every agency may read).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "by", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = AgencyDelivery))]
pub enum Delivery {
    /// It reads `GET /api/v1/agency/feed` (or the broker's stream, when one is configured).
    #[default]
    Feed,
    /// Each event is also posted to this address, signed (HMAC-SHA256 of the body with the agency's secret).
    Webhook { url: String },
}

/// A partner agency of the Single Window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    pub code: AgencyCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default)]
    pub delivery: Delivery,
}

/// What kind of document an LPCO type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = LpcoKind))]
pub enum Kind {
    Licence,
    Permit,
    Certificate,
    Other,
}

/// Whether one issued document serves one declaration or many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = LpcoUses))]
pub enum Uses {
    Single,
    #[default]
    Multiple,
}

/// What a DE 2/3 status code says about a cited document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = LpcoStatusMeaning))]
pub enum Meaning {
    /// The declarant holds it: its reference is checked and its balance drawn.
    Held,
    /// Applied for, not issued yet.
    AppliedFor,
    /// The goods are exempt from it.
    Exempt,
    /// Not required for these goods.
    NotRequired,
}

/// Which DE 2/3 status codes mean what, for one LPCO type. A code listed nowhere, or none, means held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = LpcoStatuses))]
pub struct Statuses {
    #[serde(default)]
    pub held: Vec<String>,
    #[serde(default)]
    pub applied_for: Vec<String>,
    #[serde(default)]
    pub exempt: Vec<String>,
    #[serde(default)]
    pub not_required: Vec<String>,
}

impl Statuses {
    /// The UK CDS reading of the status codes (the CDS Declaration Completion Instructions, DE 2/3).
    pub fn uk() -> Statuses {
        let codes = |list: &[&str]| list.iter().map(|c| (*c).to_owned()).collect();
        Statuses {
            held: codes(&[
                "AC", "AE", "AF", "AG", "AP", "AS", "AT", "EA", "EB", "EE", "EL", "EP", "JE", "JP",
            ]),
            applied_for: codes(&["LP"]),
            exempt: codes(&["XB", "XE", "XF", "XO", "XU", "XW"]),
            not_required: codes(&["XX", "XZ", "UA", "UE", "UP", "US"]),
        }
    }

    pub fn meaning(&self, status: Option<&str>) -> Meaning {
        let Some(status) = status else {
            return Meaning::Held;
        };
        let has = |list: &[String]| list.iter().any(|c| c == status);
        if has(&self.applied_for) {
            Meaning::AppliedFor
        } else if has(&self.exempt) {
            Meaning::Exempt
        } else if has(&self.not_required) {
            Meaning::NotRequired
        } else {
            Meaning::Held
        }
    }
}

/// What a declaration lacking a required document of a type gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = LpcoWhenMissing))]
#[serde(rename_all = "snake_case")]
pub enum WhenMissing {
    /// Rejected at acceptance, the requirement, its agency and the item named (as CDS does).
    #[default]
    Refuse,
    /// Accepted, and release waits for the agency's decision on the consignment.
    Hold,
}

/// Who issues a document code, and what its absence does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer {
    pub agency: String,
    pub hold: bool,
}

/// A field of an LPCO type's application form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = LpcoField))]
pub struct Field {
    /// The key the application carries it under (`establishment`, `health_certificate`).
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub required: bool,
}

/// A licence, permit, certificate or other document an agency issues, keyed by the code traders cite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LpcoType {
    pub code: DocumentCode,
    pub agency: AgencyCode,
    pub kind: Kind,
    pub title: String,
    #[serde(default)]
    pub fields: Vec<Field>,
    /// How long an issued document is in force, in days from its issue.
    pub validity_days: u32,
    /// The unit its balance is kept in (`KGM`, `NAR`, …); `None`: no balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_unit: Option<String>,
    #[serde(default)]
    pub uses: Uses,
    #[serde(default)]
    pub statuses: Statuses,
    /// What a declaration lacking it, where a requirement asks for it, gets.
    #[serde(default)]
    pub when_missing: WhenMissing,
}

/// Most days a document may be in force, fields a form may ask for, and the length of texts in them.
pub const MAX_VALIDITY_DAYS: u32 = 3660;
pub const MAX_FIELDS: usize = 64;
pub const MAX_TEXT: usize = 2000;

impl LpcoType {
    /// The mistakes of a type, each as (field, sentence).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.title.trim().is_empty() || self.title.len() > MAX_TEXT {
            problems.push((
                "title",
                "A title is needed (at most 2,000 characters).".into(),
            ));
        }
        if self.validity_days == 0 || self.validity_days > MAX_VALIDITY_DAYS {
            problems.push((
                "validity_days",
                format!("An issued document is in force for 1 to {MAX_VALIDITY_DAYS} days."),
            ));
        }
        if let Some(unit) = &self.balance_unit
            && !(unit.len() == 3 && unit.bytes().all(|b| b.is_ascii_uppercase()))
        {
            problems.push((
                "balance_unit",
                format!("{unit:?} is not a unit of measurement (three capital letters, e.g. KGM)."),
            ));
        }
        if self.fields.len() > MAX_FIELDS {
            problems.push((
                "fields",
                format!("A form asks for at most {MAX_FIELDS} fields."),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for field in &self.fields {
            let ok = !field.name.is_empty()
                && field.name.len() <= 64
                && field
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                problems.push((
                    "fields",
                    format!(
                        "{:?} is not a field name: lower-case letters, digits and underscores, at most 64.",
                        field.name
                    ),
                ));
            } else if !names.insert(field.name.as_str()) {
                problems.push((
                    "fields",
                    format!("The field {} is named twice.", field.name),
                ));
            }
        }
        let lists = [
            &self.statuses.held,
            &self.statuses.applied_for,
            &self.statuses.exempt,
            &self.statuses.not_required,
        ];
        let mut seen = std::collections::BTreeSet::new();
        for status in lists.into_iter().flatten() {
            if !(status.len() == 2 && status.bytes().all(|b| b.is_ascii_uppercase())) {
                problems.push((
                    "statuses",
                    format!(
                        "{status:?} is not a DE 2/3 status code (two capital letters, e.g. AE)."
                    ),
                ));
            } else if !seen.insert(status.as_str()) {
                problems.push((
                    "statuses",
                    format!("The status code {status} is in two lists: it has one meaning."),
                ));
            }
        }
        problems
    }
}

/// Whether an issued document may still be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = LicenceStanding))]
pub enum Standing {
    InForce,
    /// Revoked by its agency.
    Revoked,
}

/// An issued licence, permit, certificate or other document, with what is left of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Licence {
    /// Unique among the documents of its code (`VET-2026-000001`).
    pub reference: String,
    pub code: DocumentCode,
    pub agency: AgencyCode,
    /// The party it was issued to (an EORI); only its declarations may cite it, as declarant or importer.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub holder: declaration::PartyId,
    /// The goods it covers: commodity codes starting with this.
    pub commodity_prefix: String,
    /// The country of origin it covers; `None`: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub origin: Option<Country>,
    #[serde(with = "crate::date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub valid_from: Date,
    #[serde(with = "crate::date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub valid_to: Date,
    /// The unit of its balance; `None`: no balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The quantity granted, in `unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub granted: Option<Decimal>,
    /// The quantity drawn so far, in `unit` (given back when a declaration is cancelled or invalidated).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub drawn: Decimal,
    pub uses: Uses,
    /// How many declarations draw on it now (counted for a single-use document only).
    pub used_by: u32,
    pub standing: Standing,
    /// Conditions the agency attached to its approval.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
}

impl Licence {
    /// Whether a use changes it (a balance drawn, or a single use taken): only then is it locked and written.
    pub fn is_consumed(&self) -> bool {
        self.unit.is_some() || self.uses == Uses::Single
    }

    /// What is left in `unit`, if it has a balance.
    pub fn left(&self) -> Option<Decimal> {
        self.granted.map(|g| g - self.drawn)
    }
}

/// Why a cited document cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No document of this code has this reference.
    Unknown,
    /// Cited without its reference (DE 2/3 `ID`).
    NoReference,
    /// Issued to another party.
    NotHolder,
    /// Not in force on the date (or revoked).
    NotInForce { from: Date, to: Date, revoked: bool },
    /// It covers other goods.
    NotCovering {
        prefix: String,
        origin: Option<String>,
    },
    /// The quantity to draw is not declared in the document's unit.
    NoQuantity { unit: String },
    /// The balance left is less than the quantity.
    Exhausted {
        left: Decimal,
        wanted: Decimal,
        unit: String,
    },
    /// A single-use document already drawn on by another declaration.
    AlreadyUsed,
    /// Applied for, not issued: the agency has not decided.
    AppliedFor,
}

/// One use of an issued document by a declaration's goods item: what storage writes (and gives back on
/// cancellation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub code: DocumentCode,
    pub reference: String,
    /// The goods item (1-based).
    pub item: u32,
    /// The quantity drawn, in the document's unit (`None`: it has no balance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
}

/// What one goods item asks of one cited document.
pub struct Use<'a> {
    pub item: u32,
    pub commodity: &'a CommodityCode,
    /// The item's country of origin (imports).
    pub origin: Option<&'a Country>,
    /// The parties that may cite a document held by them: the declarant and the importer.
    pub parties: &'a [&'a str],
    pub date: Date,
    /// The quantity in each unit the item declares (DE 8/7 write-off first, then net mass in KGM and the
    /// supplementary quantity).
    pub quantities: &'a [(Decimal, &'a str)],
    /// Whether this declaration drew on this document already (another goods item: a single-use document serves
    /// the whole declaration).
    pub same_declaration: bool,
}

/// The LPCO types and the issued documents a decision reads: those a declaration cites, loaded (and locked) by
/// storage. Draws made are applied here, so that a later item, or a later declaration of the same batch, sees
/// the balance as left.
#[derive(Clone, Debug, Default)]
pub struct Held {
    pub types: BTreeMap<DocumentCode, LpcoType>,
    pub licences: BTreeMap<(DocumentCode, String), Licence>,
}

impl Held {
    /// Whether the code is an LPCO type an agency registered.
    pub fn lpco_type(&self, code: &str) -> Option<&LpcoType> {
        let code = DocumentCode::parse(code).ok()?;
        self.types.get(&code)
    }

    /// Checks that the document `reference` of `code` may serve `using`, and draws from it. The pure decision on a
    /// document's use: nothing is drawn when it is refused.
    pub fn draw(
        &mut self,
        code: &DocumentCode,
        reference: Option<&str>,
        using: &Use<'_>,
    ) -> Result<Draw, Refusal> {
        let reference = reference
            .filter(|r| !r.trim().is_empty())
            .ok_or(Refusal::NoReference)?;
        let licence = self
            .licences
            .get_mut(&(code.clone(), reference.to_owned()))
            .ok_or(Refusal::Unknown)?;
        if !using.parties.contains(&licence.holder.as_str()) {
            return Err(Refusal::NotHolder);
        }
        if licence.standing == Standing::Revoked
            || using.date < licence.valid_from
            || using.date > licence.valid_to
        {
            return Err(Refusal::NotInForce {
                from: licence.valid_from,
                to: licence.valid_to,
                revoked: licence.standing == Standing::Revoked,
            });
        }
        let covers = using
            .commodity
            .as_str()
            .starts_with(&licence.commodity_prefix)
            && licence
                .origin
                .as_ref()
                .is_none_or(|o| Some(o) == using.origin);
        if !covers {
            return Err(Refusal::NotCovering {
                prefix: licence.commodity_prefix.clone(),
                origin: licence.origin.as_ref().map(|o| o.to_string()),
            });
        }
        if licence.uses == Uses::Single && licence.used_by > 0 && !using.same_declaration {
            return Err(Refusal::AlreadyUsed);
        }
        let quantity = match &licence.unit {
            None => None,
            Some(unit) => {
                let wanted = using
                    .quantities
                    .iter()
                    .find(|(_, u)| u == unit)
                    .map(|(q, _)| *q)
                    .ok_or_else(|| Refusal::NoQuantity { unit: unit.clone() })?;
                let left = licence.left().unwrap_or(Decimal::ZERO);
                if wanted < Decimal::ZERO || wanted > left {
                    return Err(Refusal::Exhausted {
                        left,
                        wanted,
                        unit: unit.clone(),
                    });
                }
                licence.drawn = licence
                    .drawn
                    .checked_add(wanted)
                    .ok_or(Refusal::Exhausted {
                        left,
                        wanted,
                        unit: unit.clone(),
                    })?;
                Some(wanted)
            }
        };
        // Uses are counted where they matter: a single-use document.
        if !using.same_declaration && licence.uses == Uses::Single {
            licence.used_by = licence.used_by.saturating_add(1);
        }
        Ok(Draw {
            code: code.clone(),
            reference: reference.to_owned(),
            item: using.item,
            quantity,
        })
    }

    /// Applies draws decided elsewhere (by the same rule: storage replays a decision's draws on what it loaded,
    /// so that a batch's later declarations see the balance as left); refused as [`Held::draw`] would.
    pub fn replay(&mut self, draws: &[Draw]) -> Result<(), String> {
        let mut counted = std::collections::BTreeSet::new();
        for draw in draws {
            let key = (draw.code.clone(), draw.reference.clone());
            let licence = self
                .licences
                .get_mut(&key)
                .ok_or_else(|| format!("{} {} was not loaded", draw.code, draw.reference))?;
            if let Some(quantity) = draw.quantity {
                let drawn = licence
                    .drawn
                    .checked_add(quantity)
                    .filter(|d| licence.granted.is_some_and(|g| *d <= g))
                    .ok_or_else(|| {
                        format!("{} {} has not {quantity} left", draw.code, draw.reference)
                    })?;
                licence.drawn = drawn;
            }
            if counted.insert(key) && licence.uses == Uses::Single {
                licence.used_by = licence.used_by.saturating_add(1);
            }
        }
        Ok(())
    }
}

/// Gives back what `draws` took from `licence` (a declaration cancelled or invalidated): the quantities, and the
/// use. Never below zero.
pub fn give_back(licence: &mut Licence, draws: &[&Draw]) {
    let mut returned = Decimal::ZERO;
    for draw in draws {
        returned = returned.saturating_add(draw.quantity.unwrap_or_default());
    }
    licence.drawn = (licence.drawn - returned).max(Decimal::ZERO);
    if !draws.is_empty() && licence.uses == Uses::Single {
        licence.used_by = licence.used_by.saturating_sub(1);
    }
}
