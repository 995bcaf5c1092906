//! WebAuthn (passkey) verification, pure: registrations (`navigator.credentials.create()`) and
//! assertions (`navigator.credentials.get()`) in their JSON forms (`PublicKeyCredential.toJSON()`,
//! W3C Web Authentication Level 3 §5.1), checked the way the Relying Party steps of §7.1 and §7.2 say.
//!
//! - ES256 (COSE -7, ECDSA P-256 with SHA-256) with RustCrypto's `p256`; EdDSA (COSE -8, Ed25519)
//!   with `ed25519-compact`. No other algorithm ([`ALGORITHMS`]).
//! - Attestation `none`, or `packed` self-attestation (signed by the credential key itself). Other
//!   formats and attestation certificates (`x5c`) are refused: we keep no trust anchors (§7.1 step 23),
//!   so a certificate would prove nothing we could check.
//! - No I/O: the caller finds the challenge it issued ([`RegistrationResponse::challenge`]), the
//!   stored credential ([`AssertionResponse::credential_id`]) and checks the user handle and that the
//!   credential id is new (§7.2 steps 5-7, §7.1 step 26); this module does the rest.
//!
//! Step numbers are those of the Level 3 text (w3c/webauthn `index.bs`, §7.1 "Registering a New
//! Credential", §7.2 "Verifying an Authentication Assertion"), counted in that document.
//!
//! Parsing ([`RegistrationResponse::parse`], [`AssertionResponse::parse`]) only decodes: every size is
//! bounded before anything is decoded, nothing panics on input, and every refusal is a
//! [`WebauthnError`] whose [`reason`](WebauthnError::reason) is safe to show a client.

mod assertion;
mod attestation;
mod authenticator_data;
mod cbor;
mod client_data;
mod cose;
mod error;
mod json;
mod registration;

#[cfg(test)]
pub(crate) mod tests;

pub use assertion::{Assertion, AssertionResponse, StoredCredential};
pub use error::WebauthnError;
pub use registration::{NewCredential, RegistrationResponse};

/// The COSE algorithms we verify, in our order of preference (the order of `pubKeyCredParams`):
/// EdDSA (-8, Ed25519 only: §5.8.5) then ES256 (-7, P-256 only) [IANA COSE Algorithms; RFC 9053 §2].
pub const ALGORITHMS: [i64; 2] = [cose::EDDSA, cose::ES256];

/// Who we are to the authenticator: the RP ID the credential is scoped to (`rpIdHash` is its
/// SHA-256, §6.1), the exact origins whose pages may run the ceremony (§13.4.9: compared as whole
/// strings, so `https://a.example.com` does not allow `https://b.example.com`), and whether the UV flag
/// is required (`userVerification: "required"`, §7.1 step 16, §7.2 step 17).
#[derive(Debug, Clone, Copy)]
pub struct RelyingParty<'a> {
    pub id: &'a str,
    pub origins: &'a [String],
    pub require_user_verification: bool,
}

/// An AAGUID (§6.5.1) in the 8-4-4-4-12 lowercase hex form of RFC 9562 §4 (the form metadata
/// services and the passkey view use).
pub fn aaguid_string(aaguid: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, byte) in aaguid.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";
