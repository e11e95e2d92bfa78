//! `aduana`: the command line. It only wires the crates together: serve the API, administer users, and the
//! offline tools (validate, assess, lodge).

mod admin;
mod agencies;
mod bench;
mod bench_cargo;
mod bench_ens;
mod bench_ledger;
mod bench_lpco;
mod bench_portal;
mod bench_risk;
mod bench_wco;
mod config;
mod progress;
mod risk;

use clap::{Parser, Subcommand};
use clearance::Pipeline;
use error_table::Problem;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "aduana",
    version,
    about = "Aduana: an open customs clearance system and Single Window"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub(crate) struct DatabaseArgs {
    /// Database URL: sqlite://PATH or postgres://… (default: SQLite in the data folder).
    #[arg(long, env = "ADUANA_DATABASE")]
    database: Option<String>,
    /// Folder for the SQLite database and the selection seed.
    #[arg(long, env = "ADUANA_DATA_DIR", default_value = "data")]
    pub(crate) data_dir: PathBuf,
}

impl DatabaseArgs {
    pub(crate) fn url(&self) -> Result<String, String> {
        if let Some(url) = &self.database {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.data_dir.display()))?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("aduana.db").display()
        ))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ADUANA_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        #[command(flatten)]
        database: DatabaseArgs,
        /// A measures CSV to use instead of the demo tariff (docs/tariff-csv.md).
        #[arg(long)]
        tariff: Option<PathBuf>,
        /// A risk rules file to use instead of the demo rules (docs/risk-rules.md).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// A trained risk model (`aduana risk train`): its score becomes the rules' `score` field and part of
        /// every lane decision's reason (docs/risk-model.md).
        #[arg(long)]
        risk_model: Option<PathBuf>,
        /// An officer releases every declaration by hand instead of the automatic release.
        #[arg(long)]
        manual_release: bool,
        /// The administration's profile (docs/configuration.md): a TOML file, or a built-in one by name
        /// (`demo-gb`, `demo-sn`). Checked at start (each mistake with its line); saved as a new version when it
        /// differs from the one stored. Absent: the stored profile, or `demo-gb` on a new database.
        #[arg(long, env = "ADUANA_PROFILE")]
        profile: Option<String>,
        /// Open a deferment account or guarantee a declaration names but the administration has not opened, with
        /// this limit in the national currency, held by the declarant that names it: a demonstration convenience
        /// (benchmarks) that overrides the profile's `[demonstration] auto_open_limit`; 0 refuses such an account.
        /// Accounts are opened with `aduana ledger open`.
        #[arg(long, env = "ADUANA_DEFERMENT_AUTO_OPEN_LIMIT")]
        deferment_auto_open_limit: Option<String>,
        /// How shipment-level costs (freight, insurance, header additions) are shared among goods items.
        #[arg(long, value_parser = ["value", "mass"], default_value = "value")]
        apportion_by: String,
        #[command(flatten)]
        audit: admin::AuditDirArgs,
        /// Seconds between signed checkpoints of the audit trail (one is also written at shutdown).
        #[arg(long, env = "ADUANA_CHECKPOINT_SECONDS", default_value_t = 60)]
        checkpoint_seconds: u64,
        /// Serve session cookies without `Secure`: only for plain-HTTP trials on a host other than localhost.
        #[arg(long)]
        insecure_cookies: bool,
        /// Requests per second allowed per token (per client address on public routes); 0 turns the limit off.
        #[arg(long, env = "ADUANA_RATE_LIMIT", default_value_t = 100)]
        rate_limit: u32,
        /// Requests allowed at once above the rate (the bucket's size).
        #[arg(long, env = "ADUANA_RATE_BURST", default_value_t = 400)]
        rate_burst: u32,
        /// Publish the Single Window's events to this NATS server's JetStream (stream ADUANA, subjects
        /// `aduana.<agency>.<topic>`, the outbox id as message id). Without it, agencies read
        /// `GET /api/v1/agency/feed`.
        #[arg(long, env = "ADUANA_NATS")]
        nats: Option<String>,
    },
    /// The Single Window's partner agencies and the licences, permits and certificates each issues.
    Agencies {
        #[command(subcommand)]
        command: agencies::AgenciesCommand,
    },
    /// Manage users: roles, parties, portal logins and passwords.
    Users {
        #[command(subcommand)]
        command: admin::UsersCommand,
    },
    /// Manage API tokens: scoped, expiring, revocable.
    Tokens {
        #[command(subcommand)]
        command: admin::TokensCommand,
    },
    /// Register which representatives (brokers) act for which principals (declarants).
    Representations {
        #[command(subcommand)]
        command: admin::RepresentationsCommand,
    },
    /// The tamper-evident audit trail: signing key, checkpoints, verification.
    Audit {
        #[command(subcommand)]
        command: admin::AuditCommand,
    },
    /// The learned risk model: train, back-test, score (docs/risk-model.md).
    Risk {
        #[command(subcommand)]
        command: risk::RiskCommand,
    },
    /// Database administration.
    Db {
        #[command(subcommand)]
        command: admin::DbCommand,
    },
    /// The administration profile (docs/configuration.md): check one, or print a built-in one.
    Config {
        #[command(subcommand)]
        command: config::Command,
    },
    /// Check declarations (WCO DEC XML or JSON twin) and entry summary declarations (ICS CC315A, CC313A):
    /// well-formedness, structure (the schema), context-free and business rules.
    Validate {
        /// One JSON line per file: {"file", "valid", "kind", "errors": [{code, pointer, message, number?}]}.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Assess a declaration offline: customs value, duties and taxes per goods item.
    Assess {
        #[arg(long)]
        json: bool,
        /// A measures CSV (default: the demo tariff).
        #[arg(long)]
        tariff: Option<PathBuf>,
        /// An exchange rates CSV, as `tariff import-rates` takes (default: the demo rates).
        #[arg(long)]
        rates: Option<PathBuf>,
        /// The date of assessment, YYYY-MM-DD (default: today at the office of lodgement).
        #[arg(long)]
        date: Option<String>,
        /// The administration whose tax types, order and rounding assess: a built-in profile (`demo-gb`, the
        /// default; `demo-sn`) or a TOML file; its demonstration reference data unless --tariff or --rates.
        #[arg(long, default_value = "demo-gb")]
        profile: String,
        file: PathBuf,
    },
    /// Lodge a declaration with a running server.
    Lodge {
        file: PathBuf,
        #[arg(long, env = "ADUANA_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        #[arg(long, env = "ADUANA_TOKEN")]
        token: String,
    },
    /// Import and inspect the reference data: tariff measures, nomenclature, exchange rates.
    Tariff {
        #[command(subcommand)]
        command: TariffCommand,
    },
    /// Inspect and check the ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// A simulated bank: sign and send a payment confirmation to a running server, as a bank's system does.
    Bank {
        #[command(subcommand)]
        command: BankCommand,
    },
    /// Measure lodgement throughput over HTTP (see BENCHMARKS.md).
    Bench(bench::Args),
    /// Measure ledger transfers per second, in memory and stored (see BENCHMARKS.md).
    BenchLedger(bench_ledger::Args),
    /// Measure the risk rules (per declaration) and the learned model's scoring (see BENCHMARKS.md).
    BenchRisk(bench_risk::Args),
    /// How fast WCO XML is read and checked, beside libxml2 XSD validation (BENCHMARKS.md).
    BenchWco(bench_wco::Args),
    /// How fast a goods item's Single Window requirements are found and checked (BENCHMARKS.md).
    BenchLpco(bench_lpco::Args),
    /// How fast entry summary declarations are read and checked against the ICS schema and business rules
    /// (BENCHMARKS.md).
    BenchEns(bench_ens::Args),
    /// How fast cargo reports are matched to their declarations, and temporary storage reconciled over a year of
    /// reports (BENCHMARKS.md).
    BenchCargo(bench_cargo::Args),
    /// The portal's pages against a national-size database: a million declarations, ten million events
    /// (BENCHMARKS.md).
    BenchPortal(bench_portal::Args),
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check every invariant of the stored ledger — debits equal credits, every account within its rule, totals
    /// equal to the replay of the transfers — and of every declaration's money: released ones paid, deferred or
    /// guaranteed in the ledger, no account charged for a declarant it does not authorise, refunds within what was
    /// paid, cancelled declarations' money owed back, the lifecycle's payments equal to the ledger's. Exit status 1
    /// when one fails.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Open a deferment account (`deferment:NUMBER`) or a guarantee (`guarantee:REFERENCE`) with its limit and
    /// holder, or change its limit.
    Open {
        account: String,
        /// The limit (a deferment account's) or reference amount (a guarantee's), in `--currency`.
        #[arg(long)]
        limit: String,
        /// The EORI of the holder: the only declarant who may name the account, besides those it authorises.
        #[arg(long)]
        holder: String,
        /// Default: the national currency of the administration's profile stored in the database.
        #[arg(long)]
        currency: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Authorise a declarant to name a deferment account or guarantee (a standing authority of its holder).
    Authorise {
        account: String,
        party: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// End an authority.
    Revoke {
        account: String,
        party: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Every account with its balance and what is available under its rule.
    Accounts {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// The transfers of one account, oldest first.
    Statement {
        account: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum BankCommand {
    /// Confirm that a payment order was paid.
    Pay {
        /// The payment order's reference (PO-…).
        #[arg(long)]
        order: String,
        /// The amount paid, e.g. 224.00.
        #[arg(long)]
        amount: String,
        /// Default: the national currency the server's administration uses (`GET /api/v1/administration`).
        #[arg(long)]
        currency: Option<String>,
        /// The bank's id, as the server knows it (ADUANA_BANK_KEYS).
        #[arg(long, env = "ADUANA_BANK")]
        bank: String,
        /// The bank's key, hex.
        #[arg(long, env = "ADUANA_BANK_KEY")]
        key: String,
        /// The bank's own id for this confirmation (default: a new one).
        #[arg(long)]
        confirmation_id: Option<String>,
        #[arg(long, env = "ADUANA_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
}

#[derive(Subcommand)]
enum TariffCommand {
    /// Import a measures CSV (docs/tariff-csv.md). All or nothing: a bad file is refused with its line and column.
    Import {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import a nomenclature CSV: the HS layer (the public HS layout), or with --national the administration's
    /// subdivisions over it. Once imported, declared commodity codes are checked against it.
    ImportNomenclature {
        file: PathBuf,
        #[arg(long)]
        national: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import the administration's exchange rates (`currency,rate` per line: national units per foreign unit).
    ImportRates {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Import UK Trade Tariff commodity files (the Online Trade Tariff's commodity JSON): their prohibitions and
    /// restrictions become the Single Window's requirements (which goods need which documents), merged over those
    /// in use. All or nothing.
    ImportUk {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the reference files in use.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ADUANA_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // A panic is contained to its request or batch (the server goes on); what the log gets is one line with where
    // and why, not a backtrace per request (ADUANA_BACKTRACE=1 for the full one).
    if std::env::var_os("ADUANA_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(%at, %message, "panic");
        }));
    }
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(run(cli.command));
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("aduana: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Serve {
            addr,
            database,
            tariff,
            rules,
            risk_model,
            manual_release,
            apportion_by,
            profile,
            deferment_auto_open_limit,
            audit,
            checkpoint_seconds,
            insecure_cookies,
            rate_limit,
            rate_burst,
            nats,
        } => {
            let auto_open = deferment_auto_open_limit
                .map(|limit| {
                    declaration::parse_decimal(&limit)
                        .map_err(|_| "--deferment-auto-open-limit: write an amount such as 1000000")
                })
                .transpose()?;
            let store = storage::Store::open(&database.url()?)
                .await
                .map_err(|e| e.to_string())?;
            let profile = config::in_use(&store, profile.as_deref()).await?;
            tracing::info!(administration = %profile.name, country = %profile.country.as_str(), currency = %profile.currency.code.as_str(), "administration profile in use");
            let mut pipeline = Pipeline::for_profile(profile, selection_seed(&database.data_dir)?);
            let reference = api::reference::load(&store, &pipeline).await?;
            for file in &reference.files {
                tracing::info!(kind = %file.kind, name = %file.name, rows = file.row_count, imported_at = %file.imported_at, "reference file in use");
            }
            pipeline.tariff = reference.tariff;
            pipeline.rates = reference.rates;
            pipeline.nomenclature = reference.nomenclature;
            pipeline.check_codes = reference.check_codes;
            pipeline.requirements = std::sync::Arc::new(reference.requirements);
            if let Some(path) = tariff {
                pipeline.tariff = tariff::Tariff::from_csv(&read_text(&path)?)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if let Some(path) = rules {
                pipeline.rules = selectivity::RuleSet::parse(&read_text(&path)?)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if let Some(path) = risk_model {
                let text = read_text(&path)?;
                let model = risk_model::Model::from_json(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                // The version: the file's name and the start of its SHA-256, as recorded in every decision.
                use sha2::Digest;
                let name = format!(
                    "{}@{}",
                    path.file_name()
                        .map_or("model".into(), |n| n.to_string_lossy()),
                    &hex::encode(sha2::Sha256::digest(text.as_bytes()))[..12]
                );
                tracing::info!(model = %name, rows = model.training_rows, "risk model in use");
                pipeline.risk_model = Some(clearance::RiskModel {
                    name,
                    model: std::sync::Arc::new(model),
                });
            }
            pipeline.auto_release = !manual_release;
            if let Some(limit) = auto_open {
                pipeline.auto_open_limit = (!limit.is_zero()).then_some(limit);
            }
            pipeline.apportionment = if apportion_by == "mass" {
                tariff::Apportionment::ByMass
            } else {
                tariff::Apportionment::ByValue
            };
            let config = api::Config {
                bank_keys: bank_keys()?,
                secure_cookies: !insecure_cookies,
                rate_limit: (rate_limit > 0).then_some(api::RateLimit {
                    per_second: rate_limit,
                    burst: rate_burst.max(1),
                }),
                ..api::Config::default()
            };
            let folder = admin::AuditFolder::new(&audit.dir(&database));
            let key = folder.signing_key()?;
            tracing::info!(public_key = %hex::encode(key.verifying_key().as_bytes()), folder = %folder.path.display(), "audit checkpoints signed with this key");
            let (stop_checkpoints, stopped) = tokio::sync::watch::channel(false);
            let checkpoints = tokio::spawn(admin::checkpoint_loop(
                store.clone(),
                folder,
                key,
                std::time::Duration::from_secs(checkpoint_seconds.max(1)),
                stopped,
            ));
            let state = api::AppState::start(store, pipeline, config).await?;
            // Several servers on one database: a profile changed through another is put in use here too.
            let following = tokio::spawn(
                state
                    .clone()
                    .follow_profile_changes(std::time::Duration::from_secs(5)),
            );
            // The release times and hit rates pages read figures computed here, beside the requests.
            let publishing = tokio::spawn(state.clone().publish_reports());
            // The outbox's events get their positions as they commit; with a broker, they are published too.
            let sequencer = tokio::spawn(dispatch::sequence(
                state.store.clone(),
                std::time::Duration::from_millis(250),
            ));
            // Agencies registered with a webhook get their events posted, signed.
            let webhooks = tokio::spawn(dispatch::webhooks(
                state.store.clone(),
                std::time::Duration::from_secs(1),
            ));
            let publisher = match &nats {
                Some(url) => {
                    let context =
                        dispatch::connect(url, std::time::Duration::from_secs(120)).await?;
                    tracing::info!(%url, stream = dispatch::STREAM, "Single Window events published to NATS JetStream");
                    Some(tokio::spawn(dispatch::publish(
                        state.store.clone(),
                        context,
                        std::time::Duration::from_millis(100),
                    )))
                }
                None => None,
            };
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let local = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(%local, "Aduana listening");
            api::serve(listener, state, shutdown_signal())
                .await
                .map_err(|e| e.to_string())?;
            following.abort();
            publishing.abort();
            sequencer.abort();
            webhooks.abort();
            if let Some(publisher) = publisher {
                publisher.abort();
            }
            let _ = stop_checkpoints.send(true);
            let _ = checkpoints.await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Agencies { command } => agencies::agencies(command).await,
        Command::Users { command } => admin::users(command).await,
        Command::Tokens { command } => admin::tokens(command).await,
        Command::Representations { command } => admin::representations(command).await,
        Command::Audit { command } => admin::audit_command(command).await,
        Command::Db { command } => admin::db_command(command).await,
        Command::Risk { command } => risk::run(command),
        Command::Config { command } => config::run(command),
        Command::Validate { json, files } => Ok(validate(json, &files)),
        Command::Assess {
            json,
            tariff,
            rates,
            date,
            profile,
            file,
        } => assess(
            json,
            tariff.as_deref(),
            rates.as_deref(),
            date.as_deref(),
            &profile,
            &file,
        ),
        Command::Lodge {
            file,
            server,
            token,
        } => lodge(&file, &server, &token).await,
        Command::Tariff { command } => tariff_command(command).await,
        Command::Ledger { command } => ledger_command(command).await,
        Command::Bank {
            command:
                BankCommand::Pay {
                    order,
                    amount,
                    currency,
                    bank,
                    key,
                    confirmation_id,
                    server,
                },
        } => {
            let key = hex::decode(key.trim()).map_err(|_| "--key: write the key in hex")?;
            let currency = match currency {
                Some(currency) => currency,
                None => {
                    let shown: serde_json::Value = reqwest::get(format!(
                        "{}/api/v1/administration",
                        server.trim_end_matches('/')
                    ))
                    .await
                    .map_err(|e| format!("cannot reach {server}: {e}"))?
                    .json()
                    .await
                    .map_err(|e| format!("{server} did not say its administration: {e}"))?;
                    shown["profile"]["currency"]["code"]
                        .as_str()
                        .ok_or("the server did not say its national currency; give --currency")?
                        .to_owned()
                }
            };
            let body = serde_json::to_vec(&serde_json::json!({
                "confirmation_id": confirmation_id
                    .unwrap_or_else(|| format!("SIM-{}", hex::encode(rand::random::<[u8; 8]>()))),
                "order_reference": order,
                "amount": amount,
                "currency": currency,
                "paid_at": storage::format_time(time::OffsetDateTime::now_utc()),
            }))
            .map_err(|e| e.to_string())?;
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let response = reqwest::Client::new()
                .post(format!(
                    "{}/api/v1/bank/confirmations",
                    server.trim_end_matches('/')
                ))
                .header(api::payments::BANK_HEADER, &bank)
                .header(
                    api::payments::SIGNATURE_HEADER,
                    api::payments::sign(&key, timestamp, &body),
                )
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| format!("cannot reach {server}: {e}"))?;
            let status = response.status();
            println!("{}", response.text().await.map_err(|e| e.to_string())?);
            Ok(if status.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Bench(args) => bench::run(args).await,
        Command::BenchLedger(args) => bench_ledger::run(args).await,
        Command::BenchRisk(args) => bench_risk::run(args),
        Command::BenchLpco(args) => bench_lpco::run(args),
        Command::BenchWco(args) => bench_wco::run(args),
        Command::BenchEns(args) => bench_ens::run(args),
        Command::BenchCargo(args) => bench_cargo::run(args).await,
        Command::BenchPortal(args) => bench_portal::run(args).await,
    }
}

async fn ledger_command(command: LedgerCommand) -> Result<ExitCode, String> {
    let database = match &command {
        LedgerCommand::Verify { database }
        | LedgerCommand::Accounts { database }
        | LedgerCommand::Open { database, .. }
        | LedgerCommand::Authorise { database, .. }
        | LedgerCommand::Revoke { database, .. }
        | LedgerCommand::Statement { database, .. } => database.clone(),
    };
    let store = storage::Store::open(&database.url()?)
        .await
        .map_err(|e| e.to_string())?;
    match command {
        LedgerCommand::Verify { .. } => {
            let ledger = store.ledger().await.map_err(|e| e.to_string())?;
            let transfers = ledger.transfers().count();
            let accounts = ledger.accounts().count();
            let mut failed = false;
            match ledger.verify() {
                Ok(()) => println!("ledger verified: {accounts} accounts, {transfers} transfers"),
                Err(problem) => {
                    println!("ledger NOT verified: {problem}");
                    failed = true;
                }
            }
            let findings = store.money_findings().await.map_err(|e| e.to_string())?;
            if findings.is_empty() {
                println!("declarations' money verified: every one agrees with the ledger");
            } else {
                failed = true;
                println!(
                    "declarations' money NOT verified: {} findings",
                    findings.len()
                );
                for finding in findings.iter().take(50) {
                    println!(
                        "  declaration {}: {}",
                        finding.declaration, finding.sentence
                    );
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        LedgerCommand::Open {
            account,
            limit,
            holder,
            currency,
            ..
        } => {
            let id = ledger::AccountId::parse(&account)
                .ok()
                .filter(|id| {
                    ledger::customs::kind(id).is_some_and(|(k, n)| k.is_held() && !n.is_empty())
                })
                .ok_or("open deferment:NUMBER or guarantee:REFERENCE")?;
            let limit = declaration::parse_decimal(&limit)
                .ok()
                .filter(|l| *l <= clearance::DEFAULT_MAX_AMOUNT)
                .ok_or("--limit: write an amount such as 100000")?;
            let currency = match currency {
                Some(currency) => {
                    declaration::Currency::parse(&currency).map_err(|e| e.to_string())?
                }
                None => config::in_use(&store, None).await?.currency.code,
            };
            let holder = declaration::PartyId::parse(&holder)
                .map_err(|_| "--holder: an EORI such as GB603202734852")?
                .to_string();
            if let Some(existing) = store.account_owner(&id).await.map_err(|e| e.to_string())?
                && existing != holder
            {
                return Err(format!(
                    "{id} is held by {existing}; its holder is not changed here"
                ));
            }
            let opened = store
                .open_account(
                    &id,
                    &currency,
                    ledger::Rule::DebitLimit(limit),
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| e.to_string())?;
            store
                .set_account_owner(&id, &holder)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{}\tlimit {limit} {}\theld by {holder}",
                opened.id, opened.currency
            );
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Authorise { account, party, .. }
        | LedgerCommand::Revoke { account, party, .. }
            if ledger::AccountId::parse(&account).is_err() =>
        {
            let _ = party;
            Err(format!("{account:?} is not an account id"))
        }
        LedgerCommand::Authorise { account, party, .. } => {
            let id = ledger::AccountId::parse(&account).map_err(|e| e.to_string())?;
            if store
                .account(&id)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("there is no account {id}"));
            }
            let party = declaration::PartyId::parse(&party)
                .map_err(|_| "PARTY: an EORI such as GB603202734852")?
                .to_string();
            store
                .grant_account_authority(
                    &storage::Actor::cli(),
                    &id,
                    &party,
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| e.to_string())?;
            println!("{party} may name {id}");
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Revoke { account, party, .. } => {
            let id = ledger::AccountId::parse(&account).map_err(|e| e.to_string())?;
            let ended = store
                .revoke_account_authority(
                    &storage::Actor::cli(),
                    &id,
                    &party,
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| e.to_string())?;
            if ended {
                println!("{party} may no longer name {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                Err(format!("{party} had no authority on {id}"))
            }
        }
        LedgerCommand::Accounts { .. } => {
            for account in store.accounts().await.map_err(|e| e.to_string())? {
                println!(
                    "{}\t{} {}\tavailable {}",
                    account.id,
                    account.balance(),
                    account.currency,
                    account
                        .available()
                        .map_or("unlimited".to_owned(), |a| a.to_string())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Statement { account, .. } => {
            let id = ledger::AccountId::parse(&account).map_err(|e| e.to_string())?;
            for t in store
                .account_transfers(&id)
                .await
                .map_err(|e| e.to_string())?
            {
                let sign = if t.credit == id { "+" } else { "-" };
                println!(
                    "{}\t{}\t{sign}{} {}\t{:?}\t{}\t{}",
                    t.at, t.id, t.amount, t.currency, t.kind, t.code, t.reference
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn tariff_command(command: TariffCommand) -> Result<ExitCode, String> {
    let (kind, file, database) = match command {
        TariffCommand::Import { file, database } => (storage::reference::MEASURES, file, database),
        TariffCommand::ImportNomenclature {
            file,
            national,
            database,
        } => (
            if national {
                storage::reference::NATIONAL_NOMENCLATURE
            } else {
                storage::reference::NOMENCLATURE
            },
            file,
            database,
        ),
        TariffCommand::ImportRates { file, database } => {
            (storage::reference::EXCHANGE_RATES, file, database)
        }
        TariffCommand::ImportUk { files, database } => {
            let store = storage::Store::open(&database.url()?)
                .await
                .map_err(|e| e.to_string())?;
            let mut texts = Vec::new();
            for file in &files {
                texts.push((file.display().to_string(), read_text(file)?));
            }
            let (set, read) = match api::reference::uk_requirements(&store, &texts).await {
                Ok(done) => done,
                Err(error) => {
                    eprintln!("aduana: nothing imported: {error}");
                    return Ok(ExitCode::from(1));
                }
            };
            let profile = config::in_use(&store, None).await?;
            // The duties and VAT become lines of the tariff in use; both files are checked before either is stored.
            let (tariff_text, duty_rows, skipped) =
                match api::reference::uk_tariff(&store, &profile, &texts).await {
                    Ok(done) => done,
                    Err(error) => {
                        eprintln!("aduana: nothing imported: {error}");
                        return Ok(ExitCode::from(1));
                    }
                };
            if let Err(error) =
                api::reference::check(&profile, storage::reference::MEASURES, &tariff_text, None)
            {
                eprintln!("aduana: nothing imported: the tariff with the UK duties: {error}");
                return Ok(ExitCode::from(1));
            }
            let by = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            let name = format!("uk-trade-tariff ({} files)", files.len());
            if duty_rows > 0 {
                let tariff = api::reference::import(
                    &store,
                    &profile,
                    storage::reference::MEASURES,
                    &format!("tariff in use + {name}"),
                    &tariff_text,
                    &by,
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| format!("nothing imported: {e}"))?;
                println!(
                    "imported {duty_rows} duty and VAT lines into the tariff: {} lines in use (sha256 {})",
                    tariff.row_count, tariff.sha256
                );
            }
            for why in &skipped {
                println!("left out: {why}");
            }
            let file = api::reference::import(
                &store,
                &profile,
                storage::reference::REQUIREMENTS,
                &name,
                &set,
                &by,
                time::OffsetDateTime::now_utc(),
            )
            .await
            .map_err(|e| format!("nothing imported: {e}"))?;
            println!(
                "imported {read} requirements from {} files: {} in use (sha256 {}); restart the server to use them",
                files.len(),
                file.row_count,
                file.sha256
            );
            return Ok(ExitCode::SUCCESS);
        }
        TariffCommand::Status { database } => {
            let store = storage::Store::open(&database.url()?)
                .await
                .map_err(|e| e.to_string())?;
            let files = store
                .current_reference_files()
                .await
                .map_err(|e| e.to_string())?;
            for kind in storage::reference::KINDS {
                match files.iter().find(|f| f.kind == *kind) {
                    Some(f) => println!(
                        "{kind}: {} ({} rows, sha256 {}, imported {} by {})",
                        f.name, f.row_count, f.sha256, f.imported_at, f.imported_by
                    ),
                    None => println!("{kind}: built-in demo"),
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let text = read_text(&file)?;
    let store = storage::Store::open(&database.url()?)
        .await
        .map_err(|e| e.to_string())?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let by = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let spinner = progress::spinner(&format!("checking and importing {name} as {kind}"));
    let profile = config::in_use(&store, None).await?;
    let imported = api::reference::import(
        &store,
        &profile,
        kind,
        &name,
        &text,
        &by,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    spinner.finish_and_clear();
    match imported {
        Ok(file) => {
            println!(
                "imported {} as {kind}: {} rows (sha256 {}); restart the server to use it",
                file.name, file.row_count, file.sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("aduana: nothing imported: {message}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Banks allowed to confirm payments: `ADUANA_BANK_KEYS="BANKA=<hex key>,BANKB=<hex key>"`.
fn bank_keys() -> Result<std::collections::HashMap<String, Vec<u8>>, String> {
    let mut keys = std::collections::HashMap::new();
    let Ok(text) = std::env::var("ADUANA_BANK_KEYS") else {
        return Ok(keys);
    };
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (bank, key) = entry
            .split_once('=')
            .ok_or("ADUANA_BANK_KEYS: write BANK=<hex key>,…")?;
        let key = hex::decode(key.trim())
            .map_err(|_| format!("ADUANA_BANK_KEYS: the key of {bank} is not hex"))?;
        if key.len() < 16 {
            return Err(format!(
                "ADUANA_BANK_KEYS: the key of {bank} is shorter than 16 bytes"
            ));
        }
        keys.insert(bank.trim().to_owned(), key);
    }
    Ok(keys)
}

pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The secret seed of random selection: `ADUANA_SELECTION_SEED`, or a file in the data folder created on first use.
fn selection_seed(data_dir: &Path) -> Result<Vec<u8>, String> {
    if let Ok(seed) = std::env::var("ADUANA_SELECTION_SEED") {
        return Ok(seed.into_bytes());
    }
    let path = data_dir.join("selection-seed");
    if let Ok(seed) = std::fs::read(&path) {
        return Ok(seed);
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let seed = api::new_secret("seed_").into_bytes();
    std::fs::write(&path, &seed).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(seed)
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Reads a declaration file: XML when it starts with `<`, the JSON twin when it starts with `{`.
fn read_declaration(bytes: &[u8]) -> Result<declaration::Declaration, Vec<Problem>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'{') {
        wco::json::read_declaration(bytes)
    } else {
        wco::read_declaration(bytes, &wco::Limits::default())
    }
}

/// What `aduana validate` reads: a declaration or a function code 13 message, in XML or in the JSON twin (a JSON
/// object with a `declaration_id` is a function code 13 message), an entry summary declaration or an NCTS phase 5
/// message (its name, e.g. `CC015C`). The answer names which it was.
fn read_any(bytes: &[u8]) -> Result<&'static str, Vec<Problem>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let kind = |m: &declaration::AdditionalMessage| match m.type_code {
        declaration::AdditionalMessageType::Correction => "correction (function code 13, COR)",
        declaration::AdditionalMessageType::Invalidation => "invalidation (function code 13, INV)",
        declaration::AdditionalMessageType::GoodsPresentation => {
            "goods presentation (function code 13, GPR)"
        }
    };
    if let Some(json) = transit::sniff(bytes) {
        return transit::judge(bytes, json, &[], &transit::Limits::default()).map(|m| m.name());
    }
    if entry_summary::sniff(bytes) {
        return entry_summary::judge(bytes, &entry_summary::Limits::default()).map(|m| {
            match m.kind {
                entry_summary::Kind::Declaration => "entry summary declaration (ICS CC315A)",
                entry_summary::Kind::Amendment => "entry summary amendment (ICS CC313A)",
            }
        });
    }
    if first == Some(b'{') {
        let additional = serde_json::from_slice::<serde_json::Value>(bytes)
            .is_ok_and(|v| v.get("declaration_id").is_some());
        if additional {
            wco::json::read_additional_message(bytes).map(|m| kind(&m))
        } else {
            wco::json::read_declaration(bytes).map(|_| "declaration")
        }
    } else {
        match wco::read_message(bytes, &wco::Limits::default())? {
            wco::Message::Declaration(_) => Ok("declaration"),
            wco::Message::Additional(m) => Ok(kind(&m)),
        }
    }
}

fn validate(json: bool, files: &[PathBuf]) -> ExitCode {
    let mut all_valid = true;
    for file in files {
        let mut kind = None;
        let result = match std::fs::read(file) {
            Ok(bytes) => read_any(&bytes).map(|k| kind = Some(k)),
            Err(e) => Err(vec![Problem::with_message(
                error_table::ErrorCode::InvalidRequest,
                "",
                format!("cannot read the file: {e}"),
            )]),
        };
        let errors = result.err().unwrap_or_default();
        all_valid &= errors.is_empty();
        if json {
            let line = serde_json::json!({"file": file.display().to_string(), "valid": errors.is_empty(), "kind": kind, "errors": errors});
            println!("{line}");
        } else if let Some(kind) = kind {
            println!("{}: valid {kind}", file.display());
        } else {
            println!("{}: invalid", file.display());
            for error in &errors {
                println!("  {error}");
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn assess(
    json: bool,
    tariff_file: Option<&Path>,
    rates_file: Option<&Path>,
    date: Option<&str>,
    profile: &str,
    file: &Path,
) -> Result<ExitCode, String> {
    let mut pipeline = Pipeline::for_profile(config::named(profile)?, Vec::new());
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let declaration = match read_declaration(&bytes) {
        Ok(d) => d,
        Err(problems) => {
            for p in problems {
                eprintln!("{}: {p}", file.display());
            }
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(path) = tariff_file {
        pipeline.tariff = tariff::Tariff::from_csv(&read_text(path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = rates_file {
        pipeline.rates = tariff::ExchangeRates::from_csv(
            pipeline.administration.currency.code.as_str(),
            &read_text(path)?,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let date = match date {
        Some(text) => time::Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| format!("--date {text:?}: write YYYY-MM-DD"))?,
        None => pipeline.local_date(&declaration, time::OffsetDateTime::now_utc()),
    };
    match pipeline.assess(&declaration, date) {
        Ok(assessment) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&assessment).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "Declaration {} — amounts in {}",
                    assessment.declaration, assessment.currency
                );
                for item in &assessment.items {
                    println!(
                        "item {} {} customs value {}",
                        item.sequence,
                        item.commodity_code.as_deref().unwrap_or("-"),
                        item.customs_value
                    );
                    for tax in &item.taxes {
                        println!(
                            "  {} base {} amount {}  ({})",
                            tax.tax_type, tax.base, tax.amount, tax.explanation
                        );
                    }
                }
                for total in &assessment.totals {
                    println!("total {} {}", total.tax_type, total.amount);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in problems {
                eprintln!("{}: {p}", file.display());
            }
            Ok(ExitCode::from(1))
        }
    }
}

async fn lodge(file: &Path, server: &str, token: &str) -> Result<ExitCode, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/declarations",
            server.trim_end_matches('/')
        ))
        .bearer_auth(token)
        .header(
            "content-type",
            if json {
                "application/json"
            } else {
                "application/xml"
            },
        )
        .body(bytes)
        .send()
        .await
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    println!("{body}");
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
