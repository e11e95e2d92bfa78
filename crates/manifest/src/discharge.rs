//! Consignments discharged by declarations: which declarations name a cargo report's consignments (by transport
//! document, UCR or a container the consignment alone fills), whether those declarations discharge them (released),
//! what differs between report and declarations (packages, gross mass), and the reconciliation of goods in
//! temporary storage after the means of transport arrived.
//!
//! The storage edge keeps, for each declaration, the [`DeclaredCargo`] read from it at lodgement and looks
//! declarations up by [`lookup_keys`]; everything decided here is pure.

use crate::{CargoReport, Consignment};
use declaration::Declaration;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use time::{Duration, OffsetDateTime};

/// Longest reference kept for matching (a UCR is at most 35 characters; a previous document's ID 70).
pub const MAX_REFERENCE_LEN: usize = 70;
/// Most references one declaration contributes (the rest are not matched on).
pub const MAX_REFERENCES: usize = 200;

/// The default tolerance on gross mass between a cargo report and its declarations, in percent of the reported mass.
pub const DEFAULT_MASS_TOLERANCE_PERCENT: u32 = 5;

/// What a declaration says about the cargo it covers, read once at lodgement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredCargo {
    /// The references that can name a consignment: the UCR (DE 2/4) and every previous document's ID (DE 2/1, at
    /// header and item level: a bill of lading, an air waybill, a DUCR, an entry summary's MRN), trimmed,
    /// sorted, once each.
    pub references: Vec<String>,
    /// The containers (DE 7/10), sorted, once each.
    pub containers: Vec<String>,
    /// DE 6/18, or else the goods items' packages added up; `None` when nothing is declared.
    pub packages: Option<u64>,
    /// The goods items' gross masses (DE 6/5) added up; `None` unless every item declares one.
    pub gross_mass_kg: Option<Decimal>,
}

fn clean(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.len() <= MAX_REFERENCE_LEN).then(|| text.to_owned())
}

/// The cargo a declaration covers.
pub fn declared_cargo(declaration: &Declaration) -> DeclaredCargo {
    let shipment = &declaration.goods_shipment;
    let mut references = BTreeSet::new();
    let documents = shipment.previous_documents.iter().chain(
        shipment
            .goods_items
            .iter()
            .flat_map(|item| item.previous_documents.iter()),
    );
    for text in shipment
        .ucr
        .iter()
        .map(String::as_str)
        .chain(documents.map(|d| d.id.as_str()))
    {
        if references.len() >= MAX_REFERENCES {
            break;
        }
        if let Some(reference) = clean(text) {
            references.insert(reference);
        }
    }
    let containers: BTreeSet<String> = shipment
        .consignment
        .iter()
        .flat_map(|c| c.transport_equipment.iter())
        .filter_map(|e| e.id.as_deref().and_then(clean))
        .take(MAX_REFERENCES)
        .collect();
    let packages = declaration.total_package_quantity.or_else(|| {
        let counts: Vec<u64> = shipment
            .goods_items
            .iter()
            .flat_map(|item| item.packaging.iter())
            .filter_map(|p| p.quantity)
            .collect();
        if counts.is_empty() {
            None
        } else {
            counts.iter().try_fold(0u64, |sum, n| sum.checked_add(*n))
        }
    });
    let gross_mass_kg = if shipment.goods_items.is_empty() {
        None
    } else {
        shipment
            .goods_items
            .iter()
            .try_fold(Decimal::ZERO, |sum, item| {
                item.gross_mass_kg.and_then(|m| sum.checked_add(m))
            })
    };
    DeclaredCargo {
        references: references.into_iter().collect(),
        containers: containers.into_iter().collect(),
        packages,
        gross_mass_kg,
    }
}

/// Where a declaration stands, as far as discharging its consignments goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Lodged and still in clearance.
    Pending,
    /// Released: the goods left temporary storage under the procedure declared.
    Released,
    /// Rejected, cancelled or invalidated: it discharges nothing.
    Closed,
}

/// A declaration the matching may use.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub cargo: &'a DeclaredCargo,
    pub standing: Standing,
}

/// What named the consignment in the declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The consignment's transport document (bill of lading, air waybill) among the previous documents.
    TransportDocument,
    /// The consignment's UCR as the declaration's UCR or a previous document.
    Ucr,
    /// A container only this consignment fills (a full container load), declared in DE 7/10.
    Container,
}

/// How far declarations have discharged a consignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Discharge {
    /// No declaration (still standing) names it.
    Undeclared,
    /// Declared, not yet released.
    Declared,
    /// A declaration naming it is released.
    Discharged,
}

