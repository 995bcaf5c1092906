-- Migration number: 0002 	 sessions
-- One row per login. Refresh tokens are never stored: each is an HMAC of (id, seed, generation) under a
-- key derived from the server secret (see crates/core/src/session.rs), so a copy of this table alone
-- yields no usable token.

CREATE TABLE sessions (
  -- Opaque id (128 random bits, base64url); also the `sid` claim of the session's access tokens.
  id            TEXT PRIMARY KEY NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- 32 random bytes, base64url; input of the refresh-token MAC.
  seed          TEXT NOT NULL,
  -- Generation of the refresh token currently valid; +1 on every rotation (conditional UPDATE).
  generation    INTEGER NOT NULL DEFAULT 0,
  -- Unix seconds when the current generation was issued: start of the previous token's grace window.
  rotated_at    INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER NOT NULL,
  -- Absolute expiry (unix seconds); rotation never extends it.
  expires_at    INTEGER NOT NULL,
  -- What the client said it was, for the session list (truncated to 256 characters).
  user_agent    TEXT,
  -- CF-Connecting-IP at login.
  ip            TEXT,
  -- Unix seconds when the session was ended (logout, reuse, admin, password change); NULL while live.
  revoked_at    INTEGER
);

-- "My sessions", logout-all and admin revocation all select by user.
CREATE INDEX sessions_user ON sessions (user_id, revoked_at);
