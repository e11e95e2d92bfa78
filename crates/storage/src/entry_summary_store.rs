//! Entry summary declarations as received, one row per version: the first lodgement gives the MRN (its serial from
//! a counter on SQLite, a sequence on PostgreSQL, in the lodgement's transaction), an amendment is the next version
//! of the same MRN, by the same lodging party. Append-only (triggers and grants); each version is an audit trail
//! entry in the same transaction.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Backend, Store, StoreError, format_time};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A version to store, already read and checked.
#[derive(Clone, Debug)]
pub struct NewEntrySummary {
    /// `declaration` (CC315A) or `amendment` (CC313A).
    pub kind: String,
    /// The TIN of the person lodging (PERLODSUMDEC).
    pub lodged_by_party: String,
    /// The lodging party's reference (HEAHEA/RefNumHEA4 of a CC315A; kept from the first version for amendments).
    pub reference: String,
    pub goods_items: i64,
    /// `xml`, or `json` for the JSON twin.
    pub format: String,
    pub first_entry_office: Option<String>,
    pub expected_arrival: Option<String>,
    pub document: String,
}

/// A stored version; `document` is empty when listed.
#[derive(Clone, Debug, Serialize)]
pub struct EntrySummaryRow {
    pub mrn: String,
    pub version: i64,
    pub kind: String,
    pub lodged_by_party: String,
    pub reference: String,
    pub goods_items: i64,
    pub format: String,
    pub first_entry_office: Option<String>,
    pub expected_arrival: Option<String>,
    #[serde(skip)]
    pub document: String,
    pub sha256: String,
    pub received_by: String,
    pub received_at: String,
}

const COLUMNS: &str = "mrn, version, kind, lodged_by_party, reference, goods_items, format, \
                       first_entry_office, expected_arrival, sha256, received_by, received_at";

fn row_from(row: &AnyRow, full: bool) -> Result<EntrySummaryRow, StoreError> {
    Ok(EntrySummaryRow {
        mrn: row.try_get("mrn")?,
        version: row.try_get("version")?,
        kind: row.try_get("kind")?,
        lodged_by_party: row.try_get("lodged_by_party")?,
        reference: row.try_get("reference")?,
        goods_items: row.try_get("goods_items")?,
        format: row.try_get("format")?,
        first_entry_office: row.try_get("first_entry_office")?,
        expected_arrival: row.try_get("expected_arrival")?,
        document: if full {
            row.try_get("document")?
        } else {
            String::new()
        },
        sha256: row.try_get("sha256")?,
        received_by: row.try_get("received_by")?,
        received_at: row.try_get("received_at")?,
    })
}

/// Why a version was not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntrySummaryRefusal {
    /// The lodging party already used this reference (the MRN it was given).
    Duplicate { mrn: String },
    /// No entry summary of this lodging party has the MRN amended.
    Unknown,
}

