//! Durable storage: an append-only event log plus current-state tables, on SQLite (default) or PostgreSQL.
//!
//! One code path serves both databases through sqlx's `Any` driver; SQL is written once with `$n` parameters
//! (which both accept) except where the databases differ (row locks, the identity column), and each backend has
//! its own migrations in `migrations/`. Every change to a declaration is written in one transaction with its
//! events; the event log cannot be updated or deleted (triggers in both databases). The original document is kept
//! zstd-compressed.
//!
//! Concurrency: on SQLite, writes go through one async mutex (SQLite has one writer anyway, and this avoids
//! `SQLITE_BUSY` on lock upgrades), and lodgements through a group-commit writer task that stores each batch of
//! waiting lodgements in one transaction; on PostgreSQL, a declaration's row is locked (`FOR UPDATE`) while a
//! command is decided, and the (declarant, LRN) unique key settles concurrent lodgements of the same document.
//!
//! Durability (argued in ARCHITECTURE.md): SQLite runs in WAL mode with `synchronous=FULL`, so a transaction is
//! on disk before the API acknowledges it, and survives a process crash and a power loss.
//!
//! **API boundary**: this crate knows SQL; it knows nothing of HTTP. It stores what the pure crates decided.

mod admin_store;
mod audit_store;
mod cargo_store;
mod discharge_store;
mod enquiries_store;
mod entry_summary_store;
mod kpi_store;
mod ledger_store;
mod money;
pub mod observe;
mod payments;
mod publications_store;
mod risk_store;
mod security;
pub mod seed;
mod transit_store;
pub use enquiries_store::{Enquiry, EnquiryRefused};
pub use publications_store::{Publication, PublicationRefused, StoredComment};
mod single_window;
pub use admin_store::AdministrationVersion;
pub use audit_store::{Actor, AuditReport, entry as audit_entry};
pub use cargo_store::{CargoReportRow, NewCargoReport};
pub use discharge_store::{CargoArrival, CargoCandidate};
pub use entry_summary_store::{
    EntrySummaryRefusal, EntrySummaryRow, NewEntrySummary, ReferralChange, ReferralRow, screened_by,
};
pub use ledger_store::TransferOutcome;
pub use money::Money;
pub use payments::{
    Confirmation, Inspection, OrderStatus, PaymentOrder, Refund, RefundStatus, Write,
};
pub use risk_store::{NewRiskDocument, RiskDocument};
pub use security::{NewUser, Session, Token, UserChange};
pub use single_window::{AgencyHold, Decided as ApplicationDecided, MAX_LIST, OutboxEvent};
pub use transit_store::{
    TransitChange, TransitMessage, TransitRow, ledger_key as transit_ledger_key,
};

use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::collections::BTreeSet;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The ledger refused a decision's transfers (nothing was stored).
    #[error("the ledger refused: {0}")]
    LedgerRefused(ledger::LedgerError),
    /// Another request stored the same thing first (a unique key); nothing of this one was stored.
    #[error("stored already: {0}")]
    Duplicate(String),
    /// The row changed between reading and writing (an optimistic update lost); nothing was stored.
    #[error("changed meanwhile: {0}")]
    Concurrent(String),
    /// The database is busy (locked by another process for longer than the wait allows).
    #[error("the database is busy: {0}")]
    Busy(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            // Every connection busy for longer than the pool waits: the server is overloaded, not broken.
            sqlx::Error::PoolTimedOut => {
                StoreError::Unavailable("every database connection is busy".into())
            }
            other => StoreError::Database(other),
        }
    }
}

impl StoreError {
    /// A unique key broken by a concurrent insert, as both databases report it.
    pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
        error
            .as_database_error()
            .is_some_and(|e| e.is_unique_violation())
    }

    /// Maps a database error: a unique violation becomes [`StoreError::Duplicate`], a lock timeout
    /// [`StoreError::Busy`].
    pub(crate) fn classify(error: sqlx::Error, what: &str) -> StoreError {
        if Self::is_unique_violation(&error) {
            return StoreError::Duplicate(what.to_owned());
        }
        let text = error.to_string();
        if text.contains("database is locked") || text.contains("database is busy") {
            return StoreError::Busy(text);
        }
        StoreError::Database(error)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serializes writes on SQLite.
    write_lock: Option<Arc<Mutex<()>>>,
    /// The group-commit writer of lodgements, on SQLite.
    writer: Option<tokio::sync::mpsc::Sender<LodgeJob>>,
    /// The group-commit writer of ledger transfers, on SQLite.
    ledger_writer: Option<tokio::sync::mpsc::Sender<ledger_store::LedgerJob>>,
    /// The next serial to hand out, on SQLite (one server process per database: see ARCHITECTURE.md).
    serials: Option<Arc<std::sync::atomic::AtomicI64>>,
}

/// Times are stored as RFC 3339 UTC text with microseconds, so that text order is time order.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    ))
    .expect("a UTC time always formats")
}

pub fn parse_time(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

/// A user of the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: String,
    pub party: Option<String>,
    /// The portal login, if any.
    pub login: Option<String>,
    pub disabled_at: Option<String>,
    pub created_at: String,
    /// The customs office an officer works at (absent: any office).
    pub office: Option<String>,
}

/// The current state of a declaration, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclarationRow {
    pub id: String,
    pub serial: i64,
    pub declarant: String,
    pub representative: Option<String>,
    pub lrn: String,
    pub mrn: Option<String>,
    pub status: workflow::Status,
    pub lane: Option<selectivity::Lane>,
    pub office: Option<String>,
    pub transport_mode: Option<String>,
    pub declaration_type: String,
    pub version: i64,
    pub revision: i64,
    /// The content hash of the version first lodged (a repeat of that lodgement is answered as a replay).
    pub content_hash: String,
    /// The format of the current version (`xml`, `json`, `edifact`).
    pub format: String,
    /// The current version's model (its JSON twin); every version, with its document, is in
    /// `declaration_versions`.
    pub model: String,
    pub state: String,
    pub assessment: Option<String>,
    pub lodge_response: String,
    pub lodged_at: String,
    pub updated_at: String,
    pub released_at: Option<String>,
    /// Its place in the officers' queues: [`queue_key`] of its priority and serial.
    pub queue_key: i64,
}

/// The band of declarations no priority line placed: after every priority's (ranks 1 to [`selectivity::MAX_RULES`]).
const NO_PRIORITY_BAND: i64 = selectivity::MAX_RULES as i64 + 1;
/// The serials one priority band holds (2^40).
const QUEUE_BAND: i64 = 1 << 40;

/// The key a queue is ordered by: the priority's rank (none after every rank), then the serial (oldest first).
/// One integer, so that a page of a queue is one index range.
pub fn queue_key(priority: Option<&selectivity::Priority>, serial: i64) -> i64 {
    let band = priority.map_or(NO_PRIORITY_BAND, |p| {
        i64::from(p.rank).clamp(1, NO_PRIORITY_BAND)
    });
    band * QUEUE_BAND + serial.rem_euclid(QUEUE_BAND)
}

impl DeclarationRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let corrupt = |what: String| sqlx::Error::Decode(what.into());
        let status: String = row.try_get("status")?;
        let lane: Option<String> = row.try_get("lane")?;
        Ok(Self {
            id: row.try_get("id")?,
            serial: row.try_get("serial")?,
            declarant: row.try_get("declarant")?,
            representative: row.try_get("representative")?,
            lrn: row.try_get("lrn")?,
            mrn: row.try_get("mrn")?,
            status: workflow::Status::parse(&status)
                .ok_or_else(|| corrupt(format!("status {status:?}")))?,
            lane: lane
                .map(|l| selectivity::Lane::parse(&l).ok_or_else(|| corrupt(format!("lane {l:?}"))))
                .transpose()?,
            office: row.try_get("office")?,
            transport_mode: row.try_get("transport_mode")?,
            declaration_type: row.try_get("declaration_type")?,
            version: row.try_get("version")?,
            revision: row.try_get("revision")?,
            content_hash: row.try_get("content_hash")?,
            format: row.try_get("format")?,
            model: row.try_get("model")?,
            state: row.try_get("state")?,
            assessment: row.try_get("assessment")?,
            lodge_response: row.try_get("lodge_response")?,
            lodged_at: row.try_get("lodged_at")?,
            updated_at: row.try_get("updated_at")?,
            released_at: row.try_get("released_at")?,
            queue_key: row.try_get("queue_key")?,
        })
    }

    /// The lifecycle state stored with the row.
    pub fn workflow_state(&self) -> Result<workflow::State, StoreError> {
        serde_json::from_str(&self.state)
            .map_err(|e| StoreError::Corrupt(format!("state of {}: {e}", self.id)))
    }

    /// The declaration's name in the ledger.
    pub fn ledger_key(&self) -> String {
        ledger::customs::declaration_key(&self.declarant, &self.lrn)
    }
}

/// One version of a declaration as received (its document is read with [`Store::version_document`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclarationVersion {
    pub version: i64,
    pub format: String,
    /// The hash of the version's model (canonical JSON), as its lodged or amended event records it.
    pub content_hash: String,
    /// The SHA-256 of the document's bytes as received.
    pub document_sha256: String,
    pub received_at: String,
    pub received_by: String,
    pub received_role: String,
}

