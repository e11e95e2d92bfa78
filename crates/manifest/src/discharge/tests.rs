macro_rules! dec {
    ($n:literal) => {
        <Decimal as std::str::FromStr>::from_str(stringify!($n)).unwrap()
    };
}

use super::*;
use crate::{Equipment, GoodsItem, Transport};
use declaration::Party;
use proptest::prelude::*;
use time::macros::datetime;

fn goods(packages: u32, mass: Decimal, containers: &[&str]) -> GoodsItem {
    GoodsItem {
        sequence: 1,
        package_count: Some(packages),
        gross_mass_kg: Some(mass),
        equipment: containers.iter().map(|c| c.to_string()).collect(),
        ..GoodsItem::default()
    }
}

fn consignment(sequence: u32, document: &str, ucr: Option<&str>, goods: GoodsItem) -> Consignment {
    Consignment {
        sequence,
        transport_document: document.into(),
        ucr: ucr.map(Into::into),
        goods: vec![goods],
        ..Consignment::default()
    }
}

/// A vessel with four consignments: two containers filled by one consignment each, one shared by two.
fn report() -> CargoReport {
    CargoReport {
        reference: "VOY-1".into(),
        carrier: Party::default(),
        transport: Transport {
            mode_code: "1".into(),
            ..Transport::default()
        },
        arrival: None,
        place_of_arrival: None,
        equipment: ["FCLU0000001", "FCLU0000002", "LCLU0000003"]
            .iter()
            .map(|id| Equipment {
                id: id.to_string(),
                ..Equipment::default()
            })
            .collect(),
        consignments: vec![
            consignment(1, "BL-1", None, goods(10, dec!(1000), &["FCLU0000001"])),
            consignment(
                2,
                "BL-2",
                Some("6GB-UCR-2"),
                goods(20, dec!(2000), &["FCLU0000002"]),
            ),
            consignment(3, "BL-3", None, goods(30, dec!(300), &["LCLU0000003"])),
            consignment(4, "BL-4", None, goods(40, dec!(400), &["LCLU0000003"])),
        ],
    }
}

fn cargo(references: &[&str], containers: &[&str], packages: u64, mass: Decimal) -> DeclaredCargo {
    DeclaredCargo {
        references: references.iter().map(|r| r.to_string()).collect(),
        containers: containers.iter().map(|c| c.to_string()).collect(),
        packages: Some(packages),
        gross_mass_kg: Some(mass),
    }
}

/// Each case: the declarations (cargo, standing), and per consignment the declarations matched (index, how), the
/// discharge and the discrepancies.
#[test]
fn consignments_are_matched_by_document_ucr_and_a_full_container_only() {
    let declared = [
        // 0: names BL-1 by its bill of lading; 2 kg over 1000 is within 5 %.
        (cargo(&["BL-1"], &[], 10, dec!(1002)), Standing::Released),
        // 1: names consignment 2 by its UCR, with five packages fewer than reported.
        (
            cargo(&["6GB-UCR-2"], &[], 15, dec!(2000)),
            Standing::Pending,
        ),
        // 2: names the shared container only: an LCL container names no consignment.
        (
            cargo(&[], &["LCLU0000003"], 30, dec!(300)),
            Standing::Pending,
        ),
        // 3: names the full container of consignment 2, rejected: it discharges nothing.
        (
            cargo(&[], &["FCLU0000002"], 20, dec!(2000)),
            Standing::Closed,
        ),
        // 4: names BL-4 with 25 % more mass than reported.
        (cargo(&["BL-4"], &[], 40, dec!(500)), Standing::Pending),
    ];
    let candidates: Vec<Candidate<'_>> = declared
        .iter()
        .enumerate()
        .map(|(i, (cargo, standing))| Candidate {
            id: ["d0", "d1", "d2", "d3", "d4"][i],
            cargo,
            standing: *standing,
        })
        .collect();
    let matched = match_report(&report(), &candidates, DEFAULT_MASS_TOLERANCE_PERCENT);
    let got: Vec<_> = matched
        .iter()
        .map(|m| (m.declarations.clone(), m.discharge, m.discrepancies.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                vec![(0, MatchedBy::TransportDocument)],
                Discharge::Discharged,
                vec![]
            ),
            (
                vec![(1, MatchedBy::Ucr), (3, MatchedBy::Container)],
                Discharge::Declared,
                vec![Discrepancy::Packages {
                    reported: 20,
                    declared: 15
                }]
            ),
            (vec![], Discharge::Undeclared, vec![]),
            (
                vec![(4, MatchedBy::TransportDocument)],
                Discharge::Declared,
                vec![Discrepancy::GrossMass {
                    reported: dec!(400),
                    declared: dec!(500)
                }]
            ),
        ]
    );
    assert_eq!(
        lookup_keys(&report()),
        [
            "6GB-UCR-2",
            "BL-1",
            "BL-2",
            "BL-3",
            "BL-4",
            "FCLU0000001",
            "FCLU0000002",
            "LCLU0000003"
        ]
    );
}

