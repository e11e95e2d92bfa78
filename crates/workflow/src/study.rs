//! The Time Release Study, first cut: how long each stage of clearance takes.
//!
//! Each declaration's events give the time it entered each stage; [`release_times`] groups declarations (by lane,
//! office or transport mode, as the caller chooses) and returns, for each stage interval and for lodgement to
//! release as a whole, the count, mean, median and 90th percentile in seconds. Percentiles use the nearest-rank
//! method on the sorted durations. Only released declarations are counted, so every interval is complete.

use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The stage intervals measured, as (name, from event, to event). `control_or_lane` means the later of the lane
/// assignment and the last control result.
pub const STAGES: &[(&str, &str, &str)] = &[
    ("lodgement_to_acceptance", "lodged", "accepted"),
    ("acceptance_to_lane", "accepted", "lane_assigned"),
    (
        "lane_to_control_result",
        "lane_assigned",
        "control_recorded",
    ),
    (
        "control_or_lane_to_assessment",
        "control_or_lane",
        "assessed",
    ),
    ("assessment_to_settlement", "assessed", "settled"),
    ("settlement_to_release", "settled", "released"),
    ("arrival_to_release", "arrived_or_lodged", "released"),
    ("lodgement_to_release", "lodged", "released"),
    // The Single Window: a partner agency asked (a document missing, or its selection) until it decided, and until
    // the goods were released. Grouped by agency, each agency's own times.
    (
        "agency_request_to_decision",
        "agency_awaited",
        "agency_decided",
    ),
    ("agency_request_to_release", "agency_awaited", "released"),
    // After release: until the goods left the customs area (gate-out or exit), which closes the record.
    ("release_to_exit", "released", "exited"),
    ("lodgement_to_exit", "lodged", "exited"),
];

/// One declaration's history: its group key and its events (type, time) in order.
#[derive(Clone, Debug)]
pub struct Timeline {
    pub group: String,
    pub events: Vec<(String, OffsetDateTime)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageStats {
    /// One of the stages of [`STAGES`]: lodgement_to_acceptance, acceptance_to_lane, lane_to_control_result,
    /// control_or_lane_to_assessment, assessment_to_settlement, settlement_to_release, arrival_to_release,
    /// lodgement_to_release, agency_request_to_decision, agency_request_to_release, release_to_exit,
    /// lodgement_to_exit.
    pub stage: String,
    pub count: usize,
    pub mean_seconds: f64,
    pub median_seconds: f64,
    pub p90_seconds: f64,
}

impl Timeline {
    fn first(&self, kind: &str) -> Option<OffsetDateTime> {
        match kind {
            "control_or_lane" => {
                let lane = self.first("lane_assigned")?;
                let control = self
                    .events
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "control_recorded")
                    .map(|(_, at)| *at);
                Some(control.map_or(lane, |c| c.max(lane)))
            }
            // A declaration lodged with its goods already present arrives at lodgement.
            "arrived_or_lodged" => self.first("arrived").or_else(|| self.first("lodged")),
            _ => self
                .events
                .iter()
                .find(|(k, _)| k == kind)
                .map(|(_, at)| *at),
        }
    }
}

/// Nearest-rank percentile of sorted `values` (p in 0..=100).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Stage statistics per group, for released declarations.
pub fn release_times(timelines: &[Timeline]) -> BTreeMap<String, Vec<StageStats>> {
    let mut durations: BTreeMap<String, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    for timeline in timelines.iter().filter(|t| t.first("released").is_some()) {
        let group = durations.entry(timeline.group.clone()).or_default();
        for (stage, from, to) in STAGES {
            if let (Some(start), Some(end)) = (timeline.first(from), timeline.first(to)) {
                let seconds = (end - start).as_seconds_f64().max(0.0);
                group.entry(stage).or_default().push(seconds);
            }
        }
    }
    durations
        .into_iter()
        .map(|(group, stages)| {
            let stats = STAGES
                .iter()
                .filter_map(|(stage, _, _)| {
                    let mut values = stages.get(stage)?.clone();
                    values.sort_by(f64::total_cmp);
                    let mean = values.iter().sum::<f64>() / values.len() as f64;
                    Some(StageStats {
                        stage: (*stage).to_owned(),
                        count: values.len(),
                        mean_seconds: round3(mean),
                        median_seconds: round3(median(&values)),
                        p90_seconds: round3(percentile(&values, 90.0)),
                    })
                })
                .collect();
            (group, stats)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    fn timeline(group: &str, steps: &[(&str, i64)]) -> Timeline {
        let start = datetime!(2026-11-01 08:00 UTC);
        Timeline {
            group: group.into(),
            events: steps
                .iter()
                .map(|(k, s)| ((*k).to_owned(), start + Duration::seconds(*s)))
                .collect(),
        }
    }

    #[test]
    fn stages_are_measured_per_group_with_hand_computed_statistics() {
        let green = |total: i64| {
            timeline(
                "green",
                &[
                    ("lodged", 0),
                    ("accepted", 1),
                    ("lane_assigned", 1),
                    ("assessed", 2),
                    ("settled", 2),
                    ("released", total),
                ],
            )
        };
        let red = timeline(
            "red",
            &[
                ("lodged", 0),
                ("accepted", 1),
                ("lane_assigned", 1),
                ("control_recorded", 3601),
                ("assessed", 3602),
                ("settled", 3602),
                ("released", 3602),
            ],
        );
        let not_released = timeline("green", &[("lodged", 0), ("accepted", 1)]);
        let report = release_times(&[green(2), green(10), green(4), green(100), red, not_released]);
        let total = |group: &str| {
            report[group]
                .iter()
                .find(|s| s.stage == "lodgement_to_release")
                .unwrap()
                .clone()
        };
        let green_total = total("green");
        assert_eq!(green_total.count, 4);
        assert_eq!(green_total.mean_seconds, 29.0); // (2 + 10 + 4 + 100) / 4
        assert_eq!(green_total.median_seconds, 7.0); // (4 + 10) / 2
        assert_eq!(green_total.p90_seconds, 100.0); // nearest rank: ceil(0.9 × 4) = 4th
        let control = report["red"]
            .iter()
            .find(|s| s.stage == "lane_to_control_result")
            .unwrap();
        assert_eq!(control.mean_seconds, 3600.0);
        assert!(
            report["green"]
                .iter()
                .all(|s| s.stage != "lane_to_control_result")
        );
    }
}