/// A version to store: the document as received and its model.
#[derive(Clone, Debug)]
pub struct NewVersion {
    pub format: String,
    pub document: String,
    pub model: String,
    pub content_hash: String,
    pub received_by: Actor,
}

/// One row of the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub declaration_id: String,
    pub revision: i64,
    pub event_type: String,
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub reason: String,
    pub data: String,
}

/// A new declaration to store, with everything the pipeline decided about it.
pub struct NewDeclaration {
    pub declarant: String,
    pub representative: Option<String>,
    pub lrn: String,
    pub content_hash: String,
    pub format: String,
    pub document: String,
    pub model: String,
    pub office: Option<String>,
    pub transport_mode: Option<String>,
    pub declaration_type: String,
    /// Who lodged it (the first version's author).
    pub received_by: Actor,
    /// The accounts its decision may touch (`clearance::Pipeline::accounts_for`): loaded and locked, in id order,
    /// before the decision.
    pub accounts: Vec<ledger::AccountId>,
    /// The documents it cites (DE 2/3 code and reference): the LPCO types among the codes and the issued documents
    /// they name are loaded (and locked) for the decision.
    pub cited: Vec<(String, Option<String>)>,
    /// The cargo it covers (`manifest::discharge::declared_cargo`), written with it: what cargo reports'
    /// consignments are matched on.
    pub cargo: Option<manifest::discharge::DeclaredCargo>,
}

impl NewDeclaration {
    fn cited_keys(&self) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
        let codes = self.cited.iter().map(|(c, _)| c.clone()).collect();
        let named = self
            .cited
            .iter()
            .filter_map(|(c, r)| r.as_ref().map(|r| (c.clone(), r.clone())))
            .collect();
        (codes, named)
    }
}

/// What the pipeline decided for a new declaration, given its id and serial and the ledger as it stands.
pub struct Decided {
    pub events: Vec<workflow::Event>,
    pub state: workflow::State,
    pub assessment: Option<String>,
    /// The answer to the lodgement request, stored so that a repeat gets exactly the same answer.
    pub response: String,
    /// The money: accounts to open, then transfers to apply as one, in the lodgement's transaction.
    pub opens: Vec<revenue::Opening>,
    pub transfers: Vec<ledger::Transfer>,
    /// What its goods items draw from the licences, permits and certificates they cite.
    pub draws: Vec<lpco::Draw>,
}

/// What a command's decision reads, inside its transaction: the row (locked), the ledger (accounts locked), the
/// declaration's refunds and payment orders, the time (taken under the lock and never before the declaration's
/// last change, so that a history's times never go backwards), and the stamp its transfer ids are built from.
pub struct Context<'a> {
    pub row: &'a DeclarationRow,
    pub money: &'a Money,
    pub refunds: &'a [Refund],
    pub orders: &'a [PaymentOrder],
    pub now: OffsetDateTime,
    /// `r<revision>`: unique to this change of this declaration.
    pub stamp: String,
}

#[derive(Debug)]
pub enum Lodged {
    Created {
        row: Box<DeclarationRow>,
    },
    /// The same document was lodged before under this (declarant, LRN): here is the original answer.
    Replayed {
        response: String,
    },
    /// A different document was lodged before under this (declarant, LRN).
    Conflict {
        existing_id: String,
    },
}

impl Lodged {
    /// A declaration released on lodgement (green lane, duties secured) counts in the lodgement-to-release time.
    fn observe_release(&self) {
        if let Lodged::Created { row } = self
            && let Some(released_at) = &row.released_at
        {
            observe::released(&row.lodged_at, released_at);
        }
    }
}

/// A change to an existing declaration, decided from its current row: all of it is stored in one transaction, or
/// none.
#[derive(Default)]
pub struct Change {
    pub events: Vec<workflow::Event>,
    /// The new state (`None`: unchanged).
    pub state: Option<workflow::State>,
    /// `Some` to replace the stored assessment.
    pub assessment: Option<Option<String>>,
    /// A new version (an amendment, a correction).
    pub version: Option<NewVersion>,
    /// The money: accounts to open, then transfers to apply as one.
    pub opens: Vec<revenue::Opening>,
    pub transfers: Vec<ledger::Transfer>,
    /// Rows that go with it: payment orders, refunds, bank confirmations, receipts.
    pub writes: Vec<Write>,
}

impl Change {
    /// Whether the change stores nothing (the command was a repeat: the answer is the row as it is).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.state.is_none()
            && self.assessment.is_none()
            && self.version.is_none()
            && self.opens.is_empty()
            && self.transfers.is_empty()
            && self.writes.is_empty()
    }
}

/// Filters for listing declarations.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only declarations where this party is declarant or representative (traders).
    pub party: Option<String>,
    pub status: Option<workflow::Status>,
    pub lane: Option<selectivity::Lane>,
    /// Lodged at or after (RFC 3339 text).
    pub from: Option<String>,
    /// Lodged before (RFC 3339 text).
    pub to: Option<String>,
    /// Only serials below this (the cursor).
    pub before_serial: Option<i64>,
    pub limit: i64,
}

/// Which queue [`Store::queue`] reads.
#[derive(Clone, Debug)]
pub struct QueueFilter {
    pub status: workflow::Status,
    pub lane: selectivity::Lane,
    /// Only the declarations at this customs office.
    pub office: Option<String>,
    /// Only those after this `queue_key` (the cursor).
    pub after: Option<i64>,
    pub limit: i64,
}

/// One released declaration's events, for the Time Release Study.
pub struct ReleasedTimeline {
    pub lane: Option<String>,
    pub office: Option<String>,
    pub transport_mode: Option<String>,
    pub events: Vec<(String, String)>,
    /// The partner agencies its release waited for: (agency, asked at, first decided at).
    pub agencies: Vec<(String, String, Option<String>)>,
}

const MIGRATIONS_SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_reference_files.sql"),
    ),
    (3, include_str!("../migrations/sqlite/0003_ledger.sql")),
    (4, include_str!("../migrations/sqlite/0004_payments.sql")),
    (5, include_str!("../migrations/sqlite/0005_refunds.sql")),
    (6, include_str!("../migrations/sqlite/0006_receipts.sql")),
    (
        7,
        include_str!("../migrations/sqlite/0007_account_owner.sql"),
    ),
    (8, include_str!("../migrations/sqlite/0008_security.sql")),
    (
        9,
        include_str!("../migrations/sqlite/0009_risk_documents.sql"),
    ),
    (
        10,
        include_str!("../migrations/sqlite/0010_cargo_reports.sql"),
    ),
    (11, include_str!("../migrations/sqlite/0011_versions.sql")),
    (
        12,
        include_str!("../migrations/sqlite/0012_declarations_without_document.sql"),
    ),
    (
        13,
        include_str!("../migrations/sqlite/0013_administration.sql"),
    ),
    (
        14,
        include_str!("../migrations/sqlite/0014_single_window.sql"),
    ),
    (15, include_str!("../migrations/sqlite/0015_portal.sql")),
    (16, include_str!("../migrations/sqlite/0016_workbench.sql")),
    (
        17,
        include_str!("../migrations/sqlite/0017_queue_priority.sql"),
    ),
    (
        18,
        include_str!("../migrations/sqlite/0018_officer_offices.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_published_reports.sql"),
    ),
    (
        20,
        include_str!("../migrations/sqlite/0020_publications.sql"),
    ),
    (
        21,
        include_str!("../migrations/sqlite/0021_list_indexes.sql"),
    ),
    (22, include_str!("../migrations/sqlite/0022_enquiries.sql")),
    (
        23,
        include_str!("../migrations/sqlite/0023_entry_summaries.sql"),
    ),
    (
        24,
        include_str!("../migrations/sqlite/0024_cargo_discharge.sql"),
    ),
    (25, include_str!("../migrations/sqlite/0025_transit.sql")),
];
const MIGRATIONS_POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_reference_files.sql"),
    ),
    (3, include_str!("../migrations/postgres/0003_ledger.sql")),
    (4, include_str!("../migrations/postgres/0004_payments.sql")),
    (5, include_str!("../migrations/postgres/0005_refunds.sql")),
    (6, include_str!("../migrations/postgres/0006_receipts.sql")),
    (
        7,
        include_str!("../migrations/postgres/0007_account_owner.sql"),
    ),
    (8, include_str!("../migrations/postgres/0008_security.sql")),
    (
        9,
        include_str!("../migrations/postgres/0009_risk_documents.sql"),
    ),
    (
        10,
        include_str!("../migrations/postgres/0010_cargo_reports.sql"),
    ),
    (11, include_str!("../migrations/postgres/0011_versions.sql")),
    (
        12,
        include_str!("../migrations/postgres/0012_declarations_without_document.sql"),
    ),
    (
        13,
        include_str!("../migrations/postgres/0013_administration.sql"),
    ),
    (
        14,
        include_str!("../migrations/postgres/0014_single_window.sql"),
    ),
    (15, include_str!("../migrations/postgres/0015_portal.sql")),
    (
        16,
        include_str!("../migrations/postgres/0016_workbench.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_queue_priority.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_officer_offices.sql"),
    ),
    (
        19,
        include_str!("../migrations/postgres/0019_published_reports.sql"),
    ),
    (
        20,
        include_str!("../migrations/postgres/0020_publications.sql"),
    ),
    (
        21,
        include_str!("../migrations/postgres/0021_list_indexes.sql"),
    ),
    (
        22,
        include_str!("../migrations/postgres/0022_enquiries.sql"),
    ),
    (
        23,
        include_str!("../migrations/postgres/0023_entry_summaries.sql"),
    ),
    (
        24,
        include_str!("../migrations/postgres/0024_cargo_discharge.sql"),
    ),
    (25, include_str!("../migrations/postgres/0025_transit.sql")),
];

