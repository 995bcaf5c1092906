//! Password hashing: PBKDF2-HMAC-SHA512 stored as a PHC string, verified in constant time.
//!
//! Stored form (PHC string format, base64 without padding as the PHC spec's B64):
//! `$pbkdf2-sha512$i=<iterations>,l=64$<salt>$<hash>`, the same form as RustCrypto's `pbkdf2` crate, so
//! the scheme and its cost travel with the hash and can be raised later [OWASP Password Storage CS].
//!
//! Passwords are normalised to Unicode NFKC before hashing, so the same password typed on different
//! keyboards or input methods matches [NIST SP 800-63B §3.1.1.2; ASVS 6.2.x].
//!
//! Imported hashes of other systems are verified too (see [`legacy`]) and always report
//! `needs_rehash`, so they are replaced by the current scheme at the next successful login.

use crate::b64::STANDARD_NO_PAD as B64;
use crate::legacy;
use crate::random;
use crate::unicode::nfkc;
use edge_auth_kdf::{pbkdf2_hmac_sha512, OUTPUT_LEN};
use subtle::ConstantTimeEq;

/// PBKDF2-HMAC-SHA512 iterations: OWASP Password Storage Cheat Sheet (2026 revision) and ASVS 5.0
/// appendix C give 220,000 for HMAC-SHA-512 (the 2023 text said 210,000).
pub const DEFAULT_ITERATIONS: u32 = 220_000;
/// The lowest configurable cost. Low costs exist for tests only; the Worker logs a warning below
/// `DEFAULT_ITERATIONS`.
pub const MIN_ITERATIONS: u32 = 1_000;
/// The highest cost accepted in a stored hash, so that a planted or imported hash cannot burn the CPU
/// budget of a Worker [Ory Kratos hash limits].
pub const MAX_ITERATIONS: u32 = 10_000_000;
/// Salt length: at least 16 random bytes [OWASP Password Storage CS; NIST SP 800-132 §5.1].
pub const SALT_LEN: usize = 16;
/// PHC identifier of the current scheme.
pub const SCHEME: &str = "pbkdf2-sha512";

thread_local! {
    /// PBKDF2 computations done by verification on this thread (a Worker isolate is one thread). Lets
    /// tests prove that the unknown-user path does the same work as a wrong password, without timing.
    static HASH_COMPUTATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many password verifications have run their PBKDF2 on this thread so far.
pub fn verification_count() -> u64 {
    HASH_COMPUTATIONS.with(|c| c.get())
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. `needs_rehash` is true when the stored scheme or cost is below the
    /// configured one: the caller should store a fresh hash [OWASP Password Storage CS, "Upgrading"].
    Match { needs_rehash: bool },
    /// The password is wrong.
    Mismatch,
    /// The stored string is not a hash this service can verify (corrupt, unknown scheme, or a cost out
    /// of bounds). The same hashing work as a real check was still done.
    Unusable,
}

/// Hashes and verifies passwords at the configured cost.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    iterations: u32,
    /// A hash no password matches, with the configured cost: the unknown-user path verifies against it
    /// so that it does the same work as a wrong password [ASVS 6.3.8].
    dummy: Pbkdf2Hash,
}

/// A parsed `$pbkdf2-sha512$...` string.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pbkdf2Hash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; OUTPUT_LEN],
}

impl PasswordHasher {
    /// `iterations` must lie in `MIN_ITERATIONS..=MAX_ITERATIONS`.
    pub fn new(iterations: u32) -> Result<Self, String> {
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "password iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}, got {iterations}"
            ));
        }
        // Random salt and random "digest": no password can match it (2^-512), and building it costs no
        // hashing, so it is ready at start-up.
        let mut salt = vec![0u8; SALT_LEN];
        random::fill(&mut salt);
        let mut hash = [0u8; OUTPUT_LEN];
        random::fill(&mut hash);
        Ok(PasswordHasher { iterations, dummy: Pbkdf2Hash { iterations, salt, hash } })
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Hashes with a fresh random salt.
    pub fn hash(&self, password: &str) -> String {
        let mut salt = [0u8; SALT_LEN];
        random::fill(&mut salt);
        self.hash_with_salt(password, &salt)
    }

    /// Hashes with the given salt (deterministic; for tests and tools).
    pub fn hash_with_salt(&self, password: &str, salt: &[u8]) -> String {
        let hash = pbkdf2_hmac_sha512(nfkc(password).as_bytes(), salt, self.iterations);
        Pbkdf2Hash { iterations: self.iterations, salt: salt.to_vec(), hash }.to_phc()
    }

    /// Checks `password` against a stored hash (ours, or an imported legacy one), in constant time.
    ///
    /// A check never costs less than one hash at the configured cost: a wrong password against a
    /// cheaper stored hash (an imported `sha256:` or low-cost bcrypt hash, or ours from before the cost
    /// was raised) also runs the dummy hash, so timing cannot single out those accounts [ASVS 6.3.8].
    /// (A right one is rehashed at the configured cost by the caller.)
    pub fn verify(&self, password: &str, stored: &str) -> Verification {
        if let Some(parsed) = Pbkdf2Hash::parse(stored) {
            if parsed.matches(password) {
                return Verification::Match { needs_rehash: parsed.iterations < self.iterations };
            }
            if parsed.iterations < self.iterations {
                self.dummy.matches(password);
            }
            return Verification::Mismatch;
        }
        match legacy::verify(password, stored) {
            Some(true) => Verification::Match { needs_rehash: true },
            Some(false) | None => {
                self.dummy.matches(password);
                if legacy::check_importable(stored).is_ok() {
                    Verification::Mismatch
                } else {
                    Verification::Unusable
                }
            }
        }
    }

    /// Does the work of one verification at the configured cost and always fails. Used when the user
    /// does not exist, so that neither the response nor its timing reveals that [ASVS 6.3.8].
    pub fn verify_dummy(&self, password: &str) -> Verification {
        self.dummy.matches(password);
        Verification::Mismatch
    }
}

