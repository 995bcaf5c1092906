//! wasm exports for `scripts/bench-hash.mjs`: PBKDF2-HMAC-SHA512 with this project's implementation
//! (`ours`) and with the `pbkdf2` crate (`crate`), over inputs the JS side writes into linear memory.
//!
//! Protocol (all integers little-endian `u32`):
//! - `input_ptr()` -> address of the input buffer (`INPUT_CAP` bytes): `[password_len][salt_len]`, then
//!   the password bytes, then the salt bytes;
//! - `ours(iterations)` / `crate(iterations)` -> 0 on success (the 64-byte result is at `output_ptr()`),
//!   1 if the lengths do not fit the buffer;
//! - `simd128()` -> 1 if built with wasm SIMD (`.cargo/config.toml`), so `ours` is the `v128` path;
//! - `bcrypt_hash(cost)` and `argon2id(m_kib, t, p)`: the peers, see below.
//!
//! Benchmark-only, never linked into the Worker.
// `#[no_mangle]` and `#[export_name]` count as `unsafe_code` (exported symbol names can clash); they are
// the whole point of this crate, and nothing here dereferences a raw pointer: the JS side writes through
// the exported memory, and Rust reads the buffers through their `Mutex`es.
#![allow(unsafe_code)]

use std::sync::Mutex;

/// Bytes of the input buffer: the two lengths and up to 4088 bytes of password and salt.
const INPUT_CAP: usize = 4096;
const OUTPUT_LEN: usize = edge_auth_kdf::OUTPUT_LEN;

static INPUT: Mutex<[u8; INPUT_CAP]> = Mutex::new([0; INPUT_CAP]);
static OUTPUT: Mutex<[u8; OUTPUT_LEN]> = Mutex::new([0; OUTPUT_LEN]);

#[no_mangle]
pub extern "C" fn input_ptr() -> *const u8 {
    INPUT.lock().map_or(std::ptr::null(), |buffer| buffer.as_ptr())
}

#[no_mangle]
pub extern "C" fn output_ptr() -> *const u8 {
    OUTPUT.lock().map_or(std::ptr::null(), |buffer| buffer.as_ptr())
}

/// 1 if this module (and so `edge_auth_kdf` in it) was built with wasm SIMD, i.e. `ours` runs the `v128`
/// message schedule; 0 if it runs the scalar fallback.
#[no_mangle]
pub extern "C" fn simd128() -> u32 {
    u32::from(cfg!(all(target_arch = "wasm32", target_feature = "simd128")))
}

#[no_mangle]
pub extern "C" fn input_cap() -> u32 {
    INPUT_CAP as u32
}

/// Reads the password and salt from the input buffer and writes `derive(password, salt)` to the output.
fn run(derive: impl FnOnce(&[u8], &[u8]) -> [u8; OUTPUT_LEN]) -> u32 {
    let (Ok(input), Ok(mut output)) = (INPUT.lock(), OUTPUT.lock()) else { return 1 };
    let len =
        |at: usize| u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]]) as usize;
    let (password_len, salt_len) = (len(0), len(4));
    let Some(data) = input[8..].get(..password_len.saturating_add(salt_len)) else { return 1 };
    let (password, salt) = data.split_at(password_len);
    *output = derive(password, salt);
    0
}

/// PBKDF2-HMAC-SHA512 with `edge_auth_kdf` (the Worker's implementation).
#[no_mangle]
pub extern "C" fn ours(iterations: u32) -> u32 {
    run(|password, salt| edge_auth_kdf::pbkdf2_hmac_sha512(password, salt, iterations))
}

/// PBKDF2-HMAC-SHA512 with the `pbkdf2` crate and `sha2::Sha512`, for comparison.
#[export_name = "crate"]
pub extern "C" fn with_the_crate(iterations: u32) -> u32 {
    run(|password, salt| {
        let mut out = [0u8; OUTPUT_LEN];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations.max(1), &mut out);
        out
    })
}

// ---- peers: bcrypt and Argon2id in wasm ----------------------------------------------------------
// What a Workers user could compile in instead of PBKDF2, timed in workerd by
// scripts/bench/hash-workerd.mjs over the same input buffer. The outputs are written to the start of the
// output buffer (bcrypt 24 bytes, Argon2id 32 bytes), the rest zeroed.

/// bcrypt (EksBlowfish, the `bcrypt` crate's raw function) at `cost`, with the first 16 salt bytes
/// (zero-padded) and the password NUL-terminated and cut at 72 bytes, as `$2b$` does; the 24-byte
/// result (the 23 bytes a `$2b$` string keeps, plus one) at `output_ptr()`. 1 on bad input (cost
/// outside 4..=31).
#[no_mangle]
pub extern "C" fn bcrypt_hash(cost: u32) -> u32 {
    if !(4..=31).contains(&cost) {
        return 1;
    }
    run(|password, salt| {
        let mut salt16 = [0u8; 16];
        let take = salt.len().min(16);
        salt16[..take].copy_from_slice(&salt[..take]);
        let mut key = password[..password.len().min(71)].to_vec();
        key.push(0);
        let mut out = [0u8; OUTPUT_LEN];
        out[..24].copy_from_slice(&bcrypt::bcrypt(cost, salt16, &key));
        out
    })
}

