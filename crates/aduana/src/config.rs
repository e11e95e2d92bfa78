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
