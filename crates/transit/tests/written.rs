//! Every message customs writes on a movement validates against its own P5 schema — by Aduana's check and by
//! libxml2's — built from the shared samples of a departure declaration (CC015C) and an arrival notification
//! (CC007C) that the schemas accept.

mod libxml2;

use transit::write::{self, Header};

fn sample(name: &str) -> Option<transit::Message> {
    let shared = test_support::shared_dir()?;
    let bytes = std::fs::read(shared.join("conformance/ncts-p5/messages").join(name)).unwrap();
    Some(transit::judge(&bytes, false, &[], &transit::Limits::default()).expect("a valid sample"))
}

#[test]
fn every_message_written_validates_against_its_schema() {
    for departure in ["cc015c-valid.xml", "cc015c-valid-2.xml"] {
        let (Some(departure), Some(arrival)) = (sample(departure), sample("cc007c-valid.xml"))
        else {
            return;
        };
        written_from(&departure, &arrival);
    }
}

fn written_from(departure: &transit::Message, arrival: &transit::Message) {
    let facts = transit::movement::Departure::of(departure);
    assert_eq!(
        facts.lrn,
        departure.text(&["TransitOperation", "LRN"]).unwrap()
    );
    assert!(!facts.guarantees.is_empty());
    let mrn = transit::movement::mrn(26, "GB", 42);
    let header = Header {
        sender: "NTA.GB",
        recipient: &facts.sender,
        prepared: "2026-12-06T10:00:00",
        identification: "AD0000000001",
        correlation: Some(&facts.identification),
    };
    let written = [
        (
            "CC028C",
            write::accepted(&header, departure, &mrn, "2026-12-06"),
        ),
        (
            "CC029C",
            write::released(&header, departure, &mrn, "2026-12-06", "2026-12-06"),
        ),
        (
            "CC009C",
            write::invalidated(
                &header,
                departure,
                &mrn,
                "2026-12-06T11:00:00",
                false,
                "Holder's request",
            ),
        ),
        (
            "CC043C",
            write::unloading_permission(&header, departure, arrival, &mrn),
        ),
        (
            "CC025C",
            write::goods_released(&header, arrival, &mrn, "2026-12-08", true),
        ),
    ];
    let limits = transit::Limits::default();
    let dir = std::env::temp_dir().join(format!("aduana-ncts-written-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, xml) in &written {
        let read = transit::judge(xml.as_bytes(), false, &[name], &limits)
            .unwrap_or_else(|problems| panic!("{name} as written: {problems:#?}\n{xml}"));
        assert_eq!(
            read.text(&["TransitOperation", "MRN"]),
            Some(mrn.as_str()),
            "{name}"
        );
        let file = dir.join(format!("{name}.xml"));
        std::fs::write(&file, xml).unwrap();
        files.push(file);
    }
    if let Some(python) = test_support::lxml_python() {
        for (file, (valid, why)) in libxml2::libxml2(&python, &files) {
            assert!(valid, "libxml2 refuses {file}: {why}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
