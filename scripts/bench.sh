#!/usr/bin/env bash
# `make bench`: measures and prints tables (never a pass/fail test). Sections:
#   hash, Node    - PBKDF2 in Node's V8: this project's wasm, the pbkdf2 crate in wasm, Node's OpenSSL,
#                   Web Crypto, native Rust; tokens (HS256 in wasm, Ed25519 via Web Crypto)
#   hash, workerd - the same wasm and the peers a Workers user would pick, timed inside local workerd
#                   (Miniflare), ratios to Node's crypto.pbkdf2 SHA-512-220k of the same run
#   size          - the Worker's wasm (whatever .wasm `make build` wrote under build/), raw and gzip -9
#   cold start    - fresh workerd until the first response, the Worker vs a one-line JS Worker
#   HTTP          - requests/s and latency through local workerd (Miniflare) under autocannon, and the
#                   Worker's own hash build timed through logins
# Loopback only; every loop is bounded; a few minutes on 2 cores. Results go in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
make --no-print-directory build >/dev/null

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB; node $(node --version); $(rustc --version); workerd $(node -p 'require("workerd/package.json").version')"
echo

# The bench module is a plain stable build (simd128 from .cargo/config.toml); no unstable flags.
cargo build --quiet --release --locked --target wasm32-unknown-unknown -p edge-auth-kdf-bench
cargo build --quiet --release --locked -p edge-auth-kdf-bench --bin native

echo "== hash and tokens, in Node"
node scripts/bench-hash.mjs
echo

echo "== hash, inside workerd (Miniflare), with the peers"
node scripts/bench-hash-workerd.mjs
echo

echo "== size (ceiling: 600 KB = 600,000 bytes gzip -9)"
mapfile -t wasm_files < <(find build -name '*.wasm' -type f | sort)
if [ "${#wasm_files[@]}" -eq 0 ]; then
  echo "no .wasm under build/ (did make build change its output?)"
else
  echo "| Worker wasm | raw bytes | gzip -9 bytes | gzip -9 / ceiling |"
  echo "|---|---:|---:|---:|"
  for f in "${wasm_files[@]}"; do
    raw=$(stat -c %s "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    echo "| $f | $raw ($((raw / 1024)) KiB) | $gz ($((gz / 1024)) KiB) | $(awk -v g="$gz" 'BEGIN { printf "%.2f", g / 600000 }') |"
  done
fi
echo

echo "== cold start"
node scripts/bench-cold-start.mjs
echo

echo "== HTTP"
node scripts/bench-http.mjs
