//! The cargo declarations cover, and the arrivals of cargo reports' means of transport: what the discharge of
//! consignments (crate `manifest::discharge`) is decided on. A declaration's cargo is written in its lodgement's
//! transaction; an arrival once per report, with its audit entry.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{CargoReportRow, Store, StoreError, format_time};
use manifest::discharge::DeclaredCargo;
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;

/// Most keys one lookup statement binds.
const KEYS_PER_STATEMENT: usize = 500;

/// A declaration naming some of the keys looked up.
#[derive(Clone, Debug)]
pub struct CargoCandidate {
    pub declaration_id: String,
    pub cargo: DeclaredCargo,
    pub status: workflow::Status,
    pub mrn: Option<String>,
    pub lrn: String,
}

/// The arrival of a report's means of transport.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CargoArrival {
    pub cargo_report_id: String,
    /// RFC 3339, UTC.
    pub arrived_at: String,
    /// When temporary storage ends, RFC 3339, UTC.
    pub storage_deadline: String,
    pub place: Option<String>,
    pub notified_by: String,
    pub notified_by_role: String,
}

const ARRIVAL_COLUMNS: &str =
    "cargo_report_id, arrived_at, storage_deadline, place, notified_by, notified_by_role";

fn arrival_from(row: &sqlx::any::AnyRow) -> Result<CargoArrival, StoreError> {
    Ok(CargoArrival {
        cargo_report_id: row.try_get("cargo_report_id")?,
        arrived_at: row.try_get("arrived_at")?,
        storage_deadline: row.try_get("storage_deadline")?,
        place: row.try_get("place")?,
        notified_by: row.try_get("notified_by")?,
        notified_by_role: row.try_get("notified_by_role")?,
    })
}

/// Writes the cargo of lodged declarations and their lookup keys (in the lodgement's transaction).
pub(crate) async fn insert_cargo(
    tx: &mut sqlx::AnyConnection,
    rows: &[(&str, &DeclaredCargo)],
) -> Result<(), StoreError> {
    for (id, cargo) in rows {
        let json = serde_json::to_string(cargo).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("INSERT INTO declaration_cargo (declaration_id, cargo) VALUES ($1, $2)")
            .bind(*id)
            .bind(json)
            .execute(&mut *tx)
            .await?;
        let keys: std::collections::BTreeSet<&str> = cargo
            .references
            .iter()
            .chain(cargo.containers.iter())
            .map(String::as_str)
            .collect();
        let keys: Vec<&str> = keys.into_iter().collect();
        for chunk in keys.chunks(crate::MAX_ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO declaration_cargo_keys (cargo_key, declaration_id) VALUES {}",
                crate::placeholders(chunk.len(), 2)
            );
            // Only placeholders are formatted into the statement; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(*key).bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
    }
    Ok(())
}

impl Store {
    /// The declarations naming any of `keys` (references or containers), each once, with their cargo and status.
    pub async fn cargo_candidates(
        &self,
        keys: &[String],
    ) -> Result<Vec<CargoCandidate>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT c.declaration_id, c.cargo, d.status, d.mrn, d.lrn FROM declaration_cargo_keys k \
                 JOIN declaration_cargo c ON c.declaration_id = k.declaration_id \
                 JOIN declarations d ON d.id = k.declaration_id WHERE k.cargo_key IN ({})",
                marks.join(", ")
            );
            // Only placeholders are formatted into the statement; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(key.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let id: String = row.try_get("declaration_id")?;
                if !seen.insert(id.clone()) {
                    continue;
                }
                let cargo: String = row.try_get("cargo")?;
                let status: String = row.try_get("status")?;
                out.push(CargoCandidate {
                    declaration_id: id,
                    cargo: serde_json::from_str(&cargo)
                        .map_err(|e| StoreError::Corrupt(format!("a declaration's cargo: {e}")))?,
                    status: workflow::Status::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
                    mrn: row.try_get("mrn")?,
                    lrn: row.try_get("lrn")?,
                });
            }
        }
        out.sort_by(|a, b| a.declaration_id.cmp(&b.declaration_id));
        Ok(out)
    }

    /// Records the arrival of a report's means of transport, once, with its audit entry. `Ok((arrival, false))`
    /// when it was recorded before (the first one stands).
    pub async fn record_cargo_arrival(
        &self,
        actor: &Actor,
        report: &CargoReportRow,
        place: Option<String>,
        now: OffsetDateTime,
        deadline: OffsetDateTime,
    ) -> Result<(CargoArrival, bool), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ARRIVAL_COLUMNS} FROM cargo_arrivals WHERE cargo_report_id = $1"
        )))
        .bind(&report.id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = found {
            return Ok((arrival_from(&row)?, false));
        }
        let arrival = CargoArrival {
            cargo_report_id: report.id.clone(),
            arrived_at: format_time(now),
            storage_deadline: format_time(deadline),
            place,
            notified_by: actor.id.clone(),
            notified_by_role: actor.role.clone(),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO cargo_arrivals ({ARRIVAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(&arrival.cargo_report_id)
        .bind(&arrival.arrived_at)
        .bind(&arrival.storage_deadline)
        .bind(arrival.place.clone())
        .bind(&arrival.notified_by)
        .bind(&arrival.notified_by_role)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::ManifestArrival,
                &format!("cargo-report/{}/arrival", report.id),
                &canonical(&[
                    &report.id,
                    &arrival.arrived_at,
                    &arrival.storage_deadline,
                    arrival.place.as_deref().unwrap_or(""),
                ]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok((arrival, true))
    }

    /// The arrival of one report, when its means of transport arrived.
    pub async fn cargo_arrival(&self, report_id: &str) -> Result<Option<CargoArrival>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ARRIVAL_COLUMNS} FROM cargo_arrivals WHERE cargo_report_id = $1"
        )))
        .bind(report_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(arrival_from).transpose()
    }

    /// The reports whose means of transport arrived in `[from, to)` (RFC 3339 text), oldest first, at most `limit`,
    /// each with its whole report.
    pub async fn cargo_arrivals(
        &self,
        from: &str,
        to: &str,
        limit: i64,
    ) -> Result<Vec<(CargoArrival, CargoReportRow)>, StoreError> {
        // The two tables name no column alike.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ARRIVAL_COLUMNS}, {}, document, model FROM cargo_arrivals \
             JOIN cargo_reports ON cargo_reports.id = cargo_arrivals.cargo_report_id \
             WHERE arrived_at >= $1 AND arrived_at < $2 ORDER BY arrived_at, cargo_report_id LIMIT $3",
            crate::cargo_store::SUMMARY
        )))
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push((arrival_from(row)?, crate::cargo_store::row_from(row, true)?));
        }
        Ok(out)
    }
}
