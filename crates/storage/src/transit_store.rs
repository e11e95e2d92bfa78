//! Transit movements and their messages. A movement is created with its departure's guarantee reserved, and each
//! later step changes its status, appends its messages and applies its money (the guarantee freed on discharge or
//! cancellation) in one transaction, with its audit entry: the decision is the caller's (`revenue::plan`), made on
//! the movement and its money as locked here.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Backend, Money, Store, StoreError, format_time, money};
use ledger::{AccountId, Transfer};
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;
use transit::movement::Status;

/// A transit movement as stored.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TransitRow {
    pub mrn: String,
    pub lrn: String,
    pub office_of_departure: String,
    pub office_of_destination: String,
    pub holder: Option<String>,
    /// The party that lodged the departure declaration (whose movement it is).
    pub owner: String,
    #[serde(serialize_with = "status_text")]
    pub status: Status,
    /// YYYY-MM-DD: the date by which the goods are to be presented at destination.
    pub time_limit: String,
    pub guarantee_grn: Option<String>,
    pub guarantee_amount: Option<String>,
    pub currency: Option<String>,
    pub revision: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn status_text<S: serde::Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.as_str())
}

impl TransitRow {
    /// The movement's name in the ledger: its money is under `secured:transit-<MRN>`.
    pub fn ledger_key(&self) -> String {
        ledger_key(&self.mrn)
    }
}

pub fn ledger_key(mrn: &str) -> String {
    format!("transit-{mrn}")
}

/// A message received or sent on a movement.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TransitMessage {
    pub seq: i64,
    pub message_type: String,
    /// `in` (from the trader) or `out` (from customs).
    pub direction: String,
    pub body: String,
    pub at: String,
}

