//! `Store` over D1: users and sessions. Every query is a prepared statement with bound parameters;
//! what must happen exactly once (rotation, revocation) is a conditional UPDATE whose change count
//! decides. Rows are read with the `worker` crate's serde path into the row types below; a column
//! that is missing, NULL where it may not be, or of another type is a schema mismatch and answers 503,
//! never a silent default.

use super::d1_session::D1Handle;
use edge_auth_core::b64::URL_SAFE_NO_PAD;
use edge_auth_core::ports::{
    ChallengePurpose, Factors, Guarded, LoginRecord, MfaChallenge, ResetRecord, Store, TotpRecord, UserPatch,
    UserQuery, MAX_SESSION_DENYLIST_WRITES,
};
use edge_auth_core::session::Session;
use edge_auth_core::user::{PersonalDetails, User};
use edge_auth_core::validate::LoginName;
use edge_auth_core::AuthError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::rc::Rc;
use worker::wasm_bindgen::JsValue;
use worker::D1PreparedStatement;

// Email verification's queries (`EmailStore`), in a file of their own.
#[path = "d1_email.rs"]
mod email;
// Passkeys' queries (`Passkeys`).
#[path = "d1_passkeys.rs"]
mod passkeys;
// The audit log (`AuditLog`).
#[path = "d1_audit.rs"]
mod audit;
// The revocation outbox (`Outbox`) and the health check's queries.
#[path = "d1_outbox.rs"]
mod outbox;
pub use outbox::SchemaState;

const USER_COLUMNS: &str = "u.id, u.number, u.username, u.email, u.display_name, u.role, u.password_hash, \
                            u.disabled, u.created_at, u.updated_at, u.last_login_at, u.first_name, \
                            u.last_name, u.phone, u.document_id, u.email_verified_at, u.pending_email, \
                            (SELECT COUNT(*) FROM mfa_totp t WHERE t.user_id = u.id \
                             AND t.enabled_at IS NOT NULL) AS second_factor, \
                            EXISTS (SELECT 1 FROM passkeys pk WHERE pk.user_id = u.id) AS passkeys";
const SESSION_COLUMNS: &str = "s.id AS s_id, s.user_id AS s_user_id, s.seed AS s_seed, \
    s.generation AS s_generation, s.rotated_at AS s_rotated_at, s.created_at AS s_created_at, \
    s.last_used_at AS s_last_used_at, s.expires_at AS s_expires_at, s.user_agent AS s_user_agent, \
    s.ip AS s_ip, s.revoked_at AS s_revoked_at, s.amr AS s_amr, s.auth_time AS s_auth_time";

pub struct D1Store {
    /// The request's one D1 session (`d1_session`), shared by every store the request makes.
    db: Result<Rc<D1Handle>, AuthError>,
    /// Where the outbox's bookkeeping waits for the response (`Later`).
    later: super::later::Later,
}

/// A `users` row (USER_COLUMNS).
#[derive(Deserialize)]
struct UserRow {
    id: String,
    number: Option<i64>,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    role: String,
    password_hash: String,
    disabled: i64,
    created_at: i64,
    updated_at: i64,
    last_login_at: Option<i64>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    document_id: Option<String>,
    email_verified_at: Option<i64>,
    pending_email: Option<String>,
    /// 1 when an enabled TOTP authenticator exists (USER_COLUMNS' subquery).
    second_factor: i64,
    /// 1 when the user has a passkey.
    passkeys: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            username: r.username,
            email: r.email,
            display_name: r.display_name,
            role: r.role,
            password_hash: r.password_hash,
            disabled: r.disabled != 0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login_at: r.last_login_at,
            number: r.number,
            details: PersonalDetails {
                first_name: r.first_name,
                last_name: r.last_name,
                phone: r.phone,
                document_id: r.document_id,
            },
            email_verified_at: r.email_verified_at,
            pending_email: r.pending_email,
            second_factor: r.second_factor != 0,
            passkeys: r.passkeys != 0,
        }
    }
}

