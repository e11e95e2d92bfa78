//! Table-driven transitions and property tests of the lifecycle invariants.

use super::*;
use declaration::Country;
use proptest::prelude::*;

fn mrn() -> Mrn {
    Mrn::issue(2026, &Country::parse("GB").unwrap(), 1, 'J')
}

fn liabilities(immediate: i64, deferred: i64) -> Liabilities {
    Liabilities {
        immediate: Decimal::from(immediate),
        deferred: Decimal::from(deferred),
        guaranteed: Decimal::ZERO,
        currency: "GBP".into(),
    }
}

fn run(state: &mut State, command: Command) -> Result<Vec<EventKind>, Refusal> {
    let events = decide(state, &command)?;
    for event in &events {
        state.apply(event);
    }
    Ok(events)
}

#[test]
fn a_green_deferred_declaration_goes_straight_to_release() {
    let mut s = State::new();
    run(
        &mut s,
        Command::Lodge {
            pre_lodged: false,
            content_hash: "h".into(),
        },
    )
    .unwrap();
    run(&mut s, Command::Accept { mrn: mrn() }).unwrap();
    run(
        &mut s,
        Command::AssignLane {
            lane: Lane::Green,
            hits: vec![],
            random: false,
            basis: SelectionBasis::default(),
        },
    )
    .unwrap();
    let events = run(
        &mut s,
        Command::Assess {
            liabilities: liabilities(0, 120),
            refusals: vec![],
        },
    )
    .unwrap();
    assert_eq!(
        events.last(),
        Some(&EventKind::Settled {
            settlement: Settlement::Deferred
        })
    );
    run(&mut s, Command::Release).unwrap();
    assert_eq!(s.status, Status::Released);
}

