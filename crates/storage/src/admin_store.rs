//! The administration's profile as data (docs/configuration.md): every version as given at start or changed at
//! run time, append-only by trigger, each save an audit trail entry in the same transaction. The newest version
//! is the one in use.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Store, StoreError, format_time};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::OffsetDateTime;

/// A stored version of the profile. `profile` is the TOML text.
#[derive(Clone, Debug, Serialize)]
pub struct AdministrationVersion {
    pub version: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile: String,
    pub sha256: String,
    pub changed_by: String,
    pub reason: String,
    pub changed_at: String,
}

impl Store {
    /// Saves `profile` (TOML, already checked by the caller) as the next version, with an audit entry.
    pub async fn save_administration(
        &self,
        actor: &Actor,
        profile: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<AdministrationVersion, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let sha256 = hex::encode(Sha256::digest(profile.as_bytes()));
        let mut tx = self.begin_write().await?;
        if self.backend == crate::Backend::Postgres {
            // Two saves at once must not both take "highest + 1": the second waits for the first's commit.
            sqlx::query("SELECT pg_advisory_xact_lock(9, 0)")
                .execute(&mut *tx)
                .await?;
        }
        let latest: Option<i64> =
            sqlx::query("SELECT MAX(version) AS version FROM administration_versions")
                .fetch_one(&mut *tx)
                .await?
                .try_get("version")?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO administration_versions (version, profile, sha256, changed_by, reason, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(version)
        .bind(profile)
        .bind(&sha256)
        .bind(&actor.id)
        .bind(reason)
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "a version of the administration's profile"))?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::AdministrationSave,
                &format!("administration/{version}"),
                &canonical(&[&sha256, reason, &at]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(AdministrationVersion {
            version,
            profile: profile.to_owned(),
            sha256,
            changed_by: actor.id.clone(),
            reason: reason.to_owned(),
            changed_at: at,
        })
    }

    /// The version in use (the newest), with its text; `None` before any was saved.
    pub async fn current_administration(
        &self,
    ) -> Result<Option<AdministrationVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT version, profile, sha256, changed_by, reason, changed_at FROM administration_versions \
             ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| version_from(&r, true)).transpose()
    }

    /// Every version, newest first, without their texts (at most `limit`).
    pub async fn administration_versions(
        &self,
        limit: i64,
    ) -> Result<Vec<AdministrationVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, '' AS profile, sha256, changed_by, reason, changed_at FROM administration_versions \
             ORDER BY version DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| version_from(r, false)).collect()
    }
}

fn version_from(
    row: &sqlx::any::AnyRow,
    with_text: bool,
) -> Result<AdministrationVersion, StoreError> {
    Ok(AdministrationVersion {
        version: row.try_get("version")?,
        profile: if with_text {
            row.try_get("profile")?
        } else {
            String::new()
        },
        sha256: row.try_get("sha256")?,
        changed_by: row.try_get("changed_by")?,
        reason: row.try_get("reason")?,
        changed_at: row.try_get("changed_at")?,
    })
}

impl Store {
    /// A published report as last computed: its body (JSON) and when it was computed.
    pub async fn published_report(
        &self,
        name: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT body, computed_at FROM published_reports WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("body")?, r.try_get("computed_at")?)))
            .transpose()
    }

    /// Keeps a report's newest computation: a server that computed it later replaces it, one that computed it
    /// earlier and saves it later does not (times are fixed-width UTC, so their text orders as they do).
    pub async fn save_published_report(
        &self,
        name: &str,
        body: &str,
        now: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO published_reports (name, body, computed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, computed_at = excluded.computed_at \
             WHERE published_reports.computed_at < excluded.computed_at",
        )
        .bind(name)
        .bind(body)
        .bind(crate::format_time(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
