//! The ports: what the use cases need from the platform, as traits. The Worker implements them over
//! D1 (`Store`, `Outbox`) and KV (`Revocations`) in `src/adapters`; the core's tests implement them in memory.
//!
//! `async fn` in traits is fine here: a Worker is single-threaded, nothing needs `Send` futures.
#![allow(async_fn_in_trait)]

use crate::audit::{AuditEvent, EventQuery, RequestMeta, StoredEvent};
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

/// A password-reset token as stored: only its SHA-256 hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRecord {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A page request of the admin user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub limit: u32,
    /// Continue after this `(created_at, id)`.
    pub after: Option<(i64, String)>,
    /// Case-insensitive substring of username, email or display name.
    pub search: Option<String>,
}

/// An admin change to a user; `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

/// The result of a guarded admin write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    Done,
    NotFound,
    /// Refused: it would leave no active admin.
    LastAdmin,
}

impl Guarded {
    /// `Done` is success; the others are the client's 404 and 409 `last_admin`.
    pub fn into_result(self) -> Result<(), AuthError> {
        match self {
            Guarded::Done => Ok(()),
            Guarded::NotFound => Err(AuthError::NotFound),
            Guarded::LastAdmin => Err(AuthError::LastAdmin),
        }
    }
}

/// A user's TOTP authenticator as stored (the secret sealed, `crate::sealed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub sealed_secret: String,
    /// Set once a first code proved the app works.
    pub enabled_at: Option<i64>,
    /// The last step accepted (no step is accepted twice).
    pub last_step: Option<i64>,
}

/// A login whose second factor is pending, as stored (the token only as its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// What the token may do.
    pub purpose: ChallengePurpose,
    /// An upgraded password hash to store when the login completes (rehash on login).
    pub new_hash: Option<String>,
    /// How the first step was made (RFC 8176 `amr` value): `pwd`, or `hwk` / `swk` for a passkey.
    pub first_factor: String,
}

/// What an `mfa_token` may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePurpose {
    /// Finish a login at `POST /mfa/verify`.
    Login,
    /// Set up and enable TOTP (a role listed in `MFA_REQUIRED_ROLES` without a second factor).
    Enroll,
}

impl ChallengePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengePurpose::Login => "login",
            ChallengePurpose::Enroll => "enroll",
        }
    }
}

/// Second factors in D1. Every "exactly once" here is a conditional write whose change count decides.
pub trait Factors {
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, AuthError>;
    /// Stores a pending (not yet enabled) secret, replacing a pending one; never an enabled one.
    /// False when an enabled authenticator exists.
    async fn put_pending_totp(&self, user_id: &str, sealed_secret: &str) -> Result<bool, AuthError>;
    /// Enables the pending authenticator at `step` and replaces the recovery codes, in one batch.
    /// False when nothing was pending.
    async fn enable_totp(
        &self,
        user_id: &str,
        step: i64,
        codes: &[String],
        now: i64,
    ) -> Result<bool, AuthError>;
    /// Moves the last used step to `step` if it is still below it: true for exactly one caller.
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, AuthError>;
    /// Marks an unused recovery code used: true for exactly one caller.
    async fn burn_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool, AuthError>;
    /// Replaces every recovery code of the user (the old set dies).
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[String],
        now: i64,
    ) -> Result<(), AuthError>;
    /// Removes the authenticator and the recovery codes. False when there was neither.
    async fn remove_factors(&self, user_id: &str) -> Result<bool, AuthError>;
    async fn create_challenge(&self, challenge: &MfaChallenge) -> Result<(), AuthError>;
    async fn find_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, AuthError>;
    /// Marks the challenge used if it is unused and unexpired: true for exactly one caller.
    async fn consume_challenge(&self, token_hash: &str, now: i64) -> Result<bool, AuthError>;
}

/// A registered passkey (WebAuthn credential) as stored: public material only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id, base64url without padding.
    pub id: String,
    pub user_id: String,
    /// The COSE_Key bytes as registered.
    pub public_key: Vec<u8>,
    /// Its COSE algorithm (-7 ES256, -8 EdDSA).
    pub algorithm: i64,
    pub sign_count: u32,
    pub transports: Vec<String>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub aaguid: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// What a WebAuthn challenge was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebauthnPurpose {
    /// Adding a passkey to the signed-in user `user_id`.
    Register,
    /// A passkey sign-in (of `user_id` when the options named one).
    Login,
    /// The second step of the pending password login whose `mfa_token` hash is `mfa_token_hash`.
    SecondFactor,
}

