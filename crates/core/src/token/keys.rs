//! The keys of access tokens, each bound to exactly one algorithm [RFC 8725 §3.1, §3.2], with a `kid`
//! derived from the key itself so it is stable across deployments and reveals nothing.

use super::{EDDSA, HS256, MIN_SECRET_LEN};
use crate::b64::URL_SAFE_NO_PAD;
use crate::ed25519::{self, KeyPair, PublicKey};
use jwt_compact::alg::Hs256Key;
use sha2::{Digest, Sha256};

/// An HMAC-SHA256 key with its stable id.
#[derive(Clone)]
pub struct HmacKey {
    pub(super) kid: String,
    pub(super) key: Hs256Key,
}

/// An Ed25519 key pair (signing) with its stable id.
#[derive(Clone)]
pub struct EdSigningKey {
    pub(super) kid: String,
    pub(super) pair: KeyPair,
}

/// An Ed25519 public key (verification only) with its stable id.
#[derive(Clone, Debug)]
pub struct EdPublicKey {
    pub(super) kid: String,
    pub(super) public: PublicKey,
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

impl SigningKey {
    pub(super) fn verifying(&self) -> VerifyingKey {
        match self {
            SigningKey::Hs256(k) => VerifyingKey::Hs256(k.clone()),
            SigningKey::EdDsa(k) => VerifyingKey::EdDsa(k.public()),
        }
    }

    pub(super) fn algorithm(&self) -> &'static str {
        self.verifying().algorithm()
    }
}

impl VerifyingKey {
    pub fn kid(&self) -> &str {
        match self {
            VerifyingKey::Hs256(k) => &k.kid,
            VerifyingKey::EdDsa(k) => &k.kid,
        }
    }

    /// The JOSE name of the one algorithm this key verifies.
    pub fn algorithm(&self) -> &'static str {
        match self {
            VerifyingKey::Hs256(_) => HS256,
            VerifyingKey::EdDsa(_) => EDDSA,
        }
    }
}

/// A key id: `prefix-` and 72 bits of SHA-256 over a label and the key, base64url. 72 bits keep ids of
/// the few keys a deployment has apart without making the header long; the label keeps the digest
/// from being any other use's digest of the same bytes.
fn derive_kid(prefix: &str, key: &[u8]) -> String {
    let digest = Sha256::new().chain_update(b"edge-auth kid v1\0").chain_update(key).finalize();
    format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(&digest[..9]))
}

impl std::fmt::Debug for HmacKey {
    // The secret must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacKey").field("kid", &self.kid).field("key", &"<redacted>").finish()
    }
}

impl HmacKey {
    /// Builds a key from a secret of at least `MIN_SECRET_LEN` bytes.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "a JWT secret must be at least {MIN_SECRET_LEN} bytes (random, e.g. `openssl rand -base64 48`), got {}",
                secret.len()
            ));
        }
        Ok(HmacKey { kid: derive_kid("hs", secret), key: Hs256Key::new(secret) })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
}

impl std::fmt::Debug for EdSigningKey {
    // The seed must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdSigningKey").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

impl EdSigningKey {
    /// From `JWT_PRIVATE_KEY`'s bytes: a 32-byte seed [RFC 8032 §5.1.5], or the 64-byte
    /// seed-then-public-key form of libsodium and Go (its public half checked against the seed).
    pub fn from_private(bytes: &[u8]) -> Result<Self, String> {
        let pair = ed25519::key_pair(bytes)?;
        Ok(EdSigningKey { kid: derive_kid("ed", &pair.pk[..]), pair })
    }

