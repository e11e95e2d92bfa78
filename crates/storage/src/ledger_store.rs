//! The ledger's tables: accounts with their totals, append-only transfers, and the state of reservations.
//!
//! [`Store::transfer`] applies transfers atomically: it locks the accounts they touch (the write lock on SQLite,
//! `SELECT … FOR UPDATE` in id order on PostgreSQL, so concurrent payments on one account wait for each other
//! instead of losing an update), loads the transfers already stored under the same ids (a retry is answered
//! "already applied"), lets the pure [`ledger::Ledger`] decide, and writes the new totals and the transfers in the
//! same transaction.

use crate::{Backend, Store, StoreError, format_time};
use ledger::{Account, AccountId, Applied, Ledger, LedgerError, PendingState, Rule, Transfer};
use ledger::{TransferId, TransferKind};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// What became of a batch of transfers.
#[derive(Debug)]
pub enum TransferOutcome {
    Applied(Vec<Applied>),
    Refused(LedgerError),
}

pub(crate) fn decimal(row: &AnyRow, column: &str) -> Result<Decimal, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} {text:?} is not a decimal")))
}

pub(crate) fn account_from(row: &AnyRow) -> Result<Account, StoreError> {
    let id: String = row.try_get("id")?;
    let currency: String = row.try_get("currency")?;
    let rule: String = row.try_get("rule")?;
    let limit: Option<String> = row.try_get("rule_limit")?;
    let rule = match (rule.as_str(), limit) {
        ("unrestricted", _) => Rule::Unrestricted,
        ("no_overdraft", _) => Rule::NoOverdraft,
        ("debit_limit", Some(limit)) => Rule::DebitLimit(
            limit
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("limit {limit:?}")))?,
        ),
        (other, _) => return Err(StoreError::Corrupt(format!("account rule {other:?}"))),
    };
    Ok(Account {
        id: AccountId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        currency: declaration::Currency::parse(&currency)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        rule,
        debits_posted: decimal(row, "debits_posted")?,
        credits_posted: decimal(row, "credits_posted")?,
        debits_pending: decimal(row, "debits_pending")?,
        credits_pending: decimal(row, "credits_pending")?,
    })
}

pub(crate) fn transfer_from(row: &AnyRow) -> Result<Transfer, StoreError> {
    let corrupt = |e: LedgerError| StoreError::Corrupt(e.to_string());
    let kind: String = row.try_get("kind")?;
    let pending: Option<String> = row.try_get("pending_id")?;
    let pending = || -> Result<TransferId, StoreError> {
        TransferId::parse(pending.as_deref().unwrap_or_default()).map_err(corrupt)
    };
    let kind = match kind.as_str() {
        "posted" => TransferKind::Posted,
        "pending" => TransferKind::Pending,
        "post_pending" => TransferKind::PostPending(pending()?),
        "void_pending" => TransferKind::VoidPending(pending()?),
        other => return Err(StoreError::Corrupt(format!("transfer kind {other:?}"))),
    };
    let text = |column: &str| -> Result<String, StoreError> { Ok(row.try_get(column)?) };
    Ok(Transfer {
        id: TransferId::parse(&text("id")?).map_err(corrupt)?,
        debit: AccountId::parse(&text("debit")?).map_err(corrupt)?,
        credit: AccountId::parse(&text("credit")?).map_err(corrupt)?,
        amount: decimal(row, "amount")?,
        currency: declaration::Currency::parse(&text("currency")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        kind,
        code: text("code")?,
        reference: text("reference")?,
        at: text("at")?,
    })
}

pub(crate) fn rule_columns(rule: Rule) -> (&'static str, Option<String>) {
    match rule {
        Rule::Unrestricted => ("unrestricted", None),
        Rule::NoOverdraft => ("no_overdraft", None),
        Rule::DebitLimit(limit) => ("debit_limit", Some(limit.to_string())),
    }
}

/// Opens an account unless it exists (binds: id, currency, rule, limit, opened_at).
pub(crate) fn insert_if_missing_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "INSERT OR IGNORE INTO ledger_accounts (id, currency, rule, rule_limit, debits_posted, credits_posted, \
             debits_pending, credits_pending, opened_at) VALUES ($1, $2, $3, $4, '0', '0', '0', '0', $5)"
        }
        Backend::Postgres => {
            "INSERT INTO ledger_accounts (id, currency, rule, rule_limit, debits_posted, credits_posted, \
             debits_pending, credits_pending, opened_at) VALUES ($1, $2, $3, $4, '0', '0', '0', '0', $5) \
             ON CONFLICT (id) DO NOTHING"
        }
    }
}

