//! The Single Window's JSON inputs — the first line an application, the rest an agency's decision, the whole a
//! document type: any bytes give a value or an error, never a panic; a request read is checked against a type's
//! form and decided without a panic, and a decision never issues more than was asked for.
#![no_main]
use libfuzzer_sys::fuzz_target;

fn kind() -> lpco::LpcoType {
    serde_json::from_str(
        r#"{"code": "C640", "agency": "VET", "kind": "certificate", "title": "CHED-A", "validity_days": 30,
            "balance_unit": "KGM", "fields": [{"name": "establishment", "label": "Establishment", "required": true}]}"#,
    )
    .expect("the type reads")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line a request, the rest a decision.
    let (first, second) = text.split_once('\n').unwrap_or((text, ""));
    let kind = kind();
    if let Ok(type_read) = serde_json::from_str::<lpco::LpcoType>(text) {
        let _ = type_read.problems();
    }
    let Ok(request) = serde_json::from_str::<lpco::application::Request>(first) else {
        return;
    };
    let _ = lpco::application::check(&request, &kind);
    let Ok(decision) = serde_json::from_str::<lpco::application::DecisionRequest>(second) else {
        return;
    };
    let application = lpco::application::Application {
        id: "a".into(),
        agency: kind.agency.clone(),
        applicant: declaration::PartyId::parse("GB603202734852").expect("a party"),
        request: request.clone(),
        status: lpco::application::Status::Filed,
        filed_at: "2026-12-01T00:00:00.000000Z".into(),
        decisions: Vec::new(),
    };
    if let Ok((_, Some(licence))) =
        lpco::application::decide(&application, &kind, &decision, "VET-2026-000001", time::macros::date!(2026 - 12 - 01))
    {
        assert!(licence.granted <= request.quantity, "never more than asked");
        assert!(licence.valid_from <= licence.valid_to);
    }
});
