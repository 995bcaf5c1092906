//! The JWT Claims Set of an access token [RFC 7519 §4], as `TokenService` writes and reads it.
//!
//! A file of its own, depending on nothing in this crate, because `crates/kdf-bench` compiles this very
//! file (with `crate::jws` and `crate::b64`) to time the Worker's token code in V8 without linking the
//! rest of the core, whose wasm-bindgen imports a plain wasm module cannot satisfy.

use serde::{Deserialize, Deserializer, Serialize};

/// The NumericDates [RFC 7519 §2] a token may carry: years -262143 to +262142, the range of chrono's
/// `DateTime<Utc>`, which parsed them before (and refused anything outside). Kept so that the same
/// tokens verify; values this far out are never issued.
pub const MIN_NUMERIC_DATE: i64 = -8_334_601_228_800;
pub const MAX_NUMERIC_DATE: i64 = 8_210_266_876_799;

/// `AccessClaims` and the time claims, in one flat struct (no `#[serde(flatten)]`, which buffers every
/// member through serde's generic `Content` and costs wasm). Members are written in this order.
/// Unknown members are ignored; a member of this struct that appears twice makes the claims invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsSet {
    /// Expiration time [RFC 7519 §4.1.4]; required on verification.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    /// Not before [RFC 7519 §4.1.5]; never issued, checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    /// Issued at [RFC 7519 §4.1.6]; required on verification.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "numeric_date")]
    pub iat: Option<i64>,
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub jti: String,
    pub role: String,
    pub username: String,
}

/// A NumericDate [RFC 7519 §2]: whole seconds, a fraction dropped (toward zero), within
/// `MIN_NUMERIC_DATE..=MAX_NUMERIC_DATE`. When the member is present it must be such a number:
/// `"nbf": null` is invalid, not absent.
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_i64(NumericDate).map(Some)
}

struct NumericDate;

impl serde::de::Visitor<'_> for NumericDate {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a NumericDate")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        if (MIN_NUMERIC_DATE..=MAX_NUMERIC_DATE).contains(&v) {
            Ok(v)
        } else {
            Err(E::custom("NumericDate out of range"))
        }
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        self.visit_i64(i64::try_from(v).map_err(|_| E::custom("NumericDate out of range"))?)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // `as` truncates toward zero and saturates; the range check then refuses what saturated.
        self.visit_i64(v as i64)
    }
}
