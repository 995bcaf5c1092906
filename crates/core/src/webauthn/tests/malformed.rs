//! Hostile and broken input: every refusal is an error, never a panic, and oversized input is refused
//! before it is decoded. Truncations and byte flips are exhaustive over real-sized responses;
//! garbage comes from a fixed-seed generator, so every run checks the same inputs.

use super::authenticator::*;
use crate::b64::URL_SAFE_NO_PAD;
use crate::webauthn::WebauthnError::{self, Malformed};
use crate::webauthn::{AssertionResponse, RegistrationResponse, StoredCredential};
use serde_json::{json, Value};

fn register(json: &Value) -> Result<(), WebauthnError> {
    let origins = origins();
    RegistrationResponse::parse(json)?.verify(&relying_party(&origins, false), &CHALLENGE).map(|_| ())
}

fn authenticate(json: &Value, key: &TestKey) -> Result<(), WebauthnError> {
    let origins = origins();
    let public_key = key.cose();
    let stored = StoredCredential { public_key: &public_key, algorithm: key.algorithm(), sign_count: 0 };
    AssertionResponse::parse(json)?.verify(&relying_party(&origins, false), &CHALLENGE, &stored).map(|_| ())
}

fn with_member(mut json: Value, member: &str, bytes: &[u8]) -> Value {
    json["response"][member] = URL_SAFE_NO_PAD.encode(bytes).into();
    json
}

fn member(json: &Value, member: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(json["response"][member].as_str().unwrap()).unwrap()
}

/// xorshift64: fixed pseudo-random bytes.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn refuses_what_is_not_a_credential_object() {
    for value in
        [json!(null), json!([]), json!("public-key"), json!(1), json!({}), json!({"type": "public-key"})]
    {
        assert!(matches!(RegistrationResponse::parse(&value), Err(Malformed(_))), "{value}");
        assert!(matches!(AssertionResponse::parse(&value), Err(Malformed(_))), "{value}");
    }
}

#[test]
fn refuses_missing_or_mistyped_members() {
    let registration = Registration::new(TestKey::es256()).json();
    for path in [
        &["id"][..],
        &["rawId"],
        &["type"],
        &["response"],
        &["response", "clientDataJSON"],
        &["response", "attestationObject"],
    ] {
        let mut json = registration.clone();
        remove(&mut json, path);
        assert!(matches!(RegistrationResponse::parse(&json), Err(Malformed(_))), "{path:?}");
        let mut json = registration.clone();
        set(&mut json, path, json!(42));
        assert!(matches!(RegistrationResponse::parse(&json), Err(Malformed(_))), "{path:?}");
    }
    let assertion = Authentication::new(TestKey::es256()).json();
    for path in [
        &["id"][..],
        &["rawId"],
        &["response", "clientDataJSON"],
        &["response", "authenticatorData"],
        &["response", "signature"],
    ] {
        let mut json = assertion.clone();
        remove(&mut json, path);
        assert!(matches!(AssertionResponse::parse(&json), Err(Malformed(_))), "{path:?}");
    }
    let mut json = assertion.clone();
    json["response"]["userHandle"] = json!(7);
    assert!(matches!(AssertionResponse::parse(&json), Err(Malformed(_))));
    // An empty credential id.
    let mut json = assertion;
    json["id"] = "".into();
    json["rawId"] = "".into();
    assert!(matches!(AssertionResponse::parse(&json), Err(Malformed(_))));
}

fn remove(json: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().unwrap();
    let parent = parents.iter().fold(json, |v, k| &mut v[*k]);
    parent.as_object_mut().unwrap().remove(*last);
}

fn set(json: &mut Value, path: &[&str], value: Value) {
    *path.iter().fold(json, |v, k| &mut v[*k]) = value;
}