pub(crate) fn pending_from(text: &str) -> PendingState {
    match text {
        "posted" => PendingState::Posted,
        "voided" => PendingState::Voided,
        _ => PendingState::Open,
    }
}

pub(crate) fn pending_text(state: PendingState) -> &'static str {
    match state {
        PendingState::Open => "open",
        PendingState::Posted => "posted",
        PendingState::Voided => "voided",
    }
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, currency, rule, rule_limit, debits_posted, credits_posted, debits_pending, credits_pending";
pub(crate) const TRANSFER_COLUMNS: &str =
    "id, debit, credit, amount, currency, kind, pending_id, code, reference, at";

impl Store {
    /// Opens an account (a deferment account with its limit, a guarantee with its reference amount, …), or
    /// changes the rule of an existing one (a new limit). Totals are never touched here.
    pub async fn open_account(
        &self,
        id: &AccountId,
        currency: &declaration::Currency,
        rule: Rule,
        now: OffsetDateTime,
    ) -> Result<Account, StoreError> {
        let _guard = self.lock().await;
        let (rule_name, limit) = rule_columns(rule);
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE ledger_accounts SET rule = $1, rule_limit = $2 WHERE id = $3 AND currency = $4",
        )
        .bind(rule_name)
        .bind(limit.clone())
        .bind(id.as_str())
        .bind(currency.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO ledger_accounts (id, currency, rule, rule_limit, debits_posted, credits_posted, \
                 debits_pending, credits_pending, opened_at) VALUES ($1, $2, $3, $4, '0', '0', '0', '0', $5)",
            )
            .bind(id.as_str())
            .bind(currency.as_str())
            .bind(rule_name)
            .bind(limit)
            .bind(format_time(now))
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let account = account_from(&row)?;
        // Opening an account or changing its limit is a decision on credit: recorded.
        let (rule_text, limit_text) = rule_columns(account.rule);
        let entry = crate::audit_store::entry(
            &crate::audit_store::Actor::system(),
            audit::Action::LedgerAccount,
            &format!("ledger/account/{}", id.as_str()),
            &crate::audit_store::canonical(&[
                id.as_str(),
                currency.as_str(),
                rule_text,
                limit_text.as_deref().unwrap_or(""),
            ]),
            now,
        );
        crate::audit_store::append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Opens an account unless it exists (then it is returned as it is): safe when two requests open it at once.
    pub async fn open_account_if_missing(
        &self,
        id: &AccountId,
        currency: &declaration::Currency,
        rule: Rule,
        now: OffsetDateTime,
    ) -> Result<Account, StoreError> {
        let _guard = self.lock().await;
        let (rule_name, limit) = rule_columns(rule);
        let insert = insert_if_missing_sql(self.backend);
        sqlx::query(insert)
            .bind(id.as_str())
            .bind(currency.as_str())
            .bind(rule_name)
            .bind(limit)
            .bind(format_time(now))
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_one(&self.pool)
        .await?;
        account_from(&row)
    }

    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account_from).transpose()
    }

    /// Every account, for the balance report and `verify`.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from).collect()
    }

    /// Records the party an account belongs to (its holder: the only declarant who may name it, besides those it
    /// authorises). Audited.
    pub async fn set_account_owner(&self, id: &AccountId, owner: &str) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE ledger_accounts SET owner = $1 WHERE id = $2")
            .bind(owner)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let entry = crate::audit_store::entry(
            &crate::audit_store::Actor::system(),
            audit::Action::LedgerAccountHolder,
            &format!("ledger/account/{}", id.as_str()),
            &crate::audit_store::canonical(&[id.as_str(), owner]),
            OffsetDateTime::now_utc(),
        );
        crate::audit_store::append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Registers that the holder of `account` authorises `party` to name it in its declarations (a standing
    /// authority). Granting again after a revocation restores it. Audited.
    pub async fn grant_account_authority(
        &self,
        actor: &crate::Actor,
        account: &AccountId,
        party: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let at = format_time(now);
        let updated = sqlx::query(
            "UPDATE account_authorities SET revoked_at = NULL, granted_by = $1, granted_at = $2 \
             WHERE account_id = $3 AND party = $4",
        )
        .bind(&actor.id)
        .bind(&at)
        .bind(account.as_str())
        .bind(party)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO account_authorities (account_id, party, granted_by, granted_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(account.as_str())
            .bind(party)
            .bind(&actor.id)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        let entry = crate::audit_store::entry(
            actor,
            audit::Action::LedgerAuthorityGrant,
            &format!("ledger/account/{}/authority/{party}", account.as_str()),
            &crate::audit_store::canonical(&[account.as_str(), party, &at]),
            now,
        );
        crate::audit_store::append(&mut tx, self.backend, vec![entry]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends an authority; false when there was none in force. Audited.
    pub async fn revoke_account_authority(
        &self,
        actor: &crate::Actor,
        account: &AccountId,
        party: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let at = format_time(now);
        let changed = sqlx::query(
            "UPDATE account_authorities SET revoked_at = $1 WHERE account_id = $2 AND party = $3 AND revoked_at IS NULL",
        )
        .bind(&at)
        .bind(account.as_str())
        .bind(party)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            let entry = crate::audit_store::entry(
                actor,
                audit::Action::LedgerAuthorityRevoke,
                &format!("ledger/account/{}/authority/{party}", account.as_str()),
                &crate::audit_store::canonical(&[account.as_str(), party, &at]),
                now,
            );
            crate::audit_store::append(&mut tx, self.backend, vec![entry]).await?;
        }
        tx.commit().await?;
        Ok(changed > 0)
    }

    /// The parties an account's holder authorises now.
    pub async fn account_authorities(
        &self,
        account: &AccountId,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT party FROM account_authorities WHERE account_id = $1 AND revoked_at IS NULL ORDER BY party",
        )
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("party")?))
        .collect()
    }

    /// Every holding (account, holder, and the parties it authorises now — or, with `ever`, ever did: an authority
    /// revoked later does not make the deferrals it allowed unauthorised).
    pub async fn holdings(&self, ever: bool) -> Result<revenue::Accounts, StoreError> {
        let mut out = revenue::Accounts::new();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ACCOUNT_COLUMNS}, owner FROM ledger_accounts ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let account = account_from(row)?;
            out.insert(
                account.id.clone(),
                revenue::Holding {
                    holder: row.try_get("owner")?,
                    authorised: Default::default(),
                    account,
                },
            );
        }
        let sql = if ever {
            "SELECT account_id, party FROM account_authorities"
        } else {
            "SELECT account_id, party FROM account_authorities WHERE revoked_at IS NULL"
        };
        for row in sqlx::query(sql).fetch_all(&self.pool).await? {
            let id: String = row.try_get("account_id")?;
            if let Some(holding) = AccountId::parse(&id).ok().and_then(|id| out.get_mut(&id)) {
                holding.authorised.insert(row.try_get("party")?);
            }
        }
        Ok(out)
    }

    /// The party an account belongs to, if recorded.
    pub async fn account_owner(&self, id: &AccountId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT owner FROM ledger_accounts WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>("owner"))
            .transpose()?
            .flatten())
    }

    /// Transfers touching an account, oldest first (a statement).
    pub async fn account_transfers(&self, id: &AccountId) -> Result<Vec<Transfer>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE debit = $1 OR credit = $1 ORDER BY seq"
        )))
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(transfer_from).collect()
    }

    /// The whole ledger as stored, for `verify`: every invariant is checked on it by the pure crate.
    pub async fn ledger(&self) -> Result<Ledger, StoreError> {
        let mut ledger = Ledger::new();
        for account in self.accounts().await? {
            ledger.restore(account);
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers ORDER BY seq"
        )))
        .fetch_all(&self.pool)
        .await?;
        let states = sqlx::query("SELECT id, state FROM ledger_pending")
            .fetch_all(&self.pool)
            .await?;
        let mut state_of = std::collections::HashMap::new();
        for row in &states {
            let id: String = row.try_get("id")?;
            let state: String = row.try_get("state")?;
            state_of.insert(id, state);
        }
        for row in &rows {
            let transfer = transfer_from(row)?;
            let pending = state_of.get(transfer.id.as_str()).map(|s| pending_from(s));
            ledger.restore_transfer(transfer, pending);
        }
        Ok(ledger)
    }

    /// Applies `transfers` atomically (see the module documentation). Accounts of the kinds that open on first use
    /// (receivables, revenue, bank, cash, secured) are opened in the transfers' currency. On SQLite the request
    /// joins the ledger's group-commit writer: requests waiting together share one transaction and one sync, each
    /// still applied whole or refused alone.
    pub async fn transfer(
        &self,
        transfers: Vec<Transfer>,
        now: OffsetDateTime,
    ) -> Result<TransferOutcome, StoreError> {
        if let Some(writer) = &self.ledger_writer {
            let (reply, answer) = tokio::sync::oneshot::channel();
            writer
                .send(LedgerJob {
                    transfers,
                    now,
                    reply,
                })
                .await
                .map_err(|_| StoreError::Unavailable("the ledger writer stopped".into()))?;
            return answer
                .await
                .map_err(|_| StoreError::Unavailable("the ledger writer stopped".into()))?;
        }
        // Two attempts: concurrent first uses of one new account, or of one transfer id, race on a unique key on
        // PostgreSQL; the second attempt sees the winner's row.
        match self.transfer_once(&transfers, now).await {
            Err(StoreError::Database(error)) => {
                tracing::debug!(%error, "ledger transfer retried");
                self.transfer_once(&transfers, now).await
            }
            other => other,
        }
    }

    async fn transfer_once(
        &self,
        transfers: &[Transfer],
        now: OffsetDateTime,
    ) -> Result<TransferOutcome, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let mut outcomes = apply_jobs(&mut tx, self.backend, &[transfers], now).await?;
        tx.commit().await?;
        Ok(outcomes.remove(0))
    }
}

