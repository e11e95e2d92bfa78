//! Lodgement and every later command, with their money: the lifecycle decides the events, [`revenue::plan`] the
//! transfers, from the same inputs and in one call, so that storage can write both in one transaction.
//!
//! Storage loads (and locks) the accounts a decision may touch and the transfers of the declaration's ledger
//! accounts ([`Books`]); the functions here are pure. A command's own money (a payment received, a refund paid, a
//! guarantee resolved) is decided here too, then the plan brings the rest of the ledger to what the assessment
//! requires, then the automatic steps (assessment, settlement, release) follow on the coverage the plan gives.

use crate::{Outcome, Pipeline, ledger_key, rejection};
use declaration::{Declaration, DeclarationKind, Mrn};
use error_table::{ErrorCode, Problem};
use ledger::customs::{self, Movement};
use ledger::{PendingState, Transfer, TransferId, TransferKind};
use rust_decimal::Decimal;
use selectivity::rates::RateBook;
use std::collections::BTreeMap;
use tariff::Assessment;
use workflow::{Command, EventKind, Liabilities, PaymentSource, State, Status};

/// What the ledger holds that a decision reads: the accounts it may touch (as they exist, with holders and
/// authorities), the transfers touching the declaration's receivable and secured accounts, and the state of their
/// reservations.
#[derive(Clone, Copy, Debug)]
pub struct Books<'a> {
    pub accounts: &'a revenue::Accounts,
    pub transfers: &'a [Transfer],
    pub pending: &'a BTreeMap<TransferId, PendingState>,
    /// Unique to the command (`r<revision>`): the plan's transfer ids are built from it.
    pub stamp: &'a str,
    /// The time of the command, RFC 3339 UTC: what its transfers carry.
    pub at: &'a str,
}

impl Books<'_> {
    /// No accounts and no history: a lodgement decided without a ledger (tests, `aduana assess`).
    pub fn none() -> Books<'static> {
        static ACCOUNTS: std::sync::LazyLock<revenue::Accounts> =
            std::sync::LazyLock::new(revenue::Accounts::new);
        static PENDING: std::sync::LazyLock<BTreeMap<TransferId, PendingState>> =
            std::sync::LazyLock::new(BTreeMap::new);
        Books {
            accounts: &ACCOUNTS,
            transfers: &[],
            pending: &PENDING,
            stamp: "r0",
            at: "1970-01-01T00:00:00.000000Z",
        }
    }
}

/// A declaration as stored, for a command.
#[derive(Clone, Copy, Debug)]
pub struct Current<'a> {
    pub declaration: &'a Declaration,
    pub state: &'a State,
    pub assessment: Option<&'a Assessment>,
    /// The lodgement date: the tariff in force on it assesses every version.
    pub lodged_on: time::Date,
}

/// What a human (or a bank) asks of a declaration.
#[derive(Clone, Debug)]
pub enum Act {
    /// A lifecycle command with no money of its own (a control result, an override, an arrival, release, a
    /// cancellation).
    Lifecycle(Command),
    /// A new version of the declaration (an amendment, or a correction applied).
    Amend {
        declaration: Box<Declaration>,
        content_hash: String,
    },
    /// Money received: through `account` (a bank's, or a customs counter's) under the transfer id `transfer`
    /// (a bank's confirmation id makes it unique, so a repeated confirmation can never post twice).
    Payment {
        amount: Decimal,
        reference: String,
        source: PaymentSource,
        account: ledger::AccountId,
        transfer: TransferId,
    },
    /// Asking for the declaration's credit back (the whole credit, as the ledger holds it).
    RequestRefund { refund: String },
    /// Paying a requested refund out through `account`.
    Refund {
        refund: String,
        amount: Decimal,
        account: ledger::AccountId,
    },
    /// Freeing the guarantee's reservation (discharged) or posting it (called).
    ResolveGuarantee { called: bool },
}

/// Why an act was refused: a lifecycle rule or a problem with the document (each at its pointer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    Lifecycle(workflow::Refusal),
    Problems(Vec<Problem>),
}

impl Refused {
    fn money(code: ErrorCode, message: impl Into<String>) -> Refused {
        Refused::Lifecycle(workflow::Refusal {
            code,
            message: message.into(),
        })
    }
}

