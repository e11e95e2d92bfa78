//! The declaration tree. Names follow the WCO Data Model classes used by the DEC-DMS 2 message (`GoodsShipment`,
//! `GovernmentAgencyGoodsItem`, `DutyTaxFee`, …) in snake case, so that the JSON twin maps 1:1 to the XML. The UK
//! data element (DE) numbers in the comments are those of the HMRC samples.

use crate::codes::{Amount, CommodityCode, Country, Currency, Lrn, Mrn, PartyId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most goods items a declaration may hold (DE 1/9 is n..3 in the WCO and UK formats).
pub const MAX_GOODS_ITEMS: usize = 999;

/// What a message asks customs to do with a declaration (WCO `FunctionCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FunctionCode {
    /// 9: an original declaration.
    Original,
    /// 13: a request to amend a declaration already accepted (the `id` names its MRN).
    Amendment,
}

impl FunctionCode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "9" => Some(Self::Original),
            "13" => Some(Self::Amendment),
            _ => None,
        }
    }
    pub fn wco_code(self) -> &'static str {
        match self {
            Self::Original => "9",
            Self::Amendment => "13",
        }
    }
}

/// DE 1/1: the kind of declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeclarationKind {
    /// Import.
    IM,
    /// Export.
    EX,
    /// Trade with or between special fiscal territories.
    CO,
}

/// DE 1/1 + DE 1/2, e.g. `IMA` (import, standard frontier) or `EXD` (export, pre-lodged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeclarationType {
    pub kind: DeclarationKind,
    /// DE 1/2, an upper-case letter: A–C arrived, D–F pre-lodged, X–Z supplementary, J–K special cases.
    pub additional: char,
}

#[cfg(feature = "openapi")]
crate::codes::string_schema!(
    DeclarationType,
    [
        "DE 1/1 + DE 1/2, e.g. IMA (import, standard frontier) or EXD (export, pre-lodged): IM, EX or CO and",
        "an upper-case letter."
    ]
);

impl DeclarationType {
    /// The additional type letters of DE 1/2 (A–C arrived, D–F pre-lodged, J–K special cases, Q goods under a
    /// simplified procedure, X–Z supplementary). Any other letter is refused, so that the function code 13 type
    /// codes `COR` and `INV` can never be taken for a declaration type (`COR` is not "CO", additional type "R").
    pub const ADDITIONAL_TYPES: &'static str = "ABCDEFJKQXYZ";

    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 3 || !Self::ADDITIONAL_TYPES.as_bytes().contains(&bytes[2]) {
            return None;
        }
        let kind = match &text[..2] {
            "IM" => DeclarationKind::IM,
            "EX" => DeclarationKind::EX,
            "CO" => DeclarationKind::CO,
            _ => return None,
        };
        Some(Self {
            kind,
            additional: bytes[2] as char,
        })
    }

    /// Pre-lodged declarations (additional types D, E and F) are lodged before the goods arrive and wait for an
    /// arrival notification; nothing is released before it.
    pub fn is_pre_lodged(self) -> bool {
        matches!(self.additional, 'D' | 'E' | 'F')
    }
}

impl std::fmt::Display for DeclarationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}{}", self.kind, self.additional)
    }
}

impl TryFrom<String> for DeclarationType {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
            .ok_or_else(|| format!("{text:?} is not a declaration type such as IMA or EXD"))
    }
}

impl From<DeclarationType> for String {
    fn from(value: DeclarationType) -> String {
        value.to_string()
    }
}

