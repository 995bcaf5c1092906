//! `clientDataJSON` (§5.8.1 `CollectedClientData`): what the browser says about the ceremony (type,
//! challenge, origin, frame). Decoded by a JSON parser, as §7.1 step 6 / §7.2 step 9 ask (not matched
//! against a template: §5.8.1.2 lets clients add members).

use super::json::{self, MAX_CLIENT_DATA_JSON};
use super::RelyingParty;
use super::WebauthnError::{self, *};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest challenge we decode from client data. Ours are 32 bytes (§13.4.3 asks for at least
/// 16); the bound only keeps decoding small (the §16 ES512 vector uses 128).
const MAX_CHALLENGE: usize = 1024;

/// The two ceremonies' `type` values (§5.8.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn type_name(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ClientData {
    /// The bytes as sent: they are what the authenticator signed (through their hash).
    pub(crate) hash: [u8; 32],
    kind: String,
    pub(crate) challenge: Vec<u8>,
    origin: String,
    cross_origin: bool,
    has_top_origin: bool,
}

/// The members we read. Unknown members are ignored (§5.8.1.2); a repeated member is an error
/// (serde refuses duplicates), so no one can smuggle a second `origin` past another reader.
#[derive(Deserialize)]
struct Collected<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    challenge: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    origin: std::borrow::Cow<'a, str>,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
    #[serde(rename = "topOrigin", default, borrow)]
    top_origin: Option<std::borrow::Cow<'a, str>>,
}

impl ClientData {
    /// §7.1 steps 5-6, §7.2 steps 8-9: UTF-8 decode (a leading byte order mark is stripped, as the
    /// UTF-8 decode algorithm does), then parse; the challenge is decoded from base64url.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, WebauthnError> {
        if bytes.len() > MAX_CLIENT_DATA_JSON {
            return Err(Malformed("clientDataJSON is too long."));
        }
        let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let collected: Collected<'_> = serde_json::from_slice(text)
            .map_err(|_| Malformed("clientDataJSON is not the expected JSON object."))?;
        let challenge =
            json::decode(&collected.challenge, MAX_CHALLENGE, "The client data challenge is not base64url.")?;
        Ok(Self {
            hash: Sha256::digest(bytes).into(),
            kind: collected.kind.into_owned(),
            challenge,
            origin: collected.origin.into_owned(),
            cross_origin: collected.cross_origin.unwrap_or(false),
            has_top_origin: collected.top_origin.is_some(),
        })
    }

    /// §7.1 steps 7-11 / §7.2 steps 10-14.
    pub(crate) fn verify(
        &self,
        ceremony: Ceremony,
        rp: &RelyingParty<'_>,
        expected_challenge: &[u8],
    ) -> Result<(), WebauthnError> {
        // §7.1 step 7 / §7.2 step 10: the ceremony's type, so an assertion cannot pass as a
        // registration or the other way round.
        if self.kind != ceremony.type_name() {
            return Err(WrongType);
        }
        // §7.1 step 8 / §7.2 step 11. Constant time: the comparison must not tell how much of a
        // guessed challenge was right (`ct_eq` of slices of different lengths is false).
        if !bool::from(self.challenge.as_slice().ct_eq(expected_challenge)) {
            return Err(ChallengeMismatch);
        }
        // §7.1 step 9 / §7.2 step 12: one of our origins exactly (§13.4.9).
        if !rp.origins.contains(&self.origin) {
            return Err(OriginNotAllowed);
        }
        // §7.1 steps 10-11 / §7.2 steps 13-14: our pages are never framed by another origin, so a
        // ceremony in a cross-origin iframe is not one we started.
        if self.cross_origin || self.has_top_origin {
            return Err(CrossOrigin);
        }
        Ok(())
    }
}
