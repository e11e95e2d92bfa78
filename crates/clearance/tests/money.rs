//! The property of issue 14: random sequences of lodgements, amendments, cancellations, arrivals, overrides,
//! controls, payments and refunds — with random DE 4/8 methods, and accounts that are the declarant's own, another
//! party's, authorised, or unknown — never leave a released (or settled) declaration whose liabilities the ledger
//! does not cover, and after every step the ledger verifies and `revenue::check` finds nothing on any declaration.
//!
//! The pipeline runs as the server runs it (`Pipeline::lodge_with`, `Pipeline::command`); the "store" here is an
//! in-memory ledger that applies each decision's transfers as one, as storage does inside the declaration's
//! transaction.

use clearance::{Act, Books, Current, Lodging, Pipeline};
use declaration::Declaration;
use ledger::customs::{self, AccountKind};
use ledger::{Account, AccountId, Ledger, Rule, Transfer, TransferId, TransferKind};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use workflow::{Command, ControlResult, PaymentSource, State};

const A: &str = "GB603202734852";
const B: &str = "GB123456789000";

fn gbp() -> declaration::Currency {
    declaration::Currency::parse("GBP").unwrap()
}

/// The JSON twin example of docs/json-twin.md as `declarant`, `method` on both tax lines, naming `dan`.
fn declaration(
    lrn: &str,
    declarant: &str,
    price: u32,
    method: &str,
    dan: Option<&str>,
    pre: bool,
) -> Declaration {
    let doc = include_str!("../../../docs/json-twin.md");
    let start = doc.find("```json").unwrap() + "```json".len();
    let end = start + doc[start..].find("```").unwrap();
    let mut d: serde_json::Value = serde_json::from_str(&doc[start..end]).unwrap();
    d["lrn"] = serde_json::json!(lrn);
    d["declarant"]["id"] = serde_json::json!(declarant);
    if pre {
        d["type_code"] = serde_json::json!("IMD");
    }
    let item = &mut d["goods_shipment"]["goods_items"][0];
    item["item_charge_amount"]["value"] = serde_json::json!(price.to_string());
    for fee in item["duty_tax_fees"].as_array_mut().unwrap() {
        fee["payment_method_code"] = serde_json::json!(method);
    }
    d["additional_documents"] = match dan {
        Some(dan) => serde_json::json!([{"category_code": "1", "type_code": "DAN", "id": dan}]),
        None => serde_json::json!([]),
    };
    if method == "R" {
        d["obligation_guarantees"] = serde_json::json!([{"id": "GRNA"}]);
    }
    wco::json::read_declaration(d.to_string().as_bytes()).unwrap()
}

struct Stored {
    declaration: Declaration,
    state: State,
    assessment: Option<tariff::Assessment>,
    revision: usize,
    refund: Option<Decimal>,
}

struct World {
    pipeline: Pipeline,
    ledger: Ledger,
    holders: BTreeMap<AccountId, (String, BTreeSet<String>)>,
    stored: Vec<Stored>,
    serial: u64,
}

impl World {
    fn new() -> World {
        let mut pipeline = Pipeline::demo(b"property".to_vec());
        pipeline.rules = selectivity::RuleSet::parse("random 30% then yellow").unwrap();
        let mut world = World {
            pipeline,
            ledger: Ledger::new(),
            holders: BTreeMap::new(),
            stored: Vec::new(),
            serial: 0,
        };
        // A's deferment account (B authorised on it for a while), B's own, A's guarantee, A's cash account.
        world.open(customs::deferment("1111111"), 2_000, A, &[]);
        world.open(customs::deferment("2222222"), 100_000, B, &[]);
        world.open(customs::guarantee("GRNA"), 1_500, A, &[]);
        world.deposit(A, 1_000);
        world
    }

    fn open(&mut self, id: AccountId, limit: i64, holder: &str, authorised: &[&str]) {
        self.ledger
            .open(Account::new(
                id.clone(),
                gbp(),
                Rule::DebitLimit(Decimal::from(limit)),
            ))
            .unwrap();
        self.holders.insert(
            id,
            (
                holder.to_owned(),
                authorised.iter().map(|s| s.to_string()).collect(),
            ),
        );
    }

