//! UN/EDIFACT customs messages (docs/edifact.md).
//!
//! [`syntax::read`] checks an interchange against the syntax rules (UNA, release character, UNB/UNZ with the
//! control count and reference, optional UNG/UNE groups, UNH/UNT with the segment count and reference) and refuses
//! the first fault with its segment number. [`read_cusdec`] then maps each CUSDEC message to the declaration model
//! (through the JSON twin, so that the same rules check it as XML), and [`cusres::write`] answers with CUSRES.
//! [`read_cuscar`] maps a CUSCAR message to the cargo report of crate `manifest`.
//!
//! **Architecture invariant**: pure. Bytes in, model or problems out; text out.

pub mod cuscar;
pub mod cusdec;
pub mod cusres;
pub mod syntax;

use declaration::Declaration;
use error_table::{ErrorCode, Problem};

/// Reads an interchange holding exactly one CUSCAR message (a cargo report).
pub fn read_cuscar(
    bytes: &[u8],
    limits: &syntax::Limits,
) -> Result<manifest::CargoReport, Vec<Problem>> {
    let interchange = syntax::read(bytes, limits).map_err(|e| vec![e.to_problem()])?;
    match interchange.messages.as_slice() {
        [message] => cuscar::read(message),
        messages => Err(vec![Problem::with_message(
            ErrorCode::EdifactUnsupportedMessage,
            "/segments/1",
            format!(
                "Send one CUSCAR message per interchange; this one holds {}.",
                messages.len()
            ),
        )]),
    }
}

/// Reads an interchange holding exactly one CUSDEC message.
pub fn read_cusdec(bytes: &[u8], limits: &syntax::Limits) -> Result<Declaration, Vec<Problem>> {
    let interchange = syntax::read(bytes, limits).map_err(|e| vec![e.to_problem()])?;
    match interchange.messages.as_slice() {
        [message] => cusdec::read(message),
        messages => Err(vec![Problem::with_message(
            ErrorCode::EdifactUnsupportedMessage,
            "/segments/1",
            format!(
                "Send one CUSDEC message per interchange; this one holds {}.",
                messages.len()
            ),
        )]),
    }
}
