-- Migration number: 0008 	 revocation outbox, health probe
-- Never edit a migration that has shipped: add a new numbered file instead. (0007 is passkeys'.)

-- D1 is the source of truth for every revocation of access tokens (`sessions.revoked_at`, and these
-- rows); Workers KV (`revoked-session:`, `user-not-before:`) is its fast mirror. Each revocation is
-- written here in the same D1 batch that records it, then to KV; the row is deleted once KV has it.
-- A KV write that fails leaves its row, which later requests and the scheduled handler (cron) write
-- to KV again until KV has it or every access token it covers has expired.
CREATE TABLE revocation_outbox (
  -- 'session': KV `revoked-session:<subject>`; 'user': KV `user-not-before:<subject>`.
  kind        TEXT NOT NULL CHECK (kind IN ('session', 'user')),
  -- The session id or the user id. No foreign key: a deleted user's revocation must outlive the user.
  subject     TEXT NOT NULL,
  -- The KV value: 1 for a session; for a user, the not-before time (unix seconds), only ever raised.
  value       INTEGER NOT NULL,
  -- When the last access token it covers expires (unix seconds): the row is useless after that.
  expires_at  INTEGER NOT NULL,
  -- When the revocation was recorded.
  created_at  INTEGER NOT NULL,
  -- KV writes of this row that failed so far; GET /health reports rows that failed.
  attempts    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, subject)
);

-- The retries read the oldest rows first.
CREATE INDEX revocation_outbox_created ON revocation_outbox (created_at);

-- The one row GET /health?deep=1 writes and reads back, to prove D1 takes writes.
CREATE TABLE health_probe (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  -- Random, new on every deep check: reading it back proves this check's write landed.
  nonce       TEXT NOT NULL,
  written_at  INTEGER NOT NULL
);
