//! The password-reset email as a signed webhook request. The receiver (your mail service) verifies
//! `X-Edge-Auth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` and rejects
//! stale timestamps, as with Stripe-style webhook signatures.

use hmac::{Mac, SimpleHmac};
use serde::Serialize;
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Edge-Auth-Signature";

/// One reset email to deliver.
#[derive(Clone, Serialize)]
pub struct ResetMail {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub to: String,
    pub username: String,
    /// The single-use link. Secret: never logged outside development.
    pub link: String,
    pub expires_at: String,
}

impl std::fmt::Debug for ResetMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetMail").field("username", &self.username).field("link", &"<redacted>").finish()
    }
}

/// The value of `X-Edge-Auth-Signature` for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = SimpleHmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'k'*32,b'1700000000.{}',hashlib.sha256).hexdigest())"
        let sig = super::signature(&"k".repeat(32), 1_700_000_000, "{}");
        assert_eq!(sig, "t=1700000000,v1=0b3b35525c10b3757ffa78df69037021fc3168d8390a51a4fcb4a8d56a25b557");
    }
}