/// The goods declaration (WCO class `Declaration`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    pub function_code: FunctionCode,
    /// DE 2/5: the trader's reference.
    pub lrn: Lrn,
    /// DE 1/1 and 1/2.
    pub type_code: DeclarationType,
    /// For an amendment or cancellation: the MRN of the declaration concerned (WCO `Declaration/ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// DE 1/9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_item_quantity: Option<u32>,
    /// DE 6/18.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_package_quantity: Option<u64>,
    /// DE 4/11: total amount invoiced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_amount: Option<Amount>,
    /// DE 4/15: exchange rates declared (foreign currency → national currency).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub currency_exchanges: Vec<CurrencyExchange>,
    /// DE 5/12 or the office of lodgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_office_id: Option<String>,
    /// DE 5/27.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervising_office_id: Option<String>,
    /// DE 5/12 for exports: the office of exit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_office_id: Option<String>,
    /// DE 3/17–3/18.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declarant: Option<Party>,
    /// DE 3/1–3/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<Party>,
    /// DE 3/19–3/21: the representative (WCO `Agent`) and its status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<Party>,
    /// DE 3/39.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorisation_holders: Vec<AuthorisationHolder>,
    /// DE 7/4 and 7/14–7/15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub border_transport_means: Option<TransportMeans>,
    /// DE 2/6 deferred payment and other header documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_documents: Vec<AdditionalDocument>,
    /// DE 2/2 at header level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_information: Vec<AdditionalInformation>,
    /// DE 8/2–8/3.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obligation_guarantees: Vec<ObligationGuarantee>,
    /// For amendments: what changed and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<Amendment>,
    /// Carrier, freight payment and routing (the header-level WCO `Consignment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignment: Option<DeclarationConsignment>,
    /// DE 2/?: when the trader issued the declaration, as sent (format code 304: `yyyyMMddHHmmssZ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date_time: Option<String>,
    /// For supplementary declarations: when the simplified declaration was accepted, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance_date_time: Option<String>,
    pub goods_shipment: GoodsShipment,
    /// Everything else the document holds: the elements and attributes of the WCO DEC-DMS 2 schema that this model
    /// does not interpret, each kept as received at its place (see [`Kept`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Kept>,
}

/// An element or attribute of a WCO DEC-DMS 2 document that the model does not interpret, kept as received so
/// that nothing a schema allows is refused or lost: written back at its place in schema order, and carried by the
/// JSON twin. `at` is the path of the element it belongs in, from the `MetaData` envelope: element names joined by
/// `/`, with `[k]` (from 1) where the name repeats, e.g. `Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]`;
/// the empty path is the envelope itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Kept {
    /// A whole element (with everything in it), the `index`-th of its name in the element at `at`.
    Element {
        at: String,
        index: u32,
        element: KeptElement,
    },
    /// An attribute of the element at `at`.
    Attribute {
        at: String,
        name: String,
        value: String,
    },
}

/// An element as received: its name, attributes, text and child elements (namespaces follow from the schema).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeptElement {
    pub name: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<KeptElement>,
}

/// What a function code 13 message asks of a declaration already lodged (its WCO `TypeCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdditionalMessageType {
    /// `COR`: a correction (amendment). The message carries only what changes, each change named by an
    /// `Amendment` with its reason code and pointers.
    #[serde(rename = "COR")]
    Correction,
    /// `INV`: an invalidation (cancellation), with the reason as additional information of type `AES`.
    #[serde(rename = "INV")]
    Invalidation,
    /// `GPR`: the goods of a pre-lodged declaration are presented (the arrival notification).
    #[serde(rename = "GPR")]
    GoodsPresentation,
}

impl AdditionalMessageType {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "COR" => Some(Self::Correction),
            "INV" => Some(Self::Invalidation),
            "GPR" => Some(Self::GoodsPresentation),
            _ => None,
        }
    }
    pub fn wco_code(self) -> &'static str {
        match self {
            Self::Correction => "COR",
            Self::Invalidation => "INV",
            Self::GoodsPresentation => "GPR",
        }
    }
}

