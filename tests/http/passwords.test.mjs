// Changing and resetting passwords from outside. Change-password needs the current password and ends
// every other session [ASVS 6.2.3, 7.4.3]; forgot-password answers the same whether or not the account
// exists, and delivers a signed webhook with a single-use link whose token is stored only as a hash;
// reset-password burns the token exactly once and ends every session.
//
// forgot-password answers 202 at once and does the lookup, the token insert and the delivery in
// waitUntil, after the response: the tests poll for the webhook call or the D1 row.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { startWorker, expectProblem, decodeJwt, uniqueName, expectFieldError, atStartOfSecond, expectTokens, expectProfileOk, sleep, poll, capture, mailsTo } from "./helpers.mjs";

const HOOK_URL = "https://mail.test/hook";
const HOOK_SECRET = "mail-webhook-secret-for-tests-0123456789abcdef";
const TEMPLATE = "https://app.test/reset?token={token}";

/** Every request the Worker sent out, per worker. */
const outbound = { mail: [], origin: [], dev: [] };

/** Default settings, for change-password. */
let w;
/** Mail webhook + RESET_URL_TEMPLATE on app.test. */
let wm;
/** Mail webhook + the default template ({origin}{base}/ui/reset-password?token={token}: the hosted page). */
let wo;
/** ENVIRONMENT=development without MAIL_WEBHOOK_URL. */
let wdev;
before(async () => {
  const hook = { MAIL_WEBHOOK_URL: HOOK_URL, MAIL_WEBHOOK_SECRET: HOOK_SECRET };
  [w, wm, wo, wdev] = await Promise.all([
    startWorker(),
    startWorker({ bindings: { ...hook, RESET_URL_TEMPLATE: TEMPLATE }, outboundService: capture(outbound.mail) }),
    startWorker({ bindings: hook, outboundService: capture(outbound.origin) }),
    startWorker({ bindings: { ENVIRONMENT: "development" }, outboundService: capture(outbound.dev) }),
  ]);
});
after(async () => {
  await Promise.all([w?.close(), wm?.close(), wo?.close(), wdev?.close()]);
});

const NEW_PASSWORD = "a brand new passphrase";

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const profile = (worker, token) => worker.fetch("/auth/profile", { headers: bearer(token) });
const refresh = (worker, token) => worker.post("/auth/refresh", { refresh_token: token });
const changePassword = (worker, token, body) =>
  worker.fetch("/auth/change-password", {
    method: "PUT",
    headers: { "Content-Type": "application/json", ...(token ? bearer(token) : {}) },
    body: JSON.stringify(body),
  });
const forgot = (worker, body) => worker.post("/auth/forgot-password", body);
const reset = (worker, token, newPassword) => worker.post("/auth/reset-password", { token, new_password: newPassword });

/** Waits for the (first) webhook call to `email`; fails after 2 s. */
async function waitForMail(list, email) {
  const call = await poll(() => mailsTo(list, email)[0]);
  assert.ok(call, `no webhook call for ${email} within 2 s`);
  return call;
}

/** The reset token inside a link made from TEMPLATE. */
function tokenFromLink(link) {
  assert.ok(link.startsWith("https://app.test/reset?token="), link);
  return new URL(link).searchParams.get("token");
}

/** Seeds a user with an email on `worker`, asks for a reset and returns {user, token, call}. */
async function resetTokenFor(worker = wm, list = outbound.mail, options = {}) {
  const name = uniqueName("rst");
  const user = await worker.seedUser({ username: name, email: `${name.toLowerCase()}@example.com`, ...options });
  const res = await forgot(worker, { email: user.email });
  assert.equal(res.status, 202, await res.clone().text());
  const call = await waitForMail(list, user.email);
  return { user, call, token: tokenFromLink(JSON.parse(call.body).link) };
}

async function expectAccessRefused(worker, token, what = "access token") {
  const res = await profile(worker, token);
  assert.equal(res.status, 401, `${what}: ${await res.clone().text()}`);
  await expectProblem(assert, res, 401, "token_invalid");
}

