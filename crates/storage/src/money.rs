//! The ledger inside a declaration's transaction: what a decision reads (accounts locked in id order, with their
//! holders and authorities; the transfers of the declaration's receivable and secured accounts) and how what it
//! decided is written (accounts opened, transfers, reservations' states, totals, audit entries), all in the
//! transaction of the declaration's change.

use crate::ledger_store::{
    ACCOUNT_COLUMNS, TRANSFER_COLUMNS, account_from, insert_if_missing_sql, pending_from,
    pending_text, rule_columns, transfer_from,
};
use crate::{Backend, StoreError, format_time};
use ledger::customs;
use ledger::{AccountId, Ledger, LedgerError, PendingState, Transfer, TransferId, TransferKind};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// What a decision reads of the ledger (see `clearance::Books`).
#[derive(Clone, Debug, Default)]
pub struct Money {
    pub accounts: revenue::Accounts,
    pub transfers: Vec<Transfer>,
    pub pending: BTreeMap<TransferId, PendingState>,
}

/// The ledger as loaded for one transaction (or one SQLite batch): the accounts locked so far, and the holders of
/// the held ones.
#[derive(Default)]
pub(crate) struct Loaded {
    pub ledger: Ledger,
    holders: BTreeMap<AccountId, (Option<String>, BTreeSet<String>)>,
    /// Accounts looked for and not found (so that they are not looked for again).
    missing: BTreeSet<AccountId>,
    /// Transfers applied in this transaction, to write at its end.
    applied: Vec<Transfer>,
    opened: Vec<revenue::Opening>,
}

/// The transfers touching the declaration's receivable or secured account, oldest first, with the state of each
/// reservation among them.
async fn declaration_transfers(
    tx: &mut sqlx::AnyConnection,
    key: &str,
) -> Result<(Vec<Transfer>, BTreeMap<TransferId, PendingState>), StoreError> {
    let receivable = customs::receivable(key);
    let secured = customs::secured(key);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE debit IN ($1, $2) OR credit IN ($1, $2) ORDER BY seq"
    )))
    .bind(receivable.as_str())
    .bind(secured.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let transfers: Vec<Transfer> = rows.iter().map(transfer_from).collect::<Result<_, _>>()?;
    let mut pending = BTreeMap::new();
    for t in transfers.iter().filter(|t| t.kind == TransferKind::Pending) {
        let state = sqlx::query("SELECT state FROM ledger_pending WHERE id = $1")
            .bind(t.id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<String, _>("state"))
            .transpose()?
            .map(|s| pending_from(&s))
            .unwrap_or(PendingState::Open);
        pending.insert(t.id.clone(), state);
    }
    Ok((transfers, pending))
}

impl Loaded {
    /// Locks and loads the accounts of `ids` not loaded yet (in id order; `FOR UPDATE` on PostgreSQL), and the
    /// holders and authorities of deferment accounts and guarantees among them.
    async fn load(
        &mut self,
        tx: &mut sqlx::AnyConnection,
        backend: Backend,
        ids: &BTreeSet<AccountId>,
    ) -> Result<(), StoreError> {
        let sql = match backend {
            Backend::Sqlite => {
                format!("SELECT {ACCOUNT_COLUMNS}, owner FROM ledger_accounts WHERE id = $1")
            }
            Backend::Postgres => format!(
                "SELECT {ACCOUNT_COLUMNS}, owner FROM ledger_accounts WHERE id = $1 FOR UPDATE"
            ),
        };
        for id in ids {
            if self.ledger.account(id).is_some() || self.missing.contains(id) {
                continue;
            }
            let mut row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if row.is_none() && backend == Backend::Postgres {
                // An account that does not exist yet may be opened by this decision — and by a concurrent one. A
                // lock on its name, taken before the decision, makes the second wait for the first and then see
                // its account (the lock the missing row cannot give). Two-key advisory locks: another key space
                // than the audit chain's.
                sqlx::query("SELECT pg_advisory_xact_lock(7, hashtext($1))")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let Some(row) = row else {
                self.missing.insert(id.clone());
                continue;
            };
            self.ledger.restore(account_from(&row)?);
            if customs::kind(id).is_some_and(|(k, _)| k.is_held()) {
                let owner: Option<String> = row.try_get("owner")?;
                let authorised = sqlx::query(
                    "SELECT party FROM account_authorities WHERE account_id = $1 AND revoked_at IS NULL",
                )
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>("party"))
                .collect::<Result<BTreeSet<_>, _>>()?;
                self.holders.insert(id.clone(), (owner, authorised));
            }
        }
        Ok(())
    }

