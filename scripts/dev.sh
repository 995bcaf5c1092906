#!/usr/bin/env bash
# `make dev`: everything needed to run edge-auth locally, then `wrangler dev` on 127.0.0.1:$PORT.
#   PORT                 port to listen on (default 8787)
#   DEV_ADMIN_PASSWORD   password of the dev admin `admin`; when unset, one is generated on the first
#                        run and kept in .wrangler/state/edge-auth/dev-admin-password
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
PORT="${PORT:-8787}"
STATE_DIR=.wrangler/state/edge-auth
mkdir -p "$STATE_DIR"

make --no-print-directory build

# Local secrets: a random JWT_SECRET (48 bytes, base64url) the first time. Git-ignored.
if [ ! -f .dev.vars ]; then
  secret=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(48).toString("base64url"))')
  umask 077
  printf '# Local secrets for wrangler dev (git-ignored). Production: wrangler secret put JWT_SECRET\nJWT_SECRET=%s\n' \
    "$secret" > .dev.vars
  echo "==> created .dev.vars with a random JWT_SECRET"
fi
# Local runs are development runs (wrangler.toml says production, so a deploy never is one).
grep -q '^ENVIRONMENT=' .dev.vars || printf 'ENVIRONMENT=development\n' >> .dev.vars

echo "==> applying D1 migrations to the local database"
CI=true wrangler d1 migrations apply DB --local 2>&1 | grep -E "✅|No migrations|ERROR|rror" | sed 's/^/    /' || true

# The dev admin: password from DEV_ADMIN_PASSWORD, else generated once and kept in the local state.
if [ -n "${DEV_ADMIN_PASSWORD:-}" ]; then
  admin_password="$DEV_ADMIN_PASSWORD"
elif [ -s "$STATE_DIR/dev-admin-password" ]; then
  admin_password="$(cat "$STATE_DIR/dev-admin-password")"
else
  admin_password="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(12).toString("base64url"))')"
  (umask 077 && printf '%s' "$admin_password" > "$STATE_DIR/dev-admin-password")
fi
# Hash at the configured cost with the project's own core code (on the host), then upsert through D1.
iterations=$(sed -n 's/^PASSWORD_ITERATIONS *= *"\([0-9]*\)".*/\1/p' wrangler.toml | head -n1)
printf '%s\n' "$admin_password" |
  cargo run --quiet --locked -p edge-auth-core --bin edge-auth-cli -- \
    admin-sql --username admin --iterations "${iterations:-220000}" > "$STATE_DIR/seed-admin.sql"
CI=true wrangler d1 execute DB --local --file "$STATE_DIR/seed-admin.sql" >/dev/null
rm -f "$STATE_DIR/seed-admin.sql"

base="http://127.0.0.1:$PORT"
cat <<BANNER

  edge-auth is starting at $base
    auth API      $base/auth   (OpenAPI: $base/auth/openapi.json)
    health        $base/health
    dev admin     username: admin   password: $admin_password

  Log in:
    curl -s -X POST $base/auth/login -H 'Content-Type: application/json' \\
      -d '{"username":"admin","password":"$admin_password"}'

BANNER
exec wrangler dev --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