/// A difference between the cargo report and the declarations of one consignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discrepancy {
    Packages {
        reported: u64,
        declared: u64,
    },
    GrossMass {
        #[serde(with = "rust_decimal::serde::str")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        reported: Decimal,
        #[serde(with = "rust_decimal::serde::str")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        declared: Decimal,
    },
}

/// One consignment of a report and the declarations that name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    /// The consignment's index in the report.
    pub consignment: usize,
    /// Indices into the candidates, with what named the consignment; once each, in index order.
    pub declarations: Vec<(usize, MatchedBy)>,
    pub discharge: Discharge,
    pub discrepancies: Vec<Discrepancy>,
}

/// The values to look declarations up by: every consignment's transport document and UCR, and the report's
/// containers.
pub fn lookup_keys(report: &CargoReport) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for c in &report.consignments {
        keys.extend(clean(&c.transport_document));
        keys.extend(c.ucr.as_deref().and_then(clean));
    }
    keys.extend(report.equipment.iter().filter_map(|e| clean(&e.id)));
    keys.into_iter().collect()
}

fn reported_packages(c: &Consignment) -> Option<u64> {
    c.goods
        .iter()
        .try_fold(0u64, |sum, g| g.package_count.map(|n| sum + u64::from(n)))
}

fn reported_mass(c: &Consignment) -> Option<Decimal> {
    c.goods.iter().try_fold(Decimal::ZERO, |sum, g| {
        g.gross_mass_kg.and_then(|m| sum.checked_add(m))
    })
}

/// The candidates indexed by the references and containers they name: built once, matched against any number of
/// reports.
#[derive(Debug)]
pub struct Index<'c> {
    candidates: &'c [Candidate<'c>],
    by_reference: HashMap<&'c str, Vec<usize>>,
    by_container: HashMap<&'c str, Vec<usize>>,
}

impl<'c> Index<'c> {
    pub fn new(candidates: &'c [Candidate<'c>]) -> Index<'c> {
        let mut by_reference: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_container: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, candidate) in candidates.iter().enumerate() {
            for r in &candidate.cargo.references {
                by_reference.entry(r.as_str()).or_default().push(i);
            }
            for c in &candidate.cargo.containers {
                by_container.entry(c.as_str()).or_default().push(i);
            }
        }
        Index {
            candidates,
            by_reference,
            by_container,
        }
    }
}

