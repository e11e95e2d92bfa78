//! Cargo reports (manifests) as received: the document, the model read from it and a summary for lists. One
//! reference per carrier; kept append-only (triggers, and the application role's grants on PostgreSQL); each
//! lodgement is an audit trail entry in the same transaction.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Store, StoreError, format_time};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A report to store, already read and checked.
#[derive(Clone, Debug)]
pub struct NewCargoReport {
    pub carrier: String,
    pub reference: String,
    pub transport_id: Option<String>,
    pub arrival: Option<String>,
    pub place_of_arrival: Option<String>,
    pub consignments: i64,
    pub goods_items: i64,
    /// `edifact` or `json`.
    pub format: String,
    pub document: String,
    /// The `manifest::CargoReport` as JSON.
    pub model: String,
}

/// A stored report. `document` and `model` are empty when listed.
#[derive(Clone, Debug, Serialize)]
pub struct CargoReportRow {
    pub id: String,
    pub carrier: String,
    pub reference: String,
    pub transport_id: Option<String>,
    pub arrival: Option<String>,
    pub place_of_arrival: Option<String>,
    pub consignments: i64,
    pub goods_items: i64,
    pub format: String,
    #[serde(skip)]
    pub document: String,
    #[serde(skip)]
    pub model: String,
    pub sha256: String,
    pub received_by: String,
    pub received_at: String,
}

pub(crate) const SUMMARY: &str = "id, carrier, reference, transport_id, arrival, place_of_arrival, consignments, goods_items, \
                       format, sha256, received_by, received_at";

pub(crate) fn row_from(row: &AnyRow, full: bool) -> Result<CargoReportRow, StoreError> {
    Ok(CargoReportRow {
        id: row.try_get("id")?,
        carrier: row.try_get("carrier")?,
        reference: row.try_get("reference")?,
        transport_id: row.try_get("transport_id")?,
        arrival: row.try_get("arrival")?,
        place_of_arrival: row.try_get("place_of_arrival")?,
        consignments: row.try_get("consignments")?,
        goods_items: row.try_get("goods_items")?,
        format: row.try_get("format")?,
        document: if full {
            row.try_get("document")?
        } else {
            String::new()
        },
        model: if full {
            row.try_get("model")?
        } else {
            String::new()
        },
        sha256: row.try_get("sha256")?,
        received_by: row.try_get("received_by")?,
        received_at: row.try_get("received_at")?,
    })
}

impl Store {
    /// Stores a report with its audit entry. `Ok(None)` when this carrier already lodged this reference.
    pub async fn save_cargo_report(
        &self,
        actor: &Actor,
        report: NewCargoReport,
        now: OffsetDateTime,
    ) -> Result<Option<CargoReportRow>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let sha256 = hex::encode(Sha256::digest(report.document.as_bytes()));
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = self.begin_write().await?;
        let exists =
            sqlx::query("SELECT id FROM cargo_reports WHERE carrier = $1 AND reference = $2")
                .bind(&report.carrier)
                .bind(&report.reference)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if exists {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO cargo_reports (id, carrier, reference, transport_id, arrival, place_of_arrival, \
             consignments, goods_items, format, document, model, sha256, received_by, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&id)
        .bind(&report.carrier)
        .bind(&report.reference)
        .bind(report.transport_id.clone())
        .bind(report.arrival.clone())
        .bind(report.place_of_arrival.clone())
        .bind(report.consignments)
        .bind(report.goods_items)
        .bind(&report.format)
        .bind(&report.document)
        .bind(&report.model)
        .bind(&sha256)
        .bind(&actor.id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::ManifestLodge,
                &format!("cargo-report/{id}"),
                &canonical(&[&report.carrier, &report.reference, &sha256, &at]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(CargoReportRow {
            id,
            carrier: report.carrier,
            reference: report.reference,
            transport_id: report.transport_id,
            arrival: report.arrival,
            place_of_arrival: report.place_of_arrival,
            consignments: report.consignments,
            goods_items: report.goods_items,
            format: report.format,
            document: report.document,
            model: report.model,
            sha256,
            received_by: actor.id.clone(),
            received_at: at,
        }))
    }

    /// One report, whole.
    pub async fn cargo_report(&self, id: &str) -> Result<Option<CargoReportRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY}, document, model FROM cargo_reports WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| row_from(&r, true)).transpose()
    }

    /// Reports, newest first (of one carrier when given), at most `limit`.
    pub async fn cargo_reports(
        &self,
        carrier: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CargoReportRow>, StoreError> {
        let rows = match carrier {
            Some(carrier) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {SUMMARY} FROM cargo_reports WHERE carrier = $1 ORDER BY received_at DESC, id DESC \
                     LIMIT $2"
                )))
                .bind(carrier)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {SUMMARY} FROM cargo_reports ORDER BY received_at DESC, id DESC LIMIT $1"
                )))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(|r| row_from(r, false)).collect()
    }
}
