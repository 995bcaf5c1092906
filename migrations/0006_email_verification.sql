-- Migration number: 0006 	 email verification
-- Never edit a migration that has shipped: add a new numbered file instead. (0005 is MFA's.)

-- When the owner of `email` proved it by following a verification link (unix seconds); NULL while
-- unverified. With REQUIRE_EMAIL_VERIFICATION an address is a login name, and a reset address, only
-- once this is set. Cleared when an admin changes the address.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
-- A new address the user asked for (PATCH /auth/me), lowercased; kept apart from `email`, which stays
-- the login name and the reset address until the new one is verified; then it moves into `email` and
-- this goes back to NULL. Not unique: whoever verifies first gets the address (UNIQUE on `email`).
ALTER TABLE users ADD COLUMN pending_email TEXT;

-- Single-use email-verification links. Only a SHA-256 of each token is stored (256 random bits need
-- no slow hash); issuing a link deletes the user's older ones, so each user has at most one.
CREATE TABLE email_verifications (
  -- Hex SHA-256 of the token sent in the link (64 characters).
  token_hash  TEXT PRIMARY KEY,
  -- Whose address the link verifies; the row goes with the user.
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- The address the link was sent to: the user's `email` or `pending_email` at the time. A link
  -- whose address is neither any more (replaced, withdrawn) is refused.
  email       TEXT NOT NULL,
  -- Unix seconds when the link was issued.
  created_at  INTEGER NOT NULL,
  -- Unix seconds; default lifetime 24 hours (EMAIL_VERIFICATION_TTL).
  expires_at  INTEGER NOT NULL,
  -- Set, exactly once, by the conditional UPDATE that burns the token; NULL while unused.
  used_at     INTEGER
);

-- Issuing a link deletes the user's older ones.
CREATE INDEX email_verifications_user ON email_verifications (user_id);
