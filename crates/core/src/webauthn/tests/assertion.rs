//! Assertions (§7.2): the happy paths with test keys, then one refusal per check, each changing one
//! thing of an otherwise valid, correctly signed assertion.

use super::authenticator::*;
use crate::webauthn::authenticator_data::flags::*;
use crate::webauthn::WebauthnError::{self, *};
use crate::webauthn::{Assertion, AssertionResponse, StoredCredential};
use p256::elliptic_curve::ff::PrimeField;

const STORED_COUNT: u32 = 7;

fn verify(authentication: &Authentication) -> Result<Assertion, WebauthnError> {
    verify_with(authentication, false, STORED_COUNT)
}

fn verify_with(
    authentication: &Authentication,
    require_uv: bool,
    stored_count: u32,
) -> Result<Assertion, WebauthnError> {
    let origins = origins();
    let (public_key, algorithm) = authentication.stored_key();
    let stored = StoredCredential { public_key: &public_key, algorithm, sign_count: stored_count };
    AssertionResponse::parse(&authentication.json())?.verify(
        &relying_party(&origins, require_uv),
        &CHALLENGE,
        &stored,
    )
}

fn es256() -> Authentication {
    Authentication::new(TestKey::es256())
}

#[test]
fn es256_and_eddsa_assertions_verify() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let authentication = Authentication::new(key);
        assert_eq!(
            verify_with(&authentication, true, STORED_COUNT).unwrap(),
            Assertion { sign_count: 8, user_verified: true, backup_eligible: false, backup_state: false }
        );
        let response = AssertionResponse::parse(&authentication.json()).unwrap();
        assert_eq!(response.credential_id(), b"test-credential-id-0001");
        assert_eq!(response.user_handle(), Some(b"user-0001".as_slice()));
        assert_eq!(response.challenge(), CHALLENGE);
    }
}

#[test]
fn backup_flags_are_reported() {
    let authentication =
        Authentication { auth: AuthDataSpec { flags: UP | BE | BS, ..es256().auth }, ..es256() };
    let assertion = verify(&authentication).unwrap();
    assert!(assertion.backup_eligible && assertion.backup_state && !assertion.user_verified);
}

#[test]
fn a_missing_null_or_empty_user_handle_is_none() {
    let authentication = Authentication { user_handle: None, ..es256() };
    assert_eq!(AssertionResponse::parse(&authentication.json()).unwrap().user_handle(), None);
    let mut json = authentication.json();
    json["response"].as_object_mut().unwrap().remove("userHandle");
    assert_eq!(AssertionResponse::parse(&json).unwrap().user_handle(), None);
    json["response"]["userHandle"] = "".into();
    assert_eq!(AssertionResponse::parse(&json).unwrap().user_handle(), None);
}

#[test]
fn refuses_a_user_handle_over_64_bytes() {
    let authentication = Authentication { user_handle: Some(vec![1; 65]), ..es256() };
    assert!(matches!(AssertionResponse::parse(&authentication.json()), Err(Malformed(_))));
    let authentication = Authentication { user_handle: Some(vec![1; 64]), ..es256() };
    AssertionResponse::parse(&authentication.json()).unwrap();
}

#[test]
fn high_s_es256_signatures_verify() {
    // Both (r, s) and (r, n - s) are valid ECDSA signatures; authenticators make either (only
    // Bitcoin-style verifiers insist on low S). p256 verifies plain ECDSA, so both must pass.
    let authentication = es256();
    let json = authentication.json();
    let der = crate::b64::URL_SAFE_NO_PAD.decode(json["response"]["signature"].as_str().unwrap()).unwrap();
    let signature = p256::ecdsa::Signature::from_der(&der).unwrap();
    let (r, s) = (signature.r(), signature.s());
    let negated = p256::ecdsa::Signature::from_scalars(r.to_repr(), (-*s).to_repr()).unwrap();
    let high = if signature.normalize_s().is_some() { signature } else { negated };
    assert!(high.normalize_s().is_some(), "the signature under test has a high S");
    for form in [signature, negated] {
        let mut json = json.clone();
        json["response"]["signature"] = crate::b64::URL_SAFE_NO_PAD.encode(form.to_der().as_bytes()).into();
        let origins = origins();
        let (public_key, algorithm) = authentication.stored_key();
        let stored = StoredCredential { public_key: &public_key, algorithm, sign_count: STORED_COUNT };
        let response = AssertionResponse::parse(&json).unwrap();
        response.verify(&relying_party(&origins, false), &CHALLENGE, &stored).unwrap();
    }
}

