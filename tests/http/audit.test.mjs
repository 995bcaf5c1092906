// The audit log from outside: sign-ins and their refusals, logouts, refresh-token reuse, password and
// admin changes are events in D1 (written after the response) with the request's id, IP and user
// agent, and never a password, token or code [OWASP ASVS 5.0 16.2.1, 16.3.1]; admins and demo read
// them at GET /auth/admin/events (filtered, keyset-paginated, bad parameters 400), a user reads their
// own sign-ins at GET /auth/me/sign-ins, and the scheduled handler prunes events past AUDIT_RETENTION.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { expectProblem, poll, startWorker, uniqueName } from "./helpers.mjs";

let w;
let admin, demo, plain;
/** Every password and token this file uses: none may appear in any event. */
const secrets = new Set();

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const tok = (who) => who.tokens.access_token;
const CLIENT = { "CF-Connecting-IP": "203.0.113.9", "User-Agent": "audit-test/1.0" };

before(async () => {
  w = await startWorker({ bindings: { AUDIT_RETENTION: "30d" } });
  admin = await w.userWithToken({ role: "admin", username: uniqueName("auditadm") });
  demo = await w.userWithToken({ role: "demo", username: uniqueName("auditdemo") });
  plain = await w.userWithToken({ role: "user", username: uniqueName("auditusr") });
  for (const who of [admin, demo, plain]) {
    secrets.add(who.user.password);
    secrets.add(who.tokens.access_token);
    secrets.add(who.tokens.refresh_token);
  }
});
after(async () => {
  await w?.close();
});

/** The events of a user in D1, oldest first. */
const rowsOf = async (userId) =>
  (await w.db.prepare("SELECT * FROM audit_events WHERE user_id = ?1 ORDER BY id").bind(userId).all()).results;

/** Waits until D1 has an event of `type` for `userId` (events are written after the response). */
async function eventOf(userId, type, where = () => true) {
  const row = await poll(async () => (await rowsOf(userId)).find((r) => r.type === type && where(r)));
  assert.ok(row, `an event ${type} of ${userId}: ${JSON.stringify(await rowsOf(userId))}`);
  return { ...row, detail: JSON.parse(row.detail) };
}

const login = (username, password, headers = CLIENT) => w.post("/auth/login", { username, password }, headers);
const events = (token, query = "") => w.fetch(`/auth/admin/events${query}`, { headers: token ? bearer(token) : {} });

async function ok(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text ? JSON.parse(text) : null;
}

test("a login is an event with the request's id, IP and user agent, the session and the method", async () => {
  const user = await w.seedUser({ username: uniqueName("ok") });
  secrets.add(user.password);
  const res = await login(user.username, user.password);
  const body = await ok(res);
  secrets.add(body.access_token).add(body.refresh_token);
  const e = await eventOf(user.id, "login_succeeded");
  assert.equal(e.request_id, res.headers.get("X-Request-Id"));
  assert.equal(e.ip, "203.0.113.9");
  assert.equal(e.user_agent, "audit-test/1.0");
  assert.equal(e.session_id, body.refresh_token.split(".")[1]);
  assert.equal(e.actor_id, user.id);
  assert.deepEqual(e.detail, { method: "password" });
});

test("refused logins are events with their reason: wrong password, disabled account, unknown name", async () => {
  const user = await w.seedUser({ username: uniqueName("bad") });
  const disabled = await w.seedUser({ username: uniqueName("off"), disabled: 1 });
  secrets.add(user.password).add(disabled.password);
  secrets.add("wrong password 1");
  assert.equal((await login(user.username, "wrong password 1")).status, 401);
  assert.equal((await login(disabled.username, disabled.password)).status, 403);
  const wrong = await eventOf(user.id, "login_failed");
  assert.deepEqual(wrong.detail, { reason: "invalid_credentials", method: "password" });
  assert.equal(wrong.session_id, null);
  const off = await eventOf(disabled.id, "login_failed");
  assert.equal(off.detail.reason, "account_disabled");
  // An unknown name: an event about no one, and the name typed is not kept (it may be a password).
  const ghost = uniqueName("ghost");
  const res = await login(ghost, "whatever it is", { ...CLIENT, "CF-Connecting-IP": "198.51.100.77" });
  assert.equal(res.status, 401);
  const requestId = res.headers.get("X-Request-Id");
  const row = await poll(() => w.db.prepare("SELECT * FROM audit_events WHERE request_id = ?1").bind(requestId).first());
  assert.ok(row, "the refusal of an unknown name is recorded");
  assert.equal(row.type, "login_failed");
  assert.equal(row.user_id, null);
  assert.equal(row.ip, "198.51.100.77");
  assert.equal(JSON.stringify(row).includes(ghost), false, "the typed name is not in the event");
});

