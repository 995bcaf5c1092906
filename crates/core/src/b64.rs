//! Base64 in the three alphabets we meet, over `base64ct` (one Base64 implementation in the wasm;
//! constant-time, and strict: padding where there should be none and non-canonical trailing bits are
//! refused, which the JWS parser relies on).
//!
//! The constants keep the names of the `base64` crate's engines so call sites read the same.

use base64ct::{Base64, Base64Bcrypt, Base64Unpadded, Base64UrlUnpadded, Encoding};
use std::marker::PhantomData;

/// One alphabet and padding rule; see the constants below.
pub struct Engine<E>(PhantomData<E>);

/// RFC 4648 §5 (URL-safe), no padding: tokens, ids, JWK members, refresh-session seeds.
pub const URL_SAFE_NO_PAD: Engine<Base64UrlUnpadded> = Engine(PhantomData);
/// RFC 4648 §4 with padding (Django's hashes, secrets given in standard Base64).
pub const STANDARD: Engine<Base64> = Engine(PhantomData);
/// RFC 4648 §4 without padding (PHC strings).
pub const STANDARD_NO_PAD: Engine<Base64Unpadded> = Engine(PhantomData);

/// bcrypt's own alphabet (`./A-Za-z0-9`), no padding: the salt and hash of `$2b$` strings.
pub const BCRYPT: Engine<Base64Bcrypt> = Engine(PhantomData);

/// Not valid Base64 in the expected alphabet (non-canonical trailing bits included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

impl<E: Encoding> Engine<E> {
    pub fn encode(&self, bytes: impl AsRef<[u8]>) -> String {
        E::encode_string(bytes.as_ref())
    }

    pub fn decode(&self, text: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
        let text = std::str::from_utf8(text.as_ref()).map_err(|_| DecodeError)?;
        E::decode_vec(text).map_err(|_| DecodeError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rfc_4648_vectors() {
        // RFC 4648 §10.
        assert_eq!(STANDARD.encode(b"foob"), "Zm9vYg==");
        assert_eq!(STANDARD_NO_PAD.encode(b"foob"), "Zm9vYg");
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
        assert_eq!(URL_SAFE_NO_PAD.decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(STANDARD.decode("Zm9vYmE=").unwrap(), b"fooba");
    }

    #[test]
    fn refuses_the_wrong_alphabet_padding_and_non_canonical_input() {
        assert_eq!(URL_SAFE_NO_PAD.decode("+/8"), Err(DecodeError));
        assert_eq!(STANDARD.decode("Zm9vYg"), Err(DecodeError));
        assert_eq!(STANDARD_NO_PAD.decode("Zm9vYg=="), Err(DecodeError));
        // "Zh" carries non-zero trailing bits: a second spelling of "f" that must not verify.
        assert_eq!(URL_SAFE_NO_PAD.decode("Zh"), Err(DecodeError));
        assert_eq!(URL_SAFE_NO_PAD.decode([0xff, 0xfe]), Err(DecodeError));
    }
}
