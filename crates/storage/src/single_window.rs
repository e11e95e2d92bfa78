//! The Single Window's data (docs/single-window.md): partner agencies and their LPCO types, applications and
//! decisions, the documents issued with what is left of them, the draws declarations make on them, and the outbox
//! of events agencies receive. Every change is one transaction with its audit entries and its outbox events.
//!
//! The outbox: a change inserts its events (`id` from a sequence); [`Store::sequence_outbox`] gives them positions
//! in the order they became visible, one sequencer at a time (an advisory lock on PostgreSQL, the write lock on
//! SQLite), so that a reader going `after=` a position never skips an event committed late. Publishers (the HTTP
//! feed, the NATS publisher) read by position; the `id` is the message id a broker deduplicates on.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Backend, Store, StoreError, format_time};
use lpco::application::{Application, Decision, DecisionRequest, Refused};
use lpco::{Agency, AgencyCode, DocumentCode, Draw, Held, Licence, LpcoType};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// An event for agencies (and the trader concerned), as the feed and the broker carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OutboxEvent {
    /// The message id (unique; a broker drops a repeat).
    pub id: i64,
    /// The order of the feed.
    pub position: i64,
    /// `application.filed`, `application.decided`, `declaration.lodged`, `declaration.cancelled`.
    pub topic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// What it is about (`application/ID`, `declaration/ID`).
    pub subject: String,
    /// The event's content (JSON).
    pub body: serde_json::Value,
    pub created_at: String,
}

/// An event to write with a change.
pub(crate) struct NewEvent {
    pub topic: &'static str,
    pub agency: Option<String>,
    pub party: Option<String>,
    pub subject: String,
    pub body: serde_json::Value,
}

