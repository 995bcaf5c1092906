// Signup from outside: the 201 token response, the configured default role (never one from the body),
// SIGNUP_ENABLED, case-insensitive uniqueness of usernames and emails (also under concurrency), the
// password policy (NIST SP 800-63B §3.1.1.2: minimum length, at least 64 allowed, common passwords and
// the username refused, NFKC) and the validation of the other fields.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectProblem, decodeJwt, uniqueName, expectFieldError, TOKEN_KEYS } from "./helpers.mjs";

/** Default settings: signup on, default role `user`, minimum length 8. */
let w;
/** ROLES=cajero, DEFAULT_ROLE=cajero, PASSWORD_MIN_LENGTH=12. */
let wc;
/** SIGNUP_ENABLED=false. */
let wd;
before(async () => {
  [w, wc, wd] = await Promise.all([
    startWorker(),
    startWorker({ bindings: { ROLES: "cajero", DEFAULT_ROLE: "cajero", PASSWORD_MIN_LENGTH: "12" } }),
    startWorker({ bindings: { SIGNUP_ENABLED: "false" } }),
  ]);
});
after(async () => {
  await Promise.all([w?.close(), wc?.close(), wd?.close()]);
});

const USER_KEYS = ["created_at", "display_name", "email", "email_verified", "id", "role", "username"];
const GOOD_PASSWORD = "violet tangerine harbour";

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const signup = (worker, body) => worker.post("/auth/signup", body);

