//! Credential public keys in COSE_Key form (RFC 9052 §7, RFC 9053 §7) and the signatures they verify.
//!
//! - ES256 (alg -7): EC2 (kty 2), crv P-256 (1), `x` and `y` 32 bytes each, uncompressed (§5.8.5:
//!   "MUST specify 1 (P-256) … MUST NOT use the compressed point form"), a point on the curve (the
//!   check §5.8.5's note says falls between libraries). Signatures are ASN.1 DER (§6.5.5).
//! - EdDSA (alg -8): OKP (kty 1), crv Ed25519 (6), `x` 32 bytes, a canonical point not of small
//!   order. Signatures are the raw 64 bytes of RFC 8032 §5.1.6.

use super::cbor::{self, Key};
use super::WebauthnError::{self, *};
use minicbor::Decoder;
use p256::ecdsa::signature::Verifier;

/// COSE algorithm identifiers [IANA COSE Algorithms].
pub(crate) const ES256: i64 = -7;
pub(crate) const EDDSA: i64 = -8;

/// COSE key labels and values (RFC 9052 §7.1, RFC 9053 §7.1-7.2).
const LABEL_KTY: i64 = 1;
const LABEL_ALG: i64 = 3;
const LABEL_CRV: i64 = -1;
const LABEL_X: i64 = -2;
const LABEL_Y: i64 = -3;
const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const CRV_P256: i64 = 1;
const CRV_ED25519: i64 = 6;

const COORDINATE_LEN: usize = 32;

#[derive(Debug, Clone)]
pub(crate) enum CredentialKey {
    Es256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_compact::PublicKey),
}

/// The members of a COSE_Key we read; other labels (`kid`, `key_ops`, …) are skipped. Labels -1 to
/// -3 mean different things for each key type (an RSA key's -1 is its modulus), so their values are
/// kept whatever their CBOR type and judged once the algorithm is known.
#[derive(Default)]
struct Members<'b> {
    kty: Option<Param<'b>>,
    alg: Option<Param<'b>>,
    crv: Option<Param<'b>>,
    x: Option<Param<'b>>,
    y: Option<Param<'b>>,
}

/// A COSE_Key parameter's value, as far as we need to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param<'b> {
    Int(i64),
    Bytes(&'b [u8]),
    /// The compressed form's sign bit for `y` (RFC 9053 §7.1.1).
    Bool,
    Other,
}

impl<'b> Param<'b> {
    fn read(d: &mut Decoder<'b>) -> Result<Self, WebauthnError> {
        use minicbor::data::Type;
        const BAD: &str = "The credential public key is not a valid COSE key.";
        let value = match d.datatype().map_err(|_| Malformed(BAD))? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 => {
                Self::Int(d.i64().map_err(|_| Malformed(BAD))?)
            }
            Type::Bytes => Self::Bytes(d.bytes().map_err(|_| Malformed(BAD))?),
            Type::Bool => {
                d.bool().map_err(|_| Malformed(BAD))?;
                Self::Bool
            }
            _ => {
                cbor::skip(d, BAD)?;
                Self::Other
            }
        };
        Ok(value)
    }
}

impl CredentialKey {
    /// Decodes the COSE_Key and checks it is a valid key of a supported algorithm: the algorithm
    /// first (UnsupportedAlgorithm), then the key's form (BadKey).
    pub(crate) fn from_cose(bytes: &[u8]) -> Result<Self, WebauthnError> {
        let members = read_members(bytes)?;
        match members.alg {
            Some(Param::Int(ES256)) => es256(&members),
            Some(Param::Int(EDDSA)) => ed25519(&members),
            Some(_) => Err(UnsupportedAlgorithm),
            None => Err(BadKey),
        }
    }

    pub(crate) fn algorithm(&self) -> i64 {
        match self {
            Self::Es256(_) => ES256,
            Self::Ed25519(_) => EDDSA,
        }
    }

    /// Verifies `signature` over `message` (for WebAuthn, authenticator data || SHA-256(clientDataJSON)).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), WebauthnError> {
        match self {
            Self::Es256(key) => {
                let signature = p256::ecdsa::Signature::from_der(signature).map_err(|_| BadSignature)?;
                // `p256` verifies plain ECDSA (FIPS 186-5 §6.4.2): s and n - s both verify, so the
                // high-S signatures authenticators produce are accepted (tests prove it).
                key.verify(message, &signature).map_err(|_| BadSignature)
            }
            Self::Ed25519(key) => {
                let signature =
                    ed25519_compact::Signature::from_slice(signature).map_err(|_| BadSignature)?;
                key.verify(message, &signature).map_err(|_| BadSignature)
            }
        }
    }
}

fn read_members(bytes: &[u8]) -> Result<Members<'_>, WebauthnError> {
    const BAD: &str = "The credential public key is not a valid COSE key.";
    const TWICE: &str = "The credential public key repeats a member.";
    let mut d = Decoder::new(bytes);
    let entries = cbor::map(&mut d, BAD)?;
    let mut m = Members::default();
    for _ in 0..entries {
        let label = match cbor::key(&mut d, BAD)? {
            Key::Int(label) => label,
            Key::Text(_) => {
                cbor::skip(&mut d, BAD)?;
                continue;
            }
        };
        let slot = match label {
            LABEL_KTY => &mut m.kty,
            LABEL_ALG => &mut m.alg,
            LABEL_CRV => &mut m.crv,
            LABEL_X => &mut m.x,
            LABEL_Y => &mut m.y,
            _ => {
                cbor::skip(&mut d, BAD)?;
                continue;
            }
        };
        cbor::once(slot, Param::read(&mut d)?, TWICE)?;
    }
    if d.position() != bytes.len() {
        return Err(Malformed(BAD));
    }
    Ok(m)
}

fn es256(m: &Members<'_>) -> Result<CredentialKey, WebauthnError> {
    if m.kty != Some(Param::Int(KTY_EC2)) || m.crv != Some(Param::Int(CRV_P256)) {
        return Err(BadKey);
    }
    let (Some(Param::Bytes(x)), Some(Param::Bytes(y))) = (m.x, m.y) else { return Err(BadKey) };
    if x.len() != COORDINATE_LEN || y.len() != COORDINATE_LEN {
        return Err(BadKey);
    }
    let point = p256::EncodedPoint::from_affine_coordinates(
        p256::FieldBytes::from_slice(x),
        p256::FieldBytes::from_slice(y),
        false,
    );
    // Refuses a point that is not on the curve (and the identity, which has no affine form).
    p256::ecdsa::VerifyingKey::from_encoded_point(&point).map(CredentialKey::Es256).map_err(|_| BadKey)
}

fn ed25519(m: &Members<'_>) -> Result<CredentialKey, WebauthnError> {
    if m.kty != Some(Param::Int(KTY_OKP)) || m.crv != Some(Param::Int(CRV_ED25519)) || m.y.is_some() {
        return Err(BadKey);
    }
    let Some(Param::Bytes(x)) = m.x else { return Err(BadKey) };
    let key = ed25519_compact::PublicKey::from_slice(x).map_err(|_| BadKey)?;
    // Canonical encoding, on the curve, not of small order: a key that fails can never verify.
    key.validate().map_err(|_| BadKey)?;
    Ok(CredentialKey::Ed25519(key))
}
