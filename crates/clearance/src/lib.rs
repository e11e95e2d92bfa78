//! The clearance pipeline, composed from the pure crates.
//!
//! [`Pipeline::lodge`] takes a parsed declaration and returns every event the system itself decides at
//! lodgement — accepted with an MRN or rejected with pointers, lane assigned, assessed, settled, released when
//! nothing stops it — and [`Pipeline::advance`] continues after an officer or trader acts (a control result, a
//! payment, an arrival, an amendment). What a human must do is never done here.
//!
//! The random selection draw is derived from a secret seed and the MRN ([`roll_for`]), so a decision can be
//! replayed by whoever holds the seed, and cannot be predicted by a trader who does not.
//!
//! Money moves only through [`revenue::plan`]: [`Pipeline::lodge_with`] and [`Pipeline::command`] take the
//! accounts and the declaration's position in the ledger (loaded and locked by storage), and return the transfers
//! to apply in the same transaction as the events (module [`commands`]).
//!
//! **Architecture invariant**: pure. Time (`date`), the MRN serial and the seed are passed in; no IO.

use declaration::{Country, Declaration, Mrn};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use selectivity::rates::{RateBook, RateTable};
use selectivity::{Decision, Facts, ItemFacts, Lists, RuleSet, RuleVersion};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tariff::{Assessment, ExchangeRates, Tariff};
use workflow::{Command, EventKind, RejectionError, State};

pub mod commands;
pub use commands::{Act, Books, Current, Executed, Lodgement, Lodging, Refused, Step};

/// Who issues each document code an agency registered, and whether a declaration lacking it is held for that agency
/// rather than refused (read from the registry by the caller).
pub type Issuers = std::collections::BTreeMap<String, lpco::Issuer>;

/// What the administration has configured: its tariff, rates, rules and identity.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub tariff: Tariff,
    /// The goods nomenclature, for descriptions and, when `check_codes` is set, for checking declared codes.
    pub nomenclature: tariff::Nomenclature,
    /// Refuse commodity codes that are unknown, subdivided or not in force (set when the administration has
    /// imported its nomenclature; the demo nomenclature only describes).
    pub check_codes: bool,
    pub rates: ExchangeRates,
    /// Which goods need which licences, permits, certificates and other documents (the Single Window's
    /// requirements; none until the administration imports them).
    pub requirements: Arc<lpco::Requirements>,
    /// How shipment-level costs are shared among goods items.
    pub apportionment: tariff::Apportionment,
    pub rules: RuleSet,
    /// The country whose MRNs we issue (the profile's, kept here for the MRN builder).
    pub country: Country,
    /// The administration this pipeline serves (docs/configuration.md): its currency and rounding, offices and
    /// their time zones, calendar, tax types in VAT-base order, procedure codes and the document codes of deferment
    /// accounts and guarantees. [`Pipeline::for_profile`] derives the fields above from it.
    pub administration: Arc<administration::Profile>,
    /// Secret seed of the random selection draw.
    pub seed: Vec<u8>,
    /// Release at once when every condition holds (the usual setting). When false, an officer releases.
    pub auto_release: bool,
    /// The learned risk model in use, if the analyst chose one: its score is a fact the rules see (`score`) and
    /// part of every lane decision's reason.
    pub risk_model: Option<RiskModel>,
    /// Rule sets stored by risk analysts, each with its validity: the highest version in force on the lodgement
    /// date decides; `rules` decides when none is.
    pub rule_versions: Vec<RuleVersion>,
    /// Watch lists and the AEO register the rules look identifiers up in.
    pub lists: Arc<Lists>,
    /// Partner agencies' own selection rules (the Single Window): a declaration one of them selects (any lane but
    /// green) waits for that agency's decision before release.
    pub agency_rules: Arc<Vec<(String, RuleSet)>>,
    /// Expected lane shares per office and regime; when set, declarations the rules leave green are topped up
    /// (the counts are passed to [`Pipeline::lodge_with`]).
    pub lane_rates: Option<RateTable>,
    /// What each DE 4/8 method of payment means for settlement.
    pub methods: revenue::Methods,
    /// The largest amount, in the national currency, that one customs value, tax line or declaration total may be:
    /// beyond it the declaration is refused (`declaration.amount_too_large`), never computed with.
    pub max_amount: Decimal,
    /// A demonstration convenience: a deferment account or guarantee a declaration names but nobody opened is
    /// opened with this limit, held by the declarant. `None` (the safe default) refuses such an account.
    pub auto_open_limit: Option<Decimal>,
}

/// The default ceiling of [`Pipeline::max_amount`]: 10^15 in the national currency.
pub const DEFAULT_MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// A trained risk model and the name it is known by (its version).
#[derive(Clone)]
pub struct RiskModel {
    pub name: String,
    pub model: std::sync::Arc<risk_model::Model>,
}

impl std::fmt::Debug for RiskModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RiskModel({})", self.name)
    }
}

/// Factors named in a decision's reason.
const MODEL_FACTORS: usize = 3;

