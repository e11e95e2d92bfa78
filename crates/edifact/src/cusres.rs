//! CUSRES (D96B) out: the customs response to a lodged CUSDEC — accepted (with the MRN, the status and the lane)
//! or rejected (each error with its code, pointer and sentence). Aduana's guide: docs/edifact.md.

use crate::syntax::write_segment;

/// What the response says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The trader's reference (DE 2/5) and, once accepted, the MRN.
    pub lrn: String,
    pub mrn: Option<String>,
    /// The status and lane as the API names them (`released`, `green`).
    pub status: String,
    pub lane: Option<String>,
    /// (code, pointer, sentence) of each error when rejected.
    pub errors: Vec<(String, String, String)>,
    /// When, `YYYYMMDDHHMM` in UTC.
    pub at: String,
}

/// One interchange holding one CUSRES, from `sender` to `recipient`, under `reference` (at most 14 characters).
pub fn write(response: &Response, sender: &str, recipient: &str, reference: &str) -> String {
    let mut out = String::from("UNA:+.? '");
    let date = response.at.get(2..8).unwrap_or("");
    let time = response.at.get(8..12).unwrap_or("");
    write_segment(
        &mut out,
        "UNB",
        &[
            &["UNOW", "3"],
            &[sender],
            &[recipient],
            &[date, time],
            &[reference],
        ],
    );
    let start = out.len();
    let mut segments = 0;
    let mut segment = |out: &mut String, tag: &str, elements: &[&[&str]]| {
        write_segment(out, tag, elements);
        segments += 1;
    };
    segment(&mut out, "UNH", &[&["1"], &["CUSRES", "D", "96B", "UN"]]);
    let accepted = response.errors.is_empty();
    let document = response.mrn.as_deref().unwrap_or(&response.lrn);
    segment(
        &mut out,
        "BGM",
        &[&["962"], &[document], &[if accepted { "29" } else { "27" }]],
    );
    segment(&mut out, "DTM", &[&["182", &response.at, "203"]]);
    segment(&mut out, "RFF", &[&["ABE", &response.lrn]]);
    if let Some(mrn) = &response.mrn {
        segment(&mut out, "RFF", &[&["ABT", mrn]]);
    }
    segment(
        &mut out,
        "GIS",
        &[&[&response.status, response.lane.as_deref().unwrap_or("")]],
    );
    for (index, (code, pointer, sentence)) in response.errors.iter().enumerate() {
        let number = (index + 1).to_string();
        segment(&mut out, "ERP", &[&["1"], &[&number]]);
        segment(&mut out, "RFF", &[&["AFB", pointer]]);
        segment(&mut out, "ERC", &[&[code]]);
        // Free text is at most 512 characters per component in our reader; keep each sentence within it.
        let text: String = sentence.chars().take(350).collect();
        segment(&mut out, "FTX", &[&["AAO"], &[], &[], &[&text]]);
    }
    let count = (segments + 1).to_string();
    write_segment(&mut out, "UNT", &[&[&count], &["1"]]);
    debug_assert!(out.len() > start);
    write_segment(&mut out, "UNZ", &[&["1"], &[reference]]);
    out
}
