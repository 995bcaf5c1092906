//! Ed25519 keys for EdDSA access tokens [RFC 8032 §5.1; RFC 8037]: reading `JWT_PRIVATE_KEY` and
//! `JWT_PREVIOUS_PUBLIC_KEYS`, and the public JWK of `/.well-known/jwks.json`. Signing and verifying
//! are jwt-compact's (`crate::token`), over the same `ed25519-compact` key types used here.

use crate::b64::URL_SAFE_NO_PAD;
pub use ed25519_compact::{KeyPair, PublicKey};
use ed25519_compact::{SecretKey, Seed};

/// A private key's seed [RFC 8032 §5.1.5].
pub const SEED_LEN: usize = Seed::BYTES;
/// An encoded public key [RFC 8032 §5.1.2].
pub const PUBLIC_LEN: usize = PublicKey::BYTES;

const PRIVATE_KEY_FORMS: &str =
    "an Ed25519 private key is a 32-byte seed, or 64 bytes of seed then public key, base64url-encoded";
pub(crate) const MISMATCH: &str = "the public half of the key does not belong to its seed";
const PUBLIC_KEY_FORM: &str = "an Ed25519 public key must be 32 bytes, base64url-encoded";

/// The key pair of `JWT_PRIVATE_KEY`'s bytes: a 32-byte seed, or the 64-byte seed-then-public-key form
/// of libsodium and Go, whose public half must be the one the seed derives (a mismatched pair would
/// publish a JWK that verifies none of our tokens).
pub fn key_pair(bytes: &[u8]) -> Result<KeyPair, &'static str> {
    let seed: [u8; SEED_LEN] =
        bytes.get(..SEED_LEN).and_then(|s| s.try_into().ok()).ok_or(PRIVATE_KEY_FORMS)?;
    let pair = KeyPair::from_seed(Seed::new(seed));
    match bytes.len() {
        SEED_LEN => Ok(pair),
        n if n == SEED_LEN + PUBLIC_LEN => {
            if bytes[SEED_LEN..] == pair.pk[..] {
                Ok(pair)
            } else {
                Err(MISMATCH)
            }
        }
        _ => Err(PRIVATE_KEY_FORMS),
    }
}

/// A public key from its 32 raw bytes.
pub fn public_key(bytes: &[u8]) -> Result<PublicKey, &'static str> {
    PublicKey::from_slice(bytes).map_err(|_| PUBLIC_KEY_FORM)
}

/// The secret key of a pair, as jwt-compact's `Ed25519` algorithm signs with it.
pub(crate) fn secret_key(pair: &KeyPair) -> &SecretKey {
    &pair.sk
}

/// The public key as a JWK [RFC 8037 §2], with its `kid` and the one algorithm it serves.
pub fn public_jwk(public: &PublicKey, kid: &str) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&public[..]),
        "kid": kid, "alg": crate::token::EDDSA, "use": "sig",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 8032 §7.1, TEST 1: the seed and the public key it derives.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn a_seed_derives_the_rfc_8032_public_key() {
        assert_eq!(key_pair(&hex(SEED)).unwrap().pk.to_vec(), hex(PUBLIC));
    }

    #[test]
    fn the_64_byte_form_is_accepted_only_with_its_own_public_half() {
        let full = [hex(SEED), hex(PUBLIC)].concat();
        assert_eq!(key_pair(&full).unwrap().pk.to_vec(), hex(PUBLIC));
        for i in [32, 40, 63] {
            let mut wrong = full.clone();
            wrong[i] ^= 1;
            assert_eq!(key_pair(&wrong).unwrap_err(), MISMATCH, "byte {i}");
        }
    }

    #[test]
    fn private_keys_of_other_lengths_are_refused() {
        for len in [0, 1, 31, 33, 63, 65, 96] {
            assert_eq!(key_pair(&vec![3; len]).unwrap_err(), PRIVATE_KEY_FORMS, "{len} bytes");
        }
    }

    #[test]
    fn public_keys_must_be_32_bytes() {
        assert!(public_key(&hex(PUBLIC)).is_ok());
        for len in [0, 31, 33, 64] {
            assert_eq!(public_key(&vec![1; len]).unwrap_err(), PUBLIC_KEY_FORM, "{len} bytes");
        }
    }

    #[test]
    fn the_jwk_names_curve_key_and_algorithm() {
        let public = public_key(&hex(PUBLIC)).unwrap();
        let jwk = public_jwk(&public, "ed-test");
        assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("OKP"), Some("Ed25519")));
        assert_eq!((jwk["alg"].as_str(), jwk["use"].as_str()), (Some("EdDSA"), Some("sig")));
        assert_eq!(jwk["kid"], "ed-test");
        assert!(jwk.get("d").is_none(), "never the private part");
    }
}
