use super::*;
use crate::metrics::{at_rate, auc};
use crate::records::{ColumnMapping, read_csv};
use proptest::prelude::*;

#[test]
fn auc_is_the_probability_a_positive_outscores_a_negative() {
    assert_eq!(auc(&[0.1, 0.9], &[false, true]), Some(1.0));
    assert_eq!(auc(&[0.9, 0.1], &[false, true]), Some(0.0));
    assert_eq!(auc(&[0.5, 0.5], &[false, true]), Some(0.5));
    assert_eq!(
        auc(&[0.2, 0.4, 0.6, 0.8], &[false, true, false, true]),
        Some(0.75)
    );
    assert_eq!(auc(&[0.2, 0.4], &[true, true]), None);
}

#[test]
fn precision_and_recall_at_an_inspection_rate() {
    let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
    let labels = [
        true, false, true, false, false, false, false, false, false, true,
    ];
    let top_20 = at_rate(&scores, &labels, 0.2);
    assert_eq!((top_20.precision, top_20.recall), (0.5, 1.0 / 3.0));
    let top_30 = at_rate(&scores, &labels, 0.3);
    assert!((top_30.precision - 2.0 / 3.0).abs() < 1e-12);
}

proptest! {
    #[test]
    fn auc_is_between_zero_and_one_and_symmetric(scores in prop::collection::vec(0.0f64..1.0, 2..50), seed in any::<u64>()) {
        let labels: Vec<bool> = scores.iter().enumerate().map(|(i, _)| (seed >> (i % 64)) & 1 == 1).collect();
        if let Some(a) = auc(&scores, &labels) {
            prop_assert!((0.0..=1.0).contains(&a));
            let flipped: Vec<bool> = labels.iter().map(|l| !l).collect();
            let b = auc(&scores, &flipped).unwrap();
            prop_assert!((a + b - 1.0).abs() < 1e-9);
        }
    }
}

/// A small synthetic world: importers with their own irregularity rate, which the model must learn from history.
fn synthetic(rows: usize, seed: u64) -> Vec<Record> {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as f64 / (1u64 << 31) as f64
    };
    (0..rows)
        .map(|i| {
            let importer = (next() * 50.0) as u32;
            let risky = importer.is_multiple_of(5);
            let irregular = next() < if risky { 0.7 } else { 0.05 };
            Record {
                date: format!("2020-01-{:02}", 1 + i % 28),
                importer: format!("IMP{importer}"),
                declarant: format!("DEC{}", (next() * 20.0) as u32),
                hs_code: format!("{:06}", 100000 + (next() * 30.0) as u32),
                origin_country: ["CN", "US", "DE"][(next() * 3.0) as usize].into(),
                item_price: Some(next() * 1000.0),
                net_mass: Some(next() * 100.0),
                tax_rate: Some(8.0),
                irregular: Some(irregular),
                ..Record::default()
            }
        })
        .collect()
}

#[test]
fn the_model_learns_which_importers_are_risky_and_says_so() {
    let train = synthetic(3000, 1);
    let test = synthetic(1000, 2);
    let settings = Settings {
        iterations: 60,
        ..Settings::default()
    };
    let model = Model::train(&train, &settings).unwrap();
    let scores = model.score(&test);
    let labels: Vec<bool> = test.iter().map(|r| r.irregular == Some(true)).collect();
    let a = auc(&scores, &labels).unwrap();
    assert!(a > 0.8, "auc {a}");
    // The top factor of a risky importer's declaration is its importer's history.
    let risky = test.iter().find(|r| r.importer == "IMP0").unwrap();
    let factors = model.factors(risky, 3);
    assert!(
        factors.iter().any(|f| f.feature.starts_with("importer")),
        "{factors:?}"
    );
    // A saved model scores the same.
    let again = Model::from_json(&model.to_json()).unwrap();
    assert_eq!(again.score(&test[..10]), scores[..10].to_vec());
    // Training twice gives the same model.
    let twice = Model::train(&train, &settings).unwrap();
    assert_eq!(twice.score(&test[..10]), scores[..10].to_vec());
}

#[test]
fn training_needs_both_outcomes() {
    let mut train = synthetic(100, 3);
    for r in &mut train {
        r.irregular = Some(false);
    }
    assert!(matches!(
        Model::train(&train, &Settings::default()),
        Err(ModelError::NoContrast)
    ));
}

#[test]
fn csv_in_the_kcs_layout_and_through_a_mapping() {
    let kcs = "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud\n\
        97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0\n\
        85945189,2020-01-01,40,B,11,21,11,40,SWF9S4X,7JD1S2X,8WDKMC6,,690722,CN,CN,8.0,A,Y,11352.0,375751.2,1,0\n";
    let records = read_csv(kcs, &ColumnMapping::kcs()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].importer, "7JD1S2X");
    assert_eq!(records[1].net_mass, Some(11352.0));
    assert_eq!(records[1].irregular, Some(true));

    let mapping = ColumnMapping::from_json(
        r#"{"importer": "IMPORTER_TIN", "hs_code": "HS", "irregular": "RESULT"}"#,
    )
    .unwrap();
    let other = "IMPORTER_TIN,HS,RESULT\nGB1,851090,\nGB2,851010,1\n";
    let records = read_csv(other, &mapping).unwrap();
    assert_eq!(
        (records[0].irregular, records[1].irregular),
        (None, Some(true))
    );
    // Errors name the line and the column.
    let error = read_csv("IMPORTER_TIN,HS,RESULT\nGB1,851090,yes\n", &mapping).unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2: the outcome must be 0, 1 or empty, not \"yes\""
    );
    let error = read_csv("TIN,HS,RESULT\n", &mapping).unwrap_err();
    assert!(
        error.to_string().contains("no column \"IMPORTER_TIN\""),
        "{error}"
    );
    assert!(
        ColumnMapping::from_json(r#"{"importr": "X"}"#)
            .unwrap_err()
            .contains("unknown field")
    );
}
