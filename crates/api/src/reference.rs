//! Reference data in use: the tariff measures, the nomenclature (HS layer and national layer) and the exchange
//! rates. The administration imports each as a file (`aduana tariff import …`); a file is checked whole before it
//! is stored, so a bad file changes nothing. What has not been imported comes from the reference data the
//! administration's profile names (`[demonstration] reference_data`), or is empty.

use storage::{ReferenceFile, Store, reference};
use tariff::{ExchangeRates, Nomenclature, Tariff, TariffError};

/// The reference data the pipeline and the public tariff use.
pub struct Reference {
    pub tariff: Tariff,
    pub rates: ExchangeRates,
    pub nomenclature: Nomenclature,
    /// True when a nomenclature was imported: declared codes are then checked against it.
    pub check_codes: bool,
    /// The LPCO requirements in force (none until imported).
    pub requirements: lpco::Requirements,
    /// The imported files in use (empty when everything is the demo's).
    pub files: Vec<ReferenceFile>,
}

/// What a file of `kind` holds, checked whole against the administration's profile (a measure's tax type is one of
/// its tax types, rates are quoted in its currency): the number of rows it contributes. `hs_layer` is the HS text
/// in use, for checking a national layer over it.
pub fn check(
    profile: &administration::Profile,
    kind: &str,
    text: &str,
    hs_layer: Option<&str>,
) -> Result<usize, TariffError> {
    match kind {
        reference::MEASURES => {
            let tariff = Tariff::from_csv(text)?;
            if let Some((line, message)) =
                administration::misfits(profile, &tariff).into_iter().next()
            {
                return Err(TariffError {
                    line,
                    column: None,
                    message,
                });
            }
            Ok(tariff.measures().len())
        }
        reference::NOMENCLATURE => Nomenclature::from_csv(text).map(|n| n.len()),
        reference::NATIONAL_NOMENCLATURE => {
            let mut nomenclature = match hs_layer {
                Some(hs) => Nomenclature::from_csv(hs)?,
                None => Nomenclature::default(),
            };
            nomenclature.add_csv(text)
        }
        reference::REQUIREMENTS => serde_json::from_str::<lpco::Requirements>(text)
            .map_err(|e| TariffError {
                line: e.line(),
                column: Some(e.column().to_string()),
                message: format!("not a set of requirements: {e}"),
            })
            .and_then(|set| {
                if set.requirements.len() > lpco::MAX_REQUIREMENTS {
                    Err(TariffError {
                        line: 0,
                        column: None,
                        message: format!("more than {} requirements", lpco::MAX_REQUIREMENTS),
                    })
                } else {
                    Ok(set.requirements.len())
                }
            }),
        reference::EXCHANGE_RATES => ExchangeRates::from_csv(profile.currency.code.as_str(), text)
            .map(|r| r.len())
            .map_err(|message| TariffError {
                line: 0,
                column: None,
                message,
            }),
        other => Err(TariffError {
            line: 0,
            column: None,
            message: format!(
                "{other:?} is not a kind of reference file ({}).",
                reference::KINDS.join(", ")
            ),
        }),
    }
}

/// Checks and stores a reference file. Nothing is stored when the check fails.
pub async fn import(
    store: &Store,
    profile: &administration::Profile,
    kind: &str,
    name: &str,
    text: &str,
    imported_by: &str,
    now: time::OffsetDateTime,
) -> Result<ReferenceFile, String> {
    let hs = if kind == reference::NATIONAL_NOMENCLATURE {
        current_text(store, reference::NOMENCLATURE).await?
    } else {
        None
    };
    let rows = check(profile, kind, text, hs.as_deref()).map_err(|e| format!("{name}: {e}"))?;
    store
        .add_reference_file(kind, name, text, rows, imported_by, now)
        .await
        .map_err(|e| e.to_string())
}

