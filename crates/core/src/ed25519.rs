//! Ed25519 signatures for EdDSA access tokens [RFC 8032 §5.1; RFC 8037].
//!
//! In the Worker, the platform's Web Crypto computes them: native code, and the curve arithmetic with its
//! precomputed tables (~20 KB gzipped, a seventh of the module) stays out of the wasm (issue 6,
//! BENCHMARKS.md "Size"). On the host (unit tests, `edge-auth-cli`) `ed25519-compact` does. Ed25519
//! signing is deterministic, so both produce the same bytes for the same key and message; the HTTP tests
//! check the Worker's signatures with Node's own Ed25519.
//!
//! Web Crypto only works asynchronously, hence `async` here even where the host code is not.

pub const SEED_LEN: usize = 32;
pub const PUBLIC_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;

pub type Seed = [u8; SEED_LEN];
pub type Public = [u8; PUBLIC_LEN];

/// `JWT_PRIVATE_KEY`'s bytes in the 64-byte seed-then-public-key form: a bare seed gets its public
/// half, a 64-byte key must carry its seed's. The Worker's configuration loader calls this before the
/// (synchronous) core reads the key, since in the Worker only Web Crypto can compute the public half.
pub async fn complete_private_key(bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (seed, given) = split_private(bytes).map_err(KeyError::Invalid)?;
    let derived = derive_public(&seed).await.map_err(KeyError::Platform)?;
    let public = matching_public(given, derived).map_err(KeyError::Invalid)?;
    Ok([&seed[..], &public[..]].concat())
}

/// A private key's seed, and its public half when it comes in the 64-byte form.
pub fn split_private(bytes: &[u8]) -> Result<(Seed, Option<Public>), &'static str> {
    let seed: Seed = bytes.get(..SEED_LEN).and_then(|s| s.try_into().ok()).ok_or(PRIVATE_KEY_FORMS)?;
    match bytes.len() {
        SEED_LEN => Ok((seed, None)),
        n if n == SEED_LEN + PUBLIC_LEN => Ok((seed, bytes[SEED_LEN..].try_into().ok())),
        _ => Err(PRIVATE_KEY_FORMS),
    }
}

/// The public key `derived` from the seed, if the key gave none or gave this one.
pub fn matching_public(given: Option<Public>, derived: Public) -> Result<Public, &'static str> {
    match given {
        Some(public) if public != derived => Err(MISMATCH),
        _ => Ok(derived),
    }
}

/// Why a private key could not be completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The configured bytes are not a usable key: the configuration is wrong.
    Invalid(&'static str),
    /// The platform (Web Crypto) failed; the same key may work on the next try.
    Platform(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Invalid(why) => f.write_str(why),
            KeyError::Platform(why) => f.write_str(why),
        }
    }
}

const PRIVATE_KEY_FORMS: &str =
    "an Ed25519 private key is a 32-byte seed, or 64 bytes of seed then public key, base64url-encoded";
pub(crate) const MISMATCH: &str = "the public half of the key does not belong to its seed";

#[cfg(not(target_arch = "wasm32"))]
pub use host::*;
#[cfg(target_arch = "wasm32")]
pub use web_crypto::*;

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use super::{Public, Seed, SIGNATURE_LEN};
    use ed25519_compact::{KeyPair, PublicKey, Seed as EdSeed, Signature};

    /// The public key of `seed` [RFC 8032 §5.1.5].
    pub fn public_from_seed(seed: &Seed) -> Public {
        *KeyPair::from_seed(EdSeed::new(*seed)).pk
    }

    /// `public_from_seed`, with the Worker's signature (there it needs Web Crypto).
    pub async fn derive_public(seed: &Seed) -> Result<Public, String> {
        Ok(public_from_seed(seed))
    }

    pub async fn sign(seed: &Seed, _public: &Public, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], String> {
        // `None`: the deterministic signature of RFC 8032, the one Web Crypto computes too.
        Ok(*KeyPair::from_seed(EdSeed::new(*seed)).sk.sign(message, None))
    }

    /// Whether `signature` is `public`'s over `message`. Never `Err` on the host.
    pub async fn verify(public: &Public, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        let Ok(signature) = Signature::from_slice(signature) else { return Ok(false) };
        Ok(PublicKey::new(*public).verify(message, &signature).is_ok())
    }
}

