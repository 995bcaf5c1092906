//! Access tokens: JWTs (`typ: at+jwt`, RFC 9068) signed with HS256 (default) or EdDSA (Ed25519). The
//! JWS framing [RFC 7515 §7.1] and the HMAC are `crate::jws`, once for both algorithms; the Ed25519
//! signature comes from `crate::ed25519` (Web Crypto in the Worker).
//!
//! Verification trusts nothing in the token's header to choose how to verify it [RFC 8725 §3.1]: the
//! algorithm is fixed by configuration, the key is looked up by `kid` among configured keys only, and
//! headers that point elsewhere for keys (`jku`, `x5u`, `jwk`, and the certificate members `x5c`, `x5t`,
//! `x5t#S256`) or demand unknown extensions (`crit`) are refused [ASVS 9.1.1-9.1.3]. Each key is bound
//! to exactly one algorithm, and a token must name the algorithm of the key its `kid` selects, so an
//! HMAC secret can never verify an "EdDSA" token or a public key an "HS256" one [RFC 8725 §3.1, §3.2].
//! `exp`, `nbf`, `iss`, `aud` and the explicit type are all checked [RFC 8725 §3.8-3.12]. The clock is a
//! parameter, so tests choose the time.
//!
//! The order of the checks is part of the contract: a well-formed token with a good signature that is
//! past `exp` (plus the leeway) is `TokenExpired` whatever else is wrong with its claims, so the client
//! refreshes; every other failure is `TokenInvalid`.

use crate::b64::URL_SAFE_NO_PAD;
use crate::ed25519::{self, Public, Seed};
use crate::error::AuthError;
use crate::jws::{self, Jws, Protected};
use sha2::{Digest, Sha256};

mod claims;

pub use crate::jws::HS256;
pub use claims::{ClaimsSet, MAX_NUMERIC_DATE, MIN_NUMERIC_DATE};

/// The `typ` header of access tokens [RFC 9068 §2.1].
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The long form of the same media type, also accepted on verification [RFC 9068 §2.1, RFC 7515 §4.1.9].
const ACCESS_TOKEN_MEDIA_TYPE: &str = "application/at+jwt";
/// JOSE names of the algorithms a key can be bound to (`none` never); `HS256` is re-exported above.
pub const EDDSA: &str = "EdDSA";
/// Shortest accepted HMAC secret: 32 random bytes, the output size of SHA-256 [RFC 8725 §3.5;
/// RFC 7518 §3.2].
pub const MIN_SECRET_LEN: usize = 32;
/// Tokens longer than this are refused before any parsing (ours are ~400 bytes).
pub const MAX_TOKEN_LEN: usize = 4096;
/// Clock skew tolerated on `exp`/`nbf`/`iat` [RFC 7519 §4.1.4 "small leeway"].
pub const LEEWAY_SECONDS: i64 = 30;

