//! The lifecycle of a declaration, as a pure state machine.
//!
//! ```text
//! lodged ─┬─> rejected
//!         └─> accepted (MRN) ─> lane assigned ─┬─> under_control ─(control passed)─┐
//!                                              └───────────────────────────────────┴─> assessed
//! assessed ─┬─> awaiting_payment ─(paid)─> settled ─(goods arrived)─> released
//!           └─> settled (deferred, guaranteed, nothing due) ─────────────^
//! any status before released ─> cancelled (on the trader's request)
//! accepted … settled ─> amended (a new version, assessed again)
//! a lane changed by an officer ─> assessed again once its control passes
//! payments received and refunds paid ─> recorded at any status after lodgement (money is a fact)
//! ```
//!
//! [`decide`] takes the current [`State`] and a [`Command`] and returns the events to append, or a refusal with an
//! error code; [`State::apply`] folds an event into the state. Storage appends exactly what `decide` returned, so
//! the state of a declaration is always the fold of its events. The caller passes time and actor; nothing here
//! reads a clock.
//!
//! [`study`] computes the Time Release Study intervals from event histories.
//!
//! **Architecture invariants**: nothing is released before its goods have arrived, before every control the lane
//! requires has passed, and before every liability is settled or secured. No transition leaves a terminal status
//! (released, rejected, cancelled).

pub mod hit_rates;
pub mod inspection;
pub mod kpi;
pub mod study;

use declaration::Mrn;
use error_table::ErrorCode;
use rust_decimal::Decimal;
use selectivity::{Hit, Lane};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The status of a declaration, as documented for the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Received, not yet checked (transient: lodgement is checked at once).
    Lodged,
    /// Refused on its business rules; terminal.
    Rejected,
    /// Accepted with an MRN; waiting for its lane or for assessment.
    Accepted,
    /// Stopped for a documentary check (yellow) or physical examination (red).
    UnderControl,
    /// Duties and taxes computed; settlement being decided.
    Assessed,
    /// Duties are due for immediate payment and not yet paid.
    AwaitingPayment,
    /// Every liability is paid, deferred or guaranteed; waiting for the goods to arrive before release.
    Settled,
    /// The goods may leave customs control; terminal.
    Released,
    /// Cancelled at the trader's request before release; terminal.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Lodged,
        Status::Rejected,
        Status::Accepted,
        Status::UnderControl,
        Status::Assessed,
        Status::AwaitingPayment,
        Status::Settled,
        Status::Released,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Lodged => "lodged",
            Status::Rejected => "rejected",
            Status::Accepted => "accepted",
            Status::UnderControl => "under_control",
            Status::Assessed => "assessed",
            Status::AwaitingPayment => "awaiting_payment",
            Status::Settled => "settled",
            Status::Released => "released",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Rejected | Status::Released | Status::Cancelled
        )
    }

    /// Whether a new version (an amendment or a correction) is taken in this status: after acceptance, before
    /// release.
    pub fn takes_amendment(self) -> bool {
        matches!(
            self,
            Status::Accepted
                | Status::UnderControl
                | Status::Assessed
                | Status::AwaitingPayment
                | Status::Settled
        )
    }
}

/// The kind of control a lane calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    DocumentaryCheck,
    PhysicalExamination,
}

/// The officer's finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum ControlResult {
    NoIrregularity,
    Irregularity {
        /// e.g. "classification", "valuation", "origin", "quantity", "prohibited_goods".
        irregularity_type: String,
        #[serde(
            default,
            with = "rust_decimal::serde::str_option",
            skip_serializing_if = "Option::is_none"
        )]
        additional_duty: Option<Decimal>,
    },
}

/// How the liabilities of a declaration were settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    NothingDue,
    Paid,
    Deferred,
    Guaranteed,
}

/// Where a payment came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentSource {
    /// A bank's confirmation of a payment order.
    #[default]
    Bank,
    /// Recorded by an officer: paid at a customs counter.
    Counter,
    /// Taken from the trader's cash account with customs (DE 4/8 P).
    CashAccount,
}

