#!/usr/bin/env bash
# `make test`: set-up, then every check CI runs. Each step runs even if an earlier one failed (so one
# run shows everything), except that the HTTP tests need a successful wasm build.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
source scripts/env.sh

LOG_DIR=target/test-logs
mkdir -p "$LOG_DIR"
steps=()
failed_steps=0
unit_passed=0 unit_failed=0 http_passed=0 http_failed=0 fuzz_passed=0 fuzz_failed=0 browser_passed=0 browser_failed=0

slug() { printf '%s' "$1" | tr -c 'a-z0-9' '-'; }

step() { # step NAME COMMAND...: runs it, shows its output, records ok/FAIL
  local name="$1"; shift
  local log="$LOG_DIR/$(slug "$name").log"
  echo "==> $name"
  local start=$SECONDS
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then
    steps+=("ok    $name ($((SECONDS - start)) s)")
  else
    steps+=("FAIL  $name ($((SECONDS - start)) s)")
    failed_steps=$((failed_steps + 1))
  fi
  return "$rc"
}

step "cargo fmt --check" cargo fmt --all -- --check
step "clippy (host)" cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
step "clippy (wasm32)" cargo clippy --workspace --lib --bins --target wasm32-unknown-unknown --locked --quiet -- -D warnings
if step "unit tests (host)" cargo test --workspace --locked; then :; fi
while read -r p f; do unit_passed=$((unit_passed + p)); unit_failed=$((unit_failed + f)); done < <(
  sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$LOG_DIR/$(slug "unit tests (host)").log")
# The fast PBKDF2 (SIMD in wasm) against Node's OpenSSL over random inputs, in V8 itself.
step "wasm KDF cross-check" bash -c 'cargo build --quiet --release --locked --target wasm32-unknown-unknown \
  -p edge-auth-kdf-bench && node scripts/bench-hash.mjs --check'
if step "wasm build" make --no-print-directory build; then
  # A stuck test must fail, not hang CI: each test has 2 minutes, the whole step 30, and the runner
  # exits when the tests are done even if a Miniflare instance was left open by a failed test.
  step "HTTP tests (Miniflare)" timeout 1800 node --test --test-reporter=spec --test-timeout=120000 \
    --test-force-exit tests/http/*.test.mjs
  http_passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$LOG_DIR/$(slug "HTTP tests (Miniflare)").log" | tail -n1)
  http_failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$LOG_DIR/$(slug "HTTP tests (Miniflare)").log" | tail -n1)
  # The contract: Schemathesis against the served OpenAPI documents, native and per profile (each
  # target's passes count as tests; scripts/fuzz.sh bounds every pass in cases and time).
  step "contract fuzzing (Schemathesis)" timeout 600 bash scripts/fuzz.sh
  fuzz_passed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$LOG_DIR/$(slug "contract fuzzing (Schemathesis)").log" | tail -n1)
  fuzz_failed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$LOG_DIR/$(slug "contract fuzzing (Schemathesis)").log" | tail -n1)
  # The hosted pages (public/) in headless Chromium against the same Worker.
  step "browser tests (Chromium)" timeout 300 node --test --test-reporter=spec --test-timeout=120000 \
    --test-force-exit tests/browser/*.test.mjs
  browser_passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$LOG_DIR/$(slug "browser tests (Chromium)").log" | tail -n1)
  browser_failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$LOG_DIR/$(slug "browser tests (Chromium)").log" | tail -n1)
else
  steps+=("SKIP  HTTP tests (Miniflare): the wasm build failed")
  steps+=("SKIP  contract fuzzing (Schemathesis): the wasm build failed")
  steps+=("SKIP  browser tests (Chromium): the wasm build failed")
  failed_steps=$((failed_steps + 1))
fi

echo
echo "== make test summary =="
printf '  %s\n' "${steps[@]}"
echo "  unit tests: ${unit_passed} passed, ${unit_failed} failed; HTTP tests: ${http_passed:-0} passed, ${http_failed:-0} failed; fuzz passes: ${fuzz_passed:-0} passed, ${fuzz_failed:-0} failed; browser tests: ${browser_passed:-0} passed, ${browser_failed:-0} failed"
total_passed=$((unit_passed + ${http_passed:-0} + ${fuzz_passed:-0} + ${browser_passed:-0}))
total_failed=$((unit_failed + ${http_failed:-0} + ${fuzz_failed:-0} + ${browser_failed:-0}))
if [ "$failed_steps" -gt 0 ] && [ "$total_failed" -eq 0 ]; then total_failed=$failed_steps; fi
if [ "$total_passed" -eq 0 ] && [ "$failed_steps" -eq 0 ]; then
  echo "make test: no test results could be read from the logs in $LOG_DIR" >&2
  failed_steps=1 total_failed=1
fi
echo "tests: ${total_passed} passed, ${total_failed} failed"
[ "$failed_steps" -eq 0 ]
