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
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
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

/// The selector credited with declarations the rate controller topped up into a control lane.
pub const TOP_UP: &str = "rate-top-up";

/// One risk model version's row: of the declarations it scored, how many went to a control lane, were
/// controlled, found irregular, and the duty found; with the mean score of the irregular and of the others.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ModelHits {
    pub model: String,
    pub scored: u64,
    /// Scored and sent to a control lane (yellow, red) or post-clearance audit (blue), by any selector.
    pub selected: u64,
    pub controlled: u64,
    pub irregular: u64,
    pub hit_rate: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub additional_duty: Decimal,
    /// Mean score of the controlled declarations found irregular, and of those found regular: the farther
    /// apart, the better the model separates them.
    pub mean_score_irregular: Option<Decimal>,
    pub mean_score_regular: Option<Decimal>,
}

/// The report: per selector, and per model version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct HitReport {
    pub selectors: Vec<SelectorHits>,
    pub models: Vec<ModelHits>,
}

/// The report over `histories` (each a declaration's events, in order).
pub fn hit_rates<'a>(histories: impl IntoIterator<Item = &'a [EventKind]>) -> Vec<SelectorHits> {
    report(histories).selectors
}

/// The report per selector and per model version over `histories` (each a declaration's events, in order).
pub fn report<'a>(histories: impl IntoIterator<Item = &'a [EventKind]>) -> HitReport {
    let mut rows: BTreeMap<String, SelectorHits> = BTreeMap::new();
    let mut models: BTreeMap<String, (ModelHits, Decimal, Decimal)> = BTreeMap::new();
    for events in histories {
        let mut selectors: Vec<String> = Vec::new();
        let mut scored: Option<(String, Decimal, bool)> = None;
        for event in events {
            if let EventKind::LaneAssigned {
                lane,
                hits,
                random,
                basis,
                ..
            } = event
            {
                selectors.clear();
                scored = basis.model.clone().map(|m| {
                    (
                        m,
                        basis.score.unwrap_or_default(),
                        *lane != selectivity::Lane::Green,
                    )
                });
                if let Some(rate) = &basis.rate
                    && rate.topped_up
                {
                    let row = rows.entry(TOP_UP.into()).or_default();
                    row.selector = TOP_UP.into();
                    row.description =
                        "Topped up to the lane's expected rate from declarations no rule selected"
                            .into();
                    row.lane = lane.as_str().to_owned();
                    row.selected += 1;
                    selectors.push(TOP_UP.into());
                }
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
        if let Some((model, score, selected)) = scored {
            let (row, sum_irregular, sum_regular) = models.entry(model.clone()).or_default();
            row.model = model;
            row.scored += 1;
            row.selected += u64::from(selected);
            match outcome {
                Some(ControlResult::Irregularity {
                    additional_duty, ..
                }) => {
                    row.controlled += 1;
                    row.irregular += 1;
                    row.additional_duty += additional_duty.unwrap_or_default();
                    *sum_irregular += score;
                }
                Some(_) => {
                    row.controlled += 1;
                    *sum_regular += score;
                }
                None => {}
            }
        }
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
    let ratio =
        |a: Decimal, b: u64| (b > 0).then(|| (a / Decimal::from(b)).round_dp(4).normalize());
    let mut selectors: Vec<SelectorHits> = rows.into_values().collect();
    for row in &mut selectors {
        row.hit_rate = ratio(Decimal::from(row.irregular), row.controlled);
    }
    let models = models
        .into_values()
        .map(|(mut row, sum_irregular, sum_regular)| {
            row.hit_rate = ratio(Decimal::from(row.irregular), row.controlled);
            row.mean_score_irregular = ratio(sum_irregular, row.irregular);
            row.mean_score_regular = ratio(sum_regular, row.controlled - row.irregular);
            row
        })
        .collect();
    HitReport { selectors, models }
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
            basis: crate::SelectionBasis::default(),
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

    #[test]
    fn top_ups_and_model_versions_are_reported() {
        let scored =
            |model: &str, score: i64, lane: Lane, topped_up: bool| EventKind::LaneAssigned {
                lane,
                hits: vec![],
                random: false,
                control: None,
                basis: crate::SelectionBasis {
                    model: Some(model.into()),
                    score: Some(Decimal::new(score, 2)),
                    rate: Some(crate::RateRecord {
                        population: "GB000060/40/other".into(),
                        rule_lane: Lane::Green,
                        topped_up,
                    }),
                    ..crate::SelectionBasis::default()
                },
            };
        let histories = [
            vec![
                scored("m1", 90, Lane::Yellow, true),
                control(Some(("valuation", 50))),
            ],
            vec![scored("m1", 30, Lane::Yellow, true), control(None)],
            vec![scored("m1", 10, Lane::Green, false)],
            vec![
                scored("m2", 70, Lane::Red, true),
                control(Some(("origin", 5))),
            ],
        ];
        let report = report(histories.iter().map(|h| h.as_slice()));
        let top_up = report
            .selectors
            .iter()
            .find(|r| r.selector == TOP_UP)
            .unwrap();
        assert_eq!(
            (top_up.selected, top_up.controlled, top_up.irregular),
            (3, 3, 2)
        );
        let m1 = &report.models[0];
        assert_eq!(
            (
                m1.model.as_str(),
                m1.scored,
                m1.selected,
                m1.controlled,
                m1.irregular
            ),
            ("m1", 3, 2, 2, 1)
        );
        assert_eq!(m1.mean_score_irregular, Some(Decimal::new(9, 1)));
        assert_eq!(m1.mean_score_regular, Some(Decimal::new(3, 1)));
        assert_eq!(m1.additional_duty, Decimal::from(50));
        assert_eq!(
            (report.models[1].model.as_str(), report.models[1].hit_rate),
            ("m2", Some(Decimal::ONE))
        );
    }
}
