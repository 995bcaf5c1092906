//! Compact JWE [RFC 7516 §7.1] with direct encryption (`alg: "dir"`) and AES-256-GCM
//! (`enc: "A256GCM"`) [RFC 7518 §4.5, §5.3]: what the `accounts` profile's clients receive as their
//! encrypted user data. The content key is the configured `USER_DATA_KEY`, so the encrypted-key part
//! is empty; the 96-bit IV is random per message [RFC 7518 §5.3]; the additional authenticated data is
//! the ASCII of the encoded protected header [RFC 7516 §5.1 step 14].

use crate::b64::URL_SAFE_NO_PAD;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};

/// `{"alg":"dir","enc":"A256GCM"}`, base64url.
const PROTECTED: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0";
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Encrypts `plaintext` under `key` with a fresh random IV.
pub fn encrypt(key: &[u8; 32], plaintext: &[u8]) -> String {
    let mut iv = [0u8; IV_LEN];
    crate::random::fill(&mut iv);
    encrypt_with_iv(key, &iv, plaintext)
}

/// Encrypts with the given IV (tests; every real message takes a random one).
pub fn encrypt_with_iv(key: &[u8; 32], iv: &[u8; IV_LEN], plaintext: &[u8]) -> String {
    let cipher = Aes256Gcm::new(key.into());
    // AES-GCM only fails for plaintexts over 64 GiB; ours are a few hundred bytes.
    let sealed = cipher
        .encrypt(Nonce::from_slice(iv), Payload { msg: plaintext, aad: PROTECTED.as_bytes() })
        .unwrap_or_default();
    let (ciphertext, tag) = sealed.split_at(sealed.len().saturating_sub(TAG_LEN));
    format!(
        "{PROTECTED}..{}.{}.{}",
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(ciphertext),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Decrypts a compact JWE of exactly this form; `None` for any other header, a tampered part or the
/// wrong key. (The Worker never decrypts; the tests and the CLI do.)
pub fn decrypt(key: &[u8; 32], jwe: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = jwe.split('.').collect();
    let [protected, "", iv, ciphertext, tag] = parts.as_slice() else { return None };
    if *protected != PROTECTED {
        return None;
    }
    let iv = URL_SAFE_NO_PAD.decode(iv).ok().filter(|iv| iv.len() == IV_LEN)?;
    let mut sealed = URL_SAFE_NO_PAD.decode(ciphertext).ok()?;
    sealed.extend(URL_SAFE_NO_PAD.decode(tag).ok().filter(|t| t.len() == TAG_LEN)?);
    let cipher = Aes256Gcm::new(key.into());
    cipher.decrypt(Nonce::from_slice(&iv), Payload { msg: &sealed, aad: protected.as_bytes() }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn the_protected_header_is_dir_a256gcm() {
        let header = URL_SAFE_NO_PAD.decode(PROTECTED).unwrap();
        assert_eq!(header, br#"{"alg":"dir","enc":"A256GCM"}"#);
    }

    #[test]
    fn known_answer_from_the_aes_gcm_test_vectors() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 13 (AES-256, zero key,
        // zero IV, empty plaintext, no AAD): tag 530f8afbc74536b9a963b4f1c4cb738b. With the JWE's AAD
        // (the protected header) the tag differs, so the check is on the primitive itself.
        let cipher = Aes256Gcm::new(&[0u8; 32].into());
        let tag = cipher.encrypt(Nonce::from_slice(&[0u8; 12]), b"".as_ref()).unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "530f8afbc74536b9a963b4f1c4cb738b");
    }

    #[test]
    fn a_message_round_trips_and_has_five_parts_with_an_empty_key() {
        let jwe = encrypt(&KEY, br#"{"id":1}"#);
        let parts: Vec<&str> = jwe.split('.').collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[1], "", "dir: no encrypted key");
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 12);
        assert_eq!(decrypt(&KEY, &jwe).unwrap(), br#"{"id":1}"#);
        assert_ne!(encrypt(&KEY, b"x"), encrypt(&KEY, b"x"), "a fresh IV each time");
    }

    #[test]
    fn tampering_or_another_key_is_refused() {
        let jwe = encrypt_with_iv(&KEY, &[1; 12], b"secret data");
        assert!(decrypt(&[8; 32], &jwe).is_none());
        let mut parts: Vec<String> = jwe.split('.').map(str::to_string).collect();
        parts[3] = URL_SAFE_NO_PAD.encode(b"forged data");
        assert!(decrypt(&KEY, &parts.join(".")).is_none());
        let other_header = jwe.replacen(PROTECTED, "eyJhbGciOiJub25lIn0", 1);
        assert!(decrypt(&KEY, &other_header).is_none());
    }
}
