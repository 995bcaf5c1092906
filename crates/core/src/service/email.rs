//! Email verification: the link after signup, `PATCH /auth/me` (display name, a new address kept
//! pending until verified, a notice to the old one), `POST /auth/verify-email` and
//! `POST /auth/verify-email/resend`. The mails are returned to the HTTP layer, which delivers them
//! after the response (`waitUntil`).
//!
//! `REQUIRE_EMAIL_VERIFICATION` is applied in `login` ([`Auth::login_name_allowed`],
//! [`Auth::check_verified`]) and `forgot_password`.

use super::Auth;
use crate::audit::{Detail, EventType};
use crate::email::{
    hash_token, ChangeNotice, EmailStore, Mail, ProfilePatch, VerificationRecord, VerifyMail, MAX_TOKEN_LEN,
};
use crate::error::{AuthError, FieldError};
use crate::kv_keys::Window;
use crate::ports::{Counters, Revocations, Store};
use crate::token::VerifiedAccess;
use crate::user::{rfc3339, User, UserView};
use crate::validate::{self, Fields, LoginName};
use serde_json::{Map, Value};

/// `PATCH /auth/me` `{email?, display_name?}`: `email` a string (a new address, or the current one to
/// withdraw a pending change), `display_name` a string or null.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateMeRequest {
    pub email: Option<String>,
    pub display_name: Option<Option<String>>,
}

impl UpdateMeRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let mut request = UpdateMeRequest::default();
        match body.get("email") {
            None => {}
            Some(Value::String(e)) => match validate::email(e) {
                Ok(e) => request.email = Some(e),
                Err(err) => f.push(err),
            },
            Some(_) => f.push(FieldError::new("email", "invalid_type", "`email` must be a string.")),
        }
        match body.get("display_name") {
            None => {}
            Some(Value::Null) => request.display_name = Some(None),
            Some(Value::String(d)) => match super::requests::display_name(d) {
                Ok(d) => request.display_name = Some(d),
                Err(e) => f.push(e),
            },
            Some(_) => f.push(FieldError::new(
                "display_name",
                "invalid_type",
                "`display_name` must be a string or null.",
            )),
        }
        f.finish()?;
        Ok(request)
    }
}

/// `POST /auth/verify-email` `{token}`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyEmailRequest {
    pub token: String,
}

impl std::fmt::Debug for VerifyEmailRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyEmailRequest").finish_non_exhaustive()
    }
}

impl VerifyEmailRequest {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, AuthError> {
        let mut f = Fields::new(body);
        let token = f.required_str("token").map(str::to_string);
        f.finish()?;
        Ok(VerifyEmailRequest { token: token.unwrap_or_default() })
    }
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// With `REQUIRE_EMAIL_VERIFICATION`, an address is a login name only once verified: a login by an
    /// unverified address is an unknown user (same answer, same work). Always true otherwise.
    pub(super) fn login_name_allowed(&self, user: &User, name: &LoginName) -> bool {
        !(self.config.email.require_verification
            && matches!(name, LoginName::Email(_))
            && !user.email_verified())
    }

    /// After a correct password: 403 `email_not_verified` when verification is required and the
    /// account has an address that is not verified. An account without any address (made by an admin
    /// or an import without one) has nothing to verify and is let in.
    pub(super) fn check_verified(&self, user: &User) -> Result<(), AuthError> {
        if self.config.email.require_verification && user.email.is_some() && !user.email_verified() {
            return Err(AuthError::EmailNotVerified);
        }
        Ok(())
    }

    /// Signup with `REQUIRE_EMAIL_VERIFICATION`: an address is required (400 `email` `missing`).
    pub(super) fn check_signup_email(&self, email: Option<&str>) -> Result<(), AuthError> {
        if self.config.email.require_verification && email.is_none() {
            return Err(AuthError::field(
                "email",
                "missing",
                "`email` is required: this service verifies every account's address.",
            ));
        }
        Ok(())
    }
}