#[test]
fn a_declaration_covering_two_consignments_is_not_split_between_them() {
    let both = cargo(&["BL-1", "BL-2"], &[], 30, dec!(3000));
    let candidates = [Candidate {
        id: "d",
        cargo: &both,
        standing: Standing::Released,
    }];
    let matched = match_report(&report(), &candidates, 0);
    assert_eq!(matched[0].discharge, Discharge::Discharged);
    assert_eq!(matched[1].discharge, Discharge::Discharged);
    // 30 packages against 10 and 20 reported: no discrepancy is claimed for either.
    assert!(matched.iter().all(|m| m.discrepancies.is_empty()));
}

#[test]
fn the_reconciliation_names_what_is_overdue_or_differs() {
    let report = report();
    let released = cargo(&["BL-1", "BL-2"], &[], 30, dec!(3000));
    let heavy = cargo(&["BL-4"], &[], 40, dec!(900));
    let candidates = [
        Candidate {
            id: "d",
            cargo: &released,
            standing: Standing::Released,
        },
        Candidate {
            id: "e",
            cargo: &heavy,
            standing: Standing::Pending,
        },
    ];
    let arrived = [Arrived {
        id: "r",
        report: &report,
        arrived_at: datetime!(2026-09-01 10:00 UTC),
    }];
    // Within the 90 days: only the discrepancy is a line.
    let early = reconcile(
        &arrived,
        &candidates,
        90,
        datetime!(2026-11-29 09:00 UTC),
        5,
    );
    assert_eq!(
        (
            early.consignments,
            early.discharged,
            early.declared,
            early.undeclared,
            early.overdue
        ),
        (4, 2, 1, 1, 0)
    );
    assert_eq!(
        early
            .lines
            .iter()
            .map(|l| (l.consignment, l.overdue))
            .collect::<Vec<_>>(),
        [(3, false)]
    );
    assert_eq!(early.lines[0].deadline, datetime!(2026-11-30 10:00 UTC));
    // After the deadline: BL-3 (undeclared) and BL-4 (declared, not released) are overdue.
    let late = reconcile(
        &arrived,
        &candidates,
        90,
        datetime!(2026-11-30 10:01 UTC),
        5,
    );
    assert_eq!(
        late.lines
            .iter()
            .map(|l| (l.consignment, l.overdue))
            .collect::<Vec<_>>(),
        [(2, true), (3, true)]
    );
    assert_eq!((late.overdue, late.with_discrepancies), (2, 1));
}

#[test]
fn a_declaration_gives_its_references_containers_packages_and_mass() {
    let declaration: Declaration = serde_json::from_value(serde_json::json!({
        "function_code": "original",
        "lrn": "LRN-1",
        "type_code": "IMD",
        "goods_shipment": {
            "ucr": " 6GB-UCR-2 ",
            "previous_documents": [
                {"category_code": "Z", "type_code": "705", "id": "BL-2"},
                {"category_code": "Z", "type_code": "DCR", "id": "6GB-UCR-2"}
            ],
            "consignment": {"transport_equipment": [{"sequence_numeric": 1, "id": "FCLU0000002"}]},
            "goods_items": [
                {"sequence_numeric": 1, "gross_mass_kg": "1500.5",
                 "packaging": [{"sequence_numeric": 1, "quantity": 12}],
                 "previous_documents": [{"category_code": "Z", "type_code": "740", "id": "AWB-9"}]},
                {"sequence_numeric": 2, "gross_mass_kg": "499.5",
                 "packaging": [{"sequence_numeric": 1, "quantity": 8}]}
            ]
        }
    }))
    .unwrap();
    assert_eq!(
        declared_cargo(&declaration),
        DeclaredCargo {
            references: vec!["6GB-UCR-2".into(), "AWB-9".into(), "BL-2".into()],
            containers: vec!["FCLU0000002".into()],
            packages: Some(20),
            gross_mass_kg: Some(dec!(2000.0)),
        }
    );
}

proptest! {
    /// Whatever the declarations, a consignment is discharged exactly when a released declaration names it, and
    /// every line of the reconciliation is overdue or differs.
    #[test]
    fn discharge_follows_the_declarations(
        standings in proptest::collection::vec(0u8..3, 0..8),
        names in proptest::collection::vec(0usize..4, 0..8),
        days in 0u32..200,
    ) {
        let report = report();
        let cargos: Vec<DeclaredCargo> = names
            .iter()
            .map(|k| cargo(&[report.consignments[*k].transport_document.as_str()], &[], 1, dec!(1)))
            .collect();
        let candidates: Vec<Candidate<'_>> = cargos
            .iter()
            .zip(standings.iter().chain(std::iter::repeat(&0)))
            .map(|(cargo, s)| Candidate {
                id: "d",
                cargo,
                standing: [Standing::Pending, Standing::Released, Standing::Closed][usize::from(*s)],
            })
            .collect();
        for m in match_report(&report, &candidates, 5) {
            let released = candidates.iter().enumerate().any(|(i, c)| {
                c.standing == Standing::Released && names[i] == m.consignment
            });
            prop_assert_eq!(m.discharge == Discharge::Discharged, released);
        }
        let arrived = [Arrived { id: "r", report: &report, arrived_at: datetime!(2026-01-01 0:00 UTC) }];
        let r = reconcile(&arrived, &candidates, days, datetime!(2026-04-01 0:00 UTC), 5);
        prop_assert_eq!(r.consignments, 4);
        prop_assert_eq!(r.discharged + r.declared + r.undeclared, 4);
        for line in &r.lines {
            prop_assert!(line.overdue || !line.matched.discrepancies.is_empty());
        }
    }
}
