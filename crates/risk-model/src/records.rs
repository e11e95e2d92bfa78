//! Declarations for the risk model, read from CSV: the KCS synthetic import declarations' layout natively, any
//! other through a column mapping (our field → the file's header). Every field but the outcome is text as the
//! file has it; numbers that do not read are missing, not errors (the model handles missing values).

use serde::Deserialize;
use std::collections::HashMap;

/// One declaration and, when known, the outcome of its control.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub date: String,
    pub office: String,
    pub process_type: String,
    pub import_type: String,
    pub import_use: String,
    pub payment_type: String,
    pub transport_mode: String,
    pub declarant: String,
    pub importer: String,
    pub seller: String,
    pub courier: String,
    pub hs_code: String,
    pub departure_country: String,
    pub origin_country: String,
    pub tax_type: String,
    pub origin_indicator: String,
    pub tax_rate: Option<f64>,
    pub net_mass: Option<f64>,
    pub item_price: Option<f64>,
    /// Whether the control found an irregularity; `None` when not controlled or not known.
    pub irregular: Option<bool>,
}

/// Our fields, in order, with the KCS header of each.
pub const FIELDS: [(&str, &str); 20] = [
    ("date", "Date"),
    ("office", "Office ID"),
    ("process_type", "Process Type"),
    ("import_type", "Import Type"),
    ("import_use", "Import Use"),
    ("payment_type", "Payment Type"),
    ("transport_mode", "Mode of Transport"),
    ("declarant", "Declarant ID"),
    ("importer", "Importer ID"),
    ("seller", "Seller ID"),
    ("courier", "Courier ID"),
    ("hs_code", "HS6 Code"),
    ("departure_country", "Country of Departure"),
    ("origin_country", "Country of Origin"),
    ("tax_type", "Tax Type"),
    ("origin_indicator", "Country of Origin Indicator"),
    ("tax_rate", "Tax Rate"),
    ("net_mass", "Net Mass"),
    ("item_price", "Item Price"),
    ("irregular", "Fraud"),
];

/// Most rows one file may hold.
pub const MAX_ROWS: usize = 5_000_000;

/// Which header holds each field. Fields left out are empty (the outcome: unknown).
#[derive(Clone, Debug, Deserialize)]
pub struct ColumnMapping(pub HashMap<String, String>);

impl ColumnMapping {
    /// The KCS layout.
    pub fn kcs() -> ColumnMapping {
        ColumnMapping(
            FIELDS
                .iter()
                .map(|(field, header)| (field.to_string(), header.to_string()))
                .collect(),
        )
    }

    /// A mapping from JSON (`{"importer": "IMPORTER_TIN", …}`); unknown field names are an error.
    pub fn from_json(text: &str) -> Result<ColumnMapping, String> {
        let mapping: ColumnMapping = serde_json::from_str(text)
            .map_err(|e| format!("the column mapping is not a JSON object of strings: {e}"))?;
        for field in mapping.0.keys() {
            if !FIELDS.iter().any(|(f, _)| f == field) {
                let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
                return Err(format!(
                    "unknown field {field:?} in the column mapping; fields: {}",
                    known.join(", ")
                ));
            }
        }
        Ok(mapping)
    }
}

/// A problem in a file, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReadError {
    pub line: u64,
    pub message: String,
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Reads records from CSV text. The outcome column, when mapped, must hold 0 or 1 (or be empty: unknown).
pub fn read_csv(text: &str, mapping: &ColumnMapping) -> Result<Vec<Record>, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ReadError {
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (field, header) in &mapping.0 {
        let Some(position) = headers.iter().position(|h| h == header) else {
            return Err(ReadError {
                line: 1,
                message: format!("no column {header:?} (for {field}) in the header"),
            });
        };
        index.insert(field.as_str(), position);
    }
    let mut records = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let row = row.map_err(|e| ReadError {
            line,
            message: e.to_string(),
        })?;
        if records.len() >= MAX_ROWS {
            return Err(ReadError {
                line,
                message: format!("more than {MAX_ROWS} rows"),
            });
        }
        let get = |field: &str| {
            index
                .get(field)
                .and_then(|&i| row.get(i))
                .unwrap_or("")
                .trim()
        };
        let irregular = match get("irregular") {
            "" => None,
            "0" => Some(false),
            "1" => Some(true),
            other => {
                return Err(ReadError {
                    line,
                    message: format!("the outcome must be 0, 1 or empty, not {other:?}"),
                });
            }
        };
        records.push(Record {
            date: get("date").to_owned(),
            office: get("office").to_owned(),
            process_type: get("process_type").to_owned(),
            import_type: get("import_type").to_owned(),
            import_use: get("import_use").to_owned(),
            payment_type: get("payment_type").to_owned(),
            transport_mode: get("transport_mode").to_owned(),
            declarant: get("declarant").to_owned(),
            importer: get("importer").to_owned(),
            seller: get("seller").to_owned(),
            courier: get("courier").to_owned(),
            hs_code: get("hs_code").to_owned(),
            departure_country: get("departure_country").to_owned(),
            origin_country: get("origin_country").to_owned(),
            tax_type: get("tax_type").to_owned(),
            origin_indicator: get("origin_indicator").to_owned(),
            tax_rate: number(get("tax_rate")),
            net_mass: number(get("net_mass")),
            item_price: number(get("item_price")),
            irregular,
        });
    }
    Ok(records)
}