/** Asserts a 201 token response (every field, no-store) and returns it. */
async function expectSignedUp(res) {
  const text = await res.text();
  assert.equal(res.status, 201, `status of ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body).sort(), TOKEN_KEYS);
  assert.deepEqual(Object.keys(body.user).sort(), USER_KEYS);
  assert.equal(body.token_type, "Bearer");
  assert.equal(body.expires_in, 900);
  assert.equal(typeof body.access_token, "string");
  assert.equal(typeof body.refresh_token, "string");
  assert.equal(body.refresh_expires_in, 2592000);
  assert.equal(text.includes("pbkdf2"), false, "no hash in the response");
  return body;
}


async function userRow(worker, username) {
  return worker.db.prepare("SELECT * FROM users WHERE username = ?1 COLLATE NOCASE").bind(username).first();
}

// ---- success -------------------------------------------------------------------------------------------

test("signup answers 201 with a full token response whose access and refresh tokens work", async () => {
  const username = uniqueName("sign");
  const res = await signup(w, { username, password: GOOD_PASSWORD, email: `${username}@example.com` });
  const body = await expectSignedUp(res);
  assert.equal(body.user.username, username);
  assert.equal(body.user.email, `${username}@example.com`.toLowerCase());
  assert.equal(body.user.role, "user");
  assert.match(body.user.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  const profile = await w.fetch("/auth/profile", { headers: bearer(body.access_token) });
  assert.equal(profile.status, 200, await profile.clone().text());
  assert.equal((await profile.json()).id, body.user.id);

  const refreshed = await w.post("/auth/refresh", { refresh_token: body.refresh_token });
  assert.equal(refreshed.status, 200, await refreshed.clone().text());
  assert.equal((await refreshed.json()).user.id, body.user.id);

  const login = await w.login(username, GOOD_PASSWORD);
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.user.id, body.user.id);
});

test("the stored password is a PHC hash, never the password", async () => {
  const username = uniqueName("store");
  await expectSignedUp(await signup(w, { username, password: GOOD_PASSWORD }));
  const row = await userRow(w, username);
  assert.match(row.password_hash, /^\$pbkdf2-sha512\$i=1000,l=64\$/);
  assert.equal(row.password_hash.includes(GOOD_PASSWORD), false);
});

test("a role in the body never takes effect: role:admin still gives `user` in the view, the JWT and D1", async () => {
  const username = uniqueName("sneaky");
  const body = await expectSignedUp(await signup(w, { username, password: GOOD_PASSWORD, role: "admin" }));
  assert.equal(body.user.role, "user");
  assert.equal(decodeJwt(body.access_token).claims.role, "user");
  assert.equal((await userRow(w, username)).role, "user");
  const admin = await w.fetch("/auth/admin/users", { headers: bearer(body.access_token) });
  await expectProblem(assert, admin, 403, "forbidden");
});

test("other client-set fields (disabled, id, created_at) never take effect", async () => {
  const username = uniqueName("fields");
  const body = await expectSignedUp(
    await signup(w, {
      username,
      password: GOOD_PASSWORD,
      disabled: true,
      id: "chosen-by-client",
      created_at: "2000-01-01T00:00:00Z",
    }),
  );
  assert.notEqual(body.user.id, "chosen-by-client");
  assert.notEqual(body.user.created_at, "2000-01-01T00:00:00Z");
  const row = await userRow(w, username);
  assert.equal(row.disabled, 0);
  assert.equal((await w.login(username, GOOD_PASSWORD)).status, 200);
});

test("DEFAULT_ROLE cajero (listed in ROLES) gives every signup the role cajero, even with role:admin", async () => {
  const username = uniqueName("caja");
  const body = await expectSignedUp(
    await signup(wc, { username, password: "a long cashier passphrase", role: "admin" }),
  );
  assert.equal(body.user.role, "cajero");
  assert.equal(decodeJwt(body.access_token).claims.role, "cajero");
  assert.equal((await userRow(wc, username)).role, "cajero");
});

test("PASSWORD_MIN_LENGTH 12 refuses an 11-character password and accepts a 12-character one", async () => {
  await expectFieldError(
    await signup(wc, { username: uniqueName("min"), password: "elevenchars" }),
    "password",
    "too_short",
  );
  await expectSignedUp(await signup(wc, { username: uniqueName("min"), password: "twelve chars" }));
});

// ---- signup disabled --------------------------------------------------------------------------------------

test("SIGNUP_ENABLED=false answers 403 signup_disabled and creates nothing", async () => {
  const username = uniqueName("closed");
  const res = await signup(wd, { username, password: GOOD_PASSWORD });
  const body = await expectProblem(assert, res, 403, "signup_disabled");
  assert.equal("access_token" in body, false);
  assert.equal(await userRow(wd, username), null);
});

test("with signup disabled, login of an existing user still works", async () => {
  const user = await wd.seedUser();
  assert.equal((await wd.login(user.username, user.password)).status, 200);
});

// ---- uniqueness -------------------------------------------------------------------------------------------

test("a username taken in any case is 409 username_taken", async () => {
  const username = uniqueName("Dup");
  await expectSignedUp(await signup(w, { username, password: GOOD_PASSWORD }));
  for (const variant of [username, username.toUpperCase(), username.toLowerCase(), `  ${username} `]) {
    const res = await signup(w, { username: variant, password: GOOD_PASSWORD });
    await expectProblem(assert, res, 409, "username_taken");
  }
  const { results } = await w.db.prepare("SELECT id FROM users WHERE username = ?1 COLLATE NOCASE").bind(username).all();
  assert.equal(results.length, 1);
});

test("an email taken in any case is 409 email_taken", async () => {
  const email = `${uniqueName("mail")}@Example.com`;
  await expectSignedUp(await signup(w, { username: uniqueName("m1"), password: GOOD_PASSWORD, email }));
  for (const variant of [email, email.toUpperCase(), email.toLowerCase()]) {
    const res = await signup(w, { username: uniqueName("m2"), password: GOOD_PASSWORD, email: variant });
    await expectProblem(assert, res, 409, "email_taken");
  }
  const { results } = await w.db.prepare("SELECT id FROM users WHERE email = ?1 COLLATE NOCASE").bind(email).all();
  assert.equal(results.length, 1);
});

test("an email taken by a seeded user (stored lowercased) is refused in another case", async () => {
  const email = `${uniqueName("seeded")}@example.org`.toLowerCase();
  await w.seedUser({ email });
  const res = await signup(w, { username: uniqueName("s2"), password: GOOD_PASSWORD, email: email.toUpperCase() });
  await expectProblem(assert, res, 409, "email_taken");
});

test("10 concurrent signups of one username: exactly one 201, the rest 409 username_taken, none 5xx", async () => {
  const base = uniqueName("race");
  const attempts = Array.from({ length: 10 }, (_, i) =>
    signup(w, { username: i % 2 ? base.toUpperCase() : base, password: `${GOOD_PASSWORD} ${i}` }),
  );
  const responses = await Promise.all(attempts);
  const statuses = responses.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses ${statuses}`);
  assert.equal(statuses.filter((s) => s === 409).length, 9, `statuses ${statuses}`);
  for (const res of responses) {
    if (res.status === 409) await expectProblem(assert, res, 409, "username_taken");
  }
  const { results } = await w.db.prepare("SELECT id FROM users WHERE username = ?1 COLLATE NOCASE").bind(base).all();
  assert.equal(results.length, 1);
});

// ---- the password policy -----------------------------------------------------------------------------------

for (const common of ["password", "12345678", "iloveyou", "Password1", "PASSWORD"]) {
  test(`the common password ${JSON.stringify(common)} is 400 too_common`, async () => {
    const username = uniqueName("common");
    await expectFieldError(await signup(w, { username, password: common }), "password", "too_common");
    assert.equal(await userRow(w, username), null);
  });
}