/// A request waiting for the SQLite ledger writer.
pub(crate) struct LedgerJob {
    transfers: Vec<Transfer>,
    now: OffsetDateTime,
    reply: tokio::sync::oneshot::Sender<Result<TransferOutcome, StoreError>>,
}

/// Most ledger requests one SQLite transaction takes.
const MAX_LEDGER_BATCH: usize = 128;

/// The SQLite ledger writer: takes the requests waiting, applies them in order in one transaction (each whole or
/// refused alone), commits once, then answers each. A failed commit answers every request with the error and
/// applies none.
pub(crate) async fn sqlite_ledger_writer(
    pool: sqlx::AnyPool,
    lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    mut jobs: tokio::sync::mpsc::Receiver<LedgerJob>,
) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_LEDGER_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let now = batch[0].now;
        let started = std::time::Instant::now();
        // A panic while applying fails this batch alone; the writer goes on with the next one.
        let result = {
            use futures_util::FutureExt;
            std::panic::AssertUnwindSafe(async {
                let _guard = lock.lock().await;
                let mut tx = crate::begin_write(&pool, Backend::Sqlite).await?;
                let requests: Vec<&[Transfer]> =
                    batch.iter().map(|j| j.transfers.as_slice()).collect();
                let outcomes = apply_jobs(&mut tx, Backend::Sqlite, &requests, now).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(outcomes)
            })
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the ledger batch panicked".into())))
        };
        crate::observe::batch("ledger", batch.len(), started, result.is_ok());
        match result {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                let text = error.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(StoreError::Unavailable(format!(
                        "ledger batch failed: {text}"
                    ))));
                }
            }
        }
    }
}

