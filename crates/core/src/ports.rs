//! The ports: what the use cases need from the platform, as traits. The Worker implements them over
//! D1 (`Store`) and KV (`Revocations`) in `src/adapters`; the core's tests implement them in memory.
//!
//! `async fn` in traits is fine here: a Worker is single-threaded, nothing needs `Send` futures.
#![allow(async_fn_in_trait)]

use crate::error::AuthError;
use crate::session::Session;
use crate::user::User;
use crate::validate::LoginName;

/// A successful login to record, with the optional upgraded hash.
#[derive(Debug, Clone)]
pub struct LoginRecord<'a> {
    pub user_id: &'a str,
    pub now: i64,
    /// Set when the stored hash was below the configured cost (rehash on login).
    pub new_hash: Option<&'a str>,
}

/// Users and sessions in D1: everything that must be exact (rotation, single use) lives here.
pub trait Store {
    /// The user whose username (case-insensitive) or email matches.
    async fn find_user_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError>;
    async fn find_user(&self, id: &str) -> Result<Option<User>, AuthError>;

    /// Records the login and creates its session, in one batch.
    async fn start_session(&self, login: &LoginRecord<'_>, session: &Session) -> Result<(), AuthError>;
    /// The session and its user, in one query.
    async fn find_session(&self, id: &str) -> Result<Option<(Session, User)>, AuthError>;
    /// Advances the session from generation `from` to `from + 1` if, and only if, it is still at
    /// `from` and not revoked: true for exactly one of several concurrent callers.
    async fn advance_session(&self, id: &str, from: u64, now: i64) -> Result<bool, AuthError>;
    /// Revokes one session (of `user_id` when given). False when there was no such live session.
    async fn revoke_session(&self, id: &str, user_id: Option<&str>, now: i64) -> Result<bool, AuthError>;
    /// Revokes every live session of a user, except `keep` when given. Returns how many.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> Result<u64, AuthError>;
    /// The user's live sessions (not revoked, not expired), newest first.
    async fn list_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, AuthError>;
}

/// What KV says about an access token's session and user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RevocationState {
    /// The session was ended (logout, reuse detection, deleted session).
    pub session_revoked: bool,
    /// Access tokens of this user issued before this time (unix seconds) are revoked.
    pub user_not_before: Option<i64>,
}

/// Revocations of self-contained access tokens, in KV (eventually consistent, TTL >= 60 s).
pub trait Revocations {
    /// Both facts for one token; the adapter reads them concurrently (two KV reads).
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError>;
    /// Denylists every access token of a session for `ttl_seconds` (their remaining lifetime).
    async fn revoke_session(&self, session_id: &str, ttl_seconds: u64) -> Result<(), AuthError>;
    /// Revokes every access token of a user issued before `not_before`.
    async fn revoke_user_before(
        &self,
        user_id: &str,
        not_before: i64,
        ttl_seconds: u64,
    ) -> Result<(), AuthError>;
}
