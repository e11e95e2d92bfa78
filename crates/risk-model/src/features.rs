//! From a record to the numbers the trees split on. See the crate documentation for the why.

use crate::records::Record;
use serde::{Deserialize, Serialize};

/// Writes a key's value for a record into a buffer (no allocation once the buffer has grown).
type KeyFn = fn(&Record, &mut String);

fn pair(out: &mut String, a: &str, b: &str) {
    out.push_str(a);
    out.push('|');
    out.push_str(b);
}

/// The identifiers (and pairs of them) that get a smoothed target statistic.
const KEYS: [(&str, KeyFn); 18] = [
    ("declarant", |r, o| o.push_str(&r.declarant)),
    ("importer", |r, o| o.push_str(&r.importer)),
    ("seller", |r, o| o.push_str(&r.seller)),
    ("courier", |r, o| o.push_str(&r.courier)),
    ("hs6", |r, o| o.push_str(prefix(&r.hs_code, 6))),
    ("hs4", |r, o| o.push_str(prefix(&r.hs_code, 4))),
    ("hs2", |r, o| o.push_str(prefix(&r.hs_code, 2))),
    ("origin", |r, o| o.push_str(&r.origin_country)),
    ("departure", |r, o| o.push_str(&r.departure_country)),
    ("office", |r, o| o.push_str(&r.office)),
    ("tax_type", |r, o| o.push_str(&r.tax_type)),
    ("importer×hs6", |r, o| {
        pair(o, &r.importer, prefix(&r.hs_code, 6))
    }),
    ("declarant×importer", |r, o| {
        pair(o, &r.declarant, &r.importer)
    }),
    ("hs6×origin", |r, o| {
        pair(o, prefix(&r.hs_code, 6), &r.origin_country)
    }),
    ("importer×seller", |r, o| pair(o, &r.importer, &r.seller)),
    ("declarant×hs6", |r, o| {
        pair(o, &r.declarant, prefix(&r.hs_code, 6))
    }),
    ("importer×origin", |r, o| {
        pair(o, &r.importer, &r.origin_country)
    }),
    ("office×hs6", |r, o| {
        pair(o, &r.office, prefix(&r.hs_code, 6))
    }),
];

/// The first `n` characters of a code.
fn prefix(code: &str, n: usize) -> &str {
    code.char_indices().nth(n).map_or(code, |(i, _)| &code[..i])
}

fn key_of(key: KeyFn, r: &Record, buffer: &mut String) {
    buffer.clear();
    key(r, buffer);
}

/// The features' names, in column order (for the top factors of a score).
pub const FEATURE_NAMES: [&str; 13 + 2 * 18] = [
    "tax rate",
    "net mass",
    "item price",
    "unit value (price per kg)",
    "office",
    "origin = departure",
    "courier named",
    "process type",
    "import type",
    "import use",
    "payment type",
    "transport mode",
    "origin indicator",
    "declarant history",
    "declarant seen",
    "importer history",
    "importer seen",
    "seller history",
    "seller seen",
    "courier history",
    "courier seen",
    "HS6 history",
    "HS6 seen",
    "HS4 history",
    "HS4 seen",
    "HS2 history",
    "HS2 seen",
    "origin history",
    "origin seen",
    "departure history",
    "departure seen",
    "office history",
    "office seen",
    "tax type history",
    "tax type seen",
    "importer × HS6 history",
    "importer × HS6 seen",
    "declarant × importer history",
    "declarant × importer seen",
    "HS6 × origin history",
    "HS6 × origin seen",
    "importer × seller history",
    "importer × seller seen",
    "declarant × HS6 history",
    "declarant × HS6 seen",
    "importer × origin history",
    "importer × origin seen",
    "office × HS6 history",
    "office × HS6 seen",
];

/// A stable number for a code (FNV-1a), so that a low-cardinality code can be split on.
fn code(text: &str) -> f64 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % 1_000_003) as f64
}