/// The migration after which the documents of declarations stored before versions existed are copied into
/// `declaration_versions` (before the next one drops them from `declarations`).
const VERSIONS_MIGRATION: i64 = 11;

/// Kinds of reference file the administration imports.
pub mod reference {
    pub const MEASURES: &str = "measures";
    pub const NOMENCLATURE: &str = "nomenclature";
    pub const NATIONAL_NOMENCLATURE: &str = "national_nomenclature";
    pub const EXCHANGE_RATES: &str = "exchange_rates";
    /// The LPCO requirements (which goods need which documents), as `lpco::Requirements` JSON.
    pub const REQUIREMENTS: &str = "requirements";
    pub const KINDS: &[&str] = &[
        MEASURES,
        NOMENCLATURE,
        NATIONAL_NOMENCLATURE,
        EXCHANGE_RATES,
        REQUIREMENTS,
    ];
}

/// One imported reference file, described (its content is fetched with [`Store::reference_content`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReferenceFile {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub sha256: String,
    pub row_count: i64,
    pub imported_at: String,
    pub imported_by: String,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        // FULL unless the operator explicitly trades power-loss durability for speed (documented in ARCHITECTURE.md).
        let synchronous = match std::env::var("ADUANA_SQLITE_SYNCHRONOUS").as_deref() {
            Ok("NORMAL") => "NORMAL",
            _ => "FULL",
        };
        let pragmas: &'static str = if synchronous == "NORMAL" {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;"
        } else {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;"
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, so an
                        // acknowledged transaction survives power loss; the busy timeout covers checkpoints.
                        sqlx::raw_sql(pragmas).execute(&mut *connection).await?;
                    }
                    Ok(())
                })
            });
        let url = database_url(url, backend)?;
        let pool = options.connect(&url).await.map_err(|error| {
            StoreError::Unavailable(match backend {
                Backend::Sqlite => format!(
                    "cannot open the SQLite database {}: {error}. Check that its folder exists and can be written.",
                    redact(&url)
                ),
                Backend::Postgres => format!(
                    "cannot connect to PostgreSQL at {}: {error}. Check the URL (postgres://USER@HOST:PORT/DATABASE, \
                     or ?host=/socket/folder) and that the server is running and accepts this user.",
                    redact(&url)
                ),
            })
        })?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let writer = write_lock.as_ref().map(|lock| {
            let (sender, receiver) = tokio::sync::mpsc::channel(MAX_QUEUED_LODGEMENTS);
            tokio::spawn(sqlite_writer(pool.clone(), lock.clone(), receiver));
            sender
        });
        let ledger_writer = write_lock.as_ref().map(|lock| {
            let (sender, receiver) = tokio::sync::mpsc::channel(MAX_QUEUED_LODGEMENTS);
            tokio::spawn(ledger_store::sqlite_ledger_writer(
                pool.clone(),
                lock.clone(),
                receiver,
            ));
            sender
        });
        let mut store = Store {
            pool,
            backend,
            write_lock,
            writer,
            ledger_writer,
            serials: None,
        };
        store.migrate().await?;
        store.backfill_audit().await?;
        if backend == Backend::Sqlite {
            let last: i64 =
                sqlx::query("SELECT value FROM counters WHERE name = 'declaration_serial'")
                    .fetch_one(&store.pool)
                    .await?
                    .try_get(0)?;
            store.serials = Some(Arc::new(std::sync::atomic::AtomicI64::new(last)));
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let migrations = match self.backend {
            Backend::Sqlite => MIGRATIONS_SQLITE,
            Backend::Postgres => MIGRATIONS_POSTGRES,
        };
        // Up to date: nothing to create or lock (the application's role may lack the right to).
        if let Ok(rows) = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await
        {
            let applied: std::collections::HashSet<i64> =
                rows.iter().filter_map(|r| r.try_get(0).ok()).collect();
            if migrations.iter().all(|(v, _)| applied.contains(v)) {
                return Ok(());
            }
        }
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)")
            .execute(&self.pool)
            .await?;
        for (version, sql) in migrations {
            let mut tx = self.begin_write().await?;
            if self.backend == Backend::Postgres {
                // Two servers starting at once must not both migrate.
                sqlx::query("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let applied: Option<i64> =
                sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.try_get(0))
                    .transpose()?;
            if applied.is_none() {
                sqlx::raw_sql(*sql).execute(&mut *tx).await?;
                if *version == VERSIONS_MIGRATION {
                    copy_versions(&mut tx, self.backend).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(*version)
                    .bind(format_time(OffsetDateTime::now_utc()))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    async fn lock(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// The id of the declaration a declarant lodged under an LRN, if any.
    pub async fn declaration_id_by_lrn(
        &self,
        declarant: &str,
        lrn: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM declarations WHERE declarant = $1 AND lrn = $2")
            .bind(declarant)
            .bind(lrn)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    /// The connection pool, for tests that prove what the database itself refuses (append-only tables).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    // ----- reference files ---------------------------------------------------------------------------------

    /// Stores an imported reference file, already checked whole by the caller: one row, all or nothing.
    pub async fn add_reference_file(
        &self,
        kind: &str,
        name: &str,
        content: &str,
        row_count: usize,
        imported_by: &str,
        now: OffsetDateTime,
    ) -> Result<ReferenceFile, StoreError> {
        use sha2::Digest;
        let sha256 = format!("{:x}", sha2::Sha256::digest(content.as_bytes()));
        let compressed = compress(content)?;
        let imported_at = format_time(now);
        let row_count = i64::try_from(row_count).unwrap_or(i64::MAX);
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO reference_files (kind, name, sha256, row_count, content, imported_at, imported_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(kind)
        .bind(name)
        .bind(&sha256)
        .bind(row_count)
        .bind(compressed)
        .bind(&imported_at)
        .bind(imported_by)
        .fetch_one(&mut *tx)
        .await?;
        // The file's own SHA-256 is what the trail records of it.
        let entry = audit_store::entry(
            &Actor::new(imported_by, "admin"),
            audit::Action::ReferenceImport,
            &format!("reference/{kind}/{name}"),
            sha256.as_bytes(),
            now,
        );
        audit_store::append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(ReferenceFile {
            id: row.try_get("id")?,
            kind: kind.to_owned(),
            name: name.to_owned(),
            sha256,
            row_count,
            imported_at,
            imported_by: imported_by.to_owned(),
        })
    }

    /// The newest file of each kind, i.e. the reference data in use.
    pub async fn current_reference_files(&self) -> Result<Vec<ReferenceFile>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, name, sha256, row_count, imported_at, imported_by FROM reference_files r \
             WHERE id = (SELECT MAX(id) FROM reference_files s WHERE s.kind = r.kind) ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReferenceFile {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    name: row.try_get("name")?,
                    sha256: row.try_get("sha256")?,
                    row_count: row.try_get("row_count")?,
                    imported_at: row.try_get("imported_at")?,
                    imported_by: row.try_get("imported_by")?,
                })
            })
            .collect()
    }

    /// The text of a stored reference file.
    pub async fn reference_content(&self, id: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT content FROM reference_files WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let bytes: Vec<u8> = row.try_get("content")?;
                decompress(&bytes).map(Some).map_err(StoreError::Corrupt)
            }
        }
    }

    // ----- declarations --------------------------------------------------------------------------------------

    /// Begins a writing transaction: on SQLite `BEGIN IMMEDIATE`, so that the write lock is taken at once and
    /// another process's writer (the CLI) makes this one wait its `busy_timeout` instead of failing on the upgrade.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        begin_write(&self.pool, self.backend).await
    }

    /// Stores a new declaration with what `decide` returns for its id, serial and the ledger as it stands (the
    /// accounts of `new.accounts` locked); or replays the first answer for the same document, or reports a conflict
    /// for another document under the same (declarant, LRN). The declaration, its first version, its events, its
    /// money and their audit entries are one transaction: a lodgement that loses a race (or fails) leaves nothing.
    ///
    /// The answer comes only after that transaction has committed. On SQLite, concurrent lodgements are grouped
    /// into one transaction by the writer task (group commit: one sync for the batch), each decided in turn against
    /// the ledger as the batch has left it; a batch commits or fails as a whole, and a failed batch acknowledges
    /// nothing, so clients retry (safely: the lodgement is idempotent).
    pub async fn lodge(
        &self,
        new: NewDeclaration,
        now: OffsetDateTime,
        decide: impl FnOnce(&str, u64, &Money, &lpco::Held) -> Decided + Send + 'static,
    ) -> Result<Lodged, StoreError> {
        match (&self.writer, &self.serials) {
            (Some(writer), Some(serials)) => {
                // What needs no decision happens here, on the caller's task, so that the writer decides and writes.
                let serial = serials.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                let document = compress(&new.document)?;
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job = LodgeJob {
                    new,
                    document,
                    serial,
                    now,
                    decide: Box::new(decide),
                    reply,
                };
                writer
                    .send(job)
                    .await
                    .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
                answer
                    .await
                    .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?
            }
            _ => self.lodge_alone(new, now, decide).await,
        }
    }

    /// PostgreSQL: one transaction per lodgement; the database groups concurrent commits itself.
    async fn lodge_alone(
        &self,
        new: NewDeclaration,
        now: OffsetDateTime,
        decide: impl FnOnce(&str, u64, &Money, &lpco::Held) -> Decided,
    ) -> Result<Lodged, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(found) = existing(&mut tx, &new.declarant, &new.lrn, &new.content_hash).await? {
            return Ok(found);
        }
        let serial: i64 = sqlx::query("SELECT nextval('declaration_serial')")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let (declarant, lrn, hash) = (
            new.declarant.clone(),
            new.lrn.clone(),
            new.content_hash.clone(),
        );
        let document = compress(&new.document)?;
        let mut loaded = money::Loaded::default();
        let key = ledger::customs::declaration_key(&new.declarant, &new.lrn);
        let view = loaded
            .money(&mut tx, self.backend, &key, &new.accounts)
            .await?;
        let (codes, named) = new.cited_keys();
        let mut held = lpco::Held::default();
        single_window::load_held(&mut tx, self.backend, &mut held, &codes, &named).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let decided = decide(&id, u64::try_from(serial).unwrap_or_default(), &view, &held);
        if let Err(error) = held.replay(&decided.draws) {
            return Err(StoreError::Corrupt(format!("a lodgement's draws: {error}")));
        }
        let actor = new.received_by.clone();
        let prepared = prepare(id, serial, new, document, now, decided)?;
        let draws: Vec<_> = prepared
            .draws
            .iter()
            .map(|d| (prepared.row.id.clone(), actor.clone(), d.clone()))
            .collect();
        let inserted = async {
            if let Err(error) = loaded
                .apply(
                    &mut tx,
                    self.backend,
                    prepared.opens.clone(),
                    prepared.transfers.clone(),
                    now,
                )
                .await?
            {
                return Err(StoreError::LedgerRefused(error));
            }
            let mut entries = Vec::new();
            insert_rows(&mut tx, std::slice::from_ref(&prepared.row)).await?;
            if let Some(cargo) = &prepared.cargo {
                discharge_store::insert_cargo(&mut tx, &[(prepared.row.id.as_str(), cargo)])
                    .await?;
            }
            entries.extend(payments::allocate_examiners(&mut tx, &[&prepared.row], now).await?);
            entries
                .extend(insert_versions(&mut tx, std::slice::from_ref(&prepared.version)).await?);
            entries.extend(insert_events(&mut tx, &prepared.events).await?);
            entries.extend(loaded.write(&mut tx, now).await?);
            entries.extend(single_window::write_draws(&mut tx, &held, &draws, now).await?);
            audit_store::append(&mut tx, self.backend, entries).await?;
            Ok(())
        }
        .await;
        match inserted {
            Ok(()) => {
                tx.commit().await?;
                let lodged = Lodged::Created {
                    row: Box::new(prepared.row),
                };
                lodged.observe_release();
                Ok(lodged)
            }
            Err(StoreError::Database(error)) if StoreError::is_unique_violation(&error) => {
                // A concurrent lodgement of the same (declarant, LRN) won the race: this transaction, money and
                // all, is rolled back; answer as the winner decided.
                drop(tx);
                let mut connection = self.pool.acquire().await?;
                match existing(&mut connection, &declarant, &lrn, &hash).await? {
                    Some(found) => Ok(found),
                    None => Err(StoreError::Database(error)),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Applies a change decided from the current row, in one transaction that locks the row and the accounts
    /// `accounts` names (with those the declaration's transfers touch). `decide` returning an error, or an empty
    /// change, leaves everything unchanged. A row changed meanwhile (an optimistic update that lost) is
    /// [`StoreError::Concurrent`]; a unique key another request took first is [`StoreError::Duplicate`].
    pub async fn update<E>(
        &self,
        id: &str,
        accounts: impl FnOnce(&DeclarationRow) -> Vec<ledger::AccountId>,
        decide: impl FnOnce(&Context<'_>) -> Result<Change, E>,
    ) -> Result<Result<DeclarationRow, E>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let sql = match self.backend {
            Backend::Sqlite => {
                format!("SELECT {DECLARATION_COLUMNS} FROM declarations WHERE id = $1")
            }
            Backend::Postgres => {
                format!("SELECT {DECLARATION_COLUMNS} FROM declarations WHERE id = $1 FOR UPDATE")
            }
        };
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(StoreError::Corrupt(format!("declaration {id} vanished")));
        };
        let mut row = DeclarationRow::from_row(&row)?;
        let wanted = accounts(&row);
        let mut loaded = money::Loaded::default();
        let view = loaded
            .money(&mut tx, self.backend, &row.ledger_key(), &wanted)
            .await?;
        let refunds = payments::refunds_of(&mut tx, &row.id).await?;
        let orders = payments::orders_of(&mut tx, &row.id).await?;
        // Taken under the lock, and never before the declaration's last change: a history's times never go back.
        let now = OffsetDateTime::now_utc().max(parse_time(&row.updated_at)?);
        let context = Context {
            row: &row,
            money: &view,
            refunds: &refunds,
            orders: &orders,
            now,
            stamp: format!("r{}", row.revision),
        };
        let change = match decide(&context) {
            Ok(change) => change,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if change.is_empty() {
            return Ok(Ok(row));
        }
        if let Err(error) = loaded
            .apply(&mut tx, self.backend, change.opens, change.transfers, now)
            .await?
        {
            return Err(StoreError::LedgerRefused(error));
        }
        let previous_revision = row.revision;
        let previous_status = row.status;
        let now_text = format_time(now);
        // Rows alone (an order, a refund's approval) leave the declaration's row as it is.
        let touches_row = change.state.is_some()
            || !change.events.is_empty()
            || change.assessment.is_some()
            || change.version.is_some();
        if let Some(state) = &change.state {
            row.status = state.status;
            row.lane = state.lane;
            row.queue_key = queue_key(state.priority.as_ref(), row.serial);
            row.mrn = state.mrn.as_ref().map(|m| m.to_string());
            row.version = i64::from(state.version);
            row.state =
                serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if state.status == workflow::Status::Released && row.released_at.is_none() {
                row.released_at = Some(now_text.clone());
            }
        }
        row.revision += change.events.len() as i64;
        if let Some(assessment) = change.assessment {
            row.assessment = assessment;
        }
        let mut versions = Vec::new();
        if let Some(version) = change.version {
            row.format = version.format.clone();
            row.model = version.model.clone();
            versions.push(VersionRecord::new(
                &row.id,
                row.version,
                version,
                &now_text,
            )?);
        }
        if touches_row {
            row.updated_at = now_text;
        }
        let updated = if !touches_row {
            None
        } else {
            Some(sqlx::query(
            "UPDATE declarations SET status = $1, lane = $2, mrn = $3, version = $4, revision = $5, state = $6, \
             assessment = $7, format = $8, model = $9, released_at = $10, updated_at = $11, queue_key = $14 \
             WHERE id = $12 AND revision = $13",
        )
        .bind(row.status.as_str())
        .bind(row.lane.map(|l| l.as_str()))
        .bind(row.mrn.clone())
        .bind(row.version)
        .bind(row.revision)
        .bind(&row.state)
        .bind(row.assessment.clone())
        .bind(&row.format)
        .bind(&row.model)
        .bind(row.released_at.clone())
        .bind(&row.updated_at)
        .bind(&row.id)
        .bind(previous_revision)
        .bind(row.queue_key)
        .execute(&mut *tx)
        .await?)
        };
        if updated.is_some_and(|u| u.rows_affected() != 1) {
            return Err(StoreError::Concurrent(format!("declaration {}", row.id)));
        }
        let written = async {
            let mut entries = insert_versions(&mut tx, &versions).await?;
            entries.extend(
                insert_events(
                    &mut tx,
                    &event_records(&row.id, previous_revision, &change.events)?,
                )
                .await?,
            );
            for write in &change.writes {
                entries.extend(payments::write(&mut tx, write, now).await?);
            }
            // A declaration just put under control gets its examiner in the same transaction.
            if row.status == workflow::Status::UnderControl
                && previous_status != workflow::Status::UnderControl
            {
                entries.extend(payments::allocate_examiners(&mut tx, &[&row], now).await?);
            }
            // The agencies a released declaration waited for are told.
            if change
                .state
                .as_ref()
                .is_some_and(|s| s.status == workflow::Status::Released)
                && previous_status != workflow::Status::Released
            {
                single_window::tell_release(&mut tx, &row.id, now).await?;
            }
            // A declaration cancelled gives back what it drew from licences, permits and certificates.
            if change
                .state
                .as_ref()
                .is_some_and(|s| s.status == workflow::Status::Cancelled)
                && previous_status != workflow::Status::Cancelled
            {
                let actor = change
                    .events
                    .first()
                    .map(|e| Actor::new(e.actor.id.clone(), e.actor.role.clone()))
                    .unwrap_or_else(|| Actor::new("system", "system"));
                entries.extend(
                    single_window::give_back(&mut tx, self.backend, &row.id, &actor, now).await?,
                );
            }
            entries.extend(loaded.write(&mut tx, now).await?);
            audit_store::append(&mut tx, self.backend, entries).await?;
            Ok::<_, StoreError>(())
        }
        .await;
        match written {
            Ok(()) => {}
            Err(StoreError::Database(error)) => {
                return Err(StoreError::classify(
                    error,
                    &format!("a change to declaration {}", row.id),
                ));
            }
            Err(error) => return Err(error),
        }
        tx.commit()
            .await
            .map_err(|e| StoreError::classify(e, "the commit"))?;
        if let (Some(state), Some(released_at)) = (&change.state, &row.released_at)
            && state.status == workflow::Status::Released
            && *released_at == row.updated_at
        {
            observe::released(&row.lodged_at, released_at);
        }
        Ok(Ok(row))
    }

    /// The open payment order of a declaration, if any.
    pub async fn open_order(
        &self,
        declaration_id: &str,
    ) -> Result<Option<PaymentOrder>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        Ok(payments::orders_of(&mut connection, declaration_id)
            .await?
            .into_iter()
            .find(|o| o.status == OrderStatus::Open))
    }

    /// The open (requested) refund of a declaration, if any.
    pub async fn open_refund(&self, declaration_id: &str) -> Result<Option<Refund>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        Ok(payments::refunds_of(&mut connection, declaration_id)
            .await?
            .into_iter()
            .find(|r| r.status == RefundStatus::Requested))
    }

    /// The versions of a declaration, oldest first.
    pub async fn versions(&self, id: &str) -> Result<Vec<DeclarationVersion>, StoreError> {
        sqlx::query(
            "SELECT version, format, content_hash, document_sha256, received_at, received_by, received_role \
             FROM declaration_versions WHERE declaration_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DeclarationVersion {
                version: row.try_get("version")?,
                format: row.try_get("format")?,
                content_hash: row.try_get("content_hash")?,
                document_sha256: row.try_get("document_sha256")?,
                received_at: row.try_get("received_at")?,
                received_by: row.try_get("received_by")?,
                received_role: row.try_get("received_role")?,
            })
        })
        .collect()
    }

    /// Version `version` of a declaration: its description, the document as received, and its model.
    pub async fn version_document(
        &self,
        id: &str,
        version: i64,
    ) -> Result<Option<(DeclarationVersion, String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT version, format, content_hash, document_sha256, received_at, received_by, received_role, \
             document, model FROM declaration_versions WHERE declaration_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let document =
            decompress(&row.try_get::<Vec<u8>, _>("document")?).map_err(StoreError::Corrupt)?;
        Ok(Some((
            DeclarationVersion {
                version: row.try_get("version")?,
                format: row.try_get("format")?,
                content_hash: row.try_get("content_hash")?,
                document_sha256: row.try_get("document_sha256")?,
                received_at: row.try_get("received_at")?,
                received_by: row.try_get("received_by")?,
                received_role: row.try_get("received_role")?,
            },
            document,
            row.try_get("model")?,
        )))
    }

    pub async fn declaration(&self, id: &str) -> Result<Option<DeclarationRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DECLARATION_COLUMNS} FROM declarations WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| DeclarationRow::from_row(&r)).transpose()?)
    }

    pub async fn declaration_by_mrn(
        &self,
        mrn: &str,
    ) -> Result<Option<DeclarationRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DECLARATION_COLUMNS} FROM declarations WHERE mrn = $1"
        )))
        .bind(mrn)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| DeclarationRow::from_row(&r)).transpose()?)
    }

    /// Declarations matching `filter`, newest first, at most `filter.limit`. Only the conditions given are in
    /// the statement (each bound), so that each is answered by its index: a party's by (declarant, serial) and
    /// (representative, serial), each read newest first and merged; a status by (status, serial).
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<DeclarationRow>, StoreError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut next = |conditions: &mut Vec<String>, template: &str, value: String| {
            texts.push(value);
            conditions.push(template.replace('?', &format!("${}", texts.len())));
        };
        if let Some(status) = filter.status {
            next(&mut conditions, "status = ?", status.as_str().to_owned());
        }
        if let Some(lane) = filter.lane {
            next(&mut conditions, "lane = ?", lane.as_str().to_owned());
        }
        if let Some(from) = &filter.from {
            next(&mut conditions, "lodged_at >= ?", from.clone());
        }
        if let Some(to) = &filter.to {
            next(&mut conditions, "lodged_at < ?", to.clone());
        }
        // Dated lists are read by the day lodged, newest first (`lodged_at` then `serial`), so that a window of
        // a day or a month is one range of a (…, lodged_at) index whatever the serials; the cursor is still the
        // serial of the last row shown, continued after that row's lodging time.
        let dated = filter.from.is_some() || filter.to.is_some();
        let before = filter.before_serial.unwrap_or(i64::MAX);
        let mut cursor_at = None;
        if dated && let Some(serial) = filter.before_serial {
            cursor_at = sqlx::query("SELECT lodged_at FROM declarations WHERE serial = $1")
                .bind(serial)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get::<String, _>("lodged_at"))
                .transpose()?;
        }
        let at = cursor_at.map(|at| {
            texts.push(at);
            texts.len()
        });
        let serial = texts.len() + 1;
        let limit = serial + 1;
        match at {
            Some(at) => conditions.push(format!(
                "(lodged_at < ${at} OR (lodged_at = ${at} AND serial < ${serial}))"
            )),
            None => conditions.push(format!("serial < ${serial}")),
        }
        let order = if dated {
            "lodged_at DESC, serial DESC"
        } else {
            "serial DESC"
        };
        let party = limit + 1;
        let select = |by: Option<&str>| {
            let mut all = conditions.clone();
            if let Some(column) = by {
                all.push(format!("{column} = ${party}"));
            }
            format!(
                "SELECT {DECLARATION_COLUMNS} FROM declarations WHERE {} ORDER BY {order} LIMIT ${limit}",
                all.join(" AND ")
            )
        };
        let sql = if filter.party.is_some() {
            format!(
                "SELECT * FROM ({}) AS by_declarant UNION SELECT * FROM ({}) AS by_representative \
                 ORDER BY {order} LIMIT ${limit}",
                select(Some("declarant")),
                select(Some("representative"))
            )
        } else {
            select(None)
        };
        // Only placeholders and column names are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for text in &texts {
            query = query.bind(text.clone());
        }
        query = query.bind(before).bind(filter.limit);
        if let Some(party) = &filter.party {
            query = query.bind(party.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| DeclarationRow::from_row(r).map_err(StoreError::from))
            .collect()
    }

    /// An officer's queue: declarations of `filter.status` and `filter.lane` (at `filter.office`), by priority
    /// then oldest first, after the cursor `filter.after` (a row's `queue_key`): one range of the queue index.
    pub async fn queue(&self, filter: &QueueFilter) -> Result<Vec<DeclarationRow>, StoreError> {
        let office = if filter.office.is_some() {
            " AND office = $5"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {DECLARATION_COLUMNS} FROM declarations \
             WHERE status = $1 AND lane = $2 AND queue_key > $3{office} ORDER BY queue_key LIMIT $4"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.status.as_str())
            .bind(filter.lane.as_str())
            .bind(filter.after.unwrap_or(-1))
            .bind(filter.limit);
        if let Some(office) = &filter.office {
            query = query.bind(office.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| DeclarationRow::from_row(r).map_err(StoreError::from))
            .collect()
    }

    /// The event log of one declaration, in order.
    pub async fn events(&self, declaration_id: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, declaration_id, revision, type, at, actor, actor_role, reason, data FROM events \
             WHERE declaration_id = $1 ORDER BY revision",
        )
        .bind(declaration_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| -> Result<EventRow, StoreError> {
                Ok(EventRow {
                    seq: row.try_get("seq")?,
                    declaration_id: row.try_get("declaration_id")?,
                    revision: row.try_get("revision")?,
                    event_type: row.try_get("type")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    actor_role: row.try_get("actor_role")?,
                    reason: row.try_get("reason")?,
                    data: row.try_get("data")?,
                })
            })
            .collect()
    }

    /// The event types and times of declarations released in [from, to), with their grouping keys.
    /// The lane assignments and control results of declarations lodged in [`from`, `to`), oldest first, at most
    /// `limit` declarations: what the rule hit-rate report reads.
    pub async fn selection_histories(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<Vec<workflow::EventKind>>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, e.data FROM declarations d JOIN events e ON e.declaration_id = d.id \
             WHERE d.lodged_at >= $1 AND d.lodged_at < $2 AND e.type IN ('lane_assigned', 'control_recorded') \
             AND d.serial IN (SELECT serial FROM declarations WHERE lodged_at >= $1 AND lodged_at < $2 \
             ORDER BY serial LIMIT $3) ORDER BY d.serial, e.revision",
        )
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Vec<workflow::EventKind>> = Vec::new();
        let mut current: Option<String> = None;
        for row in rows {
            let id: String = row.try_get("id")?;
            if current.as_deref() != Some(id.as_str()) {
                out.push(Vec::new());
                current = Some(id);
            }
            let data: String = row.try_get("data")?;
            let event =
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.last_mut().expect("pushed above").push(event);
        }
        Ok(out)
    }

    pub async fn released_timelines(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<ReleasedTimeline>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.lane, d.office, d.transport_mode, e.type, e.at FROM declarations d \
             JOIN events e ON e.declaration_id = d.id \
             WHERE d.released_at >= $1 AND d.released_at < $2 AND d.serial IN \
               (SELECT serial FROM declarations WHERE released_at >= $1 AND released_at < $2 ORDER BY serial LIMIT $3) \
             ORDER BY d.serial, e.revision",
        )
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<ReleasedTimeline> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        for row in rows {
            let id: String = row.try_get("id")?;
            if current.as_deref() != Some(id.as_str()) {
                out.push(ReleasedTimeline {
                    lane: row.try_get("lane")?,
                    office: row.try_get("office")?,
                    transport_mode: row.try_get("transport_mode")?,
                    events: Vec::new(),
                    agencies: Vec::new(),
                });
                ids.push(id.clone());
                current = Some(id);
            }
            let last = out.last_mut().expect("pushed above");
            last.events.push((row.try_get("type")?, row.try_get("at")?));
        }
        // The agencies of those that waited for one (few): one query per declaration that has agency events.
        for (timeline, id) in out.iter_mut().zip(&ids) {
            if !timeline
                .events
                .iter()
                .any(|(kind, _)| kind == "agency_awaited")
            {
                continue;
            }
            let rows = sqlx::query(
                "SELECT agency, held_at, decided_at FROM agency_holds WHERE declaration_id = $1 ORDER BY agency",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                timeline.agencies.push((
                    row.try_get("agency")?,
                    row.try_get("held_at")?,
                    row.try_get("decided_at")?,
                ));
            }
        }
        Ok(out)
    }

    /// What operators watch, read from the database so that every server of a cluster reports the same:
    /// declarations by status and lane, the audit chain's length, the work waiting (open payment orders, refunds
    /// awaiting approval), and this process's writer queues.
    pub async fn operations(&self) -> Result<Operations, StoreError> {
        let rows = sqlx::query(
            "SELECT status, lane, COUNT(*) AS n FROM declarations GROUP BY status, lane ORDER BY status, lane",
        )
        .fetch_all(&self.pool)
        .await?;
        let corrupt = |what: String| StoreError::Corrupt(what);
        let mut declarations = Vec::with_capacity(rows.len());
        for row in &rows {
            let status: String = row.try_get("status")?;
            let lane: Option<String> = row.try_get("lane")?;
            declarations.push((
                workflow::Status::parse(&status)
                    .ok_or_else(|| corrupt(format!("status {status:?}")))?,
                lane.map(|l| {
                    selectivity::Lane::parse(&l).ok_or_else(|| corrupt(format!("lane {l:?}")))
                })
                .transpose()?,
                row.try_get("n")?,
            ));
        }
        let count = |sql: &'static str, status: &'static str| {
            let pool = self.pool.clone();
            async move {
                let row = sqlx::query(sql).bind(status).fetch_one(&pool).await?;
                Ok::<i64, StoreError>(row.try_get("n")?)
            }
        };
        let audit_entries: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let queued = |sender: Option<usize>| sender.unwrap_or(0);
        Ok(Operations {
            declarations,
            audit_entries,
            open_payment_orders: count(
                "SELECT COUNT(*) AS n FROM payment_orders WHERE status = $1",
                OrderStatus::Open.as_str(),
            )
            .await?,
            refunds_awaiting_approval: count(
                "SELECT COUNT(*) AS n FROM refunds WHERE status = $1",
                RefundStatus::Requested.as_str(),
            )
            .await?,
            lodgement_writer_queue: queued(
                self.writer
                    .as_ref()
                    .map(|w| w.max_capacity() - w.capacity()),
            ),
            ledger_writer_queue: queued(
                self.ledger_writer
                    .as_ref()
                    .map(|w| w.max_capacity() - w.capacity()),
            ),
        })
    }
}

