// The admin API from outside: `admin` may do everything, `demo` may read the admin views and write
// nothing, `user` and deployment roles (ROLES=cajero) get 403; listing with cursor pagination and a
// literal search; create, patch, delete, revoke-sessions, with the sessions of a disabled, demoted or
// deleted user ended [ASVS 7.4.2, 7.4.5]; and the last active admin can never be demoted, disabled or
// deleted, not even by two concurrent demotions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startWorker, expectProblem, decodeJwt, uniqueName, expectFieldError } from "./helpers.mjs";

const ROLES = { ROLES: "cajero" };
/** The shared worker: one admin, one demo, one user, one cajero (and whatever the tests add). */
let w;
/** For the last-admin rule: exactly one active admin (and a disabled one) at the start. */
let wl;
/** For concurrent demotions. */
let wc;
let admin, demo, plain, cajero;
before(async () => {
  [w, wl, wc] = await Promise.all([
    startWorker({ bindings: ROLES }),
    startWorker({ bindings: ROLES }),
    startWorker({ bindings: ROLES }),
  ]);
  admin = await w.userWithToken({ role: "admin", username: uniqueName("admin") });
  demo = await w.userWithToken({ role: "demo", username: uniqueName("demo") });
  plain = await w.userWithToken({ role: "user", username: uniqueName("plain") });
  cajero = await w.userWithToken({ role: "cajero", username: uniqueName("cajero") });
});
after(async () => {
  await Promise.all([w?.close(), wl?.close(), wc?.close()]);
});

const ADMIN_VIEW_KEYS = [
  "created_at",
  "disabled",
  "display_name",
  "email",
  "email_verified",
  "id",
  "last_login_at",
  "role",
  "updated_at",
  "username",
];
const GOOD_PASSWORD = "an admin chosen passphrase";

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const tok = (who) => who.tokens.access_token;
const json = (method, body, token) => ({
  method,
  headers: { "Content-Type": "application/json", ...(token ? bearer(token) : {}) },
  body: JSON.stringify(body),
});
const list = (worker, token, query = "") => worker.fetch(`/auth/admin/users${query}`, { headers: token ? bearer(token) : {} });
const getUser = (worker, token, id) => worker.fetch(`/auth/admin/users/${encodeURIComponent(id)}`, { headers: bearer(token) });
const createUser = (worker, token, body) => worker.fetch("/auth/admin/users", json("POST", body, token));
const patchUser = (worker, token, id, body) => worker.fetch(`/auth/admin/users/${encodeURIComponent(id)}`, json("PATCH", body, token));
const deleteUser = (worker, token, id) =>
  worker.fetch(`/auth/admin/users/${encodeURIComponent(id)}`, { method: "DELETE", headers: bearer(token) });
const revokeSessions = (worker, token, id) =>
  worker.fetch(`/auth/admin/users/${encodeURIComponent(id)}/revoke-sessions`, { method: "POST", headers: bearer(token) });
const profile = (worker, token) => worker.fetch("/auth/profile", { headers: bearer(token) });
const refresh = (worker, token) => worker.post("/auth/refresh", { refresh_token: token });
const unknownId = () => randomBytes(16).toString("base64url");

