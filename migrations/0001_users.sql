-- Migration number: 0001 	 users
-- Never edit a migration that has shipped: add a new numbered file instead.

CREATE TABLE users (
  -- Opaque id: 128 random bits, base64url without padding (22 characters).
  id             TEXT PRIMARY KEY NOT NULL,
  -- As typed at signup (trimmed); 3-30 ASCII letters, digits, '.', '_', '-'. Unique ignoring ASCII case.
  username       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  -- Optional; stored lowercased; unique ignoring case when present (NULLs do not collide).
  email          TEXT UNIQUE COLLATE NOCASE,
  -- Free text shown in UIs; optional.
  display_name   TEXT,
  -- 'admin', 'user', 'demo', or a role listed in the ROLES variable.
  role           TEXT NOT NULL DEFAULT 'user',
  -- PHC string, e.g. $pbkdf2-sha512$i=220000,l=64$<salt>$<hash>. Never leaves the server.
  password_hash  TEXT NOT NULL,
  -- 1 = disabled: cannot log in, existing sessions end.
  disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  -- Unix seconds (UTC). The API shows them as RFC 3339.
  created_at     INTEGER NOT NULL DEFAULT (unixepoch()),
  updated_at     INTEGER NOT NULL DEFAULT (unixepoch()),
  -- Unix seconds of the last successful login; NULL if never.
  last_login_at  INTEGER
);

-- Admin listings page through users in creation order.
CREATE INDEX users_created_at ON users (created_at, id);
