//! Back-test metrics: ROC AUC, and precision and recall when the top-scored share of rows is inspected.

use serde::Serialize;
use std::collections::BTreeMap;

/// The inspection rates reported.
pub const RATES: [f64; 5] = [0.01, 0.02, 0.05, 0.1, 0.2];

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AtRate {
    pub precision: f64,
    pub recall: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backtest {
    pub test_rows: usize,
    pub auc: f64,
    /// Keyed "0.01", "0.02", "0.05", "0.1", "0.2".
    pub at: BTreeMap<String, AtRate>,
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula, ties given their average rank. `None` when one class is absent.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * order[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j + 1;
    }
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

/// Precision and recall when the `rate` share of rows with the highest scores is inspected (rounded to whole rows;
/// ties broken by row order, so the figure is reproducible).
pub fn at_rate(scores: &[f64], labels: &[bool], rate: f64) -> AtRate {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let inspected = ((scores.len() as f64 * rate).round() as usize).clamp(1, scores.len().max(1));
    let found = order[..inspected.min(order.len())]
        .iter()
        .filter(|&&i| labels[i])
        .count() as f64;
    let positives = labels.iter().filter(|&&l| l).count() as f64;
    AtRate {
        precision: found / inspected as f64,
        recall: if positives == 0.0 {
            0.0
        } else {
            found / positives
        },
    }
}

pub fn backtest(scores: &[f64], labels: &[bool]) -> Backtest {
    Backtest {
        test_rows: scores.len(),
        auc: auc(scores, labels).unwrap_or(f64::NAN),
        at: RATES
            .iter()
            .map(|&rate| (rate.to_string(), at_rate(scores, labels, rate)))
            .collect(),
    }
}
