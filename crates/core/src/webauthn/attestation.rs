//! The attestation object (§6.5.4: a CBOR map `{fmt, attStmt, authData}`) and the two statement
//! formats we verify: `none` (§8.7) and `packed` self-attestation (§8.2, "If x5c is not present").

use super::authenticator_data::AuthenticatorData;
use super::cbor::{self, Key};
use super::cose::CredentialKey;
use super::WebauthnError::{self, *};
use minicbor::Decoder;

/// Attestation objects without certificates are a few hundred bytes; a packed statement with a
/// certificate chain a few kilobytes (we refuse those, but answer that rather than "too long").
pub(crate) const MAX_ATTESTATION_OBJECT: usize = 16 * 1024;
/// An attestation statement format identifier is at most 32 octets (§8.1).
const MAX_FMT_LEN: usize = 32;

#[derive(Debug, Clone)]
pub(crate) struct AttestationObject {
    pub(crate) fmt: String,
    /// The attStmt map's CBOR bytes, read by the verification of its format.
    att_stmt: Vec<u8>,
    pub(crate) auth_data: AuthenticatorData,
}

impl AttestationObject {
    /// §7.1 step 13: "Perform CBOR decoding on the attestationObject".
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, WebauthnError> {
        const BAD: &str = "The attestation object is not a CBOR map of fmt, attStmt and authData.";
        const TWICE: &str = "The attestation object repeats a member.";
        let mut d = Decoder::new(bytes);
        let entries = cbor::map(&mut d, BAD)?;
        let (mut fmt, mut att_stmt, mut auth_data) = (None, None, None);
        for _ in 0..entries {
            match cbor::key(&mut d, BAD)? {
                Key::Text("fmt") => {
                    let value = d.str().map_err(|_| Malformed(BAD))?;
                    if value.len() > MAX_FMT_LEN {
                        return Err(Malformed(BAD));
                    }
                    cbor::once(&mut fmt, value, TWICE)?;
                }
                Key::Text("attStmt") => {
                    if !cbor::is_map(&d) {
                        return Err(Malformed(BAD));
                    }
                    let range = cbor::skip(&mut d, BAD)?;
                    cbor::once(&mut att_stmt, &bytes[range], TWICE)?;
                }
                Key::Text("authData") => {
                    cbor::once(&mut auth_data, d.bytes().map_err(|_| Malformed(BAD))?, TWICE)?
                }
                // Members WebAuthn does not define (CTAP2's `epAtt`, `largeBlobKey` never reach a
                // page, but a client could add one): skipped.
                _ => {
                    cbor::skip(&mut d, BAD)?;
                }
            }
        }
        if d.position() != bytes.len() {
            return Err(Malformed("The attestation object has trailing bytes."));
        }
        let (Some(fmt), Some(att_stmt), Some(auth_data)) = (fmt, att_stmt, auth_data) else {
            return Err(Malformed(BAD));
        };
        Ok(Self {
            fmt: fmt.to_owned(),
            att_stmt: att_stmt.to_vec(),
            auth_data: AuthenticatorData::parse(auth_data.to_vec())?,
        })
    }

    /// §7.1 steps 21-24: the format (matched case-sensitively), its verification procedure, and our
    /// trust policy: no attestation, or self-attestation, both acceptable (step 24); certificates are
    /// not, since we keep no trust anchors to check them against (step 23).
    pub(crate) fn verify(
        &self,
        key: &CredentialKey,
        client_data_hash: &[u8; 32],
    ) -> Result<(), WebauthnError> {
        match self.fmt.as_str() {
            "none" => self.verify_none(),
            "packed" => self.verify_packed_self(key, client_data_hash),
            _ => Err(UnsupportedAttestation),
        }
    }

    /// §8.7: the statement is the empty map.
    fn verify_none(&self) -> Result<(), WebauthnError> {
        let mut d = Decoder::new(&self.att_stmt);
        match d.map() {
            Ok(Some(0)) if d.position() == self.att_stmt.len() => Ok(()),
            _ => Err(BadAttestation),
        }
    }

    /// §8.2 verification procedure, self attestation: `{alg, sig}`, alg the credential key's, sig a
    /// signature over authData || clientDataHash by the credential key.
    fn verify_packed_self(
        &self,
        key: &CredentialKey,
        client_data_hash: &[u8; 32],
    ) -> Result<(), WebauthnError> {
        // Any flaw in the statement is BadAttestation (the cbor helpers' messages are not used).
        let bad = |_| BadAttestation;
        let mut d = Decoder::new(&self.att_stmt);
        let entries = cbor::map(&mut d, "").map_err(bad)?;
        let (mut alg, mut sig, mut has_x5c) = (None, None, false);
        for _ in 0..entries {
            match cbor::key(&mut d, "").map_err(bad)? {
                Key::Text("alg") => {
                    cbor::once(&mut alg, d.i64().map_err(|_| BadAttestation)?, "").map_err(bad)?
                }
                Key::Text("sig") => {
                    cbor::once(&mut sig, d.bytes().map_err(|_| BadAttestation)?, "").map_err(bad)?
                }
                // Basic or AttCA attestation (a certificate chain), or the withdrawn ECDAA: not
                // verified (see `verify`).
                Key::Text("x5c") | Key::Text("ecdaaKeyId") => {
                    has_x5c = true;
                    cbor::skip(&mut d, "").map_err(bad)?;
                }
                _ => return Err(BadAttestation),
            }
        }
        if has_x5c {
            return Err(UnsupportedAttestation);
        }
        let (Some(alg), Some(sig)) = (alg, sig) else { return Err(BadAttestation) };
        if alg != key.algorithm() {
            return Err(BadAttestation);
        }
        let mut signed = Vec::with_capacity(self.auth_data.bytes.len() + client_data_hash.len());
        signed.extend_from_slice(&self.auth_data.bytes);
        signed.extend_from_slice(client_data_hash);
        key.verify(&signed, sig).map_err(|_| BadAttestation)
    }
}
