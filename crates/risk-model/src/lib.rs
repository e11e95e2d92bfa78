//! The learned risk model: past declarations with the outcome of their control in, a model out; a declaration in,
//! a score (the estimated probability that a control finds an irregularity) and its top contributing factors out.
//!
//! - **Features** ([`features`]): the declaration's numbers (tax rate, net mass, item price, unit value), its
//!   low-cardinality codes (office, procedure, payment, transport mode, …), and for its high-cardinality
//!   identifiers — declarant, importer, seller, courier, HS code at 2/4/6 digits, countries — and some of their
//!   pairs (importer × seller, importer × HS, HS × origin, …) a *smoothed target statistic*: the irregularity rate
//!   seen for that value, pulled towards the overall rate when it was seen rarely, with the number of times seen.
//!   For training rows the statistic is computed out of fold (from the other four fifths of the training data), so
//!   a row never sees its own label; for new declarations it comes from all the training data.
//! - **Learner**: gradient-boosted trees ([`forust_ml`], pure Rust, histogram-based, log loss), fixed
//!   hyperparameters chosen once for the data's shape, not tuned to a split.
//! - **Back-testing** ([`metrics`]): ROC AUC and precision/recall when the top-scored 1, 2, 5, 10, 20 % are
//!   inspected.
//! - **Input** ([`records`]): CSV in the layout of the KCS synthetic import declarations natively, other layouts
//!   through a column mapping (docs/risk-model.md).
//!
//! Scores are `f64`: they are probabilities, not money. **Architecture invariant**: pure — text in, model out; no
//! file, clock or network access (the CLI reads the files). Training is deterministic for a given input and seed.

pub mod features;
pub mod metrics;
pub mod records;

use features::{Encoder, FEATURE_NAMES};
use forust_ml::gradientbooster::ContributionsMethod;
use forust_ml::{GradientBooster, Matrix};
use records::Record;
use serde::{Deserialize, Serialize};

/// The learner's settings: fixed, chosen for data of this shape (tens of thousands of rows, a fifth irregular).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub iterations: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    pub subsample: f32,
    pub colsample: f64,
    pub min_leaf_weight: f32,
    /// Pseudo-count pulling a rare value's statistic towards the overall rate.
    pub smoothing: f64,
    /// Folds for the out-of-fold statistics of training rows.
    pub folds: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            iterations: 150,
            learning_rate: 0.1,
            max_depth: 5,
            subsample: 0.8,
            colsample: 0.8,
            min_leaf_weight: 5.0,
            smoothing: 5.0,
            folds: 5,
            seed: 7,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "the training data must hold both controls that found an irregularity and controls that did not"
    )]
    NoContrast,
    #[error("training failed: {0}")]
    Learner(String),
    #[error("the model file is not a model: {0}")]
    Corrupt(String),
}

/// A trained model: the encoder (statistics from the training data) and the trees.
#[derive(Serialize, Deserialize)]
pub struct Model {
    pub settings: Settings,
    pub training_rows: usize,
    pub irregular_rate: f64,
    encoder: Encoder,
    booster: String,
    #[serde(skip)]
    trees: Option<GradientBooster>,
}

/// One factor of a score: a feature and how much it moved the score (log-odds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Factor {
    pub feature: &'static str,
    pub contribution: f64,
}

impl Model {
    /// Trains on records with known outcomes.
    pub fn train(records: &[Record], settings: &Settings) -> Result<Model, ModelError> {
        let labels: Vec<f64> = records
            .iter()
            .map(|r| if r.irregular == Some(true) { 1.0 } else { 0.0 })
            .collect();
        let positives = labels.iter().filter(|&&y| y == 1.0).count();
        if positives == 0 || positives == labels.len() {
            return Err(ModelError::NoContrast);
        }
        let encoder = Encoder::fit(records, settings.smoothing);
        let columns = encoder.training_matrix(records, settings.folds, settings.seed);
        let matrix_data: Vec<f64> = columns.concat();
        let matrix = Matrix::new(&matrix_data, records.len(), FEATURE_NAMES.len());
        let mut booster = GradientBooster::default()
            .set_iterations(settings.iterations)
            .set_learning_rate(settings.learning_rate)
            .set_max_depth(settings.max_depth)
            .set_subsample(settings.subsample)
            .set_colsample_bytree(settings.colsample)
            .set_min_leaf_weight(settings.min_leaf_weight)
            .set_seed(settings.seed);
        booster
            .fit_unweighted(&matrix, &labels, None)
            .map_err(|e| ModelError::Learner(e.to_string()))?;
        let json = booster
            .json_dump()
            .map_err(|e| ModelError::Learner(e.to_string()))?;
        Ok(Model {
            settings: settings.clone(),
            training_rows: records.len(),
            irregular_rate: positives as f64 / records.len() as f64,
            encoder,
            booster: json,
            trees: Some(booster),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serializes")
    }

    pub fn from_json(text: &str) -> Result<Model, ModelError> {
        let mut model: Model =
            serde_json::from_str(text).map_err(|e| ModelError::Corrupt(e.to_string()))?;
        model.trees = Some(
            GradientBooster::from_json(&model.booster)
                .map_err(|e| ModelError::Corrupt(e.to_string()))?,
        );
        Ok(model)
    }

    fn trees(&self) -> &GradientBooster {
        self.trees.as_ref().expect("set by train and from_json")
    }

    /// The feature columns of records, as the trees see them (column-major).
    pub fn features(&self, records: &[Record]) -> Vec<Vec<f64>> {
        self.encoder.matrix(records)
    }

    /// Scores records: the estimated probability of an irregularity, in order.
    pub fn score(&self, records: &[Record]) -> Vec<f64> {
        if records.is_empty() {
            return Vec::new();
        }
        let data: Vec<f64> = self.encoder.matrix(records).concat();
        let matrix = Matrix::new(&data, records.len(), FEATURE_NAMES.len());
        self.trees()
            .predict(&matrix, false)
            .into_iter()
            .map(|log_odds| 1.0 / (1.0 + (-log_odds).exp()))
            .collect()
    }

    /// The `n` features that moved this record's score most, largest first.
    pub fn factors(&self, record: &Record, n: usize) -> Vec<Factor> {
        let data: Vec<f64> = self.encoder.matrix(std::slice::from_ref(record)).concat();
        let matrix = Matrix::new(&data, 1, FEATURE_NAMES.len());
        let contributions =
            self.trees()
                .predict_contributions(&matrix, ContributionsMethod::Average, false);
        let mut factors: Vec<Factor> = FEATURE_NAMES
            .iter()
            .zip(contributions)
            .map(|(feature, contribution)| Factor {
                feature,
                contribution,
            })
            .collect();
        factors.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        factors.truncate(n);
        factors
    }
}

#[cfg(test)]
mod tests;
