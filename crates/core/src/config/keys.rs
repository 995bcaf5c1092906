//! The token and refresh-token keys: `JWT_SECRET` (always required: it signs HS256 tokens and is the
//! root of the refresh-token key), `JWT_PREVIOUS_SECRETS`, and in EdDSA mode `JWT_PRIVATE_KEY` (a
//! 32-byte seed or the 64-byte seed-then-public-key form, read synchronously) and
//! `JWT_PREVIOUS_PUBLIC_KEYS`.

use crate::b64::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use crate::session::RefreshKey;
use crate::token::{EdPublicKey, EdSigningKey, HmacKey, SigningKey, VerifyingKey};

/// What signs and verifies, once every key setting is valid.
pub(super) struct Keys {
    pub signing: SigningKey,
    /// Keys that still verify older tokens, never sign.
    pub previous: Vec<VerifyingKey>,
    pub refresh_key: RefreshKey,
    pub previous_refresh_keys: Vec<RefreshKey>,
}

/// Reads the key settings; `None` when one is missing or invalid (the reason is in `problems`).
pub(super) fn read(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Option<Keys> {
    // JWT_SECRET is always required: it signs HS256 tokens and is the root of the refresh-token key.
    let secret = match get("JWT_SECRET") {
        None => {
            problems.push(
                "JWT_SECRET is not set: set it with `wrangler secret put JWT_SECRET` (32+ random bytes)"
                    .into(),
            );
            None
        }
        Some(s) => HmacKey::new(s.as_bytes())
            .map(|k| (k, RefreshKey::derive(s.as_bytes())))
            .map_err(|e| problems.push(format!("JWT_SECRET: {e}")))
            .ok(),
    };
    let mut previous: Vec<VerifyingKey> = Vec::new();
    let mut previous_refresh_keys = Vec::new();
    for (i, s) in get("JWT_PREVIOUS_SECRETS").unwrap_or_default().split(',').map(str::trim).enumerate() {
        if s.is_empty() {
            continue;
        }
        match HmacKey::new(s.as_bytes()) {
            Ok(k) => {
                previous.push(VerifyingKey::Hs256(k));
                previous_refresh_keys.push(RefreshKey::derive(s.as_bytes()));
            }
            Err(e) => problems.push(format!("JWT_PREVIOUS_SECRETS entry {}: {e}", i + 1)),
        }
    }
    for (i, s) in get("JWT_PREVIOUS_PUBLIC_KEYS").unwrap_or_default().split(',').map(str::trim).enumerate() {
        if s.is_empty() {
            continue;
        }
        match decode_key(s).and_then(|b| EdPublicKey::from_bytes(&b)) {
            Ok(k) => previous.push(VerifyingKey::EdDsa(k)),
            Err(e) => problems.push(format!("JWT_PREVIOUS_PUBLIC_KEYS entry {}: {e}", i + 1)),
        }
    }
    let signing = match (get("JWT_ALGORITHM").as_deref(), &secret) {
        (None | Some("HS256"), Some((hmac, _))) => Some(SigningKey::Hs256(hmac.clone())),
        (Some("EdDSA"), _) => match get("JWT_PRIVATE_KEY")
            .map(|k| decode_key(&k).and_then(|b| EdSigningKey::from_private(&b)))
        {
            Some(Ok(k)) => Some(SigningKey::EdDsa(k)),
            Some(Err(e)) => {
                problems.push(format!("JWT_PRIVATE_KEY: {e}"));
                None
            }
            None => {
                problems.push("JWT_ALGORITHM=EdDSA needs the secret JWT_PRIVATE_KEY (make one with `edge-auth-cli gen-ed25519-key`)".into());
                None
            }
        },
        (Some(other), _) if other != "HS256" => {
            problems.push(format!("JWT_ALGORITHM must be HS256 or EdDSA, got {other:?}"));
            None
        }
        _ => None,
    };
    match (signing, secret) {
        (Some(signing), Some((_, refresh_key))) => {
            Some(Keys { signing, previous, refresh_key, previous_refresh_keys })
        }
        _ => None,
    }
}

/// A key given as base64url or standard base64, padded or not.
pub fn decode_key(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).map_err(|_| "not base64url".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{config, SECRET};

    #[test]
    fn eddsa_mode_reads_the_private_key_and_previous_public_keys() {
        let seed = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let old =
            EdSigningKey::from_private(&[8u8; 32]).unwrap().public().jwk()["x"].as_str().unwrap().to_string();
        let c = config(&[
            ("JWT_SECRET", SECRET),
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_PRIVATE_KEY", &seed),
            ("JWT_PREVIOUS_PUBLIC_KEYS", &old),
        ])
        .unwrap();
        assert_eq!(c.tokens.algorithm(), "EdDSA");
        assert_eq!(c.tokens.jwks()["keys"].as_array().unwrap().len(), 2);
        for bad in [
            vec![("JWT_ALGORITHM", "EdDSA")],
            vec![("JWT_ALGORITHM", "EdDSA"), ("JWT_PRIVATE_KEY", "c2hvcnQ")],
            vec![("JWT_ALGORITHM", "RS256")],
            vec![("JWT_ALGORITHM", "none")],
            vec![("JWT_PREVIOUS_PUBLIC_KEYS", "AAAA")],
        ] {
            let mut pairs = vec![("JWT_SECRET", SECRET)];
            pairs.extend(bad.iter().copied());
            assert!(config(&pairs).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_missing_or_short_secret_is_a_config_error_that_names_it() {
        let e = config(&[]).unwrap_err();
        assert!(e.0.contains("JWT_SECRET is not set"), "{e}");
        let e = config(&[("JWT_SECRET", "short")]).unwrap_err();
        assert!(e.0.contains("at least 32 bytes"), "{e}");
        assert!(!e.0.contains("short\""), "the secret itself must not be echoed: {e}");
    }

    #[test]
    fn the_private_key_is_read_in_both_forms_without_help() {
        // The Worker hands the setting over as configured: a bare seed, or seed and public key.
        let seed = [7u8; 32];
        let pair = EdSigningKey::from_private(&seed).unwrap();
        let public = URL_SAFE_NO_PAD.decode(pair.public().jwk()["x"].as_str().unwrap()).unwrap();
        let long = [&seed[..], &public[..]].concat();
        let mut kids = Vec::new();
        for text in [
            URL_SAFE_NO_PAD.encode(seed),
            URL_SAFE_NO_PAD.encode(&long),
            crate::b64::STANDARD.encode(&long),
            format!("  {}  ", URL_SAFE_NO_PAD.encode(seed)),
        ] {
            let c = config(&[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "EdDSA"), ("JWT_PRIVATE_KEY", &text)])
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            kids.push(c.tokens.jwks()["keys"][0]["kid"].clone());
        }
        assert!(kids.iter().all(|k| *k == kids[0]), "{kids:?}");
        let mut wrong = long.clone();
        wrong[63] ^= 1;
        let e = config(&[
            ("JWT_SECRET", SECRET),
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_PRIVATE_KEY", &URL_SAFE_NO_PAD.encode(&wrong)),
        ])
        .unwrap_err();
        assert!(e.0.contains("JWT_PRIVATE_KEY") && e.0.contains("does not belong"), "{e}");
        assert!(!e.0.contains(&URL_SAFE_NO_PAD.encode(seed)), "the key itself is never echoed: {e}");
    }

    #[test]
    fn previous_secrets_verify_and_bad_entries_are_named_by_position() {
        let old = "old-secret-old-secret-old-secret-0123456";
        let c = config(&[("JWT_SECRET", SECRET), ("JWT_PREVIOUS_SECRETS", &format!(" {old} ,, "))]).unwrap();
        assert_eq!(c.previous_refresh_keys.len(), 1);
        let e =
            config(&[("JWT_SECRET", SECRET), ("JWT_PREVIOUS_SECRETS", &format!("{old},short"))]).unwrap_err();
        assert!(e.0.contains("JWT_PREVIOUS_SECRETS entry 2"), "{e}");
        let e = config(&[("JWT_SECRET", SECRET), ("JWT_PREVIOUS_PUBLIC_KEYS", "!!")]).unwrap_err();
        assert!(e.0.contains("JWT_PREVIOUS_PUBLIC_KEYS entry 1"), "{e}");
    }

    #[test]
    fn keys_decode_from_either_base64_alphabet_with_or_without_padding() {
        assert_eq!(decode_key("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_key("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_key(" Zm9v ").unwrap(), b"foo");
        assert!(decode_key("not base64!").is_err());
    }
}