/// One event, with its reason and whether the system took it (automatic) or the one who acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub event: EventKind,
    pub reason: String,
    pub automatic: bool,
}

/// What a command decided: its events in order, the state they lead to, the new assessment (after an amendment),
/// and the money — the command's own transfers first, then the plan's.
#[derive(Clone, Debug)]
pub struct Executed {
    pub steps: Vec<Step>,
    pub state: State,
    pub assessment: Option<Assessment>,
    pub transfers: Vec<Transfer>,
    pub opens: Vec<revenue::Opening>,
    pub coverage: Option<revenue::Coverage>,
}

/// A declaration to lodge: its content hash, its serial (the MRN's), the acceptance date (the tariff in force on it
/// applies) and its assessment (made by the caller, or its problems).
pub struct Lodging<'a> {
    pub declaration: &'a Declaration,
    pub hash: &'a str,
    pub serial: u64,
    pub date: time::Date,
    pub assessment: Result<Assessment, Vec<Problem>>,
    /// The LPCO types and issued documents the declaration cites, as storage loaded them
    /// ([`Pipeline::check_licences`]).
    pub licences: &'a lpco::Held,
    /// The agencies release is to wait for, with why ([`Pipeline::agency_holds`]).
    pub holds: Vec<(String, String)>,
}

/// A lodgement's outcome and its money.
#[derive(Clone, Debug)]
pub struct Lodgement {
    pub outcome: Outcome,
    pub transfers: Vec<Transfer>,
    pub opens: Vec<revenue::Opening>,
    /// What the goods items draw from the licences, permits and certificates they cite, written with the
    /// lodgement (none when it is rejected).
    pub draws: Vec<lpco::Draw>,
}

fn overflow(error: revenue::Overflow) -> Vec<Problem> {
    vec![Problem::with_message(
        ErrorCode::AmountTooLarge,
        "/MetaData/Declaration",
        error.to_string(),
    )]
}

