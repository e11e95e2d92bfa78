//! The audit trail in real databases: every lodgement's events and ledger transfers have entries; the database
//! refuses to change them (triggers in both; on PostgreSQL, the application's role has no right to); and someone
//! who gets around that — the owner disabling the triggers — is found by `verify_audit`, which names the first
//! bad entry. A chain rewritten consistently is found by the signed checkpoint.

mod common;

use common::{Backend, TestApp, json};
use sqlx::Row;

const DECLARANT: &str = "GB603202734852";
const MINIMAL: &[u8] = include_bytes!("../../wco/tests/minimal.xml");

async fn connect(app: &TestApp) -> sqlx::AnyConnection {
    let mut connection = app.store.pool().acquire().await.unwrap().detach();
    if app.backend == Backend::Sqlite {
        sqlx::raw_sql("PRAGMA foreign_keys = ON")
            .execute(&mut connection)
            .await
            .unwrap();
    }
    connection
}

/// As the database owner: lets rows of `table` be changed (what the triggers forbid).
async fn disable_guards(app: &TestApp, connection: &mut sqlx::AnyConnection, table: &str) {
    let statements: Vec<String> = match app.backend {
        Backend::Sqlite => {
            let names: Vec<String> = sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1",
            )
            .bind(table)
            .fetch_all(&mut *connection)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect();
            names.iter().map(|n| format!("DROP TRIGGER {n}")).collect()
        }
        Backend::Postgres => vec![format!("ALTER TABLE {table} DISABLE TRIGGER USER")],
    };
    for statement in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *connection)
            .await
            .unwrap();
    }
}