/// See [`Store::operations`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Operations {
    /// (status, lane, count); a lane of `None` for declarations not yet through selectivity.
    pub declarations: Vec<(workflow::Status, Option<selectivity::Lane>, i64)>,
    pub audit_entries: i64,
    pub open_payment_orders: i64,
    pub refunds_awaiting_approval: i64,
    /// Lodgements waiting for the SQLite writer of this process (0 on PostgreSQL, which has none).
    pub lodgement_writer_queue: usize,
    /// Ledger jobs waiting for the SQLite ledger writer of this process.
    pub ledger_writer_queue: usize,
}

async fn existing(
    executor: &mut sqlx::AnyConnection,
    declarant: &str,
    lrn: &str,
    hash: &str,
) -> Result<Option<Lodged>, StoreError> {
    let row = sqlx::query("SELECT id, content_hash, lodge_response FROM declarations WHERE declarant = $1 AND lrn = $2")
        .bind(declarant)
        .bind(lrn)
        .fetch_optional(&mut *executor)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let stored_hash: String = row.try_get("content_hash")?;
    Ok(Some(if stored_hash == hash {
        Lodged::Replayed {
            response: row.try_get("lodge_response")?,
        }
    } else {
        Lodged::Conflict {
            existing_id: row.try_get("id")?,
        }
    }))
}

