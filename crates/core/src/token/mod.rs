//! Access tokens: JWTs (`typ: at+jwt`, RFC 9068) signed with HS256 (default) or EdDSA (Ed25519),
//! issued and verified with jwt-compact (framing, HMAC, Ed25519 through `ed25519-compact`, `exp`/`nbf`).
//! The rules stricter than the crate are ours, on top of its API:
//!
//! - [`header`]: nothing in the header chooses how to verify [RFC 8725 §3.1]: `kid` among configured
//!   keys only, each key bound to one algorithm, `typ` ours, key-source and `crit` members refused;
//! - [`claims`]: `exp`, `nbf`, `iss`, `aud` and `iat`, in that order [RFC 8725 §3.8-3.10];
//! - [`keys`]: the keys and their ids.
//!
//! Tokens longer than [`MAX_TOKEN_LEN`] are refused before any parsing. The order of the checks is part
//! of the contract: a token with a good signature that is past `exp` (plus the leeway) is
//! `TokenExpired` whatever else is wrong with its claims, so the client refreshes; every other failure
//! is `TokenInvalid`. The clock is a parameter, so tests choose the time.

use crate::error::AuthError;
use jwt_compact::alg::{Ed25519, Hs256};
use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken};

mod claims;
mod extra;
mod header;
mod keys;
#[cfg(test)]
mod test_support;

pub use claims::{AccessClaims, MAX_NUMERIC_DATE, MIN_NUMERIC_DATE};
pub use extra::ExtraClaims;
pub use keys::{EdPublicKey, EdSigningKey, HmacKey, SigningKey, VerifyingKey};

/// The `typ` header of access tokens [RFC 9068 §2.1].
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The long form of the same media type, also accepted on verification [RFC 9068 §2.1, RFC 7515 §4.1.9].
const ACCESS_TOKEN_MEDIA_TYPE: &str = "application/at+jwt";
/// JOSE names of the algorithms a key can be bound to [RFC 7518 §3.1; RFC 8037 §3.1] (`none` never).
pub const HS256: &str = "HS256";
pub const EDDSA: &str = "EdDSA";
/// Shortest accepted HMAC secret: 32 random bytes, the output size of SHA-256 [RFC 8725 §3.5;
/// RFC 7518 §3.2].
pub const MIN_SECRET_LEN: usize = 32;
/// Tokens longer than this are refused before any parsing (ours are ~400 bytes), so a client cannot
/// make us decode and parse megabytes.
pub const MAX_TOKEN_LEN: usize = 4096;
/// Clock skew tolerated on `exp`/`nbf`/`iat` [RFC 7519 §4.1.4 "small leeway"].
pub const LEEWAY_SECONDS: i64 = 30;

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
    /// The user's number, for the `id` extra claim.
    pub number: Option<i64>,
    /// How and when the session's login was authenticated [RFC 8176; OpenID Connect Core §2].
    pub amr: &'a [String],
    pub auth_time: Option<i64>,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct IssuedAccess {
    pub token: String,
    pub jti: String,
    pub expires_in: u64,
}