impl WebauthnPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            WebauthnPurpose::Register => "register",
            WebauthnPurpose::Login => "login",
            WebauthnPurpose::SecondFactor => "second_factor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [WebauthnPurpose::Register, WebauthnPurpose::Login, WebauthnPurpose::SecondFactor]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A WebAuthn challenge as stored (only the SHA-256 of its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnChallenge {
    pub challenge_hash: String,
    pub purpose: WebauthnPurpose,
    pub user_id: Option<String>,
    pub mfa_token_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The result of deleting a passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyDeletion {
    Deleted,
    NotFound,
    /// Refused: the account has no password and this is its last passkey.
    LastFactor,
}

/// Passkeys and their challenges in D1.
pub trait Passkeys {
    /// The user's passkeys, newest first.
    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, AuthError>;
    /// A passkey by credential id, with its user, in one query.
    async fn find_passkey(&self, id: &str) -> Result<Option<(PasskeyRecord, User)>, AuthError>;
    /// Stores a new passkey. False when the credential id is registered already (to anyone).
    async fn add_passkey(&self, passkey: &PasskeyRecord) -> Result<bool, AuthError>;
    /// Records a use: moves the sign count from `from` to `to` (and the backup state) if it is still at
    /// `from`: true for exactly one of several concurrent callers.
    async fn use_passkey(
        &self,
        id: &str,
        from: u32,
        to: u32,
        backup_state: bool,
        now: i64,
    ) -> Result<bool, AuthError>;
    /// Renames one of the user's passkeys. False when the user has no such passkey.
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str) -> Result<bool, AuthError>;
    /// Deletes one of the user's passkeys, never the last one of an account without a password (in the
    /// same statement, so two concurrent deletes cannot both pass the check).
    async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<PasskeyDeletion, AuthError>;
    /// Removes every passkey of the user (the admin's factor reset).
    async fn remove_passkeys(&self, user_id: &str) -> Result<(), AuthError>;
    async fn create_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> Result<(), AuthError>;
    /// Takes (deletes and returns) an unexpired challenge: `Some` for exactly one caller.
    async fn take_webauthn_challenge(
        &self,
        challenge_hash: &str,
        now: i64,
    ) -> Result<Option<WebauthnChallenge>, AuthError>;
}

/// At most this many ended sessions of one user are denylisted one by one in KV (one write each) when
/// all of the user's sessions end; older sessions' tokens are covered by the user's not-before time.
pub const MAX_SESSION_DENYLIST_WRITES: usize = 50;

/// A revocation of access tokens, as D1's outbox keeps it and KV mirrors it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revocation {
    /// Every access token of this session (KV `revoked-session:<id>`).
    Session(String),
    /// Every access token of this user issued before `not_before` (KV `user-not-before:<id>`).
    UserBefore { user_id: String, not_before: i64 },
}

/// A row of the revocation outbox: a revocation D1 holds and KV may not have yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRevocation {
    pub revocation: Revocation,
    /// When the last access token it covers expires: KV must hold it until then, not longer.
    pub expires_at: i64,
    /// KV writes of it that failed so far.
    pub attempts: u32,
}

/// The revocation outbox in D1 (`revocation_outbox`, migration 0008). Rows are written by the `Store`
/// methods that record a revocation, in the same batch; these methods deliver and forget them.
pub trait Outbox {
    /// Up to `limit` rows, oldest first, expired ones included (so the caller can drop them).
    async fn outbox(&self, limit: u32) -> Result<Vec<PendingRevocation>, AuthError>;
    /// Deletes these rows: KV holds them, or they expired. A user row whose time was raised meanwhile
    /// stays (the later time is still to deliver). The adapter may run this after the response.
    async fn forget_revocations(&self, done: &[Revocation]) -> Result<(), AuthError>;
    /// Counts one failed KV write for each of these rows. The adapter may run this after the response.
    async fn revocations_failed(&self, failed: &[Revocation]) -> Result<(), AuthError>;
}

/// The audit log in D1 (`audit_events`, migration 0009). The use cases record events through
/// `crate::audit::Audit` (a buffer); the Worker appends the buffer after the response.
pub trait AuditLog {
    /// Appends the events of one request, with what the request adds to each, in one batch.
    async fn append_events(&self, events: &[AuditEvent], meta: &RequestMeta) -> Result<(), AuthError>;
    /// A page of events, newest first; one more than `limit` tells there is a next page.
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, AuthError>;
    /// Deletes at most `limit` events older than `before`, oldest first. Returns how many.
    async fn prune_events(&self, before: i64, limit: u32) -> Result<u32, AuthError>;
}

