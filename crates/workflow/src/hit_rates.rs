//! The feedback loop's report: for each risk rule (and the random selection), how many declarations it selected,
//! how many of those were controlled, how many controls found an irregularity, and the additional duty found.
//!
//! A declaration's control outcome is credited to every rule that hit it at lane assignment (several rules may
//! share one find); a declaration selected by the random draw is credited to `random`. A lane changed later by an
//! officer does not change who selected it. Pure: the caller passes each declaration's events in order.

use crate::{ControlResult, EventKind};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// The row of one selector (a rule's id, or `random`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SelectorHits {
    pub selector: String,
    pub description: String,
    /// The lane the rule asks for (`random`: the random selection's lane).
    pub lane: String,
    /// Declarations it selected.
    pub selected: u64,
    /// Of those, declarations whose control result is recorded.
    pub controlled: u64,
    /// Of those, controls that found an irregularity.
    pub irregular: u64,
    /// `irregular / controlled`, or `None` before any control.
    pub hit_rate: Option<Decimal>,
    /// Additional duty found by those controls, in the national currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub additional_duty: Decimal,
    /// Irregularities by type (classification, valuation, origin, …).
    pub by_type: BTreeMap<String, u64>,
}

/// The report over `histories` (each a declaration's events, in order).
pub fn hit_rates<'a>(histories: impl IntoIterator<Item = &'a [EventKind]>) -> Vec<SelectorHits> {
    let mut rows: BTreeMap<String, SelectorHits> = BTreeMap::new();
    for events in histories {
        let mut selectors: Vec<String> = Vec::new();
        for event in events {
            if let EventKind::LaneAssigned {
                lane, hits, random, ..
            } = event
            {
                selectors.clear();
                for hit in hits {
                    let row = rows.entry(hit.rule.clone()).or_default();
                    row.selector = hit.rule.clone();
                    row.description = hit.description.clone();
                    row.lane = hit.lane.as_str().to_owned();
                    row.selected += 1;
                    selectors.push(hit.rule.clone());
                }
                if *random {
                    let row = rows.entry("random".into()).or_default();
                    row.selector = "random".into();
                    row.description = "Random selection of declarations no rule selects".into();
                    row.lane = lane.as_str().to_owned();
                    row.selected += 1;
                    selectors.push("random".into());
                }
            }
        }
        // The last control result recorded is the outcome (a re-control replaces the first).
        let outcome = events.iter().rev().find_map(|e| match e {
            EventKind::ControlRecorded { outcome, .. } => Some(outcome),
            _ => None,
        });
        let Some(outcome) = outcome else { continue };
        for selector in &selectors {
            let row = rows.get_mut(selector).expect("counted above");
            row.controlled += 1;
            if let ControlResult::Irregularity {
                irregularity_type,
                additional_duty,
            } = outcome
            {
                row.irregular += 1;
                row.additional_duty += additional_duty.unwrap_or_default();
                *row.by_type.entry(irregularity_type.clone()).or_default() += 1;
            }
        }
    }
    let mut out: Vec<SelectorHits> = rows.into_values().collect();
    for row in &mut out {
        row.hit_rate = (row.controlled > 0).then(|| {
            (Decimal::from(row.irregular) / Decimal::from(row.controlled))
                .round_dp(4)
                .normalize()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ControlKind;
    use selectivity::{Hit, Lane};

    fn assigned(rules: &[&str], random: bool) -> EventKind {
        EventKind::LaneAssigned {
            lane: Lane::Yellow,
            hits: rules
                .iter()
                .map(|r| Hit {
                    rule: (*r).into(),
                    description: format!("rule {r}"),
                    lane: Lane::Yellow,
                })
                .collect(),
            random,
            control: Some(ControlKind::DocumentaryCheck),
        }
    }

    fn control(irregular: Option<(&str, i64)>) -> EventKind {
        EventKind::ControlRecorded {
            control: ControlKind::DocumentaryCheck,
            outcome: match irregular {
                None => ControlResult::NoIrregularity,
                Some((kind, duty)) => ControlResult::Irregularity {
                    irregularity_type: kind.into(),
                    additional_duty: Some(Decimal::from(duty)),
                },
            },
        }
    }

    #[test]
    fn outcomes_are_credited_to_every_rule_that_selected_the_declaration() {
        let histories = [
            vec![
                assigned(&["R1", "R2"], false),
                control(Some(("valuation", 120))),
            ],
            vec![assigned(&["R1"], false), control(None)],
            vec![assigned(&["R1"], false)],
            vec![assigned(&[], true), control(Some(("origin", 30)))],
            vec![assigned(&[], false)],
        ];
        let report = hit_rates(histories.iter().map(|h| h.as_slice()));
        let row = |name: &str| report.iter().find(|r| r.selector == name).unwrap().clone();
        let r1 = row("R1");
        assert_eq!((r1.selected, r1.controlled, r1.irregular), (3, 2, 1));
        assert_eq!(r1.hit_rate, Some(Decimal::new(5, 1)));
        assert_eq!(r1.additional_duty, Decimal::from(120));
        assert_eq!(r1.by_type["valuation"], 1);
        let r2 = row("R2");
        assert_eq!(
            (r2.selected, r2.controlled, r2.irregular, r2.hit_rate),
            (1, 1, 1, Some(Decimal::ONE))
        );
        let random = row("random");
        assert_eq!(
            (random.selected, random.irregular, random.additional_duty),
            (1, 1, Decimal::from(30))
        );
        assert_eq!(report.len(), 3);
    }
}