/// Applies requests in order inside `tx`: each request's transfers whole, or the request refused alone. Loads the
/// accounts and earlier transfers the requests touch, lets the pure ledger decide, writes what it applied.
async fn apply_jobs(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    requests: &[&[Transfer]],
    now: OffsetDateTime,
) -> Result<Vec<TransferOutcome>, StoreError> {
    let all: Vec<&Transfer> = requests.iter().flat_map(|r| r.iter()).collect();
    let ids: BTreeSet<&AccountId> = all.iter().flat_map(|t| [&t.debit, &t.credit]).collect();
    let opened_at = format_time(now);
    let mut ledger = Ledger::new();
    for id in ids {
        let currency = all
            .iter()
            .find(|t| &t.debit == id || &t.credit == id)
            .map(|t| t.currency.clone())
            .expect("the id came from a transfer");
        if let Some(account) = ledger::customs::default_account(id, &currency) {
            let (rule, limit) = rule_columns(account.rule);
            let insert = insert_if_missing_sql(backend);
            sqlx::query(insert)
                .bind(id.as_str())
                .bind(currency.as_str())
                .bind(rule)
                .bind(limit)
                .bind(&opened_at)
                .execute(&mut **tx)
                .await?;
        }
        // In id order (the BTreeSet's), so two transactions never wait for each other in a cycle.
        let sql = match backend {
            Backend::Sqlite => {
                format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1")
            }
            Backend::Postgres => {
                format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1 FOR UPDATE")
            }
        };
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&mut **tx)
            .await?
        {
            ledger.restore(account_from(&row)?);
        }
    }
    // Transfers already stored under these ids, and the reservations being posted or voided.
    let mut wanted: BTreeSet<&str> = all.iter().map(|t| t.id.as_str()).collect();
    for t in &all {
        if let TransferKind::PostPending(p) | TransferKind::VoidPending(p) = &t.kind {
            wanted.insert(p.as_str());
        }
    }
    for id in wanted {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(row) = row {
            let transfer = transfer_from(&row)?;
            let state = sqlx::query("SELECT state FROM ledger_pending WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .map(|r| r.try_get::<String, _>("state"))
                .transpose()?
                .map(|s| pending_from(&s));
            ledger.restore_transfer(transfer, state);
        }
    }
    let mut outcomes = Vec::new();
    let mut to_write: Vec<&Transfer> = Vec::new();
    for request in requests {
        match ledger.apply_all(request.to_vec()) {
            Ok(answers) => {
                for (transfer, answer) in request.iter().zip(&answers) {
                    if *answer == Applied::Applied {
                        to_write.push(transfer);
                    }
                }
                outcomes.push(TransferOutcome::Applied(answers));
            }
            Err(refusal) => outcomes.push(TransferOutcome::Refused(refusal)),
        }
    }
    let entries = crate::money::write_transfers(&mut *tx, &ledger, &to_write).await?;
    crate::audit_store::append(tx, backend, entries).await?;
    Ok(outcomes)
}

