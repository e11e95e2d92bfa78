//! Risk management as versioned documents: rule sets, named lists, the lane rate table, trained models and the
//! analyst's choice of model. Each save is a new version (append-only by trigger) with its author, comment and,
//! for rule sets, validity dates; each save is an audit trail entry in the same transaction.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Store, StoreError, format_time};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A document to save as the next version of (`kind`, `name`).
#[derive(Clone, Debug)]
pub struct NewRiskDocument {
    pub kind: String,
    pub name: String,
    pub body: String,
    pub comment: String,
    /// ISO dates (YYYY-MM-DD), inclusive; used by rule sets.
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// A stored version. `body` is empty when listed without bodies.
#[derive(Clone, Debug, Serialize)]
pub struct RiskDocument {
    pub kind: String,
    pub name: String,
    pub version: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
    pub sha256: String,
    pub author: String,
    pub comment: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub created_at: String,
}

fn document_from(row: &AnyRow, with_body: bool) -> Result<RiskDocument, StoreError> {
    Ok(RiskDocument {
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        body: if with_body {
            row.try_get("body")?
        } else {
            String::new()
        },
        sha256: row.try_get("sha256")?,
        author: row.try_get("author")?,
        comment: row.try_get("comment")?,
        valid_from: row.try_get("valid_from")?,
        valid_to: row.try_get("valid_to")?,
        created_at: row.try_get("created_at")?,
    })
}

macro_rules! meta_columns {
    () => {
        "kind, name, version, sha256, author, comment, valid_from, valid_to, created_at"
    };
}

/// The trail's action for saving a risk document of `kind`.
fn action_of(kind: &str) -> Result<audit::Action, StoreError> {
    Ok(match kind {
        "rules" => audit::Action::RiskRulesSave,
        "list" => audit::Action::RiskListSave,
        "rates" => audit::Action::RiskRatesSave,
        "model" => audit::Action::RiskModelSave,
        "model_choice" => audit::Action::RiskModelChoiceSave,
        "agency_rules" => audit::Action::AgencyRulesSave,
        other => return Err(StoreError::Corrupt(format!("risk document kind {other:?}"))),
    })
}

impl Store {
    /// Saves `document` as the next version of its kind and name, with an audit entry; returns what was stored.
    pub async fn save_risk_document(
        &self,
        actor: &Actor,
        document: NewRiskDocument,
        now: OffsetDateTime,
    ) -> Result<RiskDocument, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let sha256 = hex::encode(Sha256::digest(document.body.as_bytes()));
        let mut tx = self.begin_write().await?;
        if self.backend == crate::Backend::Postgres {
            // Two saves at once must not both take "highest + 1" (finding 15 of issue 14): the second waits for
            // the first's commit, then numbers after it.
            sqlx::query("SELECT pg_advisory_xact_lock(8, hashtext($1))")
                .bind(format!("{}/{}", document.kind, document.name))
                .execute(&mut *tx)
                .await?;
        }
        let latest: Option<i64> = sqlx::query(
            "SELECT MAX(version) AS version FROM risk_documents WHERE kind = $1 AND name = $2",
        )
        .bind(&document.kind)
        .bind(&document.name)
        .fetch_one(&mut *tx)
        .await?
        .try_get("version")?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO risk_documents (kind, name, version, body, sha256, author, comment, valid_from, valid_to, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&document.kind)
        .bind(&document.name)
        .bind(version)
        .bind(&document.body)
        .bind(&sha256)
        .bind(&actor.id)
        .bind(&document.comment)
        .bind(document.valid_from.clone())
        .bind(document.valid_to.clone())
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "a risk document's version"))?;
        let subject = format!("risk/{}/{}/{version}", document.kind, document.name);
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                action_of(&document.kind)?,
                &subject,
                &canonical(&[
                    &sha256,
                    &document.comment,
                    document.valid_from.as_deref().unwrap_or(""),
                    document.valid_to.as_deref().unwrap_or(""),
                    &at,
                ]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(RiskDocument {
            kind: document.kind,
            name: document.name,
            version,
            body: String::new(),
            sha256,
            author: actor.id.clone(),
            comment: document.comment,
            valid_from: document.valid_from,
            valid_to: document.valid_to,
            created_at: at,
        })
    }

    /// Every version of a kind (of one name, when given), newest first, without bodies.
    pub async fn risk_documents(
        &self,
        kind: &str,
        name: Option<&str>,
    ) -> Result<Vec<RiskDocument>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            meta_columns!(),
            " FROM risk_documents WHERE kind = $1 AND ($2 = '' OR name = $2) \
             ORDER BY name, version DESC LIMIT 10000"
        ))
        .bind(kind)
        .bind(name.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| document_from(r, false)).collect()
    }

    /// One version with its body; `version` `None` for the newest.
    pub async fn risk_document(
        &self,
        kind: &str,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<RiskDocument>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            meta_columns!(),
            ", body FROM risk_documents WHERE kind = $1 AND name = $2 \
             AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1"
        ))
        .bind(kind)
        .bind(name)
        .bind(version.unwrap_or(0))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| document_from(&r, true)).transpose()
    }

    /// The newest version of every (kind, name) of `kind`, with bodies.
    pub async fn latest_risk_documents(&self, kind: &str) -> Result<Vec<RiskDocument>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ", meta_columns!(), ", body FROM risk_documents d WHERE kind = $1 AND version = \
             (SELECT MAX(version) FROM risk_documents l WHERE l.kind = d.kind AND l.name = d.name) ORDER BY name"
        ))
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| document_from(r, true)).collect()
    }

    /// Every version of `kind` with bodies, oldest first (rule sets: each version keeps its own validity).
    pub async fn all_risk_documents(&self, kind: &str) -> Result<Vec<RiskDocument>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            meta_columns!(),
            ", body FROM risk_documents WHERE kind = $1 ORDER BY name, version LIMIT 10000"
        ))
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| document_from(r, true)).collect()
    }

    /// The lane assignments recorded since `since` (the rate controller's counts are rebuilt from them after a
    /// restart), oldest first.
    pub async fn lane_assignments_since(
        &self,
        since: &str,
    ) -> Result<Vec<workflow::EventKind>, StoreError> {
        let rows = sqlx::query(
            "SELECT data FROM events WHERE type = 'lane_assigned' AND at >= $1 ORDER BY at LIMIT 10000000",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let data: String = row.try_get("data")?;
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }
}
