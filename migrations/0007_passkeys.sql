-- Migration number: 0007 	 passkeys (WebAuthn credentials) and their single-use challenges
-- Never edit a migration that has shipped: add a new numbered file instead.

-- One row per registered WebAuthn credential (docs/passkeys.md). Only public material: a copy of this
-- table lets no one sign in.
CREATE TABLE passkeys (
  -- The credential id as the authenticator made it, base64url without padding (at most 1023 bytes,
  -- WebAuthn L3 §5.4.3 credentialIdLength). Unique across users: §7.1 step 25 refuses a second
  -- registration of the same id.
  id              TEXT PRIMARY KEY NOT NULL,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The COSE_Key (RFC 9052 §7) as registered, base64url; `algorithm` is its COSE alg (-7 ES256, -8 EdDSA).
  public_key      TEXT NOT NULL,
  algorithm       INTEGER NOT NULL,
  -- The authenticator's signature counter at the last use (§6.1.1); 0 for authenticators without one.
  sign_count      INTEGER NOT NULL DEFAULT 0,
  -- Comma-separated hints the browser gave at registration (usb, nfc, ble, hybrid, internal, ...).
  transports      TEXT NOT NULL DEFAULT '',
  -- Flags BE and BS of the authenticator data (§6.1): whether the key may be synced, and is.
  backup_eligible INTEGER NOT NULL DEFAULT 0,
  backup_state    INTEGER NOT NULL DEFAULT 0,
  -- The authenticator model (8-4-4-4-12 hex), all zeros when it is not told (attestation "none").
  aaguid          TEXT NOT NULL,
  -- A name the owner chose ("Passkey" by default), 1-64 characters.
  name            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  last_used_at    INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

-- WebAuthn challenges: 32 random bytes each, only their SHA-256 stored, 5 minutes, single use: taken by
-- DELETE ... RETURNING, so exactly one request can use one.
CREATE TABLE webauthn_challenges (
  -- Hex SHA-256 of the challenge bytes.
  challenge_hash  TEXT PRIMARY KEY NOT NULL,
  -- 'register': a signed-in user adding a passkey; 'login': a passkey sign-in (user_id set when the
  -- options named a user); 'second_factor': the second step of the password login whose mfa_token
  -- hash is mfa_token_hash.
  purpose         TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor')),
  user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
  mfa_token_hash  TEXT,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);

-- How the first step of a pending login was made: 'pwd', or 'hwk' / 'swk' for a passkey without user
-- verification on an account with an authenticator app (possession alone is one factor: the app's code
-- is still asked for). The session's amr is this and the second step's method.
ALTER TABLE mfa_challenges ADD COLUMN first_factor TEXT NOT NULL DEFAULT 'pwd';
