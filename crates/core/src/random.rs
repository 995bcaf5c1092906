//! Randomness from the platform CSPRNG (`getrandom`: the OS on the host, `crypto.getRandomValues` in a
//! Worker). Opaque ids and secrets come only from here [ASVS 7.2.3].

use crate::b64::URL_SAFE_NO_PAD;

/// Fills `buf` with cryptographically secure random bytes.
///
/// A CSPRNG failure is unrecoverable for an auth service (no safe fallback exists), so it panics; the
/// Worker turns a panic into a logged 500.
pub fn fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the platform CSPRNG failed");
}

/// A random opaque id: 128 bits, base64url without padding (22 characters).
pub fn id() -> String {
    token(16)
}

/// How a single-use secret made here (reset and verification tokens, `mfa_token`s, recovery codes) is
/// stored and looked up: only its SHA-256, hex [ASVS 7.2.3]. The tokens carry 256 random bits, which no
/// salt or slow hash would protect further; recovery codes carry 50 (docs/security.md, "Second factor",
/// says what that leaves).
pub fn hash_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` random bytes, base64url without padding.
pub fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_22_url_safe_characters_and_distinct() {
        let a = super::id();
        let b = super::id();
        assert_eq!(a.len(), 22);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
    }
}
