//! Known answers: responses recorded from Chromium's virtual CTAP2 authenticator
//! (`tests/fixtures/webauthn/record.mjs`), and the W3C specification's own test vectors (§16).

use crate::b64::URL_SAFE_NO_PAD;
use crate::webauthn::attestation::AttestationObject;
use crate::webauthn::*;
use data_encoding::HEXLOWER;
use serde_json::{json, Value};

const CHROMIUM_ES256: &str = include_str!("../../../tests/fixtures/webauthn/chromium-es256.json");
const CHROMIUM_EDDSA: &str = include_str!("../../../tests/fixtures/webauthn/chromium-eddsa.json");
const SPEC_VECTORS: &str = include_str!("../../../tests/fixtures/webauthn/spec-vectors.json");

fn b64(value: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(value.as_str().expect("a base64url string")).expect("base64url")
}

fn hex(value: &Value) -> Vec<u8> {
    HEXLOWER.decode(value.as_str().expect("a hex string").as_bytes()).expect("hex")
}

/// A recorded registration verifies, and so do its two assertions in order; the first assertion
/// replayed after the second is refused by its counter, and its own challenge is the only one it
/// answers.
fn chromium_fixture_verifies(fixture: &str, algorithm: i64) {
    let fixture: Value = serde_json::from_str(fixture).unwrap();
    let origins = vec![fixture["origin"].as_str().unwrap().to_owned()];
    let rp = RelyingParty { id: "localhost", origins: &origins, require_user_verification: true };

    let registration = RegistrationResponse::parse(&fixture["registration"]["credential"]).unwrap();
    let challenge = b64(&fixture["registration"]["challenge"]);
    assert_eq!(registration.challenge(), challenge);
    let credential = registration.verify(&rp, &challenge).unwrap();
    assert_eq!(credential.id, b64(&fixture["registration"]["credential"]["rawId"]));
    assert_eq!(credential.algorithm, algorithm);
    assert_eq!(credential.attestation_format, "none");
    assert_eq!(credential.transports, ["internal"]);
    assert!(credential.user_verified);
    assert!(!credential.backup_eligible && !credential.backup_state);
    assert_eq!(credential.sign_count, 1);
    // Chromium's virtual authenticator's AAGUID.
    assert_eq!(aaguid_string(&credential.aaguid), "01020304-0506-0708-0102-030405060708");
    // The stored key is the COSE_Key inside the authenticator data, byte for byte.
    let auth_data = b64(&fixture["registration"]["credential"]["response"]["authenticatorData"]);
    assert!(auth_data.ends_with(&credential.public_key));
    // A registration is not an assertion: the same bytes do not verify as one.
    assert!(AssertionResponse::parse(&fixture["registration"]["credential"]).is_err());

    let stored = |sign_count| StoredCredential {
        public_key: &credential.public_key,
        algorithm: credential.algorithm,
        sign_count,
    };
    let mut sign_count = credential.sign_count;
    let mut first = None;
    for recorded in fixture["assertions"].as_array().unwrap() {
        let assertion = AssertionResponse::parse(&recorded["credential"]).unwrap();
        let challenge = b64(&recorded["challenge"]);
        assert_eq!(assertion.challenge(), challenge);
        assert_eq!(assertion.credential_id(), credential.id);
        assert_eq!(assertion.user_handle(), Some(b64(&fixture["user_id"]).as_slice()));
        let verified = assertion.verify(&rp, &challenge, &stored(sign_count)).unwrap();
        assert_eq!(verified.sign_count, sign_count + 1);
        assert!(verified.user_verified);
        sign_count = verified.sign_count;
        first.get_or_insert((assertion, challenge));
    }
    let (first, first_challenge) = first.unwrap();
    assert_eq!(
        first.verify(&rp, &first_challenge, &stored(sign_count)),
        Err(WebauthnError::SignCountRegressed)
    );
    let second_challenge = b64(&fixture["assertions"][1]["challenge"]);
    assert_eq!(first.verify(&rp, &second_challenge, &stored(1)), Err(WebauthnError::ChallengeMismatch));
    // Registered under another RP ID or seen from another origin, the same bytes are refused.
    let other_rp = RelyingParty { id: "example.com", ..rp };
    assert_eq!(first.verify(&other_rp, &first_challenge, &stored(1)), Err(WebauthnError::RpIdMismatch));
    let other_origins = vec!["http://localhost:1".to_owned()];
    let other_origin = RelyingParty { origins: &other_origins, ..rp };
    assert_eq!(
        first.verify(&other_origin, &first_challenge, &stored(1)),
        Err(WebauthnError::OriginNotAllowed)
    );
}

