//! Payment orders and bank confirmations.

use crate::audit_store::{Actor, append, canonical, entry as audit_entry, entry_at};
use crate::{Store, StoreError, format_time};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// What a trader is asked to pay for a declaration, through a bank.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentOrder {
    pub reference: String,
    pub declaration_id: String,
    /// The declaration's name in the ledger (`receivable:<ledger_key>`).
    pub ledger_key: String,
    pub party: Option<String>,
    /// Decimal text.
    pub amount: String,
    pub currency: String,
    pub due_date: String,
    /// open | paid
    pub status: String,
    pub created_at: String,
    pub paid_at: Option<String>,
}

/// A bank's confirmation, as received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    pub bank: String,
    pub confirmation_id: String,
    pub order_reference: String,
    pub amount: String,
    pub currency: String,
    pub body_sha256: String,
    pub received_at: String,
}

/// What recording a confirmation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfirmationRecorded {
    New,
    /// The same confirmation (same body) was received before.
    Replay,
    /// The bank reused the confirmation id for a different body.
    Conflict,
}

const ORDER_COLUMNS: &str = "reference, declaration_id, ledger_key, party, amount, currency, due_date, status, \
     created_at, paid_at";

fn order_from(row: &AnyRow) -> Result<PaymentOrder, StoreError> {
    Ok(PaymentOrder {
        reference: row.try_get("reference")?,
        declaration_id: row.try_get("declaration_id")?,
        ledger_key: row.try_get("ledger_key")?,
        party: row.try_get("party")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        due_date: row.try_get("due_date")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        paid_at: row.try_get("paid_at")?,
    })
}

impl Store {
    /// The open order of a declaration for this amount, or a new one. One call per declaration at a time.
    pub async fn payment_order_for(&self, new: PaymentOrder) -> Result<PaymentOrder, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM payment_orders WHERE declaration_id = $1 AND status = 'open' \
             AND amount = $2 AND currency = $3"
        )))
        .bind(&new.declaration_id)
        .bind(&new.amount)
        .bind(&new.currency)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let order = order_from(&row)?;
            tx.rollback().await?;
            return Ok(order);
        }
        sqlx::query(
            "INSERT INTO payment_orders (reference, declaration_id, ledger_key, party, amount, currency, due_date, \
             status, created_at, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
        )
        .bind(&new.reference)
        .bind(&new.declaration_id)
        .bind(&new.ledger_key)
        .bind(new.party.clone())
        .bind(&new.amount)
        .bind(&new.currency)
        .bind(&new.due_date)
        .bind(&new.status)
        .bind(&new.created_at)
        .execute(&mut *tx)
        .await?;
        let data = canonical(&[
            &new.reference,
            &new.declaration_id,
            &new.amount,
            &new.currency,
            &new.due_date,
            &new.status,
        ]);
        let entry = entry_at(
            &Actor::system(),
            "payment.order",
            &format!("payment-order/{}", new.reference),
            &data,
            &new.created_at,
        );
        append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn payment_order(&self, reference: &str) -> Result<Option<PaymentOrder>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM payment_orders WHERE reference = $1"
        )))
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(order_from).transpose()
    }

    pub async fn payment_orders(&self) -> Result<Vec<PaymentOrder>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM payment_orders ORDER BY created_at, reference"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(order_from).collect()
    }

    pub async fn mark_order_paid(
        &self,
        reference: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE payment_orders SET status = 'paid', paid_at = $1 WHERE reference = $2 AND status = 'open'",
        )
        .bind(format_time(now))
        .bind(reference)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            let entry = audit_entry(
                &Actor::system(),
                "payment.order_paid",
                &format!("payment-order/{reference}"),
                &canonical(&[reference, &format_time(now)]),
                now,
            );
            append(&mut tx, self.backend, vec![entry]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a confirmation once: the same again is a replay, the same id with another body a conflict.
    pub async fn record_confirmation(
        &self,
        confirmation: &Confirmation,
    ) -> Result<ConfirmationRecorded, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query(
            "SELECT body_sha256 FROM bank_confirmations WHERE bank = $1 AND confirmation_id = $2",
        )
        .bind(&confirmation.bank)
        .bind(&confirmation.confirmation_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let hash: String = row.try_get("body_sha256")?;
            tx.rollback().await?;
            return Ok(if hash == confirmation.body_sha256 {
                ConfirmationRecorded::Replay
            } else {
                ConfirmationRecorded::Conflict
            });
        }
        let inserted = sqlx::query(
            "INSERT INTO bank_confirmations (bank, confirmation_id, order_reference, amount, currency, \
             body_sha256, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&confirmation.bank)
        .bind(&confirmation.confirmation_id)
        .bind(&confirmation.order_reference)
        .bind(&confirmation.amount)
        .bind(&confirmation.currency)
        .bind(&confirmation.body_sha256)
        .bind(&confirmation.received_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {
                let data = canonical(&[
                    &confirmation.bank,
                    &confirmation.confirmation_id,
                    &confirmation.order_reference,
                    &confirmation.amount,
                    &confirmation.currency,
                    &confirmation.body_sha256,
                ]);
                let entry = entry_at(
                    &Actor::new(format!("bank:{}", confirmation.bank), "bank"),
                    "payment.confirmation",
                    &format!(
                        "bank-confirmation/{}/{}",
                        confirmation.bank, confirmation.confirmation_id
                    ),
                    &data,
                    &confirmation.received_at,
                );
                append(&mut tx, self.backend, vec![entry]).await?;
                tx.commit().await?;
                Ok(ConfirmationRecorded::New)
            }
            // Two deliveries at once on PostgreSQL: the primary key settles it; the loser is a replay.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                tx.rollback().await?;
                Ok(ConfirmationRecorded::Replay)
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn confirmations(&self) -> Result<Vec<Confirmation>, StoreError> {
        let rows = sqlx::query(
            "SELECT bank, confirmation_id, order_reference, amount, currency, body_sha256, received_at \
             FROM bank_confirmations ORDER BY received_at, bank, confirmation_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Confirmation {
                    bank: row.try_get("bank")?,
                    confirmation_id: row.try_get("confirmation_id")?,
                    order_reference: row.try_get("order_reference")?,
                    amount: row.try_get("amount")?,
                    currency: row.try_get("currency")?,
                    body_sha256: row.try_get("body_sha256")?,
                    received_at: row.try_get("received_at")?,
                })
            })
            .collect()
    }
}