async function expectRefreshRefused(worker, token, what = "refresh token") {
  const res = await refresh(worker, token);
  assert.equal(res.status, 401, `${what}: ${await res.clone().text()}`);
  await expectProblem(assert, res, 401, "refresh_token_invalid");
}


// ==== change-password =========================================================================================

test("change-password with a wrong current password is 401 invalid_credentials and changes nothing", async () => {
  const { user, tokens } = await w.userWithToken();
  const res = await changePassword(w, tokens.access_token, { current_password: "not the password", new_password: NEW_PASSWORD });
  await expectProblem(assert, res, 401, "invalid_credentials");
  await expectProfileOk(w, tokens.access_token, user);
  assert.equal((await w.login(user.username, user.password)).status, 200);
  assert.equal((await w.login(user.username, NEW_PASSWORD)).status, 401);
});

for (const [weak, code] of [
  ["password", "too_common"],
  ["iloveyou", "too_common"],
  ["short", "too_short"],
  ["q".repeat(257), "too_long"],
]) {
  test(`change-password to ${JSON.stringify(weak.slice(0, 12))} is 400 ${code} and changes nothing`, async () => {
    const { user, tokens } = await w.userWithToken();
    const res = await changePassword(w, tokens.access_token, { current_password: user.password, new_password: weak });
    await expectFieldError(res, "new_password", code);
    await expectProfileOk(w, tokens.access_token, user);
    assert.equal((await w.login(user.username, user.password)).status, 200);
  });
}

test("change-password to the username is 400 same_as_username", async () => {
  const { user, tokens } = await w.userWithToken({ username: uniqueName("samename") });
  const res = await changePassword(w, tokens.access_token, { current_password: user.password, new_password: user.username.toUpperCase() });
  await expectFieldError(res, "new_password", "same_as_username");
});

test("change-password with missing fields is 400 naming them", async () => {
  const { tokens } = await w.userWithToken();
  const res = await changePassword(w, tokens.access_token, {});
  const body = await expectProblem(assert, res, 400, "invalid_request");
  const fields = body.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ["current_password", "new_password"]);
});

test("change-password without a token is 401 token_missing", async () => {
  const res = await changePassword(w, null, { current_password: "x", new_password: NEW_PASSWORD });
  await expectProblem(assert, res, 401, "token_missing");
});

test("change-password succeeds with 200 and a token response for a fresh session whose tokens work", async () => {
  const { user, tokens } = await w.userWithToken();
  const res = await changePassword(w, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD });
  const fresh = await expectTokens(res, user);
  assert.notEqual(decodeJwt(fresh.access_token).claims.sid, decodeJwt(tokens.access_token).claims.sid);
  await expectProfileOk(w, fresh.access_token, user);
  await expectTokens(await refresh(w, fresh.refresh_token), user);
});

test("after change-password the old password fails and the new one logs in", async () => {
  const { user, tokens } = await w.userWithToken();
  await expectTokens(await changePassword(w, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD }), user);
  await expectProblem(assert, await w.post("/auth/login", { username: user.username, password: user.password }), 401, "invalid_credentials");
  assert.equal((await w.login(user.username, NEW_PASSWORD)).status, 200);
});

test("after change-password the caller's old access and refresh tokens are 401", async () => {
  const { user, tokens } = await w.userWithToken();
  await expectTokens(await changePassword(w, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD }), user);
  await expectAccessRefused(w, tokens.access_token, "old access token");
  await expectRefreshRefused(w, tokens.refresh_token, "old refresh token");
});

test("change-password ends another device's session (logged in a second earlier): access and refresh 401", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = (await w.login(user.username, user.password)).body;
  await expectProfileOk(w, other.access_token, user);
  await sleep(1100);
  const fresh = await expectTokens(
    await changePassword(w, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD }),
    user,
  );
  await expectAccessRefused(w, other.access_token, "other device's access token");
  await expectRefreshRefused(w, other.refresh_token, "other device's refresh token");
  await expectProfileOk(w, fresh.access_token, user);
});

