//! The two Unicode operations the core needs: NFKC (passwords, NIST SP 800-63B §5.1.1.2) and lowercasing
//! (e-mail addresses, the common-password check). ASCII, nearly every input, never leaves Rust.
//!
//! In a Worker the JavaScript engine's own Unicode data does the rest (`String.prototype.normalize`,
//! `toLowerCase`), so the wasm carries no normalisation or case tables: `unicode-normalization` would add
//! ~300 KB, Rust's `str::to_lowercase` ~15 KB (BENCHMARKS.md, "Size"). On the host (tests, the admin
//! CLI) the Rust implementations do it.

use std::borrow::Cow;

/// Unicode NFKC normalisation (a no-op, without allocation, for ASCII).
pub fn nfkc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(platform::nfkc(s))
    }
}

/// Unicode lowercase (full case mapping, as `str::to_lowercase` and `String.prototype.toLowerCase`).
pub fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        platform::lowercase(s)
    }
}

#[cfg(target_arch = "wasm32")]
mod platform {
    use js_sys::JsString;

    pub fn nfkc(s: &str) -> String {
        JsString::from(s).normalize("NFKC").into()
    }

    pub fn lowercase(s: &str) -> String {
        JsString::from(s).to_lower_case().into()
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod platform {
    pub fn nfkc(s: &str) -> String {
        unicode_normalization::UnicodeNormalization::nfkc(s).collect()
    }

    pub fn lowercase(s: &str) -> String {
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
}
