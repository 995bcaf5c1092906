#!/usr/bin/env bash
# `make dev`: everything needed to run edge-auth locally, then `wrangler dev` on 127.0.0.1:$PORT.
#   PORT                 port to listen on (default 8787)
#   DEV_ADMIN_PASSWORD   password of the dev admin `admin` (email admin@example.com); when unset, one
#                        is generated on the first run and kept in .wrangler/state/edge-auth/dev-admin-password
#                        (digits only under API_PROFILE=pin-cookies, whose users sign in with a PIN)
#   API_PROFILE          native (default) or pos, pharmacy, pin-cookies, vinyl, accounts: written to
#                        .dev.vars, so the local Worker answers that system's API (README.md)
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
# The key of the accounts profile's encrypted user data (32 random bytes), once, like JWT_SECRET.
if ! grep -q '^USER_DATA_KEY=' .dev.vars; then
  key=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')
  printf 'USER_DATA_KEY=%s\n' "$key" >> .dev.vars
fi
# The key that seals TOTP secrets at rest (32 random bytes), once.
if ! grep -q '^MFA_ENCRYPTION_KEY=' .dev.vars; then
  key=$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')
  printf 'MFA_ENCRYPTION_KEY=%s\n' "$key" >> .dev.vars
fi
# The profile: from the environment on every run (unset: the native API).
API_PROFILE="${API_PROFILE:-native}"
case "$API_PROFILE" in
  native|pos|pharmacy|pin-cookies|vinyl|accounts) ;;
  *) echo "API_PROFILE must be native, pos, pharmacy, pin-cookies, vinyl or accounts, got '$API_PROFILE'" >&2; exit 2 ;;
esac
# Passkeys: browsers refuse WebAuthn on an IP address, so the pages are used at http://localhost:$PORT
# and the relying party is `localhost` (docs/passkeys.md). Rewritten each run: PORT may change.
WEBAUTHN_RP_ID="${WEBAUTHN_RP_ID:-localhost}"
WEBAUTHN_ORIGINS="${WEBAUTHN_ORIGINS:-http://localhost:$PORT}"
grep -v -E '^(API_PROFILE|WEBAUTHN_RP_ID|WEBAUTHN_ORIGINS)=' .dev.vars > .dev.vars.tmp || true
printf 'API_PROFILE=%s\nWEBAUTHN_RP_ID=%s\nWEBAUTHN_ORIGINS=%s\n' "$API_PROFILE" "$WEBAUTHN_RP_ID" "$WEBAUTHN_ORIGINS" >> .dev.vars.tmp
mv .dev.vars.tmp .dev.vars
chmod 600 .dev.vars

echo "==> applying D1 migrations to the local database"
CI=true wrangler d1 migrations apply DB --local 2>&1 | grep -E "✅|No migrations|ERROR|rror" | sed 's/^/    /' || true

# The dev admin: password from DEV_ADMIN_PASSWORD, else generated once and kept in the local state.
password_file="$STATE_DIR/dev-admin-password"
[ "$API_PROFILE" = pin-cookies ] && password_file="$STATE_DIR/dev-admin-pin"
if [ -n "${DEV_ADMIN_PASSWORD:-}" ]; then
  admin_password="$DEV_ADMIN_PASSWORD"
elif [ -s "$password_file" ]; then
  admin_password="$(cat "$password_file")"
else
  if [ "$API_PROFILE" = pin-cookies ]; then
    admin_password="$(node -e 'process.stdout.write(String(require("node:crypto").randomInt(10000000, 100000000)))')"
  else
    admin_password="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(12).toString("base64url"))')"
  fi
  (umask 077 && printf '%s' "$admin_password" > "$password_file")
fi
# Hash at the configured cost with the project's own core code (on the host), then upsert through D1.
iterations=$(sed -n 's/^PASSWORD_ITERATIONS *= *"\([0-9]*\)".*/\1/p' wrangler.toml | head -n1)
printf '%s\n' "$admin_password" |
  cargo run --quiet --locked -p edge-auth-core --bin edge-auth-cli -- \
    admin-sql --username admin --email admin@example.com --iterations "${iterations:-220000}" > "$STATE_DIR/seed-admin.sql"
CI=true wrangler d1 execute DB --local --file "$STATE_DIR/seed-admin.sql" >/dev/null
rm -f "$STATE_DIR/seed-admin.sql"

base="http://127.0.0.1:$PORT"
# The profile's base path and login body (profiles/<name>.json), for the banner.
IFS=$'\t' read -r auth_path login_path login_body < <(node -e '
  const [profile, password] = process.argv.slice(1);
  const fields = { pos: ["username", "password"], pharmacy: ["username", "password"], "pin-cookies": ["name", "pin"],
                   vinyl: ["nombre_usuario", "password"], accounts: ["email", "password"], native: ["username", "password"] }[profile];
  const base = profile === "native" ? "/auth" : require("./profiles/" + profile + ".json").settings.BASE_PATH.replace(/\/$/, "");
  const who = fields[0] === "email" ? "admin@example.com" : "admin";
  process.stdout.write([base || "/", (base || "") + "/login", JSON.stringify({ [fields[0]]: who, [fields[1]]: password })].join("\t") + "\n");
' "$API_PROFILE" "$admin_password")
cat <<BANNER

  edge-auth is starting at $base   (API_PROFILE=$API_PROFILE)
    auth API      $base$auth_path   (OpenAPI: $base${auth_path%/}/openapi.json)
    health        $base/health
    hosted pages  http://localhost:$PORT/auth/ui/   (passkeys: RP ID $WEBAUTHN_RP_ID, origin $WEBAUTHN_ORIGINS)
    dev admin     username: admin   email: admin@example.com   password: $admin_password

  Log in:
    curl -s -X POST $base$login_path -H 'Content-Type: application/json' \\
      -d '$login_body'

BANNER
exec wrangler dev --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