/// A database URL as users write it, made ready for the driver: `sqlite://PATH` (or `sqlite:PATH`) creates the file
/// when it does not exist (`mode=rwc`, unless a mode is given), and its folder must exist; a URL the driver cannot
/// read is refused with a sentence.
pub fn database_url(url: &str, backend: Backend) -> Result<String, StoreError> {
    match backend {
        Backend::Postgres => Ok(url.to_owned()),
        Backend::Sqlite => {
            let rest = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or_default();
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(StoreError::UnsupportedUrl(format!(
                    "{url} names no file: write sqlite://PATH, e.g. sqlite://data/aduana.db"
                )));
            }
            if path != ":memory:" {
                let folder = std::path::Path::new(path)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty());
                if let Some(folder) = folder
                    && !folder.is_dir()
                {
                    return Err(StoreError::Unavailable(format!(
                        "the folder {} of the SQLite database does not exist: create it first, or name a file in an \
                         existing folder",
                        folder.display()
                    )));
                }
            }
            let has_mode = query.split('&').any(|p| p.starts_with("mode="));
            Ok(match (query.is_empty(), has_mode) {
                (true, _) => format!("sqlite://{path}?mode=rwc"),
                (false, true) => format!("sqlite://{path}?{query}"),
                (false, false) => format!("sqlite://{path}?{query}&mode=rwc"),
            })
        }
    }
}

