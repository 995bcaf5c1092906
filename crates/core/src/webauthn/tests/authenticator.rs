//! A software authenticator for the tests: it builds registration and assertion JSON signed with
//! fixed test keys (P-256 through `p256`'s `SigningKey`, Ed25519 through `ed25519-compact`), with a
//! knob for every field a check looks at, so that a refusal test changes exactly one thing and the
//! signature stays valid over the changed bytes.

use crate::b64::URL_SAFE_NO_PAD;
/// The flag bits, for tests outside this module.
pub(crate) use crate::webauthn::authenticator_data::flags;
use crate::webauthn::authenticator_data::flags::*;
use crate::webauthn::RelyingParty;
use minicbor::Encoder;
use p256::ecdsa::signature::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub(crate) const RP_ID: &str = "login.example.com";
pub(crate) const ORIGIN: &str = "https://login.example.com";
pub(crate) const CHALLENGE: [u8; 32] = [0x5a; 32];

pub(crate) fn origins() -> Vec<String> {
    vec![ORIGIN.to_owned(), "https://app.example.com".to_owned()]
}

pub(crate) fn relying_party(origins: &[String], require_user_verification: bool) -> RelyingParty<'_> {
    RelyingParty { id: RP_ID, origins, require_user_verification }
}

#[derive(Debug, Clone)]
pub(crate) enum TestKey {
    Es256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_compact::KeyPair),
}

impl TestKey {
    pub(crate) fn es256() -> Self {
        let secret = p256::FieldBytes::from([0x11; 32]);
        Self::Es256(p256::ecdsa::SigningKey::from_bytes(&secret).expect("a valid test scalar"))
    }

    pub(crate) fn ed25519() -> Self {
        Self::Ed25519(ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([0x22; 32])))
    }

    pub(crate) fn algorithm(&self) -> i64 {
        match self {
            Self::Es256(_) => -7,
            Self::Ed25519(_) => -8,
        }
    }

    /// The COSE_Key in CTAP2 canonical order (§6.5.1.1's examples).
    pub(crate) fn cose(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        match self {
            Self::Es256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                let (x, y) = (point.x().expect("affine"), point.y().expect("uncompressed"));
                e.map(5).unwrap().i8(1).unwrap().i8(2).unwrap().i8(3).unwrap().i8(-7).unwrap();
                e.i8(-1).unwrap().i8(1).unwrap().i8(-2).unwrap().bytes(x).unwrap();
                e.i8(-3).unwrap().bytes(y).unwrap();
            }
            Self::Ed25519(pair) => {
                e.map(4).unwrap().i8(1).unwrap().i8(1).unwrap().i8(3).unwrap().i8(-8).unwrap();
                e.i8(-1).unwrap().i8(6).unwrap().i8(-2).unwrap().bytes(&pair.pk[..]).unwrap();
            }
        }
        e.into_writer()
    }

    /// ES256: ASN.1 DER; Ed25519: the raw 64 bytes.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            Self::Ed25519(pair) => pair.sk.sign(message, None).to_vec(),
        }
    }
}

/// `clientDataJSON`'s members.
#[derive(Debug, Clone)]
pub(crate) struct ClientDataSpec {
    pub(crate) kind: &'static str,
    pub(crate) challenge: Vec<u8>,
    pub(crate) origin: String,
    pub(crate) cross_origin: Option<bool>,
    pub(crate) top_origin: Option<&'static str>,
}

impl ClientDataSpec {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            challenge: CHALLENGE.to_vec(),
            origin: ORIGIN.to_owned(),
            cross_origin: Some(false),
            top_origin: None,
        }
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let mut object = json!({
            "type": self.kind,
            "challenge": URL_SAFE_NO_PAD.encode(&self.challenge),
            "origin": self.origin,
        });
        if let Some(cross_origin) = self.cross_origin {
            object["crossOrigin"] = json!(cross_origin);
        }
        if let Some(top_origin) = self.top_origin {
            object["topOrigin"] = json!(top_origin);
        }
        serde_json::to_vec(&object).unwrap()
    }
}

