//! Hashes imported from other systems, verified so their users can log in once and be upgraded to the
//! current scheme. Every cost parameter is bounded, so a planted hash cannot burn a Worker's CPU
//! budget [Ory Kratos hash limits].
//!
//! | scheme | form |
//! |---|---|
//! | PBKDF2 PHC, other parameters | `$pbkdf2-sha512$i=N,l=L$salt$hash` (L <= 64), `$pbkdf2-sha256$i=N,l=L$salt$hash` (L <= 32); B64 or passlib's ab64 |
//! | bcrypt | `$2a$`, `$2b$`, `$2y$` with cost 4..=15 |
//! | Django | `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` |
//! | legacy point-of-sale | `sha256:<64 hex digits>`, unsalted |
//!
//! Legacy schemes hash the password as given (no NFKC), as the system that made them did.

use crate::b64::{BCRYPT, STANDARD_NO_PAD};
use edge_auth_kdf::{pbkdf2_hmac_sha256, pbkdf2_hmac_sha512};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Highest PBKDF2 iteration count accepted from another system.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// bcrypt cost bounds: 4 is bcrypt's own minimum; above 15 one check takes seconds
/// [Ory Kratos caps bcrypt cost similarly].
pub const BCRYPT_COST_MIN: u32 = 4;
pub const BCRYPT_COST_MAX: u32 = 15;
/// A bcrypt string carries a 16-byte salt and the first 23 bytes of the 24-byte hash [OpenBSD
/// bcrypt(3); Provos & Mazières 1999].
const BCRYPT_SALT_LEN: usize = 16;
const BCRYPT_HASH_LEN: usize = 23;
/// bcrypt reads at most 72 bytes of password, NUL terminator included when it fits [OpenBSD bcrypt.c].
const BCRYPT_MAX_KEY_LEN: usize = 72;

enum Legacy {
    Pbkdf2 { sha512: bool, iterations: u32, salt: Vec<u8>, hash: Vec<u8> },
    Bcrypt { cost: u32, salt: [u8; BCRYPT_SALT_LEN], hash: [u8; BCRYPT_HASH_LEN] },
    Sha256([u8; 32]),
}

/// Parses a legacy hash; `Err(code)` when it is unsupported or its cost is out of bounds.
fn parse(stored: &str) -> Result<Legacy, &'static str> {
    if let Some(hex) = stored.strip_prefix("sha256:") {
        let bytes = decode_hex(hex).ok_or("unsupported_hash")?;
        return bytes.try_into().map(Legacy::Sha256).map_err(|_| "unsupported_hash");
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        let mut parts = rest.split('$');
        let (iterations, salt, hash) = (parts.next(), parts.next(), parts.next());
        let (Some(iterations), Some(salt), Some(hash), None) = (iterations, salt, hash, parts.next()) else {
            return Err("unsupported_hash");
        };
        let iterations = bounded_iterations(iterations)?;
        // Django pads its Base64; decoding the unpadded form keeps one Base64 alphabet in the wasm.
        let hash = STANDARD_NO_PAD.decode(hash.trim_end_matches('=')).map_err(|_| "unsupported_hash")?;
        if hash.len() != 32 || salt.is_empty() {
            return Err("unsupported_hash");
        }
        return Ok(Legacy::Pbkdf2 { sha512: false, iterations, salt: salt.as_bytes().to_vec(), hash });
    }
    if let Some(rest) =
        stored.strip_prefix("$2a$").or(stored.strip_prefix("$2b$")).or(stored.strip_prefix("$2y$"))
    {
        let cost: u32 = rest.get(..2).and_then(|c| c.parse().ok()).ok_or("unsupported_hash")?;
        if !(BCRYPT_COST_MIN..=BCRYPT_COST_MAX).contains(&cost) {
            return Err("hash_cost_out_of_bounds");
        }
        // "$2b$" + cost + "$" + 22 chars of salt + 31 chars of hash, in bcrypt's Base64 alphabet.
        if stored.len() != 60 || rest.as_bytes().get(2) != Some(&b'$') {
            return Err("unsupported_hash");
        }
        let (salt, hash) = rest[3..].split_at_checked(22).ok_or("unsupported_hash")?;
        let salt = BCRYPT.decode(salt).ok().and_then(|s| s.try_into().ok()).ok_or("unsupported_hash")?;
        let hash = BCRYPT.decode(hash).ok().and_then(|h| h.try_into().ok()).ok_or("unsupported_hash")?;
        return Ok(Legacy::Bcrypt { cost, salt, hash });
    }
    for (prefix, sha512, max_len) in [("$pbkdf2-sha512$", true, 64), ("$pbkdf2-sha256$", false, 32)] {
        if let Some(rest) = stored.strip_prefix(prefix) {
            let mut parts = rest.split('$');
            let (params, salt, hash) = (parts.next(), parts.next(), parts.next());
            let (Some(params), Some(salt), Some(hash), None) = (params, salt, hash, parts.next()) else {
                return Err("unsupported_hash");
            };
            let mut iterations = None;
            for param in params.split(',') {
                match param.split_once('=') {
                    Some(("i", v)) => iterations = Some(bounded_iterations(v)?),
                    Some(("l", _)) => {}
                    _ => return Err("unsupported_hash"),
                }
            }
            let salt = b64(salt).ok_or("unsupported_hash")?;
            let hash = b64(hash).ok_or("unsupported_hash")?;
            if hash.len() < 16 || hash.len() > max_len || salt.is_empty() {
                return Err("unsupported_hash");
            }
            let iterations = iterations.ok_or("unsupported_hash")?;
            return Ok(Legacy::Pbkdf2 { sha512, iterations, salt, hash });
        }
    }
    Err("unsupported_hash")
}

