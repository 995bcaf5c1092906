//! The use cases, written against the ports. Each takes `now` (unix seconds) from the caller.
//!
//! - [`login`]: login, profile
//! - [`sessions`]: authenticate (with revocation checks), refresh, logout, logout-all, session list
//! - [`accounts`]: signup, change password, forgot/reset password
//! - [`admin`]: the admin API

pub mod accounts;
pub mod admin;
pub mod limits;
mod login;
mod sessions;

pub use accounts::{change_password, forgot_password, reset_password, signup, ForgotRequest};
pub use login::{login, profile, LoginRequest};
pub use sessions::{authenticate, delete_session, list_sessions, logout, logout_all, refresh, SessionView};

use crate::config::Config;
use crate::error::AuthError;
use crate::session::Session;
use crate::token::{Subject, LEEWAY_SECONDS};
use crate::user::{User, UserView};
use serde::Serialize;

/// The token response of API.md (field names from RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    pub user: UserView,
}

/// Who is logging in from where, for the session list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A new session for `user_id`: random id and seed, generation 0, absolute expiry from config.
pub(crate) fn new_session(config: &Config, user_id: &str, client: &ClientInfo, now: i64) -> Session {
    let mut seed = vec![0u8; crate::session::SEED_LEN];
    crate::random::fill(&mut seed);
    Session {
        id: crate::random::id(),
        user_id: user_id.to_string(),
        seed,
        generation: 0,
        rotated_at: now,
        created_at: now,
        last_used_at: now,
        expires_at: now.saturating_add(config.refresh_ttl_seconds as i64),
        user_agent: client.user_agent.as_deref().map(|s| truncate(s, 256)),
        ip: client.ip.as_deref().map(|s| truncate(s, 64)),
        revoked_at: None,
    }
}

/// The access token and the refresh token of `generation` for a session.
pub(crate) async fn token_response(
    config: &Config,
    user: &User,
    session: &Session,
    generation: u64,
    now: i64,
) -> Result<TokenResponse, AuthError> {
    let issued = config.tokens.issue(
        &Subject { user_id: &user.id, session_id: &session.id, role: &user.role, username: &user.username },
        now,
    )?;
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        refresh_token: config.refresh_key.mint(&session.id, &session.seed, generation),
        refresh_expires_in: session.expires_at.saturating_sub(now).max(0) as u64,
        user: user.view(),
    })
}

/// How long a KV revocation must live: until every access token it covers has expired (KV refuses
/// TTLs under 60 s).
pub(crate) fn revocation_ttl(config: &Config) -> u64 {
    (config.tokens.ttl_seconds() + LEEWAY_SECONDS as u64 + 1).max(60)
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests;