/// Amounts owed, by how the declaration says they will be settled (DE 4/8).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Liabilities {
    #[serde(with = "rust_decimal::serde::str")]
    pub immediate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub deferred: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub guaranteed: Decimal,
    pub currency: String,
}

impl Liabilities {
    pub fn total(&self) -> Decimal {
        self.immediate + self.deferred + self.guaranteed
    }
}

/// What a lane decision rested on besides the rules hit, recorded with it for the feedback loop and for replay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionBasis {
    /// The stored rule set's version (absent: the rules the server was started with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<u32>,
    /// The risk model's version, when one scored the declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub score: Option<Decimal>,
    /// The controlled-rate population the declaration was counted in, when a rate table is in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateRecord>,
    /// The queue priority the rule set's priority lines gave it (perishable, express, AEO, …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<selectivity::Priority>,
}

impl SelectionBasis {
    pub fn is_empty(&self) -> bool {
        *self == SelectionBasis::default()
    }
}

/// How the rate controller counted a declaration: its population (`office/regime/aeo|other`), the lane the rules
/// gave it, and whether the top-up moved it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRecord {
    pub population: String,
    pub rule_lane: Lane,
    pub topped_up: bool,
}

/// What happened. Serialized with its `type` in snake case; stored in the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Lodged {
        pre_lodged: bool,
        content_hash: String,
    },
    Accepted {
        mrn: Mrn,
    },
    Rejected {
        errors: Vec<RejectionError>,
    },
    LaneAssigned {
        lane: Lane,
        hits: Vec<Hit>,
        random: bool,
        control: Option<ControlKind>,
        /// What else the decision rested on: the rule set's version, the model's score, the rate top-up.
        #[serde(default, skip_serializing_if = "SelectionBasis::is_empty")]
        basis: SelectionBasis,
    },
    LaneOverridden {
        lane: Lane,
        control: Option<ControlKind>,
    },
    ControlRecorded {
        control: ControlKind,
        outcome: ControlResult,
    },
    Assessed {
        liabilities: Liabilities,
        /// Why an account the declaration names did not take its part (then due at once), in words.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        refusals: Vec<String>,
    },
    PaymentRequested {
        #[serde(with = "rust_decimal::serde::str")]
        amount: Decimal,
        currency: String,
    },
    PaymentReceived {
        #[serde(with = "rust_decimal::serde::str")]
        amount: Decimal,
        reference: String,
        #[serde(default)]
        source: PaymentSource,
    },
    Settled {
        settlement: Settlement,
    },
    Arrived,
    Released,
    Cancelled,
    Amended {
        version: u32,
        content_hash: String,
    },
    /// A refund of the declaration's credit was asked for.
    RefundRequested {
        refund: String,
        #[serde(with = "rust_decimal::serde::str")]
        amount: Decimal,
    },
    /// A refund was paid out.
    Refunded {
        refund: String,
        #[serde(with = "rust_decimal::serde::str")]
        amount: Decimal,
    },
    /// An officer discharged the guarantee's reservation (the duties are paid or no longer due), or called it (the
    /// guarantor pays).
    GuaranteeResolved {
        called: bool,
        #[serde(with = "rust_decimal::serde::str")]
        amount: Decimal,
    },
    /// Release waits for a partner agency (the Single Window): a document it issues is missing, or its own
    /// selection chose the consignment.
    AgencyAwaited {
        agency: String,
        reason: String,
    },
    /// A partner agency decided on the consignment.
    AgencyDecided {
        agency: String,
        decision: AgencyStanding,
    },
    /// The goods left the customs area after release: the gate-out of an import from temporary storage, the exit
    /// of an export at the office of exit. Closes the declaration's Time Release Study record.
    Exited,
}

/// Where a partner agency stands on a declaration it was asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgencyStanding {
    /// Not decided yet.
    Awaited,
    /// The agency lets the goods go.
    Released,
    /// It holds them for its own inspection.
    HeldForInspection,
    /// It asks for a joint inspection with customs.
    JointInspection,
    /// It refuses entry: the goods are never released.
    Refused,
}