    /// A fresh random key pair; returns it with its seed (for `edge-auth-cli gen-ed25519-key`).
    pub fn generate() -> (Self, [u8; ed25519::SEED_LEN]) {
        let mut seed = [0u8; ed25519::SEED_LEN];
        crate::random::fill(&mut seed);
        (Self::from_private(&seed).expect("32 bytes are a seed"), seed)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public(&self) -> EdPublicKey {
        EdPublicKey { kid: self.kid.clone(), public: self.pair.pk }
    }
}

impl EdPublicKey {
    /// From 32 raw bytes (`JWT_PREVIOUS_PUBLIC_KEYS` entries, base64url).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let public = ed25519::public_key(bytes)?;
        Ok(EdPublicKey { kid: derive_kid("ed", &public[..]), public })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a JWK [RFC 8037 §2] for `/.well-known/jwks.json`.
    pub fn jwk(&self) -> serde_json::Value {
        ed25519::public_jwk(&self.public, &self.kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::test_support::SECRET;

    #[test]
    fn eddsa_private_keys_come_as_a_seed_or_as_seed_and_matching_public_key() {
        let from_seed = EdSigningKey::from_private(&[5; 32]).unwrap();
        let long: Vec<u8> = [5u8; 32].iter().chain(from_seed.pair.pk.iter()).copied().collect();
        let from_long = EdSigningKey::from_private(&long).unwrap();
        assert_eq!((from_long.kid(), from_long.pair.pk), (from_seed.kid(), from_seed.pair.pk));
        let mut wrong = long.clone();
        wrong[40] ^= 1;
        assert_eq!(EdSigningKey::from_private(&wrong).unwrap_err(), ed25519::MISMATCH);
        for len in [0, 31, 33, 63, 65] {
            assert!(EdSigningKey::from_private(&vec![5; len]).is_err(), "{len} bytes");
        }
    }

    #[test]
    fn eddsa_keys_must_be_32_bytes() {
        assert!(EdSigningKey::from_private(&[0; 31]).is_err());
        assert!(EdPublicKey::from_bytes(&[0; 33]).is_err());
        assert!(EdPublicKey::from_bytes(&[0; 31]).is_err());
        let (k, seed) = EdSigningKey::generate();
        assert_eq!(EdSigningKey::from_private(&seed).unwrap().kid, k.kid);
        assert_eq!(EdPublicKey::from_bytes(&k.pair.pk[..]).unwrap().kid, k.kid, "same key, same kid");
    }

    #[test]
    fn short_secrets_are_refused_and_debug_output_hides_the_key() {
        assert!(HmacKey::new(b"short").is_err());
        assert!(HmacKey::new(&[7; MIN_SECRET_LEN - 1]).is_err());
        assert!(HmacKey::new(&[7; MIN_SECRET_LEN]).is_ok());
        let k = HmacKey::new(SECRET).unwrap();
        let dbg = format!("{k:?} {:?}", VerifyingKey::Hs256(k.clone()));
        assert!(!dbg.contains("0123456789abcdef"), "{dbg}");
        let (ed, seed) = EdSigningKey::generate();
        let dbg = format!("{ed:?} {:?}", SigningKey::EdDsa(ed.clone()));
        assert!(!dbg.contains(&format!("{:?}", &seed[..4])) && dbg.contains("<redacted>"), "{dbg}");
    }

    #[test]
    fn key_ids_are_the_deployed_ones() {
        // Pinned: outstanding tokens name their key by these ids, so the derivation must never change.
        assert_eq!(HmacKey::new(SECRET).unwrap().kid(), "hs-g25M47hzZ_xE");
        assert_eq!(EdSigningKey::from_private(&[1; 32]).unwrap().kid(), "ed-VV0aGQyRKgqK");
    }

    #[test]
    fn each_key_verifies_one_algorithm() {
        let hmac = VerifyingKey::Hs256(HmacKey::new(SECRET).unwrap());
        let ed = VerifyingKey::EdDsa(EdSigningKey::from_private(&[1; 32]).unwrap().public());
        assert_eq!((hmac.algorithm(), ed.algorithm()), (HS256, EDDSA));
        assert_ne!(hmac.kid(), ed.kid());
    }
}
