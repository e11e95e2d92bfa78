use super::*;
use selectivity::rates::{RateBook, RateTable};
use workflow::{Settlement, Status};

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
    // The deferment account the declaration names, open and held by its declarant.
    let dan = pipeline
        .deferment_account(&declaration)
        .expect("TT_IM001b names a DAN");
    let declarant = declaration.declarant_id().unwrap().to_string();
    let account = ledger::Account::new(
        ledger::customs::deferment(&dan),
        declaration::Currency::parse("GBP").unwrap(),
        ledger::Rule::DebitLimit(Decimal::from(100_000)),
    );
    let accounts: revenue::Accounts = [(
        account.id.clone(),
        revenue::Holding {
            account,
            holder: Some(declarant),
            authorised: Default::default(),
        },
    )]
    .into();
    let books = Books {
        accounts: &accounts,
        ..Books::none()
    };
    let lodged = pipeline.lodge_with(
        Lodging {
            declaration: &declaration,
            hash: "hash",
            serial: 42,
            date: date(),
            assessment: pipeline.assess(&declaration, date()),
            licences: &lpco::Held::default(),
            holds: Vec::new(),
        },
        &books,
        None,
    );
    let outcome = lodged.outcome;
    // The deferral is in the lodgement's own transfers: 224.00 from the account to the declaration.
    let deferred: Decimal = lodged
        .transfers
        .iter()
        .filter(|t| t.code == "deferment")
        .map(|t| t.amount)
        .sum();
    assert_eq!(deferred, Decimal::from(224));
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

    // The same model scores consignments before loading: the person lodging is the declarant, and a consignment
    // rule over the score asks for screening.
    pipeline.rules = RuleSet::parse(
        "rule M001 when score >= 0.5 then yellow\n\
         rule M002 \"High model risk\" when score >= 0.5 then high_risk_cargo_screening",
    )
    .unwrap();
    let consignment = |declarant: &str| selectivity::Facts {
        declaration_type: "ENS".into(),
        declarant: Some(declarant.into()),
        items: vec![selectivity::ItemFacts {
            commodity: Some("851090".into()),
            origin: Some("US".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let screened = pipeline.screen_consignment(consignment("GB603202734852"), date());
    assert_eq!(
        screened.referrals.iter().map(|r| r.0).collect::<Vec<_>>(),
        [selectivity::Referral::HighRiskCargoScreening]
    );
    assert!(
        screened.referrals[0]
            .1
            .starts_with("High-risk cargo screening asked by rule M002 (High model risk). Risk model test-1 scored 0."),
        "{}",
        screened.referrals[0].1
    );
    let calm = pipeline.screen_consignment(consignment("GB000000000011"), date());
    assert!(calm.referrals.is_empty(), "{calm:?}");
}

fn minimal() -> Declaration {
    let xml = include_bytes!("../../wco/tests/minimal.xml");
    wco::read_declaration(xml, &wco::Limits::default()).unwrap()
}

#[test]
fn the_rule_set_in_force_on_the_lodgement_date_decides_and_is_recorded() {
    let mut pipeline = Pipeline::demo(b"test seed".to_vec());
    pipeline.rules = RuleSet::parse("random 0% then yellow").unwrap();
    let version =
        |version: u32, from: time::Date, to: Option<time::Date>, text: &str| RuleVersion {
            version,
            author: "analyst".into(),
            valid_from: from,
            valid_to: to,
            rules: Arc::new(RuleSet::parse(text).unwrap()),
        };
    let day = |d: u8| time::Date::from_calendar_date(2026, time::Month::December, d).unwrap();
    pipeline.rule_versions = vec![
        version(
            1,
            day(1),
            Some(day(10)),
            "rule A when origin = \"US\" then yellow",
        ),
        version(
            2,
            day(5),
            Some(day(7)),
            "rule B when origin = \"US\" then red",
        ),
        version(3, day(20), None, "rule C when origin = \"CN\" then red"),
    ];
    // (date, lane, rules version): before any version, the built-in rules; overlapping, the highest version.
    let cases = [
        (time::macros::date!(2026 - 11 - 30), "green", None),
        (day(1), "yellow", Some(1)),
        (day(6), "red", Some(2)),
        (day(8), "yellow", Some(1)),
        (day(15), "green", None),
        (day(25), "green", Some(3)),
    ];
    for (date, lane, rules_version) in cases {
        let outcome = pipeline.lodge(&minimal(), "hash", 1, date);
        let assigned = outcome
            .events
            .iter()
            .find_map(|(e, _)| match e {
                EventKind::LaneAssigned { lane, basis, .. } => {
                    Some((lane.as_str(), basis.rules_version))
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(assigned, (lane, rules_version), "{date}");
    }
}

#[test]
fn rule_green_declarations_are_topped_up_to_the_rate_and_aeos_less() {
    let mut pipeline = Pipeline::demo(b"test seed".to_vec());
    pipeline.rules = RuleSet::parse("random 0% then yellow").unwrap();
    pipeline.lane_rates = Some(
        RateTable::parse("office,regime,red,yellow,blue,aeo_percent\n*,*,2,10,5,20\n").unwrap(),
    );
    let mut book = RateBook::default();
    let mut lanes = std::collections::BTreeMap::new();
    let n = 4_000;
    for serial in 0..n {
        let outcome = pipeline
            .lodge_with(
                Lodging {
                    declaration: &minimal(),
                    hash: "hash",
                    serial,
                    date: date(),
                    assessment: pipeline.assess(&minimal(), date()),
                    licences: &lpco::Held::default(),
                    holds: Vec::new(),
                },
                &Books::none(),
                Some(&mut book),
            )
            .outcome;
        let decision = outcome.decision.unwrap();
        *lanes.entry(decision.lane).or_insert(0u64) += 1;
    }
    let share = |lane| lanes.get(&lane).copied().unwrap_or(0) as f64 / n as f64;
    assert!(
        (share(selectivity::Lane::Red) - 0.02).abs() < 0.005,
        "{lanes:?}"
    );
    assert!(
        (share(selectivity::Lane::Yellow) - 0.10).abs() < 0.005,
        "{lanes:?}"
    );
    assert!(
        (share(selectivity::Lane::Blue) - 0.05).abs() < 0.005,
        "{lanes:?}"
    );
    // AEOs: a fifth of the shares.
    let mut lists = Lists::default();
    lists.insert(selectivity::AEO_LIST, ["GB603202734852".to_owned()]);
    pipeline.lists = Arc::new(lists);
    let mut controlled = 0;
    for serial in n..2 * n {
        let outcome = pipeline
            .lodge_with(
                Lodging {
                    declaration: &minimal(),
                    hash: "hash",
                    serial,
                    date: date(),
                    assessment: pipeline.assess(&minimal(), date()),
                    licences: &lpco::Held::default(),
                    holds: Vec::new(),
                },
                &Books::none(),
                Some(&mut book),
            )
            .outcome;
        if outcome.decision.unwrap().lane != selectivity::Lane::Green {
            controlled += 1;
        }
    }
    let aeo_share = controlled as f64 / n as f64;
    assert!((aeo_share - 0.034).abs() < 0.005, "AEO share {aeo_share}");
    let populations: Vec<&str> = book.states().map(|(p, _)| p).collect();
    assert_eq!(populations, ["*/*/aeo", "*/*/other"]);
}

#[test]
fn the_minimum_random_rate_samples_what_no_rule_selects() {
    let mut pipeline = Pipeline::demo(b"test seed".to_vec());
    pipeline.rules = RuleSet::parse("random 0% then yellow").unwrap();
    pipeline.lane_rates = Some(
        RateTable::parse("office,regime,red,yellow,blue,aeo_percent,random\n*,*,0,0,0,50,10\n")
            .unwrap(),
    );
    let mut book = RateBook::default();
    let n = 3_000;
    let mut random = 0;
    for serial in 0..n {
        let outcome = pipeline
            .lodge_with(
                Lodging {
                    declaration: &minimal(),
                    hash: "hash",
                    serial,
                    date: date(),
                    assessment: pipeline.assess(&minimal(), date()),
                    licences: &lpco::Held::default(),
                    holds: Vec::new(),
                },
                &Books::none(),
                Some(&mut book),
            )
            .outcome;
        let decision = outcome.decision.unwrap();
        if decision.lane == selectivity::Lane::Yellow {
            assert!(decision.random, "{}", decision.reason);
            assert!(
                decision.reason.starts_with(
                    "Yellow lane by random selection at the minimum random rate of office *, regime *"
                ),
                "{}",
                decision.reason
            );
            random += 1;
        } else {
            assert_eq!(decision.lane, selectivity::Lane::Green);
        }
    }
    let share = random as f64 / n as f64;
    assert!((share - 0.10).abs() < 0.015, "random share {share}");
}

/// Without a ledger (no account open), deferred duties are due at once: nothing is released on a deferral no
/// account took.
#[test]
fn without_an_open_account_deferred_duties_are_due_now() {
    let Some(declaration) = read("TT_IM001b/TT_IM001b.xml") else {
        return;
    };
    let pipeline = Pipeline::demo(b"test seed".to_vec());
    let outcome = pipeline.lodge(&declaration, "hash", 42, date());
    if !outcome.decision.as_ref().unwrap().lane.requires_control() {
        assert_eq!(outcome.state.status, Status::AwaitingPayment);
        let reason = &outcome
            .events
            .iter()
            .find(|(e, _)| e.type_name() == "assessed")
            .unwrap()
            .1;
        assert!(
            reason.contains("is not open with this administration"),
            "{reason}"
        );
    }
}
