//! A transit movement's life, as a state machine: accepted at departure (CC028C, with its MRN) → released for
//! transit (CC029C) → arrived at destination (CC007C) → unloading permitted (CC043C) → unloading remarks (CC044C)
//! → goods released at destination and the movement discharged (CC025C), which frees its guarantee. A movement
//! accepted or released may be cancelled (CC014C asks, CC009C decides) until it arrives. A movement released and
//! not arrived by its time limit is overdue: an enquiry is due.

use crate::Message;
use rust_decimal::Decimal;

/// Where a movement stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Accepted,
    Released,
    Arrived,
    UnloadingPermitted,
    Unloaded,
    Discharged,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Accepted,
        Status::Released,
        Status::Arrived,
        Status::UnloadingPermitted,
        Status::Unloaded,
        Status::Discharged,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Released => "released",
            Status::Arrived => "arrived",
            Status::UnloadingPermitted => "unloading_permitted",
            Status::Unloaded => "unloaded",
            Status::Discharged => "discharged",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The movement's guarantee is reserved while it stands here.
    pub fn holds_guarantee(self) -> bool {
        !matches!(self, Status::Discharged | Status::Cancelled)
    }
}

/// What may happen to a movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The office of departure releases the goods for transit.
    Release,
    /// The arrival notification at the office of destination.
    Arrive,
    PermitUnloading,
    /// The unloading remarks, with or without discrepancies.
    Remarks,
    /// The goods released at destination: the movement ends, its guarantee is freed.
    Discharge,
    Cancel,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Release => "release",
            Step::Arrive => "arrive",
            Step::PermitUnloading => "permit_unloading",
            Step::Remarks => "remarks",
            Step::Discharge => "discharge",
            Step::Cancel => "cancel",
        }
    }
}

/// The status after `step`, or `None` where the movement cannot take it.
pub fn after(status: Status, step: Step) -> Option<Status> {
    use Status::*;
    match (status, step) {
        (Accepted, Step::Release) => Some(Released),
        (Released, Step::Arrive) => Some(Arrived),
        (Arrived, Step::PermitUnloading) => Some(UnloadingPermitted),
        (UnloadingPermitted, Step::Remarks) => Some(Unloaded),
        // Goods released at destination after the remarks, or at once when customs waives the unloading.
        (Unloaded | Arrived, Step::Discharge) => Some(Discharged),
        (Accepted | Released, Step::Cancel) => Some(Cancelled),
        _ => None,
    }
}

/// Whether a movement in `status` with time limit `limit` (YYYY-MM-DD) is overdue on `today` (YYYY-MM-DD):
/// released and not arrived after the limit.
pub fn overdue(status: Status, limit: &str, today: &str) -> bool {
    status == Status::Released && today > limit
}

/// A guarantee a departure declaration names (Guarantee, with its GuaranteeReference).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guarantee {
    /// The guarantee type (CL251: 0 waiver, 1 comprehensive, 2 individual by guarantor, 3 individual in cash, …).
    pub kind: String,
    /// The GRN, where the type has one.
    pub grn: Option<String>,
    /// The amount to be covered, and its currency.
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
}

/// What Aduana keeps of an accepted departure declaration (CC015C).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    pub lrn: String,
    pub office_of_departure: String,
    pub office_of_destination: String,
    /// The holder of the transit procedure's identification number (its EORI), if given.
    pub holder: Option<String>,
    /// The trader's own address for answers (`messageSender`).
    pub sender: String,
    pub identification: String,
    pub guarantees: Vec<Guarantee>,
    /// The offices of transit declared, in order: the itinerary.
    pub itinerary: Vec<String>,
    /// The seals declared on the transport equipment.
    pub seals: Vec<String>,
}

