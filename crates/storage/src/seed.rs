//! National-size databases for benchmarks (`aduana bench-portal`): copies of the declarations stored now (each
//! with its events and versions, as the pipeline wrote them), spread evenly over a period, each with its own id,
//! serial and MRN, times shifted with it. Only the declarations' own tables are copied (not the ledger, the audit
//! trail or the Single Window's rows), in transactions of a few thousand declarations.
//!
//! Never used by the server: a benchmark's way to measure pages against a million declarations without lodging
//! a million.

use crate::{Backend, DeclarationRow, Store, StoreError, format_time, parse_time};
use sqlx::Row;
use time::OffsetDateTime;

/// A stored declaration to copy: its row, events and versions.
pub struct Template {
    row: DeclarationRow,
    events: Vec<(i64, String, String, String, String, String, String)>,
    versions: Vec<VersionCopy>,
}

struct VersionCopy {
    version: i64,
    format: String,
    document: Vec<u8>,
    document_sha256: String,
    model: String,
    content_hash: String,
    received_at: String,
    received_by: String,
    received_role: String,
}

impl Template {
    pub fn events(&self) -> usize {
        self.events.len()
    }
}

/// Declarations copied per transaction.
const PER_TRANSACTION: usize = 2_000;
/// Rows per INSERT statement (within both backends' limits on bound values).
const ROWS_PER_STATEMENT: usize = 200;

/// What [`Store::seed_copies`] writes: how many copies, lodged evenly from `first` to `last`, their MRNs'
/// country, and whether each carries its template's versions as received.
#[derive(Clone, Copy, Debug)]
pub struct Copies<'a> {
    pub count: usize,
    pub first: OffsetDateTime,
    pub last: OffsetDateTime,
    pub country: &'a declaration::Country,
    pub with_versions: bool,
}

