#!/usr/bin/env bash
# Optimises a wasm module with binaryen's wasm-opt (npm binaryen@132, pinned):
#   -Oz                                     size first; the hash crates are already opt-level 3
#   --one-caller-inline-max-function-size=0 never inline a function into its only caller, so the hash
#                                           keeps one iteration per function: V8 optimises a wasm
#                                           function only on a later call, so a hash loop in one
#                                           function runs the first login of an isolate ~10x slower
#   --strip-debug --strip-producers         no names or producer sections in what ships
# The --enable-* list is what workerd supports (the list workers-rs' worker-build passes) plus SIMD.
#
# Usage: wasm-opt.sh IN [OUT]  (OUT defaults to IN, optimised in place). With KEEP_NAMES=1 the names
# section stays (`-g`), for scripts/size-report.sh.
set -euo pipefail
in="$1"
out="${2:-$1}"
source "$(dirname "$0")/env.sh"
if [[ "${KEEP_NAMES:-}" == 1 ]]; then names=(-g); else names=(--strip-debug --strip-producers); fi
"$WASM_OPT_BIN" "$in" -o "$out" "${names[@]}" \
  -Oz --one-caller-inline-max-function-size=0 \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling --enable-simd