async fn current_text(store: &Store, kind: &str) -> Result<Option<String>, String> {
    let files = store
        .current_reference_files()
        .await
        .map_err(|e| e.to_string())?;
    match files.iter().find(|f| f.kind == kind) {
        Some(file) => store
            .reference_content(file.id)
            .await
            .map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// Loads the reference data in use: the newest imported file of each kind, `base`'s (the pipeline as its profile
/// built it) for the others.
pub async fn load(store: &Store, base: &clearance::Pipeline) -> Result<Reference, String> {
    let national = base.administration.currency.code.as_str();
    let files = store
        .current_reference_files()
        .await
        .map_err(|e| e.to_string())?;
    let mut texts = std::collections::HashMap::new();
    for file in &files {
        let text = store
            .reference_content(file.id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("reference file {} vanished", file.id))?;
        texts.insert(file.kind.clone(), text);
    }
    let broken = |kind: &str, e: &dyn std::fmt::Display| {
        format!("the stored {kind} file no longer reads ({e}); import a good one")
    };
    let tariff = match texts.get(reference::MEASURES) {
        Some(text) => Tariff::from_csv(text).map_err(|e| broken(reference::MEASURES, &e))?,
        None => base.tariff.clone(),
    };
    let rates = match texts.get(reference::EXCHANGE_RATES) {
        Some(text) => ExchangeRates::from_csv(national, text)
            .map_err(|e| broken(reference::EXCHANGE_RATES, &e))?,
        None => base.rates.clone(),
    };
    let hs = texts.get(reference::NOMENCLATURE);
    let national = texts.get(reference::NATIONAL_NOMENCLATURE);
    let check_codes = hs.is_some() || national.is_some();
    let mut nomenclature = match hs {
        Some(text) => {
            Nomenclature::from_csv(text).map_err(|e| broken(reference::NOMENCLATURE, &e))?
        }
        None if national.is_some() => Nomenclature::default(),
        None => base.nomenclature.clone(),
    };
    if let Some(text) = national {
        nomenclature
            .add_csv(text)
            .map_err(|e| broken(reference::NATIONAL_NOMENCLATURE, &e))?;
    }
    Ok(Reference {
        tariff,
        rates,
        nomenclature,
        check_codes,
        requirements: match texts.get(reference::REQUIREMENTS) {
            Some(text) => {
                serde_json::from_str(text).map_err(|e| broken(reference::REQUIREMENTS, &e))?
            }
            None => lpco::Requirements::default(),
        },
        files,
    })
}

/// The UK Trade Tariff commodity files `texts` (name, text) read into requirements and merged over the set in use:
/// the JSON of the set to import as [`reference::REQUIREMENTS`], and how many requirements the files gave.
pub async fn uk_requirements(
    store: &Store,
    texts: &[(String, String)],
) -> Result<(String, usize), String> {
    let mut set: lpco::Requirements = match current_text(store, reference::REQUIREMENTS).await? {
        Some(text) => serde_json::from_str(&text).map_err(|e| e.to_string())?,
        None => lpco::Requirements::default(),
    };
    let mut read = 0;
    for (name, text) in texts {
        let requirements = lpco::uk::read(text).map_err(|e| format!("{name}: {e}"))?;
        read += requirements.len();
        set.merge(requirements)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok((
        serde_json::to_string(&set).map_err(|e| e.to_string())?,
        read,
    ))
}

/// The UK Trade Tariff commodity files `texts` (name, text) read for their duties and VAT ([`lpco::uk::duties`]) and
/// written as lines of the tariff in use (docs/tariff-csv.md; the stored tariff, or the profile's demonstration
/// tariff), each commodity's lines in a block that a later import of the same commodity replaces: the text of the
/// tariff to import, how many lines the files gave, and each measure left out with why. The duty is the profile's
/// first tax type that is not a VAT (on the customs value), the VAT its first value-added type (on the value plus
/// duties).
pub async fn uk_tariff(
    store: &Store,
    profile: &administration::Profile,
    texts: &[(String, String)],
) -> Result<(String, usize, Vec<String>), String> {
    let duty_type = profile
        .tax_types
        .iter()
        .find(|t| t.basis != administration::Basis::ValueAdded)
        .ok_or("the profile has no customs duty tax type")?
        .code
        .clone();
    let vat_type = profile
        .tax_types
        .iter()
        .find(|t| t.basis == administration::Basis::ValueAdded)
        .ok_or("the profile has no value-added tax type")?
        .code
        .clone();
    let base = match current_text(store, reference::MEASURES).await? {
        Some(text) => text,
        None => profile
            .demonstration
            .reference_data
            .as_deref()
            .and_then(tariff::demo::set)
            .map(|set| set.tariff_csv.to_owned())
            .ok_or("no tariff is in use to add the UK duties to: import one first")?,
    };
    let header: Vec<String> = base
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or("the tariff in use has no header line")?
        .split(',')
        .map(|c| c.trim().to_owned())
        .collect();
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    let mut skipped = Vec::new();
    let mut rows = 0;
    for (name, text) in texts {
        let (duties, left_out) = lpco::uk::duties(text).map_err(|e| format!("{name}: {e}"))?;
        skipped.extend(left_out);
        let Some(commodity) = duties.first().map(|d| d.commodity.clone()) else {
            continue;
        };
        let mut lines = Vec::new();
        for duty in &duties {
            let value = |column: &str| -> String {
                match column {
                    "commodity_code" => duty.commodity.clone(),
                    "tax_type" => {
                        if duty.vat {
                            vat_type.clone()
                        } else {
                            duty_type.clone()
                        }
                    }
                    "kind" => duty.kind.to_owned(),
                    "rate_percent" => duty
                        .rate_percent
                        .map(|r| r.normalize().to_string())
                        .unwrap_or_default(),
                    "amount" => duty
                        .amount
                        .map(|a| a.normalize().to_string())
                        .unwrap_or_default(),
                    "currency" => duty.currency.clone().unwrap_or_default(),
                    "unit" => duty.unit.clone().unwrap_or_default(),
                    "base" => {
                        if duty.vat {
                            "customs_value_plus_duties".into()
                        } else {
                            "customs_value".into()
                        }
                    }
                    "origin" => duty.origins.join(" "),
                    "preference_code" => duty.preference.clone().unwrap_or_default(),
                    "valid_from" => duty.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                    "valid_to" => duty.valid_to.map(|d| d.to_string()).unwrap_or_default(),
                    _ => String::new(),
                }
            };
            let needed = [
                "commodity_code",
                "tax_type",
                "kind",
                "rate_percent",
                "amount",
                "currency",
                "unit",
            ];
            if let Some(missing) = needed.iter().find(|c| !header.iter().any(|h| h == *c)) {
                return Err(format!(
                    "the tariff in use has no column {missing}: add it to import the UK duties"
                ));
            }
            if !duty.origins.is_empty() && !header.iter().any(|h| h == "origin") {
                return Err(
                    "the tariff in use has no column origin: add it to import the UK preferences"
                        .into(),
                );
            }
            lines.push(
                header
                    .iter()
                    .map(|c| value(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        rows += lines.len();
        blocks.retain(|(c, _)| *c != commodity);
        blocks.push((commodity, lines));
    }
    // The tariff in use, without the blocks the files replace, then theirs.
    let mut out = String::new();
    let mut dropping = None::<String>;
    for line in base.lines() {
        if let Some(commodity) = line.strip_prefix("# uk-trade-tariff begin ")
            && blocks.iter().any(|(c, _)| c == commodity.trim())
        {
            dropping = Some(commodity.trim().to_owned());
            continue;
        }
        if let Some(commodity) = &dropping {
            if line.trim() == format!("# uk-trade-tariff end {commodity}") {
                dropping = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    for (commodity, lines) in &blocks {
        out.push_str(&format!("# uk-trade-tariff begin {commodity}\n"));
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!("# uk-trade-tariff end {commodity}\n"));
    }
    Ok((out, rows, skipped))
}