#[test]
fn refuses_base64_that_is_not_unpadded_base64url() {
    let registration = Registration::new(TestKey::es256()).json();
    let client_data = registration["response"]["clientDataJSON"].as_str().unwrap().to_owned();
    for bad in [
        format!("{client_data}="),
        client_data.replace('-', "+").replace('_', "/") + "+/",
        format!("{client_data} "),
        "%%%".into(),
    ] {
        let mut json = registration.clone();
        json["response"]["clientDataJSON"] = bad.into();
        assert!(matches!(RegistrationResponse::parse(&json), Err(Malformed(_))));
    }
}

#[test]
fn refuses_oversized_members_before_decoding() {
    let registration = Registration::new(TestKey::es256()).json();
    let assertion = Authentication::new(TestKey::es256()).json();
    let cases = [
        (registration.clone(), "clientDataJSON", 8 * 1024 + 1),
        (registration.clone(), "attestationObject", 16 * 1024 + 1),
        (assertion.clone(), "authenticatorData", 4 * 1024 + 1),
        (assertion.clone(), "signature", 257),
        (assertion.clone(), "userHandle", 65),
    ];
    for (json, name, len) in cases {
        let json = with_member(json, name, &vec![b'{'; len]);
        let refused = if json["response"].get("attestationObject").is_some() {
            RegistrationResponse::parse(&json).err()
        } else {
            AssertionResponse::parse(&json).err()
        };
        assert!(matches!(refused, Some(Malformed(_))), "{name}");
    }
    let mut json = assertion;
    let long_id = URL_SAFE_NO_PAD.encode([1u8; 1024]);
    json["id"] = long_id.clone().into();
    json["rawId"] = long_id.into();
    assert!(matches!(AssertionResponse::parse(&json), Err(Malformed(_))));
}

#[test]
fn every_truncation_of_a_registration_is_refused() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let registration = Registration { attest: Attest::PackedSelf, ..Registration::new(key) };
        let json = registration.json();
        for name in ["clientDataJSON", "attestationObject"] {
            let full = member(&json, name);
            for len in 0..full.len() {
                let cut = with_member(json.clone(), name, &full[..len]);
                assert!(register(&cut).is_err(), "{name} cut to {len} bytes");
            }
        }
    }
}

#[test]
fn every_truncation_of_an_assertion_is_refused() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let json = Authentication::new(key.clone()).json();
        for name in ["clientDataJSON", "authenticatorData", "signature"] {
            let full = member(&json, name);
            for len in 0..full.len() {
                let cut = with_member(json.clone(), name, &full[..len]);
                assert!(authenticate(&cut, &key).is_err(), "{name} cut to {len} bytes");
            }
        }
    }
}

#[test]
fn every_flipped_byte_of_a_signed_assertion_is_refused() {
    for key in [TestKey::es256(), TestKey::ed25519()] {
        let json = Authentication::new(key.clone()).json();
        assert!(authenticate(&json, &key).is_ok());
        for name in ["clientDataJSON", "authenticatorData", "signature"] {
            let full = member(&json, name);
            for i in 0..full.len() {
                let mut flipped = full.clone();
                flipped[i] ^= 0x80;
                assert!(
                    authenticate(&with_member(json.clone(), name, &flipped), &key).is_err(),
                    "{name}[{i}]"
                );
            }
        }
    }
}

#[test]
fn flipped_bytes_of_a_self_attested_registration_never_panic_and_never_pass_signed_parts() {
    let registration = Registration { attest: Attest::PackedSelf, ..Registration::new(TestKey::es256()) };
    let json = registration.json();
    assert!(register(&json).is_ok());
    let object = member(&json, "attestationObject");
    let auth_data = registration.auth_data();
    let auth_data_at = object.windows(auth_data.len()).position(|w| w == auth_data).unwrap();
    for i in 0..object.len() {
        let mut flipped = object.clone();
        flipped[i] ^= 0x01;
        let result = register(&with_member(json.clone(), "attestationObject", &flipped));
        // The authenticator data is signed by the self-attestation: no change to it may pass.
        if (auth_data_at..auth_data_at + auth_data.len()).contains(&i) {
            assert!(result.is_err(), "authData byte {}", i - auth_data_at);
        }
    }
}

