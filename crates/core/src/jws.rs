//! JWS Compact Serialization [RFC 7515 §7.1] by hand: the framing of our access tokens, and their HS256
//! signature [RFC 7518 §3.2]. The rules about what a token must say live in `crate::token`; this
//! module only takes tokens apart and puts them together, the same way for every algorithm.
//!
//! Written here rather than taken from a JWT crate because we need one header shape, one claims shape
//! and two algorithms, and the general crates cost the Worker's wasm a date library, `#[serde(flatten)]`
//! buffering and generic header types. Synchronous: EdDSA, asynchronous in the Worker (Web Crypto),
//! signs and verifies outside this module, around `signing_input` and `compact`.
//!
//! `crates/kdf-bench` compiles this very file to time it in V8, so it uses nothing from this crate but
//! `crate::b64`.
//!
//! Nothing here puts token bytes, keys or secrets into an error: `Malformed` carries no detail at all.

use crate::b64::URL_SAFE_NO_PAD;
use hmac::{Mac, SimpleHmac};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::Sha256;

/// HMAC-SHA256. `SimpleHmac`, as in `crate::mail`, so the wasm links one HMAC instantiation.
type HmacSha256 = SimpleHmac<Sha256>;

/// JOSE name of HMAC-SHA256 [RFC 7518 §3.1].
pub const HS256: &str = "HS256";
/// Bytes of an HS256 signature: the full SHA-256 output, never truncated [RFC 7518 §3.2].
pub const HS256_LEN: usize = 32;

/// Not a compact JWS we can read. Deliberately without detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// The protected header we write [RFC 7515 §4.1], members in this order.
#[derive(Debug, Serialize)]
pub struct Protected<'a> {
    pub alg: &'a str,
    pub kid: &'a str,
    pub typ: &'a str,
}

/// The header members we read [RFC 7515 §4.1]. Others are ignored, as RFC 7515 §4 asks of members
/// that are not understood. A member we read that appears twice makes the header invalid (serde's
/// "duplicate field"), one of the two choices RFC 7515 §5.2 step 4 allows.
#[derive(Debug, Deserialize)]
pub struct Header {
    pub alg: String,
    pub typ: Option<String>,
    pub kid: Option<String>,
    /// Content type [RFC 7515 §4.1.10]: absent for a JWT, or "JWT" for a nested one, which we refuse.
    pub cty: Option<String>,
    /// Members that name a key or certificate from somewhere other than our configuration
    /// [RFC 7515 §4.1.2-4.1.8], or extensions the recipient must understand [RFC 7515 §4.1.11].
    /// Only their presence is recorded, whatever the value (`null` included): see `present`.
    #[serde(default, deserialize_with = "present")]
    jku: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    jwk: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    x5u: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    x5c: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    x5t: Option<IgnoredAny>,
    #[serde(rename = "x5t#S256", default, deserialize_with = "present")]
    x5t_s256: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    crit: Option<IgnoredAny>,
}

impl Header {
    /// Whether the header points at keys or certificates of its own, or makes extensions critical.
    /// Verification never follows such pointers [RFC 8725 §3.10], so a token carrying one is refused
    /// rather than half-understood.
    pub fn names_foreign_keys_or_extensions(&self) -> bool {
        [&self.jku, &self.jwk, &self.x5u, &self.x5c, &self.x5t, &self.x5t_s256, &self.crit]
            .iter()
            .any(|member| member.is_some())
    }
}

/// `Some` for a member that is there, whatever its value. (A plain `Option` would read `null` as
/// absent: `"crit": null` must not pass for a header without `crit`.)
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IgnoredAny>, D::Error> {
    IgnoredAny::deserialize(deserializer).map(Some)
}

/// A compact JWS taken apart and decoded, its signature not yet checked.
pub struct Jws<'a> {
    pub header: Header,
    /// `BASE64URL(header) "." BASE64URL(payload)`, exactly as received: what the signature covers
    /// [RFC 7515 §5.2 step 8].
    pub signing_input: &'a str,
    payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Splits `token` into its three segments [RFC 7515 §7.1] and decodes them: unpadded base64url, with
