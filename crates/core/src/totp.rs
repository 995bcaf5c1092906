//! Time-based one-time passwords [RFC 6238]: HMAC-SHA-1 [RFC 4226 §5], 6 digits, 30-second steps, one
//! step of clock skew either way [RFC 6238 §5.2], each step accepted at most once (the last used step
//! is stored: a replay inside its window fails [NIST SP 800-63B §5.1.4.2]). Secrets are 160 random bits
//! [RFC 4226 §4 R6], shown base32 [RFC 4648 §6] and in an `otpauth://` URI (Key Uri Format) with its
//! QR code.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per step [RFC 6238 §4.1, default X].
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code [RFC 4226 §5.3].
pub const DIGITS: u32 = 6;
/// Steps of skew accepted either way [RFC 6238 §5.2].
pub const SKEW_STEPS: i64 = 1;
/// Secret length: 160 bits, the size of an HMAC-SHA-1 output [RFC 4226 §4 R6].
pub const SECRET_LEN: usize = 20;

/// The step `now` falls in [RFC 6238 §4.2, T0 = 0].
pub fn step_at(now: i64) -> i64 {
    now.div_euclid(STEP_SECONDS)
}

/// The code of `secret` at `step` [RFC 4226 §5.3: dynamic truncation].
pub fn code(secret: &[u8], step: i64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&(step as u64).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    binary % 10u32.pow(DIGITS)
}

/// The step a `code` typed at `now` matches, if any step within the skew does and it is later than
/// `last_used_step` (so no step is accepted twice). Every candidate is compared in constant time.
pub fn verify(secret: &[u8], typed: &str, now: i64, last_used_step: Option<i64>) -> Option<i64> {
    let typed = typed.trim();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let here = step_at(now);
    let mut found = None;
    for step in (here - SKEW_STEPS)..=(here + SKEW_STEPS) {
        let expected = format!("{:0width$}", code(secret, step), width = DIGITS as usize);
        let matches: bool = expected.as_bytes().ct_eq(typed.as_bytes()).into();
        if matches && last_used_step.is_none_or(|last| step > last) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// A secret as people type it: base32 without padding [RFC 4648 §6].
pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The Key Uri Format URI authenticator apps read: `otpauth://totp/Issuer:account?secret=...`.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| form_encode(s);
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// The QR code of `text` as an SVG document.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// Percent-encoding of everything but unreserved characters [RFC 3986 §2.3].
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed and its 8-digit codes; ours are the last 6 digits.
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        for (time, eight) in [
            (59, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(code(SEED, step_at(time)), eight % 1_000_000, "T = {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_within_one_step_of_skew_and_once() {
        let now = 1_780_000_015;
        let at = |t: i64| format!("{:06}", code(SEED, step_at(t)));
        assert_eq!(verify(SEED, &at(now), now, None), Some(step_at(now)));
        assert_eq!(verify(SEED, &at(now - 30), now, None), Some(step_at(now) - 1), "one step back");
        assert_eq!(verify(SEED, &at(now + 30), now, None), Some(step_at(now) + 1), "one step ahead");
        assert_eq!(verify(SEED, &at(now - 60), now, None), None, "two steps back");
        assert_eq!(verify(SEED, &at(now + 60), now, None), None, "two steps ahead");
        assert_eq!(verify(SEED, &at(now), now, Some(step_at(now))), None, "a replay of the used step");
        assert_eq!(
            verify(SEED, &at(now - 30), now, Some(step_at(now))),
            None,
            "an older step after a newer one"
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(verify(SEED, bad, 59, None), None, "{bad:?}");
        }
        assert_eq!(verify(SEED, " 287082 ", 59, None), Some(1), "surrounding spaces are ignored");
    }

    #[test]
    fn the_uri_and_the_qr_code_carry_the_secret() {
        let uri = otpauth_uri("edge-auth", "alice@example.com", SEED);
        assert_eq!(
            uri,
            "otpauth://totp/edge-auth:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=edge-auth&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{}", &svg[..60]);
    }
}