    fn ensure(&mut self, id: &AccountId) {
        if self.ledger.account(id).is_none()
            && let Some(account) = customs::default_account(id, &gbp())
        {
            self.ledger.open(account).unwrap();
        }
    }

    fn deposit(&mut self, party: &str, amount: i64) {
        let cash = customs::cash(party);
        let bank = customs::bank("B");
        self.ensure(&cash);
        self.ensure(&bank);
        let n = self.ledger.transfers().count();
        self.ledger
            .apply(Transfer {
                id: TransferId::parse(&format!("deposit:{n}")).unwrap(),
                debit: bank,
                credit: cash,
                amount: Decimal::from(amount),
                currency: gbp(),
                kind: TransferKind::Posted,
                code: "settlement".into(),
                reference: party.into(),
                at: "t".into(),
            })
            .unwrap();
    }

    fn accounts(&self) -> revenue::Accounts {
        self.ledger
            .accounts()
            .map(|a| {
                let (holder, authorised) = self
                    .holders
                    .get(&a.id)
                    .map(|(h, s)| (Some(h.clone()), s.clone()))
                    .unwrap_or_default();
                (
                    a.id.clone(),
                    revenue::Holding {
                        account: a.clone(),
                        holder,
                        authorised,
                    },
                )
            })
            .collect()
    }

    fn key(d: &Declaration) -> String {
        clearance::ledger_key(&d.declarant_id().unwrap().to_string(), d.lrn.as_str())
    }

    fn transfers_of(
        &self,
        key: &str,
    ) -> (Vec<Transfer>, BTreeMap<TransferId, ledger::PendingState>) {
        let receivable = customs::receivable(key);
        let secured = customs::secured(key);
        let transfers: Vec<Transfer> = self
            .ledger
            .transfers()
            .filter(|t| {
                [&t.debit, &t.credit]
                    .iter()
                    .any(|a| **a == receivable || **a == secured)
            })
            .cloned()
            .collect();
        let pending = transfers
            .iter()
            .filter_map(|t| Some((t.id.clone(), self.ledger.pending_state(&t.id)?)))
            .collect();
        (transfers, pending)
    }

    /// Applies a decision's money as storage does: accounts opened, then all transfers or none (a refusal means
    /// the decision asked for more than the ledger allows: a bug, so the test fails).
    fn apply(&mut self, opens: Vec<revenue::Opening>, transfers: Vec<Transfer>) {
        for opening in opens {
            self.holders.insert(
                opening.account.id.clone(),
                (opening.holder, BTreeSet::new()),
            );
            self.ledger.open(opening.account).unwrap();
        }
        for t in &transfers {
            self.ensure(&t.debit.clone());
            self.ensure(&t.credit.clone());
        }
        self.ledger
            .apply_all(transfers)
            .unwrap_or_else(|e| panic!("the ledger refused a decision: {e}"));
    }

    fn lodge(&mut self, declaration: Declaration) {
        if self
            .stored
            .iter()
            .any(|s| Self::key(&s.declaration) == Self::key(&declaration))
        {
            return; // a replay or a conflict: the store answers before any decision
        }
        self.serial += 1;
        let accounts = self.accounts();
        let (transfers, pending) = self.transfers_of(&Self::key(&declaration));
        let date = time::macros::date!(2026 - 12 - 01);
        let lodged = self.pipeline.lodge_with(
            Lodging {
                declaration: &declaration,
                hash: "h",
                serial: self.serial,
                date,
                assessment: self.pipeline.assess(&declaration, date),
                licences: &lpco::Held::default(),
                holds: Vec::new(),
            },
            &Books {
                accounts: &accounts,
                transfers: &transfers,
                pending: &pending,
                stamp: "r0",
                at: "2026-12-01T00:00:00.000000Z",
            },
            None,
        );
        self.apply(lodged.opens, lodged.transfers);
        let revision = lodged.outcome.events.len();
        self.stored.push(Stored {
            declaration,
            state: lodged.outcome.state,
            assessment: lodged.outcome.assessment,
            revision,
            refund: None,
        });
    }