#[test]
fn chromium_es256_registration_and_assertions_verify() {
    chromium_fixture_verifies(CHROMIUM_ES256, -7);
}

#[test]
fn chromium_eddsa_registration_and_assertions_verify() {
    chromium_fixture_verifies(CHROMIUM_EDDSA, -8);
}

/// One §16 vector in the JSON forms a page would send.
struct SpecVector(Value);

impl SpecVector {
    fn named(name: &str) -> Self {
        let all: Value = serde_json::from_str(SPEC_VECTORS).unwrap();
        let vector = all["vectors"].as_array().unwrap().iter().find(|v| v["name"] == name);
        Self(vector.unwrap_or_else(|| panic!("no spec vector {name}")).clone())
    }

    fn registration_json(&self) -> Value {
        let id = URL_SAFE_NO_PAD.encode(hex(&self.0["credential_id"]));
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(hex(&self.0["registration_client_data_json"])),
                "attestationObject": URL_SAFE_NO_PAD.encode(hex(&self.0["attestation_object"])),
            },
        })
    }

    fn assertion_json(&self) -> Value {
        let id = URL_SAFE_NO_PAD.encode(hex(&self.0["credential_id"]));
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(hex(&self.0["authentication_client_data_json"])),
                "authenticatorData": URL_SAFE_NO_PAD.encode(hex(&self.0["authenticator_data"])),
                "signature": URL_SAFE_NO_PAD.encode(hex(&self.0["signature"])),
            },
        })
    }

    fn registration_challenge(&self) -> Vec<u8> {
        hex(&self.0["registration_challenge"])
    }

    fn authentication_challenge(&self) -> Vec<u8> {
        hex(&self.0["authentication_challenge"])
    }

    /// The credential key, read from the attestation object without verifying the registration
    /// (for vectors whose attestation we refuse but whose assertion is still a known answer).
    fn cose_key(&self) -> Vec<u8> {
        let object = AttestationObject::parse(&hex(&self.0["attestation_object"])).unwrap();
        object.auth_data.attested.unwrap().public_key
    }

    fn register(&self) -> Result<NewCredential, WebauthnError> {
        let response = RegistrationResponse::parse(&self.registration_json())?;
        assert_eq!(response.challenge(), self.registration_challenge());
        response.verify(&spec_rp(), &self.registration_challenge())
    }

    fn authenticate(&self, public_key: &[u8], algorithm: i64) -> Result<Assertion, WebauthnError> {
        let response = AssertionResponse::parse(&self.assertion_json())?;
        let stored = StoredCredential { public_key, algorithm, sign_count: 0 };
        response.verify(&spec_rp(), &self.authentication_challenge(), &stored)
    }
}

fn spec_rp() -> RelyingParty<'static> {
    static ORIGINS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let origins = ORIGINS.get_or_init(|| vec!["https://example.org".to_owned()]);
    RelyingParty { id: "example.org", origins, require_user_verification: false }
}

