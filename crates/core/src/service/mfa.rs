//! Second factors: TOTP (`crate::totp`) with recovery codes, and the second step of a login.
//!
//! - Set-up stores a sealed secret (AES-256-GCM under `MFA_ENCRYPTION_KEY`, `crate::sealed`); a first
//!   correct code enables it and returns 10 recovery codes, shown once, stored as SHA-256 hashes.
//! - A login whose password is right on an account with TOTP answers `mfa_required` with an
//!   `mfa_token`: 256 random bits, stored hashed, valid 5 minutes, used once; no access token.
//! - Every code is accepted once: a TOTP step by a conditional write of the last used step, a recovery
//!   code by a conditional write of its `used_at` (exactly once under concurrency). Wrong codes count
//!   against the account like failed logins (the same progressive delay) [RFC 4226 §7.3].
//! - Disabling needs a current code; new recovery codes need a sign-in within the last 10 minutes or a
//!   current code [ASVS 5.0 7.5.1 re-authentication].

use super::audit::Trail;
use super::{limits, Auth, ClientInfo, TokenResponse};
use crate::audit::{Detail, EventType};
use crate::config::webauthn::Site;
use crate::error::AuthError;
use crate::ports::{ChallengePurpose, Counters, LoginRecord, MfaChallenge, Revocations, Store};
use crate::random::hash_token;
use crate::roles::Permission;
use crate::token::VerifiedAccess;
use crate::totp;
use crate::validate::LoginName;
use serde::Serialize;

/// How long an `mfa_token` lives.
pub const CHALLENGE_SECONDS: i64 = 5 * 60;
/// How recent a sign-in must be for a sensitive change without a code.
pub const RECENT_AUTH_SECONDS: i64 = 10 * 60;
/// Recovery codes per set, and their shape: 10 base32 characters (50 bits) [ASVS 6.5.1-6.5.3].
pub const RECOVERY_CODES: usize = 10;
const RECOVERY_CODE_BYTES: usize = 7;
/// The second factors a pending login can be finished with.
pub const METHODS: [&str; 2] = ["totp", "recovery_code"];

/// `POST /mfa/totp/setup`.
#[derive(Debug, Clone, Serialize)]
pub struct TotpSetup {
    pub otpauth_uri: String,
    pub secret: String,
    pub qr_svg: String,
}

/// A fresh set of recovery codes, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A second factor as typed: a TOTP code or a recovery code; or a passkey's assertion
/// (`AuthenticationResponseJSON`), accepted only to finish a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    Recovery(String),
    Passkey(serde_json::Value),
}

