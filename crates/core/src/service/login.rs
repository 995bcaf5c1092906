//! Login and profile.

use super::{new_session, token_response, ClientInfo, TokenResponse};
use crate::config::Config;
use crate::error::AuthError;
use crate::password::Verification;
use crate::ports::{Counters, LoginRecord, Store};
use crate::token::VerifiedAccess;
use crate::user::User;
use crate::user::UserView;
use crate::validate::{self, Fields, LoginName};
use serde_json::{Map, Value};

/// A parsed, validated login request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub name: LoginName,
    pub password: String,
}

impl LoginRequest {
    /// `{username, password}`; `email` is accepted in place of `username`.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let name = f.required_str_any(&["username", "email"]);
        let password = f.required_str("password");
        let name = name.and_then(|n| validate::login_name(n).map_err(|e| f.push(e)).ok());
        if let Some(p) = password {
            if let Err(e) = validate::login_password("password", p) {
                f.push(e);
            }
        }
        f.finish()?;
        match (name, password) {
            (Some(name), Some(password)) => Ok(LoginRequest { name, password: password.to_string() }),
            _ => Err(AuthError::bad_request("The request has invalid fields.")),
        }
    }
}

/// `POST /auth/login`: verifies the password and starts a session.
///
/// Unknown user and wrong password give the same error after the same hashing work (a dummy hash at
/// the configured cost) [ASVS 6.3.8]; `account_disabled` is only told after a correct password.
/// Rate limits come first (client IP and account, see `super::limits`); a failure is counted the same
/// way for unknown and known users.
/// D1: one read, then one batch (login time + rehash, new session). KV: two reads; two writes on
/// failure; none on success (one delete if the account had failures).
pub async fn login(
    config: &Config,
    store: &impl Store,
    counters: &impl Counters,
    request: &LoginRequest,
    client: &ClientInfo,
    now: i64,
) -> Result<TokenResponse, AuthError> {
    let ip = client.ip.as_deref().unwrap_or("unknown");
    let user = store.find_user_by_login(&request.name).await?;
    let account = super::limits::account_subject(user.as_ref().map(|u| u.id.as_str()), &request.name);
    let guard = super::limits::check_login(config, counters, ip, &account, now).await?;
    let (user, needs_rehash) = match check_password(config, user, request) {
        Err(AuthError::InvalidCredentials) => {
            super::limits::login_failed(config, counters, &guard, now).await?;
            return Err(AuthError::InvalidCredentials);
        }
        other => other?,
    };
    super::limits::login_succeeded(counters, &guard).await?;
    if user.disabled {
        return Err(AuthError::AccountDisabled);
    }
    let new_hash = needs_rehash.then(|| config.hasher.hash(&request.password));
    let session = new_session(config, &user.id, client, now);
    let record = LoginRecord { user_id: &user.id, now, new_hash: new_hash.as_deref() };
    store.start_session(&record, &session).await?;
    token_response(config, &user, &session, session.generation, now).await
}

/// The user and whether its hash needs an upgrade, or `InvalidCredentials` after the same hashing
/// work for an unknown user and a wrong password [ASVS 6.3.8].
fn check_password(
    config: &Config,
    user: Option<User>,
    request: &LoginRequest,
) -> Result<(User, bool), AuthError> {
    let Some(user) = user else {
        config.hasher.verify_dummy(&request.password);
        return Err(AuthError::InvalidCredentials);
    };
    match config.hasher.verify(&request.password, &user.password_hash) {
        Verification::Match { needs_rehash } => Ok((user, needs_rehash)),
        // A corrupt row gets what any wrong password gets.
        Verification::Mismatch | Verification::Unusable => Err(AuthError::InvalidCredentials),
    }
}

/// `GET /auth/profile`: the caller, read fresh from D1. A deleted or disabled user is 401 even while
/// the token has not expired.
pub async fn profile(store: &impl Store, access: &VerifiedAccess) -> Result<UserView, AuthError> {
    match store.find_user(&access.claims.sub).await? {
        Some(user) if !user.disabled => Ok(user.view()),
        _ => Err(AuthError::TokenInvalid),
    }
}
