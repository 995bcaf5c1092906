// Sessions from outside: refresh-token rotation with reuse detection and the grace window for
// concurrent tabs, logout, logout-all, the session list and ending one session. Everything is observed
// over HTTP (plus reads of D1 where the rule is about what is stored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { startWorker, expectProblem, decodeJwt, TEST_SECRET, atStartOfSecond, expectTokens, expectProfileOk } from "./helpers.mjs";

/** Default settings (grace window 30 s, refresh lifetime 30 days). */
let w;
/** REFRESH_GRACE_PERIOD=0: any already-rotated token is reuse at once. */
let w0;
/** REFRESH_TOKEN_TTL=7d. */
let w7;
before(async () => {
  [w, w0, w7] = await Promise.all([
    startWorker(),
    startWorker({ bindings: { REFRESH_GRACE_PERIOD: "0" } }),
    startWorker({ bindings: { REFRESH_TOKEN_TTL: "7d" } }),
  ]);
});
after(async () => {
  await Promise.all([w?.close(), w0?.close(), w7?.close()]);
});

const SESSION_KEYS = ["created_at", "current", "expires_at", "id", "ip", "last_used_at", "user_agent"];
const THIRTY_DAYS = 2592000;

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const profile = (worker, token) => worker.fetch("/auth/profile", { headers: bearer(token) });
const refresh = (worker, token) => worker.post("/auth/refresh", { refresh_token: token });
const logout = (worker, token, init = {}) =>
  worker.fetch("/auth/logout", { method: "POST", ...init, headers: { ...bearer(token), ...(init.headers ?? {}) } });
