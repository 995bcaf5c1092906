#!/usr/bin/env bash
# Optimises the Worker's wasm in place with binaryen's wasm-opt (npm binaryen@132, pinned):
#   -Oz                                     size first; the hash crates are already opt-level 3
#   --one-caller-inline-max-function-size=0 never inline a function into its only caller, so the hash
#                                           keeps one iteration per function (TOOLCHAIN.md: otherwise
#                                           the first hash of an isolate runs ~10x slower)
#   --strip-debug --strip-producers         no names or producer sections in what ships
# The --enable-* list is what workerd supports (the same list worker-build passes) plus SIMD.
set -euo pipefail
wasm="$1"
source "$(dirname "$0")/env.sh"
"$WASM_OPT_BIN" "$wasm" -o "$wasm" \
  -Oz --one-caller-inline-max-function-size=0 --strip-debug --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling --enable-simd
