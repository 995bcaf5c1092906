//! Accounts: signup, password change, forgot/reset password.

use super::sessions::end_all_sessions;
use super::{new_session, token_response, ClientInfo, TokenResponse};
use crate::config::Config;
use crate::error::{AuthError, FieldError};
use crate::kv_keys::Window;
use crate::mail::ResetMail;
use crate::password::Verification;
use crate::ports::{Counters, ResetRecord, Revocations, Store};
use crate::token::VerifiedAccess;
use crate::user::rfc3339;
use crate::user::User;
use crate::validate::{self, Fields};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;

/// `POST /auth/signup`: creates an account with the configured default role (a `role` in the body
/// never takes effect) and signs it in. D1: one batch (user + session).
pub async fn signup(
    config: &Config,
    store: &impl Store,
    counters: &impl Counters,
    body: &Map<String, Value>,
    client: &ClientInfo,
    now: i64,
) -> Result<(TokenResponse, User), AuthError> {
    if !config.signup_enabled {
        return Err(AuthError::SignupDisabled);
    }
    let new = NewAccount::parse(config, body)?;
    let ip = client.ip.as_deref().unwrap_or("unknown");
    super::limits::check_and_count(counters, config.limits.signup_ip, Window::SignupIp, ip, now).await?;
    let user = new.into_user(config, &config.default_role, now);
    let session = new_session(config, &user.id, client, now);
    store.create_user(&user, Some(&session)).await?;
    Ok((token_response(config, &user, &session, session.generation, now).await?, user))
}

/// The fields of a new account (signup and admin creation).
pub(crate) struct NewAccount {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

impl NewAccount {
    pub fn parse(config: &Config, body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let username =
            f.required_str("username").and_then(|u| validate::username(u).map_err(|e| f.push(e)).ok());
        let password = f.required_str("password");
        let email = f.optional_str("email").and_then(|e| validate::email(e).map_err(|e| f.push(e)).ok());
        let display_name = f
            .optional_str("display_name")
            .and_then(|d| display_name(d).map_err(|e| f.push(e)).ok())
            .flatten();
        if let (Some(p), Some(u)) = (password, username.as_deref()) {
            if let Err(e) = config.password_policy.check("password", p, u) {
                f.push(e);
            }
        }
        f.finish()?;
        match (username, password) {
            (Some(username), Some(password)) => {
                Ok(NewAccount { username, password: password.to_string(), email, display_name })
            }
            _ => Err(AuthError::bad_request("The request has invalid fields.")),
        }
    }

    pub fn into_user(self, config: &Config, role: &str, now: i64) -> User {
        User {
            id: crate::random::id(),
            username: self.username,
            email: self.email,
            display_name: self.display_name,
            role: role.to_string(),
            password_hash: config.hasher.hash(&self.password),
            disabled: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        }
    }
}

/// A display name: trimmed, at most 100 characters, no control characters; empty means none.
pub(crate) fn display_name(raw: &str) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.chars().count() > DISPLAY_NAME_MAX || s.chars().any(char::is_control) {
        return Err(FieldError::new(
            "display_name",
            "invalid_format",
            format!(
                "`display_name` must be at most {DISPLAY_NAME_MAX} characters without control characters."
            ),
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_string()))
}

/// `PUT /auth/change-password`: needs the current password [ASVS 6.2.3]; every other session and
/// outstanding access token ends [ASVS 7.4.3]; returns tokens of a fresh session.
/// D1: one read, one batch. KV: two writes.
/// A wrong current password counts against the account like a failed login (same progressive delay),
/// so a stolen access token cannot be used to guess the password at full speed.
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    config: &Config,
    store: &impl Store,
    revocations: &impl Revocations,
    counters: &impl Counters,
    access: &VerifiedAccess,
    body: &Map<String, Value>,
    client: &ClientInfo,
    now: i64,
) -> Result<TokenResponse, AuthError> {
    let mut f = Fields::new(body);
    let current = f.required_str("current_password");
    let new = f.required_str("new_password");
    f.finish()?;
    let (current, new) = (current.unwrap_or_default(), new.unwrap_or_default());
    let user = match store.find_user(&access.claims.sub).await? {
        Some(u) if !u.disabled => u,
        _ => return Err(AuthError::TokenInvalid),
    };
    let ip = client.ip.as_deref().unwrap_or("unknown");
    let name = validate::LoginName::Username(user.username.clone());
    let account = super::limits::account_subject(Some(&user.id), &name);
    let guard = super::limits::check_login(config, counters, ip, &account, now).await?;
    if !matches!(config.hasher.verify(current, &user.password_hash), Verification::Match { .. }) {
        super::limits::login_failed(config, counters, &guard, now).await?;
        return Err(AuthError::InvalidCredentials);
    }
    super::limits::login_succeeded(counters, &guard).await?;
    config.password_policy.check("new_password", new, &user.username).map_err(one_field)?;
    // The new hash and the fresh session first, so no login with the old password can start a session
    // afterwards; then every other session ends, denylisted one by one (so that tokens issued within
    // this very second die too).
    let session = new_session(config, &user.id, client, now);
    store.replace_password(&user.id, &config.hasher.hash(new), now, Some(&session)).await?;
    end_all_sessions(config, store, revocations, &user.id, Some(&session.id), now).await?;
    token_response(config, &user, &session, session.generation, now).await
}