impl AgencyStanding {
    pub fn as_str(self) -> &'static str {
        match self {
            AgencyStanding::Awaited => "awaited",
            AgencyStanding::Released => "released",
            AgencyStanding::HeldForInspection => "held_for_inspection",
            AgencyStanding::JointInspection => "joint_inspection",
            AgencyStanding::Refused => "refused",
        }
    }
}

impl EventKind {
    /// Every event type's name, as stored in the event log and served by the API, in declaration order. A new
    /// kind needs its name here: `type_name` indexes this array with a constant, so a missing entry fails to
    /// compile.
    pub const TYPE_NAMES: [&'static str; 20] = [
        "lodged",
        "accepted",
        "rejected",
        "lane_assigned",
        "lane_overridden",
        "control_recorded",
        "assessed",
        "payment_requested",
        "payment_received",
        "settled",
        "arrived",
        "released",
        "cancelled",
        "amended",
        "refund_requested",
        "refunded",
        "guarantee_resolved",
        "agency_awaited",
        "agency_decided",
        "exited",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Lodged { .. } => Self::TYPE_NAMES[0],
            EventKind::Accepted { .. } => Self::TYPE_NAMES[1],
            EventKind::Rejected { .. } => Self::TYPE_NAMES[2],
            EventKind::LaneAssigned { .. } => Self::TYPE_NAMES[3],
            EventKind::LaneOverridden { .. } => Self::TYPE_NAMES[4],
            EventKind::ControlRecorded { .. } => Self::TYPE_NAMES[5],
            EventKind::Assessed { .. } => Self::TYPE_NAMES[6],
            EventKind::PaymentRequested { .. } => Self::TYPE_NAMES[7],
            EventKind::PaymentReceived { .. } => Self::TYPE_NAMES[8],
            EventKind::Settled { .. } => Self::TYPE_NAMES[9],
            EventKind::Arrived => Self::TYPE_NAMES[10],
            EventKind::Released => Self::TYPE_NAMES[11],
            EventKind::Cancelled => Self::TYPE_NAMES[12],
            EventKind::Amended { .. } => Self::TYPE_NAMES[13],
            EventKind::RefundRequested { .. } => Self::TYPE_NAMES[14],
            EventKind::Refunded { .. } => Self::TYPE_NAMES[15],
            EventKind::GuaranteeResolved { .. } => Self::TYPE_NAMES[16],
            EventKind::AgencyAwaited { .. } => Self::TYPE_NAMES[17],
            EventKind::AgencyDecided { .. } => Self::TYPE_NAMES[18],
            EventKind::Exited => Self::TYPE_NAMES[19],
        }
    }
}

/// A rejection reason as stored: code, pointer and message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectionError {
    pub code: String,
    pub pointer: String,
    pub message: String,
}

/// Who did something: a user (with role) or the system itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub role: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            role: "system".into(),
        }
    }
}

/// An event with its time, actor and reason: one row of the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(flatten)]
    pub kind: EventKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub reason: String,
}

/// A request to change a declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Lodge {
        pre_lodged: bool,
        content_hash: String,
    },
    Accept {
        mrn: Mrn,
    },
    Reject {
        errors: Vec<RejectionError>,
    },
    AssignLane {
        lane: Lane,
        hits: Vec<Hit>,
        random: bool,
        basis: SelectionBasis,
    },
    OverrideLane {
        lane: Lane,
    },
    RecordControl {
        outcome: ControlResult,
    },
    Assess {
        liabilities: Liabilities,
        refusals: Vec<String>,
    },
    RecordPayment {
        amount: Decimal,
        reference: String,
        source: PaymentSource,
    },
    NotifyArrival,
    Release,
    Cancel,
    Amend {
        content_hash: String,
    },
    RequestRefund {
        refund: String,
        amount: Decimal,
    },
    RecordRefund {
        refund: String,
        amount: Decimal,
    },
    ResolveGuarantee {
        called: bool,
        amount: Decimal,
    },
    /// Release is to wait for `agency`.
    AwaitAgency {
        agency: String,
        reason: String,
    },
    /// `agency` decides on the consignment (never back to `Awaited`).
    RecordAgencyDecision {
        agency: String,
        decision: AgencyStanding,
    },
    /// The released goods left the customs area (gate-out of an import, exit of an export), once.
    ConfirmExit,
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn not_allowed(message: impl Into<String>) -> Refusal {
        Refusal {
            code: ErrorCode::TransitionNotAllowed,
            message: message.into(),
        }
    }
}