#[cfg(target_arch = "wasm32")]
mod web_crypto {
    use super::{Public, Seed, PUBLIC_LEN, SIGNATURE_LEN};
    use crate::b64::URL_SAFE_NO_PAD;
    use js_sys::{Array, Promise, Reflect, Uint8Array};
    use std::cell::RefCell;
    use std::future::Future;
    use std::thread::LocalKey;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    const ALGORITHM: &str = "Ed25519";
    /// The DER prefix of a PKCS #8 OneAsymmetricKey holding a bare Ed25519 seed [RFC 8410 §7]: the only
    /// private-key format Web Crypto imports without the public half.
    const PKCS8_PREFIX: [u8; 16] =
        [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

    #[wasm_bindgen]
    extern "C" {
        type SubtleCrypto;
        #[wasm_bindgen(method, catch, js_name = importKey)]
        fn import_key(
            this: &SubtleCrypto,
            format: &str,
            data: &Uint8Array,
            algorithm: &str,
            extractable: bool,
            usages: &Array,
        ) -> Result<Promise, JsValue>;
        #[wasm_bindgen(method, catch, js_name = exportKey)]
        fn export_key(this: &SubtleCrypto, format: &str, key: &JsValue) -> Result<Promise, JsValue>;
        #[wasm_bindgen(method, catch, js_name = sign)]
        fn sign_with(
            this: &SubtleCrypto,
            algorithm: &str,
            key: &JsValue,
            data: &[u8],
        ) -> Result<Promise, JsValue>;
        #[wasm_bindgen(method, catch, js_name = verify)]
        fn verify_with(
            this: &SubtleCrypto,
            algorithm: &str,
            key: &JsValue,
            signature: &[u8],
            data: &[u8],
        ) -> Result<Promise, JsValue>;
    }

    thread_local! {
        // Imported keys, by public key: importing costs a round trip into the runtime, and an isolate
        // uses the same few keys for its whole life.
        static SIGNING: KeyCache = const { RefCell::new(Vec::new()) };
        static VERIFYING: KeyCache = const { RefCell::new(Vec::new()) };
    }

    fn subtle() -> Result<SubtleCrypto, String> {
        let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).map_err(describe)?;
        Ok(Reflect::get(&crypto, &"subtle".into()).map_err(describe)?.unchecked_into())
    }

    fn describe(error: JsValue) -> String {
        match error.dyn_ref::<js_sys::Error>() {
            Some(e) => format!("Web Crypto: {}", String::from(e.message())),
            None => "Web Crypto failed".into(),
        }
    }

    async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, String> {
        JsFuture::from(promise.map_err(describe)?).await.map_err(describe)
    }

    type KeyCache = RefCell<Vec<(Public, JsValue)>>;

    /// The key imported for `public`, importing it with `import` the first time.
    async fn cached_key(
        cache: &'static LocalKey<KeyCache>,
        public: &Public,
        import: impl Future<Output = Result<JsValue, String>>,
    ) -> Result<JsValue, String> {
        if let Some(key) =
            cache.with(|c| c.borrow().iter().find(|(p, _)| p == public).map(|(_, k)| k.clone()))
        {
            return Ok(key);
        }
        let key = import.await?;
        cache.with(|c| c.borrow_mut().push((*public, key.clone())));
        Ok(key)
    }

