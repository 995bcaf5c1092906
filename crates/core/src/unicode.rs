//! The two Unicode operations the core needs: NFKC (passwords, NIST SP 800-63B §5.1.1.2) and lowercasing
//! (e-mail addresses, the common-password check). ASCII, nearly every input, never leaves Rust.
//!
//! The rest is a port: a [`TextBackend`] installed once. On the host (tests, `edge-auth-cli`) the
//! `rust-unicode` feature (default) provides one from `unicode-normalization` and `str::to_lowercase`;
//! the Worker builds the core without it and installs the JavaScript engine's own Unicode functions
//! (`String.prototype.normalize`, `toLowerCase`: src/adapters/text.rs), so its wasm carries no
//! normalisation or case tables (~60 KB gzipped, measured: BENCHMARKS.md). Both implement the same
//! Unicode standard, so a password hashed by `edge-auth-cli` verifies in the Worker; the HTTP tests
//! hash non-ASCII passwords on the host (Node's ICU) and log in with them.

use std::borrow::Cow;
use std::sync::OnceLock;

/// Unicode functions of the platform.
pub trait TextBackend: Sync {
    /// Unicode NFKC normalisation.
    fn nfkc(&self, s: &str) -> String;
    /// Unicode lowercase, full case mapping (as `str::to_lowercase`).
    fn lowercase(&self, s: &str) -> String;
}

static BACKEND: OnceLock<&'static dyn TextBackend> = OnceLock::new();

/// Installs the platform's Unicode functions; the first installation stays.
pub fn install(backend: &'static dyn TextBackend) {
    let _ = BACKEND.set(backend);
}

fn backend() -> &'static dyn TextBackend {
    #[cfg(feature = "rust-unicode")]
    {
        *BACKEND.get_or_init(|| &RustUnicode)
    }
    #[cfg(not(feature = "rust-unicode"))]
    {
        // A build without the Rust tables must install a backend before the first non-ASCII input:
        // hashing a password un-normalised would make a hash no other build verifies.
        *BACKEND.get().expect("no Unicode backend installed (edge_auth_core::unicode::install)")
    }
}

/// Unicode NFKC normalisation (a no-op, without allocation, for ASCII).
pub fn nfkc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(backend().nfkc(s))
    }
}

/// Unicode lowercase (full case mapping).
pub fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        backend().lowercase(s)
    }
}

/// The Rust implementations (`rust-unicode`).
#[cfg(feature = "rust-unicode")]
pub struct RustUnicode;

#[cfg(feature = "rust-unicode")]
impl TextBackend for RustUnicode {
    fn nfkc(&self, s: &str) -> String {
        unicode_normalization::UnicodeNormalization::nfkc(s).collect()
    }

    fn lowercase(&self, s: &str) -> String {
        s.to_lowercase()
    }
}

#[cfg(all(test, feature = "rust-unicode"))]
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
