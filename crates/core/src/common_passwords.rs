//! The most common passwords, refused when a password is set.
//!
//! NIST SP 800-63B §3.1.1.2 requires comparing a new password against a blocklist including
//! "passwords obtained from previous breach corpuses" (OWASP ASVS 6.2.x asks the same: refuse the
//! most common passwords). This list is the 10,000 most common passwords of the Have I Been Pwned
//! "Pwned Passwords" breach corpus, in the form Django ships it
//! (`django/contrib/auth/common-passwords.txt.gz` of the PyPI package Django 5.2.19, BSD-3-Clause,
//! Copyright (c) Django Software Foundation and individual contributors), NFKC-normalised and
//! lowercased. data/README.md has the provenance and licence text; scripts/update-common-passwords.sh
//! regenerates data/common-passwords.txt, and build.rs compiles it into Golomb-Rice-coded gaps between
//! the sorted 30-bit SHA-256 prefixes of the entries (~23 KB of wasm; a password not on the list is
//! wrongly matched with probability ~1e-5, and no listed password is ever missed).
//!
//! The check is case-insensitive: `Password` is as common as `password`.

// Defines `COUNT`, `HASHES`, `HASH_BITS`, `RICE_BITS` and `COMMON_PASSWORD_CODES` (build.rs).
include!(concat!(env!("OUT_DIR"), "/common_passwords.rs"));

/// Whether `password` is on the common-password list, ignoring case. The caller passes the password
/// already NFKC-normalised (as it is before hashing), so compatibility forms match too. Only entries of
/// at least `MIN_CODED_LENGTH` characters are coded: the policy refuses shorter passwords before it
/// asks (a test keeps its minimum from going lower).
///
/// Decodes the sorted hashes in order until it reaches the target: at most 10,000 small steps, only
/// when a password is set.
pub fn is_common(password: &str) -> bool {
    let target = prefix_hash(&crate::unicode::lowercase(password));
    let mut bits = BitReader { bytes: &COMMON_PASSWORD_CODES, at: 0 };
    let mut value = 0u32;
    for _ in 0..HASHES {
        let Some(gap) = bits.rice() else { return false };
        value += gap;
        if value >= target {
            return value == target;
        }
    }
    false
}

/// The top `HASH_BITS` bits of SHA-256; must match `prefix_hash` in build.rs.
fn prefix_hash(password: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(password.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) >> (32 - HASH_BITS)
}

struct BitReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Option<bool> {
        let byte = self.bytes.get(self.at / 8)?;
        let bit = byte & (0x80 >> (self.at % 8)) != 0;
        self.at += 1;
        Some(bit)
    }

    /// One Golomb-Rice value: a unary quotient, then `RICE_BITS` bits of remainder.
    fn rice(&mut self) -> Option<u32> {
        let mut quotient = 0u32;
        while self.bit()? {
            quotient += 1;
        }
        let mut remainder = 0u32;
        for _ in 0..RICE_BITS {
            remainder = (remainder << 1) | u32::from(self.bit()?);
        }
        Some((quotient << RICE_BITS) | remainder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_common_passwords_are_common() {
        for p in ["password", "12345678", "iloveyou", "qwertyuiop", "1q2w3e4r5t"] {
            assert!(is_common(p), "{p} should be common");
        }
    }

    #[test]
    fn the_check_ignores_case() {
        assert!(is_common("Password"));
        assert!(is_common("QWERTYUIOP"));
        assert!(is_common("ILoveYou"));
    }

    #[test]
    fn uncommon_passwords_are_not_common() {
        assert!(!is_common("q7Xv2LmP9zR4tWk8NbC3"));
        assert!(!is_common("correct horse battery staple variant 42"));
        assert!(!is_common(""));
    }

    /// Leaving out the short entries is sound only while no password that short is accepted.
    #[test]
    fn no_password_shorter_than_the_coded_entries_is_ever_checked() {
        const { assert!(crate::policy::DEFAULT_MIN_LENGTH >= MIN_CODED_LENGTH) };
        let policy = crate::policy::PasswordPolicy::default();
        let refused = policy.check("password", "qwerty", "").unwrap_err();
        assert_eq!(refused.code, "too_short", "a listed 6-character password is refused for its length");
    }

    #[test]
    fn the_list_has_at_least_ten_thousand_entries() {
        const { assert!(COUNT >= 10_000, "fewer than 10,000 common passwords") };
        const { assert!(CODED > 3_000 && CODED < COUNT) };
        // Distinct 30-bit prefixes: at most CODED, and collisions among a few thousand are rare.
        const { assert!(HASHES <= CODED && HASHES >= CODED - 5) };
        // The coded set is compact: in practice < 20 bits each.
        assert!(COMMON_PASSWORD_CODES.len() * 8 < HASHES * 20, "{} bytes", COMMON_PASSWORD_CODES.len());
    }

    /// Every coded line of the data file is found, and only the short ones are left out: the build step
    /// cannot silently drop entries.
    #[test]
    fn every_listed_password_of_a_checkable_length_is_common() {
        let list = include_str!("../data/common-passwords.txt");
        let entries: Vec<&str> = list.lines().collect();
        assert_eq!(entries.len(), COUNT);
        // Decode the whole set once, then check every entry against it (thousands of `is_common` calls
        // would decode it each time); `is_common` itself runs on every 50th entry.
        let mut bits = BitReader { bytes: &COMMON_PASSWORD_CODES, at: 0 };
        let mut value = 0u32;
        let decoded: Vec<u32> = (0..HASHES)
            .map(|_| {
                value += bits.rice().expect("the code holds HASHES values");
                value
            })
            .collect();
        let checkable: Vec<&&str> =
            entries.iter().filter(|p| p.chars().count() >= MIN_CODED_LENGTH).collect();
        assert_eq!(checkable.len(), CODED);
        for (i, p) in checkable.iter().enumerate() {
            assert!(decoded.binary_search(&prefix_hash(p)).is_ok(), "{p:?} is listed but not coded");
            if i % 50 == 0 {
                assert!(is_common(p), "{p:?} is listed but not found");
            }
        }
        assert!(entries.iter().all(|p| !p.is_empty()), "the data file has an empty line");
    }
}