const listSessions = (worker, token) => worker.fetch("/auth/sessions", { headers: bearer(token) });
const deleteSession = (worker, token, id) =>
  worker.fetch(`/auth/sessions/${encodeURIComponent(id)}`, { method: "DELETE", headers: bearer(token) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asserts that `token` is refused on the profile (401 token_invalid). */
async function expectProfileRefused(worker, token) {
  await expectProblem(assert, await profile(worker, token), 401, "token_invalid");
}

/** Logs `user` in again (another "device"); returns the token response. */
async function loginAgain(worker, user, headers = {}) {
  const res = await worker.post("/auth/login", { username: user.username, password: user.password }, headers);
  return expectTokens(res, user);
}

/** The refresh token of another server: same format, MAC under a key derived from another secret. */
function foreignRefreshToken(sessionId, generation = 0) {
  const key = createHmac("sha256", "another-server-secret-another-server-secret-0123")
    .update("edge-auth refresh-token key v1")
    .digest();
  const seed = randomBytes(32);
  const len = (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const gen = Buffer.alloc(8);
  gen.writeBigUInt64BE(BigInt(generation));
  const mac = createHmac("sha256", key)
    .update(Buffer.concat([Buffer.from("edge-auth refresh v1"), len(sessionId.length), Buffer.from(sessionId), len(32), seed, gen]))
    .digest("base64url");
  return `rt1.${sessionId}.${generation}.${mac}`;
}

/** The parts of a refresh token `rt1.<sid>.<generation>.<mac>`. */
function parts(refreshToken) {
  const [prefix, sid, generation, mac] = refreshToken.split(".");
  return { prefix, sid, generation: Number(generation), mac };
}

/** `token` with one character of its MAC changed (in the middle, so the decoded bytes differ). */
function withFlippedMac(token) {
  const p = parts(token);
  const chars = [...p.mac];
  chars[10] = chars[10] === "A" ? "B" : "A";
  return `${p.prefix}.${p.sid}.${p.generation}.${chars.join("")}`;
}

// ---- login and a normal refresh ---------------------------------------------------------------------

test("login returns an opaque rt1. refresh token valid for 30 days", async () => {
  const user = await w.seedUser();
  const res = await w.post("/auth/login", { username: user.username, password: user.password });
  const tokens = await expectTokens(res, user);
  assert.match(tokens.refresh_token, /^rt1\.[A-Za-z0-9_-]+\.0\.[A-Za-z0-9_-]{43}$/);
  assert.equal(tokens.refresh_expires_in, THIRTY_DAYS);
  assert.equal(parts(tokens.refresh_token).sid, decodeJwt(tokens.access_token).claims.sid);
});

test("a refresh returns a full token response with a new refresh token and a new working access token", async () => {
  const { user, tokens } = await w.userWithToken();
  const res = await refresh(w, tokens.refresh_token);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const next = await expectTokens(res, user);
  assert.notEqual(next.refresh_token, tokens.refresh_token);
  assert.notEqual(next.access_token, tokens.access_token);
  assert.equal(parts(next.refresh_token).sid, parts(tokens.refresh_token).sid);
  assert.equal(decodeJwt(next.access_token).claims.sid, decodeJwt(tokens.access_token).claims.sid);
  assert.deepEqual(Object.keys(next.user).sort(), ["created_at", "display_name", "email", "email_verified", "id", "role", "username"]);
  assert.equal(next.user.username, user.username);
  await expectProfileOk(w, next.access_token, user);
});

// ---- reuse detection ----------------------------------------------------------------------------------

test("an already-rotated refresh token presented after the grace window is 401 refresh_token_reused", async () => {
  const { user, tokens } = await w0.userWithToken();
  const next = await expectTokens(await refresh(w0, tokens.refresh_token), user);
  assert.notEqual(next.refresh_token, tokens.refresh_token);
  const res = await refresh(w0, tokens.refresh_token);
  const body = await expectProblem(assert, res, 401, "refresh_token_reused");
  assert.equal(JSON.stringify(body).includes(tokens.refresh_token), false, "the token is not echoed");
});

test("after reuse is detected the successor refresh token is refused as refresh_token_invalid", async () => {
  const { user, tokens } = await w0.userWithToken();
  const next = await expectTokens(await refresh(w0, tokens.refresh_token), user);
  await expectProblem(assert, await refresh(w0, tokens.refresh_token), 401, "refresh_token_reused");
  await expectProblem(assert, await refresh(w0, next.refresh_token), 401, "refresh_token_invalid");
});

test("after reuse is detected the successor's access token no longer opens the profile", async () => {
  const { user, tokens } = await w0.userWithToken();
  const next = await expectTokens(await refresh(w0, tokens.refresh_token), user);
  await expectProfileOk(w0, next.access_token, user);
  await expectProblem(assert, await refresh(w0, tokens.refresh_token), 401, "refresh_token_reused");
  const res = await profile(w0, next.access_token);
  assert.equal(res.status, 401, await res.clone().text());
  await expectProblem(assert, res, 401, "token_invalid");
});

test("a refresh token two generations old is reuse even inside the default 30 s window", async () => {
  const { user, tokens } = await w.userWithToken();
  const g1 = await expectTokens(await refresh(w, tokens.refresh_token), user);
  const g2 = await expectTokens(await refresh(w, g1.refresh_token), user);
  assert.equal(parts(g2.refresh_token).generation, 2);
  await expectProblem(assert, await refresh(w, tokens.refresh_token), 401, "refresh_token_reused");
  // ...and the family is revoked: the newest token is dead too.
  await expectProblem(assert, await refresh(w, g2.refresh_token), 401, "refresh_token_invalid");
});

// ---- concurrent tabs -----------------------------------------------------------------------------------

test("inside the grace window the same refresh token refreshed twice in a row yields the same new refresh token", async () => {
  const { user, tokens } = await w.userWithToken();
  const a = await expectTokens(await refresh(w, tokens.refresh_token), user);
  const b = await expectTokens(await refresh(w, tokens.refresh_token), user);
  assert.equal(b.refresh_token, a.refresh_token);
  assert.notEqual(a.refresh_token, tokens.refresh_token);
  await expectProfileOk(w, a.access_token, user);
  await expectProfileOk(w, b.access_token, user);
});

test("the refresh token handed out twice inside the grace window then refreshes normally", async () => {
  const { user, tokens } = await w.userWithToken();
  const a = await expectTokens(await refresh(w, tokens.refresh_token), user);
  const b = await expectTokens(await refresh(w, tokens.refresh_token), user);
  assert.equal(b.refresh_token, a.refresh_token);
  const c = await expectTokens(await refresh(w, a.refresh_token), user);
  assert.notEqual(c.refresh_token, a.refresh_token);
  await expectProfileOk(w, c.access_token, user);
});

test("ten simultaneous refreshes of one token all succeed with the same new refresh token", async () => {
  const { user, tokens } = await w.userWithToken();
  const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(w, tokens.refresh_token)));
  const bodies = [];
  for (const res of responses) bodies.push(await expectTokens(res, user));
  const distinct = new Set(bodies.map((b) => b.refresh_token));
  assert.equal(distinct.size, 1, `refresh tokens handed out: ${[...distinct].join(", ")}`);
  const [successor] = distinct;
  assert.notEqual(successor, tokens.refresh_token);
  assert.equal(parts(successor).generation, 1);
});

test("after ten simultaneous refreshes the user still has a working session", async () => {
  const { user, tokens } = await w.userWithToken();
  const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(w, tokens.refresh_token)));
  const bodies = [];
  for (const res of responses) bodies.push(await expectTokens(res, user));
  for (const b of bodies) await expectProfileOk(w, b.access_token, user);
  const next = await expectTokens(await refresh(w, bodies[9].refresh_token), user);
  await expectProfileOk(w, next.access_token, user);
});

