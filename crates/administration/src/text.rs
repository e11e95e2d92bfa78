//! Text as people type it into the portal's free-text fields: line breaks as `\n`, no control characters but
//! line breaks and tabs, trimmed. Pure; shared by the checks of publications, comments and enquiries.

/// Text without what no page should show (control characters other than line breaks and tabs), trimmed, with
/// line breaks as `\n`.
pub fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

/// [`clean`] text on one line (line breaks and tabs as spaces).
pub fn one_line(text: &str) -> String {
    clean(text).replace(['\n', '\t'], " ")
}
