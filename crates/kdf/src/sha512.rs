//! SHA-512 (FIPS 180-4 §6.4) in the shape PBKDF2-HMAC-SHA512 needs: the compression function on
//! big-endian `u64` words, plus a small streaming hasher for the few non-hot steps (key pre-hash,
//! `salt || INT(1)`).
//!
//! The message schedule has two implementations, chosen at compile time:
//! - wasm32 with `simd128`: two schedule words at a time in the two `u64` lanes of a `v128`, which
//!   keeps that work off the scalar pipeline the rounds need (the scalar schedule measured ~8-10%
//!   slower in V8, in Node and in workerd);
//! - everything else (host, wasm without `simd128`): plain scalar code.
//!
//! The rounds are scalar everywhere (they are a serial dependency chain).

/// Bytes in one SHA-512 message block.
pub(crate) const BLOCK_LEN: usize = 128;

/// Initial hash value H(0) (FIPS 180-4 §5.3.5).
#[rustfmt::skip]
pub(crate) const IV: [u64; 8] = [
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
];

/// Round constants K (FIPS 180-4 §4.2.3).
#[rustfmt::skip]
const K: [u64; 80] = [
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
];

/// Σ0(a) = ROTR^28(a) ^ ROTR^34(a) ^ ROTR^39(a), written as the FIPS formula. (The nested form
/// ROTR^28(a ^ ROTR^6(a ^ ROTR^5(a))), one register copy fewer in two-operand x64 code, was faster in
/// Node 22's V8 12.4 but is ~15% slower, together with the straight-line rounds 0-15, in V8 14 (Node 26
/// and workerd, where the Worker runs); measured with the variants interleaved in one workerd isolate,
/// BENCHMARKS.md "Hash".)
#[inline(always)]
fn big_sigma0(a: u64) -> u64 {
    a.rotate_right(28) ^ a.rotate_right(34) ^ a.rotate_right(39)
}

/// Σ1(e) = ROTR^14(e) ^ ROTR^18(e) ^ ROTR^41(e), see [`big_sigma0`].
#[inline(always)]
fn big_sigma1(e: u64) -> u64 {
    e.rotate_right(14) ^ e.rotate_right(18) ^ e.rotate_right(41)
}

/// One round (FIPS 180-4 §6.4.2 step 3), with the working variables renamed instead of moved: the
/// caller rotates the names, so the new `a` lands in `$h` and the new `e` in `$d`.
///
/// `Maj(a, b, c)` is written as `b ^ ((a ^ b) & (b ^ c))`: this round's `b ^ c` is the previous round's
/// `a ^ b`, which the compiler reuses, so Maj costs three operations instead of four.
macro_rules! round {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
        $h = $h.wrapping_add($kw).wrapping_add($g ^ ($e & ($f ^ $g))).wrapping_add(big_sigma1($e));
        $d = $d.wrapping_add($h);
        $h = $h.wrapping_add(big_sigma0($a)).wrapping_add($b ^ (($a ^ $b) & ($b ^ $c)));
    };
}