/// The state of one declaration: the fold of its events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub version: u32,
    pub mrn: Option<Mrn>,
    pub lane: Option<Lane>,
    /// The control the lane calls for, if any.
    pub control: Option<ControlKind>,
    /// True once a control found no irregularity (or no control is required).
    pub control_passed: bool,
    pub pre_lodged: bool,
    pub arrived: bool,
    /// The goods left the customs area after release (gate-out or exit).
    #[serde(default)]
    pub exited: bool,
    pub liabilities: Option<Liabilities>,
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    pub settlement: Option<Settlement>,
    /// Of `paid`, what came from the trader's cash account (DE 4/8 P).
    #[serde(default, with = "rust_decimal::serde::str")]
    pub paid_from_cash_account: Decimal,
    /// The partner agencies release waits for, and where each stands (release needs every one `released`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub agencies: std::collections::BTreeMap<String, AgencyStanding>,
    /// Where it stands in the officers' queues (from its lane decision; an officer's new lane keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<selectivity::Priority>,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Lodged,
            version: 0,
            mrn: None,
            lane: None,
            control: None,
            control_passed: false,
            pre_lodged: false,
            arrived: false,
            exited: false,
            liabilities: None,
            paid: Decimal::ZERO,
            settlement: None,
            paid_from_cash_account: Decimal::ZERO,
            agencies: Default::default(),
            priority: None,
        }
    }
}

fn control_for(lane: Lane) -> Option<ControlKind> {
    match lane {
        Lane::Red => Some(ControlKind::PhysicalExamination),
        Lane::Yellow => Some(ControlKind::DocumentaryCheck),
        Lane::Green | Lane::Blue => None,
    }
}

impl State {
    /// The state before any event: version 0, nothing lodged.
    pub fn new() -> State {
        State::default()
    }

    /// Folds one event into the state. Events come from [`decide`], so they are legal by construction; applying
    /// them never fails.
    pub fn apply(&mut self, event: &EventKind) {
        match event {
            EventKind::Lodged { pre_lodged, .. } => {
                self.status = Status::Lodged;
                self.version = 1;
                self.pre_lodged = *pre_lodged;
                self.arrived = !pre_lodged;
            }
            EventKind::Accepted { mrn } => {
                self.status = Status::Accepted;
                self.mrn = Some(mrn.clone());
            }
            EventKind::Rejected { .. } => self.status = Status::Rejected,
            EventKind::LaneAssigned {
                lane,
                control,
                basis,
                ..
            } => {
                self.priority = basis.priority.clone();
                self.lane = Some(*lane);
                self.control = *control;
                self.control_passed = control.is_none();
                if control.is_some() {
                    self.status = Status::UnderControl;
                }
            }
            // An officer's new lane: its control (if any) comes first, then the declaration is assessed and settled
            // again from the start, so that no status is left that no step leads out of.
            EventKind::LaneOverridden { lane, control } => {
                self.lane = Some(*lane);
                self.control = *control;
                self.control_passed = control.is_none();
                self.liabilities = None;
                self.settlement = None;
                self.status = if control.is_some() {
                    Status::UnderControl
                } else {
                    Status::Accepted
                };
            }
            EventKind::ControlRecorded { outcome, .. } => {
                if *outcome == ControlResult::NoIrregularity {
                    self.control_passed = true;
                    self.status = Status::Accepted;
                }
            }
            EventKind::Assessed { liabilities, .. } => {
                self.status = Status::Assessed;
                self.liabilities = Some(liabilities.clone());
            }
            EventKind::PaymentRequested { .. } => self.status = Status::AwaitingPayment,
            EventKind::PaymentReceived { amount, source, .. } => {
                // Amounts come from `decide`, which refuses totals beyond what a decimal holds.
                self.paid = self.paid.saturating_add(*amount);
                if *source == PaymentSource::CashAccount {
                    self.paid_from_cash_account =
                        self.paid_from_cash_account.saturating_add(*amount);
                }
            }
            EventKind::Refunded { amount, .. } => self.paid -= *amount,
            EventKind::RefundRequested { .. } | EventKind::GuaranteeResolved { .. } => {}
            EventKind::Settled { settlement } => {
                self.status = Status::Settled;
                self.settlement = Some(*settlement);
            }
            EventKind::Arrived => self.arrived = true,
            EventKind::Exited => self.exited = true,
            EventKind::Released => self.status = Status::Released,
            EventKind::Cancelled => self.status = Status::Cancelled,
            EventKind::AgencyAwaited { agency, .. } => {
                self.agencies
                    .insert(agency.clone(), AgencyStanding::Awaited);
            }
            EventKind::AgencyDecided { agency, decision } => {
                self.agencies.insert(agency.clone(), *decision);
            }
            EventKind::Amended { version, .. } => {
                self.version = *version;
                self.liabilities = None;
                self.settlement = None;
                self.status = if self.control.is_some() && !self.control_passed {
                    Status::UnderControl
                } else {
                    Status::Accepted
                };
            }
        }
    }

