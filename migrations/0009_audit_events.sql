-- Migration number: 0009 	 audit log of auth events
-- Never edit a migration that has shipped: add a new numbered file instead.

-- One row per auth event (sign-in steps and their refusals, logouts, refresh-token reuse, password,
-- second-factor, passkey and email changes, signups, admin actions). The Worker writes a request's
-- events after the response, in one batch; the scheduled handler deletes rows older than
-- AUDIT_RETENTION (default 90 days), a bounded number per run. `detail` is a small JSON object of
-- codes and field names chosen by the core (crates/core/src/audit.rs): never a password, token,
-- code, link or secret.
CREATE TABLE audit_events (
  -- Grows with every insert (AUTOINCREMENT: never reused, even after the newest rows were pruned), so
  -- it orders the log and is the keyset pagination's cursor.
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  -- When it happened (unix seconds, the request's time).
  created_at  INTEGER NOT NULL,
  -- The event type (`login_failed`, `admin_user_updated`, ...).
  type        TEXT NOT NULL,
  -- Whom it is about. No foreign key: the log outlives a deleted user.
  user_id     TEXT,
  -- Who did it: the user, or the acting admin.
  actor_id    TEXT,
  session_id  TEXT,
  -- The request's X-Request-Id (Cloudflare's ray id when there is one).
  request_id  TEXT,
  -- CF-Connecting-IP and User-Agent of the request (cut to 64 and 256 characters).
  ip          TEXT,
  user_agent  TEXT,
  detail      TEXT NOT NULL DEFAULT '{}'
);

-- Newest first per user (the admin's `user=` filter, `GET /auth/me/sign-ins`), per type, and the
-- retention's oldest-first delete.
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_type ON audit_events (type, id);
CREATE INDEX audit_events_created ON audit_events (created_at);
