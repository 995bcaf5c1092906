//! Access tokens: JWTs (`typ: at+jwt`, RFC 9068) signed with HS256 (default) or EdDSA (Ed25519),
//! issued and verified with `jwt-compact`; the Ed25519 signature itself comes from `crate::ed25519`
//! (Web Crypto in the Worker), the JWS framing around it [RFC 7515 §3.1] is the same as jwt-compact's.
//!
//! Verification trusts nothing in the token's header to choose how to verify it [RFC 8725 §3.1]: the
//! algorithm is fixed by configuration, the key is looked up by `kid` among configured keys only, and
//! headers that point elsewhere for keys (`jku`, `x5u`, `jwk`) or demand unknown extensions (`crit`) are
//! refused [ASVS 9.1.1-9.1.3]. Each key is bound to exactly one algorithm, and a token must name the
//! algorithm of the key its `kid` selects, so an HMAC secret can never verify an "EdDSA" token or a
//! public key an "HS256" one [RFC 8725 §3.1, §3.2]. `exp`, `nbf`, `iss`, `aud` and the explicit type are all checked
//! [RFC 8725 §3.8-3.12]. The clock is a parameter, so tests choose the time.

use crate::b64::URL_SAFE_NO_PAD;
use crate::ed25519::{self, Public, Seed};
use crate::error::AuthError;
use chrono::{DateTime, Duration, Utc};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::prelude::*;
use jwt_compact::ValidationError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `typ` header of access tokens [RFC 9068 §2.1].
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// JOSE names of the algorithms a key can be bound to (`none` never).
pub const HS256: &str = "HS256";
pub const EDDSA: &str = "EdDSA";
/// Shortest accepted HMAC secret: 32 random bytes, the output size of SHA-256 [RFC 8725 §3.5;
/// RFC 7518 §3.2].
pub const MIN_SECRET_LEN: usize = 32;
/// Tokens longer than this are refused before any parsing (ours are ~400 bytes).
pub const MAX_TOKEN_LEN: usize = 4096;
/// Clock skew tolerated on `exp`/`nbf` [RFC 7519 §4.1.4 "small leeway"].
pub const LEEWAY_SECONDS: i64 = 30;

/// The claims of an access token besides `exp`/`nbf`/`iat` (which `jwt-compact` handles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session id (ties the token to a login; logout revokes by session).
    pub sid: String,
    /// Unique token id (for the denylist).
    pub jti: String,
    pub role: String,
    pub username: String,
}

/// What a successful verification yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccess {
    pub claims: AccessClaims,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// The subject of a token to issue.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub role: &'a str,
    pub username: &'a str,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    pub token: String,
    pub jti: String,
    pub expires_in: u64,
}

/// An HMAC key with its stable id.
#[derive(Clone)]
pub struct HmacKey {
    kid: String,
    key: Hs256Key,
}

/// An Ed25519 key pair (signing) with its stable id.
#[derive(Clone)]
pub struct EdSigningKey {
    kid: String,
    seed: Seed,
    public: Public,
}

/// An Ed25519 public key (verification only) with its stable id.
#[derive(Clone, Debug)]
pub struct EdPublicKey {
    kid: String,
    public: Public,
}

impl std::fmt::Debug for EdSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdSigningKey").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