    /// True when every condition of release holds: goods arrived, control passed, liabilities settled.
    pub fn releasable(&self) -> bool {
        self.status == Status::Settled
            && self.arrived
            && self.control_passed
            && self.lane.is_some()
            && self.awaiting_agencies().is_empty()
    }

    /// The agencies that have not released the goods (awaited, holding them, asking for a joint inspection, or
    /// refusing entry).
    pub fn awaiting_agencies(&self) -> Vec<&str> {
        self.agencies
            .iter()
            .filter(|(_, standing)| **standing != AgencyStanding::Released)
            .map(|(agency, _)| agency.as_str())
            .collect()
    }

    /// The amount still to pay now.
    pub fn outstanding(&self) -> Decimal {
        self.liabilities.as_ref().map_or(Decimal::ZERO, |l| {
            (l.immediate - self.paid).max(Decimal::ZERO)
        })
    }
}

/// Decides what `command` does to a declaration in `state`: the events to append, or why not.
pub fn decide(state: &State, command: &Command) -> Result<Vec<EventKind>, Refusal> {
    use Status::*;
    let status = state.status;
    let lodged = state.version > 0;
    let refuse = |what: &str| {
        Err(Refusal::not_allowed(format!(
            "{what} is not allowed while the declaration is {}.",
            status.as_str()
        )))
    };
    // Money is a fact: a payment received, a refund asked for or paid, a guarantee resolved are recorded whatever
    // the status (after release or cancellation they change the balance, never the status).
    let money = matches!(
        command,
        Command::RecordPayment { .. }
            | Command::RequestRefund { .. }
            | Command::RecordRefund { .. }
            | Command::ResolveGuarantee { .. }
    );
    // Released is terminal for clearance, but its goods still leave the customs area once.
    let exit = matches!(command, Command::ConfirmExit) && status == Released;
    if lodged && status.is_terminal() && !(money && status != Rejected) && !exit {
        return Err(Refusal::not_allowed(format!(
            "The declaration is {}; nothing more can happen to it.",
            status.as_str()
        )));
    }
    match command {
        Command::Lodge {
            pre_lodged,
            content_hash,
        } => {
            if lodged {
                return refuse("Lodging again");
            }
            Ok(vec![EventKind::Lodged {
                pre_lodged: *pre_lodged,
                content_hash: content_hash.clone(),
            }])
        }
        _ if !lodged => Err(Refusal::not_allowed("The declaration has not been lodged.")),
        Command::Accept { mrn } => match status {
            Lodged => Ok(vec![EventKind::Accepted { mrn: mrn.clone() }]),
            _ => refuse("Acceptance"),
        },
        Command::Reject { errors } => match status {
            Lodged => Ok(vec![EventKind::Rejected {
                errors: errors.clone(),
            }]),
            _ => refuse("Rejection"),
        },
        Command::AssignLane {
            lane,
            hits,
            random,
            basis,
        } => match status {
            Accepted if state.lane.is_none() => Ok(vec![EventKind::LaneAssigned {
                lane: *lane,
                hits: hits.clone(),
                random: *random,
                control: control_for(*lane),
                basis: basis.clone(),
            }]),
            _ => refuse("Assigning a lane"),
        },
        Command::OverrideLane { lane } => match status {
            Accepted | UnderControl | Assessed | AwaitingPayment | Settled
                if state.lane.is_some() =>
            {
                if state.lane == Some(*lane) {
                    return Err(Refusal::not_allowed(format!(
                        "The lane is already {}.",
                        lane.as_str()
                    )));
                }
                Ok(vec![EventKind::LaneOverridden {
                    lane: *lane,
                    control: control_for(*lane),
                }])
            }
            _ => refuse("Overriding the lane"),
        },
        Command::RecordControl { outcome } => match (status, state.control) {
            (UnderControl, Some(control)) => Ok(vec![EventKind::ControlRecorded {
                control,
                outcome: outcome.clone(),
            }]),
            _ => refuse("Recording a control result"),
        },
        Command::Assess {
            liabilities,
            refusals,
        } => match status {
            Accepted if state.lane.is_some() && state.control_passed => {
                let mut events = vec![EventKind::Assessed {
                    liabilities: liabilities.clone(),
                    refusals: refusals.clone(),
                }];
                // Settlement follows at once from the payment methods declared.
                let outstanding = (liabilities.immediate - state.paid).max(Decimal::ZERO);
                if outstanding > Decimal::ZERO {
                    events.push(EventKind::PaymentRequested {
                        amount: outstanding,
                        currency: liabilities.currency.clone(),
                    });
                } else {
                    let settlement = if liabilities.total().is_zero() {
                        Settlement::NothingDue
                    } else if liabilities.immediate > Decimal::ZERO {
                        Settlement::Paid
                    } else if liabilities.guaranteed > Decimal::ZERO {
                        Settlement::Guaranteed
                    } else {
                        Settlement::Deferred
                    };
                    events.push(EventKind::Settled { settlement });
                }
                Ok(events)
            }
            _ => refuse("Assessment"),
        },
        Command::RecordPayment {
            amount,
            reference,
            source,
        } => {
            if *amount <= Decimal::ZERO {
                return Err(Refusal {
                    code: ErrorCode::InvalidRequest,
                    message: "A payment must be a positive amount.".into(),
                });
            }
            let Some(paid) = state.paid.checked_add(*amount) else {
                return Err(Refusal {
                    code: ErrorCode::AmountTooLarge,
                    message: "The payments of this declaration would add up to more than can be recorded.".into(),
                });
            };
            if status == Lodged {
                return refuse("Recording a payment");
            }
            let mut events = vec![EventKind::PaymentReceived {
                amount: *amount,
                reference: reference.clone(),
                source: *source,
            }];
            // Awaiting payment, it may settle the declaration; at any other status it is a credit.
            if status == AwaitingPayment
                && paid
                    >= state
                        .liabilities
                        .as_ref()
                        .map_or(Decimal::ZERO, |l| l.immediate)
            {
                events.push(EventKind::Settled {
                    settlement: Settlement::Paid,
                });
            }
            Ok(events)
        }
        Command::NotifyArrival => {
            if state.arrived {
                return Err(Refusal::not_allowed(
                    "The goods are already recorded as arrived.",
                ));
            }
            match status {
                Lodged | Accepted | UnderControl | Assessed | AwaitingPayment | Settled => {
                    Ok(vec![EventKind::Arrived])
                }
                _ => refuse("An arrival notification"),
            }
        }
        Command::Release => {
            if state.releasable() {
                Ok(vec![EventKind::Released])
            } else {
                let mut missing: Vec<String> = Vec::new();
                if !state.arrived {
                    missing.push("the goods have not arrived".into());
                }
                if !state.control_passed {
                    missing.push("the control has not passed".into());
                }
                if status != Settled {
                    missing.push("the duties are not settled".into());
                }
                for (agency, standing) in &state.agencies {
                    match standing {
                        AgencyStanding::Released => {}
                        AgencyStanding::Refused => {
                            missing.push(format!("agency {agency} refused entry"))
                        }
                        AgencyStanding::Awaited => {
                            missing.push(format!("agency {agency} has not decided"))
                        }
                        other => {
                            missing.push(format!("agency {agency} decided {}", other.as_str()))
                        }
                    }
                }
                Err(Refusal::not_allowed(format!(
                    "Release is not possible yet: {}.",
                    missing.join(", ")
                )))
            }
        }
        Command::Cancel => Ok(vec![EventKind::Cancelled]),
        Command::ConfirmExit => {
            if status != Released {
                return refuse("Confirming that the goods left");
            }
            if state.exited {
                return Err(Refusal::not_allowed(
                    "The goods are already recorded as having left the customs area.",
                ));
            }
            Ok(vec![EventKind::Exited])
        }
        Command::RequestRefund { refund, amount } => {
            if *amount <= Decimal::ZERO {
                return Err(Refusal::not_allowed(
                    "Nothing is owed back on this declaration.",
                ));
            }
            Ok(vec![EventKind::RefundRequested {
                refund: refund.clone(),
                amount: *amount,
            }])
        }
        Command::RecordRefund { refund, amount } => {
            // What is owed back: what was paid beyond what is due now (everything, once cancelled).
            let due = match (&state.liabilities, status) {
                (_, Cancelled) | (None, _) => Decimal::ZERO,
                (Some(l), _) => l.immediate,
            };
            let credit = state.paid - due;
            if *amount <= Decimal::ZERO || *amount > credit {
                return Err(Refusal::not_allowed(format!(
                    "A refund of {amount} exceeds the {} owed back on this declaration.",
                    credit.max(Decimal::ZERO)
                )));
            }
            Ok(vec![EventKind::Refunded {
                refund: refund.clone(),
                amount: *amount,
            }])
        }
        Command::ResolveGuarantee { called, amount } => Ok(vec![EventKind::GuaranteeResolved {
            called: *called,
            amount: *amount,
        }]),
        Command::Amend { content_hash } if status.takes_amendment() => {
            Ok(vec![EventKind::Amended {
                version: state.version + 1,
                content_hash: content_hash.clone(),
            }])
        }
        Command::Amend { .. } => refuse("Amendment"),
        Command::AwaitAgency { agency, reason } => match status {
            Lodged | Rejected => refuse("Waiting for an agency"),
            _ if state.agencies.contains_key(agency) => Err(Refusal::not_allowed(format!(
                "Release already waits for agency {agency}."
            ))),
            _ => Ok(vec![EventKind::AgencyAwaited {
                agency: agency.clone(),
                reason: reason.clone(),
            }]),
        },
        Command::RecordAgencyDecision { agency, decision } => {
            let Some(standing) = state.agencies.get(agency) else {
                return Err(Refusal::not_allowed(format!(
                    "Agency {agency} was not asked about this declaration."
                )));
            };
            if *decision == AgencyStanding::Awaited || standing == decision {
                return Err(Refusal::not_allowed(format!(
                    "Agency {agency} has {} already.",
                    if *decision == AgencyStanding::Awaited {
                        "been asked".to_owned()
                    } else {
                        format!("decided {}", decision.as_str())
                    }
                )));
            }
            if *standing == AgencyStanding::Refused {
                return Err(Refusal::not_allowed(format!(
                    "Agency {agency} refused entry; its decision is final."
                )));
            }
            Ok(vec![EventKind::AgencyDecided {
                agency: agency.clone(),
                decision: *decision,
            }])
        }
    }
}

#[cfg(test)]
mod tests;