/// `Some(matches)` for a supported legacy hash, `None` when it is not one (or out of bounds).
pub fn verify(password: &str, stored: &str) -> Option<bool> {
    let parsed = parse(stored).ok()?;
    let pw = password.as_bytes();
    Some(match parsed {
        Legacy::Sha256(expected) => Sha256::digest(pw).as_slice().ct_eq(&expected).into(),
        Legacy::Pbkdf2 { sha512: true, iterations, salt, hash } => {
            pbkdf2_hmac_sha512(pw, &salt, iterations)[..hash.len()].ct_eq(&hash).into()
        }
        Legacy::Pbkdf2 { sha512: false, iterations, salt, hash } => {
            pbkdf2_hmac_sha256(pw, &salt, iterations)[..hash.len()].ct_eq(&hash).into()
        }
        Legacy::Bcrypt { cost, salt, hash } => {
            // The password as a C string, cut at 72 bytes (what every bcrypt implementation hashes).
            let mut key = [0u8; BCRYPT_MAX_KEY_LEN];
            let len = pw.len().min(BCRYPT_MAX_KEY_LEN);
            key[..len].copy_from_slice(&pw[..len]);
            let used = (len + 1).min(BCRYPT_MAX_KEY_LEN);
            bcrypt::bcrypt(cost, salt, &key[..used])[..BCRYPT_HASH_LEN].ct_eq(&hash).into()
        }
    })
}

/// `Ok` when `stored` is a supported legacy hash within bounds.
pub fn check_importable(stored: &str) -> Result<(), &'static str> {
    parse(stored).map(|_| ())
}

fn bounded_iterations(v: &str) -> Result<u32, &'static str> {
    let n: u64 = v.parse().map_err(|_| "unsupported_hash")?;
    if n == 0 || n > u64::from(MAX_PBKDF2_ITERATIONS) {
        return Err("hash_cost_out_of_bounds");
    }
    Ok(n as u32)
}

