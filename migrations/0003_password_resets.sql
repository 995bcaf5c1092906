-- Migration number: 0003 	 password_resets
-- Single-use password-reset tokens. Only a SHA-256 of each token is stored (256 random bits need no
-- slow hash); a changed password deletes every pending token of the user.

CREATE TABLE password_resets (
  -- Hex SHA-256 of the token sent in the link.
  token_hash  TEXT PRIMARY KEY NOT NULL,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  -- Unix seconds; default lifetime 30 minutes (RESET_TOKEN_TTL).
  expires_at  INTEGER NOT NULL,
  -- Set, exactly once, by the conditional UPDATE that burns the token.
  used_at     INTEGER
);

CREATE INDEX password_resets_user ON password_resets (user_id);
