#!/usr/bin/env bash
# `make create-admin [ENV=local|production] [ADMIN_USERNAME=admin] [ADMIN_EMAIL=...]`
# Creates (or resets) an admin account on a D1 database: asks for the password without echoing it,
# hashes it on this machine with the project's own core code (edge-auth-cli, the same PBKDF2 as the
# Worker), and upserts the user through `wrangler d1 execute`. No default password ever ships.
#   ENV=local       the local database of `make dev` (default)
#   ENV=production  the remote database of wrangler.toml's [env.production] (needs `wrangler login`)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

target="${ENV:-local}"
username="${ADMIN_USERNAME:-admin}"
case "$target" in
  local) where=(--local) ;;
  production) where=(--remote --env production) ;;
  *) echo "ENV must be local or production, got '$target'" >&2; exit 2 ;;
esac
iterations=$(sed -n 's/^PASSWORD_ITERATIONS *= *"\([0-9]*\)".*/\1/p' wrangler.toml | head -n1)

if [ -n "${ADMIN_PASSWORD:-}" ]; then
  password="$ADMIN_PASSWORD"            # for automation; prefer the prompt
elif [ -t 0 ]; then
  read -r -s -p "Password for '$username' (at least 8 characters): " password; echo
  read -r -s -p "Repeat it: " again; echo
  [ "$password" = "$again" ] || { echo "The passwords differ." >&2; exit 1; }
else
  echo "No terminal to ask for the password: set ADMIN_PASSWORD or run from a terminal." >&2
  exit 1
fi

sql_file=$(mktemp)
trap 'rm -f "$sql_file"' EXIT
email_args=()
[ -n "${ADMIN_EMAIL:-}" ] && email_args=(--email "$ADMIN_EMAIL")
printf '%s\n' "$password" |
  cargo run --quiet --locked -p edge-auth-core --bin edge-auth-cli -- \
    admin-sql --username "$username" --iterations "${iterations:-220000}" "${email_args[@]}" > "$sql_file"
if [ "$target" = local ]; then
  CI=true wrangler d1 migrations apply DB --local >/dev/null
fi
CI=true wrangler d1 execute DB "${where[@]}" --file "$sql_file" >/dev/null
echo "Admin '$username' is ready on the $target database."
