//! PBKDF2-HMAC-SHA512 (RFC 8018 §5.2) behind one non-generic function.
//!
//! Why a crate of its own: generic code is compiled in the crate that instantiates it, so a profile
//! override on `pbkdf2`/`sha2` alone would not make the hash fast while the Worker is built for size.
//! Instantiating it here, with `[profile.*.package.edge-auth-kdf] opt-level = 3`, keeps the hash at full
//! speed (it ran ~3x slower at "s"/"z" when measured) while the rest of the Worker stays small.
//!
//! PBKDF2-HMAC-SHA512 is hand-specialised (the goal: in workerd, no more time than Node's native
//! OpenSSL PBKDF2-HMAC-SHA512 at the same cost; `scripts/bench-hash-workerd.mjs` measures it):
//! - the HMAC inner and outer SHA-512 states (key XOR ipad / opad, the key pre-hashed first when it is
//!   longer than a block, RFC 2104) are computed once per password;
//! - each iteration is two compressions of a pre-padded block of sixteen `u64` words: the 64-byte
//!   `U_{i-1}` (or the inner digest) followed by the fixed padding (`0x80`, zeros, and the length
//!   (128 + 64) * 8 bits), with no byte conversion inside the loop;
//! - on wasm32 with `simd128` the SHA-512 message schedule runs in two `v128` lanes (see `sha512`);
//! - exactly one iteration sits in an `#[inline(never)]` function called from the loop, because V8
//!   optimises a wasm function only on a later call (there is no on-stack replacement for wasm): with
//!   the whole loop in one function, the first hash in an isolate would run in the baseline tier,
//!   ~10x slower. wasm-opt must not inline it back: the Worker's wasm-opt flags keep
//!   `--one-caller-inline-max-function-size=0` (without it, `-Oz` inlined `iteration` into its only
//!   caller and the first hash in a fresh process took ~9.5x the steady state).
//!
//! Outputs are those of RFC 8018; the tests check them against published vectors and the `pbkdf2`
//! crate, and `scripts/bench-hash.mjs` checks the wasm/SIMD build against Node's OpenSSL.

mod sha512;

use sha512::{Sha512, BLOCK_LEN};

/// Length in bytes of one PBKDF2-HMAC-SHA512 output block (the SHA-512 digest size).
pub const OUTPUT_LEN: usize = 64;

/// Derives `OUTPUT_LEN` bytes with PBKDF2-HMAC-SHA512.
///
/// `iterations` must be at least 1 (0 is treated as 1); callers bound it (see `edge-auth-core`'s
/// password module).
pub fn pbkdf2_hmac_sha512(password: &[u8], salt: &[u8], iterations: u32) -> [u8; OUTPUT_LEN] {
    let key = HmacKey::new(password);

    // U_1 = HMAC(P, S || INT(1)). The output is exactly one SHA-512 block long, so i = 1 only.
    let mut inner = Sha512::from_state(key.inner, BLOCK_LEN as u128);
    inner.update(salt);
    inner.update(&1u32.to_be_bytes());
    let mut u = sha512::compress_cold(&key.outer, &padded(&inner.finalize()));

    // T_1 = U_1 ^ U_2 ^ ... ^ U_c
    let mut t = u;
    for _ in 1..iterations.max(1) {
        iteration(&key, &mut u, &mut t);
    }

    let mut out = [0u8; OUTPUT_LEN];
    for (chunk, word) in out.chunks_exact_mut(8).zip(t) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// One PBKDF2 iteration: `U_i = HMAC(P, U_{i-1})`, `T ^= U_i`.
///
/// Deliberately not inlined (see the crate documentation): V8 tiers this function up after its first
/// few hundred calls, well inside the first hash.
#[inline(never)]
fn iteration(key: &HmacKey, u: &mut [u64; 8], t: &mut [u64; 8]) {
    let next = key.outer_of(&sha512::compress(&key.inner, &padded(u)));
    for (acc, word) in t.iter_mut().zip(next) {
        *acc ^= word;
    }
    *u = next;
}

/// The last block of a SHA-512 message of 128 + 64 bytes (the HMAC key block, then a 64-byte
/// message), as sixteen words: the message, `0x80`, zeros, and the length in bits. Both halves of
/// HMAC-SHA512 over a 64-byte message end with this block, so the padding is the same constant for
/// both.
#[inline(always)]
fn padded(message: &[u64; 8]) -> [u64; 16] {
    const BIT_LEN: u64 = ((BLOCK_LEN + OUTPUT_LEN) * 8) as u64;
    let m = message;
    [m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], 1 << 63, 0, 0, 0, 0, 0, 0, BIT_LEN]
}

/// The HMAC-SHA512 key schedule for one password: the SHA-512 states after the key block XOR ipad and
/// XOR opad (RFC 2104), so that each HMAC afterwards costs only the message's compressions.
struct HmacKey {
    inner: [u64; 8],
    outer: [u64; 8],
}

