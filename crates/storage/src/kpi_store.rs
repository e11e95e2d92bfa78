//! The raw figures of the dashboard's indicators (`workflow::kpi` computes them): each one range of an index.

use crate::{Store, StoreError};
use sqlx::Row;

/// Revenue accounts are named `revenue:{tax type}`; every id in this range is one.
const REVENUE_FIRST: &str = "revenue:";
const REVENUE_END: &str = "revenue;";

impl Store {
    /// Declarations lodged at or after `from` (RFC 3339), counted per UTC day (`YYYY-MM-DD`) and lane (its text;
    /// `None` before one is decided): one range of the `lodged_at` index.
    pub async fn lodged_per_day(
        &self,
        from: &str,
    ) -> Result<Vec<(String, Option<String>, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT substr(lodged_at, 1, 10) AS day, lane, COUNT(*) AS n FROM declarations \
             WHERE lodged_at >= $1 GROUP BY substr(lodged_at, 1, 10), lane",
        )
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("day")?, r.try_get("lane")?, r.try_get("n")?)))
            .collect()
    }

    /// When each declaration released at or after `from` was lodged and released (RFC 3339), at most `limit`
    /// of them: one range of the `released_at` index.
    pub async fn releases_since(
        &self,
        from: &str,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT lodged_at, released_at FROM declarations WHERE released_at >= $1 \
             ORDER BY released_at LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("lodged_at")?, r.try_get("released_at")?)))
            .collect()
    }

    /// The posted transfers into and out of the revenue accounts at or after `from`: (at, amount, whether
    /// credited to revenue). Pending ones are not revenue yet; a posted pending transfer counts once, when
    /// posted. Two ranges of the ledger's account indexes, at most `limit` each.
    pub async fn revenue_movements(
        &self,
        from: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, bool)>, StoreError> {
        let mut out = Vec::new();
        for (column, credited) in [("credit", true), ("debit", false)] {
            let sql = format!(
                "SELECT at, amount FROM ledger_transfers WHERE {column} >= $1 AND {column} < $2 \
                 AND at >= $3 AND kind IN ('posted', 'post_pending') ORDER BY seq LIMIT $4"
            );
            // Only a column name is formatted into the statement; every value is bound.
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(REVENUE_FIRST)
                .bind(REVENUE_END)
                .bind(from)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
            for r in &rows {
                out.push((r.try_get("at")?, r.try_get("amount")?, credited));
            }
        }
        Ok(out)
    }
}