/// The audit log's name of a second factor.
fn factor_method(factor: &SecondFactor) -> &'static str {
    match factor {
        SecondFactor::Totp(_) => "totp",
        SecondFactor::Recovery(_) => "recovery_code",
        SecondFactor::Passkey(_) => "passkey",
    }
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    fn mfa_key(&self) -> Result<&[u8; 32], AuthError> {
        self.config
            .mfa
            .key
            .as_ref()
            .map(|k| &k.0)
            .ok_or_else(|| AuthError::Unavailable("MFA_ENCRYPTION_KEY is not configured".into()))
    }

    /// `POST /mfa/totp/setup`: a new secret (pending until a first code), its URI and QR code.
    /// D1: one read, one write.
    pub async fn totp_setup(&self, access: &VerifiedAccess) -> Result<TotpSetup, AuthError> {
        let key = self.mfa_key()?;
        // Adding an authenticator is a sensitive change: a sign-in within the last 10 minutes, so a
        // stolen, older access token cannot attach its own [ASVS 5.0 7.5.1].
        if !self.signed_in_recently(access) {
            return Err(AuthError::ReauthenticationRequired);
        }
        let user = self.caller(access).await?;
        let mut secret = [0u8; totp::SECRET_LEN];
        crate::random::fill(&mut secret);
        let sealed = crate::sealed::seal(key, &user.id, &secret);
        if !self.store.put_pending_totp(&user.id, &sealed).await? {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        let account = user.email.as_deref().unwrap_or(&user.username);
        let otpauth_uri = totp::otpauth_uri(&self.config.mfa.issuer, account, &secret);
        let qr_svg =
            totp::qr_svg(&otpauth_uri).ok_or_else(|| AuthError::Internal("QR code of the URI".into()))?;
        Ok(TotpSetup { secret: totp::base32(&secret), otpauth_uri, qr_svg })
    }

    /// `POST /mfa/totp/enable {code}`: the first code proves the app works; returns the recovery codes.
    /// D1: one read, one batch.
    pub async fn totp_enable(&self, access: &VerifiedAccess, code: &str) -> Result<RecoveryCodes, AuthError> {
        let user = self.caller(access).await?;
        let record = match self.store.totp(&user.id).await? {
            Some(r) if r.enabled_at.is_some() => return Err(AuthError::MfaAlreadyEnabled),
            Some(r) => r,
            None => return Err(AuthError::MfaNotEnabled),
        };
        let secret = self.open_secret(&user.id, &record.sealed_secret)?;
        let Some(step) = totp::verify(&secret, code, self.now, None) else {
            return Err(self.wrong_code(&user.id).await);
        };
        let (codes, hashes) = new_recovery_codes();
        if !self.store.enable_totp(&user.id, step, &hashes, self.now).await? {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        self.record_own(access, EventType::TotpEnabled, Detail::default());
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// `POST /mfa/totp/disable {code | recovery_code}`: removes the authenticator and the codes.
    pub async fn totp_disable(
        &self,
        access: &VerifiedAccess,
        factor: &SecondFactor,
    ) -> Result<(), AuthError> {
        let user = self.caller(access).await?;
        self.check_counted(&user.id, factor).await?;
        self.store.remove_factors(&user.id).await?;
        self.record_own(access, EventType::TotpDisabled, Detail::method(factor_method(factor)));
        Ok(())
    }

    /// `POST /mfa/recovery-codes {code?|recovery_code?}`: a new set; the old one dies. Needs a sign-in
    /// within the last 10 minutes, or a current code.
    pub async fn regenerate_recovery_codes(
        &self,
        access: &VerifiedAccess,
        factor: Option<&SecondFactor>,
    ) -> Result<RecoveryCodes, AuthError> {
        let user = self.caller(access).await?;
        match factor {
            Some(f) => self.check_counted(&user.id, f).await?,
            None => {
                if !self.is_enabled(&user.id).await? {
                    return Err(AuthError::MfaNotEnabled);
                }
                if !self.signed_in_recently(access) {
                    return Err(AuthError::ReauthenticationRequired);
                }
            }
        }
        let (codes, hashes) = new_recovery_codes();
        self.store.replace_recovery_codes(&user.id, &hashes, self.now).await?;
        self.record_own(access, EventType::RecoveryCodesRegenerated, Detail::default());
        Ok(RecoveryCodes { recovery_codes: codes })
    }

    /// After a correct password: `MfaRequired` with a fresh `mfa_token` when the account has TOTP;
    /// `MfaEnrollmentRequired` when its role must have one (`MFA_REQUIRED_ROLES`) and it has none.
    pub(super) async fn second_factor_challenge(
        &self,
        user: &crate::user::User,
        enabled: bool,
        new_hash: Option<String>,
    ) -> Result<Option<AuthError>, AuthError> {
        let purpose = if enabled {
            ChallengePurpose::Login
        } else if self.config.mfa.required_roles.iter().any(|r| r == &user.role) {
            ChallengePurpose::Enroll
        } else {
            return Ok(None);
        };
        let token = crate::random::token(32);
        let challenge = MfaChallenge {
            token_hash: hash_token(&token),
            user_id: user.id.clone(),
            created_at: self.now,
            expires_at: self.now + CHALLENGE_SECONDS,
            purpose,
            new_hash,
            first_factor: "pwd".into(),
        };
        self.store.create_challenge(&challenge).await?;
        Ok(Some(match purpose {
            ChallengePurpose::Login => {
                AuthError::MfaRequired { mfa_token: token, methods: Self::methods_of(user) }
            }
            ChallengePurpose::Enroll => AuthError::MfaEnrollmentRequired { mfa_token: token },
        }))
    }

    /// The caller of the TOTP set-up endpoints when it holds an enrolment `mfa_token` instead of an
    /// access token: a stand-in for the access token, for those two endpoints only.
    pub async fn enrolling(&self, mfa_token: &str) -> Result<VerifiedAccess, AuthError> {
        let challenge = match self.store.find_challenge(&hash_token(mfa_token)).await? {
            Some(c) if c.expires_at > self.now && c.purpose == ChallengePurpose::Enroll => c,
            _ => return Err(AuthError::TokenInvalid),
        };
        let user = match self.store.find_user(&challenge.user_id).await? {
            Some(u) if !u.disabled => u,
            _ => return Err(AuthError::TokenInvalid),
        };
        Ok(VerifiedAccess {
            claims: crate::token::AccessClaims {
                iss: String::new(),
                aud: String::new(),
                sub: user.id,
                sid: String::new(),
                jti: String::new(),
                role: user.role,
                username: user.username,
                amr: None,
                // The password of this login was checked when the enrolment token was issued.
                auth_time: Some(challenge.created_at),
            },
            issued_at: challenge.created_at,
            expires_at: challenge.expires_at,
        })
    }

    /// `POST /mfa/verify {mfa_token, code | recovery_code | credential}`: the second step of a login;
    /// the token response of a session whose `amr` is `pwd` + `otp` (or `hwk` / `swk` for a passkey).
    /// Every outcome is an audit event (`mfa_succeeded`, or `mfa_failed` with the reason).
    pub async fn mfa_verify(
        &self,
        mfa_token: &str,
        factor: &SecondFactor,
        site: &Site,
        client: &ClientInfo,
    ) -> Result<TokenResponse, AuthError> {
        let trail = Trail::default();
        let result = self.mfa_verify_steps(mfa_token, factor, site, client, &trail).await;
        let kinds = (EventType::MfaSucceeded, EventType::MfaFailed);
        self.record_sign_in(kinds, factor_method(factor), trail, &result);
        result
    }

    async fn mfa_verify_steps(
        &self,
        mfa_token: &str,
        factor: &SecondFactor,
        site: &Site,
        client: &ClientInfo,
        trail: &Trail,
    ) -> Result<TokenResponse, AuthError> {
        let token_hash = hash_token(mfa_token);
        let challenge = match self.store.find_challenge(&token_hash).await? {
            Some(c) if c.expires_at > self.now && c.purpose == ChallengePurpose::Login => c,
            _ => return Err(AuthError::MfaTokenInvalid),
        };
        trail.user(&challenge.user_id);
        let account = limits::account_subject(Some(&challenge.user_id), &LoginName::Username(String::new()));
        let ip = client.ip.as_deref().unwrap_or("unknown");
        let guard = limits::check_login(self.config, &self.counters, ip, &account, self.now).await?;
        let checked = match factor {
            // After a passkey (without user verification) the second step is the app's code: a second
            // passkey would prove the same thing twice.
            SecondFactor::Passkey(_) if challenge.first_factor != "pwd" => Err(AuthError::MfaCodeInvalid),
            SecondFactor::Passkey(credential) => {
                self.check_passkey_factor(site, &token_hash, &challenge.user_id, credential).await
            }
            other => self.check_factor(&challenge.user_id, other).await.map(|()| "otp"),
        };
        let method = match checked {
            Ok(method) => method,
            Err(e) => {
                if e == AuthError::MfaCodeInvalid {
                    limits::login_failed(self.config, &self.counters, &guard, self.now).await?;
                }
                return Err(e);
            }
        };
        if !self.store.consume_challenge(&token_hash, self.now).await? {
            return Err(AuthError::MfaTokenInvalid);
        }
        limits::login_succeeded(&self.counters, &guard).await?;
        let user = match self.store.find_user(&challenge.user_id).await? {
            Some(u) if !u.disabled => u,
            Some(_) => return Err(AuthError::AccountDisabled),
            None => return Err(AuthError::MfaTokenInvalid),
        };
        let session = self.new_session_with(&user.id, client, &[challenge.first_factor.as_str(), method]);
        trail.session(&session.id);
        let record =
            LoginRecord { user_id: &user.id, now: self.now, new_hash: challenge.new_hash.as_deref() };
        self.store.start_session(&record, &session).await?;
        self.token_response(&user, &session, session.generation)
    }

    /// `DELETE /admin/users/{id}/mfa`: admin; removes the user's factors and ends their sessions.
    pub async fn admin_reset_mfa(&self, access: &VerifiedAccess, user_id: &str) -> Result<(), AuthError> {
        self.admin(access, Permission::ManageUsers).await?;
        if self.store.find_user(user_id).await?.is_none() {
            return Err(AuthError::NotFound);
        }
        self.store.remove_factors(user_id).await?;
        self.store.remove_passkeys(user_id).await?;
        self.record_admin(access, EventType::AdminMfaReset, Some(user_id), Detail::default());
        self.end_all_sessions(user_id, None).await.map(drop)
    }

    async fn is_enabled(&self, user_id: &str) -> Result<bool, AuthError> {
        Ok(self.store.totp(user_id).await?.is_some_and(|t| t.enabled_at.is_some()))
    }

    /// Accepts `factor` for the user exactly once, or `MfaCodeInvalid` (also for a replayed code).
    async fn check_factor(&self, user_id: &str, factor: &SecondFactor) -> Result<(), AuthError> {
        let record = match self.store.totp(user_id).await? {
            Some(r) if r.enabled_at.is_some() => r,
            _ => return Err(AuthError::MfaNotEnabled),
        };
        let accepted = match factor {
            SecondFactor::Totp(code) => {
                let secret = self.open_secret(user_id, &record.sealed_secret)?;
                match totp::verify(&secret, code, self.now, record.last_step) {
                    Some(step) => self.store.use_totp_step(user_id, step).await?,
                    None => false,
                }
            }
            SecondFactor::Recovery(code) => {
                self.store
                    .burn_recovery_code(user_id, &hash_token(&normalize_recovery(code)), self.now)
                    .await?
            }
            // A passkey finishes a login only (`mfa_verify`); here a code is asked for.
            SecondFactor::Passkey(_) => false,
        };
        if accepted {
            Ok(())
        } else {
            Err(AuthError::MfaCodeInvalid)
        }
    }

    /// `check_factor`, a wrong code counted against the account like a failed login (so a stolen
    /// access token cannot guess codes at these endpoints without limit) [RFC 4226 §7.3].
    async fn check_counted(&self, user_id: &str, factor: &SecondFactor) -> Result<(), AuthError> {
        match self.check_factor(user_id, factor).await {
            Err(AuthError::MfaCodeInvalid) => Err(self.wrong_code(user_id).await),
            other => other,
        }
    }

    /// A wrong code outside a login (enabling, disabling, new recovery codes): counted against the
    /// account like a failed login.
    async fn wrong_code(&self, user_id: &str) -> AuthError {
        let account = limits::account_subject(Some(user_id), &LoginName::Username(String::new()));
        match limits::check_login(self.config, &self.counters, "unknown", &account, self.now).await {
            Ok(guard) => match limits::login_failed(self.config, &self.counters, &guard, self.now).await {
                Ok(()) => AuthError::MfaCodeInvalid,
                Err(e) => e,
            },
            Err(e) => e,
        }
    }

    fn open_secret(&self, user_id: &str, sealed: &str) -> Result<Vec<u8>, AuthError> {
        crate::sealed::open(self.mfa_key()?, user_id, sealed).ok_or_else(|| {
            AuthError::Unavailable("a TOTP secret does not open (MFA_ENCRYPTION_KEY changed?)".into())
        })
    }
}

/// 10 codes like `ABCDE-FGHJK` (base32: 50 bits each) and their hashes.
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_CODE_BYTES];
            crate::random::fill(&mut bytes);
            let text = &totp::base32(&bytes)[..10];
            let code = format!("{}-{}", &text[..5], &text[5..]);
            let h = hash_token(&normalize_recovery(&code));
            (code, h)
        })
        .unzip()
}