impl Store {
    /// The checks of `revenue::check` over every declaration and the ledger: released declarations covered, no
    /// account charged for a declarant it does not authorise, refunds within what was paid, cancelled declarations'
    /// money owed back, the lifecycle's payments equal to the ledger's. State that cannot be read is reported too
    /// (never a panic).
    pub async fn money_findings(&self) -> Result<Vec<revenue::Finding>, StoreError> {
        use ledger::customs::{AccountKind, kind};
        let holdings = self.holdings(true).await?;
        let ledger = self.ledger().await?;
        let mut by_key: std::collections::HashMap<&str, Vec<&Transfer>> = Default::default();
        for t in ledger.transfers() {
            let mut keys = BTreeSet::new();
            for account in [&t.debit, &t.credit] {
                if let Some((AccountKind::Receivable | AccountKind::Secured, key)) = kind(account) {
                    keys.insert(key);
                }
            }
            for key in keys {
                by_key.entry(key).or_default().push(t);
            }
        }
        let mut findings = Vec::new();
        let mut stored_keys: std::collections::HashSet<String> = Default::default();
        let mut after = -1i64;
        loop {
            let rows = sqlx::query(
                "SELECT serial, id, declarant, lrn, state FROM declarations WHERE serial > $1 ORDER BY serial LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("serial")?;
            for row in &rows {
                let id: String = row.try_get("id")?;
                let declarant: String = row.try_get("declarant")?;
                let lrn: String = row.try_get("lrn")?;
                let state: String = row.try_get("state")?;
                let state: workflow::State = match serde_json::from_str(&state) {
                    Ok(state) => state,
                    Err(e) => {
                        findings.push(revenue::Finding {
                            declaration: id,
                            sentence: format!("its stored state cannot be read: {e}"),
                        });
                        continue;
                    }
                };
                let key = ledger::customs::declaration_key(&declarant, &lrn);
                let transfers = by_key.get(key.as_str()).cloned().unwrap_or_default();
                stored_keys.insert(key.clone());
                let position =
                    match revenue::Position::of(&key, transfers, |t| ledger.pending_state(t)) {
                        Ok(position) => position,
                        Err(e) => {
                            findings.push(revenue::Finding {
                                declaration: id,
                                sentence: e.to_string(),
                            });
                            continue;
                        }
                    };
                let subject = revenue::Subject {
                    id: &id,
                    declarant: &declarant,
                    status: state.status,
                    liabilities: state.liabilities.as_ref(),
                    paid: state.paid,
                };
                findings.extend(revenue::check(&subject, &position, &holdings));
            }
        }
        // Transit movements: their guarantee reserved while they run, freed once they end.
        for movement in self.transit_movements(None, None, i64::MAX).await? {
            let key = movement.ledger_key();
            let transfers = by_key.get(key.as_str()).cloned().unwrap_or_default();
            stored_keys.insert(key.clone());
            let position = match revenue::Position::of(&key, transfers, |t| ledger.pending_state(t))
            {
                Ok(position) => position,
                Err(e) => {
                    findings.push(revenue::Finding {
                        declaration: format!("transit {}", movement.mrn),
                        sentence: e.to_string(),
                    });
                    continue;
                }
            };
            let amount = movement
                .guarantee_amount
                .as_deref()
                .and_then(|a| a.parse().ok());
            let subject = revenue::TransitSubject {
                mrn: &movement.mrn,
                holder: movement.holder.as_deref().unwrap_or(&movement.owner),
                holds: movement.status.holds_guarantee(),
                guarantee: movement.guarantee_grn.as_deref().zip(amount),
            };
            findings.extend(revenue::check_transit(&subject, &position, &holdings));
        }
        // Money moves only with a stored declaration or movement: no receivable or reservation without one (a
        // lodgement that failed, or lost a race, left none).
        let mut orphans: Vec<&&str> = by_key
            .keys()
            .filter(|key| !stored_keys.contains(**key))
            .collect();
        orphans.sort();
        for key in orphans {
            findings.push(revenue::Finding {
                declaration: (*key).to_owned(),
                sentence: format!(
                    "the ledger holds transfers for {key}, which is no stored declaration"
                ),
            });
        }
        Ok(findings)
    }
}
