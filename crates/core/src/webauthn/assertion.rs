//! Authentication: `AuthenticationResponseJSON` (§5.1) and the Relying Party steps of §7.2.

use super::authenticator_data::{flags, AuthenticatorData};
use super::client_data::{Ceremony, ClientData};
use super::cose::CredentialKey;
use super::json::{self, MAX_CLIENT_DATA_JSON, MAX_USER_HANDLE};
use super::RelyingParty;
use super::WebauthnError::{self, *};
use serde_json::Value;

/// Assertion authenticator data is 37 bytes plus any extensions.
const MAX_AUTHENTICATOR_DATA: usize = 4 * 1024;
/// A DER ES256 signature is at most 72 bytes, an Ed25519 one 64.
const MAX_SIGNATURE: usize = 256;

/// A decoded assertion; [`verify`](Self::verify) judges it against the stored credential.
#[derive(Debug, Clone)]
pub struct AssertionResponse {
    is_public_key: bool,
    raw_id: Vec<u8>,
    client_data: ClientData,
    auth_data: AuthenticatorData,
    signature: Vec<u8>,
    user_handle: Option<Vec<u8>>,
}

/// What the caller stored at registration ([`super::NewCredential`]).
#[derive(Debug, Clone, Copy)]
pub struct StoredCredential<'a> {
    pub public_key: &'a [u8],
    pub algorithm: i64,
    pub sign_count: u32,
}

/// A verified assertion: the new state of the credential record (§7.2 step 24).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backup_state: bool,
}

impl AssertionResponse {
    /// Decodes `{id, rawId, type, response: {clientDataJSON, authenticatorData, signature,
    /// userHandle?}}`; judges only the form.
    pub fn parse(value: &Value) -> Result<Self, WebauthnError> {
        let (object, is_public_key) = json::credential_object(value)?;
        let raw_id = json::credential_id(object)?;
        let response = json::response(object)?;
        let client_data_json = json::base64url(
            response,
            "clientDataJSON",
            MAX_CLIENT_DATA_JSON,
            "clientDataJSON is missing, not base64url or too long.",
        )?;
        let auth_data = json::base64url(
            response,
            "authenticatorData",
            MAX_AUTHENTICATOR_DATA,
            "authenticatorData is missing, not base64url or too long.",
        )?;
        let signature = json::base64url(
            response,
            "signature",
            MAX_SIGNATURE,
            "The signature is missing, not base64url or too long.",
        )?;
        let user_handle = json::optional_base64url(
            response,
            "userHandle",
            MAX_USER_HANDLE,
            "userHandle is not base64url or is longer than 64 bytes.",
        )?;
        let auth_data = AuthenticatorData::parse(auth_data)?;
        // Assertions carry no attested credential data (§6.1: AT is for registrations).
        if auth_data.has(flags::AT) {
            return Err(Malformed("The assertion's authenticator data has attested credential data."));
        }
        Ok(Self {
            is_public_key,
            raw_id,
            client_data: ClientData::parse(&client_data_json)?,
            auth_data,
            signature,
            user_handle,
        })
    }

    /// `rawId`: which stored credential to verify against (§7.2 step 6).
    pub fn credential_id(&self) -> &[u8] {
        &self.raw_id
    }

    /// The user handle, when the authenticator returned one (discoverable credentials); the caller
    /// checks it is the credential's user (§7.2 step 6).
    pub fn user_handle(&self) -> Option<&[u8]> {
        self.user_handle.as_deref()
    }

    /// The challenge in `clientDataJSON`, to find the ceremony the caller started.
    pub fn challenge(&self) -> &[u8] {
        &self.client_data.challenge
    }

    /// §7.2 steps 10-22 against the credential the caller looked up by [`credential_id`](Self::credential_id).
    pub fn verify(
        &self,
        rp: &RelyingParty<'_>,
        expected_challenge: &[u8],
        stored: &StoredCredential<'_>,
    ) -> Result<Assertion, WebauthnError> {
        // §7.2 step 3: a public key credential.
        if !self.is_public_key {
            return Err(WrongType);
        }
        // Steps 10-14.
        self.client_data.verify(Ceremony::Get, rp, expected_challenge)?;
        // Steps 15-18.
        self.auth_data.verify_common(rp)?;
        // Step 21 with the hash of step 20: the signature over authenticatorData || SHA-256(cData).
        let key = CredentialKey::from_cose(stored.public_key).map_err(|_| BadKey)?;
        if key.algorithm() != stored.algorithm {
            return Err(BadKey);
        }
        let mut signed = Vec::with_capacity(self.auth_data.bytes.len() + self.client_data.hash.len());
        signed.extend_from_slice(&self.auth_data.bytes);
        signed.extend_from_slice(&self.client_data.hash);
        key.verify(&signed, &self.signature)?;
        // Step 22: a counter that is used must go up. Both zero means the authenticator keeps none
        // (passkey providers that sync); anything else not above the stored value may be a clone,
        // and we fail the ceremony (the choice step 22 leaves to us).
        let new = self.auth_data.sign_count;
        if (new != 0 || stored.sign_count != 0) && new <= stored.sign_count {
            return Err(SignCountRegressed);
        }
        Ok(Assertion {
            sign_count: new,
            user_verified: self.auth_data.has(flags::UV),
            backup_eligible: self.auth_data.has(flags::BE),
            backup_state: self.auth_data.has(flags::BS),
        })
    }
}
