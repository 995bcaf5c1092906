//! Registration (§7.1): the happy paths with test keys, then one refusal per check, each changing
//! one thing of an otherwise valid, correctly signed registration.

use super::authenticator::*;
use crate::webauthn::authenticator_data::flags::*;
use crate::webauthn::WebauthnError::{self, *};
use crate::webauthn::{NewCredential, RegistrationResponse};
use minicbor::Encoder;

fn verify(registration: &Registration) -> Result<NewCredential, WebauthnError> {
    verify_with(registration, false)
}

fn verify_with(registration: &Registration, require_uv: bool) -> Result<NewCredential, WebauthnError> {
    let origins = origins();
    RegistrationResponse::parse(&registration.json())?
        .verify(&relying_party(&origins, require_uv), &CHALLENGE)
}

fn es256() -> Registration {
    Registration::new(TestKey::es256())
}

#[test]
fn es256_and_eddsa_with_none_and_packed_self_attestation_verify() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        for attest in [Attest::None, Attest::PackedSelf] {
            let registration = Registration { attest: attest.clone(), ..Registration::new(key.clone()) };
            let credential = verify_with(&registration, true).unwrap();
            assert_eq!(
                credential,
                NewCredential {
                    id: registration.credential_id.clone(),
                    public_key: key.cose(),
                    algorithm: key.algorithm(),
                    sign_count: 0,
                    user_verified: true,
                    backup_eligible: false,
                    backup_state: false,
                    aaguid: AAGUID,
                    transports: vec!["internal".to_owned(), "hybrid".to_owned()],
                    attestation_format: if matches!(attest, Attest::None) { "none" } else { "packed" }
                        .to_owned(),
                }
            );
        }
    }
}

#[test]
fn the_flags_and_counter_are_reported() {
    let registration = Registration {
        auth: AuthDataSpec { flags: UP | BE | BS | AT, sign_count: 41, ..es256().auth },
        ..es256()
    };
    let credential = verify(&registration).unwrap();
    assert!(credential.backup_eligible && credential.backup_state && !credential.user_verified);
    assert_eq!(credential.sign_count, 41);
}

#[test]
fn extensions_after_the_key_are_skipped_when_ed_says_so() {
    let mut e = Encoder::new(Vec::new());
    e.map(1).unwrap().str("credProtect").unwrap().u8(2).unwrap();
    let registration =
        Registration { auth: AuthDataSpec { extensions: Some(e.into_writer()), ..es256().auth }, ..es256() };
    verify(&registration).unwrap();
}

#[test]
fn any_second_listed_origin_is_allowed() {
    let registration = Registration {
        client: ClientDataSpec { origin: "https://app.example.com".to_owned(), ..es256().client },
        ..es256()
    };
    verify(&registration).unwrap();
}

#[test]
fn refuses_the_wrong_client_data_type() {
    // An assertion's client data replayed into a registration.
    let registration =
        Registration { client: ClientDataSpec { kind: "webauthn.get", ..es256().client }, ..es256() };
    assert_eq!(verify(&registration), Err(WrongType));
}

#[test]
fn refuses_a_credential_type_other_than_public_key() {
    let mut json = es256().json();
    json["type"] = "password".into();
    let origins = origins();
    let response = RegistrationResponse::parse(&json).unwrap();
    assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE), Err(WrongType));
}

#[test]
fn refuses_another_challenge() {
    let registration = es256();
    let origins = origins();
    let response = RegistrationResponse::parse(&registration.json()).unwrap();
    let rp = relying_party(&origins, false);
    assert_eq!(response.verify(&rp, &[0x5b; 32]), Err(ChallengeMismatch));
    // A prefix of the right challenge is not the right challenge.
    assert_eq!(response.verify(&rp, &CHALLENGE[..16]), Err(ChallengeMismatch));
    assert_eq!(response.verify(&rp, &[]), Err(ChallengeMismatch));
}

#[test]
fn refuses_an_origin_not_listed() {
    for origin in [
        "https://evil.example",
        "https://login.example.com:8443",
        "http://login.example.com",
        "https://login.example.com/",
    ] {
        let registration = Registration {
            client: ClientDataSpec { origin: origin.to_owned(), ..es256().client },
            ..es256()
        };
        assert_eq!(verify(&registration), Err(OriginNotAllowed), "{origin}");
    }
}