test("with REFRESH_GRACE_PERIOD 0 a second refresh of the same token is 401 refresh_token_reused", async () => {
  const { user, tokens } = await w0.userWithToken();
  await expectTokens(await refresh(w0, tokens.refresh_token), user);
  await expectProblem(assert, await refresh(w0, tokens.refresh_token), 401, "refresh_token_reused");
});

// ---- invalid refresh tokens -------------------------------------------------------------------------

for (const [name, token] of [
  ["garbage", "not-a-refresh-token"],
  ["an empty string", ""],
  ["an rt1 token of an unknown session", `rt1.${randomBytes(16).toString("base64url")}.0.${randomBytes(32).toString("base64url")}`],
  ["a refresh token of another provider's shape (v1.<base64>)", `v1.${randomBytes(48).toString("base64url")}`],
  ["a UUID", "8a4f6d0e-2b3c-4e5f-9a1b-0c2d3e4f5a6b"],
]) {
  test(`refresh with ${name} is 401 refresh_token_invalid`, async () => {
    await expectProblem(assert, await refresh(w, token), 401, "refresh_token_invalid");
  });
}

test("refresh with a genuine token whose MAC was modified is 401 refresh_token_invalid", async () => {
  const { tokens } = await w.userWithToken();
  const forged = withFlippedMac(tokens.refresh_token);
  assert.notEqual(forged, tokens.refresh_token);
  await expectProblem(assert, await refresh(w, forged), 401, "refresh_token_invalid");
});

test("refresh with a genuine token whose generation was modified is 401 refresh_token_invalid", async () => {
  const { tokens } = await w.userWithToken();
  const p = parts(tokens.refresh_token);
  const forged = `rt1.${p.sid}.${p.generation + 1}.${p.mac}`;
  await expectProblem(assert, await refresh(w, forged), 401, "refresh_token_invalid");
});

test("refresh with another server's token for a real session id is 401 refresh_token_invalid", async () => {
  const { tokens } = await w.userWithToken();
  const forged = foreignRefreshToken(parts(tokens.refresh_token).sid, 0);
  await expectProblem(assert, await refresh(w, forged), 401, "refresh_token_invalid");
});

test("a forged old-generation token with a real session id does not revoke that session", async () => {
  const { user, tokens } = await w0.userWithToken();
  const g1 = await expectTokens(await refresh(w0, tokens.refresh_token), user);
  const sid = parts(g1.refresh_token).sid;
  // Were these genuine, generation 0 would now be reuse; forged, they must change nothing.
  for (const forged of [
    `rt1.${sid}.0.${randomBytes(32).toString("base64url")}`,
    foreignRefreshToken(sid, 0),
    `rt1.${sid}.0.${parts(g1.refresh_token).mac}`,
  ]) {
    await expectProblem(assert, await refresh(w0, forged), 401, "refresh_token_invalid");
  }
  await expectProfileOk(w0, g1.access_token, user);
  const g2 = await expectTokens(await refresh(w0, g1.refresh_token), user);
  await expectProfileOk(w0, g2.access_token, user);
});

test("a forged token of the current generation with a real session id does not revoke that session", async () => {
  const { user, tokens } = await w.userWithToken();
  await expectProblem(assert, await refresh(w, withFlippedMac(tokens.refresh_token)), 401, "refresh_token_invalid");
  const next = await expectTokens(await refresh(w, tokens.refresh_token), user);
  await expectProfileOk(w, next.access_token, user);
});

// ---- malformed requests ------------------------------------------------------------------------------

test("refresh with no body is 400 invalid_request naming refresh_token as missing", async () => {
  const res = await w.fetch("/auth/refresh", { method: "POST" });
  const body = await expectProblem(assert, res, 400, "invalid_request");
  assert.deepEqual(
    body.errors.map((e) => [e.field, e.code]),
    [["refresh_token", "missing"]],
  );
});