/// A recovery code as compared: upper case, without spaces or dashes (people type them loosely).
fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_50_bit_codes_compared_loosely() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for (code, h) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(&hash_token(&normalize_recovery(&code.to_lowercase().replace('-', " "))), h);
        }
    }
}

/// The second factor of a request body: `code` (TOTP) or `recovery_code`, exactly one. `None` when
/// neither is given and `required` is false.
pub fn parse_factor(
    body: &serde_json::Map<String, serde_json::Value>,
    required: bool,
) -> Result<Option<SecondFactor>, AuthError> {
    let mut f = crate::validate::Fields::new(body);
    let code = f.optional_str("code").map(str::to_string);
    let recovery = f.optional_str("recovery_code").map(str::to_string);
    f.finish()?;
    match (code, recovery) {
        (Some(c), None) => Ok(Some(SecondFactor::Totp(c))),
        (None, Some(r)) => Ok(Some(SecondFactor::Recovery(r))),
        (None, None) if !required => Ok(None),
        (None, None) => Err(AuthError::field("code", "missing", "`code` or `recovery_code` is required.")),
        (Some(_), Some(_)) => Err(AuthError::field(
            "recovery_code",
            "invalid_value",
            "Give `code` or `recovery_code`, not both.",
        )),
    }
}

/// `POST /mfa/verify {mfa_token, code | recovery_code}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaVerifyRequest {
    pub mfa_token: String,
    pub factor: SecondFactor,
}