/// A `sessions` row (SESSION_COLUMNS: prefixed `s_` so it can share a row with a user).
#[derive(Deserialize)]
struct SessionRow {
    s_id: String,
    s_user_id: String,
    s_seed: String,
    s_generation: i64,
    s_rotated_at: i64,
    s_created_at: i64,
    s_last_used_at: i64,
    s_expires_at: i64,
    s_user_agent: Option<String>,
    s_ip: Option<String>,
    s_revoked_at: Option<i64>,
    s_amr: String,
    /// NULL for sessions started before migration 0005: their creation time stands in.
    s_auth_time: Option<i64>,
}

impl TryFrom<SessionRow> for Session {
    type Error = AuthError;

    fn try_from(r: SessionRow) -> Result<Session, AuthError> {
        Ok(Session {
            seed: URL_SAFE_NO_PAD
                .decode(&r.s_seed)
                .map_err(|_| mismatch("sessions.seed is not base64url"))?,
            generation: u64::try_from(r.s_generation).map_err(|_| mismatch("sessions.generation < 0"))?,
            id: r.s_id,
            user_id: r.s_user_id,
            rotated_at: r.s_rotated_at,
            created_at: r.s_created_at,
            last_used_at: r.s_last_used_at,
            expires_at: r.s_expires_at,
            user_agent: r.s_user_agent,
            ip: r.s_ip,
            revoked_at: r.s_revoked_at,
            amr: r.s_amr.split(',').filter(|m| !m.is_empty()).map(str::to_string).collect(),
            auth_time: r.s_auth_time.unwrap_or(r.s_created_at),
        })
    }
}

/// A session joined with its user.
#[derive(Deserialize)]
struct SessionUserRow {
    #[serde(flatten)]
    session: SessionRow,
    #[serde(flatten)]
    user: UserRow,
}

/// A `password_resets` row joined with its user.
#[derive(Deserialize)]
struct ResetUserRow {
    r_token_hash: String,
    r_user_id: String,
    r_created_at: i64,
    r_expires_at: i64,
    r_used_at: Option<i64>,
    #[serde(flatten)]
    user: UserRow,
}

/// The `number` of a user.
#[derive(Deserialize)]
struct NumberRow {
    number: i64,
}