/// PHC B64 (standard alphabet, no padding) or passlib's "adapted base64" (`.` for `+`).
fn b64(s: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(s.replace('.', "+").trim_end_matches('=')).ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b64::STANDARD;

    // Produced by reference implementations (Python's hashlib/passlib conventions and bcrypt); see
    // each comment for how.

    #[test]
    fn unsalted_sha256_verifies() {
        // printf 'cajero123' | sha256sum
        let stored = format!("sha256:{}", hex_of(&Sha256::digest(b"cajero123")));
        assert_eq!(verify("cajero123", &stored), Some(true));
        assert_eq!(verify("cajero124", &stored), Some(false));
        assert_eq!(verify("cajero123", &stored.to_uppercase().replace("SHA256:", "sha256:")), Some(true));
    }

    #[test]
    fn django_pbkdf2_sha256_verifies() {
        // Django's make_password('django pass', salt='seasalt', hasher=PBKDF2PasswordHasher) at 1000
        // iterations: base64(pbkdf2_hmac('sha256', b'django pass', b'seasalt', 1000)).
        let hash = STANDARD.encode(pbkdf2_hmac_sha256(b"django pass", b"seasalt", 1000));
        let stored = format!("pbkdf2_sha256$1000$seasalt${hash}");
        assert_eq!(verify("django pass", &stored), Some(true));
        assert_eq!(verify("django pasS", &stored), Some(false));
    }

    #[test]
    fn phc_pbkdf2_with_other_parameters_verifies() {
        let salt = b"0123456789abcdef";
        let h256 = STANDARD_NO_PAD.encode(pbkdf2_hmac_sha256(b"pw one", salt, 2000));
        let s256 = format!("$pbkdf2-sha256$i=2000,l=32${}${h256}", STANDARD_NO_PAD.encode(salt));
        assert_eq!(verify("pw one", &s256), Some(true));
        assert_eq!(verify("pw two", &s256), Some(false));
        let h512 = STANDARD_NO_PAD.encode(&pbkdf2_hmac_sha512(b"pw one", salt, 1500)[..32]);
        let s512 = format!("$pbkdf2-sha512$i=1500,l=32${}${h512}", STANDARD_NO_PAD.encode(salt));
        assert_eq!(verify("pw one", &s512), Some(true));
        // passlib's ab64 alphabet ('.' for '+') is accepted too.
        assert_eq!(verify("pw one", &s256.replace('+', ".")), Some(true));
    }

    #[test]
    fn bcrypt_verifies() {
        // python3 -c "import bcrypt; print(bcrypt.hashpw(b'bcrypt pass', bcrypt.gensalt(4)))" (cost 4 for speed)
        let stored = bcrypt::hash_with_salt(b"bcrypt pass", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        assert_eq!(verify("bcrypt pass", &stored), Some(true));
        assert_eq!(verify("bcrypt pasS", &stored), Some(false));
        for version in ["$2a$", "$2y$"] {
            let other = stored.replacen("$2b$", version, 1);
            assert_eq!(verify("bcrypt pass", &other), Some(true), "{version}");
        }
    }

    #[test]
    fn bcrypt_matches_published_vectors_and_the_crate_past_72_bytes() {
        // Openwall crypt_blowfish's test vectors (wrapper.c), the second one longer than 72 bytes.
        let long = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored";
        for (password, stored) in [
            ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
            (long, "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"),
        ] {
            assert_eq!(verify(password, stored), Some(true), "{stored}");
            assert_eq!(bcrypt::verify(password, stored).ok(), Some(true), "{stored}");
            assert_eq!(verify(&format!("{password}x")[1..], stored), Some(false), "{stored}");
        }
        // Only the first 72 bytes count, as in every implementation.
        assert_eq!(
            verify(&long[..72], "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"),
            Some(true)
        );
        for len in [0, 1, 71, 72, 73, 100] {
            let password = "p".repeat(len);
            let stored = bcrypt::hash_with_salt(&password, 4, *b"saltsaltsaltsalt")
                .unwrap()
                .format_for_version(bcrypt::Version::TwoB);
            assert_eq!(verify(&password, &stored), Some(true), "length {len}");
        }
    }

    #[test]
    fn malformed_bcrypt_strings_are_not_importable() {
        let good = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert_eq!(check_importable(good), Ok(()));
        // A character outside bcrypt's alphabet, in the salt and in the hash.
        assert_eq!(check_importable(&good.replacen("CCC", "C+C", 1)), Err("unsupported_hash"));
        assert_eq!(check_importable(&good.replacen("E5Y", "E5=", 1)), Err("unsupported_hash"));
        // Non-canonical trailing bits in the salt's last character ('.' is 0, '/' is 1: a bit that
        // 16 bytes cannot hold); the crate's own parser refuses it too.
        let noncanonical = good.replacen("C.E5", "C/E5", 1);
        assert_eq!(check_importable(&noncanonical), Err("unsupported_hash"));
        assert!(bcrypt::verify("U*U", &noncanonical).is_err());
        // Too short, too long, no separator after the cost.
        assert_eq!(check_importable(&good[..59]), Err("unsupported_hash"));
        assert_eq!(check_importable(&format!("{good}A")), Err("unsupported_hash"));
        assert_eq!(check_importable(&good.replacen("05$", "05x", 1)), Err("unsupported_hash"));
    }

    #[test]
    fn costs_out_of_bounds_are_refused_without_hashing() {
        let salt = STANDARD_NO_PAD.encode(b"0123456789abcdef");
        let h = STANDARD_NO_PAD.encode([0u8; 32]);
        assert_eq!(
            check_importable(&format!("$pbkdf2-sha256$i=10000001,l=32${salt}${h}")),
            Err("hash_cost_out_of_bounds")
        );
        assert_eq!(
            check_importable(&format!("pbkdf2_sha256$99999999999$s${}", STANDARD.encode([0u8; 32]))),
            Err("hash_cost_out_of_bounds")
        );
        let bcrypt16 = format!("$2b$16${}", "a".repeat(53));
        assert_eq!(check_importable(&bcrypt16), Err("hash_cost_out_of_bounds"));
        assert_eq!(verify("x", &bcrypt16), None);
        let bcrypt3 = format!("$2b$03${}", "a".repeat(53));
        assert_eq!(check_importable(&bcrypt3), Err("hash_cost_out_of_bounds"));
        assert_eq!(
            check_importable(&format!("$pbkdf2-sha256$i=0,l=32${salt}${h}")),
            Err("hash_cost_out_of_bounds")
        );
    }

    #[test]
    fn malformed_legacy_hashes_are_unsupported() {
        for bad in [
            "sha256:xyz",
            "sha256:abcd",
            "pbkdf2_sha256$1000$salt",
            "pbkdf2_sha256$1000$$AAAA",
            "$2b$10$short",
            "$2x$10$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "$pbkdf2-sha256$i=1000,l=32$c2FsdA",
            "$pbkdf2-md5$i=1000$c2FsdA$AAAA",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
            "plaintext",
        ] {
            assert_eq!(check_importable(bad), Err("unsupported_hash"), "{bad}");
            assert_eq!(verify("x", bad), None, "{bad}");
        }
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