test("refresh with an empty JSON object is 400 invalid_request naming refresh_token as missing", async () => {
  const body = await expectProblem(assert, await w.post("/auth/refresh", {}), 400, "invalid_request");
  assert.deepEqual(
    body.errors.map((e) => [e.field, e.code]),
    [["refresh_token", "missing"]],
  );
});

test("refresh with refresh_token as a number is 400 invalid_request naming the field", async () => {
  const body = await expectProblem(assert, await w.post("/auth/refresh", { refresh_token: 12345 }), 400, "invalid_request");
  assert.equal(body.errors.length, 1);
  assert.equal(body.errors[0].field, "refresh_token");
});

// ---- token types do not mix -----------------------------------------------------------------------

test("a refresh token is never accepted as a bearer access token", async () => {
  const { tokens } = await w.userWithToken();
  await expectProblem(assert, await profile(w, tokens.refresh_token), 401, "token_invalid");
});

test("an access token is never accepted as a refresh token", async () => {
  const { tokens } = await w.userWithToken();
  await expectProblem(assert, await refresh(w, tokens.access_token), 401, "refresh_token_invalid");
});

// ---- lifetime --------------------------------------------------------------------------------------------

test("REFRESH_TOKEN_TTL 7d gives refresh_expires_in 604800", async () => {
  const { tokens } = await w7.userWithToken();
  assert.equal(tokens.refresh_expires_in, 604800);
});

test("refreshing does not extend the session's absolute expiry", async () => {
  const { user, tokens } = await w7.userWithToken();
  await sleep(1100);
  const next = await expectTokens(await refresh(w7, tokens.refresh_token), user);
  assert.ok(next.refresh_expires_in > 0);
  assert.ok(
    next.refresh_expires_in <= tokens.refresh_expires_in,
    `refresh_expires_in grew from ${tokens.refresh_expires_in} to ${next.refresh_expires_in}`,
  );
  assert.ok(next.refresh_expires_in < 604800, `a second later it is still ${next.refresh_expires_in}`);
});

// ---- disabled users ----------------------------------------------------------------------------------

test("a user disabled in D1 cannot refresh", async () => {
  const { user, tokens } = await w.userWithToken();
  await w.db.prepare("UPDATE users SET disabled = 1 WHERE id = ?1").bind(user.id).run();
  const res = await refresh(w, tokens.refresh_token);
  assert.equal(res.status, 401, await res.clone().text());
  const body = await expectProblem(assert, res, 401, "refresh_token_invalid");
  assert.equal("access_token" in body, false);
});

// ---- logout ----------------------------------------------------------------------------------------------

test("logout with the bearer token answers 204 with no body", async () => {
  const { tokens } = await w.userWithToken();
  const res = await logout(w, tokens.access_token);
  assert.equal(res.status, 204, await res.clone().text());
  assert.equal(await res.text(), "");
});

test("after logout the access token of that session is 401", async () => {
  const { user, tokens } = await w.userWithToken();
  await expectProfileOk(w, tokens.access_token, user);
  assert.equal((await logout(w, tokens.access_token)).status, 204);
  await expectProfileRefused(w, tokens.access_token);
});

test("after logout the refresh token of that session is 401 refresh_token_invalid", async () => {
  const { tokens } = await w.userWithToken();
  assert.equal((await logout(w, tokens.access_token)).status, 204);
  await expectProblem(assert, await refresh(w, tokens.refresh_token), 401, "refresh_token_invalid");
});

test("logout leaves the user's other session (another device) working", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = await loginAgain(w, user);
  assert.equal((await logout(w, tokens.access_token)).status, 204);
  await expectProfileOk(w, other.access_token, user);
  const next = await expectTokens(await refresh(w, other.refresh_token), user);
  await expectProfileOk(w, next.access_token, user);
});

test("logout without a token is 401 token_missing", async () => {
  const res = await w.fetch("/auth/logout", { method: "POST" });
  await expectProblem(assert, res, 401, "token_missing");
});

test("logout with a body carrying its own session's refresh token answers 204 and ends the session", async () => {
  const { tokens } = await w.userWithToken();
  const res = await w.post("/auth/logout", { refresh_token: tokens.refresh_token }, bearer(tokens.access_token));
  assert.equal(res.status, 204, await res.clone().text());
  await expectProfileRefused(w, tokens.access_token);
  await expectProblem(assert, await refresh(w, tokens.refresh_token), 401, "refresh_token_invalid");
});

// ---- logout-all --------------------------------------------------------------------------------------------