/// Whether a hash offered for import can be stored: our own scheme within the cost bounds, or one of
/// the legacy schemes of [`legacy`]. The error is the stable code reported per skipped user.
pub fn check_importable(stored: &str) -> Result<(), &'static str> {
    if Pbkdf2Hash::parse(stored).is_some() {
        return Ok(());
    }
    // Other PBKDF2 parameters (and bounds) are the legacy module's business.
    legacy::check_importable(stored)
}

impl Pbkdf2Hash {
    fn to_phc(&self) -> String {
        format!(
            "${SCHEME}$i={},l={OUTPUT_LEN}${}${}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.hash)
        )
    }

    /// Parses `$pbkdf2-sha512$i=N,l=64$salt$hash`; `None` for anything else or a cost out of bounds.
    fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('$');
        if parts.next() != Some("") || parts.next() != Some(SCHEME) {
            return None;
        }
        let params = parts.next()?;
        let salt = B64.decode(parts.next()?).ok()?;
        let hash: [u8; OUTPUT_LEN] = B64.decode(parts.next()?).ok()?.try_into().ok()?;
        if parts.next().is_some() {
            return None;
        }
        let mut iterations = None;
        for param in params.split(',') {
            match param.split_once('=')? {
                ("i", v) => iterations = Some(v.parse::<u32>().ok()?),
                ("l", v) if v == OUTPUT_LEN.to_string() => {}
                _ => return None,
            }
        }
        let iterations = iterations?;
        if !(1..=MAX_ITERATIONS).contains(&iterations) || salt.len() < 8 {
            return None;
        }
        Some(Pbkdf2Hash { iterations, salt, hash })
    }

    fn matches(&self, password: &str) -> bool {
        HASH_COMPUTATIONS.with(|c| c.set(c.get() + 1));
        let candidate = pbkdf2_hmac_sha512(nfkc(password).as_bytes(), &self.salt, self.iterations);
        candidate.ct_eq(&self.hash).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(MIN_ITERATIONS).unwrap()
    }

    #[test]
    fn a_hash_is_a_phc_string_recording_scheme_cost_and_a_16_byte_salt() {
        let phc = hasher().hash("correct horse battery staple");
        let parts: Vec<&str> = phc.split('$').collect();
        assert_eq!(parts[1], "pbkdf2-sha512");
        assert_eq!(parts[2], "i=1000,l=64");
        assert_eq!(B64.decode(parts[3]).unwrap().len(), 16);
        assert_eq!(B64.decode(parts[4]).unwrap().len(), 64);
    }

    #[test]
    fn the_stored_hash_equals_standard_pbkdf2_hmac_sha512() {
        // Cross-checked with Python: hashlib.pbkdf2_hmac('sha512', b'password', b'saltsaltsaltsalt', 1000)
        let phc = hasher().hash_with_salt("password", b"saltsaltsaltsalt");
        let expected = "$pbkdf2-sha512$i=1000,l=64$c2FsdHNhbHRzYWx0c2FsdA$";
        assert!(phc.starts_with(expected), "{phc}");
        let digest = B64.decode(phc.rsplit('$').next().unwrap()).unwrap();
        assert_eq!(digest, pbkdf2_hmac_sha512(b"password", b"saltsaltsaltsalt", 1000));
    }

    #[test]
    fn two_hashes_of_one_password_use_different_salts() {
        let h = hasher();
        assert_ne!(h.hash("same password"), h.hash("same password"));
    }

    #[test]
    fn the_right_password_matches_and_a_wrong_one_does_not() {
        let h = hasher();
        let phc = h.hash("s3cret-Passphrase");
        assert_eq!(h.verify("s3cret-Passphrase", &phc), Verification::Match { needs_rehash: false });
        assert_eq!(h.verify("s3cret-passphrase", &phc), Verification::Mismatch);
        assert_eq!(h.verify("", &phc), Verification::Mismatch);
    }

    #[test]
    fn a_long_password_is_not_truncated() {
        let h = hasher();
        let long = "x".repeat(200);
        let phc = h.hash(&long);
        assert_eq!(h.verify(&"x".repeat(199), &phc), Verification::Mismatch);
        assert_eq!(h.verify(&"x".repeat(201), &phc), Verification::Mismatch);
        assert!(matches!(h.verify(&long, &phc), Verification::Match { .. }));
    }

    #[test]
    fn a_hash_below_the_configured_cost_needs_a_rehash() {
        let old = PasswordHasher::new(1_000).unwrap().hash("pw-abcdefgh");
        let current = PasswordHasher::new(2_000).unwrap();
        assert_eq!(current.verify("pw-abcdefgh", &old), Verification::Match { needs_rehash: true });
        assert_eq!(current.verify("wrong", &old), Verification::Mismatch);
    }

    #[test]
    fn a_hash_above_the_configured_cost_does_not_need_a_rehash() {
        let strong = PasswordHasher::new(2_000).unwrap().hash("pw-abcdefgh");
        let current = PasswordHasher::new(1_000).unwrap();
        assert_eq!(current.verify("pw-abcdefgh", &strong), Verification::Match { needs_rehash: false });
    }

    #[test]
    fn malformed_or_foreign_strings_are_unusable_not_a_panic() {
        let h = hasher();
        let good = h.hash("pw");
        let bad = [
            "",
            "plaintext",
            "$pbkdf2-sha256$i=1000,l=32$c2FsdA$aGFzaA",
            "$pbkdf2-sha512$i=abc,l=64$c2FsdHNhbHRzYWx0$AAAA",
            "$pbkdf2-sha512$i=1000,l=32$c2FsdHNhbHRzYWx0$AAAA",
            "$pbkdf2-sha512$i=1000$c2FsdHNhbHRzYWx0$!!!",
            &format!("{good}$extra"),
        ];
        for s in bad {
            assert_eq!(h.verify("pw", s), Verification::Unusable, "{s}");
        }
    }

    #[test]
    fn a_stored_cost_above_the_bound_is_refused_without_hashing() {
        let h = hasher();
        let phc = h.hash("pw").replace("i=1000", "i=10000001");
        assert_eq!(h.verify("pw", &phc), Verification::Unusable);
    }

    #[test]
    fn the_configured_cost_is_bounded() {
        assert!(PasswordHasher::new(999).is_err());
        assert!(PasswordHasher::new(MAX_ITERATIONS + 1).is_err());
        assert!(PasswordHasher::new(DEFAULT_ITERATIONS).is_ok());
    }

    #[test]
    fn passwords_are_nfkc_normalised_before_hashing() {
        use std::borrow::Cow;
        let h = hasher();
        // U+212B ANGSTROM SIGN and U+00C5 are NFKC-equal; so are the "ﬁ" ligature and "fi".
        let phc = h.hash("\u{212B}ngstr\u{f6}m-\u{FB01}le");
        assert!(matches!(h.verify("\u{C5}ngstr\u{f6}m-file", &phc), Verification::Match { .. }));
        assert_eq!(nfkc("plain-ascii"), Cow::Borrowed("plain-ascii"));
    }

    #[test]
    fn importable_hashes_are_ours_within_bounds_or_known_legacy_schemes() {
        let h = hasher();
        assert_eq!(check_importable(&h.hash("pw")), Ok(()));
        let too_costly = h.hash("pw").replace("i=1000", "i=10000001");
        assert_eq!(check_importable(&too_costly), Err("hash_cost_out_of_bounds"));
        assert_eq!(check_importable("md5:abc"), Err("unsupported_hash"));
        assert_eq!(check_importable(""), Err("unsupported_hash"));
    }

    #[test]
    fn a_wrong_password_against_a_cheaper_hash_still_costs_a_full_hash() {
        let h = PasswordHasher::new(2_000).unwrap();
        let weak = PasswordHasher::new(1_000).unwrap().hash("pw-abcdefgh");
        let sha = "sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
        for stored in [weak.as_str(), sha] {
            let before = verification_count();
            assert_eq!(h.verify("wrong", stored), Verification::Mismatch);
            assert!(verification_count() > before, "the dummy hash ran for {stored}");
        }
        let own = h.hash("pw-abcdefgh");
        let before = verification_count();
        assert_eq!(h.verify("wrong", &own), Verification::Mismatch);
        assert_eq!(verification_count() - before, 1, "no extra work at the configured cost");
    }

    #[test]
    fn the_dummy_check_never_matches() {
        let h = hasher();
        assert_eq!(h.verify_dummy("anything"), Verification::Mismatch);
        assert_eq!(h.verify_dummy(""), Verification::Mismatch);
    }
}
