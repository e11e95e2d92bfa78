//! Payment orders, bank confirmations, refunds and receipts: rows written with the declaration's change they belong
//! to ([`Write`], in [`crate::Store::update`]'s transaction), and read back.

use crate::audit_store::{Actor, append, canonical, entry_at};
use crate::{Store, StoreError, format_time};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// The officers who may examine a declaration at `office`, with their open inspections (see
/// [`Store::examiner_workloads`]).
pub(crate) async fn workloads(
    tx: &mut sqlx::AnyConnection,
    office: Option<&str>,
) -> Result<Vec<(String, u64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, (SELECT COUNT(*) FROM inspections i WHERE i.examiner = u.id AND i.recorded_at IS NULL) \
         AS open FROM users u WHERE u.role = 'officer' AND u.disabled_at IS NULL \
         AND (CAST($1 AS TEXT) IS NULL OR u.office IS NULL OR u.office = $1) ORDER BY u.id LIMIT 1000",
    )
    .bind(office.map(str::to_owned))
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|r| {
            let open: i64 = r.try_get("open")?;
            Ok((r.try_get("id")?, open.max(0) as u64))
        })
        .collect()
}

/// Gives each of `rows` that is under control and has no examiner the officer `workflow::inspection::allocate`
/// chooses among those of its office (least loaded, rotating among equals), in the transaction that put it under
/// control: the entries for the audit trail (by the system). A declaration no officer may examine stays
/// unallocated (the queue's button allocates it later).
pub(crate) async fn allocate_examiners(
    tx: &mut sqlx::AnyConnection,
    rows: &[&crate::DeclarationRow],
    now: OffsetDateTime,
) -> Result<Vec<audit::NewEntry>, StoreError> {
    let at = format_time(now);
    let mut entries = Vec::new();
    let mut teams: std::collections::BTreeMap<Option<String>, Vec<(String, u64)>> =
        std::collections::BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| r.status == workflow::Status::UnderControl)
    {
        if !teams.contains_key(&row.office) {
            let team = workloads(tx, row.office.as_deref()).await?;
            teams.insert(row.office.clone(), team);
        }
        let team = teams.get_mut(&row.office).expect("inserted above");
        let Some(examiner) = workflow::inspection::allocate(&row.id, team).map(str::to_owned)
        else {
            continue;
        };
        let inserted = sqlx::query(
            "INSERT INTO inspections (declaration_id, examiner, allocated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (declaration_id) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&examiner)
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            // Every team the examiner is in (its office's, and each office's when it works at any) counts it.
            for team in teams.values_mut() {
                if let Some(load) = team.iter_mut().find(|(e, _)| *e == examiner) {
                    load.1 += 1;
                }
            }
            entries.push(entry_at(
                &Actor::system(),
                audit::Action::InspectionAllocate,
                &format!("inspection/{}", row.id),
                &canonical(&[row.id.as_str(), examiner.as_str(), at.as_str()]),
                &at,
            ));
        }
    }
    Ok(entries)
}

/// Where a payment order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Waiting for the bank.
    Open,
    /// Paid (the declaration owes nothing more, or no longer awaits payment).
    Paid,
    /// Replaced by an order for another amount (the declaration was assessed again).
    Superseded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 3] = [
        OrderStatus::Open,
        OrderStatus::Paid,
        OrderStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Paid => "paid",
            OrderStatus::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

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
    pub status: OrderStatus,
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

/// Where a refund stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Waiting for its approvals.
    Requested,
    /// Paid out.
    Paid,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 2] = [RefundStatus::Requested, RefundStatus::Paid];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Requested => "requested",
            RefundStatus::Paid => "paid",
        }
    }

    pub fn parse(text: &str) -> Option<RefundStatus> {
        RefundStatus::ALL.into_iter().find(|s| s.as_str() == text)
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
    pub status: RefundStatus,
    pub approvals_needed: i64,
    /// User ids of the officers who approved, in order.
    pub approvals: Vec<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub paid_at: Option<String>,
}

/// A row that goes with a declaration's change, in its transaction.
#[derive(Clone, Debug)]
pub enum Write {
    /// A new payment order (its reference unique; one open order per declaration).
    OrderIssued(PaymentOrder),
    /// An order paid or superseded.
    OrderStatus {
        reference: String,
        status: OrderStatus,
    },
    /// A new refund (one open refund per declaration).
    RefundRequested(Refund),
    /// A refund's approvals and status, written only if it still has the approvals `expected` (so two officers
    /// approving at once cannot both be counted as the last).
    RefundApproved {
        refund: Refund,
        expected: Vec<String>,
        approver: String,
    },
    /// A bank's confirmation, once (its id is unique per bank).
    Confirmation(Confirmation),
    /// An inspection act (canonical JSON), recorded by the examiner with the control result it gives.
    InspectionAct {
        declaration_id: String,
        act: String,
        recorded_by: String,
        recorded_by_role: String,
    },
    /// A receipt, as issued (canonical JSON and its SHA-256).
    Receipt {
        id: String,
        declaration_id: String,
        content: String,
        sha256: String,
    },
}

