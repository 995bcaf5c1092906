//! `Store` over D1: users and sessions. Every query is a prepared statement with bound parameters;
//! what must happen exactly once (rotation, revocation) is a conditional UPDATE whose change count
//! decides.

use super::unavailable;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edge_auth_core::ports::{LoginRecord, Store};
use edge_auth_core::session::Session;
use edge_auth_core::user::User;
use edge_auth_core::validate::LoginName;
use edge_auth_core::AuthError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

const USER_COLUMNS: &str = "u.id, u.username, u.email, u.display_name, u.role, u.password_hash, u.disabled, \
                            u.created_at, u.updated_at, u.last_login_at";
const SESSION_COLUMNS: &str = "s.id AS s_id, s.user_id AS s_user_id, s.seed AS s_seed, \
    s.generation AS s_generation, s.rotated_at AS s_rotated_at, s.created_at AS s_created_at, \
    s.last_used_at AS s_last_used_at, s.expires_at AS s_expires_at, s.user_agent AS s_user_agent, \
    s.ip AS s_ip, s.revoked_at AS s_revoked_at";

pub struct D1Store {
    db: Result<D1Database, AuthError>,
}

/// A `users` row as D1 returns it (numbers arrive as JS numbers).
#[derive(Deserialize)]
struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    role: String,
    password_hash: String,
    disabled: f64,
    created_at: f64,
    updated_at: f64,
    last_login_at: Option<f64>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            email: r.email,
            display_name: r.display_name,
            role: r.role,
            password_hash: r.password_hash,
            disabled: r.disabled != 0.0,
            created_at: r.created_at as i64,
            updated_at: r.updated_at as i64,
            last_login_at: r.last_login_at.map(|t| t as i64),
        }
    }
}

/// A `sessions` row, columns prefixed `s_` so it can share a row with a user.
#[derive(Deserialize)]
struct SessionRow {
    s_id: String,
    s_user_id: String,
    s_seed: String,
    s_generation: f64,
    s_rotated_at: f64,
    s_created_at: f64,
    s_last_used_at: f64,
    s_expires_at: f64,
    s_user_agent: Option<String>,
    s_ip: Option<String>,
    s_revoked_at: Option<f64>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.s_id,
            user_id: r.s_user_id,
            seed: URL_SAFE_NO_PAD.decode(r.s_seed).unwrap_or_default(),
            generation: r.s_generation as u64,
            rotated_at: r.s_rotated_at as i64,
            created_at: r.s_created_at as i64,
            last_used_at: r.s_last_used_at as i64,
            expires_at: r.s_expires_at as i64,
            user_agent: r.s_user_agent,
            ip: r.s_ip,
            revoked_at: r.s_revoked_at.map(|t| t as i64),
        }
    }
}

#[derive(Deserialize)]
struct SessionWithUser {
    #[serde(flatten)]
    session: SessionRow,
    #[serde(flatten)]
    user: UserRow,
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn n(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}
fn opt(v: Option<&str>) -> JsValue {
    v.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

impl D1Store {
    pub fn new(db: Result<D1Database, AuthError>) -> Self {
        D1Store { db }
    }

    fn db(&self) -> Result<&D1Database, AuthError> {
        self.db.as_ref().map_err(Clone::clone)
    }

    fn statement(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, AuthError> {
        self.db()?.prepare(sql).bind(args).map_err(unavailable("D1 bind"))
    }

    async fn first<T: DeserializeOwned>(&self, sql: &str, args: &[JsValue]) -> Result<Option<T>, AuthError> {
        self.statement(sql, args)?.first(None).await.map_err(unavailable("D1 query"))
    }

    /// Runs a write and returns how many rows it changed.
    async fn changes(&self, sql: &str, args: &[JsValue]) -> Result<usize, AuthError> {
        let result = self.statement(sql, args)?.run().await.map_err(unavailable("D1 write"))?;
        Ok(result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
    }
}

impl Store for D1Store {
    async fn find_user_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError> {
        let (column, value) = match name {
            LoginName::Username(u) => ("username", u),
            LoginName::Email(e) => ("email", e),
        };
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.{column} = ?1 COLLATE NOCASE");
        Ok(self.first::<UserRow>(&sql, &[s(value)]).await?.map(User::from))
    }

    async fn find_user(&self, id: &str) -> Result<Option<User>, AuthError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
        Ok(self.first::<UserRow>(&sql, &[s(id)]).await?.map(User::from))
    }

    async fn start_session(&self, login: &LoginRecord<'_>, session: &Session) -> Result<(), AuthError> {
        // One batch (one round trip, one transaction): the login time and upgraded hash, the session.
        let record_login = self.statement(
            "UPDATE users SET last_login_at = ?2, password_hash = COALESCE(?3, password_hash), \
             updated_at = CASE WHEN ?3 IS NULL THEN updated_at ELSE ?2 END WHERE id = ?1",
            &[s(login.user_id), n(login.now), opt(login.new_hash)],
        )?;
        let insert_session = self.statement(
            "INSERT INTO sessions (id, user_id, seed, generation, rotated_at, created_at, last_used_at, \
             expires_at, user_agent, ip) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6, ?7, ?8)",
            &[
                s(&session.id),
                s(&session.user_id),
                s(&URL_SAFE_NO_PAD.encode(&session.seed)),
                n(session.generation as i64),
                n(session.created_at),
                n(session.expires_at),
                opt(session.user_agent.as_deref()),
                opt(session.ip.as_deref()),
            ],
        )?;
        self.db()?.batch(vec![record_login, insert_session]).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn find_session(&self, id: &str) -> Result<Option<(Session, User)>, AuthError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = ?1"
        );
        let row = self.first::<SessionWithUser>(&sql, &[s(id)]).await?;
        Ok(row.map(|r| (Session::from(r.session), User::from(r.user))))
    }

    async fn advance_session(&self, id: &str, from: u64, now: i64) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE sessions SET generation = generation + 1, rotated_at = ?3, last_used_at = ?3 \
                 WHERE id = ?1 AND generation = ?2 AND revoked_at IS NULL",
                &[s(id), n(from as i64), n(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn revoke_session(&self, id: &str, user_id: Option<&str>, now: i64) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2) \
                 AND revoked_at IS NULL AND expires_at > ?3",
                &[s(id), opt(user_id), n(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> Result<u64, AuthError> {
        let changed = self
            .changes(
                "UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND revoked_at IS NULL \
                 AND (?2 IS NULL OR id <> ?2)",
                &[s(user_id), opt(keep), n(now)],
            )
            .await?;
        Ok(changed as u64)
    }

    async fn list_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, AuthError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = ?1 AND s.revoked_at IS NULL \
             AND s.expires_at > ?2 ORDER BY s.created_at DESC, s.id LIMIT 100"
        );
        let result =
            self.statement(&sql, &[s(user_id), n(now)])?.all().await.map_err(unavailable("D1 query"))?;
        let rows: Vec<SessionRow> = result.results().map_err(unavailable("D1 rows"))?;
        Ok(rows.into_iter().map(Session::from).collect())
    }
}
