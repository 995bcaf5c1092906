#!/usr/bin/env bash
# `make build`: the Worker into build/ (build/index.js + build/index_bg.wasm).
#   1. worker-build (pinned, installed by scripts/setup.sh): cargo (release, wasm32), wasm-bindgen
#      (the CLI pinned to the library's version) and esbuild, which bundles worker-build's entry shim;
#      the shim replaces a wasm instance that trapped before the next request.
#   2. wasm-opt with our flags (scripts/wasm-opt.sh); worker-build's own pass is off (Cargo.toml says
#      why).
# js/entry.mjs (wrangler.toml's `main`) imports build/index.js.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

echo "==> building the Worker (worker-build --release, wasm-opt)"
# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub, which is unreachable
# here: it is pointed at the pinned copies instead (scripts/env.sh). Its progress bars and emoji go.
log=$(mktemp)
if ! worker-build --release >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
bash scripts/wasm-opt.sh build/index_bg.wasm
echo "    build/index_bg.wasm: $(stat -c %s build/index_bg.wasm) bytes, $(gzip -9 -c build/index_bg.wasm | wc -c) gzipped"