impl Departure {
    /// The facts of a CC015C (its schema already checked).
    pub fn of(message: &Message) -> Departure {
        let tree = &message.tree;
        let text = |path: &[&str]| message.text(path).unwrap_or_default().to_owned();
        let guarantees = tree
            .all("Guarantee")
            .flat_map(|g| {
                let kind = g.text_of("guaranteeType").unwrap_or_default().to_owned();
                let references: Vec<_> = g.all("GuaranteeReference").collect();
                if references.is_empty() {
                    return vec![Guarantee {
                        kind,
                        grn: None,
                        amount: None,
                        currency: None,
                    }];
                }
                references
                    .into_iter()
                    .map(|r| Guarantee {
                        kind: kind.clone(),
                        grn: r.text_of("GRN").map(str::to_owned),
                        amount: r.text_of("amountToBeCovered").and_then(|a| a.parse().ok()),
                        currency: r.text_of("currency").map(str::to_owned),
                    })
                    .collect()
            })
            .collect();
        let seals = tree
            .child("Consignment")
            .map(|c| {
                c.all("TransportEquipment")
                    .flat_map(|e| e.all("Seal"))
                    .filter_map(|s| s.text_of("identifier").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Departure {
            lrn: text(&["TransitOperation", "LRN"]),
            office_of_departure: text(&["CustomsOfficeOfDeparture", "referenceNumber"]),
            office_of_destination: text(&["CustomsOfficeOfDestinationDeclared", "referenceNumber"]),
            holder: message
                .text(&["HolderOfTheTransitProcedure", "identificationNumber"])
                .map(str::to_owned),
            sender: text(&["messageSender"]),
            identification: text(&["messageIdentification"]),
            guarantees,
            itinerary: tree
                .all("CustomsOfficeOfTransitDeclared")
                .filter_map(|o| o.text_of("referenceNumber").map(str::to_owned))
                .collect(),
            seals,
        }
    }
}

/// ISO 6346's check digit over the MRN's first 17 characters, as the P5 MRN carries it: letters valued 10 to 38
/// skipping multiples of 11, each position weighted 2^position, the sum modulo 11, 10 written 0.
pub fn check_digit(first17: &str) -> char {
    let mut sum: u64 = 0;
    for (position, c) in first17.chars().enumerate() {
        let value = match c {
            '0'..='9' => u64::from(c as u8 - b'0'),
            'A'..='Z' => {
                let mut v = 10;
                let mut letter = b'A';
                while letter < c as u8 {
                    v += 1;
                    if v % 11 == 0 {
                        v += 1;
                    }
                    letter += 1;
                }
                v
            }
            _ => 0,
        };
        sum += value << position.min(62);
    }
    char::from(b'0' + u8::try_from(sum % 11 % 10).unwrap_or(0))
}

/// A transit MRN: the year's two digits, the country of departure, 12 characters from `serial` (base 36), `J`
/// (transit only), the check digit.
pub fn mrn(year: u16, country: &str, serial: u64) -> String {
    let mut digits = Vec::new();
    let mut rest = serial;
    for _ in 0..12 {
        let d = u8::try_from(rest % 36).unwrap_or(0);
        digits.push(char::from(if d < 10 { b'0' + d } else { b'A' + d - 10 }));
        rest /= 36;
    }
    digits.reverse();
    let head: String = format!(
        "{:02}{}{}J",
        year % 100,
        country,
        digits.iter().collect::<String>()
    );
    let check = check_digit(&head);
    format!("{head}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_life_of_a_movement() {
        let mut status = Status::Accepted;
        for step in [
            Step::Release,
            Step::Arrive,
            Step::PermitUnloading,
            Step::Remarks,
            Step::Discharge,
        ] {
            status = after(status, step).unwrap_or_else(|| panic!("{step:?} from {status:?}"));
        }
        assert_eq!(status, Status::Discharged);
        assert_eq!(
            after(Status::Arrived, Step::Cancel),
            None,
            "no cancellation after arrival"
        );
        assert_eq!(
            after(Status::Discharged, Step::Discharge),
            None,
            "discharged once"
        );
        assert!(overdue(Status::Released, "2026-12-01", "2026-12-02"));
        assert!(!overdue(Status::Released, "2026-12-01", "2026-12-01"));
        assert!(!overdue(Status::Arrived, "2026-12-01", "2026-12-09"));
    }

    #[test]
    fn mrns_have_the_p5_form_and_check_digit() {
        // ISO 6346's own example: CSQU305438 has check digit 3.
        assert_eq!(check_digit("CSQU305438"), '3');
        let mrn = mrn(26, "GB", 1);
        assert_eq!(mrn.len(), 18);
        assert!(mrn.starts_with("26GB000000000001J"), "{mrn}");
    }

    proptest! {
        /// Whatever steps are tried, a movement is discharged at most once and never after a cancellation, and
        /// holds its guarantee exactly until it ends.
        #[test]
        fn no_step_leaves_the_lifecycle(steps in proptest::collection::vec(0usize..6, 0..20)) {
            let all = [Step::Release, Step::Arrive, Step::PermitUnloading, Step::Remarks, Step::Discharge, Step::Cancel];
            let mut status = Status::Accepted;
            let mut ended = false;
            for k in steps {
                if let Some(next) = after(status, all[k]) {
                    prop_assert!(!ended, "a step after the end");
                    status = next;
                    ended = !status.holds_guarantee();
                }
            }
            prop_assert_eq!(ended, matches!(status, Status::Discharged | Status::Cancelled));
        }
    }
}