/// padding, other alphabets and non-canonical trailing bits refused (`crate::b64`), and the header a
/// JSON object of the shape of `Header`.
///
/// No segment may be empty: a JWT's header and claims are JSON objects, and an empty signature makes an
/// Unsecured JWT [RFC 7519 §6], which we never accept. The payload is decoded but not parsed: that
/// waits until its signature is known to be good (`Jws::claims`).
pub fn decode(token: &str) -> Result<Jws<'_>, Malformed> {
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(Malformed);
    }
    let base64url = |segment: &str| URL_SAFE_NO_PAD.decode(segment).map_err(|_| Malformed);
    let header_json = base64url(header)?;
    Ok(Jws {
        header: serde_json::from_slice(&header_json).map_err(|_| Malformed)?,
        signing_input: &token[..header.len() + 1 + payload.len()],
        payload: base64url(payload)?,
        signature: base64url(signature)?,
    })
}

/// Shows the header only: the rest is a bearer credential, which must not reach a log line.
impl std::fmt::Debug for Jws<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jws").field("header", &self.header).finish_non_exhaustive()
    }
}

impl Jws<'_> {
    /// Whether the signature is the HS256 MAC of the signing input under `key`, compared in constant
    /// time as RFC 7518 §3.2 requires (`verify_slice`); a signature of any length but 32 bytes fails.
    pub fn verify_hs256(&self, key: &[u8]) -> bool {
        self.signature.len() == HS256_LEN
            && mac(key, self.signing_input).verify_slice(&self.signature).is_ok()
    }

    /// The payload as JSON of type `T`. Call it only after the signature has been verified.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, Malformed> {
        serde_json::from_slice(&self.payload).map_err(|_| Malformed)
    }
}

/// `BASE64URL(UTF8(JSON(header))) "." BASE64URL(JSON(claims))`, the JWS Signing Input
/// [RFC 7515 §5.1 steps 1-5]. Serialising our own structs of strings and integers cannot fail in
/// practice; the error is passed on rather than unwrapped.
pub fn signing_input(header: &Protected<'_>, claims: &impl Serialize) -> Result<String, serde_json::Error> {
    let header = serde_json::to_vec(header)?;
    let claims = serde_json::to_vec(claims)?;
    Ok(format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims)))
}

/// The compact serialization: signing input, ".", BASE64URL(signature) [RFC 7515 §5.1 steps 6-8, §7.1].
pub fn compact(mut signing_input: String, signature: &[u8]) -> String {
    signing_input.push('.');
    signing_input.push_str(&URL_SAFE_NO_PAD.encode(signature));
    signing_input
}

/// The HS256 MAC of `signing_input` under `key` [RFC 7518 §3.2].
pub fn sign_hs256(key: &[u8], signing_input: &str) -> [u8; HS256_LEN] {
    mac(key, signing_input).finalize().into_bytes().into()
}

/// A whole HS256 token: `signing_input`, `sign_hs256`, `compact`.
pub fn encode_hs256(
    key: &[u8],
    header: &Protected<'_>,
    claims: &impl Serialize,
) -> Result<String, serde_json::Error> {
    let input = signing_input(header, claims)?;
    let signature = sign_hs256(key, &input);
    Ok(compact(input, &signature))
}