/** A user logged in on two devices, logged out everywhere from the first: returns all three. */
async function twoDevicesThenLogoutAll({ sameSecond }) {
  if (sameSecond) await atStartOfSecond();
  const { user, tokens: a } = await w.userWithToken();
  const b = await loginAgain(w, user);
  await expectProfileOk(w, a.access_token, user);
  await expectProfileOk(w, b.access_token, user);
  if (!sameSecond) await sleep(1100);
  const res = await w.fetch("/auth/logout-all", { method: "POST", headers: bearer(a.access_token) });
  assert.equal(res.status, 204, await res.clone().text());
  return { user, a, b };
}

test("logout-all answers 204 and ends the caller's access token", async () => {
  const { a } = await twoDevicesThenLogoutAll({ sameSecond: true });
  await expectProfileRefused(w, a.access_token);
});

test("logout-all ends the access token of the user's other device", async () => {
  const { b } = await twoDevicesThenLogoutAll({ sameSecond: true });
  await expectProfileRefused(w, b.access_token);
});

test("logout-all ends the access token of another device logged in a second earlier", async () => {
  const { b } = await twoDevicesThenLogoutAll({ sameSecond: false });
  await expectProfileRefused(w, b.access_token);
});

test("logout-all ends the refresh tokens of both devices", async () => {
  const { a, b } = await twoDevicesThenLogoutAll({ sameSecond: true });
  await expectProblem(assert, await refresh(w, a.refresh_token), 401, "refresh_token_invalid");
  await expectProblem(assert, await refresh(w, b.refresh_token), 401, "refresh_token_invalid");
});

test("a login in the same second right after logout-all works", async () => {
  await atStartOfSecond();
  const { user, tokens } = await w.userWithToken();
  const res = await w.fetch("/auth/logout-all", { method: "POST", headers: bearer(tokens.access_token) });
  assert.equal(res.status, 204);
  const fresh = await loginAgain(w, user);
  await expectProfileOk(w, fresh.access_token, user);
  const next = await expectTokens(await refresh(w, fresh.refresh_token), user);
  await expectProfileOk(w, next.access_token, user);
});

test("logout-all leaves another user's session working", async () => {
  const bob = await w.userWithToken();
  await twoDevicesThenLogoutAll({ sameSecond: true });
  await expectProfileOk(w, bob.tokens.access_token, bob.user);
  await expectTokens(await refresh(w, bob.tokens.refresh_token), bob.user);
});

test("logout-all without a token is 401 token_missing", async () => {
  await expectProblem(assert, await w.fetch("/auth/logout-all", { method: "POST" }), 401, "token_missing");
});

// ---- the session list ------------------------------------------------------------------------------------

test("GET /auth/sessions lists each live session with exactly the documented fields", async () => {
  const { user, tokens } = await w.userWithToken();
  await loginAgain(w, user);
  const res = await listSessions(w, tokens.access_token);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["sessions"]);
  assert.equal(body.sessions.length, 2);
  for (const s of body.sessions) {
    assert.deepEqual(Object.keys(s).sort(), SESSION_KEYS);
    for (const k of ["created_at", "last_used_at", "expires_at"]) {
      assert.match(s[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, k);
    }
    assert.equal(typeof s.current, "boolean");
    assert.equal(typeof s.id, "string");
  }
});

test("exactly one listed session is current, and it is the access token's sid", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = await loginAgain(w, user);
  const { sessions } = await (await listSessions(w, tokens.access_token)).json();
  const current = sessions.filter((s) => s.current);
  assert.equal(current.length, 1);
  assert.equal(current[0].id, decodeJwt(tokens.access_token).claims.sid);
  const fromOther = await (await listSessions(w, other.access_token)).json();
  const currentOther = fromOther.sessions.filter((s) => s.current);
  assert.equal(currentOther.length, 1);
  assert.equal(currentOther[0].id, decodeJwt(other.access_token).claims.sid);
});

test("a listed session shows the User-Agent and CF-Connecting-IP sent at login", async () => {
  const user = await w.seedUser();
  const tokens = await loginAgain(w, user, { "User-Agent": "SessionTest/2.0 (X11)", "CF-Connecting-IP": "203.0.113.42" });
  const { sessions } = await (await listSessions(w, tokens.access_token)).json();
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].user_agent, "SessionTest/2.0 (X11)");
  assert.equal(sessions[0].ip, "203.0.113.42");
});

