//! `aduana agencies`: the Single Window's partner agencies and the documents each issues, kept by the
//! administration from the command line (the same checks as `PUT /api/v1/agencies/{code}` and
//! `PUT /api/v1/lpco/types/{code}`; audited as the CLI).

use crate::DatabaseArgs;
use clap::Subcommand;
use std::process::ExitCode;
use storage::Actor;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum AgenciesCommand {
    /// Register a partner agency (or change its name, contact and webhook).
    Add {
        /// Its code: 2 to 16 capital letters, digits or hyphens (`VET`); its officers' party.
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        contact: Option<String>,
        /// Post each event to this address too, signed (HMAC-SHA256) with the key read from standard input (one
        /// line, at least 32 characters).
        #[arg(long)]
        webhook: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the agencies and the documents each issues, as JSON.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Save a licence, permit, certificate or other document an agency issues, under its DE 2/3 code.
    Document {
        /// The agency's code.
        agency: String,
        /// The document code traders cite (category and type, `C640`).
        code: String,
        #[arg(long, value_parser = ["licence", "permit", "certificate", "other"])]
        kind: String,
        #[arg(long)]
        title: String,
        /// Days an issued document is in force.
        #[arg(long, default_value_t = 365)]
        validity_days: u32,
        /// The unit its balance is kept in (KGM, NAR, …); none: no balance.
        #[arg(long)]
        balance_unit: Option<String>,
        /// One declaration only.
        #[arg(long)]
        single_use: bool,
        /// A declaration lacking it where a requirement asks for it is held for the agency's decision instead of
        /// refused.
        #[arg(long)]
        hold_when_missing: bool,
        /// A field of the application form: `name:Label`, or `name:Label:required`. Repeat for each.
        #[arg(long = "field")]
        fields: Vec<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn field(text: &str) -> Result<lpco::register::Field, String> {
    let mut parts = text.splitn(3, ':');
    let name = parts.next().unwrap_or_default().to_owned();
    let label = parts
        .next()
        .ok_or_else(|| format!("--field {text}: write name:Label or name:Label:required"))?
        .to_owned();
    let required = match parts.next() {
        None => false,
        Some("required") => true,
        Some(other) => return Err(format!("--field {text}: {other:?} is not `required`")),
    };
    Ok(lpco::register::Field {
        name,
        label,
        required,
    })
}

pub async fn agencies(command: AgenciesCommand) -> Result<ExitCode, String> {
    let now = OffsetDateTime::now_utc();
    match command {
        AgenciesCommand::Add {
            code,
            name,
            contact,
            webhook,
            database,
        } => {
            let agency = lpco::Agency {
                code: lpco::AgencyCode::parse(&code)?,
                name: name.trim().to_owned(),
                contact,
                delivery: match webhook {
                    Some(url) => lpco::Delivery::Webhook { url },
                    None => lpco::Delivery::Feed,
                },
            };
            let problems = api::single_window::check_agency(&agency);
            if let Some(problem) = problems.first() {
                return Err(format!("{}: {}", problem.pointer, problem.message));
            }
            let secret = if matches!(agency.delivery, lpco::Delivery::Webhook { .. }) {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| format!("reading the webhook key: {e}"))?;
                let line = line.trim().to_owned();
                if line.len() < api::single_window::MIN_WEBHOOK_SECRET {
                    return Err(format!(
                        "--webhook: give its key on standard input, at least {} characters",
                        api::single_window::MIN_WEBHOOK_SECRET
                    ));
                }
                Some(line)
            } else {
                None
            };
            let store = crate::admin::open(&database).await?;
            store
                .save_agency(&Actor::cli(), &agency, secret.as_deref(), now)
                .await
                .map_err(|e| e.to_string())?;
            println!("agency {} saved", agency.code);
            Ok(ExitCode::SUCCESS)
        }
        AgenciesCommand::List { database } => {
            let store = crate::admin::open(&database).await?;
            let agencies = store.agencies().await.map_err(|e| e.to_string())?;
            let types = store.lpco_types().await.map_err(|e| e.to_string())?;
            let list: Vec<serde_json::Value> = agencies
                .iter()
                .map(|a| {
                    let mut value = serde_json::to_value(a).unwrap_or_default();
                    value["documents"] = serde_json::to_value(
                        types
                            .iter()
                            .filter(|t| t.agency == a.code)
                            .collect::<Vec<_>>(),
                    )
                    .unwrap_or_default();
                    value
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        AgenciesCommand::Document {
            agency,
            code,
            kind,
            title,
            validity_days,
            balance_unit,
            single_use,
            hold_when_missing,
            fields,
            database,
        } => {
            let kind = lpco::LpcoType {
                code: lpco::DocumentCode::parse(&code)?,
                agency: lpco::AgencyCode::parse(&agency)?,
                kind: serde_json::from_value(serde_json::Value::String(kind))
                    .map_err(|e| e.to_string())?,
                title,
                fields: fields.iter().map(|f| field(f)).collect::<Result<_, _>>()?,
                validity_days,
                balance_unit,
                uses: if single_use {
                    lpco::Uses::Single
                } else {
                    lpco::Uses::Multiple
                },
                statuses: lpco::Statuses::uk(),
                when_missing: if hold_when_missing {
                    lpco::WhenMissing::Hold
                } else {
                    lpco::WhenMissing::Refuse
                },
            };
            if let Some((name, message)) = kind.problems().first() {
                return Err(format!("--{}: {message}", name.replace('_', "-")));
            }
            let store = crate::admin::open(&database).await?;
            if store
                .agency(kind.agency.as_str())
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!(
                    "no agency has the code {}: register it first with aduana agencies add",
                    kind.agency
                ));
            }
            store
                .save_lpco_type(&Actor::cli(), &kind, now)
                .await
                .map_err(|e| e.to_string())??;
            println!("document {} of agency {} saved", kind.code, kind.agency);
            Ok(ExitCode::SUCCESS)
        }
    }
}
