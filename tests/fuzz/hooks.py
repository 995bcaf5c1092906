"""Schemathesis hooks of the contract fuzzer (scripts/fuzz.sh).

The password policy refuses three things no JSON Schema can say, each documented in the description of
every new-password field: a password that is one of the 10,000 most common ones (crates/core/data/
common-passwords.txt, compared after NFKC and lowercasing), the username itself ignoring case, and a
length counted after NFKC normalisation (`minLength` counts the characters as sent). Generated bodies
that fall into one of these are dropped, so what is left is judged by the documented schema alone.
"""

import pathlib
import unicodedata

import schemathesis

_ROOT = pathlib.Path(__file__).resolve().parents[2]
_COMMON = frozenset((_ROOT / "crates/core/data/common-passwords.txt").read_text(encoding="utf-8").split("\n")) - {""}
# The fields that carry a new password, natively and in the profiles.
_NEW_PASSWORDS = ("password", "new_password", "pin")


def _outside_the_schema(password: str, username: object) -> bool:
    normalized = unicodedata.normalize("NFKC", password)
    if len(normalized) != len(password):
        return True
    lowered = normalized.lower()
    if lowered in _COMMON:
        return True
    return isinstance(username, str) and lowered == username.strip().lower()


@schemathesis.hook
def filter_body(context, body):
    if not isinstance(body, dict):
        return True
    for field in _NEW_PASSWORDS:
        value = body.get(field)
        if isinstance(value, str) and _outside_the_schema(value, body.get("username")):
            return False
    return True


@schemathesis.hook
def filter_case(context, case):
    # The coverage phase builds its cases without `filter_body`.
    return filter_body(context, case.body)
