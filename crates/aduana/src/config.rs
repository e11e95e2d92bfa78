//! `aduana config`: the administration profile (docs/configuration.md) — check a file, or print a built-in one to
//! start from.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check a profile: every mistake printed as FILE:LINE:COLUMN: sentence; exit status 1 when there is one.
    Check { file: PathBuf },
    /// Print a built-in profile (demo-gb, the default; demo-sn, a French-speaking administration in XOF).
    Show { name: String },
}

pub fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Check { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            match administration::parse(&text) {
                Ok(profile) => {
                    println!(
                        "{}: valid — {} ({}, {} with {} decimal places; {} offices, {} tax types, {} holidays; languages {})",
                        file.display(),
                        profile.name,
                        profile.country.as_str(),
                        profile.currency.code.as_str(),
                        profile.currency.decimal_places,
                        profile.offices.len(),
                        profile.tax_types.len(),
                        profile.calendar.holidays.len(),
                        profile
                            .languages
                            .iter()
                            .map(|l| l.code())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for error in errors {
                        println!("{}:{error}", file.display());
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Show { name } => match administration::built_in().iter().find(|(n, _)| *n == name)
        {
            Some((_, text)) => {
                print!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            None => Err(format!(
                "no built-in profile {name:?}: {}",
                administration::built_in()
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
    }
}

/// The profile named on the command line: a built-in one by name, or a file, checked (every mistake as
/// FILE:LINE:COLUMN: sentence).
pub fn named(name: &str) -> Result<administration::Profile, String> {
    if let Some(profile) = administration::built_in_profile(name) {
        return Ok(profile);
    }
    let text = std::fs::read_to_string(name).map_err(|e| {
        format!(
            "--profile {name}: neither a built-in profile ({}) nor a file that can be read ({e})",
            administration::built_in()
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    administration::parse(&text).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{name}:{e}"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The profile a server or command uses: the one named (`--profile`), else the one stored in the database, else
/// the built-in `demo-gb`.
pub async fn in_use(
    store: &storage::Store,
    name: Option<&str>,
) -> Result<administration::Profile, String> {
    if let Some(name) = name {
        return named(name);
    }
    match store
        .current_administration()
        .await
        .map_err(|e| e.to_string())?
    {
        Some(stored) => administration::parse(&stored.profile).map_err(|errors| {
            format!(
                "the stored profile (version {}) no longer reads: {}; start with --profile FILE",
                stored.version,
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }),
        None => Ok(administration::demo()),
    }
}