#[test]
fn refuses_a_cross_origin_frame() {
    let registration =
        Registration { client: ClientDataSpec { cross_origin: Some(true), ..es256().client }, ..es256() };
    assert_eq!(verify(&registration), Err(CrossOrigin));
    let registration = Registration {
        client: ClientDataSpec { top_origin: Some("https://evil.example"), ..es256().client },
        ..es256()
    };
    assert_eq!(verify(&registration), Err(CrossOrigin));
    // Absent crossOrigin is the same as false (§5.8.1).
    let registration =
        Registration { client: ClientDataSpec { cross_origin: None, ..es256().client }, ..es256() };
    verify(&registration).unwrap();
}

#[test]
fn refuses_another_rp_id() {
    for rp_id in ["example.com", "evil.example", "login.example.com."] {
        let registration =
            Registration { auth: AuthDataSpec { rp_id: rp_id.to_owned(), ..es256().auth }, ..es256() };
        assert_eq!(verify(&registration), Err(RpIdMismatch), "{rp_id}");
    }
}

#[test]
fn refuses_without_user_presence() {
    let registration = Registration { auth: AuthDataSpec { flags: UV | AT, ..es256().auth }, ..es256() };
    assert_eq!(verify(&registration), Err(UserNotPresent));
}

#[test]
fn refuses_without_user_verification_only_when_required() {
    let registration = Registration { auth: AuthDataSpec { flags: UP | AT, ..es256().auth }, ..es256() };
    assert_eq!(verify_with(&registration, true), Err(UserNotVerified));
    assert!(!verify_with(&registration, false).unwrap().user_verified);
}

