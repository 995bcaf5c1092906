//! The few CBOR (RFC 8949) reads WebAuthn needs, over minicbor's decoder: definite-length maps of
//! known members (the attestation object, attestation statements and COSE keys are CTAP2 canonical
//! CBOR, §6.5.1/§6.5.4, so always definite), and skipping whole items (extensions, members we do not
//! read). minicbor's `skip` is iterative, so deep nesting in hostile input cannot exhaust the stack.

use super::WebauthnError::{self, Malformed};
use minicbor::data::Type;
use minicbor::Decoder;

/// More members than any structure we read has: a bound on the work a claimed map length can cause.
const MAX_MAP_ENTRIES: u64 = 32;

/// A map key: COSE labels are integers (RFC 9052 §7), WebAuthn's are text (§6.5.4).
pub(crate) enum Key<'b> {
    Int(i64),
    Text(&'b str),
}

/// Starts a definite-length map and returns its number of entries.
pub(crate) fn map(d: &mut Decoder<'_>, error: &'static str) -> Result<u64, WebauthnError> {
    match d.map() {
        Ok(Some(n)) if n <= MAX_MAP_ENTRIES => Ok(n),
        _ => Err(Malformed(error)),
    }
}

/// The next map key, an integer or a text string.
pub(crate) fn key<'b>(d: &mut Decoder<'b>, error: &'static str) -> Result<Key<'b>, WebauthnError> {
    match d.datatype().map_err(|_| Malformed(error))? {
        Type::String => d.str().map(Key::Text).map_err(|_| Malformed(error)),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 => {
            d.i64().map(Key::Int).map_err(|_| Malformed(error))
        }
        _ => Err(Malformed(error)),
    }
}

/// The byte range of the next whole item, which is skipped.
pub(crate) fn skip(
    d: &mut Decoder<'_>,
    error: &'static str,
) -> Result<std::ops::Range<usize>, WebauthnError> {
    let start = d.position();
    d.skip().map_err(|_| Malformed(error))?;
    Ok(start..d.position())
}

/// Whether the next item is a map (definite or not), without consuming it.
pub(crate) fn is_map(d: &Decoder<'_>) -> bool {
    matches!(d.datatype(), Ok(Type::Map | Type::MapIndef))
}

/// Records that a member was seen; a second one is an error (RFC 8949 §5.6: duplicate keys make a
/// map invalid, and two readers could otherwise pick different values).
pub(crate) fn once<T>(slot: &mut Option<T>, value: T, error: &'static str) -> Result<(), WebauthnError> {
    if slot.replace(value).is_some() {
        return Err(Malformed(error));
    }
    Ok(())
}
