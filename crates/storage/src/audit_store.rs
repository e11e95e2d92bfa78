//! The audit trail in the database: entries appended in the same transaction as the change they record, chained
//! by the pure `audit` crate, and read back in order for verification.
//!
//! The chain has one head, so appending is serialized: on SQLite by the one writer, on PostgreSQL by a
//! transaction-scoped advisory lock taken as the last step of every writing transaction (always last, so it never
//! takes part in a lock cycle with the row locks taken before it).

use crate::{Backend, Store, StoreError, format_time};
use audit::{Checkpoint, Entry, Finding, Head, NewEntry, Summary, VerifyingKey};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use time::OffsetDateTime;

/// The key of the PostgreSQL advisory lock that serializes appends to the chain.
const CHAIN_LOCK: i64 = 0x6164_7561_6e61; // "aduana"

/// Entries read per query when verifying.
const PAGE: i64 = 5_000;

/// Who did something, for the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub role: String,
}

impl Actor {
    pub fn new(id: impl Into<String>, role: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            role: role.into(),
        }
    }

    /// The command line, run by whoever operates the machine.
    pub fn cli() -> Actor {
        Actor::new("cli", "admin")
    }

    /// Aduana itself (automatic steps, migrations).
    pub fn system() -> Actor {
        Actor::new("system", "system")
    }
}

/// A new entry saying that `actor` did `action` to `subject` at `now`, with the hash of `data`.
pub fn entry(
    actor: &Actor,
    action: audit::Action,
    subject: &str,
    data: &[u8],
    now: OffsetDateTime,
) -> NewEntry {
    NewEntry {
        at: format_time(now),
        actor: actor.id.clone(),
        actor_role: actor.role.clone(),
        action: action.as_str().to_owned(),
        subject: subject.to_owned(),
        data_hash: audit::data_hash(data),
    }
}

/// The same, at a time already written as RFC 3339 text (the row's own).
pub(crate) fn entry_at(
    actor: &Actor,
    action: audit::Action,
    subject: &str,
    data: &[u8],
    at: &str,
) -> NewEntry {
    NewEntry {
        at: at.to_owned(),
        actor: actor.id.clone(),
        actor_role: actor.role.clone(),
        action: action.as_str().to_owned(),
        subject: subject.to_owned(),
        data_hash: audit::data_hash(data),
    }
}

/// The canonical bytes of a row of text columns: a JSON array, so that no two rows give the same bytes.
pub(crate) fn canonical(columns: &[&str]) -> Vec<u8> {
    serde_json::to_vec(columns).expect("strings serialize")
}

/// The subject of a declaration event in the trail.
pub(crate) fn event_subject(declaration_id: &str, revision: i64) -> String {
    format!("declaration/{declaration_id}/{revision:06}")
}

/// The subject of a ledger transfer in the trail.
pub(crate) fn transfer_subject(id: &str) -> String {
    format!("ledger/transfer/{id}")
}

/// Appends entries to the chain inside `tx`. Call it last in a transaction (see the module documentation).
pub(crate) async fn append(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    entries: Vec<NewEntry>,
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHAIN_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    let mut head = read_head(&mut *tx).await?;
    let chained: Vec<Entry> = entries.into_iter().map(|e| head.append(e)).collect();
    for chunk in chained.chunks(crate::MAX_ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash) VALUES {}",
            crate::placeholders(chunk.len(), 9)
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for entry in chunk {
            query = query
                .bind(entry.seq as i64)
                .bind(entry.at.as_str())
                .bind(entry.actor.as_str())
                .bind(entry.actor_role.as_str())
                .bind(entry.action.as_str())
                .bind(entry.subject.as_str())
                .bind(entry.data_hash.as_str())
                .bind(entry.prev_hash.as_str())
                .bind(entry.hash.as_str());
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

async fn read_head(connection: &mut sqlx::AnyConnection) -> Result<Head, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *connection)
        .await?;
    Ok(match row {
        None => Head::genesis(),
        Some(row) => Head {
            seq: row.try_get::<i64, _>("seq")? as u64,
            hash: row.try_get("hash")?,
        },
    })
}

