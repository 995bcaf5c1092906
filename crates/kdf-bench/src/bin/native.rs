//! Native timing of PBKDF2-HMAC-SHA512 (this project's implementation and the `pbkdf2` crate), for
//! `scripts/bench-hash.mjs`: `cargo run --release -p edge-auth-kdf-bench --bin native -- [iterations] [rounds]`
//! prints one JSON object with the median milliseconds per hash of each.

use std::time::Instant;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn time(derive: impl Fn() -> [u8; 64]) -> f64 {
    let start = Instant::now();
    std::hint::black_box(derive());
    start.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u32>().expect("a number"));
    let iterations = args.next().unwrap_or(220_000);
    let rounds = args.next().unwrap_or(9).max(1);
    let password = std::hint::black_box(b"correct horse battery staple".as_slice());
    let salt = std::hint::black_box([0xa5u8; 16]);

    let ours = || edge_auth_kdf::pbkdf2_hmac_sha512(password, &salt, iterations);
    let reference = || {
        let mut out = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, &salt, iterations, &mut out);
        out
    };
    assert_eq!(ours(), reference(), "edge_auth_kdf and the pbkdf2 crate disagree");

    let (mut ours_ms, mut crate_ms) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours_ms.push(time(ours));
        crate_ms.push(time(reference));
    }
    println!(
        "{{\"iterations\":{iterations},\"rounds\":{rounds},\"ours_ms\":{:.3},\"crate_ms\":{:.3}}}",
        median(ours_ms),
        median(crate_ms)
    );
}