impl RiskModel {
    /// Scores each goods item of a declaration or a consignment, from the facts the rules see; the score is its
    /// riskiest item's. A consignment's seller is its consignor, its importer its consignee and its country of
    /// departure the first of its route when it has no country of dispatch; a value not known (zero) is missing.
    pub fn score(&self, facts: &Facts) -> Option<selectivity::ModelScore> {
        use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
        let text = |t: Option<&String>| t.cloned().unwrap_or_default();
        let consignment = &facts.consignment;
        let records: Vec<risk_model::records::Record> = facts
            .items
            .iter()
            .map(|item| risk_model::records::Record {
                office: text(facts.office.as_ref()),
                transport_mode: text(facts.mode.as_ref()),
                declarant: text(facts.declarant.as_ref()),
                importer: text(facts.importer.as_ref().or(consignment.consignees.first())),
                seller: text(
                    facts
                        .seller
                        .as_ref()
                        .or(facts.exporter.as_ref())
                        .or(consignment.consignors.first()),
                ),
                hs_code: text(item.commodity.as_ref()),
                origin_country: text(item.origin.as_ref()),
                departure_country: text(facts.dispatch.as_ref().or(consignment.route.first())),
                net_mass: item.net_mass.and_then(|m| m.to_f64()),
                item_price: Some(item.value)
                    .filter(|v| !v.is_zero())
                    .and_then(|v| v.to_f64()),
                ..risk_model::records::Record::default()
            })
            .collect();
        let scores = self.model.score(&records);
        let (riskiest, score) = scores
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        Some(selectivity::ModelScore {
            score: Decimal::from_f64(score)?.round_dp(4),
            model: self.name.clone(),
            factors: self
                .model
                .factors(&records[riskiest], MODEL_FACTORS)
                .into_iter()
                .map(|f| f.feature.to_owned())
                .collect(),
        })
    }
}

/// The result of running the pipeline: the events to append (in order) and what they lead to.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub events: Vec<(EventKind, String)>,
    pub state: State,
    pub assessment: Option<Assessment>,
    pub decision: Option<Decision>,
}

