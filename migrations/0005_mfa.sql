-- Migration number: 0005 	 second factors: TOTP, recovery codes, pending second-factor logins
-- Never edit a migration that has shipped: add a new numbered file instead.

-- One TOTP authenticator per user. The secret is sealed with AES-256-GCM under MFA_ENCRYPTION_KEY (a
-- Worker secret, not in D1): a copy of this table alone yields no secret.
CREATE TABLE mfa_totp (
  user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- v1.<iv>.<ciphertext+tag>, base64url; the user id is the additional authenticated data.
  secret      TEXT NOT NULL,
  -- Unix seconds when a first code proved the app works; NULL while set-up is pending.
  enabled_at  INTEGER,
  -- The last 30-second step accepted: a code of that step or an earlier one is refused (no replay).
  last_step   INTEGER
);

-- Recovery codes: 10 per set, stored only as SHA-256 hashes, each used at most once.
CREATE TABLE recovery_codes (
  code_hash   TEXT PRIMARY KEY NOT NULL,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  -- Unix seconds when it was used; a conditional UPDATE decides exactly once.
  used_at     INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- Logins whose password was right and whose second factor is pending: the mfa_token (only its SHA-256
-- hash) of one attempt, short-lived and single-use.
CREATE TABLE mfa_challenges (
  token_hash  TEXT PRIMARY KEY NOT NULL,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  -- 'login': the second step of a login; 'enroll': a role that must have a second factor
  -- (MFA_REQUIRED_ROLES) setting one up, which only the TOTP set-up endpoints accept.
  purpose     TEXT NOT NULL DEFAULT 'login' CHECK (purpose IN ('login', 'enroll')),
  -- The upgraded PHC hash when the stored one is below the configured cost: the password is known
  -- only at the first step, so the upgrade waits here for the second (a hash, never the password).
  new_hash    TEXT
);

-- How the session's login was authenticated (RFC 8176 amr values, comma-separated) and when.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