/// A validated forgot-password request: by email or by username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgotRequest(validate::LoginName);

impl ForgotRequest {
    /// Counts the request against the per-IP and per-address limits (429 when over). Runs before the
    /// 202, whatever the account: the counts say nothing about whether it exists.
    pub async fn check_limits(
        &self,
        config: &Config,
        counters: &impl Counters,
        ip: &str,
        now: i64,
    ) -> Result<(), AuthError> {
        let address = match &self.0 {
            validate::LoginName::Email(e) => e.clone(),
            validate::LoginName::Username(u) => u.to_ascii_lowercase(),
        };
        super::limits::check_and_count(counters, config.limits.forgot_ip, Window::ForgotIp, ip, now).await?;
        super::limits::check_and_count(
            counters,
            config.limits.forgot_address,
            Window::ForgotAddress,
            &address,
            now,
        )
        .await
    }

    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let by_email = !matches!(body.get("email"), None | Some(Value::Null));
        let raw = f.required_str_any(&["email", "username"]);
        let name = raw.and_then(|r| {
            let parsed = if by_email {
                validate::email(r).map(validate::LoginName::Email)
            } else {
                validate::login_name(r).map_err(|e| FieldError { field: "username".into(), ..e })
            };
            parsed.map_err(|e| f.push(e)).ok()
        });
        f.finish()?;
        name.map(ForgotRequest).ok_or_else(|| AuthError::bad_request("The request has invalid fields."))
    }
}

/// `POST /auth/forgot-password`, the part after the 202: for an active account with an email, stores
/// a single-use token (hash only, 256 bits) and returns the mail to deliver; otherwise nothing. The
/// HTTP layer runs this after answering, so the answer and its timing are the same either way.
pub async fn forgot_password(
    config: &Config,
    store: &impl Store,
    request: &ForgotRequest,
    origin: &str,
    now: i64,
) -> Result<Option<ResetMail>, AuthError> {
    let Some(user) = store.find_user_by_login(&request.0).await? else { return Ok(None) };
    let Some(email) = user.email.clone().filter(|_| !user.disabled) else { return Ok(None) };
    let token = crate::random::token(32);
    let expires_at = now.saturating_add(config.reset_ttl_seconds as i64);
    store
        .create_reset(&ResetRecord {
            token_hash: hash_reset_token(&token),
            user_id: user.id.clone(),
            created_at: now,
            expires_at,
            used_at: None,
        })
        .await?;
    let link = config.reset_url_template.replace("{origin}", origin).replace("{token}", &token);
    Ok(Some(ResetMail {
        kind: "password_reset",
        to: email,
        username: user.username,
        link,
        expires_at: rfc3339(expires_at),
    }))
}

/// `POST /auth/reset-password`: sets the new password (policy applies), burns the token exactly once
/// (a conditional UPDATE), and ends every session of the user.
pub async fn reset_password(
    config: &Config,
    store: &impl Store,
    revocations: &impl Revocations,
    body: &Map<String, Value>,
    now: i64,
) -> Result<(), AuthError> {
    let mut f = Fields::new(body);
    let token = f.required_str("token");
    let new = f.required_str("new_password");
    f.finish()?;
    let (token, new) = (token.unwrap_or_default(), new.unwrap_or_default());
    if token.len() > 128 {
        return Err(AuthError::ResetTokenInvalid);
    }
    let token_hash = hash_reset_token(token);
    let (reset, user) = store.find_reset(&token_hash).await?.ok_or(AuthError::ResetTokenInvalid)?;
    if reset.used_at.is_some() || now >= reset.expires_at || user.disabled {
        return Err(AuthError::ResetTokenInvalid);
    }
    config.password_policy.check("new_password", new, &user.username).map_err(one_field)?;
    if !store.consume_reset(&token_hash, now).await? {
        return Err(AuthError::ResetTokenInvalid);
    }
    store.replace_password(&user.id, &config.hasher.hash(new), now, None).await?;
    end_all_sessions(config, store, revocations, &user.id, None, now).await
}

/// Reset tokens are stored as SHA-256 (hex): 256 random bits need no slow hash [ASVS 7.2.3].
pub fn hash_reset_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn one_field(e: FieldError) -> AuthError {
    AuthError::InvalidRequest { detail: "The request has invalid fields.".into(), errors: vec![e] }
}
