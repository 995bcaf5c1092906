//! Registration: `RegistrationResponseJSON` (§5.1) and the Relying Party steps of §7.1.

use super::attestation::{AttestationObject, MAX_ATTESTATION_OBJECT};
use super::authenticator_data::flags;
use super::client_data::{Ceremony, ClientData};
use super::cose::CredentialKey;
use super::json::{self, MAX_CLIENT_DATA_JSON};
use super::RelyingParty;
use super::WebauthnError::{self, *};
use serde_json::Value;

/// The transports we keep (`AuthenticatorTransport`, §5.8.4, plus `cable`, the name older Chromium
/// used for `hybrid`); others are dropped, as §5.2.1's `getTransports()` tells clients to do with
/// values they do not know. At most this many are read.
const KNOWN_TRANSPORTS: [&str; 7] = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal", "cable"];
const MAX_TRANSPORTS: usize = 16;

/// A decoded registration response; [`verify`](Self::verify) judges it.
#[derive(Debug, Clone)]
pub struct RegistrationResponse {
    is_public_key: bool,
    raw_id: Vec<u8>,
    client_data: ClientData,
    attestation: AttestationObject,
    transports: Vec<String>,
}

/// A verified new credential, what §7.1 step 27 says to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub id: Vec<u8>,
    /// The COSE_Key CBOR bytes as the authenticator sent them.
    pub public_key: Vec<u8>,
    pub algorithm: i64,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub aaguid: [u8; 16],
    pub transports: Vec<String>,
    pub attestation_format: String,
}

impl RegistrationResponse {
    /// Decodes `{id, rawId, type, response: {clientDataJSON, attestationObject, transports?}}`.
    /// Judges only the form; other members (`clientExtensionResults`, `authenticatorAttachment`, and
    /// the response's `authenticatorData`/`publicKey` conveniences, which repeat the attestation
    /// object) are ignored: only the attestation object is what the authenticator produced.
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
        let attestation_object = json::base64url(
            response,
            "attestationObject",
            MAX_ATTESTATION_OBJECT,
            "attestationObject is missing, not base64url or too long.",
        )?;
        Ok(Self {
            is_public_key,
            raw_id,
            client_data: ClientData::parse(&client_data_json)?,
            attestation: AttestationObject::parse(&attestation_object)?,
            transports: transports(response.get("transports"))?,
        })
    }

    /// The challenge in `clientDataJSON`, to find the ceremony the caller started.
    pub fn challenge(&self) -> &[u8] {
        &self.client_data.challenge
    }

    /// §7.1 steps 7-25 (step 26, that the credential id is new, is the caller's).
    pub fn verify(
        &self,
        rp: &RelyingParty<'_>,
        expected_challenge: &[u8],
    ) -> Result<NewCredential, WebauthnError> {
        // §7.1 step 3: a public key credential.
        if !self.is_public_key {
            return Err(WrongType);
        }
        // Steps 7-11.
        self.client_data.verify(Ceremony::Create, rp, expected_challenge)?;
        // Step 12 is `client_data.hash`; step 13 was `parse`. Steps 14-17.
        let auth_data = &self.attestation.auth_data;
        auth_data.verify_common(rp)?;
        let attested = auth_data.attested.as_ref().ok_or(NoCredentialData)?;
        // The credential the client names is the one the authenticator attested (§6.5.1; rawId is
        // what assertions will name). Step 25 (≤ 1023 bytes) held when both were decoded.
        if attested.credential_id != self.raw_id {
            return Err(Malformed("The attested credential id is not rawId."));
        }
        // Step 20: an algorithm we offered, and a valid key of it.
        let key = CredentialKey::from_cose(&attested.public_key)?;
        // Steps 21-24.
        self.attestation.verify(&key, &self.client_data.hash)?;
        Ok(NewCredential {
            id: self.raw_id.clone(),
            public_key: attested.public_key.clone(),
            algorithm: key.algorithm(),
            sign_count: auth_data.sign_count,
            user_verified: auth_data.has(flags::UV),
            backup_eligible: auth_data.has(flags::BE),
            backup_state: auth_data.has(flags::BS),
            aaguid: attested.aaguid,
            transports: self.transports.clone(),
            attestation_format: self.attestation.fmt.clone(),
        })
    }
}

/// `response.transports` (§5.2.1, `getTransports()`): known strings, each once, in order.
fn transports(value: Option<&Value>) -> Result<Vec<String>, WebauthnError> {
    const BAD: &str = "The transports are not a short list of strings.";
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() <= MAX_TRANSPORTS => list,
        Some(_) => return Err(Malformed(BAD)),
    };
    let mut kept: Vec<String> = Vec::new();
    for item in list {
        let name = item.as_str().ok_or(Malformed(BAD))?;
        if KNOWN_TRANSPORTS.contains(&name) && !kept.iter().any(|k| k == name) {
            kept.push(name.to_owned());
        }
    }
    Ok(kept)
}
