//! Publications (procedures, forms, fees and charges, rules) and the comments on draft rules. An administrator's
//! writing is audited in its transaction; a comment is stored only while its rule is open and below the ceiling,
//! both checked in the comment's transaction, so a comment never lands on a finalised rule.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Store, StoreError, format_time};
use administration::publication::{Comment, Draft, MAX_COMMENTS, MAX_PUBLICATIONS};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A publication as stored, with how many comments it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub id: String,
    pub kind: String,
    pub reference: String,
    pub title: String,
    pub body: String,
    pub comments_until: Option<String>,
    pub final_text: Option<String>,
    pub finalised_at: Option<String>,
    pub published_at: String,
    pub updated_at: String,
    pub comments: i64,
}

/// A comment as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredComment {
    pub id: String,
    pub name: String,
    pub organisation: String,
    pub text: String,
    pub at: String,
}

/// Why a write to publications was not made (nothing was stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicationRefused {
    /// No such publication.
    Unknown,
    /// Another publication has this reference.
    ReferenceTaken,
    /// The administration keeps `MAX_PUBLICATIONS` already.
    TooMany,
    /// Not a rule (only rules take comments and a final text).
    NotRule,
    /// The rule's comment period is over or its final text is published.
    NotOpen,
    /// The rule has `MAX_COMMENTS` comments already.
    TooManyComments,
    /// The rule's final text is published already.
    AlreadyFinal,
}

const COLUMNS: &str = "p.id, p.kind, p.reference, p.title, p.body, p.comments_until, p.final_text, \
    p.finalised_at, p.published_at, p.updated_at, \
    (SELECT COUNT(*) FROM publication_comments c WHERE c.publication_id = p.id) AS comments";

fn publication_from(row: &AnyRow) -> Result<Publication, StoreError> {
    Ok(Publication {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        reference: row.try_get("reference")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        comments_until: row.try_get("comments_until")?,
        final_text: row.try_get("final_text")?,
        finalised_at: row.try_get("finalised_at")?,
        published_at: row.try_get("published_at")?,
        updated_at: row.try_get("updated_at")?,
        comments: row.try_get("comments")?,
    })
}

impl Store {
    /// Publishes `draft` (checked by `administration::publication::check`), with its audit entry.
    pub async fn add_publication(
        &self,
        actor: &Actor,
        draft: &Draft,
        now: OffsetDateTime,
    ) -> Result<Result<Publication, PublicationRefused>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let id = uuid::Uuid::now_v7().to_string();
        let until = draft.comments_until.map(format_time);
        let mut tx = self.begin_write().await?;
        let held: i64 = sqlx::query("SELECT COUNT(*) AS n FROM publications")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if held >= MAX_PUBLICATIONS {
            return Ok(Err(PublicationRefused::TooMany));
        }
        let inserted = sqlx::query(
            "INSERT INTO publications (id, kind, reference, title, body, comments_until, published_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(draft.kind.as_str())
        .bind(&draft.reference)
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(until.clone())
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "a publication"));
        match inserted {
            Err(StoreError::Duplicate(_)) => return Ok(Err(PublicationRefused::ReferenceTaken)),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::PublicationSave,
                &format!("publication/{id}"),
                &canonical(&[
                    draft.kind.as_str(),
                    &draft.reference,
                    &draft.title,
                    &draft.body,
                    until.as_deref().unwrap_or(""),
                ]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(Publication {
            id,
            kind: draft.kind.as_str().to_owned(),
            reference: draft.reference.clone(),
            title: draft.title.clone(),
            body: draft.body.clone(),
            comments_until: until,
            final_text: None,
            finalised_at: None,
            published_at: at.clone(),
            updated_at: at,
            comments: 0,
        }))
    }

    /// Publications of `kind` (all kinds when `None`), newest first, at most `limit`.
    pub async fn publications(
        &self,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Publication>, StoreError> {
        let rows = match kind {
            Some(kind) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM publications p WHERE p.kind = $1 \
                     ORDER BY p.published_at DESC LIMIT $2"
                )))
                .bind(kind)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM publications p ORDER BY p.published_at DESC LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(publication_from).collect()
    }

    /// One publication.
    pub async fn publication(&self, id: &str) -> Result<Option<Publication>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publications p WHERE p.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(publication_from).transpose()
    }

    /// A rule's comments, oldest first, at most `limit`.
    pub async fn publication_comments(
        &self,
        id: &str,
        limit: i64,
    ) -> Result<Vec<StoredComment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, organisation, text, at FROM publication_comments \
             WHERE publication_id = $1 ORDER BY at, id LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredComment {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    organisation: r.try_get("organisation")?,
                    text: r.try_get("text")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// Adds `comment` to the rule `id` if it is open for comment at `now` and below the ceiling.
    pub async fn add_publication_comment(
        &self,
        id: &str,
        comment: &Comment,
        now: OffsetDateTime,
    ) -> Result<Result<StoredComment, PublicationRefused>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let lock = if self.backend == crate::Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT kind, comments_until, finalised_at FROM publications WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Err(PublicationRefused::Unknown));
        };
        let kind: String = row.try_get("kind")?;
        let until: Option<String> = row.try_get("comments_until")?;
        let finalised: Option<String> = row.try_get("finalised_at")?;
        if kind != administration::publication::Kind::Rule.as_str() {
            return Ok(Err(PublicationRefused::NotRule));
        }
        if finalised.is_some() || until.as_deref().is_none_or(|u| u <= at.as_str()) {
            return Ok(Err(PublicationRefused::NotOpen));
        }
        let held: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM publication_comments WHERE publication_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if held >= MAX_COMMENTS {
            return Ok(Err(PublicationRefused::TooManyComments));
        }
        let comment_id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO publication_comments (id, publication_id, name, organisation, text, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&comment_id)
        .bind(id)
        .bind(&comment.name)
        .bind(&comment.organisation)
        .bind(&comment.text)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(StoredComment {
            id: comment_id,
            name: comment.name.clone(),
            organisation: comment.organisation.clone(),
            text: comment.text.clone(),
            at,
        }))
    }

    /// Publishes the final text of the rule `id` (its comments closed from then on), with its audit entry.
    pub async fn finalise_publication(
        &self,
        actor: &Actor,
        id: &str,
        final_text: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), PublicationRefused>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let lock = if self.backend == crate::Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT kind, finalised_at FROM publications WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Err(PublicationRefused::Unknown));
        };
        let kind: String = row.try_get("kind")?;
        let finalised: Option<String> = row.try_get("finalised_at")?;
        if kind != administration::publication::Kind::Rule.as_str() {
            return Ok(Err(PublicationRefused::NotRule));
        }
        if finalised.is_some() {
            return Ok(Err(PublicationRefused::AlreadyFinal));
        }
        sqlx::query(
            "UPDATE publications SET final_text = $1, finalised_at = $2, updated_at = $2 WHERE id = $3",
        )
        .bind(final_text)
        .bind(&at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::PublicationFinal,
                &format!("publication/{id}"),
                &canonical(&[final_text, &at]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }
}