/// The authenticator data's fixed part and its extensions.
#[derive(Debug, Clone)]
pub(crate) struct AuthDataSpec {
    pub(crate) rp_id: String,
    pub(crate) flags: u8,
    pub(crate) sign_count: u32,
    /// Bytes after the attested credential data (before extensions): must be refused.
    pub(crate) trailing: Vec<u8>,
    /// An extensions map, appended with ED set.
    pub(crate) extensions: Option<Vec<u8>>,
}

impl AuthDataSpec {
    fn new(flags: u8, sign_count: u32) -> Self {
        Self { rp_id: RP_ID.to_owned(), flags, sign_count, trailing: Vec::new(), extensions: None }
    }

    pub(crate) fn bytes(&self, attested: Option<(&[u8], &[u8])>) -> Vec<u8> {
        let mut out = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        let flags = if self.extensions.is_some() { self.flags | ED } else { self.flags };
        out.push(flags);
        out.extend_from_slice(&self.sign_count.to_be_bytes());
        if let Some((credential_id, cose)) = attested {
            out.extend_from_slice(&AAGUID);
            out.extend_from_slice(&u16::try_from(credential_id.len()).unwrap().to_be_bytes());
            out.extend_from_slice(credential_id);
            out.extend_from_slice(cose);
        }
        out.extend_from_slice(&self.trailing);
        if let Some(extensions) = &self.extensions {
            out.extend_from_slice(extensions);
        }
        out
    }
}

pub(crate) const AAGUID: [u8; 16] = *b"edge-auth-tests!";

/// The attestation statement to send.
#[derive(Debug, Clone)]
pub(crate) enum Attest {
    None,
    /// `none` with a non-empty statement.
    NoneWithStatement,
    /// `packed` self-attestation signed by the credential key.
    PackedSelf,
    /// `packed` self-attestation whose `alg` is not the key's.
    PackedSelfAlg(i64),
    /// `packed` self-attestation with one bit of the signature flipped.
    PackedSelfBadSignature,
    /// `packed` with a (made-up) certificate chain.
    PackedX5c,
    /// Any other format, with an empty statement.
    Format(&'static str),
}

/// A registration, valid by default; change one field to make it fail one check.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) key: TestKey,
    pub(crate) credential_id: Vec<u8>,
    pub(crate) client: ClientDataSpec,
    pub(crate) auth: AuthDataSpec,
    /// Replaces the key's COSE_Key in the authenticator data.
    pub(crate) cose: Option<Vec<u8>>,
    pub(crate) attest: Attest,
    /// Leaves the attested credential data out (AT is still what `auth.flags` says).
    pub(crate) omit_attested: bool,
}

impl Registration {
    pub(crate) fn new(key: TestKey) -> Self {
        Self {
            key,
            credential_id: b"test-credential-id-0001".to_vec(),
            client: ClientDataSpec::new("webauthn.create"),
            auth: AuthDataSpec::new(UP | UV | AT, 0),
            cose: None,
            attest: Attest::None,
            omit_attested: false,
        }
    }

    pub(crate) fn cose_key(&self) -> Vec<u8> {
        self.cose.clone().unwrap_or_else(|| self.key.cose())
    }

    pub(crate) fn auth_data(&self) -> Vec<u8> {
        let cose = self.cose_key();
        let attested = (!self.omit_attested).then_some((self.credential_id.as_slice(), cose.as_slice()));
        self.auth.bytes(attested)
    }

