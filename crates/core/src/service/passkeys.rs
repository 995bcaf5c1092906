//! Passkeys (WebAuthn, docs/passkeys.md): registration by a signed-in user, sign-in with a passkey
//! (the first factor, also usernameless), a passkey as the second step of a password login, and
//! managing them. The WebAuthn checks themselves are `crate::webauthn`'s (pure); here are the rules
//! around them: who may ask for which challenge, single use, rate limits, sessions.
//!
//! - Every challenge is 32 random bytes (WebAuthn L3 §13.4.3 asks for at least 16), stored only as a
//!   SHA-256, valid 5 minutes, and taken by a delete that exactly one request wins.
//! - A registration challenge is bound to the user it was issued to; a sign-in challenge to the user
//!   named in the options, if any; a second-factor challenge to the pending login's `mfa_token`.
//! - Every failed sign-in is the same 401 (`PasskeyRejected`), counted like a failed password.

use super::audit::Trail;
use super::{limits, Auth, ClientInfo, TokenResponse};
use crate::audit::{Detail, EventType};
use crate::b64::URL_SAFE_NO_PAD;
use crate::config::webauthn::{Site, UserVerification};
use crate::error::AuthError;
use crate::ports::{
    ChallengePurpose, Counters, LoginRecord, PasskeyDeletion, PasskeyRecord, Revocations, Store,
    WebauthnChallenge, WebauthnPurpose,
};
use crate::random::hash_token;
use crate::token::VerifiedAccess;
use crate::user::{rfc3339, User};
use crate::validate::LoginName;
use crate::webauthn::{self, AssertionResponse, RegistrationResponse, RelyingParty, StoredCredential};
use serde::Serialize;

/// How long a WebAuthn challenge lives, and the `timeout` the options give the browser.
pub const CHALLENGE_SECONDS: i64 = 5 * 60;
/// Challenge bytes: 32 (WebAuthn L3 §13.4.3: at least 16 random bytes).
const CHALLENGE_BYTES: usize = 32;
/// A passkey's name: 1-64 characters.
const MAX_NAME_CHARS: usize = 64;
const DEFAULT_NAME: &str = "Passkey";

/// `PublicKeyCredentialCreationOptionsJSON` (WebAuthn L3 §5.4, JSON form §5.1.8).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationOptions {
    pub rp: RpEntity,
    pub user: UserEntity,
    pub challenge: String,
    pub pub_key_cred_params: Vec<CredParam>,
    pub timeout: u64,
    pub exclude_credentials: Vec<CredentialDescriptor>,
    pub authenticator_selection: AuthenticatorSelection,
    pub attestation: &'static str,
    pub extensions: CreationExtensions,
}

#[derive(Debug, Clone, Serialize)]
pub struct RpEntity {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntity {
    pub id: String,
    pub name: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredParam {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub alg: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialDescriptor {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    /// Always present (empty when the browser gave none), so a real entry and a made-up one have the
    /// same members.
    pub transports: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelection {
    pub resident_key: &'static str,
    pub require_resident_key: bool,
    pub user_verification: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationExtensions {
    pub cred_props: bool,
}

/// `PublicKeyCredentialRequestOptionsJSON` (WebAuthn L3 §5.5).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOptions {
    pub challenge: String,
    pub rp_id: String,
    pub timeout: u64,
    pub user_verification: &'static str,
    pub allow_credentials: Vec<CredentialDescriptor>,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub transports: Vec<String>,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub aaguid: String,
    pub algorithm: i64,
}

impl From<&PasskeyRecord> for PasskeyView {
    fn from(p: &PasskeyRecord) -> Self {
        PasskeyView {
            id: p.id.clone(),
            name: p.name.clone(),
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.map(rfc3339),
            transports: p.transports.clone(),
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            aaguid: p.aaguid.clone(),
            algorithm: p.algorithm,
        }
    }
}

/// `{passkeys: [...]}` of `GET /passkeys`.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyView>,
}

/// What a sign-in's options were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOptionsFor {
    /// Usernameless: discoverable credentials, an empty `allowCredentials`.
    Anyone,
    /// The passkeys of the user with this login name.
    Name(LoginName),
    /// The second step of the pending password login of this `mfa_token`.
    SecondFactor(String),
}

/// A passkey name as given: trimmed, 1-64 characters, no control characters.
pub fn passkey_name(raw: Option<&str>) -> Result<String, AuthError> {
    let Some(raw) = raw else { return Ok(DEFAULT_NAME.to_string()) };
    let name = raw.trim();
    if name.is_empty() || raw.chars().count() > MAX_NAME_CHARS || raw.chars().any(char::is_control) {
        return Err(AuthError::field(
            "name",
            "invalid_value",
            format!("`name` must be 1-{MAX_NAME_CHARS} characters without control characters."),
        ));
    }
    Ok(name.to_string())
}

/// The WebAuthn `user.id` of a user: the bytes of its id (random, no personal data, never changes),
/// base64url.
pub fn user_handle(user_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(user_id.as_bytes())
}

fn relying_party(site: &Site) -> RelyingParty<'_> {
    RelyingParty {
        id: &site.rp_id,
        origins: &site.origins,
        require_user_verification: site.user_verification == UserVerification::Required,
    }
}

/// RFC 8176 `amr` of a passkey: `swk` (software-secured key) for a backup-eligible, i.e. syncable,
/// passkey; `hwk` (hardware-secured key) for one bound to its authenticator.
fn amr_of(backup_eligible: bool) -> &'static str {
    if backup_eligible {
        "swk"
    } else {
        "hwk"
    }
}

