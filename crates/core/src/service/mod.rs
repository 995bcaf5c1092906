//! The use cases, written against the ports: one method of [`Auth`] per use case, taking the typed
//! request of its endpoint ([`requests`]). `Auth` carries what every use case shares: the
//! configuration, the adapters and the time of the request.
//!
//! - [`login`]: login, profile
//! - [`sessions`]: authenticate (with revocation checks), refresh, logout, logout-all, session list
//! - [`outbox`]: the KV mirror of D1's revocations, and its retries
//! - [`accounts`]: signup, change password, forgot/reset password
//! - [`admin`]: the admin API
//! - [`audit`]: the audit log: recording, the admin's reading, the user's sign-ins, retention
//! - [`email`]: email verification, `PATCH /auth/me`
//! - [`mfa`], [`passkeys`]: second factors; passkeys (WebAuthn) as first and second factor
//! - [`requests`]: the typed requests and their parsing

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod email;
mod health;
mod limits;
mod login;
pub mod mfa;
mod outbox;
pub mod passkeys;
pub mod requests;
mod sessions;

pub use admin::{ImportReport, Skipped, UserPage};
pub use audit::{EventPage, EventsQuery, SignInList};
pub use email::{UpdateMeRequest, VerifyEmailRequest};
pub use outbox::{FlushReport, OUTBOX_BATCH};
pub use requests::{
    ChangePasswordRequest, CreateUserRequest, ForgotRequest, ImportRequest, ListUsersQuery, LoginRequest,
    LogoutRequest, RefreshRequest, ResetPasswordRequest, SignupRequest, UpdateUserRequest,
};
pub use sessions::SessionView;

use crate::audit::Audit;
use crate::config::Config;
use crate::error::AuthError;
use crate::ports::{Counters, Revocations, Store};
use crate::session::Session;
use crate::token::{Subject, LEEWAY_SECONDS};
use crate::user::{User, UserView};
use serde::Serialize;

/// The context of one request's use case: configuration, the three adapters (owned handles, cheap to
/// make per request, or borrowed ones: the ports are implemented for `&T` too), the request's audit
/// buffer and `now`, the request's time in unix seconds, which every rule reads so that tests choose it.
pub struct Auth<'a, S, R, C> {
    pub config: &'a Config,
    /// Users, sessions and reset tokens (D1).
    pub store: S,
    /// Access-token revocations (KV).
    pub revocations: R,
    /// Rate-limit counters (KV).
    pub counters: C,
    /// Where the use cases put their audit events (a buffer the Worker writes after the response).
    pub audit: &'a dyn Audit,
    pub now: i64,
}

/// The token response of a login, refresh, signup or password change (field names from RFC 6749 §5.1).
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

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// A new session for `user_id`, signed in by password: random id and seed, generation 0, absolute
    /// expiry from config.
    fn new_session(&self, user_id: &str, client: &ClientInfo) -> Session {
        self.new_session_with(user_id, client, &["pwd"])
    }

    /// A new session whose login was authenticated by `amr` [RFC 8176].
    fn new_session_with(&self, user_id: &str, client: &ClientInfo, amr: &[&str]) -> Session {
        let mut seed = vec![0u8; crate::session::SEED_LEN];
        crate::random::fill(&mut seed);
        Session {
            id: crate::random::id(),
            user_id: user_id.to_string(),
            seed,
            generation: 0,
            rotated_at: self.now,
            created_at: self.now,
            last_used_at: self.now,
            expires_at: self.now.saturating_add(self.config.refresh_ttl_seconds as i64),
            user_agent: client.user_agent.as_deref().map(|s| truncate(s, 256)),
            ip: client.ip.as_deref().map(|s| truncate(s, 64)),
            revoked_at: None,
            amr: amr.iter().map(|m| m.to_string()).collect(),
            auth_time: self.now,
        }
    }

    /// The access token and the refresh token of `generation` for a session.
    fn token_response(
        &self,
        user: &User,
        session: &Session,
        generation: u64,
    ) -> Result<TokenResponse, AuthError> {
        let subject = Subject {
            user_id: &user.id,
            session_id: &session.id,
            role: &user.role,
            username: &user.username,
            number: user.number,
            amr: &session.amr,
            auth_time: Some(session.auth_time),
        };
        let issued = self.config.tokens.issue(&subject, self.now)?;
        Ok(TokenResponse {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: self.config.refresh_key.mint(&session.id, &session.seed, generation),
            refresh_expires_in: session.expires_at.saturating_sub(self.now).max(0) as u64,
            user: user.view(),
        })
    }

    /// How long a KV revocation must live: until every access token it covers has expired (KV refuses
    /// TTLs under 60 s).
    fn revocation_ttl(&self) -> u64 {
        (self.config.tokens.ttl_seconds() + LEEWAY_SECONDS as u64 + 1).max(60)
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod passkey_tests;
#[cfg(test)]
mod tests;
