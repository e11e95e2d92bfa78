//! Administration by command line: users, API tokens, representations, the audit trail and its checkpoints,
//! database grants. Every change is written to the audit trail by the store, with the actor `cli`.

use crate::DatabaseArgs;
use clap::Subcommand;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use storage::{Actor, Store};
use time::OffsetDateTime;

const ROLES: [&str; 7] = [
    "trader",
    "officer",
    "risk_analyst",
    "auditor",
    "agency",
    "bank",
    "admin",
];

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create a user and print its first API token alone on stdout (all scopes, no expiry; only its hash is
    /// stored). Prefer `aduana tokens create` with scopes and an expiry for software.
    Add {
        #[arg(long, value_parser = ROLES)]
        role: String,
        /// The EORI of the party a trader acts for, or the code of a partner agency.
        #[arg(long)]
        party: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// The user's portal login (with --password-stdin, the user can sign in to the portal).
        #[arg(long)]
        login: Option<String>,
        /// Read the portal password from standard input (one line).
        #[arg(long, requires = "login")]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a user's portal password, read from standard input (one line).
    Passwd {
        user: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Change a user's role.
    Role {
        user: String,
        #[arg(value_parser = ROLES)]
        role: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set the customs office an officer works at (an office of the administration's profile in use; `any`
    /// for every office): examiners are allocated from the officers of a declaration's office.
    Office {
        user: String,
        office: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Disable a user: its tokens are revoked and its sessions ended.
    Disable {
        user: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create an API token for a user and print it alone on stdout (only its hash is stored).
    Create {
        user: String,
        /// What the token is for (shown in lists).
        #[arg(long, default_value = "api")]
        name: String,
        /// Scopes, comma-separated: declarations:read, declarations:write, decisions, ledger, reports, audit;
        /// or * for everything the user's role allows.
        #[arg(long, default_value = "*")]
        scopes: String,
        /// Days until the token expires (0: never).
        #[arg(long, default_value_t = 90)]
        expires_in_days: u32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a token by its id; servers stop accepting it within a few seconds.
    Revoke {
        id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
pub enum RepresentationsCommand {
    /// Register a representative (a broker's EORI) as acting for a principal (a declarant's EORI).
    Grant {
        representative: String,
        principal: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// End a representation.
    Revoke {
        representative: String,
        principal: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(clap::Args, Clone)]
pub struct AuditDirArgs {
    /// The folder of the audit signing key and checkpoints (default: `audit` in the data folder). Keep it
    /// apart from the database: on another disk, or copied to write-once storage.
    #[arg(long, env = "ADUANA_AUDIT_DIR")]
    pub audit_dir: Option<PathBuf>,
}

impl AuditDirArgs {
    pub fn dir(&self, database: &DatabaseArgs) -> PathBuf {
        self.audit_dir
            .clone()
            .unwrap_or_else(|| database.data_dir.join("audit"))
    }
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Create the checkpoint signing key (Ed25519) if there is none, and print its public key.
    Keygen {
        #[command(flatten)]
        audit: AuditDirArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Sign the current head of the trail and append it to the checkpoints file.
    Checkpoint {
        #[command(flatten)]
        audit: AuditDirArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Verify the whole trail against the signed checkpoints, and every event and ledger transfer against the
    /// trail. Names the first bad entry; exit status 1 when anything is wrong.
    Verify {
        /// Trust only these public keys (hex); default: the keys in the audit folder. Pin the key printed by
        /// `keygen`: someone able to rewrite the folder could replace the key there.
        #[arg(long = "public-key")]
        public_keys: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        audit: AuditDirArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Print the newest entries of the trail.
    Tail {
        #[arg(long, default_value_t = 20)]
        count: u64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// PostgreSQL: give an existing login role what the application needs and no more: it may read and
    /// write the working tables, only read and append to the event log, ledger transfers, receipts, bank
    /// confirmations, reference files and the audit trail. Run as the owner; run the server as that role.
    Grant {
        role: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub(crate) async fn open(database: &DatabaseArgs) -> Result<Store, String> {
    Store::open(&database.url()?)
        .await
        .map_err(|e| e.to_string())
}

fn read_password() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

pub async fn users(command: UsersCommand) -> Result<ExitCode, String> {
    let now = OffsetDateTime::now_utc();
    match command {
        UsersCommand::Add {
            role,
            party,
            name,
            login,
            password_stdin,
            database,
        } => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let store = open(&database).await?;
            let user = api::users::add_user(
                &store,
                &Actor::cli(),
                api::users::UserRequest {
                    name: name.unwrap_or_default(),
                    role: role.clone(),
                    party,
                    login,
                    password,
                },
                now,
            )
            .await
            .map_err(|e| e.english())?;
            let (_, token) =
                api::users::create_token(&store, &Actor::cli(), &user.id, "initial", "*", 0, now)
                    .await
                    .map_err(|e| e.english())?;
            eprintln!("created user {} ({role})", user.id);
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::List { database } => {
            let store = open(&database).await?;
            for user in store.users().await.map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.role,
                    user.party
                        .as_deref()
                        .or(user.office.as_deref())
                        .unwrap_or("-"),
                    user.login.as_deref().unwrap_or("-"),
                    user.disabled_at
                        .as_deref()
                        .map_or("active".to_owned(), |at| format!("disabled {at}")),
                    user.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::Passwd { user, database } => {
            let password = read_password()?;
            let store = open(&database).await?;
            api::users::set_password(&store, &Actor::cli(), &user, &password, now)
                .await
                .map_err(|e| e.english())?;
            eprintln!("user {user} changed");
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::Role {
            user,
            role,
            database,
        } => {
            let store = open(&database).await?;
            api::users::set_role(&store, &Actor::cli(), &user, &role, now)
                .await
                .map_err(|e| e.english())?;
            eprintln!("user {user} changed");
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::Office {
            user,
            office,
            database,
        } => {
            let store = open(&database).await?;
            // The profile in use: the stored one, else the demonstration's a new database starts with.
            let profile = match store
                .current_administration()
                .await
                .map_err(|e| e.to_string())?
            {
                Some(stored) => administration::parse(&stored.profile).map_err(|errors| {
                    format!(
                        "the stored administration profile does not read: {}",
                        errors[0]
                    )
                })?,
                None => administration::built_in_profile("demo-gb")
                    .ok_or("the built-in profile demo-gb is missing")?,
            };
            let office = if office == "any" { "" } else { office.as_str() };
            api::users::set_office(&store, &Actor::cli(), &user, office, &profile.offices, now)
                .await
                .map_err(|e| e.english())?;
            eprintln!("user {user} changed");
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::Disable { user, database } => {
            let store = open(&database).await?;
            api::users::disable(&store, &Actor::cli(), &user, now)
                .await
                .map_err(|e| e.english())?;
            eprintln!("user {user} changed");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn tokens(command: TokensCommand) -> Result<ExitCode, String> {
    let now = OffsetDateTime::now_utc();
    match command {
        TokensCommand::Create {
            user,
            name,
            scopes,
            expires_in_days,
            database,
        } => {
            let store = open(&database).await?;
            let (token, secret) = api::users::create_token(
                &store,
                &Actor::cli(),
                &user,
                &name,
                &scopes,
                expires_in_days,
                now,
            )
            .await
            .map_err(|e| e.english())?;
            let scopes = token.scopes.clone();
            let user = token.user_id.clone();
            eprintln!(
                "created token {} for {} (scopes {}, expires {})",
                token.id,
                user,
                scopes.join(" "),
                token.expires_at.as_deref().unwrap_or("never")
            );
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        TokensCommand::List { user, database } => {
            let store = open(&database).await?;
            for token in store
                .tokens(user.as_deref())
                .await
                .map_err(|e| e.to_string())?
            {
                let state = match (&token.revoked_at, &token.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(at)) => format!("expires {at}"),
                    (None, None) => "no expiry".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    token.id,
                    token.user_id,
                    token.name,
                    token.scopes.join(" ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokensCommand::Revoke { id, database } => {
            let store = open(&database).await?;
            if store
                .revoke_token(&Actor::cli(), &id, now)
                .await
                .map_err(|e| e.to_string())?
            {
                eprintln!(
                    "token {id} revoked; servers refuse it within {} seconds",
                    api::TOKEN_CACHE_SECONDS
                );
                Ok(ExitCode::SUCCESS)
            } else {
                Err(format!("no token {id}, or it was already revoked"))
            }
        }
    }
}

pub async fn representations(command: RepresentationsCommand) -> Result<ExitCode, String> {
    let (representative, principal, granted, database) = match command {
        RepresentationsCommand::Grant {
            representative,
            principal,
            database,
        } => (representative, principal, true, database),
        RepresentationsCommand::Revoke {
            representative,
            principal,
            database,
        } => (representative, principal, false, database),
    };
    let store = open(&database).await?;
    api::users::set_representation(
        &store,
        &Actor::cli(),
        &representative,
        &principal,
        granted,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(|e| e.english())?;
    eprintln!(
        "{representative} {} for {principal}",
        if granted {
            "now acts"
        } else {
            "no longer acts"
        }
    );
    Ok(ExitCode::SUCCESS)
}

// ----- the audit folder ------------------------------------------------------------------------------------------

/// The audit folder: `signing.key` (secret, mode 0600), `verifying.keys` (public keys, one per line, newest
/// last), `checkpoints.jsonl` (one signed checkpoint per line, appended and synced).
pub struct AuditFolder {
    pub path: PathBuf,
}

impl AuditFolder {
    pub fn new(path: &Path) -> AuditFolder {
        AuditFolder {
            path: path.to_owned(),
        }
    }

    fn signing_path(&self) -> PathBuf {
        self.path.join("signing.key")
    }

    fn verifying_path(&self) -> PathBuf {
        self.path.join("verifying.keys")
    }

    fn checkpoints_path(&self) -> PathBuf {
        self.path.join("checkpoints.jsonl")
    }

    /// The signing key, created on first use.
    pub fn signing_key(&self) -> Result<audit::SigningKey, String> {
        let path = self.signing_path();
        if let Ok(text) = std::fs::read_to_string(&path) {
            let bytes = hex::decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .ok_or_else(|| format!("{} does not hold a 32-byte hex key", path.display()))?;
            return Ok(audit::signing_key(bytes));
        }
        std::fs::create_dir_all(&self.path)
            .map_err(|e| format!("cannot create {}: {e}", self.path.display()))?;
        let key = audit::signing_key(rand::random::<[u8; 32]>());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        file.write_all(hex::encode(key.to_bytes()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let public = hex::encode(key.verifying_key().as_bytes());
        let mut keys = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.verifying_path())
            .map_err(|e| format!("cannot write {}: {e}", self.verifying_path().display()))?;
        writeln!(keys, "{public}")
            .and_then(|()| keys.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", self.verifying_path().display()))?;
        tracing::info!(public_key = %public, folder = %self.path.display(), "audit signing key created: record its public key apart");
        Ok(key)
    }

    /// The public keys listed in the folder.
    pub fn verifying_keys(&self) -> Result<Vec<audit::VerifyingKey>, String> {
        let path = self.verifying_path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                audit::verifying_key(l)
                    .ok_or_else(|| format!("{}: {l:?} is not a public key", path.display()))
            })
            .collect()
    }

    /// Every checkpoint written, oldest first. A line that cannot be read is an error naming it.
    pub fn checkpoints(&self) -> Result<Vec<audit::Checkpoint>, String> {
        let path = self.checkpoints_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut checkpoints = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            // A line cut short by a crash while it was written is the last line and is skipped with a warning.
            match serde_json::from_str(line) {
                Ok(checkpoint) => checkpoints.push(checkpoint),
                Err(_) if n + 1 == text.lines().count() && !text.ends_with('\n') => {
                    tracing::warn!(
                        line = n + 1,
                        "the last checkpoint line is incomplete; skipped"
                    );
                }
                Err(e) => return Err(format!("{} line {}: {e}", path.display(), n + 1)),
            }
        }
        Ok(checkpoints)
    }

    fn append(&self, checkpoint: &audit::Checkpoint) -> Result<(), String> {
        let path = self.checkpoints_path();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let line = serde_json::to_string(checkpoint).map_err(|e| e.to_string())?;
        writeln!(file, "{line}")
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// Signs the head of the trail when it moved since the last checkpoint; returns the checkpoint written.
pub async fn checkpoint(
    store: &Store,
    folder: &AuditFolder,
    key: &audit::SigningKey,
) -> Result<Option<audit::Checkpoint>, String> {
    let head = store.audit_head().await.map_err(|e| e.to_string())?;
    let last = folder.checkpoints()?.into_iter().map(|c| c.seq).max();
    if head.seq == 0 || last.is_some_and(|seq| seq >= head.seq) {
        return Ok(None);
    }
    let at = storage::format_time(OffsetDateTime::now_utc());
    let checkpoint = audit::Checkpoint::sign(&head, &at, key);
    folder.append(&checkpoint)?;
    Ok(Some(checkpoint))
}

/// Writes checkpoints every `every` until `stop` resolves, then a last one.
pub async fn checkpoint_loop(
    store: Store,
    folder: AuditFolder,
    key: audit::SigningKey,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(every);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(error) = checkpoint(&store, &folder, &key).await {
            tracing::error!(%error, "audit checkpoint failed");
        }
    }
    match checkpoint(&store, &folder, &key).await {
        Ok(Some(c)) => tracing::info!(seq = c.seq, "audit checkpoint written at shutdown"),
        Ok(None) => {}
        Err(error) => tracing::error!(%error, "audit checkpoint failed at shutdown"),
    }
}

pub async fn audit_command(command: AuditCommand) -> Result<ExitCode, String> {
    match command {
        AuditCommand::Keygen { audit, database } => {
            let folder = AuditFolder::new(&audit.dir(&database));
            let key = folder.signing_key()?;
            println!("{}", hex::encode(key.verifying_key().as_bytes()));
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { audit, database } => {
            let folder = AuditFolder::new(&audit.dir(&database));
            let key = folder.signing_key()?;
            let store = open(&database).await?;
            match checkpoint(&store, &folder, &key).await? {
                Some(c) => println!("checkpoint at entry {}: {}", c.seq, c.hash),
                None => println!("no new entries since the last checkpoint"),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify {
            public_keys,
            json,
            audit,
            database,
        } => {
            let folder = AuditFolder::new(&audit.dir(&database));
            let trusted = if public_keys.is_empty() {
                folder.verifying_keys().unwrap_or_default()
            } else {
                public_keys
                    .iter()
                    .map(|k| {
                        audit::verifying_key(k)
                            .ok_or_else(|| format!("--public-key {k:?} is not a key"))
                    })
                    .collect::<Result<_, _>>()?
            };
            let checkpoints = folder.checkpoints()?;
            let store = open(&database).await?;
            let report = store
                .verify_audit(checkpoints, &trusted)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                let value = serde_json::json!({
                    "ok": report.is_ok(),
                    "chain": match &report.chain {
                        Ok(summary) => serde_json::json!({"ok": true, "summary": summary}),
                        Err(finding) => serde_json::json!({"ok": false, "first_bad": finding.first_bad, "problem": finding.to_string()}),
                    },
                    "rows": report.rows,
                    "events_checked": report.events_checked,
                    "transfers_checked": report.transfers_checked,
                });
                println!("{value}");
            } else {
                match &report.chain {
                    Ok(summary) => println!(
                        "audit chain verified: {} entries, {} checkpoints matched, {} entries after the last checkpoint",
                        summary.entries, summary.checkpoints_matched, summary.unsealed
                    ),
                    Err(finding) => println!("audit chain NOT verified: {finding}"),
                }
                for row in &report.rows {
                    println!("NOT verified: {row}");
                }
                if report.chain.is_ok() {
                    println!(
                        "{} events, {} declaration versions (each document against its SHA-256) and {} ledger \
                         transfers match the trail",
                        report.events_checked, report.versions_checked, report.transfers_checked
                    );
                }
            }
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AuditCommand::Tail { count, database } => {
            let store = open(&database).await?;
            let head = store.audit_head().await.map_err(|e| e.to_string())?;
            let after = head.seq.saturating_sub(count.min(10_000));
            for entry in store
                .audit_entries(after, count.min(10_000) as i64)
                .await
                .map_err(|e| e.to_string())?
            {
                println!(
                    "{}\t{}\t{} ({})\t{}\t{}",
                    entry.seq, entry.at, entry.actor, entry.actor_role, entry.action, entry.subject
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn db_command(command: DbCommand) -> Result<ExitCode, String> {
    match command {
        DbCommand::Grant { role, database } => {
            let store = open(&database).await?;
            store
                .grant_application_role(&role)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "role {role} may now run the server: read and append only on the history tables"
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
