//! The one error type of edge-auth. Every failure a client can see is a variant here; each variant's doc
//! names its HTTP status and its stable `code` (clients switch on the code, so never rename one).
//! Rendering to RFC 9457 problem+json lives in the Worker's `error.rs`; internal detail is only logged.

use serde::Serialize;
use std::fmt;

/// One problem with one input field, for the `errors` member of a 400 problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_string(), code, message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// 400 `invalid_request`: the body is not a JSON object, or fields are missing, mistyped or invalid
    /// (`errors` lists them).
    InvalidRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401 `invalid_credentials`: unknown user or wrong password (deliberately indistinguishable).
    InvalidCredentials,
    /// 401 `token_missing`: no bearer token was sent.
    TokenMissing,
    /// 401 `token_invalid`: malformed, badly signed, wrong type/issuer/audience/algorithm, or revoked.
    TokenInvalid,
    /// 401 `token_expired`: a valid token past its `exp` (plus leeway).
    TokenExpired,
    /// 401 `refresh_token_invalid`: unknown, malformed, expired or revoked refresh token.
    RefreshTokenInvalid,
    /// 401 `refresh_token_reused`: an already-rotated refresh token was presented; the session is now
    /// revoked [RFC 9700 §4.14.2].
    RefreshTokenReused,
    /// 403 `account_disabled`: the password was right but the account is disabled.
    AccountDisabled,
    /// 403 `forbidden`: authenticated, but the role may not do this.
    Forbidden,
    /// 403 `csrf_rejected`: a state-changing request authenticated by cookie came from an origin that is
    /// neither this one nor an allowed one.
    CsrfRejected,
    /// 400 `reset_token_invalid`: the reset token is unknown, already used or expired.
    ResetTokenInvalid,
    /// 400 `verification_token_invalid`: the email-verification token is unknown, already used,
    /// superseded by a newer link, or expired.
    VerificationTokenInvalid,
    /// 403 `email_not_verified`: the password was right, but `REQUIRE_EMAIL_VERIFICATION` is on and the
    /// account's address is not verified yet.
    EmailNotVerified,
    /// 403 `signup_disabled`: self-service signup is switched off (`SIGNUP_ENABLED=false`).
    SignupDisabled,
    /// 404 `not_found`: no such route or resource.
    NotFound,
    /// 409 `username_taken`: another account has this username (compared case-insensitively).
    UsernameTaken,
    /// 409 `email_taken`: another account has this email (compared case-insensitively).
    EmailTaken,
    /// 409 `last_admin`: the last active admin cannot be demoted, disabled or deleted.
    LastAdmin,
    /// 405 `method_not_allowed`: the route exists but not with this method; `allow` lists the methods.
    MethodNotAllowed {
        allow: Vec<&'static str>,
    },
    /// 413 `payload_too_large`: the body is over the limit (16 KiB).
    PayloadTooLarge {
        limit: usize,
    },
    /// 415 `unsupported_media_type`: a body was sent without `Content-Type: application/json`.
    UnsupportedMediaType,
    /// 429 `rate_limited`: too many attempts; retry after the given number of seconds.
    RateLimited {
        retry_after: u64,
    },
    /// 401 `mfa_required`: the password was right and the account has a second factor: finish the
    /// login at `POST /mfa/verify` with this short-lived, single-use `mfa_token`.
    MfaRequired {
        mfa_token: String,
        methods: Vec<&'static str>,
    },
    /// 403 `mfa_enrollment_required`: the password was right, but the account's role must have a second
    /// factor (`MFA_REQUIRED_ROLES`) and it has none: this `mfa_token` reaches only the TOTP set-up
    /// endpoints (`Authorization: Bearer <mfa_token>`), then the person signs in again.
    MfaEnrollmentRequired {
        mfa_token: String,
    },
    /// 401 `mfa_token_invalid`: the `mfa_token` is unknown, used or expired (sign in again).
    MfaTokenInvalid,
    /// 401 `mfa_code_invalid`: the TOTP code or recovery code is wrong, or was already used.
    MfaCodeInvalid,
    /// 409 `mfa_already_enabled` / `mfa_not_enabled`: the request does not fit the account's factors.
    MfaAlreadyEnabled,
    MfaNotEnabled,
    /// 403 `reauthentication_required`: a sensitive change needs a sign-in within the last 10 minutes
    /// or a current code.
    ReauthenticationRequired,
    /// 400 `passkey_invalid`: a passkey registration failed a WebAuthn check; `reason` names it (safe to
    /// show: it says which check, never what the values were).
    PasskeyInvalid {
        reason: &'static str,
    },
    /// 401 `invalid_credentials`: a passkey sign-in failed (unknown credential, bad signature, wrong
    /// origin or RP, used challenge...): one answer for every cause, like a wrong password.
    PasskeyRejected,
    /// 409 `passkey_exists`: this credential is registered already.
    PasskeyExists,
    /// 409 `last_factor`: the account has no password and this is its last passkey.
    LastFactor,
    /// 403 `user_verification_required`: a passkey that did not verify the user (no PIN or biometrics)
    /// proves possession only, one factor, and this account's role must have two
    /// (`MFA_REQUIRED_ROLES`): use a passkey that verifies you, or the password and a second step.
    UserVerificationRequired,
    /// 500 `internal_error`: a bug or an unexpected platform failure. The string is logged, never sent.
    Internal(String),
    /// 503 `service_unavailable`: the deployment is misconfigured or a backing store is down. The string
    /// is logged, never sent.
    Unavailable(String),
}