impl<S: Store + EmailStore, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// After a signup (the HTTP layer runs it after the response): a verification link for the new
    /// account's address, if it has one. D1: one batch.
    pub async fn start_verification(
        &self,
        user: &User,
        origin: &str,
    ) -> Result<Option<VerifyMail>, AuthError> {
        match &user.email {
            Some(email) if !user.email_verified() => Ok(Some(self.issue(user, email, origin).await?)),
            _ => Ok(None),
        }
    }

    /// `PATCH /auth/me`: the caller's display name and address. A new address is kept in
    /// `pending_email` (the current one stays the login name and the reset address) until its link
    /// is followed; the current address, when there is one, gets an `email_change_notice` without
    /// any link. The current address again withdraws a pending change. A new address counts against
    /// `RATE_LIMIT_VERIFY_EMAIL` (it sends mail). 409 `email_taken` when another account has it.
    /// D1: one read (+1 read for a new address, +1 update, +1 batch for its link). KV: 1 read + 1
    /// write for a new address.
    pub async fn update_me(
        &self,
        access: &VerifiedAccess,
        request: &UpdateMeRequest,
        origin: &str,
    ) -> Result<(UserView, Vec<Mail>), AuthError> {
        let mut user = self.caller(access).await?;
        let mut patch = ProfilePatch { display_name: request.display_name.clone(), pending_email: None };
        let mut new_address = None;
        match &request.email {
            None => {}
            // The current address again: withdraws a pending change (nothing to do without one).
            Some(e) if user.email.as_deref() == Some(e.as_str()) => {
                patch.pending_email = user.pending_email.is_some().then_some(None);
            }
            Some(e) => {
                // A new address is a sensitive change: it needs a sign-in within the last 10 minutes
                // [ASVS 5.0 7.5.1 re-authentication] (the token's `auth_time`).
                if !self.signed_in_recently(access) {
                    return Err(AuthError::ReauthenticationRequired);
                }
                if let Some(other) = self.store.find_user_by_login(&LoginName::Email(e.clone())).await? {
                    if other.id != user.id {
                        return Err(AuthError::EmailTaken);
                    }
                }
                self.count_mail(&user).await?;
                patch.pending_email = Some(Some(e.clone()));
                new_address = Some(e.clone());
            }
        }
        if !patch.is_empty() {
            self.store.update_profile(&user.id, &patch, self.now).await?;
            if let Some(d) = patch.display_name {
                user.display_name = d;
            }
            if let Some(p) = patch.pending_email {
                user.pending_email = p;
            }
            user.updated_at = self.now;
        }
        let mut mails = Vec::new();
        if new_address.is_some() {
            let detail = Detail { fields: vec!["email"], ..Detail::default() };
            self.record_own(access, EventType::EmailChangeRequested, detail);
        }
        if let Some(address) = new_address {
            mails.push(Mail::Verify(self.issue(&user, &address, origin).await?));
            if let Some(old) = &user.email {
                mails.push(Mail::ChangeNotice(ChangeNotice {
                    kind: "email_change_notice",
                    to: old.clone(),
                    username: user.username.clone(),
                    new_email: address,
                    requested_at: rfc3339(self.now),
                }));
            }
        }
        Ok((user.view(), mails))
    }

    /// `POST /auth/verify-email`: burns the token exactly once and verifies its address; a pending
    /// address becomes the address (409 `email_taken` if another account took it meanwhile; the link
    /// then stays unused). 400 `verification_token_invalid` for an unknown, used, superseded or
    /// expired token, or a disabled account. D1: one read + one batch.
    pub async fn verify_email(&self, request: &VerifyEmailRequest) -> Result<(), AuthError> {
        if request.token.is_empty() || request.token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::VerificationTokenInvalid);
        }
        let token_hash = hash_token(&request.token);
        let (record, user) =
            self.store.find_verification(&token_hash).await?.ok_or(AuthError::VerificationTokenInvalid)?;
        let current = user.email.as_deref() == Some(record.email.as_str());
        let pending = user.pending_email.as_deref() == Some(record.email.as_str());
        if record.used_at.is_some() || self.now >= record.expires_at || user.disabled || !(current || pending)
        {
            return Err(AuthError::VerificationTokenInvalid);
        }
        if !self.store.consume_verification(&token_hash, &user.id, &record.email, self.now).await? {
            return Err(AuthError::VerificationTokenInvalid);
        }
        let id = Some(user.id.as_str());
        self.record(EventType::EmailVerified, id, id, None, Detail::default());
        Ok(())
    }

    /// `POST /auth/verify-email/resend`: a fresh link (the older ones die) to the pending address, or
    /// else to the unverified address; `None` (no mail, still 204) when there is nothing to verify.
    /// At most `RATE_LIMIT_VERIFY_EMAIL` per user (429). D1: one read (+1 batch). KV: 1 read + 1 write
    /// when a mail is due.
    pub async fn resend_verification(
        &self,
        access: &VerifiedAccess,
        origin: &str,
    ) -> Result<Option<VerifyMail>, AuthError> {
        let user = self.caller(access).await?;
        let target =
            user.pending_email.clone().or_else(|| user.email.clone().filter(|_| !user.email_verified()));
        let Some(address) = target else { return Ok(None) };
        self.count_mail(&user).await?;
        Ok(Some(self.issue(&user, &address, origin).await?))
    }

    /// One more verification mail for this user (`RATE_LIMIT_VERIFY_EMAIL`), or 429.
    async fn count_mail(&self, user: &User) -> Result<(), AuthError> {
        let limit = self.config.email.resend_limit;
        let subject = format!("id:{}", user.id);
        super::limits::check_and_count(&self.counters, limit, Window::VerifyEmail, &subject, self.now).await
    }

    /// A new link for `email` (every older link of the user dies).
    async fn issue(&self, user: &User, email: &str, origin: &str) -> Result<VerifyMail, AuthError> {
        let token = crate::random::token(32);
        let expires_at = self.now.saturating_add(self.config.email.verification_ttl_seconds as i64);
        self.store
            .create_verification(&VerificationRecord {
                token_hash: hash_token(&token),
                user_id: user.id.clone(),
                email: email.to_string(),
                created_at: self.now,
                expires_at,
                used_at: None,
            })
            .await?;
        Ok(VerifyMail {
            kind: "verify_email",
            to: email.to_string(),
            username: user.username.clone(),
            link: self.config.email.link(origin, &self.config.base_path, &token),
            expires_at: rfc3339(expires_at),
        })
    }
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