#[test]
fn refuses_the_wrong_client_data_type() {
    let authentication =
        Authentication { client: ClientDataSpec { kind: "webauthn.create", ..es256().client }, ..es256() };
    assert_eq!(verify(&authentication), Err(WrongType));
    let authentication =
        Authentication { client: ClientDataSpec { kind: "payment.get", ..es256().client }, ..es256() };
    assert_eq!(verify(&authentication), Err(WrongType));
}

#[test]
fn refuses_a_credential_type_other_than_public_key() {
    let mut json = es256().json();
    json["type"] = "public-key ".into();
    let origins = origins();
    let (public_key, algorithm) = es256().stored_key();
    let stored = StoredCredential { public_key: &public_key, algorithm, sign_count: 0 };
    let response = AssertionResponse::parse(&json).unwrap();
    assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE, &stored), Err(WrongType));
}

#[test]
fn refuses_another_or_replayed_challenge() {
    // Signed over another challenge: the one a previous ceremony used.
    let authentication =
        Authentication { client: ClientDataSpec { challenge: vec![0x01; 32], ..es256().client }, ..es256() };
    assert_eq!(verify(&authentication), Err(ChallengeMismatch));
    let longer = [CHALLENGE.as_slice(), &[0]].concat();
    let authentication =
        Authentication { client: ClientDataSpec { challenge: longer, ..es256().client }, ..es256() };
    assert_eq!(verify(&authentication), Err(ChallengeMismatch));
}

#[test]
fn refuses_an_origin_not_listed() {
    let authentication = Authentication {
        client: ClientDataSpec { origin: "https://login.example.com.evil".to_owned(), ..es256().client },
        ..es256()
    };
    assert_eq!(verify(&authentication), Err(OriginNotAllowed));
}

#[test]
fn refuses_a_cross_origin_frame() {
    let authentication =
        Authentication { client: ClientDataSpec { cross_origin: Some(true), ..es256().client }, ..es256() };
    assert_eq!(verify(&authentication), Err(CrossOrigin));
    let authentication =
        Authentication { client: ClientDataSpec { top_origin: Some(ORIGIN), ..es256().client }, ..es256() };
    assert_eq!(verify(&authentication), Err(CrossOrigin));
}

#[test]
fn refuses_another_rp_id() {
    let authentication =
        Authentication { auth: AuthDataSpec { rp_id: "example.com".to_owned(), ..es256().auth }, ..es256() };
    assert_eq!(verify(&authentication), Err(RpIdMismatch));
}

#[test]
fn refuses_without_user_presence() {
    // Signed with UP clear: the signature is valid, the flag is what fails.
    let authentication = Authentication { auth: AuthDataSpec { flags: UV, ..es256().auth }, ..es256() };
    assert_eq!(verify(&authentication), Err(UserNotPresent));
}

#[test]
fn refuses_without_user_verification_only_when_required() {
    let authentication = Authentication { auth: AuthDataSpec { flags: UP, ..es256().auth }, ..es256() };
    assert_eq!(verify_with(&authentication, true, STORED_COUNT), Err(UserNotVerified));
    assert!(!verify_with(&authentication, false, STORED_COUNT).unwrap().user_verified);
}

#[test]
fn refuses_backup_state_without_backup_eligibility() {
    let authentication = Authentication { auth: AuthDataSpec { flags: UP | BS, ..es256().auth }, ..es256() };
    assert!(matches!(verify(&authentication), Err(Malformed(_))));
}

#[test]
fn refuses_a_flipped_signature_bit() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let authentication = Authentication { flip_signature_bit: true, ..Authentication::new(key) };
        assert_eq!(verify(&authentication), Err(BadSignature));
    }
}

#[test]
fn refuses_a_signature_over_other_authenticator_data() {
    // UP set in the data sent, but the authenticator signed the data without it.
    let authentication = es256();
    let signed = AuthDataSpec { flags: UV, ..authentication.auth.clone() }.bytes(None);
    let authentication = Authentication { sign_other_auth_data: Some(signed), ..authentication };
    assert_eq!(verify(&authentication), Err(BadSignature));
}