async fn lodge_some(app: &TestApp, count: usize) {
    let trader = app.user("trader", Some(DECLARANT)).await;
    for n in 0..count {
        let xml = common::with_lrn(MINIMAL, &format!("AUDIT-{n}"));
        let (status, body) = json(app.lodge_xml(&trader, &xml).await).await;
        assert_eq!(status, 201, "{body}");
        // A duty owed and paid, as the ledger records for a declaration.
        let id = body["id"].as_str().unwrap();
        let transfer = ledger::Transfer {
            id: ledger::TransferId::parse(&format!("assessment:{id}")).unwrap(),
            debit: ledger::customs::receivable(id),
            credit: ledger::customs::revenue("A00"),
            amount: rust_decimal::Decimal::new(12_345, 2),
            currency: declaration::Currency::parse("GBP").unwrap(),
            kind: ledger::TransferKind::Posted,
            code: "assessment".into(),
            reference: id.to_owned(),
            at: "2026-11-29T12:00:00.000000Z".into(),
        };
        let outcome = app
            .store
            .transfer(vec![transfer], time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        assert!(
            matches!(outcome, storage::TransferOutcome::Applied(_)),
            "{outcome:?}"
        );
    }
}

fn key() -> audit::SigningKey {
    audit::signing_key([42; 32])
}

async fn checkpoint_now(app: &TestApp) -> audit::Checkpoint {
    let head = app.store.audit_head().await.unwrap();
    audit::Checkpoint::sign(&head, "2026-11-29T12:00:00.000000Z", &key())
}

#[tokio::test]
async fn tampering_in_the_database_is_found_and_the_first_bad_entry_named() {
    for backend in common::backends() {
        let app = TestApp::spawn_with(backend, |p| {
            p.rules = selectivity::RuleSet::parse("").unwrap()
        })
        .await;
        lodge_some(&app, 4).await;
        let trusted = [key().verifying_key()];
        let checkpoint = checkpoint_now(&app).await;
        let report = app
            .store
            .verify_audit(vec![checkpoint.clone()], &trusted)
            .await
            .unwrap();
        assert!(report.is_ok(), "{backend:?}: {report:?}");
        assert!(
            report.events_checked >= 4 && report.transfers_checked >= 1,
            "{report:?}"
        );
        let entries = app.store.audit_entries(0, 1000).await.unwrap();
        assert!(entries.len() >= 8);

        // The triggers refuse changes to the trail.
        let mut db = connect(&app).await;
        for statement in [
            "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
            "DELETE FROM audit_log WHERE seq = 1",
        ] {
            let error = sqlx::query(statement).execute(&mut db).await.unwrap_err();
            assert!(
                error.to_string().contains("append-only"),
                "{backend:?}: {error}"
            );
        }

        // The owner gets around them: every edit is found.
        disable_guards(&app, &mut db, "audit_log").await;
        let third = entries[2].clone();
        sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3")
            .execute(&mut db)
            .await
            .unwrap();
        let finding = app
            .store
            .verify_audit(vec![checkpoint.clone()], &trusted)
            .await
            .unwrap()
            .chain
            .unwrap_err();
        assert_eq!(
            (finding.first_bad, &finding.problem),
            (3, &audit::Problem::Edited),
            "{backend:?}"
        );
        sqlx::query("UPDATE audit_log SET actor = $1 WHERE seq = 3")
            .bind(&third.actor)
            .execute(&mut db)
            .await
            .unwrap();
        assert!(
            app.store
                .verify_audit(vec![checkpoint.clone()], &trusted)
                .await
                .unwrap()
                .is_ok()
        );

        // A deleted entry.
        sqlx::query("DELETE FROM audit_log WHERE seq = 5")
            .execute(&mut db)
            .await
            .unwrap();
        let finding = app
            .store
            .verify_audit(vec![checkpoint.clone()], &trusted)
            .await
            .unwrap()
            .chain
            .unwrap_err();
        assert_eq!(finding.first_bad, 5, "{backend:?}: {finding}");
        assert!(
            finding.to_string().contains("entry 5 is missing"),
            "{finding}"
        );

        // The chain rewritten from entry 2 on, consistently, as the owner could: only the checkpoint shows it.
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut db)
            .await
            .unwrap();
        let mut head = audit::Head::genesis();
        for (i, original) in entries.iter().enumerate() {
            let mut new = audit::NewEntry {
                at: original.at.clone(),
                actor: original.actor.clone(),
                actor_role: original.actor_role.clone(),
                action: original.action.clone(),
                subject: original.subject.clone(),
                data_hash: original.data_hash.clone(),
            };
            if i == 1 {
                new.actor = "forged".into();
            }
            let entry = head.append(new);
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(entry.seq as i64)
            .bind(&entry.at)
            .bind(&entry.actor)
            .bind(&entry.actor_role)
            .bind(&entry.action)
            .bind(&entry.subject)
            .bind(&entry.data_hash)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(&mut db)
            .await
            .unwrap();
        }
        assert!(
            app.store
                .verify_audit(vec![], &trusted)
                .await
                .unwrap()
                .is_ok(),
            "without checkpoints it holds"
        );
        let finding = app
            .store
            .verify_audit(vec![checkpoint.clone()], &trusted)
            .await
            .unwrap()
            .chain
            .unwrap_err();
        assert!(
            matches!(finding.problem, audit::Problem::Rewritten { .. }),
            "{backend:?}: {finding}"
        );
        assert_eq!(finding.first_bad, 1);

        // An event edited in the event log (its trail entry untouched) is found by its hash.
        sqlx::query("DELETE FROM audit_log")
            .execute(&mut db)
            .await
            .unwrap();
        for entry in &entries {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, actor_role, action, subject, data_hash, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(entry.seq as i64)
            .bind(&entry.at)
            .bind(&entry.actor)
            .bind(&entry.actor_role)
            .bind(&entry.action)
            .bind(&entry.subject)
            .bind(&entry.data_hash)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(&mut db)
            .await
            .unwrap();
        }
        assert!(
            app.store
                .verify_audit(vec![checkpoint.clone()], &trusted)
                .await
                .unwrap()
                .is_ok()
        );
        disable_guards(&app, &mut db, "events").await;
        sqlx::query("UPDATE events SET reason = 'nothing happened' WHERE seq = (SELECT MIN(seq) FROM events)")
            .execute(&mut db)
            .await
            .unwrap();
        let report = app
            .store
            .verify_audit(vec![checkpoint.clone()], &trusted)
            .await
            .unwrap();
        assert!(report.chain.is_ok());
        assert_eq!(report.rows.len(), 1, "{backend:?}: {report:?}");
        assert!(
            report.rows[0].contains("differs from what the audit trail recorded"),
            "{report:?}"
        );
        // So is a ledger transfer.
        disable_guards(&app, &mut db, "ledger_transfers").await;
        sqlx::query("UPDATE ledger_transfers SET amount = '0.01' WHERE seq = (SELECT MIN(seq) FROM ledger_transfers)")
            .execute(&mut db)
            .await
            .unwrap();
        let report = app
            .store
            .verify_audit(vec![checkpoint], &trusted)
            .await
            .unwrap();
        assert!(
            report.rows.iter().any(|r| r.starts_with("ledger transfer")),
            "{report:?}"
        );
    }
}

/// PostgreSQL: the application runs as a role that may read and append to the history tables and nothing more;
/// even with the triggers out of the way it could not change the trail.
#[tokio::test]
async fn on_postgresql_the_application_role_cannot_change_history() {
    if !common::backends().contains(&Backend::Postgres) {
        return;
    }
    let owner_app = TestApp::spawn(Backend::Postgres).await;
    lodge_some(&owner_app, 1).await;
    let role = format!("aduana_app_{}", uuid::Uuid::new_v4().simple());
    let mut db = connect(&owner_app).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN")))
        .execute(&mut db)
        .await
        .unwrap();
    owner_app.store.grant_application_role(&role).await.unwrap();
    let url = owner_app
        .url()
        .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    assert_ne!(url, owner_app.url());

    // The whole service runs as that role: lodging, assessing, the ledger, the trail.
    let app = TestApp::spawn_on(Backend::Postgres, &url).await;
    lodge_some(&app, 3).await;
    let report = app.store.verify_audit(vec![], &[]).await.unwrap();
    assert!(report.is_ok(), "{report:?}");

    let mut connection = app.store.pool().acquire().await.unwrap().detach();
    for statement in [
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE events SET reason = 'x'",
        "DELETE FROM ledger_transfers",
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        "DROP TABLE audit_log",
    ] {
        let error = sqlx::raw_sql(statement)
            .execute(&mut connection)
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("permission denied") || text.contains("must be owner"),
            "{statement}: {text}"
        );
    }
}
