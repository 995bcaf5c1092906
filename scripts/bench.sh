#!/usr/bin/env bash
# `make bench`: measures and prints one table (never a pass/fail test). Sections:
#   hash  - PBKDF2 in V8: this project's wasm, the pbkdf2 crate in wasm, Web Crypto, native Rust
#   size  - the Worker's wasm, raw and gzip -9
#   HTTP  - requests/s and latency through local workerd (Miniflare) under autocannon
# Results and the machine they came from go in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
make --no-print-directory build >/dev/null

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB; node $(node --version); $(rustc --version)"
echo

echo "== hash and tokens"
(source scripts/wasm-release-env.sh &&
  cargo build --quiet --release --locked --target wasm32-unknown-unknown -p edge-auth-kdf-bench)
node scripts/bench-hash.mjs
echo

echo "== size"
raw=$(stat -c %s build/index_bg.wasm)
gz=$(gzip -9 -c build/index_bg.wasm | wc -c)
echo "| Worker wasm | bytes |"
echo "|---|---|"
echo "| raw | $raw ($((raw / 1024)) KiB) |"
echo "| gzip -9 | $gz ($((gz / 1024)) KiB) |"
echo

echo "== HTTP"
node scripts/bench-http.mjs