impl Store {
    /// How many events are stored (a count of the whole log: for benchmarks, not for pages).
    pub async fn event_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM events")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// The declarant with most declarations (a scan of them all: for benchmarks, not for pages).
    pub async fn busiest_declarant(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT declarant, COUNT(*) AS n FROM declarations GROUP BY declarant ORDER BY n DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("declarant")).transpose()?)
    }

    /// Every declaration stored now, with its events and versions: what [`Store::seed_copies`] copies.
    pub async fn seed_templates(&self) -> Result<Vec<Template>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM declarations ORDER BY serial",
            crate::DECLARATION_COLUMNS
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut templates = Vec::with_capacity(rows.len());
        for row in &rows {
            let row = DeclarationRow::from_row(row)?;
            let events = sqlx::query(
                "SELECT revision, type, at, actor, actor_role, reason, data FROM events \
                 WHERE declaration_id = $1 ORDER BY revision",
            )
            .bind(&row.id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|e| {
                Ok((
                    e.try_get("revision")?,
                    e.try_get("type")?,
                    e.try_get("at")?,
                    e.try_get("actor")?,
                    e.try_get("actor_role")?,
                    e.try_get("reason")?,
                    e.try_get("data")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let versions = sqlx::query(
                "SELECT version, format, document, document_sha256, model, content_hash, received_at, \
                 received_by, received_role FROM declaration_versions WHERE declaration_id = $1 ORDER BY version",
            )
            .bind(&row.id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|v| {
                Ok(VersionCopy {
                    version: v.try_get("version")?,
                    format: v.try_get("format")?,
                    document: v.try_get("document")?,
                    document_sha256: v.try_get("document_sha256")?,
                    model: v.try_get("model")?,
                    content_hash: v.try_get("content_hash")?,
                    received_at: v.try_get("received_at")?,
                    received_by: v.try_get("received_by")?,
                    received_role: v.try_get("received_role")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            templates.push(Template {
                row,
                events,
                versions,
            });
        }
        Ok(templates)
    }

    /// Writes `copies.count` copies of `templates` (round robin), lodged evenly over the copies' period: each
    /// with a new id, the next serial, an MRN of the copies' country for that serial (when the template has one),
    /// every time of its template shifted by the same amount, and (`with_versions`) its versions as received.
    /// `progress` is told the copies written so far. Answers the declarations and events written.
    pub async fn seed_copies(
        &self,
        templates: &[Template],
        copies: &Copies<'_>,
        mut progress: impl FnMut(usize),
    ) -> Result<(usize, usize), StoreError> {
        let Copies {
            count,
            first,
            last,
            country,
            with_versions,
        } = *copies;
        if templates.is_empty() || count == 0 {
            return Ok((0, 0));
        }
        let start: i64 = sqlx::query("SELECT COALESCE(MAX(serial), 0) AS s FROM declarations")
            .fetch_one(&self.pool)
            .await?
            .try_get("s")?;
        let step = (last - first) / u32::try_from(count.max(1)).unwrap_or(u32::MAX);
        let shift = |text: &str, by: time::Duration| -> Result<String, StoreError> {
            Ok(format_time(parse_time(text)? + by))
        };
        let mut written_events = 0;
        let mut done = 0;
        while done < count {
            let batch = (count - done).min(PER_TRANSACTION);
            let mut rows = Vec::with_capacity(batch);
            let mut events = Vec::new();
            let mut versions = Vec::new();
            for k in done..done + batch {
                let template = &templates[k % templates.len()];
                let serial = start + 1 + k as i64;
                let lodged = first + step * u32::try_from(k).unwrap_or(u32::MAX);
                let by = lodged - parse_time(&template.row.lodged_at)?;
                let id = uuid::Uuid::now_v7().to_string();
                let mut row = template.row.clone();
                row.id = id.clone();
                row.serial = serial;
                row.lrn = format!("{}-S{serial}", template.row.lrn);
                row.lodged_at = shift(&template.row.lodged_at, by)?;
                row.updated_at = shift(&template.row.updated_at, by)?;
                row.released_at = template
                    .row
                    .released_at
                    .as_deref()
                    .map(|t| shift(t, by))
                    .transpose()?;
                if let Some(old) = &template.row.mrn {
                    let procedure = old.chars().nth(16).unwrap_or('J');
                    let mrn = declaration::Mrn::issue(
                        lodged.year(),
                        country,
                        u64::try_from(serial).unwrap_or_default(),
                        procedure,
                    )
                    .to_string();
                    row.state = row.state.replace(old.as_str(), &mrn);
                    row.mrn = Some(mrn);
                }
                let priority = row.workflow_state()?.priority;
                row.queue_key = crate::queue_key(priority.as_ref(), serial);
                for (revision, kind, at, actor, role, reason, data) in &template.events {
                    events.push((
                        id.clone(),
                        *revision,
                        kind.clone(),
                        shift(at, by)?,
                        actor.clone(),
                        role.clone(),
                        reason.clone(),
                        data.clone(),
                    ));
                }
                for version in template.versions.iter().filter(|_| with_versions) {
                    versions.push((id.clone(), version, shift(&version.received_at, by)?));
                }
                rows.push(row);
            }
            let _guard = self.lock().await;
            let mut tx = self.begin_write().await?;
            crate::insert_rows(&mut tx, &rows).await?;
            for chunk in events.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO events (declaration_id, revision, type, at, actor, actor_role, reason, data) \
                     VALUES {}",
                    crate::placeholders(chunk.len(), 8)
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, revision, kind, at, actor, role, reason, data) in chunk {
                    query = query
                        .bind(id.as_str())
                        .bind(*revision)
                        .bind(kind.as_str())
                        .bind(at.as_str())
                        .bind(actor.as_str())
                        .bind(role.as_str())
                        .bind(reason.as_str())
                        .bind(data.as_str());
                }
                query.execute(&mut *tx).await?;
            }
            for chunk in versions.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO declaration_versions (declaration_id, version, format, document, document_sha256, \
                     model, content_hash, received_at, received_by, received_role) VALUES {}",
                    crate::placeholders(chunk.len(), 10)
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, v, received_at) in chunk {
                    query = query
                        .bind(id.as_str())
                        .bind(v.version)
                        .bind(v.format.as_str())
                        .bind(v.document.as_slice())
                        .bind(v.document_sha256.as_str())
                        .bind(v.model.as_str())
                        .bind(v.content_hash.as_str())
                        .bind(received_at.as_str())
                        .bind(v.received_by.as_str())
                        .bind(v.received_role.as_str());
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            written_events += events.len();
            done += batch;
            progress(done);
        }
        if self.backend == Backend::Postgres {
            // Later lodgements take serials after the copies'.
            sqlx::query(
                "SELECT setval('declaration_serial', (SELECT MAX(serial) FROM declarations))",
            )
            .execute(&self.pool)
            .await?;
        }
        Ok((count, written_events))
    }
}