impl EdSigningKey {
    /// From `JWT_PRIVATE_KEY`: a 32-byte seed [RFC 8032 §5.1.5], or the 64-byte seed-then-public-key
    /// form of libsodium and Go. In the Worker the public half cannot be computed synchronously (it
    /// comes from Web Crypto), so there the configuration loader hands over the 64-byte form.
    pub fn from_private(bytes: &[u8]) -> Result<Self, String> {
        let (seed, given) = ed25519::split_private(bytes)?;
        let public = Self::public_of(&seed, given)?;
        Ok(EdSigningKey { kid: ed_kid(&public), seed, public })
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn public_of(seed: &Seed, given: Option<Public>) -> Result<Public, String> {
        Ok(ed25519::matching_public(given, ed25519::public_from_seed(seed))?)
    }

    /// In the Worker the loader has completed and checked the key (`ed25519::complete_private_key`).
    #[cfg(target_arch = "wasm32")]
    fn public_of(_seed: &Seed, given: Option<Public>) -> Result<Public, String> {
        given.ok_or_else(|| {
            "a bare Ed25519 seed needs its public half in the Worker (the configuration loader adds it)"
                .into()
        })
    }

    /// A fresh random key pair; returns it with its seed (for `edge-auth-cli gen-ed25519-key`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn generate() -> (Self, Seed) {
        let mut seed = [0u8; ed25519::SEED_LEN];
        crate::random::fill(&mut seed);
        (Self::from_private(&seed).expect("32 bytes"), seed)
    }

    pub fn public(&self) -> EdPublicKey {
        EdPublicKey { kid: self.kid.clone(), public: self.public }
    }
}

impl EdPublicKey {
    /// From 32 raw bytes (`JWT_PREVIOUS_PUBLIC_KEYS` entries, base64url).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let public: Public = bytes
            .try_into()
            .map_err(|_| "an Ed25519 public key must be 32 bytes, base64url-encoded".to_string())?;
        Ok(EdPublicKey { kid: ed_kid(&public), public })
    }

    /// The key as a JWK (RFC 8037 §2) for `/.well-known/jwks.json`.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(self.public),
            "kid": self.kid, "alg": EDDSA, "use": "sig",
        })
    }
}

fn ed_kid(public: &Public) -> String {
    let digest = Sha256::new().chain_update(b"edge-auth kid v1\0").chain_update(public).finalize();
    format!("ed-{}", URL_SAFE_NO_PAD.encode(&digest[..9]))
}

/// The key that signs new tokens.
#[derive(Debug, Clone)]
pub enum SigningKey {
    Hs256(HmacKey),
    EdDsa(EdSigningKey),
}

/// A key that verifies tokens, bound to one algorithm.
#[derive(Debug, Clone)]
pub enum VerifyingKey {
    Hs256(HmacKey),
    EdDsa(EdPublicKey),
}

impl VerifyingKey {
    fn kid(&self) -> &str {
        match self {
            VerifyingKey::Hs256(k) => &k.kid,
            VerifyingKey::EdDsa(k) => &k.kid,
        }
    }

    fn algorithm(&self) -> &'static str {
        match self {
            VerifyingKey::Hs256(_) => HS256,
            VerifyingKey::EdDsa(_) => EDDSA,
        }
    }
}

impl std::fmt::Debug for HmacKey {
    // The secret must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey").field("kid", &self.kid).field("key", &"<redacted>").finish()
    }
}

impl HmacKey {
    /// Builds a key from a secret of at least `MIN_SECRET_LEN` bytes. The `kid` is derived from the
    /// secret (a truncated SHA-256 under a label), so it is stable across deployments and reveals nothing.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "a JWT secret must be at least {MIN_SECRET_LEN} bytes (random, e.g. `openssl rand -base64 48`), got {}",
                secret.len()
            ));
        }
        let digest = Sha256::new().chain_update(b"edge-auth kid v1\0").chain_update(secret).finalize();
        let kid = format!("hs-{}", URL_SAFE_NO_PAD.encode(&digest[..9]));
        Ok(HmacKey { kid, key: Hs256Key::new(secret) })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

/// Issues and verifies access tokens.
#[derive(Debug, Clone)]
pub struct TokenService {
    issuer: String,
    audience: String,
    ttl_seconds: u64,
    /// The key that signs.
    signing: SigningKey,
    /// Every key that verifies: the signing key's first, then older ones (key rotation without
    /// logging anyone out).
    verifying: Vec<VerifyingKey>,
}

