#!/usr/bin/env bash
# `make build`: the Worker's wasm and its JavaScript glue, into build/.
#   1. cargo: the Rust Worker as wasm (release profile; std rebuilt, see wasm-release-env.sh)
#   2. wasm-bindgen (the CLI pinned to the library's version): build/index.js + build/index_bg.wasm.
#      `--target module` instantiates the wasm synchronously from an imported module, which is how
#      workerd loads wasm; `--experimental-reset-state-function` exports `__wbg_reset_state`, with
#      which js/entry.mjs replaces an instance that trapped; `--force-enable-abort-handler` makes
#      every later call into a trapped instance throw instead of running on its broken state.
#   3. wasm-opt (scripts/wasm-opt.sh)
#   4. the OpenAPI document as a module (scripts/openapi-module.mjs)
# js/entry.mjs (wrangler.toml's `main`) imports build/index.js. worker-build did 1-3 before; the
# `worker` crate it serves is gone (src/adapters/bindings.rs says why).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/wasm-release-env.sh

echo "==> building the Worker (cargo, wasm-bindgen, wasm-opt)"
cargo build --quiet --release --lib --target wasm32-unknown-unknown -p edge-auth
rm -rf build/index.js build/index_bg.wasm build/snippets build/worker build/package.json
"$WASM_BINDGEN_BIN" target/wasm32-unknown-unknown/release/edge_auth.wasm --out-dir build --out-name index \
  --target module --no-typescript --experimental-reset-state-function --force-enable-abort-handler
if [ -e build/snippets ]; then
  echo "build-worker.sh: wasm-bindgen wrote JS snippets (inline_js); js/entry.mjs and the test harness do not load them" >&2
  exit 1
fi
# wasm-bindgen writes the source-phase import of the TC39 proposal (`import source m from "x.wasm"`);
# wrangler and Miniflare load a .wasm import as a compiled WebAssembly.Module default export instead.
grep -q '^import source wasmModule from "./index_bg.wasm";$' build/index.js || {
  echo "build-worker.sh: wasm-bindgen's output no longer imports the wasm as expected" >&2
  exit 1
}
sed -i 's|^import source wasmModule from "./index_bg.wasm";$|import wasmModule from "./index_bg.wasm";|' build/index.js
bash scripts/wasm-opt.sh build/index_bg.wasm
node scripts/openapi-module.mjs docs/openapi.json build/openapi.mjs
echo "    build/index_bg.wasm: $(stat -c %s build/index_bg.wasm) bytes, $(gzip -9 -c build/index_bg.wasm | wc -c) gzipped"