/** Asserts an admin user view and returns it. */
function expectAdminView(view) {
  assert.deepEqual(Object.keys(view).sort(), ADMIN_VIEW_KEYS);
  assert.equal(typeof view.disabled, "boolean");
  assert.match(view.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.match(view.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(JSON.stringify(view).includes("pbkdf2"), false, "no hash in a view");
  return view;
}

async function expectStatus(res, status) {
  const text = await res.text();
  assert.equal(res.status, status, `status of ${text}`);
  return text ? JSON.parse(text) : null;
}

async function expectTokensWork(worker, tokens) {
  const p = await profile(worker, tokens.access_token);
  assert.equal(p.status, 200, await p.clone().text());
  const r = await refresh(worker, tokens.refresh_token);
  assert.equal(r.status, 200, await r.clone().text());
}

async function expectTokensDead(worker, tokens, what) {
  const p = await profile(worker, tokens.access_token);
  assert.equal(p.status, 401, `${what} access token: ${await p.clone().text()}`);
  await expectProblem(assert, p, 401, "token_invalid");
  const r = await refresh(worker, tokens.refresh_token);
  assert.equal(r.status, 401, `${what} refresh token: ${await r.clone().text()}`);
  await expectProblem(assert, r, 401, "refresh_token_invalid");
}


const row = (worker, id) => worker.db.prepare("SELECT * FROM users WHERE id = ?1").bind(id).first();
const rowByName = (worker, username) =>
  worker.db.prepare("SELECT * FROM users WHERE username = ?1 COLLATE NOCASE").bind(username).first();

// ==== who may read ==============================================================================================

test("GET /auth/admin/users: admin and demo get 200 {users: [admin views], next_cursor}", async () => {
  for (const who of [admin, demo]) {
    const res = await list(w, tok(who));
    const body = await expectStatus(res, 200);
    assert.deepEqual(Object.keys(body).sort(), ["next_cursor", "users"]);
    assert.ok(Array.isArray(body.users));
    assert.ok(body.users.length >= 4);
    body.users.forEach(expectAdminView);
    const ids = body.users.map((u) => u.id);
    for (const u of [admin, demo, plain, cajero]) assert.ok(ids.includes(u.user.id));
  }
});

test("GET /auth/admin/users: user and cajero get 403 forbidden; no token 401", async () => {
  await expectProblem(assert, await list(w, tok(plain)), 403, "forbidden");
  await expectProblem(assert, await list(w, tok(cajero)), 403, "forbidden");
  await expectProblem(assert, await list(w, null), 401, "token_missing");
  await expectProblem(assert, await list(w, "not-a-jwt"), 401, "token_invalid");
});

test("pagination with limit=2 walks every user exactly once and ends with next_cursor null", async () => {
  for (let i = 0; i < 5; i += 1) await w.seedUser();
  const { results } = await w.db.prepare("SELECT id FROM users").all();
  const all = results.map((r) => r.id).sort();
  const seen = [];
  let cursor = null;
  for (let page = 0; page < 200; page += 1) {
    const q = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await expectStatus(await list(w, tok(admin), q), 200);
    assert.ok(body.users.length <= 2);
    seen.push(...body.users.map((u) => u.id));
    cursor = body.next_cursor;
    if (cursor === null) break;
    assert.equal(typeof cursor, "string");
    assert.equal(body.users.length, 2, "a non-final page is full");
  }
  assert.equal(cursor, null, "the walk ends with next_cursor null");
  assert.equal(new Set(seen).size, seen.length, "no duplicates");
  assert.deepEqual([...seen].sort(), all, "every user exactly once");
});

test("the default page (no limit) and limit=100 list users; demo can page too", async () => {
  const body = await expectStatus(await list(w, tok(demo), "?limit=1"), 200);
  assert.equal(body.users.length, 1);
  assert.equal(typeof body.next_cursor, "string");
  const next = await expectStatus(await list(w, tok(demo), `?limit=1&cursor=${encodeURIComponent(body.next_cursor)}`), 200);
  assert.notEqual(next.users[0].id, body.users[0].id);
  await expectStatus(await list(w, tok(admin), "?limit=100"), 200);
});

for (const bad of ["0", "101", "x", "-1", "1.5"]) {
  test(`limit=${bad} is 400 on the limit field`, async () => {
    await expectFieldError(await list(w, tok(admin), `?limit=${bad}`), "limit");
  });
}

for (const bad of ["garbage!!", "Zm9v", "AAAA", "bm90OmEtbnVtYmVy"]) {
  test(`the cursor ${JSON.stringify(bad)} is 400 on the cursor field`, async () => {
    await expectFieldError(await list(w, tok(admin), `?cursor=${encodeURIComponent(bad)}`), "cursor");
  });
}

test("q= filters by username, email and display name substrings, case-insensitively", async () => {
  const tag = `qz${randomBytes(4).toString("hex")}`;
  const byName = await w.seedUser({ username: `${tag}name` });
  const byEmail = await w.seedUser({ email: `someone.${tag}mail@example.com` });
  const byDisplay = await w.seedUser({ displayName: `Display ${tag.toUpperCase()}Shown` });
  await w.seedUser({ username: uniqueName("unrelated") });
  const ids = async (q) =>
    (await expectStatus(await list(w, tok(admin), `?q=${encodeURIComponent(q)}`), 200)).users.map((u) => u.id).sort();
  assert.deepEqual(await ids(`${tag.toUpperCase()}NAME`), [byName.id]);
  assert.deepEqual(await ids(`${tag}MAIL@EXAMPLE`), [byEmail.id]);
  assert.deepEqual(await ids(`${tag}shown`), [byDisplay.id]);
  assert.deepEqual(await ids(tag), [byName.id, byEmail.id, byDisplay.id].sort());
  const demoView = await expectStatus(await list(w, tok(demo), `?q=${tag}`), 200);
  assert.equal(demoView.users.length, 3);
});

test("q= containing % or _ matches them literally", async () => {
  const tag = `lit${randomBytes(3).toString("hex")}`;
  const underscore = await w.seedUser({ username: `${tag}_x` });
  await w.seedUser({ username: `${tag}zx` });
  const percent = await w.seedUser({ displayName: `${tag} 100% real` });
  await w.seedUser({ displayName: `${tag} 1000 real` });
  await w.seedUser({ displayName: `${tag} 100 abc real` });
  const ids = async (q) =>
    (await expectStatus(await list(w, tok(admin), `?q=${encodeURIComponent(q)}`), 200)).users.map((u) => u.id);
  assert.deepEqual(await ids(`${tag}_x`), [underscore.id]);
  assert.deepEqual(await ids(`${tag} 100%`), [percent.id]);
  assert.deepEqual(await ids(`${tag} 100% real`), [percent.id]);
  assert.deepEqual(await ids("%%%%"), []);
  assert.deepEqual(await ids(`${tag}\\`), []);
});

test("q= with a control character is 400 on q, never a search (a NUL would end D1's LIKE pattern)", async () => {
  // Users a search cut at the NUL (`q=%00zzz` as the empty pattern) would list.
  await w.seedUser({ username: uniqueName("ctl") });
  for (const q of ["\u0000zzz", "zzz\u0000", "a\tb", "line\nbreak", "\u001f", "del\u007f"]) {
    const body = await expectFieldError(await list(w, tok(admin), `?q=${encodeURIComponent(q)}`), "q", "invalid_format");
    assert.equal(body.users, undefined, JSON.stringify(q));
  }
  // Around them, text is still searched: no user matches this one.
  const fine = await expectStatus(await list(w, tok(admin), `?q=${encodeURIComponent("zzz\u0080zzz")}`), 200);
  assert.deepEqual(fine.users, []);
});

test("GET /auth/admin/users/{id}: admin and demo 200 with the admin view; unknown 404; user 403", async () => {
  for (const who of [admin, demo]) {
    const view = expectAdminView(await expectStatus(await getUser(w, tok(who), plain.user.id), 200));
    assert.equal(view.id, plain.user.id);
    assert.equal(view.username, plain.user.username);
    assert.equal(view.role, "user");
    assert.equal(view.disabled, false);
    assert.match(view.last_login_at, /^\d{4}-\d\d-\d\dT/);
  }
  await expectProblem(assert, await getUser(w, tok(admin), unknownId()), 404, "not_found");
  await expectProblem(assert, await getUser(w, tok(demo), unknownId()), 404, "not_found");
  await expectProblem(assert, await getUser(w, tok(plain), admin.user.id), 403, "forbidden");
  await expectProblem(assert, await getUser(w, tok(cajero), admin.user.id), 403, "forbidden");
});

// ==== create ====================================================================================================

test("POST /auth/admin/users: admin creates a user (201 admin view) who can log in", async () => {
  const username = uniqueName("made");
  const res = await createUser(w, tok(admin), {
    username,
    password: GOOD_PASSWORD,
    email: `${username}@Example.com`,
    display_name: "  Made By Admin ",
    role: "user",
  });
  const view = expectAdminView(await expectStatus(res, 201));
  assert.equal(view.username, username);
  assert.equal(view.email, `${username}@example.com`.toLowerCase());
  assert.equal(view.display_name, "Made By Admin");
  assert.equal(view.role, "user");
  assert.equal(view.disabled, false);
  assert.equal(view.last_login_at, null);
  const login = await w.login(username, GOOD_PASSWORD);
  assert.equal(login.status, 200);
  assert.equal(login.body.user.id, view.id);
});

test("admin can create a cajero (a role from ROLES) and a demo", async () => {
  for (const role of ["cajero", "demo", "admin"]) {
    const username = uniqueName(role);
    const view = await expectStatus(await createUser(w, tok(admin), { username, password: GOOD_PASSWORD, role }), 201);
    assert.equal(view.role, role);
    const login = await w.login(username, GOOD_PASSWORD);
    assert.equal(decodeJwt(login.body.access_token).claims.role, role);
  }
});

test("creating with an unknown role, or without a role, is 400 on the role field", async () => {
  const username = uniqueName("badrole");
  await expectFieldError(await createUser(w, tok(admin), { username, password: GOOD_PASSWORD, role: "superuser" }), "role", "unknown_role");
  await expectFieldError(await createUser(w, tok(admin), { username, password: GOOD_PASSWORD, role: "Admin" }), "role");
  await expectFieldError(await createUser(w, tok(admin), { username, password: GOOD_PASSWORD }), "role");
  assert.equal(await rowByName(w, username), null);
});

test("creating with a weak password is 400 too_common / too_short", async () => {
  const username = uniqueName("weak");
  await expectFieldError(await createUser(w, tok(admin), { username, password: "password", role: "user" }), "password", "too_common");
  await expectFieldError(await createUser(w, tok(admin), { username, password: "short", role: "user" }), "password", "too_short");
  assert.equal(await rowByName(w, username), null);
});

test("creating a duplicate username (any case) or email is 409", async () => {
  await expectProblem(
    assert,
    await createUser(w, tok(admin), { username: plain.user.username.toUpperCase(), password: GOOD_PASSWORD, role: "user" }),
    409,
    "username_taken",
  );
  const email = `${uniqueName("dupmail")}@example.com`.toLowerCase();
  await w.seedUser({ email });
  await expectProblem(
    assert,
    await createUser(w, tok(admin), { username: uniqueName("dm"), password: GOOD_PASSWORD, email: email.toUpperCase(), role: "user" }),
    409,
    "email_taken",
  );
});

test("demo, user and cajero cannot create users (403) and nothing is created", async () => {
  for (const who of [demo, plain, cajero]) {
    const username = uniqueName("nope");
    await expectProblem(assert, await createUser(w, tok(who), { username, password: GOOD_PASSWORD, role: "admin" }), 403, "forbidden");
    assert.equal(await rowByName(w, username), null);
  }
  const res = await w.fetch("/auth/admin/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  await expectProblem(assert, res, 401, "token_missing");
});

// ==== patch =====================================================================================================

test("PATCH changes display_name and email (200, reflected in GET and in D1)", async () => {
  const target = await w.seedUser();
  const email = `${uniqueName("new")}@Example.COM`;
  const view = expectAdminView(
    await expectStatus(await patchUser(w, tok(admin), target.id, { display_name: "  New Name ", email }), 200),
  );
  assert.equal(view.display_name, "New Name");
  assert.equal(view.email, email.toLowerCase());
  const fresh = await expectStatus(await getUser(w, tok(admin), target.id), 200);
  assert.equal(fresh.display_name, "New Name");
  assert.equal(fresh.email, email.toLowerCase());
  assert.equal((await row(w, target.id)).email, email.toLowerCase());
  const cleared = await expectStatus(await patchUser(w, tok(admin), target.id, { display_name: null, email: null }), 200);
  assert.equal(cleared.display_name, null);
  assert.equal(cleared.email, null);
});

test("PATCH email to another user's email (any case) is 409 email_taken and changes nothing", async () => {
  const email = `${uniqueName("owner")}@example.com`.toLowerCase();
  await w.seedUser({ email });
  const target = await w.seedUser({ email: `${uniqueName("t")}@example.com`.toLowerCase() });
  await expectProblem(assert, await patchUser(w, tok(admin), target.id, { email: email.toUpperCase() }), 409, "email_taken");
  assert.equal((await row(w, target.id)).email, target.email);
});

test("PATCH disabled:true ends the user's sessions (access 401, refresh 401) and login is 403 account_disabled", async () => {
  const victim = await w.userWithToken();
  const other = (await w.login(victim.user.username, victim.user.password)).body;
  const view = await expectStatus(await patchUser(w, tok(admin), victim.user.id, { disabled: true }), 200);
  assert.equal(view.disabled, true);
  await expectTokensDead(w, victim.tokens, "first session");
  await expectTokensDead(w, other, "second session");
  await expectProblem(assert, await w.post("/auth/login", { username: victim.user.username, password: victim.user.password }), 403, "account_disabled");
  await expectProblem(assert, await w.post("/auth/login", { username: victim.user.username, password: "wrong password" }), 401, "invalid_credentials");
  // Re-enabled: the user can log in again.
  assert.equal((await expectStatus(await patchUser(w, tok(admin), victim.user.id, { disabled: false }), 200)).disabled, false);
  const again = await w.login(victim.user.username, victim.user.password);
  assert.equal(again.status, 200);
  await expectTokensWork(w, again.body);
});

test("PATCH role ends the user's sessions and the next login carries the new role", async () => {
  const target = await w.userWithToken({ role: "user" });
  const view = await expectStatus(await patchUser(w, tok(admin), target.user.id, { role: "cajero" }), 200);
  assert.equal(view.role, "cajero");
  await expectTokensDead(w, target.tokens, "pre-change");
  const login = await w.login(target.user.username, target.user.password);
  assert.equal(login.status, 200);
  assert.equal(login.body.user.role, "cajero");
  assert.equal(decodeJwt(login.body.access_token).claims.role, "cajero");
  await expectTokensWork(w, login.body);
});

test("PATCH of display_name only leaves the user's sessions working", async () => {
  const target = await w.userWithToken();
  await expectStatus(await patchUser(w, tok(admin), target.user.id, { display_name: "Still Here" }), 200);
  await expectTokensWork(w, target.tokens);
});

test("PATCH by demo, user or cajero is 403 and changes nothing", async () => {
  const target = await w.seedUser();
  for (const who of [demo, plain, cajero]) {
    await expectProblem(assert, await patchUser(w, tok(who), target.id, { role: "admin", display_name: "Hacked" }), 403, "forbidden");
  }
  const r = await row(w, target.id);
  assert.equal(r.role, "user");
  assert.equal(r.display_name, null);
});

test("PATCH of an unknown id is 404", async () => {
  await expectProblem(assert, await patchUser(w, tok(admin), unknownId(), { display_name: "x" }), 404, "not_found");
});

test("PATCH with disabled:\"yes\", an unknown role, a bad email or a non-string display_name is 400", async () => {
  const target = await w.seedUser();
  await expectFieldError(await patchUser(w, tok(admin), target.id, { disabled: "yes" }), "disabled");
  await expectFieldError(await patchUser(w, tok(admin), target.id, { disabled: 1 }), "disabled");
  await expectFieldError(await patchUser(w, tok(admin), target.id, { role: "superuser" }), "role", "unknown_role");
  await expectFieldError(await patchUser(w, tok(admin), target.id, { email: "not-an-email" }), "email");
  await expectFieldError(await patchUser(w, tok(admin), target.id, { display_name: 42 }), "display_name");
  const r = await row(w, target.id);
  assert.equal(r.disabled, 0);
  assert.equal(r.role, "user");
});

// ==== delete ====================================================================================================

test("DELETE: 204, the user's tokens die, GET is 404 and the user cannot log in", async () => {
  const victim = await w.userWithToken();
  const res = await deleteUser(w, tok(admin), victim.user.id);
  assert.equal(res.status, 204, await res.clone().text());
  assert.equal(await res.text(), "");
  await expectTokensDead(w, victim.tokens, "deleted user's");
  await expectProblem(assert, await getUser(w, tok(admin), victim.user.id), 404, "not_found");
  await expectProblem(assert, await w.post("/auth/login", { username: victim.user.username, password: victim.user.password }), 401, "invalid_credentials");
  await expectProblem(assert, await deleteUser(w, tok(admin), victim.user.id), 404, "not_found");
});

test("DELETE by demo, user or cajero is 403 and the user remains", async () => {
  const target = await w.userWithToken();
  for (const who of [demo, plain, cajero]) {
    await expectProblem(assert, await deleteUser(w, tok(who), target.user.id), 403, "forbidden");
  }
  assert.ok(await row(w, target.user.id));
  await expectTokensWork(w, target.tokens);
});

test("DELETE of an unknown id is 404", async () => {
  await expectProblem(assert, await deleteUser(w, tok(admin), unknownId()), 404, "not_found");
});

// ==== revoke-sessions ===========================================================================================

test("revoke-sessions: 204, every session's access and refresh token die, and the user can log in again", async () => {
  const target = await w.userWithToken();
  const other = (await w.login(target.user.username, target.user.password)).body;
  const res = await revokeSessions(w, tok(admin), target.user.id);
  assert.equal(res.status, 204, await res.clone().text());
  await expectTokensDead(w, target.tokens, "first session");
  await expectTokensDead(w, other, "second session");
  const again = await w.login(target.user.username, target.user.password);
  assert.equal(again.status, 200);
  await expectTokensWork(w, again.body);
});

test("revoke-sessions of an unknown id is 404; by demo, user or cajero 403 and the sessions live", async () => {
  await expectProblem(assert, await revokeSessions(w, tok(admin), unknownId()), 404, "not_found");
  const target = await w.userWithToken();
  for (const who of [demo, plain, cajero]) {
    await expectProblem(assert, await revokeSessions(w, tok(who), target.user.id), 403, "forbidden");
  }
  await expectTokensWork(w, target.tokens);
});

// ==== the last active admin =====================================================================================

test("the last active admin cannot be demoted, disabled or deleted (409 last_admin); with two, one can", async () => {
  // A disabled admin does not count as active.
  await wl.seedUser({ role: "admin", disabled: 1 });
  const only = await wl.userWithToken({ role: "admin" });
  await expectProblem(assert, await patchUser(wl, tok(only), only.user.id, { role: "user" }), 409, "last_admin");
  await expectProblem(assert, await patchUser(wl, tok(only), only.user.id, { role: "cajero" }), 409, "last_admin");
  await expectProblem(assert, await patchUser(wl, tok(only), only.user.id, { disabled: true }), 409, "last_admin");
  await expectProblem(assert, await deleteUser(wl, tok(only), only.user.id), 409, "last_admin");
  const r = await row(wl, only.user.id);
  assert.equal(r.role, "admin");
  assert.equal(r.disabled, 0);
  await expectTokensWork(wl, only.tokens);
  // A no-op role patch of the last admin is fine.
  await expectStatus(await patchUser(wl, tok(only), only.user.id, { role: "admin", display_name: "Only" }), 200);

  const second = await expectStatus(
    await createUser(wl, tok(only), { username: uniqueName("second"), password: GOOD_PASSWORD, role: "admin" }),
    201,
  );
  const demoted = await expectStatus(await patchUser(wl, tok(only), second.id, { role: "user" }), 200);
  assert.equal(demoted.role, "user");
  await expectProblem(assert, await patchUser(wl, tok(only), only.user.id, { role: "user" }), 409, "last_admin");
  const { n } = await wl.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").first();
  assert.equal(n, 1);
});

test("with two admins, one can be disabled or deleted, then the other one cannot", async () => {
  const a = await wl.userWithToken({ role: "admin" });
  // wl now has two active admins (this one and the one left by the previous test).
  const { results } = await wl.db.prepare("SELECT id FROM users WHERE role = 'admin' AND disabled = 0").all();
  assert.equal(results.length, 2);
  const otherId = results.map((r) => r.id).find((id) => id !== a.user.id);
  const res = await deleteUser(wl, tok(a), otherId);
  assert.equal(res.status, 204, await res.clone().text());
  await expectProblem(assert, await deleteUser(wl, tok(a), a.user.id), 409, "last_admin");
  await expectProblem(assert, await patchUser(wl, tok(a), a.user.id, { disabled: true }), 409, "last_admin");
  const b = await wl.seedUser({ role: "admin" });
  assert.equal((await expectStatus(await patchUser(wl, tok(a), b.id, { disabled: true }), 200)).disabled, true);
  await expectProblem(assert, await patchUser(wl, tok(a), a.user.id, { role: "demo" }), 409, "last_admin");
});

/**
 * Two active admins A and B in `wc`, plus an actor whose access token still carries role admin while
 * D1 no longer counts it as an admin (it was demoted directly in D1, so its token lives on). The actor
 * sends both concurrent requests, so neither request can end the other's authentication.
 */
async function twoAdminsAndAnActor() {
  await wc.db.prepare("UPDATE users SET role = 'user' WHERE role = 'admin'").run();
  const actor = await wc.userWithToken({ role: "admin" });
  await wc.db.prepare("UPDATE users SET role = 'user' WHERE id = ?1").bind(actor.user.id).run();
  const a = await wc.seedUser({ role: "admin" });
  const b = await wc.seedUser({ role: "admin" });
  const { n } = await wc.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").first();
  assert.equal(n, 2, "setup: exactly two active admins");
  return { actor, a, b };
}

const activeAdmins = async (worker) =>
  (await worker.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").first()).n;

test("two concurrent demotions of the last two admins: at most one succeeds, the other is 409, one admin remains", async () => {
  const changes = [
    [{ role: "user" }, { role: "user" }],
    [{ disabled: true }, { role: "demo" }],
    [{ disabled: true }, { disabled: true }],
  ];
  for (let round = 0; round < 6; round += 1) {
    const { actor, a, b } = await twoAdminsAndAnActor();
    const [ca, cb] = changes[round % changes.length];
    const responses = await Promise.all([patchUser(wc, tok(actor), a.id, ca), patchUser(wc, tok(actor), b.id, cb)]);
    const statuses = responses.map((r) => r.status);
    assert.ok(statuses.filter((s) => s === 200).length <= 1, `round ${round}: ${statuses}`);
    for (const res of responses) {
      if (res.status !== 200) await expectProblem(assert, res, 409, "last_admin");
    }
    assert.equal(await activeAdmins(wc), 1, `round ${round}: one active admin remains (statuses ${statuses})`);
  }
});

test("two concurrent deletions of the last two admins: one 204, one 409 last_admin, one admin remains", async () => {
  for (let round = 0; round < 4; round += 1) {
    const { actor, a, b } = await twoAdminsAndAnActor();
    const responses = await Promise.all([deleteUser(wc, tok(actor), a.id), deleteUser(wc, tok(actor), b.id)]);
    const statuses = responses.map((r) => r.status).sort();
    assert.deepEqual(statuses, [204, 409], `round ${round}`);
    for (const res of responses) {
      if (res.status === 409) await expectProblem(assert, res, 409, "last_admin");
    }
    assert.equal(await activeAdmins(wc), 1);
  }
});