impl TokenService {
    pub fn new(
        issuer: String,
        audience: String,
        ttl_seconds: u64,
        signing: SigningKey,
        previous: Vec<VerifyingKey>,
    ) -> Self {
        let own = match &signing {
            SigningKey::Hs256(k) => VerifyingKey::Hs256(k.clone()),
            SigningKey::EdDsa(k) => VerifyingKey::EdDsa(k.public()),
        };
        let mut verifying = vec![own];
        verifying.extend(previous);
        TokenService { issuer, audience, ttl_seconds, signing, verifying }
    }

    /// The public keys to publish at `/.well-known/jwks.json` (never HMAC keys).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .verifying
            .iter()
            .filter_map(|k| match k {
                VerifyingKey::EdDsa(k) => Some(k.jwk()),
                VerifyingKey::Hs256(_) => None,
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// The algorithm of new tokens.
    pub fn algorithm(&self) -> &'static str {
        match self.signing {
            SigningKey::Hs256(_) => HS256,
            SigningKey::EdDsa(_) => EDDSA,
        }
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// Issues an access token valid from `now` (unix seconds) for the configured lifetime.
    pub async fn issue(&self, subject: &Subject<'_>, now: i64) -> Result<IssuedAccess, AuthError> {
        let jti = crate::random::id();
        let custom = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_string(),
            sid: subject.session_id.to_string(),
            jti: jti.clone(),
            role: subject.role.to_string(),
            username: subject.username.to_string(),
        };
        let options = time_options(now);
        let ttl = Duration::seconds(i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX / 2));
        let claims = Claims::new(custom).set_duration_and_issuance(&options, ttl);
        let token = match &self.signing {
            SigningKey::Hs256(k) => {
                let header = Header::empty().with_key_id(k.kid.clone()).with_token_type(ACCESS_TOKEN_TYPE);
                Hs256.token(&header, &claims, &k.key).map_err(|e| signing_failed(&e))?
            }
            SigningKey::EdDsa(k) => eddsa_token(k, &claims).await?,
        };
        Ok(IssuedAccess { token, jti, expires_in: self.ttl_seconds })
    }

    /// Verifies an access token at time `now` (unix seconds).
    ///
    /// Every failure is `TokenInvalid` except a good token past its expiry, which is `TokenExpired`.
    pub async fn verify(&self, token: &str, now: i64) -> Result<VerifiedAccess, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenInvalid);
        }
        let untrusted = UntrustedToken::<serde_json::Map<String, serde_json::Value>>::try_from(token)
            .map_err(|_| AuthError::TokenInvalid)?;

        let header = untrusted.header();
        let typ_ok = header.token_type.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
        });
        let foreign_key_source = header.key_set_url.is_some()
            || header.certificate_url.is_some()
            || header.other_fields.contains_key("jwk")
            || header.other_fields.contains_key("crit");
        if !typ_ok || foreign_key_source {
            return Err(AuthError::TokenInvalid);
        }
        let kid = header.key_id.as_deref().ok_or(AuthError::TokenInvalid)?;
        let key = self.verifying.iter().find(|k| k.kid() == kid).ok_or(AuthError::TokenInvalid)?;
        // The algorithm is the one the configured key is bound to, never the token's choice
        // [RFC 8725 §3.1]; `none` and every other name fail here.
        if untrusted.algorithm() != key.algorithm() {
            return Err(AuthError::TokenInvalid);
        }
        let claims = match key {
            VerifyingKey::Hs256(k) => {
                Hs256.validator::<AccessClaims>(&k.key).validate(&untrusted).map(|t| t.into_parts().1)
            }
            VerifyingKey::EdDsa(k) => {
                // The JWS signing input is everything before the last dot [RFC 7515 §5.2].
                let signed = token.rsplit_once('.').map_or("", |(input, _)| input);
                match ed25519::verify(&k.public, signed.as_bytes(), untrusted.signature_bytes()).await {
                    Ok(true) => {}
                    Ok(false) => return Err(AuthError::TokenInvalid),
                    Err(e) => return Err(AuthError::Unavailable(format!("Ed25519 verification: {e}"))),
                }
                untrusted.deserialize_claims_unchecked::<AccessClaims>()
            }
        }
        .map_err(|_| AuthError::TokenInvalid)?;
        let options = time_options(now);
        claims.validate_expiration(&options).map_err(|e| match e {
            ValidationError::Expired => AuthError::TokenExpired,
            _ => AuthError::TokenInvalid,
        })?;
        if claims.not_before.is_some() {
            claims.validate_maturity(&options).map_err(|_| AuthError::TokenInvalid)?;
        }
        let custom = &claims.custom;
        if custom.iss != self.issuer || custom.aud != self.audience {
            return Err(AuthError::TokenInvalid);
        }
        let issued_at = claims.issued_at.ok_or(AuthError::TokenInvalid)?.timestamp();
        if issued_at > now + LEEWAY_SECONDS {
            return Err(AuthError::TokenInvalid);
        }
        let expires_at = claims.expiration.map(|e| e.timestamp()).unwrap_or_default();
        Ok(VerifiedAccess { claims: custom.clone(), issued_at, expires_at })
    }
}