    fn command(&mut self, index: usize, act: Act) {
        let Some(stored) = self.stored.get(index) else {
            return;
        };
        let accounts = self.accounts();
        let (transfers, pending) = self.transfers_of(&Self::key(&stored.declaration));
        let stamp = format!("r{}", stored.revision);
        let amended = match &act {
            Act::Amend { declaration, .. } => Some((**declaration).clone()),
            _ => None,
        };
        let executed = self.pipeline.command(
            &Current {
                declaration: &stored.declaration,
                state: &stored.state,
                assessment: stored.assessment.as_ref(),
                lodged_on: time::macros::date!(2026 - 12 - 01),
            },
            act,
            "test",
            &Books {
                accounts: &accounts,
                transfers: &transfers,
                pending: &pending,
                stamp: &stamp,
                at: "2026-12-01T00:00:00.000000Z",
            },
            time::macros::date!(2026 - 12 - 01),
        );
        let Ok(executed) = executed else { return }; // refused: nothing changes
        self.apply(executed.opens, executed.transfers);
        let refund = executed.steps.iter().find_map(|s| match &s.event {
            workflow::EventKind::RefundRequested { amount, .. } => Some(*amount),
            _ => None,
        });
        let stored = &mut self.stored[index];
        stored.revision += executed.steps.len().max(1);
        stored.state = executed.state;
        if let Some(assessment) = executed.assessment {
            stored.assessment = Some(assessment);
        }
        if let Some(declaration) = amended {
            stored.declaration = declaration;
        }
        if refund.is_some() {
            stored.refund = refund;
        }
    }