/// The uniform draw (0..10_000 basis points) for random selection of `mrn`.
/// The rate controller's draw for `mrn`, uniform in [0, 1): keyed like [`roll_for`], on another domain so that
/// the two draws are independent.
pub fn rate_draw_for(seed: &[u8], mrn: &Mrn) -> f64 {
    let digest = Sha256::new()
        .chain_update(seed)
        .chain_update(b"lane-rates:")
        .chain_update(mrn.as_str().as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // The top 53 bits, as a double in [0, 1).
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

pub fn roll_for(seed: &[u8], mrn: &Mrn) -> u32 {
    let digest = Sha256::new()
        .chain_update(seed)
        .chain_update(mrn.as_str().as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 10_000) as u32
}

/// The name of a declaration in the ledger (`receivable:<key>`): its declarant and LRN (see
/// `ledger::customs::declaration_key`).
pub fn ledger_key(declarant: &str, lrn: &str) -> String {
    ledger::customs::declaration_key(declarant, lrn)
}

/// The guarantee a declaration names (DE 8/3, header `ObligationGuarantee`: its GRN or reference), if any.
pub fn guarantee_reference(declaration: &Declaration) -> Option<String> {
    declaration
        .obligation_guarantees
        .iter()
        .find_map(|g| g.id.clone().or_else(|| g.reference_id.clone()))
        .filter(|id| {
            !id.is_empty() && id.len() <= 35 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The identifier of the header document (DE 2/3) of `document_type` a declaration names, if it is one Aduana can
/// name an account by: a deferment account (the administration's deferment document type, UK `DAN`, DE 2/6) or
/// a guarantee.
pub fn header_document_id(declaration: &Declaration, document_type: &str) -> Option<String> {
    declaration
        .additional_documents
        .iter()
        .find(|d| d.type_code == document_type)
        .and_then(|d| d.id.clone())
        .filter(|id| {
            !id.is_empty() && id.len() <= 35 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// What each DE 4/8 method of payment means for settlement, as the profile says.
fn methods_of(profile: &administration::Profile) -> revenue::Methods {
    let methods = &profile.codes.payment_methods;
    let mut table = std::collections::BTreeMap::new();
    for (letters, settles) in [
        (&methods.deferred, revenue::Settles::Deferred),
        (&methods.guaranteed, revenue::Settles::Guaranteed),
        (&methods.cash_account, revenue::Settles::CashAccount),
    ] {
        for letter in letters {
            if let Ok(method) = declaration::PaymentMethod::parse(&letter.to_string()) {
                table.insert(method, settles);
            }
        }
    }
    revenue::Methods::new(table)
}

/// The facts the risk rules see (`lists` gives the `aeo` fact).
pub fn facts(declaration: &Declaration, assessment: Option<&Assessment>, lists: &Lists) -> Facts {
    let value_of = |sequence: u32| {
        assessment
            .and_then(|a| a.items.iter().find(|i| i.sequence == sequence))
            .map_or(Decimal::ZERO, |i| i.customs_value)
    };
    let items: Vec<ItemFacts> = declaration
        .goods_shipment
        .goods_items
        .iter()
        .map(|item| ItemFacts {
            commodity: item.commodity_code().map(|c| c.to_string()),
            origin: item.origin_country().map(|c| c.to_string()),
            procedure: item.procedure_code(),
            value: value_of(item.sequence_numeric),
            net_mass: item.net_mass_kg,
            gross_mass: item.gross_mass_kg,
            supplementary_units: item.tariff_quantity.as_ref().map(|m| m.value),
            description: item.description.clone(),
            dangerous_goods: None,
        })
        .collect();
    let declarant = declaration.declarant_id().map(|p| p.to_string());
    let shipment = &declaration.goods_shipment;
    // A party as the consignment rules see it: its identification number, else its name.
    let party = |p: Option<&declaration::Party>| -> Vec<String> {
        p.and_then(|p| {
            p.id.as_ref()
                .map(|id| id.to_string())
                .or_else(|| p.name.clone())
        })
        .into_iter()
        .collect()
    };
    let consignment = selectivity::ConsignmentFacts {
        consignors: party(declaration.exporter.as_ref()),
        consignees: party(shipment.consignee.as_ref().or(shipment.importer.as_ref())),
        notify_parties: Vec::new(),
        route: declaration
            .consignment
            .iter()
            .flat_map(|c| c.itinerary.iter())
            .map(|c| c.to_string())
            .collect(),
        loading: Vec::new(),
        containers: shipment
            .consignment
            .iter()
            .flat_map(|c| c.transport_equipment.iter())
            .filter_map(|e| e.id.clone())
            .collect(),
        transport_documents: shipment
            .previous_documents
            .iter()
            .chain(
                shipment
                    .goods_items
                    .iter()
                    .flat_map(|i| i.previous_documents.iter()),
            )
            .map(|d| d.id.clone())
            .collect(),
    };
    let importer = declaration
        .goods_shipment
        .importer
        .as_ref()
        .and_then(|p| p.id.as_ref())
        .map(|p| p.to_string());
    Facts {
        aeo: lists.is_aeo(declarant.as_deref(), importer.as_deref()),
        seller: declaration
            .goods_shipment
            .seller
            .as_ref()
            .and_then(|p| p.id.as_ref())
            .map(|p| p.to_string()),
        declaration_type: declaration.type_code.to_string(),
        declarant,
        importer,
        exporter: declaration
            .exporter
            .as_ref()
            .and_then(|p| p.id.as_ref())
            .map(|p| p.to_string()),
        dispatch: declaration
            .goods_shipment
            .export_country
            .as_ref()
            .map(|c| c.to_string()),
        office: declaration.office().map(str::to_owned),
        mode: declaration.transport_mode().map(str::to_owned),
        value: items.iter().map(|i| i.value).sum(),
        items,
        score: None,
        consignment,
    }
}

fn rejection(problems: &[Problem]) -> Vec<RejectionError> {
    problems
        .iter()
        .map(|p| RejectionError {
            code: p.code.code().to_owned(),
            pointer: p.pointer.clone(),
            message: p.message.clone(),
        })
        .collect()
}

/// A hex SHA-256 of `bytes`: the content hash used for idempotency and the event log.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Pipeline {
    /// The UK demonstration administration (`demo-gb`): its demo tariff, rates and rules, MRNs for GB.
    pub fn demo(seed: Vec<u8>) -> Pipeline {
        Pipeline::for_profile(administration::demo(), seed)
    }

    /// The pipeline of an administration: every national fact from its profile (country, payment methods, tax
    /// regime, codes, demonstration conveniences), the reference data its profile names (none: an empty tariff and
    /// nomenclature, rates in the national currency only, until the administration imports its files) and the demo
    /// risk rules.
    pub fn for_profile(profile: administration::Profile, seed: Vec<u8>) -> Pipeline {
        let set = profile
            .demonstration
            .reference_data
            .as_deref()
            .and_then(tariff::demo::set);
        Pipeline {
            tariff: set.map(|s| s.tariff()).unwrap_or_default(),
            nomenclature: set.map(|s| s.nomenclature()).unwrap_or_default(),
            check_codes: false,
            requirements: Arc::default(),
            agency_rules: Arc::default(),
            rates: set.map_or_else(
                || ExchangeRates::new(profile.currency.code.clone()),
                |s| s.exchange_rates(),
            ),
            apportionment: tariff::Apportionment::ByValue,
            rules: RuleSet::parse(selectivity::DEMO_RULES).expect("demo rules are valid (tested)"),
            country: profile.country.clone(),
            seed,
            auto_release: true,
            risk_model: None,
            rule_versions: Vec::new(),
            lists: Arc::new(Lists::default()),
            lane_rates: None,
            methods: methods_of(&profile),
            max_amount: DEFAULT_MAX_AMOUNT,
            auto_open_limit: profile.demonstration.auto_open_limit,
            administration: Arc::new(profile),
        }
    }

    /// This pipeline with another profile in use (changed at run time): the national facts it derives from the
    /// profile are replaced; the reference data, rules and settings stay.
    pub fn with_profile(&self, profile: administration::Profile) -> Pipeline {
        Pipeline {
            country: profile.country.clone(),
            methods: methods_of(&profile),
            auto_open_limit: profile.demonstration.auto_open_limit,
            administration: Arc::new(profile),
            ..self.clone()
        }
    }

    /// The tax regime of the administration: its tax types in VAT-base order, its currency's places and rounding.
    pub fn tax_regime(&self) -> tariff::TaxRegime {
        let profile = &self.administration;
        tariff::TaxRegime {
            order: profile
                .tax_types
                .iter()
                .map(|t| (t.code.clone(), t.in_vat_base))
                .collect(),
            decimal_places: Some(profile.currency.decimal_places),
            rounding: match profile.currency.rounding {
                administration::Rounding::HalfUp => tariff::measures::Rounding::HalfUp,
                administration::Rounding::HalfEven => tariff::measures::Rounding::HalfEven,
                administration::Rounding::Down => tariff::measures::Rounding::Down,
                administration::Rounding::Up => tariff::measures::Rounding::Up,
            },
        }
    }

    /// The deferment account `declaration` names, by the administration's document type.
    pub fn deferment_account(&self, declaration: &Declaration) -> Option<String> {
        header_document_id(declaration, &self.administration.codes.deferment_document)
    }

    /// The guarantee `declaration` names: DE 8/3 (`ObligationGuarantee`), or a header document of the
    /// administration's guarantee document type.
    pub fn guarantee_reference(&self, declaration: &Declaration) -> Option<String> {
        guarantee_reference(declaration).or_else(|| {
            header_document_id(declaration, &self.administration.codes.guarantee_document)
        })
    }

    /// The date at the office of lodgement (its time zone in the profile; the first office's for an office the
    /// profile does not list): the date duties, rates and rules are taken on.
    pub fn local_date(&self, declaration: &Declaration, at: time::OffsetDateTime) -> time::Date {
        self.date_at_office(declaration.office(), at)
    }

    /// The date at `office` (see [`Pipeline::local_date`]).
    pub fn date_at_office(&self, office: Option<&str>, at: time::OffsetDateTime) -> time::Date {
        let profile = &self.administration;
        let office = office
            .and_then(|code| profile.office(code))
            .or(profile.offices.first());
        office
            .and_then(|o| o.utc_offset(at))
            .map_or(at.date(), |offset| at.to_offset(offset).date())
    }

    /// The day a payment order issued at `at` at `office` falls due: the profile's number of working days later,
    /// by its calendar.
    pub fn payment_due(&self, office: Option<&str>, at: time::OffsetDateTime) -> time::Date {
        let profile = &self.administration;
        let today = self.date_at_office(office, at);
        profile
            .calendar
            .add_working_days(today, profile.deadlines.payment_order_working_days)
            .unwrap_or(today)
    }

    /// An amount in the national currency as the API writes it: with the currency's decimal places.
    pub fn amount_text(&self, amount: Decimal) -> String {
        let places = self.administration.currency.decimal_places as usize;
        format!("{amount:.places$}")
    }

    /// Refuses goods items that lack a document the Single Window's requirements ask for (docs/single-window.md):
    /// for each item, the requirements in force for its commodity and its country of origin (imports) or the
    /// declaration's destination (exports), checked against the documents cited (DE 2/3, the item's and the
    /// header's) and its net mass and supplementary quantity.
    ///
    /// `agencies` names the agency that issues each document code (the registry's LPCO types), for the message.
    pub fn check_requirements(
        &self,
        declaration: &Declaration,
        date: time::Date,
        issuers: &Issuers,
    ) -> Vec<Problem> {
        self.requirement_findings(declaration, date, issuers)
            .into_iter()
            .filter(|(_, hold)| hold.is_none())
            .map(|(problem, _)| problem)
            .collect()
    }

    /// The agencies release must wait for because a goods item lacks a document whose type says to hold the
    /// declaration rather than refuse it (`when_missing = "hold"`): each agency with the sentence saying why.
    pub fn agency_holds(
        &self,
        declaration: &Declaration,
        date: time::Date,
        issuers: &Issuers,
    ) -> Vec<(String, String)> {
        let mut holds: Vec<(String, String)> = Vec::new();
        for (problem, hold) in self.requirement_findings(declaration, date, issuers) {
            if let Some(agency) = hold {
                match holds.iter_mut().find(|(a, _)| *a == agency) {
                    Some((_, reason)) => {
                        reason.push(' ');
                        reason.push_str(&problem.message);
                    }
                    None => holds.push((agency, problem.message)),
                }
            }
        }
        holds
    }

    /// Each requirement a goods item does not meet: the problem, and the agency to hold the declaration for when
    /// every registered type of the missing documents says to hold.
    fn requirement_findings(
        &self,
        declaration: &Declaration,
        date: time::Date,
        issuers: &Issuers,
    ) -> Vec<(Problem, Option<String>)> {
        let mut problems = Vec::new();
        if self.requirements.is_empty() {
            return problems;
        }
        let exports = declaration.type_code.kind == declaration::DeclarationKind::EX;
        let direction = if exports {
            lpco::Direction::Export
        } else {
            lpco::Direction::Import
        };
        for (index, item) in declaration.goods_shipment.goods_items.iter().enumerate() {
            let Some(code) = item.commodity_code() else {
                continue;
            };
            let country = if exports {
                declaration.goods_shipment.destination_country.as_ref()
            } else {
                item.origin_country()
            };
            let Some(country) = country else {
                continue;
            };
            let cited = declaration.documents_cited(item);
            let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
            let quantities = item_quantities(item);
            for requirement in
                self.requirements
                    .for_goods(code.as_str(), direction, country.as_str(), date)
            {
                if let lpco::Verdict::Missing {
                    documents,
                    otherwise,
                    ..
                } = requirement.check(&cited, &quantities)
                {
                    let mut named: Vec<&str> = requirement.agency.as_deref().into_iter().collect();
                    let registered: Vec<&lpco::Issuer> =
                        documents.iter().filter_map(|d| issuers.get(d)).collect();
                    for issuer in &registered {
                        if !named.contains(&issuer.agency.as_str()) {
                            named.push(&issuer.agency);
                        }
                    }
                    let hold = (!registered.is_empty() && registered.iter().all(|i| i.hold))
                        .then(|| registered[0].agency.clone());
                    let agency = if named.is_empty() {
                        String::new()
                    } else {
                        format!(" (agency {})", named.join(", "))
                    };
                    problems.push((Problem::with_message(
                        ErrorCode::LpcoMissing,
                        format!(
                            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{}]/AdditionalDocument",
                            index + 1
                        ),
                        format!(
                            "Goods item {} ({code} {} {country}) needs {} for {}{agency}: {otherwise}.",
                            index + 1,
                            if exports { "to" } else { "from" },
                            documents.join(" or "),
                            requirement.title,
                        ),
                    ), hold));
                }
            }
        }
        problems
    }

    /// Checks every licence, permit, certificate or other document a goods item cites (DE 2/3) whose code is an
    /// LPCO type an agency registered, against what the agencies issued (`held`, loaded by storage with the
    /// declaration's transaction): by its status code (the type's data), an exempt or not-required document is
    /// passed, one applied for is refused until the agency decides, and a held one must be issued to the declarant
    /// or the importer, in force on `date`, cover the item's commodity and origin, and have balance enough for the
    /// quantity (DE 8/7 written off, else the item's net mass or supplementary quantity in the document's unit).
    /// Returns the draws to write with the lodgement, or every problem; the documents are not changed either way.
    pub fn check_licences(
        &self,
        declaration: &Declaration,
        held: &lpco::Held,
        date: time::Date,
    ) -> Result<Vec<lpco::Draw>, Vec<Problem>> {
        if held.types.is_empty() {
            return Ok(Vec::new());
        }
        let mut book = held.clone();
        let mut draws: Vec<lpco::Draw> = Vec::new();
        let mut problems = Vec::new();
        let declarant = declaration.declarant_id().map(|p| p.as_str());
        let importer = declaration
            .goods_shipment
            .importer
            .as_ref()
            .and_then(|p| p.id.as_ref())
            .map(|p| p.as_str());
        let parties: Vec<&str> = [declarant, importer].into_iter().flatten().collect();
        for (index, item) in declaration.goods_shipment.goods_items.iter().enumerate() {
            let sequence = index as u32 + 1;
            let Some(commodity) = item.commodity_code() else {
                continue;
            };
            let cited = item
                .additional_documents
                .iter()
                .enumerate()
                .map(|(at, d)| {
                    (
                        d,
                        format!(
                            "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{sequence}]/AdditionalDocument[{}]",
                            at + 1
                        ),
                    )
                })
                .chain(declaration.additional_documents.iter().enumerate().map(|(at, d)| {
                    (d, format!("/MetaData/Declaration/AdditionalDocument[{}]", at + 1))
                }));
            for (document, pointer) in cited {
                let code = format!("{}{}", document.category_code, document.type_code);
                let Some(kind) = held.lpco_type(&code) else {
                    continue;
                };
                // DE 8/7 written off first (`KGM#G`: the unit, then a qualifier), then the item's own quantities.
                let mut quantities: Vec<(Decimal, &str)> = Vec::new();
                if let Some(write_off) = &document.write_off_quantity
                    && let Some(unit) = write_off.unit_code.as_deref()
                {
                    quantities.push((write_off.value, unit.split('#').next().unwrap_or(unit)));
                }
                quantities.extend(item_quantities(item));
                let status = document.lpco_exemption_code.as_deref();
                let refusal = match kind.statuses.meaning(status) {
                    lpco::Meaning::Exempt | lpco::Meaning::NotRequired => continue,
                    lpco::Meaning::AppliedFor => lpco::Refusal::AppliedFor,
                    lpco::Meaning::Held => {
                        let same_declaration = draws.iter().any(|d| {
                            d.code == kind.code
                                && Some(d.reference.as_str()) == document.id.as_deref()
                        });
                        let using = lpco::Use {
                            item: sequence,
                            commodity: &commodity,
                            origin: item.origin_country(),
                            parties: &parties,
                            date,
                            quantities: &quantities,
                            same_declaration,
                        };
                        match book.draw(&kind.code, document.id.as_deref(), &using) {
                            Ok(draw) => {
                                draws.push(draw);
                                continue;
                            }
                            Err(refusal) => refusal,
                        }
                    }
                };
                problems.push(licence_problem(
                    refusal,
                    kind,
                    document.id.as_deref().unwrap_or_default(),
                    sequence,
                    &commodity,
                    pointer,
                ));
            }
        }
        if problems.is_empty() {
            Ok(draws)
        } else {
            Err(problems)
        }
    }

    /// Refuses goods items under a procedure (DE 1/10) the administration does not accept.
    pub fn check_procedures(&self, declaration: &Declaration) -> Vec<Problem> {
        let accepted = &self.administration.codes.procedures;
        let mut problems = Vec::new();
        for (index, item) in declaration.goods_shipment.goods_items.iter().enumerate() {
            let Some(code) = item.procedure_code() else {
                continue;
            };
            if !accepted.contains(&code) {
                problems.push(Problem::with_message(
                    ErrorCode::ProcedureNotAccepted,
                    format!(
                        "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{}]/GovernmentProcedure",
                        index + 1
                    ),
                    format!(
                        "The procedure {code} (DE 1/10) of goods item {} is not one this administration accepts.",
                        index + 1
                    ),
                ));
            }
        }
        problems
    }

    /// The rules deciding on `date`, and their stored version (`None`: the rules the pipeline was built with).
    /// Screens a consignment before loading or arrival (an entry summary's, read by the caller into `facts`): the
    /// `aeo` fact from the register, the learned model's score when a model is in use, then the consignment rules
    /// of the rule set in force on `date` (`RuleSet::screen`); each referral's reason names the rules version.
    pub fn screen_consignment(&self, mut facts: Facts, date: time::Date) -> selectivity::Screening {
        let (rules, version) = self.rules_for(date);
        facts.aeo = self.lists.is_aeo(
            facts.declarant.as_deref(),
            facts
                .importer
                .as_deref()
                .or(facts.consignment.consignees.first().map(String::as_str)),
        );
        facts.score = self.risk_model.as_ref().and_then(|m| m.score(&facts));
        let mut screening = rules.screen(&facts, &self.lists);
        if let Some(version) = version {
            for (_, reason) in &mut screening.referrals {
                *reason = format!("{reason} (Risk rules version {version}.)");
            }
        }
        screening
    }

    pub fn rules_for(&self, date: time::Date) -> (&RuleSet, Option<u32>) {
        match selectivity::rules_in_force(&self.rule_versions, date) {
            Some(version) => (&version.rules, Some(version.version)),
            None => (&self.rules, None),
        }
    }

    /// The agencies whose own selection rules choose `declaration` (a rule hit, or their random selection), each
    /// with the reason; each agency's draw is its own (derived from the seed, the agency and the MRN).
    pub fn agency_selections(
        &self,
        declaration: &Declaration,
        assessment: Option<&Assessment>,
        mrn: &Mrn,
    ) -> Vec<(String, String)> {
        if self.agency_rules.is_empty() {
            return Vec::new();
        }
        let facts = facts(declaration, assessment, &self.lists);
        self.agency_rules
            .iter()
            .filter_map(|(agency, rules)| {
                let seed = [self.seed.as_slice(), b"agency:", agency.as_bytes()].concat();
                let decision = rules.decide_with(&facts, &self.lists, roll_for(&seed, mrn));
                (decision.lane != selectivity::Lane::Green).then(|| {
                    (
                        agency.clone(),
                        format!("Selected by the agency's rules: {}", decision.reason),
                    )
                })
            })
            .collect()
    }

    /// The document codes the Single Window's requirements in force ask of `declaration`'s goods items (any way
    /// of any group), so that the agencies issuing them can be named.
    pub fn documents_required(
        &self,
        declaration: &Declaration,
        date: time::Date,
    ) -> std::collections::BTreeSet<String> {
        let mut codes = std::collections::BTreeSet::new();
        if self.requirements.is_empty() {
            return codes;
        }
        let exports = declaration.type_code.kind == declaration::DeclarationKind::EX;
        let direction = if exports {
            lpco::Direction::Export
        } else {
            lpco::Direction::Import
        };
        for item in &declaration.goods_shipment.goods_items {
            let country = if exports {
                declaration.goods_shipment.destination_country.as_ref()
            } else {
                item.origin_country()
            };
            let (Some(code), Some(country)) = (item.commodity_code(), country) else {
                continue;
            };
            for requirement in
                self.requirements
                    .for_goods(code.as_str(), direction, country.as_str(), date)
            {
                for group in &requirement.groups {
                    for way in &group.ways {
                        if let lpco::Way::Document {
                            code,
                            waiver: false,
                            ..
                        } = way
                        {
                            codes.insert(code.clone());
                        }
                    }
                }
            }
        }
        codes
    }

    /// Assesses `declaration` as of `date` (exports are valued, not taxed).
    pub fn assess(
        &self,
        declaration: &Declaration,
        date: time::Date,
    ) -> Result<Assessment, Vec<Problem>> {
        self.assess_naming(declaration, date, &Issuers::new())
    }

    /// [`Pipeline::assess`], naming in a missing document's message the agency that issues it (`agencies`: by
    /// document code).
    pub fn assess_naming(
        &self,
        declaration: &Declaration,
        date: time::Date,
        issuers: &Issuers,
    ) -> Result<Assessment, Vec<Problem>> {
        let mut problems = self.check_procedures(declaration);
        problems.extend(self.check_requirements(declaration, date, issuers));
        if self.check_codes {
            problems.extend(self.check_codes(declaration, date));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let assessment = tariff::assess_with(
            declaration,
            &self.tariff,
            &self.rates,
            date,
            self.apportionment,
            &self.tax_regime(),
        )?;
        self.check_ceiling(&assessment)?;
        Ok(assessment)
    }

    /// Refuses an assessment with a customs value, a tax or a total above [`Pipeline::max_amount`].
    pub fn check_ceiling(&self, assessment: &Assessment) -> Result<(), Vec<Problem>> {
        let max = self.max_amount;
        let currency = &assessment.currency;
        let mut problems = Vec::new();
        let too_large = |what: String, amount: Decimal, pointer: String| {
            Problem::with_message(
                ErrorCode::AmountTooLarge,
                pointer,
                format!(
                    "{what} comes to {amount} {currency}, more than the {max} {currency} this administration accepts \
                     for one amount."
                ),
            )
        };
        let item_path = |sequence: u32| {
            format!("/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{sequence}]")
        };
        for item in &assessment.items {
            if item.customs_value > max {
                problems.push(too_large(
                    format!("The customs value of goods item {}", item.sequence),
                    item.customs_value,
                    item_path(item.sequence),
                ));
            }
            for tax in &item.taxes {
                if tax.amount > max {
                    problems.push(too_large(
                        format!("The {} of goods item {}", tax.tax_type, item.sequence),
                        tax.amount,
                        format!("{}/Commodity/DutyTaxFee", item_path(item.sequence)),
                    ));
                }
            }
        }
        let total = assessment
            .totals
            .iter()
            .try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.amount));
        match total {
            Some(total) if total <= max => {}
            total => problems.push(too_large(
                "The declaration's duties and taxes".into(),
                total.unwrap_or(Decimal::MAX),
                "/MetaData/Declaration".into(),
            )),
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Checks every declared commodity code against the nomenclature in force on `date`.
    pub fn check_codes(&self, declaration: &Declaration, date: time::Date) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (index, item) in declaration.goods_shipment.goods_items.iter().enumerate() {
            let Some(code) = item.commodity_code() else {
                continue;
            };
            if let Err(error) = self.nomenclature.check(code.as_str(), date) {
                let code_of_error = match error {
                    tariff::CodeError::Unknown { .. } => ErrorCode::CommodityCodeUnknown,
                    tariff::CodeError::NotLeaf { .. } => ErrorCode::CommodityCodeNotLeaf,
                    tariff::CodeError::NotInForce { .. } => ErrorCode::CommodityCodeNotInForce,
                };
                problems.push(Problem::with_message(
                    code_of_error,
                    format!(
                        "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[{}]/Commodity/Classification",
                        index + 1
                    ),
                    error.sentence(code.as_str(), date),
                ));
            }
        }
        problems
    }

    pub(crate) fn run(&self, outcome: &mut Outcome, command: &Command, reason: &str) -> bool {
        match workflow::decide(&outcome.state, command) {
            Ok(events) => {
                for event in events {
                    outcome.state.apply(&event);
                    outcome.events.push((event, reason.to_owned()));
                }
                true
            }
            Err(_) => false,
        }
    }

    /// The lane decision: the rules in force, the model's score, then the rate top-up when a rate table is set
    /// and the counts are passed.
    pub fn select(
        &self,
        declaration: &Declaration,
        assessment: Option<&Assessment>,
        mrn: &Mrn,
        date: time::Date,
        rate_book: Option<&mut RateBook>,
    ) -> (Decision, workflow::SelectionBasis) {
        let (rules, rules_version) = self.rules_for(date);
        let mut facts = facts(declaration, assessment, &self.lists);
        facts.score = self.risk_model.as_ref().and_then(|m| m.score(&facts));
        let mut decision = rules.decide_with(&facts, &self.lists, roll_for(&self.seed, mrn));
        if let Some(version) = rules_version {
            decision.reason = format!("{} (Risk rules version {version}.)", decision.reason);
        }
        let mut basis = workflow::SelectionBasis {
            rules_version,
            model: facts.score.as_ref().map(|s| s.model.clone()),
            score: facts.score.as_ref().map(|s| s.score),
            rate: None,
            priority: rules.priority(&facts, &self.lists),
        };
        if let Some(priority) = &basis.priority {
            decision.reason = format!(
                "{} Queue priority {}: {}.",
                decision.reason,
                priority.id,
                priority.name()
            );
        }
        if let (Some(table), Some(book)) = (&self.lane_rates, rate_book) {
            let office = declaration.office().unwrap_or("*");
            let regime: String = declaration
                .goods_shipment
                .goods_items
                .first()
                .and_then(|i| i.procedure_code())
                .map(|p| p.chars().take(2).collect())
                .unwrap_or_else(|| "*".into());
            let rates = table.rates(office, &regime);
            let population = RateBook::population(office, &regime, facts.aeo);
            if let Some(state) = book.state(date, &population) {
                // The minimum random rate first: a declaration no rule selects may be drawn for a documentary
                // check whatever the counts (its own draw, independent of the top-up's).
                let minimum = rates.random_for(facts.aeo);
                if decision.lane == selectivity::Lane::Green
                    && minimum > 0
                    && roll_for(&[self.seed.as_slice(), b"minimum-random"].concat(), mrn) < minimum
                {
                    decision.lane = selectivity::Lane::Yellow;
                    decision.random = true;
                    decision.reason = format!(
                        "Yellow lane by random selection at the minimum random rate of office {office}, regime \
                         {regime}{} ({}.{:02} % of declarations no rule selects).{}",
                        if facts.aeo {
                            " for authorised operators"
                        } else {
                            ""
                        },
                        minimum / 100,
                        minimum % 100,
                        facts
                            .score
                            .as_ref()
                            .map(|s| format!(" {}", s.sentence()))
                            .unwrap_or_default()
                    );
                }
                let rule_lane = decision.lane;
                let chosen = selectivity::rates::top_up(
                    &rates,
                    facts.aeo,
                    state,
                    rule_lane,
                    rate_draw_for(&self.seed, mrn),
                );
                if chosen.topped_up {
                    decision.lane = chosen.lane;
                    let share = match chosen.lane {
                        selectivity::Lane::Red => rates.red,
                        selectivity::Lane::Yellow => rates.yellow,
                        _ => rates.blue,
                    };
                    decision.reason = format!(
                        "{} lane by the controlled rate of office {office}, regime {regime}{}: {}.{:02} % of \
                         declarations are expected in it and the rules selected fewer. (No rule applies.{})",
                        chosen.lane.title(),
                        if facts.aeo {
                            " for authorised operators"
                        } else {
                            ""
                        },
                        share / 100,
                        share % 100,
                        facts
                            .score
                            .as_ref()
                            .map(|s| format!(" {}", s.sentence()))
                            .unwrap_or_default()
                    );
                }
                basis.rate = Some(workflow::RateRecord {
                    population,
                    rule_lane,
                    topped_up: chosen.topped_up,
                });
            }
        }
        (decision, basis)
    }
}

#[cfg(test)]
mod tests;

/// The quantities a goods item declares, in their units: its net mass in KGM and its supplementary quantity.
fn item_quantities(item: &declaration::GoodsItem) -> Vec<(Decimal, &str)> {
    let mut quantities = Vec::new();
    if let Some(kg) = item.net_mass_kg {
        quantities.push((kg, "KGM"));
    }
    if let Some(measure) = &item.tariff_quantity
        && let Some(unit) = measure.unit_code.as_deref()
    {
        quantities.push((measure.value, unit));
    }
    quantities
}

/// A refused document as the trader reads it: the document, its agency, the goods item and what is wrong.
fn licence_problem(
    refusal: lpco::Refusal,
    kind: &lpco::LpcoType,
    reference: &str,
    item: u32,
    commodity: &declaration::CommodityCode,
    pointer: String,
) -> Problem {
    let named = format!(
        "The {} {} {reference} (agency {}) cited for goods item {item} ({commodity})",
        kind.code, kind.title, kind.agency
    );
    let (code, message) = match refusal {
        lpco::Refusal::Unknown => (
            ErrorCode::LpcoUnknown,
            format!(
                "{named} was not issued by the agency: no {} has this reference.",
                kind.code
            ),
        ),
        lpco::Refusal::NoReference => (
            ErrorCode::LpcoUnknown,
            format!("{named} has no reference (DE 2/3 ID): give the one the agency issued."),
        ),
        lpco::Refusal::NotHolder => (
            ErrorCode::LpcoNotHolder,
            format!("{named} was issued to another party than the declarant or the importer."),
        ),
        lpco::Refusal::NotInForce { from, to, revoked } => (
            ErrorCode::LpcoNotInForce,
            if revoked {
                format!("{named} was revoked by the agency.")
            } else {
                format!("{named} is in force from {from} to {to}, not on the date of acceptance.")
            },
        ),
        lpco::Refusal::NotCovering { prefix, origin } => (
            ErrorCode::LpcoGoodsNotCovered,
            format!(
                "{named} covers goods of codes {prefix}…{}, not these.",
                origin.map(|o| format!(" from {o}")).unwrap_or_default()
            ),
        ),
        lpco::Refusal::NoQuantity { unit } => (
            ErrorCode::LpcoBalanceExceeded,
            format!(
                "{named} keeps its balance in {unit}: declare the quantity to write off in {unit} (DE 8/7)."
            ),
        ),
        lpco::Refusal::Exhausted { left, wanted, unit } => (
            ErrorCode::LpcoBalanceExceeded,
            format!("{named} has {left} {unit} left, less than the {wanted} {unit} declared."),
        ),
        lpco::Refusal::AlreadyUsed => (
            ErrorCode::LpcoBalanceExceeded,
            format!("{named} serves one declaration and another declaration has used it."),
        ),
        lpco::Refusal::AppliedFor => (
            ErrorCode::LpcoNotIssued,
            format!(
                "{named} is declared as applied for: lodge once the agency has issued it, citing its reference."
            ),
        ),
    };
    Problem::with_message(code, pointer, message)
}