test("a rate-limited login is an event with reason rate_limited", async () => {
  const limited = await startWorker({ bindings: { LOGIN_FREE_FAILURES: "1", LOGIN_MAX_DELAY: "60s" } });
  try {
    const user = await limited.seedUser({ username: uniqueName("rl") });
    for (let i = 0; i < 3; i += 1) await limited.post("/auth/login", { username: user.username, password: "nope nope" });
    const rows = await poll(async () => {
      const r = (await limited.db.prepare("SELECT * FROM audit_events WHERE user_id = ?1").bind(user.id).all()).results;
      return r.some((e) => JSON.parse(e.detail).reason === "rate_limited") && r;
    });
    assert.ok(rows, "a rate_limited refusal is recorded");
  } finally {
    await limited.close();
  }
});

test("logout, logout-all, a password change and refresh-token reuse are events", async () => {
  const who = await w.userWithToken({ username: uniqueName("out") });
  secrets.add(who.user.password).add(who.tokens.access_token).add(who.tokens.refresh_token);
  // Reuse: rotate twice (past the grace period's one step back), then present the first token again.
  const rotated = await ok(await w.post("/auth/refresh", { refresh_token: who.tokens.refresh_token }));
  const twice = await ok(await w.post("/auth/refresh", { refresh_token: rotated.refresh_token }));
  for (const t of [rotated, twice]) secrets.add(t.access_token).add(t.refresh_token);
  await expectProblem(assert, await w.post("/auth/refresh", { refresh_token: who.tokens.refresh_token }), 401, "refresh_token_reused");
  const e = await eventOf(who.user.id, "refresh_reuse_detected");
  assert.equal(e.session_id, who.tokens.refresh_token.split(".")[1]);

  const again = await ok(await login(who.user.username, who.user.password));
  secrets.add(again.access_token).add(again.refresh_token);
  const newPassword = "a brand new passphrase 42";
  secrets.add(newPassword);
  const changed = await ok(
    await w.fetch("/auth/change-password", {
      method: "PUT",
      headers: { "Content-Type": "application/json", ...bearer(again.access_token) },
      body: JSON.stringify({ current_password: who.user.password, new_password: newPassword }),
    }),
  );
  secrets.add(changed.access_token).add(changed.refresh_token);
  await eventOf(who.user.id, "password_changed");
  assert.equal((await w.post("/auth/logout", {}, bearer(changed.access_token))).status, 204);
  const out = await eventOf(who.user.id, "logout");
  assert.equal(out.session_id, changed.refresh_token.split(".")[1]);
  const last = await ok(await login(who.user.username, newPassword));
  secrets.add(last.access_token).add(last.refresh_token);
  assert.equal((await w.post("/auth/logout-all", {}, bearer(last.access_token))).status, 204);
  await eventOf(who.user.id, "logout_all");
});