fn base(r: &Record) -> [f64; 13] {
    let mass = r.net_mass.unwrap_or(f64::NAN);
    let price = r.item_price.unwrap_or(f64::NAN);
    [
        r.tax_rate.unwrap_or(f64::NAN),
        (mass.max(0.0) + 1.0).ln(),
        (price.max(0.0) + 1.0).ln(),
        ((price.max(0.0) + 1.0) / (mass.max(0.0) + 1.0)).ln(),
        r.office.trim().parse().unwrap_or_else(|_| code(&r.office)),
        f64::from(u8::from(r.origin_country == r.departure_country)),
        f64::from(u8::from(!r.courier.is_empty())),
        code(&r.process_type),
        code(&r.import_type),
        code(&r.import_use),
        code(&r.payment_type),
        code(&r.transport_mode),
        code(&r.origin_indicator),
    ]
}

/// Counts of outcomes per value of each key.
type Counts = rustc_hash::FxHashMap<String, (f64, f64)>;

fn count(records: &[&Record], key: KeyFn) -> Counts {
    let mut counts = Counts::default();
    let mut buffer = String::new();
    for r in records {
        key_of(key, r, &mut buffer);
        if !counts.contains_key(buffer.as_str()) {
            counts.insert(buffer.clone(), (0.0, 0.0));
        }
        let entry = counts.get_mut(buffer.as_str()).expect("inserted above");
        entry.0 += if r.irregular == Some(true) { 1.0 } else { 0.0 };
        entry.1 += 1.0;
    }
    counts
}

/// The statistics learnt from the training data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Encoder {
    prior: f64,
    smoothing: f64,
    counts: Vec<Counts>,
}

impl Encoder {
    pub fn fit(records: &[Record], smoothing: f64) -> Encoder {
        let all: Vec<&Record> = records.iter().collect();
        let positives = records.iter().filter(|r| r.irregular == Some(true)).count();
        Encoder {
            prior: positives as f64 / records.len().max(1) as f64,
            smoothing,
            counts: KEYS.iter().map(|(_, key)| count(&all, *key)).collect(),
        }
    }

    fn statistic(&self, counts: &Counts, value: &str, scale: f64) -> (f64, f64) {
        let (irregular, seen) = counts.get(value).copied().unwrap_or((0.0, 0.0));
        (
            (irregular + self.prior * self.smoothing) / (seen + self.smoothing),
            seen * scale,
        )
    }

    /// Columns for new records, with statistics from all the training data.
    pub fn matrix(&self, records: &[Record]) -> Vec<Vec<f64>> {
        let mut columns = vec![Vec::with_capacity(records.len()); FEATURE_NAMES.len()];
        let mut buffer = String::new();
        for r in records {
            for (c, v) in base(r).into_iter().enumerate() {
                columns[c].push(v);
            }
            for (k, (_, key)) in KEYS.iter().enumerate() {
                key_of(*key, r, &mut buffer);
                let (rate, seen) = self.statistic(&self.counts[k], &buffer, 1.0);
                columns[13 + 2 * k].push(rate);
                columns[13 + 2 * k + 1].push(seen);
            }
        }
        columns
    }

    /// Columns for the training records themselves: each row's statistics come from the other folds, so that no
    /// row sees its own outcome. Counts are scaled to the whole training set's size.
    pub fn training_matrix(&self, records: &[Record], folds: usize, seed: u64) -> Vec<Vec<f64>> {
        let folds = folds.max(2);
        let fold_of = |i: usize| {
            let mut x = (i as u64)
                .wrapping_add(seed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
            x ^= x >> 31;
            (x % folds as u64) as usize
        };
        let mut columns = vec![vec![0.0; records.len()]; FEATURE_NAMES.len()];
        for (i, r) in records.iter().enumerate() {
            for (c, v) in base(r).into_iter().enumerate() {
                columns[c][i] = v;
            }
        }
        let scale = folds as f64 / (folds - 1) as f64;
        for fold in 0..folds {
            let others: Vec<&Record> = records
                .iter()
                .enumerate()
                .filter(|(i, _)| fold_of(*i) != fold)
                .map(|(_, r)| r)
                .collect();
            let mut buffer = String::new();
            for (k, (_, key)) in KEYS.iter().enumerate() {
                let counts = count(&others, *key);
                for (i, r) in records
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| fold_of(*i) == fold)
                {
                    key_of(*key, r, &mut buffer);
                    let (rate, seen) = self.statistic(&counts, &buffer, scale);
                    columns[13 + 2 * k][i] = rate;
                    columns[13 + 2 * k + 1][i] = seen;
                }
            }
        }
        columns
    }
}
