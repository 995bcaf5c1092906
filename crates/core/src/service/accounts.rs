//! Accounts: signup, password change, forgot/reset password.

use super::TokenResponse;
use super::{Auth, ChangePasswordRequest, ClientInfo, ForgotRequest, ResetPasswordRequest, SignupRequest};
use crate::audit::{Detail, EventType};
use crate::error::{AuthError, FieldError};
use crate::kv_keys::Window;
use crate::mail::ResetMail;
use crate::password::Verification;
use crate::ports::{Counters, ResetRecord, Revocations, Store};
use crate::token::VerifiedAccess;
use crate::user::{rfc3339, User};
use crate::validate::LoginName;

/// Longest reset token looked up: ours are 43 characters (32 random bytes, base64url); anything much
/// longer is not one, and is refused without hashing it or asking D1.
const MAX_RESET_TOKEN_LEN: usize = 128;

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// `POST /auth/signup`: creates an account with the configured default role (a `role` in the body
    /// never takes effect) and signs it in. D1: one batch (user + session).
    pub async fn signup(
        &self,
        request: &SignupRequest,
        client: &ClientInfo,
    ) -> Result<(TokenResponse, User), AuthError> {
        // `SignupRequest::parse` refuses first; checked again so no caller can skip it.
        if !self.config.signup_enabled {
            return Err(AuthError::SignupDisabled);
        }
        self.check_signup_email(request.account.email.as_deref())?;
        let ip = client.ip.as_deref().unwrap_or("unknown");
        super::limits::check_and_count(
            &self.counters,
            self.config.limits.signup_ip,
            Window::SignupIp,
            ip,
            self.now,
        )
        .await?;
        let mut user = request.account.clone().into_user(self.config, &self.config.default_role, self.now);
        let session = self.new_session(&user.id, client);
        user.number = Some(self.store.create_user(&user, Some(&session)).await?);
        self.record(EventType::Signup, Some(&user.id), Some(&user.id), Some(&session.id), Detail::default());
        Ok((self.token_response(&user, &session, session.generation)?, user))
    }

    /// `PUT /auth/change-password`: needs the current password [ASVS 6.2.3]; every other session and
    /// outstanding access token ends [ASVS 7.4.3]; returns tokens of a fresh session.
    /// D1: one read, one batch. KV: two writes.
    /// A wrong current password counts against the account like a failed login (same progressive
    /// delay), so a stolen access token cannot be used to guess the password at full speed.
    pub async fn change_password(
        &self,
        access: &VerifiedAccess,
        request: &ChangePasswordRequest,
        client: &ClientInfo,
    ) -> Result<TokenResponse, AuthError> {
        let (config, now) = (self.config, self.now);
        let user = self.caller(access).await?;
        let ip = client.ip.as_deref().unwrap_or("unknown");
        let name = LoginName::Username(user.username.clone());
        let account = super::limits::account_subject(Some(&user.id), &name);
        let guard = super::limits::check_login(config, &self.counters, ip, &account, now).await?;
        if !matches!(
            config.hasher.verify(&request.current_password, &user.password_hash),
            Verification::Match { .. }
        ) {
            let reason = Detail::reason(AuthError::InvalidCredentials.code());
            self.record_own(access, EventType::PasswordChangeFailed, reason);
            super::limits::login_failed(config, &self.counters, &guard, now).await?;
            return Err(AuthError::InvalidCredentials);
        }
        super::limits::login_succeeded(&self.counters, &guard).await?;
        config
            .password_policy
            .check("new_password", &request.new_password, &user.username)
            .map_err(one_field)?;
        // The new hash and the fresh session first, so no login with the old password can start a
        // session afterwards; then every other session ends, denylisted one by one (so that tokens
        // issued within this very second die too).
        let session = self.new_session(&user.id, client);
        self.store
            .replace_password(&user.id, &config.hasher.hash(&request.new_password), now, Some(&session))
            .await?;
        self.end_all_sessions(&user.id, Some(&session.id)).await?;
        let id = Some(user.id.as_str());
        self.record(EventType::PasswordChanged, id, id, Some(&session.id), Detail::default());
        self.token_response(&user, &session, session.generation)
    }

    /// `POST /auth/forgot-password`, before the 202: counts the request against the per-IP and
    /// per-address limits (429 when over). Runs whatever the account: the counts say nothing about
    /// whether it exists.
    pub async fn check_forgot_limits(&self, request: &ForgotRequest, ip: &str) -> Result<(), AuthError> {
        let limits = &self.config.limits;
        super::limits::check_and_count(&self.counters, limits.forgot_ip, Window::ForgotIp, ip, self.now)
            .await?;
        super::limits::check_and_count(
            &self.counters,
            limits.forgot_address,
            Window::ForgotAddress,
            &request.address(),
            self.now,
        )
        .await
    }

    /// `POST /auth/forgot-password`, the part after the 202: for an active account with an email,
    /// stores a single-use token (hash only, 256 bits) and returns the mail to deliver; otherwise
    /// nothing. The HTTP layer runs this after answering, so the answer and its timing are the same
    /// either way. `origin` is the request's, for `{origin}` in `RESET_URL_TEMPLATE`.
    pub async fn forgot_password(
        &self,
        request: &ForgotRequest,
        origin: &str,
    ) -> Result<Option<ResetMail>, AuthError> {
        let Some(user) = self.store.find_user_by_login(&request.0).await? else { return Ok(None) };
        let Some(email) = user.email.clone().filter(|_| !user.disabled) else { return Ok(None) };
        // REQUIRE_EMAIL_VERIFICATION: reset links go to verified addresses only.
        if !self.login_name_allowed(&user, &LoginName::Email(email.clone())) {
            return Ok(None);
        }
        let token = crate::random::token(32);
        let expires_at = self.now.saturating_add(self.config.reset_ttl_seconds as i64);
        self.store
            .create_reset(&ResetRecord {
                token_hash: crate::random::hash_token(&token),
                user_id: user.id.clone(),
                created_at: self.now,
                expires_at,
                used_at: None,
            })
            .await?;
        let link = self
            .config
            .reset_url_template
            .replace("{origin}", origin)
            .replace("{base}", &self.config.base_path)
            .replace("{token}", &token);
        Ok(Some(ResetMail {
            kind: "password_reset",
            to: email,
            username: user.username,
            link,
            expires_at: rfc3339(expires_at),
        }))
    }

    /// `POST /auth/reset-password`: sets the new password (policy applies), burns the token exactly
    /// once (a conditional UPDATE), and ends every session of the user.
    pub async fn reset_password(&self, request: &ResetPasswordRequest) -> Result<(), AuthError> {
        let (config, now) = (self.config, self.now);
        if request.token.len() > MAX_RESET_TOKEN_LEN {
            return Err(AuthError::ResetTokenInvalid);
        }
        let token_hash = crate::random::hash_token(&request.token);
        let (reset, user) = self.store.find_reset(&token_hash).await?.ok_or(AuthError::ResetTokenInvalid)?;
        if reset.used_at.is_some() || now >= reset.expires_at || user.disabled {
            return Err(AuthError::ResetTokenInvalid);
        }
        config
            .password_policy
            .check("new_password", &request.new_password, &user.username)
            .map_err(one_field)?;
        if !self.store.consume_reset(&token_hash, now).await? {
            return Err(AuthError::ResetTokenInvalid);
        }
        self.store.replace_password(&user.id, &config.hasher.hash(&request.new_password), now, None).await?;
        let id = Some(user.id.as_str());
        self.record(EventType::PasswordReset, id, id, None, Detail::default());
        self.end_all_sessions(&user.id, None).await.map(drop)
    }
}

fn one_field(e: FieldError) -> AuthError {
    AuthError::InvalidRequest { detail: "The request has invalid fields.".into(), errors: vec![e] }
}
