//! `UserStore` over D1. Every query is a prepared statement with bound parameters.

use super::unavailable;
use edge_auth_core::ports::UserStore;
use edge_auth_core::user::User;
use edge_auth_core::validate::LoginName;
use edge_auth_core::AuthError;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

const USER_COLUMNS: &str =
    "id, username, email, display_name, role, password_hash, disabled, created_at, updated_at, last_login_at";

pub struct D1Users {
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

impl D1Users {
    pub fn new(db: Result<D1Database, AuthError>) -> Self {
        D1Users { db }
    }

    fn db(&self) -> Result<&D1Database, AuthError> {
        self.db.as_ref().map_err(Clone::clone)
    }

    async fn one(&self, sql: &str, args: &[JsValue]) -> Result<Option<User>, AuthError> {
        let stmt = self.db()?.prepare(sql).bind(args).map_err(unavailable("D1 bind"))?;
        let row: Option<UserRow> = stmt.first(None).await.map_err(unavailable("D1 query"))?;
        Ok(row.map(User::from))
    }
}

impl UserStore for D1Users {
    async fn find_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError> {
        match name {
            LoginName::Username(u) => {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1 COLLATE NOCASE");
                self.one(&sql, &[JsValue::from_str(u)]).await
            }
            LoginName::Email(e) => {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1 COLLATE NOCASE");
                self.one(&sql, &[JsValue::from_str(e)]).await
            }
        }
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<User>, AuthError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        self.one(&sql, &[JsValue::from_str(id)]).await
    }

    async fn record_login(&self, id: &str, now: i64, new_hash: Option<&str>) -> Result<(), AuthError> {
        // One statement: the login time, and the upgraded hash when the stored cost was too low.
        let sql = "UPDATE users SET last_login_at = ?2, \
                   password_hash = COALESCE(?3, password_hash), \
                   updated_at = CASE WHEN ?3 IS NULL THEN updated_at ELSE ?2 END \
                   WHERE id = ?1";
        let hash = new_hash.map(JsValue::from_str).unwrap_or(JsValue::NULL);
        let args = [JsValue::from_str(id), JsValue::from_f64(now as f64), hash];
        let stmt = self.db()?.prepare(sql).bind(&args).map_err(unavailable("D1 bind"))?;
        stmt.run().await.map_err(unavailable("D1 update"))?;
        Ok(())
    }
}
