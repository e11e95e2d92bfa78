//! Questions to the enquiry point and their answers. A question is stored below the ceiling of unanswered ones;
//! an answer once, audited in its transaction.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Store, StoreError, format_time};
use administration::enquiry::{MAX_OPEN, Question};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// An enquiry as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enquiry {
    pub id: String,
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: String,
    pub text: String,
    pub asked_at: String,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
}

/// Why an enquiry was not stored or answered (nothing was).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnquiryRefused {
    Unknown,
    AnsweredAlready,
    /// `MAX_OPEN` questions wait for an answer already.
    TooMany,
}

const COLUMNS: &str =
    "id, reference, name, email, subject, text, asked_at, answer, answered_at, answered_by";

fn enquiry_from(row: &AnyRow) -> Result<Enquiry, StoreError> {
    Ok(Enquiry {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        subject: row.try_get("subject")?,
        text: row.try_get("text")?,
        asked_at: row.try_get("asked_at")?,
        answer: row.try_get("answer")?,
        answered_at: row.try_get("answered_at")?,
        answered_by: row.try_get("answered_by")?,
    })
}

impl Store {
    /// Stores `question` under `id` and `reference` (the caller derives both; a reference taken is
    /// `StoreError::Duplicate`).
    pub async fn add_enquiry(
        &self,
        id: &str,
        reference: &str,
        question: &Question,
        now: OffsetDateTime,
    ) -> Result<Result<Enquiry, EnquiryRefused>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let open: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM enquiries WHERE answered_at IS NULL")
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if open >= MAX_OPEN {
            return Ok(Err(EnquiryRefused::TooMany));
        }
        sqlx::query(
            "INSERT INTO enquiries (id, reference, name, email, subject, text, asked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(reference)
        .bind(&question.name)
        .bind(&question.email)
        .bind(&question.subject)
        .bind(&question.text)
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "an enquiry"))?;
        tx.commit().await?;
        Ok(Ok(Enquiry {
            id: id.to_owned(),
            reference: reference.to_owned(),
            name: question.name.clone(),
            email: question.email.clone(),
            subject: question.subject.clone(),
            text: question.text.clone(),
            asked_at: at,
            answer: None,
            answered_at: None,
            answered_by: None,
        }))
    }

    /// The enquiry with this reference.
    pub async fn enquiry_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<Enquiry>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM enquiries WHERE reference = $1"
        )))
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(enquiry_from).transpose()
    }

    /// Unanswered enquiries, oldest first (one range of the `enquiries_open` index), at most `limit`.
    pub async fn open_enquiries(&self, limit: i64) -> Result<Vec<Enquiry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM enquiries WHERE answered_at IS NULL ORDER BY asked_at LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(enquiry_from).collect()
    }

    /// Answers the enquiry `id` once, with its audit entry.
    pub async fn answer_enquiry(
        &self,
        actor: &Actor,
        id: &str,
        answer: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), EnquiryRefused>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE enquiries SET answer = $1, answered_at = $2, answered_by = $3 \
             WHERE id = $4 AND answered_at IS NULL",
        )
        .bind(answer)
        .bind(&at)
        .bind(&actor.id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            let exists = sqlx::query("SELECT id FROM enquiries WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Ok(Err(if exists {
                EnquiryRefused::AnsweredAlready
            } else {
                EnquiryRefused::Unknown
            }));
        }
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::EnquiryAnswer,
                &format!("enquiry/{id}"),
                &canonical(&[answer, &at]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}