/// Users and sessions in D1: everything that must be exact (rotation, single use) lives here, and so
/// does every revocation (its KV copy is a mirror, see `Outbox`).
pub trait Store: Factors + Passkeys + Outbox + AuditLog {
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
    /// Whenever the session exists (of `user_id` when given), ended now or before, its outbox row
    /// (`Revocation::Session`, KV needed until `mirror_until`) is queued in the same batch, so a retried
    /// logout mirrors again; a session of someone else queues nothing.
    async fn revoke_session(
        &self,
        id: &str,
        user_id: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<bool, AuthError>;
    /// Revokes every live session of a user, except `keep` when given, and queues in the same batch
    /// the outbox rows of the user's not-before time (`now`) and of at most
    /// `MAX_SESSION_DENYLIST_WRITES` sessions revoked at `now`, the most recently used first. Returns
    /// the ids of those sessions.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<Vec<String>, AuthError>;
    /// The user's live sessions (not revoked, not expired), newest first.
    async fn list_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, AuthError>;

    /// Creates a user, and its first session when given, in one batch. A taken username or email is
    /// `UsernameTaken` / `EmailTaken` (decided by D1's UNIQUE constraints, so also under races).
    /// Returns the user's number (`User::number`), assigned by the store.
    async fn create_user(&self, user: &User, session: Option<&Session>) -> Result<i64, AuthError>;
    /// Stores a new password hash, deletes every pending reset token of the user, and starts `session`
    /// when given, in one batch. (Ending the other sessions is `revoke_user_sessions`, afterwards, so
    /// that every session that existed before the new hash, even one started a moment ago with the old
    /// password, is listed and denylisted.)
    async fn replace_password(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
        session: Option<&Session>,
    ) -> Result<(), AuthError>;

    async fn create_reset(&self, reset: &ResetRecord) -> Result<(), AuthError>;
    async fn find_reset(&self, token_hash: &str) -> Result<Option<(ResetRecord, User)>, AuthError>;
    /// Marks the reset token used if it is still unused and unexpired: true for exactly one caller.
    async fn consume_reset(&self, token_hash: &str, now: i64) -> Result<bool, AuthError>;

    /// A page of users in `(created_at, id)` order; one more than `limit` tells there is a next page.
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, AuthError>;
    /// Applies `patch`, refusing (in the same statement) to demote or disable the last active admin.
    /// `EmailTaken` when the new email belongs to someone else.
    async fn update_user(&self, id: &str, patch: &UserPatch, now: i64) -> Result<Guarded, AuthError>;
    /// Deletes a user (sessions and reset tokens go with it), never the last active admin. When it is
    /// deleted, the outbox rows of its not-before time (`now`) and of at most
    /// `MAX_SESSION_DENYLIST_WRITES` of its live sessions are queued in the same batch (they outlive
    /// the user); returns those sessions' ids.
    async fn delete_user(
        &self,
        id: &str,
        now: i64,
        mirror_until: i64,
    ) -> Result<(Guarded, Vec<String>), AuthError>;
}

/// What KV says about an access token's session and user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RevocationState {
    /// The session was ended (logout, reuse detection, deleted session).
    pub session_revoked: bool,
    /// Access tokens of this user issued before this time (unix seconds) are revoked.
    pub user_not_before: Option<i64>,
}

/// Revocations of self-contained access tokens, in KV (eventually consistent, TTL >= 60 s): the fast
/// mirror of D1's, read by every authenticated request.
pub trait Revocations {
    /// Both facts for one token; the adapter reads both keys in one bulk KV read.
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError>;
    /// Writes each revocation for its TTL in seconds (the remaining lifetime of the tokens it covers,
    /// at least 60); the adapter writes them concurrently. One result per entry, in order.
    async fn write(&self, entries: &[(Revocation, u64)]) -> Vec<Result<(), AuthError>>;
}

