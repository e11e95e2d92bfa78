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

mod audit_store;
mod cargo_store;
mod ledger_store;
mod payments;
mod risk_store;
mod security;
pub use audit_store::{Actor, AuditReport, entry as audit_entry};
pub use cargo_store::{CargoReportRow, NewCargoReport};
pub use ledger_store::TransferOutcome;
pub use payments::{Confirmation, ConfirmationRecorded, PaymentOrder, Refund};
pub use risk_store::{NewRiskDocument, RiskDocument};
pub use security::{NewUser, Session, Token, UserChange};

use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
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
    pub status: String,
    pub lane: Option<String>,
    pub office: Option<String>,
    pub transport_mode: Option<String>,
    pub declaration_type: String,
    pub version: i64,
    pub revision: i64,
    pub content_hash: String,
    pub format: String,
    pub document: String,
    pub model: String,
    pub state: String,
    pub assessment: Option<String>,
    pub lodge_response: String,
    pub lodged_at: String,
    pub updated_at: String,
    pub released_at: Option<String>,
}

impl DeclarationRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            serial: row.try_get("serial")?,
            declarant: row.try_get("declarant")?,
            representative: row.try_get("representative")?,
            lrn: row.try_get("lrn")?,
            mrn: row.try_get("mrn")?,
            status: row.try_get("status")?,
            lane: row.try_get("lane")?,
            office: row.try_get("office")?,
            transport_mode: row.try_get("transport_mode")?,
            declaration_type: row.try_get("declaration_type")?,
            version: row.try_get("version")?,
            revision: row.try_get("revision")?,
            content_hash: row.try_get("content_hash")?,
            format: row.try_get("format")?,
            document: decompress(&row.try_get::<Vec<u8>, _>("document")?)
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            model: row.try_get("model")?,
            state: row.try_get("state")?,
            assessment: row.try_get("assessment")?,
            lodge_response: row.try_get("lodge_response")?,
            lodged_at: row.try_get("lodged_at")?,
            updated_at: row.try_get("updated_at")?,
            released_at: row.try_get("released_at")?,
        })
    }

    /// The lifecycle state stored with the row.
    pub fn workflow_state(&self) -> Result<workflow::State, StoreError> {
        serde_json::from_str(&self.state)
            .map_err(|e| StoreError::Corrupt(format!("state of {}: {e}", self.id)))
    }
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
}

/// What the pipeline decided for a new declaration, given its id and serial.
pub struct Decided {
    pub events: Vec<workflow::Event>,
    pub state: workflow::State,
    pub assessment: Option<String>,
    /// The answer to the lodgement request, stored so that a repeat gets exactly the same answer.
    pub response: String,
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

/// A change to an existing declaration, decided from its current row.
pub struct Change {
    pub events: Vec<workflow::Event>,
    pub state: workflow::State,
    /// `Some` to replace the stored assessment.
    pub assessment: Option<Option<String>>,
    /// `Some((format, document, model, content hash))` for an amendment.
    pub document: Option<(String, String, String)>,
}

/// Filters for listing declarations.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only declarations where this party is declarant or representative (traders).
    pub party: Option<String>,
    pub status: Option<String>,
    pub lane: Option<String>,
    /// Lodged at or after (RFC 3339 text).
    pub from: Option<String>,
    /// Lodged before (RFC 3339 text).
    pub to: Option<String>,
    /// Only serials below this (the cursor).
    pub before_serial: Option<i64>,
    pub limit: i64,
}

/// One released declaration's events, for the Time Release Study.
pub struct ReleasedTimeline {
    pub lane: Option<String>,
    pub office: Option<String>,
    pub transport_mode: Option<String>,
    pub events: Vec<(String, String)>,
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
];