/// Issues and verifies access tokens.
#[derive(Debug, Clone)]
pub struct TokenService {
    issuer: String,
    audience: String,
    ttl_seconds: u64,
    /// Claims some profiles' clients read besides ours (`JWT_EXTRA_CLAIMS`).
    extra_claims: ExtraClaims,
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
        let mut verifying = vec![signing.verifying()];
        verifying.extend(previous);
        TokenService {
            issuer,
            audience,
            ttl_seconds,
            extra_claims: ExtraClaims::default(),
            signing,
            verifying,
        }
    }

    /// Also writes these claims into every token it issues (never read back: verification ignores them).
    pub fn with_extra_claims(mut self, extra_claims: ExtraClaims) -> Self {
        self.extra_claims = extra_claims;
        self
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
        self.signing.algorithm()
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    /// Issues an access token valid from `now` (unix seconds) for the configured lifetime.
    pub fn issue(&self, subject: &Subject<'_>, now: i64) -> Result<IssuedAccess, AuthError> {
        let jti = crate::random::id();
        let custom = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_string(),
            sid: subject.session_id.to_string(),
            jti: jti.clone(),
            role: subject.role.to_string(),
            username: subject.username.to_string(),
            amr: Some(subject.amr.to_vec()).filter(|a| !a.is_empty()),
            auth_time: subject.auth_time,
        };
        let custom = extra::WithExtras { extra: self.extra_claims.values(subject), custom };
        let token = self.sign(&claims::issued(custom, now, self.ttl_seconds))?;
        Ok(IssuedAccess { token, jti, expires_in: self.ttl_seconds })
    }

    /// The compact JWS of `claims` under the signing key, header `{"alg","kid","typ":"at+jwt"}`
    /// [RFC 9068 §2.1] (jwt-compact writes `alg` first, then `kid` and `typ`).
    fn sign(&self, claims: &Claims<impl serde::Serialize>) -> Result<String, AuthError> {
        let header = |kid: &str| Header::empty().with_key_id(kid).with_token_type(ACCESS_TOKEN_TYPE);
        match &self.signing {
            SigningKey::Hs256(k) => Hs256.token(&header(&k.kid), claims, &k.key),
            SigningKey::EdDsa(k) => {
                Ed25519.token(&header(&k.kid), claims, crate::ed25519::secret_key(&k.pair))
            }
        }
        .map_err(|e| AuthError::Internal(format!("signing an access token failed: {e}")))
    }

    /// Verifies an access token at time `now` (unix seconds).
    ///
    /// Every failure is `TokenInvalid` except a good token past its expiry, which is `TokenExpired`.
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedAccess, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenInvalid);
        }
        let untrusted = UntrustedToken::new(token).map_err(|_| AuthError::TokenInvalid)?;
        let key = header::signing_key(token, &untrusted, &self.verifying)?;
        // The validators check the algorithm name, the signature's exact length (32 bytes for HS256
        // [RFC 7518 §3.2], 64 for Ed25519 [RFC 8032 §5.1.6]) and the signature, comparing MACs in
        // constant time; they also parse the claims, which are then judged by `claims::accept`.
        let verified = match key {
            VerifyingKey::Hs256(k) => Hs256.validator::<AccessClaims>(&k.key).validate(&untrusted),
            VerifyingKey::EdDsa(k) => Ed25519.validator::<AccessClaims>(&k.public).validate(&untrusted),
        };
        let (_, claims) = verified.map_err(|_| AuthError::TokenInvalid)?.into_parts();
        claims::accept(claims, &self.issuer, &self.audience, now)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::b64::URL_SAFE_NO_PAD as B64URL;
    use serde_json::json;

    #[test]
    fn an_issued_token_verifies_and_carries_every_claim() {
        let s = service();
        let issued = s.issue(&subject(), NOW).unwrap();
        let v = s.verify(&issued.token, NOW + 1).unwrap();
        assert_eq!(v.claims.sub, "u1");
        assert_eq!(v.claims.sid, "s1");
        assert_eq!(v.claims.role, "admin");
        assert_eq!(v.claims.username, "alice");
        assert_eq!(v.claims.iss, "edge-auth");
        assert_eq!(v.claims.aud, "edge-auth-clients");
        assert_eq!(v.claims.jti, issued.jti);
        assert_eq!(v.issued_at, NOW);
        assert_eq!(v.expires_at, NOW + 900);
        assert_eq!(issued.expires_in, 900);
    }

    #[test]
    fn every_token_gets_its_own_id() {
        let s = service();
        let (a, b) = (s.issue(&subject(), NOW).unwrap(), s.issue(&subject(), NOW).unwrap());
        assert_ne!(a.jti, b.jti);
        assert_ne!(a.token, b.token);
    }

    #[test]
    fn the_header_names_type_algorithm_and_key() {
        let issued = service().issue(&subject(), NOW).unwrap();
        let header = decode_header(&issued.token);
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], kid());
    }

    #[test]
    fn a_hand_built_token_with_good_fields_verifies() {
        // Guards the forging helper used by the refusal tests: they fail for the reason they name.
        let t = forge(good_header(), good_claims(), SECRET);
        assert!(service().verify(&t, NOW).is_ok());
    }

    #[test]
    fn an_expired_token_is_token_expired_after_the_leeway() {
        let s = service();
        let t = s.issue(&subject(), NOW).unwrap().token;
        assert!(s.verify(&t, NOW + 900 + LEEWAY_SECONDS).is_ok());
        assert_eq!(s.verify(&t, NOW + 900 + LEEWAY_SECONDS + 1), Err(AuthError::TokenExpired));
    }

    #[test]
    fn a_token_from_the_future_is_refused() {
        let s = service();
        let t = s.issue(&subject(), NOW + 3600).unwrap().token;
        assert_eq!(s.verify(&t, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let t = forge(good_header(), good_claims(), b"another-secret-another-secret-another!!");
        assert_eq!(service().verify(&t, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let s = service();
        let t = s.issue(&subject(), NOW).unwrap().token;
        let parts: Vec<&str> = t.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(parts[1]).unwrap()).unwrap();
        claims["role"] = json!("admin-but-more");
        let tampered = format!("{}.{}.{}", parts[0], B64URL.encode(claims.to_string()), parts[2]);
        assert_eq!(s.verify(&tampered, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn a_changed_bit_anywhere_in_the_signature_fails() {
        let s = service();
        let t = s.issue(&subject(), NOW).unwrap().token;
        let (input, sig) = t.rsplit_once('.').unwrap();
        let right = B64URL.decode(sig).unwrap();
        for i in 0..right.len() {
            let mut bad = right.clone();
            bad[i] ^= 1;
            let forged = format!("{input}.{}", B64URL.encode(&bad));
            assert_eq!(s.verify(&forged, NOW), Err(AuthError::TokenInvalid), "byte {i}");
        }
    }

    #[test]
    fn garbage_and_oversized_tokens_are_refused() {
        let s = service();
        for t in ["", "abc", "a.b.c", "....", &"a".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(s.verify(t, NOW), Err(AuthError::TokenInvalid));
        }
    }

    #[test]
    fn the_size_cap_comes_before_parsing() {
        // A genuine token padded past the cap with an ignored header member: good signature, refused
        // for its length alone.
        let mut h = good_header();
        let filler = MAX_TOKEN_LEN;
        h["x-pad"] = json!("p".repeat(filler));
        let long = forge(h, good_claims(), SECRET);
        assert!(long.len() > MAX_TOKEN_LEN);
        assert_eq!(service().verify(&long, NOW), Err(AuthError::TokenInvalid));
        let mut h = good_header();
        h["x-pad"] = json!("p".repeat(1000));
        let short = forge(h, good_claims(), SECRET);
        assert!(short.len() <= MAX_TOKEN_LEN);
        assert!(service().verify(&short, NOW).is_ok(), "the same shape under the cap verifies");
    }

    #[test]
    fn only_exactly_three_non_empty_segments_are_a_token() {
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
            format!(".{claims}.{sig}"),
            format!("{header}..{sig}"),
            format!("{input}."),
            "..".to_string(),
        ] {
            assert_eq!(service().verify(&t, NOW), Err(AuthError::TokenInvalid), "{t}");
        }
        assert!(service().verify(&good, NOW).is_ok());
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
            assert_eq!(service().verify(&t, NOW), Err(AuthError::TokenInvalid), "segment {i}: {t}");
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
        assert_eq!(service().verify(&t, NOW), Err(AuthError::TokenInvalid), "{t}");
        // The standard alphabet instead of the URL-safe one.
        let std_alphabet = good.replace('-', "+").replace('_', "/");
        if std_alphabet != good {
            assert_eq!(service().verify(&std_alphabet, NOW), Err(AuthError::TokenInvalid));
        }
    }

    #[test]
    fn an_hs256_signature_must_be_exactly_32_bytes() {
        let good = forge(good_header(), good_claims(), SECRET);
        let (input, _) = good.rsplit_once('.').unwrap();
        let right = mac(SECRET, input);
        let longer: Vec<u8> = right.iter().chain(right.iter()).copied().collect();
        for sig in [&right[..31], &right[..16], &longer[..33], &longer[..], &[][..]] {
            let t = format!("{input}.{}", B64URL.encode(sig));
            assert_eq!(service().verify(&t, NOW), Err(AuthError::TokenInvalid), "{} bytes", sig.len());
        }
    }

    #[test]
    fn a_previous_key_still_verifies_but_does_not_sign() {
        let old = HmacKey::new(b"old-secret-old-secret-old-secret-old!").unwrap();
        let before = hs_service(old.clone(), vec![]);
        let t = before.issue(&subject(), NOW).unwrap().token;
        let after = hs_service(HmacKey::new(SECRET).unwrap(), vec![VerifyingKey::Hs256(old)]);
        assert!(after.verify(&t, NOW).is_ok());
        let fresh = after.issue(&subject(), NOW).unwrap().token;
        assert_eq!(decode_header(&fresh)["kid"], kid(), "new tokens use the current key");
        assert!(service().verify(&t, NOW).is_err());
    }

    #[test]
    fn eddsa_tokens_verify_and_name_their_algorithm_and_key() {
        let s = ed_service(1, vec![]);
        assert_eq!(s.algorithm(), EDDSA);
        let t = s.issue(&subject(), NOW).unwrap().token;
        let h = decode_header(&t);
        assert_eq!((h["alg"].as_str(), h["typ"].as_str()), (Some("EdDSA"), Some("at+jwt")));
        assert!(h["kid"].as_str().unwrap().starts_with("ed-"));
        assert_eq!(s.verify(&t, NOW).unwrap().claims.sub, "u1");
        assert!(ed_service(2, vec![]).verify(&t, NOW).is_err(), "another key pair");
    }

    #[test]
    fn a_previous_public_key_verifies_eddsa_tokens_after_a_rotation() {
        let old = ed_service(3, vec![]);
        let t = old.issue(&subject(), NOW).unwrap().token;
        let previous = EdSigningKey::from_private(&[3; 32]).unwrap().public();
        let rotated = ed_service(4, vec![VerifyingKey::EdDsa(previous)]);
        assert!(rotated.verify(&t, NOW).is_ok());
        assert!(ed_service(4, vec![]).verify(&t, NOW).is_err(), "once dropped, no longer");
        // From HS256 to EdDSA: the HMAC secret kept as a previous key.
        let hs = service().issue(&subject(), NOW).unwrap().token;
        let moved = ed_service(4, vec![VerifyingKey::Hs256(HmacKey::new(SECRET).unwrap())]);
        assert!(moved.verify(&hs, NOW).is_ok());
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
        assert_eq!(keys[1]["kid"], old.kid());
        assert!(!jwks.to_string().contains("0123456789abcdef"));
        assert_eq!(service().jwks(), json!({"keys": []}));
    }

    #[test]
    fn eddsa_tokens_with_a_bad_signature_are_refused() {
        let s = ed_service(1, vec![]);
        let t = s.issue(&subject(), NOW).unwrap().token;
        let (input, sig) = t.rsplit_once('.').unwrap();
        let mut bytes = B64URL.decode(sig).unwrap();
        bytes[10] ^= 0x40;
        assert_eq!(
            s.verify(&format!("{input}.{}", B64URL.encode(&bytes)), NOW),
            Err(AuthError::TokenInvalid)
        );
        assert_eq!(
            s.verify(&format!("{input}.{}", B64URL.encode(&bytes[..63])), NOW),
            Err(AuthError::TokenInvalid)
        );
        assert_eq!(s.verify(&format!("{input}."), NOW), Err(AuthError::TokenInvalid));
        // The signature of one token on the claims of another.
        let other = s.issue(&Subject { user_id: "u2", ..subject() }, NOW).unwrap().token;
        let other_input = other.rsplit_once('.').unwrap().0;
        assert_eq!(s.verify(&format!("{other_input}.{sig}"), NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn issued_tokens_are_byte_for_byte_the_documented_jws() {
        // Header and claims in this member order, compact JSON, HMAC-SHA256 over the first two segments
        // [RFC 7515 §3.1, §5.1]; pinned so that any change of the wire format is deliberate.
        let issued = service().issue(&subject(), NOW).unwrap();
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
        let issued = s.issue(&subject(), NOW).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64URL.decode(issued.token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["exp"].as_i64().unwrap(), MAX_NUMERIC_DATE, "{claims}");
        assert!(s.verify(&issued.token, NOW).is_ok());
    }
}

/// Tokens issued before the move back to jwt-compact, by the hand-framed JWS code (Ed25519 as RFC 8032
/// deterministic signatures, which is what Web Crypto produced in the Worker), from these fixed keys,
/// claims and time. Such tokens are outstanding when the change deploys: they must keep verifying.
#[cfg(test)]
mod compatibility {
    use super::test_support::hs_service;
    use super::*;
    use crate::b64::URL_SAFE_NO_PAD as B64URL;

    const NOW: i64 = 1_780_000_000;
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";
    const HS256_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImhzLWcyNU00N2h6Wl94RSIsInR5cCI6ImF0K2p3dCJ9.eyJleHAiOjE3ODAwMDA5MDAsImlhdCI6MTc4MDAwMDAwMCwiaXNzIjoiZWRnZS1hdXRoIiwiYXVkIjoiZWRnZS1hdXRoLWNsaWVudHMiLCJzdWIiOiJ1MSIsInNpZCI6InMxIiwianRpIjoiai1waW5uZWQiLCJyb2xlIjoiYWRtaW4iLCJ1c2VybmFtZSI6ImFsaWNlIn0.ILh2r3326XZaCcCGGEdGkGbLdnoJhTdMdS1CZb4hiwI";
    const EDDSA_TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLVZWMGFHUXlSS2dxSyIsInR5cCI6ImF0K2p3dCJ9.eyJleHAiOjE3ODAwMDA5MDAsImlhdCI6MTc4MDAwMDAwMCwiaXNzIjoiZWRnZS1hdXRoIiwiYXVkIjoiZWRnZS1hdXRoLWNsaWVudHMiLCJzdWIiOiJ1MSIsInNpZCI6InMxIiwianRpIjoiai1waW5uZWQiLCJyb2xlIjoiYWRtaW4iLCJ1c2VybmFtZSI6ImFsaWNlIn0.ttDv6Afq5Zxsh3OAhTi4cuV_pEQ-vyf-ga4bh6tx_dUG-MPK6KsMPi8YdKUZZ5gYAnpaRlH-8YUPPtK0GMejAQ";

    fn hs() -> TokenService {
        hs_service(HmacKey::new(SECRET).unwrap(), vec![])
    }

    fn ed() -> TokenService {
        let key = EdSigningKey::from_private(&[1u8; 32]).unwrap();
        TokenService::new("edge-auth".into(), "edge-auth-clients".into(), 900, SigningKey::EdDsa(key), vec![])
    }

    fn claims() -> Claims<AccessClaims> {
        let custom = AccessClaims {
            iss: "edge-auth".into(),
            aud: "edge-auth-clients".into(),
            sub: "u1".into(),
            sid: "s1".into(),
            jti: "j-pinned".into(),
            role: "admin".into(),
            username: "alice".into(),
            amr: None,
            auth_time: None,
        };
        claims::issued(custom, NOW, 900)
    }

    fn expected() -> VerifiedAccess {
        VerifiedAccess { claims: claims().custom, issued_at: NOW, expires_at: NOW + 900 }
    }

    #[test]
    fn tokens_issued_before_the_change_still_verify() {
        assert_eq!(hs().verify(HS256_TOKEN, NOW + 60), Ok(expected()));
        assert_eq!(ed().verify(EDDSA_TOKEN, NOW + 60), Ok(expected()));
        assert_eq!(hs().verify(HS256_TOKEN, NOW + 931), Err(AuthError::TokenExpired));
        assert_eq!(ed().verify(EDDSA_TOKEN, NOW + 931), Err(AuthError::TokenExpired));
        // Each only under its own key.
        assert_eq!(ed().verify(HS256_TOKEN, NOW), Err(AuthError::TokenInvalid));
        assert_eq!(hs().verify(EDDSA_TOKEN, NOW), Err(AuthError::TokenInvalid));
    }

    #[test]
    fn hs256_tokens_are_issued_byte_for_byte_as_before() {
        assert_eq!(hs().sign(&claims()).unwrap(), HS256_TOKEN);
    }

    #[test]
    fn eddsa_tokens_keep_their_header_and_claims_bytes() {
        // jwt-compact's ed25519-compact backend signs with random noise (hedged signatures): the
        // signature differs on every issue, stays a valid RFC 8032 signature of the same bytes, and
        // verifies wherever the deterministic ones did (Ed25519 verification does not see the noise).
        let fresh = ed().sign(&claims()).unwrap();
        let (input, signature) = fresh.rsplit_once('.').unwrap();
        assert_eq!(input, EDDSA_TOKEN.rsplit_once('.').unwrap().0);
        assert_eq!(B64URL.decode(signature).unwrap().len(), 64);
        assert_ne!(fresh, ed().sign(&claims()).unwrap(), "hedged: no two signatures alike");
        assert!(ed().verify(&fresh, NOW).is_ok());
        let public = EdSigningKey::from_private(&[1u8; 32]).unwrap().public().public;
        let sig = ed25519_compact::Signature::from_slice(&B64URL.decode(signature).unwrap()).unwrap();
        assert!(public.verify(input, &sig).is_ok(), "a plain RFC 8032 verifier accepts it");
    }
}