impl Store {
    /// Stores a first version: `mrn_of(serial)` makes the MRN from the serial drawn in the transaction.
    pub async fn lodge_entry_summary(
        &self,
        actor: &Actor,
        new: NewEntrySummary,
        mrn_of: impl FnOnce(u64) -> String,
        now: OffsetDateTime,
    ) -> Result<Result<EntrySummaryRow, EntrySummaryRefusal>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query(
            "SELECT mrn FROM entry_summaries WHERE lodged_by_party = $1 AND reference = $2 AND version = 1",
        )
        .bind(&new.lodged_by_party)
        .bind(&new.reference)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            return Ok(Err(EntrySummaryRefusal::Duplicate {
                mrn: row.try_get("mrn")?,
            }));
        }
        let serial: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query(
                    "UPDATE counters SET value = value + 1 WHERE name = 'entry_summary_serial' RETURNING value",
                )
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?
            }
            Backend::Postgres => sqlx::query("SELECT nextval('entry_summary_serial')")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?,
        };
        let mrn = mrn_of(u64::try_from(serial).unwrap_or(0));
        let row = insert(self, &mut tx, actor, &mrn, 1, new, now).await?;
        tx.commit().await?;
        Ok(Ok(row))
    }

    /// Stores the next version of `mrn`, lodged by the same party.
    pub async fn amend_entry_summary(
        &self,
        actor: &Actor,
        mrn: &str,
        mut new: NewEntrySummary,
        now: OffsetDateTime,
    ) -> Result<Result<EntrySummaryRow, EntrySummaryRefusal>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let last = sqlx::query(
            "SELECT version, reference FROM entry_summaries WHERE mrn = $1 AND lodged_by_party = $2 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(mrn)
        .bind(&new.lodged_by_party)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) = last else {
            return Ok(Err(EntrySummaryRefusal::Unknown));
        };
        let version: i64 = last.try_get("version")?;
        new.reference = last.try_get("reference")?;
        let row = insert(self, &mut tx, actor, mrn, version + 1, new, now).await?;
        tx.commit().await?;
        Ok(Ok(row))
    }

    /// Every version of `mrn`, oldest first, whole.
    pub async fn entry_summary_versions(
        &self,
        mrn: &str,
    ) -> Result<Vec<EntrySummaryRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, document FROM entry_summaries WHERE mrn = $1 ORDER BY version"
        )))
        .bind(mrn)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| row_from(r, true)).collect()
    }

    /// The newest versions received, newest first (of one lodging party when given), at most `limit`.
    pub async fn entry_summaries(
        &self,
        party: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EntrySummaryRow>, StoreError> {
        let rows = match party {
            Some(party) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM entry_summaries WHERE lodged_by_party = $1 \
                 ORDER BY received_at DESC, mrn DESC, version DESC LIMIT $2"
            )))
            .bind(party)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM entry_summaries ORDER BY received_at DESC, mrn DESC, version DESC LIMIT $1"
            )))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        };
        rows.iter().map(|r| row_from(r, false)).collect()
    }
}

async fn insert(
    store: &Store,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    mrn: &str,
    version: i64,
    new: NewEntrySummary,
    now: OffsetDateTime,
) -> Result<EntrySummaryRow, StoreError> {
    let at = format_time(now);
    let sha256 = hex::encode(Sha256::digest(new.document.as_bytes()));
    sqlx::query(
        "INSERT INTO entry_summaries (mrn, version, kind, lodged_by_party, reference, goods_items, format, \
         first_entry_office, expected_arrival, document, sha256, received_by, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(mrn)
    .bind(version)
    .bind(&new.kind)
    .bind(&new.lodged_by_party)
    .bind(&new.reference)
    .bind(new.goods_items)
    .bind(&new.format)
    .bind(new.first_entry_office.clone())
    .bind(new.expected_arrival.clone())
    .bind(&new.document)
    .bind(&sha256)
    .bind(&actor.id)
    .bind(&at)
    .execute(&mut **tx)
    .await?;
    let action = if version == 1 {
        audit::Action::EntrySummaryLodge
    } else {
        audit::Action::EntrySummaryAmend
    };
    append(
        tx,
        store.backend,
        vec![entry(
            actor,
            action,
            &format!("entry-summary/{mrn}"),
            &canonical(&[
                mrn,
                &version.to_string(),
                &new.lodged_by_party,
                &sha256,
                &at,
            ]),
            now,
        )],
    )
    .await?;
    Ok(EntrySummaryRow {
        mrn: mrn.to_owned(),
        version,
        kind: new.kind,
        lodged_by_party: new.lodged_by_party,
        reference: new.reference,
        goods_items: new.goods_items,
        format: new.format,
        first_entry_office: new.first_entry_office,
        expected_arrival: new.expected_arrival,
        document: new.document,
        sha256,
        received_by: actor.id.clone(),
        received_at: at,
    })
}