/// A URL with any password replaced, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The largest batch the SQLite writer commits at once, and the most lodgements waiting for it.
pub const MAX_BATCH: usize = 128;
pub const MAX_QUEUED_LODGEMENTS: usize = 4096;

/// The original document is stored zstd-compressed: the HMRC samples shrink about 3:1, and the SQLite writer's time
/// goes with the bytes it writes. Level 1 is the fastest; compression happens on the handler's task.
fn compress(document: &str) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(document.as_bytes(), 1)
        .map_err(|e| StoreError::Corrupt(format!("compressing a document: {e}")))
}

/// Most bytes a stored document may decompress to (the API refuses larger bodies long before).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

fn decompress(compressed: &[u8]) -> Result<String, String> {
    let bytes = zstd::bulk::decompress(compressed, MAX_DOCUMENT_BYTES)
        .map_err(|e| format!("decompressing a document: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("a stored document is not UTF-8: {e}"))
}

/// The columns of a declaration row, in `DeclarationRow::from_row`'s names.
const DECLARATION_COLUMNS: &str = "id, serial, declarant, representative, lrn, mrn, status, lane, office, \
    transport_mode, declaration_type, version, revision, content_hash, format, model, state, assessment, \
    lodge_response, lodged_at, updated_at, released_at, queue_key";

/// Begins a writing transaction (`BEGIN IMMEDIATE` on SQLite: see [`Store::begin_write`]).
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    let begun = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    };
    begun.map_err(|e| StoreError::classify(e, "a transaction"))
}

/// A lodgement waiting for the SQLite writer: everything that needs no decision is ready; the writer decides
/// against the ledger as the batch has left it, then writes.
struct LodgeJob {
    new: NewDeclaration,
    /// The document, compressed.
    document: Vec<u8>,
    serial: i64,
    now: OffsetDateTime,
    decide: Box<dyn FnOnce(&str, u64, &Money, &lpco::Held) -> Decided + Send>,
    reply: tokio::sync::oneshot::Sender<Result<Lodged, StoreError>>,
}

/// The SQLite writer: takes the lodgements waiting (up to MAX_BATCH), decides and stores them in one transaction,
/// commits once, then answers each. Holds the write lock while it writes, so other writes wait. A panic in one
/// decision fails that lodgement alone; a panic or error in writing fails the batch, and the writer goes on with
/// the next one.
async fn sqlite_writer(
    pool: AnyPool,
    lock: Arc<Mutex<()>>,
    mut jobs: tokio::sync::mpsc::Receiver<LodgeJob>,
) {
    use futures_util::FutureExt;
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let guard = lock.lock().await;
        let size = batch.len();
        let started = std::time::Instant::now();
        let mut replies = Vec::with_capacity(size);
        let mut work = Vec::with_capacity(size);
        for job in batch {
            replies.push(job.reply);
            work.push((job.new, job.document, job.serial, job.now, job.decide));
        }
        let result = std::panic::AssertUnwindSafe(write_batch(&pool, work))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the batch panicked".into())));
        tracing::debug!(
            size,
            elapsed_us = started.elapsed().as_micros() as u64,
            "lodgement batch written"
        );
        observe::batch("lodgements", size, started, result.is_ok());
        drop(guard);
        match result {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    if let Ok(lodged) = &answer {
                        lodged.observe_release();
                    }
                    let _ = reply.send(answer);
                }
            }
            Err(error) => {
                tracing::error!(%error, size, "lodgement batch failed; nothing in it was stored");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(format!(
                        "the batch failed: {error}"
                    ))));
                }
            }
        }
    }
}

