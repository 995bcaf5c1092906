//! Authentication of access tokens (with revocation checks), refresh-token rotation, logout,
//! logout-all and the caller's session list.

use super::{Auth, TokenResponse};
use crate::audit::{Detail, EventType};
use crate::error::AuthError;
use crate::ports::{Counters, Revocation, Revocations, Store, MAX_SESSION_DENYLIST_WRITES};
use crate::session::{decide, PresentedRefresh, RefreshDecision};
use crate::token::VerifiedAccess;
use crate::user::{rfc3339, User};
use serde::Serialize;

/// One entry of `GET /auth/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// Verifies an access token and checks that neither its session nor its user's tokens were
    /// revoked, as KV (the fast mirror) says. KV: two reads, issued concurrently by the adapter. D1:
    /// none. Endpoints that read D1 anyway check D1 too (`caller`), so a revocation KV has not got
    /// yet (a failed write waiting in the outbox) is refused there already.
    pub async fn authenticate(&self, token: &str) -> Result<VerifiedAccess, AuthError> {
        let access = self.config.tokens.verify(token, self.now)?;
        let state = self.revocations.check(&access.claims.sid, &access.claims.sub).await?;
        // `iat < not_before`: a token issued in the same second as a logout-all survives only if its
        // session is not itself revoked (logout-all also denylists the caller's own session).
        let revoked_by_user = state.user_not_before.is_some_and(|nbf| access.issued_at < nbf);
        if state.session_revoked || revoked_by_user {
            return Err(AuthError::TokenInvalid);
        }
        Ok(access)
    }

    /// `POST /auth/refresh`: rotates the refresh token (see `crate::session` for the rules). The token
    /// comes from `RefreshRequest` or, in cookie mode, the refresh cookie.
    /// D1: one read (session joined with its user), one conditional update. On reuse: one batch (the
    /// revocation and its outbox row), one KV write, and the row's delete after the response.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, AuthError> {
        let (config, now) = (self.config, self.now);
        let presented = PresentedRefresh::parse(refresh_token).ok_or(AuthError::RefreshTokenInvalid)?;
        let (mut session, user) =
            self.store.find_session(&presented.session_id).await?.ok_or(AuthError::RefreshTokenInvalid)?;
        if !config.verify_refresh(&presented, &session.seed) || user.disabled {
            return Err(AuthError::RefreshTokenInvalid);
        }
        // A lost race re-reads and decides again; two rounds cover every interleaving of two writers, a
        // third is defensive.
        for _ in 0..3 {
            let generation = match decide(&session, presented.generation, now, config.refresh_grace_seconds) {
                RefreshDecision::Rotate { from } => {
                    if self.store.advance_session(&session.id, from, now).await? {
                        from + 1
                    } else {
                        let (fresh, _) = self
                            .store
                            .find_session(&session.id)
                            .await?
                            .ok_or(AuthError::RefreshTokenInvalid)?;
                        session = fresh;
                        continue;
                    }
                }
                RefreshDecision::ReplayCurrent { generation } => generation,
                RefreshDecision::Reuse => {
                    self.store.revoke_session(&session.id, None, now, self.mirror_until()).await?;
                    let user_id = Some(user.id.as_str());
                    self.record(
                        EventType::RefreshReuseDetected,
                        user_id,
                        None,
                        Some(&session.id),
                        Detail::default(),
                    );
                    self.mirror(vec![Revocation::Session(session.id.clone())]).await;
                    return Err(AuthError::RefreshTokenReused);
                }
                RefreshDecision::Invalid => return Err(AuthError::RefreshTokenInvalid),
            };
            return self.token_response(&user, &session, generation);
        }
        Err(AuthError::Unavailable("refresh: session kept changing under concurrent rotation".into()))
    }

    /// `POST /auth/logout`: ends the caller's session, and the session of `refresh_token`
    /// (`LogoutRequest`, or the cookie) when it is another genuine session of the same user. Done
    /// once D1 has it: a failed KV write waits in the outbox.
    /// D1: one batch (revocation + outbox row) per session ended, one read for another session's
    /// refresh token, one delete of the delivered rows after the response. KV: one write per session.
    pub async fn logout(
        &self,
        access: &VerifiedAccess,
        refresh_token: Option<&str>,
    ) -> Result<(), AuthError> {
        let user_id = access.claims.sub.as_str();
        let mut ended = vec![access.claims.sid.clone()];
        if let Some(other) = refresh_token.and_then(PresentedRefresh::parse) {
            if other.session_id != access.claims.sid {
                if let Some((s, _)) = self.store.find_session(&other.session_id).await? {
                    if s.user_id == user_id && self.config.verify_refresh(&other, &s.seed) {
                        ended.push(s.id);
                    }
                }
            }
        }
        for sid in &ended {
            self.store.revoke_session(sid, Some(user_id), self.now, self.mirror_until()).await?;
        }
        let count = u32::try_from(ended.len()).ok();
        self.record_own(access, EventType::Logout, Detail { count, ..Detail::default() });
        self.mirror(ended.into_iter().map(Revocation::Session).collect()).await;
        Ok(())
    }

    /// `POST /auth/logout-all`: ends every session of the caller and revokes every access token issued
    /// before now. D1: one batch (revocations + outbox rows), one delete after the response. KV: one
    /// write for the user plus one per ended session (at most 50).
    pub async fn logout_all(&self, access: &VerifiedAccess) -> Result<(), AuthError> {
        let denylisted = self.end_all_sessions(&access.claims.sub, None).await?;
        self.record_own(access, EventType::LogoutAll, Detail::default());
        // The caller's own session is normally among those just denylisted; writing its key a second
        // time would break KV's one write per second per key.
        if denylisted.contains(&access.claims.sid) {
            return Ok(());
        }
        let sid = &access.claims.sid;
        self.store.revoke_session(sid, Some(&access.claims.sub), self.now, self.mirror_until()).await?;
        self.mirror(vec![Revocation::Session(sid.clone())]).await;
        Ok(())
    }

    /// Ends every session of a user except `keep`, and revokes their access tokens: the user's
    /// not-before time covers tokens issued before this second, and each ended session is denylisted
    /// too, so that a token issued earlier within the same second dies as well (timestamps are whole
    /// seconds). Shared by logout-all, password change and reset, and the admin API. D1 records it all
    /// with the outbox rows in one batch; KV gets it after (a failed write waits in the outbox).
    /// Returns the sessions it denylisted.
    pub(super) async fn end_all_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>, AuthError> {
        let mut ended = self.store.revoke_user_sessions(user_id, keep, self.now, self.mirror_until()).await?;
        ended.truncate(MAX_SESSION_DENYLIST_WRITES);
        self.mirror_user_revocation(user_id, &ended).await;
        Ok(ended)
    }

    /// Mirrors the user's not-before time (now) and the denylist entries of `sessions` to KV.
    pub(super) async fn mirror_user_revocation(&self, user_id: &str, sessions: &[String]) {
        let mut revocations =
            vec![Revocation::UserBefore { user_id: user_id.to_string(), not_before: self.now }];
        revocations.extend(sessions.iter().cloned().map(Revocation::Session));
        self.mirror(revocations).await;
    }

    /// The caller's user, read fresh from D1 with the caller's session: a deleted or disabled user, or a
    /// session D1 says is ended, is 401 `token_invalid` even while the access token has not expired and
    /// whatever KV says (KV may not have the revocation yet). D1: one read (the session joined with its
    /// user). An enrolment token (`enrolling`, no session yet) reads the user alone.
    pub(super) async fn caller(&self, access: &VerifiedAccess) -> Result<User, AuthError> {
        if access.claims.sid.is_empty() {
            return match self.store.find_user(&access.claims.sub).await? {
                Some(user) if !user.disabled => Ok(user),
                _ => Err(AuthError::TokenInvalid),
            };
        }
        match self.store.find_session(&access.claims.sid).await? {
            Some((session, user))
                if session.user_id == access.claims.sub && session.revoked_at.is_none() && !user.disabled =>
            {
                Ok(user)
            }
            _ => Err(AuthError::TokenInvalid),
        }
    }

    /// `GET /auth/sessions`: the caller's live sessions, the current one marked. D1: one read; one more
    /// when the caller's session is not among them (ended: refused; expired, or past the first 100:
    /// listed without a current one).
    pub async fn list_sessions(&self, access: &VerifiedAccess) -> Result<Vec<SessionView>, AuthError> {
        let sessions = self.store.list_sessions(&access.claims.sub, self.now).await?;
        if !sessions.iter().any(|s| s.id == access.claims.sid) {
            self.caller(access).await?;
        }
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id == access.claims.sid,
                created_at: rfc3339(s.created_at),
                last_used_at: rfc3339(s.last_used_at),
                expires_at: rfc3339(s.expires_at),
                user_agent: s.user_agent,
                ip: s.ip,
                id: s.id,
            })
            .collect())
    }

    /// `DELETE /auth/sessions/{id}`: ends one of the caller's own sessions; another user's id is 404.
    /// D1: one batch (revocation + outbox row), one delete after the response. KV: one write.
    pub async fn delete_session(&self, access: &VerifiedAccess, session_id: &str) -> Result<(), AuthError> {
        let until = self.mirror_until();
        if !self.store.revoke_session(session_id, Some(&access.claims.sub), self.now, until).await? {
            return Err(AuthError::NotFound);
        }
        let user = access.claims.sub.as_str();
        self.record(EventType::SessionEnded, Some(user), Some(user), Some(session_id), Detail::default());
        self.mirror(vec![Revocation::Session(session_id.to_string())]).await;
        Ok(())
    }
}