const ORDER_COLUMNS: &str = "reference, declaration_id, ledger_key, party, amount, currency, due_date, status, \
     created_at, paid_at";

fn order_from(row: &AnyRow) -> Result<PaymentOrder, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(PaymentOrder {
        reference: row.try_get("reference")?,
        declaration_id: row.try_get("declaration_id")?,
        ledger_key: row.try_get("ledger_key")?,
        party: row.try_get("party")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        due_date: row.try_get("due_date")?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        paid_at: row.try_get("paid_at")?,
    })
}

const REFUND_COLUMNS: &str = "id, declaration_id, ledger_key, amount, currency, status, approvals_needed, approvals, \
     requested_by, requested_at, paid_at";

fn refund_from(row: &AnyRow) -> Result<Refund, StoreError> {
    let approvals: String = row.try_get("approvals")?;
    let status: String = row.try_get("status")?;
    Ok(Refund {
        id: row.try_get("id")?,
        declaration_id: row.try_get("declaration_id")?,
        ledger_key: row.try_get("ledger_key")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        status: RefundStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("refund status {status:?}")))?,
        approvals_needed: row.try_get("approvals_needed")?,
        approvals: serde_json::from_str(&approvals)
            .map_err(|e| StoreError::Corrupt(format!("refund approvals: {e}")))?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        paid_at: row.try_get("paid_at")?,
    })
}

fn confirmation_from(row: &AnyRow) -> Result<Confirmation, StoreError> {
    Ok(Confirmation {
        bank: row.try_get("bank")?,
        confirmation_id: row.try_get("confirmation_id")?,
        order_reference: row.try_get("order_reference")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        body_sha256: row.try_get("body_sha256")?,
        received_at: row.try_get("received_at")?,
    })
}

/// The refunds of a declaration (inside its transaction).
pub(crate) async fn refunds_of(
    tx: &mut sqlx::AnyConnection,
    declaration_id: &str,
) -> Result<Vec<Refund>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE declaration_id = $1 ORDER BY requested_at, id"
    )))
    .bind(declaration_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(refund_from)
    .collect()
}

/// The payment orders of a declaration (inside its transaction).
pub(crate) async fn orders_of(
    tx: &mut sqlx::AnyConnection,
    declaration_id: &str,
) -> Result<Vec<PaymentOrder>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM payment_orders WHERE declaration_id = $1 ORDER BY created_at, reference"
    )))
    .bind(declaration_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(order_from)
    .collect()
}