test("change-password ends another device's session logged in within the same second: access and refresh 401", async () => {
  // Retried until the other login and the change fall within one wall-clock second (normally at once).
  for (let attempt = 1; ; attempt += 1) {
    await atStartOfSecond();
    const { user, tokens } = await w.userWithToken();
    const other = (await w.login(user.username, user.password)).body;
    const fresh = await expectTokens(
      await changePassword(w, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD }),
      user,
    );
    const sameSecond = decodeJwt(other.access_token).claims.iat === decodeJwt(fresh.access_token).claims.iat;
    if (!sameSecond && attempt < 3) continue;
    assert.ok(sameSecond, "setup: the other login and the change happened within one second");
    await expectRefreshRefused(w, other.refresh_token, "other device's refresh token");
    await expectAccessRefused(w, other.access_token, "other device's access token (same second)");
    await expectProfileOk(w, fresh.access_token, user);
    return;
  }
});

test("change-password leaves another user's session working", async () => {
  const bob = await w.userWithToken();
  const { user, tokens } = await w.userWithToken();
  await expectTokens(await changePassword(w, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD }), user);
  await expectProfileOk(w, bob.tokens.access_token, bob.user);
  await expectTokens(await refresh(w, bob.tokens.refresh_token), bob.user);
});

test("the password is changed for NFKC: a change to a compatibility form logs in with its canonical form", async () => {
  const { user, tokens } = await w.userWithToken();
  await expectTokens(
    await changePassword(w, tokens.access_token, { current_password: user.password, new_password: "\u212Bngström-file-pw" }),
    user,
  );
  assert.equal((await w.login(user.username, "\u00C5ngström-file-pw")).status, 200);
});

// ==== forgot-password ===========================================================================================

test("forgot-password answers 202 for a known email and a byte-identical 202 for an unknown one", async () => {
  const name = uniqueName("known");
  const user = await wm.seedUser({ username: name, email: `${name}@example.com`.toLowerCase() });
  const known = await forgot(wm, { email: user.email });
  const unknown = await forgot(wm, { email: `nobody-${name}@example.com`.toLowerCase() });
  assert.equal(known.status, 202);
  assert.equal(unknown.status, 202);
  const [a, b] = [await known.text(), await unknown.text()];
  assert.equal(a, b, "identical bodies");
  assert.equal(known.headers.get("content-type"), unknown.headers.get("content-type"));
  assert.equal(typeof JSON.parse(a).message, "string");
  await waitForMail(outbound.mail, user.email);
});

test("forgot-password accepts {username}, and an account without email answers the same 202", async () => {
  const name = uniqueName("byname");
  const user = await wm.seedUser({ username: name, email: `${name}@example.com`.toLowerCase() });
  const res = await forgot(wm, { username: user.username.toUpperCase() });
  assert.equal(res.status, 202, await res.clone().text());
  const call = await waitForMail(outbound.mail, user.email);
  assert.equal(JSON.parse(call.body).username, user.username);

  const noEmail = await wm.seedUser();
  const res2 = await forgot(wm, { username: noEmail.username });
  assert.equal(res2.status, 202);
  assert.equal(await res2.text(), await (await forgot(wm, { username: uniqueName("ghost") })).text());
});

for (const bad of ["bob@nodot", "@example.com", "bob@", "a b@example.com", "bob@@example.com"]) {
  test(`forgot-password with the malformed email ${JSON.stringify(bad)} is 400`, async () => {
    await expectProblem(assert, await forgot(wm, { email: bad }), 400, "invalid_request");
  });
}

test("forgot-password with an `email` that has no @ at all is 400 on the email field", async () => {
  const res = await forgot(wm, { email: "no-at-sign.example.com" });
  await expectFieldError(res, "email");
});

test("forgot-password without email or username is 400; a non-string email is 400", async () => {
  await expectProblem(assert, await forgot(wm, {}), 400, "invalid_request");
  await expectProblem(assert, await forgot(wm, { email: 42 }), 400, "invalid_request");
  await expectProblem(assert, await forgot(wm, { other: "x@example.com" }), 400, "invalid_request");
});