#[test]
fn refuses_a_signature_by_another_key_or_of_another_form() {
    // Signed by the Ed25519 key, checked against the stored P-256 key, and the other way round.
    for (signer, stored) in [(TestKey::ed25519(), TestKey::es256()), (TestKey::es256(), TestKey::ed25519())] {
        let json = Authentication::new(signer).json();
        let origins = origins();
        let public_key = stored.cose();
        let stored =
            StoredCredential { public_key: &public_key, algorithm: stored.algorithm(), sign_count: 0 };
        let response = AssertionResponse::parse(&json).unwrap();
        assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE, &stored), Err(BadSignature));
    }
    // A raw 64-byte (r || s) ES256 signature is not the DER form WebAuthn uses (§6.5.5).
    let authentication = es256();
    let mut json = authentication.json();
    let der = crate::b64::URL_SAFE_NO_PAD.decode(json["response"]["signature"].as_str().unwrap()).unwrap();
    let raw = p256::ecdsa::Signature::from_der(&der).unwrap().to_bytes();
    json["response"]["signature"] = crate::b64::URL_SAFE_NO_PAD.encode(raw).into();
    let origins = origins();
    let (public_key, algorithm) = authentication.stored_key();
    let stored = StoredCredential { public_key: &public_key, algorithm, sign_count: 0 };
    let response = AssertionResponse::parse(&json).unwrap();
    assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE, &stored), Err(BadSignature));
}

#[test]
fn refuses_a_stored_key_whose_algorithm_is_not_the_recorded_one() {
    let authentication = es256();
    let origins = origins();
    let (public_key, _) = authentication.stored_key();
    let stored = StoredCredential { public_key: &public_key, algorithm: -8, sign_count: 0 };
    let response = AssertionResponse::parse(&authentication.json()).unwrap();
    assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE, &stored), Err(BadKey));
    let stored = StoredCredential { public_key: b"\xa0", algorithm: -7, sign_count: 0 };
    assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE, &stored), Err(BadKey));
}

#[test]
fn the_sign_count_must_increase_when_either_is_non_zero() {
    let at =
        |count: u32| Authentication { auth: AuthDataSpec { sign_count: count, ..es256().auth }, ..es256() };
    // Both zero: an authenticator without a counter (synced passkeys).
    assert_eq!(verify_with(&at(0), false, 0).unwrap().sign_count, 0);
    assert_eq!(verify_with(&at(1), false, 0).unwrap().sign_count, 1);
    assert_eq!(verify_with(&at(8), false, 7).unwrap().sign_count, 8);
    assert_eq!(verify_with(&at(u32::MAX), false, u32::MAX - 1).unwrap().sign_count, u32::MAX);
    // Equal, lower, or dropped to zero: a possible clone.
    assert_eq!(verify_with(&at(7), false, 7), Err(SignCountRegressed));
    assert_eq!(verify_with(&at(3), false, 7), Err(SignCountRegressed));
    assert_eq!(verify_with(&at(0), false, 7), Err(SignCountRegressed));
}

#[test]
fn refuses_attested_credential_data_in_an_assertion() {
    let authentication = Authentication { auth: AuthDataSpec { flags: UP | AT, ..es256().auth }, ..es256() };
    assert!(matches!(verify(&authentication), Err(Malformed(_))));
}

#[test]
fn extensions_are_skipped_and_trailing_bytes_refused() {
    let authentication = Authentication {
        auth: AuthDataSpec { extensions: Some(vec![0xa1, 0x61, b'x', 0xf5]), ..es256().auth },
        ..es256()
    };
    verify(&authentication).unwrap();
    let authentication =
        Authentication { auth: AuthDataSpec { trailing: vec![0xa0], ..es256().auth }, ..es256() };
    assert!(matches!(verify(&authentication), Err(Malformed(_))));
}

#[test]
fn refuses_an_id_that_is_not_raw_id() {
    let mut json = es256().json();
    json["id"] = "b3RoZXItaWQ".into();
    assert!(matches!(AssertionResponse::parse(&json), Err(Malformed(_))));
}
