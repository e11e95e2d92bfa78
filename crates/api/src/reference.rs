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