/// Kinds of reference file the administration imports.
pub mod reference {
    pub const MEASURES: &str = "measures";
    pub const NOMENCLATURE: &str = "nomenclature";
    pub const NATIONAL_NOMENCLATURE: &str = "national_nomenclature";
    pub const EXCHANGE_RATES: &str = "exchange_rates";
    pub const KINDS: &[&str] = &[
        MEASURES,
        NOMENCLATURE,
        NATIONAL_NOMENCLATURE,
        EXCHANGE_RATES,
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
        let pool = options.connect(url).await?;
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
            let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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
            "reference.import",
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

    /// Stores a new declaration with the events `decide` returns for its id and serial; or replays the first
    /// answer for the same document, or reports a conflict for another document under the same (declarant, LRN).
    ///
    /// The answer comes only after the transaction holding the declaration has committed. On SQLite, concurrent
    /// lodgements are grouped into one transaction by the writer task (group commit: one sync for the batch); a
    /// batch commits or fails as a whole, and a failed batch acknowledges nothing, so clients retry (safely: the
    /// lodgement is idempotent).
    pub async fn lodge(
        &self,
        new: NewDeclaration,
        now: OffsetDateTime,
        decide: impl FnOnce(&str, u64) -> Decided + Send + 'static,
    ) -> Result<Lodged, StoreError> {
        match (&self.writer, &self.serials) {
            (Some(writer), Some(serials)) => {
                // Everything but the SQL happens here, on the caller's task, so that the single writer only writes.
                let serial = serials.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                let (row, events) = build_row(serial, new, now, decide)?;
                let events = event_records(&row.id, 0, &events)?;
                let document = compress(&row.document)?;
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job = LodgeJob {
                    row: Box::new(row),
                    document,
                    events,
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
        decide: impl FnOnce(&str, u64) -> Decided,
    ) -> Result<Lodged, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        let (row, events) = build_row(serial, new, now, decide)?;
        let document = compress(&row.document)?;
        let inserted = match insert_rows(
            &mut tx,
            std::slice::from_ref(&row),
            std::slice::from_ref(&document),
        )
        .await
        {
            Ok(()) => {
                insert_events(&mut tx, self.backend, &event_records(&row.id, 0, &events)?).await
            }
            Err(error) => Err(error),
        };
        match inserted {
            Ok(()) => {
                tx.commit().await?;
                Ok(Lodged::Created { row: Box::new(row) })
            }
            Err(StoreError::Database(error))
                if error
                    .as_database_error()
                    .is_some_and(|e| e.is_unique_violation()) =>
            {
                // A concurrent lodgement of the same (declarant, LRN) won the race: answer as it decided.
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

    /// Applies a change decided from the current row, in one transaction that locks the row. `decide` returning
    /// an error leaves everything unchanged.
    pub async fn update<E>(
        &self,
        id: &str,
        now: OffsetDateTime,
        decide: impl FnOnce(&DeclarationRow) -> Result<Change, E>,
    ) -> Result<Result<DeclarationRow, E>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.pool.begin().await?;
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT id, serial, declarant, representative, lrn, mrn, status, lane, office, transport_mode, \
                declaration_type, version, revision, content_hash, format, document, model, state, assessment, lodge_response, \
                lodged_at, updated_at, released_at FROM declarations WHERE id = $1"
            }
            Backend::Postgres => {
                "SELECT id, serial, declarant, representative, lrn, mrn, status, lane, office, transport_mode, \
                declaration_type, version, revision, content_hash, format, document, model, state, assessment, lodge_response, \
                lodged_at, updated_at, released_at FROM declarations WHERE id = $1 FOR UPDATE"
            }
        };
        let Some(row) = sqlx::query(sql).bind(id).fetch_optional(&mut *tx).await? else {
            return Err(StoreError::Corrupt(format!("declaration {id} vanished")));
        };
        let mut row = DeclarationRow::from_row(&row)?;
        let change = match decide(&row) {
            Ok(change) => change,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let previous_revision = row.revision;
        let now_text = format_time(now);
        row.status = change.state.status.as_str().to_owned();
        row.lane = change.state.lane.map(|l| l.as_str().to_owned());
        row.mrn = change.state.mrn.as_ref().map(|m| m.to_string());
        row.version = i64::from(change.state.version);
        row.revision += change.events.len() as i64;
        row.state =
            serde_json::to_string(&change.state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some(assessment) = change.assessment {
            row.assessment = assessment;
        }
        if let Some((format, document, model)) = change.document {
            row.format = format;
            row.document = document;
            row.model = model;
        }
        if change.state.status == workflow::Status::Released && row.released_at.is_none() {
            row.released_at = Some(now_text.clone());
        }
        row.updated_at = now_text;
        sqlx::query(
            "UPDATE declarations SET status = $1, lane = $2, mrn = $3, version = $4, revision = $5, state = $6, \
             assessment = $7, format = $8, document = $9, model = $10, released_at = $11, updated_at = $12 \
             WHERE id = $13 AND revision = $14",
        )
        .bind(&row.status)
        .bind(row.lane.clone())
        .bind(row.mrn.clone())
        .bind(row.version)
        .bind(row.revision)
        .bind(&row.state)
        .bind(row.assessment.clone())
        .bind(&row.format)
        .bind(compress(&row.document)?)
        .bind(&row.model)
        .bind(row.released_at.clone())
        .bind(&row.updated_at)
        .bind(&row.id)
        .bind(previous_revision)
        .execute(&mut *tx)
        .await?;
        insert_events(
            &mut tx,
            self.backend,
            &event_records(id, previous_revision, &change.events)?,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(row))
    }

    pub async fn declaration(&self, id: &str) -> Result<Option<DeclarationRow>, StoreError> {
        let sql = "SELECT id, serial, declarant, representative, lrn, mrn, status, lane, office, transport_mode, \
            declaration_type, version, revision, content_hash, format, document, model, state, assessment, lodge_response, \
            lodged_at, updated_at, released_at FROM declarations WHERE id = $1";
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| DeclarationRow::from_row(&r)).transpose()?)
    }

    pub async fn declaration_by_mrn(
        &self,
        mrn: &str,
    ) -> Result<Option<DeclarationRow>, StoreError> {
        let sql = "SELECT id, serial, declarant, representative, lrn, mrn, status, lane, office, transport_mode, \
            declaration_type, version, revision, content_hash, format, document, model, state, assessment, lodge_response, \
            lodged_at, updated_at, released_at FROM declarations WHERE mrn = $1";
        let row = sqlx::query(sql)
            .bind(mrn)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| DeclarationRow::from_row(&r)).transpose()?)
    }

    /// Declarations matching `filter`, newest first, at most `filter.limit`.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<DeclarationRow>, StoreError> {
        let sql = "SELECT id, serial, declarant, representative, lrn, mrn, status, lane, office, transport_mode, \
            declaration_type, version, revision, content_hash, format, document, model, state, assessment, lodge_response, \
            lodged_at, updated_at, released_at FROM declarations \
            WHERE (CAST($1 AS TEXT) IS NULL OR declarant = $1 OR representative = $1) \
              AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
              AND (CAST($3 AS TEXT) IS NULL OR lane = $3) \
              AND (CAST($4 AS TEXT) IS NULL OR lodged_at >= $4) \
              AND (CAST($5 AS TEXT) IS NULL OR lodged_at < $5) \
              AND (CAST($6 AS BIGINT) IS NULL OR serial < $6) \
            ORDER BY serial DESC LIMIT $7";
        let rows = sqlx::query(sql)
            .bind(filter.party.clone())
            .bind(filter.status.clone())
            .bind(filter.lane.clone())
            .bind(filter.from.clone())
            .bind(filter.to.clone())
            .bind(filter.before_serial)
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await?;
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
        let mut current: Option<String> = None;
        for row in rows {
            let id: String = row.try_get("id")?;
            if current.as_deref() != Some(id.as_str()) {
                out.push(ReleasedTimeline {
                    lane: row.try_get("lane")?,
                    office: row.try_get("office")?,
                    transport_mode: row.try_get("transport_mode")?,
                    events: Vec::new(),
                });
                current = Some(id);
            }
            let last = out.last_mut().expect("pushed above");
            last.events.push((row.try_get("type")?, row.try_get("at")?));
        }
        Ok(out)
    }