#[test]
fn garbage_is_refused() {
    let registration = Registration::new(TestKey::es256()).json();
    let key = TestKey::es256();
    let assertion = Authentication::new(key.clone()).json();
    for seed in 0..200u64 {
        let len = (seed as usize * 37) % 700;
        let bytes = garbage(seed, len);
        for name in ["clientDataJSON", "attestationObject"] {
            assert!(register(&with_member(registration.clone(), name, &bytes)).is_err(), "{name} {seed}");
        }
        for name in ["clientDataJSON", "authenticatorData", "signature"] {
            assert!(
                authenticate(&with_member(assertion.clone(), name, &bytes), &key).is_err(),
                "{name} {seed}"
            );
        }
        // Garbage after a valid 37-byte prefix, with ED set: the extension reader gets it.
        let mut auth_data = member(&assertion, "authenticatorData");
        auth_data[32] |= 0x80;
        auth_data.extend_from_slice(&bytes);
        assert!(authenticate(&with_member(assertion.clone(), "authenticatorData", &auth_data), &key).is_err());
    }
}

#[test]
fn hostile_cbor_is_refused_without_exhausting_anything() {
    let key = TestKey::es256();
    let assertion = Authentication::new(key.clone()).json();
    let mut prefix = member(&assertion, "authenticatorData");
    prefix[32] |= 0x80;
    let hostile: Vec<Vec<u8>> = vec![
        // 4 000 nested one-element arrays, then nothing: deep, and truncated.
        [vec![0xa1, 0x00], vec![0x81; 4_000]].concat(),
        // A map claiming 2^64 - 1 entries.
        vec![0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        // A byte string claiming 4 GiB.
        vec![0xa1, 0x00, 0x5a, 0xff, 0xff, 0xff, 0xff],
        // An indefinite map never closed.
        vec![0xbf, 0x00, 0x00],
        // A break where an item must be.
        vec![0xff],
        // Reserved additional information.
        vec![0xa1, 0x00, 0x1c],
    ];
    for (i, extensions) in hostile.iter().enumerate() {
        let auth_data = [prefix.as_slice(), extensions].concat();
        let json = with_member(assertion.clone(), "authenticatorData", &auth_data);
        assert!(matches!(AssertionResponse::parse(&json), Err(Malformed(_))), "case {i}");
    }
    // Deep nesting that is complete is well-formed CBOR: skipped as an extension, and the
    // signature (over other bytes) is what refuses it.
    let auth_data = [prefix.as_slice(), &[0xa1, 0x00], &[0x81; 4_000], &[0x00]].concat();
    let json = with_member(assertion, "authenticatorData", &auth_data);
    assert_eq!(authenticate(&json, &key), Err(WebauthnError::BadSignature));
}

#[test]
fn refuses_malformed_attestation_objects() {
    let registration = Registration::new(TestKey::es256());
    let json = registration.json();
    let object = registration.attestation_object();
    let auth_data = registration.auth_data();
    let mut auth_data_member = minicbor::Encoder::new(Vec::new());
    auth_data_member.str("authData").unwrap().bytes(&auth_data).unwrap();
    let auth_data_member = auth_data_member.into_writer();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("trailing byte", [object.as_slice(), &[0x00]].concat()),
        ("an array", [&[0x83u8][..], &object[1..]].concat()),
        ("fmt twice", [&[0xa4u8][..], b"\x63fmt\x64none", &object[1..]].concat()),
        ("no authData", b"\xa2\x63fmt\x64none\x67attStmt\xa0".to_vec()),
        ("attStmt not a map", [&b"\xa3\x63fmt\x64none\x67attStmt\x80"[..], &auth_data_member].concat()),
        ("fmt not text", [&b"\xa3\x63fmt\x01\x67attStmt\xa0"[..], &auth_data_member].concat()),
        (
            "a key that is a map",
            [&b"\xa4\xa0\x00\x63fmt\x64none\x67attStmt\xa0"[..], &auth_data_member].concat(),
        ),
        (
            "fmt over 32 bytes",
            [&b"\xa3\x63fmt\x78\x21"[..], &[b'a'; 33], b"\x67attStmt\xa0", &auth_data_member].concat(),
        ),
    ];
    for (name, bytes) in cases {
        let result = register(&with_member(json.clone(), "attestationObject", &bytes));
        assert!(matches!(result, Err(Malformed(_))), "{name}: {result:?}");
    }
    // Members in another order, and one we do not know, are fine.
    let reordered =
        [&b"\xa4\x65extra\x01"[..], &auth_data_member, b"\x67attStmt\xa0\x63fmt\x64none"].concat();
    register(&with_member(json, "attestationObject", &reordered)).unwrap();
}