#[test]
fn a_pre_lodged_red_declaration_waits_for_control_payment_and_arrival() {
    let mut s = State::new();
    run(
        &mut s,
        Command::Lodge {
            pre_lodged: true,
            content_hash: "h".into(),
        },
    )
    .unwrap();
    run(&mut s, Command::Accept { mrn: mrn() }).unwrap();
    run(
        &mut s,
        Command::AssignLane {
            lane: Lane::Red,
            hits: vec![],
            random: false,
            basis: SelectionBasis::default(),
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::UnderControl);
    let refused = |s: &State, c: Command| decide(s, &c).unwrap_err().code;
    assert_eq!(
        refused(
            &s,
            Command::Assess {
                liabilities: liabilities(10, 0),
                refusals: vec![],
            }
        ),
        ErrorCode::TransitionNotAllowed
    );
    assert_eq!(
        refused(&s, Command::Release),
        ErrorCode::TransitionNotAllowed
    );
    let irregular = ControlResult::Irregularity {
        irregularity_type: "quantity".into(),
        additional_duty: None,
    };
    run(&mut s, Command::RecordControl { outcome: irregular }).unwrap();
    assert_eq!(
        s.status,
        Status::UnderControl,
        "an irregularity keeps the goods under control"
    );
    run(
        &mut s,
        Command::RecordControl {
            outcome: ControlResult::NoIrregularity,
        },
    )
    .unwrap();
    run(
        &mut s,
        Command::Assess {
            liabilities: liabilities(10, 0),
            refusals: vec![],
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::AwaitingPayment);
    run(
        &mut s,
        Command::RecordPayment {
            amount: Decimal::from(4),
            reference: "p1".into(),
            source: PaymentSource::Bank,
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::AwaitingPayment);
    run(
        &mut s,
        Command::RecordPayment {
            amount: Decimal::from(6),
            reference: "p2".into(),
            source: PaymentSource::Bank,
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::Settled);
    let message = decide(&s, &Command::Release).unwrap_err().message;
    assert!(message.contains("not arrived"), "{message}");
    run(&mut s, Command::NotifyArrival).unwrap();
    run(&mut s, Command::Release).unwrap();
    assert_eq!(s.status, Status::Released);
    assert_eq!(
        refused(&s, Command::Cancel),
        ErrorCode::TransitionNotAllowed
    );
}

#[test]
fn amendment_makes_a_new_version_to_assess_again() {
    let mut s = State::new();
    run(
        &mut s,
        Command::Lodge {
            pre_lodged: true,
            content_hash: "h".into(),
        },
    )
    .unwrap();
    run(&mut s, Command::Accept { mrn: mrn() }).unwrap();
    run(
        &mut s,
        Command::AssignLane {
            lane: Lane::Green,
            hits: vec![],
            random: false,
            basis: SelectionBasis::default(),
        },
    )
    .unwrap();
    run(
        &mut s,
        Command::Assess {
            liabilities: liabilities(0, 5),
            refusals: vec![],
        },
    )
    .unwrap();
    run(
        &mut s,
        Command::Amend {
            content_hash: "h2".into(),
        },
    )
    .unwrap();
    assert_eq!(
        (s.status, s.version, s.liabilities.is_none()),
        (Status::Accepted, 2, true)
    );
    run(
        &mut s,
        Command::Assess {
            liabilities: liabilities(0, 7),
            refusals: vec![],
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::Settled);
}

fn command() -> impl Strategy<Value = Command> {
    let lane = prop_oneof![
        Just(Lane::Green),
        Just(Lane::Blue),
        Just(Lane::Yellow),
        Just(Lane::Red)
    ];
    prop_oneof![
        any::<bool>().prop_map(|pre_lodged| Command::Lodge {
            pre_lodged,
            content_hash: "h".into(),
        }),
        Just(Command::Accept { mrn: mrn() }),
        Just(Command::Reject { errors: vec![] }),
        (lane.clone(), any::<bool>()).prop_map(|(lane, random)| Command::AssignLane {
            lane,
            hits: vec![],
            random,
            basis: SelectionBasis::default(),
        }),
        lane.prop_map(|lane| Command::OverrideLane { lane }),
        Just(Command::RecordControl {
            outcome: ControlResult::NoIrregularity
        }),
        Just(Command::RecordControl {
            outcome: ControlResult::Irregularity {
                irregularity_type: "valuation".into(),
                additional_duty: None
            }
        }),
        (0i64..3, 0i64..3).prop_map(|(i, d)| Command::Assess {
            liabilities: liabilities(i * 50, d * 50),
            refusals: vec![],
        }),
        (-5i64..60).prop_map(|a| Command::RecordPayment {
            amount: Decimal::from(a),
            reference: "p".into(),
            source: PaymentSource::Bank,
        }),
        Just(Command::NotifyArrival),
        Just(Command::Release),
        Just(Command::Release),
        Just(Command::ConfirmExit),
        Just(Command::Cancel),
        Just(Command::Amend {
            content_hash: "h".into()
        }),
        (0i64..60).prop_map(|a| Command::RequestRefund {
            refund: "r".into(),
            amount: Decimal::from(a),
        }),
        (0i64..60).prop_map(|a| Command::RecordRefund {
            refund: "r".into(),
            amount: Decimal::from(a),
        }),
        any::<bool>().prop_map(|called| Command::ResolveGuarantee {
            called,
            amount: Decimal::from(10),
        }),
    ]
}

fn check_invariants(s: &State) -> Result<(), TestCaseError> {
    // Goods leave the customs area only after release, and nothing changes the status after.
    if s.exited {
        prop_assert_eq!(s.status, Status::Released, "left without release");
    }
    if s.status == Status::Released {
        prop_assert!(s.arrived, "released before arrival");
        prop_assert!(s.control_passed, "released before control passed");
        prop_assert!(s.settlement.is_some(), "released before settlement");
        prop_assert_eq!(
            s.outstanding(),
            Decimal::ZERO,
            "released with money outstanding"
        );
        prop_assert!(s.lane.is_some() && s.mrn.is_some());
    }
    if s.status == Status::UnderControl {
        prop_assert!(s.control.is_some() && !s.control_passed);
    }
    if s.status == Status::Settled {
        prop_assert!(s.settlement.is_some());
        prop_assert_eq!(s.outstanding(), Decimal::ZERO);
    }
    if matches!(
        s.status,
        Status::Assessed | Status::AwaitingPayment | Status::Settled
    ) {
        prop_assert!(s.liabilities.is_some() && s.control_passed);
    }
    if s.version > 0 && !matches!(s.status, Status::Lodged | Status::Rejected) {
        prop_assert!(s.mrn.is_some() || s.status == Status::Cancelled);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn random_command_sequences_never_reach_an_illegal_state(commands in prop::collection::vec(command(), 0..40)) {
        let mut s = State::new();
        let mut paid = Decimal::ZERO;
        for command in commands {
            let before = s.clone();
            match decide(&s, &command) {
                Ok(events) => {
                    for event in &events {
                        s.apply(event);
                    }
                    prop_assert!(
                        !(before.version > 0 && before.status.is_terminal()) || s.status == before.status,
                        "a terminal status changed"
                    );
                }
                Err(refusal) => prop_assert_eq!(&s, &before, "a refusal changed the state: {:?}", refusal),
            }
            prop_assert!(s.paid >= Decimal::ZERO, "never more refunded than paid");
            let _ = paid;
            paid = s.paid;
            check_invariants(&s)?;
        }
    }
}

/// Finding 14 of issue 14: a settled declaration overridden to red stayed `accepted` for ever once its control
/// passed. An override now sends it back to assessment, so the control's passing leads on to settlement.
#[test]
fn an_override_after_settlement_is_assessed_again_once_its_control_passes() {
    let mut s = State::new();
    for command in [
        Command::Lodge {
            pre_lodged: false,
            content_hash: "h".into(),
        },
        Command::Accept { mrn: mrn() },
        Command::AssignLane {
            lane: Lane::Green,
            hits: vec![],
            random: false,
            basis: SelectionBasis::default(),
        },
        Command::Assess {
            liabilities: liabilities(10, 0),
            refusals: vec![],
        },
        Command::RecordPayment {
            amount: Decimal::from(10),
            reference: "p".into(),
            source: PaymentSource::Bank,
        },
        Command::OverrideLane { lane: Lane::Red },
        Command::RecordControl {
            outcome: ControlResult::NoIrregularity,
        },
    ] {
        run(&mut s, command).unwrap();
    }
    assert_eq!(
        (s.status, s.liabilities.is_none()),
        (Status::Accepted, true)
    );
    // The automatic step that follows: assessed again, already paid, settled, releasable.
    run(
        &mut s,
        Command::Assess {
            liabilities: liabilities(10, 0),
            refusals: vec![],
        },
    )
    .unwrap();
    assert_eq!(s.status, Status::Settled);
    assert!(s.releasable());
}

/// Money after release or cancellation is recorded, and never changes the status.
#[test]
fn payments_and_refunds_are_recorded_at_a_terminal_status_without_changing_it() {
    let mut s = State::new();
    for command in [
        Command::Lodge {
            pre_lodged: true,
            content_hash: "h".into(),
        },
        Command::Accept { mrn: mrn() },
        Command::Cancel,
        Command::RecordPayment {
            amount: Decimal::from(224),
            reference: "late".into(),
            source: PaymentSource::Bank,
        },
        Command::RequestRefund {
            refund: "r1".into(),
            amount: Decimal::from(224),
        },
        Command::RecordRefund {
            refund: "r1".into(),
            amount: Decimal::from(224),
        },
    ] {
        run(&mut s, command).unwrap();
    }
    assert_eq!((s.status, s.paid), (Status::Cancelled, Decimal::ZERO));
    assert!(
        run(
            &mut s,
            Command::RecordRefund {
                refund: "r2".into(),
                amount: Decimal::ONE
            }
        )
        .is_err(),
        "never more refunded than paid"
    );
    assert!(run(&mut s, Command::NotifyArrival).is_err());
}
