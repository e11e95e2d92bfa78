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
    /// The references later declarations name its consignment by (`entry_summary::referral::references`).
    pub references: Vec<String>,
    /// The referrals the risk rules and model ask of this version (kind, reason), opened in the same
    /// transaction by `screened_by` — but a kind the consignment already has standing (not closed) is not opened
    /// twice.
    pub screening: Vec<(String, String)>,
}

/// Who opens the referrals the risk rules ask at lodgement.
pub fn screened_by() -> Actor {
    Actor::new("risk-rules", "system")
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
    /// The referrals the risk rules opened when this version was stored (empty when read back).
    #[serde(skip)]
    pub referrals_opened: Vec<ReferralRow>,
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
        referrals_opened: Vec::new(),
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

    /// The entry summaries whose consignment `reference` names (a UCR, a commercial reference or a document),
    /// each MRN once with its first version, oldest first (of one lodging party when given), at most `limit`.
    pub async fn entry_summaries_naming(
        &self,
        reference: &str,
        party: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EntrySummaryRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM entry_summaries WHERE version = 1 \
             AND mrn IN (SELECT mrn FROM entry_summary_references WHERE reference = $1) \
             AND ($2 IS NULL OR lodged_by_party = $2) ORDER BY received_at, mrn LIMIT $3"
        )))
        .bind(reference)
        .bind(party)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
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
    for reference in &new.references {
        sqlx::query(
            "INSERT INTO entry_summary_references (mrn, reference) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(mrn)
        .bind(reference)
        .execute(&mut **tx)
        .await?;
    }
    let standing: Vec<String> =
        sqlx::query("SELECT kind FROM referrals WHERE mrn = $1 AND status <> 'closed'")
            .bind(mrn)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("kind"))
            .collect::<Result<_, _>>()?;
    let mut referrals_opened = Vec::new();
    for (kind, reason) in &new.screening {
        if !standing.contains(kind) {
            referrals_opened.push(
                insert_referral(tx, store.backend, &screened_by(), mrn, kind, reason, now).await?,
            );
        }
    }
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
        referrals_opened,
    })
}

/// Opens a referral of `mrn` in `tx`, with its audit entry.
async fn insert_referral(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    actor: &Actor,
    mrn: &str,
    kind: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<ReferralRow, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let at = format_time(now);
    sqlx::query(
        "INSERT INTO referrals (id, mrn, kind, reason, status, opened_by, opened_at) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6)",
    )
    .bind(&id)
    .bind(mrn)
    .bind(kind)
    .bind(reason)
    .bind(&actor.id)
    .bind(&at)
    .execute(&mut **tx)
    .await?;
    append(
        tx,
        backend,
        vec![entry(
            actor,
            audit::Action::ReferralOpen,
            &format!("referral/{id}"),
            &canonical(&[mrn, kind, reason, &at]),
            now,
        )],
    )
    .await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {REFERRAL} FROM {REFERRAL_FROM} WHERE r.id = $1"
    )))
    .bind(&id)
    .fetch_one(&mut **tx)
    .await?;
    referral_from(&row)
}

/// A referral as stored.
#[derive(Clone, Debug, Serialize)]
pub struct ReferralRow {
    pub id: String,
    pub mrn: String,
    pub kind: String,
    pub reason: String,
    pub status: String,
    pub opened_by: String,
    pub opened_at: String,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub closing_note: Option<String>,
    /// The party that lodged the entry summary (the carrier it is sent to).
    pub lodged_by_party: String,
}

/// A step decided on a referral: its new status, and the answer or the closing note.
#[derive(Clone, Debug)]
pub enum ReferralChange {
    Answered { status: String, answer: String },
    Closed { status: String, note: String },
}

const REFERRAL: &str = "r.id, r.mrn, r.kind, r.reason, r.status, r.opened_by, r.opened_at, r.answer, \
                        r.answered_at, r.closed_by, r.closed_at, r.closing_note, e.lodged_by_party";
const REFERRAL_FROM: &str = "referrals r JOIN entry_summaries e ON e.mrn = r.mrn AND e.version = 1";

fn referral_from(row: &AnyRow) -> Result<ReferralRow, StoreError> {
    Ok(ReferralRow {
        id: row.try_get("id")?,
        mrn: row.try_get("mrn")?,
        kind: row.try_get("kind")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        opened_by: row.try_get("opened_by")?,
        opened_at: row.try_get("opened_at")?,
        answer: row.try_get("answer")?,
        answered_at: row.try_get("answered_at")?,
        closed_by: row.try_get("closed_by")?,
        closed_at: row.try_get("closed_at")?,
        closing_note: row.try_get("closing_note")?,
        lodged_by_party: row.try_get("lodged_by_party")?,
    })
}