/// A function code 13 message (WCO `Declaration` with `FunctionCode` 13): a request about a declaration already
/// lodged, named by its MRN. Not a declaration: it carries only its own reference, what it asks, why, and for a
/// correction the goods items that change (each by its sequence number, with only the data that changes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdditionalMessage {
    /// The trader's reference of this message (WCO `FunctionalReferenceID`), independent of the declaration's LRN.
    pub functional_reference_id: Lrn,
    pub type_code: AdditionalMessageType,
    /// The MRN of the declaration concerned (WCO `Declaration/ID`).
    pub declaration_id: Mrn,
    /// DE 1/9 after the change (a correction that adds or removes goods items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_item_quantity: Option<u32>,
    /// DE 6/18 after the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_package_quantity: Option<u64>,
    /// Who sends the message (DE 3/?; HMRC asks for it on invalidations and goods presentations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<Party>,
    /// The reasons, as free text of type `AES`, each with pointers to what it explains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_information: Vec<AdditionalInformation>,
    /// What changes and why: a change reason code (e.g. 1 cancellation, 21 correction) and pointers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<Amendment>,
    /// For a correction: the goods items that change, with the changed data only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_shipment: Option<GoodsShipment>,
    /// What the message holds that this model does not interpret (as for a declaration).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Kept>,
}

