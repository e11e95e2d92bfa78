//! Users, API tokens, portal sessions and representations. Every change here is a permission change and is
//! written to the audit trail in the same transaction. Secrets are never stored: tokens and session ids as their
//! SHA-256, passwords as argon2id strings made by the caller.

use crate::audit_store::{Actor, append, canonical, entry};
use crate::{Store, StoreError, User, format_time};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    pub party: Option<String>,
    /// The portal login, if the user signs in to the portal.
    pub login: Option<String>,
}

/// An API token, described (its secret is shown once, at creation, and never stored).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Token {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// `*` for everything the role allows, or scope names (see `api::policy::Scope`).
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A portal session, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: String,
    pub ended_at: Option<String>,
}

const USER_COLUMNS: &str = "id, name, role, party, login, disabled_at, created_at, office";

pub(crate) fn user_from(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        party: row.try_get("party")?,
        login: row.try_get("login")?,
        disabled_at: row.try_get("disabled_at")?,
        created_at: row.try_get("created_at")?,
        office: row.try_get("office")?,
    })
}

fn token_from(row: &AnyRow) -> Result<Token, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    Ok(Token {
        id: row.try_get("token_id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("token_name")?,
        scopes: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: row.try_get("token_created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str = "t.id AS token_id, t.user_id, t.name AS token_name, t.scopes, \
    t.created_at AS token_created_at, t.expires_at, t.revoked_at";

impl Store {
    /// Creates a user with a first API token (all scopes, no expiry): the quick path for scripts and tests.
    pub async fn add_user(
        &self,
        name: &str,
        role: &str,
        party: Option<&str>,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<User, StoreError> {
        let user = self
            .add_user_as(
                &Actor::cli(),
                NewUser {
                    name: name.to_owned(),
                    role: role.to_owned(),
                    party: party.map(str::to_owned),
                    login: None,
                },
                now,
            )
            .await?;
        self.create_token(
            &Actor::cli(),
            &user.id,
            "initial",
            &["*".to_owned()],
            None,
            token_hash,
            now,
        )
        .await?;
        Ok(user)
    }

    pub async fn add_user_as(
        &self,
        actor: &Actor,
        new: NewUser,
        now: OffsetDateTime,
    ) -> Result<User, StoreError> {
        let _guard = self.lock().await;
        let user = User {
            id: uuid::Uuid::now_v7().to_string(),
            name: new.name,
            role: new.role,
            party: new.party,
            login: new.login,
            disabled_at: None,
            created_at: format_time(now),
            office: None,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, name, role, party, login, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(&user.role)
        .bind(user.party.clone())
        .bind(user.login.clone())
        .bind(&user.created_at)
        .execute(&mut *tx)
        .await?;
        let data = canonical(&[
            &user.id,
            &user.name,
            &user.role,
            user.party.as_deref().unwrap_or(""),
            user.login.as_deref().unwrap_or(""),
        ]);
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::UserAdd,
                &format!("user/{}", user.id),
                &data,
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| user_from(&r))
            .transpose()
    }

    /// Users newest first (ids are UUIDv7, in creation order), older than `before` when given, at most `limit`.
    pub async fn users_page(
        &self,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(before)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    /// Representations registered (in force or ended), by principal, at most `limit`:
    /// (representative, principal, granted by, granted at, ended at).
    #[allow(clippy::type_complexity)]
    pub async fn representations(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, String, String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT representative, principal, granted_by, granted_at, revoked_at FROM representations \
             ORDER BY principal, representative LIMIT $1",
        )
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("representative")?,
                    r.try_get("principal")?,
                    r.try_get("granted_by")?,
                    r.try_get("granted_at")?,
                    r.try_get("revoked_at")?,
                ))
            })
            .collect()
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    /// A portal user and its password hash, by login.
    pub async fn user_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE login = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(login)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((user_from(&row)?, row.try_get("password_hash")?)))
    }

    /// Changes what a user may do: its role, its party, its portal login and password, or disables it. `None`
    /// leaves a field as it is. Returns false when there is no such user.
    pub async fn change_user(
        &self,
        actor: &Actor,
        id: &str,
        change: UserChange,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        let mut entries = Vec::new();
        let subject = format!("user/{id}");
        let exists = sqlx::query("SELECT id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Ok(false);
        }
        if let Some(role) = &change.role {
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            entries.push(entry(
                actor,
                audit::Action::UserRole,
                &subject,
                &canonical(&[id, role]),
                now,
            ));
        }
        if let Some(office) = &change.office {
            sqlx::query("UPDATE users SET office = $1 WHERE id = $2")
                .bind(office.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            entries.push(entry(
                actor,
                audit::Action::UserOffice,
                &subject,
                &canonical(&[id, office.as_deref().unwrap_or("")]),
                now,
            ));
        }
        if let Some(login) = &change.login {
            sqlx::query("UPDATE users SET login = $1 WHERE id = $2")
                .bind(login)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            entries.push(entry(
                actor,
                audit::Action::UserLoginName,
                &subject,
                &canonical(&[id, login]),
                now,
            ));
        }
        if let Some(password_hash) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            // The trail records that the password changed, not the password's hash.
            entries.push(entry(
                actor,
                audit::Action::UserPassword,
                &subject,
                &canonical(&[id]),
                now,
            ));
        }
        if change.disable {
            let at = format_time(now);
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL",
            )
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            entries.push(entry(
                actor,
                audit::Action::UserDisable,
                &subject,
                &canonical(&[id, &at]),
                now,
            ));
        }
        append(&mut tx, self.backend, entries).await?;
        tx.commit().await?;
        Ok(true)
    }

    // ----- tokens ----------------------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        actor: &Actor,
        user_id: &str,
        name: &str,
        scopes: &[String],
        expires_at: Option<OffsetDateTime>,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Token, StoreError> {
        let _guard = self.lock().await;
        let token = Token {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            name: name.to_owned(),
            scopes: scopes.to_vec(),
            created_at: format_time(now),
            expires_at: expires_at.map(format_time),
            revoked_at: None,
        };
        let scopes = token.scopes.join(" ");
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.id)
        .bind(&token.user_id)
        .bind(&token.name)
        .bind(token_hash)
        .bind(&scopes)
        .bind(&token.created_at)
        .bind(token.expires_at.clone())
        .execute(&mut *tx)
        .await?;
        let data = canonical(&[
            &token.id,
            user_id,
            name,
            &scopes,
            token.expires_at.as_deref().unwrap_or(""),
        ]);
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::TokenCreate,
                &format!("token/{}", token.id),
                &data,
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes a token; false when there is no such token or it was already revoked.
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(&at)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                audit::Action::TokenRevoke,
                &format!("token/{id}"),
                &canonical(&[id, &at]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Tokens, of one user or of everyone, newest last.
    pub async fn tokens(&self, user_id: Option<&str>) -> Result<Vec<Token>, StoreError> {
        let rows = match user_id {
            Some(user) => {
                let sql = format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.created_at, t.id"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(user)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql =
                    format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.created_at, t.id");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(token_from).collect()
    }

    /// The user and token a bearer token's hash belongs to, whatever the token's state (the caller decides).
    pub async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(User, Token)>, StoreError> {
        let sql = format!(
            "SELECT u.id, u.name, u.role, u.party, u.login, u.disabled_at, u.created_at, u.office, {TOKEN_COLUMNS} \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((user_from(&row)?, token_from(&row)?)))
    }

    // ----- sessions --------------------------------------------------------------------------------------

    /// Opens a portal session (a login) and records it.
    pub async fn create_session(
        &self,
        user: &User,
        id_hash: &str,
        csrf_token: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(&user.id)
        .bind(csrf_token)
        .bind(format_time(now))
        .bind(format_time(expires_at))
        .execute(&mut *tx)
        .await?;
        let actor = Actor::new(user.id.clone(), user.role.clone());
        append(
            &mut tx,
            self.backend,
            vec![entry(
                &actor,
                audit::Action::UserLogin,
                &format!("user/{}", user.id),
                &canonical(&[id_hash]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<(User, Session)>, StoreError> {
        let sql = "SELECT u.id, u.name, u.role, u.party, u.login, u.disabled_at, u.created_at, u.office, s.csrf_token, \
             s.expires_at, s.ended_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1";
        let Some(row) = sqlx::query(sql)
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let user = user_from(&row)?;
        let session = Session {
            user_id: user.id.clone(),
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
            ended_at: row.try_get("ended_at")?,
        };
        Ok(Some((user, session)))
    }

    /// Ends a session (a logout) and records it.
    pub async fn end_session(
        &self,
        user: &User,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL")
            .bind(format_time(now))
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        let actor = Actor::new(user.id.clone(), user.role.clone());
        append(
            &mut tx,
            self.backend,
            vec![entry(
                &actor,
                audit::Action::UserLogout,
                &format!("user/{}", user.id),
                &canonical(&[id_hash]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- representations -------------------------------------------------------------------------------

    /// Registers `representative` as acting for `principal` (or revokes it), and records it.
    pub async fn set_representation(
        &self,
        actor: &Actor,
        representative: &str,
        principal: &str,
        granted: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _guard = self.lock().await;
        let at = format_time(now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM representations WHERE representative = $1 AND principal = $2")
            .bind(representative)
            .bind(principal)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO representations (representative, principal, granted_by, granted_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(representative)
        .bind(principal)
        .bind(&actor.id)
        .bind(&at)
        .bind((!granted).then(|| at.clone()))
        .execute(&mut *tx)
        .await?;
        let action = if granted {
            audit::Action::RepresentationGrant
        } else {
            audit::Action::RepresentationRevoke
        };
        append(
            &mut tx,
            self.backend,
            vec![entry(
                actor,
                action,
                &format!("representation/{representative}/{principal}"),
                &canonical(&[representative, principal, &at]),
                now,
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `representative` may currently act for `principal`.
    pub async fn represents(
        &self,
        representative: &str,
        principal: &str,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "SELECT representative FROM representations WHERE representative = $1 AND principal = $2 \
             AND revoked_at IS NULL",
        )
        .bind(representative)
        .bind(principal)
        .fetch_optional(&self.pool)
        .await?
        .is_some())
    }
}

/// The tables whose rows are history: the application's role may only read and append to them.
pub const APPEND_ONLY_TABLES: &[&str] = &[
    "events",
    "audit_log",
    "ledger_transfers",
    "receipts",
    "bank_confirmations",
    "reference_files",
    "risk_documents",
    "cargo_reports",
    "entry_summaries",
    "declaration_cargo",
    "cargo_arrivals",
    "administration_versions",
    "schema_migrations",
];

impl Store {
    /// PostgreSQL: grants an existing role what the server needs (see `aduana db grant`). Append-only tables get
    /// SELECT and INSERT only, so that even without the triggers the role cannot change history.
    pub async fn grant_application_role(&self, role: &str) -> Result<(), StoreError> {
        if self.backend != crate::Backend::Postgres {
            return Err(StoreError::Unavailable(
                "roles and grants exist on PostgreSQL only; on SQLite the triggers guard the history tables".into(),
            ));
        }
        let valid = !role.is_empty()
            && role.len() <= 63
            && role
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !role.as_bytes()[0].is_ascii_digit();
        if !valid {
            return Err(StoreError::Unavailable(format!(
                "{role:?} is not a plain role name (lower-case letters, digits, _)"
            )));
        }
        let tables: Vec<String> = sqlx::query(
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("name"))
        .collect::<Result<_, _>>()?;
        let schema: String = sqlx::query("SELECT current_schema()::text AS name")
            .fetch_one(&self.pool)
            .await?
            .try_get("name")?;
        let mut statements = vec![format!("GRANT USAGE ON SCHEMA \"{schema}\" TO {role}")];
        for table in &tables {
            if !table
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                continue;
            }
            if APPEND_ONLY_TABLES.contains(&table.as_str()) {
                statements.push(format!("REVOKE ALL ON {table} FROM {role}"));
                statements.push(format!("GRANT SELECT, INSERT ON {table} TO {role}"));
            } else {
                statements.push(format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}"
                ));
            }
        }
        statements.push(format!(
            "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA \"{schema}\" TO {role}"
        ));
        let mut tx = self.begin_write().await?;
        for statement in statements {
            // Names were checked above to be plain identifiers.
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A change to a user (see [`Store::change_user`]).
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub role: Option<String>,
    /// The office an officer works at: `Some(None)` any office.
    pub office: Option<Option<String>>,
    pub login: Option<String>,
    pub password_hash: Option<String>,
    pub disable: bool,
}