/// Sixteen rounds, `t` in `$t0 .. $t0 + 16`, taking `W[t] + K[t]` from the schedule just before each
/// round (so the schedule work interleaves with the rounds). Sixteen is a multiple of eight, so the
/// names are back in place afterwards.
macro_rules! rounds16 {
    ($s:ident, $t0:expr; $a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {
        round!($a, $b, $c, $d, $e, $f, $g, $h, $s.kw::<0>($t0));
        round!($h, $a, $b, $c, $d, $e, $f, $g, $s.kw::<1>($t0));
        round!($g, $h, $a, $b, $c, $d, $e, $f, $s.kw::<2>($t0));
        round!($f, $g, $h, $a, $b, $c, $d, $e, $s.kw::<3>($t0));
        round!($e, $f, $g, $h, $a, $b, $c, $d, $s.kw::<4>($t0));
        round!($d, $e, $f, $g, $h, $a, $b, $c, $s.kw::<5>($t0));
        round!($c, $d, $e, $f, $g, $h, $a, $b, $s.kw::<6>($t0));
        round!($b, $c, $d, $e, $f, $g, $h, $a, $s.kw::<7>($t0));
        round!($a, $b, $c, $d, $e, $f, $g, $h, $s.kw::<8>($t0));
        round!($h, $a, $b, $c, $d, $e, $f, $g, $s.kw::<9>($t0));
        round!($g, $h, $a, $b, $c, $d, $e, $f, $s.kw::<10>($t0));
        round!($f, $g, $h, $a, $b, $c, $d, $e, $s.kw::<11>($t0));
        round!($e, $f, $g, $h, $a, $b, $c, $d, $s.kw::<12>($t0));
        round!($d, $e, $f, $g, $h, $a, $b, $c, $s.kw::<13>($t0));
        round!($c, $d, $e, $f, $g, $h, $a, $b, $s.kw::<14>($t0));
        round!($b, $c, $d, $e, $f, $g, $h, $a, $s.kw::<15>($t0));
    };
}

/// The SHA-512 compression function: returns `state` updated with one 128-byte block given as
/// sixteen big-endian words.
///
/// Shape, as measured in workerd's V8 (scripts/bench-hash-workerd.mjs; Node 26's V8 14.6 agrees):
/// - all 80 rounds are one loop of sixteen rounds, five times (deliberately not unrolled). Fully
///   unrolled, one PBKDF2 iteration (two compressions) was ~30 KB of machine code and ran ~1.5x slower
///   (instruction-cache / op-cache bound); the loop's runtime index also lets the round constants be
///   loaded from memory (one 16-byte load per pair) instead of materialised as 64-bit immediates;
/// - rounds 0-15 in the loop too, rather than straight-line before it: that version let a caller's
///   constant padding words fold into `W[t] + K[t]` and was the faster one in V8 12.4 (Node 22), but in
///   V8 14 the smaller single loop (with the plain Σ) is ~15% faster; see [`big_sigma0`].
#[inline(always)]
pub(crate) fn compress(state: &[u64; 8], block: &[u64; 16]) -> [u64; 8] {
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;

    let mut schedule = Schedule::new(block);
    // A runtime loop on purpose (see above); `base` is 0, 16, 32, 48, 64.
    let mut base = 0;
    while base < 80 {
        rounds16!(schedule, base; a, b, c, d, e, f, g, h);
        base += 16;
    }

    [
        state[0].wrapping_add(a),
        state[1].wrapping_add(b),
        state[2].wrapping_add(c),
        state[3].wrapping_add(d),
        state[4].wrapping_add(e),
        state[5].wrapping_add(f),
        state[6].wrapping_add(g),
        state[7].wrapping_add(h),
    ]
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::Schedule;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use scalar::Schedule;

/// Message schedule (FIPS 180-4 §6.4.2 step 1) in two `u64` lanes of wasm's `v128`.
///
/// The window of the last sixteen words is kept as eight vectors `(W[2j], W[2j+1])`. Two words at a
/// time works because `W[t+1]` needs `W[t-1]` but not `W[t]`:
/// `(W[t], W[t+1]) = σ1(W[t-2], W[t-1]) + (W[t-7], W[t-6]) + σ0(W[t-15], W[t-14]) + (W[t-16], W[t-15])`,
/// where the odd-aligned pairs are one lane from each of two neighbouring vectors.
///
/// Every operation here is a safe function of `core::arch::wasm32` (no `v128_load`/`v128_store`
/// through pointers: vectors are built with `u64x2` and read with `u64x2_extract_lane`; the compiler
/// turns `u64x2(K[i], K[i + 1])` into one `v128.load` by itself).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::K;
    use core::arch::wasm32::{
        i64x2_shuffle, u64x2, u64x2_add, u64x2_extract_lane, u64x2_shl, u64x2_shr, v128, v128_xor,
    };

    /// σ0(x) = ROTR^1(x) ^ ROTR^8(x) ^ SHR^7(x), per lane. wasm has no 64-bit lane rotate: each
    /// rotation is two shifts, XORed in directly (the halves of a rotation do not overlap, so XOR and
    /// OR agree). (ROTR^8 as a byte shuffle was slower in V8: it reloads the shuffle mask every time.)
    #[inline(always)]
    fn small_sigma0(x: v128) -> v128 {
        v128_xor(
            v128_xor(
                v128_xor(u64x2_shr(x, 1), u64x2_shl(x, 63)),
                v128_xor(u64x2_shr(x, 8), u64x2_shl(x, 56)),
            ),
            u64x2_shr(x, 7),
        )
    }

    /// σ1(x) = ROTR^19(x) ^ ROTR^61(x) ^ SHR^6(x), per lane.
    #[inline(always)]
    fn small_sigma1(x: v128) -> v128 {
        v128_xor(
            v128_xor(
                v128_xor(u64x2_shr(x, 19), u64x2_shl(x, 45)),
                v128_xor(u64x2_shr(x, 61), u64x2_shl(x, 3)),
            ),
            u64x2_shr(x, 6),
        )
    }

    /// The high lane of `lo` and the low lane of `hi`: `(W[2j+1], W[2j+2])` from the pairs `j`, `j+1`.
    #[inline(always)]
    fn odd_pair(lo: v128, hi: v128) -> v128 {
        i64x2_shuffle::<1, 2>(lo, hi)
    }

    pub(super) struct Schedule {
        /// The last sixteen words, `(W[2j], W[2j+1])` at `j = (t / 2) % 8`.
        w: [v128; 8],
        /// `W[t] + K[t]` for the odd `t` next to the last even one computed.
        odd: u64,
    }

    impl Schedule {
        #[inline(always)]
        pub(super) fn new(block: &[u64; 16]) -> Self {
            let mut w = [u64x2(0, 0); 8];
            for (j, pair) in w.iter_mut().enumerate() {
                *pair = u64x2(block[2 * j], block[2 * j + 1]);
            }
            Schedule { w, odd: 0 }
        }

        /// `W[t] + K[t]` for `t = base + I` (`base` a multiple of 16), for `t` = 0, 1, ..., 79 in order:
        /// an even `t` computes the pair `t`, `t + 1`.
        #[inline(always)]
        pub(super) fn kw<const I: usize>(&mut self, base: usize) -> u64 {
            let w = &mut self.w;
            let j = I / 2;
            if I % 2 == 1 {
                return self.odd;
            }
            if base >= 16 {
                w[j] = u64x2_add(
                    u64x2_add(w[j], small_sigma0(odd_pair(w[j], w[(j + 1) % 8]))),
                    u64x2_add(odd_pair(w[(j + 4) % 8], w[(j + 5) % 8]), small_sigma1(w[(j + 7) % 8])),
                );
            }
            let sum = u64x2_add(w[j], u64x2(K[base + I], K[base + I + 1]));
            self.odd = u64x2_extract_lane::<1>(sum);
            u64x2_extract_lane::<0>(sum)
        }
    }
}

/// Message schedule (FIPS 180-4 §6.4.2 step 1) in plain `u64` arithmetic, over a rolling window of
/// sixteen words.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod scalar {
    use super::K;

    #[inline(always)]
    fn small_sigma0(x: u64) -> u64 {
        x.rotate_right(1) ^ x.rotate_right(8) ^ (x >> 7)
    }

    #[inline(always)]
    fn small_sigma1(x: u64) -> u64 {
        x.rotate_right(19) ^ x.rotate_right(61) ^ (x >> 6)
    }

    pub(super) struct Schedule {
        w: [u64; 16],
    }

    impl Schedule {
        #[inline(always)]
        pub(super) fn new(block: &[u64; 16]) -> Self {
            Schedule { w: *block }
        }

        /// `W[t] + K[t]` for `t = base + I` (`base` a multiple of 16), for `t` = 0, 1, ..., 79 in order.
        #[inline(always)]
        pub(super) fn kw<const I: usize>(&mut self, base: usize) -> u64 {
            let w = &mut self.w;
            if base >= 16 {
                w[I] = w[I]
                    .wrapping_add(small_sigma0(w[(I + 1) % 16]))
                    .wrapping_add(w[(I + 9) % 16])
                    .wrapping_add(small_sigma1(w[(I + 14) % 16]));
            }
            w[I].wrapping_add(K[base + I])
        }
    }
}