fn signing_failed(e: &dyn std::fmt::Display) -> AuthError {
    AuthError::Internal(format!("signing an access token failed: {e}"))
}

/// An EdDSA JWS in compact form [RFC 7515 §7.1; RFC 8037 §3.1]: the same header and claims jwt-compact
/// writes, signed by `crate::ed25519`.
async fn eddsa_token(key: &EdSigningKey, claims: &Claims<AccessClaims>) -> Result<String, AuthError> {
    let header = serde_json::json!({"alg": EDDSA, "kid": key.kid, "typ": ACCESS_TOKEN_TYPE});
    let claims = serde_json::to_vec(claims).map_err(|e| signing_failed(&e))?;
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims));
    let signature =
        ed25519::sign(&key.seed, &key.public, input.as_bytes()).await.map_err(|e| signing_failed(&e))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn time_options(now: i64) -> TimeOptions<impl Fn() -> DateTime<Utc>> {
    let at = DateTime::from_timestamp(now, 0).unwrap_or_default();
    TimeOptions::new(Duration::seconds(LEEWAY_SECONDS), move || at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64::URL_SAFE_NO_PAD as B64URL;
    use crate::testing::block_on;
    use serde_json::json;

    impl TokenService {
        fn issue_sync(&self, subject: &Subject<'_>, now: i64) -> Result<IssuedAccess, AuthError> {
            block_on(self.issue(subject, now))
        }
        fn verify_sync(&self, token: &str, now: i64) -> Result<VerifiedAccess, AuthError> {
            block_on(self.verify(token, now))
        }
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";
    const NOW: i64 = 1_780_000_000;

    fn service() -> TokenService {
        TokenService::new(
            "edge-auth".into(),
            "edge-auth-clients".into(),
            900,
            SigningKey::Hs256(HmacKey::new(SECRET).unwrap()),
            vec![],
        )
    }

    fn kid() -> String {
        HmacKey::new(SECRET).unwrap().kid
    }

    fn ed_service(seed: u8, previous: Vec<VerifyingKey>) -> TokenService {
        let key = EdSigningKey::from_private(&[seed; 32]).unwrap();
        TokenService::new(
            "edge-auth".into(),
            "edge-auth-clients".into(),
            900,
            SigningKey::EdDsa(key),
            previous,
        )
    }

    fn subject() -> Subject<'static> {
        Subject { user_id: "u1", session_id: "s1", role: "admin", username: "alice" }
    }

    /// Builds a token by hand from header and claims JSON, signed with HMAC-SHA256 under `secret`.
    fn forge(header: serde_json::Value, claims: serde_json::Value, secret: &[u8]) -> String {
        use hmac::{Mac, SimpleHmac};
        let signing_input =
            format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
        let mut mac = SimpleHmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", B64URL.encode(mac.finalize().into_bytes()))
    }

    fn good_claims() -> serde_json::Value {
        json!({"iss": "edge-auth", "aud": "edge-auth-clients", "sub": "u1", "sid": "s1", "jti": "j1",
               "role": "user", "username": "alice", "iat": NOW, "exp": NOW + 900})
    }

    fn good_header() -> serde_json::Value {
        json!({"alg": "HS256", "typ": "at+jwt", "kid": kid()})
    }

    #[test]
    fn an_issued_token_verifies_and_carries_every_claim() {
        let s = service();
        let issued = s.issue_sync(&subject(), NOW).unwrap();
        let v = s.verify_sync(&issued.token, NOW + 1).unwrap();
        assert_eq!(v.claims.sub, "u1");
        assert_eq!(v.claims.sid, "s1");
        assert_eq!(v.claims.role, "admin");
        assert_eq!(v.claims.username, "alice");
        assert_eq!(v.claims.iss, "edge-auth");
        assert_eq!(v.claims.aud, "edge-auth-clients");
        assert_eq!(v.claims.jti, issued.jti);
        assert_eq!(v.issued_at, NOW);
        assert_eq!(v.expires_at, NOW + 900);
    }

    #[test]
    fn the_header_names_type_algorithm_and_key() {
        let issued = service().issue_sync(&subject(), NOW).unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(issued.token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], kid());
    }

    #[test]
    fn a_hand_built_token_with_good_fields_verifies() {
        // Guards the forging helper used by the refusal tests below: they fail for the reason they name.
        let t = forge(good_header(), good_claims(), SECRET);
        assert!(service().verify_sync(&t, NOW).is_ok());
    }

    #[test]
    fn an_expired_token_is_token_expired_after_the_leeway() {
        let s = service();
        let t = s.issue_sync(&subject(), NOW).unwrap().token;
        assert!(s.verify_sync(&t, NOW + 900 + LEEWAY_SECONDS).is_ok());
        assert_eq!(s.verify_sync(&t, NOW + 900 + LEEWAY_SECONDS + 1), Err(AuthError::TokenExpired));
    }

    #[test]
    fn a_token_from_the_future_is_refused() {
        let s = service();
        let t = s.issue_sync(&subject(), NOW + 3600).unwrap().token;
        assert_eq!(s.verify_sync(&t, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn a_token_not_yet_valid_is_refused() {
        let mut c = good_claims();
        c["nbf"] = json!(NOW + 600);
        assert_eq!(
            service().verify_sync(&forge(good_header(), c, SECRET), NOW),
            Err(AuthError::TokenInvalid)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let t = forge(good_header(), good_claims(), b"another-secret-another-secret-another!!");
        assert_eq!(service().verify_sync(&t, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let s = service();
        let t = s.issue_sync(&subject(), NOW).unwrap().token;
        let parts: Vec<&str> = t.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(parts[1]).unwrap()).unwrap();
        claims["role"] = json!("admin-but-more");
        let tampered = format!("{}.{}.{}", parts[0], B64URL.encode(claims.to_string()), parts[2]);
        assert_eq!(s.verify_sync(&tampered, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn alg_none_is_refused() {
        let mut h = good_header();
        h["alg"] = json!("none");
        let unsigned =
            format!("{}.{}.", B64URL.encode(h.to_string()), B64URL.encode(good_claims().to_string()));
        assert_eq!(service().verify_sync(&unsigned, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn another_algorithm_with_the_same_secret_is_refused() {
        let mut h = good_header();
        h["alg"] = json!("HS512");
        assert_eq!(
            service().verify_sync(&forge(h, good_claims(), SECRET), NOW),
            Err(AuthError::TokenInvalid)
        );
    }

    #[test]
    fn a_wrong_or_missing_type_is_refused() {
        for typ in [json!("JWT"), json!("refresh+jwt"), serde_json::Value::Null] {
            let mut h = good_header();
            h["typ"] = typ.clone();
            assert_eq!(
                service().verify_sync(&forge(h, good_claims(), SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{typ}"
            );
        }
    }

    #[test]
    fn a_wrong_issuer_or_audience_is_refused() {
        for (field, value) in [("iss", "someone-else"), ("aud", "another-api")] {
            let mut c = good_claims();
            c[field] = json!(value);
            assert_eq!(
                service().verify_sync(&forge(good_header(), c, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{field}"
            );
        }
    }

    #[test]
    fn an_unknown_or_missing_kid_is_refused() {
        for kid in [json!("hs-unknown"), serde_json::Value::Null] {
            let mut h = good_header();
            h["kid"] = kid;
            assert_eq!(
                service().verify_sync(&forge(h, good_claims(), SECRET), NOW),
                Err(AuthError::TokenInvalid)
            );
        }
    }

    #[test]
    fn headers_pointing_at_foreign_keys_are_refused() {
        for (name, value) in [
            ("jku", json!("https://evil.example/jwks.json")),
            ("x5u", json!("https://evil.example/cert.pem")),
            ("jwk", json!({"kty": "oct", "k": "AAAA"})),
            ("crit", json!(["exp"])),
        ] {
            let mut h = good_header();
            h[name] = value;
            assert_eq!(
                service().verify_sync(&forge(h, good_claims(), SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{name}"
            );
        }
    }

    #[test]
    fn missing_exp_or_iat_is_refused() {
        for claim in ["exp", "iat"] {
            let mut c = good_claims();
            c.as_object_mut().unwrap().remove(claim);
            assert_eq!(
                service().verify_sync(&forge(good_header(), c, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{claim}"
            );
        }
    }

    #[test]
    fn garbage_and_oversized_tokens_are_refused() {
        let s = service();
        for t in ["", "abc", "a.b.c", "....", &"a".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(s.verify_sync(t, NOW), Err(AuthError::TokenInvalid));
        }
    }

    #[test]
    fn a_previous_key_still_verifies_but_does_not_sign() {
        let old = HmacKey::new(b"old-secret-old-secret-old-secret-old!").unwrap();
        let before = TokenService::new(
            "edge-auth".into(),
            "edge-auth-clients".into(),
            900,
            SigningKey::Hs256(old.clone()),
            vec![],
        );
        let t = before.issue_sync(&subject(), NOW).unwrap().token;
        let after = TokenService::new(
            "edge-auth".into(),
            "edge-auth-clients".into(),
            900,
            SigningKey::Hs256(HmacKey::new(SECRET).unwrap()),
            vec![VerifyingKey::Hs256(old)],
        );
        assert!(after.verify_sync(&t, NOW).is_ok());
        let fresh = after.issue_sync(&subject(), NOW).unwrap().token;
        assert_eq!(decode_header(&fresh)["kid"], kid(), "new tokens use the current key");
        assert!(service().verify_sync(&t, NOW).is_err());
    }

    fn decode_header(token: &str) -> serde_json::Value {
        serde_json::from_slice(&B64URL.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn eddsa_tokens_verify_and_name_their_algorithm_and_key() {
        let s = ed_service(1, vec![]);
        let t = s.issue_sync(&subject(), NOW).unwrap().token;
        let h = decode_header(&t);
        assert_eq!((h["alg"].as_str(), h["typ"].as_str()), (Some("EdDSA"), Some("at+jwt")));
        assert!(h["kid"].as_str().unwrap().starts_with("ed-"));
        assert_eq!(s.verify_sync(&t, NOW).unwrap().claims.sub, "u1");
        assert!(ed_service(2, vec![]).verify_sync(&t, NOW).is_err(), "another key pair");
    }

    #[test]
    fn the_jwks_publishes_current_and_previous_public_keys_and_never_hmac_secrets() {
        let old = EdSigningKey::from_private(&[9; 32]).unwrap().public();
        let hmac = VerifyingKey::Hs256(HmacKey::new(SECRET).unwrap());
        let s = ed_service(1, vec![VerifyingKey::EdDsa(old.clone()), hmac]);
        let jwks = s.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().all(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519" && k["alg"] == "EdDSA"));
        assert_eq!(keys[1]["kid"], old.kid);
        assert!(!jwks.to_string().contains("0123456789abcdef"));
        assert_eq!(service().jwks(), json!({"keys": []}));
    }

    #[test]
    fn a_token_cannot_switch_the_algorithm_of_its_key() {
        // An "HS256" token naming the Ed25519 kid, MACed with the public key bytes: the classic
        // algorithm-confusion attack.
        let s = ed_service(1, vec![]);
        let ed_kid = decode_header(&s.issue_sync(&subject(), NOW).unwrap().token)["kid"].clone();
        let public = EdSigningKey::from_private(&[1; 32]).unwrap().public;
        let forged =
            forge(json!({"alg": "HS256", "typ": "at+jwt", "kid": ed_kid}), good_claims(), &public[..]);
        assert_eq!(s.verify_sync(&forged, NOW), Err(AuthError::TokenInvalid));
        // And an "EdDSA" token naming an HMAC kid.
        let mut h = good_header();
        h["alg"] = json!("EdDSA");
        assert_eq!(
            service().verify_sync(&forge(h, good_claims(), SECRET), NOW),
            Err(AuthError::TokenInvalid)
        );
    }

    #[test]
    fn eddsa_private_keys_come_as_a_seed_or_as_seed_and_matching_public_key() {
        let from_seed = EdSigningKey::from_private(&[5; 32]).unwrap();
        let long: Vec<u8> = [5u8; 32].iter().chain(from_seed.public.iter()).copied().collect();
        let from_long = EdSigningKey::from_private(&long).unwrap();
        assert_eq!((from_long.kid.as_str(), from_long.public), (from_seed.kid.as_str(), from_seed.public));
        let mut wrong = long.clone();
        wrong[40] ^= 1;
        assert_eq!(EdSigningKey::from_private(&wrong).unwrap_err(), ed25519::MISMATCH);
        for len in [0, 31, 33, 63, 65] {
            assert!(EdSigningKey::from_private(&vec![5; len]).is_err(), "{len} bytes");
        }
    }

    #[test]
    fn eddsa_tokens_with_a_bad_signature_are_refused() {
        let s = ed_service(1, vec![]);
        let t = s.issue_sync(&subject(), NOW).unwrap().token;
        let (input, sig) = t.rsplit_once('.').unwrap();
        let mut bytes = B64URL.decode(sig).unwrap();
        bytes[10] ^= 0x40;
        assert_eq!(
            s.verify_sync(&format!("{input}.{}", B64URL.encode(&bytes)), NOW),
            Err(AuthError::TokenInvalid)
        );
        assert_eq!(
            s.verify_sync(&format!("{input}.{}", B64URL.encode(&bytes[..63])), NOW),
            Err(AuthError::TokenInvalid)
        );
        assert_eq!(s.verify_sync(&format!("{input}."), NOW), Err(AuthError::TokenInvalid));
        // The signature of one token on the claims of another.
        let other = s.issue_sync(&Subject { user_id: "u2", ..subject() }, NOW).unwrap().token;
        let other_input = other.rsplit_once('.').unwrap().0;
        assert_eq!(s.verify_sync(&format!("{other_input}.{sig}"), NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn eddsa_keys_must_be_32_bytes() {
        assert!(EdSigningKey::from_private(&[0; 31]).is_err());
        assert!(EdPublicKey::from_bytes(&[0; 33]).is_err());
        let (k, seed) = EdSigningKey::generate();
        assert_eq!(EdSigningKey::from_private(&seed).unwrap().kid, k.kid);
    }

    #[test]
    fn short_secrets_are_refused_and_debug_output_hides_the_key() {
        assert!(HmacKey::new(b"short").is_err());
        let k = HmacKey::new(SECRET).unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains("0123456789abcdef"), "{dbg}");
    }
}
