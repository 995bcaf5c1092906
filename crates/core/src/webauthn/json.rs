//! Reading the members of `RegistrationResponseJSON` / `AuthenticationResponseJSON` (§5.1): strings
//! and base64url byte strings (RFC 4648 §5, no padding), each bounded before it is decoded.

use super::WebauthnError::{self, Malformed};
use crate::b64::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The longest credential id a relying party accepts (§7.1 step 25: "≤ 1023 bytes").
pub(crate) const MAX_CREDENTIAL_ID: usize = 1023;
/// `clientDataJSON`: a few hundred bytes in practice (§5.8.1); room for clients' extra members.
pub(crate) const MAX_CLIENT_DATA_JSON: usize = 8 * 1024;
/// A user handle is at most 64 bytes (§5.4.3, `user.id`).
pub(crate) const MAX_USER_HANDLE: usize = 64;

/// The top-level object and its `type`, which must be `public-key` (§5.1, `Credential.type`).
/// Whether the type is right is a check of `verify`, so it is returned, not judged.
pub(crate) fn credential_object(value: &Value) -> Result<(&Map<String, Value>, bool), WebauthnError> {
    let object = value.as_object().ok_or(Malformed("The credential is not a JSON object."))?;
    let kind = string(object, "type", 32, "The credential type is missing or not a string.")?;
    Ok((object, kind == "public-key"))
}

/// `id` and `rawId`: the same credential id, as the `id` string and as base64url bytes (§5.1: `id`
/// is the base64url encoding of `rawId`); both must be present and say the same.
pub(crate) fn credential_id(object: &Map<String, Value>) -> Result<Vec<u8>, WebauthnError> {
    const MISSING: &str = "The credential id is missing, not base64url or longer than 1023 bytes.";
    let raw_id = base64url(object, "rawId", MAX_CREDENTIAL_ID, MISSING)?;
    let id = base64url(object, "id", MAX_CREDENTIAL_ID, MISSING)?;
    if id != raw_id {
        return Err(Malformed("The credential id is not the base64url encoding of rawId."));
    }
    if raw_id.is_empty() {
        return Err(Malformed(MISSING));
    }
    Ok(raw_id)
}

/// The `response` member object.
pub(crate) fn response(object: &Map<String, Value>) -> Result<&Map<String, Value>, WebauthnError> {
    object
        .get("response")
        .and_then(Value::as_object)
        .ok_or(Malformed("The credential response is missing or not an object."))
}

/// A string member no longer than `max_len` bytes.
pub(crate) fn string<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    max_len: usize,
    error: &'static str,
) -> Result<&'a str, WebauthnError> {
    match object.get(key) {
        Some(Value::String(text)) if text.len() <= max_len => Ok(text),
        _ => Err(Malformed(error)),
    }
}

/// A base64url member that decodes to at most `max_bytes` bytes. The text length is checked first,
/// so an oversized member costs no decoding.
pub(crate) fn base64url(
    object: &Map<String, Value>,
    key: &str,
    max_bytes: usize,
    error: &'static str,
) -> Result<Vec<u8>, WebauthnError> {
    let text = string(object, key, encoded_len(max_bytes), error)?;
    decode(text, max_bytes, error)
}

/// Like [`base64url`], for a member that may be absent or `null` (an empty string counts as absent:
/// no user handle is empty, §5.4.3).
pub(crate) fn optional_base64url(
    object: &Map<String, Value>,
    key: &str,
    max_bytes: usize,
    error: &'static str,
) -> Result<Option<Vec<u8>>, WebauthnError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(_) => base64url(object, key, max_bytes, error).map(Some),
    }
}

/// Strict base64url without padding, at most `max_bytes` decoded.
pub(crate) fn decode(text: &str, max_bytes: usize, error: &'static str) -> Result<Vec<u8>, WebauthnError> {
    if text.len() > encoded_len(max_bytes) {
        return Err(Malformed(error));
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| Malformed(error))?;
    if bytes.len() > max_bytes {
        return Err(Malformed(error));
    }
    Ok(bytes)
}

/// The unpadded base64 length of `n` bytes.
const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}