/// Rate-limit counters in KV: small strings under keys with a TTL (>= 60 s). Approximate by design.
pub trait Counters {
    /// Reads several keys (the adapter: one bulk KV read).
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError>;
    /// Writes several keys, concurrently. A refused write (KV allows one per second per key) is an error.
    async fn put_many(&self, entries: &[(String, String, u64)]) -> Result<(), AuthError>;
    async fn delete(&self, key: &str) -> Result<(), AuthError>;
    /// Whether a global failed-login budget is configured (the Worker: the optional
    /// `LOGIN_FAILURE_LIMITER` Rate Limiting binding). Without one, nothing reads its KV flag and
    /// [`Counters::spend_failed_login`] is never called.
    fn has_failed_login_budget(&self) -> bool {
        false
    }
    /// Counts one failed password login against the global budget: `false` once it is spent. (The
    /// Rate Limiting binding counts and answers in one call and cannot be asked without counting,
    /// which is why this runs after the hash, on failures only.)
    async fn spend_failed_login(&self) -> Result<bool, AuthError> {
        Ok(true)
    }
    /// Until when (unix seconds) this isolate knows the budget to be spent: a memo, no I/O, so that
    /// logins already past their KV read when the flag was written are refused before hashing too.
    /// The Worker keeps it per isolate; 0 when unknown.
    fn failed_login_budget_spent_until(&self) -> i64 {
        0
    }
    /// Records that the budget is spent until `until` (unix seconds), for
    /// [`Counters::failed_login_budget_spent_until`].
    fn set_failed_login_budget_spent_until(&self, until: i64) {
        let _ = until;
    }
}

// A borrowed adapter is an adapter: the use cases own their handles (`service::Auth`), and a caller
// that keeps one for later (the tests, which inspect it afterwards) lends it instead.

impl<T: Factors + ?Sized> Factors for &T {
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, AuthError> {
        (**self).totp(user_id).await
    }
    async fn put_pending_totp(&self, user_id: &str, sealed_secret: &str) -> Result<bool, AuthError> {
        (**self).put_pending_totp(user_id, sealed_secret).await
    }
    async fn enable_totp(
        &self,
        user_id: &str,
        step: i64,
        codes: &[String],
        now: i64,
    ) -> Result<bool, AuthError> {
        (**self).enable_totp(user_id, step, codes, now).await
    }
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, AuthError> {
        (**self).use_totp_step(user_id, step).await
    }
    async fn burn_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool, AuthError> {
        (**self).burn_recovery_code(user_id, code_hash, now).await
    }
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[String],
        now: i64,
    ) -> Result<(), AuthError> {
        (**self).replace_recovery_codes(user_id, codes, now).await
    }
    async fn remove_factors(&self, user_id: &str) -> Result<bool, AuthError> {
        (**self).remove_factors(user_id).await
    }
    async fn create_challenge(&self, challenge: &MfaChallenge) -> Result<(), AuthError> {
        (**self).create_challenge(challenge).await
    }
    async fn find_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, AuthError> {
        (**self).find_challenge(token_hash).await
    }
    async fn consume_challenge(&self, token_hash: &str, now: i64) -> Result<bool, AuthError> {
        (**self).consume_challenge(token_hash, now).await
    }
}

impl<T: Passkeys + ?Sized> Passkeys for &T {
    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, AuthError> {
        (**self).list_passkeys(user_id).await
    }
    async fn find_passkey(&self, id: &str) -> Result<Option<(PasskeyRecord, User)>, AuthError> {
        (**self).find_passkey(id).await
    }
    async fn add_passkey(&self, passkey: &PasskeyRecord) -> Result<bool, AuthError> {
        (**self).add_passkey(passkey).await
    }
    async fn use_passkey(
        &self,
        id: &str,
        from: u32,
        to: u32,
        backup_state: bool,
        now: i64,
    ) -> Result<bool, AuthError> {
        (**self).use_passkey(id, from, to, backup_state, now).await
    }
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str) -> Result<bool, AuthError> {
        (**self).rename_passkey(user_id, id, name).await
    }
    async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<PasskeyDeletion, AuthError> {
        (**self).delete_passkey(user_id, id).await
    }
    async fn remove_passkeys(&self, user_id: &str) -> Result<(), AuthError> {
        (**self).remove_passkeys(user_id).await
    }
    async fn create_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> Result<(), AuthError> {
        (**self).create_webauthn_challenge(challenge).await
    }
    async fn take_webauthn_challenge(
        &self,
        challenge_hash: &str,
        now: i64,
    ) -> Result<Option<WebauthnChallenge>, AuthError> {
        (**self).take_webauthn_challenge(challenge_hash, now).await
    }
}