    async fn import_seed(seed: &Seed, extractable: bool) -> Result<JsValue, String> {
        let der: Vec<u8> = PKCS8_PREFIX.iter().chain(seed.iter()).copied().collect();
        let usages = Array::of1(&"sign".into());
        settle(subtle()?.import_key("pkcs8", &Uint8Array::from(&der[..]), ALGORITHM, extractable, &usages))
            .await
    }

    /// The public key of `seed`: imported as PKCS #8, exported as a JWK, whose `x` it is. The Worker's
    /// configuration loader calls it once per isolate when `JWT_PRIVATE_KEY` is a bare seed.
    pub async fn derive_public(seed: &Seed) -> Result<Public, String> {
        let key = import_seed(seed, true).await?;
        let jwk = settle(subtle()?.export_key("jwk", &key)).await?;
        let x = Reflect::get(&jwk, &"x".into()).ok().and_then(|x| x.as_string()).unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD.decode(x).map_err(|_| "Web Crypto exported no public key".to_string())?;
        <Public>::try_from(bytes.as_slice())
            .map_err(|_| format!("an Ed25519 public key is {PUBLIC_LEN} bytes"))
    }

    /// Signs with the key pair (`public` is the cache key; it must be `seed`'s).
    pub async fn sign(seed: &Seed, public: &Public, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], String> {
        let key = cached_key(&SIGNING, public, import_seed(seed, false)).await?;
        let signature = settle(subtle()?.sign_with(ALGORITHM, &key, message)).await?;
        <[u8; SIGNATURE_LEN]>::try_from(Uint8Array::new(&signature).to_vec().as_slice())
            .map_err(|_| "Web Crypto returned a signature of the wrong length".into())
    }

    /// Whether `signature` is `public`'s over `message`. `Err` when Web Crypto itself fails (the caller
    /// answers 503, not 401: the token may well be good).
    pub async fn verify(public: &Public, message: &[u8], signature: &[u8]) -> Result<bool, String> {
        if signature.len() != SIGNATURE_LEN {
            return Ok(false);
        }
        let subtle = subtle()?;
        let import = async {
            let usages = Array::of1(&"verify".into());
            settle(subtle.import_key("raw", &Uint8Array::from(&public[..]), ALGORITHM, false, &usages)).await
        };
        let key = cached_key(&VERIFYING, public, import).await?;
        Ok(settle(subtle.verify_with(ALGORITHM, &key, signature, message)).await?.as_bool() == Some(true))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::block_on;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 8032 §7.1, TEST 1 (the empty message).
    #[test]
    fn rfc_8032_test_vector() {
        let (seed, public, message, signature) = (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        let seed: Seed = hex(seed).try_into().unwrap();
        assert_eq!(public_from_seed(&seed).to_vec(), hex(public));
        let sig = block_on(sign(&seed, &public_from_seed(&seed), &hex(message))).unwrap();
        assert_eq!(sig.to_vec(), hex(signature));
        assert_eq!(block_on(verify(&public_from_seed(&seed), &hex(message), &sig)), Ok(true));
        assert_eq!(block_on(verify(&public_from_seed(&seed), b"x", &sig)), Ok(false));
        assert_eq!(block_on(verify(&public_from_seed(&seed), &hex(message), &sig[..63])), Ok(false));
    }

    #[test]
    fn private_keys_are_completed_to_64_bytes_and_checked() {
        let full = block_on(complete_private_key(&[3; 32])).unwrap();
        assert_eq!((&full[..32], &full[32..]), (&[3u8; 32][..], &public_from_seed(&[3; 32])[..]));
        assert_eq!(block_on(complete_private_key(&full)).unwrap(), full);
        let mut wrong = full.clone();
        wrong[63] ^= 1;
        assert_eq!(block_on(complete_private_key(&wrong)), Err(KeyError::Invalid(MISMATCH)));
        for len in [0, 31, 33, 65] {
            assert!(block_on(complete_private_key(&vec![3; len])).is_err(), "{len} bytes");
        }
    }
}