/// The claims of an access token besides `exp`/`nbf`/`iat` (`ClaimsSet` has all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl From<ClaimsSet> for AccessClaims {
    fn from(claims: ClaimsSet) -> Self {
        let ClaimsSet { iss, aud, sub, sid, jti, role, username, .. } = claims;
        AccessClaims { iss, aud, sub, sid, jti, role, username }
    }
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
    secret: Vec<u8>,
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
        Ok(HmacKey { kid, secret: secret.to_vec() })
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
        let ttl = i64::try_from(self.ttl_seconds).unwrap_or(i64::MAX);
        let claims = ClaimsSet {
            exp: Some(now.saturating_add(ttl)),
            nbf: None,
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_string(),
            sid: subject.session_id.to_string(),
            jti: jti.clone(),
            role: subject.role.to_string(),
            username: subject.username.to_string(),
        };
        let token = self.sign(&claims).await?;
        Ok(IssuedAccess { token, jti, expires_in: self.ttl_seconds })
    }

    /// The compact JWS of `claims` under the signing key: header `{"alg","kid","typ":"at+jwt"}`
    /// [RFC 9068 §2.1], then the algorithm's signature over the signing input.
    async fn sign(&self, claims: &ClaimsSet) -> Result<String, AuthError> {
        let (alg, kid) = match &self.signing {
            SigningKey::Hs256(k) => (HS256, k.kid.as_str()),
            SigningKey::EdDsa(k) => (EDDSA, k.kid.as_str()),
        };
        let header = Protected { alg, kid, typ: ACCESS_TOKEN_TYPE };
        let input = jws::signing_input(&header, claims).map_err(|e| signing_failed(&e))?;
        let signature = match &self.signing {
            SigningKey::Hs256(k) => jws::sign_hs256(&k.secret, &input).to_vec(),
            SigningKey::EdDsa(k) => ed25519::sign(&k.seed, &k.public, input.as_bytes())
                .await
                .map_err(|e| signing_failed(&e))?
                .to_vec(),
        };
        Ok(jws::compact(input, &signature))
    }

    /// Verifies an access token at time `now` (unix seconds).
    ///
    /// Every failure is `TokenInvalid` except a good token past its expiry, which is `TokenExpired`.
    pub async fn verify(&self, token: &str, now: i64) -> Result<VerifiedAccess, AuthError> {
        let (jws, key) = self.untrusted(token)?;
        let authentic = match key {
            VerifyingKey::Hs256(k) => jws.verify_hs256(&k.secret),
            VerifyingKey::EdDsa(k) => {
                ed25519::verify(&k.public, jws.signing_input.as_bytes(), &jws.signature)
                    .await
                    .map_err(|e| AuthError::Unavailable(format!("Ed25519 verification: {e}")))?
            }
        };
        if !authentic {
            return Err(AuthError::TokenInvalid);
        }
        let claims: ClaimsSet = jws.claims().map_err(|_| AuthError::TokenInvalid)?;
        self.accept(claims, now)
    }

    /// The token taken apart and the configured key that must have signed it, if its header passes:
    /// size, framing, `typ`, no foreign key sources, a known `kid`, and that key's algorithm.
    fn untrusted<'t>(&self, token: &'t str) -> Result<(Jws<'t>, &VerifyingKey), AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenInvalid);
        }
        let jws = jws::decode(token).map_err(|_| AuthError::TokenInvalid)?;
        let header = &jws.header;
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || t.eq_ignore_ascii_case(ACCESS_TOKEN_MEDIA_TYPE)
        });
        // Claims are JSON [RFC 7519 §5.2]: `cty` absent, or "json" in any case as jwt-compact allowed.
        let cty_ok = header.cty.as_deref().is_none_or(|c| c.eq_ignore_ascii_case("json"));
        if !typ_ok || !cty_ok || header.names_foreign_keys_or_extensions() {
            return Err(AuthError::TokenInvalid);
        }
        let kid = header.kid.as_deref().ok_or(AuthError::TokenInvalid)?;
        let key = self.verifying.iter().find(|k| k.kid() == kid).ok_or(AuthError::TokenInvalid)?;
        // The algorithm is the one the configured key is bound to, never the token's choice
        // [RFC 8725 §3.1]; `none` and every other name fail here.
        if header.alg != key.algorithm() {
            return Err(AuthError::TokenInvalid);
        }
        Ok((jws, key))
    }

    /// The verdict on the claims of an authentic token, in jwt-compact's order: `exp` first (the only
    /// `TokenExpired`), then `nbf`, `iss`/`aud`, `iat`.
    fn accept(&self, claims: ClaimsSet, now: i64) -> Result<VerifiedAccess, AuthError> {
        let expires_at = claims.exp.ok_or(AuthError::TokenInvalid)?;
        // Expired iff now > exp + leeway: the last second of the leeway is still valid.
        if now > expires_at.saturating_add(LEEWAY_SECONDS) {
            return Err(AuthError::TokenExpired);
        }
        let latest = now.saturating_add(LEEWAY_SECONDS);
        if claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(AuthError::TokenInvalid);
        }
        if claims.iss != self.issuer || claims.aud != self.audience {
            return Err(AuthError::TokenInvalid);
        }
        let issued_at = claims.iat.ok_or(AuthError::TokenInvalid)?;
        if issued_at > latest {
            return Err(AuthError::TokenInvalid);
        }
        Ok(VerifiedAccess { claims: claims.into(), issued_at, expires_at })
    }
}

