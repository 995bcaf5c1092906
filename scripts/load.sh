#!/usr/bin/env bash
# `make load`: load and cost through local workerd (Miniflare) under autocannon, at the default hash
# cost and limits (scripts/load.mjs says what each row computes). Loopback only; bounded in time and
# count (about 1.5 minutes on 2 cores); prints tables, never passes or fails. Results: BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
make --no-print-directory build >/dev/null
echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version); workerd $(node -p 'require("workerd/package.json").version')"
echo
echo "== load"
node scripts/load.mjs
