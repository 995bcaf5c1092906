#!/usr/bin/env bash
# `make size-report`: what the Worker's wasm is made of, per crate and largest items (twiggy, pinned),
# on the module before wasm-bindgen, optimised like the shipped one but with its names kept.
set -euo pipefail
cd "$(dirname "$0")/.."
TWIGGY_VERSION=0.8.0
source scripts/env.sh
make --no-print-directory build >/dev/null
if ! twiggy --version 2>/dev/null | grep -q "$TWIGGY_VERSION"; then
  echo "installing twiggy $TWIGGY_VERSION (first time only)" >&2
  cargo install twiggy --version "$TWIGGY_VERSION" --locked --quiet
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
KEEP_NAMES=1 bash scripts/wasm-opt.sh target/wasm32-unknown-unknown/release/edge_auth.wasm "$work/named.wasm"
twiggy top -n 1000000 --format csv "$work/named.wasm" > "$work/top.csv"
echo "Shipped: build/index_bg.wasm $(stat -c %s build/index_bg.wasm) bytes raw, $(gzip -9 -c build/index_bg.wasm | wc -c) gzip -9"
echo
python3 scripts/size-report.py "$work/top.csv"