impl Store {
    /// Opens a referral of the consignment of `mrn`; `None` when no entry summary has it.
    pub async fn open_referral(
        &self,
        actor: &Actor,
        mrn: &str,
        kind: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ReferralRow>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let known = sqlx::query("SELECT mrn FROM entry_summaries WHERE mrn = $1 AND version = 1")
            .bind(mrn)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !known {
            return Ok(None);
        }
        let row = insert_referral(&mut tx, self.backend, actor, mrn, kind, reason, now).await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    pub async fn referral(&self, id: &str) -> Result<Option<ReferralRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFERRAL} FROM {REFERRAL_FROM} WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| referral_from(&r)).transpose()
    }

    /// Referrals, oldest first: of one MRN, or of one carrier, or in one status — each filter when given; at
    /// most `limit`.
    pub async fn referrals(
        &self,
        mrn: Option<&str>,
        party: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ReferralRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFERRAL} FROM {REFERRAL_FROM} \
             WHERE ($1 IS NULL OR r.mrn = $1) AND ($2 IS NULL OR e.lodged_by_party = $2) \
             AND ($3 IS NULL OR r.status = $3) ORDER BY r.opened_at, r.id LIMIT $4"
        )))
        .bind(mrn)
        .bind(party)
        .bind(status)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(referral_from).collect()
    }

    /// Applies the step `decide` gives for the referral as it stands, with its audit entry, in one transaction;
    /// `None` when there is no such referral, `Some(Err)` with `decide`'s sentence when the step is refused.
    pub async fn step_referral(
        &self,
        actor: &Actor,
        id: &str,
        decide: impl FnOnce(&ReferralRow) -> Result<ReferralChange, String>,
        now: OffsetDateTime,
    ) -> Result<Option<Result<ReferralRow, String>>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFERRAL} FROM {REFERRAL_FROM} WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let current = referral_from(&row)?;
        let change = match decide(&current) {
            Ok(change) => change,
            Err(message) => return Ok(Some(Err(message))),
        };
        let at = format_time(now);
        // The status read is the one changed: a step that lost a race to another changes nothing.
        let (done, action, text) = match &change {
            ReferralChange::Answered { status, answer } => (
                sqlx::query(
                    "UPDATE referrals SET status = $1, answer = $2, answered_at = $3 WHERE id = $4 AND status = $5",
                )
                .bind(status)
                .bind(answer)
                .bind(&at)
                .bind(id)
                .bind(&current.status)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                audit::Action::ReferralAnswer,
                answer.clone(),
            ),
            ReferralChange::Closed { status, note } => (
                sqlx::query(
                    "UPDATE referrals SET status = $1, closing_note = $2, closed_by = $3, closed_at = $4 \
                     WHERE id = $5 AND status = $6",
                )
                .bind(status)
                .bind(note)
                .bind(&actor.id)
                .bind(&at)
                .bind(id)
                .bind(&current.status)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                audit::Action::ReferralClose,
                note.clone(),
            ),
        };
        if done != 1 {
            return Ok(Some(Err(
                "The referral changed meanwhile; read it again.".to_owned()
            )));
        }
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                action,
                &format!("referral/{id}"),
                &canonical(&[id, &text, &at]),
                now,
            )],
        )
        .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFERRAL} FROM {REFERRAL_FROM} WHERE r.id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let row = referral_from(&row)?;
        tx.commit().await?;
        Ok(Some(Ok(row)))
    }

    /// A do-not-load referral standing (not closed) on a consignment any of `references` names: its MRN and id.
    pub async fn standing_do_not_load(
        &self,
        references: &[String],
    ) -> Result<Option<(String, String)>, StoreError> {
        for reference in references.iter().take(64) {
            let row = sqlx::query(
                "SELECT r.mrn, r.id FROM referrals r JOIN entry_summary_references x ON x.mrn = r.mrn \
                 WHERE x.reference = $1 AND r.kind = 'do_not_load' AND r.status <> 'closed' \
                 ORDER BY r.opened_at LIMIT 1",
            )
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                return Ok(Some((row.try_get("mrn")?, row.try_get("id")?)));
            }
        }
        Ok(None)
    }
}