fn entry_from(row: &AnyRow) -> Result<Entry, StoreError> {
    Ok(Entry {
        seq: row.try_get::<i64, _>("seq")? as u64,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        actor_role: row.try_get("actor_role")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        data_hash: row.try_get("data_hash")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// The bytes an event row's audit entry hashes.
pub(crate) fn event_data(row: &EventColumns<'_>) -> Vec<u8> {
    canonical(&[
        row.declaration_id,
        &row.revision.to_string(),
        row.event_type,
        row.at,
        row.actor,
        row.actor_role,
        row.reason,
        row.data,
    ])
}

/// A stored event row's subject in the trail and the bytes its entry hashes (the columns `verify_audit` and the
/// backfill read: declaration_id, revision, type, at, actor, actor_role, reason, data).
fn stored_event(row: &AnyRow) -> Result<(String, Vec<u8>), StoreError> {
    let text = |column: &str| row.try_get::<String, _>(column);
    let (id, revision): (String, i64) = (text("declaration_id")?, row.try_get("revision")?);
    let columns = EventColumns {
        declaration_id: &id,
        revision,
        event_type: &text("type")?,
        at: &text("at")?,
        actor: &text("actor")?,
        actor_role: &text("actor_role")?,
        reason: &text("reason")?,
        data: &text("data")?,
    };
    Ok((event_subject(&id, revision), event_data(&columns)))
}

/// The columns of an event row.
pub(crate) struct EventColumns<'a> {
    pub declaration_id: &'a str,
    pub revision: i64,
    pub event_type: &'a str,
    pub at: &'a str,
    pub actor: &'a str,
    pub actor_role: &'a str,
    pub reason: &'a str,
    pub data: &'a str,
}

/// The bytes a ledger transfer's audit entry hashes: its stored columns.
pub(crate) fn transfer_data(columns: &[&str; 10]) -> Vec<u8> {
    canonical(columns)
}

/// What `aduana audit verify` found.
#[derive(Debug)]
pub struct AuditReport {
    /// The chain against the checkpoints.
    pub chain: Result<Summary, Finding>,
    /// Rows of the event log and the ledger that differ from what the trail recorded of them (first ones only).
    pub rows: Vec<String>,
    pub events_checked: u64,
    pub transfers_checked: u64,
    pub versions_checked: u64,
}

impl AuditReport {
    pub fn is_ok(&self) -> bool {
        self.chain.is_ok() && self.rows.is_empty()
    }
}

/// Most row differences a report lists.
const MAX_ROW_FINDINGS: usize = 20;

impl Store {
    /// Appends entries to the trail in their own transaction (logins, exports, administration).
    pub async fn record(&self, entries: Vec<NewEntry>) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        append(&mut tx, self.backend, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The end of the chain.
    pub async fn audit_head(&self) -> Result<Head, StoreError> {
        let mut connection = self.pool.acquire().await?;
        read_head(&mut connection).await
    }

    /// Entries after `after`, oldest first, at most `limit`.
    pub async fn audit_entries(&self, after: u64, limit: i64) -> Result<Vec<Entry>, StoreError> {
        sqlx::query(
            "SELECT seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after as i64)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry_from)
        .collect()
    }

    /// Entries newest first before `before` (a seq; none: from the head), at most `limit`, of one actor or whose
    /// subject starts with `subject` (ending with `/`), or all: each on its index, never a scan of the trail.
    pub async fn audit_search(
        &self,
        subject: Option<&str>,
        actor: Option<&str>,
        before: Option<u64>,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        const COLUMNS: &str =
            "seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash";
        let before = before.map_or(i64::MAX, |b| b.min(i64::MAX as u64) as i64);
        let query = if let Some(actor) = actor {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE actor = $1 AND seq < $2 ORDER BY actor DESC, seq DESC LIMIT $3"
            )))
            .bind(actor.to_owned())
        } else if let Some(prefix) = subject {
            let Some(_) = prefix.strip_suffix('/') else {
                return Err(StoreError::Corrupt(format!(
                    "audit subject prefix {prefix:?} must end with /"
                )));
            };
            let collate = match self.backend {
                Backend::Sqlite => "",
                Backend::Postgres => " COLLATE \"C\"",
            };
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE subject{collate} >= $1 AND subject{collate} < $4 AND seq < $2 \
                 ORDER BY seq DESC LIMIT $3"
            )))
            .bind(prefix.to_owned())
        } else {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE $1 = '' AND seq < $2 ORDER BY seq DESC LIMIT $3"
            )))
            .bind(String::new())
        };
        let mut query = query.bind(before).bind(limit);
        if actor.is_none()
            && let Some(prefix) = subject
        {
            query = query.bind(format!("{}0", prefix.trim_end_matches('/')));
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry_from)
            .collect()
    }

    /// Entries whose subject starts with `prefix` (a declaration's events: `declaration/<id>/`, which must end
    /// with `/`), oldest first. A range on the subject index (binary order on both databases).
    pub async fn audit_entries_for(&self, prefix: &str) -> Result<Vec<Entry>, StoreError> {
        let Some(stem) = prefix.strip_suffix('/') else {
            return Err(StoreError::Corrupt(format!(
                "audit subject prefix {prefix:?} must end with /"
            )));
        };
        // Every subject under `stem/` sorts at or after `stem/` and before `stem0` ('0' follows '/').
        let upper = format!("{stem}0");
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash FROM audit_log \
                 WHERE subject >= $1 AND subject < $2 ORDER BY seq LIMIT 10000"
            }
            Backend::Postgres => {
                "SELECT seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash FROM audit_log \
                 WHERE subject COLLATE \"C\" >= $1 AND subject COLLATE \"C\" < $2 ORDER BY seq LIMIT 10000"
            }
        };
        sqlx::query(sql)
            .bind(prefix)
            .bind(upper)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry_from)
            .collect()
    }

    /// Reads the whole chain in order against `checkpoints`, then checks every event and ledger transfer against
    /// the hash the trail recorded for it.
    pub async fn verify_audit(
        &self,
        checkpoints: Vec<Checkpoint>,
        trusted: &[VerifyingKey],
    ) -> Result<AuditReport, StoreError> {
        let mut recorded: HashMap<String, String> = HashMap::new();
        let chain = match audit::Verifier::new(checkpoints, trusted) {
            Err(finding) => Err(finding),
            Ok(mut verifier) => {
                let mut after = 0u64;
                let mut failed = None;
                'pages: loop {
                    let page = self.audit_entries(after, PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    for entry in page {
                        if let Err(finding) = verifier.push(&entry) {
                            failed = Some(finding);
                            break 'pages;
                        }
                        if matches!(
                            audit::Action::parse(&entry.action),
                            Some(
                                audit::Action::DeclarationEvent
                                    | audit::Action::LedgerTransfer
                                    | audit::Action::DeclarationVersion
                            )
                        ) {
                            recorded.insert(entry.subject, entry.data_hash);
                        }
                    }
                }
                match failed {
                    Some(finding) => Err(finding),
                    None => verifier.finish(),
                }
            }
        };
        let mut rows = Vec::new();
        let (mut events_checked, mut transfers_checked, mut versions_checked) = (0u64, 0u64, 0u64);
        if chain.is_ok() {
            let mut after = 0i64;
            loop {
                let page = sqlx::query(
                    "SELECT seq, declaration_id, revision, type, at, actor, actor_role, reason, data FROM events \
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
                let Some(last) = page.last() else { break };
                after = last.try_get("seq")?;
                for row in &page {
                    events_checked += 1;
                    let (subject, data) = stored_event(row)?;
                    let hash = audit::data_hash(&data);
                    let (id, revision): (String, i64) =
                        (row.try_get("declaration_id")?, row.try_get("revision")?);
                    match recorded.get(&subject) {
                        Some(h) if *h == hash => {}
                        Some(_) => rows.push(format!(
                            "event {revision} of declaration {id} differs from what the audit trail recorded"
                        )),
                        None => rows.push(format!(
                            "event {revision} of declaration {id} has no entry in the audit trail"
                        )),
                    }
                }
                if rows.len() >= MAX_ROW_FINDINGS {
                    break;
                }
            }
            let mut after = 0i64;
            loop {
                let page = sqlx::query(
                    "SELECT seq, id, debit, credit, amount, currency, kind, pending_id, code, reference, at \
                     FROM ledger_transfers WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
                let Some(last) = page.last() else { break };
                after = last.try_get("seq")?;
                for row in &page {
                    transfers_checked += 1;
                    let columns = transfer_columns(row)?;
                    let refs: [&str; 10] = std::array::from_fn(|i| columns[i].as_str());
                    let hash = audit::data_hash(&transfer_data(&refs));
                    match recorded.get(&transfer_subject(&columns[0])) {
                        Some(h) if *h == hash => {}
                        Some(_) => rows.push(format!(
                            "ledger transfer {} differs from what the audit trail recorded",
                            columns[0]
                        )),
                        None => rows.push(format!(
                            "ledger transfer {} has no entry in the audit trail",
                            columns[0]
                        )),
                    }
                }
                if rows.len() >= MAX_ROW_FINDINGS {
                    break;
                }
            }
            // Every version of every declaration: its document's bytes hashed again, then its columns against the
            // hash the trail recorded.
            let mut after: Option<(String, i64)> = None;
            loop {
                let (id, version) = after.clone().unwrap_or_default();
                let page = sqlx::query(
                    "SELECT declaration_id, version, format, document, document_sha256, model, content_hash, \
                     received_at, received_by, received_role FROM declaration_versions \
                     WHERE (declaration_id, version) > ($1, $2) ORDER BY declaration_id, version LIMIT $3",
                )
                .bind(id)
                .bind(version)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
                let Some(last) = page.last() else { break };
                after = Some((last.try_get("declaration_id")?, last.try_get("version")?));
                for row in &page {
                    versions_checked += 1;
                    let text = |c: &str| row.try_get::<String, _>(c);
                    let (id, version): (String, i64) =
                        (text("declaration_id")?, row.try_get("version")?);
                    let compressed: Vec<u8> = row.try_get("document")?;
                    let stored_sha = text("document_sha256")?;
                    match crate::decompress(&compressed) {
                        Ok(document) => {
                            use sha2::Digest;
                            if hex::encode(sha2::Sha256::digest(document.as_bytes())) != stored_sha
                            {
                                rows.push(format!(
                                    "version {version} of declaration {id}: its document differs from its SHA-256"
                                ));
                            }
                        }
                        Err(e) => rows.push(format!("version {version} of declaration {id}: {e}")),
                    }
                    let data = crate::version_audit_data(
                        &id,
                        version,
                        &text("format")?,
                        &stored_sha,
                        &text("model")?,
                        &text("content_hash")?,
                        &text("received_at")?,
                        &text("received_by")?,
                        &text("received_role")?,
                    );
                    match recorded.get(&crate::version_subject(&id, version)) {
                        Some(h) if *h == audit::data_hash(&data) => {}
                        Some(_) => rows.push(format!(
                            "version {version} of declaration {id} differs from what the audit trail recorded"
                        )),
                        None => rows.push(format!(
                            "version {version} of declaration {id} has no entry in the audit trail"
                        )),
                    }
                }
                if rows.len() >= MAX_ROW_FINDINGS {
                    break;
                }
            }
            rows.truncate(MAX_ROW_FINDINGS);
        }
        Ok(AuditReport {
            chain,
            rows,
            events_checked,
            transfers_checked,
            versions_checked,
        })
    }

    /// Gives entries to rows stored before the trail existed (a database from before migration 8), once.
    pub(crate) async fn backfill_audit(&self) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let any: Option<AnyRow> = sqlx::query("SELECT seq FROM audit_log LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if any.is_some() {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let mut entries = Vec::new();
        let events = sqlx::query(
            "SELECT declaration_id, revision, type, at, actor, actor_role, reason, data FROM events ORDER BY seq",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &events {
            let (subject, data) = stored_event(row)?;
            entries.push(entry(
                &Actor::system(),
                audit::Action::DeclarationEvent,
                &subject,
                &data,
                now,
            ));
        }
        let transfers = sqlx::query(
            "SELECT id, debit, credit, amount, currency, kind, pending_id, code, reference, at \
             FROM ledger_transfers ORDER BY seq",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &transfers {
            let columns = transfer_columns(row)?;
            let refs: [&str; 10] = std::array::from_fn(|i| columns[i].as_str());
            entries.push(entry(
                &Actor::system(),
                audit::Action::LedgerTransfer,
                &transfer_subject(&columns[0]),
                &transfer_data(&refs),
                now,
            ));
        }
        if !entries.is_empty() {
            tracing::info!(
                entries = entries.len(),
                "audit trail started: earlier events and transfers recorded"
            );
            append(&mut tx, self.backend, entries).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn transfer_columns(row: &AnyRow) -> Result<[String; 10], StoreError> {
    Ok([
        row.try_get("id")?,
        row.try_get("debit")?,
        row.try_get("credit")?,
        row.try_get("amount")?,
        row.try_get("currency")?,
        row.try_get("kind")?,
        row.try_get::<Option<String>, _>("pending_id")?
            .unwrap_or_default(),
        row.try_get("code")?,
        row.try_get("reference")?,
        row.try_get("at")?,
    ])
}