#[test]
fn refuses_backup_state_without_backup_eligibility() {
    let registration =
        Registration { auth: AuthDataSpec { flags: UP | UV | BS | AT, ..es256().auth }, ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
}

#[test]
fn refuses_a_registration_without_attested_credential_data() {
    let registration = Registration {
        auth: AuthDataSpec { flags: UP | UV, ..es256().auth },
        omit_attested: true,
        ..es256()
    };
    assert_eq!(verify(&registration), Err(NoCredentialData));
    // AT set but the data cut off is a truncated structure.
    let registration = Registration { omit_attested: true, ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
}

#[test]
fn refuses_an_id_that_is_not_raw_id() {
    let registration = es256();
    let mut json = registration.json();
    json["id"] = "b3RoZXItaWQ".into();
    assert!(matches!(RegistrationResponse::parse(&json), Err(Malformed(_))));
    let mut json = registration.json();
    json["rawId"] = "b3RoZXItaWQ".into();
    assert!(matches!(RegistrationResponse::parse(&json), Err(Malformed(_))));
}

#[test]
fn refuses_a_raw_id_that_is_not_the_attested_credential_id() {
    let registration = es256();
    let mut json = registration.json();
    json["id"] = "b3RoZXItaWQ".into();
    json["rawId"] = "b3RoZXItaWQ".into();
    let origins = origins();
    let response = RegistrationResponse::parse(&json).unwrap();
    assert!(matches!(response.verify(&relying_party(&origins, false), &CHALLENGE), Err(Malformed(_))));
}

#[test]
fn refuses_a_credential_id_over_1023_bytes() {
    let registration = Registration { credential_id: vec![7; 1024], ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
    // 1023 is the limit, included.
    let registration = Registration { credential_id: vec![7; 1023], ..es256() };
    verify(&registration).unwrap();
}

/// A COSE_Key from (label, value) pairs, values already CBOR-encoded.
fn cose(members: &[(i64, &[u8])]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.map(members.len() as u64).unwrap();
    let mut out = e.into_writer();
    for (label, value) in members {
        let mut e = Encoder::new(Vec::new());
        e.i64(*label).unwrap();
        out.extend_from_slice(&e.into_writer());
        out.extend_from_slice(value);
    }
    out
}

fn int(n: i64) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.i64(n).unwrap();
    e.into_writer()
}

fn bytes(b: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.bytes(b).unwrap();
    e.into_writer()
}

/// The test key's x and y coordinates.
fn es256_coordinates() -> (Vec<u8>, Vec<u8>) {
    let TestKey::Es256(key) = TestKey::es256() else { unreachable!() };
    let point = key.verifying_key().to_encoded_point(false);
    (point.x().unwrap().to_vec(), point.y().unwrap().to_vec())
}

#[test]
fn refuses_unsupported_algorithms() {
    let (x, y) = es256_coordinates();
    // ES384 (-35), RS256 (-257), ESP256 (-9, the fully specified ES256 we do not offer), a made-up one.
    for alg in [-35, -257, -9, 12345] {
        let key = cose(&[(1, &int(2)), (3, &int(alg)), (-1, &int(1)), (-2, &bytes(&x)), (-3, &bytes(&y))]);
        let registration = Registration { cose: Some(key), ..es256() };
        assert_eq!(verify(&registration), Err(UnsupportedAlgorithm), "{alg}");
    }
}

#[test]
fn refuses_malformed_es256_keys() {
    let (x, y) = es256_coordinates();
    let mut off_curve = y.clone();
    off_curve[31] ^= 1;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no alg", cose(&[(1, &int(2)), (-1, &int(1)), (-2, &bytes(&x)), (-3, &bytes(&y))])),
        ("kty OKP", cose(&[(1, &int(1)), (3, &int(-7)), (-1, &int(1)), (-2, &bytes(&x)), (-3, &bytes(&y))])),
        (
            "crv P-384",
            cose(&[(1, &int(2)), (3, &int(-7)), (-1, &int(2)), (-2, &bytes(&x)), (-3, &bytes(&y))]),
        ),
        ("no crv", cose(&[(1, &int(2)), (3, &int(-7)), (-2, &bytes(&x)), (-3, &bytes(&y))])),
        (
            "short x",
            cose(&[(1, &int(2)), (3, &int(-7)), (-1, &int(1)), (-2, &bytes(&x[1..])), (-3, &bytes(&y))]),
        ),
        (
            "long y",
            cose(&[
                (1, &int(2)),
                (3, &int(-7)),
                (-1, &int(1)),
                (-2, &bytes(&x)),
                (-3, &bytes(&[y.as_slice(), &[0]].concat())),
            ]),
        ),
        ("no y", cose(&[(1, &int(2)), (3, &int(-7)), (-1, &int(1)), (-2, &bytes(&x))])),
        ("compressed", cose(&[(1, &int(2)), (3, &int(-7)), (-1, &int(1)), (-2, &bytes(&x)), (-3, &[0xf5])])),
        (
            "not on the curve",
            cose(&[(1, &int(2)), (3, &int(-7)), (-1, &int(1)), (-2, &bytes(&x)), (-3, &bytes(&off_curve))]),
        ),
        (
            "x a string",
            cose(&[(1, &int(2)), (3, &int(-7)), (-1, &int(1)), (-2, &[0x61, b'x']), (-3, &bytes(&y))]),
        ),
        (
            "zero point",
            cose(&[
                (1, &int(2)),
                (3, &int(-7)),
                (-1, &int(1)),
                (-2, &bytes(&[0; 32])),
                (-3, &bytes(&[0; 32])),
            ]),
        ),
    ];
    for (name, key) in cases {
        let registration = Registration { cose: Some(key), ..es256() };
        assert_eq!(verify(&registration), Err(BadKey), "{name}");
    }
    // A repeated member is a malformed key, whichever value would win.
    let key = cose(&[
        (1, &int(2)),
        (3, &int(-7)),
        (3, &int(-7)),
        (-1, &int(1)),
        (-2, &bytes(&x)),
        (-3, &bytes(&y)),
    ]);
    let registration = Registration { cose: Some(key), ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
}

#[test]
fn refuses_malformed_ed25519_keys() {
    let TestKey::Ed25519(pair) = TestKey::ed25519() else { unreachable!() };
    let x = pair.pk.to_vec();
    // The identity point (y = 1) has small order: it would verify forged signatures.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("kty EC2", cose(&[(1, &int(2)), (3, &int(-8)), (-1, &int(6)), (-2, &bytes(&x))])),
        ("crv X25519", cose(&[(1, &int(1)), (3, &int(-8)), (-1, &int(4)), (-2, &bytes(&x))])),
        ("crv Ed448", cose(&[(1, &int(1)), (3, &int(-8)), (-1, &int(7)), (-2, &bytes(&x))])),
        ("short x", cose(&[(1, &int(1)), (3, &int(-8)), (-1, &int(6)), (-2, &bytes(&x[..31]))])),
        ("no x", cose(&[(1, &int(1)), (3, &int(-8)), (-1, &int(6))])),
        ("with y", cose(&[(1, &int(1)), (3, &int(-8)), (-1, &int(6)), (-2, &bytes(&x)), (-3, &bytes(&x))])),
        ("small order", cose(&[(1, &int(1)), (3, &int(-8)), (-1, &int(6)), (-2, &bytes(&identity))])),
    ];
    for (name, key) in cases {
        let registration = Registration { cose: Some(key), ..Registration::new(TestKey::ed25519()) };
        assert_eq!(verify(&registration), Err(BadKey), "{name}");
    }
}

#[test]
fn refuses_trailing_bytes_after_the_key_unless_extensions_follow() {
    let registration =
        Registration { auth: AuthDataSpec { trailing: vec![0xa0], ..es256().auth }, ..es256() };
    // 0xa0 is an empty CBOR map: fine as extensions, but ED is not set.
    assert!(matches!(verify(&registration), Err(Malformed(_))));
    let registration =
        Registration { auth: AuthDataSpec { trailing: vec![0x00], ..es256().auth }, ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
    // ED set, then something that is not a map.
    let registration =
        Registration { auth: AuthDataSpec { extensions: Some(vec![0x01]), ..es256().auth }, ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
    // ED set, the map, then more.
    let registration =
        Registration { auth: AuthDataSpec { extensions: Some(vec![0xa0, 0x00]), ..es256().auth }, ..es256() };
    assert!(matches!(verify(&registration), Err(Malformed(_))));
}

#[test]
fn refuses_packed_attestation_with_a_certificate_chain() {
    let registration = Registration { attest: Attest::PackedX5c, ..es256() };
    assert_eq!(verify(&registration), Err(UnsupportedAttestation));
}

#[test]
fn refuses_formats_other_than_none_and_packed() {
    for fmt in ["fido-u2f", "tpm", "android-key", "android-safetynet", "apple", "None", "PACKED", ""] {
        let registration = Registration { attest: Attest::Format(fmt), ..es256() };
        assert_eq!(verify(&registration), Err(UnsupportedAttestation), "{fmt}");
    }
}

#[test]
fn refuses_a_packed_self_attestation_with_a_bad_signature() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let registration = Registration { attest: Attest::PackedSelfBadSignature, ..Registration::new(key) };
        assert_eq!(verify(&registration), Err(BadAttestation));
    }
}

#[test]
fn refuses_a_packed_self_attestation_naming_another_algorithm() {
    let registration = Registration { attest: Attest::PackedSelfAlg(-8), ..es256() };
    assert_eq!(verify(&registration), Err(BadAttestation));
}

#[test]
fn refuses_a_none_attestation_with_a_statement() {
    let registration = Registration { attest: Attest::NoneWithStatement, ..es256() };
    assert_eq!(verify(&registration), Err(BadAttestation));
}

#[test]
fn a_self_attestation_covers_the_client_data() {
    // Signed over one clientDataJSON, sent with another (same challenge and origin, different bytes).
    let registration = Registration { attest: Attest::PackedSelf, ..es256() };
    let mut json = registration.json();
    let other = Registration {
        client: ClientDataSpec { cross_origin: None, ..registration.client.clone() },
        ..registration.clone()
    };
    json["response"]["clientDataJSON"] = other.json()["response"]["clientDataJSON"].clone();
    let origins = origins();
    let response = RegistrationResponse::parse(&json).unwrap();
    assert_eq!(response.verify(&relying_party(&origins, false), &CHALLENGE), Err(BadAttestation));
}

#[test]
fn transports_keep_known_names_once() {
    let registration = es256();
    let mut json = registration.json();
    json["response"]["transports"] = serde_json::json!([
        "usb",
        "nfc",
        "usb",
        "quantum",
        "cable",
        "smart-card",
        "ble",
        "internal",
        "hybrid"
    ]);
    let origins = origins();
    let credential = RegistrationResponse::parse(&json)
        .unwrap()
        .verify(&relying_party(&origins, false), &CHALLENGE)
        .unwrap();
    assert_eq!(credential.transports, ["usb", "nfc", "cable", "smart-card", "ble", "internal", "hybrid"]);

    for bad in [serde_json::json!("usb"), serde_json::json!([1]), serde_json::json!(vec!["usb"; 17])] {
        let mut json = registration.json();
        json["response"]["transports"] = bad;
        assert!(matches!(RegistrationResponse::parse(&json), Err(Malformed(_))));
    }
    let mut json = registration.json();
    json["response"].as_object_mut().unwrap().remove("transports");
    let credential = RegistrationResponse::parse(&json)
        .unwrap()
        .verify(&relying_party(&origins, false), &CHALLENGE)
        .unwrap();
    assert!(credential.transports.is_empty());
}