    pub(crate) fn attestation_object(&self) -> Vec<u8> {
        let client_data = self.client.bytes();
        let auth_data = self.auth_data();
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));

        let mut e = Encoder::new(Vec::new());
        e.map(3).unwrap();
        let fmt = match self.attest {
            Attest::None | Attest::NoneWithStatement => "none",
            Attest::Format(fmt) => fmt,
            _ => "packed",
        };
        e.str("fmt").unwrap().str(fmt).unwrap().str("attStmt").unwrap();
        match &self.attest {
            Attest::None | Attest::Format(_) => {
                e.map(0).unwrap();
            }
            Attest::NoneWithStatement => {
                e.map(1).unwrap().str("sig").unwrap().bytes(b"x").unwrap();
            }
            Attest::PackedSelf => {
                e.map(2).unwrap().str("alg").unwrap().i64(self.key.algorithm()).unwrap();
                e.str("sig").unwrap().bytes(&self.key.sign(&signed)).unwrap();
            }
            Attest::PackedSelfAlg(alg) => {
                e.map(2).unwrap().str("alg").unwrap().i64(*alg).unwrap();
                e.str("sig").unwrap().bytes(&self.key.sign(&signed)).unwrap();
            }
            Attest::PackedSelfBadSignature => {
                let mut signature = self.key.sign(&signed);
                *signature.last_mut().unwrap() ^= 0x01;
                e.map(2).unwrap().str("alg").unwrap().i64(self.key.algorithm()).unwrap();
                e.str("sig").unwrap().bytes(&signature).unwrap();
            }
            Attest::PackedX5c => {
                e.map(3).unwrap().str("alg").unwrap().i64(self.key.algorithm()).unwrap();
                e.str("sig").unwrap().bytes(&self.key.sign(&signed)).unwrap();
                e.str("x5c").unwrap().array(1).unwrap().bytes(b"\x30\x03\x02\x01\x00").unwrap();
            }
        }
        e.str("authData").unwrap().bytes(&auth_data).unwrap();
        e.into_writer()
    }

    pub(crate) fn json(&self) -> Value {
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {"credProps": {"rk": true}},
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(self.client.bytes()),
                "attestationObject": URL_SAFE_NO_PAD.encode(self.attestation_object()),
                "transports": ["internal", "hybrid"],
            },
        })
    }
}

/// An assertion by the same key, valid by default against [`Authentication::stored`].
#[derive(Debug, Clone)]
pub(crate) struct Authentication {
    pub(crate) key: TestKey,
    pub(crate) credential_id: Vec<u8>,
    pub(crate) client: ClientDataSpec,
    pub(crate) auth: AuthDataSpec,
    pub(crate) user_handle: Option<Vec<u8>>,
    /// Flips one bit of the signature after signing.
    pub(crate) flip_signature_bit: bool,
    /// Signs these bytes instead of the authenticator data sent.
    pub(crate) sign_other_auth_data: Option<Vec<u8>>,
}

impl Authentication {
    pub(crate) fn new(key: TestKey) -> Self {
        Self {
            key,
            credential_id: b"test-credential-id-0001".to_vec(),
            client: ClientDataSpec::new("webauthn.get"),
            auth: AuthDataSpec::new(UP | UV, 8),
            user_handle: Some(b"user-0001".to_vec()),
            flip_signature_bit: false,
            sign_other_auth_data: None,
        }
    }

    /// The stored credential's key and algorithm, and a stored counter below the default 8.
    pub(crate) fn stored_key(&self) -> (Vec<u8>, i64) {
        (self.key.cose(), self.key.algorithm())
    }

    pub(crate) fn json(&self) -> Value {
        let client_data = self.client.bytes();
        let auth_data = self.auth.bytes(None);
        let mut signed = self.sign_other_auth_data.clone().unwrap_or_else(|| auth_data.clone());
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let mut signature = self.key.sign(&signed);
        if self.flip_signature_bit {
            *signature.last_mut().unwrap() ^= 0x01;
        }
        let id = URL_SAFE_NO_PAD.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature),
                "userHandle": self.user_handle.as_ref().map(|h| URL_SAFE_NO_PAD.encode(h)),
            },
        })
    }
}