    /// Everything that must never be, checked on every declaration and the whole ledger.
    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(self.ledger.verify().is_ok(), "{:?}", self.ledger.verify());
        let holdings = self.accounts();
        for stored in &self.stored {
            let key = Self::key(&stored.declaration);
            let (transfers, pending) = self.transfers_of(&key);
            let position =
                revenue::Position::of(&key, &transfers, |id| pending.get(id).copied()).unwrap();
            let declarant = stored.declaration.declarant_id().unwrap().to_string();
            let subject = revenue::Subject {
                id: &key,
                declarant: &declarant,
                status: stored.state.status,
                liabilities: stored.state.liabilities.as_ref(),
                paid: stored.state.paid,
            };
            let found = revenue::check(&subject, &position, &holdings);
            prop_assert!(found.is_empty(), "{:?}\n{:#?}", found, stored.state);
        }
        // Every transfer on a receivable belongs to a stored declaration.
        let keys: BTreeSet<String> = self
            .stored
            .iter()
            .map(|s| Self::key(&s.declaration))
            .collect();
        for t in self.ledger.transfers() {
            for account in [&t.debit, &t.credit] {
                if let Some((AccountKind::Receivable, key)) = customs::kind(account) {
                    prop_assert!(keys.contains(key), "an orphan transfer {t:?}");
                }
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum Step {
    Lodge {
        lrn: u8,
        declarant: bool,
        price: u32,
        method: u8,
        dan: u8,
        pre: bool,
    },
    Amend {
        which: u8,
        price: u32,
        method: u8,
        dan: u8,
    },
    Cancel(u8),
    Arrive(u8),
    Override(u8, u8),
    Control(u8, bool),
    Pay(u8, u32),
    RequestRefund(u8),
    Refund(u8),
    Resolve(u8, bool),
    Deposit(u16),
}

fn method(n: u8) -> &'static str {
    ["A", "E", "P", "R", "F", "M"][n as usize % 6]
}

fn dan(n: u8) -> Option<&'static str> {
    [Some("1111111"), Some("2222222"), Some("9999999"), None][n as usize % 4]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..12, any::<bool>(), 1u32..3000, any::<u8>(), any::<u8>(), any::<bool>())
            .prop_map(|(lrn, declarant, price, method, dan, pre)| Step::Lodge { lrn, declarant, price, method, dan, pre }),
        3 => (any::<u8>(), 1u32..4000, any::<u8>(), any::<u8>())
            .prop_map(|(which, price, method, dan)| Step::Amend { which, price, method, dan }),
        1 => any::<u8>().prop_map(Step::Cancel),
        2 => any::<u8>().prop_map(Step::Arrive),
        1 => (any::<u8>(), 0u8..4).prop_map(|(w, l)| Step::Override(w, l)),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(w, ok)| Step::Control(w, ok)),
        3 => (any::<u8>(), 1u32..600).prop_map(|(w, a)| Step::Pay(w, a)),
        1 => any::<u8>().prop_map(Step::RequestRefund),
        1 => any::<u8>().prop_map(Step::Refund),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(w, c)| Step::Resolve(w, c)),
        1 => (1u16..2000).prop_map(Step::Deposit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_sequence_releases_what_the_ledger_does_not_cover(steps in prop::collection::vec(step(), 1..40)) {
        let mut world = World::new();
        for step in steps {
            let count = world.stored.len().max(1);
            let pick = |w: u8| w as usize % count;
            match step {
                Step::Lodge { lrn, declarant, price, method: m, dan: d, pre } => {
                    let who = if declarant { A } else { B };
                    world.lodge(declaration(&format!("P-{lrn}"), who, price, method(m), dan(d), pre));
                }
                Step::Amend { which, price, method: m, dan: d } => {
                    if let Some(stored) = world.stored.get(pick(which)) {
                        let old = &stored.declaration;
                        let pre = old.type_code.is_pre_lodged();
                        let new = declaration(old.lrn.as_str(), &old.declarant_id().unwrap().to_string(), price, method(m), dan(d), pre);
                        world.command(pick(which), Act::Amend { declaration: Box::new(new), content_hash: format!("h{price}") });
                    }
                }
                Step::Cancel(w) => world.command(pick(w), Act::Lifecycle(Command::Cancel)),
                Step::Arrive(w) => world.command(pick(w), Act::Lifecycle(Command::NotifyArrival)),
                Step::Override(w, l) => {
                    let lane = [selectivity::Lane::Green, selectivity::Lane::Blue, selectivity::Lane::Yellow, selectivity::Lane::Red][l as usize];
                    world.command(pick(w), Act::Lifecycle(Command::OverrideLane { lane }));
                }
                Step::Control(w, ok) => {
                    let outcome = if ok { ControlResult::NoIrregularity } else {
                        ControlResult::Irregularity { irregularity_type: "valuation".into(), additional_duty: None }
                    };
                    world.command(pick(w), Act::Lifecycle(Command::RecordControl { outcome }));
                }
                Step::Pay(w, amount) => {
                    let n = world.ledger.transfers().count();
                    world.command(pick(w), Act::Payment {
                        amount: Decimal::from(amount),
                        reference: format!("PAY-{n}"),
                        source: PaymentSource::Bank,
                        account: customs::bank("B"),
                        transfer: TransferId::parse(&format!("bank:B:{n}")).unwrap(),
                    });
                }
                Step::RequestRefund(w) => {
                    let refund = format!("R{}", world.ledger.transfers().count());
                    world.command(pick(w), Act::RequestRefund { refund });
                }
                Step::Refund(w) => {
                    if let Some(amount) = world.stored.get(pick(w)).and_then(|s| s.refund) {
                        let refund = format!("R{}", world.ledger.transfers().count());
                        world.command(pick(w), Act::Refund { refund, amount, account: customs::bank("TREASURY") });
                        if let Some(s) = world.stored.get_mut(pick(w)) { s.refund = None; }
                    }
                }
                Step::Resolve(w, called) => world.command(pick(w), Act::ResolveGuarantee { called }),
                Step::Deposit(amount) => world.deposit(A, i64::from(amount)),
            }
            world.check()?;
        }
    }
}
