//! Login and profile.

use super::audit::Trail;
use super::{Auth, ClientInfo, LoginRequest, TokenResponse};
use crate::audit::{Detail, EventType};
use crate::error::AuthError;
use crate::password::Verification;
use crate::ports::{Counters, LoginRecord, Revocations, Store};
use crate::token::VerifiedAccess;
use crate::user::{User, UserView};

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// `POST /auth/login`: verifies the password and starts a session.
    ///
    /// Unknown user and wrong password give the same error after the same hashing work (a dummy hash at
    /// the configured cost) [ASVS 6.3.8]; `account_disabled` is only told after a correct password.
    /// Rate limits come first (client IP, account and, when configured, the global failed-login
    /// budget, see `super::limits`); a failure is counted the same way for unknown and known users.
    /// D1: one read, then one batch (login time + rehash, new session). KV: two reads; two writes on
    /// failure; none on success (one delete if the account had failures).
    /// Counts one login request against the client IP's limit, before the request is even read,
    /// when `RATE_LIMIT_LOGIN_IP_COUNTS=requests` (429 once over it); nothing otherwise. KV: one read
    /// and one write.
    pub async fn count_login_request(&self, client: &ClientInfo) -> Result<(), AuthError> {
        if self.config.limits.login_ip_counts != crate::config::limits::LoginCounts::Requests {
            return Ok(());
        }
        let ip = client.ip.as_deref().unwrap_or("unknown");
        let limit = self.config.limits.login_ip;
        let counted = super::limits::check_and_count(
            &self.counters,
            limit,
            crate::kv_keys::Window::LoginIp,
            ip,
            self.now,
        )
        .await;
        if let Err(e) = &counted {
            self.record(
                EventType::LoginFailed,
                None,
                None,
                None,
                Detail::reason(e.code()).with_method("password"),
            );
        }
        counted
    }

    /// Every outcome is an audit event (`login_succeeded`, or `login_failed` with the reason), with
    /// the account when the name matched one.
    pub async fn login(
        &self,
        request: &LoginRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, AuthError> {
        let trail = Trail::default();
        let result = self.login_steps(request, client, &trail).await;
        self.record_sign_in((EventType::LoginSucceeded, EventType::LoginFailed), "password", trail, &result);
        result
    }

    async fn login_steps(
        &self,
        request: &LoginRequest,
        client: &ClientInfo,
        trail: &Trail,
    ) -> Result<TokenResponse, AuthError> {
        let (config, now) = (self.config, self.now);
        let ip = client.ip.as_deref().unwrap_or("unknown");
        let user = self.store.find_user_by_login(&request.name).await?;
        // REQUIRE_EMAIL_VERIFICATION: an unverified address is no login name (an unknown user).
        let user = user.filter(|u| self.login_name_allowed(u, &request.name));
        if let Some(u) = &user {
            trail.user(&u.id);
        }
        let account = super::limits::account_subject(user.as_ref().map(|u| u.id.as_str()), &request.name);
        let guard = super::limits::check_password_login(config, &self.counters, ip, &account, now).await?;
        super::limits::before_hashing(&self.counters, &guard, now)?;
        let (user, needs_rehash) = match self.check_password(user, &request.password) {
            Err(AuthError::InvalidCredentials) => {
                super::limits::login_failed(config, &self.counters, &guard, now).await?;
                return Err(AuthError::InvalidCredentials);
            }
            other => other?,
        };
        // With a second factor the account's failures (wrong codes included) are cleared only when the
        // second step succeeds: a correct password alone must not reset the count of wrong codes.
        let second_factor = user.second_factor || user.passkeys;
        if !second_factor {
            super::limits::login_succeeded(&self.counters, &guard).await?;
        }
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        self.check_verified(&user)?;
        // A second factor: no session yet, only the pending login's `mfa_token`.
        let new_hash = needs_rehash.then(|| config.hasher.hash(&request.password));
        if let Some(pending) = self.second_factor_challenge(&user, second_factor, new_hash.clone()).await? {
            return Err(pending);
        }
        let session = self.new_session(&user.id, client);
        trail.session(&session.id);
        let record = LoginRecord { user_id: &user.id, now, new_hash: new_hash.as_deref() };
        self.store.start_session(&record, &session).await?;
        self.token_response(&user, &session, session.generation)
    }

    /// The user and whether its hash needs an upgrade, or `InvalidCredentials` after the same hashing
    /// work for an unknown user and a wrong password [ASVS 6.3.8].
    fn check_password(&self, user: Option<User>, password: &str) -> Result<(User, bool), AuthError> {
        let hasher = &self.config.hasher;
        let Some(user) = user else {
            hasher.verify_dummy(password);
            return Err(AuthError::InvalidCredentials);
        };
        match hasher.verify(password, &user.password_hash) {
            Verification::Match { needs_rehash } => Ok((user, needs_rehash)),
            // A corrupt row gets what any wrong password gets.
            Verification::Mismatch | Verification::Unusable => Err(AuthError::InvalidCredentials),
        }
    }

    /// `GET /auth/profile`: the caller, read fresh from D1 with its session. A deleted or disabled
    /// user, or an ended session, is 401 even while the token has not expired. D1: one read.
    pub async fn profile(&self, access: &VerifiedAccess) -> Result<UserView, AuthError> {
        Ok(self.caller(access).await?.view())
    }

    /// Whether the caller signed in within the last 10 minutes (the token's `auth_time`): what a
    /// sensitive change without a fresh code needs [ASVS 5.0 7.5.1].
    pub(super) fn signed_in_recently(&self, access: &VerifiedAccess) -> bool {
        access.claims.auth_time.is_some_and(|t| self.now - t <= super::mfa::RECENT_AUTH_SECONDS)
    }
}