impl HmacKey {
    fn new(password: &[u8]) -> Self {
        // K0: the key, or its SHA-512 digest if longer than a block, zero-padded to a block.
        let mut block = [0u8; BLOCK_LEN];
        if password.len() > BLOCK_LEN {
            let mut hasher = Sha512::new();
            hasher.update(password);
            for (chunk, word) in block.chunks_exact_mut(8).zip(hasher.finalize()) {
                chunk.copy_from_slice(&word.to_be_bytes());
            }
        } else {
            block[..password.len()].copy_from_slice(password);
        }
        let k0 = sha512::block_words(&block);
        let inner = sha512::compress_cold(&sha512::IV, &k0.map(|w| w ^ 0x3636_3636_3636_3636));
        let outer = sha512::compress_cold(&sha512::IV, &k0.map(|w| w ^ 0x5c5c_5c5c_5c5c_5c5c));
        HmacKey { inner, outer }
    }

    /// The outer hash of HMAC given the inner digest: `H((K0 ^ opad) || inner)` (inlined: hot loop only).
    #[inline(always)]
    fn outer_of(&self, inner_digest: &[u64; 8]) -> [u64; 8] {
        sha512::compress(&self.outer, &padded(inner_digest))
    }
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output, for verifying imported legacy hashes (Django, passlib).
pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations.max(1), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_published_vector() {
        // RFC 7914 §11 (scrypt's PBKDF2-HMAC-SHA256 vector), first 32 bytes.
        let out = pbkdf2_hmac_sha256(b"passwd", b"salt", 1);
        assert_eq!(hex::encode(out), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    }

    // Known-answer vectors for PBKDF2-HMAC-SHA512 with a 64-byte output. RFC 6070 publishes only
    // HMAC-SHA1 vectors; these SHA-512 ones are the widely used set from the same inputs (also
    // reproduced by OpenSSL, Python's hashlib.pbkdf2_hmac and Node's crypto.pbkdf2Sync).
    #[test]
    fn matches_the_published_vector_for_one_iteration() {
        let out = pbkdf2_hmac_sha512(b"password", b"salt", 1);
        assert_eq!(
            hex::encode(out),
            "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252\
             c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
        );
    }

    #[test]
    fn matches_the_published_vector_for_two_iterations() {
        let out = pbkdf2_hmac_sha512(b"password", b"salt", 2);
        assert_eq!(
            hex::encode(out),
            "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c\
             f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"
        );
    }

    #[test]
    fn matches_the_published_vector_for_4096_iterations() {
        let out = pbkdf2_hmac_sha512(b"password", b"salt", 4096);
        assert_eq!(
            hex::encode(out),
            "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5\
             143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5"
        );
    }

    #[test]
    fn matches_the_published_vector_for_long_inputs() {
        let out =
            pbkdf2_hmac_sha512(b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096);
        assert_eq!(
            hex::encode(out),
            "8c0511f4c6e597c6ac6315d8f0362e225f3c501495ba23b868c005174dc4ee71\
             115b59f9e60cd9532fa33e0f75aefe30225c583a186cd82bd4daea9724a3d3b8"
        );
    }

    #[test]
    fn zero_iterations_are_treated_as_one_rather_than_panicking() {
        assert_eq!(pbkdf2_hmac_sha512(b"p", b"s", 0), pbkdf2_hmac_sha512(b"p", b"s", 1));
    }

    /// Reference: the `pbkdf2` crate (dev-dependency) with `sha2::Sha512`.
    fn reference(password: &[u8], salt: &[u8], iterations: u32) -> [u8; OUTPUT_LEN] {
        let mut out = [0u8; OUTPUT_LEN];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut out);
        out
    }

    /// xorshift64*: a small deterministic generator, so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound
        }

        fn bytes(&mut self, len: usize) -> Vec<u8> {
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    #[test]
    fn matches_the_pbkdf2_crate_on_random_inputs() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..2500 {
            let password_len = rng.below(300) as usize;
            let password = rng.bytes(password_len);
            let salt_len = rng.below(64) as usize;
            let salt = rng.bytes(salt_len);
            let iterations = 1 + rng.below(49) as u32;
            assert_eq!(
                pbkdf2_hmac_sha512(&password, &salt, iterations),
                reference(&password, &salt, iterations),
                "case {case}: password {}, salt {}, {iterations} iterations",
                hex::encode(&password),
                hex::encode(&salt)
            );
        }
    }

    #[test]
    fn matches_the_pbkdf2_crate_around_the_key_and_salt_block_boundaries() {
        let mut rng = Rng(42);
        // Passwords longer than a block are hashed first (RFC 2104); salt || INT(1) crosses into a
        // second block at 108 bytes (112 - 4: the length field needs 16 bytes).
        for len in [0, 1, 63, 64, 111, 112, 127, 128, 129, 130, 200, 255, 256, 257, 1000, 5000] {
            let long = rng.bytes(len);
            for iterations in [1, 2, 3, 17] {
                assert_eq!(
                    pbkdf2_hmac_sha512(&long, b"salt", iterations),
                    reference(&long, b"salt", iterations),
                    "password of {len} bytes"
                );
                assert_eq!(
                    pbkdf2_hmac_sha512(b"password", &long, iterations),
                    reference(b"password", &long, iterations),
                    "salt of {len} bytes"
                );
            }
        }
    }

    #[test]
    fn matches_the_pbkdf2_crate_at_the_production_setting() {
        let salt = [0xa5u8; 16];
        assert_eq!(
            pbkdf2_hmac_sha512(b"correct horse battery staple", &salt, 220_000),
            reference(b"correct horse battery staple", &salt, 220_000)
        );
    }
}