test("the session list never shows another user's sessions", async () => {
  const alice = await w.userWithToken();
  const bob = await w.userWithToken();
  const bobSid = decodeJwt(bob.tokens.access_token).claims.sid;
  const { sessions } = await (await listSessions(w, alice.tokens.access_token)).json();
  assert.deepEqual(sessions.map((s) => s.id), [decodeJwt(alice.tokens.access_token).claims.sid]);
  assert.equal(sessions.some((s) => s.id === bobSid), false);
});

test("an ended session disappears from the list", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = await loginAgain(w, user);
  const otherSid = decodeJwt(other.access_token).claims.sid;
  let { sessions } = await (await listSessions(w, tokens.access_token)).json();
  assert.ok(sessions.some((s) => s.id === otherSid));
  assert.equal((await logout(w, other.access_token)).status, 204);
  ({ sessions } = await (await listSessions(w, tokens.access_token)).json());
  assert.deepEqual(sessions.map((s) => s.id), [decodeJwt(tokens.access_token).claims.sid]);
});

test("the session list without a token is 401 token_missing", async () => {
  await expectProblem(assert, await w.fetch("/auth/sessions"), 401, "token_missing");
});

// ---- ending one session ------------------------------------------------------------------------------------

test("DELETE /auth/sessions/{id} of one's other session answers 204", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = await loginAgain(w, user);
  const res = await deleteSession(w, tokens.access_token, decodeJwt(other.access_token).claims.sid);
  assert.equal(res.status, 204, await res.clone().text());
  assert.equal(await res.text(), "");
});

test("an ended other session's access and refresh tokens stop working, the current one keeps working", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = await loginAgain(w, user);
  assert.equal((await deleteSession(w, tokens.access_token, decodeJwt(other.access_token).claims.sid)).status, 204);
  await expectProfileRefused(w, other.access_token);
  await expectProblem(assert, await refresh(w, other.refresh_token), 401, "refresh_token_invalid");
  await expectProfileOk(w, tokens.access_token, user);
  await expectTokens(await refresh(w, tokens.refresh_token), user);
});

test("DELETE of another user's session id is 404 not_found and that session keeps working", async () => {
  const alice = await w.userWithToken();
  const bob = await w.userWithToken();
  const bobSid = decodeJwt(bob.tokens.access_token).claims.sid;
  await expectProblem(assert, await deleteSession(w, alice.tokens.access_token, bobSid), 404, "not_found");
  await expectProfileOk(w, bob.tokens.access_token, bob.user);
  await expectTokens(await refresh(w, bob.tokens.refresh_token), bob.user);
});

test("DELETE of an unknown session id is 404 not_found", async () => {
  const { tokens } = await w.userWithToken();
  await expectProblem(assert, await deleteSession(w, tokens.access_token, randomBytes(16).toString("base64url")), 404, "not_found");
});

test("DELETE of an already-ended session is 404 not_found", async () => {
  const { user, tokens } = await w.userWithToken();
  const other = await loginAgain(w, user);
  const sid = decodeJwt(other.access_token).claims.sid;
  assert.equal((await deleteSession(w, tokens.access_token, sid)).status, 204);
  await expectProblem(assert, await deleteSession(w, tokens.access_token, sid), 404, "not_found");
});

test("DELETE /auth/sessions/{id} without a token is 401 token_missing", async () => {
  const { user, tokens } = await w.userWithToken();
  const sid = decodeJwt(tokens.access_token).claims.sid;
  const res = await w.fetch(`/auth/sessions/${sid}`, { method: "DELETE" });
  await expectProblem(assert, res, 401, "token_missing");
  await expectProfileOk(w, tokens.access_token, user);
});

// ---- storage -------------------------------------------------------------------------------------------

test("D1 never stores the refresh token or its MAC", async () => {
  const { user, tokens } = await w.userWithToken();
  const g1 = await expectTokens(await refresh(w, tokens.refresh_token), user);
  const { results } = await w.db.prepare("SELECT * FROM sessions WHERE user_id = ?1").bind(user.id).all();
  assert.equal(results.length, 1);
  const needles = [];
  for (const t of [tokens.refresh_token, g1.refresh_token]) {
    const mac = parts(t).mac;
    needles.push(t, mac, Buffer.from(mac, "base64url").toString("hex"), Buffer.from(mac, "base64url").toString("base64"));
  }
  for (const row of results) {
    for (const [column, value] of Object.entries(row)) {
      if (value === null) continue;
      const text = value instanceof ArrayBuffer ? Buffer.from(value).toString("latin1") : String(value);
      for (const needle of needles) {
        assert.equal(text.includes(needle), false, `column ${column} contains a refresh token or its MAC`);
      }
    }
  }
});
