//! What the consignment rules see of an entry summary (`entry_summary::screening::facts`), and the referrals a
//! rule set asks for it: the message written for these tests, then the same message with goods-item parties,
//! containers, documents, a dangerous goods code and a notify party.

use entry_summary::{Limits, read, screening};
use selectivity::{Lists, Referral, RuleSet};

const MINIMAL: &str = include_str!("minimal-cc315a.xml");

/// The minimal message with a second goods item carrying what the first lacks (not every business rule met).
fn fuller() -> String {
    MINIMAL
        .replace(
            "<TotNumOfIteHEA305>1</TotNumOfIteHEA305>",
            "<TotNumOfIteHEA305>2</TotNumOfIteHEA305>",
        )
        .replace(
            "  <ITI>\n    <CouOfRouCodITI1>NL",
            "  <GOOITEGDS>\n    <IteNumGDS7>2</IteNumGDS7>\n    <GooDesGDS23>Fireworks, GENERAL cargo</GooDesGDS23>\n    \
             <UNDanGooCodGDI1>0336</UNDanGooCodGDI1>\n    <PlaLoaGOOITE333>AEJEA</PlaLoaGOOITE333>\n    \
             <PRODOCDC2>\n      <DocTypDC21>N705</DocTypDC21>\n      <DocRefDC23>BL-778</DocRefDC23>\n    </PRODOCDC2>\n    \
             <TRACONCO2>\n      <NamCO27>Dragon Trading</NamCO27>\n    </TRACONCO2>\n    \
             <COMCODGODITM>\n      <ComNomCMD1>360410</ComNomCMD1>\n    </COMCODGODITM>\n    \
             <CONNR2>\n      <ConNumNR21>MSKU1234565</ConNumNR21>\n    </CONNR2>\n    \
             <PRTNOT640>\n      <TINPRTNOT641>GB999</TINPRTNOT641>\n    </PRTNOT640>\n  </GOOITEGDS>\n  <ITI>\n    <CouOfRouCodITI1>NL",
        )
}

#[test]
fn the_facts_of_a_consignment_are_read_at_header_and_goods_item_level() {
    let minimal = screening::facts(&read(MINIMAL.as_bytes(), &Limits::default()).unwrap());
    assert_eq!(minimal.declaration_type, "ENS");
    assert_eq!(minimal.declarant.as_deref(), Some("GB123456789000"));
    assert_eq!(minimal.office.as_deref(), Some("GB000060"));
    assert_eq!(minimal.mode.as_deref(), Some("3"));
    let c = &minimal.consignment;
    assert_eq!(c.consignors, ["GB123456789000"]);
    assert_eq!(c.consignees, ["GB603202734852"]);
    assert_eq!(c.route, ["NL", "GB"]);
    assert_eq!(c.loading, ["ROTTERDAM"]);
    assert!(c.notify_parties.is_empty() && c.containers.is_empty());
    assert_eq!(minimal.items.len(), 1);
    assert_eq!(minimal.items[0].commodity.as_deref(), Some("851010"));
    assert_eq!(
        minimal.items[0].description.as_deref(),
        Some("Electric shavers")
    );
    assert_eq!(minimal.items[0].gross_mass, Some("250.5".parse().unwrap()));

    let message = read(fuller().as_bytes(), &Limits::default()).unwrap();
    // The business rules refuse some of these together (a goods item's own consignor beside the header's); the
    // facts are read from whatever the message names, so a refused message can be screened too.
    let fuller = screening::facts(&message);
    let c = &fuller.consignment;
    assert_eq!(c.consignors, ["GB123456789000", "Dragon Trading"]);
    assert_eq!(c.notify_parties, ["GB999"]);
    assert_eq!(c.loading, ["ROTTERDAM", "AEJEA"]);
    assert_eq!(c.containers, ["MSKU1234565"]);
    assert_eq!(c.transport_documents, ["BL-778"]);
    assert_eq!(fuller.items[1].dangerous_goods.as_deref(), Some("0336"));
}

#[test]
fn consignment_rules_ask_their_referrals_of_the_message() {
    let rules = RuleSet::parse(
        "rule S1 \"Watch-listed consignor\" when consignor in list \"watch\" then do_not_load\n\
         rule S2 \"Explosives (UN class 1)\" when dangerous_goods starts_with \"0\" then high_risk_cargo_screening\n\
         rule S3 \"Vague description\" when description contains \"general cargo\" then request_for_information\n\
         rule S4 \"Loaded in a transhipment hub\" when loading = \"AEJEA\" and container = \"MSKU1234565\" then high_risk_cargo_screening\n\
         rule R1 when commodity starts_with \"85\" then red\n",
    )
    .unwrap();
    let mut lists = Lists::default();
    lists.insert("watch", ["Dragon Trading".to_owned()]);
    let screen = |xml: &str| {
        let facts = screening::facts(&read(xml.as_bytes(), &Limits::default()).unwrap());
        rules.screen(&facts, &lists)
    };
    // The minimal message: electrical goods are a lane rule's, which screens nothing.
    assert!(screen(MINIMAL).referrals.is_empty());
    let screened = screen(&fuller());
    assert_eq!(
        screened.referrals.iter().map(|r| r.0).collect::<Vec<_>>(),
        [
            Referral::DoNotLoad,
            Referral::HighRiskCargoScreening,
            Referral::RequestForInformation
        ]
    );
    assert_eq!(
        screened.referrals[1].1,
        "High-risk cargo screening asked by rule S2 (Explosives (UN class 1)), S4 (Loaded in a transhipment hub)."
    );
}
