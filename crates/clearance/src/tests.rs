use super::*;
use workflow::Settlement;

fn read(name: &str) -> Option<Declaration> {
    let samples = test_support::hmrc_samples()?;
    let bytes = std::fs::read(samples.join(name)).unwrap();
    Some(wco::read_declaration(&bytes, &wco::Limits::default()).unwrap())
}

fn date() -> time::Date {
    time::macros::date!(2026 - 11 - 29)
}

#[test]
fn a_standard_import_with_deferment_is_released_at_once_with_hand_computed_taxes() {
    let Some(declaration) = read("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    let pipeline = Pipeline::demo(b"test seed".to_vec());
    let outcome = pipeline.lodge(&declaration, "hash", 42, date());
    // 85109000 + TARIC 00 → 8510900000; demo tariff 851090 A00 2 %; VAT 20 % on value plus duty.
    let assessment = outcome.assessment.clone().unwrap();
    let taxes: Vec<(String, String, String)> = assessment.items[0]
        .taxes
        .iter()
        .map(|t| (t.tax_type.clone(), t.base.to_string(), t.amount.to_string()))
        .collect();
    assert_eq!(
        taxes,
        vec![
            ("A00".into(), "1000.00".into(), "20.00".into()),
            ("B00".into(), "1020.00".into(), "204.00".into())
        ]
    );
    let lane = outcome.decision.as_ref().unwrap().lane;
    let types: Vec<&str> = outcome.events.iter().map(|(e, _)| e.type_name()).collect();
    if lane.requires_control() {
        assert_eq!(outcome.state.status, Status::UnderControl);
    } else {
        assert_eq!(
            types,
            [
                "lodged",
                "accepted",
                "lane_assigned",
                "assessed",
                "settled",
                "released"
            ]
        );
        assert_eq!(outcome.state.settlement, Some(Settlement::Deferred));
    }
    let mrn = outcome.state.mrn.unwrap();
    assert!(
        mrn.as_str().starts_with("26GB") && mrn.as_str().as_bytes()[16] == b'J',
        "{mrn}"
    );
}

#[test]
fn an_unknown_commodity_code_is_rejected_with_a_pointer() {
    let Some(mut declaration) = read("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    let mut pipeline = Pipeline::demo(b"seed".to_vec());
    pipeline.tariff =
        Tariff::from_csv("commodity_code,tax_type,kind,rate_percent\n01,A00,ad_valorem,1\n")
            .unwrap();
    declaration.goods_shipment.goods_items[0]
        .classifications
        .retain(|c| c.identification_type_code == "TSP");
    let outcome = pipeline.lodge(&declaration, "hash", 1, date());
    assert_eq!(outcome.state.status, Status::Rejected);
    let (EventKind::Rejected { errors }, _) = &outcome.events[1] else {
        panic!("{:?}", outcome.events)
    };
    assert_eq!(errors[0].code, "assessment.commodity_code_not_in_tariff");
    assert_eq!(
        errors[0].pointer,
        "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification"
    );
}

#[test]
fn rolls_are_uniform_enough_and_stable() {
    let country = Country::parse("GB").unwrap();
    let below_300 = (0..20_000u64)
        .filter(|s| roll_for(b"seed", &Mrn::issue(2026, &country, *s, 'J')) < 300)
        .count();
    // 3 % of 20,000 is 600; a binomial standard deviation is about 24.
    assert!((500..700).contains(&below_300), "{below_300}");
    let mrn = Mrn::issue(2026, &country, 7, 'J');
    assert_eq!(roll_for(b"seed", &mrn), roll_for(b"seed", &mrn));
}

/// A learned model's score is a fact the rules see, and part of every lane decision's reason.
#[test]
fn the_risk_model_score_feeds_the_rules_and_the_reason() {
    // History: this declarant's controls found irregularities nine times in ten, the others' once in twenty.
    let records: Vec<risk_model::records::Record> = (0..2000)
        .map(|i| {
            let declarant = if i % 4 == 0 {
                "GB603202734852".to_owned()
            } else {
                format!("GB{:012}", i % 97)
            };
            let risky = declarant == "GB603202734852";
            let irregular = if risky { i % 10 != 0 } else { i % 20 == 0 };
            risk_model::records::Record {
                declarant,
                hs_code: "851090".into(),
                origin_country: "US".into(),
                irregular: Some(irregular),
                ..Default::default()
            }
        })
        .collect();
    let settings = risk_model::Settings {
        iterations: 40,
        ..Default::default()
    };
    let model = risk_model::Model::train(&records, &settings).unwrap();
    let mut pipeline = Pipeline::demo(b"test seed".to_vec());
    pipeline.rules =
        RuleSet::parse("rule M001 \"High model risk\" when score >= 0.5 then yellow").unwrap();
    pipeline.risk_model = Some(RiskModel {
        name: "test-1".into(),
        model: std::sync::Arc::new(model),
    });

    let xml = include_bytes!("../../wco/tests/minimal.xml");
    let risky = wco::read_declaration(xml, &wco::Limits::default()).unwrap();
    let outcome = pipeline.lodge(&risky, "hash", 1, date());
    let decision = outcome.decision.unwrap();
    assert_eq!(
        decision.lane,
        selectivity::Lane::Yellow,
        "{}",
        decision.reason
    );
    assert!(
        decision.reason.starts_with(
            "Yellow lane set by rule M001 (High model risk). Risk model test-1 scored 0."
        ),
        "{}",
        decision.reason
    );
    assert!(
        decision.reason.contains("mostly from declarant history"),
        "{}",
        decision.reason
    );

    let other = String::from_utf8(xml.to_vec())
        .unwrap()
        .replace("GB603202734852", "GB000000000011");
    let calm = wco::read_declaration(other.as_bytes(), &wco::Limits::default()).unwrap();
    let decision = pipeline.lodge(&calm, "hash2", 2, date()).decision.unwrap();
    assert_eq!(
        decision.lane,
        selectivity::Lane::Green,
        "{}",
        decision.reason
    );
    assert!(
        decision
            .reason
            .starts_with("Green lane: no risk rule applies. Risk model test-1 scored 0.0"),
        "{}",
        decision.reason
    );
}
