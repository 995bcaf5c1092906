//! Authenticator data (§6.1): `rpIdHash` (32) || flags (1) || `signCount` (4, big-endian) ||
//! attested credential data (when AT) || extensions (a CBOR map, when ED).
//! Attested credential data (§6.5.1): `aaguid` (16) || `credentialIdLength` (2, big-endian) ||
//! `credentialId` || `credentialPublicKey` (one COSE_Key, CBOR).

use super::cbor;
use super::json::MAX_CREDENTIAL_ID;
use super::RelyingParty;
use super::WebauthnError::{self, *};
use minicbor::Decoder;
use sha2::{Digest, Sha256};

/// Flag bits (§6.1, "flags").
pub(crate) mod flags {
    /// User Present.
    pub const UP: u8 = 0x01;
    /// User Verified.
    pub const UV: u8 = 0x04;
    /// Backup Eligibility.
    pub const BE: u8 = 0x08;
    /// Backup State.
    pub const BS: u8 = 0x10;
    /// Attested credential data included.
    pub const AT: u8 = 0x40;
    /// Extension data included.
    pub const ED: u8 = 0x80;
}

/// `rpIdHash` || flags || `signCount`.
const FIXED_LEN: usize = 37;
/// `aaguid` || `credentialIdLength`.
const ATTESTED_FIXED_LEN: usize = 18;

#[derive(Debug, Clone)]
pub(crate) struct AuthenticatorData {
    /// The bytes as sent: signatures cover them (§7.2 step 21, §8.2).
    pub(crate) bytes: Vec<u8>,
    rp_id_hash: [u8; 32],
    pub(crate) flags: u8,
    pub(crate) sign_count: u32,
    pub(crate) attested: Option<AttestedCredentialData>,
}

#[derive(Debug, Clone)]
pub(crate) struct AttestedCredentialData {
    pub(crate) aaguid: [u8; 16],
    pub(crate) credential_id: Vec<u8>,
    /// The COSE_Key exactly as sent (one CBOR map).
    pub(crate) public_key: Vec<u8>,
}

impl AuthenticatorData {
    /// Decodes the structure; judges nothing but its form. Every byte must be accounted for: after
    /// the COSE key (or the fixed part) only an extensions map, and only when ED says one follows.
    pub(crate) fn parse(bytes: Vec<u8>) -> Result<Self, WebauthnError> {
        const SHORT: &str = "The authenticator data is truncated.";
        let fixed = bytes.get(..FIXED_LEN).ok_or(Malformed(SHORT))?;
        let mut rp_id_hash = [0u8; 32];
        rp_id_hash.copy_from_slice(&fixed[..32]);
        let flags = fixed[32];
        let sign_count = u32::from_be_bytes([fixed[33], fixed[34], fixed[35], fixed[36]]);

        let mut rest = &bytes[FIXED_LEN..];
        let attested = if flags & flags::AT != 0 {
            let (attested, after) = parse_attested(rest)?;
            rest = after;
            Some(attested)
        } else {
            None
        };
        if flags & flags::ED != 0 {
            // The extensions are not used (§7.1 step 28 / §7.2 step 23 let us ignore them), but
            // they must be one well-formed map that ends the data.
            let mut d = Decoder::new(rest);
            const BAD: &str = "The authenticator extensions are not one CBOR map.";
            if !cbor::is_map(&d) {
                return Err(Malformed(BAD));
            }
            cbor::skip(&mut d, BAD)?;
            rest = &rest[d.position()..];
        }
        if !rest.is_empty() {
            return Err(Malformed("The authenticator data has trailing bytes."));
        }
        Ok(Self { rp_id_hash, flags, sign_count, attested, bytes })
    }

    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The checks on authenticator data common to both ceremonies: §7.1 steps 14-17 and §7.2 steps
    /// 15-18 (the same four, in the same order).
    pub(crate) fn verify_common(&self, rp: &RelyingParty<'_>) -> Result<(), WebauthnError> {
        // §7.1 step 14 / §7.2 step 15.
        if self.rp_id_hash != <[u8; 32]>::from(Sha256::digest(rp.id.as_bytes())) {
            return Err(RpIdMismatch);
        }
        // §7.1 step 15 / §7.2 step 16 (we never use conditional mediation for registration).
        if !self.has(flags::UP) {
            return Err(UserNotPresent);
        }
        // §7.1 step 16 / §7.2 step 17.
        if rp.require_user_verification && !self.has(flags::UV) {
            return Err(UserNotVerified);
        }
        // §7.1 step 17 / §7.2 step 18: a credential that cannot be backed up cannot be backed up.
        if self.has(flags::BS) && !self.has(flags::BE) {
            return Err(Malformed("The backup state flag is set without backup eligibility."));
        }
        Ok(())
    }
}

/// Attested credential data and what follows it.
fn parse_attested(bytes: &[u8]) -> Result<(AttestedCredentialData, &[u8]), WebauthnError> {
    const SHORT: &str = "The attested credential data is truncated.";
    let fixed = bytes.get(..ATTESTED_FIXED_LEN).ok_or(Malformed(SHORT))?;
    let mut aaguid = [0u8; 16];
    aaguid.copy_from_slice(&fixed[..16]);
    let id_len = usize::from(u16::from_be_bytes([fixed[16], fixed[17]]));
    // §7.1 step 25 (checked here so that a longer id is never copied).
    if id_len > MAX_CREDENTIAL_ID {
        return Err(Malformed("The credential id is longer than 1023 bytes."));
    }
    if id_len == 0 {
        return Err(Malformed("The attested credential id is empty."));
    }
    let rest = &bytes[ATTESTED_FIXED_LEN..];
    let credential_id = rest.get(..id_len).ok_or(Malformed(SHORT))?.to_vec();
    let rest = &rest[id_len..];

    // The COSE key's length is not written down: it ends where its CBOR map ends.
    const BAD_KEY: &str = "The credential public key is not one CBOR map.";
    let mut d = Decoder::new(rest);
    if !cbor::is_map(&d) {
        return Err(Malformed(BAD_KEY));
    }
    let key = cbor::skip(&mut d, BAD_KEY)?;
    let public_key = rest[key.clone()].to_vec();
    Ok((AttestedCredentialData { aaguid, credential_id, public_key }, &rest[key.end..]))
}
