//! The two Unicode operations the core needs: NFKC (passwords, NIST SP 800-63B §5.1.1.2) and lowercasing
//! (e-mail addresses, the common-password check), the same on every target so that a password hashed by
//! `edge-auth-cli` on the host verifies in the Worker. ASCII, nearly every input, takes a shortcut that
//! allocates nothing (NFKC) or skips the case tables (lowercasing).

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// Unicode NFKC normalisation (a no-op, without allocation, for ASCII).
pub fn nfkc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfkc().collect())
    }
}

/// Unicode lowercase (full case mapping, `str::to_lowercase`).
pub fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_takes_the_fast_path_and_the_rest_is_unicode_aware() {
        assert!(matches!(nfkc("plain-ascii"), Cow::Borrowed("plain-ascii")));
        assert_eq!(nfkc("ﬁ①"), "fi1");
        assert_eq!(lowercase("MiXeD-42"), "mixed-42");
        assert_eq!(lowercase("ÀÉÎ.ÕÜ@Exemple.FR"), "àéî.õü@exemple.fr");
        assert_eq!(lowercase("ΣΊΣΥΦΟΣ"), "σίσυφος", "final sigma");
    }

    #[test]
    fn compatibility_forms_and_composed_forms_meet() {
        // "é" precomposed and as e + combining acute: one password, whichever way a keyboard sends it.
        assert_eq!(nfkc("caf\u{e9}"), nfkc("cafe\u{301}"));
        assert_eq!(nfkc("Ｐａｓｓ"), "Pass", "fullwidth letters");
        assert_ne!(nfkc("caf\u{e9}"), "cafe", "normalisation is not accent stripping");
    }
}