    /// What a decision about the declaration `key` reads: `wanted` accounts and those its transfers touch.
    pub async fn money(
        &mut self,
        tx: &mut sqlx::AnyConnection,
        backend: Backend,
        key: &str,
        wanted: &[AccountId],
    ) -> Result<Money, StoreError> {
        let (transfers, pending) = declaration_transfers(&mut *tx, key).await?;
        let mut ids: BTreeSet<AccountId> = wanted.iter().cloned().collect();
        for t in &transfers {
            ids.insert(t.debit.clone());
            ids.insert(t.credit.clone());
        }
        self.load(&mut *tx, backend, &ids).await?;
        // The declaration's reservations, so that a later post or void finds them.
        for t in &transfers {
            if self.ledger.transfer(&t.id).is_none() {
                self.ledger
                    .restore_transfer(t.clone(), pending.get(&t.id).copied());
            }
        }
        let accounts = ids
            .iter()
            .filter_map(|id| {
                let account = self.ledger.account(id)?.clone();
                let (holder, authorised) = self.holders.get(id).cloned().unwrap_or_default();
                Some((
                    id.clone(),
                    revenue::Holding {
                        account,
                        holder,
                        authorised,
                    },
                ))
            })
            .collect();
        Ok(Money {
            accounts,
            transfers,
            pending,
        })
    }

    /// Applies a decision's money: the accounts it opens, then its transfers as one (all or none). Accounts of the
    /// kinds that open on first use are opened in the transfers' currency. Nothing is written until
    /// [`Loaded::write`]; a refusal leaves the ledger as it was.
    pub async fn apply(
        &mut self,
        tx: &mut sqlx::AnyConnection,
        backend: Backend,
        opens: Vec<revenue::Opening>,
        transfers: Vec<Transfer>,
        now: OffsetDateTime,
    ) -> Result<Result<(), LedgerError>, StoreError> {
        if opens.is_empty() && transfers.is_empty() {
            return Ok(Ok(()));
        }
        let mut ids: BTreeSet<AccountId> = BTreeSet::new();
        for t in &transfers {
            ids.insert(t.debit.clone());
            ids.insert(t.credit.clone());
        }
        // Accounts not locked yet (a decision should have named them all; revenue and bank accounts are
        // unrestricted, so loading one late only costs a lock).
        let late: BTreeSet<AccountId> = ids
            .iter()
            .filter(|id| self.ledger.account(id).is_none() && !self.missing.contains(*id))
            .cloned()
            .collect();
        if !late.is_empty() {
            tracing::debug!(?late, "accounts loaded after the decision");
            self.load(&mut *tx, backend, &late).await?;
        }
        let mut opened = Vec::new();
        for opening in opens {
            if self.ledger.account(&opening.account.id).is_none() {
                self.ledger.restore(opening.account.clone());
                self.missing.remove(&opening.account.id);
                opened.push(opening);
            }
        }
        let opened_at = format_time(now);
        for id in &ids {
            if self.ledger.account(id).is_some() {
                continue;
            }
            let currency = transfers
                .iter()
                .find(|t| &t.debit == id || &t.credit == id)
                .map(|t| t.currency.clone())
                .expect("the id came from a transfer");
            if let Some(account) = customs::default_account(id, &currency) {
                let (rule, limit) = rule_columns(account.rule);
                sqlx::query(insert_if_missing_sql(backend))
                    .bind(id.as_str())
                    .bind(currency.as_str())
                    .bind(rule)
                    .bind(limit)
                    .bind(&opened_at)
                    .execute(&mut *tx)
                    .await?;
                self.missing.remove(id);
                let mut one = BTreeSet::new();
                one.insert(id.clone());
                self.load(&mut *tx, backend, &one).await?;
            }
        }
        match self.ledger.apply_all(transfers.clone()) {
            Ok(answers) => {
                for (transfer, answer) in transfers.into_iter().zip(answers) {
                    if answer == ledger::Applied::Applied {
                        self.applied.push(transfer);
                    }
                }
                for opening in opened {
                    self.holders.insert(
                        opening.account.id.clone(),
                        (Some(opening.holder.clone()), BTreeSet::new()),
                    );
                    self.opened.push(opening);
                }
                Ok(Ok(()))
            }
            Err(error) => {
                // `apply_all` left the ledger as it was; the accounts opened for the decision go too.
                for opening in &opened {
                    self.ledger.forget(&opening.account.id);
                }
                Ok(Err(error))
            }
        }
    }