impl Pipeline {
    /// The accounts a decision about `declaration` may touch: its receivable and secured accounts, the deferment
    /// account and guarantee it names, the declarant's cash account, and the revenue account of each tax type
    /// assessed. Storage loads and locks them (in id order) before deciding.
    pub fn accounts_for(
        &self,
        declaration: &Declaration,
        assessment: Option<&Assessment>,
    ) -> Vec<ledger::AccountId> {
        let declarant = declaration
            .declarant_id()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let key = ledger_key(&declarant, declaration.lrn.as_str());
        let mut ids = vec![customs::receivable(&key), customs::secured(&key)];
        if let Some(dan) = self.deferment_account(declaration) {
            ids.push(customs::deferment(&dan));
        }
        if let Some(grn) = self.guarantee_reference(declaration) {
            ids.push(customs::guarantee(&grn));
        }
        if !declarant.is_empty() {
            ids.push(customs::cash(&declarant));
        }
        for total in assessment.map(|a| a.totals.as_slice()).unwrap_or_default() {
            if ledger::AccountId::parse(&format!("revenue:{}", total.tax_type)).is_ok() {
                ids.push(customs::revenue(&total.tax_type));
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// The plan for `declaration` in `state` (nothing owed once cancelled or rejected) against `books`, with the
    /// command's own `extra` transfers already applied to its position.
    fn plan_money(
        &self,
        declaration: &Declaration,
        state: &State,
        assessment: Option<&Assessment>,
        books: &Books<'_>,
        extra: &[Transfer],
    ) -> Result<revenue::Plan, Vec<Problem>> {
        let declarant = declaration
            .declarant_id()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let key = ledger_key(&declarant, declaration.lrn.as_str());
        let mut pending = books.pending.clone();
        for t in extra {
            match &t.kind {
                TransferKind::PostPending(p) => {
                    pending.insert(p.clone(), PendingState::Posted);
                }
                TransferKind::VoidPending(p) => {
                    pending.insert(p.clone(), PendingState::Voided);
                }
                _ => {}
            }
        }
        let position = revenue::Position::of(&key, books.transfers.iter().chain(extra), |id| {
            pending.get(id).copied()
        })
        .map_err(overflow)?;
        let needs = match assessment {
            Some(a) if !matches!(state.status, Status::Cancelled | Status::Rejected) => {
                Some(revenue::Needs::of(a, &self.methods).map_err(overflow)?)
            }
            _ => None,
        };
        let dan = self.deferment_account(declaration);
        let grn = self.guarantee_reference(declaration);
        let owed = needs.as_ref().map(|needs| revenue::Owed {
            needs,
            deferment: dan.as_deref(),
            guarantee: grn.as_deref(),
            decided: state.liabilities.as_ref().map(|l| revenue::Decided {
                deferred: l.deferred,
                guaranteed: l.guaranteed,
            }),
        });
        revenue::plan(&revenue::Request {
            key: &key,
            declarant: &declarant,
            owed,
            accounts: books.accounts,
            position: &position,
            stamp: books.stamp,
            at: books.at,
            auto_open: self.auto_open_limit,
        })
        .map_err(overflow)
    }

    /// Runs lodgement without a ledger: every account a declaration names is unknown, so deferred and guaranteed
    /// duties are due at once (tests and offline tools; the server uses [`Pipeline::lodge_with`]).
    pub fn lodge(
        &self,
        declaration: &Declaration,
        hash: &str,
        serial: u64,
        date: time::Date,
    ) -> Outcome {
        self.lodge_with(
            Lodging {
                declaration,
                hash,
                serial,
                date,
                assessment: self.assess(declaration, date),
                licences: &lpco::Held::default(),
                holds: Vec::new(),
            },
            &Books::none(),
            None,
        )
        .outcome
    }

    /// Runs lodgement: lodged, then accepted (with the MRN built from its serial) or rejected on its assessment's
    /// problems, then the plan of its money against `books`, then the automatic steps on the plan's coverage.
    pub fn lodge_with(
        &self,
        lodging: Lodging<'_>,
        books: &Books<'_>,
        rate_book: Option<&mut RateBook>,
    ) -> Lodgement {
        let Lodging {
            declaration,
            hash,
            serial,
            date,
            assessment,
            licences,
            holds,
        } = lodging;
        let mut outcome = Outcome {
            events: Vec::new(),
            state: State::new(),
            assessment: None,
            decision: None,
        };
        let lodge = Command::Lodge {
            pre_lodged: declaration.type_code.is_pre_lodged(),
            content_hash: hash.to_owned(),
        };
        self.run(&mut outcome, &lodge, "Declaration received.");
        let plan = assessment.and_then(|assessment| {
            let draws = self.check_licences(declaration, licences, date)?;
            let plan =
                self.plan_money(declaration, &outcome.state, Some(&assessment), books, &[])?;
            Ok((assessment, plan, draws))
        });
        match plan {
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
                Lodgement {
                    outcome,
                    transfers: Vec::new(),
                    opens: Vec::new(),
                    draws: Vec::new(),
                }
            }
            Ok((assessment, plan, draws)) => {
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
                let mut holds = holds;
                for (agency, reason) in self.agency_selections(declaration, Some(&assessment), &mrn)
                {
                    if !holds.iter().any(|(held, _)| *held == agency) {
                        holds.push((agency, reason));
                    }
                }
                for (agency, reason) in holds {
                    self.run(
                        &mut outcome,
                        &Command::AwaitAgency {
                            agency: agency.clone(),
                            reason: reason.clone(),
                        },
                        &format!("Release waits for agency {agency}: {reason}"),
                    );
                }
                outcome.assessment = Some(assessment);
                self.continue_automatically(
                    declaration,
                    &mut outcome,
                    date,
                    rate_book,
                    Some(&plan.coverage),
                );
                Lodgement {
                    outcome,
                    transfers: plan.transfers,
                    opens: plan.opens,
                    draws,
                }
            }
        }
    }

    /// Runs `act` on a stored declaration: the lifecycle's events, the act's own money, the plan, and the automatic
    /// steps that follow. `reason` is what the act's own events record; `date` is today (for lane decisions).
    pub fn command(
        &self,
        current: &Current<'_>,
        act: Act,
        reason: &str,
        books: &Books<'_>,
        date: time::Date,
    ) -> Result<Executed, Refused> {
        let declarant = current
            .declaration
            .declarant_id()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let key = ledger_key(&declarant, current.declaration.lrn.as_str());
        let position =
            revenue::Position::of(&key, books.transfers, |id| books.pending.get(id).copied())
                .map_err(|e| Refused::Problems(overflow(e)))?;
        let mut extra: Vec<Transfer> = Vec::new();
        let transfer = |id: TransferId, debit, credit, amount, kind, movement: Movement| Transfer {
            id,
            debit,
            credit,
            amount,
            currency: declaration::Currency::parse(
                current.assessment.map_or("XXX", |a| a.currency.as_str()),
            )
            .unwrap_or_else(|_| declaration::Currency::parse("XXX").expect("ISO 4217 XXX")),
            kind,
            code: movement.as_str().to_owned(),
            reference: key.clone(),
            at: books.at.to_owned(),
        };
        let (command, amended) = match act {
            Act::Lifecycle(command) => (command, None),
            Act::Amend {
                declaration,
                content_hash,
            } => (Command::Amend { content_hash }, Some(*declaration)),
            Act::Payment {
                amount,
                reference,
                source,
                account,
                transfer: id,
            } => {
                // The payment's own reference (a payment order's), which the reconciliation report matches.
                extra.push(Transfer {
                    reference: reference.clone(),
                    ..transfer(
                        id,
                        account,
                        customs::receivable(&key),
                        amount,
                        TransferKind::Posted,
                        Movement::Payment,
                    )
                });
                (
                    Command::RecordPayment {
                        amount,
                        reference,
                        source,
                    },
                    None,
                )
            }
            Act::RequestRefund { refund } => {
                let credit = position.balance;
                if credit <= Decimal::ZERO {
                    return Err(Refused::money(
                        ErrorCode::TransitionNotAllowed,
                        "Nothing is owed back on this declaration.",
                    ));
                }
                (
                    Command::RequestRefund {
                        refund,
                        amount: credit,
                    },
                    None,
                )
            }
            Act::Refund {
                refund,
                amount,
                account,
            } => {
                // The credit must still be there when the refund is paid (an amendment since may have used it).
                if position.balance < amount {
                    return Err(Refused::money(
                        ErrorCode::LedgerRefused,
                        format!(
                            "The declaration holds {:.2} to refund, less than the {amount:.2} requested; the \
                             refund cannot be paid.",
                            position.balance.max(Decimal::ZERO)
                        ),
                    ));
                }
                let id = TransferId::parse(&format!("refund:{refund}"))
                    .map_err(|e| Refused::money(ErrorCode::InvalidRequest, e.to_string()))?;
                extra.push(transfer(
                    id,
                    customs::receivable(&key),
                    account,
                    amount,
                    TransferKind::Posted,
                    Movement::Refund,
                ));
                (Command::RecordRefund { refund, amount }, None)
            }
            Act::ResolveGuarantee { called } => {
                if position.reserved.is_empty() {
                    // Asked again: the same answer, nothing changes. Asked the other way: the reservation is
                    // resolved already.
                    let done = if called {
                        position.called
                    } else {
                        position.discharged
                    };
                    if done > Decimal::ZERO {
                        return Ok(Executed {
                            steps: Vec::new(),
                            state: current.state.clone(),
                            assessment: None,
                            transfers: Vec::new(),
                            opens: Vec::new(),
                            coverage: None,
                        });
                    }
                    if position.called > Decimal::ZERO || position.discharged > Decimal::ZERO {
                        return Err(Refused::money(
                            ErrorCode::LedgerRefused,
                            if called {
                                "The guarantee's reservation was discharged: it can no longer be called."
                            } else {
                                "The guarantee was called: its reservation can no longer be discharged."
                            },
                        ));
                    }
                    return Err(Refused::money(
                        ErrorCode::TransitionNotAllowed,
                        "No guarantee secures this declaration.",
                    ));
                }
                if !matches!(current.state.status, Status::Released | Status::Cancelled) {
                    return Err(Refused::money(
                        ErrorCode::TransitionNotAllowed,
                        format!(
                            "A guarantee is discharged or called once the declaration is released; this one is {}.",
                            current.state.status.as_str()
                        ),
                    ));
                }
                let mut amount = Decimal::ZERO;
                for open in &position.reserved {
                    amount = amount.saturating_add(open.amount);
                    let suffix = if called { "call" } else { "discharge" };
                    let id = TransferId::parse(&format!("{}:{suffix}", open.id))
                        .map_err(|e| Refused::money(ErrorCode::InvalidRequest, e.to_string()))?;
                    extra.push(transfer(
                        id,
                        open.guarantee.clone(),
                        customs::secured(&key),
                        open.amount,
                        if called {
                            TransferKind::PostPending(open.id.clone())
                        } else {
                            TransferKind::VoidPending(open.id.clone())
                        },
                        if called {
                            Movement::GuaranteeCalled
                        } else {
                            Movement::GuaranteeDischarged
                        },
                    ));
                }
                (Command::ResolveGuarantee { called, amount }, None)
            }
        };
        let mut state = current.state.clone();
        let own = workflow::decide(&state, &command).map_err(Refused::Lifecycle)?;
        let mut steps = Vec::new();
        for event in own {
            state.apply(&event);
            steps.push(Step {
                event,
                reason: reason.to_owned(),
                automatic: false,
            });
        }
        let declaration = amended.as_ref().unwrap_or(current.declaration);
        let assessment = match (&amended, current.assessment) {
            (Some(new), _) => Some(
                self.assess(new, current.lodged_on)
                    .map_err(Refused::Problems)?,
            ),
            (None, stored) => stored.cloned(),
        };
        let plan = self
            .plan_money(declaration, &state, assessment.as_ref(), books, &extra)
            .map_err(Refused::Problems)?;
        let mut outcome = Outcome {
            events: Vec::new(),
            state,
            assessment: assessment.clone(),
            decision: None,
        };
        self.continue_automatically(declaration, &mut outcome, date, None, Some(&plan.coverage));
        steps.extend(outcome.events.into_iter().map(|(event, reason)| Step {
            event,
            reason,
            automatic: true,
        }));
        extra.extend(plan.transfers);
        Ok(Executed {
            steps,
            state: outcome.state,
            assessment: amended.is_some().then_some(assessment).flatten(),
            transfers: extra,
            opens: plan.opens,
            coverage: Some(plan.coverage),
        })
    }

    /// The automatic steps: the lane decision, recording what the cash account paid, assessment on the plan's
    /// coverage, settlement, release. Each is taken at most once per call.
    pub(crate) fn continue_automatically(
        &self,
        declaration: &Declaration,
        outcome: &mut Outcome,
        date: time::Date,
        mut rate_book: Option<&mut RateBook>,
        coverage: Option<&revenue::Coverage>,
    ) {
        for _ in 0..8 {
            let state = &outcome.state;
            let terminal = state.status.is_terminal();
            let cash_unrecorded = coverage
                .map(|c| c.cash_account - state.paid_from_cash_account)
                .filter(|d| *d > Decimal::ZERO);
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
                // What the cash account paid (DE 4/8 P) is a payment the lifecycle records.
                _ if !terminal && state.lane.is_some() && cash_unrecorded.is_some() => {
                    let amount = cash_unrecorded.unwrap_or_default();
                    self.run(
                        outcome,
                        &Command::RecordPayment {
                            amount,
                            reference: "cash account".into(),
                            source: PaymentSource::CashAccount,
                        },
                        &format!("Paid {amount} from the trader's cash account (DE 4/8 P)."),
                    )
                }
                Status::Accepted if state.control_passed && state.liabilities.is_none() => {
                    let Some(coverage) = coverage else {
                        return;
                    };
                    let liabilities = Liabilities {
                        immediate: coverage.immediate,
                        deferred: coverage.deferred,
                        guaranteed: coverage.guaranteed,
                        currency: coverage.currency.to_string(),
                    };
                    let refusals: Vec<String> = [
                        &coverage.deferment_refused,
                        &coverage.guarantee_refused,
                        &coverage.cash_refused,
                    ]
                    .into_iter()
                    .flatten()
                    .map(|why| format!("{why} It is due now."))
                    .collect();
                    let mut reason = format!(
                        "Assessed: {} {} in duties and taxes.",
                        coverage.total, coverage.currency
                    );
                    for why in &refusals {
                        reason.push(' ');
                        reason.push_str(why);
                    }
                    self.run(
                        outcome,
                        &Command::Assess {
                            liabilities,
                            refusals,
                        },
                        &reason,
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
