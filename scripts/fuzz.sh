#!/usr/bin/env bash
# Contract fuzzing (a step of `make test`): Schemathesis (`--checks all`) against the built Worker in
# Miniflare on a loopback port, through the OpenAPI document the Worker itself serves, once natively
# and once per compatibility profile (API_PROFILE). Each target gets two passes:
#   user   every operation, signed in as a normal user (unauthenticated where the operation is public);
#   admin  every operation but those that end sessions or remove data, signed in as an admin, so the
#          admin paths are fuzzed past their permission check.
# A refused token (a logout in the user pass ended it) is replaced by signing in again (the dynamic auth
# of tests/fuzz/serve.mjs). Deterministic (fixed seed, one worker) and bounded: a number of cases per
# operation, and a time limit per pass that fails the step when it is reached.
#
#   bash scripts/fuzz.sh [TARGET...]     TARGET: native, or a profile name; all of them by default
# Ends with "fuzz: N passed, N failed" (passes), and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

ST=.venv-fuzz/bin/schemathesis
OUT=target/fuzz
SEED=15003
# Cases per operation and seconds per pass: the native API in full, each profile (whose own endpoints
# are few, the rest being the native ones again) with less.
NATIVE_EXAMPLES=${FUZZ_NATIVE_EXAMPLES:-25}
PROFILE_EXAMPLES=${FUZZ_PROFILE_EXAMPLES:-5}
PASS_SECONDS=${FUZZ_PASS_SECONDS:-120}
# Operations the admin pass leaves out: they end the admin's sessions, delete users or factors, count
# failed password checks against the admin (change-password), or can disable or demote the admin
# itself (the list gives the fuzzer its id).
DESTRUCTIVE=(logout logoutAll deleteSession adminDeleteUser adminRevokeSessions adminResetMfa
  adminUpdateUser changePassword mfaTotpDisable mfaRecoveryCodes deletePasskey)

# Hypothesis keeps its own files (Unicode tables) out of the checkout.
export HYPOTHESIS_STORAGE_DIRECTORY="$PWD/$OUT/.hypothesis"

[ -x "$ST" ] || { echo "fuzz: $ST is missing: run scripts/setup.sh" >&2; exit 1; }
[ -f build/index.js ] || { echo "fuzz: build/ is missing: run make build" >&2; exit 1; }

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(native pos pharmacy pin-cookies vinyl accounts)

passed=0 failed=0 server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
  fi
}
trap stop_server EXIT

# pass NAME DIR AUTH EXAMPLES [schemathesis options...]: one Schemathesis run, counted.
pass() {
  local name="$1" dir="$2" auth="$3" examples="$4"
  shift 4
  cat tests/fuzz/schemathesis.toml "$dir/auth-$auth.toml" >"$dir/$auth.toml"
  local start=$SECONDS
  timeout "$PASS_SECONDS" "$ST" --config-file "$dir/$auth.toml" run "$(openapi_url "$dir")" \
    --checks all --seed "$SEED" --workers 1 --max-examples "$examples" --no-color \
    --report junit --report-junit-path "$dir/$auth-junit.xml" "$@" >"$dir/$auth.log" 2>&1
  local rc=$?
  local cases
  cases=$(sed -n 's/^  \([0-9]*\) generated.*/\1/p' "$dir/$auth.log" | tail -n1)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok    $name, $auth pass: ${cases:-?} cases, 0 failures ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    [ "$rc" -eq 124 ] && echo "      (stopped at the ${PASS_SECONDS} s limit of a pass)"
    echo "FAIL  $name, $auth pass: ${cases:-?} cases ($((SECONDS - start)) s); the report:"
    sed -n '/^=* FAILURES =*$/,$p' "$dir/$auth.log" | head -n 400
    echo "      (whole log: $dir/$auth.log; the Worker's: $dir/worker.log)"
  fi
}

openapi_url() { node -p "JSON.parse(require('fs').readFileSync('$1/server.json', 'utf8')).openapi"; }

for target in "${targets[@]}"; do
  dir="$OUT/$target"
  rm -rf "$dir" && mkdir -p "$dir"
  profile=()
  examples=$NATIVE_EXAMPLES
  if [ "$target" != native ]; then
    profile=("$target")
    examples=$PROFILE_EXAMPLES
  fi
  node tests/fuzz/serve.mjs "$dir" "${profile[@]}" >"$dir/serve.out" 2>"$dir/worker.log" &
  server_pid=$!
  for _ in $(seq 1 300); do
    grep -q '^ready$' "$dir/serve.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  if ! grep -q '^ready$' "$dir/serve.out" 2>/dev/null; then
    echo "FAIL  $target: the Worker did not start (see $dir/worker.log)"
    tail -n 20 "$dir/worker.log"
    failed=$((failed + 2))
    stop_server
    continue
  fi
  # The native ids, and a profile's own (`<profile>_<use case>`, e.g. pin_cookies_logout).
  destructive="^($(IFS='|'; echo "${DESTRUCTIVE[*]}"))\$|_(logout|changepassword)\$"
  excluded=(--exclude-operation-id-regex "$destructive")
  [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != user ] || pass "$target" "$dir" user "$examples"
  [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != admin ] || pass "$target" "$dir" admin "$examples" "${excluded[@]}"
  stop_server
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