/// [`compress`] as a function of its own, for the cold paths (key pre-hash, first block of the salt),
/// so that they do not carry another inlined copy of the 80 rounds.
#[inline(never)]
pub(crate) fn compress_cold(state: &[u64; 8], block: &[u64; 16]) -> [u64; 8] {
    compress(state, block)
}

/// Sixteen big-endian words from one 128-byte block.
pub(crate) fn block_words(bytes: &[u8; BLOCK_LEN]) -> [u64; 16] {
    let mut words = [0u64; 16];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut be = [0u8; 8];
        be.copy_from_slice(chunk);
        *word = u64::from_be_bytes(be);
    }
    words
}

/// A streaming SHA-512 that can start from a midstate (HMAC's precomputed inner state).
pub(crate) struct Sha512 {
    state: [u64; 8],
    buffer: [u8; BLOCK_LEN],
    buffered: usize,
    /// Bytes hashed so far, including any blocks folded into the starting state.
    total: u128,
}

impl Sha512 {
    /// A hasher whose state already covers `total` bytes (a multiple of the block length).
    pub(crate) fn from_state(state: [u64; 8], total: u128) -> Self {
        debug_assert!(total.is_multiple_of(BLOCK_LEN as u128));
        Sha512 { state, buffer: [0; BLOCK_LEN], buffered: 0, total }
    }