/// A refund and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub id: String,
    pub declaration_id: String,
    pub ledger_key: String,
    pub amount: String,
    pub currency: String,
    /// requested | paid
    pub status: String,
    pub approvals_needed: i64,
    /// User ids of the officers who approved, in order.
    pub approvals: Vec<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub paid_at: Option<String>,
}

const REFUND_COLUMNS: &str = "id, declaration_id, ledger_key, amount, currency, status, approvals_needed, approvals, \
     requested_by, requested_at, paid_at";

fn refund_from(row: &AnyRow) -> Result<Refund, StoreError> {
    let approvals: String = row.try_get("approvals")?;
    Ok(Refund {
        id: row.try_get("id")?,
        declaration_id: row.try_get("declaration_id")?,
        ledger_key: row.try_get("ledger_key")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        status: row.try_get("status")?,
        approvals_needed: row.try_get("approvals_needed")?,
        approvals: serde_json::from_str(&approvals)
            .map_err(|e| StoreError::Corrupt(format!("refund approvals: {e}")))?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        paid_at: row.try_get("paid_at")?,
    })
}

impl Store {
    /// The open refund of a declaration, or this new one.
    pub async fn refund_for(&self, new: Refund) -> Result<Refund, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE declaration_id = $1 AND status = 'requested'"
        )))
        .bind(&new.declaration_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            let refund = refund_from(&row)?;
            tx.rollback().await?;
            return Ok(refund);
        }
        sqlx::query(
            "INSERT INTO refunds (id, declaration_id, ledger_key, amount, currency, status, approvals_needed, \
             approvals, requested_by, requested_at, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        )
        .bind(&new.id)
        .bind(&new.declaration_id)
        .bind(&new.ledger_key)
        .bind(&new.amount)
        .bind(&new.currency)
        .bind(&new.status)
        .bind(new.approvals_needed)
        .bind(serde_json::to_string(&new.approvals).unwrap_or_else(|_| "[]".into()))
        .bind(&new.requested_by)
        .bind(&new.requested_at)
        .execute(&mut *tx)
        .await?;
        let entry = entry_at(
            &Actor::new(new.requested_by.clone(), "requester"),
            "refund.request",
            &format!("refund/{}", new.id),
            &canonical(&[
                &new.id,
                &new.declaration_id,
                &new.amount,
                &new.currency,
                &new.status,
            ]),
            &new.requested_at,
        );
        append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn refund(&self, id: &str) -> Result<Option<Refund>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(refund_from).transpose()
    }

    /// Writes a refund's approvals and status, if it is still as `expected_status` with `expected_approvals`
    /// approvals (so two officers approving at once cannot both be counted as the last). Returns false when it
    /// changed meanwhile.
    pub async fn update_refund(
        &self,
        refund: &Refund,
        expected_approvals: usize,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock().await;
        let expected: Vec<String> = refund
            .approvals
            .iter()
            .take(expected_approvals)
            .cloned()
            .collect();
        let approvals = serde_json::to_string(&refund.approvals).unwrap_or_else(|_| "[]".into());
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE refunds SET approvals = $1, status = $2, paid_at = $3 WHERE id = $4 AND approvals = $5 \
             AND status = 'requested'",
        )
        .bind(&approvals)
        .bind(&refund.status)
        .bind((refund.status == "paid").then(|| format_time(now)))
        .bind(&refund.id)
        .bind(serde_json::to_string(&expected).unwrap_or_else(|_| "[]".into()))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        // The approver is the last in the list.
        let approver = refund.approvals.last().cloned().unwrap_or_default();
        let entry = audit_entry(
            &Actor::new(approver, "officer"),
            "refund.approval",
            &format!("refund/{}", refund.id),
            &canonical(&[&refund.id, &approvals, &refund.status]),
            now,
        );
        append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(true)
    }
}

impl Store {
    /// Stores a receipt once (the same id again is ignored: receipts are issued for idempotent confirmations).
    pub async fn add_receipt(
        &self,
        id: &str,
        declaration_id: &str,
        content: &str,
        sha256: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("SELECT id FROM receipts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            sqlx::query(
                "INSERT INTO receipts (id, declaration_id, content, sha256, issued_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(declaration_id)
            .bind(content)
            .bind(sha256)
            .bind(format_time(now))
            .execute(&mut *tx)
            .await?;
            let entry = audit_entry(
                &Actor::system(),
                "receipt.issue",
                &format!("receipt/{id}"),
                &canonical(&[id, declaration_id, sha256]),
                now,
            );
            append(&mut tx, self.backend, vec![entry]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A receipt: (declaration id, content, sha256).
    pub async fn receipt(&self, id: &str) -> Result<Option<(String, String, String)>, StoreError> {
        let row = sqlx::query("SELECT declaration_id, content, sha256 FROM receipts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| -> Result<_, StoreError> {
            Ok((
                r.try_get("declaration_id")?,
                r.try_get("content")?,
                r.try_get("sha256")?,
            ))
        })
        .transpose()
    }
}