/// Argon2id v1.3 (RustCrypto's `argon2`) with `m_kib` KiB of memory, `t` passes and `p` lanes, 32-byte
/// output at `output_ptr()`. The memory is allocated per call, as a Worker would. 1 on invalid
/// parameters (e.g. a salt shorter than 8 bytes).
#[no_mangle]
pub extern "C" fn argon2id(m_kib: u32, t: u32, p: u32) -> u32 {
    use argon2::{Algorithm, Argon2, Params, Version};
    let Ok(params) = Params::new(m_kib, t, p, Some(32)) else { return 1 };
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut ok = true;
    let status = run(|password, salt| {
        let mut out = [0u8; OUTPUT_LEN];
        ok = argon.hash_password_into(password, salt, &mut out[..32]).is_ok();
        out
    });
    if ok {
        status
    } else {
        1
    }
}

// ---- access tokens -------------------------------------------------------------------------------
// Sign and verify tokens of the Worker's shape (header `at+jwt` + kid, the Worker's claims) with the
// crate the Worker uses, jwt-compact (HS256), so `bench-hash.mjs` can time one operation in V8. Not by
// depending on `edge-auth-core`: its getrandom (wasm_js) needs wasm-bindgen's glue, which a plain
// module instantiated without glue cannot use. Not timed: `TokenService`'s extra header and claim
// checks (a few string compares) and the `jti` draw. EdDSA is timed on ed25519-compact directly, the
// backend jwt-compact signs with in the Worker, over a token-sized message: without the 64 bytes of
// signature noise the Worker also hashes (drawn from getrandom, which a module without glue lacks).

mod tokens {
    use jwt_compact::alg::{Hs256, Hs256Key};
    use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken};
    use serde::{Deserialize, Serialize};

    const NOW: i64 = 1_780_000_000;
    const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret-0123456789";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Access {
        iss: String,
        aud: String,
        sub: String,
        sid: String,
        jti: String,
        role: String,
        username: String,
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(NOW, 0).unwrap_or_default()
    }

    fn claims() -> Claims<Access> {
        let mut claims = Claims::new(Access {
            iss: "edge-auth".into(),
            aud: "edge-auth".into(),
            sub: "cy_Qf85n2t-36uoK3yhT4g".into(),
            sid: "teCfDeembls8RnCU84XhCw".into(),
            jti: "Lehy6vy922-bsnrqns3TwQ".into(),
            role: "admin".into(),
            username: "admin".into(),
        });
        claims.issued_at = Some(now());
        claims.expiration = Some(now() + chrono::Duration::seconds(15 * 60));
        claims
    }

    fn header() -> Header {
        Header::empty().with_key_id("hs-0UaG17I5mNcY").with_token_type("at+jwt")
    }

    fn token(key: &Hs256Key, claims: &Claims<Access>) -> Option<String> {
        Hs256.token(&header(), claims, key).ok()
    }

    /// Signs `n` HS256 tokens; returns the length of the last (so nothing is optimised away).
    pub fn sign(n: u32) -> u32 {
        let (key, claims) = (Hs256Key::new(SECRET), claims());
        let mut len = 0;
        for _ in 0..n {
            len = token(&key, &claims).map_or(0, |t| t.len() as u32);
        }
        len
    }

    /// Takes apart, verifies and reads one HS256 token `n` times; returns how many verified.
    pub fn verify(n: u32) -> u32 {
        let (key, expected) = (Hs256Key::new(SECRET), claims());
        let Some(token) = token(&key, &expected) else { return 0 };
        let options = TimeOptions::new(chrono::Duration::seconds(30), now);
        let mut ok = 0;
        for _ in 0..n {
            let Ok(untrusted) = UntrustedToken::new(&token) else { continue };
            let verified = Hs256
                .validator::<Access>(&key)
                .validate(&untrusted)
                .ok()
                .filter(|t| t.claims().validate_expiration(&options).is_ok())
                .is_some_and(|t| t.claims().custom == expected.custom);
            ok += u32::from(verified);
        }
        ok
    }
}

/// Signs `n` access tokens: HS256 (`eddsa == 0`, jwt-compact) or the Ed25519 signature of one
/// (`eddsa != 0`, ed25519-compact). Returns the last token's or signature's length.
#[no_mangle]
pub extern "C" fn jwt_sign(n: u32, eddsa: u32) -> u32 {
    if eddsa != 0 {
        return ed25519::sign(n);
    }
    tokens::sign(n)
}

/// Verifies an access token `n` times (as in `jwt_sign`); returns how many verified.
#[no_mangle]
pub extern "C" fn jwt_verify(n: u32, eddsa: u32) -> u32 {
    if eddsa != 0 {
        return ed25519::verify(n);
    }
    tokens::verify(n)
}

mod ed25519 {
    use ed25519_compact::{KeyPair, Seed};

    /// The signing input of an access token is ~330 bytes (header.claims).
    const MESSAGE: [u8; 330] = [b'e'; 330];

    fn pair() -> KeyPair {
        KeyPair::from_seed(Seed::new([7; 32]))
    }

    pub fn sign(n: u32) -> u32 {
        let pair = pair();
        let mut len = 0;
        for _ in 0..n {
            len = pair.sk.sign(MESSAGE, None).len() as u32;
        }
        len
    }

    pub fn verify(n: u32) -> u32 {
        let pair = pair();
        let signature = pair.sk.sign(MESSAGE, None);
        (0..n).map(|_| u32::from(pair.pk.verify(MESSAGE, &signature).is_ok())).sum()
    }
}