test("the webhook gets exactly one signed JSON POST for the known account and none for the unknown one", async () => {
  const name = uniqueName("hook");
  const user = await wm.seedUser({ username: name, email: `${name}@example.com`.toLowerCase() });
  const ghost = `ghost-${name}@example.com`.toLowerCase();
  assert.equal((await forgot(wm, { email: ghost })).status, 202);
  const before = Math.floor(Date.now() / 1000);
  assert.equal((await forgot(wm, { email: user.email.toUpperCase() })).status, 202);
  const call = await waitForMail(outbound.mail, user.email);
  await sleep(800);
  assert.equal(mailsTo(outbound.mail, user.email).length, 1, "exactly one call for the known account");
  assert.equal(mailsTo(outbound.mail, ghost).length, 0, "no call for the unknown account");

  assert.equal(call.url, HOOK_URL);
  assert.equal(call.method, "POST");
  assert.match(call.headers["content-type"] ?? "", /^application\/json/);
  const mail = JSON.parse(call.body);
  assert.deepEqual(Object.keys(mail).sort(), ["expires_at", "link", "to", "type", "username"]);
  assert.equal(mail.type, "password_reset");
  assert.equal(mail.to, user.email);
  assert.equal(mail.username, user.username);
  assert.ok(mail.link.startsWith("https://app.test/reset?token="), mail.link);
  const token = tokenFromLink(mail.link);
  assert.ok(token.length >= 22, `token ${token} carries >= 128 bits`);
  assert.match(mail.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const ttl = Date.parse(mail.expires_at) / 1000 - before;
  assert.ok(ttl > 1700 && ttl <= 1801, `expires in ~30 min, got ${ttl} s`);

  const header = call.headers["x-edge-auth-signature"];
  assert.ok(header, "X-Edge-Auth-Signature is sent");
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  assert.ok(m, header);
  const t = Number(m[1]);
  assert.ok(Math.abs(t - Date.now() / 1000) < 60, `timestamp ${t} is now`);
  const expected = createHmac("sha256", HOOK_SECRET).update(`${m[1]}.${call.body}`).digest("hex");
  assert.equal(m[2], expected, "the signature verifies with the secret");
  const forged = createHmac("sha256", "another-secret-another-secret-0123456789").update(`${m[1]}.${call.body}`).digest("hex");
  assert.notEqual(m[2], forged, "and not with another secret");
  const tampered = createHmac("sha256", HOOK_SECRET).update(`${m[1]}.${call.body.replace(user.email, "evil@example.com")}`).digest("hex");
  assert.notEqual(m[2], tampered, "and not for another body");
});

test("a disabled account gets the same 202 and no mail", async () => {
  const name = uniqueName("dis");
  const user = await wm.seedUser({ username: name, email: `${name}@example.com`.toLowerCase(), disabled: 1 });
  const res = await forgot(wm, { email: user.email });
  assert.equal(res.status, 202);
  await sleep(800);
  assert.equal(mailsTo(outbound.mail, user.email).length, 0);
  const row = await wm.db.prepare("SELECT COUNT(*) AS n FROM password_resets WHERE user_id = ?1").bind(user.id).first();
  assert.equal(row.n, 0);
});

test("with the default template the link is the hosted reset page of the request's origin and base path", async () => {
  const { call } = await (async () => {
    const name = uniqueName("orig");
    const user = await wo.seedUser({ username: name, email: `${name}@example.com`.toLowerCase() });
    assert.equal((await forgot(wo, { email: user.email })).status, 202);
    return { call: await waitForMail(outbound.origin, user.email) };
  })();
  const link = JSON.parse(call.body).link;
  assert.match(link, /^http:\/\/localhost\/auth\/ui\/reset-password\?token=[A-Za-z0-9_-]{22,}$/);
});

test("D1 stores only a hash of the reset token: the raw token appears nowhere in password_resets", async () => {
  const { user, token } = await resetTokenFor();
  const { results } = await wm.db.prepare("SELECT * FROM password_resets").all();
  const mine = results.filter((r) => r.user_id === user.id);
  assert.equal(mine.length, 1);
  for (const row of results) {
    for (const [column, value] of Object.entries(row)) {
      if (value === null) continue;
      const text = value instanceof ArrayBuffer ? Buffer.from(value).toString("latin1") : String(value);
      assert.equal(text.includes(token), false, `column ${column} contains the raw token`);
    }
  }
  assert.equal(mine[0].token_hash, createHash("sha256").update(token).digest("hex"), "SHA-256 of the token");
  assert.equal(mine[0].used_at, null);
});

test("without MAIL_WEBHOOK_URL in development: 202, the token is stored, and no outbound fetch is made", async () => {
  const name = uniqueName("dev");
  const user = await wdev.seedUser({ username: name, email: `${name}@example.com`.toLowerCase() });
  const res = await forgot(wdev, { email: user.email });
  assert.equal(res.status, 202, await res.clone().text());
  const row = await poll(() =>
    wdev.db.prepare("SELECT * FROM password_resets WHERE user_id = ?1").bind(user.id).first(),
  );
  assert.ok(row, "the background work ran (a reset row exists)");
  await sleep(300);
  assert.equal(outbound.dev.length, 0, `outbound calls: ${JSON.stringify(outbound.dev.map((c) => c.url))}`);
});

// ==== reset-password ============================================================================================

test("reset with the mailed token answers 200 {message}; the new password logs in and the old one fails", async () => {
  const { user, token } = await resetTokenFor();
  const res = await reset(wm, token, NEW_PASSWORD);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body), ["message"]);
  assert.equal(typeof body.message, "string");
  assert.equal(text.includes(token), false);
  assert.equal((await wm.login(user.username, NEW_PASSWORD)).status, 200);
  await expectProblem(assert, await wm.post("/auth/login", { username: user.username, password: user.password }), 401, "invalid_credentials");
});