impl<S: Store, R: Revocations, C: Counters> Auth<'_, S, R, C> {
    /// A fresh challenge for `purpose`, stored (as its hash) with what it is bound to.
    async fn new_challenge(
        &self,
        purpose: WebauthnPurpose,
        user_id: Option<&str>,
        mfa_token_hash: Option<&str>,
    ) -> Result<String, AuthError> {
        let mut bytes = [0u8; CHALLENGE_BYTES];
        crate::random::fill(&mut bytes);
        let challenge = URL_SAFE_NO_PAD.encode(bytes);
        self.store
            .create_webauthn_challenge(&WebauthnChallenge {
                challenge_hash: hash_token(&challenge),
                purpose,
                user_id: user_id.map(str::to_string),
                mfa_token_hash: mfa_token_hash.map(str::to_string),
                created_at: self.now,
                expires_at: self.now + CHALLENGE_SECONDS,
            })
            .await?;
        Ok(challenge)
    }

    /// Takes the stored challenge whose bytes the client data carries (single use: the first taker
    /// wins, expired ones are not taken).
    async fn take_challenge(&self, challenge: &[u8]) -> Result<Option<WebauthnChallenge>, AuthError> {
        let hash = hash_token(&URL_SAFE_NO_PAD.encode(challenge));
        self.store.take_webauthn_challenge(&hash, self.now).await
    }

    /// `POST /passkeys/register/options`: creation options for the caller, after a recent sign-in.
    /// D1: two reads (user, passkeys), one write (challenge).
    pub async fn passkey_register_options(
        &self,
        access: &VerifiedAccess,
        site: &Site,
    ) -> Result<CreationOptions, AuthError> {
        // Adding a way to sign in is a sensitive change [ASVS 5.0 7.5.1], like adding an authenticator app.
        if !self.signed_in_recently(access) {
            return Err(AuthError::ReauthenticationRequired);
        }
        let user = self.caller(access).await?;
        let existing = self.store.list_passkeys(&user.id).await?;
        let challenge = self.new_challenge(WebauthnPurpose::Register, Some(&user.id), None).await?;
        Ok(CreationOptions {
            rp: RpEntity { id: site.rp_id.clone(), name: site.rp_name.clone() },
            user: UserEntity {
                id: user_handle(&user.id),
                display_name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
                name: user.email.clone().unwrap_or_else(|| user.username.clone()),
            },
            challenge,
            pub_key_cred_params: webauthn::ALGORITHMS
                .iter()
                .map(|&alg| CredParam { kind: "public-key", alg })
                .collect(),
            timeout: (CHALLENGE_SECONDS * 1000) as u64,
            exclude_credentials: existing.iter().map(descriptor).collect(),
            authenticator_selection: AuthenticatorSelection {
                resident_key: "preferred",
                require_resident_key: false,
                user_verification: site.user_verification.as_str(),
            },
            attestation: "none",
            extensions: CreationExtensions { cred_props: true },
        })
    }

    /// `POST /passkeys/register {credential, name?}`: verifies the registration (WebAuthn L3 §7.1) and
    /// stores the passkey. D1: one read (user), one delete (challenge), one write.
    pub async fn passkey_register(
        &self,
        access: &VerifiedAccess,
        site: &Site,
        credential: &serde_json::Value,
        name: String,
    ) -> Result<PasskeyView, AuthError> {
        if !self.signed_in_recently(access) {
            return Err(AuthError::ReauthenticationRequired);
        }
        let user = self.caller(access).await?;
        let response = RegistrationResponse::parse(credential).map_err(invalid)?;
        let challenge = self.take_challenge(response.challenge()).await?;
        let bound_here = challenge.is_some_and(|c| {
            c.purpose == WebauthnPurpose::Register && c.user_id.as_deref() == Some(user.id.as_str())
        });
        if !bound_here {
            return Err(AuthError::PasskeyInvalid {
                reason: "the challenge is unknown, used, expired or was issued to someone else.",
            });
        }
        let new = response.verify(&relying_party(site), response.challenge()).map_err(invalid)?;
        let record = PasskeyRecord {
            id: URL_SAFE_NO_PAD.encode(&new.id),
            user_id: user.id.clone(),
            public_key: new.public_key,
            algorithm: new.algorithm,
            sign_count: new.sign_count,
            transports: new.transports,
            backup_eligible: new.backup_eligible,
            backup_state: new.backup_state,
            aaguid: webauthn::aaguid_string(&new.aaguid),
            name,
            created_at: self.now,
            last_used_at: None,
        };
        if !self.store.add_passkey(&record).await? {
            return Err(AuthError::PasskeyExists);
        }
        self.record_own(access, EventType::PasskeyRegistered, Detail::default());
        Ok(PasskeyView::from(&record))
    }

    /// `POST /passkeys/login/options {username? | mfa_token?}`: request options. For a named user
    /// without passkeys, or no such user, one made-up credential id derived from the name, so the
    /// answer does not tell whether the account exists. D1: one or two reads, one write.
    pub async fn passkey_login_options(
        &self,
        site: &Site,
        wanted: &LoginOptionsFor,
    ) -> Result<RequestOptions, AuthError> {
        let (purpose, user_id, mfa_hash, allow) = match wanted {
            LoginOptionsFor::Anyone => (WebauthnPurpose::Login, None, None, Vec::new()),
            LoginOptionsFor::Name(name) => {
                let user = self.store.find_user_by_login(name).await?;
                let user = user.filter(|u| self.login_name_allowed(u, name));
                let passkeys = match &user {
                    Some(u) if u.passkeys => self.store.list_passkeys(&u.id).await?,
                    _ => Vec::new(),
                };
                let allow = if passkeys.is_empty() {
                    vec![self.made_up_descriptor(name)]
                } else {
                    passkeys.iter().map(descriptor).collect()
                };
                (WebauthnPurpose::Login, user.map(|u| u.id), None, allow)
            }
            LoginOptionsFor::SecondFactor(mfa_token) => {
                let token_hash = hash_token(mfa_token);
                let pending = match self.store.find_challenge(&token_hash).await? {
                    Some(c) if c.expires_at > self.now && c.purpose == ChallengePurpose::Login => c,
                    _ => return Err(AuthError::MfaTokenInvalid),
                };
                // A login whose first step was a passkey finishes with the app's code (its `methods`).
                if pending.first_factor != "pwd" {
                    return Err(AuthError::MfaNotEnabled);
                }
                let passkeys = self.store.list_passkeys(&pending.user_id).await?;
                if passkeys.is_empty() {
                    return Err(AuthError::MfaNotEnabled);
                }
                let allow = passkeys.iter().map(descriptor).collect();
                (WebauthnPurpose::SecondFactor, Some(pending.user_id), Some(token_hash), allow)
            }
        };
        let challenge = self.new_challenge(purpose, user_id.as_deref(), mfa_hash.as_deref()).await?;
        Ok(RequestOptions {
            challenge,
            rp_id: site.rp_id.clone(),
            timeout: (CHALLENGE_SECONDS * 1000) as u64,
            user_verification: site.user_verification.as_str(),
            allow_credentials: allow,
        })
    }

    /// A credential id that looks like a real one, the same for the same name every time, and that no
    /// authenticator has.
    fn made_up_descriptor(&self, name: &LoginName) -> CredentialDescriptor {
        let key = match name {
            LoginName::Username(u) => format!("u:{}", u.to_lowercase()),
            LoginName::Email(e) => format!("e:{e}"),
        };
        let id = self.config.refresh_key.derive_value(b"edge-auth made-up passkey id v1", key.as_bytes());
        CredentialDescriptor {
            kind: "public-key",
            id: URL_SAFE_NO_PAD.encode(id),
            // The transports platform passkeys report most often (a passkey of this device).
            transports: vec!["internal".into()],
        }
    }

    /// `POST /passkeys/login {credential}`: a sign-in with a passkey (WebAuthn L3 §7.2); the session's
    /// `amr` is `hwk` or `swk`. D1: one delete (challenge), one read (passkey + user), one conditional
    /// update (sign count), one batch (session). KV: as a password login.
    /// Every outcome is an audit event (`passkey_login_succeeded`, or `passkey_login_failed`).
    pub async fn passkey_login(
        &self,
        site: &Site,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<TokenResponse, AuthError> {
        let trail = Trail::default();
        let result = self.passkey_login_steps(site, credential, client, &trail).await;
        let kinds = (EventType::PasskeyLoginSucceeded, EventType::PasskeyLoginFailed);
        self.record_sign_in(kinds, "passkey", trail, &result);
        result
    }

    async fn passkey_login_steps(
        &self,
        site: &Site,
        credential: &serde_json::Value,
        client: &ClientInfo,
        trail: &Trail,
    ) -> Result<TokenResponse, AuthError> {
        let response = AssertionResponse::parse(credential).map_err(|_| AuthError::PasskeyRejected)?;
        let challenge = self.take_challenge(response.challenge()).await?;
        let credential_id = URL_SAFE_NO_PAD.encode(response.credential_id());
        let found = self.store.find_passkey(&credential_id).await?;
        if let Some((passkey, _)) = &found {
            trail.user(&passkey.user_id);
        }
        let ip = client.ip.as_deref().unwrap_or("unknown");
        // Counted per account once the credential is known, else per credential id (like an unknown
        // login name).
        let account = limits::account_subject(
            found.as_ref().map(|(p, _)| p.user_id.as_str()),
            &LoginName::Username(format!("passkey:{credential_id}")),
        );
        let guard = limits::check_login(self.config, &self.counters, ip, &account, self.now).await?;
        let fail = || async {
            limits::login_failed(self.config, &self.counters, &guard, self.now).await?;
            Err::<TokenResponse, AuthError>(AuthError::PasskeyRejected)
        };
        let (Some(challenge), Some((passkey, user))) = (challenge, found) else { return fail().await };
        // Usernameless (no user named in the options): the authenticator must say whose key it is
        // (§7.2 step 6: userHandle is then required).
        let bound_ok = challenge.purpose == WebauthnPurpose::Login
            && match challenge.user_id.as_deref() {
                Some(id) => id == passkey.user_id,
                None => response.user_handle().is_some(),
            };
        let assertion = match bound_ok {
            true => self.assertion_accepted(site, &response, &passkey).await?,
            false => None,
        };
        let Some(assertion) = assertion else { return fail().await };
        let amr = amr_of(passkey.backup_eligible);
        // Without user verification the passkey proved possession only: one factor [NIST SP 800-63B
        // §5.1.8.1: a multi-factor cryptographic device needs its activation factor]. An account that
        // has an authenticator app still gives its code; a role that must have two factors is refused.
        let one_factor = !assertion.user_verified;
        if !(one_factor && user.second_factor) {
            limits::login_succeeded(&self.counters, &guard).await?;
        }
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        self.check_verified(&user)?;
        if one_factor && user.second_factor {
            return Err(self.pending_after_passkey(&user, amr).await?);
        }
        if one_factor && self.config.mfa.required_roles.iter().any(|r| r == &user.role) {
            return Err(AuthError::UserVerificationRequired);
        }
        let session = self.new_session_with(&user.id, client, &[amr]);
        trail.session(&session.id);
        let record = LoginRecord { user_id: &user.id, now: self.now, new_hash: None };
        self.store.start_session(&record, &session).await?;
        self.token_response(&user, &session, session.generation)
    }

    /// Verifies an assertion against the stored passkey and records its use (the sign count moves
    /// exactly once). `None` for any failed check.
    async fn assertion_accepted(
        &self,
        site: &Site,
        response: &AssertionResponse,
        passkey: &PasskeyRecord,
    ) -> Result<Option<webauthn::Assertion>, AuthError> {
        // §7.2 step 6: the user handle, when given, must be the credential's owner.
        if response.user_handle().is_some_and(|h| h != passkey.user_id.as_bytes()) {
            return Ok(None);
        }
        let stored = StoredCredential {
            public_key: &passkey.public_key,
            algorithm: passkey.algorithm,
            sign_count: passkey.sign_count,
        };
        let a = match response.verify(&relying_party(site), response.challenge(), &stored) {
            // §7.2 step 19: the backup eligibility of a credential never changes (it decides `hwk` vs
            // `swk`): an assertion that says otherwise is not from the registered authenticator.
            Ok(a) if a.backup_eligible == passkey.backup_eligible => a,
            _ => return Ok(None),
        };
        let moved = self
            .store
            .use_passkey(&passkey.id, passkey.sign_count, a.sign_count, a.backup_state, self.now)
            .await?;
        Ok(moved.then_some(a))
    }

    /// A passkey without user verification on an account with an authenticator app: the pending
    /// login of a password login, its first factor the passkey's `amr`, its second the app's code.
    async fn pending_after_passkey(&self, user: &User, first_factor: &str) -> Result<AuthError, AuthError> {
        let token = crate::random::token(32);
        self.store
            .create_challenge(&crate::ports::MfaChallenge {
                token_hash: hash_token(&token),
                user_id: user.id.clone(),
                created_at: self.now,
                expires_at: self.now + super::mfa::CHALLENGE_SECONDS,
                purpose: ChallengePurpose::Login,
                new_hash: None,
                first_factor: first_factor.to_string(),
            })
            .await?;
        Ok(AuthError::MfaRequired { mfa_token: token, methods: super::mfa::METHODS.to_vec() })
    }

    /// The second step of a password login with a passkey: the assertion answers the challenge issued
    /// for this `mfa_token` and comes from one of the user's passkeys. `MfaCodeInvalid` otherwise.
    pub(super) async fn check_passkey_factor(
        &self,
        site: &Site,
        mfa_token_hash: &str,
        user_id: &str,
        credential: &serde_json::Value,
    ) -> Result<&'static str, AuthError> {
        let response = AssertionResponse::parse(credential).map_err(|_| AuthError::MfaCodeInvalid)?;
        let challenge = self.take_challenge(response.challenge()).await?;
        let bound_here = challenge.is_some_and(|c| {
            c.purpose == WebauthnPurpose::SecondFactor
                && c.mfa_token_hash.as_deref() == Some(mfa_token_hash)
                && c.user_id.as_deref() == Some(user_id)
        });
        if !bound_here {
            return Err(AuthError::MfaCodeInvalid);
        }
        let credential_id = URL_SAFE_NO_PAD.encode(response.credential_id());
        match self.store.find_passkey(&credential_id).await? {
            Some((passkey, _)) if passkey.user_id == user_id => {
                match self.assertion_accepted(site, &response, &passkey).await? {
                    Some(_) => Ok(amr_of(passkey.backup_eligible)),
                    None => Err(AuthError::MfaCodeInvalid),
                }
            }
            _ => Err(AuthError::MfaCodeInvalid),
        }
    }

    /// `GET /passkeys`: the caller's passkeys, newest first. D1: one read.
    pub async fn list_passkeys(&self, access: &VerifiedAccess) -> Result<PasskeyList, AuthError> {
        let passkeys = self.store.list_passkeys(&access.claims.sub).await?;
        Ok(PasskeyList { passkeys: passkeys.iter().map(PasskeyView::from).collect() })
    }

    /// `PATCH /passkeys/{id} {name}`. D1: two reads (session + user, the list), one write.
    pub async fn rename_passkey(
        &self,
        access: &VerifiedAccess,
        id: &str,
        name: &str,
    ) -> Result<PasskeyView, AuthError> {
        // The session as D1 has it: a token whose session ended changes nothing, whatever KV says.
        self.caller(access).await?;
        if !self.store.rename_passkey(&access.claims.sub, id, name).await? {
            return Err(AuthError::NotFound);
        }
        self.record_own(access, EventType::PasskeyRenamed, Detail::default());
        let passkeys = self.store.list_passkeys(&access.claims.sub).await?;
        passkeys.iter().find(|p| p.id == id).map(PasskeyView::from).ok_or(AuthError::NotFound)
    }

    /// `DELETE /passkeys/{id}`: after a recent sign-in; never the last way into an account without a
    /// password. D1: one read (session + user), one conditional delete (and one read when it deleted
    /// nothing).
    pub async fn delete_passkey(&self, access: &VerifiedAccess, id: &str) -> Result<(), AuthError> {
        if !self.signed_in_recently(access) {
            return Err(AuthError::ReauthenticationRequired);
        }
        self.caller(access).await?;
        match self.store.delete_passkey(&access.claims.sub, id).await? {
            PasskeyDeletion::Deleted => {
                self.record_own(access, EventType::PasskeyRemoved, Detail::default());
                Ok(())
            }
            PasskeyDeletion::NotFound => Err(AuthError::NotFound),
            PasskeyDeletion::LastFactor => Err(AuthError::LastFactor),
        }
    }

    /// The second factors a pending login of `user` may be finished with.
    pub(super) fn methods_of(user: &User) -> Vec<&'static str> {
        let mut methods = Vec::new();
        if user.second_factor {
            methods.extend(super::mfa::METHODS);
        }
        if user.passkeys {
            methods.push("webauthn");
        }
        methods
    }
}