/// Writes one row of a change; returns its audit entries. A unique key taken by another request first is
/// [`StoreError::Duplicate`] (the caller's transaction then stores nothing).
pub(crate) async fn write(
    tx: &mut sqlx::AnyConnection,
    write: &Write,
    now: OffsetDateTime,
) -> Result<Vec<audit::NewEntry>, StoreError> {
    let at = format_time(now);
    fn duplicate(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
        move |e| StoreError::classify(e, what)
    }
    Ok(match write {
        Write::OrderIssued(order) => {
            sqlx::query(
                "INSERT INTO payment_orders (reference, declaration_id, ledger_key, party, amount, currency, \
                 due_date, status, created_at, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
            )
            .bind(&order.reference)
            .bind(&order.declaration_id)
            .bind(&order.ledger_key)
            .bind(order.party.clone())
            .bind(&order.amount)
            .bind(&order.currency)
            .bind(&order.due_date)
            .bind(order.status.as_str())
            .bind(&order.created_at)
            .execute(&mut *tx)
            .await
            .map_err(duplicate("a payment order"))?;
            let data = canonical(&[
                &order.reference,
                &order.declaration_id,
                &order.amount,
                &order.currency,
                &order.due_date,
                order.status.as_str(),
            ]);
            vec![entry_at(
                &Actor::system(),
                audit::Action::PaymentOrder,
                &format!("payment-order/{}", order.reference),
                &data,
                &order.created_at,
            )]
        }
        Write::OrderStatus { reference, status } => {
            let changed = sqlx::query(
                "UPDATE payment_orders SET status = $1, paid_at = $2 WHERE reference = $3 AND status = 'open'",
            )
            .bind(status.as_str())
            .bind((*status == OrderStatus::Paid).then(|| at.clone()))
            .bind(reference)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                Vec::new()
            } else {
                vec![entry_at(
                    &Actor::system(),
                    match status {
                        OrderStatus::Paid => audit::Action::PaymentOrderPaid,
                        OrderStatus::Superseded => audit::Action::PaymentOrderSuperseded,
                        OrderStatus::Open => audit::Action::PaymentOrderReopened,
                    },
                    &format!("payment-order/{reference}"),
                    &canonical(&[reference, status.as_str(), &at]),
                    &at,
                )]
            }
        }
        Write::RefundRequested(refund) => {
            sqlx::query(
                "INSERT INTO refunds (id, declaration_id, ledger_key, amount, currency, status, approvals_needed, \
                 approvals, requested_by, requested_at, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
            )
            .bind(&refund.id)
            .bind(&refund.declaration_id)
            .bind(&refund.ledger_key)
            .bind(&refund.amount)
            .bind(&refund.currency)
            .bind(refund.status.as_str())
            .bind(refund.approvals_needed)
            .bind(serde_json::to_string(&refund.approvals).unwrap_or_else(|_| "[]".into()))
            .bind(&refund.requested_by)
            .bind(&refund.requested_at)
            .execute(&mut *tx)
            .await
            .map_err(duplicate("an open refund"))?;
            vec![entry_at(
                &Actor::new(refund.requested_by.clone(), "requester"),
                audit::Action::RefundRequest,
                &format!("refund/{}", refund.id),
                &canonical(&[
                    &refund.id,
                    &refund.declaration_id,
                    &refund.amount,
                    &refund.currency,
                    refund.status.as_str(),
                ]),
                &refund.requested_at,
            )]
        }
        Write::RefundApproved {
            refund,
            expected,
            approver,
        } => {
            let approvals =
                serde_json::to_string(&refund.approvals).unwrap_or_else(|_| "[]".into());
            let updated = sqlx::query(
                "UPDATE refunds SET approvals = $1, status = $2, paid_at = $3 WHERE id = $4 AND approvals = $5 \
                 AND status = 'requested'",
            )
            .bind(&approvals)
            .bind(refund.status.as_str())
            .bind((refund.status == RefundStatus::Paid).then(|| at.clone()))
            .bind(&refund.id)
            .bind(serde_json::to_string(expected).unwrap_or_else(|_| "[]".into()))
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() != 1 {
                return Err(StoreError::Concurrent(format!("refund {}", refund.id)));
            }
            vec![entry_at(
                &Actor::new(approver.clone(), "officer"),
                audit::Action::RefundApproval,
                &format!("refund/{}", refund.id),
                &canonical(&[&refund.id, &approvals, refund.status.as_str()]),
                &at,
            )]
        }
        Write::Confirmation(confirmation) => {
            sqlx::query(
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
            .await
            .map_err(duplicate("a bank confirmation"))?;
            let data = canonical(&[
                &confirmation.bank,
                &confirmation.confirmation_id,
                &confirmation.order_reference,
                &confirmation.amount,
                &confirmation.currency,
                &confirmation.body_sha256,
            ]);
            vec![entry_at(
                &Actor::new(format!("bank:{}", confirmation.bank), "bank"),
                audit::Action::PaymentConfirmation,
                &format!(
                    "bank-confirmation/{}/{}",
                    confirmation.bank, confirmation.confirmation_id
                ),
                &data,
                &confirmation.received_at,
            )]
        }
        Write::Receipt {
            id,
            declaration_id,
            content,
            sha256,
        } => {
            sqlx::query(
                "INSERT INTO receipts (id, declaration_id, content, sha256, issued_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(declaration_id)
            .bind(content)
            .bind(sha256)
            .bind(&at)
            .execute(&mut *tx)
            .await
            .map_err(duplicate("a receipt"))?;
            vec![entry_at(
                &Actor::system(),
                audit::Action::ReceiptIssue,
                &format!("receipt/{id}"),
                &canonical(&[id, declaration_id, sha256]),
                &at,
            )]
        }
        Write::InspectionAct {
            declaration_id,
            act,
            recorded_by,
            recorded_by_role,
        } => {
            sqlx::query(
                "INSERT INTO inspections (declaration_id, act, recorded_by, recorded_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (declaration_id) DO UPDATE SET act = excluded.act, recorded_by = excluded.recorded_by, \
                 recorded_at = excluded.recorded_at",
            )
            .bind(declaration_id)
            .bind(act)
            .bind(recorded_by)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            vec![entry_at(
                &Actor::new(recorded_by.clone(), recorded_by_role.clone()),
                audit::Action::InspectionAct,
                &format!("inspection/{declaration_id}"),
                &canonical(&[declaration_id, act]),
                &at,
            )]
        }
    })
}

/// A declaration's inspection: the examiner allocated, when, and the act once recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    pub declaration_id: String,
    pub examiner: Option<String>,
    pub allocated_at: Option<String>,
    pub act: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<String>,
}

