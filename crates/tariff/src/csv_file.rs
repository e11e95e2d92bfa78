//! What the tariff's CSV files share: the reader settings, the header check against the known columns, CSV errors
//! with their line, and dates written YYYY-MM-DD.

use crate::measures::TariffError;
use std::collections::HashMap;
use time::Date;

/// A reader over `text` (a leading byte-order mark ignored; cells trimmed; `#` lines are comments) and the
/// position of each column, every column known and none repeated.
pub(crate) fn open<'a>(
    text: &'a str,
    columns: &[&str],
) -> Result<(csv::Reader<&'a [u8]>, HashMap<String, usize>), TariffError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| TariffError {
            line: 1,
            column: None,
            message: format!("The header line cannot be read: {e}."),
        })?
        .clone();
    let mut index = HashMap::new();
    for (position, name) in headers.iter().enumerate() {
        if !columns.contains(&name) {
            return Err(TariffError {
                line: 1,
                column: Some(name.to_owned()),
                message: format!(
                    "Unknown column {name:?}; the columns are {}.",
                    columns.join(", ")
                ),
            });
        }
        if index.insert(name.to_owned(), position).is_some() {
            return Err(TariffError {
                line: 1,
                column: Some(name.to_owned()),
                message: "This column appears twice.".into(),
            });
        }
    }
    Ok((reader, index))
}

/// A line that is not valid CSV.
pub(crate) fn record_error(e: csv::Error) -> TariffError {
    TariffError {
        line: e.position().map_or(0, |p| p.line() as usize),
        column: None,
        message: format!("The line cannot be read as CSV: {e}."),
    }
}

/// A date written YYYY-MM-DD.
pub(crate) fn date(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}