pub(crate) async fn insert_events(
    tx: &mut sqlx::AnyConnection,
    events: &[NewEvent],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let at = format_time(now);
    for event in events {
        sqlx::query(
            "INSERT INTO outbox (topic, agency, party, subject, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event.topic)
        .bind(event.agency.clone())
        .bind(event.party.clone())
        .bind(&event.subject)
        .bind(event.body.to_string())
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

/// The JSON `body` column of a row read as `T` (`what` names it in the error).
fn body_of<T: serde::de::DeserializeOwned>(
    row: &sqlx::any::AnyRow,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(&row.try_get::<String, _>("body")?).map_err(|e| corrupt(what, e))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("serialising", e))
}

/// The LPCO types among `codes` and the issued documents named by `cited` (code, reference), locked on PostgreSQL
/// in key order: what a lodgement's decision reads.
pub(crate) async fn load_held(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    held: &mut Held,
    codes: &BTreeSet<String>,
    cited: &BTreeSet<(String, String)>,
) -> Result<(), StoreError> {
    for code in codes {
        let Ok(key) = DocumentCode::parse(code) else {
            continue;
        };
        if held.types.contains_key(&key) {
            continue;
        }
        let row = sqlx::query("SELECT body FROM lpco_types WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            let kind: LpcoType = body_of(&row, "an LPCO type")?;
            held.types.insert(key, kind);
        }
    }
    const READ: &str = "SELECT body FROM licences WHERE code = $1 AND reference = $2";
    const LOCK: &str = "SELECT body FROM licences WHERE code = $1 AND reference = $2 FOR UPDATE";
    for (code, reference) in cited {
        let Ok(key) = DocumentCode::parse(code) else {
            continue;
        };
        if !held.types.contains_key(&key)
            || held
                .licences
                .contains_key(&(key.clone(), reference.clone()))
        {
            continue;
        }
        let Some(row) = sqlx::query(READ)
            .bind(code)
            .bind(reference)
            .fetch_optional(&mut *tx)
            .await?
        else {
            continue;
        };
        let mut licence: Licence = body_of(&row, "a licence")?;
        // A document a use changes (a balance, a single use) is locked until the commit and read again under the
        // lock; one a use leaves as it is (multiple use, no balance) is not, so that lodgements citing it do not
        // wait for each other.
        if licence.is_consumed() && backend == Backend::Postgres {
            let row = sqlx::query(LOCK)
                .bind(code)
                .bind(reference)
                .fetch_one(&mut *tx)
                .await?;
            licence = body_of(&row, "a licence")?;
        }
        held.licences.insert((key, reference.clone()), licence);
    }
    Ok(())
}

/// Writes a lodgement's draws, the documents as they are left, the audit entries and the agencies' events.
pub(crate) async fn write_draws(
    tx: &mut sqlx::AnyConnection,
    held: &Held,
    draws: &[(String, Actor, Draw)],
    now: OffsetDateTime,
) -> Result<Vec<audit::NewEntry>, StoreError> {
    let at = format_time(now);
    let mut entries = Vec::new();
    let mut touched = BTreeSet::new();
    let mut events = Vec::new();
    for (declaration_id, actor, draw) in draws {
        sqlx::query(
            "INSERT INTO licence_draws (code, reference, declaration_id, item, quantity, drawn_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(draw.code.as_str())
        .bind(&draw.reference)
        .bind(declaration_id)
        .bind(i64::from(draw.item))
        .bind(draw.quantity.map(|q| q.to_string()))
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        entries.push(entry(
            actor,
            audit::Action::LpcoDraw,
            &format!("licence/{}/{}", draw.code, draw.reference),
            &canonical(&[
                declaration_id,
                &draw.item.to_string(),
                &draw.quantity.map(|q| q.to_string()).unwrap_or_default(),
            ]),
            now,
        ));
        touched.insert((draw.code.clone(), draw.reference.clone()));
        if let Some(licence) = held
            .licences
            .get(&(draw.code.clone(), draw.reference.clone()))
        {
            events.push(NewEvent {
                topic: "declaration.lodged",
                agency: Some(licence.agency.to_string()),
                party: Some(licence.holder.to_string()),
                subject: format!("declaration/{declaration_id}"),
                body: serde_json::json!({
                    "declaration": declaration_id,
                    "item": draw.item,
                    "document": draw.code,
                    "reference": draw.reference,
                    "quantity": draw.quantity.map(|q| q.to_string()),
                }),
            });
        }
    }
    for key in &touched {
        if let Some(licence) = held.licences.get(key).filter(|l| l.is_consumed()) {
            update_licence(tx, licence, &at).await?;
        }
    }
    insert_events(tx, &events, now).await?;
    Ok(entries)
}

async fn update_licence(
    tx: &mut sqlx::AnyConnection,
    licence: &Licence,
    at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE licences SET body = $1, updated_at = $2 WHERE code = $3 AND reference = $4",
    )
    .bind(to_json(licence)?)
    .bind(at)
    .bind(licence.code.as_str())
    .bind(&licence.reference)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Gives back what a declaration drew (it was cancelled or invalidated), in its transaction.
pub(crate) async fn give_back(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    declaration_id: &str,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Vec<audit::NewEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, code, reference, item, quantity FROM licence_draws \
         WHERE declaration_id = $1 AND returned_at IS NULL ORDER BY code, reference, seq",
    )
    .bind(declaration_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut by_licence: std::collections::BTreeMap<(String, String), Vec<Draw>> =
        Default::default();
    for row in &rows {
        let code: String = row.try_get("code")?;
        let quantity: Option<String> = row.try_get("quantity")?;
        let draw = Draw {
            code: DocumentCode::parse(&code).map_err(|e| corrupt("a draw", e))?,
            reference: row.try_get("reference")?,
            item: u32::try_from(row.try_get::<i64, _>("item")?).unwrap_or_default(),
            quantity: quantity
                .map(|q| q.parse().map_err(|e| corrupt("a draw's quantity", e)))
                .transpose()?,
        };
        by_licence
            .entry((code, draw.reference.clone()))
            .or_default()
            .push(draw);
    }
    let at = format_time(now);
    let mut entries = Vec::new();
    let mut events = Vec::new();
    let sql = match backend {
        Backend::Sqlite => "SELECT body FROM licences WHERE code = $1 AND reference = $2",
        Backend::Postgres => {
            "SELECT body FROM licences WHERE code = $1 AND reference = $2 FOR UPDATE"
        }
    };
    for ((code, reference), draws) in &by_licence {
        let row = sqlx::query(sql)
            .bind(code)
            .bind(reference)
            .fetch_one(&mut *tx)
            .await?;
        let mut licence: Licence = body_of(&row, "a licence")?;
        lpco::register::give_back(&mut licence, &draws.iter().collect::<Vec<_>>());
        update_licence(tx, &licence, &at).await?;
        entries.push(entry(
            actor,
            audit::Action::LpcoReturn,
            &format!("licence/{code}/{reference}"),
            &canonical(&[declaration_id, &licence.drawn.to_string()]),
            now,
        ));
        events.push(NewEvent {
            topic: "declaration.cancelled",
            agency: Some(licence.agency.to_string()),
            party: Some(licence.holder.to_string()),
            subject: format!("declaration/{declaration_id}"),
            body: serde_json::json!({
                "declaration": declaration_id,
                "document": code,
                "reference": reference,
                "left": licence.left().map(|l| l.to_string()),
            }),
        });
    }
    sqlx::query("UPDATE licence_draws SET returned_at = $1 WHERE declaration_id = $2 AND returned_at IS NULL")
        .bind(&at)
        .bind(declaration_id)
        .execute(&mut *tx)
        .await?;
    insert_events(tx, &events, now).await?;
    Ok(entries)
}

/// Keeps `agency_holds` as a declaration's agency events say, in their transaction, and tells the agencies
/// concerned: the one awaited (`declaration.awaiting`), and on a decision every agency of the declaration
/// (`declaration.agency_decided`: a decision taken elsewhere).
pub(crate) async fn follow_agency_event(
    tx: &mut sqlx::AnyConnection,
    declaration_id: &str,
    event_type: &str,
    data: &str,
    at: &str,
) -> Result<(), StoreError> {
    let kind: workflow::EventKind =
        serde_json::from_str(data).map_err(|e| corrupt("an agency event", e))?;
    let now = crate::parse_time(at)?;
    match kind {
        workflow::EventKind::AgencyAwaited { agency, reason } => {
            sqlx::query(
                "INSERT INTO agency_holds (declaration_id, agency, reason, standing, held_at) VALUES ($1, $2, $3, 'awaited', $4)",
            )
            .bind(declaration_id)
            .bind(&agency)
            .bind(&reason)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            insert_events(
                tx,
                &[NewEvent {
                    topic: "declaration.awaiting",
                    agency: Some(agency.clone()),
                    party: None,
                    subject: format!("declaration/{declaration_id}"),
                    body: serde_json::json!({"declaration": declaration_id, "agency": agency, "reason": reason}),
                }],
                now,
            )
            .await
        }
        workflow::EventKind::AgencyDecided { agency, decision } => {
            sqlx::query(
                "UPDATE agency_holds SET standing = $1, decided_at = COALESCE(decided_at, $2) \
                 WHERE declaration_id = $3 AND agency = $4",
            )
            .bind(decision.as_str())
            .bind(at)
            .bind(declaration_id)
            .bind(&agency)
            .execute(&mut *tx)
            .await?;
            let agencies = holds_of(tx, declaration_id).await?;
            let events: Vec<NewEvent> = agencies
                .into_iter()
                .map(|(other, _)| NewEvent {
                    topic: "declaration.agency_decided",
                    agency: Some(other),
                    party: None,
                    subject: format!("declaration/{declaration_id}"),
                    body: serde_json::json!({"declaration": declaration_id, "agency": agency, "decision": decision}),
                })
                .collect();
            insert_events(tx, &events, now).await
        }
        _ => {
            tracing::warn!(event_type, "not an agency event");
            Ok(())
        }
    }
}

/// The agencies a declaration waited or waits for, with their standing.
async fn holds_of(
    tx: &mut sqlx::AnyConnection,
    declaration_id: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT agency, standing FROM agency_holds WHERE declaration_id = $1 ORDER BY agency",
    )
    .bind(declaration_id)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("agency")?, r.try_get("standing")?)))
        .collect()
}

