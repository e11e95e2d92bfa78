//! UN/EDIFACT: any bytes give a checked interchange (its CUSDEC a declaration, its CUSCAR a cargo report that passes
//! the report's checks) or problems with a segment pointer; never a panic. CUSRES written from what was read must
//! read back.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = edifact::syntax::Limits::default();
    let _ = edifact::read_cusdec(data, &limits);
    if let Ok(report) = edifact::read_cuscar(data, &limits) {
        assert!(
            manifest::check(&report).is_empty(),
            "a report read is a report checked"
        );
    }
    if let Ok(interchange) = edifact::syntax::read(data, &limits) {
        let response = edifact::cusres::Response {
            lrn: interchange.reference.clone(),
            mrn: None,
            status: "rejected".into(),
            lane: None,
            errors: vec![(
                "x".into(),
                interchange.sender.clone(),
                interchange.recipient.clone(),
            )],
            at: "202611291200".into(),
        };
        let text =
            edifact::cusres::write(&response, &interchange.sender, &interchange.recipient, "R1");
        edifact::syntax::read(text.as_bytes(), &limits).expect("our own CUSRES reads back");
    }
});