/// Matches every consignment of `report` to the candidates naming it ([`Index::match_report`]).
pub fn match_report(
    report: &CargoReport,
    candidates: &[Candidate<'_>],
    mass_tolerance_percent: u32,
) -> Vec<Matched> {
    Index::new(candidates).match_report(report, mass_tolerance_percent)
}

impl Index<'_> {
    /// Matches every consignment of `report` to the candidates naming it. Discrepancies are computed only where
    /// every declaration naming the consignment names no other consignment of the report (a declaration covering
    /// several consignments cannot be split between them), with the gross mass allowed to differ by
    /// `mass_tolerance_percent` of the reported mass.
    pub fn match_report(&self, report: &CargoReport, mass_tolerance_percent: u32) -> Vec<Matched> {
        let candidates = self.candidates;
        let by_reference = &self.by_reference;
        let by_container = &self.by_container;
        // Which consignments fill each container: only a container one consignment fills names it.
        let mut fillers: HashMap<&str, BTreeSet<usize>> = HashMap::new();
        for (k, c) in report.consignments.iter().enumerate() {
            for g in &c.goods {
                for e in &g.equipment {
                    fillers.entry(e.trim()).or_default().insert(k);
                }
            }
        }
        let mut matched: Vec<Matched> = report
            .consignments
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut found: Vec<(usize, MatchedBy)> = Vec::new();
                let mut add = |key: &str, by: MatchedBy, index: &HashMap<&str, Vec<usize>>| {
                    for &i in index.get(key).map(Vec::as_slice).unwrap_or_default() {
                        if !found.iter().any(|(j, _)| *j == i) {
                            found.push((i, by));
                        }
                    }
                };
                add(
                    c.transport_document.trim(),
                    MatchedBy::TransportDocument,
                    by_reference,
                );
                if let Some(ucr) = &c.ucr {
                    add(ucr.trim(), MatchedBy::Ucr, by_reference);
                }
                let containers: BTreeSet<&str> = c
                    .goods
                    .iter()
                    .flat_map(|g| g.equipment.iter().map(|e| e.trim()))
                    .filter(|e| fillers.get(e).is_some_and(|f| f.len() == 1))
                    .collect();
                for container in containers {
                    add(container, MatchedBy::Container, by_container);
                }
                found.sort_unstable();
                let standing = found
                    .iter()
                    .map(|(i, _)| candidates[*i].standing)
                    .filter(|s| *s != Standing::Closed);
                let discharge = standing.fold(Discharge::Undeclared, |best, s| {
                    best.max(match s {
                        Standing::Released => Discharge::Discharged,
                        _ => Discharge::Declared,
                    })
                });
                Matched {
                    consignment: k,
                    declarations: found,
                    discharge,
                    discrepancies: Vec::new(),
                }
            })
            .collect();
        // How many consignments of this report each candidate names.
        let mut named: HashMap<usize, usize> = HashMap::new();
        for m in &matched {
            for (i, _) in &m.declarations {
                *named.entry(*i).or_default() += 1;
            }
        }
        for m in &mut matched {
            let standing: Vec<&Candidate<'_>> = m
                .declarations
                .iter()
                .map(|(i, _)| &candidates[*i])
                .filter(|c| c.standing != Standing::Closed)
                .collect();
            let alone = m
                .declarations
                .iter()
                .filter(|(i, _)| candidates[*i].standing != Standing::Closed)
                .all(|(i, _)| named.get(i) == Some(&1));
            if standing.is_empty() || !alone {
                continue;
            }
            let consignment = &report.consignments[m.consignment];
            let declared_packages = standing.iter().try_fold(0u64, |sum, c| {
                c.cargo.packages.and_then(|n| sum.checked_add(n))
            });
            if let (Some(reported), Some(declared)) =
                (reported_packages(consignment), declared_packages)
                && reported != declared
            {
                m.discrepancies
                    .push(Discrepancy::Packages { reported, declared });
            }
            let declared_mass = standing.iter().try_fold(Decimal::ZERO, |sum, c| {
                c.cargo.gross_mass_kg.and_then(|m| sum.checked_add(m))
            });
            if let (Some(reported), Some(declared)) = (reported_mass(consignment), declared_mass) {
                let allowed =
                    reported * Decimal::from(mass_tolerance_percent) / Decimal::ONE_HUNDRED;
                if (reported - declared).abs() > allowed {
                    m.discrepancies
                        .push(Discrepancy::GrossMass { reported, declared });
                }
            }
        }
        matched
    }
}

/// A report whose means of transport arrived: its goods entered temporary storage then.
#[derive(Clone, Copy, Debug)]
pub struct Arrived<'a> {
    pub id: &'a str,
    pub report: &'a CargoReport,
    pub arrived_at: OffsetDateTime,
}

/// One consignment of the reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    pub report: &'a str,
    pub consignment: usize,
    /// When temporary storage ends: arrival plus the administration's days.
    pub deadline: OffsetDateTime,
    /// Not discharged and past its deadline.
    pub overdue: bool,
    pub matched: Matched,
}

/// The reconciliation of goods in temporary storage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciliation<'a> {
    pub consignments: usize,
    pub discharged: usize,
    pub declared: usize,
    pub undeclared: usize,
    pub overdue: usize,
    pub with_discrepancies: usize,
    /// The consignments that need an officer: overdue, or with a discrepancy; by report, then consignment.
    pub lines: Vec<Line<'a>>,
}

/// Reconciles the consignments of arrived reports against the declarations: counts, and the lines of every
/// consignment overdue (not discharged `storage_days` after arrival, at `now`) or with a discrepancy.
pub fn reconcile<'a>(
    arrived: &[Arrived<'a>],
    candidates: &[Candidate<'_>],
    storage_days: u32,
    now: OffsetDateTime,
    mass_tolerance_percent: u32,
) -> Reconciliation<'a> {
    let mut out = Reconciliation::default();
    let index = Index::new(candidates);
    for a in arrived {
        let deadline = a
            .arrived_at
            .checked_add(Duration::days(i64::from(storage_days)))
            .unwrap_or(a.arrived_at);
        for m in index.match_report(a.report, mass_tolerance_percent) {
            out.consignments += 1;
            match m.discharge {
                Discharge::Discharged => out.discharged += 1,
                Discharge::Declared => out.declared += 1,
                Discharge::Undeclared => out.undeclared += 1,
            }
            let overdue = m.discharge != Discharge::Discharged && now > deadline;
            out.overdue += usize::from(overdue);
            out.with_discrepancies += usize::from(!m.discrepancies.is_empty());
            if overdue || !m.discrepancies.is_empty() {
                out.lines.push(Line {
                    report: a.id,
                    consignment: m.consignment,
                    deadline,
                    overdue,
                    matched: m,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