test("admin actions are events with the acting admin and the names (not values) of changed fields", async () => {
  const password = "created by the admin 1";
  secrets.add(password);
  const created = await ok(
    await w.post("/auth/admin/users", { username: uniqueName("made"), password, role: "user" }, bearer(tok(admin))),
    201,
  );
  const made = await eventOf(created.id, "admin_user_created");
  assert.equal(made.actor_id, admin.user.id);
  const email = `${uniqueName("mail")}@example.com`;
  await ok(
    await w.fetch(`/auth/admin/users/${created.id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", ...bearer(tok(admin)) },
      body: JSON.stringify({ role: "demo", email }),
    }),
  );
  const updated = await eventOf(created.id, "admin_user_updated");
  assert.deepEqual(updated.detail, { fields: ["role", "email"] });
  assert.equal(JSON.stringify(updated).includes(email), false, "the new address is not in the event");
  assert.equal((await w.post(`/auth/admin/users/${created.id}/revoke-sessions`, {}, bearer(tok(admin)))).status, 204);
  assert.equal((await eventOf(created.id, "admin_sessions_revoked")).actor_id, admin.user.id);
  const del = await w.fetch(`/auth/admin/users/${created.id}`, { method: "DELETE", headers: bearer(tok(admin)) });
  assert.equal(del.status, 204);
  assert.equal((await eventOf(created.id, "admin_user_deleted")).actor_id, admin.user.id);
  // A refused admin write records nothing: demo may not create.
  const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE actor_id = ?1").bind(demo.user.id).first()).n;
  assert.equal((await w.post("/auth/admin/users", { username: uniqueName("no"), password, role: "user" }, bearer(tok(demo)))).status, 403);
  const afterCount = (await w.db.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE actor_id = ?1").bind(demo.user.id).first()).n;
  assert.equal(afterCount, before);
});

test("admins and demo read the log; a user gets 403, no token 401", async () => {
  await expectProblem(assert, await events(null), 401, "token_missing");
  await expectProblem(assert, await events(tok(plain)), 403, "forbidden");
  for (const reader of [admin, demo]) {
    const page = await ok(await events(tok(reader)));
    assert.ok(Array.isArray(page.events) && page.events.length > 0);
    const e = page.events[0];
    assert.deepEqual(Object.keys(e).sort(), [
      "actor_id", "at", "detail", "id", "ip", "request_id", "session_id", "type", "user_agent", "user_id",
    ]);
    assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(typeof e.detail, "object");
  }
  // A user's 403 comes before any query check (it learns nothing from a 400).
  await expectProblem(assert, await events(tok(plain), "?limit=0"), 403, "forbidden");
});

test("pages are newest first, keyset-paginated, without overlap; filters narrow them", async () => {
  const user = await w.seedUser({ username: uniqueName("pg") });
  secrets.add(user.password);
  for (let i = 0; i < 5; i += 1) {
    secrets.add(`wrong ${i} password`);
    assert.equal((await login(user.username, `wrong ${i} password`)).status, 401);
  }
  await poll(async () => (await rowsOf(user.id)).length >= 5);
  const seen = [];
  let cursor = "";
  for (let page = 0; page < 5; page += 1) {
    const body = await ok(await events(tok(admin), `?user=${user.id}&type=login_failed&limit=2&cursor=${cursor}`));
    seen.push(...body.events);
    assert.ok(body.events.length <= 2);
    if (!body.next_cursor) break;
    cursor = encodeURIComponent(body.next_cursor);
  }
  assert.equal(seen.length, 5);
  const ids = seen.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), "newest first");
  assert.equal(new Set(ids).size, 5, "no overlap");
  assert.ok(seen.every((e) => e.user_id === user.id && e.type === "login_failed"));
  // Several types at once; `since` in the future leaves nothing.
  const both = await ok(await events(tok(admin), `?user=${user.id}&type=login_failed,login_succeeded`));
  assert.equal(both.events.length, 5);
  const none = await ok(await events(tok(admin), `?user=${user.id}&since=2999-01-01T00:00:00Z`));
  assert.deepEqual(none, { events: [], next_cursor: null });
  const recent = await ok(await events(tok(admin), `?user=${user.id}&since=${Math.floor(Date.now() / 1000) - 3600}`));
  assert.equal(recent.events.length, 5);
  const other = await ok(await events(tok(admin), `?user=${user.id}&type=logout`));
  assert.equal(other.events.length, 0);
});

test("bad parameters are 400 field errors, every one listed; control characters are refused", async () => {
  const res = await events(tok(admin), "?limit=0&cursor=nope!&type=nonsense&since=yesterday&user=a%00b");
  const body = await expectProblem(assert, res, 400, "invalid_request");
  assert.deepEqual(
    body.errors.map((e) => [e.field, e.code]),
    [["user", "invalid_value"], ["type", "invalid_value"], ["since", "invalid_value"], ["cursor", "invalid_value"], ["limit", "invalid_value"]],
  );
  for (const q of ["?limit=101", "?limit=x", "?type=login_failed%0A", "?user=" + "u".repeat(65), "?since=-1"]) {
    await expectProblem(assert, await events(tok(admin), q), 400, "invalid_request");
  }
});

test("a user sees their own recent sign-ins, successes and refusals, and nobody else's", async () => {
  const me = await w.seedUser({ username: uniqueName("me") });
  const other = await w.seedUser({ username: uniqueName("other") });
  secrets.add(me.password).add(other.password).add("not my password");
  assert.equal((await login(me.username, "not my password")).status, 401);
  assert.equal((await login(other.username, other.password)).status, 200);
  const tokens = await ok(await login(me.username, me.password));
  secrets.add(tokens.access_token).add(tokens.refresh_token);
  await poll(async () => (await rowsOf(me.id)).length >= 2);
  const list = await ok(await w.fetch("/auth/me/sign-ins", { headers: bearer(tokens.access_token) }));
  assert.equal(list.sign_ins.length, 2, JSON.stringify(list));
  assert.deepEqual(list.sign_ins[0], {
    at: list.sign_ins[0].at, method: "password", success: true, reason: null, ip: "203.0.113.9", user_agent: "audit-test/1.0",
  });
  assert.deepEqual([list.sign_ins[1].success, list.sign_ins[1].reason], [false, "invalid_credentials"]);
  await expectProblem(assert, await w.fetch("/auth/me/sign-ins"), 401, "token_missing");
});

test("the scheduled handler deletes events past AUDIT_RETENTION and keeps the rest", async () => {
  const now = Math.floor(Date.now() / 1000);
  const insert = (at, type) =>
    w.db.prepare("INSERT INTO audit_events (created_at, type, user_id, detail) VALUES (?1, ?2, 'retention-user', '{}')").bind(at, type).run();
  await insert(now - 31 * 86_400, "logout");
  await insert(now - 40 * 86_400, "logout_all");
  await insert(now - 29 * 86_400, "signup");
  const run = await w.scheduled();
  assert.equal(run.outcome, "ok");
  const left = (await w.db.prepare("SELECT type FROM audit_events WHERE user_id = 'retention-user'").all()).results;
  assert.deepEqual(left.map((r) => r.type), ["signup"]);
});

test("no event holds a password or a token", async () => {
  const rows = (await w.db.prepare("SELECT * FROM audit_events").all()).results;
  assert.ok(rows.length > 10, `${rows.length} events`);
  const text = JSON.stringify(rows);
  for (const secret of secrets) {
    assert.equal(text.includes(secret), false, "a secret is in the audit log");
  }
  assert.equal(/pbkdf2|rt1\.|eyJ/.test(text), false, "no hash, refresh token or JWT");
});