/// Tells every agency a declaration waited for that it is released.
pub(crate) async fn tell_release(
    tx: &mut sqlx::AnyConnection,
    declaration_id: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let events: Vec<NewEvent> = holds_of(tx, declaration_id)
        .await?
        .into_iter()
        .map(|(agency, _)| NewEvent {
            topic: "declaration.released",
            agency: Some(agency),
            party: None,
            subject: format!("declaration/{declaration_id}"),
            body: serde_json::json!({"declaration": declaration_id}),
        })
        .collect();
    insert_events(tx, &events, now).await
}

/// A declaration an agency is asked about, for its queue.
#[derive(Clone, Debug, Serialize)]
pub struct AgencyHold {
    pub declaration_id: String,
    pub mrn: Option<String>,
    pub declarant: String,
    pub status: String,
    pub reason: String,
    pub standing: String,
    pub held_at: String,
    pub decided_at: Option<String>,
}

/// Where an application decision ended.
#[derive(Debug)]
pub enum Decided {
    Done {
        application: Box<Application>,
        licence: Option<Box<Licence>>,
    },
    NotFound,
    /// The caller's agency does not own it.
    OtherAgency,
    Refused(Refused),
}

/// Most rows one list answers.
pub const MAX_LIST: i64 = 500;

impl Store {
    /// Registers an agency, or changes its name, contact and delivery; with `secret`, sets the key its webhooks are
    /// signed with, in the same transaction.
    pub async fn save_agency(
        &self,
        actor: &Actor,
        agency: &Agency,
        secret: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let body = to_json(agency)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO agencies (code, body, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (code) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(agency.code.as_str())
        .bind(&body)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if let Some(secret) = secret {
            sqlx::query(
                "INSERT INTO agency_secrets (agency, secret, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (agency) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at",
            )
            .bind(agency.code.as_str())
            .bind(secret)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::AgencySave,
                &format!("agency/{}", agency.code),
                body.as_bytes(),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The key an agency's webhooks are signed with, if one was set.
    pub async fn agency_secret(&self, agency: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query("SELECT secret FROM agency_secrets WHERE agency = $1")
                .bind(agency)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get("secret"))
                .transpose()?,
        )
    }

    pub async fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        let rows = sqlx::query("SELECT body FROM agencies ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| body_of(r, "an agency")).collect()
    }

    pub async fn agency(&self, code: &str) -> Result<Option<Agency>, StoreError> {
        let row = sqlx::query("SELECT body FROM agencies WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| body_of(&r, "an agency")).transpose()
    }

    /// Saves an LPCO type (its agency registered: [`StoreError::Corrupt`] otherwise is never reached, the caller
    /// checks); the code may move to no other agency.
    pub async fn save_lpco_type(
        &self,
        actor: &Actor,
        kind: &LpcoType,
        now: OffsetDateTime,
    ) -> Result<Result<(), String>, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let body = to_json(kind)?;
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query("SELECT agency FROM lpco_types WHERE code = $1")
            .bind(kind.code.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("agency"))
            .transpose()?;
        if let Some(owner) = owner
            && owner != kind.agency.as_str()
        {
            return Ok(Err(format!(
                "The document code {} belongs to agency {owner}.",
                kind.code
            )));
        }
        sqlx::query(
            "INSERT INTO lpco_types (code, agency, body, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(kind.code.as_str())
        .bind(kind.agency.as_str())
        .bind(&body)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::LpcoTypeSave,
                &format!("lpco-type/{}", kind.code),
                body.as_bytes(),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    pub async fn lpco_types(&self) -> Result<Vec<LpcoType>, StoreError> {
        let rows = sqlx::query("SELECT body FROM lpco_types ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| body_of(r, "an LPCO type")).collect()
    }

    /// The agency issuing each of `codes` that an agency registered.
    pub async fn agencies_issuing(
        &self,
        codes: &BTreeSet<String>,
    ) -> Result<std::collections::BTreeMap<String, lpco::Issuer>, StoreError> {
        let mut found = std::collections::BTreeMap::new();
        for code in codes.iter().take(64) {
            let row = sqlx::query("SELECT body FROM lpco_types WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = row {
                let kind: LpcoType = body_of(&row, "an LPCO type")?;
                found.insert(
                    code.clone(),
                    lpco::Issuer {
                        agency: kind.agency.to_string(),
                        hold: kind.when_missing == lpco::WhenMissing::Hold,
                    },
                );
            }
        }
        Ok(found)
    }

    pub async fn lpco_type(&self, code: &str) -> Result<Option<LpcoType>, StoreError> {
        let row = sqlx::query("SELECT body FROM lpco_types WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| body_of(&r, "an LPCO type")).transpose()
    }

    /// Stores a filed application with its audit entry and the agency's event.
    pub async fn file_application(
        &self,
        actor: &Actor,
        application: &Application,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let body = to_json(application)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO lpco_applications (id, agency, code, applicant, status, body, filed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&application.id)
        .bind(application.agency.as_str())
        .bind(application.request.document_code.as_str())
        .bind(application.applicant.as_str())
        .bind(application.status.as_str())
        .bind(&body)
        .bind(&application.filed_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "an application"))?;
        for sha256 in &application.request.documents {
            sqlx::query(
                "INSERT INTO application_documents (application_id, sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&application.id)
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        }
        insert_events(
            &mut tx,
            &[NewEvent {
                topic: "application.filed",
                agency: Some(application.agency.to_string()),
                party: Some(application.applicant.to_string()),
                subject: format!("application/{}", application.id),
                body: serde_json::to_value(application)
                    .map_err(|e| corrupt("an application", e))?,
            }],
            now,
        )
        .await?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::LpcoApplication,
                &format!("application/{}", application.id),
                body.as_bytes(),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn application(&self, id: &str) -> Result<Option<Application>, StoreError> {
        let row = sqlx::query("SELECT body FROM lpco_applications WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| body_of(&r, "an application")).transpose()
    }

    /// The applications of an agency (open ones only when `open`) or of an applicant, oldest first.
    pub async fn applications(
        &self,
        agency: Option<&str>,
        applicant: Option<&str>,
        open: bool,
        limit: i64,
    ) -> Result<Vec<Application>, StoreError> {
        let rows = sqlx::query(
            "SELECT body FROM lpco_applications WHERE ($1 IS NULL OR agency = $1) AND ($2 IS NULL OR applicant = $2) \
             AND ($3 = 0 OR status IN ('filed', 'information_requested', 'joint_inspection')) \
             ORDER BY filed_at, id LIMIT $4",
        )
        .bind(agency)
        .bind(applicant)
        .bind(i64::from(open))
        .bind(limit.clamp(1, MAX_LIST))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| body_of(r, "an application")).collect()
    }

    /// An agency officer's decision on application `id`: decided by [`lpco::application::decide`] on the
    /// application as locked, stored with the document it issues, the audit entries and the events — or nothing.
    pub async fn decide_application(
        &self,
        actor: &Actor,
        agency: &AgencyCode,
        id: &str,
        request: &DecisionRequest,
        today: time::Date,
        now: OffsetDateTime,
    ) -> Result<Decided, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let sql = match self.backend {
            Backend::Sqlite => "SELECT body FROM lpco_applications WHERE id = $1",
            Backend::Postgres => "SELECT body FROM lpco_applications WHERE id = $1 FOR UPDATE",
        };
        let Some(row) = sqlx::query(sql).bind(id).fetch_optional(&mut *tx).await? else {
            return Ok(Decided::NotFound);
        };
        let mut application: Application = body_of(&row, "an application")?;
        if &application.agency != agency {
            return Ok(Decided::OtherAgency);
        }
        let kind: LpcoType = {
            let row = sqlx::query("SELECT body FROM lpco_types WHERE code = $1")
                .bind(application.request.document_code.as_str())
                .fetch_one(&mut *tx)
                .await?;
            body_of(&row, "an LPCO type")?
        };
        if self.backend == Backend::Postgres {
            // References are numbered per agency and year: two approvals at once take turns.
            sqlx::query("SELECT pg_advisory_xact_lock(12, hashtext($1))")
                .bind(agency.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let year = today.year();
        let prefix = format!("{agency}-{year}-");
        let issued: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM licences WHERE agency = $1 AND reference LIKE $2",
        )
        .bind(agency.as_str())
        .bind(format!("{prefix}%"))
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let reference = format!("{prefix}{:06}", issued + 1);
        let (status, licence) =
            match lpco::application::decide(&application, &kind, request, &reference, today) {
                Ok(decided) => decided,
                Err(refused) => return Ok(Decided::Refused(refused)),
            };
        application.status = status;
        application.decisions.push(Decision {
            decision: request.decision,
            reasons: request.reasons.clone(),
            conditions: request.conditions.clone(),
            by: actor.id.clone(),
            at: at.clone(),
            licence: licence.as_ref().map(|l| l.reference.clone()),
        });
        let body = to_json(&application)?;
        sqlx::query(
            "UPDATE lpco_applications SET status = $1, body = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(&body)
        .bind(&at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let mut entries = vec![entry(
            actor,
            audit::Action::LpcoDecision,
            &format!("application/{id}"),
            body.as_bytes(),
            now,
        )];
        if let Some(licence) = &licence {
            let licence_body = to_json(licence)?;
            sqlx::query(
                "INSERT INTO licences (code, reference, agency, holder, application_id, body, issued_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(licence.code.as_str())
            .bind(&licence.reference)
            .bind(licence.agency.as_str())
            .bind(licence.holder.as_str())
            .bind(id)
            .bind(&licence_body)
            .bind(&at)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "a licence"))?;
            entries.push(entry(
                actor,
                audit::Action::LpcoIssue,
                &format!("licence/{}/{}", licence.code, licence.reference),
                licence_body.as_bytes(),
                now,
            ));
        }
        insert_events(
            &mut tx,
            &[NewEvent {
                topic: "application.decided",
                agency: Some(application.agency.to_string()),
                party: Some(application.applicant.to_string()),
                subject: format!("application/{id}"),
                body: serde_json::json!({
                    "application": id,
                    "status": status.as_str(),
                    "decision": application.decisions.last(),
                    "licence": licence,
                }),
            }],
            now,
        )
        .await?;
        append(&mut tx, self.backend, entries).await?;
        tx.commit().await?;
        Ok(Decided::Done {
            application: Box::new(application),
            licence: licence.map(Box::new),
        })
    }

    pub async fn licence(
        &self,
        code: &str,
        reference: &str,
    ) -> Result<Option<Licence>, StoreError> {
        let row = sqlx::query("SELECT body FROM licences WHERE code = $1 AND reference = $2")
            .bind(code)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| body_of(&r, "a licence")).transpose()
    }

    /// The declarations an agency is asked about and has not released (awaited, held, joint inspection), oldest
    /// first; with `all`, those it decided too.
    pub async fn agency_holds(
        &self,
        agency: &str,
        all: bool,
        limit: i64,
    ) -> Result<Vec<AgencyHold>, StoreError> {
        let rows = sqlx::query(
            "SELECT h.declaration_id, d.mrn, d.declarant, d.status, h.reason, h.standing, h.held_at, h.decided_at \
             FROM agency_holds h JOIN declarations d ON d.id = h.declaration_id \
             WHERE h.agency = $1 AND ($2 = 1 OR h.standing IN ('awaited', 'held_for_inspection', 'joint_inspection')) \
             AND ($2 = 1 OR d.status NOT IN ('cancelled', 'released', 'rejected')) \
             ORDER BY h.held_at, h.declaration_id LIMIT $3",
        )
        .bind(agency)
        .bind(i64::from(all))
        .bind(limit.clamp(1, MAX_LIST))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AgencyHold {
                    declaration_id: r.try_get("declaration_id")?,
                    mrn: r.try_get("mrn")?,
                    declarant: r.try_get("declarant")?,
                    status: r.try_get("status")?,
                    reason: r.try_get("reason")?,
                    standing: r.try_get("standing")?,
                    held_at: r.try_get("held_at")?,
                    decided_at: r.try_get("decided_at")?,
                })
            })
            .collect()
    }

    /// Whether `agency` was asked about declaration `id`.
    pub async fn agency_asked(&self, agency: &str, id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM agency_holds WHERE declaration_id = $1 AND agency = $2",
        )
        .bind(id)
        .bind(agency)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Stores a document once by its SHA-256 (computed here), and records `party` as one who uploaded it; audited.
    /// Returns whether its bytes were new.
    pub async fn save_document(
        &self,
        actor: &Actor,
        party: &str,
        media_type: &str,
        content: &[u8],
        now: OffsetDateTime,
    ) -> Result<(String, bool), StoreError> {
        use sha2::Digest;
        let _guard = self.lock().await;
        let sha256 = hex::encode(sha2::Sha256::digest(content));
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO documents (sha256, media_type, size, content, uploaded_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(media_type)
        .bind(content.len() as i64)
        .bind(content.to_vec())
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        sqlx::query(
            "INSERT INTO document_owners (sha256, party, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256, party) DO NOTHING",
        )
        .bind(&sha256)
        .bind(party)
        .bind(&actor.id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::DocumentUpload,
                &format!("document/{sha256}"),
                &canonical(&[party, media_type, &content.len().to_string()]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok((sha256, inserted))
    }

    /// A document's media type and bytes, checked against its SHA-256 (a mismatch is [`StoreError::Corrupt`]).
    pub async fn document(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        use sha2::Digest;
        let Some(row) = sqlx::query("SELECT media_type, content FROM documents WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let content: Vec<u8> = row.try_get("content")?;
        if hex::encode(sha2::Sha256::digest(&content)) != sha256 {
            return Err(StoreError::Corrupt(format!(
                "document {sha256} does not match its SHA-256"
            )));
        }
        Ok(Some((row.try_get("media_type")?, content)))
    }

    /// Whether `party` uploaded document `sha256`.
    pub async fn document_owned_by(&self, sha256: &str, party: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM document_owners WHERE sha256 = $1 AND party = $2")
                .bind(sha256)
                .bind(party)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// Whether an application to `agency` cites document `sha256`.
    pub async fn document_cited_to(&self, sha256: &str, agency: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "SELECT 1 AS one FROM application_documents d JOIN lpco_applications a ON a.id = d.application_id \
             WHERE d.sha256 = $1 AND a.agency = $2",
        )
        .bind(sha256)
        .bind(agency)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }

    /// Records a document an agency issued outside Aduana (an import of its register, or a benchmark): its code must
    /// be a registered LPCO type. Audited.
    pub async fn issue_licence(
        &self,
        actor: &Actor,
        licence: &Licence,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let body = to_json(licence)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO licences (code, reference, agency, holder, body, issued_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(licence.code.as_str())
        .bind(&licence.reference)
        .bind(licence.agency.as_str())
        .bind(licence.holder.as_str())
        .bind(&body)
        .bind(&at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "a licence"))?;
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::LpcoIssue,
                &format!("licence/{}/{}", licence.code, licence.reference),
                body.as_bytes(),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives the outbox's new events their positions, in the order they became visible (one sequencer at a time);
    /// returns how many.
    pub async fn sequence_outbox(&self) -> Result<u64, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(13, 0)")
                .execute(&mut *tx)
                .await?;
        }
        let highest: Option<i64> = sqlx::query("SELECT MAX(position) AS p FROM outbox")
            .fetch_one(&mut *tx)
            .await?
            .try_get("p")?;
        let ids: Vec<i64> =
            sqlx::query("SELECT id FROM outbox WHERE position IS NULL ORDER BY id LIMIT 1000")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
        let mut next = highest.unwrap_or(0);
        for id in &ids {
            next += 1;
            sqlx::query("UPDATE outbox SET position = $1 WHERE id = $2")
                .bind(next)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// The positioned events after `after`, oldest first: of one agency, of one party, or all (`None`, `None`).
    pub async fn outbox(
        &self,
        agency: Option<&str>,
        party: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, position, topic, agency, party, subject, body, created_at FROM outbox \
             WHERE position > $1 AND ($2 IS NULL OR agency = $2) AND ($3 IS NULL OR party = $3) \
             ORDER BY position LIMIT $4",
        )
        .bind(after)
        .bind(agency)
        .bind(party)
        .bind(limit.clamp(1, MAX_LIST))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEvent {
                    id: r.try_get("id")?,
                    position: r.try_get("position")?,
                    topic: r.try_get("topic")?,
                    agency: r.try_get("agency")?,
                    party: r.try_get("party")?,
                    subject: r.try_get("subject")?,
                    body: body_of(r, "an event")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// How many events the outbox holds, and how many of them the publisher `name` has not had acknowledged.
    pub async fn outbox_backlog(&self, name: &str) -> Result<(i64, i64), StoreError> {
        let cursor = self.outbox_cursor(name).await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM outbox")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let waiting: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE position IS NULL OR position > $1")
                .bind(cursor)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
        Ok((total, waiting))
    }

    /// A publisher's position (0 before it published anything).
    pub async fn outbox_cursor(&self, name: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT position FROM outbox_cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("position")).transpose()?.unwrap_or(0))
    }

    /// Moves a publisher's position forward (never back).
    pub async fn advance_outbox_cursor(&self, name: &str, position: i64) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO outbox_cursors (name, position) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE outbox_cursors.position < excluded.position",
        )
        .bind(name)
        .bind(position)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