    /// Writes what was applied: accounts opened (with their holder), transfers, reservations' states and the
    /// totals of every account they touched. Returns the audit entries to append (last, by the caller).
    pub async fn write(
        self,
        tx: &mut sqlx::AnyConnection,
        now: OffsetDateTime,
    ) -> Result<Vec<audit::NewEntry>, StoreError> {
        let mut entries = Vec::new();
        let at = format_time(now);
        for opening in &self.opened {
            let account = &opening.account;
            let (rule, limit) = rule_columns(account.rule);
            sqlx::query(
                "INSERT INTO ledger_accounts (id, currency, rule, rule_limit, debits_posted, credits_posted, \
                 debits_pending, credits_pending, opened_at, owner) VALUES ($1, $2, $3, $4, '0', '0', '0', '0', $5, $6)",
            )
            .bind(account.id.as_str())
            .bind(account.currency.as_str())
            .bind(rule)
            .bind(limit.clone())
            .bind(&at)
            .bind(&opening.holder)
            .execute(&mut *tx)
            .await?;
            entries.push(crate::audit_store::entry(
                &crate::audit_store::Actor::system(),
                audit::Action::LedgerAccount,
                &format!("ledger/account/{}", account.id),
                &crate::audit_store::canonical(&[
                    account.id.as_str(),
                    account.currency.as_str(),
                    rule,
                    limit.as_deref().unwrap_or(""),
                    &opening.holder,
                ]),
                now,
            ));
        }
        let refs: Vec<&Transfer> = self.applied.iter().collect();
        entries.extend(write_transfers(&mut *tx, &self.ledger, &refs).await?);
        Ok(entries)
    }
}

/// Inserts `applied` transfers, the states of the reservations they open or resolve, and the totals of the accounts
/// they touch (as `ledger` holds them now); returns their audit entries.
pub(crate) async fn write_transfers(
    tx: &mut sqlx::AnyConnection,
    ledger: &Ledger,
    applied: &[&Transfer],
) -> Result<Vec<audit::NewEntry>, StoreError> {
    let mut pending_changed: BTreeSet<&str> = BTreeSet::new();
    let mut touched: BTreeSet<&AccountId> = BTreeSet::new();
    let mut entries = Vec::new();
    for transfer in applied {
        let (kind, pending) = match &transfer.kind {
            TransferKind::Posted => ("posted", None),
            TransferKind::Pending => ("pending", None),
            TransferKind::PostPending(p) => ("post_pending", Some(p.as_str())),
            TransferKind::VoidPending(p) => ("void_pending", Some(p.as_str())),
        };
        sqlx::query(
            "INSERT INTO ledger_transfers (id, debit, credit, amount, currency, kind, pending_id, code, \
             reference, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(transfer.id.as_str())
        .bind(transfer.debit.as_str())
        .bind(transfer.credit.as_str())
        .bind(transfer.amount.to_string())
        .bind(transfer.currency.as_str())
        .bind(kind)
        .bind(pending)
        .bind(&transfer.code)
        .bind(&transfer.reference)
        .bind(&transfer.at)
        .execute(&mut *tx)
        .await?;
        match &transfer.kind {
            TransferKind::Pending => {
                pending_changed.insert(transfer.id.as_str());
            }
            TransferKind::PostPending(p) | TransferKind::VoidPending(p) => {
                pending_changed.insert(p.as_str());
            }
            TransferKind::Posted => {}
        }
        touched.insert(&transfer.debit);
        touched.insert(&transfer.credit);
        let amount = transfer.amount.to_string();
        let columns = [
            transfer.id.as_str(),
            transfer.debit.as_str(),
            transfer.credit.as_str(),
            amount.as_str(),
            transfer.currency.as_str(),
            kind,
            pending.unwrap_or(""),
            &transfer.code,
            &transfer.reference,
            &transfer.at,
        ];
        entries.push(audit::NewEntry {
            at: transfer.at.clone(),
            actor: "ledger".to_owned(),
            actor_role: "system".to_owned(),
            action: audit::Action::LedgerTransfer.as_str().to_owned(),
            subject: crate::audit_store::transfer_subject(transfer.id.as_str()),
            data_hash: audit::data_hash(&crate::audit_store::transfer_data(&columns)),
        });
    }
    for id in pending_changed {
        let state = ledger
            .pending_state(&TransferId::parse(id).expect("a stored id"))
            .unwrap_or(PendingState::Open);
        sqlx::query("DELETE FROM ledger_pending WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO ledger_pending (id, state) VALUES ($1, $2)")
            .bind(id)
            .bind(pending_text(state))
            .execute(&mut *tx)
            .await?;
    }
    for id in touched {
        let Some(account) = ledger.account(id) else {
            continue;
        };
        sqlx::query(
            "UPDATE ledger_accounts SET debits_posted = $1, credits_posted = $2, debits_pending = $3, \
             credits_pending = $4 WHERE id = $5",
        )
        .bind(account.debits_posted.to_string())
        .bind(account.credits_posted.to_string())
        .bind(account.debits_pending.to_string())
        .bind(account.credits_pending.to_string())
        .bind(account.id.as_str())
        .execute(&mut *tx)
        .await?;
    }
    Ok(entries)
}