test("a reset ends every previous session (logged in a second earlier): access 401 and refresh 401", async () => {
  const { user, token } = await resetTokenFor();
  const a = (await wm.login(user.username, user.password)).body;
  const b = (await wm.login(user.username, user.password)).body;
  await expectProfileOk(wm, a.access_token, user);
  await sleep(1100);
  assert.equal((await reset(wm, token, NEW_PASSWORD)).status, 200);
  for (const [label, s] of [["a", a], ["b", b]]) {
    await expectAccessRefused(wm, s.access_token, `session ${label} access`);
    await expectRefreshRefused(wm, s.refresh_token, `session ${label} refresh`);
  }
});

test("a reset ends sessions started within the same second too: access 401 and refresh 401", async () => {
  // Retried until the login and the reset fall within one wall-clock second (normally at once).
  for (let attempt = 1; ; attempt += 1) {
    const { user, token } = await resetTokenFor();
    await atStartOfSecond();
    const a = (await wm.login(user.username, user.password)).body;
    const res = await reset(wm, token, NEW_PASSWORD);
    const after = Math.floor(Date.now() / 1000);
    assert.equal(res.status, 200);
    const sameSecond = decodeJwt(a.access_token).claims.iat === after;
    if (!sameSecond && attempt < 3) continue;
    assert.ok(sameSecond, "setup: login and reset within one second");
    await expectRefreshRefused(wm, a.refresh_token, "refresh token");
    await expectAccessRefused(wm, a.access_token, "access token issued in the same second as the reset");
    return;
  }
});

test("a reset token is single-use: the second use is 400 reset_token_invalid", async () => {
  const { user, token } = await resetTokenFor();
  assert.equal((await reset(wm, token, NEW_PASSWORD)).status, 200);
  await expectProblem(assert, await reset(wm, token, "yet another passphrase"), 400, "reset_token_invalid");
  assert.equal((await wm.login(user.username, NEW_PASSWORD)).status, 200, "the second attempt changed nothing");
  assert.equal((await wm.login(user.username, "yet another passphrase")).status, 401);
});

