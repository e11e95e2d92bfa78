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
//! **Architecture invariant**: pure. Time (`date`), the MRN serial and the seed are passed in; no IO.

use declaration::{Country, Declaration, DeclarationKind, Mrn};
use error_table::{ErrorCode, Problem};
use rust_decimal::Decimal;
use selectivity::rates::{RateBook, RateTable};
use selectivity::{Decision, Facts, ItemFacts, Lists, RuleSet, RuleVersion};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tariff::{Assessment, ExchangeRates, Tariff};
use workflow::{Command, EventKind, Liabilities, RejectionError, State, Status};

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
    /// How shipment-level costs are shared among goods items.
    pub apportionment: tariff::Apportionment,
    pub rules: RuleSet,
    /// The country whose MRNs we issue.
    pub country: Country,
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
    /// Expected lane shares per office and regime; when set, declarations the rules leave green are topped up
    /// (the counts are passed to [`Pipeline::lodge_with`]).
    pub lane_rates: Option<RateTable>,
}

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
    /// Scores each goods item of a declaration; the declaration's score is its riskiest item's.
    pub fn score(
        &self,
        declaration: &Declaration,
        assessment: Option<&Assessment>,
    ) -> Option<selectivity::ModelScore> {
        use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
        let party = |p: Option<&declaration::PartyId>| p.map(|p| p.to_string()).unwrap_or_default();
        let records: Vec<risk_model::records::Record> = declaration
            .goods_shipment
            .goods_items
            .iter()
            .map(|item| risk_model::records::Record {
                office: declaration.office().unwrap_or_default().to_owned(),
                transport_mode: declaration.transport_mode().unwrap_or_default().to_owned(),
                declarant: party(declaration.declarant_id()),
                importer: party(
                    declaration
                        .goods_shipment
                        .importer
                        .as_ref()
                        .and_then(|p| p.id.as_ref()),
                ),
                seller: party(
                    declaration
                        .goods_shipment
                        .seller
                        .as_ref()
                        .and_then(|p| p.id.as_ref())
                        .or_else(|| declaration.exporter.as_ref().and_then(|p| p.id.as_ref())),
                ),
                hs_code: item
                    .commodity_code()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                origin_country: item
                    .origin_country()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                departure_country: declaration
                    .goods_shipment
                    .export_country
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                net_mass: item.net_mass_kg.and_then(|m| m.to_f64()),
                item_price: assessment
                    .and_then(|a| a.items.iter().find(|i| i.sequence == item.sequence_numeric))
                    .and_then(|i| i.customs_value.to_f64()),
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

/// How a DE 4/8 method of payment settles a tax line: `E`, `F` and `G` defer, `M`, `R` and `S` are secured by a
/// guarantee or deposit, everything else (A cash, B card, C cheque, D other, H transfer, P cash account …) is
/// payable before release.
/// The name of a declaration in the ledger (`receivable:<key>`): its declarant and LRN, which identify it before
/// it has an id and for ever after. Characters an account name cannot hold are replaced, and a short hash then
/// keeps distinct LRNs distinct.
pub fn ledger_key(declarant: &str, lrn: &str) -> String {
    let clean: String = lrn
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean == lrn {
        format!("{declarant}/{lrn}")
    } else {
        let digest = Sha256::digest(lrn.as_bytes());
        format!("{declarant}/{clean}.{}", hex_prefix(&digest))
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// What the deferment account and the guarantee refused at lodgement, each with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Securities {
    pub deferment_refused: Option<String>,
    pub guarantee_refused: Option<String>,
    /// Taken from the trader's cash account (DE 4/8 P): recorded as a payment once assessed.
    pub cash_account_paid: Option<Decimal>,
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

/// The deferment account a declaration names (DE 2/6: a header document of type DAN), if any.
pub fn deferment_account(declaration: &Declaration) -> Option<String> {
    declaration
        .additional_documents
        .iter()
        .find(|d| d.type_code == "DAN")
        .and_then(|d| d.id.clone())
        .filter(|id| {
            !id.is_empty() && id.len() <= 35 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// True for DE 4/8 methods paid at once (not deferred E/F/G, not guaranteed M/R/S).
pub fn is_immediate(method: &str) -> bool {
    !matches!(method, "E" | "F" | "G" | "M" | "R" | "S")
}

pub fn liabilities(assessment: &Assessment) -> Liabilities {
    let mut out = Liabilities {
        currency: assessment.currency.clone(),
        ..Liabilities::default()
    };
    for tax in assessment.items.iter().flat_map(|i| &i.taxes) {
        match tax.payment_method.as_str() {
            "E" | "F" | "G" => out.deferred += tax.amount,
            "M" | "R" | "S" => out.guaranteed += tax.amount,
            _ => out.immediate += tax.amount,
        }
    }
    out
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
        })
        .collect();
    let declarant = declaration.declarant_id().map(|p| p.to_string());
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
    /// The demo administration: demo tariff, rates and rules, MRNs for GB.
    pub fn demo(seed: Vec<u8>) -> Pipeline {
        Pipeline {
            tariff: tariff::demo::tariff(),
            nomenclature: tariff::demo::nomenclature(),
            check_codes: false,
            rates: tariff::demo::exchange_rates(),
            apportionment: tariff::Apportionment::ByValue,
            rules: RuleSet::parse(selectivity::DEMO_RULES).expect("demo rules are valid (tested)"),
            country: Country::parse("GB").expect("GB"),
            seed,
            auto_release: true,
            risk_model: None,
            rule_versions: Vec::new(),
            lists: Arc::new(Lists::default()),
            lane_rates: None,
        }
    }

    /// The rules deciding on `date`, and their stored version (`None`: the rules the pipeline was built with).
    pub fn rules_for(&self, date: time::Date) -> (&RuleSet, Option<u32>) {
        match selectivity::rules_in_force(&self.rule_versions, date) {
            Some(version) => (&version.rules, Some(version.version)),
            None => (&self.rules, None),
        }
    }

    /// Assesses `declaration` as of `date` (exports are valued, not taxed).
    pub fn assess(
        &self,
        declaration: &Declaration,
        date: time::Date,
    ) -> Result<Assessment, Vec<Problem>> {
        if self.check_codes {
            let problems = self.check_codes(declaration, date);
            if !problems.is_empty() {
                return Err(problems);
            }
        }
        tariff::assess_with(
            declaration,
            &self.tariff,
            &self.rates,
            date,
            self.apportionment,
        )
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

    /// Runs lodgement: lodged, then accepted (with the MRN built from `serial`) or rejected, then the automatic
    /// steps. `date` is the acceptance date (the tariff in force on it applies).
    pub fn lodge(
        &self,
        declaration: &Declaration,
        hash: &str,
        serial: u64,
        date: time::Date,
    ) -> Outcome {
        self.lodge_with(declaration, hash, serial, date, Securities::default(), None)
    }

    /// [`Pipeline::lodge`], knowing whether the deferment account and the guarantee took the duties deferred or
    /// guaranteed: what they refused is due at once, and the declaration waits for payment.
    pub fn lodge_with(
        &self,
        declaration: &Declaration,
        hash: &str,
        serial: u64,
        date: time::Date,
        securities: Securities,
        rate_book: Option<&mut RateBook>,
    ) -> Outcome {
        let mut outcome = Outcome {
            events: Vec::new(),
            state: State::new(),
            assessment: None,
            decision: None,
        };
        let lodge = Command::Lodge {
            pre_lodged: declaration.type_code.is_pre_lodged(),
            content_hash: hash.to_owned(),
            deferment_refused: securities.deferment_refused,
            guarantee_refused: securities.guarantee_refused,
            cash_account_paid: securities.cash_account_paid,
        };
        self.run(&mut outcome, &lodge, "Declaration received.");
        match self.assess(declaration, date) {
            Err(problems) => {
                let reason = format!(
                    "Rejected: {}",
                    problems
                        .iter()
                        .map(|p| p.message.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                self.run(
                    &mut outcome,
                    &Command::Reject {
                        errors: rejection(&problems),
                    },
                    &reason,
                );
            }
            Ok(assessment) => {
                let procedure = match declaration.type_code.kind {
                    DeclarationKind::IM => 'J',
                    DeclarationKind::EX => 'A',
                    DeclarationKind::CO => 'C',
                };
                let mrn = Mrn::issue(date.year(), &self.country, serial, procedure);
                self.run(
                    &mut outcome,
                    &Command::Accept { mrn: mrn.clone() },
                    "Declaration accepted.",
                );
                outcome.assessment = Some(assessment);
                self.continue_automatically(declaration, &mut outcome, date, rate_book);
            }
        }
        outcome
    }

    /// Continues the automatic steps from `state` (after a human acted). `assessment` is the declaration's current
    /// assessment (computed again by the caller after an amendment).
    pub fn advance(
        &self,
        declaration: &Declaration,
        state: State,
        assessment: Assessment,
        date: time::Date,
    ) -> Outcome {
        let mut outcome = Outcome {
            events: Vec::new(),
            state,
            assessment: Some(assessment),
            decision: None,
        };
        self.continue_automatically(declaration, &mut outcome, date, None);
        outcome
    }

    fn run(&self, outcome: &mut Outcome, command: &Command, reason: &str) -> bool {
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
        facts.score = self
            .risk_model
            .as_ref()
            .and_then(|m| m.score(declaration, assessment));
        let mut decision = rules.decide_with(&facts, &self.lists, roll_for(&self.seed, mrn));
        if let Some(version) = rules_version {
            decision.reason = format!("{} (Risk rules version {version}.)", decision.reason);
        }
        let mut basis = workflow::SelectionBasis {
            rules_version,
            model: facts.score.as_ref().map(|s| s.model.clone()),
            score: facts.score.as_ref().map(|s| s.score),
            rate: None,
        };
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

    fn continue_automatically(
        &self,
        declaration: &Declaration,
        outcome: &mut Outcome,
        date: time::Date,
        mut rate_book: Option<&mut RateBook>,
    ) {
        // Each step is taken at most once per call; the loop ends when no automatic step applies.
        for _ in 0..8 {
            let state = &outcome.state;
            let progressed = match state.status {
                Status::Accepted if state.lane.is_none() => {
                    let mrn = state
                        .mrn
                        .clone()
                        .expect("an accepted declaration has an MRN");
                    let (decision, basis) = self.select(
                        declaration,
                        outcome.assessment.as_ref(),
                        &mrn,
                        date,
                        rate_book.as_deref_mut(),
                    );
                    let reason = decision.reason.clone();
                    let command = Command::AssignLane {
                        lane: decision.lane,
                        hits: decision.hits.clone(),
                        random: decision.random,
                        basis,
                    };
                    outcome.decision = Some(decision);
                    self.run(outcome, &command, &reason)
                }
                Status::Accepted if state.control_passed && state.liabilities.is_none() => {
                    let Some(assessment) = outcome.assessment.as_ref() else {
                        return;
                    };
                    let mut liabilities = liabilities(assessment);
                    let mut reason = format!(
                        "Assessed: {} {} in duties and taxes.",
                        liabilities.total(),
                        liabilities.currency
                    );
                    if let Some(why) = &state.deferment_refused
                        && !liabilities.deferred.is_zero()
                    {
                        reason.push_str(&format!(
                            " {why} The {} deferred is due now.",
                            liabilities.deferred
                        ));
                        liabilities.immediate += liabilities.deferred;
                        liabilities.deferred = Decimal::ZERO;
                    }
                    if let Some(why) = &state.guarantee_refused
                        && !liabilities.guaranteed.is_zero()
                    {
                        reason.push_str(&format!(
                            " {why} The {} guaranteed is due now.",
                            liabilities.guaranteed
                        ));
                        liabilities.immediate += liabilities.guaranteed;
                        liabilities.guaranteed = Decimal::ZERO;
                    }
                    self.run(outcome, &Command::Assess { liabilities }, &reason)
                }
                // Duties the trader's cash account paid at lodgement are recorded as soon as they are requested.
                Status::AwaitingPayment
                    if state.paid.is_zero()
                        && state.cash_account_paid.is_some_and(|c| c > Decimal::ZERO) =>
                {
                    let amount = state.cash_account_paid.unwrap_or_default();
                    self.run(
                        outcome,
                        &Command::RecordPayment {
                            amount,
                            reference: "cash account".into(),
                        },
                        &format!("Paid {amount} from the trader's cash account (DE 4/8 P)."),
                    )
                }
                Status::Settled if self.auto_release && state.releasable() => self.run(
                    outcome,
                    &Command::Release,
                    "Released: arrived, controls passed, duties settled.",
                ),
                _ => false,
            };
            if !progressed {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