impl AdditionalMessage {
    /// The reason the trader gives: the free texts of type `AES`, in order.
    pub fn reason(&self) -> Option<String> {
        let texts: Vec<&str> = self
            .additional_information
            .iter()
            .filter(|a| a.statement_type_code.as_deref() == Some("AES"))
            .filter_map(|a| a.statement_description.as_deref())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        (!texts.is_empty()).then(|| texts.join(" "))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeclarationConsignment {
    /// DE 3/31–3/32.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Party>,
    /// DE 4/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freight_payment_method_code: Option<String>,
    /// DE 5/22: countries of routing, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub itinerary: Vec<Country>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CurrencyExchange {
    pub currency: Currency,
    /// National currency units per one unit of `currency`.
    #[serde(with = "crate::codes::declared_decimal")]
    pub rate: Decimal,
}

/// A party: identified by EORI/TIN, or by name and address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<Country>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Agent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PartyId>,
    /// DE 3/21: 1 self, 2 direct representation, 3 indirect representation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorisationHolder {
    pub id: PartyId,
    pub category_code: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransportMeans {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification_type_code: Option<String>,
    /// Mode of transport: 1 sea, 2 rail, 3 road, 4 air, 5 post, 7 fixed installation, 8 inland waterway, 9 own
    /// propulsion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_nationality_code: Option<Country>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdditionalDocument {
    pub category_code: String,
    pub type_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Document status (DE 2/3), e.g. AE, AC, CC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lpco_exemption_code: Option<String>,
    /// DE 8/7: the quantity written off the licence or certificate, with its unit as sent (e.g. `KGM#G`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_off_quantity: Option<Measure>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdditionalInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_type_code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pointers: Vec<Pointer>,
}

/// A pointer into the declaration, as used by amendments and additional information.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Pointer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_numeric: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_section_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    pub change_reason_code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pointers: Vec<Pointer>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ObligationGuarantee {
    /// DE 8/3: guarantee reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<String>,
    /// DE 8/2: guarantee type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_details_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviousDocument {
    pub category_code: String,
    pub type_code: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_numeric: Option<u32>,
}

/// The goods shipment (WCO class `GoodsShipment`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GoodsShipment {
    /// DE 8/5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_nature_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importer: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignee: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignment: Option<Consignment>,
    /// DE 5/8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_country: Option<Country>,
    /// DE 5/14: country of dispatch/export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_country: Option<Country>,
    /// DE 4/1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_terms: Option<TradeTerms>,
    /// DE 2/1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_documents: Vec<PreviousDocument>,
    /// DE 2/4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ucr: Option<String>,
    /// DE 2/7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<Warehouse>,
    /// DE 3/40.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domestic_duty_tax_parties: Vec<RoleParty>,
    /// Shipment-level valuation costs (DE 4/9 additions and deductions), apportioned across goods items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_valuation: Option<ShipmentValuation>,
    pub goods_items: Vec<GoodsItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Consignment {
    /// DE 7/2: 1 when the goods travel in containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_transport_means: Option<TransportMeans>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure_transport_means: Option<TransportMeans>,
    /// DE 5/23.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_location: Option<GoodsLocation>,
    /// DE 7/10 containers and their seals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transport_equipment: Vec<TransportEquipment>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GoodsLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_type_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<Country>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransportEquipment {
    pub sequence_numeric: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seals: Vec<Seal>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Seal {
    pub sequence_numeric: u32,
    pub id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TradeTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Warehouse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleParty {
    pub id: PartyId,
    pub role_code: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipmentValuation {
    /// Freight to the border for the whole shipment (an addition, apportioned by value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freight_charge_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charge_deductions: Vec<ChargeDeduction>,
}

/// A valuation addition or deduction (DE 4/9 and 4/10), e.g. AK insurance, AL royalties (additions) or BA costs
/// after importation (deductions). The administration's code list says which codes add and which deduct.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChargeDeduction {
    pub charges_type_code: String,
    pub amount: Amount,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Classification {
    pub id: String,
    /// TSP national commodity code, TRC TARIC code, TRA additional code, GN combined nomenclature, CV CUS code.
    pub identification_type_code: String,
}

/// A duty, tax or fee line declared for a goods item (WCO `DutyTaxFee`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DutyTaxFee {
    /// DE 4/3: tax type, e.g. A00 customs duty, B00 VAT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    /// DE 4/17: preference (100 no preference, 300 tariff preference, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty_regime_code: Option<String>,
    /// DE 8/1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_order_id: Option<String>,
    /// DE 4/4: quantity the specific rate applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specific_tax_base_quantity: Option<Measure>,
    /// DE 4/8: method of payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_code: Option<String>,
    /// DE 4/6: tax the trader self-assessed, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_assessed_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_amount: Option<Amount>,
}

/// A quantity with its unit (UN/ECE Rec. 20 code such as KGM, LTR, LPA, NAR).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Measure {
    #[serde(with = "crate::codes::declared_decimal")]
    pub value: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// DE 1/10 (requested, 2 digits) or DE 1/11 (additional procedure, 3 characters).
    pub current_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Origin {
    pub country_code: Country,
    /// 1 non-preferential origin (DE 5/15), 2 preferential origin (DE 5/16).
    pub type_code: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Packaging {
    pub sequence_numeric: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks_numbers_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
}

/// A goods item (WCO `GovernmentAgencyGoodsItem`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GoodsItem {
    /// DE 1/6: 1, 2, 3 …
    pub sequence_numeric: u32,
    /// DE 6/8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// DE 6/14–6/17.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classifications: Vec<Classification>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duty_tax_fees: Vec<DutyTaxFee>,
    /// DE 6/5, kilograms.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::codes::declared_decimal::option"
    )]
    pub gross_mass_kg: Option<Decimal>,
    /// DE 6/1, kilograms.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::codes::declared_decimal::option"
    )]
    pub net_mass_kg: Option<Decimal>,
    /// DE 6/2: supplementary units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_quantity: Option<Measure>,
    /// DE 4/14: item price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_charge_amount: Option<Amount>,
    /// DE 99/6: statistical value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistical_value_amount: Option<Amount>,
    /// A customs value declared directly (used by some procedures instead of the item price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_value_amount: Option<Amount>,
    /// DE 4/16: valuation method (1 transaction value … 6 fall-back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valuation_method_code: Option<String>,
    /// DE 4/13: valuation indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valuation_adjustment_code: Option<String>,
    /// Item-level additions and deductions (DE 4/9, 4/10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charge_deductions: Vec<ChargeDeduction>,
    /// DE 1/10 and 1/11.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procedures: Vec<Procedure>,
    /// DE 5/15 and 5/16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packaging: Vec<Packaging>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_documents: Vec<AdditionalDocument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_information: Vec<AdditionalInformation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_documents: Vec<PreviousDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_country: Option<Country>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_nature_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignee: Option<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domestic_duty_tax_parties: Vec<RoleParty>,
    /// Containers (by sequence number of the consignment's transport equipment) this item travels in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transport_equipment: Vec<TransportEquipment>,
}

