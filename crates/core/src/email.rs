//! Email verification: the token record, the storage port it needs (besides `ports::Store`), and the
//! two mails it sends through the signed webhook (`mail::signature`): `verify_email`, with a
//! single-use link, and `email_change_notice`, to the old address, without any link or token.
//!
//! Tokens are 256 random bits; D1 keeps only their SHA-256 (`email_verifications.token_hash`), so a
//! copy of the table yields no usable link. A user has at most one live link: issuing one deletes the
//! others. A link is good once, before `EMAIL_VERIFICATION_TTL`, and only while its address is still
//! the user's (unverified) address or pending address.
#![allow(async_fn_in_trait)]

use crate::error::AuthError;
use crate::user::User;
use serde::Serialize;

/// Longest token looked up: ours are 43 characters; anything much longer is refused unhashed.
pub const MAX_TOKEN_LEN: usize = 128;

/// An email-verification token as stored: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub token_hash: String,
    pub user_id: String,
    /// The address the link proves (the user's address, or the pending one).
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A change of the user's own profile (`PATCH /auth/me`); `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    pub display_name: Option<Option<String>>,
    /// `Some(Some(address))` asks for a new address; `Some(None)` withdraws the pending one.
    pub pending_email: Option<Option<String>>,
}

impl ProfilePatch {
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none() && self.pending_email.is_none()
    }
}

/// What email verification needs from D1, apart from `ports::Store`.
pub trait EmailStore {
    /// Stores `record`, deleting every other verification token of its user, in one batch.
    async fn create_verification(&self, record: &VerificationRecord) -> Result<(), AuthError>;
    /// The token and its user.
    async fn find_verification(
        &self,
        token_hash: &str,
    ) -> Result<Option<(VerificationRecord, User)>, AuthError>;
    /// In one batch (one transaction): burns the token if it is unused and unexpired (a conditional
    /// UPDATE: true for exactly one caller), and then marks `email` verified for the user: when it is
    /// the pending address it becomes the address (`EmailTaken` when someone else has it by now; then
    /// nothing changes and the token stays unused). False: already used or expired.
    async fn consume_verification(
        &self,
        token_hash: &str,
        user_id: &str,
        email: &str,
        now: i64,
    ) -> Result<bool, AuthError>;
    /// Applies the user's own change.
    async fn update_profile(&self, user_id: &str, patch: &ProfilePatch, now: i64) -> Result<(), AuthError>;
}

impl<T: EmailStore + ?Sized> EmailStore for &T {
    async fn create_verification(&self, record: &VerificationRecord) -> Result<(), AuthError> {
        (**self).create_verification(record).await
    }
    async fn find_verification(
        &self,
        token_hash: &str,
    ) -> Result<Option<(VerificationRecord, User)>, AuthError> {
        (**self).find_verification(token_hash).await
    }
    async fn consume_verification(
        &self,
        token_hash: &str,
        user_id: &str,
        email: &str,
        now: i64,
    ) -> Result<bool, AuthError> {
        (**self).consume_verification(token_hash, user_id, email, now).await
    }
    async fn update_profile(&self, user_id: &str, patch: &ProfilePatch, now: i64) -> Result<(), AuthError> {
        (**self).update_profile(user_id, patch, now).await
    }
}

/// Verification tokens are stored as their hash, like reset tokens.
pub use crate::random::hash_token;

/// `{"type": "verify_email", "to", "username", "link", "expires_at"}`.
#[derive(Clone, Serialize)]
pub struct VerifyMail {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub to: String,
    pub username: String,
    /// The single-use link. Secret: never logged outside development.
    pub link: String,
    pub expires_at: String,
}

impl std::fmt::Debug for VerifyMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyMail").field("username", &self.username).field("link", &"<redacted>").finish()
    }
}

/// `{"type": "email_change_notice", "to": <old address>, "username", "new_email", "requested_at"}`:
/// tells the current address that a change was asked for. No link, no token: following it cannot
/// confirm anything.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeNotice {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub to: String,
    pub username: String,
    pub new_email: String,
    pub requested_at: String,
}

/// A mail of email verification, for the mailer.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Mail {
    Verify(VerifyMail),
    ChangeNotice(ChangeNotice),
}

impl Mail {
    /// The `type` of the payload.
    pub fn kind(&self) -> &'static str {
        match self {
            Mail::Verify(m) => m.kind,
            Mail::ChangeNotice(m) => m.kind,
        }
    }
}
