//! Shared by the token tests: a service with known keys, and tokens built by hand (header and claims as
//! given, duplicates and all) so each refusal test changes exactly one thing.

use super::*;
use crate::b64::URL_SAFE_NO_PAD as B64URL;
use serde_json::json;
use sha2::Sha256;

pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";
pub const NOW: i64 = 1_780_000_000;

pub fn hs_service(key: HmacKey, previous: Vec<VerifyingKey>) -> TokenService {
    TokenService::new("edge-auth".into(), "edge-auth-clients".into(), 900, SigningKey::Hs256(key), previous)
}

pub fn service() -> TokenService {
    hs_service(HmacKey::new(SECRET).unwrap(), vec![])
}

pub fn kid() -> String {
    HmacKey::new(SECRET).unwrap().kid
}

pub fn ed_service(seed: u8, previous: Vec<VerifyingKey>) -> TokenService {
    let key = EdSigningKey::from_private(&[seed; 32]).unwrap();
    TokenService::new("edge-auth".into(), "edge-auth-clients".into(), 900, SigningKey::EdDsa(key), previous)
}

pub fn subject() -> Subject<'static> {
    Subject {
        user_id: "u1",
        session_id: "s1",
        role: "admin",
        username: "alice",
        number: None,
        amr: &[],
        auth_time: None,
    }
}

/// Builds a token by hand from header and claims JSON, signed with HMAC-SHA256 under `secret`.
pub fn forge(header: serde_json::Value, claims: serde_json::Value, secret: &[u8]) -> String {
    forge_raw(&header.to_string(), &claims.to_string(), secret)
}

/// `forge` from header and claims text as given (not necessarily JSON, duplicates kept).
pub fn forge_raw(header: &str, claims: &str, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", B64URL.encode(header), B64URL.encode(claims));
    format!("{signing_input}.{}", B64URL.encode(mac(secret, &signing_input)))
}

/// HMAC-SHA256 from the `hmac` crate directly, independent of the code under test.
pub fn mac(secret: &[u8], input: &str) -> Vec<u8> {
    use hmac::{Mac, SimpleHmac};
    let mut mac = SimpleHmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The verdict on a hand-built token with `good_header()` and these claims.
pub fn verdict(claims: serde_json::Value, now: i64) -> Result<VerifiedAccess, AuthError> {
    service().verify(&forge(good_header(), claims, SECRET), now)
}

/// The verdict on a hand-built token with this header and `good_claims()`.
pub fn header_verdict(header: serde_json::Value) -> Result<VerifiedAccess, AuthError> {
    service().verify(&forge(header, good_claims(), SECRET), NOW)
}

pub fn good_claims() -> serde_json::Value {
    json!({"iss": "edge-auth", "aud": "edge-auth-clients", "sub": "u1", "sid": "s1", "jti": "j1",
           "role": "user", "username": "alice", "iat": NOW, "exp": NOW + 900})
}

pub fn good_header() -> serde_json::Value {
    json!({"alg": "HS256", "typ": "at+jwt", "kid": kid()})
}

pub fn decode_header(token: &str) -> serde_json::Value {
    serde_json::from_slice(&B64URL.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}
