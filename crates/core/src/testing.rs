//! Test helpers: in-memory `Store` and `Revocations`, a test configuration and a minimal executor.

use crate::audit::{Audit, AuditEvent, EventQuery, RequestMeta, StoredEvent};
use crate::config::Config;
use crate::error::AuthError;
use crate::ports::{
    AuditLog, Counters, Factors, Guarded, LoginRecord, MfaChallenge, Outbox, PasskeyDeletion, PasskeyRecord,
    Passkeys, PendingRevocation, ResetRecord, Revocation, RevocationState, Revocations, Store, TotpRecord,
    UserPatch, UserQuery, WebauthnChallenge, MAX_SESSION_DENYLIST_WRITES,
};
use crate::session::Session;
use crate::user::User;
use crate::validate::LoginName;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future that never waits on I/O (the in-memory stores complete at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A configuration with the lowest hash cost, for speed; `extra` overrides settings.
pub fn config_with(extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("JWT_SECRET".into(), "test-secret-test-secret-test-secret-0123".into()),
        ("PASSWORD_ITERATIONS".into(), "1000".into()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test config is valid")
}

pub fn config() -> Config {
    config_with(&[])
}

#[derive(Default)]
pub struct MemoryStore {
    users: RefCell<Vec<User>>,
    sessions: RefCell<Vec<Session>>,
    resets: RefCell<Vec<ResetRecord>>,
    /// Email-verification tokens (`crate::email::EmailStore`).
    pub verifications: RefCell<Vec<crate::email::VerificationRecord>>,
    /// When set, the next `advance_session` loses a race: another caller advanced first.
    pub lose_next_race: RefCell<bool>,
    totp: RefCell<HashMap<String, TotpRecord>>,
    /// (user id, code hash, used at)
    recovery: RefCell<Vec<(String, String, Option<i64>)>>,
    challenges: RefCell<Vec<(MfaChallenge, Option<i64>)>>,
    /// Passkeys, in insertion order.
    pub passkeys: RefCell<Vec<PasskeyRecord>>,
    pub webauthn_challenges: RefCell<Vec<WebauthnChallenge>>,
    /// The revocation outbox (`revocation_outbox`), in insertion order.
    pub outbox: RefCell<Vec<PendingRevocation>>,
    /// The audit log (`audit_events`), in insertion order (ids from 1).
    pub events: RefCell<Vec<StoredEvent>>,
}

/// An audit recorder that forgets: for the tests that do not look at events.
pub struct NoAudit;

impl Audit for NoAudit {
    fn record(&self, _event: AuditEvent) {}
}

impl AuditLog for MemoryStore {
    async fn append_events(&self, events: &[AuditEvent], meta: &RequestMeta) -> Result<(), AuthError> {
        let mut stored = self.events.borrow_mut();
        for e in events {
            let id = stored.last().map_or(1, |last| last.id + 1);
            stored.push(StoredEvent {
                id,
                at: e.at,
                kind: e.kind.as_str().to_string(),
                user_id: e.user_id.clone(),
                actor_id: e.actor_id.clone(),
                session_id: e.session_id.clone(),
                request_id: meta.request_id.clone(),
                ip: meta.ip.clone(),
                user_agent: meta.user_agent.clone(),
                detail: e.detail.to_json(),
            });
        }
        Ok(())
    }

    async fn list_events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, AuthError> {
        Ok(self
            .events
            .borrow()
            .iter()
            .rev()
            .filter(|e| q.before_id.is_none_or(|b| e.id < b))
            .filter(|e| q.user_id.as_ref().is_none_or(|u| e.user_id.as_ref() == Some(u)))
            .filter(|e| q.kinds.is_empty() || q.kinds.iter().any(|k| k.as_str() == e.kind))
            .filter(|e| q.since.is_none_or(|s| e.at >= s))
            .take(q.limit as usize + 1)
            .cloned()
            .collect())
    }

    async fn prune_events(&self, before: i64, limit: u32) -> Result<u32, AuthError> {
        let mut events = self.events.borrow_mut();
        let old: Vec<i64> =
            events.iter().filter(|e| e.at < before).take(limit as usize).map(|e| e.id).collect();
        events.retain(|e| !old.contains(&e.id));
        Ok(old.len() as u32)
    }
}

impl Factors for MemoryStore {
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, AuthError> {
        Ok(self.totp.borrow().get(user_id).cloned())
    }
    async fn put_pending_totp(&self, user_id: &str, sealed_secret: &str) -> Result<bool, AuthError> {
        let mut totp = self.totp.borrow_mut();
        if totp.get(user_id).is_some_and(|t| t.enabled_at.is_some()) {
            return Ok(false);
        }
        totp.insert(
            user_id.into(),
            TotpRecord { sealed_secret: sealed_secret.into(), enabled_at: None, last_step: None },
        );
        Ok(true)
    }
    async fn enable_totp(
        &self,
        user_id: &str,
        step: i64,
        codes: &[String],
        now: i64,
    ) -> Result<bool, AuthError> {
        let pending = {
            let mut totp = self.totp.borrow_mut();
            match totp.get_mut(user_id) {
                Some(t) if t.enabled_at.is_none() => {
                    t.enabled_at = Some(now);
                    t.last_step = Some(step);
                    true
                }
                _ => false,
            }
        };
        if !pending {
            return Ok(false);
        }
        self.replace_recovery_codes(user_id, codes, now).await?;
        Ok(true)
    }
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, AuthError> {
        let mut totp = self.totp.borrow_mut();
        match totp.get_mut(user_id) {
            Some(t) if t.enabled_at.is_some() && t.last_step.is_none_or(|last| last < step) => {
                t.last_step = Some(step);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn burn_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool, AuthError> {
        let mut codes = self.recovery.borrow_mut();
        match codes.iter_mut().find(|(u, h, used)| u == user_id && h == code_hash && used.is_none()) {
            Some(entry) => {
                entry.2 = Some(now);
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[String],
        _now: i64,
    ) -> Result<(), AuthError> {
        let mut all = self.recovery.borrow_mut();
        all.retain(|(u, _, _)| u != user_id);
        all.extend(codes.iter().map(|h| (user_id.to_string(), h.clone(), None)));
        Ok(())
    }
    async fn remove_factors(&self, user_id: &str) -> Result<bool, AuthError> {
        let had = self.totp.borrow_mut().remove(user_id).is_some();
        let mut codes = self.recovery.borrow_mut();
        let before = codes.len();
        codes.retain(|(u, _, _)| u != user_id);
        Ok(had || codes.len() != before)
    }
    async fn create_challenge(&self, challenge: &MfaChallenge) -> Result<(), AuthError> {
        self.challenges.borrow_mut().push((challenge.clone(), None));
        Ok(())
    }
    async fn find_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, AuthError> {
        Ok(self.challenges.borrow().iter().find(|(c, _)| c.token_hash == token_hash).map(|(c, _)| c.clone()))
    }
    async fn consume_challenge(&self, token_hash: &str, now: i64) -> Result<bool, AuthError> {
        let mut all = self.challenges.borrow_mut();
        match all
            .iter_mut()
            .find(|(c, used)| c.token_hash == token_hash && used.is_none() && c.expires_at > now)
        {
            Some(entry) => {
                entry.1 = Some(now);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl MemoryStore {
    /// The user as D1 reads it: with `second_factor` from the TOTP table.
    fn with_factor(&self, user: &User) -> User {
        let second_factor = self.totp.borrow().get(&user.id).is_some_and(|t| t.enabled_at.is_some());
        let passkeys = self.passkeys.borrow().iter().any(|p| p.user_id == user.id);
        User { second_factor, passkeys, ..user.clone() }
    }

    pub fn with_user(config: &Config, username: &str, password: &str, role: &str) -> Self {
        let store = MemoryStore::default();
        store.add_user(config, username, password, role);
        store
    }

    pub fn add_user(&self, config: &Config, username: &str, password: &str, role: &str) -> String {
        let id = crate::random::id();
        let number = Some(self.users.borrow().len() as i64 + 1);
        self.users.borrow_mut().push(User {
            id: id.clone(),
            username: username.into(),
            email: Some(format!("{}@example.com", username.to_lowercase())),
            display_name: None,
            role: role.into(),
            password_hash: config.hasher.hash(password),
            disabled: false,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            last_login_at: None,
            number,
            details: Default::default(),
            email_verified_at: None,
            pending_email: None,
            second_factor: false,
            passkeys: false,
        });
        id
    }

    pub fn get(&self, username: &str) -> User {
        self.users
            .borrow()
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .cloned()
            .expect("user exists")
    }

    pub fn update(&self, username: &str, f: impl FnOnce(&mut User)) {
        let mut users = self.users.borrow_mut();
        f(users.iter_mut().find(|u| u.username.eq_ignore_ascii_case(username)).expect("user exists"));
    }

    pub fn remove(&self, username: &str) {
        self.users.borrow_mut().retain(|u| !u.username.eq_ignore_ascii_case(username));
    }

    pub fn session(&self, id: &str) -> Session {
        self.sessions.borrow().iter().find(|s| s.id == id).cloned().expect("session exists")
    }

    /// The revocations waiting in the outbox.
    pub fn pending(&self) -> Vec<Revocation> {
        self.outbox.borrow().iter().map(|p| p.revocation.clone()).collect()
    }

    /// Upserts an outbox row as D1 does: a user's time and a row's expiry only ever rise.
    fn queue(&self, revocation: Revocation, expires_at: i64) {
        let mut outbox = self.outbox.borrow_mut();
        match outbox.iter_mut().find(|p| same_row(&p.revocation, &revocation)) {
            Some(row) => {
                if let (
                    Revocation::UserBefore { not_before: old, .. },
                    Revocation::UserBefore { not_before: new, .. },
                ) = (&mut row.revocation, &revocation)
                {
                    *old = (*old).max(*new);
                }
                row.expires_at = row.expires_at.max(expires_at);
            }
            None => outbox.push(PendingRevocation { revocation, expires_at, attempts: 0 }),
        }
    }

    /// Queues the most recently used `MAX_SESSION_DENYLIST_WRITES` of these sessions; returns their ids.
    fn queue_sessions(&self, mut sessions: Vec<(i64, String)>, expires_at: i64) -> Vec<String> {
        sessions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        sessions.truncate(MAX_SESSION_DENYLIST_WRITES);
        for (_, id) in &sessions {
            self.queue(Revocation::Session(id.clone()), expires_at);
        }
        sessions.into_iter().map(|(_, id)| id).collect()
    }
}

/// Whether two revocations are the same outbox row (its key: kind and subject).
fn same_row(a: &Revocation, b: &Revocation) -> bool {
    match (a, b) {
        (Revocation::Session(x), Revocation::Session(y)) => x == y,
        (Revocation::UserBefore { user_id: x, .. }, Revocation::UserBefore { user_id: y, .. }) => x == y,
        _ => false,
    }
}

impl Outbox for MemoryStore {
    async fn outbox(&self, limit: u32) -> Result<Vec<PendingRevocation>, AuthError> {
        Ok(self.outbox.borrow().iter().take(limit as usize).cloned().collect())
    }

    async fn forget_revocations(&self, done: &[Revocation]) -> Result<(), AuthError> {
        // Exact match: a user row whose time was raised since is not the one delivered, and stays.
        self.outbox.borrow_mut().retain(|p| !done.contains(&p.revocation));
        Ok(())
    }

    async fn revocations_failed(&self, failed: &[Revocation]) -> Result<(), AuthError> {
        for p in self.outbox.borrow_mut().iter_mut().filter(|p| failed.contains(&p.revocation)) {
            p.attempts += 1;
        }
        Ok(())
    }
}

impl Store for MemoryStore {
    async fn find_user_by_login(&self, name: &LoginName) -> Result<Option<User>, AuthError> {
        let users = self.users.borrow();
        Ok(users
            .iter()
            .find(|u| match name {
                LoginName::Username(n) => u.username.eq_ignore_ascii_case(n),
                LoginName::Email(e) => u.email.as_deref() == Some(e.as_str()),
            })
            .map(|u| self.with_factor(u)))
    }

    async fn find_user(&self, id: &str) -> Result<Option<User>, AuthError> {
        Ok(self.users.borrow().iter().find(|u| u.id == id).map(|u| self.with_factor(u)))
    }

    async fn start_session(&self, login: &LoginRecord<'_>, session: &Session) -> Result<(), AuthError> {
        if let Some(u) = self.users.borrow_mut().iter_mut().find(|u| u.id == login.user_id) {
            u.last_login_at = Some(login.now);
            if let Some(h) = login.new_hash {
                u.password_hash = h.to_string();
            }
        }
        self.sessions.borrow_mut().push(session.clone());
        Ok(())
    }

    async fn find_session(&self, id: &str) -> Result<Option<(Session, User)>, AuthError> {
        let Some(s) = self.sessions.borrow().iter().find(|s| s.id == id).cloned() else { return Ok(None) };
        Ok(self.users.borrow().iter().find(|u| u.id == s.user_id).map(|u| (s, self.with_factor(u))))
    }

    async fn advance_session(&self, id: &str, from: u64, now: i64) -> Result<bool, AuthError> {
        let mut sessions = self.sessions.borrow_mut();
        let Some(s) = sessions.iter_mut().find(|s| s.id == id) else { return Ok(false) };
        if self.lose_next_race.replace(false) {
            // Another caller rotated first, a moment ago.
            s.generation += 1;
            s.rotated_at = now;
            return Ok(false);
        }
        if s.generation != from || s.revoked_at.is_some() {
            return Ok(false);
        }
        s.generation += 1;
        s.rotated_at = now;
        s.last_used_at = now;
        Ok(true)
    }

    async fn revoke_session(
        &self,
        id: &str,
        user_id: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<bool, AuthError> {
        let mut sessions = self.sessions.borrow_mut();
        let Some(s) = sessions.iter_mut().find(|s| s.id == id && user_id.is_none_or(|u| s.user_id == u))
        else {
            return Ok(false);
        };
        // One batch in D1: the revocation, and the outbox row whenever the session is the user's.
        self.queue(Revocation::Session(id.to_string()), mirror_until);
        if s.revoked_at.is_none() && s.expires_at > now {
            s.revoked_at = Some(now);
            return Ok(true);
        }
        Ok(false)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
        mirror_until: i64,
    ) -> Result<Vec<String>, AuthError> {
        let mut ended = Vec::new();
        for s in self.sessions.borrow_mut().iter_mut() {
            if s.user_id == user_id
                && s.revoked_at.is_none()
                && s.expires_at > now
                && Some(s.id.as_str()) != keep
            {
                s.revoked_at = Some(now);
                ended.push((s.last_used_at, s.id.clone()));
            }
        }
        self.queue(Revocation::UserBefore { user_id: user_id.to_string(), not_before: now }, mirror_until);
        Ok(self.queue_sessions(ended, mirror_until))
    }

    async fn list_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, AuthError> {
        let mut v: Vec<Session> = self
            .sessions
            .borrow()
            .iter()
            .filter(|s| s.user_id == user_id && s.revoked_at.is_none() && s.expires_at > now)
            .cloned()
            .collect();
        v.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(v)
    }

    async fn create_user(&self, user: &User, session: Option<&Session>) -> Result<i64, AuthError> {
        let mut users = self.users.borrow_mut();
        if users.iter().any(|u| u.username.eq_ignore_ascii_case(&user.username)) {
            return Err(AuthError::UsernameTaken);
        }
        if user.email.is_some() && users.iter().any(|u| u.email == user.email) {
            return Err(AuthError::EmailTaken);
        }
        let number = users.iter().filter_map(|u| u.number).max().unwrap_or(0) + 1;
        users.push(User { number: Some(number), ..user.clone() });
        if let Some(s) = session {
            self.sessions.borrow_mut().push(s.clone());
        }
        Ok(number)
    }

    async fn replace_password(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
        session: Option<&Session>,
    ) -> Result<(), AuthError> {
        if let Some(u) = self.users.borrow_mut().iter_mut().find(|u| u.id == user_id) {
            u.password_hash = hash.to_string();
            u.updated_at = now;
        }
        self.resets.borrow_mut().retain(|r| r.user_id != user_id);
        if let Some(s) = session {
            self.sessions.borrow_mut().push(s.clone());
        }
        Ok(())
    }

    async fn create_reset(&self, reset: &ResetRecord) -> Result<(), AuthError> {
        self.resets.borrow_mut().push(reset.clone());
        Ok(())
    }

    async fn find_reset(&self, token_hash: &str) -> Result<Option<(ResetRecord, User)>, AuthError> {
        let Some(r) = self.resets.borrow().iter().find(|r| r.token_hash == token_hash).cloned() else {
            return Ok(None);
        };
        Ok(self.users.borrow().iter().find(|u| u.id == r.user_id).cloned().map(|u| (r, u)))
    }

    async fn consume_reset(&self, token_hash: &str, now: i64) -> Result<bool, AuthError> {
        let mut resets = self.resets.borrow_mut();
        match resets
            .iter_mut()
            .find(|r| r.token_hash == token_hash && r.used_at.is_none() && r.expires_at > now)
        {
            Some(r) => {
                r.used_at = Some(now);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, AuthError> {
        let mut users: Vec<User> = self
            .users
            .borrow()
            .iter()
            .filter(|u| match &query.after {
                Some((at, id)) => (u.created_at, &u.id) > (*at, id),
                None => true,
            })
            .filter(|u| match &query.search {
                Some(q) => {
                    let q = q.to_lowercase();
                    u.username.to_lowercase().contains(&q)
                        || u.email.as_deref().is_some_and(|e| e.contains(&q))
                        || u.display_name.as_deref().is_some_and(|d| d.to_lowercase().contains(&q))
                }
                None => true,
            })
            .cloned()
            .collect();
        users.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        users.truncate(query.limit as usize + 1);
        Ok(users)
    }

    async fn update_user(&self, id: &str, patch: &UserPatch, now: i64) -> Result<Guarded, AuthError> {
        let active_admins = self.users.borrow().iter().filter(|u| u.role == "admin" && !u.disabled).count();
        let mut users = self.users.borrow_mut();
        if let Some(Some(email)) = &patch.email {
            if users.iter().any(|u| u.id != id && u.email.as_deref() == Some(email)) {
                return Err(AuthError::EmailTaken);
            }
        }
        let Some(u) = users.iter_mut().find(|u| u.id == id) else { return Ok(Guarded::NotFound) };
        let loses_admin = u.role == "admin"
            && !u.disabled
            && (patch.role.as_deref().is_some_and(|r| r != "admin") || patch.disabled == Some(true));
        if loses_admin && active_admins <= 1 {
            return Ok(Guarded::LastAdmin);
        }
        if let Some(r) = &patch.role {
            u.role = r.clone();
        }
        if let Some(d) = patch.disabled {
            u.disabled = d;
        }
        if let Some(d) = &patch.display_name {
            u.display_name = d.clone();
        }
        if let Some(e) = &patch.email {
            if u.email != *e {
                u.email_verified_at = None;
            }
            u.email = e.clone();
        }
        u.updated_at = now;
        Ok(Guarded::Done)
    }

    async fn delete_user(
        &self,
        id: &str,
        now: i64,
        mirror_until: i64,
    ) -> Result<(Guarded, Vec<String>), AuthError> {
        let active_admins = self.users.borrow().iter().filter(|u| u.role == "admin" && !u.disabled).count();
        let mut users = self.users.borrow_mut();
        let Some(u) = users.iter().find(|u| u.id == id) else { return Ok((Guarded::NotFound, vec![])) };
        if u.role == "admin" && !u.disabled && active_admins <= 1 {
            return Ok((Guarded::LastAdmin, vec![]));
        }
        users.retain(|u| u.id != id);
        let live: Vec<(i64, String)> = self
            .sessions
            .borrow()
            .iter()
            .filter(|s| s.user_id == id && s.revoked_at.is_none() && s.expires_at > now)
            .map(|s| (s.last_used_at, s.id.clone()))
            .collect();
        self.sessions.borrow_mut().retain(|s| s.user_id != id);
        self.passkeys.borrow_mut().retain(|p| p.user_id != id);
        self.queue(Revocation::UserBefore { user_id: id.to_string(), not_before: now }, mirror_until);
        Ok((Guarded::Done, self.queue_sessions(live, mirror_until)))
    }
}

impl Passkeys for MemoryStore {
    async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>, AuthError> {
        let mut list: Vec<_> =
            self.passkeys.borrow().iter().filter(|p| p.user_id == user_id).cloned().collect();
        list.reverse();
        list.sort_by_key(|p| std::cmp::Reverse(p.created_at));
        Ok(list)
    }
    async fn find_passkey(&self, id: &str) -> Result<Option<(PasskeyRecord, User)>, AuthError> {
        let Some(p) = self.passkeys.borrow().iter().find(|p| p.id == id).cloned() else { return Ok(None) };
        let user = self.users.borrow().iter().find(|u| u.id == p.user_id).map(|u| self.with_factor(u));
        Ok(user.map(|u| (p, u)))
    }
    async fn add_passkey(&self, passkey: &PasskeyRecord) -> Result<bool, AuthError> {
        let mut all = self.passkeys.borrow_mut();
        if all.iter().any(|p| p.id == passkey.id) {
            return Ok(false);
        }
        all.push(passkey.clone());
        Ok(true)
    }
    async fn use_passkey(
        &self,
        id: &str,
        from: u32,
        to: u32,
        backup_state: bool,
        now: i64,
    ) -> Result<bool, AuthError> {
        let mut all = self.passkeys.borrow_mut();
        match all.iter_mut().find(|p| p.id == id && p.sign_count == from) {
            Some(p) => {
                (p.sign_count, p.backup_state, p.last_used_at) = (to, backup_state, Some(now));
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str) -> Result<bool, AuthError> {
        let mut all = self.passkeys.borrow_mut();
        match all.iter_mut().find(|p| p.id == id && p.user_id == user_id) {
            Some(p) => {
                p.name = name.to_string();
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<PasskeyDeletion, AuthError> {
        let has_password = self.users.borrow().iter().any(|u| u.id == user_id && !u.password_hash.is_empty());
        let mut all = self.passkeys.borrow_mut();
        if !all.iter().any(|p| p.id == id && p.user_id == user_id) {
            return Ok(PasskeyDeletion::NotFound);
        }
        if !has_password && all.iter().filter(|p| p.user_id == user_id).count() <= 1 {
            return Ok(PasskeyDeletion::LastFactor);
        }
        all.retain(|p| p.id != id);
        Ok(PasskeyDeletion::Deleted)
    }
    async fn remove_passkeys(&self, user_id: &str) -> Result<(), AuthError> {
        self.passkeys.borrow_mut().retain(|p| p.user_id != user_id);
        Ok(())
    }
    async fn create_webauthn_challenge(&self, challenge: &WebauthnChallenge) -> Result<(), AuthError> {
        self.webauthn_challenges.borrow_mut().push(challenge.clone());
        Ok(())
    }
    async fn take_webauthn_challenge(
        &self,
        challenge_hash: &str,
        now: i64,
    ) -> Result<Option<WebauthnChallenge>, AuthError> {
        let mut all = self.webauthn_challenges.borrow_mut();
        let Some(i) = all.iter().position(|c| c.challenge_hash == challenge_hash) else { return Ok(None) };
        let taken = all.remove(i);
        Ok((taken.expires_at > now).then_some(taken))
    }
}

/// KV revocations in memory (TTLs ignored: tests run inside them).
#[derive(Default)]
pub struct MemoryRevocations {
    sessions: RefCell<Vec<String>>,
    users: RefCell<HashMap<String, i64>>,
    /// KV reads done so far (each `check` is two).
    pub reads: RefCell<u64>,
    /// KV writes that succeeded so far.
    pub writes: Cell<u64>,
    /// When set, every write fails (KV refusing writes: an outage, a quota, one write per second).
    pub refuse_writes: Cell<bool>,
    /// When set, every read fails (KV down).
    pub refuse_reads: Cell<bool>,
    /// Keys written in the current request (`next_request` starts another).
    written: RefCell<HashSet<String>>,
}

impl MemoryRevocations {
    /// Starts another request: KV's one write per second per key is checked within a request.
    pub fn next_request(&self) {
        self.written.borrow_mut().clear();
    }

    /// Whether KV denylists the session.
    pub fn has_session(&self, session_id: &str) -> bool {
        self.sessions.borrow().iter().any(|s| s == session_id)
    }

    /// The user's not-before time in KV.
    pub fn not_before(&self, user_id: &str) -> Option<i64> {
        self.users.borrow().get(user_id).copied()
    }

    fn write_one(&self, revocation: &Revocation, ttl_seconds: u64) -> Result<(), AuthError> {
        assert!(ttl_seconds >= 60, "KV refuses TTLs under 60 s");
        let key = match revocation {
            Revocation::Session(id) => crate::kv_keys::revoked_session(id),
            Revocation::UserBefore { user_id, .. } => crate::kv_keys::user_not_before(user_id),
        };
        // KV allows one write per second per key; every use case writes a key at most once.
        assert!(self.written.borrow_mut().insert(key.clone()), "{key} written twice in one request");
        if self.refuse_writes.get() {
            return Err(AuthError::Unavailable("KV put: 503".into()));
        }
        match revocation {
            Revocation::Session(id) => {
                if !self.has_session(id) {
                    self.sessions.borrow_mut().push(id.clone());
                }
            }
            Revocation::UserBefore { user_id, not_before } => {
                self.users.borrow_mut().insert(user_id.clone(), *not_before);
            }
        }
        self.writes.set(self.writes.get() + 1);
        Ok(())
    }
}

impl Revocations for MemoryRevocations {
    async fn check(&self, session_id: &str, user_id: &str) -> Result<RevocationState, AuthError> {
        if self.refuse_reads.get() {
            return Err(AuthError::Unavailable("KV get: 503".into()));
        }
        *self.reads.borrow_mut() += 2;
        Ok(RevocationState {
            session_revoked: self.has_session(session_id),
            user_not_before: self.not_before(user_id),
        })
    }

    async fn write(&self, entries: &[(Revocation, u64)]) -> Vec<Result<(), AuthError>> {
        entries.iter().map(|(revocation, ttl)| self.write_one(revocation, *ttl)).collect()
    }
}

/// KV counters in memory (TTLs ignored).
#[derive(Default)]
pub struct MemoryCounters {
    pub values: RefCell<HashMap<String, String>>,
    /// KV writes and deletes done so far.
    pub writes: RefCell<u64>,
    /// When set, every write fails (KV refusing: one write per second per key).
    pub refuse_writes: RefCell<bool>,
    /// The global failed-login budget (the Rate Limiting binding in the Worker): `Some(n)` lets `n`
    /// more failures through before it answers "over"; `None`, no budget configured.
    pub failed_login_budget: RefCell<Option<u32>>,
    /// Calls to `spend_failed_login` so far.
    pub budget_calls: RefCell<u64>,
    /// When set, `spend_failed_login` fails (the binding erring).
    pub budget_unavailable: RefCell<bool>,
    /// The isolate's memo of a spent budget (unix seconds; 0: none).
    pub budget_spent_until: RefCell<i64>,
    /// The keys of every bulk read so far, one entry per `get_many`.
    pub bulk_reads: RefCell<Vec<Vec<String>>>,
    /// The TTL of every key's last write.
    pub ttls: RefCell<HashMap<String, u64>>,
}

impl MemoryCounters {
    /// Counters with a global failed-login budget of `failures`.
    pub fn with_failed_login_budget(failures: u32) -> Self {
        MemoryCounters { failed_login_budget: RefCell::new(Some(failures)), ..Default::default() }
    }
}

impl Counters for MemoryCounters {
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<String>>, AuthError> {
        self.bulk_reads.borrow_mut().push(keys.iter().map(|k| k.to_string()).collect());
        Ok(keys.iter().map(|k| self.values.borrow().get(*k).cloned()).collect())
    }

    async fn put_many(&self, entries: &[(String, String, u64)]) -> Result<(), AuthError> {
        if *self.refuse_writes.borrow() {
            return Err(AuthError::Unavailable("KV put: 429 Too Many Requests".into()));
        }
        for (k, v, ttl) in entries {
            assert!(*ttl >= 60, "KV refuses TTLs under 60 s");
            self.values.borrow_mut().insert(k.clone(), v.clone());
            self.ttls.borrow_mut().insert(k.clone(), *ttl);
            *self.writes.borrow_mut() += 1;
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), AuthError> {
        self.values.borrow_mut().remove(key);
        *self.writes.borrow_mut() += 1;
        Ok(())
    }

    fn has_failed_login_budget(&self) -> bool {
        self.failed_login_budget.borrow().is_some()
    }

    async fn spend_failed_login(&self) -> Result<bool, AuthError> {
        *self.budget_calls.borrow_mut() += 1;
        if *self.budget_unavailable.borrow() {
            return Err(AuthError::Unavailable("rate limiter: binding failed".into()));
        }
        let mut budget = self.failed_login_budget.borrow_mut();
        let remaining = budget.as_mut().expect("spent only when a budget is configured");
        let within = *remaining > 0;
        *remaining = remaining.saturating_sub(1);
        Ok(within)
    }

    fn failed_login_budget_spent_until(&self) -> i64 {
        *self.budget_spent_until.borrow()
    }

    fn set_failed_login_budget_spent_until(&self, until: i64) {
        *self.budget_spent_until.borrow_mut() = until;
    }
}

impl crate::email::EmailStore for MemoryStore {
    async fn create_verification(&self, record: &crate::email::VerificationRecord) -> Result<(), AuthError> {
        let mut v = self.verifications.borrow_mut();
        v.retain(|r| r.user_id != record.user_id);
        v.push(record.clone());
        Ok(())
    }

    async fn find_verification(
        &self,
        token_hash: &str,
    ) -> Result<Option<(crate::email::VerificationRecord, User)>, AuthError> {
        let Some(r) = self.verifications.borrow().iter().find(|r| r.token_hash == token_hash).cloned() else {
            return Ok(None);
        };
        Ok(self.users.borrow().iter().find(|u| u.id == r.user_id).cloned().map(|u| (r, u)))
    }

    async fn consume_verification(
        &self,
        token_hash: &str,
        user_id: &str,
        email: &str,
        now: i64,
    ) -> Result<bool, AuthError> {
        let mut users = self.users.borrow_mut();
        // The batch is one transaction: a taken address changes nothing, the token included.
        if users.iter().any(|u| u.id != user_id && u.email.as_deref() == Some(email)) {
            let pending = users.iter().any(|u| u.id == user_id && u.pending_email.as_deref() == Some(email));
            if pending {
                return Err(AuthError::EmailTaken);
            }
        }
        let mut v = self.verifications.borrow_mut();
        let Some(r) =
            v.iter_mut().find(|r| r.token_hash == token_hash && r.used_at.is_none() && r.expires_at > now)
        else {
            return Ok(false);
        };
        r.used_at = Some(now);
        if let Some(u) = users.iter_mut().find(|u| u.id == user_id) {
            if u.pending_email.as_deref() == Some(email) {
                u.email = u.pending_email.take();
                u.email_verified_at = Some(now);
            } else if u.email.as_deref() == Some(email) {
                u.email_verified_at = Some(now);
            }
            u.updated_at = now;
        }
        Ok(true)
    }

    async fn update_profile(
        &self,
        user_id: &str,
        patch: &crate::email::ProfilePatch,
        now: i64,
    ) -> Result<(), AuthError> {
        if let Some(u) = self.users.borrow_mut().iter_mut().find(|u| u.id == user_id) {
            if let Some(d) = &patch.display_name {
                u.display_name = d.clone();
            }
            if let Some(p) = &patch.pending_email {
                u.pending_email = p.clone();
            }
            u.updated_at = now;
        }
        Ok(())
    }
}

/// The relying party of the tests: `localhost`, pages at `http://localhost:8787`.
pub fn site() -> crate::config::webauthn::Site {
    config().webauthn.site("http://localhost:8787", "localhost")
}