#[test]
fn spec_vector_es256_none_attestation() {
    let vector = SpecVector::named("none-es256");
    let credential = vector.register().unwrap();
    assert_eq!(credential.id, hex(&vector.0["credential_id"]));
    assert_eq!(credential.aaguid.as_slice(), hex(&vector.0["aaguid"]));
    assert_eq!(aaguid_string(&credential.aaguid), "8446ccb9-ab1d-b374-750b-2367ff6f3a1f");
    assert_eq!((credential.algorithm, credential.sign_count), (-7, 0));
    assert_eq!(credential.attestation_format, "none");
    assert!(credential.transports.is_empty());
    // Flags 0x59: UP, BE, BS, AT; no UV.
    assert!(credential.backup_eligible && credential.backup_state && !credential.user_verified);

    let assertion = vector.authenticate(&credential.public_key, credential.algorithm).unwrap();
    // Both counters zero is no regression (§7.2 step 22 applies only to non-zero counters).
    assert_eq!(
        assertion,
        Assertion { sign_count: 0, user_verified: false, backup_eligible: true, backup_state: true }
    );
    // The vector's credential was not user-verified: a relying party that requires it refuses both.
    let origins = vec!["https://example.org".to_owned()];
    let strict = RelyingParty { id: "example.org", origins: &origins, require_user_verification: true };
    let response = RegistrationResponse::parse(&vector.registration_json()).unwrap();
    assert_eq!(
        response.verify(&strict, &vector.registration_challenge()),
        Err(WebauthnError::UserNotVerified)
    );
}

#[test]
fn spec_vector_es256_packed_self_attestation() {
    let vector = SpecVector::named("packed-self-es256");
    let credential = vector.register().unwrap();
    assert_eq!(credential.attestation_format, "packed");
    assert!(credential.user_verified);
    let assertion = vector.authenticate(&credential.public_key, credential.algorithm).unwrap();
    assert_eq!(assertion.sign_count, 0);
}

#[test]
fn spec_vector_es256_with_a_1023_byte_credential_id() {
    let vector = SpecVector::named("none-es256-long-credential-id");
    let credential = vector.register().unwrap();
    assert_eq!(credential.id.len(), 1023);
    vector.authenticate(&credential.public_key, credential.algorithm).unwrap();
}

#[test]
fn spec_vector_eddsa_assertion_verifies_though_its_certificate_attestation_is_refused() {
    let vector = SpecVector::named("packed-eddsa");
    // Packed with an x5c chain: we keep no trust anchors.
    assert_eq!(vector.register(), Err(WebauthnError::UnsupportedAttestation));
    let assertion = vector.authenticate(&vector.cose_key(), -8).unwrap();
    assert_eq!(assertion.sign_count, 0);
    // The same assertion checked against the key stored as another algorithm is refused.
    assert_eq!(vector.authenticate(&vector.cose_key(), -7), Err(WebauthnError::BadKey));
}

#[test]
fn spec_vectors_in_cross_origin_frames_are_refused() {
    for name in ["none-es256-crossOrigin", "none-es256-topOrigin"] {
        let vector = SpecVector::named(name);
        assert_eq!(vector.register(), Err(WebauthnError::CrossOrigin), "{name}");
        // Their assertions were made in the frame too.
        assert_eq!(vector.authenticate(&vector.cose_key(), -7), Err(WebauthnError::CrossOrigin), "{name}");
    }
}

#[test]
fn spec_vectors_with_certificate_attestation_are_unsupported() {
    for name in ["packed-es256", "tpm-es256", "android-key-es256", "apple-es256", "fido-u2f-es256"] {
        let vector = SpecVector::named(name);
        assert_eq!(vector.register(), Err(WebauthnError::UnsupportedAttestation), "{name}");
        // Their assertions are plain ES256 and verify.
        vector.authenticate(&vector.cose_key(), -7).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[test]
fn spec_vectors_of_other_algorithms_are_unsupported() {
    for name in ["packed-es384", "packed-es512", "packed-rs256", "packed-ed448"] {
        let vector = SpecVector::named(name);
        assert_eq!(vector.register(), Err(WebauthnError::UnsupportedAlgorithm), "{name}");
    }
}

#[test]
fn aaguid_string_is_the_8_4_4_4_12_lowercase_form() {
    let aaguid = *b"\xad\xce\x00\x02\x35\xbc\xc6\x0a\x64\x8b\x0b\x25\xf1\xf0\x55\x03";
    assert_eq!(aaguid_string(&aaguid), "adce0002-35bc-c60a-648b-0b25f1f05503");
    assert_eq!(aaguid_string(&[0; 16]), "00000000-0000-0000-0000-000000000000");
}