fn inspection_from(row: &AnyRow) -> Result<Inspection, StoreError> {
    Ok(Inspection {
        declaration_id: row.try_get("declaration_id")?,
        examiner: row.try_get("examiner")?,
        allocated_at: row.try_get("allocated_at")?,
        act: row.try_get("act")?,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

impl Store {
    /// The inspections of these declarations (those that have one).
    pub async fn inspections(
        &self,
        declaration_ids: &[String],
    ) -> Result<Vec<Inspection>, StoreError> {
        let mut found = Vec::new();
        for chunk in declaration_ids.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT declaration_id, examiner, allocated_at, act, recorded_by, recorded_at FROM inspections \
                 WHERE declaration_id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(inspection_from(&row)?);
            }
        }
        Ok(found)
    }

    /// The active officers who may examine a declaration at `office` (those of that office and those of any
    /// office; every officer when the declaration names none), each with its open inspections.
    pub async fn examiner_workloads(
        &self,
        office: Option<&str>,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        workloads(&mut connection, office).await
    }

    /// Allocates `examiner` to a declaration that has no examiner yet (a second server allocating the same
    /// declaration at once changes nothing): whether this call allocated it. Audited.
    pub async fn allocate_examiner(
        &self,
        actor: &Actor,
        declaration_id: &str,
        examiner: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO inspections (declaration_id, examiner, allocated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (declaration_id) DO NOTHING",
        )
        .bind(declaration_id)
        .bind(examiner)
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            append(
                &mut tx,
                self.backend,
                vec![crate::audit_store::entry(
                    actor,
                    audit::Action::InspectionAllocate,
                    &format!("inspection/{declaration_id}"),
                    &canonical(&[declaration_id, examiner, &at]),
                    now,
                )],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }
}

impl Store {
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

    /// The confirmation a bank sent under this id, if any.
    pub async fn confirmation(
        &self,
        bank: &str,
        confirmation_id: &str,
    ) -> Result<Option<Confirmation>, StoreError> {
        sqlx::query(
            "SELECT bank, confirmation_id, order_reference, amount, currency, body_sha256, received_at \
             FROM bank_confirmations WHERE bank = $1 AND confirmation_id = $2",
        )
        .bind(bank)
        .bind(confirmation_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(confirmation_from)
        .transpose()
    }

    pub async fn confirmations(&self) -> Result<Vec<Confirmation>, StoreError> {
        let rows = sqlx::query(
            "SELECT bank, confirmation_id, order_reference, amount, currency, body_sha256, received_at \
             FROM bank_confirmations ORDER BY received_at, bank, confirmation_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(confirmation_from).collect()
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

    /// Refunds waiting for their approvals, oldest first, at most `limit` (the officer's page), each with its
    /// declaration's LRN.
    pub async fn refunds_awaiting(&self, limit: i64) -> Result<Vec<(Refund, String)>, StoreError> {
        let columns: Vec<String> = REFUND_COLUMNS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}, d.lrn FROM refunds r JOIN declarations d ON d.id = r.declaration_id \
             WHERE r.status = $1 ORDER BY r.requested_at, r.id LIMIT $2",
            columns.join(", ")
        )))
        .bind(RefundStatus::Requested.as_str())
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((refund_from(row)?, row.try_get("lrn")?)))
            .collect()
    }

    /// A declaration's refunds, oldest first.
    pub async fn refunds_for(&self, declaration_id: &str) -> Result<Vec<Refund>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        refunds_of(&mut connection, declaration_id).await
    }

    /// Every refund, for the reconciliation report and `ledger verify`.
    pub async fn refunds(&self) -> Result<Vec<Refund>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REFUND_COLUMNS} FROM refunds ORDER BY requested_at, id"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(refund_from)
        .collect()
    }

    /// The receipts issued for a declaration, oldest first: (id, issued at).
    pub async fn receipts_of(
        &self,
        declaration_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query(
            "SELECT id, issued_at FROM receipts WHERE declaration_id = $1 ORDER BY issued_at, id LIMIT 1000",
        )
        .bind(declaration_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("issued_at")?)))
        .collect()
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