type Work = (
    NewDeclaration,
    Vec<u8>,
    i64,
    OffsetDateTime,
    Box<dyn FnOnce(&str, u64, &Money, &lpco::Held) -> Decided + Send>,
);

async fn write_batch(
    pool: &AnyPool,
    work: Vec<Work>,
) -> Result<Vec<Result<Lodged, StoreError>>, StoreError> {
    let mut tx = begin_write(pool, Backend::Sqlite).await?;
    // The serials were handed out in memory; the counter keeps the highest, for the next start.
    let highest = work.iter().map(|w| w.2).max().unwrap_or(0);
    sqlx::query("UPDATE counters SET value = MAX(value, $1) WHERE name = 'declaration_serial'")
        .bind(highest)
        .execute(&mut *tx)
        .await?;
    // What is already stored under the batch's (declarant, LRN) keys, in one query per chunk.
    let mut known: std::collections::HashMap<(String, String), (String, String, String)> =
        std::collections::HashMap::new();
    let keys: Vec<(String, String)> = work
        .iter()
        .map(|w| (w.0.declarant.clone(), w.0.lrn.clone()))
        .collect();
    for chunk in keys.chunks(MAX_ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT declarant, lrn, id, content_hash, lodge_response FROM declarations WHERE (declarant, lrn) IN (VALUES {})",
            placeholders(chunk.len(), 2)
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (declarant, lrn) in chunk {
            query = query.bind(declarant.as_str()).bind(lrn.as_str());
        }
        for row in query.fetch_all(&mut *tx).await? {
            known.insert(
                (row.try_get("declarant")?, row.try_get("lrn")?),
                (
                    row.try_get("id")?,
                    row.try_get("content_hash")?,
                    row.try_get("lodge_response")?,
                ),
            );
        }
    }
    let mut loaded = money::Loaded::default();
    let mut held = lpco::Held::default();
    let mut draws = Vec::new();
    let mut answers = Vec::with_capacity(work.len());
    let mut prepared_rows = Vec::new();
    let mut versions = Vec::new();
    let mut cargoes: Vec<(String, manifest::discharge::DeclaredCargo)> = Vec::new();
    let mut events = Vec::new();
    let mut now_of_batch = None;
    for (new, document, serial, now, decide) in work {
        now_of_batch = Some(now_of_batch.map_or(now, |n: OffsetDateTime| n.max(now)));
        let key = (new.declarant.clone(), new.lrn.clone());
        // A key seen before — stored, or earlier in this batch — is a replay or a conflict: nothing is decided,
        // nothing moves, and its serial stays unused.
        if let Some((id, hash, response)) = known.get(&key) {
            answers.push(Ok(if *hash == new.content_hash {
                Lodged::Replayed {
                    response: response.clone(),
                }
            } else {
                Lodged::Conflict {
                    existing_id: id.clone(),
                }
            }));
            continue;
        }
        let ledger_key = ledger::customs::declaration_key(&new.declarant, &new.lrn);
        let view = loaded
            .money(&mut tx, Backend::Sqlite, &ledger_key, &new.accounts)
            .await?;
        let (codes, named) = new.cited_keys();
        single_window::load_held(&mut tx, Backend::Sqlite, &mut held, &codes, &named).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            decide(&id, u64::try_from(serial).unwrap_or_default(), &view, &held)
        }));
        let decided = match decided {
            Ok(decided) => decided,
            Err(_) => {
                tracing::error!(lrn = %new.lrn, "a lodgement's decision panicked; it alone is refused");
                answers.push(Err(StoreError::Corrupt("the decision failed".into())));
                continue;
            }
        };
        // The draws as the documents stand after this batch's earlier lodgements; kept only if its money is.
        let mut after = None;
        if !decided.draws.is_empty() {
            let mut next = held.clone();
            if let Err(error) = next.replay(&decided.draws) {
                tracing::error!(%error, "a lodgement's draws do not fit the documents");
                answers.push(Err(StoreError::Corrupt(format!(
                    "a lodgement's draws: {error}"
                ))));
                continue;
            }
            after = Some(next);
        }
        let actor = new.received_by.clone();
        let prepared = match prepare(id, serial, new, document, now, decided) {
            Ok(prepared) => prepared,
            Err(error) => {
                answers.push(Err(error));
                continue;
            }
        };
        if let Err(error) = loaded
            .apply(
                &mut tx,
                Backend::Sqlite,
                prepared.opens.clone(),
                prepared.transfers.clone(),
                now,
            )
            .await?
        {
            // The decision asked for more than the ledger allows (it should not): this lodgement alone fails.
            tracing::error!(%error, "a lodgement's money was refused by the ledger");
            answers.push(Err(StoreError::LedgerRefused(error)));
            continue;
        }
        if let Some(next) = after {
            held = next;
        }
        draws.extend(
            prepared
                .draws
                .iter()
                .map(|d| (prepared.row.id.clone(), actor.clone(), d.clone())),
        );
        known.insert(
            key,
            (
                prepared.row.id.clone(),
                prepared.row.content_hash.clone(),
                prepared.row.lodge_response.clone(),
            ),
        );
        events.extend(prepared.events);
        versions.push(prepared.version);
        if let Some(cargo) = prepared.cargo {
            cargoes.push((prepared.row.id.clone(), cargo));
        }
        answers.push(Ok(Lodged::Created {
            row: Box::new(prepared.row.clone()),
        }));
        prepared_rows.push(prepared.row);
    }
    let mut entries = Vec::new();
    insert_rows(&mut tx, &prepared_rows).await?;
    discharge_store::insert_cargo(
        &mut tx,
        &cargoes
            .iter()
            .map(|(id, cargo)| (id.as_str(), cargo))
            .collect::<Vec<_>>(),
    )
    .await?;
    entries.extend(
        payments::allocate_examiners(
            &mut tx,
            &prepared_rows.iter().collect::<Vec<_>>(),
            now_of_batch.unwrap_or_else(OffsetDateTime::now_utc),
        )
        .await?,
    );
    entries.extend(insert_versions(&mut tx, &versions).await?);
    entries.extend(insert_events(&mut tx, &events).await?);
    entries.extend(
        loaded
            .write(
                &mut tx,
                now_of_batch.unwrap_or_else(OffsetDateTime::now_utc),
            )
            .await?,
    );
    entries.extend(
        single_window::write_draws(
            &mut tx,
            &held,
            &draws,
            now_of_batch.unwrap_or_else(OffsetDateTime::now_utc),
        )
        .await?,
    );
    audit_store::append(&mut tx, Backend::Sqlite, entries).await?;
    tx.commit().await?;
    Ok(answers)
}

/// Most rows one multi-row statement carries. Small and fixed: a batch's statements then have a few shapes that
/// stay in the prepared-statement cache, where one statement per batch (a new shape each time) is prepared
/// afresh — measured, preparing statements of hundreds of rows was most of the SQLite writer's time
/// (BENCHMARKS.md, "One commit per lodgement").
pub(crate) const MAX_ROWS_PER_STATEMENT: usize = 16;

/// A decided lodgement, ready to write.
struct Prepared {
    row: DeclarationRow,
    version: VersionRecord,
    events: Vec<EventRecord>,
    opens: Vec<revenue::Opening>,
    transfers: Vec<ledger::Transfer>,
    draws: Vec<lpco::Draw>,
    cargo: Option<manifest::discharge::DeclaredCargo>,
}

/// Builds the row, first version and event records of a decided lodgement.
fn prepare(
    id: String,
    serial: i64,
    new: NewDeclaration,
    document: Vec<u8>,
    now: OffsetDateTime,
    decided: Decided,
) -> Result<Prepared, StoreError> {
    let state = &decided.state;
    let cargo = new.cargo;
    let now_text = format_time(now);
    let released_at = (state.status == workflow::Status::Released).then(|| now_text.clone());
    let version = VersionRecord {
        declaration_id: id.clone(),
        version: 1,
        format: new.format.clone(),
        document_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            new.document.as_bytes(),
        )),
        document,
        model: new.model.clone(),
        content_hash: new.content_hash.clone(),
        received_at: now_text.clone(),
        received_by: new.received_by.clone(),
    };
    let row = DeclarationRow {
        id: id.clone(),
        serial,
        declarant: new.declarant,
        representative: new.representative,
        lrn: new.lrn,
        mrn: state.mrn.as_ref().map(|m| m.to_string()),
        status: state.status,
        lane: state.lane,
        office: new.office,
        transport_mode: new.transport_mode,
        declaration_type: new.declaration_type,
        version: i64::from(state.version),
        revision: decided.events.len() as i64,
        content_hash: new.content_hash,
        format: new.format,
        model: new.model,
        state: serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        assessment: decided.assessment,
        lodge_response: decided.response,
        lodged_at: now_text.clone(),
        updated_at: now_text,
        released_at,
        queue_key: queue_key(state.priority.as_ref(), serial),
    };
    let events = event_records(&id, 0, &decided.events)?;
    Ok(Prepared {
        row,
        version,
        events,
        opens: decided.opens,
        transfers: decided.transfers,
        draws: decided.draws,
        cargo,
    })
}