#[test]
fn refuses_malformed_client_data() {
    let json = Registration::new(TestKey::es256()).json();
    let valid = member(&json, "clientDataJSON");
    let text = String::from_utf8(valid.clone()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"type=webauthn.create".to_vec()),
        ("an array", b"[]".to_vec()),
        ("no challenge", text.replace("\"challenge\"", "\"chall\"").into_bytes()),
        ("challenge not base64url", text.replace("\"challenge\":\"", "\"challenge\":\"+").into_bytes()),
        ("origin twice", text.replace('}', ",\"origin\":\"https://evil.example\"}").into_bytes()),
        (
            "crossOrigin a string",
            text.replace("\"crossOrigin\":false", "\"crossOrigin\":\"false\"").into_bytes(),
        ),
        ("invalid UTF-8", [valid.as_slice(), b"\xff"].concat()),
        ("type a number", text.replace("\"webauthn.create\"", "1").into_bytes()),
    ];
    for (name, bytes) in cases {
        let result = RegistrationResponse::parse(&with_member(json.clone(), "clientDataJSON", &bytes));
        assert!(matches!(result, Err(Malformed(_))), "{name}: {result:?}");
    }
}

#[test]
fn a_byte_order_mark_before_client_data_is_stripped_but_still_hashed() {
    // §7.1 step 5's UTF-8 decode strips a BOM; the hash covers the bytes as sent.
    let registration = Registration { attest: Attest::PackedSelf, ..Registration::new(TestKey::es256()) };
    let json = registration.json();
    let with_bom = [b"\xef\xbb\xbf".as_slice(), &member(&json, "clientDataJSON")].concat();
    let response = RegistrationResponse::parse(&with_member(json, "clientDataJSON", &with_bom)).unwrap();
    assert_eq!(response.challenge(), CHALLENGE);
    let origins = origins();
    // The self-attestation signed the client data without the BOM, so the hash differs.
    let result = response.verify(&relying_party(&origins, false), &CHALLENGE);
    assert_eq!(result, Err(WebauthnError::BadAttestation));
}

#[test]
fn every_reason_is_a_sentence() {
    use WebauthnError::*;
    let all = [
        Malformed("The credential is not a JSON object."),
        WrongType,
        ChallengeMismatch,
        OriginNotAllowed,
        CrossOrigin,
        RpIdMismatch,
        UserNotPresent,
        UserNotVerified,
        NoCredentialData,
        UnsupportedAlgorithm,
        BadKey,
        UnsupportedAttestation,
        BadAttestation,
        BadSignature,
        SignCountRegressed,
    ];
    let mut seen = std::collections::HashSet::new();
    for error in all {
        let reason = error.reason();
        assert!(reason.ends_with('.') && reason.chars().next().unwrap().is_uppercase(), "{reason}");
        assert!(seen.insert(reason), "{reason} is used twice");
        assert_eq!(error.to_string(), reason);
    }
}