/// What a step changes: the status, the messages to append, the money to apply.
#[derive(Debug, Default)]
pub struct TransitChange {
    pub status: Option<Status>,
    /// (message type, `in` or `out`, body).
    pub messages: Vec<(String, &'static str, String)>,
    pub opens: Vec<revenue::Opening>,
    pub transfers: Vec<Transfer>,
}

const COLUMNS: &str = "mrn, lrn, office_of_departure, office_of_destination, holder, owner, status, time_limit, \
                       guarantee_grn, guarantee_amount, currency, revision, created_at, updated_at";

fn row_from(row: &sqlx::any::AnyRow) -> Result<TransitRow, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(TransitRow {
        mrn: row.try_get("mrn")?,
        lrn: row.try_get("lrn")?,
        office_of_departure: row.try_get("office_of_departure")?,
        office_of_destination: row.try_get("office_of_destination")?,
        holder: row.try_get("holder")?,
        owner: row.try_get("owner")?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("a transit status {status:?}")))?,
        time_limit: row.try_get("time_limit")?,
        guarantee_grn: row.try_get("guarantee_grn")?,
        guarantee_amount: row.try_get("guarantee_amount")?,
        currency: row.try_get("currency")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn insert_messages(
    tx: &mut sqlx::AnyConnection,
    mrn: &str,
    first_seq: i64,
    messages: &[(String, &'static str, String)],
    at: &str,
) -> Result<(), StoreError> {
    for (k, (kind, direction, body)) in messages.iter().enumerate() {
        sqlx::query(
            "INSERT INTO transit_messages (mrn, seq, message_type, direction, body, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(mrn)
        .bind(first_seq + k as i64)
        .bind(kind)
        .bind(*direction)
        .bind(body)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn wanted(row: &TransitRow) -> Vec<AccountId> {
    row.guarantee_grn
        .iter()
        .map(|grn| ledger::customs::guarantee(grn))
        .collect()
}

impl Store {
    /// Creates the movement `row` with its first `messages` (the declaration received, the acceptance sent), if
    /// `decide` — given the money the movement's guarantee holds, locked — gives the accounts to open and the
    /// transfers that reserve it. `Ok(Err(_))`: refused, nothing stored. A second departure with the same LRN
    /// at the same office by the same party is [`StoreError::Conflict`].
    pub async fn create_transit<E>(
        &self,
        actor: &Actor,
        row: TransitRow,
        messages: Vec<(String, &'static str, String)>,
        now: OffsetDateTime,
        decide: impl FnOnce(&Money) -> Result<(Vec<revenue::Opening>, Vec<Transfer>), E>,
    ) -> Result<Result<TransitRow, E>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let mut loaded = money::Loaded::default();
        let view = loaded
            .money(&mut tx, self.backend, &row.ledger_key(), &wanted(&row))
            .await?;
        let (opens, transfers) = match decide(&view) {
            Ok(change) => change,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if let Err(error) = loaded
            .apply(&mut tx, self.backend, opens, transfers, now)
            .await?
        {
            return Err(StoreError::LedgerRefused(error));
        }
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO transit_movements ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(&row.mrn)
        .bind(&row.lrn)
        .bind(&row.office_of_departure)
        .bind(&row.office_of_destination)
        .bind(row.holder.clone())
        .bind(&row.owner)
        .bind(row.status.as_str())
        .bind(&row.time_limit)
        .bind(row.guarantee_grn.clone())
        .bind(row.guarantee_amount.clone())
        .bind(row.currency.clone())
        .bind(row.revision)
        .bind(&row.created_at)
        .bind(&row.updated_at)
        .execute(&mut *tx)
        .await;
        if let Err(error) = inserted {
            return Err(StoreError::classify(error, "a departure declaration"));
        }
        insert_messages(&mut tx, &row.mrn, 1, &messages, &row.created_at).await?;
        let mut entries = loaded.write(&mut tx, now).await?;
        entries.push(entry(
            actor,
            audit::Action::TransitDeparture,
            &format!("transit/{}", row.mrn),
            &canonical(&[
                &row.mrn,
                &row.lrn,
                &row.office_of_departure,
                row.guarantee_grn.as_deref().unwrap_or(""),
                row.guarantee_amount.as_deref().unwrap_or(""),
            ]),
            now,
        ));
        append(&mut tx, self.backend, entries).await?;
        tx.commit()
            .await
            .map_err(|e| StoreError::classify(e, "the commit"))?;
        Ok(Ok(row))
    }

    /// Applies a step to the movement `mrn`: `decide` reads it and its money, locked, and gives the change.
    /// `Ok(None)`: no such movement.
    pub async fn step_transit<E>(
        &self,
        actor: &Actor,
        mrn: &str,
        step: &str,
        now: OffsetDateTime,
        decide: impl FnOnce(&TransitRow, &[TransitMessage], &Money) -> Result<TransitChange, E>,
    ) -> Result<Option<Result<TransitRow, E>>, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let sql = match self.backend {
            Backend::Sqlite => format!("SELECT {COLUMNS} FROM transit_movements WHERE mrn = $1"),
            Backend::Postgres => {
                format!("SELECT {COLUMNS} FROM transit_movements WHERE mrn = $1 FOR UPDATE")
            }
        };
        let Some(found) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(mrn)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let mut row = row_from(&found)?;
        let messages = messages_of(&mut tx, mrn).await?;
        let mut loaded = money::Loaded::default();
        let view = loaded
            .money(&mut tx, self.backend, &row.ledger_key(), &wanted(&row))
            .await?;
        let change = match decide(&row, &messages, &view) {
            Ok(change) => change,
            Err(refusal) => return Ok(Some(Err(refusal))),
        };
        if let Err(error) = loaded
            .apply(&mut tx, self.backend, change.opens, change.transfers, now)
            .await?
        {
            return Err(StoreError::LedgerRefused(error));
        }
        let previous = row.revision;
        if let Some(status) = change.status {
            row.status = status;
        }
        row.revision += 1;
        row.updated_at = format_time(now);
        let updated = sqlx::query(
            "UPDATE transit_movements SET status = $1, revision = $2, updated_at = $3 WHERE mrn = $4 AND revision = $5",
        )
        .bind(row.status.as_str())
        .bind(row.revision)
        .bind(&row.updated_at)
        .bind(mrn)
        .bind(previous)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::Concurrent(format!("transit movement {mrn}")));
        }
        let next_seq = messages.last().map_or(1, |m| m.seq + 1);
        insert_messages(&mut tx, mrn, next_seq, &change.messages, &row.updated_at).await?;
        let mut entries = loaded.write(&mut tx, now).await?;
        let kinds: Vec<&str> = change.messages.iter().map(|(k, _, _)| k.as_str()).collect();
        entries.push(entry(
            actor,
            audit::Action::TransitStep,
            &format!("transit/{mrn}/{step}"),
            &canonical(&[mrn, step, row.status.as_str(), &kinds.join(",")]),
            now,
        ));
        append(&mut tx, self.backend, entries).await?;
        tx.commit()
            .await
            .map_err(|e| StoreError::classify(e, "the commit"))?;
        Ok(Some(Ok(row)))
    }

    /// The movement `mrn` with its messages.
    pub async fn transit(
        &self,
        mrn: &str,
    ) -> Result<Option<(TransitRow, Vec<TransitMessage>)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(found) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM transit_movements WHERE mrn = $1"
        )))
        .bind(mrn)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let row = row_from(&found)?;
        let messages = messages_of(&mut conn, mrn).await?;
        Ok(Some((row, messages)))
    }

    /// Movements, newest first (at most `limit`): `owner`'s only when given; only those released and not
    /// arrived after their time limit (`overdue_on`, YYYY-MM-DD: an enquiry is due) when given.
    pub async fn transit_movements(
        &self,
        owner: Option<&str>,
        overdue_on: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TransitRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM transit_movements WHERE (CAST($1 AS TEXT) IS NULL OR owner = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR (status = 'released' AND time_limit < $2)) \
             ORDER BY created_at DESC, mrn LIMIT $3"
        )))
        .bind(owner)
        .bind(overdue_on)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(row_from).collect()
    }
}

async fn messages_of(
    conn: &mut sqlx::AnyConnection,
    mrn: &str,
) -> Result<Vec<TransitMessage>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, message_type, direction, body, at FROM transit_messages WHERE mrn = $1 ORDER BY seq",
    )
    .bind(mrn)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TransitMessage {
                seq: r.try_get("seq")?,
                message_type: r.try_get("message_type")?,
                direction: r.try_get("direction")?,
                body: r.try_get("body")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}
