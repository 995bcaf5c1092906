#!/usr/bin/env bash
# Regenerates crates/core/data/common-passwords.txt, the list of the most common passwords that
# `edge_auth_core::common_passwords::is_common` refuses (NIST SP 800-63B §3.1.1.2, "passwords obtained
# from previous breach corpuses"; ASVS 6.2.x). The build never runs this: the output is committed as
# data, and crates/core/build.rs turns it into a compiled-in hash set.
#
# Source: the PyPI package Django at an exact pinned version (BSD-3-Clause), file
# django/contrib/auth/common-passwords.txt.gz: the 20,000 most common passwords of the Have I Been
# Pwned "Pwned Passwords" breach corpus (v6, compiled by Royce Williams), most common first, already
# lowercased and deduplicated by Django. The wheel's sha256 is pinned too, so a re-run produces the
# same list or fails. See crates/core/data/README.md for why this source.
#
# Processing: each entry is NFKC-normalised and then lowercased (as a password is before the lookup),
# empty entries and duplicates (after normalisation; the first, most common occurrence wins) are
# dropped, and the first N that remain are written one per line in frequency order.
#
# Usage: bash scripts/update-common-passwords.sh   (needs python3 with pip; reaches only PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=django
VERSION=5.2.19
WHEEL=django-5.2.19-py3-none-any.whl
WHEEL_SHA256=5965d974a5218a2b68a11dd1276434707f23886525c23f0598eccedaf4f4ca00
LIST_FILE=django/contrib/auth/common-passwords.txt.gz
N=10000
OUT=crates/core/data/common-passwords.txt

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "==> pip download $PACKAGE==$VERSION"
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$PACKAGE==$VERSION"
echo "$WHEEL_SHA256  $tmp/$WHEEL" | sha256sum --check --quiet

mkdir -p "$(dirname "$OUT")"
python3 - "$tmp/$WHEEL" "$LIST_FILE" "$N" "$OUT" <<'PY'
import gzip, sys, unicodedata, zipfile

wheel, member, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with zipfile.ZipFile(wheel) as z:
    ranked = gzip.decompress(z.read(member)).decode("utf-8").split("\n")  # most common first
seen, kept = set(), []
for entry in ranked:
    # Same order as at run time: the caller NFKC-normalises the password, is_common lowercases it.
    p = unicodedata.normalize("NFKC", entry.rstrip("\r")).lower()
    if not p or p in seen:
        continue
    seen.add(p)
    kept.append(p)
    if len(kept) == n:
        break
if len(kept) < n:
    sys.exit(f"only {len(kept)} usable entries in {member}, wanted {n}")
with open(out, "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(kept) + "\n")
print(f"==> wrote {len(kept)} passwords to {out}")
PY
