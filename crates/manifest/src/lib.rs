//! The cargo report (manifest): what a carrier declares it brings before the goods arrive — the means of transport
//! and its voyage, the containers with their seals, and each consignment by its transport document (bill of lading,
//! air waybill) with its parties, places and goods. Declarations are later lodged against these consignments.
//!
//! Read from UN/EDIFACT CUSCAR (crate `edifact`) or from its JSON form (this model's serde form), then checked by
//! [`check`]: numbering, uniqueness of transport documents and containers, goods that name containers the report
//! declares, and limits.
//!
//! **Architecture invariant**: pure. No IO, no clock.

use declaration::{CommodityCode, Country, Party};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub mod discharge;

/// Most consignments one report may hold (a large container ship carries a few thousand bills of lading).
pub const MAX_CONSIGNMENTS: usize = 10_000;
/// Most goods items one consignment may hold.
pub const MAX_GOODS_ITEMS: usize = 999;
/// Most containers one report may declare.
pub const MAX_EQUIPMENT: usize = 30_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CargoReport {
    /// The carrier's reference of the report (CUSCAR `BGM` document number).
    pub reference: String,
    pub carrier: Party,
    pub transport: Transport,
    /// Expected arrival, as sent (`CCYYMMDD` or `CCYYMMDDHHMM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<String>,
    /// Port, airport or border post of arrival (UN/LOCODE or national code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_arrival: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<Equipment>,
    pub consignments: Vec<Consignment>,
}

/// The active means of transport (WCO `BorderTransportMeans`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// DE 7/4: 1 sea, 2 rail, 3 road, 4 air, 5 post, 7 fixed installations, 8 inland waterway.
    pub mode_code: String,
    /// Voyage or flight number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conveyance_reference: Option<String>,
    /// IMO number, registration or flight designator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<Country>,
}

/// A container or other transport equipment (DE 7/10) and its seals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Equipment {
    pub id: String,
    /// ISO 6346 size and type, e.g. `22G1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seals: Vec<String>,
}

/// One consignment, named by its transport document (DE 12/3, e.g. a bill of lading number).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Consignment {
    /// 1, 2, 3 … in the report.
    pub sequence: u32,
    pub transport_document: String,
    /// The unique consignment reference (WCO UCR, CUSCAR `RFF+UCN`), when the carrier knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ucr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignor: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignee: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_party: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_loading: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_discharge: Option<String>,
    pub goods: Vec<GoodsItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GoodsItem {
    /// 1, 2, 3 … in the consignment.
    pub sequence: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_count: Option<u32>,
    /// UN/ECE recommendation 21 package code, e.g. `CT` carton.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HS code, when the carrier gives one (6 digits at least).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commodity_code: Option<CommodityCode>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub gross_mass_kg: Option<Decimal>,
    /// The containers (ids of the report's equipment) the goods travel in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<String>,
}

impl CargoReport {
    pub fn goods_item_count(&self) -> usize {
        self.consignments.iter().map(|c| c.goods.len()).sum()
    }
}

/// Every context-free problem of a report, with the JSON pointer of the field.
pub fn check(report: &CargoReport) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |code, at: String, message: String| {
        problems.push(Problem::with_message(code, at, message));
    };
    if report.reference.trim().is_empty() {
        problem(
            ErrorCode::MissingElement,
            "/reference".into(),
            "The report needs the carrier's reference.".into(),
        );
    }
    if report.carrier.id.is_none() {
        problem(
            ErrorCode::MissingElement,
            "/carrier/id".into(),
            "The carrier's identification number (EORI) is required.".into(),
        );
    }
    if !matches!(
        report.transport.mode_code.as_str(),
        "1" | "2" | "3" | "4" | "5" | "7" | "8"
    ) {
        problem(
            ErrorCode::InvalidValue,
            "/transport/mode_code".into(),
            format!(
                "Mode of transport {:?}: use 1 sea, 2 rail, 3 road, 4 air, 5 post, 7 fixed installation or 8 \
                 inland waterway.",
                report.transport.mode_code
            ),
        );
    }
    if report.consignments.is_empty() {
        problem(
            ErrorCode::MissingElement,
            "/consignments".into(),
            "A cargo report needs at least one consignment.".into(),
        );
    }
    if report.consignments.len() > MAX_CONSIGNMENTS || report.equipment.len() > MAX_EQUIPMENT {
        problem(
            ErrorCode::ManifestTooLarge,
            "/consignments".into(),
            format!(
                "A report holds at most {MAX_CONSIGNMENTS} consignments and {MAX_EQUIPMENT} containers; split it."
            ),
        );
        return problems;
    }
    let mut containers = HashSet::new();
    for (i, e) in report.equipment.iter().enumerate() {
        if e.id.trim().is_empty() || !containers.insert(e.id.as_str()) {
            problem(
                ErrorCode::InvalidValue,
                format!("/equipment/{i}/id"),
                format!(
                    "Container {:?} is empty or declared twice; name each container once.",
                    e.id
                ),
            );
        }
    }
    let mut documents = HashSet::new();
    for (i, c) in report.consignments.iter().enumerate() {
        if c.sequence as usize != i + 1 {
            problem(
                ErrorCode::GoodsItemSequence,
                format!("/consignments/{i}/sequence"),
                format!(
                    "Consignment {} is numbered {}; number consignments 1, 2, 3 … in order.",
                    i + 1,
                    c.sequence
                ),
            );
        }
        if c.transport_document.trim().is_empty()
            || !documents.insert(c.transport_document.as_str())
        {
            problem(
                ErrorCode::InvalidValue,
                format!("/consignments/{i}/transport_document"),
                format!(
                    "Transport document {:?} is empty or appears twice in the report; each consignment has its own.",
                    c.transport_document
                ),
            );
        }
        if c.goods.is_empty() || c.goods.len() > MAX_GOODS_ITEMS {
            problem(
                ErrorCode::InvalidValue,
                format!("/consignments/{i}/goods"),
                format!(
                    "Consignment {} has {} goods items; it needs 1 to {MAX_GOODS_ITEMS}.",
                    i + 1,
                    c.goods.len()
                ),
            );
            continue;
        }
        for (k, g) in c.goods.iter().enumerate() {
            let at = format!("/consignments/{i}/goods/{k}");
            if g.sequence as usize != k + 1 {
                problem(
                    ErrorCode::GoodsItemSequence,
                    format!("{at}/sequence"),
                    format!(
                        "Goods item {} of consignment {} is numbered {}; number them 1, 2, 3 … in order.",
                        k + 1,
                        i + 1,
                        g.sequence
                    ),
                );
            }
            if g.gross_mass_kg.is_some_and(|m| m <= Decimal::ZERO) {
                problem(
                    ErrorCode::InvalidValue,
                    format!("{at}/gross_mass_kg"),
                    "A gross mass is more than zero kilograms.".into(),
                );
            }
            for (n, id) in g.equipment.iter().enumerate() {
                if !containers.contains(id.as_str()) {
                    problem(
                        ErrorCode::InvalidValue,
                        format!("{at}/equipment/{n}"),
                        format!("Container {id:?} is not among the report's equipment (EQD)."),
                    );
                }
            }
        }
    }
    problems
}