test("a 7-character password is 400 too_short (characters, not bytes: 7 × é too)", async () => {
  await expectFieldError(await signup(w, { username: uniqueName("short"), password: "seven77" }), "password", "too_short");
  await expectFieldError(await signup(w, { username: uniqueName("short"), password: "ééééééé" }), "password", "too_short");
  await expectSignedUp(await signup(w, { username: uniqueName("short"), password: "éééééééé" }));
});

test("a password equal to the username (in any case) is 400 same_as_username", async () => {
  const username = uniqueName("SameName");
  await expectFieldError(await signup(w, { username, password: username.toLowerCase() }), "password", "same_as_username");
  assert.equal(await userRow(w, username), null);
});

test("a 257-character password is 400 too_long", async () => {
  await expectFieldError(await signup(w, { username: uniqueName("long"), password: "q".repeat(257) }), "password", "too_long");
});

test("a 64-character and a 256-character password are accepted, never truncated, and log in", async () => {
  for (const length of [64, 256]) {
    const username = uniqueName(`len${length}`);
    const password = Array.from({ length }, (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789 "[(i * 7) % 37]).join("");
    assert.equal(password.length, length);
    await expectSignedUp(await signup(w, { username, password }));
    assert.equal((await w.login(username, password)).status, 200, `${length} chars`);
    // One character less is another password: nothing was truncated.
    assert.equal((await w.login(username, password.slice(0, -1))).status, 401, `${length} chars, truncated`);
  }
});

test("a password given in one Unicode form logs in with its NFKC-equivalent form", async () => {
  const username = uniqueName("nfkc");
  await expectSignedUp(await signup(w, { username, password: "\u212Bngström-file-pw" }));
  const login = await w.login(username, "\u00C5ngström-file-pw");
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal((await w.login(username, "\u212Bngström-file-pw")).status, 200);
});

test("a missing password and a non-string password are 400 on the password field", async () => {
  await expectFieldError(await signup(w, { username: uniqueName("nopw") }), "password", "missing");
  await expectFieldError(await signup(w, { username: uniqueName("nopw"), password: 12345678 }), "password", "invalid_type");
});

// ---- other fields ------------------------------------------------------------------------------------------

for (const bad of ["ab", "has space", "ålice", "a".repeat(31), "semi;colon", "x@y"]) {
  test(`the username ${JSON.stringify(bad)} is 400 on the username field`, async () => {
    await expectFieldError(await signup(w, { username: bad, password: GOOD_PASSWORD }), "username");
  });
}

test("a missing username is 400 on the username field", async () => {
  await expectFieldError(await signup(w, { password: GOOD_PASSWORD }), "username", "missing");
});

for (const bad of ["not-an-email", "a@b", "@example.com", "alice@", "a b@example.com", "a@b@example.com", 42]) {
  test(`the email ${JSON.stringify(bad)} is 400 on the email field`, async () => {
    const username = uniqueName("bademail");
    await expectFieldError(await signup(w, { username, password: GOOD_PASSWORD, email: bad }), "email");
    assert.equal(await userRow(w, username), null);
  });
}

test("every invalid field is reported at once", async () => {
  const res = await signup(w, { username: "x", password: "short", email: "nope" });
  const body = await expectProblem(assert, res, 400, "invalid_request");
  const fields = body.errors.map((e) => e.field).sort();
  for (const f of ["email", "username"]) assert.ok(fields.includes(f), JSON.stringify(body.errors));
});

test("display_name is stored and shown trimmed", async () => {
  const username = uniqueName("disp");
  const body = await expectSignedUp(await signup(w, { username, password: GOOD_PASSWORD, display_name: "   Ada Lovelace \t " }));
  assert.equal(body.user.display_name, "Ada Lovelace");
  assert.equal((await userRow(w, username)).display_name, "Ada Lovelace");
  const profile = await (await w.fetch("/auth/profile", { headers: bearer(body.access_token) })).json();
  assert.equal(profile.display_name, "Ada Lovelace");
});

test("a blank display_name is stored as null; a 101-character one is 400", async () => {
  const username = uniqueName("blank");
  const body = await expectSignedUp(await signup(w, { username, password: GOOD_PASSWORD, display_name: "    " }));
  assert.equal(body.user.display_name, null);
  await expectFieldError(
    await signup(w, { username: uniqueName("dn"), password: GOOD_PASSWORD, display_name: "d".repeat(101) }),
    "display_name",
  );
});

test("the username is kept as typed (trimmed) and the email lowercased", async () => {
  const username = uniqueName("CaSe");
  const body = await expectSignedUp(
    await signup(w, { username: `  ${username}  `, password: GOOD_PASSWORD, email: `  ${username}@EXAMPLE.com ` }),
  );
  assert.equal(body.user.username, username);
  assert.equal(body.user.email, `${username.toLowerCase()}@example.com`);
});