impl GoodsItem {
    /// The commodity code for tariff purposes: the national code (TSP, or CV/GN when no TSP) followed by the TARIC
    /// code (TRC) when both are declared. `None` when no usable code is declared.
    pub fn commodity_code(&self) -> Option<CommodityCode> {
        let national = self
            .classifications
            .iter()
            .find(|c| c.identification_type_code == "TSP")
            .or_else(|| {
                self.classifications
                    .iter()
                    .find(|c| c.identification_type_code == "GN")
            })?;
        let taric = self
            .classifications
            .iter()
            .find(|c| c.identification_type_code == "TRC");
        let combined = match taric {
            Some(t) if national.id.len() == 8 && t.id.len() == 2 => {
                format!("{}{}", national.id, t.id)
            }
            _ => national.id.clone(),
        };
        CommodityCode::parse(&combined).ok()
    }

    /// DE 1/10, the requested and previous procedure as four digits (e.g. 4000), if declared.
    pub fn procedure_code(&self) -> Option<String> {
        self.procedures
            .iter()
            .find(|p| p.current_code.len() == 2)
            .map(|p| {
                format!(
                    "{}{}",
                    p.current_code,
                    p.previous_code.as_deref().unwrap_or("00")
                )
            })
    }

    /// DE 5/15 or, failing it, DE 5/16.
    pub fn origin_country(&self) -> Option<&Country> {
        let by_type = |t: &str| {
            self.origins
                .iter()
                .find(|o| o.type_code == t)
                .map(|o| &o.country_code)
        };
        by_type("1")
            .or_else(|| by_type("2"))
            .or_else(|| self.origins.first().map(|o| &o.country_code))
    }

    /// DE 5/16, the preferential origin, if declared.
    pub fn preferential_origin(&self) -> Option<&Country> {
        self.origins
            .iter()
            .find(|o| o.type_code == "2")
            .map(|o| &o.country_code)
    }
}

impl Declaration {
    /// The documents cited for `item` (DE 2/3, the item's then the header's), each as its category and type
    /// (`C640`, `Y929`): what the tariff's conditions and the Single Window's requirements look for.
    pub fn documents_cited(&self, item: &GoodsItem) -> Vec<String> {
        item.additional_documents
            .iter()
            .chain(&self.additional_documents)
            .map(|d| format!("{}{}", d.category_code, d.type_code))
            .collect()
    }

    /// The party acting as declarant (DE 3/18), whose (party, LRN) pair is the idempotency key.
    pub fn declarant_id(&self) -> Option<&PartyId> {
        self.declarant.as_ref().and_then(|p| p.id.as_ref())
    }

    /// The representative's identifier (DE 3/20), if any.
    pub fn representative_id(&self) -> Option<&PartyId> {
        self.agent.as_ref().and_then(|a| a.id.as_ref())
    }

    /// The mode of transport at the border (DE 7/4), falling back to the mode on arrival.
    pub fn transport_mode(&self) -> Option<&str> {
        self.border_transport_means
            .as_ref()
            .and_then(|t| t.mode_code.as_deref())
            .or_else(|| {
                self.goods_shipment
                    .consignment
                    .as_ref()
                    .and_then(|c| c.arrival_transport_means.as_ref())
                    .and_then(|t| t.mode_code.as_deref())
            })
    }

    /// The office that handles the declaration: the declared office, the supervising office, the exit office, or
    /// the goods location, in that order.
    pub fn office(&self) -> Option<&str> {
        self.declaration_office_id
            .as_deref()
            .or(self.supervising_office_id.as_deref())
            .or(self.exit_office_id.as_deref())
            .or_else(|| {
                self.goods_shipment
                    .consignment
                    .as_ref()
                    .and_then(|c| c.goods_location.as_ref())
                    .and_then(|l| l.name.as_deref())
            })
    }
}