impl MfaVerifyRequest {
    pub fn parse(body: &serde_json::Map<String, serde_json::Value>) -> Result<Self, AuthError> {
        let mut f = crate::validate::Fields::new(body);
        let token = f.required_str("mfa_token").map(str::to_string);
        f.finish()?;
        let factor = match body.get("credential") {
            None | Some(serde_json::Value::Null) => parse_factor(body, true)?
                .ok_or_else(|| AuthError::bad_request("A second factor is required."))?,
            Some(_) if body.contains_key("code") || body.contains_key("recovery_code") => {
                return Err(AuthError::field(
                    "credential",
                    "invalid_value",
                    "Give `code`, `recovery_code` or `credential`, only one.",
                ))
            }
            Some(_) => SecondFactor::Passkey(super::passkeys::credential_of(body)?.clone()),
        };
        match token {
            Some(mfa_token) if mfa_token.len() <= 128 => Ok(MfaVerifyRequest { mfa_token, factor }),
            Some(_) => Err(AuthError::MfaTokenInvalid),
            None => Err(AuthError::field("mfa_token", "missing", "`mfa_token` is required.")),
        }
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use serde_json::json;

    fn body(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn exactly_one_factor_is_read() {
        assert_eq!(
            parse_factor(&body(json!({"code": "123456"})), true).unwrap(),
            Some(SecondFactor::Totp("123456".into()))
        );
        assert_eq!(
            parse_factor(&body(json!({"recovery_code": "ABCDE-FGHIJ"})), true).unwrap(),
            Some(SecondFactor::Recovery("ABCDE-FGHIJ".into()))
        );
        assert_eq!(parse_factor(&body(json!({})), false).unwrap(), None);
        for bad in [
            json!({}),
            json!({"code": "1", "recovery_code": "2"}),
            json!({"code": 123456}),
            json!({"code": null}),
            json!({"code": null, "recovery_code": "ABCDE-FGHIJ"}),
        ] {
            assert_eq!(parse_factor(&body(bad.clone()), true).unwrap_err().status(), 400, "{bad}");
        }
        assert_eq!(MfaVerifyRequest::parse(&body(json!({"code": "123456"}))).unwrap_err().status(), 400);
        assert_eq!(
            MfaVerifyRequest::parse(&body(json!({"mfa_token": "x".repeat(129), "code": "1"}))).unwrap_err(),
            AuthError::MfaTokenInvalid
        );
    }
}