test("two concurrent resets with one token: exactly one 200 and one 400 reset_token_invalid", async () => {
  for (let round = 0; round < 3; round += 1) {
    const { user, token } = await resetTokenFor();
    const [r1, r2] = await Promise.all([reset(wm, token, "first racer passphrase"), reset(wm, token, "second racer passphrase")]);
    const statuses = [r1.status, r2.status].sort();
    assert.deepEqual(statuses, [200, 400], `round ${round}: ${statuses}`);
    const loser = r1.status === 400 ? r1 : r2;
    await expectProblem(assert, loser, 400, "reset_token_invalid");
    const winner = r1.status === 200 ? "first racer passphrase" : "second racer passphrase";
    const other = r1.status === 200 ? "second racer passphrase" : "first racer passphrase";
    assert.equal((await wm.login(user.username, winner)).status, 200);
    assert.equal((await wm.login(user.username, other)).status, 401);
  }
});

test("an unknown token, a malformed token and an over-long token are 400 reset_token_invalid", async () => {
  for (const token of ["A".repeat(43), "not a token", "x", "z".repeat(5000)]) {
    await expectProblem(assert, await reset(wm, token, NEW_PASSWORD), 400, "reset_token_invalid");
  }
});

test("reset-password with missing fields is 400 invalid_request", async () => {
  await expectProblem(assert, await wm.post("/auth/reset-password", {}), 400, "invalid_request");
  await expectProblem(assert, await wm.post("/auth/reset-password", { token: "abc" }), 400, "invalid_request");
  await expectProblem(assert, await wm.post("/auth/reset-password", { new_password: NEW_PASSWORD }), 400, "invalid_request");
});

test("an expired reset token is 400 reset_token_invalid and the password is unchanged", async () => {
  const { user, token } = await resetTokenFor();
  await wm.db.prepare("UPDATE password_resets SET expires_at = unixepoch() - 1 WHERE user_id = ?1").bind(user.id).run();
  await expectProblem(assert, await reset(wm, token, NEW_PASSWORD), 400, "reset_token_invalid");
  assert.equal((await wm.login(user.username, user.password)).status, 200);
});

test("a weak new password is 400 and does not burn the token: a good one afterwards works", async () => {
  const { user, token } = await resetTokenFor();
  await expectFieldError(await reset(wm, token, "password"), "new_password", "too_common");
  await expectFieldError(await reset(wm, token, "short"), "new_password", "too_short");
  await expectFieldError(await reset(wm, token, user.username), "new_password");
  const row = await wm.db.prepare("SELECT used_at FROM password_resets WHERE user_id = ?1").bind(user.id).first();
  assert.equal(row.used_at, null, "the token is not burned");
  assert.equal((await wm.login(user.username, user.password)).status, 200, "password unchanged");
  const res = await reset(wm, token, NEW_PASSWORD);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await wm.login(user.username, NEW_PASSWORD)).status, 200);
});

test("the token of a user disabled after asking is 400 reset_token_invalid", async () => {
  const { user, token } = await resetTokenFor();
  await wm.db.prepare("UPDATE users SET disabled = 1 WHERE id = ?1").bind(user.id).run();
  await expectProblem(assert, await reset(wm, token, NEW_PASSWORD), 400, "reset_token_invalid");
  await wm.db.prepare("UPDATE users SET disabled = 0 WHERE id = ?1").bind(user.id).run();
  assert.equal((await wm.login(user.username, user.password)).status, 200, "password unchanged");
});

test("a change-password invalidates a pending reset token", async () => {
  const { user, token } = await resetTokenFor();
  const tokens = (await wm.login(user.username, user.password)).body;
  await expectTokens(
    await changePassword(wm, tokens.access_token, { current_password: user.password, new_password: NEW_PASSWORD }),
    user,
  );
  await expectProblem(assert, await reset(wm, token, "attacker chosen passphrase"), 400, "reset_token_invalid");
  assert.equal((await wm.login(user.username, NEW_PASSWORD)).status, 200);
});

test("a reset token never works as a bearer access token", async () => {
  const { token } = await resetTokenFor();
  await expectProblem(assert, await profile(wm, token), 401, "token_invalid");
});