/// One version of a declaration, ready to insert.
struct VersionRecord {
    declaration_id: String,
    version: i64,
    format: String,
    /// Compressed.
    document: Vec<u8>,
    document_sha256: String,
    model: String,
    content_hash: String,
    received_at: String,
    received_by: Actor,
}

impl VersionRecord {
    fn new(id: &str, version: i64, new: NewVersion, at: &str) -> Result<VersionRecord, StoreError> {
        Ok(VersionRecord {
            declaration_id: id.to_owned(),
            version,
            format: new.format,
            document_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                new.document.as_bytes(),
            )),
            document: compress(&new.document)?,
            model: new.model,
            content_hash: new.content_hash,
            received_at: at.to_owned(),
            received_by: new.received_by,
        })
    }

    /// The bytes its audit entry hashes: every column but the compressed document, whose SHA-256 stands for it.
    #[allow(clippy::too_many_arguments)]
    fn audit_data(
        declaration_id: &str,
        version: i64,
        format: &str,
        document_sha256: &str,
        model: &str,
        content_hash: &str,
        received_at: &str,
        received_by: &str,
        received_role: &str,
    ) -> Vec<u8> {
        audit_store::canonical(&[
            declaration_id,
            &version.to_string(),
            format,
            document_sha256,
            &audit::data_hash(model.as_bytes()),
            content_hash,
            received_at,
            received_by,
            received_role,
        ])
    }
}

/// The bytes a version's audit entry hashes (see `VersionRecord::audit_data`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn version_audit_data(
    declaration_id: &str,
    version: i64,
    format: &str,
    document_sha256: &str,
    model: &str,
    content_hash: &str,
    received_at: &str,
    received_by: &str,
    received_role: &str,
) -> Vec<u8> {
    VersionRecord::audit_data(
        declaration_id,
        version,
        format,
        document_sha256,
        model,
        content_hash,
        received_at,
        received_by,
        received_role,
    )
}

/// The subject of a declaration version in the audit trail.
pub(crate) fn version_subject(declaration_id: &str, version: i64) -> String {
    format!("declaration/{declaration_id}/version/{version:04}")
}

/// Inserts versions; returns their audit entries.
async fn insert_versions(
    tx: &mut sqlx::AnyConnection,
    versions: &[VersionRecord],
) -> Result<Vec<audit::NewEntry>, StoreError> {
    let mut entries = Vec::with_capacity(versions.len());
    for chunk in versions.chunks(MAX_ROWS_PER_STATEMENT) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "INSERT INTO declaration_versions (declaration_id, version, format, document, document_sha256, model, \
             content_hash, received_at, received_by, received_role) VALUES {}",
            placeholders(chunk.len(), 10)
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in chunk {
            query = query
                .bind(v.declaration_id.as_str())
                .bind(v.version)
                .bind(v.format.as_str())
                .bind(v.document.as_slice())
                .bind(v.document_sha256.as_str())
                .bind(v.model.as_str())
                .bind(v.content_hash.as_str())
                .bind(v.received_at.as_str())
                .bind(v.received_by.id.as_str())
                .bind(v.received_by.role.as_str());
            entries.push(audit::NewEntry {
                at: v.received_at.clone(),
                actor: v.received_by.id.clone(),
                actor_role: v.received_by.role.clone(),
                action: audit::Action::DeclarationVersion.as_str().to_owned(),
                subject: version_subject(&v.declaration_id, v.version),
                data_hash: audit::data_hash(&VersionRecord::audit_data(
                    &v.declaration_id,
                    v.version,
                    &v.format,
                    &v.document_sha256,
                    &v.model,
                    &v.content_hash,
                    &v.received_at,
                    &v.received_by.id,
                    &v.received_by.role,
                )),
            });
        }
        query.execute(&mut *tx).await?;
    }
    Ok(entries)
}

/// Migration 11: the documents of declarations stored before versions existed become their current version (the
/// earlier ones were overwritten by amendments then and are lost); recorded in the trail.
async fn copy_versions(tx: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT id, version, format, document, model, content_hash, updated_at FROM declarations ORDER BY serial",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let compressed: Vec<u8> = row.try_get("document")?;
        let document = decompress(&compressed).map_err(StoreError::Corrupt)?;
        records.push(VersionRecord {
            declaration_id: row.try_get("id")?,
            version: row.try_get("version")?,
            format: row.try_get("format")?,
            document_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                document.as_bytes(),
            )),
            document: compressed,
            model: row.try_get("model")?,
            content_hash: row.try_get("content_hash")?,
            received_at: row.try_get("updated_at")?,
            received_by: Actor::new("migration", "system"),
        });
    }
    if !records.is_empty() {
        tracing::info!(
            declarations = records.len(),
            "documents moved to declaration_versions"
        );
    }
    let entries = insert_versions(&mut *tx, &records).await?;
    audit_store::append(&mut *tx, backend, entries).await?;
    Ok(())
}

/// `($1, $2), ($3, $4), …`: the placeholders of `rows` tuples of `columns` values, for a multi-row statement.
/// Only placeholders are formatted into SQL; every value is bound.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|i| {
            let values: Vec<String> = (1..=columns)
                .map(|c| format!("${}", i * columns + c))
                .collect();
            format!("({})", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts declaration rows, several per statement.
async fn insert_rows(
    tx: &mut sqlx::AnyConnection,
    rows: &[DeclarationRow],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 23;
    for chunk in rows.chunks(MAX_ROWS_PER_STATEMENT) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "INSERT INTO declarations ({DECLARATION_COLUMNS}) VALUES {}",
            placeholders(chunk.len(), COLUMNS)
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.id.as_str())
                .bind(row.serial)
                .bind(row.declarant.as_str())
                .bind(row.representative.as_deref())
                .bind(row.lrn.as_str())
                .bind(row.mrn.as_deref())
                .bind(row.status.as_str())
                .bind(row.lane.map(|l| l.as_str()))
                .bind(row.office.as_deref())
                .bind(row.transport_mode.as_deref())
                .bind(row.declaration_type.as_str())
                .bind(row.version)
                .bind(row.revision)
                .bind(row.content_hash.as_str())
                .bind(row.format.as_str())
                .bind(row.model.as_str())
                .bind(row.state.as_str())
                .bind(row.assessment.as_deref())
                .bind(row.lodge_response.as_str())
                .bind(row.lodged_at.as_str())
                .bind(row.updated_at.as_str())
                .bind(row.released_at.as_deref())
                .bind(row.queue_key);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// One row of the event log, serialized and ready to insert.
struct EventRecord {
    declaration_id: String,
    revision: i64,
    event_type: &'static str,
    at: String,
    actor: String,
    actor_role: String,
    reason: String,
    data: String,
}

/// The rows for `events` appended to a declaration whose log ends at `previous_revision`.
fn event_records(
    declaration_id: &str,
    previous_revision: i64,
    events: &[workflow::Event],
) -> Result<Vec<EventRecord>, StoreError> {
    events
        .iter()
        .enumerate()
        .map(|(offset, event)| {
            Ok(EventRecord {
                declaration_id: declaration_id.to_owned(),
                revision: previous_revision + offset as i64 + 1,
                event_type: event.kind.type_name(),
                at: format_time(event.at),
                actor: event.actor.id.clone(),
                actor_role: event.actor.role.clone(),
                reason: event.reason.clone(),
                data: serde_json::to_string(&event.kind)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })
        })
        .collect()
}

/// Appends event rows, many per statement; returns their entries for the audit trail (appended last by the caller:
/// see `audit_store`).
async fn insert_events(
    tx: &mut sqlx::AnyConnection,
    records: &[EventRecord],
) -> Result<Vec<audit::NewEntry>, StoreError> {
    // The Single Window's holds follow their events (rare: nothing is done for the others).
    for record in records {
        if matches!(record.event_type, "agency_awaited" | "agency_decided") {
            single_window::follow_agency_event(
                tx,
                &record.declaration_id,
                record.event_type,
                &record.data,
                &record.at,
            )
            .await?;
        }
    }
    for chunk in records.chunks(MAX_ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO events (declaration_id, revision, type, at, actor, actor_role, reason, data) VALUES {}",
            placeholders(chunk.len(), 8)
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for record in chunk {
            query = query
                .bind(record.declaration_id.as_str())
                .bind(record.revision)
                .bind(record.event_type)
                .bind(record.at.as_str())
                .bind(record.actor.as_str())
                .bind(record.actor_role.as_str())
                .bind(record.reason.as_str())
                .bind(record.data.as_str());
        }
        query.execute(&mut *tx).await?;
    }
    let entries = records
        .iter()
        .map(|record| {
            let columns = audit_store::EventColumns {
                declaration_id: &record.declaration_id,
                revision: record.revision,
                event_type: record.event_type,
                at: &record.at,
                actor: &record.actor,
                actor_role: &record.actor_role,
                reason: &record.reason,
                data: &record.data,
            };
            audit::NewEntry {
                at: record.at.clone(),
                actor: record.actor.clone(),
                actor_role: record.actor_role.clone(),
                action: audit::Action::DeclarationEvent.as_str().to_owned(),
                subject: audit_store::event_subject(&record.declaration_id, record.revision),
                data_hash: audit::data_hash(&audit_store::event_data(&columns)),
            }
        })
        .collect();
    Ok(entries)
}