fn descriptor(p: &PasskeyRecord) -> CredentialDescriptor {
    CredentialDescriptor { kind: "public-key", id: p.id.clone(), transports: p.transports.clone() }
}

/// A registration that failed a check: 400 naming the check.
fn invalid(e: webauthn::WebauthnError) -> AuthError {
    AuthError::PasskeyInvalid { reason: e.reason() }
}

/// `POST /passkeys/login/options`'s body: `username` (or `email`), `mfa_token`, or neither.
pub fn parse_login_options(
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<LoginOptionsFor, AuthError> {
    let mut f = crate::validate::Fields::new(body);
    // Each name given is checked on its own field, as at `POST /login`.
    let username = f.optional_str("username").map(crate::validate::login_name);
    let email = f.optional_str("email").map(|e| crate::validate::email(e).map(LoginName::Email));
    let mfa_token = f.optional_str("mfa_token");
    let mut name = None;
    for checked in [username, email].into_iter().flatten() {
        match checked {
            Ok(n) => name = name.or(Some(n)),
            Err(e) => f.push(e),
        }
    }
    let given = ["username", "email", "mfa_token"].iter().filter(|k| body.contains_key(**k)).count();
    if given > 1 {
        f.push(crate::error::FieldError::new(
            "mfa_token",
            "invalid_value",
            "Give one of `username`, `email` or `mfa_token`, or none.",
        ));
    }
    f.finish()?;
    match (name, mfa_token) {
        (None, None) => Ok(LoginOptionsFor::Anyone),
        (Some(n), _) => Ok(LoginOptionsFor::Name(n)),
        (None, Some(t)) if t.len() <= 128 => Ok(LoginOptionsFor::SecondFactor(t.to_string())),
        (None, Some(_)) => Err(AuthError::MfaTokenInvalid),
    }
}

/// The `credential` member of a body: a JSON object (the browser's `credential.toJSON()`).
pub fn credential_of(
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<&serde_json::Value, AuthError> {
    match body.get("credential") {
        Some(v @ serde_json::Value::Object(_)) => Ok(v),
        None | Some(serde_json::Value::Null) => {
            Err(AuthError::field("credential", "missing", "`credential` is required."))
        }
        Some(_) => Err(AuthError::field("credential", "invalid_type", "`credential` must be an object.")),
    }
}
