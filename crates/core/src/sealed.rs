//! Secrets sealed at rest with AES-256-GCM [NIST SP 800-38D] under a key that is not stored beside
//! them, bound to their owner by the additional authenticated data (a sealed secret copied to another
//! user's row does not open). Format: `v1.<96-bit IV>.<ciphertext + 128-bit tag>`, base64url.

use crate::b64::URL_SAFE_NO_PAD;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};

pub fn seal(key: &[u8; 32], owner: &str, secret: &[u8]) -> String {
    let mut iv = [0u8; 12];
    crate::random::fill(&mut iv);
    let cipher = Aes256Gcm::new(key.into());
    // Fails only for plaintexts over 64 GiB.
    let sealed = cipher
        .encrypt(Nonce::from_slice(&iv), Payload { msg: secret, aad: owner.as_bytes() })
        .unwrap_or_default();
    format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(iv), URL_SAFE_NO_PAD.encode(sealed))
}

/// `None` for another key, another owner, or anything tampered with.
pub fn open(key: &[u8; 32], owner: &str, sealed: &str) -> Option<Vec<u8>> {
    let mut parts = sealed.split('.');
    let (Some("v1"), Some(iv), Some(body), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let iv = URL_SAFE_NO_PAD.decode(iv).ok().filter(|iv| iv.len() == 12)?;
    let body = URL_SAFE_NO_PAD.decode(body).ok()?;
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(&iv), Payload { msg: &body, aad: owner.as_bytes() })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_owner() {
        let key = [9u8; 32];
        let sealed = seal(&key, "u1", b"totp secret");
        assert_eq!(open(&key, "u1", &sealed).unwrap(), b"totp secret");
        assert!(open(&[8u8; 32], "u1", &sealed).is_none(), "another key");
        assert!(open(&key, "u2", &sealed).is_none(), "another owner");
        assert!(!sealed.contains("totp"), "not in clear");
        let tampered = sealed.replacen("v1.", "v1.A", 1);
        assert!(open(&key, "u1", &tampered).is_none());
        assert_ne!(seal(&key, "u1", b"x"), seal(&key, "u1", b"x"), "a fresh IV each time");
    }
}