fn mac(key: &[u8], message: &str) -> HmacSha256 {
    // HMAC takes keys of any length [RFC 2104 §3]; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Claims {
        sub: String,
    }

    fn header() -> Protected<'static> {
        Protected { alg: HS256, kid: "k1", typ: "at+jwt" }
    }

    fn token() -> String {
        encode_hs256(KEY, &header(), &Claims { sub: "u1".into() }).unwrap()
    }

    #[test]
    fn rfc_7515_appendix_a1_verifies() {
        // The HS256 example of RFC 7515 §A.1: its header is not ours (no `kid`), but framing, MAC and
        // verification are the standard's.
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
            .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
            .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let key = URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let jws = decode(token).unwrap();
        assert_eq!((jws.header.alg.as_str(), jws.header.typ.as_deref()), (HS256, Some("JWT")));
        assert!(jws.verify_hs256(&key));
        assert!(!jws.verify_hs256(KEY));
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(sign_hs256(&key, input)), signature);
    }

    #[test]
    fn debug_output_shows_the_header_and_nothing_of_the_rest() {
        let t = token();
        let shown = format!("{:?}", decode(&t).unwrap());
        assert!(shown.contains("k1"), "{shown}");
        for segment in t.split('.').skip(1) {
            assert!(!shown.contains(segment), "{shown}");
        }
        assert!(!shown.contains("u1"), "{shown}");
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let t = token();
        let jws = decode(&t).unwrap();
        assert_eq!(jws.header.kid.as_deref(), Some("k1"));
        assert_eq!(jws.signing_input, t.rsplit_once('.').unwrap().0);
        assert!(jws.verify_hs256(KEY));
        assert_eq!(jws.claims::<Claims>().unwrap(), Claims { sub: "u1".into() });
        assert!(!jws.header.names_foreign_keys_or_extensions());
    }

    #[test]
    fn the_header_is_written_in_a_fixed_member_order() {
        let t = token();
        let header = URL_SAFE_NO_PAD.decode(t.split('.').next().unwrap()).unwrap();
        assert_eq!(header, br#"{"alg":"HS256","kid":"k1","typ":"at+jwt"}"#);
    }

    #[test]
    fn empty_segments_are_malformed() {
        let t = token();
        let [h, p, s]: [&str; 3] = t.split('.').collect::<Vec<_>>().try_into().unwrap();
        for bad in [format!(".{p}.{s}"), format!("{h}..{s}"), format!("{h}.{p}."), "..".into()] {
            assert_eq!(decode(&bad).unwrap_err(), Malformed, "{bad}");
        }
        assert!(decode(&format!("{h}.{p}.{s}")).is_ok());
    }

    #[test]
    fn a_mac_of_another_length_never_verifies() {
        let t = token();
        let mut jws = decode(&t).unwrap();
        let right = jws.signature.clone();
        for len in [0, 16, 31, 33, 64] {
            jws.signature = right.iter().cycle().take(len).copied().collect();
            assert!(!jws.verify_hs256(KEY), "{len} bytes");
        }
        jws.signature = right;
        assert!(jws.verify_hs256(KEY));
    }

    #[test]
    fn a_changed_bit_anywhere_in_the_signed_bytes_fails() {
        let t = token();
        let jws = decode(&t).unwrap();
        for i in 0..jws.signature.len() {
            let mut bad = decode(&t).unwrap();
            bad.signature[i] ^= 1;
            assert!(!bad.verify_hs256(KEY), "signature byte {i}");
        }
        let other = encode_hs256(KEY, &header(), &Claims { sub: "u2".into() }).unwrap();
        let spliced = format!("{}.{}", other.rsplit_once('.').unwrap().0, t.rsplit_once('.').unwrap().1);
        assert!(!decode(&spliced).unwrap().verify_hs256(KEY));
    }

    #[test]
    fn key_pointing_members_are_recorded_by_presence() {
        for name in ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"] {
            for value in ["null", "1", r#""x""#, "[]", "{}"] {
                let json = format!(r#"{{"alg":"HS256","{name}":{value}}}"#);
                let header: Header = serde_json::from_str(&json).unwrap();
                assert!(header.names_foreign_keys_or_extensions(), "{json}");
            }
        }
        let header: Header = serde_json::from_str(r#"{"alg":"HS256","x5t#S257":1,"zip":"DEF"}"#).unwrap();
        assert!(!header.names_foreign_keys_or_extensions());
    }
}