/// The `id` column of `RETURNING id`.
#[derive(Deserialize)]
struct IdRow {
    id: String,
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

/// The text of a D1 failure for the log: D1 keeps SQLite's message in the error's `cause`.
fn error_text(e: &worker::Error) -> String {
    match e {
        worker::Error::D1(d1) => {
            let js: &worker::js_sys::Error = d1.as_ref();
            format!("{}: {}", String::from(js.message()), d1.cause())
        }
        other => other.to_string(),
    }
}

fn mismatch(detail: &str) -> AuthError {
    AuthError::Unavailable(format!("D1 row: {detail}"))
}

fn unavailable(what: &'static str) -> impl Fn(worker::Error) -> AuthError {
    move |e| AuthError::Unavailable(format!("{what}: {}", error_text(&e)))
}

/// D1 reports a UNIQUE violation only in the message of a generic error; map it to the taken field.
fn conflict(e: worker::Error) -> AuthError {
    let message = error_text(&e);
    if message.contains("UNIQUE constraint failed: users.username") {
        AuthError::UsernameTaken
    } else if message.contains("UNIQUE constraint failed: users.email") {
        AuthError::EmailTaken
    } else {
        AuthError::Unavailable(format!("D1 write: {message}"))
    }
}

/// A `LIKE` pattern matching `q` anywhere, with `%`, `_` and `\\` escaped.
fn like_pattern(q: &str) -> String {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The first row of a query, decoded; a row that does not decode is a schema mismatch (503).
async fn first<T: DeserializeOwned>(statement: D1PreparedStatement) -> Result<Option<T>, AuthError> {
    match statement.first::<T>(None).await {
        Ok(row) => Ok(row),
        Err(worker::Error::SerdeWasmBindgenError(e)) => Err(mismatch(&e.to_string())),
        Err(e) => Err(unavailable("D1 query")(e)),
    }
}

/// Every row of a query, decoded.
async fn all<T: DeserializeOwned>(statement: D1PreparedStatement) -> Result<Vec<T>, AuthError> {
    let result = statement.all().await.map_err(unavailable("D1 query"))?;
    result.results::<T>().map_err(|e| mismatch(&e.to_string()))
}

/// Records how a D1 write ended, for `GET /health` (`later::note_write`). A refused constraint
/// (a taken username) is D1 working as it should.
fn noted<T>(result: Result<T, worker::Error>) -> Result<T, worker::Error> {
    let ok = match &result {
        Ok(_) => true,
        Err(e) => error_text(e).contains("constraint failed"),
    };
    super::later::note_write(super::later::Store::D1, ok);
    result
}

/// A user row that is not the last active admin (the guard of demotion, disabling and deletion).
const NOT_LAST_ADMIN: &str = "NOT (role = 'admin' AND disabled = 0 \
    AND (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0) <= 1)";

/// How many rows one result of a batch changed.
fn changed(result: &worker::D1Result) -> usize {
    result.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

/// The `id` column of a batch's result.
fn ids(result: Option<&worker::D1Result>) -> Result<Vec<String>, AuthError> {
    let Some(result) = result else { return Ok(Vec::new()) };
    let rows = result.results::<IdRow>().map_err(|e| mismatch(&e.to_string()))?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Runs a write; returns how many rows it changed (`meta.changes`).
async fn changes(statement: D1PreparedStatement) -> Result<usize, worker::Error> {
    let result = noted(statement.run().await)?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

impl D1Store {
    pub fn new(db: Result<Rc<D1Handle>, AuthError>, later: super::later::Later) -> Self {
        D1Store { db, later }
    }

    fn db(&self) -> Result<&D1Handle, AuthError> {
        self.db.as_deref().map_err(Clone::clone)
    }

    /// `sql` with `args` bound (`?1`, `?2`, ... in order).
    fn statement(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, AuthError> {
        self.db()?.prepare(sql).bind(args).map_err(unavailable("D1 prepare"))
    }

    /// The first row of a lookup by key. A miss on a session that may lag is read again at the
    /// primary: the row may have been written a moment ago (a login's session, an `mfa_token`'s
    /// challenge) and not have reached this replica yet. A hit is never re-read: replicas only lag,
    /// and what may let a revoked token in is covered by KV (docs/storage.md, "Read replication").
    async fn lookup<T: DeserializeOwned>(&self, sql: &str, args: &[JsValue]) -> Result<Option<T>, AuthError> {
        let found = first::<T>(self.statement(sql, args)?).await?;
        let db = self.db()?;
        if found.is_some() || !db.may_lag() {
            return Ok(found);
        }
        db.to_primary();
        first::<T>(self.statement(sql, args)?).await
    }

    /// Runs the statements in one round trip and one transaction.
    async fn batch(
        &self,
        statements: Vec<D1PreparedStatement>,
    ) -> Result<Vec<worker::D1Result>, worker::Error> {
        let db = self.db().map_err(|e| worker::Error::RustError(e.to_string()))?;
        noted(db.batch(statements).await)
    }

    fn insert_session(&self, session: &Session) -> Result<D1PreparedStatement, AuthError> {
        self.statement(
            "INSERT INTO sessions (id, user_id, seed, generation, rotated_at, created_at, last_used_at, \
             expires_at, user_agent, ip, amr, auth_time) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6, ?7, ?8, ?9, ?10)",
            &[
                s(&session.id),
                s(&session.user_id),
                s(&URL_SAFE_NO_PAD.encode(&session.seed)),
                n(session.generation as i64),
                n(session.created_at),
                n(session.expires_at),
                opt(session.user_agent.as_deref()),
                opt(session.ip.as_deref()),
                s(&session.amr.join(",")),
                n(session.auth_time),
            ],
        )
    }

    /// After a guarded write changed `changed` rows: done, or why not.
    async fn guarded(&self, id: &str, changed: usize) -> Result<Guarded, AuthError> {
        if changed > 0 {
            Ok(Guarded::Done)
        } else if self.find_user(id).await?.is_some() {
            Ok(Guarded::LastAdmin)
        } else {
            Ok(Guarded::NotFound)
        }
    }

    /// Runs a write and returns how many rows it changed.
    async fn changes(&self, sql: &str, args: &[JsValue]) -> Result<usize, AuthError> {
        changes(self.statement(sql, args)?).await.map_err(unavailable("D1 write"))
    }
}

/// A `mfa_totp` row.
#[derive(Deserialize)]
struct TotpRow {
    secret: String,
    enabled_at: Option<i64>,
    last_step: Option<i64>,
}

/// A `mfa_challenges` row.
#[derive(Deserialize)]
struct ChallengeRow {
    token_hash: String,
    user_id: String,
    created_at: i64,
    expires_at: i64,
    purpose: String,
    new_hash: Option<String>,
    first_factor: String,
}

impl Factors for D1Store {
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, AuthError> {
        let sql = "SELECT secret, enabled_at, last_step FROM mfa_totp WHERE user_id = ?1";
        Ok(first::<TotpRow>(self.statement(sql, &[s(user_id)])?).await?.map(|r| TotpRecord {
            sealed_secret: r.secret,
            enabled_at: r.enabled_at,
            last_step: r.last_step,
        }))
    }

    async fn put_pending_totp(&self, user_id: &str, sealed_secret: &str) -> Result<bool, AuthError> {
        // One statement: a pending secret is replaced, an enabled one never.
        let changed = self
            .changes(
                "INSERT INTO mfa_totp (user_id, secret) VALUES (?1, ?2) \
                 ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = NULL \
                 WHERE mfa_totp.enabled_at IS NULL",
                &[s(user_id), s(sealed_secret)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn enable_totp(
        &self,
        user_id: &str,
        step: i64,
        codes: &[String],
        now: i64,
    ) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE mfa_totp SET enabled_at = ?2, last_step = ?3 WHERE user_id = ?1 AND enabled_at IS NULL",
                &[s(user_id), n(now), n(step)],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        self.replace_recovery_codes(user_id, codes, now).await?;
        Ok(true)
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE mfa_totp SET last_step = ?2 WHERE user_id = ?1 AND enabled_at IS NOT NULL \
                 AND (last_step IS NULL OR last_step < ?2)",
                &[s(user_id), n(step)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn burn_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE recovery_codes SET used_at = ?3 WHERE code_hash = ?2 AND user_id = ?1 AND used_at IS NULL",
                &[s(user_id), s(code_hash), n(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[String],
        now: i64,
    ) -> Result<(), AuthError> {
        let mut batch = vec![self.statement("DELETE FROM recovery_codes WHERE user_id = ?1", &[s(user_id)])?];
        for code in codes {
            batch.push(self.statement(
                "INSERT INTO recovery_codes (code_hash, user_id, created_at) VALUES (?1, ?2, ?3)",
                &[s(code), s(user_id), n(now)],
            )?);
        }
        self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn remove_factors(&self, user_id: &str) -> Result<bool, AuthError> {
        let batch = vec![
            self.statement("DELETE FROM mfa_totp WHERE user_id = ?1", &[s(user_id)])?,
            self.statement("DELETE FROM recovery_codes WHERE user_id = ?1", &[s(user_id)])?,
        ];
        let results = self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        let changed: usize =
            results.iter().filter_map(|r| r.meta().ok().flatten().and_then(|m| m.changes)).sum();
        Ok(changed > 0)
    }

    async fn create_challenge(&self, challenge: &MfaChallenge) -> Result<(), AuthError> {
        self.changes(
            "INSERT INTO mfa_challenges (token_hash, user_id, created_at, expires_at, purpose, new_hash, \
             first_factor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                s(&challenge.token_hash),
                s(&challenge.user_id),
                n(challenge.created_at),
                n(challenge.expires_at),
                s(challenge.purpose.as_str()),
                opt(challenge.new_hash.as_deref()),
                s(&challenge.first_factor),
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, AuthError> {
        let sql =
            "SELECT token_hash, user_id, created_at, expires_at, purpose, new_hash, first_factor FROM mfa_challenges \
                   WHERE token_hash = ?1 AND used_at IS NULL";
        Ok(self.lookup::<ChallengeRow>(sql, &[s(token_hash)]).await?.map(|r| MfaChallenge {
            token_hash: r.token_hash,
            user_id: r.user_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            purpose: if r.purpose == "enroll" { ChallengePurpose::Enroll } else { ChallengePurpose::Login },
            new_hash: r.new_hash,
            first_factor: r.first_factor,
        }))
    }

    async fn consume_challenge(&self, token_hash: &str, now: i64) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE mfa_challenges SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                &[s(token_hash), n(now)],
            )
            .await?;
        Ok(changed == 1)
    }
}

impl Store for D1Store {
    async fn find_user_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError> {
        let (column, value) = match name {
            LoginName::Username(u) => ("username", u),
            LoginName::Email(e) => ("email", e),
        };
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.{column} = ?1 COLLATE NOCASE");
        Ok(self.lookup::<UserRow>(&sql, &[s(value)]).await?.map(User::from))
    }

    async fn find_user(&self, id: &str) -> Result<Option<User>, AuthError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
        Ok(self.lookup::<UserRow>(&sql, &[s(id)]).await?.map(User::from))
    }

    async fn start_session(&self, login: &LoginRecord<'_>, session: &Session) -> Result<(), AuthError> {
        // One batch (one round trip, one transaction): the login time and upgraded hash, the session.
        let record_login = self.statement(
            "UPDATE users SET last_login_at = ?2, password_hash = COALESCE(?3, password_hash), \
             updated_at = CASE WHEN ?3 IS NULL THEN updated_at ELSE ?2 END WHERE id = ?1",
            &[s(login.user_id), n(login.now), opt(login.new_hash)],
        )?;
        let insert_session = self.insert_session(session)?;
        self.batch(vec![record_login, insert_session]).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn find_session(&self, id: &str) -> Result<Option<(Session, User)>, AuthError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = ?1"
        );
        let row = self.lookup::<SessionUserRow>(&sql, &[s(id)]).await?;
        row.map(|r| Ok((Session::try_from(r.session)?, User::from(r.user)))).transpose()
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

    async fn revoke_session(
        &self,
        id: &str,
        user_id: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<bool, AuthError> {
        // One batch, one transaction: the revocation and its outbox row, queued whenever the session
        // is the user's (also when it ended before: a retried logout mirrors again).
        let revoke = self.statement(
            "UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2) \
             AND revoked_at IS NULL AND expires_at > ?3",
            &[s(id), opt(user_id), n(now)],
        )?;
        let queue = self.statement(
            &format!(
                "INSERT INTO revocation_outbox (kind, subject, value, expires_at, created_at) \
                 SELECT 'session', id, 1, ?4, ?3 FROM sessions WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2) \
                 {}",
                outbox::UPSERT
            ),
            &[s(id), opt(user_id), n(now), n(mirror_until)],
        )?;
        let results = self.batch(vec![revoke, queue]).await.map_err(unavailable("D1 batch"))?;
        Ok(changed(&results[0]) == 1)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<Vec<String>, AuthError> {
        // The sessions ended at `now` whose KV entries are written one by one (the most recently used,
        // whose tokens may be from this very second); the user's not-before time covers the rest.
        let ended = format!(
            "SELECT id FROM sessions WHERE user_id = ?1 AND revoked_at = ?3 AND (?2 IS NULL OR id <> ?2) \
             ORDER BY last_used_at DESC, id LIMIT {MAX_SESSION_DENYLIST_WRITES}"
        );
        let args = [s(user_id), opt(keep), n(now), n(mirror_until)];
        let batch = vec![
            self.statement(
                "UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND revoked_at IS NULL \
                 AND expires_at > ?3 AND (?2 IS NULL OR id <> ?2)",
                &args[..3],
            )?,
            self.statement(
                &format!(
                    "INSERT INTO revocation_outbox (kind, subject, value, expires_at, created_at) \
                     VALUES ('user', ?1, ?3, ?4, ?3) {}",
                    outbox::UPSERT
                ),
                &args,
            )?,
            self.statement(
                &format!(
                    "INSERT INTO revocation_outbox (kind, subject, value, expires_at, created_at) \
                     SELECT 'session', id, 1, ?4, ?3 FROM ({ended}) WHERE true {}",
                    outbox::UPSERT
                ),
                &args,
            )?,
            self.statement(&ended, &args[..3])?,
        ];
        let results = self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        ids(results.last())
    }

    async fn create_user(&self, user: &User, session: Option<&Session>) -> Result<i64, AuthError> {
        // The trigger of migration 0004 gives the user its number; the batch reads it back last.
        let insert_user = self.statement(
            "INSERT INTO users (id, username, email, display_name, role, password_hash, disabled, created_at, \
             updated_at, first_name, last_name, phone, document_id, email_verified_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13)",
            &[
                s(&user.id),
                s(&user.username),
                opt(user.email.as_deref()),
                opt(user.display_name.as_deref()),
                s(&user.role),
                s(&user.password_hash),
                n(user.disabled as i64),
                n(user.created_at),
                opt(user.details.first_name.as_deref()),
                opt(user.details.last_name.as_deref()),
                opt(user.details.phone.as_deref()),
                opt(user.details.document_id.as_deref()),
                user.email_verified_at.map(n).unwrap_or(JsValue::NULL),
            ],
        )?;
        let mut batch = vec![insert_user];
        if let Some(session) = session {
            batch.push(self.insert_session(session)?);
        }
        batch.push(self.statement("SELECT number FROM users WHERE id = ?1", &[s(&user.id)])?);
        let results = self.batch(batch).await.map_err(conflict)?;
        let rows = results
            .last()
            .map(|r| r.results::<NumberRow>())
            .transpose()
            .map_err(|e| mismatch(&e.to_string()))?;
        rows.and_then(|rows| rows.into_iter().next())
            .map(|r| r.number)
            .ok_or_else(|| mismatch("the new user has no number (migration 0004 missing?)"))
    }

    async fn replace_password(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
        session: Option<&Session>,
    ) -> Result<(), AuthError> {
        let mut batch = vec![
            self.statement(
                "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
                &[s(user_id), s(hash), n(now)],
            )?,
            self.statement("DELETE FROM password_resets WHERE user_id = ?1", &[s(user_id)])?,
        ];
        if let Some(session) = session {
            batch.push(self.insert_session(session)?);
        }
        self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        Ok(())
    }

    async fn create_reset(&self, reset: &ResetRecord) -> Result<(), AuthError> {
        self.changes(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            &[s(&reset.token_hash), s(&reset.user_id), n(reset.created_at), n(reset.expires_at)],
        )
        .await?;
        Ok(())
    }

    async fn find_reset(&self, token_hash: &str) -> Result<Option<(ResetRecord, User)>, AuthError> {
        let sql = format!(
            "SELECT r.token_hash AS r_token_hash, r.user_id AS r_user_id, r.created_at AS r_created_at, \
             r.expires_at AS r_expires_at, r.used_at AS r_used_at, {USER_COLUMNS} \
             FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?1"
        );
        let row = first::<ResetUserRow>(self.statement(&sql, &[s(token_hash)])?).await?;
        Ok(row.map(|r| {
            let reset = ResetRecord {
                token_hash: r.r_token_hash,
                user_id: r.r_user_id,
                created_at: r.r_created_at,
                expires_at: r.r_expires_at,
                used_at: r.r_used_at,
            };
            (reset, User::from(r.user))
        }))
    }

    async fn consume_reset(&self, token_hash: &str, now: i64) -> Result<bool, AuthError> {
        let changed = self
            .changes(
                "UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL \
                 AND expires_at > ?2",
                &[s(token_hash), n(now)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, AuthError> {
        let (after_at, after_id) = match &query.after {
            Some((at, id)) => (n(*at), s(id)),
            None => (JsValue::NULL, JsValue::NULL),
        };
        let search = query.search.as_deref().map(like_pattern);
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u \
             WHERE (?1 IS NULL OR u.created_at > ?1 OR (u.created_at = ?1 AND u.id > ?2)) \
             AND (?3 IS NULL OR u.username LIKE ?3 ESCAPE '\\' OR u.email LIKE ?3 ESCAPE '\\' \
                  OR u.display_name LIKE ?3 ESCAPE '\\') \
             ORDER BY u.created_at, u.id LIMIT ?4"
        );
        let args = [after_at, after_id, opt(search.as_deref()), n(i64::from(query.limit) + 1)];
        Ok(all::<UserRow>(self.statement(&sql, &args)?).await?.into_iter().map(User::from).collect())
    }

    async fn update_user(&self, id: &str, patch: &UserPatch, now: i64) -> Result<Guarded, AuthError> {
        // One statement: the last-admin guard is evaluated by D1 at the moment of the write, so two
        // concurrent demotions of the last two admins cannot both succeed.
        let flag = |b: bool| n(b as i64);
        let args = [
            s(id),
            opt(patch.role.as_deref()),
            patch.disabled.map(|d| n(d as i64)).unwrap_or(JsValue::NULL),
            flag(patch.display_name.is_some()),
            opt(patch.display_name.clone().flatten().as_deref()),
            flag(patch.email.is_some()),
            opt(patch.email.clone().flatten().as_deref()),
            n(now),
        ];
        let statement = self.statement(
            "UPDATE users SET role = COALESCE(?2, role), disabled = COALESCE(?3, disabled), \
                 display_name = CASE WHEN ?4 THEN ?5 ELSE display_name END, \
                 email = CASE WHEN ?6 THEN ?7 ELSE email END, \
                 email_verified_at = CASE WHEN ?6 AND email IS NOT ?7 THEN NULL ELSE email_verified_at END, \
                 updated_at = ?8 \
                 WHERE id = ?1 AND NOT (role = 'admin' AND disabled = 0 \
                   AND (COALESCE(?2, role) <> 'admin' OR COALESCE(?3, disabled) = 1) \
                   AND (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0) <= 1)",
            &args,
        )?;
        let changed = changes(statement).await.map_err(conflict)?;
        self.guarded(id, changed).await
    }

    async fn delete_user(
        &self,
        id: &str,
        now: i64,
        mirror_until: i64,
    ) -> Result<(Guarded, Vec<String>), AuthError> {
        // One batch: the outbox rows of the user and of its live sessions, queued only if the delete's
        // own guard lets it through (evaluated in the same transaction, before the cascade), the list of
        // those sessions, then the delete.
        let deletable = format!("EXISTS (SELECT 1 FROM users WHERE id = ?1 AND {NOT_LAST_ADMIN})");
        let live = format!(
            "SELECT id FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2 \
             AND {deletable} ORDER BY last_used_at DESC, id LIMIT {MAX_SESSION_DENYLIST_WRITES}"
        );
        let args = [s(id), n(now), n(mirror_until)];
        let batch = vec![
            self.statement(
                &format!(
                    "INSERT INTO revocation_outbox (kind, subject, value, expires_at, created_at) \
                     SELECT 'user', ?1, ?2, ?3, ?2 WHERE {deletable} {}",
                    outbox::UPSERT
                ),
                &args,
            )?,
            self.statement(
                &format!(
                    "INSERT INTO revocation_outbox (kind, subject, value, expires_at, created_at) \
                     SELECT 'session', id, 1, ?3, ?2 FROM ({live}) WHERE true {}",
                    outbox::UPSERT
                ),
                &args,
            )?,
            self.statement(&live, &args[..2])?,
            self.statement(&format!("DELETE FROM users WHERE id = ?1 AND {NOT_LAST_ADMIN}"), &args[..1])?,
        ];
        let results = self.batch(batch).await.map_err(unavailable("D1 batch"))?;
        let outcome = self.guarded(id, changed(&results[3])).await?;
        let sessions = if outcome == Guarded::Done { ids(results.get(2))? } else { Vec::new() };
        Ok((outcome, sessions))
    }

    async fn list_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, AuthError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = ?1 AND s.revoked_at IS NULL \
             AND s.expires_at > ?2 ORDER BY s.created_at DESC, s.id LIMIT 100"
        );
        all::<SessionRow>(self.statement(&sql, &[s(user_id), n(now)])?)
            .await?
            .into_iter()
            .map(Session::try_from)
            .collect()
    }
}