impl<T: Store + ?Sized> Store for &T {
    async fn find_user_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError> {
        (**self).find_user_by_login(name).await
    }
    async fn find_user(&self, id: &str) -> Result<Option<User>, AuthError> {
        (**self).find_user(id).await
    }
    async fn start_session(&self, login: &LoginRecord<'_>, session: &Session) -> Result<(), AuthError> {
        (**self).start_session(login, session).await
    }
    async fn find_session(&self, id: &str) -> Result<Option<(Session, User)>, AuthError> {
        (**self).find_session(id).await
    }
    async fn advance_session(&self, id: &str, from: u64, now: i64) -> Result<bool, AuthError> {
        (**self).advance_session(id, from, now).await
    }
    async fn revoke_session(
        &self,
        id: &str,
        user_id: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<bool, AuthError> {
        (**self).revoke_session(id, user_id, now, mirror_until).await
    }
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<Vec<String>, AuthError> {
        (**self).revoke_user_sessions(user_id, keep, now, mirror_until).await
    }
    async fn list_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, AuthError> {
        (**self).list_sessions(user_id, now).await
    }
    async fn create_user(&self, user: &User, session: Option<&Session>) -> Result<i64, AuthError> {
        (**self).create_user(user, session).await
    }
    async fn replace_password(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
        session: Option<&Session>,
    ) -> Result<(), AuthError> {
        (**self).replace_password(user_id, hash, now, session).await
    }
    async fn create_reset(&self, reset: &ResetRecord) -> Result<(), AuthError> {
        (**self).create_reset(reset).await
    }
    async fn find_reset(&self, token_hash: &str) -> Result<Option<(ResetRecord, User)>, AuthError> {
        (**self).find_reset(token_hash).await
    }
    async fn consume_reset(&self, token_hash: &str, now: i64) -> Result<bool, AuthError> {
        (**self).consume_reset(token_hash, now).await
    }
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, AuthError> {
        (**self).list_users(query).await
    }
    async fn update_user(&self, id: &str, patch: &UserPatch, now: i64) -> Result<Guarded, AuthError> {
        (**self).update_user(id, patch, now).await
    }
    async fn delete_user(
        &self,
        id: &str,
        now: i64,
        mirror_until: i64,
    ) -> Result<(Guarded, Vec<String>), AuthError> {
        (**self).delete_user(id, now, mirror_until).await
    }
}

impl<T: Outbox + ?Sized> Outbox for &T {
    async fn outbox(&self, limit: u32) -> Result<Vec<PendingRevocation>, AuthError> {
        (**self).outbox(limit).await
    }
    async fn forget_revocations(&self, done: &[Revocation]) -> Result<(), AuthError> {
        (**self).forget_revocations(done).await
    }
    async fn revocations_failed(&self, failed: &[Revocation]) -> Result<(), AuthError> {
        (**self).revocations_failed(failed).await
    }
}

impl<T: AuditLog + ?Sized> AuditLog for &T {
    async fn append_events(&self, events: &[AuditEvent], meta: &RequestMeta) -> Result<(), AuthError> {
        (**self).append_events(events, meta).await
    }
    async fn list_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, AuthError> {
        (**self).list_events(query).await
    }
    async fn prune_events(&self, before: i64, limit: u32) -> Result<u32, AuthError> {
        (**self).prune_events(before, limit).await
    }
}

impl<T: Revocations + ?Sized> Revocations for &T {
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError> {
        (**self).check(session_id, user_id).await
    }
    async fn write(&self, entries: &[(Revocation, u64)]) -> Vec<Result<(), AuthError>> {
        (**self).write(entries).await
    }
}

impl<T: Counters + ?Sized> Counters for &T {
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError> {
        (**self).get_many(keys).await
    }
    async fn put_many(&self, entries: &[(String, String, u64)]) -> Result<(), AuthError> {
        (**self).put_many(entries).await
    }
    async fn delete(&self, key: &str) -> Result<(), AuthError> {
        (**self).delete(key).await
    }
    fn has_failed_login_budget(&self) -> bool {
        (**self).has_failed_login_budget()
    }
    async fn spend_failed_login(&self) -> Result<bool, AuthError> {
        (**self).spend_failed_login().await
    }
    fn failed_login_budget_spent_until(&self) -> i64 {
        (**self).failed_login_budget_spent_until()
    }
    fn set_failed_login_budget_spent_until(&self, until: i64) {
        (**self).set_failed_login_budget_spent_until(until)
    }
}