fn signing_failed(e: &dyn std::fmt::Display) -> AuthError {
    AuthError::Internal(format!("signing an access token failed: {e}"))
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
        forge_raw(&header.to_string(), &claims.to_string(), secret)
    }

    /// `forge` from header and claims text as given (not necessarily JSON, duplicates kept).
    fn forge_raw(header: &str, claims: &str, secret: &[u8]) -> String {
        let signing_input = format!("{}.{}", B64URL.encode(header), B64URL.encode(claims));
        format!("{signing_input}.{}", B64URL.encode(mac(secret, &signing_input)))
    }

    fn mac(secret: &[u8], input: &str) -> Vec<u8> {
        use hmac::{Mac, SimpleHmac};
        let mut mac = SimpleHmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The verdict on a hand-built token with `good_header()` and these claims.
    fn verdict(claims: serde_json::Value, now: i64) -> Result<VerifiedAccess, AuthError> {
        service().verify_sync(&forge(good_header(), claims, SECRET), now)
    }

    /// The verdict on a hand-built token with this header and `good_claims()`.
    fn header_verdict(header: serde_json::Value) -> Result<VerifiedAccess, AuthError> {
        service().verify_sync(&forge(header, good_claims(), SECRET), NOW)
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

    #[test]
    fn issued_tokens_are_byte_for_byte_the_documented_jws() {
        // Header and claims in this member order, compact JSON, HMAC-SHA256 over the first two segments
        // [RFC 7515 §3.1, §5.1]; pinned so that any change of the wire format is deliberate.
        let issued = service().issue_sync(&subject(), NOW).unwrap();
        let parts: Vec<&str> = issued.token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let text = |s: &str| String::from_utf8(B64URL.decode(s).unwrap()).unwrap();
        assert_eq!(text(parts[0]), format!(r#"{{"alg":"HS256","kid":"{}","typ":"at+jwt"}}"#, kid()));
        assert_eq!(
            text(parts[1]),
            format!(
                r#"{{"exp":{},"iat":{NOW},"iss":"edge-auth","aud":"edge-auth-clients","sub":"u1","sid":"s1","jti":"{}","role":"admin","username":"alice"}}"#,
                NOW + 900,
                issued.jti
            )
        );
        assert_eq!(B64URL.decode(parts[2]).unwrap(), mac(SECRET, &format!("{}.{}", parts[0], parts[1])));
    }

    #[test]
    fn the_lifetime_saturates_instead_of_overflowing() {
        let s = TokenService::new(
            "edge-auth".into(),
            "edge-auth-clients".into(),
            u64::MAX,
            SigningKey::Hs256(HmacKey::new(SECRET).unwrap()),
            vec![],
        );
        let issued = s.issue_sync(&subject(), NOW).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(issued.token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert!(claims["exp"].as_i64().unwrap() > NOW + 100 * 365 * 86_400, "{claims}");
    }

    #[test]
    fn only_exactly_three_segments_are_a_token() {
        let good = forge(good_header(), good_claims(), SECRET);
        let (input, sig) = good.rsplit_once('.').unwrap();
        let (header, claims) = input.split_once('.').unwrap();
        for t in [
            input.to_string(),
            format!("{header}.{sig}"),
            format!("{good}."),
            format!("{good}.{sig}"),
            format!("{header}.{claims}.{sig}.{header}.{claims}"),
            format!(".{good}"),
        ] {
            assert_eq!(service().verify_sync(&t, NOW), Err(AuthError::TokenInvalid), "{t}");
        }
        assert!(service().verify_sync(&good, NOW).is_ok());
    }

    #[test]
    fn padded_or_non_canonical_base64_is_refused() {
        let good = forge(good_header(), good_claims(), SECRET);
        let parts: Vec<&str> = good.split('.').collect();
        // Each segment with the `=` padding RFC 7515 §2 omits, where its length would take padding.
        let mut tried = 0;
        for i in (0..3).filter(|i| !parts[*i].len().is_multiple_of(4)) {
            let mut padded: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            while !padded[i].len().is_multiple_of(4) {
                padded[i].push('=');
            }
            let t = padded.join(".");
            assert_eq!(service().verify_sync(&t, NOW), Err(AuthError::TokenInvalid), "segment {i}: {t}");
            tried += 1;
        }
        assert!(tried >= 1, "the 43-character signature always takes padding");
        assert_eq!(parts[2].len(), 43, "32 bytes leave two spare bits in the last character");
        // Same bytes, a spare bit set: a second spelling of the same signature.
        let last = parts[2].as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let at = alphabet.iter().position(|c| *c == last).unwrap();
        let twin = alphabet[at ^ 1] as char;
        let t = format!("{}.{}.{}{twin}", parts[0], parts[1], &parts[2][..42]);
        assert_eq!(service().verify_sync(&t, NOW), Err(AuthError::TokenInvalid), "{t}");
        // The standard alphabet instead of the URL-safe one.
        let std_alphabet = good.replace('-', "+").replace('_', "/");
        if std_alphabet != good {
            assert_eq!(service().verify_sync(&std_alphabet, NOW), Err(AuthError::TokenInvalid));
        }
    }

    #[test]
    fn an_hs256_signature_must_be_exactly_32_bytes() {
        let good = forge(good_header(), good_claims(), SECRET);
        let (input, _) = good.rsplit_once('.').unwrap();
        let right = mac(SECRET, input);
        let longer: Vec<u8> = right.iter().chain(right.iter()).copied().collect();
        for sig in [&right[..31], &longer[..33], &longer[..], &[][..]] {
            let t = format!("{input}.{}", B64URL.encode(sig));
            assert_eq!(service().verify_sync(&t, NOW), Err(AuthError::TokenInvalid), "{} bytes", sig.len());
        }
    }

    #[test]
    fn a_header_or_claims_that_are_not_a_json_object_are_refused() {
        let header = good_header().to_string();
        let claims = good_claims().to_string();
        for (h, c) in [
            ("not json", claims.as_str()),
            ("", claims.as_str()),
            (r#"["HS256"]"#, claims.as_str()),
            (r#""HS256""#, claims.as_str()),
            ("null", claims.as_str()),
            (header.as_str(), "not json"),
            (header.as_str(), ""),
            (header.as_str(), "[]"),
            (header.as_str(), "null"),
            (&format!("{header} trailing"), claims.as_str()),
        ] {
            assert_eq!(
                service().verify_sync(&forge_raw(h, c, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{h} / {c}"
            );
        }
        assert!(service().verify_sync(&forge_raw(&header, &claims, SECRET), NOW).is_ok());
    }

    #[test]
    fn certificate_headers_are_refused_too() {
        // x5c carries a certificate chain, x5t/x5t#S256 name a certificate [RFC 7515 §4.1.6-4.1.8]:
        // keys come from configuration only.
        for (name, value) in [
            ("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])),
            ("x5t", json!("AAAAAAAAAAAAAAAAAAAAAAAAAAA")),
            ("x5t#S256", json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
        ] {
            let mut h = good_header();
            h[name] = value;
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{name}");
        }
    }

    #[test]
    fn key_source_headers_are_refused_whatever_their_value() {
        // Presence is what counts, `null` included (jwt-compact let `"jku": null` and `"x5u": null` pass).
        for name in ["jku", "x5u", "jwk", "crit", "x5c", "x5t", "x5t#S256"] {
            for value in [json!(null), json!(1), json!({})] {
                let mut h = good_header();
                h[name] = value.clone();
                assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{name}: {value}");
            }
        }
    }

    #[test]
    fn a_content_type_other_than_json_is_refused() {
        // jwt-compact's rule, kept: `cty` absent or "json" (any case); nested JWTs and CBOR are not ours.
        for (cty, ok) in [
            (json!("json"), true),
            (json!("JSON"), true),
            (json!("JWT"), false),
            (json!("cbor"), false),
            (json!(1), false),
        ] {
            let mut h = good_header();
            h["cty"] = cty.clone();
            assert_eq!(header_verdict(h).is_ok(), ok, "{cty}");
        }
    }

    #[test]
    fn the_type_is_compared_without_regard_to_case() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
            let mut h = good_header();
            h["typ"] = json!(typ);
            assert!(header_verdict(h).is_ok(), "{typ}");
        }
        for typ in [json!("at+jwt "), json!("application/jwt"), json!(1)] {
            let mut h = good_header();
            h["typ"] = typ.clone();
            assert_eq!(header_verdict(h), Err(AuthError::TokenInvalid), "{typ}");
        }
    }

    #[test]
    fn unknown_header_members_are_ignored() {
        let mut h = good_header();
        h["x-trace"] = json!({"deep": [1, 2]});
        assert!(header_verdict(h).is_ok());
    }

    #[test]
    fn duplicate_header_members_are_refused() {
        let claims = good_claims().to_string();
        for header in [
            format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}","kid":"{}"}}"#, kid(), kid()),
            format!(r#"{{"alg":"HS256","alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, kid()),
            format!(r#"{{"alg":"HS256","typ":"at+jwt","typ":"at+jwt","kid":"{}"}}"#, kid()),
        ] {
            assert_eq!(
                service().verify_sync(&forge_raw(&header, &claims, SECRET), NOW),
                Err(AuthError::TokenInvalid),
                "{header}"
            );
        }
    }

    #[test]
    fn an_audience_array_is_refused() {
        // RFC 7519 §4.1.3 allows an array; our tokens have one audience, and an array is not it.
        let mut c = good_claims();
        c["aud"] = json!(["edge-auth-clients"]);
        assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn every_custom_claim_is_required_and_must_be_a_string() {
        for claim in ["iss", "aud", "sub", "sid", "jti", "role", "username"] {
            let mut c = good_claims();
            c.as_object_mut().unwrap().remove(claim);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "missing {claim}");
            let mut c = good_claims();
            c[claim] = json!(1);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "numeric {claim}");
        }
    }

    #[test]
    fn unknown_claims_are_ignored_and_duplicate_claims_refused() {
        let mut c = good_claims();
        c["scope"] = json!("openid");
        c["nested"] = json!({"a": [1, {"b": null}]});
        assert!(verdict(c, NOW).is_ok());
        let body = good_claims().to_string();
        let body = body.strip_suffix('}').unwrap();
        for extra in [r#","sub":"u2""#, r#","exp":9999999999"#, r#","iat":1"#, r#","scope":1,"scope":2"#] {
            let claims = format!("{body}{extra}}}");
            let verdict = service().verify_sync(&forge_raw(&good_header().to_string(), &claims, SECRET), NOW);
            if extra.contains("scope") {
                assert!(verdict.is_ok(), "{claims}");
            } else {
                assert_eq!(verdict, Err(AuthError::TokenInvalid), "{claims}");
            }
        }
    }

    #[test]
    fn expiry_is_inclusive_of_the_leeway() {
        // Expired iff now > exp + leeway [RFC 7519 §4.1.4].
        let exp = NOW + 900;
        assert!(verdict(good_claims(), exp + LEEWAY_SECONDS).is_ok());
        assert_eq!(verdict(good_claims(), exp + LEEWAY_SECONDS + 1), Err(AuthError::TokenExpired));
    }

    #[test]
    fn not_before_and_issued_at_allow_the_leeway() {
        for claim in ["nbf", "iat"] {
            let mut c = good_claims();
            c[claim] = json!(NOW + LEEWAY_SECONDS);
            assert!(verdict(c.clone(), NOW).is_ok(), "{claim} at the edge");
            c[claim] = json!(NOW + LEEWAY_SECONDS + 1);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim} a second later");
        }
        let mut c = good_claims();
        c["nbf"] = json!(NOW - 3600);
        assert!(verdict(c, NOW).is_ok(), "a past nbf");
    }

    #[test]
    fn time_claims_must_be_numbers_in_range() {
        for (claim, value) in [
            ("exp", json!(null)),
            ("iat", json!(null)),
            ("nbf", json!(null)),
            ("exp", json!("1780000900")),
            ("nbf", json!(true)),
            ("exp", json!(u64::MAX)),
            ("exp", json!(i64::MAX)),
            ("iat", json!(i64::MIN)),
            ("nbf", json!(i64::MIN)),
            ("exp", json!(1e300)),
            ("iat", json!(-1e300)),
        ] {
            let mut c = good_claims();
            c[claim] = value.clone();
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim}: {value}");
        }
    }

    #[test]
    fn numeric_dates_end_where_chronos_did() {
        use chrono::{DateTime, Utc};
        assert_eq!(MIN_NUMERIC_DATE, DateTime::<Utc>::MIN_UTC.timestamp());
        assert_eq!(MAX_NUMERIC_DATE, DateTime::<Utc>::MAX_UTC.timestamp());
        let mut c = good_claims();
        c["exp"] = json!(MAX_NUMERIC_DATE);
        c["iat"] = json!(MIN_NUMERIC_DATE);
        c["nbf"] = json!(MIN_NUMERIC_DATE);
        assert!(verdict(c, NOW).is_ok(), "both ends are inside");
        for (claim, value) in
            [("exp", MAX_NUMERIC_DATE + 1), ("iat", MIN_NUMERIC_DATE - 1), ("nbf", MIN_NUMERIC_DATE - 1)]
        {
            let mut c = good_claims();
            c[claim] = json!(value);
            assert_eq!(verdict(c, NOW), Err(AuthError::TokenInvalid), "{claim}: {value}");
        }
    }

    #[test]
    fn the_clock_at_its_extremes_does_not_overflow() {
        let mut c = good_claims();
        c["exp"] = json!(MAX_NUMERIC_DATE);
        c["nbf"] = json!(NOW);
        assert_eq!(verdict(c.clone(), i64::MAX), Err(AuthError::TokenExpired));
        assert_eq!(verdict(c, i64::MIN), Err(AuthError::TokenInvalid), "before nbf");
    }

    #[test]
    fn fractional_time_claims_are_truncated() {
        // NumericDate may be non-integer [RFC 7519 §2]; the fraction is dropped.
        let mut c = good_claims();
        c["exp"] = json!(NOW as f64 + 900.9);
        c["iat"] = json!(NOW as f64 + 0.5);
        let v = verdict(c.clone(), NOW).unwrap();
        assert_eq!((v.issued_at, v.expires_at), (NOW, NOW + 900));
        assert_eq!(verdict(c, NOW + 930 + 1), Err(AuthError::TokenExpired));
    }

    #[test]
    fn far_past_and_future_times_within_range_are_ordinary() {
        let mut c = good_claims();
        c["exp"] = json!(8_000_000_000_000i64);
        assert!(verdict(c, NOW).is_ok(), "a very late expiry");
        let mut c = good_claims();
        c["iat"] = json!(-8_000_000_000_000i64);
        c["nbf"] = json!(-8_000_000_000_000i64);
        assert!(verdict(c, NOW).is_ok(), "a very early issue");
        let mut c = good_claims();
        c["exp"] = json!(-8_000_000_000_000i64);
        assert_eq!(verdict(c, NOW), Err(AuthError::TokenExpired));
    }

    #[test]
    fn expiry_is_decided_before_the_other_claims() {
        // An expired token says "expired" even when other claims are wrong too: the client refreshes.
        let late = NOW + 900 + LEEWAY_SECONDS + 1;
        let mut c = good_claims();
        c["iss"] = json!("someone-else");
        assert_eq!(verdict(c, late), Err(AuthError::TokenExpired));
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("iat");
        assert_eq!(verdict(c, late), Err(AuthError::TokenExpired));
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove("sub");
        assert_eq!(verdict(c, late), Err(AuthError::TokenInvalid), "claims that do not parse");
    }
}

/// Tokens made by this code (hand framing; Ed25519 as RFC 8032 deterministic signatures, which is what
/// Web Crypto produced in the Worker), pinned before the move back to jwt-compact: whatever signs and
/// verifies next must still accept them, since such tokens are outstanding when the change deploys.
#[cfg(test)]
mod pinned {
    use super::*;
    use crate::testing::block_on;

    const NOW: i64 = 1_780_000_000;
    const HS256_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzLWcyNU00N2h6Wl94RSIsInR5cCI6ImF0K2p3dCJ9.eyJleHAiOjE3ODAwMDA5MDAsImlhdCI6MTc4MDAwMDAwMCwiaXNzIjoiZWRnZS1hdXRoIiwiYXVkIjoiZWRnZS1hdXRoLWNsaWVudHMiLCJzdWIiOiJ1MSIsInNpZCI6InMxIiwianRpIjoiai1waW5uZWQiLCJyb2xlIjoiYWRtaW4iLCJ1c2VybmFtZSI6ImFsaWNlIn0.ILh2r3326XZaCcCGGEdGkGbLdnoJhTdMdS1CZb4hiwI";
    const EDDSA_TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLVZWMGFHUXlSS2dxSyIsInR5cCI6ImF0K2p3dCJ9.eyJleHAiOjE3ODAwMDA5MDAsImlhdCI6MTc4MDAwMDAwMCwiaXNzIjoiZWRnZS1hdXRoIiwiYXVkIjoiZWRnZS1hdXRoLWNsaWVudHMiLCJzdWIiOiJ1MSIsInNpZCI6InMxIiwianRpIjoiai1waW5uZWQiLCJyb2xlIjoiYWRtaW4iLCJ1c2VybmFtZSI6ImFsaWNlIn0.ttDv6Afq5Zxsh3OAhTi4cuV_pEQ-vyf-ga4bh6tx_dUG-MPK6KsMPi8YdKUZZ5gYAnpaRlH-8YUPPtK0GMejAQ";

    fn claims() -> ClaimsSet {
        ClaimsSet {
            exp: Some(NOW + 900),
            nbf: None,
            iat: Some(NOW),
            iss: "edge-auth".into(),
            aud: "edge-auth-clients".into(),
            sub: "u1".into(),
            sid: "s1".into(),
            jti: "j-pinned".into(),
            role: "admin".into(),
            username: "alice".into(),
        }
    }

    fn service(signing: SigningKey) -> TokenService {
        TokenService::new("edge-auth".into(), "edge-auth-clients".into(), 900, signing, vec![])
    }

    #[test]
    fn the_pinned_tokens_are_what_this_code_issues_and_they_verify() {
        let hs = service(SigningKey::Hs256(
            HmacKey::new(b"0123456789abcdef0123456789abcdef-test-secret").unwrap(),
        ));
        let ed = service(SigningKey::EdDsa(EdSigningKey::from_private(&[1u8; 32]).unwrap()));
        assert_eq!(block_on(hs.sign(&claims())).unwrap(), HS256_TOKEN);
        assert_eq!(block_on(ed.sign(&claims())).unwrap(), EDDSA_TOKEN);
        assert_eq!(block_on(hs.verify(HS256_TOKEN, NOW)).unwrap().claims.jti, "j-pinned");
        assert_eq!(block_on(ed.verify(EDDSA_TOKEN, NOW)).unwrap().claims.jti, "j-pinned");
    }
}