    pub(crate) fn new() -> Self {
        Self::from_state(IV, 0)
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u128;
        while !data.is_empty() {
            let take = (BLOCK_LEN - self.buffered).min(data.len());
            self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
            self.buffered += take;
            data = &data[take..];
            if self.buffered == BLOCK_LEN {
                self.state = compress_cold(&self.state, &block_words(&self.buffer));
                self.buffered = 0;
            }
        }
    }

    /// Pads (FIPS 180-4 §5.1.2) and returns the final state, i.e. the digest as eight big-endian words.
    pub(crate) fn finalize(mut self) -> [u64; 8] {
        let bit_len = self.total.wrapping_mul(8);
        self.buffer[self.buffered] = 0x80;
        self.buffer[self.buffered + 1..].fill(0);
        if self.buffered >= BLOCK_LEN - 16 {
            self.state = compress_cold(&self.state, &block_words(&self.buffer));
            self.buffer = [0; BLOCK_LEN];
        }
        self.buffer[BLOCK_LEN - 16..].copy_from_slice(&bit_len.to_be_bytes());
        compress_cold(&self.state, &block_words(&self.buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_digest(words: [u64; 8]) -> String {
        words.iter().map(|w| format!("{w:016x}")).collect()
    }

    fn digest(data: &[u8]) -> String {
        let mut hasher = Sha512::new();
        hasher.update(data);
        hex_digest(hasher.finalize())
    }

    #[test]
    fn matches_fips_180_examples() {
        assert_eq!(
            digest(b"abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(
            digest(b""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        // Two-block message (112 bytes: the length no longer fits in the first block).
        assert_eq!(
            digest(
                b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
            ),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018\
             501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        );
    }

    #[test]
    fn matches_the_sha2_crate_at_every_length_around_the_block_boundaries() {
        use sha2::Digest;
        let data: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..data.len() {
            let expected = hex::encode(sha2::Sha512::digest(&data[..len]));
            assert_eq!(digest(&data[..len]), expected, "length {len}");
            // Split updates give the same result.
            let mut hasher = Sha512::new();
            let (first, second) = data[..len].split_at(len / 3);
            hasher.update(first);
            hasher.update(second);
            assert_eq!(hex_digest(hasher.finalize()), expected, "split at {}", len / 3);
        }
    }
}