    /// Counts of declarations per status (for metrics).
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM declarations GROUP BY status ORDER BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }
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

/// A lodgement ready to be written: its row and its events, decided and serialized on the caller's task.
struct LodgeJob {
    row: Box<DeclarationRow>,
    /// The row's document, compressed.
    document: Vec<u8>,
    events: Vec<EventRecord>,
    reply: tokio::sync::oneshot::Sender<Result<Lodged, StoreError>>,
}

/// The SQLite writer: takes the lodgements waiting (up to MAX_BATCH), stores them in one transaction, commits once,
/// then answers each. Holds the write lock while it writes, so other writes wait.
async fn sqlite_writer(
    pool: AnyPool,
    lock: Arc<Mutex<()>>,
    mut jobs: tokio::sync::mpsc::Receiver<LodgeJob>,
) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let guard = lock.lock().await;
        let (replies, work): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|job| (job.reply, (job.row, job.document, job.events)))
            .unzip();
        let size = replies.len();
        let started = std::time::Instant::now();
        let result = write_batch(&pool, work).await;
        tracing::debug!(
            size,
            elapsed_us = started.elapsed().as_micros() as u64,
            "lodgement batch written"
        );
        drop(guard);
        match result {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
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

async fn write_batch(
    pool: &AnyPool,
    work: Vec<(Box<DeclarationRow>, Vec<u8>, Vec<EventRecord>)>,
) -> Result<Vec<Lodged>, StoreError> {
    let mut tx = pool.begin().await?;
    // The serials were handed out in memory; the counter keeps the highest, for the next start.
    let highest = work.iter().map(|(row, _, _)| row.serial).max().unwrap_or(0);
    sqlx::query("UPDATE counters SET value = MAX(value, $1) WHERE name = 'declaration_serial'")
        .bind(highest)
        .execute(&mut *tx)
        .await?;
    // What is already stored under the batch's (declarant, LRN) keys, in one query per chunk.
    let mut known: std::collections::HashMap<(String, String), (String, String, String)> =
        std::collections::HashMap::new();
    let keys: Vec<(String, String)> = work
        .iter()
        .map(|(row, _, _)| (row.declarant.clone(), row.lrn.clone()))
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
    let mut answers = Vec::with_capacity(work.len());
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    let mut events = Vec::new();
    for (row, document, row_events) in work {
        let key = (row.declarant.clone(), row.lrn.clone());
        // A key seen before — stored, or earlier in this batch — is a replay or a conflict; the prepared row is
        // dropped and its serial stays unused.
        if let Some((id, hash, response)) = known.get(&key) {
            answers.push(if *hash == row.content_hash {
                Lodged::Replayed {
                    response: response.clone(),
                }
            } else {
                Lodged::Conflict {
                    existing_id: id.clone(),
                }
            });
            continue;
        }
        known.insert(
            key,
            (
                row.id.clone(),
                row.content_hash.clone(),
                row.lodge_response.clone(),
            ),
        );
        events.extend(row_events);
        answers.push(Lodged::Created { row: row.clone() });
        rows.push(*row);
        documents.push(document);
    }
    insert_rows(&mut tx, &rows, &documents).await?;
    insert_events(&mut tx, Backend::Sqlite, &events).await?;
    tx.commit().await?;
    Ok(answers)
}

/// Most rows one multi-row statement carries (well within both databases' limits on bound parameters).
const MAX_ROWS_PER_STATEMENT: usize = 64;

/// Runs `decide` for a new declaration and builds its row.
fn build_row(
    serial: i64,
    new: NewDeclaration,
    now: OffsetDateTime,
    decide: impl FnOnce(&str, u64) -> Decided,
) -> Result<(DeclarationRow, Vec<workflow::Event>), StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let decided = decide(
        &id,
        u64::try_from(serial).map_err(|_| StoreError::Corrupt("negative serial".into()))?,
    );
    let state = &decided.state;
    let now_text = format_time(now);
    let released_at = (state.status == workflow::Status::Released).then(|| now_text.clone());
    let row = DeclarationRow {
        id,
        serial,
        declarant: new.declarant,
        representative: new.representative,
        lrn: new.lrn,
        mrn: state.mrn.as_ref().map(|m| m.to_string()),
        status: state.status.as_str().to_owned(),
        lane: state.lane.map(|l| l.as_str().to_owned()),
        office: new.office,
        transport_mode: new.transport_mode,
        declaration_type: new.declaration_type,
        version: i64::from(state.version),
        revision: decided.events.len() as i64,
        content_hash: new.content_hash,
        format: new.format,
        document: new.document,
        model: new.model,
        state: serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        assessment: decided.assessment,
        lodge_response: decided.response,
        lodged_at: now_text.clone(),
        updated_at: now_text,
        released_at,
    };
    Ok((row, decided.events))
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

/// Inserts declaration rows, several per statement; `documents` are the rows' documents, compressed.
async fn insert_rows(
    tx: &mut sqlx::AnyConnection,
    rows: &[DeclarationRow],
    documents: &[Vec<u8>],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 23;
    for (chunk, chunk_documents) in rows
        .chunks(MAX_ROWS_PER_STATEMENT)
        .zip(documents.chunks(MAX_ROWS_PER_STATEMENT))
    {
        let sql = format!(
            "INSERT INTO declarations (id, serial, declarant, representative, lrn, mrn, status, lane, office, \
             transport_mode, declaration_type, version, revision, content_hash, format, document, model, state, \
             assessment, lodge_response, lodged_at, updated_at, released_at) VALUES {}",
            placeholders(chunk.len(), COLUMNS)
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (row, document) in chunk.iter().zip(chunk_documents) {
            query = query
                .bind(row.id.as_str())
                .bind(row.serial)
                .bind(row.declarant.as_str())
                .bind(row.representative.as_deref())
                .bind(row.lrn.as_str())
                .bind(row.mrn.as_deref())
                .bind(row.status.as_str())
                .bind(row.lane.as_deref())
                .bind(row.office.as_deref())
                .bind(row.transport_mode.as_deref())
                .bind(row.declaration_type.as_str())
                .bind(row.version)
                .bind(row.revision)
                .bind(row.content_hash.as_str())
                .bind(row.format.as_str())
                .bind(document.as_slice())
                .bind(row.model.as_str())
                .bind(row.state.as_str())
                .bind(row.assessment.as_deref())
                .bind(row.lodge_response.as_str())
                .bind(row.lodged_at.as_str())
                .bind(row.updated_at.as_str())
                .bind(row.released_at.as_deref());
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

/// Appends event rows, many per statement, and their entries in the audit trail (last: see `audit_store`).
async fn insert_events(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    records: &[EventRecord],
) -> Result<(), StoreError> {
    const PER_STATEMENT: usize = 128;
    for chunk in records.chunks(PER_STATEMENT) {
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
                action: "declaration.event".to_owned(),
                subject: audit_store::event_subject(&record.declaration_id, record.revision),
                data_hash: audit::data_hash(&audit_store::event_data(&columns)),
            }
        })
        .collect();
    audit_store::append(tx, backend, entries).await?;
    Ok(())
}