impl AuthError {
    /// A 400 with one field error.
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AuthError::InvalidRequest {
            detail: "The request has invalid fields.".into(),
            errors: vec![FieldError::new(field, code, message)],
        }
    }

    /// A 400 without field detail.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        AuthError::InvalidRequest { detail: detail.into(), errors: Vec::new() }
    }

    pub fn status(&self) -> u16 {
        match self {
            AuthError::InvalidRequest { .. }
            | AuthError::ResetTokenInvalid
            | AuthError::VerificationTokenInvalid
            | AuthError::PasskeyInvalid { .. } => 400,
            AuthError::InvalidCredentials
            | AuthError::TokenMissing
            | AuthError::TokenInvalid
            | AuthError::TokenExpired
            | AuthError::RefreshTokenInvalid
            | AuthError::RefreshTokenReused
            | AuthError::MfaRequired { .. }
            | AuthError::MfaTokenInvalid
            | AuthError::MfaCodeInvalid
            | AuthError::PasskeyRejected => 401,
            AuthError::AccountDisabled
            | AuthError::Forbidden
            | AuthError::CsrfRejected
            | AuthError::SignupDisabled
            | AuthError::ReauthenticationRequired
            | AuthError::UserVerificationRequired
            | AuthError::MfaEnrollmentRequired { .. } => 403,
            AuthError::EmailNotVerified => 403,
            AuthError::NotFound => 404,
            AuthError::MethodNotAllowed { .. } => 405,
            AuthError::UsernameTaken
            | AuthError::EmailTaken
            | AuthError::LastAdmin
            | AuthError::MfaAlreadyEnabled
            | AuthError::MfaNotEnabled
            | AuthError::PasskeyExists
            | AuthError::LastFactor => 409,
            AuthError::PayloadTooLarge { .. } => 413,
            AuthError::UnsupportedMediaType => 415,
            AuthError::RateLimited { .. } => 429,
            AuthError::Internal(_) => 500,
            AuthError::Unavailable(_) => 503,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidRequest { .. } => "invalid_request",
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::TokenMissing => "token_missing",
            AuthError::TokenInvalid => "token_invalid",
            AuthError::TokenExpired => "token_expired",
            AuthError::RefreshTokenInvalid => "refresh_token_invalid",
            AuthError::RefreshTokenReused => "refresh_token_reused",
            AuthError::CsrfRejected => "csrf_rejected",
            AuthError::AccountDisabled => "account_disabled",
            AuthError::Forbidden => "forbidden",
            AuthError::NotFound => "not_found",
            AuthError::ResetTokenInvalid => "reset_token_invalid",
            AuthError::SignupDisabled => "signup_disabled",
            AuthError::VerificationTokenInvalid => "verification_token_invalid",
            AuthError::EmailNotVerified => "email_not_verified",
            AuthError::UsernameTaken => "username_taken",
            AuthError::EmailTaken => "email_taken",
            AuthError::LastAdmin => "last_admin",
            AuthError::MethodNotAllowed { .. } => "method_not_allowed",
            AuthError::PayloadTooLarge { .. } => "payload_too_large",
            AuthError::UnsupportedMediaType => "unsupported_media_type",
            AuthError::RateLimited { .. } => "rate_limited",
            AuthError::MfaRequired { .. } => "mfa_required",
            AuthError::MfaTokenInvalid => "mfa_token_invalid",
            AuthError::MfaEnrollmentRequired { .. } => "mfa_enrollment_required",
            AuthError::MfaCodeInvalid => "mfa_code_invalid",
            AuthError::MfaAlreadyEnabled => "mfa_already_enabled",
            AuthError::MfaNotEnabled => "mfa_not_enabled",
            AuthError::ReauthenticationRequired => "reauthentication_required",
            AuthError::PasskeyInvalid { .. } => "passkey_invalid",
            AuthError::PasskeyRejected => "invalid_credentials",
            AuthError::PasskeyExists => "passkey_exists",
            AuthError::LastFactor => "last_factor",
            AuthError::UserVerificationRequired => "user_verification_required",
            AuthError::Internal(_) => "internal_error",
            AuthError::Unavailable(_) => "service_unavailable",
        }
    }

    /// A short, constant, human-readable summary (RFC 9457 `title`).
    pub fn title(&self) -> &'static str {
        match self {
            AuthError::InvalidRequest { .. } => "Invalid request",
            AuthError::InvalidCredentials => "Invalid credentials",
            AuthError::TokenMissing => "Authentication required",
            AuthError::TokenInvalid => "Invalid token",
            AuthError::TokenExpired => "Token expired",
            AuthError::RefreshTokenInvalid => "Invalid refresh token",
            AuthError::RefreshTokenReused => "Refresh token reused",
            AuthError::CsrfRejected => "Cross-site request rejected",
            AuthError::AccountDisabled => "Account disabled",
            AuthError::Forbidden => "Forbidden",
            AuthError::NotFound => "Not found",
            AuthError::ResetTokenInvalid => "Invalid reset token",
            AuthError::SignupDisabled => "Signup disabled",
            AuthError::VerificationTokenInvalid => "Invalid verification token",
            AuthError::EmailNotVerified => "Email not verified",
            AuthError::UsernameTaken => "Username taken",
            AuthError::EmailTaken => "Email taken",
            AuthError::LastAdmin => "Last admin",
            AuthError::MethodNotAllowed { .. } => "Method not allowed",
            AuthError::PayloadTooLarge { .. } => "Payload too large",
            AuthError::UnsupportedMediaType => "Unsupported media type",
            AuthError::RateLimited { .. } => "Too many requests",
            AuthError::MfaRequired { .. } => "Second factor required",
            AuthError::MfaTokenInvalid => "Invalid second-factor token",
            AuthError::MfaEnrollmentRequired { .. } => "Second factor enrolment required",
            AuthError::MfaCodeInvalid => "Invalid code",
            AuthError::MfaAlreadyEnabled => "Second factor already enabled",
            AuthError::MfaNotEnabled => "No second factor",
            AuthError::ReauthenticationRequired => "Recent authentication required",
            AuthError::PasskeyInvalid { .. } => "Passkey not accepted",
            AuthError::PasskeyRejected => "Invalid credentials",
            AuthError::PasskeyExists => "Passkey already registered",
            AuthError::LastFactor => "Last sign-in method",
            AuthError::UserVerificationRequired => "User verification required",
            AuthError::Internal(_) => "Internal error",
            AuthError::Unavailable(_) => "Service unavailable",
        }
    }

    /// What the client is told (RFC 9457 `detail`). Never contains internal detail or secrets.
    pub fn public_detail(&self) -> String {
        match self {
            AuthError::InvalidRequest { detail, .. } => detail.clone(),
            AuthError::InvalidCredentials => "The username or password is incorrect.".into(),
            AuthError::TokenMissing => "A bearer access token is required.".into(),
            AuthError::TokenInvalid => "The access token is not valid.".into(),
            AuthError::TokenExpired => "The access token has expired.".into(),
            AuthError::RefreshTokenInvalid => "The refresh token is not valid.".into(),
            AuthError::RefreshTokenReused => {
                "This refresh token was already used; the session has been ended. Please sign in again."
                    .into()
            }
            AuthError::CsrfRejected => {
                "Requests authenticated by cookie must come from this site or an allowed origin.".into()
            }
            AuthError::AccountDisabled => "This account is disabled.".into(),
            AuthError::Forbidden => "Your role does not allow this action.".into(),
            AuthError::NotFound => "No such resource.".into(),
            AuthError::ResetTokenInvalid => {
                "The reset link is invalid, already used or expired. Request a new one.".into()
            }
            AuthError::SignupDisabled => "Self-service signup is disabled.".into(),
            AuthError::VerificationTokenInvalid => {
                "The verification link is invalid, already used, replaced by a newer one or expired. Request a new one."
                    .into()
            }
            AuthError::EmailNotVerified => {
                "This account's email address is not verified yet. Follow the link sent to it.".into()
            }
            AuthError::UsernameTaken => "This username is already taken.".into(),
            AuthError::EmailTaken => "This email address is already in use.".into(),
            AuthError::LastAdmin => "The last active admin cannot be demoted, disabled or deleted.".into(),
            AuthError::MethodNotAllowed { allow } => {
                format!("Allowed methods: {}.", allow.join(", "))
            }
            AuthError::PayloadTooLarge { limit } => {
                format!("The request body must be at most {limit} bytes.")
            }
            AuthError::UnsupportedMediaType => {
                "Request bodies must be sent as Content-Type: application/json.".into()
            }
            AuthError::RateLimited { retry_after } => {
                format!("Too many attempts; retry in {retry_after} seconds.")
            }
            AuthError::MfaRequired { methods, .. } => {
                // Said of the first step, which may have been a password or a passkey.
                let (app, passkey) = (methods.contains(&"totp"), methods.contains(&"webauthn"));
                match (app, passkey) {
                    (true, true) => "The first step is done; enter a code from your authenticator app or a \
                                     recovery code, or use a passkey."
                        .into(),
                    (false, true) => "The password is right; confirm with your passkey.".into(),
                    _ => "The first step is done; enter a code from your authenticator app or a recovery code."
                        .into(),
                }
            }
            AuthError::MfaTokenInvalid => {
                "The sign-in attempt is unknown, finished or expired; sign in again.".into()
            }
            AuthError::MfaEnrollmentRequired { .. } => {
                "Your role requires an authenticator app: set one up with this token, then sign in again."
                    .into()
            }
            AuthError::MfaCodeInvalid => "The code is not valid.".into(),
            AuthError::MfaAlreadyEnabled => {
                "An authenticator app is already enabled for this account.".into()
            }
            AuthError::MfaNotEnabled => "This account has no authenticator app enabled.".into(),
            AuthError::ReauthenticationRequired => {
                "Sign in again, or give a current code, to make this change.".into()
            }
            AuthError::PasskeyInvalid { reason } => format!("The passkey was not accepted: {reason}"),
            AuthError::PasskeyRejected => {
                "The passkey could not be verified. Try again, or sign in another way.".into()
            }
            AuthError::PasskeyExists => "This passkey is already registered.".into(),
            AuthError::LastFactor => {
                "This is the account's only way to sign in (it has no password): add another passkey first."
                    .into()
            }
            AuthError::UserVerificationRequired => {
                "Your role needs two factors: use a passkey that asks for your PIN or biometrics, or sign in with your password and a second step."
                    .into()
            }
            AuthError::Internal(_) => "An unexpected error occurred.".into(),
            AuthError::Unavailable(_) => "The service is temporarily unavailable.".into(),
        }
    }

    /// The `error` attribute of `WWW-Authenticate: Bearer` for a 401 (RFC 6750 §3.1).
    pub fn bearer_error(&self) -> Option<&'static str> {
        match self {
            AuthError::TokenMissing => Some("invalid_request"),
            AuthError::TokenInvalid | AuthError::TokenExpired => Some("invalid_token"),
            AuthError::InvalidCredentials | AuthError::MfaRequired { .. } | AuthError::PasskeyRejected => {
                Some("invalid_request")
            }
            AuthError::MfaTokenInvalid | AuthError::MfaCodeInvalid => Some("invalid_token"),
            AuthError::RefreshTokenInvalid | AuthError::RefreshTokenReused => Some("invalid_token"),
            _ => None,
        }
    }

    /// Field errors for validation problems.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AuthError::InvalidRequest { errors, .. } => errors,
            _ => &[],
        }
    }

    /// Internal detail for the log (never for the client).
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            AuthError::Internal(s) | AuthError::Unavailable(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.status())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_never_reaches_the_public_detail() {
        let e = AuthError::Internal("D1_ERROR: no such table: users".into());
        assert_eq!(e.status(), 500);
        assert!(!e.public_detail().contains("users"));
        assert_eq!(e.log_detail(), Some("D1_ERROR: no such table: users"));
    }

    #[test]
    fn every_401_carries_a_bearer_error_and_nothing_else_does() {
        let all = [
            AuthError::bad_request("x"),
            AuthError::InvalidCredentials,
            AuthError::PasskeyRejected,
            AuthError::PasskeyInvalid { reason: "x" },
            AuthError::PasskeyExists,
            AuthError::LastFactor,
            AuthError::UserVerificationRequired,
            AuthError::TokenMissing,
            AuthError::TokenInvalid,
            AuthError::TokenExpired,
            AuthError::RefreshTokenInvalid,
            AuthError::RefreshTokenReused,
            AuthError::CsrfRejected,
            AuthError::AccountDisabled,
            AuthError::Forbidden,
            AuthError::NotFound,
            AuthError::ResetTokenInvalid,
            AuthError::SignupDisabled,
            AuthError::VerificationTokenInvalid,
            AuthError::EmailNotVerified,
            AuthError::UsernameTaken,
            AuthError::EmailTaken,
            AuthError::LastAdmin,
            AuthError::MethodNotAllowed { allow: vec!["GET"] },
            AuthError::PayloadTooLarge { limit: 1 },
            AuthError::UnsupportedMediaType,
            AuthError::RateLimited { retry_after: 1 },
            AuthError::Internal(String::new()),
            AuthError::Unavailable(String::new()),
        ];
        for e in all {
            assert_eq!(e.status() == 401, e.bearer_error().is_some(), "{e}");
        }
    }
}
